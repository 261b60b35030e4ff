//! `nas run`: create or continue a study and drive it to its budget.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use hybrid_nas::data::Corpus;
use hybrid_nas::search::darts::{check_corpus, DartsError, DerivedStrategy};
use hybrid_nas::search::driver::{Driver, RunOptions};
use hybrid_nas::search::{make_strategy, Strategy};
use hybrid_nas::space::{SearchSpace, StrategyName};
use hybrid_nas::store::{SqliteStore, Store, StoreError, StudySpec, TrialRecord, TrialState};

use super::studies::{evaluator_name, evaluator_of};
use super::supernet;
use super::{make_evaluator, study_spec, trial_json, UsageError};
use crate::cli::{EvaluatorKind, RunArgs};

/// Exit status after Ctrl-C, as shells report SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

pub fn run(args: RunArgs, threads: usize) -> anyhow::Result<i32> {
    // Everything that can be wrong with the input is checked before the store
    // is opened: a bad space or corpus leaves no study behind.
    let (mut space, note) = SearchSpace::resolve(&args.space)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    if let Some(trials) = args.trials {
        if trials == 0 {
            return Err(UsageError("--trials must be at least 1".into()).into());
        }
        space.trials = trials;
    }
    if let Some(seed) = args.seed {
        space.seed = seed;
    }
    if let Some(name) = &args.strategy {
        space.strategy = name
            .parse::<StrategyName>()
            .map_err(|e| UsageError(format!("--strategy {name}: {e}")))?;
    }
    let is_darts = space.strategy == StrategyName::Darts;
    // DARTS proposes once its supernet is trained; the others right away.
    let strategy = if is_darts {
        if args.trials.is_some() {
            return Err(UsageError(
                "--trials does not apply to darts: a DARTS study trains one architecture per \
                 [darts] lambdas entry (fewer when two derive the same)"
                    .into(),
            )
            .into());
        }
        space.trials = space.darts.lambdas.len();
        None
    } else {
        Some(make_strategy(space.strategy, &space).map_err(|e| UsageError(e.to_string()))?)
    };
    let evaluator = make_evaluator(args.evaluator, &space)?;
    // The supernet always trains on the corpus, whatever scores the trials.
    let supernet_corpus = if is_darts {
        let corpus = Corpus::load(space.task.corpus.as_deref())?;
        corpus.check_seq_len(space.task.seq_len)?;
        check_corpus(&corpus, space.task.seq_len)?;
        Some(corpus)
    } else {
        None
    };
    let jobs = args.jobs.max(1);
    // Split the cores between libtorch's threads and the workers; set before
    // the worker pool starts so its threads inherit it.
    tch::set_num_threads((threads / jobs).max(1) as i32);

    let study_name = args.study.clone().unwrap_or_else(|| space.name.clone());
    let store = SqliteStore::open(&args.store.storage)
        .with_context(|| format!("opening the store {}", args.store.storage))?;
    let spec = study_spec(&space, &study_name, space.strategy.as_str());
    if let Some(existing) = store.find_study(&study_name)? {
        // A study's strategy and seed are fixed when it is created.
        if args.strategy.is_none() && existing.strategy != space.strategy.as_str() {
            return Err(UsageError(format!(
                "study `{}` uses the {} strategy, but the space says {}; pass --strategy {} to \
                 continue it, or use --study NEW_NAME",
                existing.name,
                existing.strategy,
                space.strategy.as_str(),
                existing.strategy
            ))
            .into());
        }
        if args.strategy.is_some() && existing.strategy != space.strategy.as_str() {
            return Err(UsageError(format!(
                "study `{}` uses the {} strategy; --strategy {} needs a new --study name",
                existing.name,
                existing.strategy,
                space.strategy.as_str()
            ))
            .into());
        }
        if args.seed.is_some_and(|seed| seed != existing.seed) {
            return Err(UsageError(format!(
                "study `{}` has seed {}; another --seed needs a new --study name",
                existing.name, existing.seed
            ))
            .into());
        }
        // Perplexities from the analytic stand-in and from training must never
        // share a front: a study keeps the evaluator it started with.
        let wanted = evaluator_name(args.evaluator);
        if let Some(used) = evaluator_of(&store.trials(existing.id)?).filter(|&used| used != wanted)
        {
            return Err(UsageError(format!(
                "study `{}` holds trials from the {used} evaluator; continue it with \
                 --evaluator {}, or use --study NEW_NAME",
                existing.name,
                if used == "training" {
                    "train"
                } else {
                    "analytic"
                }
            ))
            .into());
        }
    }
    let mut study = store.open_study(&spec, args.force).map_err(|e| match e {
        StoreError::SpaceMismatch { .. } => anyhow::Error::from(UsageError(format!(
            "study `{study_name}` was created with a different search space (the space file \
             changed); pass --force to continue it with this space, or --study NEW_NAME to start another"
        ))),
        other => other.into(),
    })?;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // Only the first Ctrl-C is graceful; a handler may already exist in tests.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_INTERRUPTED);
            }
            eprintln!("\ninterrupt: stopping; running trials are marked failed, a supernet is checkpointed (Ctrl-C again to quit now)");
        });
    }

    // DARTS also returns what it derived, which sets the study's budget.
    let (strategy, derived): (Box<dyn Strategy>, Option<HashSet<String>>) =
        match (strategy, &supernet_corpus) {
            (Some(strategy), _) => (strategy, None),
            (None, Some(corpus)) => {
                // The supernet is one model: it gets every core; trials split them.
                tch::set_num_threads(threads as i32);
                let search_result =
                    supernet::search(&store, &study, &space, corpus, &interrupted, args.json);
                tch::set_num_threads((threads / jobs).max(1) as i32);
                let derived = match search_result {
                    Ok(derived) => derived,
                    Err(DartsError::Interrupted) => {
                        eprintln!(
                        "interrupted: the supernet is checkpointed; the same command continues it"
                    );
                        return Ok(EXIT_INTERRUPTED);
                    }
                    Err(e) => return Err(e.into()),
                };
                let hashes = derived.iter().map(|d| d.arch.hash()).collect();
                (Box::new(DerivedStrategy::new(derived)), Some(hashes))
            }
            (None, None) => unreachable!("DARTS loads its corpus"),
        };

    let before = store.trials(study.id)?;
    if let Some(derived) = &derived {
        // One trial per distinct derived design, plus the trials kept from
        // designs no longer derived (λs or space changed since), which would
        // otherwise use up the new designs' slots.
        let kept = before
            .iter()
            .filter(|t| t.state != TrialState::Failed)
            .filter(|t| !derived.contains(&t.arch_hash))
            .count();
        let budget = derived.len() + kept;
        if budget != study.budget {
            study = store.open_study(&StudySpec { budget, ..spec }, args.force)?;
        }
    }
    let done_before = before
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count();
    let best_before = before
        .iter()
        .filter_map(|t| t.metrics.as_ref().map(|m| m.val_ppl))
        .fold(f64::INFINITY, f64::min);
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        eprintln!(
            "study `{}`: {} strategy, {} evaluator, {} of {} trials complete, {} job(s) x {} thread(s), store {}",
            study.name,
            study.strategy,
            match args.evaluator {
                EvaluatorKind::Train => "training",
                EvaluatorKind::Analytic => "analytic",
            },
            done_before,
            study.budget,
            jobs,
            (threads / jobs).max(1),
            args.store.storage
        );
        ProgressBar::new(study.budget as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} trials  best ppl {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid progress template"),
    );
    bar.set_position(done_before.min(study.budget) as u64);
    let best = Mutex::new(best_before);
    bar.set_message(format_best(best_before));
    let cost_objective = space.objectives.get(1).copied();
    let on_finished = |t: &TrialRecord| {
        if args.json {
            println!("{}", trial_json(t, cost_objective));
            return;
        }
        if t.state == TrialState::Complete {
            bar.inc(1);
            if let Some(m) = &t.metrics {
                let mut b = best.lock().unwrap();
                *b = b.min(m.val_ppl);
                bar.set_message(format_best(*b));
            }
        } else if let Some(err) = &t.error {
            let line = format!("trial {} failed: {err}", t.number);
            // A hidden bar (stderr not a terminal) prints nothing.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
        }
    };
    let driver = Driver {
        store: &store,
        study: &study,
        evaluator: evaluator.as_ref(),
        options: RunOptions {
            jobs,
            threads_per_job: Some((threads / jobs).max(1)),
            ..Default::default()
        },
        interrupted: &interrupted,
    };
    let summary = driver.run(strategy, &on_finished)?;
    bar.finish_and_clear();

    let trials = store.trials(study.id)?;
    let complete = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count();
    let best = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| t.metrics.as_ref().map(|m| (t, m.val_ppl)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if !args.json {
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
            if is_darts {
                eprintln!(
                    "every derived design has been tried; {} of them failed (nas trials --study {} --state failed)",
                    study.budget - complete,
                    study.name
                );
            } else {
                eprintln!("the space has no unexplored architecture left: the study stops short of its budget");
            }
        }
        if let Some((t, ppl)) = best {
            eprintln!(
                "best: trial {} {} (val ppl {ppl:.3})",
                t.number, t.arch_short
            );
            eprintln!(
                "next: nas trials --study {0} --sort ppl | nas export --study {0} --best -o best.toml",
                study.name
            );
        }
    }
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.gave_up.is_some() || (complete == 0 && summary.failed > 0) {
        // Nothing to show for the run: say so to scripts too.
        1
    } else {
        0
    })
}

fn format_best(ppl: f64) -> String {
    if ppl.is_finite() {
        format!("{ppl:.3}")
    } else {
        "-".into()
    }
}
