//! Figures (PNG or SVG) with plotters: the Pareto front of one or more
//! studies ([`draw`]), the α trajectories of a DARTS study
//! ([`draw_alphas`]), the sequence-length sweep of `nas bench`
//! ([`draw_sweep`]) and the proxy-fidelity scatter of `nas fidelity`
//! ([`draw_fidelity`]). Drawing only: which points are on the front, the
//! hypervolume and the reference point come from [`crate::pareto`] via the
//! caller.
//!
//! A figure is PNG or SVG as its file name says ([`Format`]); any other
//! name is refused before anything is drawn.
//!
//! Text is drawn from DejaVu Sans embedded in the binary (see
//! `assets/DejaVuSans-LICENSE.txt`), by our own backends, so figures need no
//! font on the machine that writes them nor on the one that shows them: the
//! PNG's glyphs are rasterised from the font, and the SVG's are filled
//! `<path>`s of the font's outlines (no `<text>` element, no `font-family`),
//! each with its text in an `aria-label`. Both lay text out alike, so a
//! figure looks the same in either format.
//!
//! In the Pareto figure every data point is drawn as exactly one circle
//! (filled: on the front; hollow: dominated), and nothing else in the figure
//! is a circle, so an SVG consumer can count `<circle>` elements to count
//! points. Points with a non-finite cost or perplexity are not drawn.
//!
//! Every front point is labelled with its architecture, runs written as
//! `S16×3` (which `--arch` reads back), never cut. A label that finds no room
//! beside its point is not dropped: the point gets a small number, and the
//! key under the plot lists "1  <label>".
//!
//! [`draw_with`] adds two options ([`PlotOptions`]): markers shaded by a
//! value in [0, 1] on a perceptual colour scale, with a colour bar beside the
//! plot (every marker then filled, front points ringed in their study's
//! colour, the ring a polygon, so still one circle per point); and a
//! maximised y axis, such as recall accuracy against cost, whose front runs
//! from lower left to upper right. Without them it draws exactly what
//! [`draw`] draws.
//!
//! Inside: `figure` writes any figure in its `format`, with `font` and
//! `glyphs` for the text, `raster` for the PNG's glyphs and circles and
//! `vector` for the SVG's glyphs; `axis` and `number` turn values into ticks
//! and text; `placement` finds room for point labels and the legend, laid
//! out first on the `dry` backend to size the `key`; `pareto` (with its
//! `legend`, `marker` and `colour_bar`) and `alpha` are the two figures,
//! coloured from `palette` and, for shaded markers, `colour_scale`.

// First: its macro serves the backends declared below.
#[macro_use]
mod forward;

mod alpha;
mod axis;
mod colour_bar;
mod colour_scale;
mod curves;
mod dry;
mod fidelity;
mod figure;
mod font;
mod format;
mod glyphs;
mod key;
mod legend;
mod marker;
mod number;
mod palette;
mod pareto;
mod placement;
mod raster;
mod sweep;
mod vector;

use std::path::PathBuf;

pub use alpha::{draw_alphas, AlphaSeries};
pub use curves::{draw_curves, CurveLine};
pub use fidelity::{draw_fidelity, FidelityPoint, FidelityText};
pub use format::Format;
pub use number::compact_number;
pub use pareto::{draw, draw_with};
pub use sweep::{draw_sweep, SweepSeries};

/// One trial in the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    pub cost: f64,
    /// The y value: validation perplexity, or whatever the figure's y axis
    /// shows (e.g. recall accuracy with [`PlotOptions::y_maximised`]).
    pub ppl: f64,
    /// Short architecture, e.g. "d64 S16 A4 S16"; shown next to front points
    /// (or in the key), runs written as `S16×3`.
    pub label: String,
    pub on_front: bool,
    /// ± this around `ppl` is drawn as a vertical error bar: the sample sd
    /// over a design's seeds when the point is its mean (`None`: no bar).
    pub y_sd: Option<f64>,
}

/// One study: its trials and the hypervolume of its front (shown in the
/// legend; compute all series against one reference so they compare).
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSeries {
    pub study: String,
    pub points: Vec<PlotPoint>,
    pub hypervolume: f64,
}

/// What to draw around the data.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSpec {
    pub title: String,
    /// Cost axis title with units, e.g. "FLOPs per token (forward)".
    pub x_label: String,
    /// E.g. "validation perplexity".
    pub y_label: String,
    /// Log-scale cost axis. `None`: log when all costs are positive and span
    /// more than a decade (max/min > 10).
    pub log_x: Option<bool>,
    /// Hypervolume reference point as `(cost, ppl)`. When set (and finite) it
    /// is marked with a cross, each front's dominated region up to it is
    /// shaded, and it is stated in the legend.
    pub reference: Option<(f64, f64)>,
}

/// What [`draw_with`] can add to a figure. The default adds nothing:
/// [`draw`] is `draw_with` with `PlotOptions::default()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlotOptions {
    /// The y axis is maximised ("lower cost, higher y is better"), as for
    /// recall accuracy against cost. Each series' front is then drawn as the
    /// step line of that sense (cost increasing, y never decreasing), closed
    /// against a reference below and to the right of the data, and point
    /// labels prefer the empty upper-left side. The caller marks
    /// [`PlotPoint::on_front`] in the same sense: a point is on the front if
    /// no other point has cost <= and y >= with one strict (for instance
    /// from [`crate::pareto::Front`] over `[cost, -y]`).
    pub y_maximised: bool,
    /// Shade every marker by a value on a colour scale, with a colour bar.
    pub shading: Option<Shading>,
}

/// Marker shades for [`PlotOptions::shading`].
#[derive(Debug, Clone, PartialEq)]
pub struct Shading {
    /// The colour bar's title, e.g. "recall accuracy".
    pub title: String,
    /// Per series (as in the `series` passed to [`draw_with`]) and per point
    /// (as in [`PlotSeries::points`]), a value in [0, 1]: 0 is the dark end
    /// of the scale, 1 the light end; values outside are clamped. A point
    /// with `None`, a NaN, or no entry at all is filled grey.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Shading {
    /// The shade of point `point` of series `series`, if it has one.
    fn value(&self, series: usize, point: usize) -> Option<f64> {
        self.values
            .get(series)
            .and_then(|v| v.get(point).copied().flatten())
            .filter(|v| !v.is_nan())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: a figure is written as PNG or SVG: name it with .png or .svg", .0.display())]
    Format(PathBuf),
    #[error("nothing to plot: no point has a finite cost and perplexity")]
    NoData,
    #[error("a log-scale cost axis needs positive costs, but the smallest cost is {0}")]
    NonPositiveLogCost(f64),
    #[error("the embedded font could not be parsed")]
    Font,
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PlotError {
    /// Whether the caller asked for something that cannot be done as asked
    /// (a file name without a figure format), rather than drawing failing.
    pub fn is_usage(&self) -> bool {
        matches!(self, PlotError::Format(_))
    }
}

/// Pareto figure size in pixels (3:2). Font sizes and margins are tuned for
/// it; the SVG has the same size as its viewBox and scales freely.
pub const SIZE: (u32, u32) = (1200, 800);
