//! What `nas run` prints for a person reading it: the closing hints and the
//! per-trial lines written when stderr is not a terminal.

mod common;

use common::{run_tiny, stderr};

/// The closing `next:` hints are commands that paste as they are: one per
/// line, never joined with `|` (a pipe to a shell), each with the store the
/// run used, quoted when the path has a space.
#[test]
fn next_hints_are_one_pasteable_command_per_line_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_tiny(
        dir.path(),
        "3",
        &["--study", "s1", "--storage", "my runs.db"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let hints: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("next: "))
        .map(|l| l.trim_start_matches("next:").trim())
        .collect();
    assert_eq!(hints.len(), 3, "{err}");
    for hint in &hints {
        assert!(hint.starts_with("nas "), "{hint}");
        assert!(!hint.contains('|'), "{hint}");
        assert!(hint.contains("--study s1 --storage 'my runs.db'"), "{hint}");
    }
    // Each hint runs as printed (the plot one writes a file; skip it).
    for hint in hints.iter().filter(|h| !h.contains("--plot")) {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(hint.replacen("nas", env!("CARGO_BIN_EXE_nas"), 1))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(status.status.success(), "{hint}: {}", stderr(&status));
    }
}

/// Without a terminal, each finished trial is one line: its number, its
/// seconds, its design and every objective's value.
#[test]
fn without_a_terminal_each_trial_is_one_line_with_its_values_and_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_tiny(dir.path(), "4", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("trial ")).collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("trial {i} complete in ")),
            "{line}"
        );
        assert!(line.contains(" s: d"), "{line}");
        let seconds = line
            .trim_start_matches(&format!("trial {i} complete in "))
            .split(' ')
            .next()
            .unwrap();
        assert!(seconds.parse::<f64>().is_ok(), "seconds measured: {line}");
        assert!(
            line.contains("val_ppl ") && line.contains("params "),
            "{line}"
        );
        assert!(
            line.contains("(stand-in)"),
            "analytic values are labelled: {line}"
        );
        assert!(line.contains(&format!("({}/4 complete", i + 1)), "{line}");
    }
}
