//! The Pareto-front figure: every study's trials by cost and perplexity (or
//! a maximised y such as recall accuracy), each front as a step line (closed
//! against the hypervolume reference when there is one), labels on front
//! points (a number and a line of the key under the plot for those that find
//! no room), a legend, and for shaded markers a colour bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::arch::compress_runs;
use crate::pareto::front_staircase;

use super::axis::{Axis, AxisCoord};
use super::colour_bar::{self, draw_colour_bar};
use super::dry::Dry;
use super::figure::{draw_err, write_figure, Figure};
use super::font::{ensure_font, text_size, text_style, FONT};
use super::format::Format;
use super::key::Key;
use super::legend::Legend;
use super::marker::{draw_error_bars, draw_markers, is_drawable, FRONT_RADIUS, RING_RADIUS};
use super::palette::{darker, PALETTE};
use super::placement::{place_legend_and_labels, Boxf, LabelRequest, Placed};
use super::{PlotError, PlotOptions, PlotPoint, PlotSeries, PlotSpec, SIZE};

const TITLE_SIZE: f64 = 30.0;
const AXIS_TITLE_SIZE: f64 = 24.0;
const TICK_SIZE: f64 = 20.0;
const POINT_LABEL_SIZE: f64 = 17.0;
/// The number beside a point whose label is in the key.
const NUMBER_SIZE: f64 = 15.0;
/// Height of the tick labels and axis title under the plot.
const X_LABEL_AREA: u32 = 72;
/// The most height the key may take from the plot, in pixels.
const MAX_KEY_BAND: f64 = SIZE.1 as f64 * 0.45;
const X_TICKS: usize = 9;
const Y_TICKS: usize = 8;

/// Draws the figure to `path`: PNG or SVG as its extension says (`.png`,
/// `.svg`, any case; any other name is [`PlotError::Format`], checked before
/// anything is drawn). The file is written only once drawing has succeeded.
pub fn draw(path: &Path, series: &[PlotSeries], spec: &PlotSpec) -> Result<(), PlotError> {
    draw_with(path, series, spec, &PlotOptions::default())
}

/// [`draw`] with `options`: shaded markers and a colour bar, a maximised y
/// axis, or both.
pub fn draw_with(
    path: &Path,
    series: &[PlotSeries],
    spec: &PlotSpec,
    options: &PlotOptions,
) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    ensure_font()?;
    let layout = Layout::new(series, spec, options.y_maximised)?;
    let mut figure = FrontFigure {
        series,
        spec,
        options,
        layout: &layout,
        key_band: 0.0,
    };
    figure.key_band = figure.key_band()?;
    write_figure(path, format, SIZE, &figure)
}

struct FrontFigure<'a> {
    series: &'a [PlotSeries],
    spec: &'a PlotSpec,
    options: &'a PlotOptions,
    layout: &'a Layout,
    /// Height under the plot kept for the key, in pixels.
    key_band: f64,
}

impl Figure for FrontFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        render(root, self, self.key_band).map(|_| ())
    }
}

impl FrontFigure<'_> {
    /// The room the key needs, found by laying the figure out without
    /// drawing it: keeping room shrinks the plot, which can send more labels
    /// to the key, so the room grows until the key fits in it (it only
    /// grows, and there are only so many labels, so this ends).
    fn key_band(&self) -> Result<f64, PlotError> {
        let root = Dry::new(SIZE)?.into_drawing_area();
        let mut band = 0.0;
        loop {
            let needed = render(&root, self, band)?;
            if needed <= band || band >= MAX_KEY_BAND {
                return Ok(band);
            }
            band = needed.min(MAX_KEY_BAND);
        }
    }
}

/// Everything decided from the data before any drawing.
struct Layout {
    x: Axis,
    y: Axis,
    /// Only when finite (and positive on a log axis).
    reference: Option<(f64, f64)>,
    /// The y axis is maximised ([`PlotOptions::y_maximised`]).
    y_maximised: bool,
}

impl Layout {
    fn new(series: &[PlotSeries], spec: &PlotSpec, y_maximised: bool) -> Result<Self, PlotError> {
        let finite: Vec<&PlotPoint> = series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| is_drawable(p))
            .collect();
        if finite.is_empty() {
            return Err(PlotError::NoData);
        }
        let min_of =
            |f: fn(&PlotPoint) -> f64| finite.iter().map(|p| f(p)).fold(f64::MAX, f64::min);
        let max_of =
            |f: fn(&PlotPoint) -> f64| finite.iter().map(|p| f(p)).fold(f64::MIN, f64::max);
        let (mut x_lo, mut x_hi) = (min_of(|p| p.cost), max_of(|p| p.cost));
        // Error bars stay inside the plot.
        let (mut y_lo, mut y_hi) = (
            min_of(|p| p.ppl - p.y_sd.unwrap_or(0.0)),
            max_of(|p| p.ppl + p.y_sd.unwrap_or(0.0)),
        );
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
        // Extra room left, and below (above for a maximised y), where the
        // front's labels go.
        let x = Axis::padded(x_lo, x_hi, log, 0.08, 0.05);
        let (pad_lo, pad_hi) = if y_maximised {
            (0.06, 0.10)
        } else {
            (0.10, 0.06)
        };
        let y = Axis::padded(y_lo, y_hi, false, pad_lo, pad_hi);
        Ok(Layout {
            x,
            y,
            reference,
            y_maximised,
        })
    }
}

/// The whole figure, back to front: grid, shaded area and step lines,
/// error bars, markers, reference cross, labels, legend, frame, colour bar, and the key
/// in `key_band` pixels under the plot. Labels and legend are placed (in
/// pixels) before anything is drawn over the grid. Returns the height the
/// key needs, which may be more than `key_band` (the key is then drawn past
/// it).
fn render<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &FrontFigure,
    key_band: f64,
) -> Result<f64, PlotError> {
    let (series, spec, options, layout) =
        (figure.series, figure.spec, figure.options, figure.layout);
    root.fill(&WHITE).map_err(draw_err)?;
    let shading = options.shading.as_ref();
    let chart = draw_axes(root, spec, layout, shading.is_some(), key_band)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let plot = Boxf {
        x0: xr.start as f64,
        y0: yr.start as f64,
        x1: xr.end as f64,
        y1: yr.end as f64,
    };
    let to_px = |x: f64, y: f64| -> (i32, i32) { chart.backend_coord(&(x, y)) };

    let marker_reach = match shading {
        None => FRONT_RADIUS,
        Some(_) => RING_RADIUS,
    };
    let geometry = Geometry::new(series, layout, marker_reach, &to_px);
    let note = match shading {
        None => "filled: Pareto front, hollow: dominated",
        Some(_) => "ringed: Pareto front, unringed: dominated",
    };
    let legend = Legend::measure(root, series, layout.reference, note)?;
    let requests = label_requests(root, series, &to_px)?;
    let number_sizes = (1..=requests.len())
        .map(|n| text_size(root, &n.to_string(), NUMBER_SIZE))
        .collect::<Result<Vec<_>, _>>()?;
    let placement = place_legend_and_labels(
        legend.size,
        &requests,
        &number_sizes,
        &geometry.markers,
        &geometry.lines,
        &plot,
        layout.y_maximised,
    );
    let key = Key::measure(root, &placement.key, plot.x1 - plot.x0)?;

    draw_fronts(
        chart.plotting_area(),
        layout.reference,
        &geometry.staircases,
    )?;
    draw_error_bars(root, series, &to_px)?;
    draw_markers(root, series, shading, &to_px)?;
    if let Some((rx, ry)) = layout.reference {
        draw_reference(root, to_px(rx, ry))?;
    }
    draw_labels(root, &placement.labels)?;
    legend.draw(root, &placement.legend)?;
    key.draw(root, (plot.x0, plot.y1 + f64::from(X_LABEL_AREA)))?;

    // Frame the plot on all four sides, as in a journal figure.
    root.draw(&Rectangle::new(
        [(xr.start, yr.start), (xr.end - 1, yr.end - 1)],
        RGBColor(60, 60, 60).stroke_width(1),
    ))
    .map_err(draw_err)?;
    if let Some(shading) = shading {
        draw_colour_bar(root, &plot, &shading.title)?;
    }
    Ok(key.height)
}

/// The chart on our own axes, as plotters draws it for us.
type FrontChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<AxisCoord, AxisCoord>>;

/// Title, margins, grid, ticks and axis titles; the returned chart maps data
/// to pixels for everything drawn after. With `colour_bar` the plot leaves
/// room on its right for one, and `key_band` pixels below for the key.
fn draw_axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    spec: &PlotSpec,
    layout: &Layout,
    colour_bar: bool,
    key_band: f64,
) -> Result<FrontChart<'a, DB>, PlotError> {
    let margin_right = if colour_bar {
        40 + colour_bar::ROOM
    } else {
        40
    };
    let x_coord = AxisCoord::new(layout.x.clone(), X_TICKS);
    let y_coord = AxisCoord::new(layout.y.clone(), Y_TICKS);
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, (FONT, TITLE_SIZE).into_font())
        .margin_top(16)
        .margin_left(16)
        .margin_bottom(12 + key_band.ceil() as u32)
        .margin_right(margin_right)
        .x_label_area_size(X_LABEL_AREA)
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
    Ok(chart)
}

/// Pixel-space geometry of every series, for drawing and for placement.
struct Geometry {
    /// Per series, its front's step line in data coordinates.
    staircases: Vec<Vec<(f64, f64)>>,
    /// Boxes that labels and the legend should not cover: every drawn marker
    /// and the reference cross.
    markers: Vec<Boxf>,
    /// Boxes around the step lines' segments, which labels may cross at a
    /// cost.
    lines: Vec<Boxf>,
}

impl Geometry {
    /// `marker_reach`: the radius a marker covers, in pixels.
    fn new(
        series: &[PlotSeries],
        layout: &Layout,
        marker_reach: i32,
        to_px: &impl Fn(f64, f64) -> (i32, i32),
    ) -> Self {
        let reference = layout.reference;
        let mut markers: Vec<Boxf> = Vec::new();
        let mut lines: Vec<Boxf> = Vec::new();
        let mut staircases: Vec<Vec<(f64, f64)>> = Vec::new();
        for s in series {
            let stairs = step_line(s, reference, layout.y_maximised);
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
            for p in s.points.iter().filter(|p| is_drawable(p)) {
                let (px, py) = to_px(p.cost, p.ppl);
                markers.push(Boxf::around(
                    px as f64,
                    py as f64,
                    marker_reach as f64 + 1.0,
                ));
            }
        }
        if let Some((rx, ry)) = reference {
            let (px, py) = to_px(rx, ry);
            markers.push(Boxf::around(px as f64, py as f64, 8.0));
        }
        Geometry {
            staircases,
            markers,
            lines,
        }
    }
}

/// The step line through a series' front points, in data coordinates.
///
/// With a maximised y the line is the minimising one of the negated y,
/// negated back: cost increasing, y rising, closed against a reference
/// below. (Negation is exact, and multiplying by 1 changes nothing, so the
/// minimising line is the same as without the option.)
fn step_line(s: &PlotSeries, reference: Option<(f64, f64)>, y_maximised: bool) -> Vec<(f64, f64)> {
    let sense = if y_maximised { -1.0 } else { 1.0 };
    let front: Vec<(f64, f64)> = s
        .points
        .iter()
        .filter(|p| p.on_front)
        .map(|p| (p.cost, sense * p.ppl))
        .collect();
    let mut stairs = front_staircase(&front);
    if let (Some((rx, ry)), Some(&first), Some(&last)) = (reference, stairs.first(), stairs.last())
    {
        let ry = sense * ry;
        // Close the step line against the reference so it outlines the
        // area the hypervolume measures.
        if first.0 < rx && first.1 < ry && last.0 < rx && last.1 < ry {
            stairs.insert(0, (first.0, ry));
            stairs.push((rx, last.1));
        }
    }
    if y_maximised {
        for v in &mut stairs {
            v.1 = -v.1;
        }
    }
    stairs
}

/// Point labels wanted: every drawn front point of every series, cheapest
/// first within a series.
fn label_requests<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[PlotSeries],
    to_px: &impl Fn(f64, f64) -> (i32, i32),
) -> Result<Vec<LabelRequest>, PlotError> {
    let mut requests = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut front: Vec<&PlotPoint> = s
            .points
            .iter()
            .filter(|p| p.on_front && is_drawable(p))
            .collect();
        front.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        for p in front {
            // Runs written as `S16×3`, which `--arch` reads back.
            let text = compress_runs(&p.label);
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
    Ok(requests)
}

/// Each front's step line, and with one study the area its hypervolume
/// measures shaded under it.
fn draw_fronts<DB: DrawingBackend>(
    area: &DrawingArea<DB, Cartesian2d<AxisCoord, AxisCoord>>,
    reference: Option<(f64, f64)>,
    staircases: &[Vec<(f64, f64)>],
) -> Result<(), PlotError> {
    // With several studies the tints would overlap into a muddy grey, so the
    // closed step lines alone outline each area.
    if let (Some((rx, ry)), [stairs]) = (reference, staircases) {
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
    Ok(())
}

/// The hypervolume reference point as a grey cross (not a circle, which
/// would count as a data point) at pixel `(px, py)`.
fn draw_reference<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (px, py): (i32, i32),
) -> Result<(), PlotError> {
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
    Ok(())
}

/// The placed point labels, each with its leader line when it sits on the
/// outer ring.
fn draw_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &[Placed],
) -> Result<(), PlotError> {
    for l in labels {
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
        let size = if l.is_number {
            NUMBER_SIZE
        } else {
            POINT_LABEL_SIZE
        };
        let style = text_style(size, l.color);
        let at = (l.at.x0 as i32, l.at.y0 as i32);
        root.draw_text(&l.text, &style, at).map_err(draw_err)?;
    }
    Ok(())
}
