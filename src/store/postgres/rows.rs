//! Reading PostgreSQL rows into the store's types.

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::Row;

use super::super::{CurveStep, FailKind, StoreError, Study, TrialRecord, Values};

/// u64 values are stored as BIGINT of the same bits; these two are inverses.
pub(super) fn to_db(v: u64) -> i64 {
    v as i64
}

pub(super) fn from_db(v: i64) -> u64 {
    v as u64
}

pub(super) fn count(row: &PgRow, col: &str) -> Result<usize, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)?.max(0) as usize)
}

/// NULL (how SQLite keeps NaN, and how a copied store may arrive) reads as NaN.
pub(super) fn real(row: &PgRow, col: &str) -> Result<f64, sqlx::Error> {
    Ok(row.try_get::<Option<f64>, _>(col)?.unwrap_or(f64::NAN))
}

pub(super) fn study(row: &PgRow) -> Result<Study, StoreError> {
    let objectives: String = row.try_get("objectives")?;
    Ok(Study {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        space_text: row.try_get("space_text")?,
        space_hash: row.try_get("space_hash")?,
        objectives: serde_json::from_str(&objectives).map_err(|source| StoreError::Json {
            what: "study objectives",
            source,
        })?,
        strategy: row.try_get("strategy")?,
        evaluator: row.try_get("evaluator")?,
        seed: from_db(row.try_get("seed")?),
        budget: row.try_get::<i64, _>("budget")?.max(0) as usize,
        code_version: row.try_get("code_version")?,
        created: row.try_get("created")?,
        pruner: row.try_get("pruner")?,
    })
}

/// A trial row without its values ([`attach_values`] adds them).
pub(super) fn trial(row: &PgRow) -> Result<TrialRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let extra = row
        .try_get::<Option<String>, _>("extra")?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|source| StoreError::Json {
            what: "trial extra",
            source,
        })?;
    Ok(TrialRecord {
        id: row.try_get("id")?,
        study_id: row.try_get("study_id")?,
        number: row.try_get("number")?,
        state: state.parse()?,
        arch_json: row.try_get("arch_json")?,
        arch_hash: row.try_get("arch_hash")?,
        arch_short: row.try_get("arch_short")?,
        seed: from_db(row.try_get("seed")?),
        worker: row.try_get("worker")?,
        values: Values::new(),
        fail_kind: row
            .try_get::<Option<String>, _>("fail_kind")?
            .map(|k| k.parse::<FailKind>())
            .transpose()?,
        error: row.try_get("error")?,
        extra,
        started: row.try_get("started")?,
        finished: row.try_get("finished")?,
        heartbeat: row.try_get("heartbeat")?,
    })
}

/// Adds `(trial_id, name, value)` rows to the trials they belong to.
pub(super) fn attach_values(
    trials: &mut [TrialRecord],
    values: &[PgRow],
) -> Result<(), StoreError> {
    let index: HashMap<i64, usize> = trials.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    for row in values {
        let trial_id: i64 = row.try_get("trial_id")?;
        if let Some(&i) = index.get(&trial_id) {
            trials[i]
                .values
                .insert(row.try_get::<String, _>("name")?, real(row, "value")?);
        }
    }
    Ok(())
}

/// `(step, name, value)` rows ordered by step, as curve points.
pub(super) fn curve(found: &[PgRow]) -> Result<Vec<CurveStep>, StoreError> {
    let mut curve: Vec<CurveStep> = Vec::new();
    for row in found {
        let step = row.try_get::<i64, _>("step")?.max(0) as usize;
        if curve.last().is_none_or(|p| p.step != step) {
            curve.push(CurveStep {
                step,
                values: Values::new(),
            });
        }
        let point = curve.last_mut().expect("pushed above");
        point
            .values
            .insert(row.try_get::<String, _>("name")?, real(row, "value")?);
    }
    Ok(curve)
}
