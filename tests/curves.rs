//! `nas curves`: every trial's stored learning curve, listed or drawn, and
//! the store left as it was.

mod common;

use std::path::Path;

use common::{nas, stderr, stdout};

/// Three trials of the bundled tiny space, really trained: 50 steps,
/// evaluated at 25 and 50.
fn trained(dir: &Path) {
    let out = nas(
        dir,
        &[
            "run",
            "--space",
            "tiny",
            "--trials",
            "3",
            "--storage",
            "s.db",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `nas curves --storage s.db` of study `study`, then `extra`.
fn nas_curves(dir: &Path, study: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["curves", "--study", study, "--storage", "s.db"];
    args.extend_from_slice(extra);
    nas(dir, &args)
}

#[test]
fn curves_list_and_draw_what_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    let before = std::fs::read(dir.path().join("s.db")).unwrap();
    let out = nas_curves(dir.path(), "tiny", &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let curves: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(curves.len(), 3);
    // The last point of each curve is the trial's final validation loss.
    let out = nas(
        dir.path(),
        &["trials", "--study", "tiny", "--storage", "s.db", "--json"],
    );
    let trials: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (c, t) in curves.iter().zip(&trials) {
        assert_eq!(c["number"], t["number"]);
        let points = c["points"].as_array().unwrap();
        let steps: Vec<u64> = points.iter().map(|p| p[0].as_u64().unwrap()).collect();
        assert_eq!(steps, vec![25, 50]);
        let last = points[1][1].as_f64().unwrap();
        let stored = t["metrics"]["val_loss"].as_f64().unwrap();
        assert!((last - stored).abs() < 1e-12, "{last} against {stored}");
        // A model that learns: lower at the end than half-way.
        assert!(last < points[0][1].as_f64().unwrap());
    }

    let out = nas_curves(dir.path(), "tiny", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("val_loss by training step"), "{table}");
    assert_eq!(table.lines().filter(|l| l.contains("complete")).count(), 3);

    // One line per trial; a rung adds its 40 dashes.
    let lines_in = |extra: &[&str]| {
        let out = nas_curves(dir.path(), "tiny", &[&["--plot", "c.svg"], extra].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let svg = std::fs::read_to_string(dir.path().join("c.svg")).unwrap();
        svg.matches("<polyline").count()
    };
    let plain = lines_in(&[]);
    assert!(plain >= 3, "{plain}");
    assert_eq!(lines_in(&["--rungs", "25"]), plain + 40);
    assert_eq!(std::fs::read(dir.path().join("s.db")).unwrap(), before);
}

#[test]
fn a_missing_study_or_a_bad_plot_name_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_tiny(dir.path(), "3", &["--storage", "s.db"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(dir.path().join("s.db")).unwrap();
    let out = nas_curves(dir.path(), "nope", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = nas_curves(dir.path(), "tiny", &["--plot", "c.gif"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("c.gif").exists());
    assert_eq!(std::fs::read(dir.path().join("s.db")).unwrap(), before);
}
