//! `nas eval`: one architecture, evaluated (and with `--study` recorded as a
//! trial) against a space's objectives.

use std::ops::ControlFlow;

use hybrid_nas::arch::Architecture;
use hybrid_nas::evaluate::{self, Evaluator};
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{AnyStore, Store, TrialRecord};
use hybrid_nas::study::driver::{process_id, RunOptions};
use hybrid_nas::study::trial::{Recorded, TrialRun};
use hybrid_nas::study::{
    self, interrupt, StoredStudy, StudyConfig, StudyRequest, StudyStrategy, EXIT_INTERRUPTED,
};

use super::{UsageError, EXIT_USAGE};
use crate::cli::EvalArgs;

pub fn run(args: EvalArgs) -> anyhow::Result<i32> {
    let space = SearchSpace::resolve(&args.space)?;
    let arch = Architecture::load(&args.arch)?;
    if let Err(reason) = space.check(&arch) {
        let evaluator = hybrid_nas::evaluate::EvaluatorKind::from(args.evaluator);
        let line = serde_json::json!({
            "in_space": false,
            "arch": arch.short_form(),
            "reason": reason,
            "evaluator": evaluator.as_str(),
        });
        println!("{line}");
        return Ok(EXIT_USAGE);
    }
    let config = StudyConfig::new(
        space,
        StudyRequest {
            name: args.study.clone(),
            trials: args.trials,
            seed: args.seed,
            strategy: Some(StudyStrategy::External),
            evaluator: Some(args.evaluator.into()),
            pruner: None,
        },
    )?;
    let evaluator = evaluate::build(config.evaluator, &config.space, true, &[])?;
    let (values, trial) = match &args.study {
        None => {
            let e = evaluator.evaluate(&arch, config.seed, &mut |_| ControlFlow::Continue(()))?;
            (e.values, None)
        }
        Some(_) => {
            let store = AnyStore::open(&args.store.storage)?;
            let opened = study::open_or_continue_noting(&store, &config, false)?;
            if let Some(lowered) = opened.lowered {
                eprintln!("note: {lowered}");
            }
            let study = opened.study;
            match record(&store, &study, evaluator.as_ref(), &arch)? {
                Some(t) => (t.values, Some(t.number)),
                None => return Ok(EXIT_INTERRUPTED),
            }
        }
    };
    let objectives = &config.objectives;
    println!(
        "{}",
        serde_json::json!({
            "in_space": true,
            "arch": arch.short_form(),
            "objectives": objectives.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            "values": objectives.iter().map(|o| o.value(&values)).collect::<Vec<_>>(),
            "metrics": values,
            "trial": trial,
            "evaluator": config.evaluator.as_str(),
        })
    );
    Ok(0)
}

/// Records `arch` in `study` through the study's one trial path; a design
/// the study has evaluated already is answered from the store. `None` after
/// Ctrl-C (the trial is recorded as interrupted).
fn record(
    store: &dyn Store,
    study: &StoredStudy,
    evaluator: &dyn Evaluator,
    arch: &Architecture,
) -> anyhow::Result<Option<TrialRecord>> {
    let interrupted = interrupt::flag();
    // An external optimiser decides itself when to stop a design: nas eval
    // trains each one to the end, whatever the study's pruner.
    let run = TrialRun {
        pruning: None,
        store,
        evaluator,
        interrupted: &interrupted,
        heartbeat_every: RunOptions::default().heartbeat_every,
        finish_retry: RunOptions::default().finish_retry,
    };
    let worker = format!("{}:eval", process_id());
    let extra = Some(serde_json::json!({ "origin": "external" }));
    let finished = match run.record(study, arch, &worker, extra)? {
        Recorded::Ran(finished) => finished,
        Recorded::Earlier(t) if t.is_complete() => return Ok(Some(t)),
        Recorded::Earlier(t) => {
            return Err(UsageError(format!(
                "trial {} of `{}` holds this design but has no result (it is {})",
                t.number, study.name, t.state
            ))
            .into())
        }
        Recorded::BudgetExhausted { budget } => {
            return Err(UsageError(format!(
                "study `{}` has used its budget of {budget} trials (--trials raises it)",
                study.name
            ))
            .into())
        }
    };
    let t = &finished.record;
    if !finished.recorded {
        anyhow::bail!(
            "trial {} was marked failed while it trained (heartbeat lost); its result is not \
             recorded",
            t.number
        );
    }
    if finished.interrupted() {
        eprintln!("interrupted: trial {} is recorded as interrupted", t.number);
        // Scripts reading the last line get an answer too.
        let line = serde_json::json!({
            "interrupted": true,
            "trial": t.number,
            "evaluator": study.evaluator_json(),
        });
        println!("{line}");
        return Ok(None);
    }
    if !t.is_complete() {
        anyhow::bail!(
            "trial {} failed ({}): {}",
            t.number,
            t.fail_kind.map_or("error", |k| k.as_str()),
            t.error.as_deref().unwrap_or("no message")
        );
    }
    Ok(Some(finished.record))
}
