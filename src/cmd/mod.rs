//! One function per subcommand; errors become exit codes here.

mod bench;
mod darts;
mod eval;
mod export;
mod pareto;
mod run;
mod studies;
mod supernet;
mod train;

use hybrid_nas::arch::ArchError;
use hybrid_nas::data::{Corpus, DataError};
use hybrid_nas::evaluate::objective_value;
use hybrid_nas::evaluate::{AnalyticEvaluator, Evaluator, TrainEvaluator};
use hybrid_nas::search::darts::DartsError;
use hybrid_nas::space::{Objective, SearchSpace, SpaceError};
use hybrid_nas::store::{StoreError, StudySpec, TrialRecord};
use hybrid_nas::train::TrainError;

use crate::cli::{Cli, Command, EvaluatorKind};

/// Exit code for bad input (a file, an argument): nothing was done.
pub const EXIT_USAGE: i32 = 2;

/// A command-line argument that cannot be used as given.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs the command; `Ok` carries the exit status.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    tch::set_num_threads(threads as i32);
    match cli.command {
        Command::Train(args) => train::run(args).map(|()| 0),
        Command::Bench(args) => bench::run(args).map(|()| 0),
        Command::Run(args) => run::run(args, threads),
        Command::Studies(args) => studies::list_studies(args).map(|()| 0),
        Command::Trials(args) => studies::list_trials(args).map(|()| 0),
        Command::Export(args) => export::run(args).map(|()| 0),
        Command::Pareto(args) => pareto::run(args).map(|()| 0),
        Command::Eval(args) => eval::run(args),
        Command::Darts(args) => darts::run(args).map(|()| 0),
    }
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
        if let Some(StoreError::SpaceMismatch { .. } | StoreError::NotFound(_)) =
            cause.downcast_ref()
        {
            return EXIT_USAGE;
        }
    }
    1
}

/// Vocabulary the analytic evaluator assumes (tinyshakespeare's 65 symbols).
const ANALYTIC_VOCAB: usize = 65;

/// The evaluator a command asked for, set up from the space's task and
/// training settings (the corpus is read and checked here, before any store
/// is touched).
pub fn make_evaluator(
    kind: EvaluatorKind,
    space: &SearchSpace,
) -> anyhow::Result<Box<dyn Evaluator>> {
    Ok(match kind {
        EvaluatorKind::Train => {
            let corpus = Corpus::load(space.task.corpus.as_deref())?;
            corpus.check_seq_len(space.task.seq_len)?;
            Box::new(TrainEvaluator {
                corpus,
                config: space.training.clone(),
            })
        }
        EvaluatorKind::Analytic => Box::new(AnalyticEvaluator {
            seq_len: space.task.seq_len,
            vocab_size: ANALYTIC_VOCAB,
        }),
    })
}

/// What a study of `space` named `name` is stored as.
pub fn study_spec(space: &SearchSpace, name: &str, strategy: &str) -> StudySpec {
    StudySpec {
        name: name.to_string(),
        space_text: space.text.clone(),
        space_hash: space.hash(),
        objectives: space
            .objectives
            .iter()
            .map(|o| o.as_str().to_string())
            .collect(),
        strategy: strategy.to_string(),
        seed: space.seed,
        budget: space.trials,
        code_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// One trial as a JSON line (for `--json` outputs).
pub fn trial_json(t: &TrialRecord, cost: Option<Objective>) -> String {
    let mut v = serde_json::json!({
        "number": t.number,
        "state": t.state.to_string(),
        "arch": t.arch_short,
        "hash": t.arch_hash,
        "metrics": t.metrics,
        "error": t.error,
        "worker": t.worker,
        "extra": t.extra,
    });
    if let (Some(m), Some(c)) = (&t.metrics, cost) {
        v["cost"] = serde_json::json!({ "objective": c.as_str(), "value": objective_value(m, c) });
    }
    v.to_string()
}
