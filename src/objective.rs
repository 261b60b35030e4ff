//! Objectives: the named values a study optimises, each with a direction.
//!
//! An objective reads one of a trial's stored [`Values`] by its metric name.
//! Every objective of today is minimised; [`Direction`] is part of the type
//! so that a maximised one (recall accuracy) fits without touching the
//! places that rank trials: they ask [`Objective::minimised`] for a value in
//! which lower is always better.

use crate::metrics::{self, Values};
use crate::names::named;

/// Whether lower or higher values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Minimise,
    Maximise,
}

/// What a study optimises: validation perplexity first, then costs, and
/// recall accuracy on in-context tasks when the space trains them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Objective {
    ValPpl,
    Flops,
    Params,
    KvCache,
    Latency,
    /// Mean accuracy over the `[recall]` tasks and difficulties; maximised.
    Recall,
}

named!(Objective, "objective");

impl Objective {
    pub const ALL: [Objective; 6] = [
        Objective::ValPpl,
        Objective::Flops,
        Objective::Params,
        Objective::KvCache,
        Objective::Latency,
        Objective::Recall,
    ];

    /// The costs: known from the design alone, minimised.
    pub const COSTS: [Objective; 4] = [
        Objective::Flops,
        Objective::Params,
        Objective::KvCache,
        Objective::Latency,
    ];

    /// The name in space files, on the command line and in the store.
    pub fn as_str(&self) -> &'static str {
        match self {
            Objective::ValPpl => "val_ppl",
            Objective::Flops => "flops",
            Objective::Params => "params",
            Objective::KvCache => "kv_cache",
            Objective::Latency => "latency",
            Objective::Recall => "recall",
        }
    }

    /// The name of the stored value this objective reads.
    pub fn metric(&self) -> &'static str {
        match self {
            Objective::ValPpl => metrics::VAL_PPL,
            Objective::Flops => metrics::FLOPS,
            Objective::Params => metrics::PARAMS,
            Objective::KvCache => metrics::KV_CACHE,
            Objective::Latency => metrics::LATENCY,
            Objective::Recall => metrics::RECALL_ACC,
        }
    }

    pub fn direction(&self) -> Direction {
        match self {
            Objective::ValPpl
            | Objective::Flops
            | Objective::Params
            | Objective::KvCache
            | Objective::Latency => Direction::Minimise,
            Objective::Recall => Direction::Maximise,
        }
    }

    /// A cost is known from the design alone, before any training.
    pub fn is_cost(&self) -> bool {
        Self::COSTS.contains(self)
    }

    /// The objective's value in a trial's values, if it has one.
    pub fn value(&self, values: &Values) -> Option<f64> {
        values.get(self.metric())
    }

    /// The value turned so that lower is better, for sorting and fronts.
    pub fn minimised(&self, values: &Values) -> Option<f64> {
        self.value(values).map(|v| match self.direction() {
            Direction::Minimise => v,
            Direction::Maximise => -v,
        })
    }

    /// What the value measures, for axis titles (`seq_len`: the task's
    /// context, when known).
    pub fn describe(&self, seq_len: Option<usize>) -> String {
        let seq_len = seq_len.map_or("T".to_string(), |t| t.to_string());
        match self {
            Objective::Flops => format!("forward FLOPs per token, T = {seq_len}"),
            Objective::Params => "parameters".into(),
            Objective::KvCache => format!("KV cache bytes (bf16, T = {seq_len})"),
            Objective::Latency => format!("latency, ms per forward (batch 1, T = {seq_len})"),
            Objective::ValPpl => "validation perplexity".into(),
            Objective::Recall => "recall accuracy (in-context tasks)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_read_their_metric() {
        for o in Objective::ALL {
            assert_eq!(o.as_str().parse::<Objective>().unwrap(), o);
        }
        let err = "memory".parse::<Objective>().unwrap_err();
        assert!(err.to_string().contains("val_ppl, flops"), "{err}");
        let values = Values::from_iter([(metrics::VAL_PPL, 5.0), (metrics::FLOPS, 2e6)]);
        assert_eq!(Objective::ValPpl.value(&values), Some(5.0));
        assert_eq!(Objective::Flops.minimised(&values), Some(2e6));
        assert_eq!(Objective::Params.value(&values), None);
        assert!(!Objective::ValPpl.is_cost() && Objective::KvCache.is_cost());
        assert!(!Objective::Recall.is_cost());
        let recall = Values::from_iter([(metrics::RECALL_ACC, 0.75)]);
        assert_eq!(Objective::Recall.minimised(&recall), Some(-0.75));
    }
}
