//! One function per subcommand; errors become exit codes here.

mod bench;
mod completions;
mod confirm;
mod curves;
mod darts;
mod db;
mod eval;
mod export;
mod fidelity;
mod generate;
mod pareto;
mod replay;
mod report;
mod run;
mod studies;
mod study;
mod train;
mod trials;

use hybrid_nas::arch::ArchError;
use hybrid_nas::data::DataError;
use hybrid_nas::generate::GenerateError;
use hybrid_nas::plot::PlotError;
use hybrid_nas::search::darts::DartsError;
use hybrid_nas::space::SpaceError;
use hybrid_nas::store::{AnyStore, StoreError, TrialRecord};
use hybrid_nas::study::driver::DriverError;
use hybrid_nas::study::fidelity::FidelityError;
use hybrid_nas::study::trial::TrialError;
use hybrid_nas::study::{frame, StoredStudy, StudyError};
use hybrid_nas::train::TrainError;
use hybrid_nas::utc;

use crate::cli::{Cli, Command};

/// Exit code for bad input (a file, an argument): nothing was done.
pub const EXIT_USAGE: i32 = 2;

/// A command-line argument that cannot be used as given.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs the command; `Ok` carries the exit status.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let asked = cli.command.threads().or(cli.threads);
    let threads =
        asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    tch::set_num_threads(threads as i32);
    match cli.command {
        Command::Train(args) => train::run(args).map(|()| 0),
        Command::Generate(args) => generate::run(args).map(|()| 0),
        Command::Bench(args) => bench::run(args, threads),
        Command::Run(args) => run::run(args, threads, asked.is_none()),
        Command::Studies(args) => studies::run(args).map(|()| 0),
        Command::Trials(args) => trials::run(args).map(|()| 0),
        Command::Curves(args) => curves::run(args).map(|()| 0),
        Command::Report(args) => report::run(args).map(|()| 0),
        Command::Fidelity(args) => fidelity::run(args, threads),
        Command::Replay(args) => replay::run(args).map(|()| 0),
        Command::Study(args) => study::run(args),
        Command::Export(args) => export::run(args).map(|()| 0),
        Command::Pareto(args) => pareto::run(args).map(|()| 0),
        Command::Eval(args) => eval::run(args),
        Command::Darts(args) => darts::run(args).map(|()| 0),
        Command::Db(args) => db::run(args).map(|()| 0),
        Command::Completions(args) => completions::run(args).map(|()| 0),
    }
}

/// Opens the store of a command that only reads: never created, migrated
/// or written ([`AnyStore::open_existing`]). Says so when an earlier
/// release's store is read from a migrated copy.
pub fn open_for_reading(storage: &str) -> Result<AnyStore, StoreError> {
    let store = AnyStore::open_existing(storage)?;
    if store.is_snapshot() {
        eprintln!(
            "note: {} was written by an earlier release of nas: read from a migrated copy, \
             the file itself left as it is (the next `nas run` on it migrates it in place)",
            hybrid_nas::terminal::escape(storage)
        );
    }
    Ok(store)
}

/// 2 for bad input the user can fix, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<ArchError>()
            || cause.is::<DataError>()
            || cause.is::<SpaceError>()
            || cause.is::<UsageError>()
        {
            return EXIT_USAGE;
        }
        if let Some(TrainError::Config(_) | TrainError::Data(_)) = cause.downcast_ref() {
            return EXIT_USAGE;
        }
        if let Some(DartsError::TooShort { .. }) = cause.downcast_ref() {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<GenerateError>()
            .is_some_and(GenerateError::is_usage)
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<PlotError>()
            .is_some_and(PlotError::is_usage)
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<hybrid_nas::store::dump::CopyError>()
            .is_some_and(hybrid_nas::store::dump::CopyError::is_usage)
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<StudyError>()
            .is_some_and(StudyError::is_usage)
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<FidelityError>()
            .is_some_and(FidelityError::is_usage)
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_usage)
        {
            return EXIT_USAGE;
        }
        // Transparent wrappers hide the store error from the chain.
        if let Some(TrialError::Store(e)) = cause.downcast_ref() {
            if e.is_usage() {
                return EXIT_USAGE;
            }
        }
        if let Some(DriverError::Store(e)) = cause.downcast_ref() {
            if e.is_usage() {
                return EXIT_USAGE;
            }
        }
    }
    1
}

/// One trial as a JSON line (for `--json` outputs): its values under
/// `metrics`, the study's cost objective under `cost`, and the evaluator,
/// so that a stand-in value can never be taken for a measurement; its
/// design's factors and its times (ISO 8601 UTC) as `nas trials --format
/// csv` has them.
pub fn trial_json(t: &TrialRecord, study: &StoredStudy) -> String {
    let factors = frame::factors(t);
    let mut v = serde_json::json!({
        "number": t.number,
        "state": t.state.to_string(),
        "arch": t.arch_short,
        "hash": t.arch_hash,
        "depth": factors.as_ref().map(|f| f.depth),
        "d_model": factors.as_ref().map(|f| f.d_model),
        "attention_ratio": factors.as_ref().map(|f| f.attention_ratio),
        "pattern": factors.as_ref().map(|f| &f.pattern),
        "seed": t.seed,
        "started": utc::iso8601(t.started),
        "finished": t.finished.and_then(utc::iso8601),
        "duration_s": t.duration(),
        "metrics": (!t.values.is_empty()).then_some(&t.values),
        "fail_kind": t.fail_kind.map(|k| k.as_str()),
        "pruned_at": t.pruned_at(),
        "error": t.error,
        "worker": t.worker,
        "extra": t.extra,
        "evaluator": study.evaluator_json(),
    });
    if let Some(c) = study.cost_objective() {
        if let Some(value) = c.value(&t.values) {
            v["cost"] = serde_json::json!({ "objective": c.as_str(), "value": value });
        }
    }
    v.to_string()
}
