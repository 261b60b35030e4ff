//! `nas db copy`: studies from one store to another, SQLite or PostgreSQL.

use hybrid_nas::store::dump::{check_names_free, choose_studies, copy_study};
use hybrid_nas::store::AnyStore;
use hybrid_nas::terminal::escape;

use super::open_for_reading;
use crate::cli::{DbAction, DbArgs, DbCopyArgs};

pub fn run(args: DbArgs) -> anyhow::Result<()> {
    match args.action {
        DbAction::Copy(a) => copy(a),
    }
}

fn copy(args: DbCopyArgs) -> anyhow::Result<()> {
    let from = open_for_reading(&args.from)?;
    let from_shown = from.describe();
    let studies = choose_studies(&from, &args.studies, &from_shown)?;
    let to = AnyStore::open(&args.to)?;
    let to_shown = to.describe();
    check_names_free(&to, &studies, &to_shown)?;
    for study in &studies {
        let report = copy_study(&from, &to, study)?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
            continue;
        }
        let states: Vec<String> = report
            .counts
            .trials
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        let c = &report.counts;
        println!(
            "copied study {} to {}: {} trials ({}), {} values, {} curve values, \
             {} rung reports, {} state entries; counts checked",
            escape(&report.study),
            escape(&to_shown),
            c.trials.values().sum::<usize>(),
            if states.is_empty() {
                "none".into()
            } else {
                states.join(", ")
            },
            c.values,
            c.curve_values,
            c.rung_reports,
            c.state_entries
        );
        if report.running > 0 {
            eprintln!(
                "note: {} trials were running in {}; copied as running, they are reaped in the \
                 copy when a run there finds their heartbeat stale, and trained again",
                report.running,
                escape(&from_shown)
            );
        }
    }
    Ok(())
}
