//! What `nas pareto --plot`, `nas darts --plot` and `nas export -o` write:
//! a figure in the format its name says or nothing at all, and an export to
//! a file of the named format or to standard output.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{nas, run_tiny, stderr, stdout, tree};

/// A study `s` of 5 trials with stand-in values, in `dir/s.db`.
fn tiny_study(dir: &Path) {
    let out = run_tiny(dir, "5", &["--study", "s", "--storage", "s.db"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Every path under `dir`, relative to it, but the store's own (SQLite's
/// `-wal` and `-shm` come and go as it is opened).
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    tree(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().starts_with("s.db"))
        .collect()
}

/// `nas COMMAND --study s --storage s.db --plot NAME` (pareto or darts).
fn plot(dir: &Path, command: &str, name: &str) -> Output {
    nas(
        dir,
        &[command, "--study", "s", "--storage", "s.db", "--plot", name],
    )
}

#[test]
fn plot_names_say_the_format_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    tiny_study(dir.path());
    let before = files(dir.path());
    for name in ["out.pdf", "figures/out.pdf", "out", "-"] {
        let out = plot(dir.path(), "pareto", name);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(".png") && err.contains(".svg"),
            "{name}: {err}"
        );
        // Refused before any work: no table printed, no file or folder made.
        assert!(stdout(&out).is_empty(), "{name}: {}", stdout(&out));
        assert_eq!(files(dir.path()), before, "{name}");
        assert!(!dir.path().join("figures").exists());
    }
    // `nas darts` refuses such a name the same way, before it looks at the
    // study (which is not a DARTS one).
    let out = plot(dir.path(), "darts", "a.pdf");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(".png or .svg"), "{}", stderr(&out));
    assert_eq!(files(dir.path()), before);

    // Any case of a known extension is that format.
    let out = plot(dir.path(), "pareto", "out.SVG");
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(dir.path().join("out.SVG")).unwrap();
    roxmltree::Document::parse(&svg).expect("an SVG document");
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    let out = plot(dir.path(), "pareto", "out.Png");
    assert!(out.status.success(), "{}", stderr(&out));
    let png = std::fs::read(dir.path().join("out.Png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn export_to_standard_output_and_formats_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    tiny_study(dir.path());
    let before = files(dir.path());
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--study", "s", "--storage", "s.db", "--best"];
        args.extend_from_slice(extra);
        nas(dir.path(), &args)
    };

    // `-o -`: the document alone on stdout, TOML by default; no file `-`.
    let out = export(&["-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: toml::Value = toml::from_str(&stdout(&out)).expect("stdout is TOML");
    assert!(doc.get("architecture").is_some(), "{doc}");
    let arch = hybrid_nas::arch::Architecture::from_toml(&stdout(&out)).unwrap();
    assert!(!arch.layers.is_empty());
    assert!(stderr(&out).contains("exported trial"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("exported trial"));
    assert!(stderr(&out).contains("standard output"), "{}", stderr(&out));
    assert_eq!(files(dir.path()), before);

    let out = export(&["--format", "json", "-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert!(json["architecture"].is_object(), "{json}");
    assert_eq!(files(dir.path()), before);

    // A --format that the name contradicts is refused, and nothing written.
    for (format, name) in [("json", "x.toml"), ("toml", "x.json")] {
        let out = export(&["--format", format, "-o", name]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(format), "{}", stderr(&out));
        assert!(!dir.path().join(name).exists());
    }
    // One that agrees, or a name that says no format, is fine.
    let out = export(&["--format", "json", "-o", "x.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(dir.path().join("x.json")).unwrap(),
    )
    .unwrap();
    let out = export(&["--format", "toml", "-o", "x.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.path().join("-").exists());
}
