//! Repetition in the short form: `S16×3` (or `S16x3`) is three `S16` layers.
//!
//! Both sides live here so that what the figures print can always be pasted
//! back into `--arch`: [`compress_runs`] writes runs of a token as `TOKEN×N`,
//! and [`split_repeat`] reads `TOKEN×N` and `TOKENxN` back.

use super::ArchError;

/// The multiplication sign figures print; `x` is accepted in its place
/// because it is easier to type.
const TIMES: char = '×';

/// Writes runs of a repeated token as `TOKEN×N`:
/// `"d128 S16 S16 S16 A4* S16"` -> `"d128 S16×3 A4* S16"`. Nothing is cut:
/// the result parses to the same design as the input.
pub fn compress_runs(short: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut tokens = short.split_whitespace().peekable();
    while let Some(tok) = tokens.next() {
        let mut n = 1;
        while tokens.peek() == Some(&tok) {
            tokens.next();
            n += 1;
        }
        parts.push(if n > 1 {
            format!("{tok}{TIMES}{n}")
        } else {
            tok.to_string()
        });
    }
    parts.join(" ")
}

/// A token and how many times it stands: `("S16", 3)` for `S16×3` or
/// `S16x3`, `(token, 1)` for a token without a count. No layer token
/// contains an `x` of its own, so the last `x` is the separator.
pub(super) fn split_repeat(token: &str) -> Result<(&str, usize), ArchError> {
    let split = token.rsplit_once(TIMES).or_else(|| token.rsplit_once('x'));
    let Some((base, count)) = split else {
        return Ok((token, 1));
    };
    let err = |reason: &str| ArchError::ShortForm {
        token: token.into(),
        reason: reason.into(),
    };
    if base.is_empty() {
        return Err(err("a repeat count follows a layer token, like `S16×3`"));
    }
    if count.is_empty() {
        return Err(err("expected a repeat count after the layer, like `S16×3`"));
    }
    match count.parse::<usize>() {
        Ok(0) => Err(err("a repeat count is at least 1")),
        Ok(n) => Ok((base, n)),
        Err(_) => Err(err("a repeat count is a whole number, like `S16×3`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_compress_without_cutting() {
        assert_eq!(
            compress_runs("d128 S16 S16 S16 A4* S16"),
            "d128 S16×3 A4* S16"
        );
        // Long labels stay whole: no ellipsis, no token cut.
        let long = (0..40)
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(compress_runs(&long), long);
    }

    #[test]
    fn counts_split_off_with_either_sign() {
        assert_eq!(split_repeat("S16×3").unwrap(), ("S16", 3));
        assert_eq!(split_repeat("A4w64*x2").unwrap(), ("A4w64*", 2));
        assert_eq!(split_repeat("S8e1").unwrap(), ("S8e1", 1));
        for bad in ["S16×0", "S16×", "S16x", "×3", "S16×two", "S16×-1"] {
            assert!(split_repeat(bad).is_err(), "{bad}");
        }
    }
}
