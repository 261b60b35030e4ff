//! Replay: how a pruner would have done on designs already trained to the
//! full budget, without training anything again.
//!
//! Every trial of a finished study left its validation loss at each
//! evaluation step. Taken in a random order, the designs are replayed as one
//! worker would run them: random search trains each to the end; a pruner
//! reads each design's loss at its rungs from the stored curve and stops it
//! where the promotion rule says (the rule of live studies, [`promotes`]),
//! charging only the steps trained. Compute is counted in training steps, so
//! machine load does not enter. Over many orders this says how much compute
//! each needs to find the study's best design, and which front it holds at
//! equal compute.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{promotes, Competitor, Pruner};
use crate::correlation::kendall_tau_b;
use crate::pareto::{default_reference_k, hypervolume};

/// One fully trained design.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayTrial {
    pub number: i64,
    /// Validation loss by training step (the stored curve).
    pub curve: BTreeMap<usize, f64>,
    /// Validation loss at the end of training.
    pub final_loss: f64,
    /// The study's objectives, minimised (e.g. `[val_ppl, flops]`), for the
    /// hypervolume.
    pub objectives: Vec<f64>,
    /// Costs known before training, minimised, that rank trials at a rung
    /// with their loss; empty for single-objective promotion.
    pub costs: Vec<f64>,
}

/// Why the trials cannot be replayed under a pruner.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("fewer than 2 complete trials to replay")]
    TooFew,
    #[error(
        "trial {number} has no validation loss at step {step}, a rung of the pruner: replay \
         needs a study trained with an eval_interval that divides every rung (its curve has \
         steps {have})"
    )]
    MissingRung {
        number: i64,
        step: usize,
        have: String,
    },
}

/// What one strategy did in one order.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    /// `(compute after it, trial index)` for each trial trained to the end,
    /// in order.
    completed: Vec<(f64, usize)>,
    total: f64,
}

impl Run {
    fn compute_to(&self, trials: &[ReplayTrial], target: f64) -> Option<f64> {
        self.completed
            .iter()
            .find(|&&(_, i)| trials[i].final_loss <= target)
            .map(|&(c, _)| c)
    }

    fn hypervolume_at(&self, trials: &[ReplayTrial], compute: f64, reference: &[f64]) -> f64 {
        let points: Vec<Vec<f64>> = self
            .completed
            .iter()
            .filter(|&&(c, _)| c <= compute + 1e-9)
            .map(|&(_, i)| trials[i].objectives.clone())
            .collect();
        hypervolume(&points, reference).unwrap_or(f64::NAN)
    }
}

fn random_run(order: &[usize], steps: usize) -> Run {
    let completed = order
        .iter()
        .enumerate()
        .map(|(k, &i)| (((k + 1) * steps) as f64, i))
        .collect();
    Run {
        completed,
        total: (order.len() * steps) as f64,
    }
}

/// The pruner over `order`: the k-th design is trial number k of a live
/// study (which decides its bracket), compared at each rung with the
/// designs that reached that rung of its bracket before it.
fn pruned_run(
    trials: &[ReplayTrial],
    order: &[usize],
    pruner: &Pruner,
) -> Result<Run, ReplayError> {
    let mut at_rung: BTreeMap<(usize, usize), Vec<Competitor>> = BTreeMap::new();
    let (mut completed, mut total) = (Vec::new(), 0.0);
    for (k, &i) in order.iter().enumerate() {
        let t = &trials[i];
        let mut stopped_at = None;
        if let Some(bracket) = pruner.bracket(k as i64) {
            for &step in &bracket.rungs {
                let value = *t.curve.get(&step).ok_or_else(|| ReplayError::MissingRung {
                    number: t.number,
                    step,
                    have: t
                        .curve
                        .keys()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                let entries = at_rung.entry((bracket.index, step)).or_default();
                entries.push(Competitor {
                    value,
                    costs: t.costs.clone(),
                });
                if !promotes(entries, entries.len() - 1, pruner.eta()) {
                    stopped_at = Some(step);
                    break;
                }
            }
        }
        match stopped_at {
            Some(step) => total += step as f64,
            None => {
                total += pruner.max_steps as f64;
                completed.push((total, i));
            }
        }
    }
    Ok(Run { completed, total })
}

/// Median and quartiles of one measure over the orders.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Spread {
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
}

impl Spread {
    /// Of `values`, where an infinite value (never reached) sorts last.
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (values.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            if values[lo] == values[hi] {
                values[lo]
            } else {
                values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
            }
        };
        Spread {
            median: at(0.5),
            q1: at(0.25),
            q3: at(0.75),
        }
    }
}

/// A pruner against random search over the same orders.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Steps the pruner spent to complete the study's best design, over the
    /// steps random search spent on it in the same order; infinite in an
    /// order where the pruner stopped that design.
    pub compute_ratio: Spread,
    /// Orders in which the pruner completed the best design.
    pub reached: usize,
    /// The pruner's steps for the whole order, over random search's.
    pub total_ratio: Spread,
    /// Hypervolume of the completed designs when the pruner has gone
    /// through the whole order, and random search's at the same compute.
    pub hypervolume: Spread,
    pub random_hypervolume: Spread,
}

/// The replay of one pruner over `orders` random orders of `trials`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Replay {
    pub trials: usize,
    pub orders: usize,
    /// The lowest final loss of the study: what random search ends with.
    pub target_loss: f64,
    /// The shared hypervolume reference point (the study's objectives).
    pub reference: Vec<f64>,
    pub comparison: Comparison,
}

/// Replays `pruner` against random search over `orders` orders drawn from
/// `seed`.
pub fn replay(
    trials: &[ReplayTrial],
    pruner: &Pruner,
    orders: usize,
    seed: u64,
) -> Result<Replay, ReplayError> {
    if trials.len() < 2 {
        return Err(ReplayError::TooFew);
    }
    let target = trials
        .iter()
        .map(|t| t.final_loss)
        .fold(f64::INFINITY, f64::min);
    let all: Vec<Vec<f64>> = trials.iter().map(|t| t.objectives.clone()).collect();
    let reference = default_reference_k(&all, all[0].len());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut ratio, mut total, mut hv, mut random_hv) = (vec![], vec![], vec![], vec![]);
    let mut reached = 0;
    for _ in 0..orders.max(1) {
        let mut order: Vec<usize> = (0..trials.len()).collect();
        order.shuffle(&mut rng);
        let random = random_run(&order, pruner.max_steps);
        let pruned = pruned_run(trials, &order, pruner)?;
        let base = random
            .compute_to(trials, target)
            .expect("random completes all");
        match pruned.compute_to(trials, target) {
            Some(c) => {
                reached += 1;
                ratio.push(c / base);
            }
            None => ratio.push(f64::INFINITY),
        }
        total.push(pruned.total / random.total);
        hv.push(pruned.hypervolume_at(trials, pruned.total, &reference));
        random_hv.push(random.hypervolume_at(trials, pruned.total, &reference));
    }
    Ok(Replay {
        trials: trials.len(),
        orders: orders.max(1),
        target_loss: target,
        reference,
        comparison: Comparison {
            compute_ratio: Spread::of(ratio),
            reached,
            total_ratio: Spread::of(total),
            hypervolume: Spread::of(hv),
            random_hypervolume: Spread::of(random_hv),
        },
    })
}

/// Kendall's τ between the loss at each evaluation step that every trial
/// has and the final loss: how early a rung may be and still rank designs
/// as the full budget does.
pub fn rung_correlations(trials: &[ReplayTrial]) -> Vec<(usize, f64)> {
    let Some(first) = trials.first() else {
        return Vec::new();
    };
    let finals: Vec<f64> = trials.iter().map(|t| t.final_loss).collect();
    first
        .curve
        .keys()
        .filter(|step| trials.iter().all(|t| t.curve.contains_key(step)))
        .filter_map(|&step| {
            let at: Vec<f64> = trials.iter().map(|t| t.curve[&step]).collect();
            kendall_tau_b(&at, &finals).map(|tau| (step, tau))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prune::{PrunerKind, PrunerSettings};

    /// Designs whose loss at every step keeps the order of their final
    /// loss: a perfect rung.
    fn faithful(n: usize) -> Vec<ReplayTrial> {
        (0..n)
            .map(|i| {
                let quality = i as f64 / n as f64;
                let curve = (1..=9)
                    .map(|k| (k * 10, 3.0 - 0.1 * k as f64 + quality))
                    .collect();
                ReplayTrial {
                    number: i as i64,
                    curve,
                    final_loss: 2.0 + quality,
                    objectives: vec![(2.0 + quality).exp(), (n - i) as f64],
                    costs: Vec::new(),
                }
            })
            .collect()
    }

    fn asha(min_steps: usize) -> Pruner {
        PrunerSettings {
            kind: PrunerKind::Asha,
            min_steps,
            reduction_factor: 3,
            brackets: None,
            by_loss: false,
        }
        .pruner(90)
        .unwrap()
    }

    #[test]
    fn with_a_faithful_rung_asha_finds_the_best_for_less() {
        let r = replay(&faithful(30), &asha(10), 20, 7).unwrap();
        // The best design is never stopped: it is best at every rung.
        assert_eq!(r.comparison.reached, 20);
        assert!(r.comparison.compute_ratio.median < 1.0, "{r:?}");
        assert!(r.comparison.total_ratio.median < 0.6, "{r:?}");
    }

    #[test]
    fn random_order_pruning_spends_exactly_the_steps_it_trains() {
        let trials = faithful(4);
        // Order 0, 1, 2, 3: losses rise, so trial 0 continues and each later
        // one is pruned at the first rung (10 steps) while fewer than η
        // reached it, then the top third of 3 (one) is trial 0 still.
        let run = pruned_run(&trials, &[0, 1, 2, 3], &asha(10)).unwrap();
        assert_eq!(run.completed, vec![(90.0, 0)]);
        assert_eq!(run.total, 90.0 + 3.0 * 10.0);
        // Reversed, each newcomer is the best so far and continues.
        let run = pruned_run(&trials, &[3, 2, 1, 0], &asha(10)).unwrap();
        assert_eq!(run.completed.len(), 4);
    }

    #[test]
    fn a_rung_missing_from_the_curves_is_refused() {
        let e = replay(&faithful(3), &asha(15), 1, 0).unwrap_err();
        assert!(
            matches!(e, ReplayError::MissingRung { step: 15, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_faithful_curve_has_tau_one_at_every_step() {
        let taus = rung_correlations(&faithful(10));
        assert_eq!(taus.len(), 9);
        assert!(taus.iter().all(|&(_, t)| (t - 1.0).abs() < 1e-12));
    }
}
