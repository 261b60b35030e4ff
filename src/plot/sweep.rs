//! The sequence-length sweep figure (`nas bench --sweep-T --plot`): two
//! log-log panels against the context length T, measured time per token and
//! the model's measured peak memory, one line with markers per design. Same
//! output formats and font as the other figures.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{draw_err, write_figure, Figure};
use super::font::text_style;
use super::format::Format;
use super::palette::PALETTE;
use super::PlotError;

const SIZE: (u32, u32) = (1400, 640);
const HEADER: u32 = 90;
const MARGIN: u32 = 20;

/// One design's points: (T, ms per token, peak MiB), T increasing.
pub struct SweepSeries {
    pub label: String,
    pub points: Vec<(f64, f64, f64)>,
}

struct SweepFigure<'a> {
    title: &'a str,
    series: &'a [SweepSeries],
}

/// Draws the two panels to `path`, PNG or SVG as its extension says. Points
/// with a non-positive or non-finite value cannot sit on a log axis and are
/// left out; with none left it is [`PlotError::NoData`].
pub fn draw_sweep(path: &Path, title: &str, series: &[SweepSeries]) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let kept: Vec<SweepSeries> = series
        .iter()
        .map(|s| SweepSeries {
            label: s.label.clone(),
            points: s
                .points
                .iter()
                .copied()
                .filter(|&(t, ms, mib)| positive(t) && positive(ms) && positive(mib))
                .collect(),
        })
        .collect();
    if kept.iter().all(|s| s.points.is_empty()) {
        return Err(PlotError::NoData);
    }
    write_figure(
        path,
        format,
        SIZE,
        &SweepFigure {
            title,
            series: &kept,
        },
    )
}

/// The range of one coordinate over every point, widened by a tenth of a
/// decade each side so no marker sits on the frame.
fn span(series: &[SweepSeries], pick: fn(&(f64, f64, f64)) -> f64) -> std::ops::Range<f64> {
    let values = series.iter().flat_map(|s| s.points.iter().map(pick));
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = 10f64.powf(0.1);
    (lo / pad)..(hi * pad)
}

/// A tick value with three significant digits, without trailing zeros.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Ticks at 1, 2 and 5 times each power of ten inside `range`.
fn one_two_five(range: &std::ops::Range<f64>) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(range.start.log10().floor());
    while decade <= range.end {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if range.contains(&v) {
                ticks.push(v);
            }
        }
        decade *= 10.0;
    }
    ticks
}

impl SweepFigure<'_> {
    /// Every measured T, once: the x ticks.
    fn lengths(&self) -> Vec<f64> {
        let mut ts: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        ts.sort_by(f64::total_cmp);
        ts.dedup();
        ts
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        pick: fn(&(f64, f64, f64)) -> f64,
    ) -> Result<(), PlotError> {
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 20).into_font())
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(
                span(self.series, |p| p.0)
                    .log_scale()
                    .with_key_points(self.lengths()),
                {
                    let y = span(self.series, pick);
                    let ticks = one_two_five(&y);
                    y.log_scale().with_key_points(ticks)
                },
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("context length T")
            .x_label_formatter(&|v| significant(*v))
            .y_label_formatter(&|v| significant(*v))
            .label_style(("sans-serif", 15).into_font())
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, pick(p))).collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    line.clone(),
                    colour.stroke_width(3),
                )))
                .map_err(draw_err)?;
            // Squares: the figures keep circles for Pareto points.
            chart
                .draw_series(line.iter().map(|&(x, y)| {
                    EmptyElement::at((x, y)) + Rectangle::new([(-5, -5), (5, 5)], colour.filled())
                }))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

impl Figure for SweepFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        root.fill(&WHITE).map_err(draw_err)?;
        root.draw_text(self.title, &text_style(24.0, BLACK), (MARGIN as i32, 12))
            .map_err(draw_err)?;
        let mut x = MARGIN as i32;
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            root.draw(&PathElement::new(
                vec![(x, 59), (x + 30, 59)],
                colour.stroke_width(3),
            ))
            .map_err(draw_err)?;
            root.draw_text(&s.label, &text_style(17.0, BLACK), (x + 38, 50))
                .map_err(draw_err)?;
            x += 40 + 11 * s.label.chars().count() as i32 + 24;
        }
        let body = root.margin(HEADER, MARGIN, MARGIN, MARGIN);
        let panels = body.split_evenly((1, 2));
        self.panel(&panels[0], "ms per token (measured)", |p| p.1)?;
        self.panel(&panels[1], "model peak memory, MiB (measured)", |p| p.2)?;
        Ok(())
    }
}
