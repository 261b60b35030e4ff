//! `[ssm]`: settings of the Mamba-2 layers, checked against the widths.

use serde::Deserialize;

use super::ctx::{values, Checked, Ctx, List};
use crate::arch::{DEFAULT_SSM_EXPAND, DEFAULT_SSM_HEAD_DIM};
use crate::limits::{MAX_SSM_EXPAND, MAX_STATE_DIM};
use crate::space::{SpaceError, SsmChoices};

/// The `[ssm]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSsm {
    state_dim: List<i64>,
    expand: Option<List<i64>>,
}

/// Validates `[ssm]`; every expand x d_model (`d_model`: the checked
/// `[model]` widths) must split into SSM heads.
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &RawSsm,
    d_model: &Checked<usize>,
) -> Result<SsmChoices, SpaceError> {
    let state_dim = ctx.ints(
        &raw.state_dim,
        "ssm.state_dim",
        1,
        MAX_STATE_DIM,
        "state sizes",
    )?;
    let expand = ctx.opt_ints(
        &raw.expand,
        "ssm.expand",
        1,
        MAX_SSM_EXPAND,
        "expansions",
        DEFAULT_SSM_EXPAND,
    )?;
    let head = DEFAULT_SSM_HEAD_DIM;
    for (e, e_span) in &expand {
        if let Some((d, d_span)) = d_model.iter().find(|(d, _)| (e * d) % head != 0) {
            // Point at `expand` when the file gives it, else at the d_model choice.
            let (span, key) = if raw.expand.is_some() {
                (e_span, "ssm.expand")
            } else {
                (d_span, "model.d_model")
            };
            return Err(ctx.invalid(
                span,
                key,
                format!(
                    "SSM inner width expand {e} x d_model {d} = {} is not a multiple of {head}",
                    e * d
                ),
                format!(
                    "expand * d_model a multiple of the SSM head width {head} for every choice"
                ),
            ));
        }
    }
    Ok(SsmChoices {
        state_dim: values(&state_dim),
        expand: values(&expand),
    })
}
