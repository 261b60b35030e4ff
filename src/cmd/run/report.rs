//! What `nas run` says before and after its trials: the study and how the
//! cores are split; then what the run did, the best trial, and what to do next.

use hybrid_nas::host::HostShare;
use hybrid_nas::metrics;
use hybrid_nas::space::GridSettings;
use hybrid_nas::store::{Store, TrialRecord, TrialState};
use hybrid_nas::study::driver::{RunOptions, RunSummary};
use hybrid_nas::study::{StoredStudy, ThreadSplit};
use hybrid_nas::terminal::{escape, shell_word};

use crate::cli::DEFAULT_STORAGE;

/// The study about to be run.
pub fn start(
    study: &StoredStudy,
    before: &[TrialRecord],
    split: ThreadSplit,
    storage: &str,
    host: Option<&HostShare>,
) {
    let evaluator = study.evaluator_name();
    let threads = match host {
        Some(h) => {
            let live = h.live_processes();
            format!(
                "{} thread(s) (the host's {} cores shared by {live} nas process(es); --threads fixes it)",
                h.threads_per_job(split.jobs),
                h.cores()
            )
        }
        None => format!("{} thread(s)", split.per_job()),
    };
    eprintln!(
        "study `{}`: {} strategy, {evaluator} evaluator{}, {} of {} trials complete, {} job(s) \
         x {threads}, store {storage}",
        escape(&study.name),
        study.strategy,
        if study.is_stand_in() {
            " (stand-in values, not measurements)"
        } else {
            ""
        },
        before.iter().filter(|t| t.is_complete()).count(),
        study.budget,
        split.jobs,
    );
    if let Some(grid) = study.space().ok().and_then(|s| s.grid.as_ref()) {
        eprintln!("{}", grid_line(grid));
    }
    if let Some(pruner) = study.active_pruner() {
        eprintln!("{}", pruner.describe());
    }
}

/// A grid's size, and what its axes became: "grid: 12 designs x 3 seeds
/// (10 from [grid.axes]: 20 combinations, 8 outside the space)".
fn grid_line(grid: &GridSettings) -> String {
    let axes = match grid.expansion {
        Some(e) => format!(
            " ({} from [grid.axes]: {} combinations, {} outside the space)",
            e.added, e.combinations, e.outside
        ),
        None => String::new(),
    };
    format!(
        "grid: {} designs x {} seed(s){axes}",
        grid.designs.len(),
        grid.repeats
    )
}

/// What the run did, the best trial, and what to do next.
pub fn end(
    store: &dyn Store,
    study: &StoredStudy,
    summary: &RunSummary,
    storage: &str,
) -> anyhow::Result<()> {
    let trials = store.trials(study.id)?;
    let complete = trials.iter().filter(|t| t.is_complete()).count();
    let name = escape(&study.name);
    // Another process may have changed the budget (an explicit --trials)
    // while this one ran: report against the stored one, and say so.
    let budget = store
        .find_study(&study.name)?
        .map_or(study.budget, |s| s.budget);
    if budget != study.budget {
        eprintln!(
            "note: another process changed the study's budget from {} to {budget} during this run",
            study.budget
        );
    }
    if summary.reaped > 0 {
        eprintln!(
            "{} trial(s) left running by a stopped process were marked failed and retried",
            summary.reaped
        );
    }
    let pruned = trials
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .count();
    if pruned > 0 || summary.pruned > 0 {
        eprintln!(
            "study `{name}`: {complete} complete and {pruned} pruned of {budget} trials ({} \
             finished here, {} pruned here, {} failed here)",
            summary.complete, summary.pruned, summary.failed
        );
    } else {
        eprintln!(
            "study `{name}`: {complete} of {budget} trials complete ({} finished here, {} failed \
             here)",
            summary.complete, summary.failed
        );
    }
    if summary.compute_spent {
        eprintln!(
            "stopped: the study's trials have spent the compute budget (--budget-steps or \
             --budget-hours; `nas studies` shows what it has spent)"
        );
    }
    if let Some(error) = &summary.gave_up {
        eprintln!(
            "stopped: {} trials failed in a row (last: {}); fix the space's training \
             settings and run again to continue",
            RunOptions::default().max_consecutive_failures,
            escape(error)
        );
    }
    if summary.exhausted && complete < budget {
        if study.is_darts() {
            eprintln!(
                "every derived design has been tried; {} of them failed (nas trials --study {name} \
                 --state failed)",
                budget - complete,
            );
        } else {
            eprintln!(
                "the space has no unexplored architecture left: the study stops short of its \
                 budget"
            );
        }
    }
    let ppl = |t: &&TrialRecord| t.value(metrics::VAL_PPL);
    let best = trials
        .iter()
        .filter(|t| t.is_complete() && ppl(t).is_some())
        .min_by(|a, b| ppl(a).unwrap().total_cmp(&ppl(b).unwrap()));
    if let Some(t) = best {
        eprintln!(
            "best: trial {} {} (val ppl {:.3}{})",
            t.number,
            escape(&t.arch_short),
            ppl(&t).unwrap(),
            if study.is_stand_in() {
                ", stand-in"
            } else {
                ""
            }
        );
        // Commands to paste: one per line (never joined with `|`, which a
        // shell reads as a pipe), each with the store this run used.
        let storage = if storage == DEFAULT_STORAGE {
            String::new()
        } else {
            format!(" --storage {}", shell_word(storage))
        };
        let name = shell_word(&study.name);
        eprintln!("next: nas trials --study {name}{storage} --sort ppl");
        eprintln!("      nas pareto --study {name}{storage} --plot");
        eprintln!("      nas export --study {name}{storage} --best -o best.toml");
    }
    Ok(())
}
