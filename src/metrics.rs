//! Named values: what a trial measured, stored as (name, value) pairs so that
//! a new measurement (recall accuracy, a per-task perplexity, decode latency)
//! needs a new name, never a new column.
//!
//! [`Values`] is the map the store keeps per trial and per learning-curve
//! step; the constants below are the names the text task's evaluators write,
//! and [`Metrics`] is the typed set of them that both evaluators fill, so the
//! two can never disagree on which values a trial has.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Mean validation cross-entropy per character, in nats.
pub const VAL_LOSS: &str = "val_loss";
/// `exp(val_loss)`.
pub const VAL_PPL: &str = "val_ppl";
/// Trainable parameters (shared weights once).
pub const PARAMS: &str = "params";
/// Forward FLOPs per token at the task's context length (cost model).
pub const FLOPS: &str = "flops_per_token";
/// KV-cache bytes at the task's context length, bf16 (cost model).
pub const KV_CACHE: &str = "kv_cache_bytes";
/// SSM recurrent-state bytes, bf16 (cost model).
pub const SSM_STATE: &str = "ssm_state_bytes";
/// Median milliseconds of one forward pass at batch 1.
pub const LATENCY: &str = "latency_ms";
/// Seconds spent in training steps.
pub const TRAIN_SECONDS: &str = "train_seconds";
/// Training throughput.
pub const TOKENS_PER_S: &str = "tokens_per_s";

/// The step at which a pruned trial stopped (its rung); its other values
/// are the ones it had there.
pub const PRUNED_AT: &str = "pruned_at";

/// Mean held-out accuracy over the `[recall]` tasks and difficulties.
pub const RECALL_ACC: &str = "recall_acc";
/// Seconds spent training the recall models.
pub const RECALL_SECONDS: &str = "recall_seconds";
/// The process's peak resident set while the trial trained, in bytes
/// (measured; stored only where the process trains one trial at a time, as
/// `nas run --jobs 1` and `nas eval` do: concurrent trials share one peak).
/// It includes the binary and libtorch, about 115 MiB here.
pub const PEAK_RSS: &str = "peak_rss_bytes";

/// The accuracy of one recall task at one difficulty (`recall_acc/mqar/16`).
pub fn recall_acc_of(task: &str, difficulty: &str) -> String {
    if difficulty.is_empty() {
        format!("{RECALL_ACC}/{task}")
    } else {
        format!("{RECALL_ACC}/{task}/{difficulty}")
    }
}

/// Learning-curve names: the mean training loss since the previous point,
/// the validation loss at the step, and the wall seconds since the start.
pub const TRAIN_LOSS: &str = "train_loss";
pub const ELAPSED: &str = "elapsed_s";

/// Named values, ordered by name. NaN is a value (a diverged loss).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Values(BTreeMap<String, f64>);

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: f64) {
        self.0.insert(name.into(), value);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

impl<S: Into<String>> FromIterator<(S, f64)> for Values {
    fn from_iter<I: IntoIterator<Item = (S, f64)>>(iter: I) -> Self {
        Values(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// One point of a learning curve: the step and its named values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveStep {
    pub step: usize,
    pub values: Values,
}

/// What an evaluator of the text task measures, every field always present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub val_loss: f64,
    pub val_ppl: f64,
    pub params: u64,
    pub flops_per_token: f64,
    pub kv_cache_bytes: u64,
    pub ssm_state_bytes: u64,
    pub latency_ms: f64,
    pub train_seconds: f64,
    pub tokens_per_s: f64,
}

impl Metrics {
    /// The metrics under their stored names. Counts become `f64`, exact up
    /// to 2^53 (a parameter count or byte count never comes near).
    pub fn to_values(&self) -> Values {
        Values::from_iter([
            (VAL_LOSS, self.val_loss),
            (VAL_PPL, self.val_ppl),
            (PARAMS, self.params as f64),
            (FLOPS, self.flops_per_token),
            (KV_CACHE, self.kv_cache_bytes as f64),
            (SSM_STATE, self.ssm_state_bytes as f64),
            (LATENCY, self.latency_ms),
            (TRAIN_SECONDS, self.train_seconds),
            (TOKENS_PER_S, self.tokens_per_s),
        ])
    }
}

/// The values a design has before it trains: its cost-model numbers, under
/// the names [`Metrics::to_values`] gives them.
pub fn cost_values(cost: &crate::cost::Cost) -> Values {
    Values::from_iter([
        (PARAMS, cost.params as f64),
        (FLOPS, cost.flops_per_token),
        (KV_CACHE, cost.kv_cache_bytes as f64),
        (SSM_STATE, cost.ssm_state_bytes as f64),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_become_named_values() {
        let m = Metrics {
            val_loss: 2.0,
            val_ppl: 2f64.exp(),
            params: 123_456,
            flops_per_token: 1e6,
            kv_cache_bytes: 4096,
            ssm_state_bytes: 512,
            latency_ms: 1.5,
            train_seconds: 3.0,
            tokens_per_s: 1e4,
        };
        let v = m.to_values();
        assert_eq!(v.len(), 9);
        assert_eq!(v.get(PARAMS), Some(123_456.0));
        assert_eq!(v.get(VAL_PPL), Some(2f64.exp()));
        assert_eq!(v.get("recall_acc"), None);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["kv_cache_bytes"], 4096.0);
    }
}
