//! `[training]`: the proxy-training budget of every trial.

use serde::Deserialize;
use toml::Spanned;

use super::ctx::Ctx;
use crate::limits::{MAX_BATCH, MAX_EVAL_BATCHES, MAX_STEPS};
use crate::space::SpaceError;
use crate::train::TrainConfig;

/// The `[training]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTraining {
    steps: Spanned<i64>,
    batch_size: Spanned<i64>,
    lr: Spanned<f64>,
    weight_decay: Option<Spanned<f64>>,
    eval_interval: Option<Spanned<i64>>,
    eval_batches: Option<Spanned<i64>>,
}

/// Validates `[training]`; `seq_len` comes from `[task]`, the seed is set per
/// trial by the search (0 here).
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &RawTraining,
    seq_len: usize,
) -> Result<TrainConfig, SpaceError> {
    let defaults = TrainConfig::default();
    let lr = ctx.positive_number(&raw.lr, "training.lr", "a learning rate > 0")?;
    let weight_decay = match &raw.weight_decay {
        Some(w) if !(w.get_ref().is_finite() && *w.get_ref() >= 0.0) => {
            return Err(ctx.invalid(
                &w.span(),
                "training.weight_decay",
                format!("{} is negative", w.get_ref()),
                "a weight decay >= 0",
            ));
        }
        Some(w) => *w.get_ref(),
        None => defaults.weight_decay,
    };
    let eval_interval = ctx.opt_at_least(
        &raw.eval_interval,
        "training.eval_interval",
        0,
        "steps between evaluations >= 0 (0 = only at the end)",
        defaults.eval_interval,
    )?;
    let eval_batches = match &raw.eval_batches {
        Some(v) => ctx.positive_up_to(
            v,
            "training.eval_batches",
            "validation batches",
            MAX_EVAL_BATCHES,
        )?,
        None => defaults.eval_batches,
    };
    Ok(TrainConfig {
        steps: ctx.positive_up_to(&raw.steps, "training.steps", "optimiser steps", MAX_STEPS)?,
        batch_size: ctx.positive_up_to(
            &raw.batch_size,
            "training.batch_size",
            "sequences per batch",
            MAX_BATCH,
        )?,
        seq_len,
        lr,
        weight_decay,
        eval_interval,
        eval_batches,
        seed: 0,
        rungs: Vec::new(),
        device: Default::default(),
    })
}
