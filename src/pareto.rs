//! Pareto analysis of trials: non-dominated sorting, crowding distance and
//! 2-D hypervolume. Data only; drawing lives in [`crate::plot`].
//!
//! Conventions used throughout:
//!
//! - Every objective is **minimised** (perplexity, FLOPs, parameters, bytes,
//!   latency).
//! - An objective vector is a `&[f64]`, perplexity first, then one or more
//!   costs. Vectors with any non-finite value (a failed or diverged trial)
//!   are never on any front: NaN compares false with everything, so letting
//!   it in would silently make such a trial non-dominated.
//! - **Ties:** two identical vectors do not dominate each other, so exact
//!   duplicates (the same architecture evaluated twice with the same result,
//!   or two designs that happen to score the same) share a front. Nothing is
//!   dropped or arbitrarily preferred; callers that want one representative
//!   deduplicate by id first.
//! - The 2-D helpers ([`hypervolume_2d`], [`default_reference`],
//!   [`front_staircase`]) take `(cost, ppl)` pairs, i.e. `(x, y)` as in the
//!   figure. Hypervolume is symmetric in the two coordinates, so any order
//!   works there as long as points and reference agree.

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
    // Sweep in increasing x: each point that improves on the best y so far
    // adds the horizontal slab between its y and that best y, reaching from
    // its x to the reference.
    let mut area = 0.0;
    let mut best_y = ry;
    for (x, y) in inside {
        if y < best_y {
            area += (rx - x) * (best_y - y);
            best_y = y;
        }
    }
    area
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
pub fn default_reference(points: &[(f64, f64)]) -> (f64, f64) {
    let finite = || {
        points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    if finite().next().is_none() {
        return (0.0, 0.0);
    }
    let bound = |values: &mut dyn Iterator<Item = f64>| {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            lo = lo.min(v);
            hi = hi.max(v);
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
    };
    (
        bound(&mut finite().map(|p| p.0)),
        bound(&mut finite().map(|p| p.1)),
    )
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
    pub fn compute(trials: &[(Id, f64, f64)], reference: Option<(f64, f64)>) -> Self {
        let vectors: Vec<Vec<f64>> = trials.iter().map(|t| vec![t.1, t.2]).collect();
        let excluded = vectors.iter().filter(|v| !is_finite_point(v)).count();
        let front = non_dominated_sort(&vectors)
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut members: Vec<FrontMember<Id>> = front
            .iter()
            .map(|&i| FrontMember {
                id: trials[i].0.clone(),
                ppl: trials[i].1,
                cost: trials[i].2,
            })
            .collect();
        // Stable sort: duplicates keep their input order.
        members.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.ppl.total_cmp(&b.ppl)));

        let xy: Vec<(f64, f64)> = trials.iter().map(|t| (t.2, t.1)).collect();
        let (reference_cost, reference_ppl) = reference.unwrap_or_else(|| default_reference(&xy));
        let front_xy: Vec<(f64, f64)> = members.iter().map(|m| (m.cost, m.ppl)).collect();
        let hypervolume = if members.is_empty() {
            0.0
        } else {
            hypervolume_2d(&front_xy, (reference_cost, reference_ppl))
        };
        StudyFront {
            members,
            reference_cost,
            reference_ppl,
            hypervolume,
            excluded,
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
