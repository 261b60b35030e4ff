//! `[grid]`: explicit designs (short forms), a product of axes
//! (`[grid.axes]`, see `axes.rs`), or both, and repeats per design. Each
//! design must lie in the space the rest of the file defines, so that a grid
//! study and a random study of the same space compare like with like; the
//! error points at the design's string. Listed designs come first, then the
//! axes' designs not already listed.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::axes::{self, RawAxes};
use super::ctx::{Ctx, List};
use crate::arch::Architecture;
use crate::space::{
    AxesExpansion, GridSettings, SearchSpace, SpaceError, MAX_GRID_DESIGNS, MAX_REPEATS,
};

/// The `[grid]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrid {
    designs: Option<List<String>>,
    repeats: Option<Spanned<i64>>,
    axes: Option<Spanned<RawAxes>>,
}

pub(super) fn parse(
    ctx: &Ctx<'_>,
    table: &Spanned<RawGrid>,
    space: &SearchSpace,
) -> Result<GridSettings, SpaceError> {
    let raw = table.get_ref();
    let mut designs = match &raw.designs {
        Some(list) => listed(ctx, list, space)?,
        None if raw.axes.is_none() => {
            return Err(ctx.invalid(
                &table.span(),
                "grid",
                "neither `designs` nor [grid.axes]",
                "`designs = [\"d64 S16 A4 S16\", ...]`, a [grid.axes] table, or both",
            ))
        }
        None => Vec::new(),
    };
    let listed = designs.len();
    let expansion = match &raw.axes {
        Some(table) => {
            let found = axes::parse(ctx, table, space)?;
            let known: HashSet<String> = designs.iter().map(Architecture::hash).collect();
            let added = found.designs.iter().filter(|a| !known.contains(&a.hash()));
            designs.extend(added.cloned());
            Some(AxesExpansion {
                combinations: found.combinations,
                outside: found.outside,
                added: designs.len() - listed,
            })
        }
        None => None,
    };
    if designs.len() > MAX_GRID_DESIGNS {
        return Err(ctx.invalid(
            &table.span(),
            "grid",
            format!("{} designs", designs.len()),
            format!("at most {MAX_GRID_DESIGNS} (fewer designs or axis values)"),
        ));
    }
    let repeats = match &raw.repeats {
        Some(v) => ctx.positive_up_to(v, "grid.repeats", "seeds per design", MAX_REPEATS)?,
        None => 1,
    };
    Ok(GridSettings {
        designs,
        repeats,
        expansion,
    })
}

/// The designs of `designs = [...]`: each a short form inside the space, each once.
fn listed(
    ctx: &Ctx<'_>,
    list: &List<String>,
    space: &SearchSpace,
) -> Result<Vec<Architecture>, SpaceError> {
    let listed = list.get_ref();
    if listed.is_empty() || listed.len() > MAX_GRID_DESIGNS {
        return Err(ctx.invalid(
            &list.span(),
            "grid.designs",
            format!("{} designs", listed.len()),
            format!("1 to {MAX_GRID_DESIGNS} short forms, like \"d64 S16 A4 S16\""),
        ));
    }
    let mut designs = Vec::with_capacity(listed.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, text) in listed.iter().enumerate() {
        let arch = Architecture::parse_short_form(text.get_ref()).map_err(|e| {
            ctx.invalid(
                &text.span(),
                "grid.designs",
                e.to_string(),
                "a design's short form, like \"d64 S16 A4 S16\"",
            )
        })?;
        space.check(&arch).map_err(|why| {
            ctx.invalid(
                &text.span(),
                "grid.designs",
                format!("`{}` is outside the space: {why}", text.get_ref()),
                "designs the space's [model], [attention] and [ssm] tables allow",
            )
        })?;
        if let Some(first) = seen.insert(arch.hash(), i) {
            return Err(ctx.invalid(
                &text.span(),
                "grid.designs",
                format!(
                    "`{}` is the same design as entry {} (`{}`)",
                    text.get_ref(),
                    first + 1,
                    listed[first].get_ref()
                ),
                "each design once (`repeats` trains one several times)",
            ));
        }
        designs.push(arch);
    }
    Ok(designs)
}
