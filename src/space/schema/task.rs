//! `[task]`: what the proxy models learn.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::ctx::Ctx;
use crate::space::{SpaceError, Task};

/// The `[task]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    corpus: Option<Spanned<String>>,
    seq_len: Spanned<i64>,
}

pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawTask) -> Result<Task, SpaceError> {
    let seq_len = ctx.positive(&raw.seq_len, "task.seq_len", "a sequence length")?;
    let corpus = match &raw.corpus {
        Some(c) if c.get_ref().trim().is_empty() => {
            return Err(ctx.invalid(
                &c.span(),
                "task.corpus",
                "the path is empty",
                "a text file, or no `corpus` for the default corpus",
            ));
        }
        Some(c) => Some(PathBuf::from(c.get_ref())),
        None => None,
    };
    Ok(Task { corpus, seq_len })
}
