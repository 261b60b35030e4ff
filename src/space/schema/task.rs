//! `[task]`: what the proxy models learn.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::ctx::Ctx;
use crate::data::Corpus;
use crate::limits::MAX_SEQ_LEN;
use crate::space::{SpaceError, Task};

/// The `[task]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    corpus: Option<Spanned<String>>,
    seq_len: Spanned<i64>,
}

pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawTask) -> Result<Task, SpaceError> {
    let seq_len = ctx.positive_up_to(
        &raw.seq_len,
        "task.seq_len",
        "a sequence length",
        MAX_SEQ_LEN,
    )?;
    let corpus = match &raw.corpus {
        Some(c) if c.get_ref().trim().is_empty() => {
            return Err(ctx.invalid(
                &c.span(),
                "task.corpus",
                "the path is empty",
                "a text file, or no `corpus` for the default corpus",
            ));
        }
        Some(c) => {
            let path = PathBuf::from(c.get_ref());
            if ctx.check_files {
                // Every evaluator is refused a corpus it cannot train on, so
                // that none stores a study the training one could not run.
                Corpus::check_file(&path, seq_len).map_err(|e| {
                    ctx.invalid(
                        &c.span(),
                        "task.corpus",
                        e.to_string(),
                        "a UTF-8 text file longer than ten sequences, or no `corpus` for the default corpus",
                    )
                })?;
            }
            Some(path)
        }
        None => None,
    };
    Ok(Task { corpus, seq_len })
}
