//! `nas studies`: the studies a store holds, as a table or JSON lines.

use hybrid_nas::store::{Store, StudySummary};
use hybrid_nas::study::{self, StoredStudy, StudyError};
use hybrid_nas::terminal::escape;
use hybrid_nas::utc;

use super::open_for_reading;
use crate::cli::StudiesArgs;

/// One study as listed.
struct Listed {
    study: StoredStudy,
    summary: StudySummary,
    /// Seconds and training steps of compute; `None` when a DARTS study's
    /// stored space cannot be read (its supernet time needs it).
    compute: Option<study::Compute>,
    /// False for a DARTS study whose supernets still search: its budget is
    /// then one trial per search, an upper bound (two searches may derive
    /// the same design). `None` when its stored space cannot be read.
    budget_final: Option<bool>,
}

pub fn run(args: StudiesArgs) -> anyhow::Result<()> {
    let store = open_for_reading(&args.store.storage)?;
    let mut listed = Vec::new();
    let mut unreadable = Vec::new();
    for (s, summary) in study::list(&store)? {
        let trials = store.trials(s.id)?;
        // A space this version cannot read leaves the compute blank, not
        // the listing.
        let compute = match study::compute(&store, &s, &trials) {
            Ok(c) => Some(c),
            Err(e @ StudyError::StoredSpace { .. }) => {
                unreadable.push(format!("{:#}", anyhow::Error::from(e)));
                None
            }
            Err(e) => return Err(e.into()),
        };
        let budget_final = match study::darts::budget_is_final(&store, &s) {
            Ok(done) => Some(done),
            Err(StudyError::StoredSpace { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        listed.push(Listed {
            study: s,
            summary,
            compute,
            budget_final,
        });
    }
    if args.json {
        for l in &listed {
            println!("{}", study_json(l));
        }
    } else if listed.is_empty() {
        println!("no studies in {}", escape(&args.store.storage));
    } else {
        print_table(&listed);
    }
    for problem in unreadable {
        eprintln!("note: {}", escape(&problem));
    }
    Ok(())
}

/// One study as a JSON line; `stand_in` says whether its values are the
/// analytic evaluator's stand-ins rather than measurements.
fn study_json(l: &Listed) -> String {
    let (s, n) = (&l.study, &l.summary);
    serde_json::json!({
        "name": s.name,
        "strategy": s.strategy.as_str(),
        "evaluator": s.evaluator_json(),
        "stand_in": s.is_stand_in(),
        "trials": {
            "running": n.running,
            "complete": n.complete,
            "pruned": n.pruned,
            "failed": n.failed,
        },
        "budget": s.budget,
        "budget_final": l.budget_final,
        "best_val_ppl": n.best_val_ppl,
        "compute_s": l.compute.map(|c| c.total()),
        "compute_steps": l.compute.and_then(|c| c.steps),
        "pruner": s.pruner.is_active().then(|| serde_json::to_value(&s.pruner).ok()).flatten(),
        "objectives": s.objectives.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        "seed": s.seed,
        "created": utc::iso8601(s.created),
    })
    .to_string()
}

fn print_table(listed: &[Listed]) {
    println!(
        "{:<20} {:<10} {:<9} {:>8} {:>7} {:>8} {:>7} {:>7}  {:>9}  {:>9} {:>9}  objectives",
        "study",
        "strategy",
        "evaluator",
        "complete",
        "pruned",
        "running",
        "failed",
        "budget",
        "best ppl",
        "compute s",
        "steps"
    );
    let mut stand_ins = false;
    let mut provisional = false;
    for Listed {
        study: s,
        summary,
        compute,
        budget_final,
    } in listed
    {
        stand_ins |= s.is_stand_in();
        let budget = if *budget_final == Some(false) {
            provisional = true;
            format!("≤{}", s.budget)
        } else {
            s.budget.to_string()
        };
        println!(
            "{:<20} {:<10} {:<9} {:>8} {:>7} {:>8} {:>7} {:>7}  {:>9}  {:>9} {:>9}  {}",
            escape(&s.name),
            s.strategy.as_str(),
            // A star marks stand-in values (explained below the table).
            format!(
                "{}{}",
                s.evaluator_name(),
                if s.is_stand_in() { "*" } else { "" }
            ),
            summary.complete,
            summary.pruned,
            summary.running,
            summary.failed,
            budget,
            summary
                .best_val_ppl
                .map_or("-".into(), |p| format!("{p:.3}")),
            compute.map_or("-".into(), |c| format!("{:.1}", c.total())),
            compute
                .and_then(|c| c.steps)
                .map_or("-".into(), |n| n.to_string()),
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
}
