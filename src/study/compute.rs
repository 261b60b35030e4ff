//! The compute a study has spent, for comparing strategies at equal cost.

use super::{StoredStudy, StudyError};
use crate::search::darts::DartsSearch;
use crate::store::{Store, TrialRecord};

/// Wall seconds a study has spent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Compute {
    /// DARTS' supernet phases (0 for other strategies).
    pub supernet: f64,
    /// Every trial that finished (complete, failed or pruned), start to end.
    pub trials: f64,
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
    Ok(Compute { supernet, trials })
}
