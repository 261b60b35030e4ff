//! Evaluators turn an [`Architecture`] into metrics: the real one trains the
//! proxy model with tch; the analytic one is a closed-form score from the cost
//! model plus a fixed seeded synthetic term, so that orchestration (store,
//! strategies, resume, Pareto) can be tested and benchmarked in milliseconds.

use std::ops::ControlFlow;

mod analytic;
mod training;

pub use self::analytic::AnalyticEvaluator;
pub use self::training::TrainEvaluator;
use crate::arch::Architecture;
use crate::data::{Corpus, DataError};
use crate::memory::MemoryLimit;
use crate::metrics::{self, CurveStep, Values};
use crate::names::named;
use crate::space::SearchSpace;
use crate::train::{CurvePoint, Progress, Stop, TrainError};

/// What one evaluation measured, as named values.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub values: Values,
    pub curve: Vec<CurveStep>,
}

/// Which evaluator scores a study's trials; stored with the study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvaluatorKind {
    /// Proxy training: every value is measured.
    Train,
    /// The closed-form stand-in: its perplexities are not measurements.
    Analytic,
}

named!(EvaluatorKind, "evaluator");

impl EvaluatorKind {
    pub const ALL: [EvaluatorKind; 2] = [EvaluatorKind::Train, EvaluatorKind::Analytic];

    /// The name stored with a study and given to `--evaluator`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EvaluatorKind::Train => "train",
            EvaluatorKind::Analytic => "analytic",
        }
    }

    /// Whether its values are stand-ins that must be labelled as such.
    pub fn is_stand_in(&self) -> bool {
        matches!(self, EvaluatorKind::Analytic)
    }

    /// The warning printed beside every value of a stand-in study.
    pub fn stand_in_note(&self) -> Option<&'static str> {
        self.is_stand_in().then_some(
            "values from the analytic evaluator: closed-form stand-ins, not measurements",
        )
    }
}

/// Vocabulary the analytic evaluator assumes (tinyshakespeare's 65 symbols).
const ANALYTIC_VOCAB: usize = 65;

/// The evaluator `kind`, set up from the space's task and training settings.
/// The corpus is read and checked here, so a bad one stops a command before
/// any store is touched. `one_at_a_time`: this process trains one trial at
/// a time, so each trial's peak memory can be measured. `rungs`: the steps
/// at which a pruner judges trials (empty without one): the validation loss
/// is measured there and handed to `on_step`.
pub fn build(
    kind: EvaluatorKind,
    space: &SearchSpace,
    one_at_a_time: bool,
    rungs: &[usize],
) -> Result<Box<dyn Evaluator>, DataError> {
    Ok(match kind {
        EvaluatorKind::Train => {
            let corpus = Corpus::load(space.task.corpus.as_deref())?;
            corpus.check_seq_len(space.task.seq_len)?;
            Box::new(TrainEvaluator {
                corpus,
                config: crate::train::TrainConfig {
                    rungs: rungs.to_vec(),
                    ..space.training.clone()
                },
                recall: space.recall.clone(),
                memory: MemoryLimit::System,
                measure_peak: one_at_a_time,
            })
        }
        EvaluatorKind::Analytic => Box::new(AnalyticEvaluator {
            seq_len: space.task.seq_len,
            vocab_size: ANALYTIC_VOCAB,
            recall: space.recall.clone(),
            steps: space.training.steps,
            rungs: rungs.to_vec(),
        }),
    })
}

/// A trainer's learning curve as named values per step.
pub fn curve_values(curve: &[CurvePoint]) -> Vec<CurveStep> {
    curve
        .iter()
        .map(|p| CurveStep {
            step: p.step,
            values: Values::from_iter([
                (metrics::TRAIN_LOSS, p.train_loss),
                (metrics::VAL_LOSS, p.val_loss),
                (metrics::ELAPSED, p.elapsed_s),
            ]),
        })
        .collect()
}

pub trait Evaluator: Sync {
    /// `on_step` is called during long work (heartbeats, Ctrl-C) and at
    /// every rung with the validation loss there; `Break` abandons the
    /// evaluation with [`TrainError::Interrupted`] or [`TrainError::Pruned`].
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<Stop>,
    ) -> Result<Evaluation, TrainError>;

    /// Context length the costs are computed at.
    fn seq_len(&self) -> usize;

    /// What `arch` costs, known before it trains (parameters, FLOPs, cache
    /// and state bytes): what a pruner ranks it by besides its loss, and the
    /// values a pruned trial keeps.
    fn costs(&self, arch: &Architecture) -> Values;
}
