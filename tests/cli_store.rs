//! Everyday use of a store through the CLI: trials as CSV and JSON lines for
//! data frames, studies as JSON, deleting and renaming studies, NAS_STORAGE
//! and the sqlite:/// URL forms, and read-only commands that never create a
//! store. Studies come from the analytic evaluator (milliseconds a trial).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::{nas, run_tiny, stderr, stdout};

/// `nas run` of the tiny space on stand-in values: study `study` with
/// `trials` trials in `storage` (relative to `dir`).
fn run_study(dir: &Path, storage: &str, study: &str, trials: &str) {
    let out = run_tiny(dir, trials, &["--study", study, "--storage", storage]);
    assert!(out.status.success(), "run {study}: {}", stderr(&out));
}

/// `nas` with `NAS_STORAGE` set (and nothing else of the environment changed).
fn nas_with_storage_env(dir: &Path, storage: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(dir)
        .env("NAS_STORAGE", storage)
        .args(["--threads", "2"])
        .args(args)
        .output()
        .unwrap()
}

/// A CSV reader as RFC 4180 says: fields split at commas outside quotes, a
/// doubled quote inside quotes is one quote, records end at a newline
/// outside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "ends with a newline"
    );
    records
}

/// The records as maps from the header's names.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let records = parse_csv(text);
    let header = &records[0];
    records[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "every row has every column: {r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `2026-12-02T16:40:12.345Z`.
fn is_iso_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && text.ends_with('Z')
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
}

/// Runs raw SQL on a database file, outside the store; the first column of
/// each row as an integer.
fn query(db: &Path, sql: &str) -> Vec<i64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let rows: Vec<i64> = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    })
}

#[test]
fn trials_as_csv_are_one_parsable_row_per_trial_with_every_value() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    // A failure message with a comma, quotes and a newline must stay one
    // field of one record.
    query(
        &dir.path().join("s.db"),
        "UPDATE trials SET error = 'bad, \"very\" bad\nindeed' WHERE number = 1 RETURNING id",
    );

    let out = nas(
        dir.path(),
        &[
            "trials",
            "--study",
            "a",
            "--format",
            "csv",
            "--storage",
            "s.db",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 6, "a header and 5 rows:\n{text}");
    let header = &parse_csv(&text)[0];
    for column in [
        "number",
        "state",
        "arch",
        "depth",
        "d_model",
        "attention_ratio",
        "pattern",
        "seed",
        "started",
        "finished",
        "duration_s",
        "fail_kind",
        "error",
        "val_ppl",
        "params",
        "flops_per_token",
    ] {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 5);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["number"], i.to_string());
        assert_eq!(row["state"], "complete");
        assert_eq!(row["evaluator"], "analytic");
        let pattern = &row["pattern"];
        let depth: usize = row["depth"].parse().unwrap();
        assert_eq!(pattern.len(), depth, "{row:?}");
        assert!(pattern.chars().all(|c| c == 'A' || c == 'S'), "{pattern}");
        let ratio: f64 = row["attention_ratio"].parse().unwrap();
        let attention = pattern.matches('A').count() as f64 / depth as f64;
        assert!((ratio - attention).abs() < 1e-12, "{row:?}");
        assert!(row["arch"].starts_with(&format!("d{}", row["d_model"])));
        assert!(is_iso_utc(&row["started"]), "{}", row["started"]);
        assert!(is_iso_utc(&row["finished"]), "{}", row["finished"]);
        assert!(row["duration_s"].parse::<f64>().unwrap() >= 0.0);
        assert!(row["val_ppl"].parse::<f64>().unwrap() > 1.0);
        assert!(row["params"].parse::<u64>().unwrap() > 0);
    }
    assert_eq!(rows[1]["error"], "bad, \"very\" bad\\nindeed");
    assert_eq!(rows[0]["error"], "");
}

#[test]
fn trials_as_json_lines_have_factors_and_times_and_json_is_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    let list = |format: &[&str]| {
        let out = nas(
            dir.path(),
            &[&["trials", "--study", "a", "--storage", "s.db"], format].concat(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let text = list(&["--format", "json"]);
    assert_eq!(text, list(&["--json"]));
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 5);
    for t in &lines {
        assert!(is_iso_utc(t["started"].as_str().unwrap()), "{t}");
        assert!(is_iso_utc(t["finished"].as_str().unwrap()), "{t}");
        assert!(t["duration_s"].as_f64().unwrap() >= 0.0, "{t}");
        let pattern = t["pattern"].as_str().unwrap();
        assert_eq!(pattern.len() as u64, t["depth"].as_u64().unwrap());
        assert!(t["metrics"]["val_ppl"].as_f64().unwrap() > 1.0, "{t}");
        assert_eq!(t["evaluator"], "analytic");
    }
    // The table has the start time and the duration.
    let table = list(&[]);
    let header = table.lines().find(|l| l.contains("val ppl")).unwrap();
    assert!(
        header.contains("started (UTC)") && header.contains("time"),
        "{table}"
    );
    let started = lines[0]["started"].as_str().unwrap();
    let minute = format!("{} {}", &started[..10], &started[11..16]);
    assert!(table.contains(&minute), "{minute}:\n{table}");
    assert!(table.contains(" s  "), "{table}");
}

#[test]
fn studies_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    run_study(dir.path(), "s.db", "b", "3");
    let out = nas(dir.path(), &["studies", "--json", "--storage", "s.db"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&stdout(&out));
    let names: Vec<&str> = lines.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    let a = &lines[0];
    assert_eq!(a["trials"]["complete"], 5);
    assert_eq!(a["trials"]["failed"], 0);
    assert_eq!(a["budget"], 5);
    assert_eq!(a["evaluator"], "analytic");
    assert_eq!(a["stand_in"], true);
    assert_eq!(a["strategy"], "random");
    assert!(a["best_val_ppl"].as_f64().unwrap() > 1.0, "{a}");
    assert!(a["compute_s"].as_f64().unwrap() >= 0.0, "{a}");
    assert_eq!(a["objectives"][0], "val_ppl");
    assert!(is_iso_utc(a["created"].as_str().unwrap()), "{a}");
    assert_eq!(lines[1]["trials"]["complete"], 3);
}

#[test]
fn delete_with_yes_removes_the_study_and_its_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    run_study(dir.path(), "s.db", "b", "3");
    let db = dir.path().join("s.db");
    std::fs::create_dir_all(dir.path().join("runs/a")).unwrap();
    std::fs::write(dir.path().join("runs/a/pareto-flops.png"), b"png").unwrap();

    let out = nas(
        dir.path(),
        &["study", "delete", "a", "--yes", "--storage", "s.db"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("5 trials"), "{said}");
    assert!(
        said.contains("runs/a/"),
        "what stays on disk is named: {said}"
    );
    assert!(dir.path().join("runs/a/pareto-flops.png").exists());

    let out = nas(dir.path(), &["trials", "--study", "a", "--storage", "s.db"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = nas(
        dir.path(),
        &["trials", "--study", "b", "--json", "--storage", "s.db"],
    );
    assert_eq!(json_lines(&stdout(&out)).len(), 3, "b is untouched");
    assert_eq!(query(&db, "SELECT COUNT(*) FROM trials"), [3]);
    assert_eq!(
        query(
            &db,
            "SELECT COUNT(*) FROM trial_values WHERE trial_id NOT IN (SELECT id FROM trials)"
        ),
        [0]
    );
    assert_eq!(
        query(
            &db,
            "SELECT COUNT(*) FROM curve_values WHERE trial_id NOT IN (SELECT id FROM trials)"
        ),
        [0]
    );
    assert!(query(&db, "SELECT COUNT(*) FROM trial_values")[0] > 0);

    let out = nas(
        dir.path(),
        &["study", "delete", "a", "--yes", "--storage", "s.db"],
    );
    assert_eq!(out.status.code(), Some(2), "an unknown study");
}

#[test]
fn delete_without_yes_and_without_a_terminal_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    let before = std::fs::read(dir.path().join("s.db")).unwrap();
    // `output()` gives the child no stdin: not a terminal.
    let out = nas(dir.path(), &["study", "delete", "a", "--storage", "s.db"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    let out = nas(
        dir.path(),
        &["trials", "--study", "a", "--json", "--storage", "s.db"],
    );
    assert_eq!(json_lines(&stdout(&out)).len(), 5);
    assert_eq!(std::fs::read(dir.path().join("s.db")).unwrap(), before);
}

#[test]
fn rename_moves_the_trials_and_refuses_taken_and_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "5");
    run_study(dir.path(), "s.db", "b", "3");
    let rename = |old: &str, new: &str| {
        nas(
            dir.path(),
            &["study", "rename", old, new, "--storage", "s.db"],
        )
    };
    let trials = |study: &str| {
        nas(
            dir.path(),
            &["trials", "--study", study, "--json", "--storage", "s.db"],
        )
    };

    let out = rename("a", "c");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&stdout(&trials("c"))).len(), 5);
    assert_eq!(trials("a").status.code(), Some(2));

    for (old, new) in [("c", "b"), ("zzz", "d"), ("c", "bad/name")] {
        let out = rename(old, new);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{old} -> {new}: {}",
            stderr(&out)
        );
    }
    assert_eq!(json_lines(&stdout(&trials("c"))).len(), 5);
    assert_eq!(json_lines(&stdout(&trials("b"))).len(), 3);
    assert_eq!(trials("d").status.code(), Some(2));
}

#[test]
fn nas_storage_is_the_default_store_and_storage_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let env_db = dir.path().join("env.db");
    let env_db = env_db.to_str().unwrap();
    let out = nas_with_storage_env(
        dir.path(),
        env_db,
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--trials",
            "2",
            "--study",
            "e",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(Path::new(env_db).exists());
    assert!(!dir.path().join("runs").exists(), "runs/nas.db is not used");

    let out = nas_with_storage_env(dir.path(), env_db, &["studies", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&stdout(&out))[0]["name"], "e");

    run_study(dir.path(), "other.db", "o", "1");
    let out = nas_with_storage_env(
        dir.path(),
        env_db,
        &["studies", "--json", "--storage", "other.db"],
    );
    assert_eq!(json_lines(&stdout(&out))[0]["name"], "o");
}

#[test]
fn sqlalchemy_urls_open_the_same_file_as_the_plain_path() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "2");
    let abs = dir.path().join("s.db");
    let abs = abs.to_str().unwrap();
    for url in [
        "sqlite:///s.db".to_string(),
        format!("sqlite:///{abs}"),
        "sqlite://s.db".to_string(),
        "sqlite:s.db".to_string(),
    ] {
        let out = nas(dir.path(), &["studies", "--json", "--storage", &url]);
        assert!(out.status.success(), "{url}: {}", stderr(&out));
        assert_eq!(json_lines(&stdout(&out))[0]["name"], "a", "{url}");
    }
    // `sqlite:///` + an absolute path, as sqlx users write it, names a
    // relative path that does not exist: refused, not a new empty store.
    let url = format!("sqlite://{abs}");
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--trials",
            "1",
            "--storage",
            &url,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("four slashes"), "{}", stderr(&out));
    let relative = dir.path().join(abs.trim_start_matches('/'));
    assert!(!relative.exists() && !dir.path().join("tmp").exists());
}

#[test]
fn listing_or_changing_a_missing_store_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for storage in ["x.db", "missing/x.db", "sqlite:///y.db"] {
        for args in [
            vec!["studies"],
            vec!["studies", "--json"],
            vec!["trials", "--study", "a"],
            vec!["trials", "--study", "a", "--format", "csv"],
            vec!["study", "delete", "a", "--yes"],
            vec!["study", "rename", "a", "b"],
        ] {
            let out = nas(dir.path(), &[&args[..], &["--storage", storage]].concat());
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} {storage}: {}",
                stderr(&out)
            );
            assert!(stderr(&out).contains("no store"), "{}", stderr(&out));
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_store_of_release_0_1_0_lists_as_csv_with_its_times() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v0.1.0.db");
    std::fs::copy(fixture, &db).unwrap();
    let out = nas(
        dir.path(),
        &[
            "trials",
            "--study",
            "tiny6",
            "--format",
            "csv",
            "--storage",
            "old.db",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = csv_rows(&stdout(&out));
    assert_eq!(rows.len(), 6);
    // 0.1.0 stored start and end times (unix seconds); they read as such.
    assert!(
        rows[0]["started"].starts_with("2026-12-01T"),
        "{:?}",
        rows[0]
    );
    assert!(rows.iter().all(|r| is_iso_utc(&r["finished"])));
    assert_eq!(rows[0]["evaluator"], "train");
    assert!(!rows[0]["kv_cache_bytes"].is_empty());
}

#[test]
fn help_shows_examples_for_the_store_commands() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        vec!["studies"],
        vec!["trials"],
        vec!["study"],
        vec!["study", "delete"],
    ] {
        let out = nas(dir.path(), &[&command[..], &["--help"]].concat());
        assert!(out.status.success(), "{command:?}");
        assert!(stdout(&out).contains("Examples:"), "{command:?}");
    }
    let out = nas(dir.path(), &["trials", "--help"]);
    assert!(stdout(&out).contains("NAS_STORAGE"), "{}", stdout(&out));
    assert!(stdout(&out).contains("--format"), "{}", stdout(&out));
}

#[test]
fn deleting_or_renaming_in_another_programs_database_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        for sql in [
            "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT)",
            "INSERT INTO studies VALUES (1, 'a')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
    let before = std::fs::read(&db).unwrap();
    for args in [
        vec!["study", "delete", "a", "--yes"],
        vec!["study", "rename", "a", "b"],
    ] {
        let out = nas(
            dir.path(),
            &[&args[..], &["--storage", "other.db"]].concat(),
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("another program"), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn the_trials_table_shows_duration_and_start_and_params_once() {
    let dir = tempfile::tempdir().unwrap();
    run_study(dir.path(), "s.db", "a", "3");
    let out = nas(dir.path(), &["trials", "--study", "a", "--storage", "s.db"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().find(|l| l.contains("architecture")).unwrap();
    // The tiny space's cost is params: one column, not "params params".
    assert_eq!(header.matches("params").count(), 1, "{header}");
    assert!(header.contains("time") && header.contains("started (UTC)"));
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" complete ")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in rows {
        assert!(
            row.contains(" s  20"),
            "a duration, then a start year: {row}"
        );
    }
}
