//! Pareto analysis: hand-worked cases and properties.

use hybrid_nas::pareto::{
    compare, crowding_distance, default_reference, default_reference_k, dominates, front_staircase,
    hypervolume, hypervolume_2d, hypervolume_3d, non_dominated_sort, Front, StudyFront,
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

#[test]
fn hypervolume_3d_by_hand() {
    // One box: [1,3]^3.
    assert_eq!(hypervolume_3d(&[[1.0, 1.0, 1.0]], [3.0, 3.0, 3.0]), 8.0);
    // Two overlapping boxes: 2*1*2 = 4 and 1*2*1 = 2, overlapping in the box
    // from (2,2,2): 1.
    assert_eq!(
        hypervolume_3d(&[[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]], [3.0, 3.0, 3.0]),
        5.0
    );
    // Three slabs of 3*3*1 = 9 each, pairwise overlapping in 3 and all
    // three in 1: 27 - 9 + 1.
    let corners = [[0.0, 0.0, 2.0], [0.0, 2.0, 0.0], [2.0, 0.0, 0.0]];
    assert_eq!(hypervolume_3d(&corners, [3.0, 3.0, 3.0]), 19.0);
    // All at one z: the 2-D area (7, as in `hypervolume_by_hand`) times the
    // thickness.
    assert_eq!(
        hypervolume_3d(&[[1.0, 3.0, 1.0], [2.0, 1.0, 1.0]], [4.0, 4.0, 3.0]),
        14.0
    );
    // Non-integer: [0.5,2]x[1.5,2.5]x[1,2] = 1.5 and [1,2]x[0.5,2.5]x[1.5,2]
    // = 1, overlapping in [1,2]x[1.5,2.5]x[1.5,2] = 0.5.
    let v = hypervolume_3d(&[[0.5, 1.5, 1.0], [1.0, 0.5, 1.5]], [2.0, 2.5, 2.0]);
    assert!((v - 2.0).abs() < 1e-12, "{v}");
}

#[test]
fn hypervolume_3d_edge_cases() {
    let r = [3.0, 3.0, 3.0];
    assert_eq!(hypervolume_3d(&[], r), 0.0);
    // On the reference boundary in one coordinate: not strictly better, no
    // volume, and it does not disturb the others.
    assert_eq!(hypervolume_3d(&[[1.0, 1.0, 3.0]], r), 0.0);
    assert_eq!(hypervolume_3d(&[[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]], r), 0.0);
    assert_eq!(hypervolume_3d(&[[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]], r), 1.0);
    // Beyond it: nothing either.
    assert_eq!(hypervolume_3d(&[[0.0, 0.0, 4.0]], r), 0.0);
    // Duplicates and dominated points add nothing.
    let pts = [
        [1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0],
        [2.0, 2.0, 2.0],
        [1.0, 2.0, 1.0],
    ];
    assert_eq!(hypervolume_3d(&pts, r), 8.0);
    // Non-finite points are ignored, a non-finite reference is NaN.
    let odd = [
        [f64::NAN, 0.0, 0.0],
        [0.0, f64::NEG_INFINITY, 0.0],
        [2.0, 2.0, 2.0],
    ];
    assert_eq!(hypervolume_3d(&odd, r), 1.0);
    assert!(hypervolume_3d(&[[1.0, 1.0, 1.0]], [3.0, f64::INFINITY, 3.0]).is_nan());
    assert!(hypervolume_3d(&[[1.0, 1.0, 1.0]], [3.0, 3.0, f64::NAN]).is_nan());
}

#[test]
fn hypervolume_dispatches_on_dimension() {
    let two = vec![vec![1.0, 3.0], vec![2.0, 1.0]];
    assert_eq!(hypervolume(&two, &[4.0, 4.0]), Some(7.0));
    let pairs = [(0.3, 2.7), (1.1, 0.9), (2.9, 0.1)];
    let as_vecs: Vec<Vec<f64>> = pairs.iter().map(|&(x, y)| vec![x, y]).collect();
    assert_eq!(
        hypervolume(&as_vecs, &[3.1, 2.9]).map(f64::to_bits),
        Some(hypervolume_2d(&pairs, (3.1, 2.9)).to_bits())
    );
    let three = vec![vec![1.0, 2.0, 1.0], vec![2.0, 1.0, 2.0]];
    assert_eq!(hypervolume(&three, &[3.0, 3.0, 3.0]), Some(5.0));
    assert_eq!(hypervolume(&[], &[1.0, 1.0, 1.0]), Some(0.0));
    // No hypervolume in other dimensions, nor for mismatched lengths.
    assert_eq!(hypervolume(&[vec![1.0]], &[2.0]), None);
    assert_eq!(hypervolume(&[vec![1.0; 4]], &[2.0; 4]), None);
    assert_eq!(hypervolume(&[], &[]), None);
    assert_eq!(hypervolume(&two, &[4.0, 4.0, 4.0]), None);
    assert_eq!(hypervolume(&[vec![1.0, 1.0], vec![1.0]], &[2.0, 2.0]), None);
}

#[test]
fn default_reference_k_rule() {
    // Worst + 10% of the range per objective; the third is a negated recall.
    let pts = vec![
        vec![1.0, 10.0, -0.9],
        vec![3.0, 20.0, -0.5],
        vec![f64::NAN, 99.0, 0.0],
        vec![0.0, 0.0], // wrong length: ignored
    ];
    let r = default_reference_k(&pts, 3);
    let want = [3.2, 21.0, -0.46];
    assert!(
        r.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{r:?}"
    );
    // Zero range: 10% of |worst|, or 1 when the worst is 0.
    let r = default_reference_k(&[vec![2.0, -50.0, 0.0]], 3);
    assert!((r[0] - 2.2).abs() < 1e-12 && (r[1] + 45.0).abs() < 1e-12 && r[2] == 1.0);
    assert_eq!(default_reference_k(&[], 3), vec![0.0; 3]);
    assert_eq!(default_reference_k(&[vec![f64::NAN, 1.0]], 2), vec![0.0; 2]);
    // The 2-D rule is this one, bit for bit.
    let pairs = [(1.0, 10.0), (3.3, 20.7), (f64::NAN, 99.0), (0.7, 13.1)];
    let vecs: Vec<Vec<f64>> = pairs.iter().map(|&(x, y)| vec![x, y]).collect();
    let (x, y) = default_reference(&pairs);
    assert_eq!(default_reference_k(&vecs, 2), vec![x, y]);
}

/// Three objectives as a study would have them: perplexity, cost, -recall.
fn three_objective_trials() -> Vec<(&'static str, Vec<f64>)> {
    vec![
        ("a", vec![30.0, 4.0, -0.5]),
        ("b", vec![50.0, 1.0, -0.2]),
        ("c", vec![40.0, 5.0, -0.4]), // dominated by a in all three
        ("d", vec![25.0, 9.0, -0.9]),
        ("e", vec![f64::NAN, 1.0, -1.0]),
        ("f", vec![60.0, 6.0, -0.95]), // worst perplexity, best recall
        ("g", vec![50.0, 1.0, -0.2]),  // duplicate of b: both on the front
        ("h", vec![30.0, 4.0]),        // wrong length
        ("i", vec![45.0, 5.0, -0.45]), // dominated by a
    ]
}

#[test]
fn front_of_three_objectives() {
    let trials = three_objective_trials();
    let f = Front::compute(&trials, None);
    // Lexicographic by objective vector; duplicates in input order.
    assert_eq!(f.ids(), vec!["d", "a", "b", "g", "f"]);
    assert!(f.contains(&"f") && !f.contains(&"c") && !f.contains(&"e") && !f.contains(&"h"));
    assert_eq!(f.excluded, 2);
    // Worst + 10% of the range over the finite trials, front or not.
    let want = [60.0 + 3.5, 9.0 + 0.8, -0.2 + 0.075];
    assert!(
        f.reference
            .iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() < 1e-12),
        "{:?}",
        f.reference
    );
    let members: Vec<[f64; 3]> = f
        .members
        .iter()
        .map(|m| [m.objectives[0], m.objectives[1], m.objectives[2]])
        .collect();
    let reference = [f.reference[0], f.reference[1], f.reference[2]];
    assert_eq!(f.hypervolume, hypervolume_3d(&members, reference));
    let brute = brute_force_3d(&members, reference);
    assert!((f.hypervolume - brute).abs() <= 1e-9 * brute);
    // Dominated trials add nothing: the front's volume is all trials'.
    let all: Vec<[f64; 3]> = trials
        .iter()
        .filter(|t| t.1.len() == 3)
        .map(|t| [t.1[0], t.1[1], t.1[2]])
        .collect();
    assert!((hypervolume_3d(&all, reference) - f.hypervolume).abs() <= 1e-9 * brute);

    // One's own reference.
    let own = Front::compute(&trials, Some(vec![100.0, 10.0, 0.0]));
    assert_eq!(own.reference, vec![100.0, 10.0, 0.0]);
    assert!(own.hypervolume > f.hypervolume);

    // Nothing to measure.
    let empty: Front<&str> = Front::compute(&[], None);
    assert!(empty.members.is_empty() && empty.reference.is_empty());
    assert_eq!((empty.hypervolume, empty.excluded), (0.0, 0));
    // Four objectives: a front, but no hypervolume.
    let four = Front::compute(&[(1, vec![1.0, 2.0, 3.0, 4.0]), (2, vec![2.0; 4])], None);
    assert_eq!(four.ids(), vec![1, 2]);
    assert_eq!(four.reference.len(), 4);
    assert!(four.hypervolume.is_nan());
    // A reference of the wrong length: no hypervolume either.
    assert!(Front::compute(&trials, Some(vec![1e3, 1e3]))
        .hypervolume
        .is_nan());
}

#[test]
fn fronts_compare_against_one_reference() {
    let trials = three_objective_trials();
    let (first, second) = (trials[..4].to_vec(), trials[4..].to_vec());
    let (reference, fronts) = Front::compare(&[first.clone(), second.clone()], None);
    // The default over every study's trials, which here is the one study's.
    assert_eq!(reference, Front::compute(&trials, None).reference);
    assert_eq!(fronts.len(), 2);
    assert_eq!(fronts[0], Front::compute(&first, Some(reference.clone())));
    assert_eq!(fronts[1], Front::compute(&second, Some(reference.clone())));
    assert_eq!(fronts[1].ids(), vec!["i", "g", "f"]);
    let given = vec![70.0, 10.0, 0.0];
    let (r, fronts) = Front::compare(&[first, second], Some(given.clone()));
    assert_eq!(r, given);
    assert!(fronts.iter().all(|f| f.reference == given));
}

/// The dominated volume counted cell by cell: the distinct coordinates of
/// the points inside the reference, and the reference's, cut space into
/// boxes that are each wholly dominated or not, and a box is dominated
/// exactly when some point is no worse than its lower corner.
fn brute_force_3d(points: &[[f64; 3]], reference: [f64; 3]) -> f64 {
    let inside: Vec<[f64; 3]> = points
        .iter()
        .copied()
        .filter(|p| (0..3).all(|m| p[m].is_finite() && p[m] < reference[m]))
        .collect();
    let axis = |m: usize| {
        let mut v: Vec<f64> = inside.iter().map(|p| p[m]).collect();
        v.push(reference[m]);
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys, zs) = (axis(0), axis(1), axis(2));
    let mut volume = 0.0;
    for i in 0..xs.len() - 1 {
        for j in 0..ys.len() - 1 {
            for k in 0..zs.len() - 1 {
                if inside
                    .iter()
                    .any(|p| p[0] <= xs[i] && p[1] <= ys[j] && p[2] <= zs[k])
                {
                    volume += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]) * (zs[k + 1] - zs[k]);
                }
            }
        }
    }
    volume
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

/// 3-D points on a coarse integer grid, sometimes with a non-finite value.
fn grid_3d() -> impl Strategy<Value = Vec<[f64; 3]>> {
    let value = prop_oneof![
        20 => (0i32..8).prop_map(f64::from),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
    ];
    prop::collection::vec(prop::array::uniform3(value), 0..25)
}

/// Up to 12 3-D points with real coordinates in [0, 10), some snapped to
/// whole numbers so that ties occur.
fn real_3d() -> impl Strategy<Value = Vec<[f64; 3]>> {
    let value = prop_oneof![
        3 => 0.0f64..10.0,
        1 => (0i32..10).prop_map(f64::from),
    ];
    prop::collection::vec(prop::array::uniform3(value), 0..=12)
}

fn vecs_3d(pts: &[[f64; 3]]) -> Vec<Vec<f64>> {
    pts.iter().map(|p| p.to_vec()).collect()
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

    #[test]
    fn front_3d_is_exactly_the_non_dominated(pts in grid_3d()) {
        let trials: Vec<(usize, Vec<f64>)> = vecs_3d(&pts).into_iter().enumerate().collect();
        let front = Front::compute(&trials, None);
        for m in &front.members {
            for (_, q) in &trials {
                prop_assert!(!dominates(q, &m.objectives), "{:?} dominated by {:?}", m.objectives, q);
            }
        }
        for (i, p) in &trials {
            if finite(p) && !front.contains(i) {
                prop_assert!(
                    front.members.iter().any(|m| dominates(&m.objectives, p)),
                    "{:?} off the front but no front point dominates it", p
                );
            }
        }
        let finite_count = trials.iter().filter(|t| finite(&t.1)).count();
        prop_assert_eq!(front.excluded, trials.len() - finite_count);
    }

    #[test]
    fn hypervolume_3d_matches_cell_count(pts in grid_3d(), r in prop::array::uniform3(1i32..10)) {
        // On an integer grid every product is a small whole number, so the
        // sweep must agree with counting unit cells exactly.
        let reference = r.map(f64::from);
        let mut cells = 0;
        for i in 0..r[0] {
            for j in 0..r[1] {
                for k in 0..r[2] {
                    let c = [i, j, k].map(f64::from);
                    if pts.iter().any(|p| (0..3).all(|m| p[m] <= c[m])) {
                        cells += 1;
                    }
                }
            }
        }
        prop_assert_eq!(hypervolume_3d(&pts, reference), f64::from(cells));
    }

    #[test]
    fn hypervolume_3d_matches_brute_force(
        pts in real_3d(),
        reference in prop::array::uniform3(5.0f64..12.0),
    ) {
        let fast = hypervolume_3d(&pts, reference);
        let brute = brute_force_3d(&pts, reference);
        prop_assert!((fast - brute).abs() <= 1e-9 * brute.max(1e-300), "{} vs {}", fast, brute);
        // Symmetric in the coordinates, up to rounding.
        let turned: Vec<[f64; 3]> = pts.iter().map(|p| [p[2], p[0], p[1]]).collect();
        let turned_hv = hypervolume_3d(&turned, [reference[2], reference[0], reference[1]]);
        prop_assert!((turned_hv - fast).abs() <= 1e-9 * fast.max(1e-300));
    }

    #[test]
    fn hypervolume_3d_is_monotone(pts in grid_3d(), extra in prop::array::uniform3(0i32..12)) {
        let reference = [10.0, 10.0, 10.0];
        let before = hypervolume_3d(&pts, reference);
        let mut more = pts.clone();
        more.push(extra.map(f64::from));
        prop_assert!(hypervolume_3d(&more, reference) >= before);
    }

    #[test]
    fn hypervolume_3d_of_front_equals_hypervolume_of_all(pts in real_3d()) {
        let vecs = vecs_3d(&pts);
        let reference = default_reference_k(&vecs, 3);
        let all = hypervolume(&vecs, &reference).unwrap();
        let trials: Vec<(usize, Vec<f64>)> = vecs.into_iter().enumerate().collect();
        let front = Front::compute(&trials, None);
        if !pts.is_empty() {
            // (With no trials at all the dimension is unknown: no reference.)
            prop_assert_eq!(&front.reference, &reference);
        }
        prop_assert!((front.hypervolume - all).abs() <= 1e-9 * all.max(1.0));
        // The default reference is strictly worse than every point, so a
        // non-empty set always has positive volume.
        prop_assert_eq!(all > 0.0, !pts.is_empty());
    }

    #[test]
    fn study_front_is_the_k_dim_front_bit_for_bit(pts in grid_2d(), noise in 0.0f64..1.0) {
        // Non-integer values, so that any change in the order of the
        // arithmetic would show in the last bits.
        let trials: Vec<(usize, f64, f64)> = pts
            .iter()
            .enumerate()
            .map(|(i, &(c, p))| (i, p * 1.37 + noise, c * 2.9e5 + noise))
            .collect();
        let study = StudyFront::compute(&trials, None);
        let vecs: Vec<(usize, Vec<f64>)> =
            trials.iter().map(|&(i, p, c)| (i, vec![c, p])).collect();
        let front = Front::compute(&vecs, None);
        prop_assert_eq!(study.ids(), front.ids());
        if !trials.is_empty() {
            // (With no trials the 2-D front still knows its dimension.)
            prop_assert_eq!(vec![study.reference_cost, study.reference_ppl], front.reference.clone());
        }
        prop_assert_eq!(study.hypervolume.to_bits(), front.hypervolume.to_bits());
        // And both are the 2-D sweep over the front.
        let xy: Vec<(f64, f64)> = study.members.iter().map(|m| (m.cost, m.ppl)).collect();
        let expect = if xy.is_empty() { 0.0 } else { hypervolume_2d(&xy, study.reference()) };
        prop_assert_eq!(study.hypervolume.to_bits(), expect.to_bits());
        let (shared, fronts) = compare(std::slice::from_ref(&trials), None);
        prop_assert_eq!(shared, study.reference());
        prop_assert_eq!(&fronts[0], &study);
    }
}
