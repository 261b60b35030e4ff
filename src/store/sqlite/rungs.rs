//! Rung reports of early stopping: the read-judge-write of
//! [`Store::report_rung`](crate::store::Store::report_rung), inside the
//! caller's `BEGIN IMMEDIATE` transaction.

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use super::super::rows as decode;
use super::super::{RungReport, RungRuling, StoreError, StoredRungReport};
use crate::prune::Competitor;

/// Records `report` for `trial_id` and returns the decision; see the trait.
pub(super) async fn report(
    tx: &mut Transaction<'_, Sqlite>,
    trial_id: i64,
    report: &RungReport,
    judge: &dyn Fn(&[Competitor]) -> bool,
) -> Result<RungRuling, StoreError> {
    let Some(trial) =
        sqlx::query("SELECT study_id, arch_hash, seed, state FROM trials WHERE id = ?1")
            .bind(trial_id)
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Err(StoreError::NotFound(format!("trial with id {trial_id}")));
    };
    let study_id: i64 = trial.try_get("study_id")?;
    let (bracket, step) = (report.bracket as i64, report.step as i64);
    if trial.try_get::<String, _>("state")? != "running" {
        return Ok(RungRuling {
            promoted: true,
            reached: 0,
            repeated: false,
        });
    }
    // The same design and seed judged here before: a retry of a trial that
    // was promoted and then lost. Its decision stands.
    let earlier: Option<i64> = sqlx::query_scalar(
        "SELECT r.promoted FROM rung_reports r JOIN trials t ON t.id = r.trial_id \
         WHERE r.study_id = ?1 AND r.bracket = ?2 AND r.step = ?3 \
           AND t.arch_hash = ?4 AND t.seed = ?5 \
         ORDER BY r.id LIMIT 1",
    )
    .bind(study_id)
    .bind(bracket)
    .bind(step)
    .bind(trial.try_get::<String, _>("arch_hash")?)
    .bind(trial.try_get::<i64, _>("seed")?)
    .fetch_optional(&mut **tx)
    .await?;
    let rows = sqlx::query(
        "SELECT value, costs FROM rung_reports \
         WHERE study_id = ?1 AND bracket = ?2 AND step = ?3 ORDER BY id",
    )
    .bind(study_id)
    .bind(bracket)
    .bind(step)
    .fetch_all(&mut **tx)
    .await?;
    if let Some(promoted) = earlier {
        return Ok(RungRuling {
            promoted: promoted != 0,
            reached: rows.len(),
            repeated: true,
        });
    }
    let mut entries = Vec::with_capacity(rows.len() + 1);
    for row in &rows {
        entries.push(decode::competitor(row)?);
    }
    entries.push(report.competitor.clone());
    let promoted = judge(&entries);
    let costs = super::super::costs::encode(&report.competitor.costs);
    sqlx::query(
        "INSERT INTO rung_reports (study_id, trial_id, bracket, step, value, costs, promoted) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(study_id)
    .bind(trial_id)
    .bind(bracket)
    .bind(step)
    .bind(Some(report.competitor.value).filter(|v| !v.is_nan()))
    .bind(costs)
    .bind(promoted as i64)
    .execute(&mut **tx)
    .await?;
    Ok(RungRuling {
        promoted,
        reached: entries.len(),
        repeated: false,
    })
}

/// Every report of `study_id`, in decision order.
pub(super) async fn all(
    pool: &SqlitePool,
    study_id: i64,
) -> Result<Vec<StoredRungReport>, StoreError> {
    let rows = sqlx::query(
        "SELECT trial_id, bracket, step, value, costs, promoted FROM rung_reports \
         WHERE study_id = ?1 ORDER BY id",
    )
    .bind(study_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode::stored_rung).collect()
}
