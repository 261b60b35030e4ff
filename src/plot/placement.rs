//! Where point labels and the legend go, in pixels: greedy choices that keep
//! text off the data.

use plotters::style::RGBColor;

use super::marker::FRONT_RADIUS;

/// A box in pixels (y grows downwards): a marker, a step-line segment, a
/// label, the legend or the plot area.
#[derive(Debug, Clone, Copy)]
pub(super) struct Boxf {
    pub(super) x0: f64,
    pub(super) y0: f64,
    pub(super) x1: f64,
    pub(super) y1: f64,
}

impl Boxf {
    pub(super) fn around(x: f64, y: f64, r: f64) -> Self {
        Boxf {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }
    fn overlaps(&self, o: &Boxf) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    fn inside(&self, o: &Boxf) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
    pub(super) fn grow(&self, d: f64) -> Self {
        Boxf {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }
}

/// A front point that wants a label.
pub(super) struct LabelRequest {
    /// The point, in pixels.
    pub(super) px: f64,
    pub(super) py: f64,
    pub(super) text: String,
    /// Width and height of the text, in pixels.
    pub(super) size: (f64, f64),
    pub(super) color: RGBColor,
}

/// A label, or a key number, that found room: its text goes at `at`.
pub(super) struct Placed {
    pub(super) text: String,
    pub(super) at: Boxf,
    pub(super) color: RGBColor,
    /// The point, when the label sits far enough away to need a leader line.
    pub(super) leader_to: Option<(f64, f64)>,
    /// Whether the label lies across a step line (or, for a number that
    /// found no free spot, across anything).
    pub(super) crosses: bool,
    /// A number that stands for the label in the key.
    pub(super) is_number: bool,
}

/// A label that found no room beside its point: the point is marked with
/// `number`, and the key below the plot gives the label in full.
pub(super) struct KeyEntry {
    pub(super) number: usize,
    pub(super) text: String,
    pub(super) color: RGBColor,
}

/// Where the legend, the labels and the key numbers go.
pub(super) struct Placement {
    pub(super) legend: Boxf,
    pub(super) labels: Vec<Placed>,
    /// In the order of their numbers, 1 first.
    pub(super) key: Vec<KeyEntry>,
}

/// What a label may not cover, and what it would rather not.
struct Obstacles<'a> {
    markers: &'a [Boxf],
    lines: &'a [Boxf],
    legend: &'a Boxf,
    plot: &'a Boxf,
}

/// A spot for a box: its cost, the box, whether it is on the outer ring and
/// whether it crosses something.
type Spot = (usize, Boxf, bool, bool);

/// The cheapest spot for a `size` box beside point `(px, py)`. Candidates
/// lie on two rings around the point, the lower-left side first (a min-min
/// front leaves it empty of its own points; with `flip`, for a front whose y
/// is maximised, the upper-left side, every candidate mirrored top to
/// bottom), each costing one per step line crossed and two for the outer
/// ring (which gets a leader line), ties going to the earlier candidate. A
/// spot must stay in the plot; with `strict` it must also cover no marker,
/// no placed label and not the legend, and without it each of those costs
/// ten instead.
fn best_spot(
    (px, py): (f64, f64),
    (w, h): (f64, f64),
    obstacles: &Obstacles,
    placed: &[Placed],
    flip: bool,
    strict: bool,
) -> Option<Spot> {
    let d = FRONT_RADIUS as f64 + 3.0;
    let mut candidates = Vec::new();
    for reach in [1.0, 2.2] {
        let e = d * reach;
        let s = d * 0.6 * reach;
        // (x0, y0) of the label box: lower-left, left, below, upper-left,
        // lower-right, right, above, upper-right.
        candidates.extend([
            (px - s - w, py + s),
            (px - e - w, py - h / 2.0),
            (px - w / 2.0, py + e),
            (px - s - w, py - s - h),
            (px + s, py + s),
            (px + e, py - h / 2.0),
            (px - w / 2.0, py - e - h),
            (px + s, py - s - h),
        ]);
    }
    if flip {
        for c in &mut candidates {
            c.1 = 2.0 * py - c.1 - h;
        }
    }
    let per_ring = candidates.len() / 2;
    let mut best: Option<Spot> = None;
    for (k, (x0, y0)) in candidates.into_iter().enumerate() {
        let far = k >= per_ring;
        let b = Boxf {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        };
        if !b.inside(obstacles.plot) {
            continue;
        }
        let padded = b.grow(2.0);
        let covered = usize::from(padded.overlaps(obstacles.legend))
            + obstacles
                .markers
                .iter()
                .filter(|m| padded.overlaps(m))
                .count()
            + placed.iter().filter(|p| padded.overlaps(&p.at)).count();
        if strict && covered > 0 {
            continue;
        }
        let crossed = obstacles
            .lines
            .iter()
            .filter(|l| padded.overlaps(l))
            .count();
        let cost = crossed + 2 * usize::from(far) + 10 * covered;
        if best.is_none_or(|(c, _, _, _)| cost < c) {
            best = Some((cost, b, far, crossed + covered > 0));
        }
        if cost == 0 {
            break;
        }
    }
    best
}

/// Greedy placement, in request order: each label takes the best spot that
/// covers nothing ([`best_spot`]). A label with nowhere to go is not drawn
/// over data, nor dropped: its point gets the next number, placed beside it
/// the same way (over something if it must, with a backing), and the label
/// goes to the key. `number_sizes[k]` is the size of the text of number
/// `k + 1`.
fn place_labels(
    requests: &[LabelRequest],
    number_sizes: &[(f64, f64)],
    obstacles: &Obstacles,
    flip: bool,
) -> (Vec<Placed>, Vec<KeyEntry>) {
    let mut placed: Vec<Placed> = Vec::new();
    let mut key: Vec<KeyEntry> = Vec::new();
    for r in requests {
        let point = (r.px, r.py);
        if let Some((_, at, far, crosses)) =
            best_spot(point, r.size, obstacles, &placed, flip, true)
        {
            placed.push(Placed {
                text: r.text.clone(),
                at,
                color: r.color,
                leader_to: far.then_some(point),
                crosses,
                is_number: false,
            });
            continue;
        }
        let number = key.len() + 1;
        let size = number_sizes
            .get(number - 1)
            .copied()
            .unwrap_or((r.size.1, r.size.1));
        let spot = best_spot(point, size, obstacles, &placed, flip, true)
            .or_else(|| best_spot(point, size, obstacles, &placed, flip, false));
        // A point at the very edge of the plot has no candidate inside it:
        // its number goes to the right of the marker regardless.
        let (at, far, crosses) = match spot {
            Some((_, at, far, crosses)) => (at, far, crosses),
            None => {
                let x0 = r.px + FRONT_RADIUS as f64 + 3.0;
                let y0 = r.py - size.1 / 2.0;
                let at = Boxf {
                    x0,
                    y0,
                    x1: x0 + size.0,
                    y1: y0 + size.1,
                };
                (at, false, true)
            }
        };
        placed.push(Placed {
            text: number.to_string(),
            at,
            color: r.color,
            leader_to: far.then_some(point),
            crosses,
            is_number: true,
        });
        key.push(KeyEntry {
            number,
            text: r.text.clone(),
            color: r.color,
        });
    }
    (placed, key)
}

/// Places the legend, of `size` pixels, and the point labels around it: the
/// legend spot is chosen together with the labels it leaves room for.
/// `flip` (a maximised y) mirrors the preferences top to bottom.
pub(super) fn place_legend_and_labels(
    size: (f64, f64),
    requests: &[LabelRequest],
    number_sizes: &[(f64, f64)],
    markers: &[Boxf],
    lines: &[Boxf],
    plot: &Boxf,
    flip: bool,
) -> Placement {
    let (legend_w, legend_h) = size;
    // Legend position: try the corners and edge midpoints of the plot; the
    // one covering the fewest markers, then sending the fewest labels to the
    // key, then crossing the fewest lines wins (ties: the order below, lower
    // left first because a min-min front leaves that corner empty; upper
    // left first, mirrored, with `flip`).
    let inset = 10.0;
    let (lx0, lx1) = (plot.x0 + inset, plot.x1 - inset - legend_w);
    let (ly0, ly1) = (plot.y0 + inset, plot.y1 - inset - legend_h);
    let (lxm, lym) = ((lx0 + lx1) / 2.0, (ly0 + ly1) / 2.0);
    let mut spots = [
        (lx0, ly1),
        (lx1, ly0),
        (lx0, ly0),
        (lx1, ly1),
        (lxm, ly0),
        (lxm, ly1),
        (lx0, lym),
        (lx1, lym),
    ];
    if flip {
        for s in &mut spots {
            s.1 = ly0 + ly1 - s.1;
        }
    }
    // (markers covered, labels sent to the key, lines crossed), placement.
    let mut best: Option<((usize, usize, usize), Placement)> = None;
    for (x0, y0) in spots {
        let legend = Boxf {
            x0,
            y0,
            x1: x0 + legend_w,
            y1: y0 + legend_h,
        };
        let covered = markers.iter().filter(|m| m.overlaps(&legend)).count();
        let crossed = lines.iter().filter(|l| l.overlaps(&legend)).count();
        let obstacles = Obstacles {
            markers,
            lines,
            legend: &legend,
            plot,
        };
        let (labels, key) = place_labels(requests, number_sizes, &obstacles, flip);
        let score = (covered, key.len(), crossed);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((
                score,
                Placement {
                    legend,
                    labels,
                    key,
                },
            ));
        }
    }
    best.expect("at least one legend spot").1
}
