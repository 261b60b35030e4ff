//! The Pareto figure's markers: one circle per drawable point, coloured by
//! study (filled on the front, hollow when dominated) or, in a shaded figure,
//! filled from the colour scale with front points ringed in their study's
//! colour. The ring is a polygon, so circles still count points. Designs'
//! means (`nas pareto --group`) carry an error bar of ± one sd.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour_scale::{shade_colour, MISSING};
use super::figure::draw_err;
use super::palette::{darker, PALETTE};
use super::{PlotError, PlotPoint, PlotSeries, Shading};

/// Also the clearance label placement keeps around a marker.
pub(super) const FRONT_RADIUS: i32 = 6;
const DOMINATED_RADIUS: i32 = 5;
/// Outer radius of a shaded front point's ring, in pixels.
pub(super) const RING_RADIUS: i32 = FRONT_RADIUS + 3;
/// Sides of the polygon drawn as the ring.
const RING_SIDES: usize = 24;

/// Whether a point is drawn at all: it needs a finite cost and perplexity.
pub(super) fn is_drawable(p: &PlotPoint) -> bool {
    p.cost.is_finite() && p.ppl.is_finite()
}

/// One circle per drawable point, dominated points first so that a front
/// marker is never hidden.
pub(super) fn draw_markers<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[PlotSeries],
    shading: Option<&Shading>,
    to_px: &impl Fn(f64, f64) -> (i32, i32),
) -> Result<(), PlotError> {
    for pass_front in [false, true] {
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            for (j, p) in s.points.iter().enumerate() {
                if p.on_front != pass_front || !is_drawable(p) {
                    continue;
                }
                let at = to_px(p.cost, p.ppl);
                match shading {
                    None => draw_plain(root, at, p.on_front, colour)?,
                    Some(shading) => {
                        let fill = shading.value(i, j).map_or(MISSING, shade_colour);
                        draw_shaded(root, at, p.on_front, fill, colour)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A vertical bar of ± [`PlotPoint::y_sd`] through each drawable point that
/// has one, with short caps, in its study's colour: lines, never circles.
pub(super) fn draw_error_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[PlotSeries],
    to_px: &impl Fn(f64, f64) -> (i32, i32),
) -> Result<(), PlotError> {
    for (i, s) in series.iter().enumerate() {
        let style = PALETTE[i % PALETTE.len()].mix(0.8).stroke_width(2);
        for p in s.points.iter().filter(|p| is_drawable(p)) {
            let Some(sd) = p.y_sd.filter(|sd| sd.is_finite() && *sd > 0.0) else {
                continue;
            };
            let (x, lo) = to_px(p.cost, p.ppl - sd);
            let (_, hi) = to_px(p.cost, p.ppl + sd);
            root.draw(&PathElement::new(vec![(x, lo), (x, hi)], style))
                .map_err(draw_err)?;
            for y in [lo, hi] {
                root.draw(&PathElement::new(vec![(x - 4, y), (x + 4, y)], style))
                    .map_err(draw_err)?;
            }
        }
    }
    Ok(())
}

/// Filled in the study colour on the front, hollow when dominated.
fn draw_plain<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    on_front: bool,
    colour: RGBColor,
) -> Result<(), PlotError> {
    let marker = if on_front {
        Circle::new(at, FRONT_RADIUS, colour.filled())
    } else {
        Circle::new(at, DOMINATED_RADIUS, colour.mix(0.75).stroke_width(2))
    };
    root.draw(&marker).map_err(draw_err)
}

/// Filled with the shade; a front point sits on a disc of its study's
/// colour with a thin white one between, which show as a ring set off from
/// any fill, dark or light; a dominated point is smaller and has none.
fn draw_shaded<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    on_front: bool,
    fill: RGBColor,
    study: RGBColor,
) -> Result<(), PlotError> {
    if !on_front {
        return root
            .draw(&Circle::new(at, DOMINATED_RADIUS, fill.mix(0.9).filled()))
            .map_err(draw_err);
    }
    let ring = f64::from(RING_RADIUS) + 0.5;
    let gap = f64::from(FRONT_RADIUS) + 1.5;
    root.draw(&Polygon::new(disc(at, ring), darker(study, 0.85).filled()))
        .map_err(draw_err)?;
    root.draw(&Polygon::new(disc(at, gap), WHITE.filled()))
        .map_err(draw_err)?;
    root.draw(&Circle::new(at, FRONT_RADIUS, fill.filled()))
        .map_err(draw_err)
}

/// A disc of radius `r` pixels around `at` as a polygon.
fn disc(at: (i32, i32), r: f64) -> Vec<(i32, i32)> {
    (0..RING_SIDES)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / RING_SIDES as f64;
            (
                at.0 + (r * a.cos()).round() as i32,
                at.1 + (r * a.sin()).round() as i32,
            )
        })
        .collect()
}
