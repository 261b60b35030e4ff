//! Bamba (`model_type` `bamba`): blocks as ours (mixer then MLP), attention
//! at `attn_layer_indices`, Mamba-2 elsewhere.

use serde_json::json;

use crate::arch::Architecture;

use super::{common, HfConfig, HfError};

const FAMILY: &str = "bamba";

pub fn config(arch: &Architecture, vocab_size: usize) -> Result<HfConfig, HfError> {
    let mut notes = Vec::new();
    let g = common::global(arch, FAMILY, &mut notes)?;
    common::refuse_sharing(FAMILY, &g)?;
    notes.push("GELU MLP (exported as the family's gated SiLU MLP)".into());
    if !arch.rope && !g.attention_at.is_empty() {
        notes.push(
            "no positional encoding in attention (the family always applies rotary positions)"
                .into(),
        );
    }
    let d = arch.d_model;
    let config = json!({
        "architectures": ["BambaForCausalLM"],
        "model_type": "bamba",
        "vocab_size": vocab_size,
        "hidden_size": d,
        "num_hidden_layers": arch.layers.len(),
        "attn_layer_indices": g.attention_at,
        "num_attention_heads": g.heads,
        "num_key_value_heads": g.heads,
        "intermediate_size": d * arch.mlp_ratio,
        "hidden_act": "silu",
        "mamba_d_state": g.state_dim,
        "mamba_expand": g.expand,
        "mamba_d_head": arch.ssm_head_dim,
        "mamba_n_heads": g.ssm_heads(arch),
        "mamba_n_groups": 1,
        "mamba_d_conv": 4,
        "tie_word_embeddings": false,
    });
    Ok(HfConfig {
        config,
        not_carried: notes,
    })
}
