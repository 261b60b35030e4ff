//! The embedded font and the text styles drawn with it.
//!
//! Our backends draw every glyph from these bytes (see `glyphs`), in PNG and
//! SVG alike, whatever family a style names: no figure depends on a system
//! font, neither where it is written nor where it is viewed.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::draw_err;
use super::PlotError;

pub(super) static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Registered under the generic name so that plotters' own defaults (mesh
/// labels use `FontFamily::SansSerif`) find it too, wherever plotters looks
/// a font up itself rather than asking the backend.
pub(super) const FONT: &str = "sans-serif";

/// Registers the embedded font with plotters, once per process.
pub(super) fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// Em size in pixels of plotters' font "size": what plotters' own SVG
/// backend would write as `font-size` (`size / 1.24`), kept so that the
/// sizes the figures were tuned with still hold.
pub(super) fn em(size: f64) -> f64 {
    size / 1.24
}

/// Text in the embedded font, anchored at its top left.
pub(super) fn text_style(size: f64, color: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, size).into_font());
    // Set directly: `TextStyle::color` borrows the colour for the style's
    // lifetime, which a returned style cannot do.
    style.color = color.to_backend_color();
    style.pos = Pos::new(HPos::Left, VPos::Top);
    style
}

/// Width and height in pixels that `text` takes at `size`, for placing it.
pub(super) fn text_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> Result<(f64, f64), PlotError> {
    let (w, _) = root
        .estimate_text_size(text, &text_style(size, BLACK))
        .map_err(draw_err)?;
    // One em: with a Top anchor the ink runs from about the cap height just
    // below the anchor to the descenders one em below it.
    Ok((w as f64, em(size).round()))
}
