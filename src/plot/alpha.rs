//! The α-trajectory figure of a DARTS study: one row of panels per search
//! (a supernet shape at one λ), one panel per slot, each showing how the
//! probabilities of the slot's candidates evolve over the search steps. Same
//! output formats and font as the Pareto figure.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::search::darts::checkpoint::AlphaPoint;

use super::figure::{draw_err, write_figure, Figure};
use super::font::text_style;
use super::format::Format;
use super::palette::PALETTE;
use super::PlotError;

const PANEL: (u32, u32) = (300, 210);
const HEADER: u32 = 110;
const MARGIN: u32 = 20;

/// Colours past the Pareto palette, for spaces with many candidates.
const MORE: [RGBColor; 3] = [
    RGBColor(136, 34, 85),
    RGBColor(120, 120, 120),
    RGBColor(68, 170, 153),
];

fn colour(c: usize) -> RGBColor {
    let n = PALETTE.len() + MORE.len();
    let c = c % n;
    if c < PALETTE.len() {
        PALETTE[c]
    } else {
        MORE[c - PALETTE.len()]
    }
}

/// One search's trajectory.
pub struct AlphaSeries {
    /// Panel title prefix, e.g. "d64x3, λ = 0.01".
    pub label: String,
    /// The candidates of its slots, in α's column order (each must be in the
    /// figure's legend, which gives its colour).
    pub candidates: Vec<String>,
    pub points: Vec<AlphaPoint>,
}

struct AlphaFigure<'a> {
    title: &'a str,
    candidates: &'a [String],
    series: &'a [AlphaSeries],
    slots: usize,
}

/// Draws every search (rows) and slot (columns) to `path`, PNG or SVG as
/// its extension says (any other name is [`PlotError::Format`], before
/// anything is drawn). `candidates` is the legend: every candidate any series
/// has, each with its colour.
pub fn draw_alphas(
    path: &Path,
    title: &str,
    candidates: &[String],
    series: &[AlphaSeries],
) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    let slots = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.probs.len()))
        .max()
        .unwrap_or(0);
    if slots == 0 || candidates.is_empty() {
        return Err(PlotError::NoData);
    }
    let size = (
        2 * MARGIN + PANEL.0 * slots as u32,
        HEADER + MARGIN + PANEL.1 * series.len() as u32,
    );
    write_figure(
        path,
        format,
        size,
        &AlphaFigure {
            title,
            candidates,
            series,
            slots,
        },
    )
}

impl Figure for AlphaFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        root.fill(&WHITE).map_err(draw_err)?;
        root.draw_text(self.title, &text_style(24.0, BLACK), (MARGIN as i32, 12))
            .map_err(draw_err)?;
        // Legend: a short line and the candidate's name, in rows.
        let (mut x, mut y) = (MARGIN as i32, 52);
        let width = root.dim_in_pixel().0 as i32;
        for (c, name) in self.candidates.iter().enumerate() {
            let item = 40 + 11 * name.chars().count() as i32 + 24;
            if x + item > width - MARGIN as i32 {
                x = MARGIN as i32;
                y += 26;
            }
            root.draw(&PathElement::new(
                vec![(x, y + 9), (x + 30, y + 9)],
                colour(c).stroke_width(3),
            ))
            .map_err(draw_err)?;
            root.draw_text(name, &text_style(17.0, BLACK), (x + 38, y))
                .map_err(draw_err)?;
            x += item;
        }
        let grid = root.margin(HEADER, MARGIN, MARGIN, MARGIN);
        let panels = grid.split_evenly((self.series.len(), self.slots));
        for (r, s) in self.series.iter().enumerate() {
            let last = s.points.last().map_or(1, |p| p.step.max(1));
            // A shallower supernet's row leaves its last panels empty.
            let depth = s.points.first().map_or(0, |p| p.probs.len());
            for slot in 0..depth.min(self.slots) {
                let area = &panels[r * self.slots + slot];
                let mut chart = ChartBuilder::on(area)
                    .caption(
                        format!("{}, slot {slot}", s.label),
                        ("sans-serif", 16).into_font(),
                    )
                    .margin(6)
                    .x_label_area_size(24)
                    .y_label_area_size(34)
                    .build_cartesian_2d(0..last, 0.0..1.0)
                    .map_err(draw_err)?;
                chart
                    .configure_mesh()
                    .x_labels(4)
                    .y_labels(3)
                    .label_style(("sans-serif", 13).into_font())
                    .light_line_style(WHITE)
                    .draw()
                    .map_err(draw_err)?;
                for (c, name) in s.candidates.iter().enumerate() {
                    let colour_index = self.candidates.iter().position(|n| n == name).unwrap_or(c);
                    let line = s
                        .points
                        .iter()
                        .filter_map(|p| {
                            let prob = p.probs.get(slot)?.get(c)?;
                            Some((p.step, *prob))
                        })
                        .collect::<Vec<_>>();
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            line,
                            colour(colour_index).stroke_width(2),
                        )))
                        .map_err(draw_err)?;
                }
            }
        }
        Ok(())
    }
}
