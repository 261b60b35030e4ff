//! What the Mamba-2 hybrid families share: one attention shape and one SSM
//! shape for the whole stack, where our designs may vary them per layer.

use crate::arch::{Architecture, Layer, DEFAULT_SSM_EXPAND};

use super::HfError;

/// The one family with parallel layers; for the others `global` refuses them.
const PARALLEL_FAMILY: &str = "falcon-h1";

/// The single shapes a family config holds.
pub struct Global {
    pub heads: usize,
    pub state_dim: usize,
    pub expand: usize,
    /// The positions of the attention layers, in our numbering.
    pub attention_at: Vec<usize>,
    /// How many attention layers share their weights (`A4*`).
    pub shared: usize,
}

impl Global {
    /// Mamba-2 heads of the one SSM shape.
    pub fn ssm_heads(&self, arch: &Architecture) -> usize {
        self.expand * arch.d_model / arch.ssm_head_dim
    }
}

/// The global shapes. Values our layers hold one by one and a family holds
/// once are flattened to the largest (which keeps every layer's capacity)
/// and noted; shapes no choice of the family's values can hold are refused.
/// Weight sharing is for each family to judge (`Global::shared`); parallel
/// layers are refused here except for falcon-h1, whose layers all are.
pub fn global(
    arch: &Architecture,
    family: &'static str,
    notes: &mut Vec<String>,
) -> Result<Global, HfError> {
    let refuse = |reason: String| HfError::Inexpressible { family, reason };
    let mut heads = Vec::new();
    let mut states = Vec::new();
    let mut expands = Vec::new();
    let mut attention_at = Vec::new();
    let mut shared = 0;
    for (i, layer) in arch.layers.iter().enumerate() {
        match *layer {
            Layer::Attention {
                heads: h,
                window,
                shared: s,
            } => {
                if window > 0 {
                    notes.push(format!(
                        "layer {i}: sliding window {window} (exported as global attention)"
                    ));
                }
                shared += usize::from(s);
                heads.push(h);
                attention_at.push(i);
            }
            Layer::Ssm { state_dim, expand } => {
                states.push(state_dim);
                expands.push(expand);
            }
            Layer::Parallel {
                heads: h,
                window,
                state_dim,
                expand,
            } if family == PARALLEL_FAMILY => {
                if window > 0 {
                    notes.push(format!(
                        "layer {i}: sliding window {window} (exported as global attention)"
                    ));
                }
                heads.push(h);
                attention_at.push(i);
                states.push(state_dim);
                expands.push(expand);
            }
            Layer::Parallel { .. } => {
                return Err(refuse(format!(
                    "layer {i} is a parallel layer (attention beside an SSM), which {family} \
                     has no block for (falcon-h1 has: --format falcon-h1)"
                )))
            }
        }
    }
    let heads_one = flatten(&heads, 1, "attention heads", notes);
    let state_dim = flatten(&states, 16, "SSM state sizes", notes);
    let expand = flatten(&expands, DEFAULT_SSM_EXPAND, "SSM expands", notes);
    if !arch.d_model.is_multiple_of(heads_one) {
        return Err(refuse(format!(
            "d_model {} is not divisible by {heads_one} attention heads",
            arch.d_model
        )));
    }
    if !(expand * arch.d_model).is_multiple_of(arch.ssm_head_dim) {
        return Err(refuse(format!(
            "the SSM inner width {} is not divisible by the head width {}",
            expand * arch.d_model,
            arch.ssm_head_dim
        )));
    }
    notes.push("LayerNorm (exported as the family's RMSNorm)".into());
    Ok(Global {
        heads: heads_one,
        state_dim,
        expand,
        attention_at,
        shared,
    })
}

/// The largest of per-layer `values` (`default` when there are none), noting
/// them when they differ.
fn flatten(values: &[usize], default: usize, what: &str, notes: &mut Vec<String>) -> usize {
    let max = values.iter().copied().max().unwrap_or(default);
    if values.iter().any(|&v| v != max) {
        notes.push(format!(
            "per-layer {what} {values:?} (exported as {max} for all)"
        ));
    }
    max
}

/// The refusal of a design with shared attention, for families without
/// weight sharing: exporting it unshared would be a different, larger model.
pub fn refuse_sharing(family: &'static str, g: &Global) -> Result<(), HfError> {
    if g.shared == 0 {
        return Ok(());
    }
    Err(HfError::Inexpressible {
        family,
        reason: format!(
            "{} attention layers share one weight set, which {family} cannot say \
             (zamba2 can: --format zamba2)",
            g.shared
        ),
    })
}
