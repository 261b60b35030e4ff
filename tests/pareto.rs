//! Pareto analysis: hand-worked cases and properties.

use hybrid_nas::pareto::{
    crowding_distance, default_reference, dominates, front_staircase, hypervolume_2d,
    non_dominated_sort, StudyFront,
};
use proptest::prelude::*;

#[test]
fn domination_needs_one_strict_improvement() {
    assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
    assert!(dominates(&[1.0, 2.0, 0.5], &[2.0, 2.0, 0.5]));
    assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]), "equal points");
    assert!(!dominates(&[1.0, 3.0], &[2.0, 2.0]), "trade-off");
    assert!(!dominates(&[f64::NAN, 1.0], &[2.0, 2.0]));
    assert!(!dominates(&[1.0, 1.0], &[f64::NAN, 2.0]));
    assert!(!dominates(&[1.0], &[2.0, 2.0]), "different lengths");
}

#[test]
fn sort_small_example() {
    let pts = vec![
        vec![1.0, 5.0], // 0: front 0
        vec![2.0, 3.0], // 1: front 0
        vec![3.0, 4.0], // 2: dominated by 1 -> front 1
        vec![4.0, 1.0], // 3: front 0
        vec![5.0, 5.0], // 4: dominated by 2 -> front 2
        vec![f64::NAN, 0.0],
        vec![2.0, 3.0], // 6: duplicate of 1: shares front 0
        vec![0.5, f64::INFINITY],
    ];
    let fronts = non_dominated_sort(&pts);
    assert_eq!(fronts, vec![vec![0, 1, 3, 6], vec![2], vec![4]]);
}

#[test]
fn sort_three_objectives() {
    let pts = vec![
        vec![1.0, 1.0, 9.0],
        vec![9.0, 1.0, 1.0],
        vec![1.0, 9.0, 1.0],
        vec![2.0, 2.0, 9.0],
        vec![5.0, 5.0, 5.0],
    ];
    let fronts = non_dominated_sort(&pts);
    assert_eq!(fronts, vec![vec![0, 1, 2, 4], vec![3]]);
}

#[test]
fn sort_empty_and_all_invalid() {
    assert!(non_dominated_sort(&[]).is_empty());
    assert!(non_dominated_sort(&[vec![f64::NAN, 1.0], vec![1.0, f64::NEG_INFINITY]]).is_empty());
}

#[test]
fn hypervolume_by_hand() {
    // One box: [1,3] x [1,3].
    assert_eq!(hypervolume_2d(&[(1.0, 1.0)], (3.0, 3.0)), 4.0);
    // Union of [1,4]x[3,4] (3) and [2,4]x[1,4] (6), overlapping in [2,4]x[3,4] (2).
    assert_eq!(hypervolume_2d(&[(1.0, 3.0), (2.0, 1.0)], (4.0, 4.0)), 7.0);
    // Staircase 5 + 8 + 2; (3,4) is dominated by (2,3); (7,1) lies beyond
    // the reference in x, so both add nothing.
    let pts = [(4.0, 2.0), (1.0, 5.0), (3.0, 4.0), (2.0, 3.0), (7.0, 1.0)];
    assert_eq!(hypervolume_2d(&pts, (6.0, 6.0)), 15.0);
    // Non-integer: [0.5,2]x[1.5,2.5] = 1.5 plus [1,2]x[0.5,1.5] = 1.
    assert!((hypervolume_2d(&[(0.5, 1.5), (1.0, 0.5)], (2.0, 2.5)) - 2.5).abs() < 1e-12);
}

#[test]
fn hypervolume_edge_cases() {
    assert_eq!(hypervolume_2d(&[], (1.0, 1.0)), 0.0);
    // On the reference boundary: not strictly better, no area.
    assert_eq!(hypervolume_2d(&[(2.0, 6.0), (6.0, 2.0)], (6.0, 6.0)), 0.0);
    // Duplicates count once.
    assert_eq!(hypervolume_2d(&[(1.0, 1.0), (1.0, 1.0)], (2.0, 2.0)), 1.0);
    // Non-finite points are ignored, a non-finite reference is NaN.
    assert_eq!(
        hypervolume_2d(&[(f64::NAN, 0.0), (1.0, 1.0)], (2.0, 2.0)),
        1.0
    );
    assert!(hypervolume_2d(&[(1.0, 1.0)], (f64::INFINITY, 2.0)).is_nan());
}

#[test]
fn default_reference_rule() {
    // Worst + 10% of the range in each coordinate.
    let r = default_reference(&[(1.0, 10.0), (3.0, 20.0), (f64::NAN, 99.0)]);
    assert!(
        (r.0 - 3.2).abs() < 1e-12 && (r.1 - 21.0).abs() < 1e-12,
        "{r:?}"
    );
    // Zero range: 10% of the value.
    let r = default_reference(&[(2.0, 50.0)]);
    assert!(
        (r.0 - 2.2).abs() < 1e-12 && (r.1 - 55.0).abs() < 1e-12,
        "{r:?}"
    );
    assert_eq!(default_reference(&[]), (0.0, 0.0));
}

#[test]
fn staircase_by_hand() {
    let s = front_staircase(&[(3.0, 1.0), (1.0, 3.0), (2.0, 2.0), (2.5, 2.5)]);
    assert_eq!(
        s,
        vec![(1.0, 3.0), (2.0, 3.0), (2.0, 2.0), (3.0, 2.0), (3.0, 1.0)]
    );
    assert_eq!(front_staircase(&[(1.0, 1.0)]), vec![(1.0, 1.0)]);
    assert!(front_staircase(&[]).is_empty());
}

#[test]
fn study_front() {
    let trials = vec![
        ("a", 30.0, 4e6),
        ("b", 50.0, 1e6),
        ("c", 40.0, 5e6), // dominated by a
        ("d", 25.0, 9e6),
        ("e", f64::NAN, 1e5),
        ("f", 50.0, 1e6), // duplicate of b: both on the front
    ];
    let f = StudyFront::compute(&trials, None);
    assert_eq!(f.ids(), vec!["b", "f", "a", "d"]);
    assert!(f.contains(&"a") && !f.contains(&"c") && !f.contains(&"e"));
    assert_eq!(f.excluded, 1);
    // Reference from all finite trials: cost 9e6 + 0.1 * 8e6, ppl 50 + 0.1 * 25.
    assert!((f.reference_cost - 9.8e6).abs() < 1e-3);
    assert!((f.reference_ppl - 52.5).abs() < 1e-12);
    let expect = hypervolume_2d(&[(1e6, 50.0), (4e6, 30.0), (9e6, 25.0)], f.reference());
    assert!((f.hypervolume - expect).abs() < 1e-6 * expect);

    let own = StudyFront::compute(&trials, Some((1e7, 60.0)));
    assert_eq!(own.reference(), (1e7, 60.0));
    let expect = 9e6 * 10.0 + 6e6 * 20.0 + 1e6 * 5.0;
    assert!((own.hypervolume - expect).abs() < 1e-6);
    assert_eq!(own.staircase().len(), 5);

    let empty: StudyFront<&str> = StudyFront::compute(&[], None);
    assert!(empty.members.is_empty());
    assert_eq!(empty.hypervolume, 0.0);
}

#[test]
fn crowding_small() {
    let pts = vec![
        vec![1.0, 4.0],
        vec![2.0, 3.0],
        vec![4.0, 1.0],
        vec![3.0, 2.0],
    ];
    let d = crowding_distance(&pts, &[0, 1, 2, 3]);
    assert!(d[0].is_infinite() && d[2].is_infinite());
    // Point 1: neighbours 0 and 3 in both objectives: (3-1)/3 + (4-2)/3.
    assert!((d[1] - 4.0 / 3.0).abs() < 1e-12);
    assert!((d[3] - 4.0 / 3.0).abs() < 1e-12);
    assert!(crowding_distance(&pts, &[0, 1])
        .iter()
        .all(|d| d.is_infinite()));
    assert!(crowding_distance(&pts, &[]).is_empty());
}

/// Objective vectors on a coarse grid (so ties and duplicates are common),
/// sometimes with a non-finite value.
fn points_strategy() -> impl Strategy<Value = Vec<Vec<f64>>> {
    (2usize..=4).prop_flat_map(|dim| {
        let value = prop_oneof![
            20 => (0i32..8).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ];
        prop::collection::vec(prop::collection::vec(value, dim), 0..40)
    })
}

fn finite(p: &[f64]) -> bool {
    p.iter().all(|v| v.is_finite())
}

fn grid_2d() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(
        (
            (0i32..10).prop_map(f64::from),
            (0i32..10).prop_map(f64::from),
        ),
        0..25,
    )
}

proptest! {
    #[test]
    fn front_zero_is_exactly_the_non_dominated(pts in points_strategy()) {
        let fronts = non_dominated_sort(&pts);
        let front0 = fronts.first().cloned().unwrap_or_default();
        for &i in &front0 {
            for q in &pts {
                prop_assert!(!dominates(q, &pts[i]), "{:?} dominated by {:?}", pts[i], q);
            }
        }
        for (i, p) in pts.iter().enumerate() {
            if finite(p) && !front0.contains(&i) {
                prop_assert!(
                    front0.iter().any(|&f| dominates(&pts[f], p)),
                    "{:?} off the front but no front point dominates it", p
                );
            }
        }
    }

    #[test]
    fn fronts_partition_the_finite_points(pts in points_strategy()) {
        let fronts = non_dominated_sort(&pts);
        let mut seen: Vec<usize> = fronts.iter().flatten().copied().collect();
        let total = seen.len();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), total, "an index is on two fronts");
        let expected: Vec<usize> = (0..pts.len()).filter(|&i| finite(&pts[i])).collect();
        prop_assert_eq!(seen, expected);
        prop_assert!(fronts.iter().all(|f| !f.is_empty()));
    }

    #[test]
    fn later_fronts_are_dominated_by_the_previous(pts in points_strategy()) {
        let fronts = non_dominated_sort(&pts);
        for k in 0..fronts.len() {
            // Nothing in front k or later dominates a member of front k.
            for &i in &fronts[k] {
                for later in &fronts[k..] {
                    for &j in later {
                        prop_assert!(!dominates(&pts[j], &pts[i]));
                    }
                }
                if k > 0 {
                    prop_assert!(fronts[k - 1].iter().any(|&j| dominates(&pts[j], &pts[i])));
                }
            }
        }
    }

    #[test]
    fn crowding_is_infinite_at_the_ends(pts in points_strategy()) {
        for front in non_dominated_sort(&pts) {
            let d = crowding_distance(&pts, &front);
            prop_assert_eq!(d.len(), front.len());
            prop_assert!(d.iter().all(|&v| v >= 0.0));
            if front.len() <= 2 {
                prop_assert!(d.iter().all(|v| v.is_infinite()));
                continue;
            }
            let dim = pts[front[0]].len();
            let columns = (0..dim).map(|m| front.iter().map(|&i| pts[i][m]).collect::<Vec<f64>>());
            for vals in columns {
                let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let inf_at = |target: f64| {
                    vals.iter().zip(&d).any(|(&v, dk)| v == target && dk.is_infinite())
                };
                prop_assert!(inf_at(lo) && inf_at(hi));
            }
        }
    }

    #[test]
    fn hypervolume_matches_cell_count(pts in grid_2d(), rx in 1i32..12, ry in 1i32..12) {
        // On an integer grid the dominated area is the number of unit cells
        // [i, i+1] x [j, j+1] whose lower-left corner some point dominates
        // weakly.
        let (rx, ry) = (f64::from(rx), f64::from(ry));
        let mut cells = 0;
        for i in 0..(rx as i32) {
            for j in 0..(ry as i32) {
                let (ci, cj) = (f64::from(i), f64::from(j));
                if pts.iter().any(|&(x, y)| x <= ci && y <= cj) {
                    cells += 1;
                }
            }
        }
        prop_assert_eq!(hypervolume_2d(&pts, (rx, ry)), f64::from(cells));
    }

    #[test]
    fn hypervolume_is_monotone(pts in grid_2d(), extra in (0i32..12, 0i32..12)) {
        let reference = (10.0, 10.0);
        let before = hypervolume_2d(&pts, reference);
        let mut more = pts.clone();
        more.push((f64::from(extra.0), f64::from(extra.1)));
        prop_assert!(hypervolume_2d(&more, reference) >= before);
    }

    #[test]
    fn hypervolume_of_front_equals_hypervolume_of_all(pts in grid_2d()) {
        let reference = default_reference(&pts);
        let vecs: Vec<Vec<f64>> = pts.iter().map(|&(x, y)| vec![x, y]).collect();
        let front: Vec<(f64, f64)> = non_dominated_sort(&vecs)
            .first()
            .map(|f| f.iter().map(|&i| pts[i]).collect())
            .unwrap_or_default();
        let all = hypervolume_2d(&pts, reference);
        prop_assert!((hypervolume_2d(&front, reference) - all).abs() <= 1e-9 * all.max(1.0));
        // The default reference is strictly worse than every point, so a
        // non-empty set always has positive area.
        prop_assert_eq!(all > 0.0, !pts.is_empty());
    }

    #[test]
    fn staircase_is_monotone_and_visits_the_front(pts in grid_2d()) {
        let s = front_staircase(&pts);
        for w in s.windows(2) {
            prop_assert!(w[0].0 <= w[1].0 && w[0].1 >= w[1].1);
            // Alternating horizontal and vertical segments.
            prop_assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1);
        }
        let vecs: Vec<Vec<f64>> = pts.iter().map(|&(x, y)| vec![x, y]).collect();
        if let Some(front) = non_dominated_sort(&vecs).first() {
            for &i in front {
                prop_assert!(s.contains(&pts[i]));
            }
        }
    }
}
