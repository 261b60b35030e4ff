//! `[evolution]`: settings of aging evolution, validated with the rest of the
//! space whatever the strategy, so that a bad value stops `nas run` before
//! anything is stored (and `--strategy evolution` finds them checked).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{one_of, Ctx};
use crate::space::{EvolutionSettings, MutationOp, MutationWeights, SpaceError, MIN_POPULATION};

/// The `[evolution]` table as written, every value with its span.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvolution {
    population: Option<Spanned<i64>>,
    tournament: Option<Spanned<i64>>,
    mutation_weights: Option<BTreeMap<Spanned<String>, Spanned<f64>>>,
}

/// Validates `[evolution]`; what the table leaves out keeps the defaults of
/// [`EvolutionSettings`].
pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawEvolution) -> Result<EvolutionSettings, SpaceError> {
    let mut s = EvolutionSettings::default();
    // One member would leave nothing to select: every child would mutate the
    // latest trial (the strategy used to raise such a population to 2 unsaid).
    s.population = ctx.opt_at_least(
        &raw.population,
        "evolution.population",
        MIN_POPULATION as i64,
        &format!("a population size >= {MIN_POPULATION}"),
        s.population,
    )?;
    if let Some(v) = &raw.tournament {
        s.tournament = ctx.positive(v, "evolution.tournament", "a tournament size")?;
    }
    tournament_within_population(ctx, raw, &s)?;
    if let Some(given) = &raw.mutation_weights {
        s.mutation_weights = mutation_weights(ctx, given)?;
    }
    Ok(s)
}

/// A tournament draws distinct members of the population: it cannot be
/// larger. The message points at the tournament when the file gives it, else
/// at the population that is too small for the default tournament.
fn tournament_within_population(
    ctx: &Ctx<'_>,
    raw: &RawEvolution,
    s: &EvolutionSettings,
) -> Result<(), SpaceError> {
    let (population, tournament) = (s.population, s.tournament);
    if tournament <= population {
        return Ok(());
    }
    Err(match (&raw.tournament, &raw.population) {
        (Some(t), _) => ctx.invalid(
            &t.span(),
            "evolution.tournament",
            format!("{tournament} is larger than the population {population}"),
            format!("a tournament size from 1 to {population}"),
        ),
        (None, Some(p)) => ctx.invalid(
            &p.span(),
            "evolution.population",
            format!("{population} is smaller than the default tournament {tournament}"),
            format!("a population >= {tournament}, or a smaller `tournament`"),
        ),
        (None, None) => {
            unreachable!("the defaults fit: tournament {tournament} <= population {population}")
        }
    })
}

/// `mutation_weights = { kind = weight, ... }`: known kinds, weights >= 0, at
/// least one positive once the kinds left out (weight 1) are counted.
fn mutation_weights(
    ctx: &Ctx<'_>,
    given: &BTreeMap<Spanned<String>, Spanned<f64>>,
) -> Result<MutationWeights, SpaceError> {
    let key = "evolution.mutation_weights";
    let expected_ops = one_of(&MutationOp::ALL, |o| o.as_str());
    let mut weights = MutationWeights::default();
    for (name, w) in given {
        let op: MutationOp = name.get_ref().parse().map_err(|_| {
            ctx.invalid(
                &name.span(),
                key,
                format!("unknown mutation `{}`", name.get_ref()),
                expected_ops.clone(),
            )
        })?;
        let v = *w.get_ref();
        if !(v.is_finite() && v >= 0.0) {
            return Err(ctx.invalid(
                &w.span(),
                key,
                format!("weight {v} for `{op}` is negative"),
                "weights >= 0",
            ));
        }
        weights.set(op, v);
    }
    // `parallel` changes nothing in a space without that choice, so it alone
    // does not count as a weight to draw.
    if weights.total() - weights.get(MutationOp::Parallel) <= 0.0 {
        // At the first kind in the file (the map is in name order).
        let span = given
            .keys()
            .map(|k| k.span())
            .min_by_key(|s| s.start)
            .unwrap_or(0..0);
        return Err(ctx.invalid(
            &span,
            key,
            "every weight is zero",
            "at least one positive weight",
        ));
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tournament_within_population` relies on it when the file sets neither.
    #[test]
    fn the_default_tournament_fits_the_default_population() {
        let d = EvolutionSettings::default();
        assert_eq!((d.population, d.tournament), (20, 5));
        assert!(d.tournament <= d.population);
    }
}
