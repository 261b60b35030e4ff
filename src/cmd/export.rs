//! `nas export`: one trial as a file `nas train --arch FILE` accepts.

use anyhow::Context;
use serde::Serialize;

use hybrid_nas::arch::Architecture;
use hybrid_nas::evaluate::objective_value;
use hybrid_nas::space::SearchSpace;
use hybrid_nas::store::{Metrics, Store, TrialState};
use hybrid_nas::train::TrainConfig;

use super::studies::{cost_objective, find_study, open_existing};
use super::UsageError;
use crate::cli::{ExportArgs, ExportFormat};

/// The exported document: the `[architecture]` table (what `--arch` reads),
/// the training settings the trial used, its metrics, and where it came from.
#[derive(Serialize)]
struct Export {
    architecture: Architecture,
    training: Option<TrainConfig>,
    metrics: Metrics,
    source: Source,
}

#[derive(Serialize)]
struct Source {
    study: String,
    trial: i64,
    space_hash: String,
    short_form: String,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = open_existing(&args.store.storage)?;
    let study = find_study(&store, &args.study)?;
    let complete: Vec<_> = store
        .trials(study.id)?
        .into_iter()
        .filter(|t| t.state == TrialState::Complete && t.metrics.is_some())
        .collect();
    let trial = if let Some(n) = args.trial {
        complete.iter().find(|t| t.number == n).ok_or_else(|| {
            UsageError(format!(
                "study `{}` has no complete trial {n} (`nas trials --study {}` lists them)",
                study.name, study.name
            ))
        })?
    } else {
        let cost = cost_objective(&study);
        if args.max_cost.is_some() && cost.is_none() {
            return Err(UsageError(format!(
                "--max-cost: study `{}` has no cost objective to limit",
                study.name
            ))
            .into());
        }
        let within = |m: &Metrics| match (args.max_cost, cost) {
            (Some(max), Some(c)) => objective_value(m, c) <= max,
            _ => true,
        };
        complete
            .iter()
            .filter(|t| within(t.metrics.as_ref().unwrap()))
            .min_by(|a, b| {
                let (a, b) = (a.metrics.as_ref().unwrap(), b.metrics.as_ref().unwrap());
                a.val_ppl.total_cmp(&b.val_ppl)
            })
            .ok_or_else(|| {
                UsageError(match args.max_cost {
                    Some(max) => format!(
                        "no complete trial of `{}` has {} <= {max}",
                        study.name,
                        cost.map_or("cost", |c| c.as_str())
                    ),
                    None => format!("study `{}` has no complete trial yet", study.name),
                })
            })?
    };
    // vocab_size stays 0 ("from the corpus") unless the search recorded it.
    let architecture: Architecture =
        serde_json::from_str(&trial.arch_json).context("reading the stored architecture")?;
    let space = SearchSpace::parse(&study.space_text, &format!("study `{}`", study.name)).ok();
    let training = space.as_ref().map(|s| TrainConfig {
        seed: trial.seed,
        ..s.training.clone()
    });
    let doc = Export {
        architecture,
        training,
        metrics: trial.metrics.clone().expect("complete trials have metrics"),
        source: Source {
            study: study.name.clone(),
            trial: trial.number,
            space_hash: study.space_hash.clone(),
            short_form: trial.arch_short.clone(),
        },
    };
    let format =
        args.format
            .unwrap_or_else(|| match args.output.extension().and_then(|e| e.to_str()) {
                Some("json") => ExportFormat::Json,
                _ => ExportFormat::Toml,
            });
    let text = match format {
        ExportFormat::Toml => toml::to_string(&doc)?,
        ExportFormat::Json => serde_json::to_string_pretty(&doc)?,
    };
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.output, text)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "exported trial {} of `{}` ({}, val ppl {:.3}) to {}",
        trial.number,
        study.name,
        trial.arch_short,
        doc.metrics.val_ppl,
        args.output.display()
    );
    Ok(())
}
