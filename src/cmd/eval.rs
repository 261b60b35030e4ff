//! `nas eval`: one architecture, evaluated (and optionally recorded) against a
//! space's objectives.

use std::ops::ControlFlow;

use hybrid_nas::arch::Architecture;
use hybrid_nas::evaluate::{objective_value, Evaluation, Evaluator};
use hybrid_nas::search::driver::process_id;
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{Claim, NewTrial, Outcome, SqliteStore, Store, TrialState};

use super::{make_evaluator, study_spec, UsageError};
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
        space.trials = trials.max(1);
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
        None => evaluate(evaluator.as_ref(), &arch, space.seed)?,
        Some(name) => {
            let store = SqliteStore::open(&args.store.storage)?;
            let mut spec = study_spec(&space, name, "external");
            if let (None, Some(existing)) = (args.trials, store.find_study(name)?) {
                // Recording one trial must not reset the budget set before.
                spec.budget = existing.budget;
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
                    match evaluate(evaluator.as_ref(), &arch, study.seed) {
                        Ok(e) => {
                            store.finish(
                                trial.id,
                                &Outcome::Complete {
                                    metrics: e.metrics.clone(),
                                    curve: e.curve.clone(),
                                },
                            )?;
                            e
                        }
                        Err(e) => {
                            store.finish(
                                trial.id,
                                &Outcome::Failed {
                                    error: e.to_string(),
                                },
                            )?;
                            return Err(e);
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
                                "trial {number} of `{name}` evaluates this design right now"
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

fn evaluate(
    evaluator: &dyn Evaluator,
    arch: &Architecture,
    seed: u64,
) -> anyhow::Result<Evaluation> {
    Ok(evaluator.evaluate(arch, seed, &mut |_| ControlFlow::Continue(()))?)
}
