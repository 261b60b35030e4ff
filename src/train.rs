//! The proxy trainer: AdamW (decay on matrices only), linear warm-up then
//! cosine decay, global-norm clipping at 1.0, fixed validation batches, and the
//! learning curve. Mirrors the peer's `train` mode so the numbers compare.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

use crate::arch::Architecture;
use crate::cost::Cost;
use crate::data::{Corpus, DataError};
use crate::device::ComputeDevice;
use crate::limits;
use crate::memory::{self, MemoryLimit, TooLarge};
use crate::model::init::{DECAYED, NOT_DECAYED};
use crate::model::HybridLm;
use crate::tasks::{Batch, EvalSet, TaskData, TextTask, IGNORE};

/// Batches are drawn from this stream, apart from the init stream of the seed.
const BATCH_STREAM: u64 = 0x5eed_ba7c;

/// Training settings of one proxy run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub steps: usize,
    pub batch_size: usize,
    pub seq_len: usize,
    pub lr: f64,
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// Evaluate on the validation batches every this many steps (and at the end).
    #[serde(default = "default_eval_interval")]
    pub eval_interval: usize,
    #[serde(default = "default_eval_batches")]
    pub eval_batches: usize,
    #[serde(default)]
    pub seed: u64,
    /// Steps at which the held-out sets are scored besides the interval: a
    /// pruner's rungs, where the caller decides whether training goes on.
    /// A property of the study running the trial, not of the design's
    /// settings: never written to or read from a file.
    #[serde(skip)]
    pub rungs: Vec<usize>,
    /// Where the model and its batches live (`--device`). Like the rungs,
    /// a property of the run, never of a design file.
    #[serde(skip)]
    pub device: ComputeDevice,
}

fn default_weight_decay() -> f64 {
    0.1
}
fn default_eval_interval() -> usize {
    100
}
fn default_eval_batches() -> usize {
    20
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 300,
            batch_size: 32,
            seq_len: 128,
            lr: 3e-3,
            weight_decay: default_weight_decay(),
            eval_interval: default_eval_interval(),
            eval_batches: default_eval_batches(),
            seed: 0,
            rungs: Vec::new(),
            device: ComputeDevice::Cpu,
        }
    }
}

impl TrainConfig {
    /// `nas train --task`'s defaults: the text proxy's for text; for the
    /// in-context tasks, settings that train a 2-layer d64 model in about a
    /// minute on 2 cores and separate attention from small recurrent states
    /// (see the README's recall section); for the digits, a few passes over
    /// the 1,438 training images.
    pub fn for_task(task: crate::tasks::TaskKind) -> TrainConfig {
        use crate::tasks::TaskKind;
        match task {
            TaskKind::Text => TrainConfig::default(),
            TaskKind::Mqar | TaskKind::NoisyRecall | TaskKind::SelectiveCopy => TrainConfig {
                // Selective copying is learned by every design within 1000
                // steps (README); 2000 would double its time for nothing.
                steps: if task == TaskKind::SelectiveCopy {
                    1000
                } else {
                    2000
                },
                batch_size: 64,
                seq_len: 0,
                lr: 3e-3,
                eval_interval: 250,
                eval_batches: 8,
                ..TrainConfig::default()
            },
            TaskKind::Digits => TrainConfig {
                steps: 600,
                batch_size: 32,
                seq_len: 0,
                lr: 3e-3,
                eval_interval: 200,
                ..TrainConfig::default()
            },
        }
    }

    /// The settings a trial trains with: these, with the trial's seed.
    pub fn for_seed(&self, seed: u64) -> TrainConfig {
        TrainConfig {
            seed,
            ..self.clone()
        }
    }

    /// The `[training]` table of a design file (what `nas export` writes
    /// beside `[architecture]`), `None` when the file has none. JSON files
    /// carry it as a `training` member.
    pub fn from_design_file(path: &std::path::Path) -> Result<Option<TrainConfig>, TrainError> {
        let bad = |message: String| {
            TrainError::Config(format!("{}: [training]: {message}", path.display()))
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| TrainError::Config(format!("cannot read {}: {e}", path.display())))?;
        if path.extension().is_some_and(|e| e == "json") {
            let doc: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            return doc
                .get("training")
                .map(|t| serde_json::from_value(t.clone()).map_err(|e| bad(e.to_string())))
                .transpose();
        }
        let doc: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        doc.get("training")
            .map(|t| {
                t.clone()
                    .try_into()
                    .map_err(|e: toml::de::Error| bad(e.message().to_string()))
            })
            .transpose()
    }

    /// Learning rate at `step`: linear warm-up over the first 5% of steps, then
    /// cosine decay to zero (the peer's schedule).
    pub fn lr_at(&self, step: usize) -> f64 {
        let warm = (self.steps / 20).max(1);
        if step < warm {
            return self.lr * (step + 1) as f64 / warm as f64;
        }
        let progress = (step - warm) as f64 / (self.steps - warm).max(1) as f64;
        self.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("loss became {loss} at step {step}: training diverged (try a lower learning rate)")]
    NonFinite { step: usize, loss: f64 },
    #[error("interrupted at step {step}")]
    Interrupted { step: usize },
    /// The caller's pruner stopped the training at a rung; `curve` holds the
    /// points up to it, the rung's last.
    #[error("pruned at step {step}")]
    Pruned { step: usize, curve: Vec<CurvePoint> },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("invalid training settings: {0}")]
    Config(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// The estimate of the training's peak memory is above what is available.
    #[error(transparent)]
    Memory(#[from] TooLarge),
}

/// One point of the learning curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    /// Mean training loss since the previous point.
    pub train_loss: f64,
    pub val_loss: f64,
    pub elapsed_s: f64,
    /// Held-out accuracy at the answer positions (tasks scored by accuracy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
}

/// The held-out score of one difficulty of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetScore {
    /// The difficulty (`16` pairs), empty for a task with one.
    pub name: String,
    /// Mean cross-entropy at the target positions, in nats.
    pub loss: f64,
    /// Exact-match share of the answer positions (tasks scored by accuracy).
    pub accuracy: Option<f64>,
}

/// What a proxy run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainReport {
    /// Mean over the held-out sets of their loss.
    pub val_loss: f64,
    /// `exp(val_loss)`: perplexity per character (per answer, for a task).
    pub val_ppl: f64,
    /// Mean over the held-out sets of their accuracy (tasks scored by accuracy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_acc: Option<f64>,
    /// Each held-out set (difficulty) on its own.
    pub scores: Vec<SetScore>,
    pub curve: Vec<CurvePoint>,
    pub train_seconds: f64,
    pub tokens_per_s: f64,
    /// Median milliseconds of one forward pass at batch 1, length `seq_len`.
    pub latency_ms: f64,
    /// Trainable parameters of the built model (shared weights once).
    pub params: u64,
    pub cost: Cost,
}

/// Progress of a run, handed to the caller after every step.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub tokens_per_s: f64,
    /// The held-out loss, on the steps where it was just measured (the
    /// evaluation interval, [`TrainConfig::rungs`], the last step).
    pub val_loss: Option<f64>,
}

/// Why a caller stops a training between steps (`ControlFlow::Break`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C, or a search that ends: [`TrainError::Interrupted`].
    Interrupted,
    /// A pruner's decision at a rung: [`TrainError::Pruned`].
    Pruned,
}

/// A trained model and what was measured.
pub struct Trained {
    pub report: TrainReport,
    pub vs: nn::VarStore,
    pub model: HybridLm,
}

/// Mean cross-entropy of `(B, T, V)` logits against `(B, T)` targets, over
/// the positions whose target is not [`IGNORE`] when `masked`.
fn loss_of(logits: &Tensor, y: &Tensor, masked: bool) -> Tensor {
    let v = logits.size()[2];
    let (logits, y) = (logits.reshape([-1, v]), y.reshape([-1]));
    if masked {
        logits.cross_entropy_loss::<Tensor>(&y, None, tch::Reduction::Mean, IGNORE, 0.0)
    } else {
        // Text has a target everywhere; this is the kernel the text numbers
        // have always come from.
        logits.cross_entropy_for_logits(&y)
    }
}

/// (correct, answered) positions of `(B, T, V)` logits against `(B, T)`
/// targets: exact match of the most probable token, where a target is set.
fn hits(logits: &Tensor, y: &Tensor) -> (i64, i64) {
    let answered = y.ne(IGNORE);
    let correct = logits.argmax(-1, false).eq_tensor(y).logical_and(&answered);
    (
        correct.sum(Kind::Int64).int64_value(&[]),
        answered.sum(Kind::Int64).int64_value(&[]),
    )
}

/// Scores `model` on every held-out set, without gradients. Text: the mean
/// of the batches' mean losses (as always); a task: the loss summed over all
/// answers of the set divided by their number, so that a short last batch
/// weighs what its answers weigh.
fn score(model: &HybridLm, sets: &[EvalSet], accuracy: bool) -> Vec<SetScore> {
    let _guard = tch::no_grad_guard();
    sets.iter()
        .map(|set| {
            let (mut loss, mut correct, mut answered) = (0.0, 0, 0);
            for b in &set.batches {
                let logits = model.forward(&b.x);
                if accuracy {
                    let v = logits.size()[2];
                    loss += logits
                        .reshape([-1, v])
                        .cross_entropy_loss::<Tensor>(
                            &b.y.reshape([-1]),
                            None,
                            tch::Reduction::Sum,
                            IGNORE,
                            0.0,
                        )
                        .double_value(&[]);
                    let (c, a) = hits(&logits, &b.y);
                    correct += c;
                    answered += a;
                } else {
                    loss += loss_of(&logits, &b.y, false).double_value(&[]);
                }
            }
            let (loss, accuracy) = if accuracy {
                let n = answered.max(1) as f64;
                (loss / n, Some(correct as f64 / n))
            } else {
                (loss / set.batches.len().max(1) as f64, None)
            };
            SetScore {
                name: set.name.clone(),
                loss,
                accuracy,
            }
        })
        .collect()
}

/// A task whose batch holds no answer would train on NaN: refused at once.
fn check_answers(b: &Batch) -> Result<(), TrainError> {
    if b.y.ne(IGNORE).sum(Kind::Int64).int64_value(&[]) == 0 {
        return Err(TrainError::Config(
            "a batch of the task has no answer position to score".into(),
        ));
    }
    Ok(())
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n.max(1) as f64
}

/// Trains `arch` on the text of `corpus` (its vocabulary set from the corpus)
/// and measures it. `on_step` sees every step, after its evaluation when
/// there is one; `ControlFlow::Break` stops the run with
/// [`TrainError::Interrupted`] (Ctrl-C) or [`TrainError::Pruned`]. A training whose estimated peak memory is above the machine's
/// available memory fails with [`TrainError::Memory`] before it starts.
pub fn train(
    arch: &Architecture,
    corpus: &Corpus,
    cfg: &TrainConfig,
    on_step: impl FnMut(Progress) -> ControlFlow<Stop>,
) -> Result<Trained, TrainError> {
    train_within(arch, corpus, cfg, MemoryLimit::System, on_step)
}

/// [`train`], checked against the memory `memory` makes available.
pub fn train_within(
    arch: &Architecture,
    corpus: &Corpus,
    cfg: &TrainConfig,
    memory: MemoryLimit,
    on_step: impl FnMut(Progress) -> ControlFlow<Stop>,
) -> Result<Trained, TrainError> {
    check(cfg)?;
    if cfg.seq_len == 0 {
        return Err(TrainError::Config(
            "the sequence length must be positive".into(),
        ));
    }
    corpus.check_seq_len(cfg.seq_len)?;
    let task = TextTask::new(corpus, cfg.seq_len);
    train_on_within(arch, &task, cfg, memory, on_step)
}

fn check(cfg: &TrainConfig) -> Result<(), TrainError> {
    if cfg.steps == 0 || cfg.batch_size == 0 || cfg.eval_batches == 0 {
        return Err(TrainError::Config(
            "steps, batch size and eval batches must be positive".into(),
        ));
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        return Err(TrainError::Config(format!(
            "learning rate must be positive, got {}",
            cfg.lr
        )));
    }
    limits::check_training(cfg.steps, cfg.batch_size, cfg.seq_len, cfg.eval_batches)
        .map_err(TrainError::Config)
}

/// Trains `arch` on `task` (its vocabulary and sequence length are the
/// task's; `cfg.seq_len` is not used) and measures it on the task's held-out
/// sets. Checked against the machine's available memory, as [`train`].
pub fn train_on(
    arch: &Architecture,
    task: &dyn TaskData,
    cfg: &TrainConfig,
    on_step: impl FnMut(Progress) -> ControlFlow<Stop>,
) -> Result<Trained, TrainError> {
    train_on_within(arch, task, cfg, MemoryLimit::System, on_step)
}

/// [`train_on`], checked against the memory `memory` makes available.
pub fn train_on_within(
    arch: &Architecture,
    task: &dyn TaskData,
    cfg: &TrainConfig,
    memory: MemoryLimit,
    mut on_step: impl FnMut(Progress) -> ControlFlow<Stop>,
) -> Result<Trained, TrainError> {
    check(cfg)?;
    let seq_len = task.seq_len();
    let accuracy = task.scores_accuracy();
    let mut arch = arch.clone();
    arch.vocab_size = task.vocab_size();
    // Before the model is built: an allocation too large for the machine
    // aborts the process, which no panic guard catches.
    memory::check(&arch, cfg.batch_size, seq_len, memory)?;

    let device = cfg.device.tch();
    let vs = nn::VarStore::new(device);
    let model = HybridLm::new(&vs.root(), &arch, cfg.seed);
    let mut opt = nn::AdamW {
        wd: cfg.weight_decay,
        ..Default::default()
    }
    .build(&vs, cfg.lr)?;
    opt.set_weight_decay_group(NOT_DECAYED, 0.0);
    opt.set_weight_decay_group(DECAYED, cfg.weight_decay);

    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ BATCH_STREAM);
    // Held-out sets are drawn on the CPU (the same tokens on every device)
    // and moved once.
    let eval_sets: Vec<EvalSet> = task
        .eval_sets(cfg.batch_size, cfg.eval_batches)
        .into_iter()
        .map(|set| EvalSet {
            name: set.name,
            batches: set.batches.into_iter().map(|b| b.to(device)).collect(),
        })
        .collect();
    if accuracy {
        for b in eval_sets.iter().flat_map(|s| &s.batches) {
            check_answers(b)?;
        }
    }
    let tokens_per_step = (cfg.batch_size * seq_len) as f64;
    let mut curve = Vec::new();
    let mut window = (0.0, 0usize);
    let mut train_time = 0.0;
    let started = Instant::now();
    for step in 0..cfg.steps {
        let t0 = Instant::now();
        opt.set_lr(cfg.lr_at(step));
        let b = task.train_batch(&mut rng, cfg.batch_size).to(device);
        if accuracy && step == 0 {
            check_answers(&b)?;
        }
        let loss = loss_of(&model.forward(&b.x), &b.y, accuracy);
        opt.backward_step_clip_norm(&loss, 1.0);
        let loss = loss.double_value(&[]);
        train_time += t0.elapsed().as_secs_f64();
        if !loss.is_finite() {
            return Err(TrainError::NonFinite { step, loss });
        }
        window = (window.0 + loss, window.1 + 1);
        let last = step + 1 == cfg.steps;
        let evaluates = last
            || (cfg.eval_interval > 0 && (step + 1) % cfg.eval_interval == 0)
            || cfg.rungs.contains(&(step + 1));
        let mut val_loss = None;
        let mut scores = Vec::new();
        if evaluates {
            scores = score(&model, &eval_sets, accuracy);
            let loss = mean(scores.iter().map(|s| s.loss));
            if !loss.is_finite() {
                return Err(TrainError::NonFinite { step, loss });
            }
            curve.push(CurvePoint {
                step: step + 1,
                train_loss: window.0 / window.1 as f64,
                val_loss: loss,
                elapsed_s: started.elapsed().as_secs_f64(),
                accuracy: accuracy.then(|| mean(scores.iter().filter_map(|s| s.accuracy))),
            });
            window = (0.0, 0);
            val_loss = Some(loss);
        }
        let flow = on_step(Progress {
            step: step + 1,
            steps: cfg.steps,
            loss,
            tokens_per_s: tokens_per_step * (step + 1) as f64 / train_time,
            val_loss,
        });
        match flow {
            ControlFlow::Break(Stop::Interrupted) => {
                return Err(TrainError::Interrupted { step: step + 1 })
            }
            ControlFlow::Break(Stop::Pruned) => {
                return Err(TrainError::Pruned {
                    step: step + 1,
                    curve,
                })
            }
            ControlFlow::Continue(()) => {}
        }
        if last {
            let val_loss = val_loss.expect("the last step evaluates");
            let report = TrainReport {
                val_loss,
                val_ppl: val_loss.exp(),
                recall_acc: curve.last().and_then(|p| p.accuracy),
                scores,
                curve,
                train_seconds: train_time,
                tokens_per_s: tokens_per_step * cfg.steps as f64 / train_time,
                latency_ms: measure_latency(&model, seq_len, cfg.device),
                params: vs
                    .trainable_variables()
                    .iter()
                    .map(|t| t.numel() as u64)
                    .sum(),
                cost: Cost::of(&arch, seq_len),
            };
            return Ok(Trained { report, vs, model });
        }
    }
    unreachable!("the last step returns")
}

/// Median wall time of a forward pass at batch 1, length `seq_len`, no
/// grad, on `device` (where the model is).
pub fn measure_latency(model: &HybridLm, seq_len: usize, device: ComputeDevice) -> f64 {
    let _guard = tch::no_grad_guard();
    let x = Tensor::zeros([1, seq_len as i64], (Kind::Int64, device.tch()));
    for _ in 0..2 {
        let _ = model.forward(&x);
    }
    device.synchronize();
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let t0 = Instant::now();
            let _ = model.forward(&x);
            device.synchronize();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let cfg = TrainConfig {
            steps: 100,
            lr: 1.0,
            ..Default::default()
        };
        assert!((cfg.lr_at(0) - 0.2).abs() < 1e-12);
        assert!((cfg.lr_at(4) - 1.0).abs() < 1e-12);
        assert!(cfg.lr_at(50) < cfg.lr_at(10));
        assert!(cfg.lr_at(99) < 0.01);
    }
}
