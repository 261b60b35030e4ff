//! The compute a study has spent, for comparing strategies at equal cost.

use super::{StoredStudy, StudyError};
use crate::search::darts::DartsSearch;
use crate::store::{Store, TrialRecord, TrialState};

/// The compute a study has spent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Compute {
    /// Wall seconds of DARTS' supernet phases (0 for other strategies).
    pub supernet: f64,
    /// Wall seconds of every trial that finished (complete, failed or
    /// pruned), start to end.
    pub trials: f64,
    /// Training steps of the trials: the budget of each complete one, the
    /// rung of each pruned one; failed trials count none (where they
    /// stopped is not stored). `None` when the stored space cannot be read.
    pub steps: Option<usize>,
}

/// What `nas run --budget-steps` or `--budget-hours` limits: no trial starts
/// once the study's trials have spent it (running ones finish).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ComputeBudget {
    /// Training steps over all trials ([`trial_steps`]).
    Steps(usize),
    /// Wall seconds over all trials, running ones counted to now.
    Seconds(f64),
}

impl ComputeBudget {
    /// Whether `trials` (a study's, each training `steps` steps to the end)
    /// have spent it.
    pub fn is_spent(&self, trials: &[TrialRecord], steps: usize) -> bool {
        match *self {
            ComputeBudget::Steps(limit) => {
                trials.iter().map(|t| trial_steps(t, steps)).sum::<usize>() >= limit
            }
            ComputeBudget::Seconds(limit) => {
                let now = crate::utc::now();
                let spent: f64 = trials
                    .iter()
                    .map(|t| t.duration().unwrap_or((now - t.started).max(0.0)))
                    .sum();
                spent >= limit
            }
        }
    }
}

impl std::fmt::Display for ComputeBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComputeBudget::Steps(n) => write!(f, "{n} training steps"),
            ComputeBudget::Seconds(s) => write!(f, "{} hours of trial time", s / 3600.0),
        }
    }
}

/// The training steps trial `t` has spent in a study whose trials train
/// `steps` steps: all of them when complete, its rung when pruned, none
/// when failed (not stored) or still running (counted once it ends).
pub fn trial_steps(t: &TrialRecord, steps: usize) -> usize {
    match t.state {
        TrialState::Complete => steps,
        TrialState::Pruned => t.pruned_at().unwrap_or(steps),
        TrialState::Failed | TrialState::Running => 0,
    }
}

impl Compute {
    pub fn total(&self) -> f64 {
        self.supernet + self.trials
    }
}

/// The compute of `study`, whose trials are `trials`.
pub fn compute(
    store: &dyn Store,
    study: &StoredStudy,
    trials: &[TrialRecord],
) -> Result<Compute, StudyError> {
    let steps = study.space().ok().map(|space| {
        trials
            .iter()
            .map(|t| trial_steps(t, space.training.steps))
            .sum()
    });
    let trials = trials.iter().filter_map(TrialRecord::duration).sum();
    let supernet = if study.is_darts() {
        // The stored space says which supernets and λs there are.
        DartsSearch::progress(store, study.id, study.space()?)?
            .iter()
            .map(|p| p.seconds())
            .sum()
    } else {
        0.0
    };
    Ok(Compute {
        supernet,
        trials,
        steps,
    })
}
