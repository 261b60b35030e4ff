//! `nas trials`: the trials of a study, as a table, CSV or JSON lines; with
//! `--group`, one row per design over its repeats ([`grouped`]).

mod grouped;

use std::io::Write;

use hybrid_nas::csv;
use hybrid_nas::metrics;
use hybrid_nas::objective::Objective;
use hybrid_nas::store::{Store, TrialRecord, TrialState, Values};
use hybrid_nas::study::{self, frame, StoredStudy};
use hybrid_nas::terminal::escape;
use hybrid_nas::utc;

use super::{open_for_reading, trial_json, UsageError};
use crate::cli::{TrialSort, TrialsArgs, TrialsFormat};

pub fn run(args: TrialsArgs) -> anyhow::Result<()> {
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
    if args.group {
        let trials = store.trials(study.id)?;
        return grouped::print(&trials, &study, args.sort, args.output());
    }
    let mut trials: Vec<_> = store
        .trials(study.id)?
        .into_iter()
        .filter(|t| state.is_none_or(|s| t.state == s))
        .collect();
    sort(&mut trials, &study, args.sort);
    match args.output() {
        TrialsFormat::Json => {
            for t in &trials {
                println!("{}", trial_json(t, &study));
            }
        }
        TrialsFormat::Csv => print_csv(&trials, &study)?,
        TrialsFormat::Table => print_table(&trials, &study),
    }
    Ok(())
}

/// Orders trials by number (as stored), perplexity or cost; trials without
/// the value go last.
fn sort(trials: &mut [TrialRecord], study: &StoredStudy, by: TrialSort) {
    if let Some(objective) = sort_objective(study, by) {
        let key = |t: &TrialRecord| sort_key(objective, &t.values);
        trials.sort_by(|a, b| key(a).total_cmp(&key(b)));
    }
}

/// What `--sort` orders by: `None` for `number` (the stored order), else
/// the objective (itself `None` for a study without a cost objective).
fn sort_objective(study: &StoredStudy, by: TrialSort) -> Option<Option<Objective>> {
    match by {
        TrialSort::Number => None,
        TrialSort::Ppl => Some(Some(Objective::ValPpl)),
        TrialSort::Cost => Some(study.cost_objective()),
        TrialSort::Recall => Some(Some(Objective::Recall)),
    }
}

/// Best first; a missing value (or objective) last.
fn sort_key(objective: Option<Objective>, values: &Values) -> f64 {
    objective
        .and_then(|o| o.minimised(values))
        .unwrap_or(f64::INFINITY)
}

/// Writes a whole CSV text at once: one write for many thousand rows.
fn write_all(out: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The CSV, built whole and written at once: one write for a study of many
/// thousand trials.
fn print_csv(trials: &[TrialRecord], study: &StoredStudy) -> anyhow::Result<()> {
    let table = frame::trial_frame(trials, study);
    let mut out = csv::record(&table.columns);
    for row in &table.rows {
        out.push_str(&csv::record(row));
    }
    write_all(&out)
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
    println!(
        "{header} {:>9}  {:<16}  architecture",
        "time", "started (UTC)"
    );
    for t in trials {
        let value = |name: &str, f: fn(f64) -> String| t.value(name).map_or("-".into(), f);
        let mut row = format!(
            "{:>5}  {:<9} {:>9} {:>12}",
            t.number,
            t.state_label(),
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
        println!(
            "{row} {:>9}  {:<16}  {}",
            t.duration().map_or("-".into(), |d| format!("{d:.1} s")),
            utc::minute(t.started),
            escape(&t.arch_short)
        );
        if let Some(err) = &t.error {
            let kind = t.fail_kind.map_or(String::new(), |k| format!("[{k}] "));
            println!("{:>5}  {:<9} {kind}{}", "", "", escape(err));
        }
    }
}
