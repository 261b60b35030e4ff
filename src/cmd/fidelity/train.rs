//! Training the linked study of `nas fidelity`: `nas run`'s driver over the
//! linked grid, with its progress lines, so a stopped check resumes where
//! it stopped.

use hybrid_nas::evaluate;
use hybrid_nas::store::{SqliteStore, Store, TrialRecord};
use hybrid_nas::study::driver::{Driver, RunOptions};
use hybrid_nas::study::fidelity::Planned;
use hybrid_nas::study::{self, interrupt, ThreadSplit};

use crate::cli::FidelityArgs;
use crate::cmd::run::{progress::TrialProgress, report};

/// Trains what the linked study still lacks; returns the exit status (as
/// `nas run`'s) and the linked study's trials.
pub fn train(
    store: &SqliteStore,
    planned: &Planned,
    args: &FidelityArgs,
    threads: usize,
) -> anyhow::Result<(i32, Vec<TrialRecord>)> {
    let config = &planned.config;
    let evaluator = evaluate::build(config.evaluator, &config.space, args.jobs == 1)?;
    let strategy = config.make_strategy()?;
    let split = ThreadSplit::new(threads, args.jobs);
    split.apply_per_job();
    let study = study::open_or_continue(store, config, false)?;
    let before = store.trials(study.id)?;
    if !args.json {
        report::start(&study, &before, split, &args.store.storage);
    }
    let progress = TrialProgress::new(&study, &before, args.json);
    let interrupted = interrupt::flag();
    let driver = Driver {
        store,
        study: &study,
        evaluator: evaluator.as_ref(),
        options: RunOptions {
            jobs: split.jobs,
            threads_per_job: Some(split.per_job()),
            ..Default::default()
        },
        interrupted: &interrupted,
    };
    let summary = driver.run(strategy, &|t| progress.finished(t))?;
    progress.finish();
    let trials = store.trials(study.id)?;
    let complete = trials.iter().filter(|t| t.is_complete()).count();
    Ok((summary.exit_status(complete), trials))
}
