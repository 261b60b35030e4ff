//! The colour bar of a shaded Pareto figure: the colour scale as a vertical
//! strip right of the plot, 0 at the bottom and 1 at the top, with ticks and
//! its title turned to read upwards. Rectangles and text only, no circles.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::colour_scale::shade_colour;
use super::figure::draw_err;
use super::font::{text_size, text_style};
use super::placement::Boxf;
use super::PlotError;

/// Extra room right of the plot that a shaded figure keeps for the bar, in
/// pixels.
pub(super) const ROOM: u32 = 112;
/// From the plot's right edge to the bar.
const GAP: f64 = 26.0;
const WIDTH: f64 = 20.0;
/// Bands the strip is drawn in (each a flat colour).
const BANDS: usize = 100;
const TICKS: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
const TICK_LEN: i32 = 6;
const TICK_SIZE: f64 = 20.0;
const TITLE_SIZE: f64 = 24.0;

/// Draws the bar beside `plot` (the plotting area, in pixels) with `title`.
pub(super) fn draw_colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Boxf,
    title: &str,
) -> Result<(), PlotError> {
    let (x0, x1) = ((plot.x1 + GAP) as i32, (plot.x1 + GAP + WIDTH) as i32);
    let (top, bottom) = (plot.y0 + 8.0, plot.y1 - 8.0);
    let y_of = |t: f64| bottom - t * (bottom - top);
    for k in 0..BANDS {
        let (lo, hi) = (k as f64 / BANDS as f64, (k + 1) as f64 / BANDS as f64);
        let colour = shade_colour((lo + hi) / 2.0);
        root.draw(&Rectangle::new(
            [(x0, y_of(hi).round() as i32), (x1, y_of(lo).round() as i32)],
            colour.filled(),
        ))
        .map_err(draw_err)?;
    }
    let ink = RGBColor(60, 60, 60);
    root.draw(&Rectangle::new(
        [(x0, top.round() as i32), (x1, bottom.round() as i32)],
        ink.stroke_width(1),
    ))
    .map_err(draw_err)?;

    let label_x = x1 + TICK_LEN + 4;
    let tick_style =
        text_style(TICK_SIZE, RGBColor(40, 40, 40)).pos(Pos::new(HPos::Left, VPos::Center));
    let mut widest: f64 = 0.0;
    for t in TICKS {
        let y = y_of(t).round() as i32;
        root.draw(&PathElement::new(vec![(x1, y), (x1 + TICK_LEN, y)], ink))
            .map_err(draw_err)?;
        let text = format!("{t:.1}");
        widest = widest.max(text_size(root, &text, TICK_SIZE)?.0);
        root.draw_text(&text, &tick_style, (label_x, y))
            .map_err(draw_err)?;
    }

    // Turned a quarter anticlockwise, centred on the bar, its top towards
    // the tick labels, as the y axis title is.
    let title_style = text_style(TITLE_SIZE, BLACK)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let title_x = label_x + widest.ceil() as i32 + 12;
    root.draw_text(
        title,
        &title_style,
        (title_x, ((top + bottom) / 2.0) as i32),
    )
    .map_err(draw_err)?;
    Ok(())
}
