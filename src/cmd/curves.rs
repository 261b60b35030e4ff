//! `nas curves`: a study's learning curves as a table, JSON lines or a
//! figure; the gathering is the library's (`study::curves`).

use hybrid_nas::metrics;
use hybrid_nas::plot::{draw_curves, CurveLine, Format};
use hybrid_nas::store::TrialState;
use hybrid_nas::study;
use hybrid_nas::study::curves::{all_steps, trial_curves, TrialCurve};
use hybrid_nas::terminal::escape;

use super::open_for_reading;
use crate::cli::{CurveMetric, CurvesArgs};

pub fn run(args: CurvesArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.plot {
        Format::from_path(path)?;
    }
    let metric = match args.metric {
        CurveMetric::ValLoss => metrics::VAL_LOSS,
        CurveMetric::TrainLoss => metrics::TRAIN_LOSS,
    };
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    let curves = trial_curves(&store, study.id, metric)?;
    if let Some(note) = study.stand_in_note() {
        eprintln!("note: {note}");
    }
    if let Some(path) = &args.plot {
        let lines: Vec<CurveLine> = curves
            .iter()
            .map(|c| CurveLine {
                points: c.points.iter().map(|&(s, v)| (s as f64, v)).collect(),
                pruned: c.state == TrialState::Pruned,
            })
            .collect();
        let title = format!(
            "study {}: {} of {} trials",
            study.name,
            metric,
            curves.len()
        );
        // A pruning study marks its own rungs unless told otherwise.
        let rungs = if args.rungs.is_empty() {
            study.active_pruner().map_or(Vec::new(), |p| p.all_rungs())
        } else {
            args.rungs.clone()
        };
        draw_curves(path, &title, metric, &lines, &rungs)?;
        eprintln!("wrote {}", escape(&path.display().to_string()));
    }
    if args.json {
        for c in &curves {
            println!("{}", curve_json(c));
        }
    } else if args.plot.is_none() {
        print_table(&study.name, metric, &curves);
    }
    Ok(())
}

fn state_text(c: &TrialCurve) -> String {
    match c.pruned_at {
        Some(step) => format!("pruned@{step}"),
        None => c.state.to_string(),
    }
}

fn curve_json(c: &TrialCurve) -> serde_json::Value {
    serde_json::json!({
        "number": c.number,
        "state": c.state.as_str(),
        "pruned_at": c.pruned_at,
        "arch": c.arch_short,
        "points": c.points,
    })
}

fn print_table(study: &str, metric: &str, curves: &[TrialCurve]) {
    if curves.is_empty() {
        println!("study `{study}` has no trials with a curve");
        return;
    }
    let steps = all_steps(curves);
    let arch_width = curves
        .iter()
        .map(|c| c.arch_short.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{metric} by training step");
    let mut header = format!("{:>5}  {:<12}  {:<arch_width$}", "trial", "state", "arch");
    for s in &steps {
        header.push_str(&format!("  {s:>6}"));
    }
    println!("{header}");
    for c in curves {
        let mut row = format!(
            "{:>5}  {:<12}  {:<arch_width$}",
            c.number,
            state_text(c),
            c.arch_short
        );
        for s in &steps {
            match c.points.iter().find(|p| p.0 == *s) {
                Some(&(_, v)) => row.push_str(&format!("  {v:>6.3}")),
                None => row.push_str(&format!("  {:>6}", "-")),
            }
        }
        println!("{row}");
    }
}
