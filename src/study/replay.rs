//! A finished study's trials as replay input ([`crate::prune::replay`]):
//! each complete trial's stored validation curve, final loss and
//! objectives, read from the store and nothing written.

use crate::metrics;
use crate::objective::Objective;
use crate::prune::replay::ReplayTrial;
use crate::store::{Store, StoreError};

use super::StoredStudy;

/// How trials are ranked at a rung.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promotion {
    /// By the loss and the study's costs known before training, as live
    /// studies with a cost objective rank (MO-ASHA).
    Objectives,
    /// By the loss alone.
    Loss,
}

/// The complete trials of `study` with a finite final loss, in trial order,
/// ranked at a rung by [`StoredStudy::rung_costs`] under `Objectives`.
pub fn replay_trials(
    store: &dyn Store,
    study: &StoredStudy,
    promotion: Promotion,
) -> Result<Vec<ReplayTrial>, StoreError> {
    let rung_costs: Vec<Objective> = match promotion {
        Promotion::Loss => Vec::new(),
        Promotion::Objectives => study.rung_costs(),
    };
    let mut out = Vec::new();
    for t in store.trials(study.id)? {
        let Some(final_loss) = t.value(metrics::VAL_LOSS).filter(|v| v.is_finite()) else {
            continue;
        };
        if !t.is_scored() {
            continue;
        }
        let curve = store
            .curve(t.id)?
            .into_iter()
            .filter_map(|p| p.values.get(metrics::VAL_LOSS).map(|v| (p.step, v)))
            .collect();
        let objectives = study
            .objectives
            .iter()
            .map(|o| o.minimised(&t.values).unwrap_or(f64::NAN))
            .collect();
        let costs = rung_costs
            .iter()
            .map(|o| o.minimised(&t.values).unwrap_or(f64::NAN))
            .collect();
        out.push(ReplayTrial {
            number: t.number,
            curve,
            final_loss,
            objectives,
            costs,
        });
    }
    Ok(out)
}
