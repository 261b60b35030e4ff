//! Reading either backend's rows into the store's types. The two backends
//! name the same columns and keep the same kinds (u64 as i64 of the same
//! bits, NaN as NULL), so one decoder serves both through [`StoreRow`].

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{CurveStep, FailKind, StoreError, StoredRungReport, Study, TrialRecord, Values};
use crate::prune::Competitor;

/// The column reads the decoders need, for each backend's row type.
pub(crate) trait StoreRow {
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn float(&self, col: &str) -> Result<f64, sqlx::Error>;
    fn opt_float(&self, col: &str) -> Result<Option<f64>, sqlx::Error>;
}

macro_rules! store_row {
    ($row:ty) => {
        impl StoreRow for $row {
            fn text(&self, col: &str) -> Result<String, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(col)
            }
            fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
                self.try_get(col)
            }
            fn float(&self, col: &str) -> Result<f64, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_float(&self, col: &str) -> Result<Option<f64>, sqlx::Error> {
                self.try_get(col)
            }
        }
    };
}

store_row!(SqliteRow);
store_row!(PgRow);

/// u64 values are stored as i64 of the same bits; these two are inverses.
pub(crate) fn to_db(v: u64) -> i64 {
    v as i64
}

pub(crate) fn from_db(v: i64) -> u64 {
    v as u64
}

pub(crate) fn count(row: &impl StoreRow, col: &str) -> Result<usize, sqlx::Error> {
    Ok(row.int(col)?.max(0) as usize)
}

/// A value column; NULL (how SQLite keeps NaN) reads as NaN.
pub(crate) fn real(row: &impl StoreRow, col: &str) -> Result<f64, sqlx::Error> {
    Ok(row.opt_float(col)?.unwrap_or(f64::NAN))
}

pub(crate) fn study(row: &impl StoreRow) -> Result<Study, StoreError> {
    Ok(Study {
        id: row.int("id")?,
        name: row.text("name")?,
        space_text: row.text("space_text")?,
        space_hash: row.text("space_hash")?,
        objectives: serde_json::from_str(&row.text("objectives")?).map_err(|source| {
            StoreError::Json {
                what: "study objectives",
                source,
            }
        })?,
        strategy: row.text("strategy")?,
        evaluator: row.opt_text("evaluator")?,
        seed: from_db(row.int("seed")?),
        budget: count(row, "budget")?,
        code_version: row.text("code_version")?,
        created: row.float("created")?,
        pruner: row.opt_text("pruner")?,
    })
}

/// A trial row without its values ([`attach_values`] adds them).
pub(crate) fn trial(row: &impl StoreRow) -> Result<TrialRecord, StoreError> {
    let extra = row
        .opt_text("extra")?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|source| StoreError::Json {
            what: "trial extra",
            source,
        })?;
    Ok(TrialRecord {
        id: row.int("id")?,
        study_id: row.int("study_id")?,
        number: row.int("number")?,
        state: row.text("state")?.parse()?,
        arch_json: row.text("arch_json")?,
        arch_hash: row.text("arch_hash")?,
        arch_short: row.text("arch_short")?,
        seed: from_db(row.int("seed")?),
        worker: row.text("worker")?,
        values: Values::new(),
        fail_kind: row
            .opt_text("fail_kind")?
            .map(|k| k.parse::<FailKind>())
            .transpose()?,
        error: row.opt_text("error")?,
        extra,
        started: row.float("started")?,
        finished: row.opt_float("finished")?,
        heartbeat: row.float("heartbeat")?,
    })
}

/// Adds `(trial_id, name, value)` rows to the trials they belong to.
pub(crate) fn attach_values(
    trials: &mut [TrialRecord],
    values: &[impl StoreRow],
) -> Result<(), StoreError> {
    let index: HashMap<i64, usize> = trials.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    for row in values {
        if let Some(&i) = index.get(&row.int("trial_id")?) {
            trials[i]
                .values
                .insert(row.text("name")?, real(row, "value")?);
        }
    }
    Ok(())
}

/// `(step, name, value)` rows ordered by step, as curve points.
pub(crate) fn curve(found: &[impl StoreRow]) -> Result<Vec<CurveStep>, StoreError> {
    let mut curve: Vec<CurveStep> = Vec::new();
    for row in found {
        let step = count(row, "step")?;
        if curve.last().is_none_or(|p| p.step != step) {
            curve.push(CurveStep {
                step,
                values: Values::new(),
            });
        }
        let point = curve.last_mut().expect("pushed above");
        point.values.insert(row.text("name")?, real(row, "value")?);
    }
    Ok(curve)
}

/// The `(step, name, value)` rows of a curve, as both backends insert them.
pub(crate) fn curve_rows(curve: &[CurveStep]) -> Vec<(usize, &str, f64)> {
    curve
        .iter()
        .flat_map(|p| p.values.iter().map(move |(name, v)| (p.step, name, v)))
        .collect()
}

/// A rung report's value and costs.
pub(crate) fn competitor(row: &impl StoreRow) -> Result<Competitor, StoreError> {
    Ok(Competitor {
        value: real(row, "value")?,
        costs: super::costs::decode(&row.text("costs")?)?,
    })
}

pub(crate) fn stored_rung(row: &impl StoreRow) -> Result<StoredRungReport, StoreError> {
    Ok(StoredRungReport {
        trial_id: row.int("trial_id")?,
        bracket: count(row, "bracket")?,
        step: count(row, "step")?,
        competitor: competitor(row)?,
        promoted: row.int("promoted")? != 0,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn u64_round_trip() {
        for v in [0, 1, u64::MAX, i64::MAX as u64 + 1] {
            assert_eq!(super::from_db(super::to_db(v)), v);
        }
    }
}
