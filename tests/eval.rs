//! `nas eval`: one design evaluated against a space, and with `--study`
//! recorded through the study's one trial path (the door for external
//! optimisers). Analytic evaluator: the rules, not the training, are tested.

mod common;

use common::{nas, stderr, stdout};
use hybrid_nas::metrics;
use hybrid_nas::store::{SqliteStore, Store, TrialState};

fn eval(dir: &std::path::Path, arch: &str, extra: &[&str]) -> std::process::Output {
    let args = [
        &[
            "eval",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--arch",
            arch,
        ][..],
        extra,
    ]
    .concat();
    nas(dir, &args)
}

fn last_json(out: &std::process::Output) -> serde_json::Value {
    let text = stdout(out);
    serde_json::from_str(text.lines().last().expect("a JSON line")).unwrap()
}

#[test]
fn eval_records_once_answers_again_from_the_store_and_keeps_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let study = ["--study", "ext", "--trials", "2"];
    let out = eval(dir.path(), "d32 S8 A2", &study);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = last_json(&out);
    assert_eq!(first["trial"], 0);
    assert_eq!(first["evaluator"], "analytic");
    assert_eq!(
        first["objectives"],
        serde_json::json!(["val_ppl", "params"])
    );
    let ppl = first["metrics"][metrics::VAL_PPL].as_f64().unwrap();
    assert_eq!(first["values"][0].as_f64(), Some(ppl));

    // The same design again: answered from the store, not evaluated twice.
    let out = eval(dir.path(), "d32 S8 A2", &["--study", "ext"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(last_json(&out)["trial"], 0);
    let db = dir.path().join("runs/nas.db");
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let ext = store.find_study("ext").unwrap().unwrap();
    assert_eq!(ext.strategy, "external");
    assert_eq!(ext.evaluator.as_deref(), Some("analytic"));
    let trials = store.trials(ext.id).unwrap();
    assert_eq!(trials.len(), 1);
    assert_eq!(trials[0].state, TrialState::Complete);
    assert!(trials[0].worker.ends_with(":eval"), "{}", trials[0].worker);
    assert_eq!(
        trials[0].extra,
        Some(serde_json::json!({"origin": "external"}))
    );

    // A second design fills the budget of 2, kept without --trials; a third
    // is refused with exit 2 and records nothing.
    let out = eval(dir.path(), "d32 S8 S8", &["--study", "ext"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(last_json(&out)["trial"], 1);
    let out = eval(dir.path(), "d64 S16 A4", &["--study", "ext"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("budget of 2"), "{}", stderr(&out));

    // Another evaluator on the same study is refused; so is `nas run`.
    let out = nas(
        dir.path(),
        &[
            "eval",
            "--space",
            "tiny",
            "--arch",
            "d64 S16 A4",
            "--study",
            "ext",
            "--trials",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--evaluator analytic"),
        "{}",
        stderr(&out)
    );
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--study",
            "ext",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("external"), "{}", stderr(&out));
    assert_eq!(store.trials(ext.id).unwrap().len(), 2, "nothing recorded");
    assert_eq!(store.find_study("ext").unwrap().unwrap().budget, 2);
}

#[test]
fn a_design_outside_the_space_is_answered_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    // Four layers: the tiny space has depths 2 and 3.
    let out = eval(dir.path(), "d32 S8 S8 S8 S8", &["--study", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let answer = last_json(&out);
    assert_eq!(answer["in_space"], false);
    assert_eq!(answer["evaluator"], "analytic");
    assert!(
        answer["reason"].as_str().unwrap().contains("depth"),
        "{answer}"
    );
    assert!(!dir.path().join("runs/nas.db").exists());
}
