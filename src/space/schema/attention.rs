//! `[attention]`: how many attention layers, where, and their settings.

use std::ops::Range;

use serde::Deserialize;

use super::ctx::{one_of, values, Checked, Ctx, List};
use crate::limits::{MAX_DEPTH, MAX_HEADS, MAX_SEQ_LEN};
use crate::space::{AttentionChoices, Pattern, SpaceError};

/// The `[attention]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttention {
    ratio: List<f64>,
    pattern: List<String>,
    every: Option<List<i64>>,
    heads: List<i64>,
    window: Option<List<i64>>,
    shared: Option<List<bool>>,
    parallel: Option<List<bool>>,
}

/// `[attention]`, validated; the ratio and the patterns keep their spans for
/// the placement checks, which need the whole space.
pub(super) struct Attention {
    pub(super) choices: AttentionChoices,
    pub(super) ratio_span: Range<usize>,
    pub(super) patterns: Checked<Pattern>,
}

/// Validates `[attention]`; the head counts must divide every width of
/// `d_model` (the checked `[model]` widths).
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &RawAttention,
    d_model: &Checked<usize>,
) -> Result<Attention, SpaceError> {
    let (ratio_min, ratio_max) = ratio(ctx, &raw.ratio)?;
    let patterns: Checked<Pattern> = ctx.names(
        &raw.pattern,
        "attention.pattern",
        &one_of(&Pattern::ALL, |p| p.as_str()),
    )?;
    let every = every(ctx, &raw.every, &patterns)?;
    let heads = ctx.ints(&raw.heads, "attention.heads", 1, MAX_HEADS, "head counts")?;
    let window = ctx.opt_ints(
        &raw.window,
        "attention.window",
        0,
        MAX_SEQ_LEN,
        "windows",
        0,
    )?;
    let shared = flags(ctx, &raw.shared, "attention.shared")?;
    let parallel = flags(ctx, &raw.parallel, "attention.parallel")?;
    if !shared.iter().any(|(s, _)| !s) && !parallel.iter().any(|(p, _)| !p) {
        let span = raw.parallel.as_ref().map_or(0..0, |l| l.span());
        return Err(ctx.invalid(
            &span,
            "attention.parallel",
            "parallel layers never share weights, and shared = [true] allows only sharing",
            "false among the choices of parallel or of shared",
        ));
    }
    for (h, span) in &heads {
        if let Some((d, _)) = d_model.iter().find(|(d, _)| d % h != 0) {
            return Err(ctx.invalid(
                span,
                "attention.heads",
                format!("{h} does not divide d_model {d}"),
                "heads that divide every d_model choice",
            ));
        }
    }
    Ok(Attention {
        choices: AttentionChoices {
            ratio_min,
            ratio_max,
            patterns: values(&patterns),
            every: values(&every),
            heads: values(&heads),
            window: values(&window),
            shared: values(&shared),
            parallel: values(&parallel),
        },
        ratio_span: raw.ratio.span(),
        patterns,
    })
}

/// `ratio = [min, max]` with 0 <= min <= max <= 1.
fn ratio(ctx: &Ctx<'_>, list: &List<f64>) -> Result<(f64, f64), SpaceError> {
    let expected = "`[min, max]` with 0 <= min <= max <= 1";
    let ratio = list.get_ref();
    if ratio.len() != 2 {
        return Err(ctx.invalid(
            &list.span(),
            "attention.ratio",
            format!("{} values", ratio.len()),
            expected,
        ));
    }
    for bound in ratio {
        let v = *bound.get_ref();
        if !(0.0..=1.0).contains(&v) {
            return Err(ctx.invalid(
                &bound.span(),
                "attention.ratio",
                format!("{v} lies outside [0, 1]"),
                expected,
            ));
        }
    }
    let (min, max) = (*ratio[0].get_ref(), *ratio[1].get_ref());
    if min > max {
        return Err(ctx.invalid(
            &list.span(),
            "attention.ratio",
            format!("min {min} is above max {max}"),
            expected,
        ));
    }
    Ok((min, max))
}

/// `every`: required with `alternating` among the patterns, refused without.
fn every(
    ctx: &Ctx<'_>,
    list: &Option<List<i64>>,
    patterns: &Checked<Pattern>,
) -> Result<Checked<usize>, SpaceError> {
    let alternating = patterns.iter().find(|(p, _)| *p == Pattern::Alternating);
    match (list, alternating) {
        (Some(list), Some(_)) => ctx.ints(list, "attention.every", 1, MAX_DEPTH, "periods k"),
        (None, Some((_, span))) => Err(ctx.invalid(
            span,
            "attention.pattern",
            "`alternating` is listed but `attention.every` is missing",
            "`every = [k, ...]`: attention every k layers",
        )),
        (Some(list), None) => Err(ctx.invalid(
            &list.span(),
            "attention.every",
            "given, but `alternating` is not among the patterns",
            "`every` only with `alternating` in `attention.pattern`",
        )),
        (None, None) => Ok(Vec::new()),
    }
}

/// `shared` or `parallel` (`key`): distinct booleans; `[false]` when absent.
pub(super) fn flags(
    ctx: &Ctx<'_>,
    list: &Option<List<bool>>,
    key: &str,
) -> Result<Checked<bool>, SpaceError> {
    let Some(list) = list else {
        return Ok(vec![(false, 0..0)]);
    };
    if list.get_ref().is_empty() {
        return Err(ctx.invalid(
            &list.span(),
            key,
            "the list is empty",
            "`[false]`, `[true]` or `[false, true]`",
        ));
    }
    let mut out: Checked<bool> = Vec::new();
    for item in list.get_ref() {
        if out.iter().any(|(b, _)| b == item.get_ref()) {
            return Err(ctx.invalid(
                &item.span(),
                key,
                format!("{} is listed twice", item.get_ref()),
                "each choice once",
            ));
        }
        out.push((*item.get_ref(), item.span()));
    }
    Ok(out)
}
