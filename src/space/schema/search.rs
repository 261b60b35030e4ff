//! `[search]`: the strategy, the trial budget and the seed.

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{one_of, Ctx};
use crate::space::{SearchSpace, SpaceError, StrategyName};

/// The `[search]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSearch {
    strategy: Spanned<String>,
    trials: Spanned<i64>,
    seed: Option<Spanned<i64>>,
}

/// `[search]`, validated.
pub(super) struct Search {
    pub(super) strategy: StrategyName,
    pub(super) trials: usize,
    pub(super) seed: u64,
}

pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawSearch) -> Result<Search, SpaceError> {
    let strategy: StrategyName = raw.strategy.get_ref().parse().map_err(|_| {
        ctx.invalid(
            &raw.strategy.span(),
            "search.strategy",
            format!("unknown strategy `{}`", raw.strategy.get_ref()),
            one_of(&StrategyName::ALL, |s| s.as_str()),
        )
    })?;
    Ok(Search {
        strategy,
        trials: ctx.positive(&raw.trials, "search.trials", "a trial budget")?,
        seed: ctx.opt_at_least(&raw.seed, "search.seed", 0, "a seed >= 0", 0)? as u64,
    })
}

/// `strategy = "grid"` trains the designs `[grid]` lists: without the table
/// there is nothing to train.
pub(super) fn needs_grid(
    ctx: &Ctx<'_>,
    raw: &RawSearch,
    space: &SearchSpace,
) -> Result<(), SpaceError> {
    if space.strategy == StrategyName::Grid && space.grid.is_none() {
        return Err(ctx.invalid(
            &raw.strategy.span(),
            "search.strategy",
            "`grid` without a [grid] table",
            "a [grid] table with `designs = [\"d64 S16 A4 S16\", ...]` or [grid.axes] (and `repeats`)",
        ));
    }
    Ok(())
}
