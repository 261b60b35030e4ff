//! Text for the terminal. Strings read back from a store (study names,
//! failure messages, architecture labels) or typed by someone else may hold
//! control characters; printed raw, an ESC sequence would drive the user's
//! terminal and a newline would forge an output line. [`escape`] writes them
//! as visible escapes instead.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1) and every bidirectional
/// override written as an escape: `\n`, `\r`, `\t`, else `\u{1b}` and the like.
/// Text without any is returned as it is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`, escaped, with `…` when cut: for
/// quoting a possibly huge name in a message.
pub fn quote(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return escape(text).into_owned();
    }
    let head: String = text.chars().take(max).collect();
    format!("{}… ({count} characters)", escape(&head))
}

fn needs_escape(c: char) -> bool {
    // Bidirectional overrides and isolates reorder what follows them on
    // screen (the "Trojan source" trick); they are invisible otherwise.
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert!(matches!(escape("plain-name_1.0"), Cow::Borrowed(_)));
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape("tab\there\r"), "tab\\there\\r");
        assert_eq!(escape("c1\u{9b}x\u{7f}"), "c1\\u{9b}x\\u{7f}");
        assert_eq!(escape("rtl\u{202e}x"), "rtl\\u{202e}x");
        assert_eq!(escape("λ = 0.05 · ü"), "λ = 0.05 · ü");
        for s in ["\u{1b}", "\n", "\u{7}", "\u{8}"] {
            assert!(!escape(s).chars().any(needs_escape));
        }
    }

    #[test]
    fn quotes_are_cut_and_escaped() {
        assert_eq!(quote("short", 10), "short");
        let long = "x".repeat(10_000);
        let q = quote(&long, 20);
        assert!(q.starts_with(&"x".repeat(20)) && q.contains("10000 characters"));
        assert_eq!(quote("\u{1b}abc", 2), "\\u{1b}a… (4 characters)");
    }
}

/// `word` as one shell word, for commands printed for the user to paste:
/// as it is when it holds only characters no shell treats specially, else
/// in single quotes (a quote inside written `'\''`).
pub fn shell_word(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+-,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return Cow::Borrowed(word);
    }
    Cow::Owned(format!("'{}'", escape(word).replace('\'', r"'\''")))
}

#[cfg(test)]
mod shell_word_tests {
    use super::shell_word;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_split_or_expand_them() {
        assert_eq!(shell_word("runs/nas.db"), "runs/nas.db");
        assert_eq!(shell_word("sqlite:///x.db"), "sqlite:///x.db");
        assert_eq!(shell_word("my runs/a b.db"), "'my runs/a b.db'");
        assert_eq!(shell_word("it's.db"), r"'it'\''s.db'");
        assert_eq!(shell_word("$HOME/x|y"), "'$HOME/x|y'");
        assert_eq!(shell_word(""), "''");
    }
}
