//! A design as a Hugging Face `transformers` `config.json` of a hybrid
//! Mamba-2 family, with the list of what the family cannot say about it.
//! Checked against transformers 5.24.0 (scripts/hf_requirements.txt), which
//! loads all four families natively; tests/hf_export.rs loads them there.

mod bamba;
mod common;
mod falcon_h1;
mod nemotron_h;
mod zamba2;

use serde_json::Value;

use crate::arch::Architecture;

/// The `transformers` families a design can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    NemotronH,
    Bamba,
    Zamba2,
    FalconH1,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::NemotronH => "nemotron-h",
            Family::Bamba => "bamba",
            Family::Zamba2 => "zamba2",
            Family::FalconH1 => "falcon-h1",
        }
    }
}

/// A config the family loads, and what of the design it does not carry.
#[derive(Debug)]
pub struct HfConfig {
    pub config: Value,
    pub not_carried: Vec<String>,
}

/// A design the family cannot express at all.
#[derive(Debug, thiserror::Error)]
pub enum HfError {
    #[error("cannot export to {family}: {reason}")]
    Inexpressible {
        family: &'static str,
        reason: String,
    },
}

/// The config of `arch` in `family`; `vocab_size` is the vocabulary to write
/// (the caller resolves the design's `0`, "from the corpus").
pub fn config(arch: &Architecture, vocab_size: usize, family: Family) -> Result<HfConfig, HfError> {
    match family {
        Family::NemotronH => nemotron_h::config(arch, vocab_size),
        Family::Bamba => bamba::config(arch, vocab_size),
        Family::Zamba2 => zamba2::config(arch, vocab_size),
        Family::FalconH1 => falcon_h1::config(arch, vocab_size),
    }
}

#[cfg(test)]
mod tests {
    use super::{config, Family, HfError};
    use crate::arch::Architecture;

    fn arch(short: &str) -> Architecture {
        Architecture::parse_short_form(short).unwrap()
    }

    #[test]
    fn bamba_places_attention_by_index() {
        let c = config(&arch("d128 S16 A4 S16 A4"), 65, Family::Bamba).unwrap();
        assert_eq!(c.config["attn_layer_indices"], serde_json::json!([1, 3]));
        assert_eq!(c.config["num_hidden_layers"], 4);
        assert_eq!(c.config["mamba_n_heads"], 8);
    }

    #[test]
    fn nemotron_h_spells_mixer_and_mlp_apart() {
        let c = config(&arch("d128 S16 A4"), 65, Family::NemotronH).unwrap();
        let types = &c.config["layers_block_type"];
        assert_eq!(
            types,
            &serde_json::json!(["linear_attention", "mlp", "full_attention", "mlp"])
        );
    }

    #[test]
    fn nemotron_h_writes_the_pattern_older_releases_read() {
        let c = config(&arch("d128 S16 A4 S8"), 65, Family::NemotronH).unwrap();
        assert_eq!(c.config["hybrid_override_pattern"], "M-*-M-");
        assert_eq!(c.config["num_hidden_layers"], 6);
    }

    #[test]
    fn shared_attention_is_refused_where_the_family_has_no_sharing() {
        for family in [Family::NemotronH, Family::Bamba] {
            let e = config(&arch("d128 S16 A4* S16 A4*"), 65, family).unwrap_err();
            let HfError::Inexpressible { reason, .. } = e;
            assert!(reason.contains("zamba2"), "{reason}");
        }
    }

    #[test]
    fn per_layer_shapes_are_flattened_to_the_largest_and_noted() {
        let c = config(&arch("d128 S16e1 S32 A4 A8w32"), 65, Family::Bamba).unwrap();
        assert_eq!(c.config["mamba_d_state"], 32);
        assert_eq!(c.config["mamba_expand"], 2);
        assert_eq!(c.config["num_attention_heads"], 8);
        for what in [
            "state sizes",
            "expands",
            "attention heads",
            "sliding window 32",
        ] {
            assert!(
                c.not_carried.iter().any(|n| n.contains(what)),
                "{what} not noted in {:?}",
                c.not_carried
            );
        }
    }

    #[test]
    fn zamba2_joins_attention_to_the_ssm_layer_above() {
        let c = config(&arch("d128 S16 A4* S16 S16 A4* S16"), 65, Family::Zamba2).unwrap();
        assert_eq!(
            c.config["layers_block_type"],
            serde_json::json!(["linear_attention", "hybrid", "linear_attention", "hybrid"])
        );
        assert_eq!(c.config["num_mem_blocks"], 1);
        let unshared = config(&arch("d128 A4 S16 A4 S16"), 65, Family::Zamba2).unwrap();
        assert_eq!(unshared.config["num_mem_blocks"], 2);
    }

    #[test]
    fn parallel_layers_are_refused_by_every_family() {
        for family in [Family::NemotronH, Family::Bamba, Family::Zamba2] {
            let HfError::Inexpressible { reason, .. } =
                config(&arch("d128 S16 P4/16 S16"), 65, family).unwrap_err();
            assert!(reason.contains("layer 1 is a parallel layer"), "{reason}");
        }
    }

    #[test]
    fn falcon_h1_takes_designs_whose_every_layer_is_parallel() {
        let c = config(&arch("d128 P4/16 P4w32/32 P4/16"), 65, Family::FalconH1).unwrap();
        assert_eq!(c.config["num_hidden_layers"], 3);
        assert_eq!(c.config["mamba_d_state"], 32);
        assert_eq!(c.config["mamba_n_heads"], 8);
        assert!(c
            .not_carried
            .iter()
            .any(|n| n.contains("sliding window 32")));
        let HfError::Inexpressible { reason, .. } =
            config(&arch("d128 P4/16 S16"), 65, Family::FalconH1).unwrap_err();
        assert!(reason.contains("layer 1 is S16"), "{reason}");
    }

    #[test]
    fn zamba2_refuses_attention_without_an_ssm_above_and_mixed_sharing() {
        for short in ["d128 S16 A4", "d128 A4 A4 S16", "d128 A4* S16 A4 S16"] {
            let e = config(&arch(short), 65, Family::Zamba2).unwrap_err();
            assert!(matches!(e, HfError::Inexpressible { .. }), "{short}");
        }
    }
}
