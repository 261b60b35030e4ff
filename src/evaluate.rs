//! Evaluators turn an [`Architecture`] into metrics: the real one trains the
//! proxy model with tch; the analytic one is a closed-form score from the cost
//! model plus a fixed seeded synthetic term, so that orchestration (store,
//! strategies, resume, Pareto) can be tested and benchmarked in milliseconds.

use std::ops::ControlFlow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arch::{Architecture, Layer};
use crate::cost::Cost;
use crate::data::{Corpus, DataError};
use crate::metrics::{self, CurveStep, Metrics, Values};
use crate::names::named;
use crate::space::SearchSpace;
use crate::train::{self, CurvePoint, Progress, TrainConfig, TrainError};

/// What one evaluation measured, as named values.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub values: Values,
    pub curve: Vec<CurveStep>,
}

/// Which evaluator scores a study's trials; stored with the study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvaluatorKind {
    /// Proxy training: every value is measured.
    Train,
    /// The closed-form stand-in: its perplexities are not measurements.
    Analytic,
}

named!(EvaluatorKind, "evaluator");

impl EvaluatorKind {
    pub const ALL: [EvaluatorKind; 2] = [EvaluatorKind::Train, EvaluatorKind::Analytic];

    /// The name stored with a study and given to `--evaluator`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EvaluatorKind::Train => "train",
            EvaluatorKind::Analytic => "analytic",
        }
    }

    /// Whether its values are stand-ins that must be labelled as such.
    pub fn is_stand_in(&self) -> bool {
        matches!(self, EvaluatorKind::Analytic)
    }

    /// The warning printed beside every value of a stand-in study.
    pub fn stand_in_note(&self) -> Option<&'static str> {
        self.is_stand_in().then_some(
            "values from the analytic evaluator: closed-form stand-ins, not measurements",
        )
    }
}

/// Vocabulary the analytic evaluator assumes (tinyshakespeare's 65 symbols).
const ANALYTIC_VOCAB: usize = 65;

/// The evaluator `kind`, set up from the space's task and training settings.
/// The corpus is read and checked here, so a bad one stops a command before
/// any store is touched.
pub fn build(kind: EvaluatorKind, space: &SearchSpace) -> Result<Box<dyn Evaluator>, DataError> {
    Ok(match kind {
        EvaluatorKind::Train => {
            let corpus = Corpus::load(space.task.corpus.as_deref())?;
            corpus.check_seq_len(space.task.seq_len)?;
            Box::new(TrainEvaluator {
                corpus,
                config: space.training.clone(),
            })
        }
        EvaluatorKind::Analytic => Box::new(AnalyticEvaluator {
            seq_len: space.task.seq_len,
            vocab_size: ANALYTIC_VOCAB,
        }),
    })
}

/// A trainer's learning curve as named values per step.
pub fn curve_values(curve: &[CurvePoint]) -> Vec<CurveStep> {
    curve
        .iter()
        .map(|p| CurveStep {
            step: p.step,
            values: Values::from_iter([
                (metrics::TRAIN_LOSS, p.train_loss),
                (metrics::VAL_LOSS, p.val_loss),
                (metrics::ELAPSED, p.elapsed_s),
            ]),
        })
        .collect()
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
        let metrics = Metrics {
            val_loss: r.val_loss,
            val_ppl: r.val_ppl,
            params: r.params,
            flops_per_token: r.cost.flops_per_token,
            kv_cache_bytes: r.cost.kv_cache_bytes,
            ssm_state_bytes: r.cost.ssm_state_bytes,
            latency_ms: r.latency_ms,
            train_seconds: r.train_seconds,
            tokens_per_s: r.tokens_per_s,
        };
        Ok(Evaluation {
            values: metrics.to_values(),
            curve: curve_values(&r.curve),
        })
    }

    fn seq_len(&self) -> usize {
        self.config.seq_len
    }
}

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
                Layer::Ssm { state_dim, expand } => {
                    let target = 8.0 * 4f64.powf(p);
                    let state = 0.25 * (state_dim as f64 / target).log2().abs() / 2.0;
                    let wanted_expand = if p < 0.5 { 1 } else { 2 };
                    state + if expand == wanted_expand { 0.0 } else { 0.1 }
                }
                Layer::Attention {
                    heads,
                    window,
                    shared,
                } => {
                    let head_dim = arch.d_model as f64 / heads as f64;
                    let width = 0.15 * (head_dim / 16.0).log2().abs() / 2.0;
                    let place = 0.3 * (p - 0.6).abs();
                    let win = match (window > 0, p < 0.5) {
                        (true, false) => 0.15,
                        (false, true) => 0.1,
                        _ => 0.0,
                    };
                    width + place + win + if shared { 0.01 } else { 0.0 }
                }
            };
            loss += term / n;
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
        Ok(Evaluation {
            values: metrics.to_values(),
            curve: Vec::new(),
        })
    }

    fn seq_len(&self) -> usize {
        self.seq_len
    }
}
