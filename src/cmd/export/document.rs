//! The TOML or JSON document of one trial: what `nas train --arch FILE` reads.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use hybrid_nas::arch::Architecture;
use hybrid_nas::metrics::Values;
use hybrid_nas::store::TrialRecord;
use hybrid_nas::study::{StoredStudy, StudyError};
use hybrid_nas::train::TrainConfig;

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

/// Writes the document of `trial`, TOML or with `json` JSON, to `output`,
/// or to standard output for `None`; returns where it went, for the summary.
pub fn write(
    study: &StoredStudy,
    trial: &TrialRecord,
    architecture: Architecture,
    json: bool,
    output: Option<&Path>,
) -> anyhow::Result<String> {
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
    let text = if json {
        serde_json::to_string_pretty(&doc)?
    } else {
        let body = toml::to_string(&doc)?;
        match study.stand_in_note() {
            Some(note) => format!("# {note}\n{body}"),
            None => body,
        }
    };
    let Some(output) = output else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("writing to standard output")?;
        return Ok("standard output".to_string());
    };
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(output, text).with_context(|| format!("writing {}", output.display()))?;
    Ok(output.display().to_string())
}
