//! Early stopping inside a trial: where its rungs are, its report at each
//! through the store (which decides), and what a trial stopped at a rung
//! keeps. The rule itself is [`crate::prune`]'s; the decision is the store's
//! ([`Store::report_rung`]), so that every worker of a study decides alike.

use std::ops::ControlFlow;

use super::StoredStudy;
use crate::arch::Architecture;
use crate::evaluate::{curve_values, Evaluator};
use crate::metrics::{self, Values};
use crate::objective::Objective;
use crate::prune::{promotes, Competitor, Pruner};
use crate::store::{Outcome, RungReport, RungRuling, Store, TrialRecord};
use crate::train::{CurvePoint, Progress, Stop};

/// How a study's trials are pruned: its pruner, and the objectives known
/// before training that rank trials at a rung besides the loss.
#[derive(Clone, Debug)]
pub struct Pruning {
    pub pruner: Pruner,
    /// [`StoredStudy::rung_costs`], or none when the pruner ranks by the
    /// loss alone.
    pub costs: Vec<Objective>,
}

impl Pruning {
    /// The pruning of `study`; `None` when it prunes nothing.
    pub fn of(study: &StoredStudy) -> Option<Pruning> {
        let pruner = study.active_pruner()?;
        let costs = if pruner.settings.by_loss {
            Vec::new()
        } else {
            study.rung_costs()
        };
        Some(Pruning { pruner, costs })
    }
}

/// One trial's reports at the rungs of its bracket, through the store, and
/// the values it keeps when a rung stops it.
pub(super) struct RungJudge<'a> {
    store: &'a dyn Store,
    trial: &'a TrialRecord,
    /// `None` when the study prunes nothing.
    pruning: Option<&'a Pruning>,
    bracket: usize,
    rungs: Vec<usize>,
    /// The design's costs, by name (what it keeps when pruned).
    costs: Values,
    /// The last rung's loss and ruling, for the pruned trial's record.
    last: Option<(f64, RungRuling)>,
}

impl<'a> RungJudge<'a> {
    pub(super) fn new(
        store: &'a dyn Store,
        pruning: Option<&'a Pruning>,
        trial: &'a TrialRecord,
        arch: &Architecture,
        evaluator: &dyn Evaluator,
    ) -> Self {
        let bracket = pruning.and_then(|p| p.pruner.bracket(trial.number));
        RungJudge {
            store,
            trial,
            pruning: pruning.filter(|_| bracket.is_some()),
            bracket: bracket.map_or(0, |b| b.index),
            rungs: bracket.map_or(Vec::new(), |b| b.rungs.clone()),
            costs: if pruning.is_some() {
                evaluator.costs(arch)
            } else {
                Values::new()
            },
            last: None,
        }
    }

    /// Continue, or stop at a rung the trial does not rank at. A store error
    /// here lets the trial go on: losing a report costs compute, not a trial.
    pub(super) fn judge(&mut self, p: Progress) -> ControlFlow<Stop> {
        let (Some(pruning), Some(value)) = (self.pruning, p.val_loss) else {
            return ControlFlow::Continue(());
        };
        if !self.rungs.contains(&p.step) {
            return ControlFlow::Continue(());
        }
        let costs = pruning
            .costs
            .iter()
            .map(|o| o.minimised(&self.costs).unwrap_or(f64::NAN))
            .collect();
        let report = RungReport {
            bracket: self.bracket,
            step: p.step,
            competitor: Competitor { value, costs },
        };
        let eta = pruning.pruner.eta();
        let judge = |entries: &[Competitor]| promotes(entries, entries.len() - 1, eta);
        match self.store.report_rung(self.trial.id, &report, &judge) {
            Ok(ruling) => {
                self.last = Some((value, ruling));
                if ruling.promoted {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(Stop::Pruned)
                }
            }
            Err(e) => {
                tracing::warn!(
                    "trial {}: its report at step {} was not stored ({e}); it trains on",
                    self.trial.number,
                    p.step
                );
                ControlFlow::Continue(())
            }
        }
    }

    /// The outcome of a trial stopped at `step`: its loss there, its costs,
    /// and the reason.
    pub(super) fn pruned(&self, step: usize, curve: &[CurvePoint]) -> Outcome {
        let (value, ruling) = self.last.expect("a trial is pruned at a rung it reported");
        let mut values = self.costs.clone();
        values.insert(metrics::VAL_LOSS, value);
        values.insert(metrics::VAL_PPL, value.exp());
        values.insert(metrics::PRUNED_AT, step as f64);
        let eta = self.pruning.map_or(1, |p| p.pruner.eta());
        let reason = format!(
            "pruned at step {step}: not in the best 1/{eta} of the {} trials at this rung of \
             bracket {}{}",
            ruling.reached,
            self.bracket,
            if ruling.repeated {
                " (the decision an earlier trial of this design got)"
            } else {
                ""
            }
        );
        Outcome::Pruned {
            step,
            values,
            reason,
            curve: curve_values(curve),
        }
    }
}
