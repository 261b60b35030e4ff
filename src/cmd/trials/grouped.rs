//! `nas trials --group`: one row per design, its complete trials' values as
//! mean and sample sd over the seeds (a grid study's repeats).

use std::collections::BTreeSet;

use hybrid_nas::csv::{self, number};
use hybrid_nas::metrics;
use hybrid_nas::objective::Objective;
use hybrid_nas::store::TrialRecord;
use hybrid_nas::study::groups::{self, DesignGroup, Summary};
use hybrid_nas::study::{frame, StoredStudy};
use hybrid_nas::terminal::escape;

use crate::cli::{TrialSort, TrialsFormat};

pub fn print(
    trials: &[TrialRecord],
    study: &StoredStudy,
    by: TrialSort,
    format: TrialsFormat,
) -> anyhow::Result<()> {
    let mut designs = groups::by_design(trials);
    sort(&mut designs, study, by);
    match format {
        TrialsFormat::Json => {
            for g in &designs {
                println!("{}", json(g, study));
            }
        }
        TrialsFormat::Csv => print_csv(&designs)?,
        TrialsFormat::Table => print_table(&designs, study),
    }
    Ok(())
}

/// Orders designs by the mean of perplexity, cost or recall (number: the
/// order of each design's first trial); designs without the value go last.
fn sort(designs: &mut [DesignGroup], study: &StoredStudy, by: TrialSort) {
    if let Some(objective) = super::sort_objective(study, by) {
        let key = |g: &DesignGroup| super::sort_key(objective, &g.means());
        designs.sort_by(|a, b| key(a).total_cmp(&key(b)));
    }
}

fn json(g: &DesignGroup, study: &StoredStudy) -> String {
    let f = g.factors();
    serde_json::json!({
        "arch": g.arch,
        "hash": g.hash,
        "depth": f.as_ref().map(|f| f.depth),
        "d_model": f.as_ref().map(|f| f.d_model),
        "attention_ratio": f.as_ref().map(|f| f.attention_ratio),
        "pattern": f.as_ref().map(|f| &f.pattern),
        "n": g.size(),
        "trials": g.trials,
        "seeds": g.seeds,
        "values": g.values,
        "evaluator": study.evaluator_json(),
    })
    .to_string()
}

/// Fixed columns, then `NAME_mean` and `NAME_sd` for every value any design
/// holds (empty where a design has none, or one trial for the sd).
fn print_csv(designs: &[DesignGroup]) -> anyhow::Result<()> {
    let names: BTreeSet<&str> = designs
        .iter()
        .flat_map(|g| g.values.keys().map(String::as_str))
        .collect();
    let mut columns: Vec<String> = ["arch", "hash"]
        .into_iter()
        .chain(frame::FACTOR_COLUMNS)
        .chain(["n", "trials", "seeds"])
        .map(String::from)
        .collect();
    for n in &names {
        columns.push(format!("{n}_mean"));
        columns.push(format!("{n}_sd"));
    }
    let mut out = csv::record(&columns);
    for g in designs {
        let f = g.factors();
        let joined = |xs: Vec<String>| xs.join(" ");
        let mut row = vec![g.arch.clone(), g.hash.clone()];
        row.extend(frame::factor_fields(f.as_ref()));
        row.extend([
            g.size().to_string(),
            joined(g.trials.iter().map(|n| n.to_string()).collect()),
            joined(g.seeds.iter().map(|s| s.to_string()).collect()),
        ]);
        for n in &names {
            let s = g.summary(n);
            row.push(s.map_or(String::new(), |s| number(s.mean)));
            row.push(s.and_then(|s| s.sd).map_or(String::new(), number));
        }
        out.push_str(&csv::record(&row));
    }
    super::write_all(&out)
}

fn print_table(designs: &[DesignGroup], study: &StoredStudy) {
    if let Some(note) = study.stand_in_note() {
        println!("note: {note}");
    }
    let cost = study.cost_objective();
    let recall_column = study.objectives.contains(&Objective::Recall);
    let mut header = format!(
        "{:>3}  {:>17} {:>12}",
        "n",
        "val ppl",
        cost.map_or("cost", |c| c.as_str())
    );
    if recall_column {
        header.push_str(&format!(" {:>15}", "recall"));
    }
    // No second column for parameters when they are the cost already.
    let params_column = cost != Some(Objective::Params);
    if params_column {
        header.push_str(&format!(" {:>10}", "params"));
    }
    println!("{header} {:>9}  architecture", "train s");
    for g in designs {
        let mean =
            |name: &str, f: fn(f64) -> String| g.summary(name).map_or("-".into(), |s| f(s.mean));
        let mut row = format!(
            "{:>3}  {:>17} {:>12}",
            g.size(),
            Summary::show(g.summary(metrics::VAL_PPL), 3),
            cost.and_then(|c| c.value(&g.means()))
                .map_or("-".into(), |v| format!("{v:.4e}")),
        );
        if recall_column {
            row.push_str(&format!(
                " {:>15}",
                Summary::show(g.summary(metrics::RECALL_ACC), 3)
            ));
        }
        if params_column {
            row.push_str(&format!(
                " {:>10}",
                mean(metrics::PARAMS, |v| format!("{v:.0}"))
            ));
        }
        println!(
            "{row} {:>9}  {}",
            mean(metrics::TRAIN_SECONDS, |v| format!("{v:.1}")),
            escape(&g.arch)
        );
    }
}
