//! Nemotron-H (`model_type` `nemotron_h`): layers spelled out one per
//! position, mixer and MLP apart, so each of our blocks becomes two. Its
//! attention has no positions, as our reference model's.

use serde_json::json;

use crate::arch::{Architecture, Layer};

use super::{common, HfConfig, HfError};

const FAMILY: &str = "nemotron-h";

pub fn config(arch: &Architecture, vocab_size: usize) -> Result<HfConfig, HfError> {
    let mut notes = Vec::new();
    let g = common::global(arch, FAMILY, &mut notes)?;
    common::refuse_sharing(FAMILY, &g)?;
    notes.push("GELU MLP (exported as the family's squared-ReLU MLP, relu2)".into());
    if arch.rope {
        notes.push("rotary positions (the family's attention has none)".into());
    }
    // transformers 5 reads `layers_block_type`; earlier releases read the
    // one-character `hybrid_override_pattern` (M mamba, * attention, - MLP).
    // Both are written so either loads the same stack.
    let (types, pattern): (Vec<&str>, String) = arch
        .layers
        .iter()
        .flat_map(|l| match l {
            Layer::Attention { .. } => [("full_attention", '*'), ("mlp", '-')],
            Layer::Ssm { .. } => [("linear_attention", 'M'), ("mlp", '-')],
            Layer::Parallel { .. } => unreachable!("common::global refuses parallel layers"),
        })
        .unzip();
    let d = arch.d_model;
    let config = json!({
        "architectures": ["NemotronHForCausalLM"],
        "model_type": "nemotron_h",
        "vocab_size": vocab_size,
        "hidden_size": d,
        "layers_block_type": types,
        "hybrid_override_pattern": pattern,
        "num_hidden_layers": types.len(),
        "num_attention_heads": g.heads,
        "num_key_value_heads": g.heads,
        "head_dim": d / g.heads,
        "intermediate_size": d * arch.mlp_ratio,
        "mlp_hidden_act": "relu2",
        "ssm_state_size": g.state_dim,
        "expand": g.expand,
        "mamba_head_dim": arch.ssm_head_dim,
        "mamba_num_heads": g.ssm_heads(arch),
        "n_groups": 1,
        "conv_kernel": 4,
        "tie_word_embeddings": false,
    });
    Ok(HfConfig {
        config,
        not_carried: notes,
    })
}
