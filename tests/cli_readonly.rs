//! Commands that only read (`studies`, `trials`, `curves`, `report`, `pareto`,
//! `darts`, `fidelity --no-train`, `export`) never create, migrate or write a store.

mod common;

use std::path::Path;

use common::{nas, stderr, tree};

/// Each read-only command, reading study `study` of the store given after.
fn readers(study: &str) -> Vec<Vec<String>> {
    let s = study.to_string();
    [
        vec!["studies"],
        vec!["trials", "--study", &s],
        vec!["trials", "--study", &s, "--json"],
        vec!["trials", "--study", &s, "--group"],
        vec!["curves", "--study", &s],
        vec!["curves", "--study", &s, "--json"],
        vec!["report", "--study", &s],
        vec!["report", "--study", &s, "--format", "json"],
        vec!["pareto", "--study", &s],
        vec!["pareto", "--study", &s, "--json"],
        vec!["darts", "--study", &s],
        vec!["fidelity", "--study", &s, "--no-train"],
        vec!["fidelity", "--study", &s, "--no-train", "--json"],
        vec!["export", "--study", &s, "--best", "-o", "best.toml"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .collect()
}

fn run(dir: &Path, args: &[String], storage: &str) -> std::process::Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--storage", storage]);
    nas(dir, &all)
}

#[test]
fn a_missing_store_is_an_error_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    for storage in ["runs/nas.db", "elsewhere/s.db", "sqlite://elsewhere/s.db"] {
        for args in readers("any") {
            let out = run(dir.path(), &args, storage);
            assert!(!out.status.success(), "{args:?} {storage}");
            assert!(
                stderr(&out).contains("no store"),
                "{args:?} {storage}: {}",
                stderr(&out)
            );
            assert!(tree(dir.path()).is_empty(), "{args:?}");
        }
    }
}

#[test]
fn an_earlier_release_store_is_read_but_never_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v0.1.0.db"),
        &db,
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    for args in readers("tiny6") {
        let out = run(dir.path(), &args, "old.db");
        // `darts` refuses a random-search study; every other command answers.
        let expected = if args[0] == "darts" { 2 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            std::fs::read(&db).unwrap() == before,
            "{args:?} changed the store"
        );
    }
    // The store took no write-ahead log with new pages either.
    let wal = dir.path().join("old.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}
