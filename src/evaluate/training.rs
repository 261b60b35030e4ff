//! The real evaluator: trains the proxy model on the text, and, when the
//! study has the `recall` objective, one fresh model per `[recall]` task.

use std::ops::ControlFlow;

use super::{curve_values, Evaluation, Evaluator};
use crate::arch::Architecture;
use crate::data::Corpus;
use crate::memory::MemoryLimit;
use crate::metrics::{self, Metrics, Values};
use crate::space::RecallSettings;
use crate::train::{self, Progress, Stop, TrainConfig, TrainError};

/// Trains each architecture with the proxy trainer.
pub struct TrainEvaluator {
    pub corpus: Corpus,
    pub config: TrainConfig,
    /// The in-context tasks each trial also trains (a fresh model each, same
    /// architecture), when `recall` is an objective.
    pub recall: Option<RecallSettings>,
    /// What each training is checked against before it starts: a design
    /// too large fails its trial (kind `error`) instead of the process.
    pub memory: MemoryLimit,
    /// Store the process's peak resident set during each trial
    /// ([`metrics::PEAK_RSS`]): only where this process trains one trial at
    /// a time, since concurrent trials share the process's peak.
    pub measure_peak: bool,
}

impl Evaluator for TrainEvaluator {
    fn evaluate(
        &self,
        arch: &Architecture,
        seed: u64,
        on_step: &mut dyn FnMut(Progress) -> ControlFlow<Stop>,
    ) -> Result<Evaluation, TrainError> {
        // Whatever ran before (an earlier trial, a supernet) is not this
        // trial's peak.
        let peak = self.measure_peak && crate::resident::reset_peak();
        let trained = train::train_within(
            arch,
            &self.corpus,
            &TrainConfig {
                // The device the driver gave this worker thread.
                device: crate::device::worker_device(),
                ..self.config.for_seed(seed)
            },
            self.memory,
            &mut *on_step,
        )?;
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
        let mut values = metrics.to_values();
        if let Some(recall) = &self.recall {
            for (name, value) in recall_values(arch, recall, seed, self.memory, on_step)?.iter() {
                values.insert(name, value);
            }
        }
        if peak {
            if let Ok(bytes) = crate::resident::resident_bytes("VmHWM") {
                values.insert(metrics::PEAK_RSS, bytes as f64);
            }
        }
        Ok(Evaluation {
            values,
            curve: curve_values(&r.curve),
        })
    }

    fn seq_len(&self) -> usize {
        self.config.seq_len
    }

    fn costs(&self, arch: &Architecture) -> Values {
        let mut arch = arch.clone();
        arch.vocab_size = self.corpus.vocab_size();
        metrics::cost_values(&crate::cost::Cost::of(&arch, self.config.seq_len))
    }
}

/// Trains a fresh model of `arch` on each `[recall]` task and reads its
/// held-out accuracy per difficulty: `recall_acc/<task>/<difficulty>`, their
/// mean as `recall_acc` (the objective), and the seconds it took.
fn recall_values(
    arch: &Architecture,
    settings: &RecallSettings,
    seed: u64,
    memory: MemoryLimit,
    on_step: &mut dyn FnMut(Progress) -> ControlFlow<Stop>,
) -> Result<Values, TrainError> {
    let mut values = Values::new();
    let (mut accuracies, mut seconds) = (Vec::new(), 0.0);
    let cfg = TrainConfig {
        device: crate::device::worker_device(),
        ..settings.training.for_seed(seed)
    };
    for &task in &settings.tasks {
        let data = settings.task(task);
        // The recall models have no rungs: their evaluations are not the
        // text loss a pruner ranks by, so `on_step` never sees them.
        let mut beat = |p: Progress| {
            on_step(Progress {
                val_loss: None,
                ..p
            })
        };
        let report = train::train_on_within(arch, data.as_ref(), &cfg, memory, &mut beat)?.report;
        seconds += report.train_seconds;
        for score in &report.scores {
            let accuracy = score.accuracy.unwrap_or(f64::NAN);
            values.insert(metrics::recall_acc_of(task.as_str(), &score.name), accuracy);
            accuracies.push(accuracy);
        }
    }
    let mean = accuracies.iter().sum::<f64>() / accuracies.len().max(1) as f64;
    values.insert(metrics::RECALL_ACC, mean);
    values.insert(metrics::RECALL_SECONDS, seconds);
    Ok(values)
}
