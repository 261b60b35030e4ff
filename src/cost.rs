//! Cost model: closed-form parameters, forward FLOPs per token, and inference
//! memory (KV cache, SSM state) of an [`Architecture`] at context length `T`.
//!
//! Formulas (d = d_model, V = vocabulary, r = MLP ratio, n = heads):
//!
//! Parameters (exactly those the tch model trains; shared attention counted once):
//! - embedding `V d`; head `d V` (no bias); final LayerNorm `2d`.
//! - per layer: two LayerNorms `4d`; MLP `r d^2 + r d + r d^2 + d` (biases on).
//! - attention: fused QKV `3 d^2` + output `d^2`, no biases.
//! - SSM (Mamba-2), inner `E = e d`, heads `H = E / head_dim`, state `N`,
//!   conv width `K = 4`: in-projection `d (2E + 2N + H)`; depthwise conv over
//!   `C = E + 2N` channels `C K + C`; `dt_bias`, `A_log`, `D` `3H`; gated
//!   LayerNorm `2E`; out-projection `E d`.
//! - parallel: an attention and an SSM mixer as above, plus a LayerNorm on
//!   each one's output `4d`.
//!
//! Forward FLOPs per token (a multiply-add is 2 FLOPs; norms, activations and
//! softmax are left out, as is usual):
//! - every matrix product: `2 x weights` (embedding lookups are free);
//! - attention scores and values: `4 d L`, where `L` is the mean number of keys
//!   a query sees over a sequence of length T: `(T + 1) / 2` for global causal
//!   attention, capped by the window: `mean_t min(t, w)`;
//! - SSM: conv `2 C K`; the scan counted in its recurrent form, which is what
//!   inference runs: state update `3 E N` (decay, input outer product, add) and
//!   readout `2 E N`.
//!
//! Inference memory at context T, in bf16 (2 bytes a value):
//! - KV cache: per attention layer `2 x min(T, window) x d` values (shared
//!   weights do not share caches: keys depend on each layer's input);
//! - SSM state: per SSM layer `E N` (the recurrent state) + `C (K - 1)` (conv tail).
//!
//! A parallel layer costs its attention and its SSM, in FLOPs and memory too.

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, Layer};

/// Depthwise causal conv width in the SSM mixer (as in Mamba).
pub const SSM_CONV_WIDTH: usize = 4;
/// Bytes per cached value at inference (bf16).
pub const CACHE_BYTES_PER_VALUE: u64 = 2;

/// Every cost of one architecture at one context length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub params: u64,
    pub flops_per_token: f64,
    pub kv_cache_bytes: u64,
    pub ssm_state_bytes: u64,
}

/// Widths of the SSM mixer, shared by the cost model and the tch module so the
/// two cannot disagree.
#[derive(Clone, Copy, Debug)]
pub struct SsmDims {
    pub inner: usize,
    pub heads: usize,
    pub head_dim: usize,
    pub state: usize,
    pub conv_channels: usize,
}

impl SsmDims {
    pub fn new(d_model: usize, state_dim: usize, expand: usize, head_dim: usize) -> Self {
        let inner = expand * d_model;
        SsmDims {
            inner,
            heads: inner / head_dim,
            head_dim,
            state: state_dim,
            conv_channels: inner + 2 * state_dim,
        }
    }

    /// Output width of the in-projection: z, x, B, C, dt.
    pub fn in_proj_out(&self) -> usize {
        2 * self.inner + 2 * self.state + self.heads
    }
}

/// Mean number of keys a causal query sees over positions 1..=T, capped by
/// `window` (0 = no cap).
pub fn mean_keys_seen(seq_len: usize, window: usize) -> f64 {
    if seq_len == 0 {
        return 0.0;
    }
    let w = if window == 0 {
        seq_len
    } else {
        window.min(seq_len)
    };
    // Positions 1..=w see t keys; the remaining T - w see w keys.
    let ramp = (w * (w + 1) / 2) as f64;
    let flat = ((seq_len - w) * w) as f64;
    (ramp + flat) / seq_len as f64
}

impl Cost {
    pub fn of(arch: &Architecture, seq_len: usize) -> Cost {
        let d = arch.d_model as u64;
        let v = arch.vocab_size as u64;
        let r = arch.mlp_ratio as u64;
        let mut params = v * d + d * v + 2 * d;
        let mut flops = 2.0 * (d * v) as f64;
        let mut kv_values = 0u64;
        let mut state_values = 0u64;
        let mut shared_counted = false;
        let mlp_params = 2 * r * d * d + r * d + d;
        for layer in &arch.layers {
            params += 4 * d + mlp_params;
            flops += 2.0 * (2 * r * d * d) as f64;
            let shared = matches!(layer, Layer::Attention { shared: true, .. });
            if let Some((_, window)) = layer.attention_part() {
                if !shared || !shared_counted {
                    params += 4 * d * d;
                    shared_counted |= shared;
                }
                flops += 2.0 * (4 * d * d) as f64;
                flops += 4.0 * d as f64 * mean_keys_seen(seq_len, window);
                let cached = if window == 0 {
                    seq_len
                } else {
                    window.min(seq_len)
                };
                kv_values += 2 * cached as u64 * d;
            }
            if let Some((state_dim, expand)) = layer.ssm_part() {
                let s = SsmDims::new(arch.d_model, state_dim, expand, arch.ssm_head_dim);
                let (e, n, h, c) = (
                    s.inner as u64,
                    s.state as u64,
                    s.heads as u64,
                    s.conv_channels as u64,
                );
                let k = SSM_CONV_WIDTH as u64;
                params += d * s.in_proj_out() as u64 + c * k + c + 3 * h + 2 * e + e * d;
                flops += 2.0 * (d * s.in_proj_out() as u64 + e * d) as f64;
                flops += 2.0 * (c * k) as f64 + 5.0 * (e * n) as f64;
                state_values += e * n + c * (k - 1);
            }
            if matches!(layer, Layer::Parallel { .. }) {
                // The LayerNorm of each branch's output.
                params += 4 * d;
            }
        }
        Cost {
            params,
            flops_per_token: flops,
            kv_cache_bytes: kv_values * CACHE_BYTES_PER_VALUE,
            ssm_state_bytes: state_values * CACHE_BYTES_PER_VALUE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_keys_matches_a_direct_count() {
        for (t, w) in [(1, 0), (7, 0), (256, 0), (256, 64), (10, 3), (5, 9)] {
            let direct: usize = (1..=t).map(|p| if w == 0 { p } else { p.min(w) }).sum();
            assert!((mean_keys_seen(t, w) - direct as f64 / t as f64).abs() < 1e-9);
        }
    }

    #[test]
    fn window_caps_attention_cost_and_cache() {
        let global = Architecture::parse_short_form("d64 A4").unwrap();
        let local = Architecture::parse_short_form("d64 A4w32").unwrap();
        let (g, l) = (Cost::of(&global, 1024), Cost::of(&local, 1024));
        assert_eq!(g.params, l.params);
        assert!(l.flops_per_token < g.flops_per_token);
        assert_eq!(l.kv_cache_bytes, 2 * 32 * 64 * CACHE_BYTES_PER_VALUE);
        assert_eq!(g.kv_cache_bytes, 2 * 1024 * 64 * CACHE_BYTES_PER_VALUE);
        // Longer context costs more for attention, nothing more for the SSM.
        let ssm = Architecture::parse_short_form("d64 S16").unwrap();
        assert_eq!(
            Cost::of(&ssm, 128).flops_per_token,
            Cost::of(&ssm, 4096).flops_per_token
        );
        assert!(Cost::of(&global, 4096).flops_per_token > g.flops_per_token);
    }

    #[test]
    fn a_parallel_layer_costs_its_attention_and_its_ssm() {
        let parallel = Cost::of(
            &Architecture::parse_short_form("d64 P4w32/16e1").unwrap(),
            256,
        );
        let a = Cost::of(&Architecture::parse_short_form("d64 A4w32").unwrap(), 256);
        let s = Cost::of(&Architecture::parse_short_form("d64 S16e1").unwrap(), 256);
        // The SSM layer's design plus the attention mixer (4 d^2) and the two
        // branch norms (4 d): blocks, stem and head are counted once.
        assert_eq!(parallel.params, s.params + 4 * 64 * 64 + 4 * 64);
        assert_eq!(parallel.kv_cache_bytes, a.kv_cache_bytes);
        assert_eq!(parallel.ssm_state_bytes, s.ssm_state_bytes);
        assert!(parallel.flops_per_token > a.flops_per_token.max(s.flops_per_token));
    }

    #[test]
    fn shared_attention_weights_are_counted_once() {
        let shared = Architecture::parse_short_form("d64 A4* S16 A4*").unwrap();
        let separate = Architecture::parse_short_form("d64 A4 S16 A4").unwrap();
        let diff = Cost::of(&separate, 64).params - Cost::of(&shared, 64).params;
        assert_eq!(diff, 4 * 64 * 64);
    }
}
