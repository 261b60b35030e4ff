//! The Pareto figure's legend: a row per study (its colour and hypervolume),
//! then a note on the markers and, when there is one, the reference point.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::draw_err;
use super::font::{text_size, text_style};
use super::number::compact_number;
use super::palette::PALETTE;
use super::placement::Boxf;
use super::{PlotError, PlotSeries};

const LEGEND_SIZE: f64 = 20.0;
const NOTE_SIZE: f64 = 17.0;
/// Room left of a study's text for its colour sample.
const SWATCH: f64 = 34.0;
const PAD: f64 = 12.0;
const ROW_GAP: f64 = 9.0;

struct Row {
    text: String,
    /// A study's colour; notes have none.
    colour: Option<RGBColor>,
    size: f64,
    /// Measured text height in pixels.
    height: f64,
}

/// The legend's rows, measured before it is placed.
pub(super) struct Legend {
    rows: Vec<Row>,
    /// Width and height of the whole box, in pixels.
    pub(super) size: (f64, f64),
}

impl Legend {
    /// `note` says how the markers show front and dominated points.
    pub(super) fn measure<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        series: &[PlotSeries],
        reference: Option<(f64, f64)>,
        note: &str,
    ) -> Result<Self, PlotError> {
        let mut wanted: Vec<(String, Option<RGBColor>, f64)> = series
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
        wanted.push((note.to_string(), None, NOTE_SIZE));
        if let Some((rx, ry)) = reference {
            wanted.push((
                format!(
                    "HV reference point: ({}, {})",
                    compact_number(rx),
                    compact_number(ry)
                ),
                None,
                NOTE_SIZE,
            ));
        }
        let mut width: f64 = 0.0;
        let mut height = PAD * 2.0 - ROW_GAP;
        let mut rows = Vec::new();
        for (text, colour, size) in wanted {
            let (w, h) = text_size(root, &text, size)?;
            let indent = if colour.is_some() { SWATCH } else { 0.0 };
            width = width.max(indent + w);
            height += h + ROW_GAP;
            rows.push(Row {
                text,
                colour,
                size,
                height: h,
            });
        }
        width += PAD * 2.0;
        Ok(Legend {
            rows,
            size: (width, height),
        })
    }

    /// Draws the box at `at` (of [`Legend::size`]) and its rows.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        at: &Boxf,
    ) -> Result<(), PlotError> {
        let corners = [(at.x0 as i32, at.y0 as i32), (at.x1 as i32, at.y1 as i32)];
        root.draw(&Rectangle::new(corners, WHITE.mix(0.92).filled()))
            .map_err(draw_err)?;
        root.draw(&Rectangle::new(
            corners,
            RGBColor(180, 180, 180).stroke_width(1),
        ))
        .map_err(draw_err)?;
        let mut y = at.y0 + PAD;
        for row in &self.rows {
            let x = at.x0 + PAD;
            let mid = (y + row.height / 2.0) as i32;
            let text_x = match row.colour {
                Some(c) => {
                    draw_swatch(root, x, mid, c)?;
                    x + SWATCH
                }
                None => x,
            };
            let ink = if row.colour.is_some() {
                RGBColor(20, 20, 20)
            } else {
                RGBColor(90, 90, 90)
            };
            root.draw_text(
                &row.text,
                &text_style(row.size, ink),
                (text_x as i32, y as i32),
            )
            .map_err(draw_err)?;
            y += row.height + ROW_GAP;
        }
        Ok(())
    }
}

/// A study's colour sample, starting at `x` on the row's middle `mid`: a line
/// with a square on it. Squares, not circles, so the SVG's circles stay one
/// per data point.
fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: f64,
    mid: i32,
    c: RGBColor,
) -> Result<(), PlotError> {
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
    Ok(())
}
