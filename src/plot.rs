//! Pareto-front figures (PNG or SVG) with plotters. Drawing only: which points
//! are on the front, the hypervolume and the reference point come from
//! [`crate::pareto`] via the caller.
//!
//! Text is rendered with DejaVu Sans embedded in the binary (see
//! `assets/DejaVuSans-LICENSE.txt`), registered through plotters' `ab_glyph`
//! feature, so figures render on machines with no system fonts: the default
//! `ttf` feature would need fontconfig/freetype, and bitmap text without any
//! font feature panics.
//!
//! Every data point is drawn as exactly one circle (filled: on the front;
//! hollow: dominated), and nothing else in the figure is a circle, so an SVG
//! consumer can count `<circle>` elements to count points. Points with a
//! non-finite cost or perplexity are not drawn.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::pareto::front_staircase;

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

/// Figure size in pixels (3:2). Font sizes and margins are tuned for it; the
/// SVG has the same size as its viewBox and scales freely.
pub const SIZE: (u32, u32) = (1200, 800);

static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// Registered under the generic name so that plotters' own defaults (mesh
/// labels use `FontFamily::SansSerif`) find it too, and SVG viewers fall back
/// to their own sans-serif.
const FONT: &str = "sans-serif";

const TITLE_SIZE: f64 = 30.0;
const AXIS_TITLE_SIZE: f64 = 24.0;
const TICK_SIZE: f64 = 20.0;
const LEGEND_SIZE: f64 = 20.0;
const NOTE_SIZE: f64 = 17.0;
const POINT_LABEL_SIZE: f64 = 17.0;
const FRONT_RADIUS: i32 = 6;
const DOMINATED_RADIUS: i32 = 5;
/// Longest point label, in characters, after run-length compression.
const MAX_LABEL_CHARS: usize = 30;

/// Okabe-Ito palette (colour-blind safe), without its yellow, which is
/// unreadable on white.
pub(crate) const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// Draws the figure to `path`: SVG when the extension is `.svg` (any case),
/// PNG otherwise. The file is written only once drawing has succeeded.
pub fn draw(path: &Path, series: &[PlotSeries], spec: &PlotSpec) -> Result<(), PlotError> {
    ensure_font()?;
    let layout = Layout::new(series, spec)?;
    write_figure(
        path,
        SIZE,
        &FrontFigure {
            series,
            spec,
            layout: &layout,
        },
    )
}

/// Something drawn on a root area of any backend (SVG or the raster one).
pub(crate) trait Figure {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

struct FrontFigure<'a> {
    series: &'a [PlotSeries],
    spec: &'a PlotSpec,
    layout: &'a Layout,
}

impl Figure for FrontFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        render(root, self.series, self.spec, self.layout)
    }
}

/// Renders `figure` at `size` pixels into `path`: SVG when the extension is
/// `.svg` (any case), PNG otherwise, with the embedded font. The file is
/// written only once drawing has succeeded.
pub(crate) fn write_figure(
    path: &Path,
    size: (u32, u32),
    figure: &impl Figure,
) -> Result<(), PlotError> {
    ensure_font()?;
    let is_svg = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let io_err = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    if is_svg {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            figure.render(&root)?;
            root.present().map_err(draw_err)?;
        }
        std::fs::write(path, svg).map_err(io_err)
    } else {
        let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
        {
            let bitmap = BitMapBackend::with_buffer(&mut rgb, size);
            let root = Raster::new(bitmap)?.into_drawing_area();
            figure.render(&root)?;
            root.present().map_err(draw_err)?;
        }
        // Encoded here rather than by plotters' `bitmap_encoder`, which picks
        // the format from the extension and fails on anything but a known one.
        let file = std::fs::File::create(path).map_err(io_err)?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
        Ok(())
    }
}

pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// Formats a number compactly with three significant digits and an SI suffix
/// for large magnitudes: `1234567.0` -> "1.23M", `12.34` -> "12.3",
/// `0.5` -> "0.5", `2e-5` -> "2e-5". Trailing zeros are dropped.
pub fn compact_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if a < 1e-3 {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    if a < 1e3 {
        return trim_zeros(&significant(v, 3));
    }
    let mut idx = ((a.log10() / 3.0).floor() as usize).min(SI.len());
    loop {
        let scaled = v / 1e3f64.powi(idx as i32);
        let s = trim_zeros(&significant(scaled, 3));
        // 999_950 rounds to "1000k"; move up a prefix instead.
        let too_big = s.trim_start_matches('-').split('.').next().map(str::len) > Some(3);
        if too_big && idx < SI.len() {
            idx += 1;
            continue;
        }
        return format!("{s}{}", SI[idx - 1]);
    }
}

const SI: [&str; 6] = ["k", "M", "G", "T", "P", "E"];

fn significant(v: f64, digits: i32) -> String {
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Shortens an architecture label for the figure: runs of a repeated token
/// become `tok×n` ("S16 S16 S16 A4*" -> "S16×3 A4*"), then anything longer
/// than [`MAX_LABEL_CHARS`] is cut with an ellipsis.
fn compact_label(label: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut tokens = label.split_whitespace().peekable();
    while let Some(tok) = tokens.next() {
        let mut n = 1;
        while tokens.peek() == Some(&tok) {
            tokens.next();
            n += 1;
        }
        parts.push(if n > 1 {
            format!("{tok}×{n}")
        } else {
            tok.to_string()
        });
    }
    let s = parts.join(" ");
    if s.chars().count() > MAX_LABEL_CHARS {
        let cut: String = s.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        s
    }
}

// ---------------------------------------------------------------------------
// Axes

/// One axis, linear or log10, with our own tick choice and formatting:
/// plotters' log coordinate labels every key point with the raw `f64` Debug
/// form, and its linear ticks print 1200000.0 for a million FLOPs.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// An axis spanning `[lo, hi]` of data, padded by the given fractions of
    /// its (transformed) span on each side.
    fn padded(lo: f64, hi: f64, log: bool, pad_lo: f64, pad_hi: f64) -> Self {
        let (mut a, mut b) = if log {
            (lo.log10(), hi.log10())
        } else {
            (lo, hi)
        };
        if b - a <= 0.0 {
            // One distinct value: give it some room around it.
            let half = if log { 0.25 } else { (a.abs() * 0.1).max(1.0) };
            a -= half;
            b += half;
        }
        let span = b - a;
        a -= pad_lo * span;
        b += pad_hi * span;
        let (lo, hi) = if log {
            (10f64.powf(a), 10f64.powf(b))
        } else {
            (a, b)
        };
        Axis { lo, hi, log }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.log10()
        } else {
            v
        }
    }

    fn contains(&self, v: f64) -> bool {
        let eps = (self.t(self.hi) - self.t(self.lo)) * 1e-9;
        self.t(v) >= self.t(self.lo) - eps && self.t(v) <= self.t(self.hi) + eps
    }

    /// Major ticks (labelled, darker grid) and minor ticks (faint grid only).
    fn ticks(&self, max_major: usize) -> (Vec<f64>, Vec<f64>) {
        let max_major = max_major.max(2);
        if self.log {
            self.log_ticks(max_major)
        } else {
            let step = self.linear_step(max_major);
            (self.multiples(step), Vec::new())
        }
    }

    fn multiples(&self, step: f64) -> Vec<f64> {
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|k| k as f64 * step).collect()
    }

    /// The smallest step of the form {1, 2, 2.5, 5} x 10^k giving at most
    /// `max` ticks.
    fn linear_step(&self, max: usize) -> f64 {
        let raw = (self.hi - self.lo) / max as f64;
        let mut pow = 10f64.powf(raw.log10().floor());
        loop {
            for m in [1.0, 2.0, 2.5, 5.0] {
                let step = m * pow;
                if self.multiples(step).len() <= max {
                    return step;
                }
            }
            pow *= 10.0;
        }
    }

    /// Log ticks: the sparsest mantissa set ({1}, {1, 3}, {1, 2, 5}, 1..9)
    /// that gives at least four labels without exceeding `max`; whole
    /// decades only (thinned if need be) when the span is wide. The rest of
    /// 1..9 x 10^k become faint minor lines, the usual log-paper look.
    fn log_ticks(&self, max: usize) -> (Vec<f64>, Vec<f64>) {
        let k0 = self.lo.log10().floor() as i32 - 1;
        let k1 = self.hi.log10().ceil() as i32 + 1;
        let with = |set: &[f64]| -> Vec<f64> {
            (k0..=k1)
                .flat_map(|k| set.iter().map(move |m| m * 10f64.powi(k)))
                .filter(|&v| self.contains(v))
                .collect()
        };
        let all: Vec<f64> = with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        let sets: [&[f64]; 4] = [
            &[1.0],
            &[1.0, 3.0],
            &[1.0, 2.0, 5.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        ];
        let mut major: Option<Vec<f64>> = None;
        for set in sets {
            let t = with(set);
            if t.len() > max {
                break;
            }
            let enough = t.len() >= 4;
            major = Some(t);
            if enough {
                break;
            }
        }
        let major = match major {
            Some(m) => m,
            None => {
                // Even whole decades are too many: keep every n-th decade.
                let decades = with(&[1.0]);
                let every = decades.len().div_ceil(max);
                decades.into_iter().step_by(every).collect()
            }
        };
        let span_decades = self.hi.log10() - self.lo.log10();
        let minor = if span_decades > 8.0 {
            Vec::new()
        } else {
            all.into_iter()
                .filter(|v| !major.iter().any(|m| (m / v - 1.0).abs() < 1e-9))
                .collect()
        };
        (major, minor)
    }

    /// Tick label. Log axes label each tick on its own ("200k", "1M");
    /// linear axes use one decimal count for all ticks so they line up.
    fn format(&self, v: f64, step: Option<f64>) -> String {
        if v == 0.0 {
            return "0".to_string();
        }
        match step {
            Some(step) if !self.log => {
                let top = self.lo.abs().max(self.hi.abs());
                let idx = if top >= 1e3 {
                    ((top.log10() / 3.0).floor() as usize).min(SI.len())
                } else {
                    0
                };
                let scale = 1e3f64.powi(idx as i32);
                let s = step / scale;
                let decimals = (0..=6)
                    .find(|&d| {
                        let x = s * 10f64.powi(d);
                        (x - x.round()).abs() < 1e-6 * x.max(1.0)
                    })
                    .unwrap_or(6) as usize;
                let suffix = if idx == 0 { "" } else { SI[idx - 1] };
                format!("{:.decimals$}{suffix}", v / scale)
            }
            _ => compact_number(v),
        }
    }
}

/// The axis as plotters sees it: key points come from [`Axis::ticks`], with
/// the number of labels plotters asks for.
#[derive(Debug, Clone)]
struct AxisCoord {
    axis: Axis,
    /// The linear step, fixed when the axis is configured, so that labels
    /// share a format.
    step: Option<f64>,
}

impl AxisCoord {
    fn new(axis: Axis, max_major: usize) -> Self {
        let step = (!axis.log).then(|| axis.linear_step(max_major.max(2)));
        AxisCoord { axis, step }
    }
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.axis.t(self.axis.lo), self.axis.t(self.axis.hi));
        let f = (self.axis.t(*value) - a) / (b - a);
        (limit.0 as f64 + f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let (mut major, minor) = self.axis.ticks(hint.bold_points());
        if hint.weight().allow_light_points() {
            major.extend(minor);
        }
        major
    }

    fn range(&self) -> Range<f64> {
        self.axis.lo..self.axis.hi
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format_ext(&self, value: &f64) -> String {
        self.axis.format(*value, self.step)
    }
}

// ---------------------------------------------------------------------------
// Layout: everything decided from the data before any drawing.

struct Layout {
    x: Axis,
    y: Axis,
    /// Only when finite (and positive on a log axis).
    reference: Option<(f64, f64)>,
}

const X_TICKS: usize = 9;
const Y_TICKS: usize = 8;

impl Layout {
    fn new(series: &[PlotSeries], spec: &PlotSpec) -> Result<Self, PlotError> {
        let finite: Vec<&PlotPoint> = series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| p.cost.is_finite() && p.ppl.is_finite())
            .collect();
        if finite.is_empty() {
            return Err(PlotError::NoData);
        }
        let min_of =
            |f: fn(&PlotPoint) -> f64| finite.iter().map(|p| f(p)).fold(f64::MAX, f64::min);
        let max_of =
            |f: fn(&PlotPoint) -> f64| finite.iter().map(|p| f(p)).fold(f64::MIN, f64::max);
        let (mut x_lo, mut x_hi) = (min_of(|p| p.cost), max_of(|p| p.cost));
        let (mut y_lo, mut y_hi) = (min_of(|p| p.ppl), max_of(|p| p.ppl));
        let log = match spec.log_x {
            Some(true) if x_lo <= 0.0 => return Err(PlotError::NonPositiveLogCost(x_lo)),
            Some(log) => log,
            None => x_lo > 0.0 && x_hi / x_lo > 10.0,
        };
        let reference = spec
            .reference
            .filter(|&(rx, ry)| rx.is_finite() && ry.is_finite() && (!log || rx > 0.0));
        if let Some((rx, ry)) = reference {
            x_lo = x_lo.min(rx);
            x_hi = x_hi.max(rx);
            y_lo = y_lo.min(ry);
            y_hi = y_hi.max(ry);
        }
        // Extra room below and left, where the front's labels go.
        let x = Axis::padded(x_lo, x_hi, log, 0.08, 0.05);
        let y = Axis::padded(y_lo, y_hi, false, 0.10, 0.06);
        Ok(Layout { x, y, reference })
    }
}

// ---------------------------------------------------------------------------
// Label and legend placement, in pixels.

#[derive(Debug, Clone, Copy)]
struct Boxf {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Boxf {
    fn around(x: f64, y: f64, r: f64) -> Self {
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
    fn grow(&self, d: f64) -> Self {
        Boxf {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }
}

/// A front point that wants a label.
struct LabelRequest {
    px: f64,
    py: f64,
    text: String,
    size: (f64, f64),
    color: RGBColor,
}

struct Placed {
    text: String,
    at: Boxf,
    color: RGBColor,
    /// The point, when the label sits far enough away to need a leader line.
    leader_to: Option<(f64, f64)>,
    /// Whether the label lies across a step line.
    crosses: bool,
}

/// Greedy placement: each label takes a candidate position that stays in the
/// plot and covers no marker, no other label and not the legend. Candidates
/// lie on two rings around the point, the lower-left side first (a min-min
/// front leaves it empty of its own points); the cheapest wins, counting
/// one per step line crossed and two for the outer ring (which gets a leader
/// line), ties going to the earlier candidate. Labels with nowhere to go are
/// dropped rather than drawn over data.
fn place_labels(
    requests: &[LabelRequest],
    markers: &[Boxf],
    lines: &[Boxf],
    legend: &Boxf,
    plot: &Boxf,
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

fn darker(c: RGBColor, f: f64) -> RGBColor {
    let s = |v: u8| (v as f64 * f).round() as u8;
    RGBColor(s(c.0), s(c.1), s(c.2))
}

pub(crate) fn text_style(size: f64, color: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, size).into_font());
    // Set directly: `TextStyle::color` borrows the colour for the style's
    // lifetime, which a returned style cannot do.
    style.color = color.to_backend_color();
    style.pos = Pos::new(HPos::Left, VPos::Top);
    style
}

fn text_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> Result<(f64, f64), PlotError> {
    let (w, _) = root
        .estimate_text_size(text, &text_style(size, BLACK))
        .map_err(draw_err)?;
    // One em: with a Top anchor the ink runs from about the cap height just
    // below the anchor to the descenders one em below it.
    Ok((w as f64, em(size).round()))
}

// ---------------------------------------------------------------------------
// Bitmap text and markers

/// Em size in pixels of plotters' font "size": its SVG backend writes
/// `font-size = size / 1.24`, and the raster text below follows suit so
/// that PNG and SVG figures agree.
fn em(size: f64) -> f64 {
    size / 1.24
}

mod raster {
    //! In a module of its own: plotters-backend's style traits clash with
    //! the `Color` methods used by the rendering code.

    use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
    use plotters::prelude::DrawingBackend;
    use plotters::style::text_anchor::{HPos, VPos};
    use plotters_backend::{
        BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
    };

    use super::{em, PlotError, FONT_BYTES};

    /// The bitmap backend with its text and circles drawn here instead.
    ///
    /// plotters' `ab_glyph` text puts each glyph at a whole pixel and ignores
    /// its side bearing, so small text has visibly uneven letter spacing
    /// ("fron t"); its stroked circles come out with notches at small radii.
    /// Here glyphs are laid out at fractional positions with kerning and
    /// circles are anti-aliased by coverage. Everything else is passed through.
    pub(super) struct Raster<B> {
        inner: B,
        font: FontRef<'static>,
    }

    impl<B: DrawingBackend> Raster<B> {
        pub(super) fn new(inner: B) -> Result<Self, PlotError> {
            let font = FontRef::try_from_slice(FONT_BYTES).map_err(|_| PlotError::Font)?;
            Ok(Raster { inner, font })
        }

        /// Glyph coverage of `text` at plotters size `size`, as pixels relative
        /// to the pen's start on the baseline, and the advance width.
        fn rasterize(&self, text: &str, size: f64) -> (Vec<(i32, i32, f32)>, f64) {
            let units = self.font.units_per_em().unwrap_or(2048.0);
            let scale = PxScale::from((em(size) as f32) * self.font.height_unscaled() / units);
            let scaled = self.font.as_scaled(scale);
            let mut caret = 0.0f32;
            let mut prev = None;
            let mut pixels = Vec::new();
            for c in text.chars() {
                let id = scaled.glyph_id(c);
                if let Some(p) = prev {
                    caret += scaled.kern(p, id);
                }
                let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, 0.0));
                if let Some(outline) = self.font.outline_glyph(glyph) {
                    let b = outline.px_bounds();
                    outline.draw(|x, y, cov| {
                        if cov > 0.0 {
                            pixels.push((
                                b.min.x as i32 + x as i32,
                                b.min.y as i32 + y as i32,
                                cov,
                            ));
                        }
                    });
                }
                caret += scaled.h_advance(id);
                prev = Some(id);
            }
            (pixels, caret as f64)
        }
    }

    impl<B: DrawingBackend> DrawingBackend for Raster<B> {
        type ErrorType = B::ErrorType;

        fn get_size(&self) -> (u32, u32) {
            self.inner.get_size()
        }
        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.ensure_prepared()
        }
        fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.present()
        }
        fn draw_pixel(
            &mut self,
            point: BackendCoord,
            color: BackendColor,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_pixel(point, color)
        }
        fn draw_line<S: BackendStyle>(
            &mut self,
            from: BackendCoord,
            to: BackendCoord,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_line(from, to, style)
        }
        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: BackendCoord,
            bottom_right: BackendCoord,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_rect(upper_left, bottom_right, style, fill)
        }
        fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            path: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_path(path, style)
        }
        fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            vert: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.fill_polygon(vert, style)
        }
        fn blit_bitmap(
            &mut self,
            pos: BackendCoord,
            size: (u32, u32),
            src: &[u8],
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.blit_bitmap(pos, size, src)
        }

        fn draw_circle<S: BackendStyle>(
            &mut self,
            center: BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            let color = style.color();
            if color.alpha == 0.0 {
                return Ok(());
            }
            let r = radius as f64;
            let half_stroke = style.stroke_width().max(1) as f64 / 2.0;
            let reach = (r + half_stroke + 1.0).ceil() as i32;
            for dy in -reach..=reach {
                for dx in -reach..=reach {
                    let d = f64::from(dx * dx + dy * dy).sqrt();
                    // Approximate pixel coverage from the distance to the edge.
                    let coverage = if fill {
                        r + 0.5 - d
                    } else {
                        half_stroke + 0.5 - (d - r).abs()
                    }
                    .clamp(0.0, 1.0);
                    if coverage > 0.0 {
                        let c = BackendColor {
                            alpha: color.alpha * coverage,
                            rgb: color.rgb,
                        };
                        self.inner.draw_pixel((center.0 + dx, center.1 + dy), c)?;
                    }
                }
            }
            Ok(())
        }

        fn estimate_text_size<TStyle: BackendTextStyle>(
            &self,
            text: &str,
            style: &TStyle,
        ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
            let (_, width) = self.rasterize(text, style.size());
            Ok((width.ceil() as u32, em(style.size()).round() as u32))
        }

        fn draw_text<TStyle: BackendTextStyle>(
            &mut self,
            text: &str,
            style: &TStyle,
            pos: BackendCoord,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            let color = style.color();
            if color.alpha == 0.0 {
                return Ok(());
            }
            let (pixels, width) = self.rasterize(text, style.size());
            let em = em(style.size());
            let dx = match style.anchor().h_pos {
                HPos::Left => 0.0,
                HPos::Center => -width / 2.0,
                HPos::Right => -width,
            };
            // Baseline offsets of the SVG backend (dy = 0.76em, 0.5ex, -0.5ex),
            // taking an ex as about half an em as in DejaVu Sans.
            let baseline = match style.anchor().v_pos {
                VPos::Top => 0.76 * em,
                VPos::Center => 0.27 * em,
                VPos::Bottom => -0.27 * em,
            };
            let (dx, dy) = (dx.round() as i32, baseline.round() as i32);
            let transform = style.transform();
            for (x, y, coverage) in pixels {
                let (tx, ty) = transform.transform(x + dx, y + dy);
                let c = BackendColor {
                    alpha: color.alpha * f64::from(coverage.min(1.0)),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), c)?;
            }
            Ok(())
        }
    }
}

use raster::Raster;

// ---------------------------------------------------------------------------
// Rendering

fn render<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[PlotSeries],
    spec: &PlotSpec,
    layout: &Layout,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(draw_err)?;

    let x_coord = AxisCoord::new(layout.x.clone(), X_TICKS);
    let y_coord = AxisCoord::new(layout.y.clone(), Y_TICKS);
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, (FONT, TITLE_SIZE).into_font())
        .margin_top(16)
        .margin_left(16)
        .margin_bottom(12)
        .margin_right(40)
        .x_label_area_size(72)
        .y_label_area_size(92)
        .build_cartesian_2d(x_coord, y_coord)
        .map_err(draw_err)?;

    let tick_font = (FONT, TICK_SIZE).into_font().color(&RGBColor(40, 40, 40));
    let axis_font = (FONT, AXIS_TITLE_SIZE).into_font();
    chart
        .configure_mesh()
        .x_labels(X_TICKS)
        .y_labels(Y_TICKS)
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style(tick_font)
        .axis_desc_style(axis_font)
        .bold_line_style(RGBColor(0, 0, 0).mix(0.10))
        .light_line_style(RGBColor(0, 0, 0).mix(0.04))
        .axis_style(RGBColor(60, 60, 60))
        .set_all_tick_mark_size(6)
        .draw()
        .map_err(draw_err)?;

    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let plot = Boxf {
        x0: xr.start as f64,
        y0: yr.start as f64,
        x1: xr.end as f64,
        y1: yr.end as f64,
    };
    let to_px = |x: f64, y: f64| -> (i32, i32) { chart.backend_coord(&(x, y)) };

    // Pixel-space geometry of every series, for drawing and for placement.
    let mut markers: Vec<Boxf> = Vec::new();
    let mut lines: Vec<Boxf> = Vec::new();
    let mut staircases: Vec<Vec<(f64, f64)>> = Vec::new();
    for s in series {
        let front: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.on_front)
            .map(|p| (p.cost, p.ppl))
            .collect();
        let mut stairs = front_staircase(&front);
        if let (Some((rx, ry)), Some(&first), Some(&last)) =
            (layout.reference, stairs.first(), stairs.last())
        {
            // Close the step line against the reference so it outlines the
            // area the hypervolume measures.
            if first.0 < rx && first.1 < ry && last.0 < rx && last.1 < ry {
                stairs.insert(0, (first.0, ry));
                stairs.push((rx, last.1));
            }
        }
        for w in stairs.windows(2) {
            let (a, b) = (to_px(w[0].0, w[0].1), to_px(w[1].0, w[1].1));
            lines.push(
                Boxf {
                    x0: a.0.min(b.0) as f64,
                    y0: a.1.min(b.1) as f64,
                    x1: a.0.max(b.0) as f64,
                    y1: a.1.max(b.1) as f64,
                }
                .grow(1.5),
            );
        }
        staircases.push(stairs);
        for p in s
            .points
            .iter()
            .filter(|p| p.cost.is_finite() && p.ppl.is_finite())
        {
            let (px, py) = to_px(p.cost, p.ppl);
            markers.push(Boxf::around(
                px as f64,
                py as f64,
                FRONT_RADIUS as f64 + 1.0,
            ));
        }
    }
    if let Some((rx, ry)) = layout.reference {
        let (px, py) = to_px(rx, ry);
        markers.push(Boxf::around(px as f64, py as f64, 8.0));
    }

    // Legend content.
    let mut legend_rows: Vec<(String, Option<RGBColor>, f64)> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!("{} (HV {})", s.study, compact_number(s.hypervolume)),
                Some(PALETTE[i % PALETTE.len()]),
                LEGEND_SIZE,
            )
        })
        .collect();
    legend_rows.push((
        "filled: Pareto front, hollow: dominated".to_string(),
        None,
        NOTE_SIZE,
    ));
    if let Some((rx, ry)) = layout.reference {
        legend_rows.push((
            format!(
                "HV reference point: ({}, {})",
                compact_number(rx),
                compact_number(ry)
            ),
            None,
            NOTE_SIZE,
        ));
    }
    let swatch = 34.0;
    let pad = 12.0;
    let row_gap = 9.0;
    let mut legend_w: f64 = 0.0;
    let mut legend_h = pad * 2.0 - row_gap;
    let mut row_sizes = Vec::new();
    for (text, colour, size) in &legend_rows {
        let (w, h) = text_size(root, text, *size)?;
        let indent = if colour.is_some() { swatch } else { 0.0 };
        legend_w = legend_w.max(indent + w);
        legend_h += h + row_gap;
        row_sizes.push((w, h));
    }
    legend_w += pad * 2.0;

    // Point labels wanted: every front point of every series.
    let mut requests = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut front: Vec<&PlotPoint> = s
            .points
            .iter()
            .filter(|p| p.on_front && p.cost.is_finite() && p.ppl.is_finite())
            .collect();
        front.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        for p in front {
            let text = compact_label(&p.label);
            if text.is_empty() {
                continue;
            }
            let (px, py) = to_px(p.cost, p.ppl);
            requests.push(LabelRequest {
                px: px as f64,
                py: py as f64,
                size: text_size(root, &text, POINT_LABEL_SIZE)?,
                text,
                color: darker(PALETTE[i % PALETTE.len()], 0.8),
            });
        }
    }

    // Legend position: try the corners and edge midpoints of the plot; the
    // one covering the fewest markers, then costing the fewest labels, then
    // crossing the fewest lines wins (ties: the order below, lower left first
    // because a min-min front leaves that corner empty).
    let inset = 10.0;
    let (lx0, lx1) = (plot.x0 + inset, plot.x1 - inset - legend_w);
    let (ly0, ly1) = (plot.y0 + inset, plot.y1 - inset - legend_h);
    let (lxm, lym) = ((lx0 + lx1) / 2.0, (ly0 + ly1) / 2.0);
    let spots = [
        (lx0, ly1),
        (lx1, ly0),
        (lx0, ly0),
        (lx1, ly1),
        (lxm, ly0),
        (lxm, ly1),
        (lx0, lym),
        (lx1, lym),
    ];
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
        let (labels, dropped) = place_labels(&requests, &markers, &lines, &legend, &plot);
        let score = (covered, dropped, crossed);
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, legend, labels));
        }
    }
    let (_, legend, labels) = best.expect("at least one legend spot");

    let area = chart.plotting_area();

    // With one study, shade the area its hypervolume measures. With several
    // the tints would overlap into a muddy grey, so the closed step lines
    // alone outline each area.
    if let (Some((rx, ry)), [stairs]) = (layout.reference, staircases.as_slice()) {
        if stairs.len() >= 2 {
            let mut poly = stairs.clone();
            poly.push((rx, ry));
            area.draw(&Polygon::new(poly, PALETTE[0].mix(0.08).filled()))
                .map_err(draw_err)?;
        }
    }
    for (i, stairs) in staircases.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        area.draw(&PathElement::new(
            stairs.clone(),
            colour.mix(0.9).stroke_width(2),
        ))
        .map_err(draw_err)?;
    }
    // Dominated points under front points, so a front marker is never hidden.
    for pass_front in [false, true] {
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            for p in s.points.iter().filter(|p| p.on_front == pass_front) {
                if !(p.cost.is_finite() && p.ppl.is_finite()) {
                    continue;
                }
                let at = to_px(p.cost, p.ppl);
                let marker = if p.on_front {
                    Circle::new(at, FRONT_RADIUS, colour.filled())
                } else {
                    Circle::new(at, DOMINATED_RADIUS, colour.mix(0.75).stroke_width(2))
                };
                root.draw(&marker).map_err(draw_err)?;
            }
        }
    }
    if let Some((rx, ry)) = layout.reference {
        let (px, py) = to_px(rx, ry);
        let grey = RGBColor(90, 90, 90).stroke_width(2);
        root.draw(&PathElement::new(
            vec![(px - 6, py - 6), (px + 6, py + 6)],
            grey,
        ))
        .map_err(draw_err)?;
        root.draw(&PathElement::new(
            vec![(px - 6, py + 6), (px + 6, py - 6)],
            grey,
        ))
        .map_err(draw_err)?;
    }
    for l in &labels {
        if let Some((px, py)) = l.leader_to {
            // From the marker's rim to the nearest point of the label box.
            let (ex, ey) = (px.clamp(l.at.x0, l.at.x1), py.clamp(l.at.y0, l.at.y1));
            let len = ((ex - px).powi(2) + (ey - py).powi(2)).sqrt();
            let rim = FRONT_RADIUS as f64 + 2.0;
            if len > rim + 2.0 {
                let (sx, sy) = (px + (ex - px) * rim / len, py + (ey - py) * rim / len);
                root.draw(&PathElement::new(
                    vec![(sx as i32, sy as i32), (ex as i32, ey as i32)],
                    l.color.mix(0.6),
                ))
                .map_err(draw_err)?;
            }
        }
        // A faint white backing keeps a label legible where the placement
        // had to let it cross a step line.
        if l.crosses {
            let halo = l.at.grow(1.0);
            root.draw(&Rectangle::new(
                [
                    (halo.x0 as i32, halo.y0 as i32),
                    (halo.x1 as i32, halo.y1 as i32),
                ],
                WHITE.mix(0.8).filled(),
            ))
            .map_err(draw_err)?;
        }
        let style = text_style(POINT_LABEL_SIZE, l.color);
        let at = (l.at.x0 as i32, l.at.y0 as i32);
        root.draw_text(&l.text, &style, at).map_err(draw_err)?;
    }

    // Legend box and rows.
    root.draw(&Rectangle::new(
        [
            (legend.x0 as i32, legend.y0 as i32),
            (legend.x1 as i32, legend.y1 as i32),
        ],
        WHITE.mix(0.92).filled(),
    ))
    .map_err(draw_err)?;
    root.draw(&Rectangle::new(
        [
            (legend.x0 as i32, legend.y0 as i32),
            (legend.x1 as i32, legend.y1 as i32),
        ],
        RGBColor(180, 180, 180).stroke_width(1),
    ))
    .map_err(draw_err)?;
    let mut y = legend.y0 + pad;
    for ((text, colour, size), (_, h)) in legend_rows.iter().zip(&row_sizes) {
        let x = legend.x0 + pad;
        let mid = (y + h / 2.0) as i32;
        let text_x = match colour {
            Some(c) => {
                // A line with a square on it: squares, not circles, so the
                // SVG's circles stay one per data point.
                root.draw(&PathElement::new(
                    vec![(x as i32, mid), ((x + 24.0) as i32, mid)],
                    c.stroke_width(2),
                ))
                .map_err(draw_err)?;
                root.draw(&Rectangle::new(
                    [((x + 7.0) as i32, mid - 5), ((x + 17.0) as i32, mid + 5)],
                    c.filled(),
                ))
                .map_err(draw_err)?;
                x + swatch
            }
            None => x,
        };
        let ink = if colour.is_some() {
            RGBColor(20, 20, 20)
        } else {
            RGBColor(90, 90, 90)
        };
        root.draw_text(text, &text_style(*size, ink), (text_x as i32, y as i32))
            .map_err(draw_err)?;
        y += h + row_gap;
    }

    // Frame the plot on all four sides, as in a journal figure.
    root.draw(&Rectangle::new(
        [(xr.start, yr.start), (xr.end - 1, yr.end - 1)],
        RGBColor(60, 60, 60).stroke_width(1),
    ))
    .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers() {
        assert_eq!(compact_number(0.0), "0");
        assert_eq!(compact_number(12.345), "12.3");
        assert_eq!(compact_number(1.5), "1.5");
        assert_eq!(compact_number(250.0), "250");
        assert_eq!(compact_number(1_234_567.0), "1.23M");
        assert_eq!(compact_number(2_000_000.0), "2M");
        assert_eq!(compact_number(999_950.0), "1M");
        assert_eq!(compact_number(3.4e9), "3.4G");
        assert_eq!(compact_number(-45_600.0), "-45.6k");
        assert_eq!(compact_number(0.00002), "2e-5");
    }

    #[test]
    fn labels_compress_runs() {
        assert_eq!(
            compact_label("d128 S16 S16 S16 A4* S16"),
            "d128 S16×3 A4* S16"
        );
        let long = (0..40)
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let c = compact_label(&long);
        assert_eq!(c.chars().count(), MAX_LABEL_CHARS);
        assert!(c.ends_with('…'));
    }

    #[test]
    fn log_ticks_are_round() {
        let axis = Axis {
            lo: 8e5,
            hi: 3e8,
            log: true,
        };
        let (major, minor) = axis.ticks(9);
        let labels: Vec<String> = major.iter().map(|&v| axis.format(v, None)).collect();
        assert_eq!(labels, ["1M", "3M", "10M", "30M", "100M", "300M"]);
        assert!(!minor.is_empty());
    }

    #[test]
    fn linear_ticks_share_decimals() {
        let axis = Axis {
            lo: 0.0,
            hi: 3.2e6,
            log: false,
        };
        let step = axis.linear_step(9);
        assert_eq!(step, 5e5);
        let labels: Vec<String> = axis
            .ticks(9)
            .0
            .iter()
            .map(|&v| axis.format(v, Some(step)))
            .collect();
        assert_eq!(
            labels,
            ["0", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M", "3.0M"]
        );
    }
}
