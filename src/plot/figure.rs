//! Writing a figure: one drawing routine, rendered through the SVG or the
//! raster backend as the file's [`Format`] says.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::ensure_font;
use super::format::Format;
use super::raster::Raster;
use super::vector::{insert_text, Vector};
use super::PlotError;

/// Something drawn on a root area of any backend (SVG or the raster one).
pub(super) trait Figure {
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Renders `figure` at `size` pixels into `path` in `format`, with the
/// embedded font. The file is written only once drawing has succeeded.
pub(super) fn write_figure(
    path: &Path,
    format: Format,
    size: (u32, u32),
    figure: &impl Figure,
) -> Result<(), PlotError> {
    ensure_font()?;
    let io_err = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    match format {
        Format::Svg => {
            let (mut svg, mut text) = (String::new(), String::new());
            {
                let backend = Vector::new(SVGBackend::with_string(&mut svg, size), &mut text)?;
                let root = backend.into_drawing_area();
                figure.render(&root)?;
                root.present().map_err(draw_err)?;
            }
            std::fs::write(path, insert_text(svg, &text)).map_err(io_err)
        }
        Format::Png => {
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let bitmap = BitMapBackend::with_buffer(&mut rgb, size);
                let root = Raster::new(bitmap)?.into_drawing_area();
                figure.render(&root)?;
                root.present().map_err(draw_err)?;
            }
            // Encoded here from the buffer: plotters' own file output (its
            // `bitmap_encoder` feature) would bring in the `image` crate.
            let file = std::fs::File::create(path).map_err(io_err)?;
            let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&rgb)?;
            writer.finish()?;
            Ok(())
        }
    }
}

/// A plotters drawing error as ours, keeping its message.
pub(super) fn draw_err<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw(e.to_string())
}
