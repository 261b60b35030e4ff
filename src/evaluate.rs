//! Evaluators turn an [`Architecture`] into metrics: the real one trains the
//! proxy model with tch; the analytic one is a closed-form score from the cost
//! model plus a fixed seeded synthetic term, so that orchestration (store,
//! strategies, resume, Pareto) can be tested and benchmarked in milliseconds.

use std::ops::ControlFlow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arch::{Architecture, Layer};
use crate::cost::Cost;
use crate::data::Corpus;
use crate::space::Objective;
use crate::store::Metrics;
use crate::train::{self, CurvePoint, Progress, TrainConfig, TrainError};

/// What one evaluation measured.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub metrics: Metrics,
    pub curve: Vec<CurvePoint>,
}

pub trait Evaluator: Sync {
    /// `on_step` is called during long work (heartbeats, Ctrl-C); `Break`
    /// abandons the evaluation with [`TrainError::Interrupted`].
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Evaluation, TrainError>;

    /// Context length the costs are computed at.
    fn seq_len(&self) -> usize;
}

/// Trains each architecture with the proxy trainer.
pub struct TrainEvaluator {
    pub corpus: Corpus,
    pub config: TrainConfig,
}

impl Evaluator for TrainEvaluator {
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Evaluation, TrainError> {
        let cfg = TrainConfig {
            seed,
            ..self.config.clone()
        };
        let trained = train::train(arch, &self.corpus, &cfg, on_step)?;
        let r = trained.report;
        Ok(Evaluation {
            metrics: Metrics {
                val_loss: r.val_loss,
                val_ppl: r.val_ppl,
                params: r.params,
                flops_per_token: r.cost.flops_per_token,
                kv_cache_bytes: r.cost.kv_cache_bytes,
                ssm_state_bytes: r.cost.ssm_state_bytes,
                latency_ms: r.latency_ms,
                train_seconds: r.train_seconds,
                tokens_per_s: r.tokens_per_s,
            },
            curve: r.curve,
        })
    }

    fn seq_len(&self) -> usize {
        self.config.seq_len
    }
}

/// A closed-form stand-in for training. Not a model of reality, but shaped
/// like one so that searches over it have a real trade-off: loss falls with
/// parameters as a power law, a little attention helps and pure SSM or pure
/// attention stacks pay, larger SSM states help, windows and weight sharing
/// cost a little quality; plus a small deterministic term per (design, seed).
pub struct AnalyticEvaluator {
    pub seq_len: usize,
    pub vocab_size: usize,
}

impl AnalyticEvaluator {
    pub fn val_loss(&self, arch: &Architecture, seed: u64) -> f64 {
        let mut arch = arch.clone();
        arch.vocab_size = self.vocab_size;
        let cost = Cost::of(&arch, self.seq_len);
        let n = arch.layers.len() as f64;
        let ratio = arch.attention_ratio();
        let mut loss = 1.2 + 2.5 * (cost.params as f64 / 1e5).powf(-0.35);
        // Attention share: best near 1/6, worse at both ends.
        loss += 0.8 * (ratio - 1.0 / 6.0).powi(2);
        if ratio == 0.0 {
            loss += 0.08;
        }
        for layer in &arch.layers {
            match *layer {
                Layer::Ssm { state_dim, .. } => {
                    loss += 0.02 / n * (64.0 / state_dim as f64).ln().max(0.0);
                }
                Layer::Attention { window, shared, .. } => {
                    if window > 0 {
                        loss += 0.03 / n;
                    }
                    if shared {
                        loss += 0.01 / n;
                    }
                }
            }
        }
        let key = u64::from_str_radix(&arch.hash(), 16).expect("hash is hex");
        let mut rng = ChaCha8Rng::seed_from_u64(key ^ seed);
        loss + rng.random_range(-0.01..0.01)
    }
}

impl Evaluator for AnalyticEvaluator {
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        _on_step: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Evaluation, TrainError> {
        let mut arch = arch.clone();
        arch.vocab_size = self.vocab_size;
        let cost = Cost::of(&arch, self.seq_len);
        let val_loss = self.val_loss(&arch, seed);
        Ok(Evaluation {
            metrics: Metrics {
                val_loss,
                val_ppl: val_loss.exp(),
                params: cost.params,
                flops_per_token: cost.flops_per_token,
                kv_cache_bytes: cost.kv_cache_bytes,
                ssm_state_bytes: cost.ssm_state_bytes,
                // A nominal 5 GFLOP/s device: a stand-in, labelled as such by
                // the evaluator name stored with the study.
                latency_ms: cost.flops_per_token * self.seq_len as f64 / 5e6,
                train_seconds: 0.0,
                tokens_per_s: 0.0,
            },
            curve: Vec::new(),
        })
    }

    fn seq_len(&self) -> usize {
        self.seq_len
    }
}

/// The value of one objective in a trial's metrics (all are minimised).
pub fn objective_value(metrics: &Metrics, objective: Objective) -> f64 {
    match objective {
        Objective::ValPpl => metrics.val_ppl,
        Objective::Flops => metrics.flops_per_token,
        Objective::Params => metrics.params as f64,
        Objective::KvCache => metrics.kv_cache_bytes as f64,
        Objective::Latency => metrics.latency_ms,
    }
}
