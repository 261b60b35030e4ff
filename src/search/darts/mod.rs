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
//! With several `depth` or `d_model` values, each (depth, d_model) shape has
//! a supernet of its own, warmed up once and searched at every λ, so the
//! derived designs cover the cost axis that depth and width span.
//!
//! Every phase checkpoints into the store's strategy state under
//! [`warmup_key`] and [`lambda_key`] (its metadata alone also under
//! [`meta_key`], so reports need not read the tensors); a killed study
//! resumes from there.

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
use crate::space::{SearchSpace, SupernetShape};
use crate::store::{Store, StoreError, TrialRecord, TrialState};

/// Strategy-state key of the warm-up checkpoint of the supernet `shape`.
pub fn warmup_key(shape: SupernetShape) -> String {
    format!("darts/{shape}/warmup")
}

/// Strategy-state key of the checkpoint of the search at `lambda` in the
/// supernet `shape`. Keyed by value, so adding a λ (or a shape) to the lists
/// reruns nothing already searched.
pub fn lambda_key(shape: SupernetShape, lambda: f64) -> String {
    format!("darts/{shape}/lambda/{lambda}")
}

/// Key of the metadata copy of the checkpoint under `key`.
pub fn meta_key(key: &str) -> String {
    format!("{key}/meta")
}

/// Version of what a phase computes; a checkpoint from another version is
/// stale. Raise it when the phase's maths or streams change.
const FORMAT: u32 = 2;

/// Share of the training split that trains network weights; the rest is
/// the held-out data of the α steps.
const WEIGHT_SHARE: f64 = 0.9;

#[derive(Debug, thiserror::Error)]
pub enum DartsError {
    #[error(
        "supernet loss became {loss} at step {step} of {phase}: lower [darts] weight_lr or arch_lr"
    )]
    NonFinite {
        phase: String,
        step: usize,
        loss: f64,
    },
    #[error("interrupted (the supernet is checkpointed; run again to continue)")]
    Interrupted,
    #[error("cannot resume the supernet: {0}")]
    Checkpoint(String),
    #[error("cannot discretise α into the space: {0}")]
    Derive(String),
    #[error(
        "the corpus is too short for DARTS: the α steps hold out the last 10% of the training \
         split, {held_out} characters, and need at least seq_len + 2 = {needed}; use a longer \
         corpus (about {total} characters) or a shorter seq_len"
    )]
    TooShort {
        held_out: usize,
        needed: usize,
        total: usize,
    },
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
    pub shape: SupernetShape,
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
    /// Where the supernets train (`--device`).
    pub device: crate::device::ComputeDevice,
}

/// What the caller sees of the phases.
pub trait DartsObserver {
    /// After every step; `Break` checkpoints and stops with
    /// [`DartsError::Interrupted`].
    fn step(&mut self, progress: PhaseProgress) -> ControlFlow<()>;
    /// A phase of the supernet `shape` starts (`lambda` is `None` for the
    /// warm-up) at `step` of `steps` (non-zero when resumed).
    fn phase(&mut self, shape: SupernetShape, lambda: Option<f64>, step: usize, steps: usize);
    /// Something the user should know (a stale checkpoint, ...).
    fn note(&mut self, message: String);
}

impl DartsSearch<'_> {
    /// The supernet of `shape` and its candidates' normalised costs.
    pub fn spec(&self, shape: SupernetShape) -> (SupernetSpec, Vec<f64>) {
        let settings = &self.space.darts;
        let mut template = derive::template(self.space, shape.d_model);
        template.vocab_size = self.corpus.vocab_size();
        let spec = SupernetSpec {
            template,
            depth: shape.depth,
            candidates: derive::candidates(self.space, shape.depth),
        };
        let costs = derive::normalised_costs(
            &spec.template,
            &spec.candidates,
            settings.cost,
            self.space.task.seq_len,
        );
        (spec, costs)
    }

    /// Runs every phase that has not finished, and returns what each shape
    /// and λ derived: shapes as [`DartsSettings::shapes`] orders them, then
    /// `[darts] lambdas` in order.
    pub fn run(&self, observer: &mut dyn DartsObserver) -> Result<Vec<Derived>, DartsError> {
        let training = &self.space.training;
        check_corpus(self.corpus, training.seq_len)?;
        let (weight_ids, arch_ids) = split(self.corpus);
        let weight_data = Batches::new(weight_ids);
        let arch_data = Batches::new(arch_ids);
        let mut derived = Vec::new();
        for shape in self.space.darts.shapes() {
            derived.extend(self.run_shape(shape, &weight_data, &arch_data, observer)?);
        }
        Ok(derived)
    }

    fn run_shape(
        &self,
        shape: SupernetShape,
        weight_data: &Batches,
        arch_data: &Batches,
        observer: &mut dyn DartsObserver,
    ) -> Result<Vec<Derived>, DartsError> {
        let settings = &self.space.darts;
        let training = &self.space.training;
        let (spec, costs) = self.spec(shape);
        let setup = PhaseSetup {
            spec: &spec,
            costs: &costs,
            settings,
            training,
            weight_data,
            arch_data,
            seed: self.seed,
            device: self.device,
        };
        let derive = |probs: &[Vec<f64>]| {
            derive::discretise(self.space, settings, shape.d_model, &spec.candidates, probs)
        };

        // Everything that shapes the warm-up; the λ phases add their own.
        // (Discretisation is not in it: it is redone from the final α on
        // every run, so a changed space never reuses a stale design.)
        let warm_fingerprint = json!({
            "format": FORMAT,
            "corpus": corpus_digest(self.corpus),
            "candidates": spec.candidates,
            "template": spec.template,
            "batch": training.batch_size,
            "seq_len": training.seq_len,
            "weight_decay": training.weight_decay,
            "weight_lr": settings.weight_lr,
            "gumbel": settings.gumbel,
            "warmup_steps": settings.warmup_steps,
            "seed": self.seed,
        })
        .to_string();
        let mut warm_tensors: Option<Named> = None;
        let mut derived = Vec::with_capacity(settings.lambdas.len());
        for &lambda in &settings.lambdas {
            let fingerprint = json!({
                "warmup": warm_fingerprint,
                "lambda": lambda,
                "cost": settings.cost.as_str(),
                "costs": costs,
                "arch_lr": settings.arch_lr,
                "tau": [settings.tau.0, settings.tau.1],
                "search_steps": settings.search_steps,
            })
            .to_string();
            let key = lambda_key(shape, lambda);
            let meta = match self.finished(&key, &fingerprint)? {
                Some(meta) => meta,
                None => {
                    // The warm-up is needed (and run, or read) only now.
                    if warm_tensors.is_none() {
                        let key = warmup_key(shape);
                        warm_tensors =
                            Some(self.warmup(&key, &setup, &warm_fingerprint, observer)?);
                    }
                    let mut phase =
                        Phase::new(&setup, Some(lambda), settings.search_steps, fingerprint);
                    self.resume_or_start(&key, &mut phase, warm_tensors.as_deref(), observer)?;
                    self.run_phase(&key, &mut phase, observer, &derive)?;
                    phase.meta
                }
            };
            let result = meta.result.ok_or_else(|| {
                DartsError::Checkpoint(format!("{shape} at λ = {lambda} has no result"))
            })?;
            // Re-derived from the final α: the space may have changed (under
            // --force) since the search ran.
            let arch = derive(&result.probs).map_err(DartsError::Derive)?;
            derived.push(Derived {
                shape,
                lambda,
                arch,
                probs: result.probs,
                seconds: meta.seconds,
            });
        }
        Ok(derived)
    }

    /// The stored metadata of the phase under `key` when it has finished
    /// with these settings.
    fn finished(&self, key: &str, fingerprint: &str) -> Result<Option<PhaseMeta>, DartsError> {
        let Some(blob) = self.store.load_state(self.study_id, &meta_key(key))? else {
            return Ok(None);
        };
        Ok(checkpoint::decode_meta(&blob)
            .ok()
            .filter(|m| m.fingerprint == fingerprint && m.done()))
    }

    /// The warm-up's final weights: run or resumed to its end, or read.
    fn warmup(
        &self,
        key: &str,
        setup: &PhaseSetup,
        fingerprint: &str,
        observer: &mut dyn DartsObserver,
    ) -> Result<Named, DartsError> {
        if self.finished(key, fingerprint)?.is_some() {
            let blob = self.store.load_state(self.study_id, key)?;
            if let Some(Ok((meta, tensors))) = blob.map(|b| checkpoint::decode(&b)) {
                if meta.fingerprint == fingerprint && meta.done() {
                    return Ok(tensors);
                }
            }
        }
        let steps = self.space.darts.warmup_steps;
        let mut phase = Phase::new(setup, None, steps, fingerprint.to_string());
        self.resume_or_start(key, &mut phase, None, observer)?;
        if steps == 0 {
            let blob = phase.checkpoint(Keep::Weights)?;
            self.save(key, &phase.meta, &blob)?;
        }
        self.run_phase(key, &mut phase, observer, &|_| {
            Err("the warm-up derives no architecture".into())
        })?;
        Ok(phase.weights())
    }

    /// Restores `phase` from the checkpoint under `key` when there is a
    /// usable one with the same fingerprint; otherwise starts it from
    /// `start_weights` (or its fresh initialisation), with a note when a
    /// stored checkpoint had to be set aside.
    fn resume_or_start<'a>(
        &self,
        key: &str,
        phase: &mut Phase<'a>,
        start_weights: Option<&[(String, Tensor)]>,
        observer: &mut dyn DartsObserver,
    ) -> Result<(), DartsError> {
        let what = format!(
            "{} of the {} supernet",
            describe(phase.meta.lambda),
            shape_of(phase)
        );
        if let Some(blob) = self.store.load_state(self.study_id, key)? {
            let set_aside = match checkpoint::decode(&blob) {
                Ok((meta, tensors)) if meta.fingerprint == phase.meta.fingerprint => {
                    let (lambda, steps) = (phase.meta.lambda, phase.meta.steps);
                    let fingerprint = phase.meta.fingerprint.clone();
                    match phase.restore(meta, &tensors) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            // A failed restore may have half-written the phase.
                            *phase = Phase::new(phase.setup(), lambda, steps, fingerprint);
                            format!("is incomplete ({e})")
                        }
                    }
                }
                Ok(_) => "was made with other settings".to_string(),
                Err(e) => format!("is unreadable ({e})"),
            };
            observer.note(format!(
                "the stored supernet checkpoint of {what} {set_aside}; that phase starts over"
            ));
        }
        if let Some(w) = start_weights {
            phase.load_weights(w)?;
        }
        Ok(())
    }

    /// Runs `phase` to its end, saving its checkpoints under `key`.
    fn run_phase(
        &self,
        key: &str,
        phase: &mut Phase,
        observer: &mut dyn DartsObserver,
        derive: &Discretise,
    ) -> Result<(), DartsError> {
        observer.phase(
            shape_of(phase),
            phase.meta.lambda,
            phase.meta.step,
            phase.meta.steps,
        );
        let mut save = |meta: &PhaseMeta, blob: &[u8]| self.save(key, meta, blob);
        phase.run(&mut |p| observer.step(p), &mut save, derive)
    }

    /// Stores a checkpoint `blob` of `meta`, then the metadata alone for
    /// reports. Resuming reads the checkpoint's own copy, so a crash between
    /// the two writes leaves at worst a report one checkpoint behind.
    fn save(&self, key: &str, meta: &PhaseMeta, blob: &[u8]) -> Result<(), DartsError> {
        self.store.save_state(self.study_id, key, blob)?;
        let header = checkpoint::encode(meta, &[])?;
        self.store
            .save_state(self.study_id, &meta_key(key), &header)?;
        Ok(())
    }

    /// The stored metadata of every shape's warm-up and of its search at
    /// each λ of the study's space (`None` where a phase has not started or
    /// is unreadable).
    pub fn progress(
        store: &dyn Store,
        study_id: i64,
        space: &SearchSpace,
    ) -> Result<Vec<ShapeProgress>, DartsError> {
        let read = |key: &str| -> Result<Option<PhaseMeta>, DartsError> {
            Ok(store
                .load_state(study_id, &meta_key(key))?
                .and_then(|blob| checkpoint::decode_meta(&blob).ok()))
        };
        space
            .darts
            .shapes()
            .into_iter()
            .map(|shape| {
                Ok(ShapeProgress {
                    shape,
                    warmup: read(&warmup_key(shape))?,
                    searches: space
                        .darts
                        .lambdas
                        .iter()
                        .map(|&l| read(&lambda_key(shape, l)))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }
}

/// One supernet's stored progress, as [`DartsSearch::progress`] reads it.
#[derive(Clone, Debug)]
pub struct ShapeProgress {
    pub shape: SupernetShape,
    pub warmup: Option<PhaseMeta>,
    /// One per λ of the space, in order.
    pub searches: Vec<Option<PhaseMeta>>,
}

impl ShapeProgress {
    /// Wall seconds of this supernet's phases so far.
    pub fn seconds(&self) -> f64 {
        self.warmup
            .iter()
            .chain(self.searches.iter().flatten())
            .map(|m| m.seconds)
            .sum()
    }
}

/// The shape of a phase's supernet.
fn shape_of(phase: &Phase) -> SupernetShape {
    let spec = phase.setup().spec;
    SupernetShape {
        depth: spec.depth,
        d_model: spec.template.d_model,
    }
}

/// The training split cut for the bilevel steps: weights, then α.
fn split(corpus: &Corpus) -> (&[i64], &[i64]) {
    let cut = (corpus.train.len() as f64 * WEIGHT_SHARE) as usize;
    corpus.train.split_at(cut)
}

/// Whether the held-out part of the training split holds one α batch
/// window; `nas run` checks it before it stores anything.
pub fn check_corpus(corpus: &Corpus, seq_len: usize) -> Result<(), DartsError> {
    let held_out = split(corpus).1.len();
    let needed = seq_len + 2;
    if held_out < needed {
        // The held-out part is 10% of the training split, itself 90% of the text.
        let total = (needed as f64 / ((1.0 - WEIGHT_SHARE) * 0.9)).ceil() as usize;
        return Err(DartsError::TooShort {
            held_out,
            needed,
            total,
        });
    }
    Ok(())
}

/// SHA-256 of the corpus tokens (first 16 hex digits): a checkpoint trained
/// on other text is stale even when its vocabulary matches.
fn corpus_digest(corpus: &Corpus) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for id in corpus.train.iter().chain(&corpus.valid) {
        hasher.update(id.to_le_bytes());
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// "the warm-up" or "λ = 0.3", for messages.
pub fn describe(lambda: Option<f64>) -> String {
    match lambda {
        None => "the warm-up".into(),
        Some(l) => format!("λ = {l}"),
    }
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
    fn ask(&mut self, history: &[TrialRecord], _rng: &mut ChaCha8Rng) -> Option<Proposal> {
        // Running, finished, or failed by its design (a diverging loss): each
        // design is tried once. One failed by an interruption is tried again.
        let taken: HashSet<&str> = history
            .iter()
            .filter(|t| t.state == TrialState::Running || t.is_settled())
            .map(|t| t.arch_hash.as_str())
            .collect();
        let next = self
            .derived
            .iter()
            .find(|d| !taken.contains(d.arch.hash().as_str()))?;
        let lambdas: Vec<f64> = self
            .derived
            .iter()
            .filter(|d| d.arch == next.arch)
            .map(|d| d.lambda)
            .collect();
        Some(Proposal {
            arch: next.arch.clone(),
            extra: Some(json!({
                "lambda": next.lambda,
                "lambdas": lambdas,
                "alpha": next.probs,
                "supernet_seconds": next.seconds,
            })),
            seed: None,
        })
    }
}
