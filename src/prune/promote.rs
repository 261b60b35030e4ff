//! The promotion rule at a rung: does a trial rank in the top `1/η` of the
//! trials that have reached the rung so far (itself included)?
//!
//! With one objective, trials rank by their value at the rung. With costs
//! known before training (FLOPs, parameters, KV cache) as further
//! objectives, they rank as in MO-ASHA (Schmucker et al. 2021): by
//! non-dominated front over (value at the rung, costs), then by crowding
//! distance within a front, widest first, so that a cheap design with a
//! worse loss is not pruned for being slower to learn than a large one.
//! Remaining ties go to the better value at the rung, then to the trial
//! that reported first.
//!
//! While fewer than `η` trials have reached the rung, `1/η` of them is less
//! than one and only the best one so far continues: a trial is never held
//! back waiting for others (asynchronous promotion).

use std::cmp::Ordering;

use crate::pareto::{crowding_distance, non_dominated_sort};

/// One trial at a rung. Every number is minimised; a NaN ranks last.
#[derive(Clone, Debug, PartialEq)]
pub struct Competitor {
    /// The quality at the rung (validation loss).
    pub value: f64,
    /// Costs known from the design, in the study's objective order; empty
    /// for a single-objective study.
    pub costs: Vec<f64>,
}

impl Competitor {
    fn point(&self) -> Vec<f64> {
        std::iter::once(self.value)
            .chain(self.costs.iter().copied())
            .map(|v| if v.is_nan() { f64::INFINITY } else { v })
            .collect()
    }
}

/// The position (0 = best) of `entries[me]` in the ranking of `entries`.
pub fn rank_position(entries: &[Competitor], me: usize) -> usize {
    ranking(entries)
        .iter()
        .position(|&i| i == me)
        .expect("me is one of the entries")
}

/// Whether `entries[me]` continues past the rung: its position is within the
/// best `max(1, ⌊n/η⌋)` of the `n` entries.
pub fn promotes(entries: &[Competitor], me: usize, eta: usize) -> bool {
    let keep = (entries.len() / eta.max(1)).max(1);
    rank_position(entries, me) < keep
}

/// Indices of `entries`, best first.
fn ranking(entries: &[Competitor]) -> Vec<usize> {
    let points: Vec<Vec<f64>> = entries.iter().map(Competitor::point).collect();
    let multi = entries.iter().any(|e| !e.costs.is_empty());
    // (front, crowding distance) per entry; one front of zero distance for a
    // single objective, so that only the value and the order decide.
    let mut key = vec![(usize::MAX, 0.0); entries.len()];
    if multi {
        // Infinite coordinates (a NaN loss) keep a point out of every front:
        // such entries stay at front usize::MAX, behind all others.
        for (f, front) in non_dominated_sort(&points).iter().enumerate() {
            for (&i, d) in front.iter().zip(crowding_distance(&points, front)) {
                key[i] = (f, d);
            }
        }
    } else {
        key.iter_mut().for_each(|k| *k = (0, 0.0));
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        key[a]
            .0
            .cmp(&key[b].0)
            .then_with(|| key[b].1.partial_cmp(&key[a].1).unwrap_or(Ordering::Equal))
            .then_with(|| points[a][0].total_cmp(&points[b][0]))
            .then(a.cmp(&b))
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(values: &[f64]) -> Vec<Competitor> {
        values
            .iter()
            .map(|&value| Competitor {
                value,
                costs: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn the_first_trials_continue_only_while_best() {
        assert!(promotes(&single(&[2.0]), 0, 3));
        assert!(promotes(&single(&[2.0, 1.5]), 1, 3));
        assert!(!promotes(&single(&[2.0, 2.5]), 1, 3));
        // A tie goes to the one that reported first.
        assert!(!promotes(&single(&[2.0, 2.0]), 1, 3));
    }

    #[test]
    fn a_full_rung_lets_through_only_its_top_third() {
        let values = [2.3, 1.9, 2.8, 2.1, 1.7, 2.6, 2.0, 2.4, 1.8];
        let entries = single(&values);
        let promoted: Vec<usize> = (0..9).filter(|&i| promotes(&entries, i, 3)).collect();
        // The three lowest: 1.7 (4), 1.8 (8), 1.9 (1).
        assert_eq!(promoted, vec![1, 4, 8]);
    }

    #[test]
    fn a_diverged_trial_ranks_last() {
        let entries = single(&[f64::NAN, 3.0, 4.0]);
        assert_eq!(rank_position(&entries, 0), 2);
        let multi = vec![
            Competitor {
                value: f64::NAN,
                costs: vec![1.0],
            },
            Competitor {
                value: 3.0,
                costs: vec![5.0],
            },
        ];
        assert_eq!(rank_position(&multi, 0), 1);
    }

    #[test]
    fn multi_objective_promotion_keeps_a_cheap_non_dominated_trial() {
        // The newcomer learns slowest of all but costs a tenth: on the
        // front (value, cost) it is non-dominated, and a boundary point.
        let entries: Vec<Competitor> = [
            (1.6, 10.0),
            (1.7, 9.0),
            (1.8, 9.5),
            (1.9, 9.8),
            (2.0, 9.9),
            (2.5, 1.0),
        ]
        .iter()
        .map(|&(value, cost)| Competitor {
            value,
            costs: vec![cost],
        })
        .collect();
        assert!(promotes(&entries, 5, 3));
        // By the loss alone it is last, and pruned.
        let alone = single(&[1.6, 1.7, 1.8, 1.9, 2.0, 2.5]);
        assert!(!promotes(&alone, 5, 3));
        // A dominated trial (worse loss and cost than trial 1) is pruned.
        assert!(!promotes(&entries, 2, 3));
    }
}
