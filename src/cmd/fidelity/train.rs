//! Training the linked study of `nas fidelity`: `nas run`'s driver over the
//! linked grid, with its progress lines, so a stopped check resumes where
//! it stopped.

use hybrid_nas::evaluate;
use hybrid_nas::store::{AnyStore, Store, TrialRecord};
use hybrid_nas::study::fidelity::Planned;
use hybrid_nas::study::{self, ThreadSplit};

use crate::cli::FidelityArgs;
use crate::cmd::run;

/// Trains what the linked study still lacks; returns the exit status (as
/// `nas run`'s) and the linked study's trials.
pub fn train(
    store: &AnyStore,
    planned: &Planned,
    args: &FidelityArgs,
    threads: usize,
) -> anyhow::Result<(i32, Vec<TrialRecord>)> {
    let config = &planned.config;
    let evaluator = evaluate::build(config.evaluator, &config.space, args.jobs == 1, &[])?;
    let strategy = config.make_strategy()?;
    let split = ThreadSplit::new(threads, args.jobs);
    split.apply_per_job();
    let study = study::open_or_continue(store, config, false)?;
    let summary = run::train_trials(
        store,
        &study,
        evaluator.as_ref(),
        strategy,
        run::TrialLoop {
            split,
            json: args.json,
            storage: &args.store.storage,
            compute_budget: None,
            host: None,
            device: hybrid_nas::device::DeviceChoice::Cpu,
        },
    )?;
    let trials = store.trials(study.id)?;
    let complete = trials.iter().filter(|t| t.is_complete()).count();
    Ok((summary.exit_status(complete), trials))
}
