//! `nas studies` and `nas trials`: what a store holds.

use hybrid_nas::metrics;
use hybrid_nas::objective::Objective;
use hybrid_nas::store::{Store, TrialRecord, TrialState};
use hybrid_nas::study::{self, StoredStudy, StudyError};
use hybrid_nas::terminal::escape;

use super::{open_for_reading, trial_json, UsageError};
use crate::cli::{StoreArgs, TrialSort, TrialsArgs};

pub fn list_studies(args: StoreArgs) -> anyhow::Result<()> {
    let store = open_for_reading(&args.storage)?;
    let studies = study::list(&store)?;
    if studies.is_empty() {
        println!("no studies in {}", args.storage);
        return Ok(());
    }
    println!(
        "{:<20} {:<10} {:<9} {:>8} {:>8} {:>7} {:>7}  {:>9}  {:>9}  objectives",
        "study",
        "strategy",
        "evaluator",
        "complete",
        "running",
        "failed",
        "budget",
        "best ppl",
        "compute s"
    );
    let mut stand_ins = false;
    let mut provisional = false;
    let mut unreadable = Vec::new();
    for (s, summary) in studies {
        let trials = store.trials(s.id)?;
        stand_ins |= s.is_stand_in();
        // A DARTS study's supernet time needs its space; a space this
        // version cannot read leaves that column blank, not the listing.
        let compute = match study::compute(&store, &s, &trials) {
            Ok(c) => format!("{:.1}", c.total()),
            Err(e @ StudyError::StoredSpace { .. }) => {
                unreadable.push(format!("{:#}", anyhow::Error::from(e)));
                "-".into()
            }
            Err(e) => return Err(e.into()),
        };
        // A DARTS study still searching has at most one trial per search.
        let budget = match study::darts::budget_is_final(&store, &s) {
            Ok(true) | Err(StudyError::StoredSpace { .. }) => s.budget.to_string(),
            Ok(false) => {
                provisional = true;
                format!("≤{}", s.budget)
            }
            Err(e) => return Err(e.into()),
        };
        println!(
            "{:<20} {:<10} {:<9} {:>8} {:>8} {:>7} {:>7}  {:>9}  {:>9}  {}",
            escape(&s.name),
            s.strategy.as_str(),
            // A star marks stand-in values (explained below the table).
            format!(
                "{}{}",
                s.evaluator_name(),
                if s.is_stand_in() { "*" } else { "" }
            ),
            summary.complete,
            summary.running,
            summary.failed,
            budget,
            summary
                .best_val_ppl
                .map_or("-".into(), |p| format!("{p:.3}")),
            compute,
            s.objectives
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if stand_ins {
        println!("* analytic: closed-form stand-in values, not measurements");
    }
    if provisional {
        println!(
            "≤ DARTS supernets still searching: one trial per search at most (fewer when \
             two searches derive the same design)"
        );
    }
    for problem in unreadable {
        eprintln!("note: {}", escape(&problem));
    }
    Ok(())
}

pub fn list_trials(args: TrialsArgs) -> anyhow::Result<()> {
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    let state = args
        .state
        .as_deref()
        .map(|s| {
            s.parse::<TrialState>().map_err(|_| {
                UsageError(format!(
                    "--state {s}: expected running, complete, pruned or failed"
                ))
            })
        })
        .transpose()?;
    let mut trials: Vec<_> = store
        .trials(study.id)?
        .into_iter()
        .filter(|t| state.is_none_or(|s| t.state == s))
        .collect();
    sort(&mut trials, &study, args.sort);
    if args.json {
        for t in &trials {
            println!("{}", trial_json(t, &study));
        }
        return Ok(());
    }
    print_table(&trials, &study);
    Ok(())
}

/// Orders trials by number (as stored), perplexity or cost; trials without
/// the value go last.
fn sort(trials: &mut [TrialRecord], study: &StoredStudy, by: TrialSort) {
    let objective = match by {
        TrialSort::Number => return,
        TrialSort::Ppl => Some(Objective::ValPpl),
        TrialSort::Cost => study.cost_objective(),
        TrialSort::Recall => Some(Objective::Recall),
    };
    let key = |t: &TrialRecord| {
        objective
            .and_then(|o| o.minimised(&t.values))
            .unwrap_or(f64::INFINITY)
    };
    trials.sort_by(|a, b| key(a).total_cmp(&key(b)));
}

fn print_table(trials: &[TrialRecord], study: &StoredStudy) {
    if let Some(note) = study.stand_in_note() {
        println!("note: {note}");
    }
    let cost = study.cost_objective();
    // No second column for parameters when they are the cost already.
    let params_column = cost != Some(Objective::Params);
    let recall_column = study.objectives.contains(&Objective::Recall);
    let mut header = format!(
        "{:>5}  {:<9} {:>9} {:>12}",
        "trial",
        "state",
        "val ppl",
        cost.map_or("cost", |c| c.as_str())
    );
    if recall_column {
        header.push_str(&format!(" {:>7}", "recall"));
    }
    if params_column {
        header.push_str(&format!(" {:>10}", "params"));
    }
    println!("{header}  architecture");
    for t in trials {
        let value = |name: &str, f: fn(f64) -> String| t.value(name).map_or("-".into(), f);
        let mut row = format!(
            "{:>5}  {:<9} {:>9} {:>12}",
            t.number,
            t.state.to_string(),
            value(metrics::VAL_PPL, |v| format!("{v:.3}")),
            cost.and_then(|c| c.value(&t.values))
                .map_or("-".into(), |v| format!("{v:.4e}")),
        );
        if recall_column {
            row.push_str(&format!(
                " {:>7}",
                value(metrics::RECALL_ACC, |v| format!("{v:.3}"))
            ));
        }
        if params_column {
            row.push_str(&format!(
                " {:>10}",
                value(metrics::PARAMS, |v| format!("{v:.0}"))
            ));
        }
        println!("{row}  {}", escape(&t.arch_short));
        if let Some(err) = &t.error {
            let kind = t.fail_kind.map_or(String::new(), |k| format!("[{k}] "));
            println!("{:>5}  {:<9} {kind}{}", "", "", escape(err));
        }
    }
}
