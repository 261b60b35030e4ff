//! Point labels: architecture short forms shortened to fit beside a marker.

/// Longest point label, in characters, after run-length compression.
const MAX_LABEL_CHARS: usize = 30;

/// Shortens an architecture label for the figure: runs of a repeated token
/// become `tok×n` ("S16 S16 S16 A4*" -> "S16×3 A4*"), then anything longer
/// than [`MAX_LABEL_CHARS`] is cut with an ellipsis.
pub(super) fn compact_label(label: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut tokens = label.split_whitespace().peekable();
    while let Some(tok) = tokens.next() {
        let mut n = 1;
        while tokens.peek() == Some(&tok) {
            tokens.next();
            n += 1;
        }
        parts.push(if n > 1 {
            format!("{tok}×{n}")
        } else {
            tok.to_string()
        });
    }
    let s = parts.join(" ");
    if s.chars().count() > MAX_LABEL_CHARS {
        let cut: String = s.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_compress_runs() {
        assert_eq!(
            compact_label("d128 S16 S16 S16 A4* S16"),
            "d128 S16×3 A4* S16"
        );
        let long = (0..40)
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let c = compact_label(&long);
        assert_eq!(c.chars().count(), MAX_LABEL_CHARS);
        assert!(c.ends_with('…'));
    }
}
