//! Every trial's learning curve of a study, as stored: what `nas curves`
//! lists and draws. Failed trials have no curve and are left out.

use crate::store::{Store, StoreError, TrialState};

/// One trial's curve of one named value.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialCurve {
    pub number: i64,
    pub state: TrialState,
    pub arch_short: String,
    /// `(step, value)`, increasing in step; steps without the value are
    /// left out.
    pub points: Vec<(usize, f64)>,
    /// The last step of a pruned trial: where it was stopped.
    pub pruned_at: Option<usize>,
}

/// The curves of `metric` (e.g. `metrics::VAL_LOSS`) of every complete,
/// pruned or running trial of `study_id`, in trial order.
pub fn trial_curves(
    store: &dyn Store,
    study_id: i64,
    metric: &str,
) -> Result<Vec<TrialCurve>, StoreError> {
    let mut out = Vec::new();
    for t in store.trials(study_id)? {
        if t.state == TrialState::Failed {
            continue;
        }
        let points: Vec<(usize, f64)> = store
            .curve(t.id)?
            .iter()
            .filter_map(|p| p.values.get(metric).map(|v| (p.step, v)))
            .collect();
        // Stores of this version say where; the curve's end says it too.
        let pruned_at = t.pruned_at().or_else(|| {
            (t.state == TrialState::Pruned)
                .then(|| points.last().map(|&(s, _)| s))
                .flatten()
        });
        out.push(TrialCurve {
            number: t.number,
            state: t.state,
            arch_short: t.arch_short,
            points,
            pruned_at,
        });
    }
    Ok(out)
}

/// Every step at which some curve has a value, increasing: the table's
/// columns.
pub fn all_steps(curves: &[TrialCurve]) -> Vec<usize> {
    let mut steps: Vec<usize> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|&(s, _)| s))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}
