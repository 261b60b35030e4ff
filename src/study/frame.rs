//! A study's trials as one table, ready for a data frame: one row per trial,
//! one column per field, every stored value in a column of its own (the
//! union of the value names over the trials, empty where a trial has none).
//!
//! Fields are text as a CSV file holds them ([`crate::csv`]): numbers in a
//! form that reads back to the same value, times in ISO 8601 UTC, and an
//! empty field for anything absent, so that pandas reads it as missing.

use std::collections::BTreeSet;

use super::StoredStudy;
use crate::arch::Architecture;
use crate::csv::number;
use crate::store::TrialRecord;
use crate::utc;

/// The columns every trial has, before its values.
pub const FIXED_COLUMNS: [&str; 15] = [
    "number",
    "state",
    "arch",
    "hash",
    "depth",
    "d_model",
    "attention_ratio",
    "pattern",
    "seed",
    "started",
    "finished",
    "duration_s",
    "fail_kind",
    "error",
    "evaluator",
];

/// The factor columns, as [`factor_fields`] fills them.
pub const FACTOR_COLUMNS: [&str; 4] = ["depth", "d_model", "attention_ratio", "pattern"];

/// The table: `columns` names each field of every row.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialFrame {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The factors of a trial's design, for grouping and plotting.
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    pub depth: usize,
    pub d_model: usize,
    /// Attention layers / depth.
    pub attention_ratio: f64,
    /// One letter per layer, `A` attention, `S` SSM (`SSSASS`).
    pub pattern: String,
}

/// The design of a trial: its stored JSON, else its short form. `None` when
/// neither reads (a store another version wrote); its factors are then left
/// empty rather than the listing refused.
pub fn design(t: &TrialRecord) -> Option<Architecture> {
    serde_json::from_str::<Architecture>(&t.arch_json)
        .ok()
        .or_else(|| Architecture::parse_short_form(&t.arch_short).ok())
}

pub fn factors(t: &TrialRecord) -> Option<Factors> {
    design(t).as_ref().map(design_factors)
}

pub fn design_factors(a: &Architecture) -> Factors {
    Factors {
        depth: a.depth(),
        d_model: a.d_model,
        attention_ratio: a.attention_ratio(),
        pattern: a.pattern(),
    }
}

/// The trials as a table, in the order given.
pub fn trial_frame(trials: &[TrialRecord], study: &StoredStudy) -> TrialFrame {
    let names: BTreeSet<&str> = trials
        .iter()
        .flat_map(|t| t.values.iter().map(|(name, _)| name))
        .collect();
    let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|c| c.to_string()).collect();
    // A value named like a fixed column keeps a column of its own.
    columns.extend(names.iter().map(|n| {
        if FIXED_COLUMNS.contains(n) {
            format!("value_{n}")
        } else {
            n.to_string()
        }
    }));
    let rows = trials
        .iter()
        .map(|t| {
            let mut row = fixed_fields(t, study);
            row.extend(
                names
                    .iter()
                    .map(|n| t.value(n).map_or(String::new(), number)),
            );
            row
        })
        .collect();
    TrialFrame { columns, rows }
}

/// The fields of [`FIXED_COLUMNS`], in their order.
fn fixed_fields(t: &TrialRecord, study: &StoredStudy) -> Vec<String> {
    let f = factors(t);
    let time = |unix: Option<f64>| unix.and_then(utc::iso8601).unwrap_or_default();
    vec![
        t.number.to_string(),
        t.state.to_string(),
        t.arch_short.clone(),
        t.arch_hash.clone(),
    ]
    .into_iter()
    .chain(factor_fields(f.as_ref()))
    .chain([
        t.seed.to_string(),
        time(Some(t.started)),
        time(t.finished),
        t.duration().map_or(String::new(), |d| format!("{d:.3}")),
        t.fail_kind.map_or(String::new(), |k| k.to_string()),
        t.error.clone().unwrap_or_default(),
        study.evaluator.map_or(String::new(), |e| e.as_str().into()),
    ])
    .collect()
}

/// The factor columns (`depth`, `d_model`, `attention_ratio`, `pattern`) as
/// CSV fields, empty where the design does not read.
pub fn factor_fields(f: Option<&Factors>) -> [String; 4] {
    match f {
        Some(f) => [
            f.depth.to_string(),
            f.d_model.to_string(),
            number(f.attention_ratio),
            f.pattern.clone(),
        ],
        None => Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FailKind, TrialState, Values};

    fn trial(number: i64, values: &[(&str, f64)]) -> TrialRecord {
        let arch = Architecture::parse_short_form("d64 S16 S16 A4 S16").unwrap();
        TrialRecord {
            id: number + 1,
            study_id: 1,
            number,
            state: TrialState::Complete,
            arch_json: serde_json::to_string(&arch).unwrap(),
            arch_hash: arch.hash(),
            arch_short: arch.short_form(),
            seed: 3,
            worker: "w".into(),
            values: Values::from_iter(values.iter().copied()),
            fail_kind: None,
            error: None,
            extra: None,
            started: 0.0,
            finished: Some(12.5),
            heartbeat: 0.0,
        }
    }

    fn study() -> StoredStudy {
        let row = crate::store::Study {
            id: 1,
            name: "s".into(),
            space_text: String::new(),
            space_hash: "h".into(),
            objectives: vec!["val_ppl".into()],
            strategy: "random".into(),
            evaluator: Some("analytic".into()),
            seed: 0,
            budget: 3,
            code_version: "test".into(),
            created: 0.0,
            pruner: None,
        };
        StoredStudy::decode(row).unwrap()
    }

    #[test]
    fn every_value_name_gets_a_column_empty_where_absent() {
        let mut failed = trial(2, &[]);
        failed.state = TrialState::Failed;
        failed.fail_kind = Some(FailKind::Diverged);
        failed.error = Some("loss became NaN".into());
        failed.finished = None;
        let trials = [
            trial(0, &[("val_ppl", 9.5), ("params", 1000.0)]),
            trial(1, &[("recall_acc", 0.5), ("state", 7.0)]),
            failed,
        ];
        let frame = trial_frame(&trials, &study());
        let col = |name: &str| frame.columns.iter().position(|c| c == name).unwrap();
        assert_eq!(frame.columns.len(), FIXED_COLUMNS.len() + 4);
        assert!(frame.rows.iter().all(|r| r.len() == frame.columns.len()));
        assert_eq!(frame.rows[0][col("val_ppl")], "9.5");
        assert_eq!(frame.rows[0][col("params")], "1000");
        assert_eq!(frame.rows[0][col("recall_acc")], "");
        assert_eq!(frame.rows[1][col("value_state")], "7");
        assert_eq!(frame.rows[1][col("state")], "complete");
        assert_eq!(frame.rows[0][col("pattern")], "SSAS");
        assert_eq!(frame.rows[0][col("depth")], "4");
        assert_eq!(frame.rows[0][col("d_model")], "64");
        assert_eq!(frame.rows[0][col("attention_ratio")], "0.25");
        assert_eq!(frame.rows[0][col("started")], "1970-01-01T00:00:00.000Z");
        assert_eq!(frame.rows[0][col("finished")], "1970-01-01T00:00:12.500Z");
        assert_eq!(frame.rows[0][col("duration_s")], "12.500");
        assert_eq!(frame.rows[0][col("evaluator")], "analytic");
        assert_eq!(frame.rows[2][col("finished")], "");
        assert_eq!(frame.rows[2][col("duration_s")], "");
        assert_eq!(frame.rows[2][col("fail_kind")], "diverged");
        assert_eq!(frame.rows[2][col("error")], "loss became NaN");
    }

    #[test]
    fn an_unreadable_design_leaves_its_factors_empty() {
        let mut t = trial(0, &[]);
        t.arch_json = "{}".into();
        assert_eq!(
            factors(&t).unwrap().pattern,
            "SSAS",
            "the short form serves"
        );
        t.arch_short = "?".into();
        let frame = trial_frame(&[t], &study());
        let depth = frame.columns.iter().position(|c| c == "depth").unwrap();
        assert_eq!(frame.rows[0][depth], "");
    }
}
