//! Zamba2 (`model_type` `zamba2`): a stack of Mamba-2 layers, some of them
//! `hybrid`: a transformer block (attention and MLP) runs before the Mamba
//! layer, its weights shared in rotation among `num_mem_blocks` copies.
//!
//! So one of our attention blocks followed by an SSM block becomes one
//! `hybrid` layer, and every other SSM block one Mamba layer.

use serde_json::json;

use crate::arch::{Architecture, Layer};

use super::{common, HfConfig, HfError};

const FAMILY: &str = "zamba2";

pub fn config(arch: &Architecture, vocab_size: usize) -> Result<HfConfig, HfError> {
    let mut notes = Vec::new();
    let g = common::global(arch, FAMILY, &mut notes)?;
    let types = layer_types(arch)?;
    let attention = g.attention_at.len();
    // Sharing is all or nothing: one block for all, or one block per use
    // (no reuse); a mix has no rotation that gives it.
    let mem_blocks = match g.shared {
        0 => attention.max(1),
        s if s == attention => 1,
        s => {
            return Err(HfError::Inexpressible {
                family: FAMILY,
                reason: format!(
                    "{s} of {attention} attention layers share weights; the family shares \
                     all attention blocks in one rotation or none"
                ),
            })
        }
    };
    if g.shared > 0 {
        notes.push(
            "only attention weights shared (the family's shared block also shares its MLP)".into(),
        );
    }
    notes.push("the MLP after each SSM layer (the family's Mamba layers have none)".into());
    if attention > 0 {
        notes.push(
            "attention over the hidden state alone (the family's shared block reads the \
             hidden state and the embeddings, concatenated, at twice the width)"
                .into(),
        );
        notes.push("GELU MLP (exported as the family's gated GELU MLP)".into());
    }
    let d = arch.d_model;
    let config = json!({
        "architectures": ["Zamba2ForCausalLM"],
        "model_type": "zamba2",
        "vocab_size": vocab_size,
        "hidden_size": d,
        "num_hidden_layers": types.len(),
        "layers_block_type": types,
        "num_mem_blocks": mem_blocks,
        "num_attention_heads": g.heads,
        "num_key_value_heads": g.heads,
        "intermediate_size": d * arch.mlp_ratio,
        "hidden_act": "gelu",
        "use_mem_rope": arch.rope,
        "mamba_d_state": g.state_dim,
        "mamba_expand": g.expand,
        "n_mamba_heads": g.ssm_heads(arch),
        "mamba_ngroups": 1,
        "mamba_d_conv": 4,
        "tie_word_embeddings": false,
    });
    Ok(HfConfig {
        config,
        not_carried: notes,
    })
}

/// `hybrid` for an attention block with the SSM block above it, then
/// `linear_attention` (the family's name for a Mamba layer) for every SSM
/// block left. An attention block with no SSM block right above it has no
/// Mamba layer to join.
fn layer_types(arch: &Architecture) -> Result<Vec<&'static str>, HfError> {
    let mut types = Vec::new();
    let mut layers = arch.layers.iter().enumerate();
    while let Some((i, layer)) = layers.next() {
        match layer {
            Layer::Ssm { .. } => types.push("linear_attention"),
            Layer::Parallel { .. } => unreachable!("common::global refuses parallel layers"),
            Layer::Attention { .. } => match layers.next() {
                Some((_, Layer::Ssm { .. })) => types.push("hybrid"),
                _ => {
                    return Err(HfError::Inexpressible {
                        family: FAMILY,
                        reason: format!(
                            "layer {i} is attention without an SSM layer right above it; \
                             the family runs attention only as part of a Mamba layer"
                        ),
                    })
                }
            },
        }
    }
    Ok(types)
}
