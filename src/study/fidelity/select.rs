//! Which of a study's designs a fidelity check retrains: its Pareto front
//! (the designs a user would pick from), then a spread of the rest along the
//! proxy's perplexity ranking, so that the check sees good, middling and bad
//! designs and not only near-ties.

use crate::objective::Objective;
use crate::pareto::non_dominated_sort;
use crate::study::groups::DesignGroup;

/// One chosen design.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// Index into the groups given to [`select`].
    pub group: usize,
    /// On the study's front (over the design means).
    pub on_front: bool,
}

/// Chooses up to `k` of `groups` (one per design, values the means over its
/// seeds): front members for half the sample (rounded up, more when the rest
/// has too few), spread evenly along the front by perplexity when they do not
/// all fit, then the rest evenly along their perplexity ranking, best and
/// worst included. Designs without a finite
/// value for every objective are never chosen. Returned in the order of the
/// proxy's perplexity, best first.
pub fn select(groups: &[DesignGroup], objectives: &[Objective], k: usize) -> Vec<Pick> {
    let ranked = objective_vectors(groups, objectives);
    let vectors: Vec<Vec<f64>> = ranked.iter().map(|(_, v)| v.clone()).collect();
    let front: Vec<usize> = non_dominated_sort(&vectors)
        .into_iter()
        .next()
        .unwrap_or_default();
    // Perplexity is the first objective; ties keep the study's order.
    let by_ppl = |mut members: Vec<usize>| {
        members.sort_by(|&a, &b| vectors[a][0].total_cmp(&vectors[b][0]).then(a.cmp(&b)));
        members
    };
    let on_front = by_ppl(front.clone());
    let rest = by_ppl((0..ranked.len()).filter(|i| !front.contains(i)).collect());
    // Half the sample (rounded up) from the front, so the check sees how
    // the proxy orders the whole range and not only the front, where
    // perplexity falls with cost by construction; more when the rest is short.
    let from_front = spread(&on_front, k.div_ceil(2).max(k.saturating_sub(rest.len())));
    let from_rest = spread(&rest, k - from_front.len());
    let mut chosen: Vec<(usize, bool)> = from_front
        .iter()
        .map(|&i| (i, true))
        .chain(from_rest.iter().map(|&i| (i, false)))
        .collect();
    chosen.sort_by(|a, b| {
        vectors[a.0][0]
            .total_cmp(&vectors[b.0][0])
            .then(a.0.cmp(&b.0))
    });
    chosen
        .into_iter()
        .map(|(i, on_front)| Pick {
            group: ranked[i].0,
            on_front,
        })
        .collect()
}

/// Each group with a finite value for every objective, as (index, the
/// objectives minimised over its means).
pub fn objective_vectors(
    groups: &[DesignGroup],
    objectives: &[Objective],
) -> Vec<(usize, Vec<f64>)> {
    groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let means = g.means();
            let v: Option<Vec<f64>> = objectives.iter().map(|o| o.minimised(&means)).collect();
            v.filter(|v| v.iter().all(|x| x.is_finite()))
                .map(|v| (i, v))
        })
        .collect()
}

/// The indices (into `groups`) of the designs on the front of their means.
pub fn front_of(groups: &[DesignGroup], objectives: &[Objective]) -> Vec<usize> {
    let ranked = objective_vectors(groups, objectives);
    let vectors: Vec<Vec<f64>> = ranked.iter().map(|(_, v)| v.clone()).collect();
    let front = non_dominated_sort(&vectors)
        .into_iter()
        .next()
        .unwrap_or_default();
    front.into_iter().map(|i| ranked[i].0).collect()
}

/// `m` of `items` at evenly spaced positions, first and last included (all
/// of them when `m` is not smaller). Positions round(i (n − 1)/(m − 1)) are
/// distinct because their spacing is at least one.
fn spread(items: &[usize], m: usize) -> Vec<usize> {
    let n = items.len();
    if m >= n {
        return items.to_vec();
    }
    match m {
        0 => vec![],
        1 => vec![items[0]],
        _ => (0..m)
            .map(|i| items[(i as f64 * (n - 1) as f64 / (m - 1) as f64).round() as usize])
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::study::groups::Summary;

    /// A design with one seed: perplexity and FLOPs.
    fn design(i: usize, ppl: f64, flops: f64) -> DesignGroup {
        let value = |mean| Summary {
            mean,
            sd: None,
            n: 1,
        };
        DesignGroup {
            arch: format!("design {i}"),
            hash: format!("{i}"),
            trials: vec![i as i64],
            seeds: vec![0],
            values: BTreeMap::from([
                ("val_ppl".to_string(), value(ppl)),
                ("flops_per_token".to_string(), value(flops)),
            ]),
        }
    }

    const OBJECTIVES: [Objective; 2] = [Objective::ValPpl, Objective::Flops];

    #[test]
    fn spread_keeps_ends_and_never_repeats() {
        let items: Vec<usize> = (10..20).collect();
        assert_eq!(spread(&items, 3), vec![10, 15, 19]);
        assert_eq!(spread(&items, 10), items);
        assert_eq!(spread(&items, 12), items);
        assert_eq!(spread(&items, 1), vec![10]);
        for m in 2..10 {
            let mut s = spread(&items, m);
            assert_eq!((s[0], s[m - 1]), (10, 19));
            s.dedup();
            assert_eq!(s.len(), m);
        }
    }

    #[test]
    fn the_front_comes_first_then_a_spread_of_the_rest() {
        // Front: 0 (best ppl, dear), 1, 2 (cheapest). The rest dominated,
        // perplexities 6..=12.
        let mut groups = vec![
            design(0, 5.0, 9.0),
            design(1, 5.5, 5.0),
            design(2, 7.0, 1.0),
        ];
        for (j, ppl) in (6..=12).enumerate() {
            groups.push(design(3 + j, ppl as f64, 10.0));
        }
        let picks = select(&groups, &OBJECTIVES, 6);
        let chosen: Vec<(usize, bool)> = picks.iter().map(|p| (p.group, p.on_front)).collect();
        // Three of the rest, spread: ppl 6 (group 3), 9 (group 6), 12 (group 9);
        // all sorted by proxy perplexity.
        assert_eq!(
            chosen,
            vec![
                (0, true),
                (1, true),
                (3, false),
                (2, true),
                (6, false),
                (9, false)
            ]
        );
    }

    #[test]
    fn a_large_front_takes_half_the_sample_and_the_rest_the_other_half() {
        // Front: five designs; the rest: five dominated ones.
        let mut groups: Vec<DesignGroup> = (0..5)
            .map(|i| design(i, 5.0 + i as f64, 10.0 - i as f64))
            .collect();
        groups.extend((5..10).map(|i| design(i, 20.0 + i as f64, 20.0)));
        let picks = select(&groups, &OBJECTIVES, 5);
        let chosen: Vec<(usize, bool)> = picks.iter().map(|p| (p.group, p.on_front)).collect();
        // Three of the front (ends and middle), two of the rest (its ends).
        assert_eq!(
            chosen,
            vec![(0, true), (2, true), (4, true), (5, false), (9, false)]
        );
    }

    #[test]
    fn a_front_larger_than_the_sample_is_spread_along_perplexity() {
        // Ten designs on one front: ppl up as flops go down.
        let groups: Vec<DesignGroup> = (0..10)
            .map(|i| design(i, 5.0 + i as f64, 10.0 - i as f64))
            .collect();
        let picks = select(&groups, &OBJECTIVES, 4);
        let chosen: Vec<usize> = picks.iter().map(|p| p.group).collect();
        assert_eq!(chosen, vec![0, 3, 6, 9]);
        assert!(picks.iter().all(|p| p.on_front));
    }

    #[test]
    fn designs_without_finite_values_are_never_chosen() {
        let groups = vec![
            design(0, f64::NAN, 1.0),
            design(1, 6.0, 2.0),
            design(2, 7.0, 3.0),
        ];
        let picks = select(&groups, &OBJECTIVES, 3);
        assert_eq!(
            picks.iter().map(|p| p.group).collect::<Vec<_>>(),
            vec![1, 2]
        );
    }
}
