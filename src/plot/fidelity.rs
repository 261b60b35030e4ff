//! The proxy-fidelity figure (`nas fidelity --plot`): each retrained design
//! at (proxy perplexity, long-budget perplexity), with a bar of ± one sd over
//! the long budget's seeds; filled markers for the study's front, each point
//! labelled with its trial number. A perfect proxy puts the points in one
//! increasing order; how far they stray is what τ and ρ in the title count.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::padded_range;
use super::figure::{draw_err, write_figure, Figure};
use super::font::text_style;
use super::format::Format;
use super::palette::PALETTE;
use super::PlotError;

const SIZE: (u32, u32) = (900, 720);
const HEADER: u32 = 70;
const MARGIN: u32 = 20;

/// One retrained design.
#[derive(Clone, Debug, PartialEq)]
pub struct FidelityPoint {
    pub proxy: f64,
    /// Mean over seeds at the long budget.
    pub long: f64,
    /// Sample sd over those seeds (`None` for one seed).
    pub long_sd: Option<f64>,
    /// Drawn beside the point, e.g. `#12`.
    pub label: String,
    pub on_front: bool,
}

/// Titles of the figure.
pub struct FidelityText<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
}

struct FidelityFigure<'a> {
    text: &'a FidelityText<'a>,
    points: &'a [FidelityPoint],
}

/// Draws `points` to `path`, PNG or SVG as its extension says. Points with a
/// non-finite coordinate are left out; with none left it is
/// [`PlotError::NoData`].
pub fn draw_fidelity(
    path: &Path,
    text: &FidelityText<'_>,
    points: &[FidelityPoint],
) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    let kept: Vec<FidelityPoint> = points
        .iter()
        .filter(|p| p.proxy.is_finite() && p.long.is_finite())
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(PlotError::NoData);
    }
    let figure = FidelityFigure {
        text,
        points: &kept,
    };
    write_figure(path, format, SIZE, &figure)
}

impl Figure for FidelityFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        root.fill(&WHITE).map_err(draw_err)?;
        root.draw_text(
            self.text.title,
            &text_style(20.0, BLACK),
            (MARGIN as i32, 14),
        )
        .map_err(draw_err)?;
        let front = PALETTE[0];
        let rest = PALETTE[1];
        let key = [
            (front, "on the study's front"),
            (rest, "dominated in the study"),
        ];
        for (i, (colour, label)) in key.iter().enumerate() {
            let x = MARGIN as i32 + 260 * i as i32;
            root.draw(&Circle::new((x + 6, 52), 6, colour.filled()))
                .map_err(draw_err)?;
            root.draw_text(label, &text_style(15.0, BLACK), (x + 18, 44))
                .map_err(draw_err)?;
        }
        let body = root.margin(HEADER, MARGIN, MARGIN, MARGIN);
        let x = padded_range(self.points.iter().map(|p| p.proxy), 0.08);
        let y = padded_range(
            self.points.iter().flat_map(|p| {
                let sd = p.long_sd.unwrap_or(0.0);
                [p.long - sd, p.long + sd]
            }),
            0.08,
        );
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(self.text.x_label)
            .y_desc(self.text.y_label)
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(("sans-serif", 15).into_font())
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        for p in self.points {
            let colour = if p.on_front { front } else { rest };
            if let Some(sd) = p.long_sd {
                // A bar with caps (plotters' ErrorBar needs a feature we leave out).
                let (lo, hi) = (p.long - sd, p.long + sd);
                let style = colour.stroke_width(2);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.proxy, lo), (p.proxy, hi)],
                        style,
                    )))
                    .map_err(draw_err)?;
                chart
                    .draw_series([lo, hi].map(|y| {
                        EmptyElement::at((p.proxy, y))
                            + PathElement::new(vec![(-5, 0), (5, 0)], style)
                    }))
                    .map_err(draw_err)?;
            }
            let marker = if p.on_front {
                Circle::new((p.proxy, p.long), 6, colour.filled())
            } else {
                Circle::new((p.proxy, p.long), 6, colour.stroke_width(2))
            };
            chart
                .draw_series(std::iter::once(marker))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((p.proxy, p.long))
                        + Text::new(p.label.clone(), (9, -18), text_style(14.0, BLACK)),
                ))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
