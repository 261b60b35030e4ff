//! The trial store through its public API, on both backends: each test runs
//! as `NAME::sqlite` on a temporary file and `NAME::postgres` on a throwaway
//! database (see `common::backends`).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hybrid_nas::metrics::{self, CurveStep, Metrics, Values};
use hybrid_nas::prune::{promotes, Competitor};
use hybrid_nas::store::{
    is_postgres_url, AnyStore, Budget, Claim, FailKind, NewTrial, Outcome, RungReport, SqliteStore,
    Store, StoreError, StudySpec, TrialRecord, TrialState,
};

/// SQLite's own consistency check, where the store is SQLite.
fn check_integrity(store: &AnyStore) {
    if let AnyStore::Sqlite(s) = store {
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }
}

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nas.db").display().to_string();
    (dir, path)
}

fn spec(name: &str, budget: usize, space_hash: &str) -> StudySpec {
    StudySpec {
        name: name.to_string(),
        space_text: format!("# space {space_hash}\n"),
        space_hash: space_hash.to_string(),
        objectives: vec!["val_ppl".into(), "flops_per_token".into()],
        strategy: "random".into(),
        evaluator: "train".into(),
        seed: 7,
        budget: Budget::Set(budget),
        code_version: "test".into(),
        pruner: None,
    }
}

fn trial(hash: &str) -> NewTrial {
    NewTrial {
        arch_json: format!("{{\"hash\":\"{hash}\"}}"),
        arch_hash: hash.to_string(),
        arch_short: format!("d64 {hash}"),
        seed: 1,
        worker: "test:0".into(),
        extra: None,
    }
}

fn values(ppl: f64) -> Values {
    Metrics {
        val_loss: ppl.ln(),
        val_ppl: ppl,
        params: 123_456,
        flops_per_token: 2.5e6,
        kv_cache_bytes: 4096,
        ssm_state_bytes: 2048,
        latency_ms: 1.25,
        train_seconds: 3.5,
        tokens_per_s: 10_000.0,
    }
    .to_values()
}

fn complete(ppl: f64) -> Outcome {
    Outcome::Complete {
        values: values(ppl),
        curve: vec![],
    }
}

fn curve(n: usize) -> Vec<CurveStep> {
    (0..n)
        .map(|i| CurveStep {
            step: (i + 1) * 10,
            values: Values::from_iter([
                (metrics::TRAIN_LOSS, 5.0 - i as f64 * 0.1),
                (metrics::VAL_LOSS, 5.1 - i as f64 * 0.1),
                (metrics::ELAPSED, i as f64 * 0.5),
            ]),
        })
        .collect()
}

fn claimed(c: Claim) -> TrialRecord {
    match c {
        Claim::Claimed(t) => t,
        other => panic!("expected a claimed trial, got {other:?}"),
    }
}

on_both_backends!(
    open_study_creates_and_continues,
    super::open_study_creates_and_continues
);
fn open_study_creates_and_continues(location: &str) {
    let store = AnyStore::open(location).unwrap();
    assert_eq!(store.find_study("s").unwrap(), None);

    let created = store.open_study(&spec("s", 10, "h1"), false).unwrap();
    assert_eq!(created.name, "s");
    assert_eq!(created.budget, 10);
    assert_eq!(created.objectives, vec!["val_ppl", "flops_per_token"]);
    assert!(created.created > 1.6e9);
    assert_eq!(store.find_study("s").unwrap().as_ref(), Some(&created));

    // Continuing takes the new budget and keeps everything else.
    let mut more = spec("s", 25, "h1");
    more.strategy = "evolution".into();
    more.seed = 99;
    let continued = store.open_study(&more, false).unwrap();
    assert_eq!(continued.id, created.id);
    assert_eq!(continued.budget, 25);
    assert_eq!(continued.strategy, "random");
    assert_eq!(continued.seed, 7);
    assert_eq!(continued.created, created.created);
    assert_eq!(store.find_study("s").unwrap().unwrap(), continued);

    // A different space is refused unless forced.
    let err = store.open_study(&spec("s", 30, "h2"), false).unwrap_err();
    assert!(matches!(err, StoreError::SpaceMismatch { ref study } if study == "s"));
    assert!(err.to_string().contains("different search space"));
    assert_eq!(store.find_study("s").unwrap().unwrap().budget, 25);

    let forced = store.open_study(&spec("s", 30, "h2"), true).unwrap();
    assert_eq!(forced.id, created.id);
    assert_eq!(forced.space_hash, "h2");
    assert_eq!(forced.space_text, "# space h2\n");
    assert_eq!(forced.budget, 30);
    assert_eq!(store.find_study("s").unwrap().unwrap(), forced);

    // KeepOr keeps a continued study's budget, unless force replaced its
    // space; a new study takes it.
    let mut keep = spec("s", 99, "h2");
    keep.budget = Budget::KeepOr(99);
    assert_eq!(store.open_study(&keep, false).unwrap().budget, 30);
    keep.space_hash = "h3".into();
    assert_eq!(store.open_study(&keep, true).unwrap().budget, 99);
    keep.name = "new".into();
    keep.budget = Budget::KeepOr(12);
    assert_eq!(store.open_study(&keep, false).unwrap().budget, 12);
    let forced = store.find_study("s").unwrap().unwrap();

    // Reopening sees the same study (a SQLite `location` is absolute: four
    // slashes in the SQLAlchemy form).
    drop(store);
    let again = if is_postgres_url(location) {
        location.to_string()
    } else {
        format!("sqlite:///{location}")
    };
    let store = AnyStore::open(&again).unwrap();
    assert_eq!(store.find_study("s").unwrap().unwrap(), forced);
    check_integrity(&store);
}

// Grid studies train one design on several seeds: the duplicate key is
// (hash, seed), so a second seed claims while the same seed is refused.
on_both_backends!(
    claim_keys_duplicates_by_hash_and_seed,
    super::claim_keys_duplicates_by_hash_and_seed
);
fn claim_keys_duplicates_by_hash_and_seed(location: &str) {
    let store = AnyStore::open(location).unwrap();
    let study = store.open_study(&spec("g", 4, "h"), false).unwrap();
    let seeded = |seed| NewTrial { seed, ..trial("a") };
    let first = claimed(store.claim(study.id, &seeded(0)).unwrap());
    let second = claimed(store.claim(study.id, &seeded(1)).unwrap());
    assert_eq!((first.seed, second.seed), (0, 1));
    assert_eq!(
        store.claim(study.id, &seeded(1)).unwrap(),
        Claim::Duplicate { number: 1 }
    );
    assert!(store.finish(first.id, &complete(20.0)).unwrap());
    assert_eq!(
        store.claim(study.id, &seeded(0)).unwrap(),
        Claim::Duplicate { number: 0 }
    );
    assert_eq!(
        claimed(store.claim(study.id, &seeded(2)).unwrap()).number,
        2
    );
}

#[test]
fn open_accepts_urls_and_creates_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/nas.db");
    let store = SqliteStore::open(&format!("sqlite:{}", nested.display())).unwrap();
    assert!(nested.exists());
    assert_eq!(store.path(), nested.as_path());
    // The search holds the store as a trait object.
    let store: Box<dyn Store> = Box::new(store);
    assert!(store.list_studies().unwrap().is_empty());
    assert!(matches!(
        SqliteStore::open("sqlite::memory:"),
        Err(StoreError::BadLocation(_))
    ));
}

on_both_backends!(
    claim_respects_budget_duplicates_and_numbering,
    super::claim_respects_budget_duplicates_and_numbering
);
fn claim_respects_budget_duplicates_and_numbering(location: &str) {
    let store = AnyStore::open(location).unwrap();
    let study = store.open_study(&spec("s", 3, "h"), false).unwrap();

    let a = claimed(store.claim(study.id, &trial("a")).unwrap());
    assert_eq!(a.number, 0);
    assert_eq!(a.state, TrialState::Running);
    assert_eq!(a.started, a.heartbeat);
    // Running and complete hashes are duplicates.
    assert_eq!(
        store.claim(study.id, &trial("a")).unwrap(),
        Claim::Duplicate { number: 0 }
    );
    assert!(store.finish(a.id, &complete(20.0)).unwrap());
    assert_eq!(
        store.claim(study.id, &trial("a")).unwrap(),
        Claim::Duplicate { number: 0 }
    );

    // A failed trial gives its slot and its hash back but keeps its number.
    let b = claimed(store.claim(study.id, &trial("b")).unwrap());
    assert_eq!(b.number, 1);
    let failed = Outcome::Failed {
        kind: FailKind::Error,
        error: "out of memory".into(),
    };
    assert!(store.finish(b.id, &failed).unwrap());
    let b2 = claimed(store.claim(study.id, &trial("b")).unwrap());
    assert_eq!(b2.number, 2);

    let c = claimed(store.claim(study.id, &trial("c")).unwrap());
    assert_eq!(c.number, 3);
    // a (complete) + b2 + c (running) fill the budget of 3.
    assert_eq!(
        store.claim(study.id, &trial("d")).unwrap(),
        Claim::BudgetExhausted
    );
    // A pruned trial still counts against the budget.
    let pruned = Outcome::Pruned {
        step: 2,
        values: Values::from_iter([("val_loss", 2.5), ("pruned_at", 2.0)]),
        reason: "worse than median".into(),
        curve: curve(2),
    };
    assert!(store.finish(c.id, &pruned).unwrap());
    assert_eq!(
        store.claim(study.id, &trial("d")).unwrap(),
        Claim::BudgetExhausted
    );
    assert_eq!(
        store.claim(study.id, &trial("c")).unwrap(),
        Claim::BudgetExhausted,
        "the budget is checked before duplicates"
    );

    // Extending the budget lets the study go on, numbers continuing.
    store.open_study(&spec("s", 4, "h"), false).unwrap();
    assert_eq!(
        store.claim(study.id, &trial("c")).unwrap(),
        Claim::Duplicate { number: 3 }
    );
    let d = claimed(store.claim(study.id, &trial("d")).unwrap());
    assert_eq!(d.number, 4);

    let trials = store.trials(study.id).unwrap();
    let numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4]);
    let states: Vec<TrialState> = trials.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        vec![
            TrialState::Complete,
            TrialState::Failed,
            TrialState::Running,
            TrialState::Pruned,
            TrialState::Running
        ]
    );
    assert_eq!(trials[1].error.as_deref(), Some("out of memory"));
    assert_eq!(trials[3].error.as_deref(), Some("worse than median"));
    assert_eq!(
        trials[3].value("pruned_at"),
        Some(2.0),
        "a pruned trial keeps its values at the rung"
    );
    assert_eq!(trials[1].fail_kind, Some(FailKind::Error));
    assert_eq!(trials[3].fail_kind, None);
    assert_eq!(store.curve(c.id).unwrap(), curve(2));

    // Another study numbers from 0 and may hold the same hashes.
    let other = store.open_study(&spec("t", 2, "h"), false).unwrap();
    assert_eq!(
        claimed(store.claim(other.id, &trial("a")).unwrap()).number,
        0
    );

    assert!(matches!(
        store.claim(9999, &trial("x")),
        Err(StoreError::NotFound(_))
    ));
}

on_both_backends!(
    finish_stores_metrics_and_curve,
    super::finish_stores_metrics_and_curve
);
fn finish_stores_metrics_and_curve(location: &str) {
    let store = AnyStore::open(location).unwrap();
    let study = store.open_study(&spec("s", 10, "h"), false).unwrap();
    let mut new = trial("a");
    new.seed = u64::MAX;
    new.extra = Some(serde_json::json!({"parent": 3, "lambda": 0.5}));
    let t = claimed(store.claim(study.id, &new).unwrap());
    assert_eq!(t.seed, u64::MAX);
    store.heartbeat(t.id).unwrap();

    let mut m = values(42.0);
    m.insert(metrics::PARAMS, u64::MAX as f64);
    m.insert("recall_acc", 0.75); // any named value, no column needed
    let points = curve(1500); // more than one INSERT's worth of rows
    let outcome = Outcome::Complete {
        values: m.clone(),
        curve: points.clone(),
    };
    assert!(store.finish(t.id, &outcome).unwrap());

    let stored = &store.trials(study.id).unwrap()[0];
    assert_eq!(stored.state, TrialState::Complete);
    assert_eq!(stored.values, m);
    assert_eq!(stored.value("recall_acc"), Some(0.75));
    assert_eq!(stored.seed, u64::MAX);
    assert_eq!(stored.extra, new.extra);
    assert_eq!(stored.error, None);
    let finished = stored.finished.expect("finished time");
    assert!(finished >= stored.started);
    assert!(stored.heartbeat >= stored.started);
    assert_eq!(store.curve(t.id).unwrap(), points);

    // A finished trial cannot be finished again.
    assert!(!store.finish(t.id, &complete(1.0)).unwrap());
    assert_eq!(store.trials(study.id).unwrap()[0].values, m);

    // NaN (a diverged run) survives the round trip as NaN.
    let u = claimed(store.claim(study.id, &trial("nan")).unwrap());
    let mut diverged = values(f64::NAN);
    diverged.insert(metrics::VAL_LOSS, f64::NAN);
    let outcome = Outcome::Complete {
        values: diverged,
        curve: vec![CurveStep {
            step: 1,
            values: Values::from_iter([
                (metrics::TRAIN_LOSS, f64::NAN),
                (metrics::VAL_LOSS, f64::INFINITY),
                (metrics::ELAPSED, 0.1),
            ]),
        }],
    };
    assert!(store.finish(u.id, &outcome).unwrap());
    let stored = store.trials(study.id).unwrap()[1].values.clone();
    assert!(stored.get(metrics::VAL_PPL).unwrap().is_nan());
    assert!(stored.get(metrics::VAL_LOSS).unwrap().is_nan());
    assert_eq!(stored.get(metrics::PARAMS), Some(123_456.0));
    let c = store.curve(u.id).unwrap();
    assert!(c[0].values.get(metrics::TRAIN_LOSS).unwrap().is_nan());
    assert_eq!(c[0].values.get(metrics::VAL_LOSS), Some(f64::INFINITY));

    let summary = &store.list_studies().unwrap()[0];
    assert_eq!(summary.complete, 2);
    assert_eq!(summary.best_val_ppl, Some(42.0));

    assert!(matches!(
        store.finish(9999, &complete(1.0)),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.heartbeat(9999),
        Err(StoreError::NotFound(_))
    ));
}

on_both_backends!(
    reap_stale_fails_only_stale_running_trials,
    super::reap_stale_fails_only_stale_running_trials
);
fn reap_stale_fails_only_stale_running_trials(location: &str) {
    let store = AnyStore::open(location).unwrap();
    let study = store.open_study(&spec("s", 3, "h"), false).unwrap();
    let other = store.open_study(&spec("other", 3, "h"), false).unwrap();

    let mut old = trial("old");
    old.worker = "host:12:3".into();
    let stale = claimed(store.claim(study.id, &old).unwrap());
    let done = claimed(store.claim(study.id, &trial("done")).unwrap());
    assert!(store.finish(done.id, &complete(10.0)).unwrap());
    let elsewhere = claimed(store.claim(other.id, &trial("x")).unwrap());
    thread::sleep(Duration::from_millis(600));
    let fresh = claimed(store.claim(study.id, &trial("fresh")).unwrap());
    assert_eq!(
        store.claim(study.id, &trial("more")).unwrap(),
        Claim::BudgetExhausted
    );

    assert_eq!(store.reap_stale(study.id, 0.3).unwrap(), 1);
    assert_eq!(store.reap_stale(study.id, 0.3).unwrap(), 0);
    let trials = store.trials(study.id).unwrap();
    assert_eq!(trials[0].state, TrialState::Failed);
    assert_eq!(
        trials[0].error.as_deref(),
        Some("heartbeat lost (worker host:12:3)")
    );
    assert_eq!(trials[0].fail_kind, Some(FailKind::HeartbeatLost));
    assert!(trials[0].finished.is_some());
    assert_eq!(trials[1].state, TrialState::Complete);
    assert_eq!(trials[2].state, TrialState::Running);
    assert_eq!(
        store.trials(other.id).unwrap()[0].state,
        TrialState::Running
    );

    // The reaped worker's late result is refused and changes nothing.
    let late = Outcome::Complete {
        values: values(5.0),
        curve: curve(3),
    };
    assert!(!store.finish(stale.id, &late).unwrap());
    assert_eq!(store.trials(study.id).unwrap()[0], trials[0]);
    assert!(store.curve(stale.id).unwrap().is_empty());
    store.heartbeat(stale.id).unwrap(); // no error, and no revival
    assert_eq!(store.trials(study.id).unwrap()[0].state, TrialState::Failed);

    // The slot is free again, and the same architecture may be retried.
    let retry = claimed(store.claim(study.id, &old).unwrap());
    assert_eq!(retry.number, 3);
    assert!(store.finish(fresh.id, &complete(9.0)).unwrap());
    assert!(store.finish(elsewhere.id, &complete(9.0)).unwrap());

    let summaries = store.list_studies().unwrap();
    assert_eq!(summaries.len(), 2);
    let s = &summaries[0];
    assert_eq!(s.study.name, "s");
    assert_eq!((s.running, s.complete, s.pruned, s.failed), (1, 2, 0, 1));
    assert_eq!(s.best_val_ppl, Some(9.0));
}

on_both_backends!(
    concurrent_stores_share_one_budget,
    super::concurrent_stores_share_one_budget
);
fn concurrent_stores_share_one_budget(location: &str) {
    const BUDGET: usize = 200;
    // Two stores with their own pools on one store, as two processes would.
    let stores: Vec<Arc<AnyStore>> = (0..2)
        .map(|_| Arc::new(AnyStore::open(location).unwrap()))
        .collect();
    let study = stores[0]
        .open_study(&spec("race", BUDGET, "h"), false)
        .unwrap();
    let again = stores[1]
        .open_study(&spec("race", BUDGET, "h"), false)
        .unwrap();
    assert_eq!(again.id, study.id);

    let mut handles = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for w in 0..4 {
            let store = Arc::clone(store);
            handles.push(thread::spawn(move || -> Result<usize, StoreError> {
                let mut done = 0;
                for i in 0.. {
                    let mut t = trial(&format!("s{s}w{w}i{i}"));
                    t.worker = format!("store{s}:worker{w}");
                    match store.claim(study.id, &t)? {
                        Claim::Claimed(rec) => {
                            store.heartbeat(rec.id)?;
                            // Every third trial also writes a curve, which
                            // takes the transactional path of `finish`.
                            let outcome = if i % 3 == 0 {
                                Outcome::Complete {
                                    values: values(10.0 + i as f64),
                                    curve: curve(4),
                                }
                            } else {
                                complete(10.0 + i as f64)
                            };
                            assert!(store.finish(rec.id, &outcome)?);
                            done += 1;
                        }
                        Claim::Duplicate { number } => panic!("unexpected duplicate {number}"),
                        Claim::BudgetExhausted => break,
                    }
                }
                Ok(done)
            }));
        }
    }
    let total: usize = handles
        .into_iter()
        .map(|h| h.join().unwrap().expect("no store error under concurrency"))
        .sum();
    assert_eq!(total, BUDGET);

    let trials = stores[1].trials(study.id).unwrap();
    assert_eq!(trials.len(), BUDGET);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    let numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..BUDGET as i64).collect::<Vec<_>>());
    let hashes: HashSet<&str> = trials.iter().map(|t| t.arch_hash.as_str()).collect();
    assert_eq!(hashes.len(), BUDGET);
    for store in &stores {
        check_integrity(store);
    }
}

on_both_backends!(
    concurrent_opens_of_a_new_database,
    super::concurrent_opens_of_a_new_database
);
fn concurrent_opens_of_a_new_database(location: &str) {
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let location = location.to_string();
            thread::spawn(move || {
                let store = AnyStore::open(&location)?;
                let study = store.open_study(&spec("s", 100, "h"), false)?;
                store.claim(study.id, &trial(&format!("t{i}")))
            })
        })
        .collect();
    for h in handles {
        assert!(matches!(h.join().unwrap().unwrap(), Claim::Claimed(_)));
    }
    let store = AnyStore::open(location).unwrap();
    let studies = store.list_studies().unwrap();
    assert_eq!(studies.len(), 1);
    assert_eq!(studies[0].running, 6);
}

/// Set in child processes of `separate_processes_share_one_budget`.
const CHILD_DB: &str = "NAS_STORE_TEST_CHILD_DB";

/// Claim and complete trials until the budget is spent; returns how many.
fn claim_until_exhausted(store: &AnyStore, study_id: i64, tag: &str) -> usize {
    let mut done = 0;
    for i in 0.. {
        match store
            .claim(study_id, &trial(&format!("{tag}-{i}")))
            .unwrap()
        {
            Claim::Claimed(t) => {
                assert!(store.finish(t.id, &complete(10.0)).unwrap());
                done += 1;
            }
            Claim::Duplicate { number } => panic!("unexpected duplicate {number}"),
            Claim::BudgetExhausted => return done,
        }
    }
    unreachable!()
}

on_both_backends!(
    separate_processes_share_one_budget,
    super::separate_processes_share_one_budget
);
fn separate_processes_share_one_budget(location: &str) {
    const BUDGET: usize = 150;
    if let Ok(path) = std::env::var(CHILD_DB) {
        // Child: open the (possibly not yet created) database at the same time
        // as its siblings, then claim with two threads.
        let store = Arc::new(AnyStore::open(&path).unwrap());
        let study = store
            .open_study(&spec("procs", BUDGET, "h"), false)
            .unwrap();
        let pid = std::process::id();
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let store = Arc::clone(&store);
                thread::spawn(move || {
                    claim_until_exhausted(&store, study.id, &format!("{pid}-{w}"))
                })
            })
            .collect();
        let done: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        println!("child {pid} completed {done}");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let test = if is_postgres_url(location) {
        "separate_processes_share_one_budget::postgres"
    } else {
        "separate_processes_share_one_budget::sqlite"
    };
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", test, "--nocapture"])
                .env(CHILD_DB, location)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .filter(|l| l.starts_with("child "))
            .for_each(|l| println!("{l}"));
    }
    let store = AnyStore::open(location).unwrap();
    let study = store.find_study("procs").unwrap().unwrap();
    let trials = store.trials(study.id).unwrap();
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    let numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..BUDGET as i64).collect::<Vec<_>>());
    check_integrity(&store);
}

on_both_backends!(
    strategy_state_and_delete_study,
    super::strategy_state_and_delete_study
);
fn strategy_state_and_delete_study(location: &str) {
    let store = AnyStore::open(location).unwrap();
    let keep = store.open_study(&spec("keep", 5, "h"), false).unwrap();
    let gone = store.open_study(&spec("gone", 5, "h"), false).unwrap();

    assert_eq!(store.load_state(gone.id, "alphas").unwrap(), None);
    store.save_state(gone.id, "alphas", &[1, 2, 3]).unwrap();
    assert_eq!(
        store.load_state(gone.id, "alphas").unwrap(),
        Some(vec![1, 2, 3])
    );
    store.save_state(gone.id, "alphas", &[9; 1000]).unwrap();
    assert_eq!(
        store.load_state(gone.id, "alphas").unwrap(),
        Some(vec![9; 1000])
    );
    store.save_state(gone.id, "empty", &[]).unwrap();
    assert_eq!(store.load_state(gone.id, "empty").unwrap(), Some(vec![]));
    assert_eq!(store.load_state(keep.id, "alphas").unwrap(), None);
    store.save_state(keep.id, "alphas", &[7]).unwrap();
    assert!(matches!(
        store.save_state(9999, "alphas", &[1]),
        Err(StoreError::NotFound(_))
    ));

    let mut ids = Vec::new();
    for study in [&keep, &gone] {
        let t = claimed(store.claim(study.id, &trial("a")).unwrap());
        let outcome = Outcome::Complete {
            values: values(3.0),
            curve: curve(5),
        };
        assert!(store.finish(t.id, &outcome).unwrap());
        ids.push(t.id);
    }

    store.delete_study(gone.id).unwrap();
    assert_eq!(store.find_study("gone").unwrap(), None);
    assert!(store.trials(gone.id).unwrap().is_empty());
    assert!(store.curve(ids[1]).unwrap().is_empty());
    assert_eq!(store.load_state(gone.id, "alphas").unwrap(), None);
    assert!(matches!(
        store.delete_study(gone.id),
        Err(StoreError::NotFound(_))
    ));

    // The other study is untouched.
    assert_eq!(store.trials(keep.id).unwrap().len(), 1);
    assert_eq!(store.curve(ids[0]).unwrap().len(), 5);
    assert_eq!(store.load_state(keep.id, "alphas").unwrap(), Some(vec![7]));
    assert_eq!(store.list_studies().unwrap().len(), 1);
    check_integrity(&store);
}

/// Orchestration overhead: claim + finish (empty curve) in one process.
/// Run by hand: `cargo test --test store -- --ignored --nocapture bench`
/// (`NAS_BENCH_TRIALS` sets the number of trials per run;
/// `NAS_BENCH_STORAGE` a store to use instead of a temporary SQLite file).
#[test]
#[ignore]
fn bench_claim_finish_throughput() {
    let n: usize = std::env::var("NAS_BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (_dir, path) = temp_db();
    let location = std::env::var("NAS_BENCH_STORAGE").unwrap_or(path);
    let store = Arc::new(AnyStore::open(&location).unwrap());
    let study = store.open_study(&spec("bench", n, "h"), false).unwrap();
    let hashes: Vec<String> = (0..n).map(|i| format!("{i:016x}")).collect();

    let start = Instant::now();
    for h in &hashes {
        let t = claimed(store.claim(study.id, &trial(h)).unwrap());
        assert!(store.finish(t.id, &complete(10.0)).unwrap());
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "1 thread: {n} trials in {s:.2} s = {:.0} trials/s",
        n as f64 / s
    );

    for threads in [2, 4, 8] {
        let study = store
            .open_study(&spec(&format!("bench{threads}"), n, "h"), false)
            .unwrap();
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let store = Arc::clone(&store);
                thread::spawn(move || {
                    for i in 0.. {
                        let t = trial(&format!("{w}-{i}"));
                        match store.claim(study.id, &t).unwrap() {
                            Claim::Claimed(t) => {
                                assert!(store.finish(t.id, &complete(10.0)).unwrap())
                            }
                            _ => break,
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        let s = start.elapsed().as_secs_f64();
        println!(
            "{threads} threads: {n} trials in {s:.2} s = {:.0} trials/s",
            n as f64 / s
        );
    }
    check_integrity(&store);
}

/// The judge the pruner uses: the last entry is promoted when it ranks in the
/// best 1/3 (at least the best one).
fn top_third(entries: &[Competitor]) -> bool {
    promotes(entries, entries.len() - 1, 3)
}

fn at_rung(step: usize, value: f64) -> RungReport {
    RungReport {
        bracket: 0,
        step,
        competitor: Competitor {
            value,
            costs: Vec::new(),
        },
    }
}

on_both_backends!(
    rung_reports_are_judged_in_arrival_order_and_a_retried_design_keeps_its_decision,
    super::rung_reports_are_judged_in_arrival_order_and_a_retried_design_keeps_its_decision
);
fn rung_reports_are_judged_in_arrival_order_and_a_retried_design_keeps_its_decision(
    location: &str,
) {
    let store = AnyStore::open(location).unwrap();
    let study = store.open_study(&spec("s", 10, "h"), false).unwrap();
    // Losses 3, 2, 4, 1 arrive in that order: the first is best so far, the
    // second beats it, the third (worst of three) stops, the fourth is best.
    let mut decided = Vec::new();
    let mut ids = Vec::new();
    for (tag, loss) in [("a", 3.0), ("b", 2.0), ("c", 4.0), ("d", 1.0)] {
        let t = claimed(store.claim(study.id, &trial(tag)).unwrap());
        let ruling = store
            .report_rung(t.id, &at_rung(10, loss), &top_third)
            .unwrap();
        decided.push((ruling.promoted, ruling.reached, ruling.repeated));
        ids.push(t.id);
    }
    assert_eq!(
        decided,
        vec![
            (true, 1, false),
            (true, 2, false),
            (false, 3, false),
            (true, 4, false)
        ]
    );
    // `a` dies after its promotion; its retry (a new trial of the same
    // design) gets the same decision at the same rung, however it would rank
    // now, and adds no report.
    let died = Outcome::Failed {
        kind: FailKind::WorkerDied,
        error: "gone".into(),
    };
    assert!(store.finish(ids[0], &died).unwrap());
    let retry = claimed(store.claim(study.id, &trial("a")).unwrap());
    let again = store
        .report_rung(retry.id, &at_rung(10, 9.0), &top_third)
        .unwrap();
    assert_eq!(
        (again.promoted, again.reached, again.repeated),
        (true, 4, true)
    );
    // Another rung is judged on its own.
    let next = store
        .report_rung(retry.id, &at_rung(30, 9.0), &top_third)
        .unwrap();
    assert_eq!((next.promoted, next.reached), (true, 1));
    // A trial no longer running is not judged.
    let pruned = Outcome::Pruned {
        step: 10,
        values: Values::from_iter([("val_loss", 4.0)]),
        reason: "pruned".into(),
        curve: Vec::new(),
    };
    assert!(store.finish(ids[2], &pruned).unwrap());
    let done = store
        .report_rung(ids[2], &at_rung(30, 0.5), &top_third)
        .unwrap();
    assert_eq!(done.reached, 0);
    assert_eq!(store.delete_study(study.id).unwrap(), 5);
}

on_both_backends!(
    concurrent_reports_at_one_rung_keep_only_the_top_third,
    super::concurrent_reports_at_one_rung_keep_only_the_top_third
);
fn concurrent_reports_at_one_rung_keep_only_the_top_third(location: &str) {
    let store = Arc::new(AnyStore::open(location).unwrap());
    let study = store.open_study(&spec("s", 60, "h"), false).unwrap();
    let trials: Vec<TrialRecord> = (0..60)
        .map(|i| claimed(store.claim(study.id, &trial(&format!("t{i}"))).unwrap()))
        .collect();
    // Six threads report at once; each decision is taken on the reports
    // committed before it, so the promoted ones are exactly those a single
    // worker would promote in the store's order.
    let handles: Vec<_> = trials
        .chunks(10)
        .map(|chunk| {
            let (store, chunk) = (Arc::clone(&store), chunk.to_vec());
            thread::spawn(move || {
                for t in chunk {
                    let loss = ((t.number * 37) % 61) as f64;
                    store
                        .report_rung(t.id, &at_rung(5, loss), &top_third)
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let reports = store.rung_reports(study.id).unwrap();
    assert_eq!(reports.len(), 60);
    // Replaying the stored order with one judge gives the same decisions.
    let mut seen = Vec::new();
    for r in &reports {
        seen.push(r.competitor.clone());
        assert_eq!(
            r.promoted,
            top_third(&seen),
            "report of trial {}",
            r.trial_id
        );
    }
    // And with the rung full, no promoted trial is outside the top third of
    // the reports that came before it.
    for (i, r) in reports.iter().enumerate().filter(|(_, r)| r.promoted) {
        let better = reports[..i]
            .iter()
            .filter(|o| o.competitor.value < r.competitor.value)
            .count();
        assert!(
            better < ((i + 1) / 3).max(1),
            "report {i}: {better} better before it"
        );
    }
}

/// SQLite's migrations 0001-0003 and PostgreSQL's arrive at the same
/// tables, columns, kinds and nullability.
#[test]
fn both_backends_migrate_to_the_same_schema() {
    let Some(pg) = common::backends::TestStore::postgres() else {
        return;
    };
    let sqlite = common::backends::TestStore::sqlite();
    let lite = AnyStore::open(&sqlite.location).unwrap().schema().unwrap();
    let post = AnyStore::open(&pg.location).unwrap().schema().unwrap();
    assert!(lite.len() > 40, "{lite:?}");
    let only = |a: &[hybrid_nas::store::Column], b: &[hybrid_nas::store::Column]| {
        a.iter()
            .filter(|c| !b.contains(c))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        lite == post,
        "only in SQLite: {:?}\nonly in PostgreSQL: {:?}",
        only(&lite, &post),
        only(&post, &lite)
    );
}
