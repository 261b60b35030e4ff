//! `[grid.axes]`: the values of each axis as written, checked one by one
//! (known names, integers in range, each value once), then expanded against
//! the finished space (`space::axes`). A value the file names must give at
//! least one design: one that never can is a mistake, reported at the value
//! with the reason of its first combination. Values an axis takes from the
//! space by default need not.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::attention::flags;
use super::ctx::{one_of, values, Ctx, List};
use crate::limits::{
    MAX_DEPTH, MAX_D_MODEL, MAX_HEADS, MAX_MLP_RATIO, MAX_SEQ_LEN, MAX_SSM_EXPAND, MAX_STATE_DIM,
};
use crate::space::axes::{Axis, Expansion, GridAxes, MAX_COMBINATIONS};
use crate::space::{Pattern, SearchSpace, SpaceError};

/// The `[grid.axes]` table as written: every key optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAxes {
    depth: Option<List<i64>>,
    d_model: Option<List<i64>>,
    mlp_ratio: Option<List<i64>>,
    ratio: Option<List<f64>>,
    pattern: Option<List<String>>,
    heads: Option<List<i64>>,
    window: Option<List<i64>>,
    shared: Option<List<bool>>,
    parallel: Option<List<bool>>,
    state_dim: Option<List<i64>>,
    expand: Option<List<i64>>,
}

/// The spans of the values the file wrote, per axis (empty: the space's).
type Spans = Vec<(Axis, Vec<Range<usize>>)>;

/// The designs of `[grid.axes]` inside `space`, in enumeration order.
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &Spanned<RawAxes>,
    space: &SearchSpace,
) -> Result<Expansion, SpaceError> {
    let (axes, spans) = read(ctx, raw, space)?;
    let n = axes.combinations();
    if n > MAX_COMBINATIONS {
        return Err(ctx.invalid(
            &raw.span(),
            "grid.axes",
            format!("{n} combinations"),
            format!("at most {MAX_COMBINATIONS} (fewer values per axis)"),
        ));
    }
    let found = axes.expand(space);
    for (axis, spans) in &spans {
        let (_, why) = found
            .unused
            .iter()
            .find(|(a, _)| a == axis)
            .expect("every axis");
        for (span, why) in spans.iter().zip(why) {
            if let Some(why) = why {
                return Err(ctx.invalid(
                    span,
                    &format!("grid.axes.{}", axis.as_str()),
                    format!("no combination with this value lies inside the space: {why}"),
                    "values that give at least one design the space's [model], [attention] \
                     and [ssm] tables allow",
                ));
            }
        }
    }
    if found.designs.is_empty() {
        return Err(ctx.invalid(
            &raw.span(),
            "grid.axes",
            "no combination lies inside the space",
            "axes whose combinations the space's tables allow",
        ));
    }
    Ok(found)
}

/// The axes, each value checked, with the spans of those the file wrote.
fn read(
    ctx: &Ctx<'_>,
    table: &Spanned<RawAxes>,
    space: &SearchSpace,
) -> Result<(GridAxes, Spans), SpaceError> {
    let raw = table.get_ref();
    let mut axes = GridAxes::of_space(space);
    let mut spans: Spans = Vec::new();
    let mut ints = |list: &Option<List<i64>>,
                    axis: Axis,
                    min: i64,
                    max: usize,
                    what: &str,
                    into: &mut Vec<usize>|
     -> Result<(), SpaceError> {
        if let Some(list) = list {
            let key = format!("grid.axes.{}", axis.as_str());
            let checked = ctx.ints(list, &key, min, max, what)?;
            *into = values(&checked);
            spans.push((axis, checked.into_iter().map(|(_, s)| s).collect()));
        }
        Ok(())
    };
    ints(
        &raw.depth,
        Axis::Depth,
        1,
        MAX_DEPTH,
        "layer counts",
        &mut axes.depth,
    )?;
    ints(
        &raw.d_model,
        Axis::DModel,
        1,
        MAX_D_MODEL,
        "widths",
        &mut axes.d_model,
    )?;
    ints(
        &raw.mlp_ratio,
        Axis::MlpRatio,
        1,
        MAX_MLP_RATIO,
        "MLP ratios",
        &mut axes.mlp_ratio,
    )?;
    ints(
        &raw.heads,
        Axis::Heads,
        1,
        MAX_HEADS,
        "head counts",
        &mut axes.heads,
    )?;
    ints(
        &raw.window,
        Axis::Window,
        0,
        MAX_SEQ_LEN,
        "windows",
        &mut axes.window,
    )?;
    ints(
        &raw.state_dim,
        Axis::StateDim,
        1,
        MAX_STATE_DIM,
        "state sizes",
        &mut axes.state_dim,
    )?;
    ints(
        &raw.expand,
        Axis::Expand,
        1,
        MAX_SSM_EXPAND,
        "expansions",
        &mut axes.expand,
    )?;
    for (list, axis, into) in [
        (&raw.shared, Axis::Shared, &mut axes.shared),
        (&raw.parallel, Axis::Parallel, &mut axes.parallel),
    ] {
        if list.is_some() {
            let key = format!("grid.axes.{}", axis.as_str());
            let checked = flags(ctx, list, &key)?;
            *into = values(&checked);
            spans.push((axis, checked.into_iter().map(|(_, s)| s).collect()));
        }
    }
    if let Some(list) = &raw.ratio {
        let (ratios, at) = ratios(ctx, list)?;
        axes.ratio = Some(ratios);
        spans.push((Axis::Ratio, at));
    }
    match &raw.pattern {
        Some(list) => {
            let (patterns, at) = patterns(ctx, list)?;
            axes.pattern = patterns;
            spans.push((Axis::Pattern, at));
        }
        None if axes.pattern.is_empty() => {
            return Err(ctx.invalid(
                &table.span(),
                "grid.axes.pattern",
                "missing, and the space's only pattern is `free`, which names no positions",
                "`pattern = [\"uniform\", ...]` under [grid.axes]",
            ))
        }
        None => {}
    }
    // Report unusable values in the order the axes are enumerated.
    spans.sort_by_key(|(axis, _)| Axis::ALL.iter().position(|a| a == axis));
    Ok((axes, spans))
}

/// Attention fractions, each in [0, 1] and listed once.
fn ratios(ctx: &Ctx<'_>, list: &List<f64>) -> Result<(Vec<f64>, Vec<Range<usize>>), SpaceError> {
    let key = "grid.axes.ratio";
    let expected = "attention fractions from 0 to 1, like [0.0, 0.125, 0.5]";
    if list.get_ref().is_empty() {
        return Err(ctx.invalid(&list.span(), key, "the list is empty", expected));
    }
    let (mut out, mut at) = (Vec::new(), Vec::new());
    for item in list.get_ref() {
        let r = *item.get_ref();
        if !(0.0..=1.0).contains(&r) {
            return Err(ctx.invalid(
                &item.span(),
                key,
                format!("{r} lies outside [0, 1]"),
                expected,
            ));
        }
        if out.contains(&r) {
            return Err(ctx.invalid(
                &item.span(),
                key,
                format!("{r} is listed twice"),
                "each value once",
            ));
        }
        out.push(r);
        at.push(item.span());
    }
    Ok((out, at))
}

/// Placement patterns by name, `free` refused: an axis value must say where
/// attention goes.
fn patterns(
    ctx: &Ctx<'_>,
    list: &List<String>,
) -> Result<(Vec<Pattern>, Vec<Range<usize>>), SpaceError> {
    let key = "grid.axes.pattern";
    let placed: Vec<Pattern> = Pattern::ALL
        .into_iter()
        .filter(|p| *p != Pattern::Free)
        .collect();
    let expected = one_of(&placed, |p| p.as_str());
    let checked = ctx.names::<Pattern>(list, key, &expected)?;
    if let Some((_, span)) = checked.iter().find(|(p, _)| *p == Pattern::Free) {
        return Err(ctx.invalid(
            span,
            key,
            "`free` names no positions",
            format!("{expected}; list designs with free positions under `designs`"),
        ));
    }
    Ok(checked.into_iter().unzip())
}
