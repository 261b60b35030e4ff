//! `nas replay`: early stopping replayed on a study trained to the end, read
//! only from the store.

mod common;

use std::path::Path;

use common::{nas, stderr, stdout};

/// A tiny real study whose curve is evaluated every 5 of 45 steps, so the
/// default rungs (5 and 15 at η = 3) are on every curve.
fn trained_study(dir: &Path) {
    let tiny = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("search_spaces/tiny.toml"),
    )
    .unwrap();
    let space = tiny
        .replace("steps = 50", "steps = 45")
        .replace("eval_interval = 25", "eval_interval = 5")
        .replace("eval_batches = 4", "eval_batches = 2");
    assert_ne!(space, tiny);
    std::fs::write(dir.join("space.toml"), space).unwrap();
    let out = nas(
        dir,
        &[
            "run",
            "--space",
            "space.toml",
            "--trials",
            "6",
            "--storage",
            "s.db",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `nas replay --storage s.db` of study `study`, then `extra`.
fn replay(dir: &Path, study: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["replay", "--study", study, "--storage", "s.db"];
    args.extend_from_slice(extra);
    nas(dir, &args)
}

#[test]
fn replay_reads_the_curves_and_prunes_only_below_the_full_budget() {
    let dir = tempfile::tempdir().unwrap();
    trained_study(dir.path());
    let before = std::fs::read(dir.path().join("s.db")).unwrap();
    let out = replay(dir.path(), "tiny", &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(json["steps"], 45);
    let replays = json["replays"].as_array().unwrap();
    assert_eq!(replays.len(), 2, "asha and hyperband by default");
    for r in replays {
        let r = &r["replay"];
        assert_eq!(r["trials"], 6);
        assert_eq!(r["orders"], 20);
        let total = &r["comparison"]["total_ratio"];
        // Pruning only ever saves steps, and in most orders some.
        assert!(total["q3"].as_f64().unwrap() <= 1.0, "{r}");
        assert!(total["median"].as_f64().unwrap() < 1.0, "{r}");
    }
    // Every evaluation step, and at the last one the curve is the final loss.
    let taus = json["rung_tau"].as_array().unwrap();
    let steps: Vec<u64> = taus.iter().map(|t| t["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, (1..=9).map(|k| k * 5).collect::<Vec<_>>());
    assert!((taus[8]["tau"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    // Read only: the store is as it was.
    assert_eq!(std::fs::read(dir.path().join("s.db")).unwrap(), before);

    // The table says the same in words.
    let out = replay(dir.path(), "tiny", &["--pruner", "asha"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("asha: rungs at 5, 15 of 45 steps"), "{text}");
    assert!(!text.contains("hyperband"), "{text}");
}

#[test]
fn a_rung_off_the_curves_or_an_unknown_study_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    trained_study(dir.path());
    let before = std::fs::read(dir.path().join("s.db")).unwrap();
    let out = replay(dir.path(), "tiny", &["--min-steps", "4"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no validation loss at step 4"),
        "{}",
        stderr(&out)
    );
    let out = replay(dir.path(), "nope", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = replay(dir.path(), "tiny", &["--eta", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("at least 2"), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("s.db")).unwrap(), before);
}
