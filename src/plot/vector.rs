//! The backend behind SVG figures: plotters' SVG backend with its text drawn
//! here as glyph outlines, so that an SVG needs no font on the machine that
//! shows it and looks like the PNG.
//!
//! plotters' SVG backend writes `<text font-family="sans-serif">`, which each
//! viewer renders in whatever font it has. Here each text becomes one filled
//! `<path>` of the embedded font's outlines, laid out by [`Glyphs`] exactly as
//! the PNG's pixels are, with the text kept in an `aria-label` for screen
//! readers and for anyone searching the file. The SVG backend takes no raw
//! elements, so the paths are collected apart and [`insert_text`] puts them
//! in the document once it is complete: text lies above everything else,
//! which suits the figures here (nothing is drawn over text in them).

use std::fmt::Write as _;

use ab_glyph::{Font, OutlineCurve, Point};
use plotters::prelude::{DrawingBackend, SVGBackend};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};

use super::glyphs::{anchor_offset, Glyphs, Line};
use super::PlotError;

pub(super) struct Vector<'a> {
    inner: SVGBackend<'a>,
    glyphs: Glyphs,
    /// The text paths so far, one element per line.
    text: &'a mut String,
}

impl<'a> Vector<'a> {
    /// Draws into `inner`, and the text into `text` for [`insert_text`].
    pub(super) fn new(inner: SVGBackend<'a>, text: &'a mut String) -> Result<Self, PlotError> {
        Ok(Vector {
            inner,
            glyphs: Glyphs::new()?,
            text,
        })
    }
}

/// `svg` with the `text` elements just before its closing tag.
pub(super) fn insert_text(mut svg: String, text: &str) -> String {
    let end = svg.rfind("</svg>").unwrap_or(svg.len());
    svg.insert_str(end, text);
    svg
}

/// The outlines of `line` as SVG path data. `place` maps a point in pixels
/// from the pen's start (y down) to the figure.
fn path_data(glyphs: &Glyphs, line: &Line, place: impl Fn(f32, f32) -> (f32, f32)) -> String {
    let mut d = String::new();
    for glyph in &line.glyphs {
        let Some(outline) = glyphs.font.outline(glyph.id) else {
            continue;
        };
        let (sx, sy) = (line.scale.horizontal, line.scale.vertical);
        let (ox, oy) = (glyph.position.x, glyph.position.y);
        // Font units have y up; the figure has y down.
        let at = |p: &Point| place(ox + p.x * sx, oy - p.y * sy);
        let mut end: Option<Point> = None;
        for curve in &outline.curves {
            let (start, points): (Point, Vec<&Point>) = match curve {
                OutlineCurve::Line(a, b) => (*a, vec![b]),
                OutlineCurve::Quad(a, b, c) => (*a, vec![b, c]),
                OutlineCurve::Cubic(a, b, c, e) => (*a, vec![b, c, e]),
            };
            // A curve that does not go on from the last one starts a contour.
            if end != Some(start) {
                if end.is_some() {
                    d.push('Z');
                }
                push_point(&mut d, 'M', at(&start));
            }
            let command = ['L', 'Q', 'C'][points.len() - 1];
            for (k, p) in points.iter().enumerate() {
                push_point(&mut d, if k == 0 { command } else { ' ' }, at(p));
            }
            end = points.last().map(|p| **p);
        }
        if end.is_some() {
            d.push('Z');
        }
    }
    d
}

/// `c x y` (or ` x y` when `c` is a space), to a hundredth of a pixel.
fn push_point(d: &mut String, c: char, (x, y): (f32, f32)) {
    d.push(c);
    let _ = write!(d, "{} {}", short(x), short(y));
}

/// A coordinate with at most two decimals and no trailing zeros.
fn short(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".to_string(),
        s => s.to_string(),
    }
}

/// `transform` as a rotation of a point in continuous pixels, as plotters'
/// [`FontTransform::transform`] turns whole ones.
fn rotate(transform: &FontTransform, x: f32, y: f32) -> (f32, f32) {
    match transform {
        FontTransform::None => (x, y),
        FontTransform::Rotate90 => (-y, x),
        FontTransform::Rotate180 => (-x, -y),
        FontTransform::Rotate270 => (y, -x),
    }
}

/// Text escaped for an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters, even escaped.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

impl DrawingBackend for Vector<'_> {
    type ErrorType = std::io::Error;

    forward_to_inner!();

    // Forwarded too, but not in the macro: `Raster` draws its own circles.
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
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
        let line = self.glyphs.layout(text, style.size());
        let (dx, dy) = anchor_offset(style.anchor(), line.width, style.size());
        let transform = style.transform();
        let d = path_data(&self.glyphs, &line, |x, y| {
            let (tx, ty) = rotate(&transform, x + dx as f32, y + dy as f32);
            (pos.0 as f32 + tx, pos.1 as f32 + ty)
        });
        if d.is_empty() {
            return Ok(());
        }
        let (r, g, b) = color.rgb;
        let _ = writeln!(
            self.text,
            r##"<path d="{d}" fill="#{r:02X}{g:02X}{b:02X}" opacity="{}" aria-label="{}"/>"##,
            color.alpha,
            escape(text)
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short() {
        assert_eq!(short(12.0), "12");
        assert_eq!(short(12.504), "12.5");
        assert_eq!(short(-0.001), "0");
        assert_eq!(short(7.126), "7.13");
    }

    #[test]
    fn each_contour_is_one_closed_subpath() {
        let glyphs = Glyphs::new().unwrap();
        // "o" has two contours (outside and the hole), "l" one.
        let d = path_data(&glyphs, &glyphs.layout("ol", 20.0), |x, y| (x, y));
        assert_eq!(d.matches('M').count(), 3, "{d}");
        assert_eq!(d.matches('Z').count(), 3, "{d}");
        assert!(d.starts_with('M') && d.ends_with('Z'));
    }

    #[test]
    fn text_goes_before_the_closing_tag() {
        let svg = insert_text("<svg>\n<rect/>\n</svg>\n".into(), "<path/>\n");
        assert_eq!(svg, "<svg>\n<rect/>\n<path/>\n</svg>\n");
    }
}
