//! Figures (PNG or SVG) with plotters: the Pareto front of one or more
//! studies ([`draw`]) and the α trajectories of a DARTS study
//! ([`draw_alphas`]). Drawing only: which points are on the front, the
//! hypervolume and the reference point come from [`crate::pareto`] via the
//! caller.
//!
//! Text is rendered with DejaVu Sans embedded in the binary (see
//! `assets/DejaVuSans-LICENSE.txt`), registered through plotters' `ab_glyph`
//! feature, so figures render on machines with no system fonts: the default
//! `ttf` feature would need fontconfig/freetype, and bitmap text without any
//! font feature panics.
//!
//! In the Pareto figure every data point is drawn as exactly one circle
//! (filled: on the front; hollow: dominated), and nothing else in the figure
//! is a circle, so an SVG consumer can count `<circle>` elements to count
//! points. Points with a non-finite cost or perplexity are not drawn.
//!
//! Inside: `figure` writes any figure as PNG or SVG, with `font` for the
//! text and `raster` for the PNG's glyphs and circles; `axis`, `number` and
//! `label` turn values into ticks and text; `placement` finds room for point
//! labels and the legend; `pareto` (with its `legend`) and `alpha` are the
//! two figures, coloured from `palette`.

mod alpha;
mod axis;
mod figure;
mod font;
mod label;
mod legend;
mod number;
mod palette;
mod pareto;
mod placement;
mod raster;

use std::path::PathBuf;

pub use alpha::{draw_alphas, AlphaSeries};
pub use number::compact_number;
pub use pareto::draw;

/// One trial in the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    pub cost: f64,
    pub ppl: f64,
    /// Short architecture, e.g. "d64 S16 A4 S16"; shown next to front points.
    pub label: String,
    pub on_front: bool,
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

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
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

/// Pareto figure size in pixels (3:2). Font sizes and margins are tuned for
/// it; the SVG has the same size as its viewBox and scales freely.
pub const SIZE: (u32, u32) = (1200, 800);
