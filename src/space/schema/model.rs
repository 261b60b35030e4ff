//! `[model]`: the choices that hold for the whole stack.

use serde::Deserialize;

use super::ctx::{values, Checked, Ctx, List};
use crate::arch::DEFAULT_MLP_RATIO;
use crate::limits::{MAX_DEPTH, MAX_D_MODEL, MAX_MLP_RATIO};
use crate::space::{ModelChoices, SpaceError};

/// The `[model]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    depth: List<i64>,
    d_model: List<i64>,
    mlp_ratio: Option<List<i64>>,
}

/// `[model]`, validated; each choice keeps its span for the checks of the
/// other tables against it.
pub(super) struct Model {
    pub(super) depth: Checked<usize>,
    pub(super) d_model: Checked<usize>,
    mlp_ratio: Checked<usize>,
}

impl Model {
    /// The choices as the space holds them: depths ascending.
    pub(super) fn choices(&self) -> ModelChoices {
        let mut depth = values(&self.depth);
        depth.sort_unstable();
        ModelChoices {
            depth,
            d_model: values(&self.d_model),
            mlp_ratio: values(&self.mlp_ratio),
        }
    }
}

pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawModel) -> Result<Model, SpaceError> {
    Ok(Model {
        depth: ctx.ints(&raw.depth, "model.depth", 1, MAX_DEPTH, "layer counts")?,
        d_model: ctx.ints(&raw.d_model, "model.d_model", 1, MAX_D_MODEL, "widths")?,
        mlp_ratio: ctx.opt_ints(
            &raw.mlp_ratio,
            "model.mlp_ratio",
            1,
            MAX_MLP_RATIO,
            "MLP ratios",
            DEFAULT_MLP_RATIO,
        )?,
    })
}
