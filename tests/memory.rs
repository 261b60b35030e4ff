//! A trial whose estimated peak memory is above what the machine has fails
//! alone, with the numbers, before anything is allocated: through the
//! library with a given limit, and through `nas run` with a design no machine
//! holds (the check reads `MemAvailable`).

mod common;

use std::sync::atomic::AtomicBool;

use common::{nas, stderr, synthetic_text, write_corpus};
use hybrid_nas::data::Corpus;
use hybrid_nas::evaluate::{EvaluatorKind, TrainEvaluator};
use hybrid_nas::memory::{self, MemoryLimit};
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{FailKind, SqliteStore, Store, TrialState};
use hybrid_nas::study::driver::{Driver, RunOptions};
use hybrid_nas::study::{open_or_continue, StudyConfig, StudyRequest};

#[test]
fn a_trial_over_the_given_limit_fails_with_its_estimate_and_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("nas.db").to_str().unwrap()).unwrap();
    let space = SearchSpace::parse(SearchSpace::bundled("tiny").unwrap(), "tiny").unwrap();
    let request = StudyRequest {
        trials: Some(2),
        evaluator: Some(EvaluatorKind::Train),
        ..Default::default()
    };
    let config = StudyConfig::new(space.clone(), request).unwrap();
    let study = open_or_continue(&store, &config, false).unwrap();
    let evaluator = TrainEvaluator {
        corpus: Corpus::from_text(&synthetic_text(20_000), "mem".into()).unwrap(),
        config: space.training.clone(),
        recall: None,
        memory: MemoryLimit::Bytes(1 << 20),
        measure_peak: false,
    };
    let interrupted = AtomicBool::new(false);
    let driver = Driver {
        store: &store,
        study: &study,
        evaluator: &evaluator,
        options: RunOptions {
            max_consecutive_failures: 3,
            ..Default::default()
        },
        interrupted: &interrupted,
    };
    let summary = driver
        .run(config.make_strategy().unwrap(), &|_| {})
        .unwrap();
    assert_eq!((summary.complete, summary.failed), (0, 3));
    assert!(summary.gave_up.is_some());
    let trials = store.trials(study.id).unwrap();
    assert_eq!(trials.len(), 3);
    for t in &trials {
        assert_eq!(t.state, TrialState::Failed);
        // `error`: the design is not retried (DARTS and resumes skip it).
        assert_eq!(t.fail_kind, Some(FailKind::Error));
        let error = t.error.as_deref().unwrap();
        assert!(
            error.contains("does not fit in memory: estimated peak"),
            "{error}"
        );
        assert!(
            error.contains("but 1.0 MiB is available (the given limit)"),
            "{error}"
        );
        assert!(error.contains("batch 16 x seq_len 64"), "{error}");
    }
    let designs: std::collections::HashSet<_> = trials.iter().map(|t| &t.arch_hash).collect();
    assert_eq!(designs.len(), 3, "a failed design was proposed again");
}

#[test]
fn nas_run_fails_a_trial_no_machine_holds_and_exits_normally() {
    if memory::system_available().is_none() {
        eprintln!("skipped: /proc/meminfo has no MemAvailable here, so nothing is checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 60_000);
    // Within every cap, but batch 512 x 4096 tokens through 64 layers of
    // width 2048 needs petabytes.
    let text = format!(
        "objectives = [\"val_ppl\", \"params\"]\n\
         [model]\ndepth = [64]\nd_model = [2048]\n\
         [attention]\nratio = [0.0, 1.0]\npattern = [\"free\"]\nheads = [16]\n\
         [ssm]\nstate_dim = [16]\n\
         [task]\ncorpus = \"{}\"\nseq_len = 4096\n\
         [training]\nsteps = 10\nbatch_size = 512\nlr = 3e-3\n\
         [search]\nstrategy = \"random\"\ntrials = 2\n",
        corpus.display()
    );
    std::fs::write(dir.path().join("huge.toml"), text).unwrap();
    let out = nas(dir.path(), &["run", "--space", "huge.toml", "--study", "h"]);
    // Not killed by a signal: the run gave up after failures in a row.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("failed in a row"), "{}", stderr(&out));
    let db = dir.path().join("runs/nas.db");
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let study = store.find_study("h").unwrap().unwrap();
    let trials = store.trials(study.id).unwrap();
    assert!(!trials.is_empty());
    for t in &trials {
        assert_eq!(t.state, TrialState::Failed, "{t:?}");
        assert_eq!(t.fail_kind, Some(FailKind::Error));
        let error = t.error.as_deref().unwrap();
        assert!(error.contains("estimated peak"), "{error}");
        assert!(error.contains("TiB"), "{error}");
        assert!(error.contains("is available (MemAvailable)"), "{error}");
    }
}
