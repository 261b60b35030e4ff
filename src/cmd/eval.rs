//! `nas eval`: one architecture, evaluated (and optionally recorded) against a
//! space's objectives.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use hybrid_nas::arch::Architecture;
use hybrid_nas::evaluate::{objective_value, Evaluation};
use hybrid_nas::search::driver::process_id;
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{Claim, NewTrial, Outcome, SqliteStore, Store, TrialState};

use super::studies::{evaluator_name, evaluator_of};
use super::{make_evaluator, study_spec, UsageError};

/// How often a recorded evaluation refreshes its trial's heartbeat.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
use crate::cli::EvalArgs;

pub fn run(args: EvalArgs) -> anyhow::Result<i32> {
    let (mut space, note) = SearchSpace::resolve(&args.space)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    if let Some(seed) = args.seed {
        space.seed = seed;
    }
    if let Some(trials) = args.trials {
        if trials == 0 {
            return Err(UsageError("--trials must be at least 1".into()).into());
        }
        space.trials = trials;
    }
    let arch = Architecture::load(&args.arch)?;
    if let Err(reason) = space.check(&arch) {
        println!(
            "{}",
            serde_json::json!({ "in_space": false, "arch": arch.short_form(), "reason": reason })
        );
        return Ok(super::EXIT_USAGE);
    }
    let evaluator = make_evaluator(args.evaluator, &space)?;

    let mut recorded = None;
    let evaluation = match &args.study {
        None => evaluator.evaluate(&arch, space.seed, &mut |_| ControlFlow::Continue(()))?,
        Some(name) => {
            let store = SqliteStore::open(&args.store.storage)?;
            let mut spec = study_spec(&space, name, "external");
            if let (None, Some(existing)) = (args.trials, store.find_study(name)?) {
                // Recording one trial must not reset the budget set before.
                spec.budget = existing.budget;
            }
            if let Some(existing) = store.find_study(name)? {
                let wanted = evaluator_name(args.evaluator);
                if let Some(used) = evaluator_of(&store.trials(existing.id)?) {
                    if used != wanted {
                        return Err(UsageError(format!(
                            "study `{name}` holds trials from the {used} evaluator, not {wanted}"
                        ))
                        .into());
                    }
                }
            }
            let study = store.open_study(&spec, false)?;
            let new = NewTrial {
                arch_json: serde_json::to_string(&arch)?,
                arch_hash: arch.hash(),
                arch_short: arch.short_form(),
                seed: study.seed,
                worker: format!("{}:eval", process_id()),
                extra: Some(serde_json::json!({ "origin": "external" })),
            };
            match store.claim(study.id, &new)? {
                Claim::Claimed(trial) => {
                    recorded = Some(trial.number);
                    // Heartbeats keep a concurrent `nas run` from taking this
                    // trial for one a dead process left behind.
                    let mut last_beat = Instant::now();
                    let mut on_step = |_| {
                        if last_beat.elapsed() >= HEARTBEAT_EVERY {
                            last_beat = Instant::now();
                            if let Err(e) = store.heartbeat(trial.id) {
                                tracing::warn!("heartbeat of trial {}: {e}", trial.number);
                            }
                        }
                        ControlFlow::Continue(())
                    };
                    match evaluator.evaluate(&arch, study.seed, &mut on_step) {
                        Ok(e) => {
                            let recorded_now = store.finish(
                                trial.id,
                                &Outcome::Complete {
                                    metrics: e.metrics.clone(),
                                    curve: e.curve.clone(),
                                },
                            )?;
                            if !recorded_now {
                                anyhow::bail!(
                                    "trial {} was marked failed while it trained (heartbeat lost); \
                                     its result is not recorded",
                                    trial.number
                                );
                            }
                            e
                        }
                        Err(e) => {
                            store.finish(
                                trial.id,
                                &Outcome::Failed {
                                    error: e.to_string(),
                                },
                            )?;
                            return Err(e.into());
                        }
                    }
                }
                Claim::Duplicate { number } => {
                    // Already evaluated in this study: answer from the store.
                    let trial = store
                        .trials(study.id)?
                        .into_iter()
                        .find(|t| t.number == number && t.state == TrialState::Complete)
                        .ok_or_else(|| {
                            UsageError(format!(
                                "trial {number} of `{name}` holds this design but has no \
                                 result (it is running, or was pruned)"
                            ))
                        })?;
                    recorded = Some(number);
                    Evaluation {
                        metrics: trial.metrics.expect("complete trials have metrics"),
                        curve: Vec::new(),
                    }
                }
                Claim::BudgetExhausted => {
                    return Err(UsageError(format!(
                        "study `{name}` has used its budget of {} trials",
                        study.budget
                    ))
                    .into())
                }
            }
        }
    };
    let objectives: Vec<f64> = space
        .objectives
        .iter()
        .map(|&o| objective_value(&evaluation.metrics, o))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "in_space": true,
            "arch": arch.short_form(),
            "objectives": space.objectives.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            "values": objectives,
            "metrics": evaluation.metrics,
            "trial": recorded,
        })
    );
    Ok(0)
}
