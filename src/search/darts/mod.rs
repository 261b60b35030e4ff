//! DARTS-style search (Liu et al., 2019), cost-aware, over hybrid layers.
//!
//! A supernet holds every candidate mixer of the space in each layer slot,
//! mixed by softmax(α) (or one Gumbel-softmax sample per slot, GDAS-style).
//! A study runs a warm-up of the network weights, then for each λ of
//! `[darts] lambdas` a first-order bilevel search from the warmed-up
//! weights whose α objective is the held-out loss plus λ times the expected
//! cost. Each λ's final α is discretised to an architecture of the space;
//! the distinct ones become ordinary trials, trained from scratch by the
//! proxy trainer through [`DerivedStrategy`].
//!
//! Every phase checkpoints into the store's strategy state under
//! [`WARMUP_KEY`] and [`lambda_key`]; a killed study resumes from there.

pub mod bilevel;
pub mod checkpoint;
pub mod derive;

use std::collections::HashSet;
use std::ops::ControlFlow;

use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tch::Tensor;

use self::bilevel::{Discretise, Keep, Named, Phase, PhaseProgress, PhaseSetup};
use self::checkpoint::{CheckpointError, PhaseMeta};
use super::{Proposal, Strategy};
use crate::arch::Architecture;
use crate::data::{Batches, Corpus, DataError};
use crate::model::supernet::SupernetSpec;
use crate::space::SearchSpace;
use crate::store::{Store, StoreError, TrialRecord, TrialState};

/// Strategy-state key of the warm-up checkpoint.
pub const WARMUP_KEY: &str = "darts/warmup";

/// Strategy-state key of the checkpoint of the `i`-th λ.
pub fn lambda_key(i: usize) -> String {
    format!("darts/lambda/{i}")
}

/// Share of the training split that trains network weights; the rest is
/// the held-out data of the α steps.
const WEIGHT_SHARE: f64 = 0.9;

#[derive(Debug, thiserror::Error)]
pub enum DartsError {
    #[error("supernet loss became {loss} at step {step}: lower [darts] weight_lr or arch_lr")]
    NonFinite { step: usize, loss: f64 },
    #[error("interrupted (the supernet is checkpointed; run again to continue)")]
    Interrupted,
    #[error("cannot resume the supernet: {0}")]
    Checkpoint(String),
    #[error("cannot discretise α into the space: {0}")]
    Derive(String),
    #[error(
        "the training split is too short for DARTS: its last {held_out} characters are the \
         held-out data of the α steps and need more than seq_len + 1 = {needed}"
    )]
    TooShort { held_out: usize, needed: usize },
    #[error(transparent)]
    Format(#[from] CheckpointError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// What one λ derived.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub lambda: f64,
    pub arch: Architecture,
    /// Final softmax(α) per slot.
    pub probs: Vec<Vec<f64>>,
    /// Wall seconds of this λ's supernet search.
    pub seconds: f64,
}

/// Runs (or resumes) the supernet phases of one study.
pub struct DartsSearch<'a> {
    pub store: &'a dyn Store,
    pub study_id: i64,
    pub space: &'a SearchSpace,
    pub corpus: &'a Corpus,
    pub seed: u64,
}

/// What the caller sees of the phases.
pub trait DartsObserver {
    /// After every step; `Break` checkpoints and stops with
    /// [`DartsError::Interrupted`].
    fn step(&mut self, progress: PhaseProgress) -> ControlFlow<()>;
    /// A phase starts (`lambda` is `None` for the warm-up) at `step` of
    /// `steps` (non-zero when resumed).
    fn phase(&mut self, lambda: Option<f64>, step: usize, steps: usize);
    /// Something the user should know (a stale checkpoint, ...).
    fn note(&mut self, message: String);
}

impl DartsSearch<'_> {
    /// The candidates and their normalised costs, as the supernet uses them.
    pub fn spec(&self) -> (SupernetSpec, Vec<f64>) {
        let settings = &self.space.darts;
        let mut template = derive::template(self.space, settings);
        template.vocab_size = self.corpus.vocab_size();
        let spec = SupernetSpec {
            template,
            depth: settings.depth,
            candidates: derive::candidates(self.space),
        };
        let costs = derive::normalised_costs(
            &spec.template,
            &spec.candidates,
            settings.cost,
            self.space.task.seq_len,
        );
        (spec, costs)
    }

    /// Runs every phase that has not finished, and returns what each λ
    /// derived, in the order of `[darts] lambdas`.
    pub fn run(&self, observer: &mut dyn DartsObserver) -> Result<Vec<Derived>, DartsError> {
        let settings = &self.space.darts;
        let training = &self.space.training;
        let (spec, costs) = self.spec();
        let cut = (self.corpus.train.len() as f64 * WEIGHT_SHARE) as usize;
        let (weight_ids, arch_ids) = self.corpus.train.split_at(cut);
        let needed = training.seq_len + 2;
        if arch_ids.len() < needed {
            return Err(DartsError::TooShort {
                held_out: arch_ids.len(),
                needed,
            });
        }
        let weight_data = Batches::new(weight_ids);
        let arch_data = Batches::new(arch_ids);
        let setup = PhaseSetup {
            spec: &spec,
            costs: &costs,
            settings,
            training,
            weight_data: &weight_data,
            arch_data: &arch_data,
            seed: self.seed,
        };
        let derive =
            |probs: &[Vec<f64>]| derive::discretise(self.space, settings, &spec.candidates, probs);

        // Everything that shapes the warm-up; the λ phases add their own.
        let warm_fingerprint = json!({
            "candidates": spec.candidates,
            "template": spec.template,
            "depth": settings.depth,
            "batch": training.batch_size,
            "seq_len": training.seq_len,
            "weight_decay": training.weight_decay,
            "weight_lr": settings.weight_lr,
            "gumbel": settings.gumbel,
            "warmup_steps": settings.warmup_steps,
            "seed": self.seed,
        })
        .to_string();
        let (_, warm_tensors) = self.phase(
            &setup,
            None,
            settings.warmup_steps,
            warm_fingerprint.clone(),
            None,
            observer,
            &derive,
        )?;
        let warm_tensors = warm_tensors.expect("the warm-up returns its weights");

        let mut derived = Vec::with_capacity(settings.lambdas.len());
        for (i, &lambda) in settings.lambdas.iter().enumerate() {
            let fingerprint = json!({
                "warmup": warm_fingerprint,
                "lambda": lambda,
                "cost": settings.cost.as_str(),
                "costs": costs,
                "arch_lr": settings.arch_lr,
                "tau": [settings.tau.0, settings.tau.1],
                "search_steps": settings.search_steps,
                "shared": settings.shared,
            })
            .to_string();
            let (meta, _) = self.phase(
                &setup,
                Some((i, lambda)),
                settings.search_steps,
                fingerprint,
                Some(&warm_tensors),
                observer,
                &derive,
            )?;
            let result = meta
                .result
                .ok_or_else(|| DartsError::Checkpoint(format!("λ = {lambda} has no result")))?;
            derived.push(Derived {
                lambda,
                arch: result.arch,
                probs: result.probs,
                seconds: meta.seconds,
            });
        }
        Ok(derived)
    }

    /// Runs one phase to its end, resuming from its checkpoint when that
    /// matches `fingerprint`. Returns its final metadata, and for the
    /// warm-up its tensors (the λ phases start from its weights).
    #[allow(clippy::too_many_arguments)]
    fn phase(
        &self,
        setup: &PhaseSetup,
        lambda: Option<(usize, f64)>,
        steps: usize,
        fingerprint: String,
        start_weights: Option<&[(String, Tensor)]>,
        observer: &mut dyn DartsObserver,
        derive: &Discretise,
    ) -> Result<(PhaseMeta, Option<Named>), DartsError> {
        let key = lambda.map_or_else(|| WARMUP_KEY.to_string(), |(i, _)| lambda_key(i));
        let is_warmup = lambda.is_none();
        let stored = self.store.load_state(self.study_id, &key)?;
        let mut phase = Phase::new(setup, lambda.map(|(_, l)| l), steps, fingerprint.clone());
        match stored {
            Some(blob) => {
                let meta = checkpoint::decode_meta(&blob)?;
                if meta.fingerprint != fingerprint {
                    observer.note(format!(
                        "the stored supernet checkpoint of {} was made with other settings; \
                         that phase starts over",
                        describe(lambda.map(|(_, l)| l))
                    ));
                    if let Some(w) = start_weights {
                        phase.load_weights(w)?;
                    }
                } else if meta.done() && !is_warmup {
                    // Finished: its result is all that is needed.
                    return Ok((meta, None));
                } else {
                    let (meta, tensors) = checkpoint::decode(&blob)?;
                    if meta.done() {
                        return Ok((meta, Some(tensors)));
                    }
                    phase.restore(meta, &tensors)?;
                }
            }
            None => {
                if let Some(w) = start_weights {
                    phase.load_weights(w)?;
                }
            }
        }
        observer.phase(phase.meta.lambda, phase.meta.step, steps);
        let mut save = |blob: &[u8]| -> Result<(), DartsError> {
            self.store.save_state(self.study_id, &key, blob)?;
            Ok(())
        };
        if steps == 0 {
            save(&phase.checkpoint(Keep::Weights)?)?;
        }
        phase.run(&mut |p| observer.step(p), &mut save, derive)?;
        let tensors = is_warmup.then(|| phase.weights());
        Ok((phase.meta, tensors))
    }

    /// The stored metadata of every phase that has a checkpoint: the warm-up
    /// first, then the λs in order (`None` where a phase has not started).
    pub fn progress(
        store: &dyn Store,
        study_id: i64,
        lambdas: usize,
    ) -> Result<(Option<PhaseMeta>, Vec<Option<PhaseMeta>>), DartsError> {
        let read = |key: &str| -> Result<Option<PhaseMeta>, DartsError> {
            match store.load_state(study_id, key)? {
                Some(blob) => Ok(Some(checkpoint::decode_meta(&blob)?)),
                None => Ok(None),
            }
        };
        let warm = read(WARMUP_KEY)?;
        let phases = (0..lambdas)
            .map(|i| read(&lambda_key(i)))
            .collect::<Result<_, _>>()?;
        Ok((warm, phases))
    }
}

/// "the warm-up" or "λ = 0.3", for messages.
pub fn describe(lambda: Option<f64>) -> String {
    match lambda {
        None => "the warm-up".into(),
        Some(l) => format!("λ = {l}"),
    }
}

/// How many different architectures the λs derived (the study's budget).
pub fn distinct(derived: &[Derived]) -> usize {
    derived
        .iter()
        .map(|d| d.arch.hash())
        .collect::<HashSet<_>>()
        .len()
}

/// Proposes the derived architectures, in λ order, each once. The trial's
/// extra information holds every λ that derived it, the first one's final α
/// and the seconds its supernet search took.
pub struct DerivedStrategy {
    derived: Vec<Derived>,
}

impl DerivedStrategy {
    pub fn new(derived: Vec<Derived>) -> Self {
        assert!(
            !derived.is_empty(),
            "DARTS derives at least one architecture"
        );
        DerivedStrategy { derived }
    }
}

impl Strategy for DerivedStrategy {
    fn ask(&mut self, history: &[TrialRecord], _rng: &mut ChaCha8Rng) -> Proposal {
        let taken: HashSet<&str> = history
            .iter()
            .filter(|t| t.state != TrialState::Failed)
            .map(|t| t.arch_hash.as_str())
            .collect();
        // When all are taken, repeating the first lets the store answer
        // "duplicate" and the driver see that nothing is left.
        let next = self
            .derived
            .iter()
            .find(|d| !taken.contains(d.arch.hash().as_str()))
            .unwrap_or(&self.derived[0]);
        let lambdas: Vec<f64> = self
            .derived
            .iter()
            .filter(|d| d.arch == next.arch)
            .map(|d| d.lambda)
            .collect();
        Proposal {
            arch: next.arch.clone(),
            extra: Some(json!({
                "lambda": next.lambda,
                "lambdas": lambdas,
                "alpha": next.probs,
                "supernet_seconds": next.seconds,
            })),
        }
    }
}
