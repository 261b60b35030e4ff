//! `nas darts`: what a DARTS study's supernets did, search by search, and
//! the figure of their α trajectories.

use std::path::{Path, PathBuf};

use serde_json::json;

use hybrid_nas::arch::Layer;
use hybrid_nas::metrics;
use hybrid_nas::plot::{draw_alphas, AlphaSeries};
use hybrid_nas::search::darts::checkpoint::PhaseMeta;
use hybrid_nas::search::darts::{derive, DartsSearch, ShapeProgress};
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{Store, TrialRecord, TrialState};
use hybrid_nas::study::{self, name, StoredStudy};
use hybrid_nas::terminal::escape;

use super::{open_for_reading, UsageError};
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

fn tokens(layers: &[Layer]) -> Vec<String> {
    layers.iter().map(Layer::token).collect()
}

/// What `nas darts` shows of one study.
struct Report<'a> {
    study: &'a StoredStudy,
    space: &'a SearchSpace,
    progress: Vec<ShapeProgress>,
    trials: Vec<TrialRecord>,
    /// Every candidate of any shape, in the order of the deepest supernet's
    /// (a superset: shallower ones may lack attention under the ratio bounds).
    legend: Vec<String>,
    /// Each supernet's candidates, in its α's column order.
    names: Vec<Vec<String>>,
}

pub fn run(args: DartsArgs) -> anyhow::Result<()> {
    // A figure name that says no format is refused before anything is
    // printed or drawn.
    if let Some(Some(path)) = &args.plot {
        hybrid_nas::plot::Format::from_path(path)?;
    }
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    if !study.is_darts() {
        return Err(UsageError(format!(
            "study `{}` uses the {} strategy; `nas darts` shows DARTS studies \
             (start one with `nas run --strategy darts --study NAME`)",
            study.name, study.strategy
        ))
        .into());
    }
    let space = study.space()?;
    let progress = DartsSearch::progress(&store, study.id, space)?;
    let legend = tokens(&derive::candidates(
        space,
        *space.darts.depth.iter().max().expect("validated non-empty"),
    ));
    let names = progress
        .iter()
        .map(|sp| tokens(&derive::candidates(space, sp.shape.depth)))
        .collect();
    let report = Report {
        study: &study,
        space,
        progress,
        trials: store.trials(study.id)?,
        legend,
        names,
    };
    if args.json {
        report.print_json();
    } else {
        report.print_table(&store)?;
    }
    if let Some(plot_arg) = &args.plot {
        report.draw(plot_arg.clone())?;
    }
    Ok(())
}

impl Report<'_> {
    fn derived_trial(&self, meta: &PhaseMeta) -> Option<&TrialRecord> {
        meta.result
            .as_ref()
            .and_then(|r| trial_of(&self.trials, &r.arch.hash()))
    }

    fn print_json(&self) {
        let settings = &self.space.darts;
        let (progress, names) = (&self.progress, &self.names);
        for (shape_progress, names) in progress.iter().zip(names) {
            for (lambda, meta) in settings.lambdas.iter().zip(&shape_progress.searches) {
                let shape = shape_progress.shape.to_string();
                let evaluator = self.study.evaluator_json();
                let value = match meta {
                    None => json!({
                        "shape": shape,
                        "lambda": lambda,
                        "step": 0,
                        "steps": settings.search_steps,
                        "evaluator": evaluator,
                    }),
                    Some(m) => {
                        let trial = self.derived_trial(m);
                        json!({
                            "shape": shape,
                            "lambda": lambda,
                            "step": m.step,
                            "steps": m.steps,
                            "supernet_seconds": m.seconds,
                            "arch": m.result.as_ref().map(|r| r.arch.short_form()),
                            "alpha": m.result.as_ref().map(|r| &r.probs),
                            "candidates": names,
                            "trial": trial.map(|t| t.number),
                            "val_ppl": trial.and_then(|t| t.value(metrics::VAL_PPL)),
                            "evaluator": evaluator,
                        })
                    }
                };
                println!("{value}");
            }
        }
    }

    fn print_table(&self, store: &dyn Store) -> anyhow::Result<()> {
        let (study, settings) = (self.study, &self.space.darts);
        let (progress, names, legend) = (&self.progress, &self.names, &self.legend);
        if let Some(note) = study.stand_in_note() {
            println!("note: the trials' {note}");
        }
        println!(
            "study `{}`: {} supernet(s), {} λ each; candidates {}; α cost {}{}",
            escape(&study.name),
            progress.len(),
            settings.lambdas.len(),
            legend.join(" "),
            settings.cost,
            if settings.gumbel {
                ", Gumbel-softmax sampling"
            } else {
                ""
            }
        );
        println!(
            "{:<9} {:<8} {:>9} {:>9}  {:<32} {:>5} {:>8}",
            "supernet", "lambda", "steps", "seconds", "derived", "trial", "val ppl"
        );
        for sp in progress {
            match &sp.warmup {
                Some(w) => println!(
                    "{:<9} {:<8} {:>9} {:>9.1}",
                    sp.shape.to_string(),
                    "warm-up",
                    format!("{}/{}", w.step, w.steps),
                    w.seconds
                ),
                None => println!(
                    "{:<9} {:<8} {:>9}",
                    sp.shape.to_string(),
                    "warm-up",
                    format!("0/{}", settings.warmup_steps)
                ),
            }
            for (lambda, meta) in settings.lambdas.iter().zip(&sp.searches) {
                let Some(m) = meta else {
                    println!(
                        "{:<9} {lambda:<8} {:>9}",
                        sp.shape.to_string(),
                        format!("0/{}", settings.search_steps)
                    );
                    continue;
                };
                let trial = self.derived_trial(m);
                println!(
                    "{:<9} {lambda:<8} {:>9} {:>9.1}  {:<32} {:>5} {:>8}",
                    sp.shape.to_string(),
                    format!("{}/{}", m.step, m.steps),
                    m.seconds,
                    m.result
                        .as_ref()
                        .map_or("-".into(), |r| r.arch.short_form()),
                    trial.map_or("-".into(), |t| t.number.to_string()),
                    trial
                        .and_then(|t| t.value(metrics::VAL_PPL))
                        .map_or("-".into(), |v| format!("{v:.3}")),
                );
            }
        }
        for (sp, names) in progress.iter().zip(names) {
            for (lambda, meta) in settings.lambdas.iter().zip(&sp.searches) {
                if let Some(r) = meta.as_ref().and_then(|m| m.result.as_ref()) {
                    println!("final α of {} at λ = {lambda}:", sp.shape);
                    for (s, row) in r.probs.iter().enumerate() {
                        println!("  slot {s}: {}", top_two(row, names));
                    }
                }
            }
        }
        let c = study::compute(store, study, &self.trials)?;
        println!(
            "compute: supernets {:.1} s + trials {:.1} s = {:.1} s of wall time",
            c.supernet,
            c.trials,
            c.total()
        );
        Ok(())
    }

    fn draw(&self, path: Option<PathBuf>) -> anyhow::Result<()> {
        let (study, settings) = (self.study, &self.space.darts);
        let (progress, names, legend) = (&self.progress, &self.names, &self.legend);
        // The default folder is derived from the name, made safe: a stored
        // name can never lead the file out of `runs/`.
        let path = path.unwrap_or_else(|| {
            name::output_dir(Path::new("runs"), &[&study.name]).join("alphas.png")
        });
        let mut series = Vec::new();
        for (sp, names) in progress.iter().zip(names) {
            for (&lambda, meta) in settings.lambdas.iter().zip(&sp.searches) {
                if let Some(m) = meta.as_ref().filter(|m| !m.trajectory.is_empty()) {
                    series.push(AlphaSeries {
                        label: format!("{}, λ = {lambda}", sp.shape),
                        candidates: names.clone(),
                        points: m.trajectory.clone(),
                    });
                }
            }
        }
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
            hybrid_nas::terminal::quote(&study.name, 40)
        );
        draw_alphas(&path, &title, legend, &series)?;
        eprintln!("plot written to {}", path.display());
        Ok(())
    }
}
