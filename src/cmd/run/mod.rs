//! `nas run`: create or continue a study and drive it to its budget.

use hybrid_nas::evaluate;
use hybrid_nas::evaluate::Evaluator;
use hybrid_nas::search::Strategy;
use hybrid_nas::space::{SearchSpace, StrategyName};
use std::sync::Arc;

use hybrid_nas::device::DeviceChoice;
use hybrid_nas::host::HostShare;
use hybrid_nas::store::{is_postgres_url, redact, AnyStore, Store};
use hybrid_nas::study::driver::{Driver, RunOptions, RunSummary};
use hybrid_nas::study::{
    self, interrupt, ComputeBudget, StoredStudy, StudyConfig, StudyRequest, StudyStrategy,
    ThreadSplit, EXIT_INTERRUPTED,
};

mod phase_clock;
mod progress;
mod report;
mod supernet;

use self::progress::TrialProgress;
use super::UsageError;
use crate::cli::RunArgs;

/// `share_host`: `--threads` was not given, so the host's cores are shared
/// with the other `nas run` processes on it ([`HostShare`]).
pub fn run(args: RunArgs, threads: usize, share_host: bool) -> anyhow::Result<i32> {
    // Everything that can be wrong with the input is checked before the store
    // is opened: a bad space or corpus leaves no study behind.
    let space = SearchSpace::resolve(&args.space)?;
    let budget = compute_budget(&args)?;
    let strategy = args
        .strategy
        .as_deref()
        .map(|name| {
            name.parse::<StrategyName>()
                .map(StudyStrategy::Search)
                .map_err(|e| UsageError(format!("--strategy {name}: {e}")))
        })
        .transpose()?;
    let request = StudyRequest {
        name: args.study.clone(),
        trials: args.trials,
        seed: args.seed,
        strategy,
        evaluator: Some(args.evaluator.into()),
        pruner: args.pruner.map(Into::into),
    };
    let config = StudyConfig::new(space, request)?;
    // One trial at a time: each trial's peak memory is its own.
    let rungs_asked = asked_rungs(&config);
    let mut evaluator = evaluate::build(
        config.evaluator,
        &config.space,
        args.jobs == 1,
        &rungs_asked,
    )?;
    let supernet_corpus = config.supernet_corpus()?;
    let proposer = match config.is_darts() {
        true => None,
        false => Some(config.make_strategy()?),
    };
    // Every worker's device resolves, or nothing is stored.
    for k in 0..args.jobs.max(1) {
        args.device
            .device
            .resolve(k)
            .map_err(|e| UsageError(e.to_string()))?;
    }
    let split = ThreadSplit::new(threads, args.jobs);
    split.apply_per_job();

    let store = AnyStore::open(&args.store.storage)?;
    // Messages name a PostgreSQL store without its password.
    let shown = if is_postgres_url(&args.store.storage) {
        redact(&args.store.storage)
    } else {
        args.store.storage.clone()
    };
    let opened = study::open_or_continue_noting(&store, &config, args.force)?;
    if let Some(lowered) = opened.lowered {
        eprintln!("note: {lowered}");
    }
    let mut study = opened.study;
    // A continued study run without --pruner prunes as it did.
    let rungs = study.active_pruner().map_or(Vec::new(), |p| p.all_rungs());
    if rungs != rungs_asked {
        evaluator = evaluate::build(config.evaluator, &config.space, args.jobs == 1, &rungs)?;
    }
    let strategy: Box<dyn Strategy> = match (proposer, &supernet_corpus) {
        (Some(strategy), _) => strategy,
        (None, Some(corpus)) => {
            match supernet::derive(
                &store,
                &mut study,
                corpus,
                (split, args.device.device.resolve(0)?),
                args.json,
                config.space.darts.phases(),
            )? {
                Some(strategy) => strategy,
                None => return Ok(EXIT_INTERRUPTED),
            }
        }
        (None, None) => unreachable!("a DARTS config loads its corpus"),
    };

    let summary = train_trials(
        &store,
        &study,
        evaluator.as_ref(),
        strategy,
        TrialLoop {
            split,
            json: args.json,
            storage: &shown,
            compute_budget: budget,
            // (A DARTS supernet, above, took every thread of this process.)
            device: args.device.device,
            host: share_host
                .then(|| HostShare::join().ok().map(Arc::new))
                .flatten(),
        },
    )?;
    if !args.json {
        report::end(&store, &study, &summary, &shown)?;
    }
    let trials = store.trials(study.id)?;
    Ok(summary.exit_status(trials.iter().filter(|t| t.is_complete()).count()))
}

/// `--budget-steps` or `--budget-hours`, checked.
fn compute_budget(args: &RunArgs) -> Result<Option<ComputeBudget>, UsageError> {
    match (args.budget_steps, args.budget_hours) {
        (Some(0), _) => Err(UsageError("--budget-steps must be at least 1".into())),
        (Some(n), _) => Ok(Some(ComputeBudget::Steps(n))),
        (None, Some(h)) if !(h.is_finite() && h > 0.0) => Err(UsageError(format!(
            "--budget-hours must be a positive number of hours, got {h}"
        ))),
        (None, Some(h)) => Ok(Some(ComputeBudget::Seconds(h * 3600.0))),
        (None, None) => Ok(None),
    }
}

/// The rungs of the pruner `config` asks for (none when it asks nothing).
fn asked_rungs(config: &StudyConfig) -> Vec<usize> {
    config
        .pruner
        .as_ref()
        .and_then(|p| p.pruner(config.space.training.steps).ok())
        .map_or(Vec::new(), |p| p.all_rungs())
}

/// How [`train_trials`] runs and reports.
pub(super) struct TrialLoop<'a> {
    pub split: ThreadSplit,
    /// JSON lines instead of the start line, the bar and the progress lines.
    pub json: bool,
    /// The store as the user named it, for messages.
    pub storage: &'a str,
    pub compute_budget: Option<ComputeBudget>,
    /// Share the host's cores with its other `nas run` processes.
    pub host: Option<Arc<HostShare>>,
    /// `--device`, resolved per worker by the driver.
    pub device: DeviceChoice,
}

/// Drives `study` with `strategy` to its budget, with the start line (unless
/// `json`), one progress line per finished trial and the progress bar: the
/// trial loop of `nas run`, shared with `nas fidelity`.
pub(super) fn train_trials(
    store: &AnyStore,
    study: &StoredStudy,
    evaluator: &dyn Evaluator,
    strategy: Box<dyn Strategy>,
    how: TrialLoop<'_>,
) -> anyhow::Result<RunSummary> {
    let TrialLoop {
        split,
        json,
        storage,
        compute_budget,
        host,
        device,
    } = how;
    let before = store.trials(study.id)?;
    if !json {
        report::start(study, &before, split, storage, host.as_deref());
    }
    let progress = TrialProgress::new(study, &before, json);
    let interrupted = interrupt::flag();
    let driver = Driver {
        store,
        study,
        evaluator,
        options: RunOptions {
            jobs: split.jobs,
            threads_per_job: Some(split.per_job()),
            host_share: host,
            device,
            compute_budget,
            ..Default::default()
        },
        interrupted: &interrupted,
    };
    let summary = driver.run(strategy, &|t| progress.finished(t))?;
    progress.finish();
    Ok(summary)
}
