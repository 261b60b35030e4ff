//! The sequence-length sweep: for one design at one context length `T`, the
//! measured time of a full forward pass at batch 1 (inference without
//! caches: every position attends to all before it) per token, and the
//! measured peak memory, beside the cost model's FLOPs and cache bytes.
//!
//! Memory is the peak resident set of the process that ran the point
//! (`VmHWM` of /proc/self/status), so each point runs in a fresh process
//! (`nas bench` spawns itself, [`crate::bench`] users call [`forward_point`]
//! there): a process's peak never goes down, and memory libtorch freed is
//! not always given back. `baseline_bytes` is the resident set before the
//! model is built (the binary and libtorch), `model_peak_bytes` the rise
//! over it.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::BENCH_VOCAB;
use crate::arch::Architecture;
use crate::cost::Cost;
use crate::model::HybridLm;
use crate::resident::{resident_bytes, NoMemoryReading};

/// One design at one context length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub arch: String,
    pub d: usize,
    #[serde(rename = "T")]
    pub t: usize,
    pub params: u64,
    /// Timed forward passes (after one untimed).
    pub forwards: usize,
    /// Median wall time of one forward pass of `T` tokens.
    pub forward_ms: f64,
    /// `forward_ms / T`.
    pub ms_per_token: f64,
    /// Peak resident set of the process, and before the model was built.
    pub peak_bytes: u64,
    pub baseline_bytes: u64,
    /// `peak_bytes - baseline_bytes`: what the model and its forward took.
    pub model_peak_bytes: u64,
    /// Cost model, at `T`: forward FLOPs per token, and the bytes a decoder
    /// would hold (bf16 KV cache, SSM state).
    pub flops_per_token: f64,
    pub kv_cache_bytes: u64,
    pub ssm_state_bytes: u64,
}

/// Measures one point in this process: builds `arch` (random weights, the
/// bench vocabulary), runs one untimed and `forwards` timed forward passes
/// of a (1, T) batch of token zeros without gradients, then reads the peak.
/// Call it once per process: the peak covers everything the process did.
pub fn forward_point(
    arch: &Architecture,
    label: &str,
    t: usize,
    forwards: usize,
) -> Result<SweepPoint, NoMemoryReading> {
    let baseline_bytes = resident_bytes("VmRSS")?;
    let mut arch = arch.clone();
    arch.vocab_size = BENCH_VOCAB;
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = HybridLm::new(&vs.root(), &arch, 0);
    let _guard = tch::no_grad_guard();
    // (1, T) token ids; the logits (1, T, V) are dropped at once.
    let x = Tensor::zeros([1, t as i64], (Kind::Int64, tch::Device::Cpu));
    let _ = model.forward(&x);
    let forwards = forwards.max(1);
    let mut times: Vec<f64> = (0..forwards)
        .map(|_| {
            let t0 = Instant::now();
            let _ = model.forward(&x);
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let forward_ms = times[times.len() / 2];
    let peak_bytes = resident_bytes("VmHWM")?;
    let cost = Cost::of(&arch, t);
    Ok(SweepPoint {
        implementation: "hybrid-nas-tch".into(),
        arch: label.to_string(),
        d: arch.d_model,
        t,
        params: cost.params,
        forwards,
        forward_ms: round(forward_ms, 3),
        ms_per_token: round(forward_ms / t as f64, 5),
        peak_bytes,
        baseline_bytes,
        model_peak_bytes: peak_bytes.saturating_sub(baseline_bytes),
        flops_per_token: cost.flops_per_token,
        kv_cache_bytes: cost.kv_cache_bytes,
        ssm_state_bytes: cost.ssm_state_bytes,
    })
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point measures time and memory and takes its costs from the cost
    /// model; a longer context of attention holds more memory.
    #[test]
    fn a_point_is_measured_and_costed() {
        let arch = Architecture::parse_short_form("d32 S8 A4").unwrap();
        let p = forward_point(&arch, "SA", 64, 2).unwrap();
        assert_eq!((p.t, p.d, p.forwards), (64, 32, 2));
        assert!(p.forward_ms > 0.0 && p.ms_per_token > 0.0);
        assert!(p.peak_bytes >= p.baseline_bytes);
        let cost = Cost::of(
            &Architecture {
                vocab_size: BENCH_VOCAB,
                ..arch
            },
            64,
        );
        assert_eq!(p.params, cost.params);
        assert_eq!(p.kv_cache_bytes, cost.kv_cache_bytes);
        assert_eq!(p.flops_per_token, cost.flops_per_token);
    }
}
