//! The key under a Pareto plot: the labels that found no room beside their
//! points, each after the number its point carries ("1  d64 S16×3 A4"), in
//! columns as wide as the longest entry. Text only.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::draw_err;
use super::font::{text_size, text_style};
use super::placement::KeyEntry;
use super::PlotError;

/// Font size of an entry.
pub(super) const KEY_SIZE: f64 = 17.0;
/// Between the axis title above and the first row.
const TOP: f64 = 6.0;
const ROW_GAP: f64 = 6.0;
const COLUMN_GAP: f64 = 28.0;

/// The entries, measured and laid out for a band of a given width.
pub(super) struct Key {
    texts: Vec<(String, RGBColor)>,
    column_width: f64,
    row_height: f64,
    rows: usize,
    /// Pixels of height the key takes (0 with no entry).
    pub(super) height: f64,
}

impl Key {
    pub(super) fn measure<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        entries: &[KeyEntry],
        width: f64,
    ) -> Result<Self, PlotError> {
        let texts: Vec<(String, RGBColor)> = entries
            .iter()
            .map(|e| (format!("{}  {}", e.number, e.text), e.color))
            .collect();
        let mut widest: f64 = 0.0;
        let mut row_height: f64 = 0.0;
        for (text, _) in &texts {
            let (w, h) = text_size(root, text, KEY_SIZE)?;
            widest = widest.max(w);
            row_height = row_height.max(h);
        }
        let column_width = widest + COLUMN_GAP;
        // An entry wider than the band gets a column of its own and runs
        // past the plot's right edge rather than being cut.
        let columns = (((width + COLUMN_GAP) / column_width).floor() as usize).max(1);
        let rows = texts.len().div_ceil(columns);
        let height = if rows == 0 {
            0.0
        } else {
            TOP + rows as f64 * (row_height + ROW_GAP)
        };
        Ok(Key {
            texts,
            column_width,
            row_height,
            rows,
            height,
        })
    }

    /// Draws the entries from `(x, y)`, the top left of the key, down each
    /// column in turn so that the numbers read in order.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        (x, y): (f64, f64),
    ) -> Result<(), PlotError> {
        for (k, (text, colour)) in self.texts.iter().enumerate() {
            let (column, row) = (k / self.rows, k % self.rows);
            let at = (
                (x + column as f64 * self.column_width) as i32,
                (y + TOP + row as f64 * (self.row_height + ROW_GAP)) as i32,
            );
            root.draw_text(text, &text_style(KEY_SIZE, *colour), at)
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
