//! CSV records with RFC 4180 quoting, for tables that pandas, R or a
//! spreadsheet read as they are.
//!
//! A field holding a comma or a double quote is quoted, its quotes doubled.
//! Control characters (a newline in a failure message, an ESC) are written
//! as visible escapes ([`crate::terminal::escape`]) instead of raw: every
//! record stays one line, so line tools (`wc -l`, `grep`, `head`) count and
//! cut records, and the text is safe to print on a terminal.

use crate::terminal;

/// One record, fields joined by commas, ending with a newline.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// One field, escaped and quoted where needed.
pub fn field(text: &str) -> String {
    let text = terminal::escape(text);
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// A number as a field: integers without a decimal point (`123456`), others
/// in Rust's shortest form that reads back to the same value (`0.1`,
/// `1e-7`), `NaN`, `inf` and `-inf` as pandas reads them.
pub fn number(v: f64) -> String {
    // Below 2^53 every integer-valued f64 is exact as an i64.
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field(""), "");
        assert_eq!(record(&["1", "d64 S16, A4", "x"]), "1,\"d64 S16, A4\",x\n");
    }

    #[test]
    fn control_characters_never_break_a_record() {
        let line = record(&["two\nlines", "esc\u{1b}[31m"]);
        assert_eq!(line, "two\\nlines,esc\\u{1b}[31m\n");
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn numbers_read_back_as_the_same_value() {
        assert_eq!(number(123_456.0), "123456");
        assert_eq!(number(-2.0), "-2");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "inf");
        for v in [1e-7, 13.569991713644775, 2.5e20, 1e300, -0.5] {
            assert_eq!(number(v).parse::<f64>().unwrap(), v);
        }
    }
}
