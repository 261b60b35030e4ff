//! Pareto analysis of trials: non-dominated sorting, crowding distance,
//! exact hypervolume in two and three dimensions, and the fronts of studies.
//! Data only; drawing lives in [`crate::plot`].
//!
//! Conventions used throughout:
//!
//! - Every objective is **minimised** (perplexity, FLOPs, parameters, bytes,
//!   latency). A maximised objective, such as recall accuracy, is passed
//!   **negated** (`-recall`): then "smaller is better" holds for it too, and
//!   domination, fronts, crowding and hypervolume need no special case. The
//!   reference point is given in the same negated terms (for recall in
//!   [0, 1], e.g. `0.0` or a little above), and hypervolumes are unchanged
//!   by the negation since they measure lengths.
//! - An objective vector is a `&[f64]` of any length (2 or 3 for the
//!   hypervolume): by convention perplexity first, then one or more costs,
//!   then further objectives such as `-recall`; nothing here depends on the
//!   order, except that a reference point lists its coordinates in the same
//!   order as the vectors. Vectors with any non-finite value (a failed or
//!   diverged trial) are never on any front: NaN compares false with
//!   everything, so letting it in would silently make such a trial
//!   non-dominated.
//! - **Ties:** two identical vectors do not dominate each other, so exact
//!   duplicates (the same architecture evaluated twice with the same result,
//!   or two designs that happen to score the same) share a front. Nothing is
//!   dropped or arbitrarily preferred; callers that want one representative
//!   deduplicate by id first.
//! - The 2-D helpers ([`hypervolume_2d`], [`default_reference`],
//!   [`front_staircase`], [`StudyFront`], [`compare`]) take `(cost, ppl)`
//!   pairs, i.e. `(x, y)` as in the figure. Hypervolume is symmetric in the
//!   two coordinates, so any order works there as long as points and
//!   reference agree. They are the k-dimensional [`Front`],
//!   [`default_reference_k`] and [`hypervolume`] applied to `[cost, ppl]`
//!   vectors, and give bit for bit the same numbers.

use std::cmp::Ordering;

/// Whether `a` Pareto-dominates `b`: no worse in every objective and strictly
/// better in at least one. Vectors of different lengths, or containing a NaN,
/// never dominate (a NaN makes every comparison false).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut strictly_better = false;
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => strictly_better = true,
            Some(Ordering::Equal) => {}
            // Worse, or incomparable because of a NaN: no domination.
            _ => return false,
        }
    }
    strictly_better
}

fn is_finite_point(p: &[f64]) -> bool {
    !p.is_empty() && p.iter().all(|v| v.is_finite())
}

/// Sorts points into Pareto fronts, as in NSGA-II (Deb et al. 2002): front 0
/// is the set of non-dominated points, front 1 is non-dominated once front 0
/// is removed, and so on. Works for any number of objectives (2 or more; a
/// single objective also works and yields ties-grouped ranks).
///
/// Returns indices into `points`; each front lists its indices in ascending
/// order. Points with any non-finite value, or whose length differs from the
/// first finite point's, appear in no front. Exact duplicates share a front.
///
/// O(M N^2) time, which is fine for the few thousand trials of a study.
pub fn non_dominated_sort(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let dim = points.iter().find(|p| is_finite_point(p)).map(|p| p.len());
    let Some(dim) = dim else {
        return Vec::new();
    };
    let valid: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].len() == dim && is_finite_point(&points[i]))
        .collect();

    // dominated_by_count[k]: how many valid points dominate valid[k];
    // dominates_list[k]: positions (in `valid`) that valid[k] dominates.
    let n = valid.len();
    let mut dominated_by_count = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for a in 0..n {
        for b in (a + 1)..n {
            let (pa, pb) = (&points[valid[a]], &points[valid[b]]);
            if dominates(pa, pb) {
                dominates_list[a].push(b);
                dominated_by_count[b] += 1;
            } else if dominates(pb, pa) {
                dominates_list[b].push(a);
                dominated_by_count[a] += 1;
            }
        }
    }

    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&k| dominated_by_count[k] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &k in &current {
            for &j in &dominates_list[k] {
                dominated_by_count[j] -= 1;
                if dominated_by_count[j] == 0 {
                    next.push(j);
                }
            }
        }
        let mut front: Vec<usize> = current.iter().map(|&k| valid[k]).collect();
        front.sort_unstable();
        fronts.push(front);
        current = next;
    }
    fronts
}

/// NSGA-II crowding distance of each member of `front` (indices into
/// `points`); the result is aligned with `front`.
///
/// For each objective the front is ordered by that objective; the two
/// boundary members get `f64::INFINITY`, interior members add the gap between
/// their neighbours normalised by the objective's range on this front.
/// An objective with zero range on the front adds nothing (there is no spread
/// to reward). Fronts of one or two members are all boundary: all infinite.
pub fn crowding_distance(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    let mut distance = vec![0.0; n];
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let dim = points[front[0]].len();
    let mut order: Vec<usize> = (0..n).collect();
    for column in (0..dim).map(|m| front.iter().map(|&i| points[i][m]).collect::<Vec<f64>>()) {
        // Ties broken by position so the result is deterministic.
        order.sort_by(|&a, &b| column[a].total_cmp(&column[b]).then(a.cmp(&b)));
        let (lo, hi) = (column[order[0]], column[order[n - 1]]);
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        let range = hi - lo;
        if range <= 0.0 || !range.is_finite() {
            continue;
        }
        for w in order.windows(3) {
            distance[w[1]] += (column[w[2]] - column[w[0]]) / range;
        }
    }
    distance
}

/// Exact hypervolume of a set of 2-D points (both coordinates minimised):
/// the area of the region dominated by at least one point and bounded above
/// by `reference`.
///
/// Points that are not strictly better than the reference in both
/// coordinates, and non-finite points, contribute nothing. Dominated points
/// and duplicates are harmless (they add no area). A non-finite reference
/// gives NaN: an unbounded area is not a useful number to compare.
pub fn hypervolume_2d(points: &[(f64, f64)], reference: (f64, f64)) -> f64 {
    let (rx, ry) = reference;
    if !rx.is_finite() || !ry.is_finite() {
        return f64::NAN;
    }
    let mut inside: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| x.is_finite() && y.is_finite() && x < rx && y < ry)
        .collect();
    inside.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    sweep_area(&inside, reference)
}

/// The area dominated by `sorted` (points strictly inside the reference,
/// sorted by x, then y) up to `(rx, ry)`.
///
/// Sweep in increasing x: each point that improves on the best y so far adds
/// the horizontal slab between its y and that best y, reaching from its x to
/// the reference. Points that do not improve (dominated, duplicates) add
/// nothing.
fn sweep_area(sorted: &[(f64, f64)], (rx, ry): (f64, f64)) -> f64 {
    let mut area = 0.0;
    let mut best_y = ry;
    for &(x, y) in sorted {
        if y < best_y {
            area += (rx - x) * (best_y - y);
            best_y = y;
        }
    }
    area
}

/// Exact hypervolume of a set of 3-D points (all coordinates minimised): the
/// volume of the region dominated by at least one point and bounded above by
/// `reference`.
///
/// As in [`hypervolume_2d`]: points that are not strictly better than the
/// reference in all three coordinates, and points with a non-finite value,
/// contribute nothing; dominated points and duplicates add no volume; a
/// non-finite reference gives NaN.
///
/// The third coordinate is swept in increasing order. Between two
/// consecutive distinct values of it the dominated region has a constant
/// cross-section, the 2-D dominated area of the points seen so far, so the
/// volume is a sum of slabs, area times thickness. The cross-section's
/// non-dominated set is kept sorted as the sweep goes, so each slab costs
/// O(n): O(n^2) overall.
pub fn hypervolume_3d(points: &[[f64; 3]], reference: [f64; 3]) -> f64 {
    let [rx, ry, rz] = reference;
    if !reference.iter().all(|r| r.is_finite()) {
        return f64::NAN;
    }
    let mut inside: Vec<[f64; 3]> = points
        .iter()
        .copied()
        .filter(|p| p.iter().all(|v| v.is_finite()) && p[0] < rx && p[1] < ry && p[2] < rz)
        .collect();
    inside.sort_by(|a, b| a[2].total_cmp(&b[2]));
    // The (x, y) staircase of the points swept so far: x increasing, y
    // strictly decreasing, nothing in it dominated by anything swept.
    let mut section: Vec<(f64, f64)> = Vec::new();
    let mut volume = 0.0;
    for (k, p) in inside.iter().enumerate() {
        insert_non_dominated(&mut section, (p[0], p[1]));
        let next_z = inside.get(k + 1).map_or(rz, |q| q[2]);
        // Points sharing this z all join the section before its slab counts.
        if next_z > p[2] {
            volume += sweep_area(&section, (rx, ry)) * (next_z - p[2]);
        }
    }
    volume
}

/// Adds `p` to the 2-D staircase `section` (sorted by x, then y; no member
/// weakly dominated by another) unless a member weakly dominates it, and
/// drops the members it dominates.
fn insert_non_dominated(section: &mut Vec<(f64, f64)>, p: (f64, f64)) {
    let lexical = |a: &(f64, f64)| a.0.total_cmp(&p.0).then(a.1.total_cmp(&p.1));
    let at = section.partition_point(|a| lexical(a) == Ordering::Less);
    // The member before `at` has x <= p.x (and y <= p.y when x is equal): if
    // its y is no worse, it dominates p, or equals it.
    if at > 0 && section[at - 1].1 <= p.1 {
        return;
    }
    // Members from `at` on have x >= p.x; those with y >= p.y are dominated by
    // p (or equal it), and on a staircase they are consecutive.
    let end = at + section[at..].iter().take_while(|a| a.1 >= p.1).count();
    section.splice(at..end, [p]);
}

/// Exact hypervolume of objective vectors of 2 or 3 coordinates (all
/// minimised; negate a maximised one) against `reference`, which has the
/// same length as every point.
///
/// `None` when the reference has any other length than 2 or 3, or a point's
/// length differs from the reference's: that is a caller's mistake, not a
/// zero. Otherwise the rules of [`hypervolume_2d`] and [`hypervolume_3d`]
/// apply (points outside the reference or non-finite add nothing, a
/// non-finite reference gives NaN); in two dimensions the value is exactly
/// `hypervolume_2d` of the `(v[0], v[1])` pairs.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> Option<f64> {
    if points.iter().any(|p| p.len() != reference.len()) {
        return None;
    }
    match *reference {
        [rx, ry] => {
            let pairs: Vec<(f64, f64)> = points.iter().map(|p| (p[0], p[1])).collect();
            Some(hypervolume_2d(&pairs, (rx, ry)))
        }
        [rx, ry, rz] => {
            let triples: Vec<[f64; 3]> = points.iter().map(|p| [p[0], p[1], p[2]]).collect();
            Some(hypervolume_3d(&triples, [rx, ry, rz]))
        }
        _ => None,
    }
}

/// Fraction of an objective's range added beyond its worst value to form the
/// default reference point.
pub const REFERENCE_MARGIN: f64 = 0.1;

/// The default hypervolume reference point for `(cost, ppl)` points: in each
/// coordinate, the worst (largest) finite value plus 10% of that coordinate's
/// range (`worst + 0.1 * (worst - best)`). When the range is zero (one point,
/// or all equal) the margin is 10% of `|worst|`, or 1.0 if the worst is 0.
///
/// The margin makes the extreme points of the front contribute area instead of
/// sitting on the boundary. The rule depends on the data, so hypervolumes of
/// two studies are comparable only when computed against one shared reference:
/// print the reference with the value and let users pass their own.
///
/// With no finite point at all, returns `(0.0, 0.0)`; the hypervolume of an
/// empty set is 0 against any reference.
///
/// The same as [`default_reference_k`] over `[cost, ppl]` vectors.
pub fn default_reference(points: &[(f64, f64)]) -> (f64, f64) {
    let vectors: Vec<Vec<f64>> = points.iter().map(|&(x, y)| vec![x, y]).collect();
    let reference = default_reference_k(&vectors, 2);
    (reference[0], reference[1])
}

/// The default hypervolume reference point for objective vectors of length
/// `dim`, by the rule of [`default_reference`] applied to each objective on
/// its own: the worst (largest) value over the finite points plus 10% of the
/// objective's range, or 10% of `|worst|` (1.0 if the worst is 0) when the
/// range is zero.
///
/// Only points of length `dim` with every value finite count. For a
/// maximised objective passed negated, "largest" is the negated worst, so the
/// reference lies beyond the worst recall, as it should. With no such point
/// the reference is all zeros.
pub fn default_reference_k(points: &[Vec<f64>], dim: usize) -> Vec<f64> {
    let finite: Vec<&Vec<f64>> = points
        .iter()
        .filter(|p| p.len() == dim && is_finite_point(p))
        .collect();
    if finite.is_empty() {
        return vec![0.0; dim];
    }
    (0..dim)
        .map(|m| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in &finite {
                lo = lo.min(p[m]);
                hi = hi.max(p[m]);
            }
            let range = hi - lo;
            let margin = if range > 0.0 {
                REFERENCE_MARGIN * range
            } else if hi != 0.0 {
                REFERENCE_MARGIN * hi.abs()
            } else {
                1.0
            };
            hi + margin
        })
        .collect()
}

/// Expands a 2-D front of `(cost, ppl)` points into the vertices of its step
/// line for drawing (plotters has no step series): sorted by cost, each point
/// is joined to the next by a horizontal segment at its own perplexity and a
/// vertical drop at the next point's cost. This is the boundary of the region
/// the front dominates.
///
/// Input need not be sorted. Non-finite points are dropped, and so are points
/// dominated by (or duplicating) another input point, so the line is always
/// a monotone staircase: cost increasing, perplexity decreasing.
pub fn front_staircase(front: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = front
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len() * 2);
    let mut best_y = f64::INFINITY;
    for (x, y) in pts {
        if y >= best_y {
            continue; // dominated by (or equal to) a cheaper point already kept
        }
        if let Some(&(_, prev_y)) = out.last() {
            out.push((x, prev_y));
        }
        out.push((x, y));
        best_y = y;
    }
    out
}

/// One member of a [`Front`]: a trial's id and its objective vector.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMemberK<Id> {
    pub id: Id,
    pub objectives: Vec<f64>,
}

/// The Pareto front of a study's trials over any number of objectives (all
/// minimised: negate a maximised one), with its hypervolume and the
/// reference point it was measured against.
#[derive(Debug, Clone, PartialEq)]
pub struct Front<Id> {
    /// Front members sorted by their objective vectors, compared
    /// lexicographically (first objective, then the second, ...); exact
    /// duplicates are all kept, in input order.
    pub members: Vec<FrontMemberK<Id>>,
    /// Reference point used for the hypervolume, one value per objective.
    pub reference: Vec<f64>,
    /// Volume dominated by the front, in units of the product of the
    /// objectives. 0 for an empty front; NaN when it is not defined: a
    /// dimension other than 2 or 3, a reference of another length than the
    /// trials' vectors, or a non-finite reference.
    pub hypervolume: f64,
    /// Trials left out because a value was not finite or their vector had
    /// another length than the study's.
    pub excluded: usize,
}

impl<Id: Clone + PartialEq> Front<Id> {
    /// Computes the front of `trials`, given as `(id, objectives)`.
    ///
    /// The study's dimension is the length of the first finite trial's vector
    /// (as in [`non_dominated_sort`]), or of the first trial's when none is
    /// finite, or 0 with no trials at all (then the default reference is
    /// empty). With `reference = None` the reference is
    /// [`default_reference_k`] over all finite trials (not only the front);
    /// pass one to compare studies against a shared reference (or use
    /// [`Front::compare`]).
    pub fn compute(trials: &[(Id, Vec<f64>)], reference: Option<Vec<f64>>) -> Self {
        let vectors: Vec<Vec<f64>> = trials.iter().map(|t| t.1.clone()).collect();
        let dim = dimension(&vectors);
        let excluded = vectors
            .iter()
            .filter(|v| v.len() != dim || !is_finite_point(v))
            .count();
        let front = non_dominated_sort(&vectors)
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut members: Vec<FrontMemberK<Id>> = front
            .iter()
            .map(|&i| FrontMemberK {
                id: trials[i].0.clone(),
                objectives: trials[i].1.clone(),
            })
            .collect();
        // Stable sort: duplicates keep their input order.
        members.sort_by(|a, b| lexical(&a.objectives, &b.objectives));

        let reference = reference.unwrap_or_else(|| default_reference_k(&vectors, dim));
        let hypervolume = if members.is_empty() {
            0.0
        } else {
            let front_vectors: Vec<Vec<f64>> =
                members.iter().map(|m| m.objectives.clone()).collect();
            hypervolume(&front_vectors, &reference).unwrap_or(f64::NAN)
        };
        Front {
            members,
            reference,
            hypervolume,
            excluded,
        }
    }

    /// The fronts of several studies, each given as `(id, objectives)`
    /// trials, measured against one reference point so that their
    /// hypervolumes compare: `reference`, or [`default_reference_k`] over
    /// every study's trials (the dimension taken as in [`Front::compute`],
    /// over all trials in order).
    pub fn compare(
        studies: &[Vec<(Id, Vec<f64>)>],
        reference: Option<Vec<f64>>,
    ) -> (Vec<f64>, Vec<Front<Id>>) {
        let reference = reference.unwrap_or_else(|| {
            let all: Vec<Vec<f64>> = studies.iter().flatten().map(|t| t.1.clone()).collect();
            default_reference_k(&all, dimension(&all))
        });
        let fronts = studies
            .iter()
            .map(|trials| Front::compute(trials, Some(reference.clone())))
            .collect();
        (reference, fronts)
    }

    /// The ids on the front, in the order of [`Front::members`].
    pub fn ids(&self) -> Vec<Id> {
        self.members.iter().map(|m| m.id.clone()).collect()
    }

    /// Whether `id` is on the front.
    pub fn contains(&self, id: &Id) -> bool {
        self.members.iter().any(|m| &m.id == id)
    }
}

/// The dimension of a study's vectors: the first finite one's length, else
/// the first one's, else 0.
fn dimension(vectors: &[Vec<f64>]) -> usize {
    vectors
        .iter()
        .find(|v| is_finite_point(v))
        .or(vectors.first())
        .map_or(0, Vec::len)
}

/// Lexicographic order of objective vectors (a shorter prefix first).
fn lexical(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(a.len().cmp(&b.len()))
}

/// One member of a [`StudyFront`].
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMember<Id> {
    pub id: Id,
    pub ppl: f64,
    pub cost: f64,
}

/// The 2-D Pareto front (perplexity against one cost) of a study's trials,
/// with its hypervolume and the reference point it was measured against.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyFront<Id> {
    /// Front members sorted by cost ascending (then perplexity, then input
    /// order). Exact duplicates are all kept.
    pub members: Vec<FrontMember<Id>>,
    /// Reference cost (x) used for the hypervolume.
    pub reference_cost: f64,
    /// Reference perplexity (y) used for the hypervolume.
    pub reference_ppl: f64,
    /// Area dominated by the front, in units of cost x perplexity.
    pub hypervolume: f64,
    /// Trials left out because a value was not finite.
    pub excluded: usize,
}

impl<Id: Clone + PartialEq> StudyFront<Id> {
    /// Computes the front of `trials`, given as `(id, ppl, cost)`. With
    /// `reference = None` the reference is [`default_reference`] over all
    /// finite trials (not only the front); pass `Some((cost, ppl))` to
    /// compare studies against one shared reference.
    ///
    /// This is [`Front::compute`] over `[cost, ppl]` vectors, whose
    /// lexicographic member order is the cost-then-perplexity order here.
    pub fn compute(trials: &[(Id, f64, f64)], reference: Option<(f64, f64)>) -> Self {
        let (reference_cost, reference_ppl) = reference.unwrap_or_else(|| {
            let xy: Vec<(f64, f64)> = trials.iter().map(|t| (t.2, t.1)).collect();
            default_reference(&xy)
        });
        let front = Front::compute(
            &cost_ppl_vectors(trials),
            Some(vec![reference_cost, reference_ppl]),
        );
        StudyFront {
            members: front
                .members
                .into_iter()
                .map(|m| FrontMember {
                    id: m.id,
                    ppl: m.objectives[1],
                    cost: m.objectives[0],
                })
                .collect(),
            reference_cost,
            reference_ppl,
            hypervolume: front.hypervolume,
            excluded: front.excluded,
        }
    }

    /// The ids on the front, sorted by cost.
    pub fn ids(&self) -> Vec<Id> {
        self.members.iter().map(|m| m.id.clone()).collect()
    }

    /// Whether `id` is on the front.
    pub fn contains(&self, id: &Id) -> bool {
        self.members.iter().any(|m| &m.id == id)
    }

    /// The reference point as `(cost, ppl)`, the order [`crate::plot`] uses.
    pub fn reference(&self) -> (f64, f64) {
        (self.reference_cost, self.reference_ppl)
    }

    /// The front's step line, ready for drawing.
    pub fn staircase(&self) -> Vec<(f64, f64)> {
        let xy: Vec<(f64, f64)> = self.members.iter().map(|m| (m.cost, m.ppl)).collect();
        front_staircase(&xy)
    }
}

/// `(id, ppl, cost)` trials as `(id, [cost, ppl])`, the order of the 2-D
/// helpers.
fn cost_ppl_vectors<Id: Clone>(trials: &[(Id, f64, f64)]) -> Vec<(Id, Vec<f64>)> {
    trials
        .iter()
        .map(|(id, ppl, cost)| (id.clone(), vec![*cost, *ppl]))
        .collect()
}

/// The fronts of several studies, each given as `(id, ppl, cost)` trials,
/// measured against one reference point so that their hypervolumes compare:
/// `reference`, or [`default_reference`] over every study's trials.
pub fn compare<Id: Clone + PartialEq>(
    studies: &[Vec<(Id, f64, f64)>],
    reference: Option<(f64, f64)>,
) -> ((f64, f64), Vec<StudyFront<Id>>) {
    let reference = reference.unwrap_or_else(|| {
        let all: Vec<(f64, f64)> = studies
            .iter()
            .flatten()
            .map(|&(_, ppl, cost)| (cost, ppl))
            .collect();
        default_reference(&all)
    });
    let fronts = studies
        .iter()
        .map(|trials| StudyFront::compute(trials, Some(reference)))
        .collect();
    (reference, fronts)
}
