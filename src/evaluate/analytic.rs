//! The analytic stand-in for training: closed-form values in microseconds,
//! so that orchestration can be tested and benchmarked. Never a measurement:
//! every command that shows its values says so.

use std::ops::ControlFlow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{curve_values, Evaluation, Evaluator};
use crate::arch::{Architecture, Layer};
use crate::cost::Cost;
use crate::metrics::{self, Metrics, Values};
use crate::space::RecallSettings;
use crate::tasks::TaskKind;
use crate::train::{CurvePoint, Progress, Stop, TrainError};

/// A closed-form stand-in for training. Not a model of reality, but shaped
/// like one so that searches over it face a real trade-off and real structure:
/// loss falls with parameters as a power law; a little attention helps and
/// pure SSM or pure attention stacks pay; and each layer has a best setting
/// that depends on its depth in the stack (SSM state growing with depth,
/// expand 1 low and 2 high, attention near 60% of the depth with head width
/// 16, windows only in the lower half). Finding all of those at once is what a
/// search must do; a small deterministic term per (design, seed) breaks ties.
pub struct AnalyticEvaluator {
    pub seq_len: usize,
    pub vocab_size: usize,
    /// When `recall` is an objective: a stand-in recall per task and
    /// difficulty ([`AnalyticEvaluator::recall`]).
    pub recall: Option<RecallSettings>,
    /// The training budget the stand-in curve runs over.
    pub steps: usize,
    /// A pruner's rungs: a stand-in loss is handed to `on_step` at each
    /// ([`AnalyticEvaluator::loss_at`]), so that pruning can be tested and
    /// benchmarked without training.
    pub rungs: Vec<usize>,
}

impl AnalyticEvaluator {
    pub fn val_loss(&self, arch: &Architecture, seed: u64) -> f64 {
        let mut arch = arch.clone();
        arch.vocab_size = self.vocab_size;
        let cost = Cost::of(&arch, self.seq_len);
        let n = arch.layers.len() as f64;
        let ratio = arch.attention_ratio();
        let mut loss = 1.2 + 2.5 * (cost.params as f64 / 1e5).powf(-0.35);
        loss += 0.8 * (ratio - 1.0 / 6.0).powi(2);
        if ratio == 0.0 {
            loss += 0.08;
        }
        for (i, layer) in arch.layers.iter().enumerate() {
            // Relative depth of the layer, 0 (first) to 1 (last).
            let p = if n > 1.0 { i as f64 / (n - 1.0) } else { 0.5 };
            let term = match *layer {
                Layer::Ssm { state_dim, expand } => ssm_term(p, state_dim, expand),
                Layer::Attention {
                    heads,
                    window,
                    shared,
                } => {
                    attention_term(arch.d_model, p, heads, window) + if shared { 0.01 } else { 0.0 }
                }
                // Each branch's preference, half as strongly as alone.
                Layer::Parallel {
                    heads,
                    window,
                    state_dim,
                    expand,
                } => {
                    (attention_term(arch.d_model, p, heads, window)
                        + ssm_term(p, state_dim, expand))
                        / 2.0
                }
            };
            loss += term / n;
        }
        let key = u64::from_str_radix(&arch.hash(), 16).expect("hash is hex");
        let mut rng = ChaCha8Rng::seed_from_u64(key ^ seed);
        loss + rng.random_range(-0.01..0.01)
    }
}

impl AnalyticEvaluator {
    /// A stand-in learning curve: the final loss plus a gap that closes as
    /// `ln(steps / step)`, at a pace of the design's own (0.05 to 0.35 nats
    /// per e-fold). Designs learn at different speeds, so a rung's ranking
    /// is close to the final one but not the same, as with real training.
    pub fn loss_at(&self, arch: &Architecture, seed: u64, step: usize) -> f64 {
        let key = u64::from_str_radix(&arch.hash(), 16).expect("hash is hex");
        let mut rng = ChaCha8Rng::seed_from_u64(key ^ seed ^ 0xc0_4e5);
        let pace = rng.random_range(0.05..0.35);
        let left = (self.steps.max(1) as f64 / step.max(1) as f64)
            .ln()
            .max(0.0);
        self.val_loss(arch, seed) + pace * left
    }

    /// Hands the stand-in loss at each rung to `on_step`; the curve of the
    /// rungs passed, or why the caller stopped.
    fn walk_rungs(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<Stop>,
    ) -> Result<Vec<CurvePoint>, TrainError> {
        let mut curve = Vec::new();
        for &step in self.rungs.iter().filter(|&&s| s < self.steps) {
            let loss = self.loss_at(arch, seed, step);
            curve.push(CurvePoint {
                step,
                train_loss: loss,
                val_loss: loss,
                elapsed_s: 0.0,
                accuracy: None,
            });
            let flow = on_step(Progress {
                step,
                steps: self.steps,
                loss,
                tokens_per_s: 0.0,
                val_loss: Some(loss),
            });
            match flow {
                ControlFlow::Continue(()) => {}
                ControlFlow::Break(Stop::Interrupted) => {
                    return Err(TrainError::Interrupted { step })
                }
                ControlFlow::Break(Stop::Pruned) => return Err(TrainError::Pruned { step, curve }),
            }
        }
        Ok(curve)
    }
}

/// The stand-in's preference for an SSM at relative depth `p`: states
/// growing with depth, expand 1 low and 2 high.
fn ssm_term(p: f64, state_dim: usize, expand: usize) -> f64 {
    let target = 8.0 * 4f64.powf(p);
    let state = 0.25 * (state_dim as f64 / target).log2().abs() / 2.0;
    let wanted_expand = if p < 0.5 { 1 } else { 2 };
    state + if expand == wanted_expand { 0.0 } else { 0.1 }
}

/// The stand-in's preference for attention at relative depth `p`: head width
/// 16, above the middle, windows low and global high.
fn attention_term(d_model: usize, p: f64, heads: usize, window: usize) -> f64 {
    let head_dim = d_model as f64 / heads as f64;
    let width = 0.15 * (head_dim / 16.0).log2().abs() / 2.0;
    let place = 0.3 * (p - 0.6).abs();
    let win = match (window > 0, p < 0.5) {
        (true, false) => 0.15,
        (false, true) => 0.1,
        _ => 0.0,
    };
    width + place + win
}

impl AnalyticEvaluator {
    /// A stand-in recall accuracy at `difficulty` (pairs), shaped like the
    /// measured one: an attention layer with a mixing layer before it (an SSM,
    /// or attention with rotary positions) recalls almost everything, less
    /// through a window; otherwise the SSM state holds some pairs, fewer as
    /// the difficulty grows; position-free attention alone holds none.
    pub fn recall(arch: &Architecture, difficulty: usize, seed: u64) -> f64 {
        let mut mixed_before = false;
        let mut best: f64 = 0.0;
        let mut state = 0usize;
        for layer in &arch.layers {
            // A parallel layer's attention reads the layer's input, before its
            // own SSM branch has mixed anything.
            if let Some((_, window)) = layer.attention_part() {
                if mixed_before {
                    best = best.max(if window > 0 { 0.8 } else { 0.97 });
                }
                mixed_before |= arch.rope;
            }
            if let Some((state_dim, expand)) = layer.ssm_part() {
                mixed_before = true;
                state += state_dim * expand * arch.d_model;
            }
        }
        let held = (state as f64 / (difficulty as f64 * 2048.0)).min(0.6);
        let key = u64::from_str_radix(&arch.hash(), 16).expect("hash is hex");
        let mut rng = ChaCha8Rng::seed_from_u64(key ^ seed ^ difficulty as u64);
        (best.max(held) + rng.random_range(-0.02..0.02)).clamp(0.0, 1.0)
    }
}

impl Evaluator for AnalyticEvaluator {
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<Stop>,
    ) -> Result<Evaluation, TrainError> {
        let mut arch = arch.clone();
        arch.vocab_size = self.vocab_size;
        let mut curve = self.walk_rungs(&arch, seed, on_step)?;
        let cost = Cost::of(&arch, self.seq_len);
        let val_loss = self.val_loss(&arch, seed);
        if !curve.is_empty() {
            curve.push(CurvePoint {
                step: self.steps,
                train_loss: val_loss,
                val_loss,
                elapsed_s: 0.0,
                accuracy: None,
            });
        }
        let metrics = Metrics {
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
        };
        let mut values = metrics.to_values();
        if let Some(settings) = &self.recall {
            let mut all = Vec::new();
            for &task in &settings.tasks {
                let difficulties = match task {
                    TaskKind::SelectiveCopy => &settings.copies,
                    _ => &settings.pairs,
                };
                for &d in difficulties {
                    let r = Self::recall(&arch, d, seed);
                    values.insert(metrics::recall_acc_of(task.as_str(), &d.to_string()), r);
                    all.push(r);
                }
            }
            values.insert(
                metrics::RECALL_ACC,
                all.iter().sum::<f64>() / all.len().max(1) as f64,
            );
        }
        Ok(Evaluation {
            values,
            curve: curve_values(&curve),
        })
    }

    fn seq_len(&self) -> usize {
        self.seq_len
    }

    fn costs(&self, arch: &Architecture) -> Values {
        let mut arch = arch.clone();
        arch.vocab_size = self.vocab_size;
        metrics::cost_values(&Cost::of(&arch, self.seq_len))
    }
}
