//! `nas export`: one trial as a file `nas train --arch FILE` accepts (or
//! with `-o -` that document on standard output), or as a Hugging Face
//! transformers config in a folder.

mod document;
mod hf;

use std::path::Path;

use anyhow::Context;

use hybrid_nas::arch::Architecture;
use hybrid_nas::export::hf::Family;
use hybrid_nas::metrics;
use hybrid_nas::store::{Store, TrialRecord};
use hybrid_nas::study::{self, StoredStudy};
use hybrid_nas::terminal::escape;

use super::{open_for_reading, UsageError};
use crate::cli::{ExportArgs, ExportFormat};

/// Where the trial goes, as `--format` and `-o` say.
enum Target<'a> {
    /// The TOML (or with `json` JSON) document to a file, or to standard
    /// output for `None`.
    Document { json: bool, file: Option<&'a Path> },
    /// A Hugging Face config folder.
    HuggingFace { family: Family, dir: &'a Path },
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let target = target_of(&args)?;
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    let complete: Vec<TrialRecord> = store
        .trials(study.id)?
        .into_iter()
        .filter(TrialRecord::is_scored)
        .collect();
    let trial = choose(&args, &study, &complete)?;
    // vocab_size stays 0 ("from the corpus") unless the search recorded it.
    let architecture: Architecture =
        serde_json::from_str(&trial.arch_json).context("reading the stored architecture")?;
    let to = match target {
        Target::Document { json, file } => {
            document::write(&study, trial, architecture, json, file)?
        }
        Target::HuggingFace { family, dir } => hf::write(&study, trial, architecture, family, dir)?,
    };
    // On standard error always, so that `-o -` leaves standard output to the
    // document alone.
    eprintln!(
        "exported trial {} of `{}` ({}, val ppl {:.3}{}) to {}",
        trial.number,
        escape(&study.name),
        escape(&trial.arch_short),
        trial.value(metrics::VAL_PPL).unwrap_or(f64::NAN),
        if study.is_stand_in() {
            ", an analytic stand-in value"
        } else {
            ""
        },
        to
    );
    Ok(())
}

/// `-o -`: standard output, never a file named `-`.
fn is_stdout(output: &Path) -> bool {
    output.as_os_str() == "-"
}

/// Where to write: a Hugging Face `--format` takes `-o` as a folder; for the
/// document, `--format` or the output's extension, which must agree when both
/// are given, and for standard output `--format`, else TOML. A name that says
/// neither format needs `--format`, and one that says the other format is
/// refused: a file is never in a format its name denies.
fn target_of(args: &ExportArgs) -> Result<Target<'_>, UsageError> {
    let output = args.output.as_path();
    if let Some(family) = args.format.and_then(family_of) {
        if is_stdout(output) || output.is_file() {
            return Err(UsageError(format!(
                "-o {}: --format {} writes a folder (config.json and {}); name a folder",
                output.display(),
                family.name(),
                hf::NOT_CARRIED
            )));
        }
        return Ok(Target::HuggingFace {
            family,
            dir: output,
        });
    }
    let document = |format: ExportFormat| Target::Document {
        json: format == ExportFormat::Json,
        file: (!is_stdout(output)).then_some(output),
    };
    if is_stdout(output) {
        return Ok(document(args.format.unwrap_or(ExportFormat::Toml)));
    }
    let named = match output.extension().and_then(|e| e.to_str()) {
        Some("toml") => Some(ExportFormat::Toml),
        Some("json") => Some(ExportFormat::Json),
        _ => None,
    };
    match (args.format, named) {
        (Some(asked), Some(named)) if asked != named => Err(UsageError(format!(
            "-o {}: the name says {} but --format says {}; name the file .{} or drop --format",
            output.display(),
            named.name(),
            asked.name(),
            asked.name()
        ))),
        (Some(format), _) | (None, Some(format)) => Ok(document(format)),
        (None, None) => Err(UsageError(format!(
            "-o {}: cannot tell the format from the name (use .toml or .json, or --format)",
            output.display()
        ))),
    }
}

/// The transformers family a `--format` names, if it names one.
fn family_of(format: ExportFormat) -> Option<Family> {
    match format {
        ExportFormat::Toml | ExportFormat::Json => None,
        ExportFormat::NemotronH => Some(Family::NemotronH),
        ExportFormat::Bamba => Some(Family::Bamba),
        ExportFormat::Zamba2 => Some(Family::Zamba2),
        ExportFormat::FalconH1 => Some(Family::FalconH1),
    }
}

/// The trial `--trial N` names, or with `--best` the complete trial with the
/// lowest validation perplexity (within `--max-cost`).
fn choose<'a>(
    args: &ExportArgs,
    study: &StoredStudy,
    complete: &'a [TrialRecord],
) -> Result<&'a TrialRecord, UsageError> {
    if let Some(n) = args.trial {
        return complete.iter().find(|t| t.number == n).ok_or_else(|| {
            UsageError(format!(
                "study `{0}` has no complete trial {n} (`nas trials --study {0}` lists them)",
                study.name
            ))
        });
    }
    let cost = study.cost_objective();
    if args.max_cost.is_some() && cost.is_none() {
        return Err(UsageError(format!(
            "--max-cost: study `{}` has no cost objective to limit",
            study.name
        )));
    }
    let within = |t: &TrialRecord| match (args.max_cost, cost) {
        (Some(max), Some(c)) => c.value(&t.values).is_some_and(|v| v <= max),
        _ => true,
    };
    let ppl = |t: &TrialRecord| t.value(metrics::VAL_PPL).unwrap_or(f64::INFINITY);
    complete
        .iter()
        .filter(|t| within(t))
        .min_by(|a, b| ppl(a).total_cmp(&ppl(b)))
        .ok_or_else(|| {
            UsageError(match args.max_cost {
                Some(max) => format!(
                    "no complete trial of `{}` has {} <= {max}",
                    study.name,
                    cost.map_or("cost", |c| c.as_str())
                ),
                None => format!("study `{}` has no complete trial yet", study.name),
            })
        })
}
