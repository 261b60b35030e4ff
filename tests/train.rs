//! The proxy trainer: a model learns, runs are reproducible, bad corpora are
//! clear errors.

mod common;

use std::ops::ControlFlow;

use hybrid_nas::arch::Architecture;
use hybrid_nas::data::{Corpus, DataError};
use hybrid_nas::train::{train, TrainConfig, TrainError};

fn small_config(seed: u64) -> TrainConfig {
    TrainConfig {
        steps: 60,
        batch_size: 8,
        seq_len: 32,
        lr: 3e-3,
        eval_interval: 20,
        eval_batches: 4,
        seed,
        ..Default::default()
    }
}

fn corpus() -> Corpus {
    Corpus::from_text(&common::synthetic_text(40_000), "synthetic".into()).unwrap()
}

#[test]
fn loss_falls_on_a_small_corpus() {
    tch::set_num_threads(2);
    let corpus = corpus();
    let arch = Architecture::parse_short_form("d32 S8 A4 S8").unwrap();
    let trained = train(&arch, &corpus, &small_config(0), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let report = &trained.report;
    let uniform = (corpus.vocab_size() as f64).ln();
    assert_eq!(report.curve.len(), 3);
    assert!(
        report.val_loss < 0.6 * uniform,
        "val loss {} vs uniform {uniform}",
        report.val_loss
    );
    assert!(report.curve[2].val_loss < report.curve[0].val_loss);
    assert!((report.val_ppl - report.val_loss.exp()).abs() < 1e-9);
    assert!(report.tokens_per_s > 0.0 && report.latency_ms > 0.0);
    assert_eq!(report.params, report.cost.params);
}

#[test]
fn same_seed_same_losses_other_seed_other_losses() {
    tch::set_num_threads(2);
    let corpus = corpus();
    let arch = Architecture::parse_short_form("d32 A4 S8").unwrap();
    let losses = |seed| {
        let mut seen = Vec::new();
        let cfg = TrainConfig {
            steps: 15,
            ..small_config(seed)
        };
        let trained = train(&arch, &corpus, &cfg, |p| {
            seen.push(p.loss);
            ControlFlow::Continue(())
        })
        .unwrap();
        (seen, trained.report.val_loss)
    };
    let (a, va) = losses(5);
    let (b, vb) = losses(5);
    let (c, _) = losses(6);
    assert_eq!(a, b);
    assert_eq!(va, vb);
    assert_ne!(a, c);
}

#[test]
fn diverging_training_stops_with_the_step() {
    tch::set_num_threads(2);
    let arch = Architecture::parse_short_form("d32 A4").unwrap();
    let cfg = TrainConfig {
        lr: 1e12,
        weight_decay: 0.0,
        ..small_config(0)
    };
    match train(&arch, &corpus(), &cfg, |_| ControlFlow::Continue(())) {
        Err(TrainError::NonFinite { step, .. }) => assert!(step < 60),
        Err(other) => panic!("unexpected error {other}"),
        Ok(t) => panic!("trained to {} with lr 1e12", t.report.val_loss),
    }
}

#[test]
fn bad_corpora_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let err = Corpus::load(Some(&missing)).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }));
    assert!(err.to_string().contains("nope.txt"));

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert!(matches!(
        Corpus::load(Some(&empty)),
        Err(DataError::Empty { .. })
    ));

    let binary = dir.path().join("latin1.txt");
    std::fs::write(&binary, b"caf\xe9 au lait").unwrap();
    let err = Corpus::load(Some(&binary)).unwrap_err();
    assert!(matches!(err, DataError::NotUtf8 { offset: 3, .. }), "{err}");

    let short = Corpus::from_text("to be or not to be", "short".into()).unwrap();
    let arch = Architecture::parse_short_form("d32 S8").unwrap();
    let err = train(&arch, &short, &small_config(0), |_| {
        ControlFlow::Continue(())
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("too short"), "{err}");
}
