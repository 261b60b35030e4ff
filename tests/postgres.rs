//! Studies on PostgreSQL through the `nas` binary: many worker processes,
//! SIGKILLs, a server restart mid-study. Skipped with one line when no test
//! server is configured (`common::backends`), failed in CI.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::backends::TestStore;
use common::{kill_ten_times, nas, spawn_nas, stderr};
use hybrid_nas::store::{AnyStore, FailKind, Store, TrialRecord, TrialState};

fn trials_of(location: &str, study: &str) -> Vec<TrialRecord> {
    let store = AnyStore::open_existing(location).unwrap();
    let study = store.find_study(study).unwrap().expect("study exists");
    store.trials(study.id).unwrap()
}

/// What a study that lost workers must still be: the budget complete,
/// nothing running, each number and each (design, seed) once among the
/// trials that count, and every failure one a lost worker left behind.
fn assert_whole(trials: &[TrialRecord], budget: usize) {
    let complete = trials.iter().filter(|t| t.state == TrialState::Complete);
    assert_eq!(complete.clone().count(), budget);
    assert!(trials.iter().all(|t| t.state != TrialState::Running));
    let numbers: HashSet<i64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers.len(), trials.len(), "duplicate trial numbers");
    let designs: HashSet<(&str, u64)> = complete.map(|t| (t.arch_hash.as_str(), t.seed)).collect();
    assert_eq!(designs.len(), budget, "a design was evaluated twice");
    for t in trials.iter().filter(|t| t.state == TrialState::Failed) {
        assert!(
            matches!(
                t.fail_kind,
                Some(FailKind::WorkerDied | FailKind::HeartbeatLost)
            ),
            "{:?}: {:?}",
            t.fail_kind,
            t.error
        );
    }
}

fn run_args<'a>(location: &'a str, trials: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--study",
        "many",
        "--trials",
        trials,
        "--storage",
        location,
        "--json",
    ]
}

fn wait_ok(child: Child) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn four_workers_one_killed_ten_times_lose_no_trial() {
    let Some(db) = TestStore::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = run_args(&db.location, "3000");
    // Create the study first, so that every worker continues the same one.
    let out = nas(dir.path(), &run_args(&db.location, "1"));
    assert!(out.status.success(), "{}", stderr(&out));
    let steady: Vec<Child> = (0..3).map(|_| spawn_nas(dir.path(), &args)).collect();
    let killed = kill_ten_times(dir.path(), &args, 41);
    steady.into_iter().for_each(wait_ok);
    // Whatever the killed worker left running is reaped and retried here.
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_whole(&trials_of(&db.location, "many"), 3000);
    assert!(
        killed >= 3,
        "only {killed} of 10 runs were killed mid-study"
    );
}

/// A throwaway server of this test's own, which it may restart.
struct OwnServer {
    dir: tempfile::TempDir,
    url: String,
}

impl OwnServer {
    fn start() -> OwnServer {
        let dir = tempfile::Builder::new()
            .prefix("nas-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let port = (56000 + std::process::id() % 1000).to_string();
        let url = server_script(&["start", dir.path().to_str().unwrap(), &port]);
        OwnServer {
            url: common::backends::with_database(url.trim(), "postgres"),
            dir,
        }
    }

    fn restart(&self) {
        server_script(&["restart", self.dir.path().to_str().unwrap()]);
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        server_script(&["stop", self.dir.path().to_str().unwrap()]);
    }
}

fn server_script(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres_server.sh");
    let out = std::process::Command::new(script)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn workers_wait_out_a_server_restart_and_the_study_completes() {
    if TestStore::postgres().is_none() {
        return;
    }
    let server = OwnServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = nas(dir.path(), &run_args(&server.url, "1"));
    assert!(out.status.success(), "{}", stderr(&out));
    let budget = "8000";
    let workers: Vec<Child> = (0..2)
        .map(|_| spawn_nas(dir.path(), &run_args(&server.url, budget)))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    server.restart();
    let down = started.elapsed();
    let before = trials_of(&server.url, "many").len();
    assert!(
        before < 8000,
        "the study ended before the restart ({before} trials): nothing was tested"
    );
    for w in workers {
        wait_ok(w);
    }
    let trials = trials_of(&server.url, "many");
    assert_whole(&trials, 8000);
    eprintln!("restart took {down:?}; {before} trials before it");
}

#[test]
fn read_only_commands_never_create_a_store_and_never_print_the_password() {
    let Some(db) = TestStore::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = db.location.replacen("nas@", "nas:hunter2@", 1);
    for cmd in [&["studies"][..], &["trials", "--study", "x"]] {
        let out = nas(dir.path(), &[cmd, &["--storage", &secret]].concat());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("no store at"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let tables = AnyStore::open_existing(&db.location);
    assert!(tables.is_err(), "a read-only command created the schema");
}

/// What a copy must keep of a study: every trial with its number, state,
/// design, values and curve, and every rung decision by trial number.
fn contents(location: &str, study: &str) -> (Vec<String>, Vec<String>) {
    let store = AnyStore::open_existing(location).unwrap();
    let s = store.find_study(study).unwrap().expect("study exists");
    let trials = store.trials(s.id).unwrap();
    let numbers: std::collections::HashMap<i64, i64> =
        trials.iter().map(|t| (t.id, t.number)).collect();
    let described = trials
        .iter()
        .map(|t| {
            format!(
                "{} {} {} {} {:?} {:?} {:?} {:?}",
                t.number,
                t.state_label(),
                t.arch_hash,
                t.seed,
                t.values,
                t.error,
                t.started,
                store.curve(t.id).unwrap()
            )
        })
        .collect();
    let rungs = store
        .rung_reports(s.id)
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:?} {}",
                numbers[&r.trial_id], r.bracket, r.step, r.competitor, r.promoted
            )
        })
        .collect();
    (described, rungs)
}

/// SQLite → `middle` → SQLite keeps a pruning study exactly; a second
/// copy to the same target is refused (exit 2) and changes nothing.
fn copy_round_trip(middle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--pruner",
        "asha",
        "--study",
        "p",
        "--trials",
        "200",
        "--json",
    ];
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = dir.path().join("runs/nas.db").display().to_string();
    let back = dir.path().join("back.db").display().to_string();
    for (from, to) in [(source.as_str(), middle), (middle, back.as_str())] {
        let out = nas(dir.path(), &["db", "copy", "--from", from, "--to", to]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(common::stdout(&out).contains("counts checked"));
    }
    let original = contents(&source, "p");
    assert!(!original.1.is_empty(), "the study has rung decisions");
    assert_eq!(contents(middle, "p"), original);
    assert_eq!(contents(&back, "p"), original);

    let out = nas(
        dir.path(),
        &["db", "copy", "--from", &source, "--to", middle],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already"), "{}", stderr(&out));
    assert_eq!(contents(middle, "p"), original);
    let out = nas(
        dir.path(),
        &[
            "db", "copy", "--from", &source, "--to", "new.db", "--study", "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !dir.path().join("new.db").exists(),
        "a refused copy created its target"
    );
}

on_both_backends!(db_copy_keeps_a_study_exactly, super::copy_round_trip);
