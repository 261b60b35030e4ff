//! The keys of the top level: `name` and `objectives`.

use std::path::Path;

use toml::Spanned;

use super::ctx::{one_of, values, Checked, Ctx, List};
use crate::space::{Objective, SpaceError};

/// `name`, else the file stem of `origin` (`bundled:` dropped).
pub(super) fn name(
    ctx: &Ctx<'_>,
    name: Option<&Spanned<String>>,
    origin: &str,
) -> Result<String, SpaceError> {
    match name {
        Some(n) if n.get_ref().trim().is_empty() => Err(ctx.invalid(
            &n.span(),
            "name",
            "the name is empty",
            "a short name for the space",
        )),
        Some(n) => Ok(n.get_ref().clone()),
        None => Ok(Path::new(origin)
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.trim_start_matches("bundled:").to_string())
            .unwrap_or_else(|| origin.to_string())),
    }
}

/// `objectives`: `val_ppl` first, then distinct objectives with at least one
/// cost among them (the cost axis of every front); `recall` may join.
pub(super) fn objectives(ctx: &Ctx<'_>, list: &List<String>) -> Result<Vec<Objective>, SpaceError> {
    let expected = format!(
        "`val_ppl` first, then costs from {}, and optionally `recall`",
        one_of(&Objective::COSTS, |o| o.as_str())
    );
    let objectives: Checked<Objective> = ctx.names(list, "objectives", &expected)?;
    if objectives[0].0 != Objective::ValPpl {
        return Err(ctx.invalid(
            &objectives[0].1,
            "objectives",
            format!("the first objective is `{}`", objectives[0].0),
            expected,
        ));
    }
    if objectives.len() < 2 {
        return Err(ctx.invalid(
            &list.span(),
            "objectives",
            "only one objective",
            format!("at least two: {expected}"),
        ));
    }
    if !objectives.iter().any(|(o, _)| o.is_cost()) {
        return Err(ctx.invalid(
            &list.span(),
            "objectives",
            "no cost among the objectives",
            format!("at least one cost: {expected}"),
        ));
    }
    Ok(values(&objectives))
}
