//! `[darts]`: settings of the DARTS strategy, validated with the rest of the
//! space (against its `[model]` and `[attention]` choices) so that a bad value
//! stops `nas run` before anything is stored.

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{Ctx, List};
use crate::limits::MAX_STEPS;
use crate::space::{DartsSettings, Objective, SearchSpace, SpaceError, DARTS_COSTS};

/// The `[darts]` table as written, every value with its span.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDarts {
    lambdas: Option<List<f64>>,
    cost: Option<Spanned<String>>,
    depth: Option<List<i64>>,
    d_model: Option<List<i64>>,
    warmup_steps: Option<Spanned<i64>>,
    search_steps: Option<Spanned<i64>>,
    arch_lr: Option<Spanned<f64>>,
    weight_lr: Option<Spanned<f64>>,
    gumbel: Option<Spanned<bool>>,
    tau: Option<List<f64>>,
    shared: Option<Spanned<bool>>,
    checkpoint_every: Option<Spanned<i64>>,
}

/// Validates `[darts]` against the rest of the space (`space.darts` holds
/// the defaults on entry).
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &RawDarts,
    space: &SearchSpace,
) -> Result<DartsSettings, SpaceError> {
    let mut s = space.darts.clone();
    if let Some(list) = &raw.lambdas {
        s.lambdas = lambdas(ctx, list)?;
    }
    if let Some(c) = &raw.cost {
        s.cost = cost(ctx, c)?;
    }
    if let Some(d) = choices(ctx, &raw.depth, "darts.depth", "depth", &space.model.depth)? {
        s.depth = d;
    }
    if let Some(d) = choices(
        ctx,
        &raw.d_model,
        "darts.d_model",
        "d_model",
        &space.model.d_model,
    )? {
        s.d_model = d;
    }
    s.warmup_steps = count(
        ctx,
        &raw.warmup_steps,
        "darts.warmup_steps",
        0,
        s.warmup_steps,
    )?;
    s.search_steps = count(
        ctx,
        &raw.search_steps,
        "darts.search_steps",
        1,
        s.search_steps,
    )?;
    s.checkpoint_every = count(
        ctx,
        &raw.checkpoint_every,
        "darts.checkpoint_every",
        1,
        s.checkpoint_every,
    )?;
    s.arch_lr = rate(ctx, &raw.arch_lr, "darts.arch_lr", s.arch_lr)?;
    s.weight_lr = rate(ctx, &raw.weight_lr, "darts.weight_lr", s.weight_lr)?;
    if let Some(g) = &raw.gumbel {
        s.gumbel = *g.get_ref();
    }
    if let Some(list) = &raw.tau {
        s.tau = tau(ctx, list)?;
    }
    if let Some(v) = &raw.shared {
        s.shared = shared(ctx, v, space)?;
    }
    Ok(s)
}

/// `lambdas`: distinct cost penalties >= 0, at least one.
fn lambdas(ctx: &Ctx<'_>, list: &List<f64>) -> Result<Vec<f64>, SpaceError> {
    if list.get_ref().is_empty() {
        return Err(ctx.invalid(
            &list.span(),
            "darts.lambdas",
            "the list is empty",
            "one or more cost penalties >= 0",
        ));
    }
    let mut lambdas: Vec<f64> = Vec::new();
    for item in list.get_ref() {
        let v = *item.get_ref();
        if !(v.is_finite() && v >= 0.0) {
            return Err(ctx.invalid(
                &item.span(),
                "darts.lambdas",
                format!("{v} is negative or not finite"),
                "cost penalties >= 0",
            ));
        }
        if lambdas.contains(&v) {
            return Err(ctx.invalid(
                &item.span(),
                "darts.lambdas",
                format!("{v} is listed twice"),
                "each penalty once",
            ));
        }
        lambdas.push(v);
    }
    Ok(lambdas)
}

/// `cost`: an objective that adds up over layers.
fn cost(ctx: &Ctx<'_>, cost: &Spanned<String>) -> Result<Objective, SpaceError> {
    let expected = "one of flops, params, kv_cache";
    let o: Objective = cost.get_ref().parse().map_err(|_| {
        ctx.invalid(
            &cost.span(),
            "darts.cost",
            format!("unknown cost `{}`", cost.get_ref()),
            expected,
        )
    })?;
    if !DARTS_COSTS.contains(&o) {
        return Err(ctx.invalid(
            &cost.span(),
            "darts.cost",
            format!("`{o}` is not a per-layer cost"),
            expected,
        ));
    }
    Ok(o)
}

/// Some of `[model]`'s choices for `what`, distinct, when given.
fn choices(
    ctx: &Ctx<'_>,
    list: &Option<List<i64>>,
    key: &str,
    what: &str,
    model: &[usize],
) -> Result<Option<Vec<usize>>, SpaceError> {
    let Some(list) = list else { return Ok(None) };
    // Non-empty, positive, distinct: as for any list of the schema.
    let checked = ctx.ints(
        list,
        key,
        1,
        usize::MAX,
        &format!("{what} choices of [model]"),
    )?;
    for (v, span) in &checked {
        if !model.contains(v) {
            return Err(ctx.invalid(
                span,
                key,
                format!("{v} is not a {what} choice of [model]"),
                format!("values from {model:?}"),
            ));
        }
    }
    Ok(Some(checked.into_iter().map(|(v, _)| v).collect()))
}

/// A step count from `min` to the step cap, or `default`.
fn count(
    ctx: &Ctx<'_>,
    v: &Option<Spanned<i64>>,
    key: &str,
    min: i64,
    default: usize,
) -> Result<usize, SpaceError> {
    let expected = format!("an integer >= {min}");
    ctx.opt_within(v, key, min, MAX_STEPS, &expected, default)
}

/// A learning rate > 0, or `default`.
fn rate(
    ctx: &Ctx<'_>,
    v: &Option<Spanned<f64>>,
    key: &str,
    default: f64,
) -> Result<f64, SpaceError> {
    match v {
        Some(v) => ctx.positive_number(v, key, "a number > 0"),
        None => Ok(default),
    }
}

/// `tau = [start, end]`, both > 0.
fn tau(ctx: &Ctx<'_>, list: &List<f64>) -> Result<(f64, f64), SpaceError> {
    let values: Vec<f64> = list.get_ref().iter().map(|v| *v.get_ref()).collect();
    if values.len() != 2 || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(ctx.invalid(
            &list.span(),
            "darts.tau",
            format!("{values:?} is not a pair of positive temperatures"),
            "[start, end], both > 0 (e.g. [2.0, 0.5])",
        ));
    }
    Ok((values[0], values[1]))
}

/// `shared`: one of `[attention] shared`'s choices.
fn shared(ctx: &Ctx<'_>, v: &Spanned<bool>, space: &SearchSpace) -> Result<bool, SpaceError> {
    let shared = *v.get_ref();
    if !space.attention.shared.contains(&shared) {
        return Err(ctx.invalid(
            &v.span(),
            "darts.shared",
            format!("{shared} is not a choice of attention.shared"),
            format!("one of {:?}", space.attention.shared),
        ));
    }
    Ok(shared)
}
