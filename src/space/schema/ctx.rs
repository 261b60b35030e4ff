//! The parsing context shared by the table parsers: byte spans turned into
//! `origin:line:column` errors, toml's own errors reworded to name the key, and
//! the checks every table uses (choice lists, integers with a bound, names).

use std::ops::Range;

use toml::Spanned;

use crate::space::SpaceError;

/// A list as written, the list and each value with its span.
pub(super) type List<T> = Spanned<Vec<Spanned<T>>>;

/// Validated choice lists keep each value's span for later cross-checks.
pub(super) type Checked<T> = Vec<(T, Range<usize>)>;

/// The values of a checked list, without their spans.
pub(super) fn values<T: Copy>(checked: &Checked<T>) -> Vec<T> {
    checked.iter().map(|(v, _)| *v).collect()
}

/// `one of `a`, `b``: the names of `all`, for an expectation.
pub(super) fn one_of<T: Copy>(all: &[T], name: impl Fn(&T) -> &'static str) -> String {
    let names: Vec<_> = all.iter().map(|v| format!("`{}`", name(v))).collect();
    format!("one of {}", names.join(", "))
}

/// Turns byte spans into `origin:line:column` errors.
pub(super) struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
    /// Whether the files the space names (its corpus) are read and checked.
    pub(super) check_files: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(text: &'a str, origin: &'a str, check_files: bool) -> Self {
        Ctx {
            text,
            origin,
            check_files,
        }
    }
}

impl Ctx<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(super) fn invalid(
        &self,
        span: &Range<usize>,
        key: &str,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> SpaceError {
        let (line, column) = self.position(span.start);
        SpaceError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            key: key.to_string(),
            problem: problem.into(),
            expected: expected.into(),
        }
    }

    /// toml's own error at its span. Messages about keys are reworded to name
    /// the key with its table (`model.depht`); messages about a value get the
    /// key in front, since toml does not name it.
    pub(super) fn toml(&self, err: toml::de::Error) -> SpaceError {
        let offset = err.span().map_or(0, |s| s.start).min(self.text.len());
        let (line, column) = self.position(offset);
        // toml splits some messages over lines ("invalid array\nexpected `]`").
        let raw: Vec<&str> = err
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let raw = raw
            .join(": ")
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number")
            .replace("expected a sequence", "expected a list `[...]`");
        let message = if let Some(rest) = raw.strip_prefix("unknown field `") {
            self.unknown_key(rest, offset)
        } else if let Some(rest) = raw.strip_prefix("missing field `") {
            let field = rest.trim_end_matches('`');
            let table = if TOP_LEVEL.contains(&field) {
                None
            } else {
                table_before(self.text, line_end(self.text, offset))
            };
            format!("`{}`: missing (expected this key)", dotted(table, field))
        } else {
            match key_of_value_at(self.text, offset) {
                Some(key) => format!("`{key}`: {raw}"),
                None => raw,
            }
        };
        SpaceError::Toml {
            origin: self.origin.to_string(),
            line,
            column,
            message,
        }
    }

    /// toml's "unknown field `x`, expected ..." (`rest` follows the first
    /// backtick), as "`table.x`: unknown key (expected ...)".
    fn unknown_key(&self, rest: &str, offset: usize) -> String {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        // An unknown `[table]` header is an unknown key of the top level.
        let on_header = line_at(self.text, offset).trim_start().starts_with('[');
        let table = if on_header {
            None
        } else {
            table_before(self.text, offset)
        };
        let expected = expected.trim_start_matches(", ").trim();
        let expected = if expected.is_empty() {
            String::new()
        } else {
            format!(" ({expected})")
        };
        format!("`{}`: unknown key{expected}", dotted(table, field))
    }
}

/// Keys of the top level (tables included; those of `RawSpace`), to tell
/// where a missing key belongs.
const TOP_LEVEL: &[&str] = &[
    "name",
    "objectives",
    "model",
    "attention",
    "ssm",
    "task",
    "training",
    "search",
    "evolution",
    "darts",
    "recall",
];

fn dotted(table: Option<String>, key: &str) -> String {
    match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    }
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, offset: usize) -> usize {
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

fn line_at(text: &str, offset: usize) -> &str {
    &text[line_start(text, offset)..line_end(text, offset)]
}

/// The name of the last `[table]` header that ends before `offset`.
fn table_before(text: &str, offset: usize) -> Option<String> {
    text[..offset].lines().rev().find_map(|l| {
        let inner = l.trim().strip_prefix('[')?.split(']').next()?;
        let name = inner.trim_start_matches('[').trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The dotted key (`table.key`) whose value starts on the line of `offset`,
/// when `offset` lies after that line's `=`.
fn key_of_value_at(text: &str, offset: usize) -> Option<String> {
    let start = line_start(text, offset);
    let (key, _) = text[start..offset].split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
        return None;
    }
    Some(dotted(table_before(text, start), key))
}

/// What is wrong with an integer under its lower bound.
fn below_min(n: i64) -> String {
    if n < 0 {
        format!("{n} is negative")
    } else {
        format!("{n} is too small")
    }
}

/// The error of an integer above its cap (see [`crate::limits`]).
fn above_cap(n: i64, max: usize) -> String {
    format!("{n} is above the cap of {max}")
}

impl Ctx<'_> {
    /// A non-empty list of distinct integers, each from `min` to `max`.
    pub(super) fn ints(
        &self,
        list: &List<i64>,
        key: &str,
        min: i64,
        max: usize,
        what: &str,
    ) -> Result<Checked<usize>, SpaceError> {
        if list.get_ref().is_empty() {
            return Err(self.invalid(
                &list.span(),
                key,
                "the list is empty",
                format!("one or more {what}"),
            ));
        }
        let mut out: Checked<usize> = Vec::new();
        for item in list.get_ref() {
            let v = *item.get_ref();
            if v < min {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    below_min(v),
                    format!("{what} >= {min}"),
                ));
            }
            if v as u64 > max as u64 {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    above_cap(v, max),
                    format!("{what} from {min} to {max}"),
                ));
            }
            if out.iter().any(|(u, _)| *u as i64 == v) {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    format!("{v} is listed twice"),
                    "each choice once",
                ));
            }
            out.push((v as usize, item.span()));
        }
        Ok(out)
    }

    /// [`Ctx::ints`] when the key is given, else `default` alone (spanless).
    pub(super) fn opt_ints(
        &self,
        list: &Option<List<i64>>,
        key: &str,
        min: i64,
        max: usize,
        what: &str,
        default: usize,
    ) -> Result<Checked<usize>, SpaceError> {
        match list {
            Some(list) => self.ints(list, key, min, max, what),
            None => Ok(vec![(default, 0..0)]),
        }
    }

    /// An optional integer of at least `min` (`expected` says what is
    /// wanted), or `default` when the key is absent.
    pub(super) fn opt_at_least(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        expected: &str,
        default: usize,
    ) -> Result<usize, SpaceError> {
        let Some(v) = v else { return Ok(default) };
        let n = *v.get_ref();
        if n < min {
            return Err(self.invalid(&v.span(), key, below_min(n), expected));
        }
        Ok(n as usize)
    }

    /// [`Ctx::opt_at_least`], and at most `max`.
    pub(super) fn opt_within(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        max: usize,
        expected: &str,
        default: usize,
    ) -> Result<usize, SpaceError> {
        let n = self.opt_at_least(v, key, min, expected, default)?;
        match v {
            Some(v) if n > max => Err(self.invalid(
                &v.span(),
                key,
                above_cap(n as i64, max),
                format!("{expected}, at most {max}"),
            )),
            _ => Ok(n),
        }
    }

    /// An integer from 1 to `max` (`what >= 1`).
    pub(super) fn positive_up_to(
        &self,
        v: &Spanned<i64>,
        key: &str,
        what: &str,
        max: usize,
    ) -> Result<usize, SpaceError> {
        let n = self.positive(v, key, what)?;
        if n > max {
            return Err(self.invalid(
                &v.span(),
                key,
                above_cap(n as i64, max),
                format!("{what} from 1 to {max}"),
            ));
        }
        Ok(n)
    }

    /// An integer of at least 1 (`what >= 1`).
    pub(super) fn positive(
        &self,
        v: &Spanned<i64>,
        key: &str,
        what: &str,
    ) -> Result<usize, SpaceError> {
        let n = *v.get_ref();
        if n <= 0 {
            return Err(self.invalid(
                &v.span(),
                key,
                format!("{n} is not positive"),
                format!("{what} >= 1"),
            ));
        }
        Ok(n as usize)
    }

    /// A finite number above 0 (`expected` says what is wanted).
    pub(super) fn positive_number(
        &self,
        v: &Spanned<f64>,
        key: &str,
        expected: &str,
    ) -> Result<f64, SpaceError> {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0) {
            return Err(self.invalid(&v.span(), key, format!("{x} is not positive"), expected));
        }
        Ok(x)
    }

    /// Values of a list of names, each parsed by `FromStr`, distinct.
    pub(super) fn names<T: std::str::FromStr + PartialEq + Copy>(
        &self,
        list: &List<String>,
        key: &str,
        expected: &str,
    ) -> Result<Checked<T>, SpaceError> {
        if list.get_ref().is_empty() {
            return Err(self.invalid(&list.span(), key, "the list is empty", expected));
        }
        let mut out: Checked<T> = Vec::new();
        for item in list.get_ref() {
            let name = item.get_ref();
            let v: T = name.parse().map_err(|_| {
                self.invalid(
                    &item.span(),
                    key,
                    format!("unknown name `{name}`"),
                    expected,
                )
            })?;
            if out.iter().any(|(u, _)| *u == v) {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    format!("`{name}` is listed twice"),
                    "each name once",
                ));
            }
            out.push((v, item.span()));
        }
        Ok(out)
    }
}
