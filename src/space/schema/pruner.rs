//! `[pruner]`: early stopping of the study's trials (ASHA or Hyperband),
//! checked against `[training]` so that a rung beyond the budget is an error
//! at its line, not a pruner that never prunes.

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{one_of, Ctx};
use crate::prune::{PrunerError, PrunerKind, PrunerSettings};
use crate::space::SpaceError;

/// The `[pruner]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPruner {
    kind: Option<Spanned<String>>,
    min_steps: Option<Spanned<i64>>,
    reduction_factor: Option<Spanned<i64>>,
    brackets: Option<Spanned<i64>>,
    rank: Option<Spanned<String>>,
}

/// `[pruner]`, validated; `None` without the table. A table without `kind`
/// means ASHA: writing the table is asking for pruning.
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: Option<&Spanned<RawPruner>>,
    steps: usize,
) -> Result<Option<PrunerSettings>, SpaceError> {
    let Some(table) = raw else { return Ok(None) };
    let raw = table.get_ref();
    let kind = match &raw.kind {
        None => PrunerKind::Asha,
        Some(k) => k.get_ref().parse().map_err(|_| {
            ctx.invalid(
                &k.span(),
                "pruner.kind",
                format!("unknown pruner `{}`", k.get_ref()),
                one_of(&PrunerKind::ALL, |p| p.as_str()),
            )
        })?,
    };
    let defaults = PrunerSettings::default_for(kind, steps);
    let settings = PrunerSettings {
        kind,
        min_steps: ctx.opt_at_least(
            &raw.min_steps,
            "pruner.min_steps",
            1,
            "the first rung in training steps, >= 1",
            defaults.min_steps,
        )?,
        reduction_factor: ctx.opt_at_least(
            &raw.reduction_factor,
            "pruner.reduction_factor",
            2,
            "a reduction factor >= 2 (a rung keeps the best 1/reduction_factor)",
            defaults.reduction_factor,
        )?,
        brackets: raw
            .brackets
            .as_ref()
            .map(|b| ctx.positive(b, "pruner.brackets", "a bracket count"))
            .transpose()?,
        by_loss: match raw.rank.as_ref().map(|r| (r, r.get_ref().as_str())) {
            None | Some((_, "objectives")) => false,
            Some((_, "loss")) => true,
            Some((r, other)) => {
                return Err(ctx.invalid(
                    &r.span(),
                    "pruner.rank",
                    format!("unknown ranking `{other}`"),
                    "`objectives` (loss and the space's costs, as MO-ASHA) or `loss`",
                ))
            }
        },
    };
    settings.check(steps).map_err(|e| {
        // Point at the setting the error names, else at the table.
        let (span, key) = match e {
            PrunerError::ReductionFactor(_) => (raw.reduction_factor.as_ref(), "reduction_factor"),
            PrunerError::MinSteps { .. } => (raw.min_steps.as_ref(), "min_steps"),
            PrunerError::Brackets { .. } => (raw.brackets.as_ref(), "brackets"),
        };
        let span = span.map_or_else(|| table.span(), |s| s.span());
        ctx.invalid(
            &span,
            &format!("pruner.{key}"),
            e.to_string(),
            format!("settings with a rung below [training] steps = {steps}"),
        )
    })?;
    Ok(Some(settings))
}
