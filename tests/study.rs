//! Search studies end to end through the CLI: a real study on the tiny space,
//! resume after SIGKILL, two processes on one study, bad spaces, export.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{kill_ten_times, nas, spawn_nas, stderr, stdout, write_corpus};
use hybrid_nas::metrics;
use hybrid_nas::store::{FailKind, SqliteStore, Store, TrialState};

fn trials_of(db: &Path, study: &str) -> Vec<hybrid_nas::store::TrialRecord> {
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let study = store.find_study(study).unwrap().expect("study exists");
    store.trials(study.id).unwrap()
}

fn count(trials: &[hybrid_nas::store::TrialRecord], state: TrialState) -> usize {
    trials.iter().filter(|t| t.state == state).count()
}

fn assert_numbers_unique(trials: &[hybrid_nas::store::TrialRecord]) {
    let mut numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    numbers.sort_unstable();
    let before = numbers.len();
    numbers.dedup();
    assert_eq!(before, numbers.len(), "duplicate trial numbers");
}

#[test]
fn tiny_space_real_study_trains_and_exports_a_trainable_file() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 30_000);
    // The tiny space with this test's corpus and a 3-trial budget.
    let text = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    let space = dir.path().join("tiny.toml");
    std::fs::write(&space, with_corpus(text, &corpus)).unwrap();
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny.toml",
            "--trials",
            "3",
            "--study",
            "t",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let trials = trials_of(&dir.path().join("runs/nas.db"), "t");
    assert_eq!(count(&trials, TrialState::Complete), 3, "{}", stderr(&out));
    for t in &trials {
        let ppl = t.value(metrics::VAL_PPL).unwrap();
        assert!(ppl.is_finite() && ppl > 1.0);
        assert!(t.value(metrics::TRAIN_SECONDS).unwrap() > 0.0);
        assert!(t.value(metrics::LATENCY).unwrap() > 0.0);
        // One trial at a time: its peak is measured (libtorch alone is
        // about 100 MiB resident).
        let peak = t.value(metrics::PEAK_RSS).expect("peak memory measured");
        assert!(peak > 20e6 && peak < 8e9, "{peak}");
    }
    let store = SqliteStore::open(dir.path().join("runs/nas.db").to_str().unwrap()).unwrap();
    assert!(
        !store.curve(trials[0].id).unwrap().is_empty(),
        "learning curve stored"
    );

    let out = nas(
        dir.path(),
        &["export", "--study", "t", "--best", "-o", "best.toml"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let corpus = corpus.to_str().unwrap();
    let out = nas(
        dir.path(),
        &[
            "train",
            "--arch",
            "best.toml",
            "--corpus",
            corpus,
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "16",
            "--eval-batches",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let best = trials
        .iter()
        .min_by(|a, b| {
            let ppl = |t: &hybrid_nas::store::TrialRecord| t.value(metrics::VAL_PPL).unwrap();
            ppl(a).total_cmp(&ppl(b))
        })
        .unwrap();
    assert!(stdout(&out).contains(&best.arch_short));

    // Without flags the export trains with the trial's own [training] table
    // (seed included), so the same corpus and thread count give the trial's
    // validation loss again, to the bit.
    let out = nas(
        dir.path(),
        &["train", "--arch", "best.toml", "--corpus", corpus, "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let exported: toml::Table = std::fs::read_to_string(dir.path().join("best.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let training = serde_json::to_value(&exported["training"]).unwrap();
    assert_eq!(report["training"], training, "the [training] table is used");
    assert_eq!(
        report["report"]["val_loss"].as_f64(),
        best.value(metrics::VAL_LOSS),
        "retraining the exported trial reproduces it"
    );
    // A flag overrides one value and keeps the rest.
    let out = nas(
        dir.path(),
        &[
            "train",
            "--arch",
            "best.toml",
            "--corpus",
            corpus,
            "--steps",
            "3",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["training"]["steps"], 3);
    assert_eq!(report["training"]["seq_len"], training["seq_len"]);
    assert_eq!(report["training"]["seed"], training["seed"]);
}

/// Points the space's `[task]` at a corpus file.
fn with_corpus(space: &str, corpus: &Path) -> String {
    let line = format!("corpus = \"{}\"", corpus.display());
    let mut out = String::new();
    let mut in_task = false;
    for l in space.lines() {
        if l.trim_start().starts_with("corpus") && in_task {
            continue;
        }
        out.push_str(l);
        out.push('\n');
        if l.trim() == "[task]" {
            in_task = true;
            out.push_str(&line);
            out.push('\n');
        } else if l.trim_start().starts_with('[') {
            in_task = false;
        }
    }
    out
}

#[test]
fn sigkill_at_random_moments_then_resume_loses_no_trial() {
    let dir = tempfile::tempdir().unwrap();
    let budget = 1500;
    let args = [
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--study",
        "k",
        "--trials",
        "1500",
        "--json",
    ];
    let killed = kill_ten_times(dir.path(), &args, 37);
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = dir.path().join("runs/nas.db");
    let trials = trials_of(&db, "k");
    assert_eq!(count(&trials, TrialState::Complete), budget);
    assert_eq!(count(&trials, TrialState::Running), 0);
    assert_numbers_unique(&trials);
    // Every failed trial is one a killed process left behind.
    for t in trials.iter().filter(|t| t.state == TrialState::Failed) {
        assert!(
            t.error.as_deref().unwrap_or("").contains("died"),
            "{:?}",
            t.error
        );
        assert_eq!(t.fail_kind, Some(FailKind::WorkerDied), "{:?}", t.error);
    }
    assert!(
        killed >= 5,
        "only {killed} of 10 runs were killed mid-study"
    );
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn two_processes_share_one_study_budget() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--study",
        "c",
        "--trials",
        "800",
        "--json",
    ];
    // Create the study first so both processes continue the same one.
    let out = nas(dir.path(), &[&args[..7], &["--trials", "1"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let a = spawn_nas(dir.path(), &args);
    let b = spawn_nas(dir.path(), &args);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(!err.contains("locked"), "{err}");
    }
    let trials = trials_of(&dir.path().join("runs/nas.db"), "c");
    assert_eq!(count(&trials, TrialState::Complete), 800);
    assert_eq!(trials.len(), 800, "no failed or extra trials");
    assert_numbers_unique(&trials);
    let workers: std::collections::HashSet<_> = trials
        .iter()
        .map(|t| t.worker.rsplit_once(':').unwrap().0.to_string())
        .collect();
    assert!(workers.len() >= 2, "both processes worked: {workers:?}");
}

#[test]
fn malformed_spaces_exit_2_and_leave_no_study() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad_spaces");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        let out = nas(
            dir.path(),
            &[
                "run",
                "--space",
                path.to_str().unwrap(),
                "--evaluator",
                "analytic",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            path.display(),
            stderr(&out)
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
        // Said once: no cause printed again after the message that holds it.
        assert_eq!(stderr(&out).matches(name).count(), 1, "{}", stderr(&out));
        assert!(
            !dir.path().join("runs").exists(),
            "{name}: a store was created"
        );
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} malformed spaces");
}

#[test]
fn continuing_with_a_changed_space_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let text = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    std::fs::write(dir.path().join("s.toml"), text).unwrap();
    let args = [
        "run",
        "--space",
        "s.toml",
        "--evaluator",
        "analytic",
        "--study",
        "x",
        "--trials",
        "2",
    ];
    assert!(nas(dir.path(), &args).status.success());
    std::fs::write(dir.path().join("s.toml"), format!("{text}\n# changed\n")).unwrap();
    let out = nas(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let forced = [&args[..8], &["3", "--force"]].concat();
    let out = nas(dir.path(), &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        count(
            &trials_of(&dir.path().join("runs/nas.db"), "x"),
            TrialState::Complete
        ),
        3
    );
}

#[test]
fn bundled_spaces_resolve_by_bare_name_only() {
    let dir = tempfile::tempdir().unwrap();
    // A path that does not exist is an error, not the bundled space of its stem.
    for arg in [
        "spaces/tiny.toml",
        "./tiny.toml",
        "search_spaces/nope/recall.toml",
    ] {
        let out = nas(
            dir.path(),
            &[
                "run",
                "--space",
                arg,
                "--evaluator",
                "analytic",
                "--trials",
                "2",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{arg}: {}", stderr(&out));
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
        assert!(
            !dir.path().join("runs").exists(),
            "{arg}: a store was created"
        );
    }
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--trials",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = nas(dir.path(), &["trials", "--study", "tiny", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2);
    let out = nas(dir.path(), &["studies"]);
    assert!(stdout(&out).contains("tiny"), "{}", stdout(&out));
}

#[test]
fn interrupt_marks_the_running_trial_failed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 30_000);
    let text = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    std::fs::write(dir.path().join("tiny.toml"), with_corpus(text, &corpus)).unwrap();
    // Many steps so the first trial is still training when the signal comes.
    let child = Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(dir.path())
        .args([
            "--threads",
            "1",
            "run",
            "--space",
            "tiny.toml",
            "--study",
            "i",
            "--trials",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let db = dir.path().join("runs/nas.db");
    // Wait until the first trial is claimed, then interrupt.
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if db.exists() {
            if let Ok(store) = SqliteStore::open(db.to_str().unwrap()) {
                if let Ok(Some(s)) = store.find_study("i") {
                    if !store.trials(s.id).unwrap().is_empty() {
                        break;
                    }
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no trial started"
        );
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trials = trials_of(&db, "i");
    assert_eq!(count(&trials, TrialState::Running), 0);
    let failed: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{trials:?}");
    assert_eq!(failed[0].error.as_deref(), Some("interrupted"));
    assert_eq!(failed[0].fail_kind, Some(FailKind::Interrupted));
}

#[test]
fn designs_that_always_fail_are_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 30_000);
    let text = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    // A learning rate at which every design diverges.
    let text = with_corpus(text, &corpus).replace("lr = 3e-3", "lr = 1e12\nweight_decay = 0.0");
    std::fs::write(dir.path().join("bad_lr.toml"), text).unwrap();
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "bad_lr.toml",
            "--study",
            "f",
            "--trials",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("failed in a row"), "{}", stderr(&out));
    let trials = trials_of(&dir.path().join("runs/nas.db"), "f");
    assert_eq!(count(&trials, TrialState::Failed), 10);
    let designs: std::collections::HashSet<_> = trials.iter().map(|t| &t.arch_hash).collect();
    assert!(
        designs.len() >= 5,
        "the same design was retried: {designs:?}"
    );
    assert!(trials[0].error.as_deref().unwrap().contains("diverged"));
    assert!(trials
        .iter()
        .all(|t| t.fail_kind == Some(FailKind::Diverged)));
}
