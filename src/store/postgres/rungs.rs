//! Rung reports on PostgreSQL: the read-judge-write of
//! [`Store::report_rung`](crate::store::Store::report_rung) inside the
//! caller's transaction, after the study's row lock, so that two workers at
//! one rung are judged one after the other, as SQLite's single writer does.

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Row, Transaction};

use super::super::{costs, RungReport, RungRuling, StoreError, StoredRungReport};
use crate::prune::Competitor;

/// Records `report` for `trial_id` and returns the decision; see the trait.
pub(super) async fn report(
    tx: &mut Transaction<'_, Postgres>,
    trial_id: i64,
    report: &RungReport,
    judge: &dyn Fn(&[Competitor]) -> bool,
) -> Result<RungRuling, StoreError> {
    let study_id: Option<i64> = sqlx::query_scalar(
        "SELECT s.id FROM studies s JOIN trials t ON t.study_id = s.id WHERE t.id = $1 \
         FOR NO KEY UPDATE OF s",
    )
    .bind(trial_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(study_id) = study_id else {
        return Err(StoreError::NotFound(format!("trial with id {trial_id}")));
    };
    // Read after the lock: this statement sees every decision committed
    // before it was granted.
    let trial = sqlx::query("SELECT arch_hash, seed, state FROM trials WHERE id = $1")
        .bind(trial_id)
        .fetch_one(&mut **tx)
        .await?;
    let (bracket, step) = (report.bracket as i64, report.step as i64);
    if trial.try_get::<String, _>("state")? != "running" {
        return Ok(RungRuling {
            promoted: true,
            reached: 0,
            repeated: false,
        });
    }
    // The same design and seed judged here before (a retry after a crash):
    // its decision stands.
    let earlier: Option<i64> = sqlx::query_scalar(
        "SELECT r.promoted FROM rung_reports r JOIN trials t ON t.id = r.trial_id \
         WHERE r.study_id = $1 AND r.bracket = $2 AND r.step = $3 \
           AND t.arch_hash = $4 AND t.seed = $5 \
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
         WHERE study_id = $1 AND bracket = $2 AND step = $3 ORDER BY id",
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
    let mut entries = rows
        .iter()
        .map(super::super::rows::competitor)
        .collect::<Result<Vec<_>, _>>()?;
    entries.push(report.competitor.clone());
    let promoted = judge(&entries);
    sqlx::query(
        "INSERT INTO rung_reports (study_id, trial_id, bracket, step, value, costs, promoted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(study_id)
    .bind(trial_id)
    .bind(bracket)
    .bind(step)
    .bind(Some(report.competitor.value).filter(|v| !v.is_nan()))
    .bind(costs::encode(&report.competitor.costs))
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
pub(super) async fn all(pool: &PgPool, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError> {
    let rows = sqlx::query(
        "SELECT trial_id, bracket, step, value, costs, promoted FROM rung_reports \
         WHERE study_id = $1 ORDER BY id",
    )
    .bind(study_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(super::super::rows::stored_rung).collect()
}
