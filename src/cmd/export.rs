//! `nas export`: one trial as a file `nas train --arch FILE` accepts, or
//! with `-o -` as that document on standard output.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use hybrid_nas::arch::Architecture;
use hybrid_nas::metrics::{self, Values};
use hybrid_nas::store::{Store, TrialRecord};
use hybrid_nas::study::{self, StoredStudy, StudyError};
use hybrid_nas::terminal::escape;
use hybrid_nas::train::TrainConfig;

use super::{open_for_reading, UsageError};
use crate::cli::{ExportArgs, ExportFormat};

/// The exported document: the `[architecture]` table (what `--arch` reads),
/// the `[training]` settings the trial used (which `nas train` applies), its
/// values, and where it came from.
#[derive(Serialize)]
struct Export {
    architecture: Architecture,
    /// `None` when the stored space no longer parses (the trial's settings
    /// cannot be told).
    #[serde(skip_serializing_if = "Option::is_none")]
    training: Option<TrainConfig>,
    metrics: Values,
    source: Source,
}

#[derive(Serialize)]
struct Source {
    study: String,
    trial: i64,
    space_hash: String,
    short_form: String,
    /// `train`, or `analytic` for stand-in values.
    evaluator: String,
    /// The corpus the trial trained on (`nas train --corpus` takes it), when
    /// the space names one; absent for the default corpus.
    #[serde(skip_serializing_if = "Option::is_none")]
    corpus: Option<String>,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = format_of(&args)?;
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
    let space = study.space();
    if let Err(StudyError::StoredSpace { source, .. }) = &space {
        eprintln!("note: the export has no [training] table: the study's stored space cannot be read by this version: {source}");
    }
    let space = space.ok();
    let doc = Export {
        architecture,
        training: space.map(|s| s.training.for_seed(trial.seed)),
        metrics: trial.values.clone(),
        source: Source {
            study: study.name.clone(),
            trial: trial.number,
            space_hash: study.space_hash.clone(),
            short_form: trial.arch_short.clone(),
            evaluator: study.evaluator_name().to_string(),
            corpus: space
                .and_then(|s| s.task.corpus.as_ref())
                .map(|c| c.display().to_string()),
        },
    };
    let text = match format {
        ExportFormat::Toml => {
            let body = toml::to_string(&doc)?;
            match study.stand_in_note() {
                Some(note) => format!("# {note}\n{body}"),
                None => body,
            }
        }
        ExportFormat::Json => serde_json::to_string_pretty(&doc)?,
    };
    let to = if is_stdout(&args.output) {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("writing to standard output")?;
        "standard output".to_string()
    } else {
        if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&args.output, text)
            .with_context(|| format!("writing {}", args.output.display()))?;
        args.output.display().to_string()
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

/// The format to write: `--format` or the output's extension, which must
/// agree when both are given; for standard output `--format`, else TOML.
/// A name that says neither format needs `--format`, and one that says the
/// other format is refused: a file is never in a format its name denies.
fn format_of(args: &ExportArgs) -> Result<ExportFormat, UsageError> {
    if is_stdout(&args.output) {
        return Ok(args.format.unwrap_or(ExportFormat::Toml));
    }
    let named = match args.output.extension().and_then(|e| e.to_str()) {
        Some("toml") => Some(ExportFormat::Toml),
        Some("json") => Some(ExportFormat::Json),
        _ => None,
    };
    match (args.format, named) {
        (Some(asked), Some(named)) if asked != named => Err(UsageError(format!(
            "-o {}: the name says {} but --format says {}; name the file .{} or drop --format",
            args.output.display(),
            named.name(),
            asked.name(),
            asked.name()
        ))),
        (Some(format), _) | (None, Some(format)) => Ok(format),
        (None, None) => Err(UsageError(format!(
            "-o {}: cannot tell the format from the name (use .toml or .json, or --format)",
            args.output.display()
        ))),
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
