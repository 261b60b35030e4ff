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

/// A label that found room: its text goes at `at`.
pub(super) struct Placed {
    pub(super) text: String,
    pub(super) at: Boxf,
    pub(super) color: RGBColor,
    /// The point, when the label sits far enough away to need a leader line.
    pub(super) leader_to: Option<(f64, f64)>,
    /// Whether the label lies across a step line.
    pub(super) crosses: bool,
}

/// Greedy placement: each label takes a candidate position that stays in the
/// plot and covers no marker, no other label and not the legend. Candidates
/// lie on two rings around the point, the lower-left side first (a min-min
/// front leaves it empty of its own points; with `flip`, for a front whose y
/// is maximised, the upper-left side, every candidate mirrored top to
/// bottom); the cheapest wins, counting one per step line crossed and two
/// for the outer ring (which gets a leader line), ties going to the earlier
/// candidate. Labels with nowhere to go are dropped rather than drawn over
/// data.
fn place_labels(
    requests: &[LabelRequest],
    markers: &[Boxf],
    lines: &[Boxf],
    legend: &Boxf,
    plot: &Boxf,
    flip: bool,
) -> (Vec<Placed>, usize) {
    let mut placed: Vec<Placed> = Vec::new();
    let mut dropped = 0;
    for r in requests {
        let (w, h) = r.size;
        let d = FRONT_RADIUS as f64 + 3.0;
        let mut candidates = Vec::new();
        for reach in [1.0, 2.2] {
            let e = d * reach;
            let s = d * 0.6 * reach;
            // (x0, y0) of the label box: lower-left, left, below, upper-left,
            // lower-right, right, above, upper-right.
            candidates.extend([
                (r.px - s - w, r.py + s),
                (r.px - e - w, r.py - h / 2.0),
                (r.px - w / 2.0, r.py + e),
                (r.px - s - w, r.py - s - h),
                (r.px + s, r.py + s),
                (r.px + e, r.py - h / 2.0),
                (r.px - w / 2.0, r.py - e - h),
                (r.px + s, r.py - s - h),
            ]);
        }
        if flip {
            for c in &mut candidates {
                c.1 = 2.0 * r.py - c.1 - h;
            }
        }
        let per_ring = candidates.len() / 2;
        let mut best: Option<(usize, Boxf, bool, bool)> = None;
        for (k, (x0, y0)) in candidates.into_iter().enumerate() {
            let far = k >= per_ring;
            let b = Boxf {
                x0,
                y0,
                x1: x0 + w,
                y1: y0 + h,
            };
            let padded = b.grow(2.0);
            if !b.inside(plot)
                || padded.overlaps(legend)
                || markers.iter().any(|m| padded.overlaps(m))
                || placed.iter().any(|p| padded.overlaps(&p.at))
            {
                continue;
            }
            let crossed = lines.iter().filter(|l| padded.overlaps(l)).count();
            let cost = crossed + 2 * usize::from(far);
            if best.is_none_or(|(c, _, _, _)| cost < c) {
                best = Some((cost, b, far, crossed > 0));
            }
            if cost == 0 {
                break;
            }
        }
        match best {
            Some((_, at, far, crosses)) => placed.push(Placed {
                text: r.text.clone(),
                at,
                color: r.color,
                leader_to: far.then_some((r.px, r.py)),
                crosses,
            }),
            None => dropped += 1,
        }
    }
    (placed, dropped)
}

/// Places the legend, of `size` pixels, and the point labels around it: the
/// legend spot is chosen together with the labels it leaves room for.
/// `flip` (a maximised y) mirrors the preferences top to bottom.
pub(super) fn place_legend_and_labels(
    size: (f64, f64),
    requests: &[LabelRequest],
    markers: &[Boxf],
    lines: &[Boxf],
    plot: &Boxf,
    flip: bool,
) -> (Boxf, Vec<Placed>) {
    let (legend_w, legend_h) = size;
    // Legend position: try the corners and edge midpoints of the plot; the
    // one covering the fewest markers, then costing the fewest labels, then
    // crossing the fewest lines wins (ties: the order below, lower left first
    // because a min-min front leaves that corner empty; upper left first,
    // mirrored, with `flip`).
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
    // (markers covered, labels dropped, lines crossed), legend box, labels.
    type Choice = ((usize, usize, usize), Boxf, Vec<Placed>);
    let mut best: Option<Choice> = None;
    for (x0, y0) in spots {
        let legend = Boxf {
            x0,
            y0,
            x1: x0 + legend_w,
            y1: y0 + legend_h,
        };
        let covered = markers.iter().filter(|m| m.overlaps(&legend)).count();
        let crossed = lines.iter().filter(|l| l.overlaps(&legend)).count();
        let (labels, dropped) = place_labels(requests, markers, lines, &legend, plot, flip);
        let score = (covered, dropped, crossed);
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, legend, labels));
        }
    }
    let (_, legend, labels) = best.expect("at least one legend spot");
    (legend, labels)
}
