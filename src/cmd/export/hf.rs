//! A trial as a Hugging Face transformers config: a folder with
//! `config.json` and `NOT_CARRIED.txt`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use hybrid_nas::arch::Architecture;
use hybrid_nas::data::Corpus;
use hybrid_nas::export::hf::{self, Family};
use hybrid_nas::store::TrialRecord;
use hybrid_nas::study::StoredStudy;
use hybrid_nas::terminal::escape;

use super::UsageError;

/// The file beside `config.json` listing what the family does not carry.
pub const NOT_CARRIED: &str = "NOT_CARRIED.txt";

/// Writes the config of `trial` in `family` to folder `dir`, and prints what
/// does not carry over; returns where it went, for the summary. A design
/// the family cannot express writes nothing.
pub fn write(
    study: &StoredStudy,
    trial: &TrialRecord,
    architecture: Architecture,
    family: Family,
    dir: &Path,
) -> anyhow::Result<String> {
    let vocab_size = vocab_size(study, &architecture)?;
    let exported = hf::config(&architecture, vocab_size, family)
        .map_err(|e| UsageError(format!("trial {}: {e}", trial.number)))?;
    let mut listing = format!(
        "What {} cannot say about {} (trial {} of study `{}`):\n",
        family.name(),
        trial.arch_short,
        trial.number,
        study.name
    );
    for item in &exported.not_carried {
        writeln!(listing, "- {item}").expect("writing to a String");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config = dir.join("config.json");
    let text = serde_json::to_string_pretty(&exported.config)? + "\n";
    std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
    let listed = dir.join(NOT_CARRIED);
    std::fs::write(&listed, &listing).with_context(|| format!("writing {}", listed.display()))?;
    for line in listing.lines() {
        eprintln!("{}", escape(line));
    }
    Ok(format!("{} ({})", config.display(), family.name()))
}

/// The design's vocabulary: as stored, or (stored as 0, "from the corpus")
/// the size of the study's corpus, which the config must state.
fn vocab_size(study: &StoredStudy, architecture: &Architecture) -> anyhow::Result<usize> {
    if architecture.vocab_size > 0 {
        return Ok(architecture.vocab_size);
    }
    let corpus = study
        .space()
        .context("the vocabulary size comes from the study's corpus")?
        .task
        .corpus
        .clone();
    let loaded = Corpus::load(corpus.as_deref())
        .context("reading the study's corpus, whose characters are the design's vocabulary")?;
    Ok(loaded.vocab_size())
}
