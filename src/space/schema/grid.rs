//! `[grid]`: explicit designs (short forms) and repeats per design. Each
//! design must lie in the space the rest of the file defines, so that a grid
//! study and a random study of the same space compare like with like; the
//! error points at the design's string.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{Ctx, List};
use crate::arch::Architecture;
use crate::space::{GridSettings, SearchSpace, SpaceError, MAX_GRID_DESIGNS, MAX_REPEATS};

/// The `[grid]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrid {
    designs: List<String>,
    repeats: Option<Spanned<i64>>,
}

pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &RawGrid,
    space: &SearchSpace,
) -> Result<GridSettings, SpaceError> {
    let listed = raw.designs.get_ref();
    if listed.is_empty() || listed.len() > MAX_GRID_DESIGNS {
        return Err(ctx.invalid(
            &raw.designs.span(),
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
    let repeats = match &raw.repeats {
        Some(v) => ctx.positive_up_to(v, "grid.repeats", "seeds per design", MAX_REPEATS)?,
        None => 1,
    };
    Ok(GridSettings { designs, repeats })
}
