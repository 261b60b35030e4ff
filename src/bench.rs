//! Training-step speed, measured the way the peer's `speed` mode measures it:
//! random tokens over a 65-symbol vocabulary, AdamW at lr 1e-3, a full
//! forward + cross-entropy + backward + step, warm-up steps excluded.
//! [`decode`] measures decoding instead: one token at a time; [`sweep`] a
//! full forward pass by context length, with its peak memory.

pub mod decode;
pub mod sweep;

use std::time::Instant;

use serde::Serialize;
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

use crate::arch::Architecture;
use crate::device::ComputeDevice;
use crate::model::HybridLm;

/// The peer's vocabulary size (tinyshakespeare's 65 characters).
pub const BENCH_VOCAB: usize = 65;

/// Keys as in the peer's JSON line, so the two print side by side.
#[derive(Debug, Serialize)]
pub struct SpeedResult {
    #[serde(rename = "impl")]
    pub implementation: &'static str,
    pub arch: String,
    pub d: usize,
    #[serde(rename = "T")]
    pub t: usize,
    #[serde(rename = "B")]
    pub b: usize,
    pub params: u64,
    pub step_ms: f64,
    pub tokens_per_s: f64,
}

/// Training steps of `arch` at batch `b`, length `t` on `device`: `warmup`
/// untimed, then `steps` timed (the device synchronised before the clock
/// stops, since CUDA kernels run asynchronously).
pub fn speed(
    arch: &Architecture,
    label: &str,
    (b, t): (usize, usize),
    (steps, warmup): (usize, usize),
    device: ComputeDevice,
) -> Result<SpeedResult, tch::TchError> {
    let mut arch = arch.clone();
    arch.vocab_size = BENCH_VOCAB;
    let vs = nn::VarStore::new(device.tch());
    let model = HybridLm::new(&vs.root(), &arch, 0);
    let mut opt = nn::AdamW::default().build(&vs, 1e-3)?;
    tch::manual_seed(0);
    // (B, T+1) random tokens; inputs are the first T, targets the last T.
    let idx = Tensor::randint(
        BENCH_VOCAB as i64,
        [b as i64, t as i64 + 1],
        (Kind::Int64, device.tch()),
    );
    let x = idx.narrow(1, 0, t as i64);
    let y = idx.narrow(1, 1, t as i64).reshape([-1]);
    let mut step = || {
        let logits = model.forward(&x).view([-1, BENCH_VOCAB as i64]);
        let loss = logits.cross_entropy_for_logits(&y);
        opt.backward_step(&loss);
    };
    for _ in 0..warmup {
        step();
    }
    device.synchronize();
    let t0 = Instant::now();
    for _ in 0..steps.max(1) {
        step();
    }
    device.synchronize();
    let dt = t0.elapsed().as_secs_f64() / steps.max(1) as f64;
    let params = vs
        .trainable_variables()
        .iter()
        .map(|v| v.numel() as u64)
        .sum();
    Ok(SpeedResult {
        implementation: "hybrid-nas-tch",
        arch: label.to_string(),
        d: arch.d_model,
        t,
        b,
        params,
        step_ms: (dt * 1e5).round() / 100.0,
        tokens_per_s: ((b * t) as f64 / dt * 10.0).round() / 10.0,
    })
}
