//! A store written by release 0.1.0 (`tests/fixtures/store-v0.1.0.db`: an
//! analytic study of 40 trials and a trained tiny study of 6) opens, migrates
//! in place and loses nothing: every trial, value and curve point is read back
//! as the old columns held it, the evaluator is recorded per study, failures
//! get their kind, and `nas trials`, `nas pareto` and `nas export` answer as
//! release 0.1.0 did (its outputs are kept beside the fixture).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sqlx::Row;

use common::{nas, stderr, stdout};
use hybrid_nas::evaluate::EvaluatorKind;
use hybrid_nas::metrics;
use hybrid_nas::store::{FailKind, SqliteStore, Store, TrialState};
use hybrid_nas::study;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A writable copy of the 0.1.0 store in `dir`.
fn copy_fixture(dir: &Path) -> PathBuf {
    let db = dir.join("old.db");
    std::fs::copy(fixture_dir().join("store-v0.1.0.db"), &db).unwrap();
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&db, perms).unwrap();
    db
}

/// Runs raw SQL on a database file, outside the store (so, without migrating).
fn raw<T>(db: &Path, f: impl AsyncFnOnce(&sqlx::SqlitePool) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let out = f(&pool).await;
        pool.close().await;
        out
    })
}

/// The old schema's metric columns and their names as named values.
const OLD_METRICS: [&str; 9] = [
    "val_loss",
    "val_ppl",
    "params",
    "flops_per_token",
    "kv_cache_bytes",
    "ssm_state_bytes",
    "latency_ms",
    "train_seconds",
    "tokens_per_s",
];

/// Every old trial's metrics, by trial id, as stored in the 0.1.0 columns.
fn old_metrics(db: &Path) -> BTreeMap<i64, Vec<Option<f64>>> {
    raw(db, async |pool| {
        let columns: Vec<String> = OLD_METRICS
            .iter()
            .map(|c| format!("CAST({c} AS REAL) AS {c}"))
            .collect();
        let sql = format!("SELECT id, {} FROM trials", columns.join(", "));
        let rows = sqlx::query(&sql).fetch_all(pool).await.unwrap();
        rows.iter()
            .map(|r| {
                let values = OLD_METRICS
                    .iter()
                    .map(|c| r.get::<Option<f64>, _>(*c))
                    .collect();
                (r.get::<i64, _>("id"), values)
            })
            .collect()
    })
}

/// Every old curve row as (trial id, step, train_loss, val_loss, elapsed_s).
fn old_curves(db: &Path) -> Vec<(i64, i64, f64, f64, f64)> {
    raw(db, async |pool| {
        let rows = sqlx::query(
            "SELECT trial_id, step, train_loss, val_loss, elapsed_s FROM curves \
             ORDER BY trial_id, step",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.get("trial_id"),
                    r.get("step"),
                    r.get("train_loss"),
                    r.get("val_loss"),
                    r.get("elapsed_s"),
                )
            })
            .collect()
    })
}

#[test]
fn every_trial_value_and_curve_point_survives_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    let metrics_before = old_metrics(&db);
    let curves_before = old_curves(&db);
    assert_eq!(metrics_before.len(), 46, "the fixture's trials");
    assert_eq!(curves_before.len(), 12, "the fixture's curve points");

    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let studies = study::list(&store).unwrap();
    let names: Vec<&str> = studies.iter().map(|(s, _)| s.name.as_str()).collect();
    assert_eq!(names, ["analytic40", "tiny6"]);
    let evaluators: Vec<_> = studies.iter().map(|(s, _)| s.evaluator).collect();
    assert_eq!(
        evaluators,
        [Some(EvaluatorKind::Analytic), Some(EvaluatorKind::Train)],
        "the evaluator is read from the trials once, into its column"
    );

    let mut seen = 0;
    for (s, summary) in &studies {
        let trials = store.trials(s.id).unwrap();
        assert_eq!(trials.len(), summary.complete);
        for t in &trials {
            assert_eq!(t.state, TrialState::Complete);
            let before = &metrics_before[&t.id];
            for (name, old) in OLD_METRICS.iter().zip(before) {
                let new = t.value(name);
                let same = match (old, new) {
                    (Some(a), Some(b)) => a == &b,
                    // NaN was stored as NULL and reads back as NaN.
                    (None, Some(b)) => b.is_nan(),
                    _ => false,
                };
                assert!(same, "trial {} {name}: {old:?} -> {new:?}", t.id);
            }
            assert_eq!(t.values.len(), OLD_METRICS.len());
            let curve = store.curve(t.id).unwrap();
            let old: Vec<_> = curves_before.iter().filter(|c| c.0 == t.id).collect();
            assert_eq!(curve.len(), old.len());
            for (p, o) in curve.iter().zip(old) {
                assert_eq!(p.step as i64, o.1);
                assert_eq!(p.values.get(metrics::TRAIN_LOSS), Some(o.2));
                assert_eq!(p.values.get(metrics::VAL_LOSS), Some(o.3));
                assert_eq!(p.values.get(metrics::ELAPSED), Some(o.4));
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 46);
    // The listing's best perplexity reads the named values.
    for (s, summary) in &studies {
        let lowest = store
            .trials(s.id)
            .unwrap()
            .iter()
            .map(|t| metrics_before[&t.id][1].unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(summary.best_val_ppl, Some(lowest), "{}", s.name);
    }

    // Opening again migrates nothing more and changes nothing.
    let again = store.trials(studies[0].0.id).unwrap();
    drop(store);
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    assert_eq!(store.trials(studies[0].0.id).unwrap(), again);
}

#[test]
fn old_failures_get_their_kind_and_only_retryable_kinds_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    // Failures as release 0.1.0 wrote them, inserted in its schema.
    let errors = [
        ("interrupted", FailKind::Interrupted),
        ("heartbeat lost (worker host:12:0)", FailKind::HeartbeatLost),
        ("worker host:77 died (process gone)", FailKind::WorkerDied),
        (
            "loss became NaN at step 3: training diverged (try a lower learning rate)",
            FailKind::Diverged,
        ),
        // Messages that merely contain the words: the old substring rule
        // retried these; they are errors of their designs.
        ("libtorch: the allocator died", FailKind::Error),
        ("libtorch: step interrupted by a bad shape", FailKind::Error),
    ];
    raw(&db, async |pool| {
        for (i, (error, _)) in errors.iter().enumerate() {
            sqlx::query(
                "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, arch_short, \
                 seed, worker, error, started, finished, heartbeat) \
                 VALUES (2, ?1, 'failed', '{}', ?2, 'd64 S8', 0, 'host:1:0', ?3, 1.0, 2.0, 2.0)",
            )
            .bind(100 + i as i64)
            .bind(format!("failed{i}"))
            .bind(*error)
            .execute(pool)
            .await
            .unwrap();
        }
    });
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let tiny = study::find(&store, "tiny6").unwrap();
    let failed: Vec<_> = store
        .trials(tiny.id)
        .unwrap()
        .into_iter()
        .filter(|t| t.state == TrialState::Failed)
        .collect();
    assert_eq!(failed.len(), errors.len());
    for (t, (error, kind)) in failed.iter().zip(errors) {
        assert_eq!(t.error.as_deref(), Some(error));
        assert_eq!(t.fail_kind, Some(kind), "{error}");
        assert!(t.values.is_empty());
        // Retried exactly when the kind says so, whatever the words.
        assert_eq!(!t.is_settled(), kind.is_retried(), "{error}");
    }
    let retried: Vec<_> = failed.iter().filter(|t| !t.is_settled()).collect();
    assert_eq!(retried.len(), 3);
}

/// The lines of a JSON-lines output, parsed.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Numbers compare as f64: 0.1.0 wrote counts as integers, named values are
/// floats.
fn same_json(old: &serde_json::Value, new: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (old, new) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w))),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same_json(v, w))
        }
        _ => old == new,
    }
}

#[test]
fn trials_pareto_and_export_answer_as_release_0_1_0_did() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = copy_fixture(dir.path());
    let before = std::fs::read(&db_path).unwrap();
    let db = db_path.to_str().unwrap();
    let golden = fixture_dir().join("store-v0.1.0");
    let read = |name: &str| std::fs::read_to_string(golden.join(name)).unwrap();
    for (args, file) in [
        (
            vec!["trials", "--study", "analytic40", "--json"],
            "trials-analytic40.jsonl",
        ),
        (
            vec!["trials", "--study", "tiny6", "--sort", "ppl", "--json"],
            "trials-tiny6.jsonl",
        ),
        (
            vec!["pareto", "--study", "analytic40", "--json"],
            "pareto-analytic40.jsonl",
        ),
        (
            vec![
                "pareto",
                "--study",
                "tiny6",
                "--study",
                "analytic40",
                "--json",
            ],
            "pareto-both.jsonl",
        ),
    ] {
        let out = nas(dir.path(), &[&args[..], &["--storage", db]].concat());
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let (old, new) = (json_lines(&read(file)), json_lines(&stdout(&out)));
        assert_eq!(old.len(), new.len(), "{args:?}");
        for (o, n) in old.iter().zip(&new) {
            // Every field 0.1.0 printed is there with the same value; the
            // new fields (evaluator, fail_kind) come on top.
            assert!(same_json(o, n), "{args:?}:\nold {o}\nnew {n}");
        }
        let evaluator = new[0]["evaluator"].as_str().unwrap();
        let study = if args[2] == "tiny6" {
            "train"
        } else {
            "analytic"
        };
        assert_eq!(evaluator, study, "{args:?}");
    }

    let out = nas(
        dir.path(),
        &[
            "export",
            "--study",
            "tiny6",
            "--best",
            "-o",
            "best.toml",
            "--storage",
            db,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let new: toml::Table = std::fs::read_to_string(dir.path().join("best.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let old: toml::Table = read("export-tiny6.toml").parse().unwrap();
    for table in ["architecture", "training", "metrics"] {
        let (o, n) = (&old[table], &new[table]);
        let (o, n) = (
            serde_json::to_value(o).unwrap(),
            serde_json::to_value(n).unwrap(),
        );
        assert!(same_json(&o, &n), "[{table}]:\nold {o}\nnew {n}");
    }
    assert_eq!(old["source"]["trial"], new["source"]["trial"]);
    assert_eq!(new["source"]["evaluator"].as_str(), Some("train"));

    // `nas studies` shows the evaluator from its column, stand-ins marked.
    let out = nas(dir.path(), &["studies", "--storage", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .to_string()
    };
    assert!(row("analytic40").contains("analytic*"), "{text}");
    assert!(row("tiny6").contains(" train "), "{text}");
    assert!(text.contains("stand-in"), "{text}");
    assert!(stderr(&out).contains("migrated copy"), "{}", stderr(&out));

    // Commands that only read answered from a migrated copy: the old store
    // itself is byte for byte what 0.1.0 wrote.
    assert!(
        std::fs::read(&db_path).unwrap() == before,
        "a read-only command changed the store"
    );
}

#[test]
fn a_study_with_no_complete_trial_records_the_evaluator_of_its_next_run() {
    use hybrid_nas::space::SearchSpace;
    use hybrid_nas::study::{StudyConfig, StudyError, StudyRequest};

    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    let space = SearchSpace::parse(SearchSpace::bundled("tiny").unwrap(), "tiny").unwrap();
    // A study 0.1.0 created but never completed a trial of.
    raw(&db, async |pool| {
        sqlx::query(
            "INSERT INTO studies (name, space_text, space_hash, objectives, strategy, seed, \
             budget, code_version, created) \
             VALUES ('legacy', ?1, ?2, '[\"val_ppl\",\"params\"]', 'random', 0, 5, '0.1.0', 1.0)",
        )
        .bind(&space.text)
        .bind(space.hash())
        .execute(pool)
        .await
        .unwrap();
    });
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    assert_eq!(study::find(&store, "legacy").unwrap().evaluator, None);
    let request = |evaluator| StudyRequest {
        name: Some("legacy".into()),
        evaluator: Some(evaluator),
        ..Default::default()
    };
    let config = StudyConfig::new(space.clone(), request(EvaluatorKind::Analytic)).unwrap();
    let opened = study::open_or_continue(&store, &config, false).unwrap();
    assert_eq!(opened.evaluator, Some(EvaluatorKind::Analytic));
    assert_eq!(opened.budget, 5, "the stored budget is kept");
    let train = StudyConfig::new(space, request(EvaluatorKind::Train)).unwrap();
    let err = study::open_or_continue(&store, &train, false).unwrap_err();
    assert!(matches!(err, StudyError::Refused(_)), "{err}");
}

#[test]
fn every_trial_state_and_a_space_this_version_rejects_survive() {
    use hybrid_nas::space::SearchSpace;

    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    // 0.1.0 stored `[evolution]` unchecked; this version refuses a
    // population smaller than the default tournament.
    let tiny = SearchSpace::bundled("tiny").unwrap();
    let strict = format!("{tiny}\n[evolution]\npopulation = 3\n");
    assert!(SearchSpace::parse(&strict, "x").is_err());
    raw(&db, async |pool| {
        for (id, name, strategy) in [
            (10, "rich", "random"),
            (11, "old-darts", "darts"),
            (12, "ext", "external"),
        ] {
            sqlx::query(
                "INSERT INTO studies (id, name, space_text, space_hash, objectives, strategy, \
                 seed, budget, code_version, created) \
                 VALUES (?1, ?2, ?3, 'h', '[\"val_ppl\",\"params\"]', ?4, 0, 9, '0.1.0', 1.0)",
            )
            .bind(id)
            .bind(name)
            .bind(&strict)
            .bind(strategy)
            .execute(pool)
            .await
            .unwrap();
        }
        let trial = |number: i64, state: &str, ppl: Option<f64>, error: Option<&str>| {
            sqlx::query(
                "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, arch_short, \
                 seed, worker, val_loss, val_ppl, params, flops_per_token, kv_cache_bytes, \
                 ssm_state_bytes, latency_ms, train_seconds, tokens_per_s, error, started, \
                 heartbeat) VALUES (10, ?1, ?2, ?3, ?4, 'd32 S8', 0, 'host:1:0', NULL, ?5, \
                 ?6, 1.0, 0, 0, 1.0, 0.0, 0.0, ?7, 1.0, 1.0)",
            )
            .bind(number)
            .bind(state.to_string())
            .bind(r#"{"d_model":32,"vocab_size":0,"mlp_ratio":4,"ssm_head_dim":32,"rope":false,"layers":[{"mixer":"ssm","state_dim":8,"expand":2}]}"#)
            .bind(format!("h{number}"))
            .bind(ppl)
            .bind(if state == "complete" { Some(1000_i64) } else { None })
            .bind(error.map(str::to_string))
        };
        trial(0, "complete", Some(9.5), None)
            .execute(pool)
            .await
            .unwrap();
        // A diverged metric was stored as NULL (NaN).
        trial(1, "complete", None, None)
            .execute(pool)
            .await
            .unwrap();
        trial(2, "pruned", None, Some("worse than the median"))
            .execute(pool)
            .await
            .unwrap();
        trial(3, "running", None, None).execute(pool).await.unwrap();
        sqlx::query(
            "INSERT INTO curves (trial_id, step, train_loss, val_loss, elapsed_s) \
             SELECT id, 5, NULL, 2.5, 0.5 FROM trials WHERE study_id = 10 AND number = 2",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO strategy_state (study_id, key, value) VALUES (11, 'k', X'0102')")
            .execute(pool)
            .await
            .unwrap();
    });

    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let rich = study::find(&store, "rich").unwrap();
    assert!(rich.space().is_err(), "the stored space is kept as it was");
    let trials = store.trials(rich.id).unwrap();
    let states: Vec<TrialState> = trials.iter().map(|t| t.state).collect();
    use TrialState::*;
    assert_eq!(states, [Complete, Complete, Pruned, Running]);
    assert_eq!(trials[0].value(metrics::VAL_PPL), Some(9.5));
    assert!(trials[1].value(metrics::VAL_PPL).unwrap().is_nan());
    assert!(trials[2].values.is_empty() && trials[3].values.is_empty());
    assert_eq!(trials[2].error.as_deref(), Some("worse than the median"));
    assert_eq!(trials.iter().filter(|t| t.fail_kind.is_some()).count(), 0);
    let curve = store.curve(trials[2].id).unwrap();
    assert_eq!(curve.len(), 1);
    assert!(curve[0].values.get(metrics::TRAIN_LOSS).unwrap().is_nan());
    let darts = study::find(&store, "old-darts").unwrap();
    assert_eq!(store.load_state(darts.id, "k").unwrap(), Some(vec![1, 2]));
    assert_eq!(
        study::find(&store, "ext").unwrap().strategy,
        hybrid_nas::study::StudyStrategy::External
    );
    drop(store);

    // Listings and exports work without the space; what needs it says why.
    let db = db.to_str().unwrap();
    let out = nas(dir.path(), &["studies", "--storage", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("old-darts"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("cannot be read by this version"),
        "{}",
        stderr(&out)
    );
    let out = nas(
        dir.path(),
        &["trials", "--study", "rich", "--json", "--storage", db],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&stdout(&out)).len(), 4);
    let out = nas(
        dir.path(),
        &[
            "export",
            "--study",
            "rich",
            "--best",
            "-o",
            "r.toml",
            "--storage",
            db,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no [training] table"),
        "{}",
        stderr(&out)
    );
    let out = nas(
        dir.path(),
        &["darts", "--study", "old-darts", "--storage", db],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("evolution.population"),
        "{}",
        stderr(&out)
    );
}
