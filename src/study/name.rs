//! Study names: the alphabet a new study's name must keep, and the path
//! component a name becomes where a command derives a file from it (the
//! default plot folder `runs/<study>/`).
//!
//! A name is 1 to [`MAX_LEN`] ASCII letters, digits, `.`, `_` or `-`, and does
//! not start with `.`: such a name is one plain path component (no `/`, not
//! `.` or `..`, not hidden), prints as itself and needs no quoting in a
//! shell. The rule is checked when a study is created; studies an earlier
//! release stored under other names still open, list and continue, and the
//! paths derived from their names go through [`path_component`].

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::terminal;

/// The longest study name, in characters.
pub const MAX_LEN: usize = 100;

/// The rule, as messages and the README state it.
pub const RULE: &str = "a study name is 1 to 100 ASCII letters, digits, `.`, `_` or `-`, \
                        not starting with `.`";

/// Characters of a name that is not a valid one, kept in a path component.
const KEPT_IN_PATHS: usize = 60;

/// Why a name cannot name a new study.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "study name `{shown}`: {problem}; {RULE} (pass another --study, or change the space's `name`)"
)]
pub struct StudyNameError {
    /// The name, escaped and cut for printing.
    pub shown: String,
    pub problem: String,
}

/// Whether `c` may appear in a study name.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Checks `name` against the alphabet of new study names.
pub fn check(name: &str) -> Result<(), StudyNameError> {
    let refuse = |problem: String| StudyNameError {
        shown: terminal::quote(name, 40),
        problem,
    };
    if name.is_empty() {
        return Err(refuse("it is empty".into()));
    }
    let len = name.chars().count();
    if len > MAX_LEN {
        return Err(refuse(format!("it has {len} characters")));
    }
    if name.starts_with('.') {
        return Err(refuse("it starts with `.`".into()));
    }
    if let Some((at, c)) = name.char_indices().find(|&(_, c)| !allowed(c)) {
        return Err(refuse(format!(
            "`{}` at byte {at} is not allowed",
            terminal::escape(&c.to_string())
        )));
    }
    Ok(())
}

/// The name as one safe path component: itself when it is a valid name;
/// otherwise its allowed characters (others as `_`, a leading `.` as `_`,
/// at most 60 of them) and a hash of the whole name, so that two names never
/// share a folder. Never empty, never `.` or `..`, never holds `/`.
pub fn path_component(name: &str) -> String {
    if check(name).is_ok() {
        return name.to_string();
    }
    let mut kept: String = name
        .chars()
        .take(KEPT_IN_PATHS)
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    if kept.starts_with('.') {
        kept.replace_range(..1, "_");
    }
    let prefix = if kept.is_empty() { "study" } else { &kept };
    format!("{prefix}-{}", short_hash(name))
}

/// The folder under `root` for files derived from these studies (one name,
/// or several joined by `+`, as `nas pareto` overlays them); a list too long
/// for one component becomes a hash of it.
pub fn output_dir(root: &Path, names: &[&str]) -> PathBuf {
    let parts: Vec<String> = names.iter().map(|n| path_component(n)).collect();
    let joined = parts.join("+");
    if joined.chars().count() <= 2 * MAX_LEN {
        root.join(joined)
    } else {
        root.join(format!("studies-{}", short_hash(&joined)))
    }
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Component;

    fn hostile() -> Vec<String> {
        let mut names: Vec<String> = [
            "../x",
            "/abs",
            "..",
            ".",
            "",
            "a/b",
            "a\nb",
            "\u{1b}[31m",
            "..\\x",
            "~",
            " ",
            ".hidden",
        ]
        .map(String::from)
        .into();
        names.push("y".repeat(10_000));
        names.push("é".repeat(3));
        names
    }

    #[test]
    fn the_alphabet_is_checked() {
        for good in ["tiny", "hybrid-2", "run_3.b", "A", &"z".repeat(MAX_LEN)] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in hostile() {
            let err = check(&bad).expect_err(&bad);
            let message = err.to_string();
            assert!(message.contains("ASCII letters"), "{message}");
            assert!(!message.contains('\n') && !message.contains('\u{1b}'));
            assert!(message.len() < 400, "a long name is cut: {}", message.len());
        }
        assert!(check(&"z".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn derived_paths_stay_one_plain_component() {
        let root = Path::new("runs");
        for name in hostile().iter().chain([&"ok".to_string()]) {
            let part = path_component(name);
            let path = root.join(&part);
            assert!(part.chars().count() <= MAX_LEN, "{part}");
            assert!(!part.is_empty() && !part.starts_with('.'), "{part}");
            let components: Vec<_> = path.components().collect();
            assert_eq!(components.len(), 2, "{name:?} -> {path:?}");
            assert!(matches!(components[1], Component::Normal(_)), "{path:?}");
            assert_eq!(check(&part), Ok(()), "{part}");
        }
        assert_eq!(path_component("tiny"), "tiny");
        assert_ne!(path_component("a/b"), path_component("a_b"));
        assert_ne!(path_component("a/b"), path_component("a\\b"));
        let many: Vec<String> = (0..50).map(|i| format!("study-{i}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let dir = output_dir(root, &names);
        assert_eq!(dir.components().count(), 2, "{dir:?}");
        assert_eq!(output_dir(root, &["a", "b"]), root.join("a+b"));
    }
}
