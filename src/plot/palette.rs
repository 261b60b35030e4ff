//! Series colours shared by the figures.

use plotters::style::RGBColor;

/// Okabe-Ito palette (colour-blind safe), without its yellow, which is
/// unreadable on white.
pub(super) const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// `c` with each channel scaled by `f` (below 1: darker), e.g. for text in a
/// series colour, which needs more contrast than a marker.
pub(super) fn darker(c: RGBColor, f: f64) -> RGBColor {
    let s = |v: u8| (v as f64 * f).round() as u8;
    RGBColor(s(c.0), s(c.1), s(c.2))
}
