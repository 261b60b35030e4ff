//! `nas run`: create or continue a study and drive it to its budget.

use anyhow::Context;

use hybrid_nas::evaluate;
use hybrid_nas::metrics;
use hybrid_nas::search::Strategy;
use hybrid_nas::space::{SearchSpace, StrategyName};
use hybrid_nas::store::{SqliteStore, Store};
use hybrid_nas::study::driver::{Driver, RunOptions, RunSummary};
use hybrid_nas::study::{
    self, interrupt, StoredStudy, StudyConfig, StudyError, StudyRequest, StudyStrategy,
    ThreadSplit, EXIT_INTERRUPTED,
};

use super::progress::TrialProgress;
use super::supernet::{print_derived, BarObserver};
use super::UsageError;
use crate::cli::{RunArgs, DEFAULT_STORAGE};

pub fn run(args: RunArgs, threads: usize) -> anyhow::Result<i32> {
    // Everything that can be wrong with the input is checked before the store
    // is opened: a bad space or corpus leaves no study behind.
    let (space, note) = SearchSpace::resolve(&args.space)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
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
    };
    let config = StudyConfig::new(space, request)?;
    let evaluator = evaluate::build(config.evaluator, &config.space)?;
    let supernet_corpus = config.supernet_corpus()?;
    let proposer = match config.is_darts() {
        true => None,
        false => Some(config.make_strategy()?),
    };
    let split = ThreadSplit::new(threads, args.jobs);
    split.apply_per_job();

    let store = SqliteStore::open(&args.store.storage)
        .with_context(|| format!("opening the store {}", args.store.storage))?;
    let mut study = study::open_or_continue(&store, &config, args.force)?;
    let interrupted = interrupt::flag();
    let strategy: Box<dyn Strategy> = match (proposer, &supernet_corpus) {
        (Some(strategy), _) => strategy,
        (None, Some(corpus)) => {
            let mut observer = BarObserver::new(args.json, &interrupted);
            let result = study::darts::derive(&store, &mut study, corpus, &mut observer, split);
            observer.finish();
            match result {
                Ok((derived, strategy)) => {
                    if !args.json {
                        print_derived(&derived);
                    }
                    Box::new(strategy)
                }
                Err(StudyError::Darts(hybrid_nas::search::darts::DartsError::Interrupted)) => {
                    eprintln!(
                        "interrupted: the supernet is checkpointed; the same command continues it"
                    );
                    return Ok(EXIT_INTERRUPTED);
                }
                Err(e) => return Err(e.into()),
            }
        }
        (None, None) => unreachable!("a DARTS config loads its corpus"),
    };

    let before = store.trials(study.id)?;
    if !args.json {
        eprintln!(
            "study `{}`: {} strategy, {} evaluator{}, {} of {} trials complete, {} job(s) x {} \
             thread(s), store {}",
            study.name,
            study.strategy,
            config.evaluator,
            if config.evaluator.is_stand_in() {
                " (stand-in values, not measurements)"
            } else {
                ""
            },
            before.iter().filter(|t| t.is_complete()).count(),
            study.budget,
            split.jobs,
            split.per_job(),
            args.store.storage
        );
    }
    let progress = TrialProgress::new(&study, &before, args.json);
    let driver = Driver {
        store: &store,
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
    if !args.json {
        report(&store, &study, &summary, &args.store.storage)?;
    }
    let complete = store
        .trials(study.id)?
        .iter()
        .filter(|t| t.is_complete())
        .count();
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.gave_up.is_some() || (complete == 0 && summary.failed > 0) {
        // Nothing to show for the run: say so to scripts too.
        1
    } else {
        0
    })
}

/// What the run did, the best trial, and what to do next.
fn report(
    store: &dyn Store,
    study: &StoredStudy,
    summary: &RunSummary,
    storage: &str,
) -> anyhow::Result<()> {
    let trials = store.trials(study.id)?;
    let complete = trials.iter().filter(|t| t.is_complete()).count();
    if summary.reaped > 0 {
        eprintln!(
            "{} trial(s) left running by a stopped process were marked failed and retried",
            summary.reaped
        );
    }
    eprintln!(
        "study `{}`: {complete} of {} trials complete ({} finished here, {} failed here)",
        study.name, study.budget, summary.complete, summary.failed
    );
    if let Some(error) = &summary.gave_up {
        eprintln!(
            "stopped: {} trials failed in a row (last: {error}); fix the space's training \
             settings and run again to continue",
            RunOptions::default().max_consecutive_failures
        );
    }
    if summary.exhausted && complete < study.budget {
        if study.strategy == StudyStrategy::Search(StrategyName::Darts) {
            eprintln!(
                "every derived design has been tried; {} of them failed (nas trials --study {} \
                 --state failed)",
                study.budget - complete,
                study.name
            );
        } else {
            eprintln!(
                "the space has no unexplored architecture left: the study stops short of its \
                 budget"
            );
        }
    }
    let ppl = |t: &&hybrid_nas::store::TrialRecord| t.value(metrics::VAL_PPL);
    let best = trials
        .iter()
        .filter(|t| t.is_complete() && ppl(t).is_some())
        .min_by(|a, b| ppl(a).unwrap().total_cmp(&ppl(b).unwrap()));
    if let Some(t) = best {
        eprintln!(
            "best: trial {} {} (val ppl {:.3}{})",
            t.number,
            t.arch_short,
            ppl(&t).unwrap(),
            if study.is_stand_in() {
                ", stand-in"
            } else {
                ""
            }
        );
        let storage = if storage == DEFAULT_STORAGE {
            String::new()
        } else {
            format!(" --storage {storage}")
        };
        eprintln!(
            "next: nas trials --study {}{storage} --sort ppl",
            study.name
        );
        eprintln!(
            "      nas export --study {}{storage} --best -o best.toml",
            study.name
        );
    }
    Ok(())
}
