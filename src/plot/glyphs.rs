//! Text layout in the embedded font, shared by the PNG and SVG backends so
//! that both put every glyph in the same place and measure text alike.

use ab_glyph::{Font, FontRef, Glyph, PxScale, PxScaleFactor, ScaleFont};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{em, FONT_BYTES};
use super::PlotError;

/// The embedded font, parsed once per figure.
pub(super) struct Glyphs {
    pub(super) font: FontRef<'static>,
}

/// One line of text laid out from the pen's start on the baseline (y grows
/// downwards, as in the figure).
pub(super) struct Line {
    /// Each glyph at its fractional position, kerned.
    pub(super) glyphs: Vec<Glyph>,
    /// Pixels per font unit, across and down.
    pub(super) scale: PxScaleFactor,
    /// The advance width in pixels.
    pub(super) width: f64,
}

impl Glyphs {
    pub(super) fn new() -> Result<Self, PlotError> {
        let font = FontRef::try_from_slice(FONT_BYTES).map_err(|_| PlotError::Font)?;
        Ok(Glyphs { font })
    }

    /// `text` at plotters size `size`. Glyphs go at fractional positions
    /// with kerning: plotters' own `ab_glyph` text puts each at a whole pixel
    /// and ignores side bearings, which spaces small text unevenly ("fron t").
    pub(super) fn layout(&self, text: &str, size: f64) -> Line {
        let units = self.font.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from((em(size) as f32) * self.font.height_unscaled() / units);
        let scaled = self.font.as_scaled(scale);
        let mut caret = 0.0f32;
        let mut prev = None;
        let mut glyphs = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scale, ab_glyph::point(caret, 0.0)));
            caret += scaled.h_advance(id);
            prev = Some(id);
        }
        Line {
            glyphs,
            scale: scaled.scale_factor(),
            width: caret as f64,
        }
    }

    /// Width and height, in whole pixels, that a backend reports for `text`:
    /// the advance width and one em.
    pub(super) fn text_box(&self, text: &str, size: f64) -> (u32, u32) {
        let width = self.layout(text, size).width;
        (width.ceil() as u32, em(size).round() as u32)
    }
}

/// From the anchor point to the pen's start on the baseline, in whole pixels,
/// for text `width` pixels wide at plotters size `size`: the offsets of the
/// SVG backend's `text-anchor` and `dy` (0.76em, 0.5ex, -0.5ex), taking an ex
/// as about half an em as in DejaVu Sans.
pub(super) fn anchor_offset(anchor: Pos, width: f64, size: f64) -> (i32, i32) {
    let em = em(size);
    let dx = match anchor.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    let baseline = match anchor.v_pos {
        VPos::Top => 0.76 * em,
        VPos::Center => 0.27 * em,
        VPos::Bottom => -0.27 * em,
    };
    (dx.round() as i32, baseline.round() as i32)
}
