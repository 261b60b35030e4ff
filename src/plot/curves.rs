//! The learning-curve figure (`nas curves --plot`): one line per trial,
//! step against a curve value (a dot for a trial with one point); complete
//! trials in colour, pruned ones grey and beneath them, and a dashed
//! vertical line at each rung asked for.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::padded_range;
use super::figure::{draw_err, write_figure, Figure};
use super::font::text_style;
use super::format::Format;
use super::palette::PALETTE;
use super::PlotError;

const SIZE: (u32, u32) = (960, 640);
const HEADER: u32 = 50;
const MARGIN: u32 = 20;
const GREY: RGBColor = RGBColor(170, 170, 170);

/// One trial's line.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveLine {
    /// `(step, value)`, increasing in step.
    pub points: Vec<(f64, f64)>,
    /// Drawn grey, beneath the others.
    pub pruned: bool,
}

/// Draws `lines` to `path`, PNG or SVG as its extension says, titled
/// `title` with `y_label` on the value axis. Non-finite points are left
/// out; with none left it is [`PlotError::NoData`].
pub fn draw_curves(
    path: &Path,
    title: &str,
    y_label: &str,
    lines: &[CurveLine],
    rungs: &[usize],
) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    let mut kept: Vec<CurveLine> = lines
        .iter()
        .map(|l| CurveLine {
            points: l
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect(),
            pruned: l.pruned,
        })
        .filter(|l| !l.points.is_empty())
        .collect();
    if kept.is_empty() {
        return Err(PlotError::NoData);
    }
    // Pruned first, so the trials that went on are drawn over them.
    kept.sort_by_key(|l| !l.pruned);
    let figure = CurvesFigure {
        title,
        y_label,
        lines: &kept,
        rungs,
    };
    write_figure(path, format, SIZE, &figure)
}

struct CurvesFigure<'a> {
    title: &'a str,
    y_label: &'a str,
    lines: &'a [CurveLine],
    rungs: &'a [usize],
}

impl Figure for CurvesFigure<'_> {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        root.fill(&WHITE).map_err(draw_err)?;
        root.draw_text(self.title, &text_style(20.0, BLACK), (MARGIN as i32, 14))
            .map_err(draw_err)?;
        let body = root.margin(HEADER, MARGIN, MARGIN, MARGIN);
        let points = || self.lines.iter().flat_map(|l| l.points.iter());
        let x_max = points().map(|p| p.0).fold(0.0, f64::max);
        let y = padded_range(points().map(|p| p.1), 0.05);
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max * 1.02, y.clone())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("training step")
            .y_desc(self.y_label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(("sans-serif", 15).into_font())
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        // Dashed by hand: 40 dashes over the value range.
        let dash = (y.end - y.start) / 80.0;
        for &step in self.rungs {
            let x = step as f64;
            let dashes = (0..40).map(|k| {
                let y0 = y.start + 2.0 * k as f64 * dash;
                PathElement::new(vec![(x, y0), (x, y0 + dash)], BLACK.mix(0.5))
            });
            chart.draw_series(dashes).map_err(draw_err)?;
        }
        let mut colour = 0;
        for line in self.lines {
            let style = if line.pruned {
                GREY.stroke_width(1)
            } else {
                colour += 1;
                PALETTE[(colour - 1) % PALETTE.len()].stroke_width(2)
            };
            if let [point] = line.points[..] {
                // A trial stopped at its first evaluation (the first rung)
                // has no segment to draw: a dot shows where it stopped.
                chart
                    .draw_series(std::iter::once(Circle::new(point, 2, style.filled())))
                    .map_err(draw_err)?;
                continue;
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    line.points.clone(),
                    style,
                )))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_finite_is_no_data_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.svg");
        let lines = [CurveLine {
            points: vec![(10.0, f64::NAN)],
            pruned: false,
        }];
        assert!(matches!(
            draw_curves(&path, "t", "y", &lines, &[]),
            Err(PlotError::NoData)
        ));
        assert!(!path.exists());
    }

    #[test]
    fn pruned_lines_are_grey_and_drawn_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.svg");
        let lines = [
            CurveLine {
                points: vec![(10.0, 3.0), (20.0, 2.5)],
                pruned: false,
            },
            CurveLine {
                points: vec![(10.0, 3.5)],
                pruned: true,
            },
        ];
        draw_curves(&path, "t", "y", &lines, &[10]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let grey = svg.find("#AAAAAA").expect("a grey mark");
        let first_colour = svg.find("#0072B2").expect("a coloured line");
        assert!(grey < first_colour, "the pruned trial is drawn beneath");
        // Stopped at its first evaluation, it is a dot, not an empty line.
        let dot = svg.find("<circle").expect("a dot for the one-point trial");
        assert!(svg[dot..].starts_with("<circle") && dot < first_colour);
    }
}
