//! The two file formats a figure is written in, told by the file name.

use std::path::{Path, PathBuf};

use super::PlotError;

/// PNG or SVG, from the extension (any case). Any other name is refused
/// rather than written in a format it does not say (`front.pdf` holding a
/// PNG), which is why there is no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// The format `path` names: `.png` or `.svg`, in any case. Anything else,
    /// no extension and `-` included, is [`PlotError::Format`].
    pub fn from_path(path: &Path) -> Result<Self, PlotError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("png") {
            Ok(Format::Png)
        } else if ext.eq_ignore_ascii_case("svg") {
            Ok(Format::Svg)
        } else {
            Err(PlotError::Format(PathBuf::from(path)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_png_and_svg_in_any_case() {
        assert_eq!(Format::from_path(Path::new("a.png")).unwrap(), Format::Png);
        assert_eq!(
            Format::from_path(Path::new("d/a.PnG")).unwrap(),
            Format::Png
        );
        assert_eq!(Format::from_path(Path::new("a.SVG")).unwrap(), Format::Svg);
        for bad in ["a.pdf", "a", "-", "a.svg.gz", ".svg", "a.jpeg"] {
            let err = Format::from_path(Path::new(bad)).unwrap_err();
            assert!(err.to_string().contains(".png or .svg"), "{bad}: {err}");
        }
    }
}
