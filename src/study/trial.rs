//! The one path by which a claimed trial is evaluated and recorded: `nas run`
//! (through the driver) and `nas eval --study` both end their trials here.
//!
//! While the evaluator works, the trial's heartbeat is refreshed (so that no
//! other process takes it for one a dead worker left behind) and the
//! interrupt flag is polled (Ctrl-C stops it between steps). A panic inside
//! the evaluation, libtorch's included, fails the trial instead of the
//! process. Whatever happens, the trial is finished in the store with an
//! [`Outcome`] whose failure kind decides whether it is retried.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::finish::{self, FinishRetry, ResultLost};
use super::pruning::{Pruning, RungJudge};
use super::StoredStudy;
use crate::arch::Architecture;
use crate::evaluate::Evaluator;
use crate::store::{
    Claim, FailKind, NewTrial, Outcome, Store, StoreError, TrialRecord, TrialState,
};
use crate::train::{Progress, Stop, TrainError};

/// The trial a worker claims to evaluate `arch` with `seed`.
pub fn new_trial(
    arch: &Architecture,
    seed: u64,
    worker: &str,
    extra: Option<serde_json::Value>,
) -> NewTrial {
    NewTrial {
        arch_json: serde_json::to_string(arch).expect("architectures serialise"),
        arch_hash: arch.hash(),
        arch_short: arch.short_form(),
        seed,
        worker: worker.to_string(),
        extra,
    }
}

/// Evaluates claimed trials of one study and records how they end.
pub struct TrialRun<'a> {
    /// The study's pruning; `None`: every trial trains to the end.
    pub pruning: Option<&'a Pruning>,
    pub store: &'a dyn Store,
    pub evaluator: &'a dyn Evaluator,
    pub interrupted: &'a AtomicBool,
    /// How often a running trial refreshes its heartbeat.
    pub heartbeat_every: Duration,
    /// How long recording the trial's end is retried after a store error.
    pub finish_retry: FinishRetry,
}

/// Why a trial could not be claimed or recorded.
#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Evaluated, but its end could not be stored: the error holds the result.
    #[error(transparent)]
    Lost(#[from] Box<ResultLost>),
}

/// A trial after [`TrialRun::run`].
#[derive(Clone, Debug)]
pub struct Finished {
    /// The trial as it ended (state, values, failure kind and message).
    pub record: TrialRecord,
    /// `false` when the store had already failed the trial (its heartbeat
    /// looked lost) and refused this result; its slot is being retrained.
    pub recorded: bool,
}

impl Finished {
    pub fn interrupted(&self) -> bool {
        self.record.fail_kind == Some(FailKind::Interrupted)
    }
}

/// What [`TrialRun::record`] did with one design.
#[derive(Clone, Debug)]
pub enum Recorded {
    /// Claimed and evaluated now: complete, failed or interrupted.
    Ran(Finished),
    /// The study holds the design already: this trial (running, complete or
    /// pruned), which is not evaluated again.
    Earlier(TrialRecord),
    /// The study's live and finished trials fill its budget.
    BudgetExhausted { budget: usize },
}

impl TrialRun<'_> {
    /// Claims `arch` in `study` for `worker` and, when that claims a new
    /// trial, evaluates and finishes it: the whole path of one externally
    /// proposed design (`nas eval --study`).
    pub fn record(
        &self,
        study: &StoredStudy,
        arch: &Architecture,
        worker: &str,
        extra: Option<serde_json::Value>,
    ) -> Result<Recorded, TrialError> {
        let new = new_trial(arch, study.seed, worker, extra);
        match self.store.claim(study.id, &new)? {
            Claim::Claimed(trial) => Ok(Recorded::Ran(self.run(trial)?)),
            Claim::Duplicate { number } => {
                let trial = self
                    .store
                    .trials(study.id)?
                    .into_iter()
                    .find(|t| t.number == number)
                    .ok_or_else(|| StoreError::NotFound(format!("trial {number}")))?;
                Ok(Recorded::Earlier(trial))
            }
            Claim::BudgetExhausted => Ok(Recorded::BudgetExhausted {
                budget: study.budget,
            }),
        }
    }

    /// Evaluates `trial` (claimed and running) and finishes it in the store,
    /// retrying a store error under `finish_retry`.
    pub fn run(&self, trial: TrialRecord) -> Result<Finished, Box<ResultLost>> {
        let outcome = self.evaluate(&trial);
        let recorded = finish::finish(self.store, &trial, &outcome, self.finish_retry)?;
        if !recorded {
            tracing::warn!(
                "trial {} finished after it was marked failed; its result is not recorded",
                trial.number
            );
        }
        Ok(Finished {
            record: ended(trial, outcome),
            recorded,
        })
    }

    fn evaluate(&self, trial: &TrialRecord) -> Outcome {
        let arch: Architecture = match serde_json::from_str(&trial.arch_json) {
            Ok(a) => a,
            Err(e) => {
                return Outcome::Failed {
                    kind: FailKind::Error,
                    error: format!("stored architecture unreadable: {e}"),
                }
            }
        };
        let mut last_beat = Instant::now();
        let mut beat_error = None;
        let mut rungs = RungJudge::new(self.store, self.pruning, trial, &arch, self.evaluator);
        let mut on_step = |p: Progress| {
            if self.interrupted.load(Ordering::SeqCst) {
                return ControlFlow::Break(Stop::Interrupted);
            }
            if last_beat.elapsed() >= self.heartbeat_every {
                last_beat = Instant::now();
                if let Err(e) = self.store.heartbeat(trial.id) {
                    beat_error = Some(e);
                }
            }
            rungs.judge(p)
        };
        // A panic inside libtorch (out of memory in an op without a fallible
        // wrapper, say) fails this trial, not the study.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.evaluator.evaluate(&arch, trial.seed, &mut on_step)
        }));
        if let Some(e) = beat_error {
            tracing::warn!("heartbeat of trial {} failed: {e}", trial.number);
        }
        match result {
            Ok(Ok(eval)) => Outcome::Complete {
                values: eval.values,
                curve: eval.curve,
            },
            Ok(Err(TrainError::Pruned { step, curve })) => rungs.pruned(step, &curve),
            Ok(Err(e)) => failed(&e),
            Err(panic) => Outcome::Failed {
                kind: FailKind::Error,
                error: panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "evaluation panicked".into()),
            },
        }
    }
}

/// The failure an evaluation error is, by its type.
fn failed(e: &TrainError) -> Outcome {
    let (kind, error) = match e {
        TrainError::Interrupted { .. } => (FailKind::Interrupted, "interrupted".to_string()),
        TrainError::NonFinite { .. } => (FailKind::Diverged, e.to_string()),
        _ => (FailKind::Error, e.to_string()),
    };
    Outcome::Failed { kind, error }
}

/// `trial` as `outcome` leaves it, finished now (the store's `finish` took
/// its own clock reading a moment before: listings of this record and of the
/// stored one differ by that moment at most).
fn ended(mut trial: TrialRecord, outcome: Outcome) -> TrialRecord {
    trial.finished = Some(crate::utc::now());
    match outcome {
        Outcome::Complete { values, .. } => {
            trial.state = TrialState::Complete;
            trial.values = values;
        }
        Outcome::Pruned { values, reason, .. } => {
            trial.state = TrialState::Pruned;
            trial.values = values;
            trial.error = Some(reason);
        }
        Outcome::Failed { kind, error } => {
            trial.state = TrialState::Failed;
            trial.fail_kind = Some(kind);
            trial.error = Some(error);
        }
    }
    trial
}
