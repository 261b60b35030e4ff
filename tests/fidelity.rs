//! `nas fidelity` through the CLI, on analytic stand-in values: it retrains
//! the chosen designs at every seed in a linked grid study, its τ and ρ equal
//! a direct computation from the two studies' stored values, a rerun adds
//! nothing, and refusals leave the store as it was.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{nas, stderr, stdout};
use hybrid_nas::store::{SqliteStore, Store, TrialRecord};

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir.join("runs/nas.db").to_str().unwrap()).unwrap()
}

fn trials(dir: &Path, study: &str) -> Vec<TrialRecord> {
    let store = store(dir);
    let study = store.find_study(study).unwrap().expect("the study exists");
    store.trials(study.id).unwrap()
}

/// A tiny study of `n` analytic trials.
fn source(dir: &Path, n: usize) {
    let out = common::run_tiny(dir, &n.to_string(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn fidelity(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["fidelity", "--study", "tiny"];
    args.extend_from_slice(extra);
    nas(dir, &args)
}

/// τ-b and ρ without ties, by their textbook definitions: concordant minus
/// discordant pairs over all pairs, and 1 − 6 Σd² / (n(n² − 1)).
fn direct(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len();
    let mut score = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            score += ((x[i] - x[j]) * (y[i] - y[j])).signum();
        }
    }
    let rank = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|a| 1.0 + v.iter().filter(|b| *b < a).count() as f64)
            .collect()
    };
    let (rx, ry) = (rank(x), rank(y));
    let d2: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - b).powi(2)).sum();
    let n = n as f64;
    (
        score / (n * (n - 1.0) / 2.0),
        1.0 - 6.0 * d2 / (n * (n * n - 1.0)),
    )
}

fn distinct(v: &[f64]) -> bool {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.windows(2).all(|w| w[0] != w[1])
}

#[test]
fn fidelity_retrains_the_sample_and_its_correlations_equal_a_direct_computation() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), 12);
    let out = fidelity(dir.path(), &["--sample", "6", "--seeds", "2", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // One JSON line per finished trial, then the finding.
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13, "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_str(lines[12]).unwrap();
    assert_eq!(report["linked"], "tiny-x4");
    assert_eq!(report["stand_in"], true);
    assert_eq!(report["seeds"], serde_json::json!([0, 1]));
    let proxy_steps = report["proxy_steps"].as_u64().unwrap();
    assert_eq!(report["long_steps"].as_u64(), Some(4 * proxy_steps));

    // The linked study: six designs of the source, each at seeds 0 and 1,
    // trained four times as long.
    let source_trials = trials(dir.path(), "tiny");
    let linked = trials(dir.path(), "tiny-x4");
    assert_eq!(linked.len(), 12);
    assert!(linked.iter().all(|t| t.is_complete()));
    let mut seeds: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for t in &linked {
        seeds.entry(t.arch_hash.clone()).or_default().push(t.seed);
    }
    assert_eq!(seeds.len(), 6);
    assert!(seeds.values().all(|s| s == &[0, 1]), "{seeds:?}");
    let stored = store(dir.path()).find_study("tiny-x4").unwrap().unwrap();
    assert!(stored
        .space_text
        .contains(&format!("steps = {}", 4 * proxy_steps)));

    // τ and ρ from the stored values: proxy val_ppl of the source trial,
    // long val_ppl the mean over the two seeds; params alone ranks the
    // larger design better.
    let (mut proxy, mut long, mut neg_params) = (vec![], vec![], vec![]);
    for hash in seeds.keys() {
        let p = source_trials.iter().find(|t| &t.arch_hash == hash).unwrap();
        let l: Vec<f64> = linked
            .iter()
            .filter(|t| &t.arch_hash == hash)
            .map(|t| t.value("val_ppl").unwrap())
            .collect();
        proxy.push(p.value("val_ppl").unwrap());
        long.push(l.iter().sum::<f64>() / l.len() as f64);
        neg_params.push(-p.value("params").unwrap());
    }
    assert!(distinct(&proxy) && distinct(&long) && distinct(&neg_params));
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-12;
    let (tau, rho) = direct(&proxy, &long);
    assert!(close(&report["proxy"]["tau"], tau), "{report} {tau}");
    assert!(close(&report["proxy"]["rho"], rho), "{report} {rho}");
    assert_eq!(report["proxy"]["n"], 6);
    let (tau, rho) = direct(&neg_params, &long);
    assert!(close(&report["params"]["tau"], tau), "{report}");
    assert!(close(&report["params"]["rho"], rho), "{report}");
    assert_eq!(report["pending"], 0);
    assert!(report["seed_sd"].as_f64().unwrap() > 0.0);

    // A rerun trains nothing and finds the same.
    let again = fidelity(dir.path(), &["--json"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again).trim(), lines[12]);
    assert_eq!(trials(dir.path(), "tiny-x4"), linked);

    // The table names every design and the verdict.
    let text = fidelity(dir.path(), &["--no-train", "--plot", "fidelity.svg"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let shown = stdout(&text);
    assert!(shown.contains("stand-ins"), "{shown}");
    assert!(shown.contains("Spearman ρ"), "{shown}");
    assert!(shown.contains("parameter count alone"), "{shown}");
    let svg = std::fs::read_to_string(dir.path().join("fidelity.svg")).unwrap();
    // Six points and the key's two markers.
    assert_eq!(svg.matches("<circle").count(), 8, "{svg}");
}

#[test]
fn a_check_made_otherwise_or_too_small_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), 2);
    let out = fidelity(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("at least 3"), "{}", stderr(&out));
    assert!(store(dir.path()).find_study("tiny-x4").unwrap().is_none());

    source(dir.path(), 8);
    let out = fidelity(dir.path(), &["--sample", "3", "--seeds", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = trials(dir.path(), "tiny-x4");
    assert_eq!(before.len(), 3);
    for (args, says) in [
        (&["--sample", "4"][..], "retrains 3 designs"),
        (&["--seeds", "2"][..], "1 seeds per design"),
        (&["--factor", "0"][..], "--factor 0"),
        (&["--sample", "2", "--linked", "other"][..], "--sample 2"),
        (&["--plot", "f.jpg"][..], "f.jpg"),
    ] {
        let out = fidelity(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(trials(dir.path(), "tiny-x4"), before);
    assert!(store(dir.path()).find_study("other").unwrap().is_none());
    // Another factor is another linked study.
    let out = fidelity(
        dir.path(),
        &["--factor", "2", "--sample", "3", "--seeds", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trials(dir.path(), "tiny-x2").len(), 3);
}
