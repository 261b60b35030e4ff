//! Decode speed: the per-token latency of [`HybridLm::step`] at batch 1
//! once the caches hold a given context, and the bytes they hold then. This
//! is where a hybrid pays off: an SSM layer's step and state do not grow
//! with the context, a global attention layer's do.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tch::{nn, Tensor};

use super::BENCH_VOCAB;
use crate::arch::Architecture;
use crate::model::{HybridLm, StateBytes};

/// One design at one context length.
#[derive(Debug, Serialize)]
pub struct DecodeResult {
    #[serde(rename = "impl")]
    pub implementation: &'static str,
    pub arch: String,
    pub d: usize,
    /// Tokens the caches held before each timed step (plus the timed steps
    /// before it: `context + i` for the i-th).
    pub context: usize,
    /// Timed steps, each one token.
    pub steps: usize,
    /// Median wall time of one step.
    pub token_ms: f64,
    pub tokens_per_s: f64,
    /// Bytes held at `context` tokens (f32, batch 1), by kind, and their total.
    #[serde(flatten)]
    pub bytes: StateBytes,
    pub state_bytes: u64,
}

/// Steps one sequence of random tokens through a model of `arch` (random
/// weights), and at each length of `contexts` (in increasing order; each
/// reached by stepping, untimed) times `steps` more steps. The filling
/// steps warm up the allocator and caches, so no other warm-up is taken.
pub fn decode_speed(
    arch: &Architecture,
    label: &str,
    contexts: &[usize],
    steps: usize,
) -> Vec<DecodeResult> {
    let mut arch = arch.clone();
    arch.vocab_size = BENCH_VOCAB;
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = HybridLm::new(&vs.root(), &arch, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut token = || Tensor::from_slice(&[rng.random_range(0..BENCH_VOCAB as i64)]);
    let mut state = model.decode_state(1);
    let mut sorted = contexts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let steps = steps.max(1);
    let mut results = Vec::with_capacity(sorted.len());
    for context in sorted {
        while state.position() < context {
            let _ = model.step(&token(), &mut state);
        }
        let bytes = state.bytes();
        let mut times: Vec<f64> = (0..steps)
            .map(|_| {
                let next = token();
                let t0 = Instant::now();
                let _ = model.step(&next, &mut state);
                t0.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        results.push(DecodeResult {
            implementation: "hybrid-nas-tch",
            arch: label.to_string(),
            d: arch.d_model,
            context,
            steps,
            token_ms: (median * 1e5).round() / 100.0,
            tokens_per_s: (1.0 / median * 10.0).round() / 10.0,
            state_bytes: bytes.total(),
            bytes,
        });
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Cost;

    /// The bytes reported at each context are the cost model's (f32 here,
    /// bf16 there); the windowed and SSM parts stop growing.
    #[test]
    fn bytes_at_each_context_are_the_cost_models() {
        let arch = Architecture::parse_short_form("d32 S8 A4 A4w8").unwrap();
        let results = decode_speed(&arch, "mixed", &[20, 5, 12], 3);
        let contexts: Vec<usize> = results.iter().map(|r| r.context).collect();
        assert_eq!(contexts, [5, 12, 20]);
        let arch = Architecture {
            vocab_size: BENCH_VOCAB,
            ..arch
        };
        for r in &results {
            let cost = Cost::of(&arch, r.context);
            assert_eq!(
                r.bytes.kv_cache,
                2 * cost.kv_cache_bytes,
                "T = {}",
                r.context
            );
            assert_eq!(
                r.bytes.conv_window + r.bytes.ssm_state,
                2 * cost.ssm_state_bytes
            );
            assert_eq!(r.state_bytes, r.bytes.total());
            assert!(r.token_ms > 0.0 && r.tokens_per_s > 0.0);
            assert_eq!(r.steps, 3);
        }
    }
}
