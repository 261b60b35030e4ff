//! `nas darts`: what a DARTS study's supernet did, λ by λ, and the figure of
//! its α trajectories.

use std::path::PathBuf;

use serde_json::json;

use hybrid_nas::alpha_plot::{draw_alphas, AlphaSeries};
use hybrid_nas::arch::Layer;
use hybrid_nas::search::darts::checkpoint::PhaseMeta;
use hybrid_nas::search::darts::{derive, DartsSearch};
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{Store, TrialRecord, TrialState};

use super::studies::{compute, find_study, open_existing};
use super::UsageError;
use crate::cli::DartsArgs;

/// The two most probable candidates of a slot, as "S16 0.62, A4 0.21".
fn top_two(row: &[f64], names: &[String]) -> String {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order
        .iter()
        .take(2)
        .map(|&c| format!("{} {:.2}", names[c], row[c]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The trial that trained `arch_hash`, preferring a complete one.
fn trial_of<'a>(trials: &'a [TrialRecord], arch_hash: &str) -> Option<&'a TrialRecord> {
    let same = || trials.iter().filter(|t| t.arch_hash == arch_hash);
    same()
        .find(|t| t.state == TrialState::Complete)
        .or_else(|| same().next_back())
}

pub fn run(args: DartsArgs) -> anyhow::Result<()> {
    let store = open_existing(&args.store.storage)?;
    let study = find_study(&store, &args.study)?;
    if study.strategy != "darts" {
        return Err(UsageError(format!(
            "study `{}` uses the {} strategy; `nas darts` shows DARTS studies \
             (start one with `nas run --strategy darts --study NAME`)",
            study.name, study.strategy
        ))
        .into());
    }
    let space = SearchSpace::parse(&study.space_text, &format!("study {}", study.name))?;
    let settings = &space.darts;
    let names: Vec<String> = derive::candidates(&space, settings.depth)
        .iter()
        .map(Layer::token)
        .collect();
    let (warm, phases) = DartsSearch::progress(&store, study.id, &settings.lambdas)?;
    let trials = store.trials(study.id)?;
    let derived_trial = |meta: &PhaseMeta| {
        meta.result
            .as_ref()
            .and_then(|r| trial_of(&trials, &r.arch.hash()))
    };

    if args.json {
        for (lambda, meta) in settings.lambdas.iter().zip(&phases) {
            let value = match meta {
                None => json!({ "lambda": lambda, "step": 0, "steps": settings.search_steps }),
                Some(m) => {
                    let trial = derived_trial(m);
                    json!({
                        "lambda": lambda,
                        "step": m.step,
                        "steps": m.steps,
                        "supernet_seconds": m.seconds,
                        "arch": m.result.as_ref().map(|r| r.arch.short_form()),
                        "alpha": m.result.as_ref().map(|r| &r.probs),
                        "candidates": names,
                        "trial": trial.map(|t| t.number),
                        "val_ppl": trial.and_then(|t| t.metrics.as_ref()).map(|m| m.val_ppl),
                    })
                }
            };
            println!("{value}");
        }
    } else {
        println!(
            "study `{}`: supernet d{} with {} slots of {} candidates ({}); α cost {}{}",
            study.name,
            settings.d_model,
            settings.depth,
            names.len(),
            names.join(" "),
            settings.cost,
            if settings.gumbel {
                ", Gumbel-softmax sampling"
            } else {
                ""
            }
        );
        match &warm {
            Some(w) => println!("warm-up: {}/{} steps, {:.1} s", w.step, w.steps, w.seconds),
            None => println!("warm-up: not started"),
        }
        println!(
            "{:<8} {:>9} {:>9}  {:<32} {:>5} {:>8}",
            "lambda", "steps", "seconds", "derived", "trial", "val ppl"
        );
        for (lambda, meta) in settings.lambdas.iter().zip(&phases) {
            let Some(m) = meta else {
                println!("{lambda:<8} {:>9}", format!("0/{}", settings.search_steps));
                continue;
            };
            let trial = derived_trial(m);
            println!(
                "{lambda:<8} {:>9} {:>9.1}  {:<32} {:>5} {:>8}",
                format!("{}/{}", m.step, m.steps),
                m.seconds,
                m.result
                    .as_ref()
                    .map_or("-".into(), |r| r.arch.short_form()),
                trial.map_or("-".into(), |t| t.number.to_string()),
                trial
                    .and_then(|t| t.metrics.as_ref())
                    .map_or("-".into(), |m| format!("{:.3}", m.val_ppl)),
            );
        }
        for (lambda, meta) in settings.lambdas.iter().zip(&phases) {
            if let Some(r) = meta.as_ref().and_then(|m| m.result.as_ref()) {
                println!("final α at λ = {lambda}:");
                for (s, row) in r.probs.iter().enumerate() {
                    println!("  slot {s}: {}", top_two(row, &names));
                }
            }
        }
        let c = compute(&store, &study, &trials)?;
        println!(
            "compute: supernet {:.1} s + trials {:.1} s = {:.1} s of wall time",
            c.supernet,
            c.trials,
            c.total()
        );
    }

    if let Some(plot_arg) = &args.plot {
        let path = plot_arg
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&study.name).join("alphas.png"));
        let series: Vec<AlphaSeries> = settings
            .lambdas
            .iter()
            .zip(&phases)
            .filter_map(|(&lambda, m)| {
                m.as_ref().map(|m| AlphaSeries {
                    lambda,
                    points: m.trajectory.clone(),
                })
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        if series.is_empty() {
            return Err(UsageError(format!(
                "study `{}` has no α trajectory yet: its supernet search has not started",
                study.name
            ))
            .into());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let title = format!(
            "{}: architecture weights softmax(α) per slot during the search",
            study.name
        );
        draw_alphas(&path, &title, &names, &series)?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}
