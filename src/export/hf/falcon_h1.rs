//! Falcon-H1 (`model_type` `falcon_h1`): every layer is a parallel block,
//! attention and Mamba-2 side by side on the same input, then an MLP. Only
//! designs whose every layer is parallel map onto it.

use serde_json::json;

use crate::arch::{Architecture, Layer};

use super::{common, HfConfig, HfError};

const FAMILY: &str = "falcon-h1";

pub fn config(arch: &Architecture, vocab_size: usize) -> Result<HfConfig, HfError> {
    if let Some(i) = arch
        .layers
        .iter()
        .position(|l| !matches!(l, Layer::Parallel { .. }))
    {
        return Err(HfError::Inexpressible {
            family: FAMILY,
            reason: format!(
                "layer {i} is {}; every layer of the family is parallel (attention beside an SSM)",
                arch.layers[i].token()
            ),
        });
    }
    let mut notes = Vec::new();
    let g = common::global(arch, FAMILY, &mut notes)?;
    notes.push(
        "branch outputs each LayerNormed, then averaged (the family sums them, scaled by \
         its multipliers)"
            .into(),
    );
    notes.push("GELU MLP (exported as the family's gated SiLU MLP)".into());
    if !arch.rope {
        notes.push(
            "no positional encoding in attention (the family always applies rotary positions)"
                .into(),
        );
    }
    let d = arch.d_model;
    let config = json!({
        "architectures": ["FalconH1ForCausalLM"],
        "model_type": "falcon_h1",
        "vocab_size": vocab_size,
        "hidden_size": d,
        "num_hidden_layers": arch.layers.len(),
        "num_attention_heads": g.heads,
        "num_key_value_heads": g.heads,
        "head_dim": d / g.heads,
        "intermediate_size": d * arch.mlp_ratio,
        "hidden_act": "silu",
        "mamba_d_ssm": g.expand * d,
        "mamba_n_heads": g.ssm_heads(arch),
        "mamba_d_head": arch.ssm_head_dim,
        "mamba_n_groups": 1,
        "mamba_d_state": g.state_dim,
        "mamba_d_conv": 4,
        "mamba_expand": g.expand,
        // Ours normalises the scan output before the SiLU(z) gate.
        "mamba_norm_before_gate": true,
        "tie_word_embeddings": false,
    });
    Ok(HfConfig {
        config,
        not_carried: notes,
    })
}
