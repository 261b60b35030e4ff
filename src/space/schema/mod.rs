//! The on-disk schema of a search space and its validation.
//!
//! The file is read into `Raw*` structs that keep every value's byte span
//! (`toml::Spanned`) and take integers as `i64`, so that a bad value is reported
//! by our own message at its line and column instead of serde's "expected usize".
//! Unknown keys are denied by serde; toml reports those at the key.
//!
//! One file per table holds its `Raw*` struct and its parser; `ctx.rs` turns
//! spans into `origin:line:column` errors and holds the checks they share.
//! This file reads the whole file, calls the table parsers in file order
//! (tables that depend on another get its checked values) and makes the
//! checks that need the whole space: whether the ratio bounds leave every
//! listed depth and pattern something to place.

mod attention;
mod axes;
mod ctx;
mod darts;
mod evolution;
mod grid;
mod model;
mod pruner;
mod recall;
mod search;
mod ssm;
mod task;
mod top;
mod training;

use serde::Deserialize;
use toml::Spanned;

use self::attention::{Attention, RawAttention};
use self::ctx::{Ctx, List};
use self::darts::RawDarts;
use self::evolution::RawEvolution;
use self::grid::RawGrid;
use self::model::{Model, RawModel};
use self::pruner::RawPruner;
use self::recall::RawRecall;
use self::search::RawSearch;
use self::ssm::RawSsm;
use self::task::RawTask;
use self::training::RawTraining;
use super::{DartsSettings, Pattern, SearchSpace, SpaceError};

/// The whole file as written: the top-level keys and one struct per table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpace {
    name: Option<Spanned<String>>,
    objectives: List<String>,
    model: RawModel,
    attention: RawAttention,
    ssm: RawSsm,
    task: RawTask,
    training: RawTraining,
    search: RawSearch,
    evolution: Option<RawEvolution>,
    darts: Option<RawDarts>,
    grid: Option<Spanned<RawGrid>>,
    recall: Option<Spanned<RawRecall>>,
    pruner: Option<Spanned<RawPruner>>,
}

/// Parses and validates a space; with `check_files`, the files it names are
/// read and checked too (a space loaded to run, not one read back from a store).
pub(super) fn parse(
    text: &str,
    origin: &str,
    check_files: bool,
) -> Result<SearchSpace, SpaceError> {
    let ctx = Ctx::new(text, origin, check_files);
    let raw: RawSpace = toml::from_str(text).map_err(|e| ctx.toml(e))?;

    let name = top::name(&ctx, raw.name.as_ref(), origin)?;
    let objectives = top::objectives(&ctx, &raw.objectives)?;
    let model = model::parse(&ctx, &raw.model)?;
    let attention = attention::parse(&ctx, &raw.attention, &model.d_model)?;
    let ssm = ssm::parse(&ctx, &raw.ssm, &model.d_model)?;
    let task = task::parse(&ctx, &raw.task)?;
    let training = training::parse(&ctx, &raw.training, task.seq_len)?;
    let search = search::parse(&ctx, &raw.search)?;
    let evolution = evolution::parse(&ctx, &raw.evolution.unwrap_or_default())?;
    let recall = recall::parse(&ctx, raw.recall.as_ref(), &objectives)?;
    let pruner = pruner::parse(&ctx, raw.pruner.as_ref(), training.steps)?;

    let mut space = SearchSpace {
        name,
        text: text.to_string(),
        origin: origin.to_string(),
        model: model.choices(),
        attention: attention.choices.clone(),
        ssm,
        task,
        training,
        objectives,
        recall,
        pruner,
        strategy: search.strategy,
        trials: search.trials,
        seed: search.seed,
        evolution,
        darts: DartsSettings::unset(),
        grid: None,
    };
    // `[darts]` defaults depend on the rest of the space, and its choices
    // must be among the space's.
    space.darts = DartsSettings::defaults(&space);
    space.darts = darts::parse(&ctx, &raw.darts.unwrap_or_default(), &space)?;
    placement(&ctx, &space, &model, &attention)?;
    // Grid designs are checked against the finished space.
    space.grid = raw
        .grid
        .as_ref()
        .map(|g| grid::parse(&ctx, g, &space))
        .transpose()?;
    search::needs_grid(&ctx, &raw.search, &space)?;
    Ok(space)
}

/// The ratio bounds must leave something to sample, and every listed depth and
/// pattern must be usable somewhere (a choice that can never be drawn is a
/// mistake in the file).
fn placement(
    ctx: &Ctx<'_>,
    space: &SearchSpace,
    model: &Model,
    attention: &Attention,
) -> Result<(), SpaceError> {
    let a = &space.attention;
    let ratio_text = format!("[{}, {}]", a.ratio_min, a.ratio_max);
    let depth = &model.depth;
    if depth
        .iter()
        .all(|(d, _)| space.feasible_patterns(*d).is_empty())
    {
        return Err(ctx.invalid(
            &attention.ratio_span,
            "attention.ratio",
            format!("no depth and pattern choice gives an attention ratio within {ratio_text}"),
            "bounds that some depth/pattern combination can meet",
        ));
    }
    for (d, span) in depth {
        if space.feasible_patterns(*d).is_empty() {
            return Err(ctx.invalid(
                span,
                "model.depth",
                format!(
                    "no pattern places attention layers at depth {d} within the ratio {ratio_text}"
                ),
                "depths where some pattern meets the ratio bounds",
            ));
        }
    }
    for (p, span) in &attention.patterns {
        if depth.iter().all(|(d, _)| space.feasible(*p, *d).is_empty()) {
            let why = if *p == Pattern::Alternating {
                format!(
                    "no `every` choice {:?} gives an attention ratio within {ratio_text} at any depth",
                    a.every
                )
            } else {
                format!("no depth choice admits an attention count within {ratio_text}")
            };
            return Err(ctx.invalid(
                span,
                "attention.pattern",
                format!("`{p}` can never be used: {why}"),
                "patterns that fit the ratio bounds at some depth",
            ));
        }
    }
    Ok(())
}
