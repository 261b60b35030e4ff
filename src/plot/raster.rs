//! The backend behind PNG figures.
//!
//! In a module of its own: plotters-backend's style traits clash with the
//! `Color` methods used by the rendering code.

use ab_glyph::Font;
use plotters::prelude::DrawingBackend;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use super::glyphs::{anchor_offset, Glyphs};
use super::PlotError;

/// The bitmap backend with its text and circles drawn here instead.
///
/// plotters' own text spaces glyphs unevenly (see [`Glyphs::layout`]); its
/// stroked circles come out with notches at small radii. Here glyphs are
/// laid out by [`Glyphs`] and circles are anti-aliased by coverage.
/// Everything else is passed through.
pub(super) struct Raster<B> {
    inner: B,
    glyphs: Glyphs,
}

impl<B: DrawingBackend> Raster<B> {
    pub(super) fn new(inner: B) -> Result<Self, PlotError> {
        Ok(Raster {
            inner,
            glyphs: Glyphs::new()?,
        })
    }

    /// Glyph coverage of `text` at plotters size `size`, as pixels relative
    /// to the pen's start on the baseline, and the advance width.
    fn rasterize(&self, text: &str, size: f64) -> (Vec<(i32, i32, f32)>, f64) {
        let line = self.glyphs.layout(text, size);
        let mut pixels = Vec::new();
        for glyph in line.glyphs {
            if let Some(outline) = self.glyphs.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|x, y, cov| {
                    if cov > 0.0 {
                        pixels.push((b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
                    }
                });
            }
        }
        (pixels, line.width)
    }
}

impl<B: DrawingBackend> DrawingBackend for Raster<B> {
    type ErrorType = B::ErrorType;

    forward_to_inner!();

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let r = radius as f64;
        let half_stroke = style.stroke_width().max(1) as f64 / 2.0;
        let reach = (r + half_stroke + 1.0).ceil() as i32;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let d = f64::from(dx * dx + dy * dy).sqrt();
                // Approximate pixel coverage from the distance to the edge.
                let coverage = if fill {
                    r + 0.5 - d
                } else {
                    half_stroke + 0.5 - (d - r).abs()
                }
                .clamp(0.0, 1.0);
                if coverage > 0.0 {
                    let c = BackendColor {
                        alpha: color.alpha * coverage,
                        rgb: color.rgb,
                    };
                    self.inner.draw_pixel((center.0 + dx, center.1 + dy), c)?;
                }
            }
        }
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(self.glyphs.text_box(text, style.size()))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (pixels, width) = self.rasterize(text, style.size());
        let (dx, dy) = anchor_offset(style.anchor(), width, style.size());
        let transform = style.transform();
        for (x, y, coverage) in pixels {
            let (tx, ty) = transform.transform(x + dx, y + dy);
            let c = BackendColor {
                alpha: color.alpha * f64::from(coverage.min(1.0)),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), c)?;
        }
        Ok(())
    }
}
