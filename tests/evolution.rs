//! Aging evolution through `nas run` on the analytic objective: a study
//! stopped and continued proposes the uninterrupted sequence; children stay
//! inside the space and name an earlier trial as parent; the population size
//! comes from the space's `[evolution]` table.

mod common;

use std::path::Path;

use common::{nas, stderr};
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{SqliteStore, Store, TrialState};

fn arch_sequence(dir: &Path, study: &str) -> Vec<String> {
    let store = SqliteStore::open(dir.join("runs/nas.db").to_str().unwrap()).unwrap();
    let study = store.find_study(study).unwrap().unwrap();
    store
        .trials(study.id)
        .unwrap()
        .into_iter()
        .filter(|t| t.state == TrialState::Complete)
        .map(|t| t.arch_short)
        .collect()
}

fn run(dir: &Path, study: &str, trials: &str) {
    run_space(dir, "hybrid", study, trials);
}

fn run_space(dir: &Path, space: &str, study: &str, trials: &str) {
    let out = nas(
        dir,
        &[
            "run",
            "--space",
            space,
            "--strategy",
            "evolution",
            "--evaluator",
            "analytic",
            "--study",
            study,
            "--trials",
            trials,
            "--seed",
            "3",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn stopping_and_continuing_gives_the_uninterrupted_sequence() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), "straight", "90");
    for budget in ["17", "40", "41", "90"] {
        run(dir.path(), "resumed", budget);
    }
    let straight = arch_sequence(dir.path(), "straight");
    assert_eq!(straight.len(), 90);
    assert_eq!(straight, arch_sequence(dir.path(), "resumed"));
}

#[test]
fn children_are_in_the_space_and_descend_from_the_population() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), "e", "80");
    let space = SearchSpace::parse(SearchSpace::bundled("hybrid").unwrap(), "hybrid").unwrap();
    let store = SqliteStore::open(dir.path().join("runs/nas.db").to_str().unwrap()).unwrap();
    let study = store.find_study("e").unwrap().unwrap();
    let trials = store.trials(study.id).unwrap();
    let mut mutated = 0;
    for t in &trials {
        let arch = serde_json::from_str(&t.arch_json).unwrap();
        assert_eq!(space.check(&arch), Ok(()), "{}", t.arch_short);
        let extra = t.extra.as_ref().unwrap();
        if extra["origin"] == "mutation" {
            mutated += 1;
            let parent = extra["parent"].as_i64().unwrap();
            assert!(parent < t.number, "a parent precedes its child");
        }
    }
    assert!(mutated >= 50, "only {mutated} of 80 trials were mutations");
}

#[test]
fn the_population_size_comes_from_the_space() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[evolution]\npopulation = 6\ntournament = 2\n",
        SearchSpace::bundled("hybrid").unwrap()
    );
    let path = dir.path().join("small_population.toml");
    std::fs::write(&path, text).unwrap();
    run_space(dir.path(), path.to_str().unwrap(), "p", "20");
    let store = SqliteStore::open(dir.path().join("runs/nas.db").to_str().unwrap()).unwrap();
    let study = store.find_study("p").unwrap().unwrap();
    let origins: Vec<String> = store
        .trials(study.id)
        .unwrap()
        .iter()
        .map(|t| {
            t.extra.as_ref().unwrap()["origin"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Random samples until six trials are complete, mutations from then on.
    assert_eq!(origins.len(), 20);
    assert!(origins[..6].iter().all(|o| o == "random"), "{origins:?}");
    assert!(origins[6..].iter().all(|o| o == "mutation"), "{origins:?}");
}
