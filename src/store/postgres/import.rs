//! Writing a study read from another store ([`StudyDump`]), inside the
//! caller's `transaction.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::super::dump::StudyDump;
use super::super::rows::to_db;
use super::super::{costs, StoreError, Study};
use super::{insert_curve, insert_trial_values};

pub(super) async fn import(tx: &mut PgConnection, dump: &StudyDump) -> Result<Study, StoreError> {
    let s = &dump.study;
    let taken = sqlx::query("SELECT 1 FROM studies WHERE name = $1")
        .bind(&s.name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::NameTaken(s.name.clone()));
    }
    let objectives = serde_json::to_string(&s.objectives).map_err(|source| StoreError::Json {
        what: "study objectives",
        source,
    })?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO studies (name, space_text, space_hash, objectives, strategy, evaluator, \
         seed, budget, code_version, created, pruner) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(&s.name)
    .bind(&s.space_text)
    .bind(&s.space_hash)
    .bind(objectives)
    .bind(&s.strategy)
    .bind(&s.evaluator)
    .bind(to_db(s.seed))
    .bind(s.budget as i64)
    .bind(&s.code_version)
    .bind(s.created)
    .bind(&s.pruner)
    .fetch_one(&mut *tx)
    .await?;
    let mut ids = HashMap::new();
    for (t, curve) in &dump.trials {
        let extra = t.extra.as_ref().map(|e| e.to_string());
        let trial_id: i64 = sqlx::query_scalar(
            "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, arch_short, \
             seed, worker, fail_kind, error, extra, started, finished, heartbeat) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(id)
        .bind(t.number)
        .bind(t.state.as_str())
        .bind(&t.arch_json)
        .bind(&t.arch_hash)
        .bind(&t.arch_short)
        .bind(to_db(t.seed))
        .bind(&t.worker)
        .bind(t.fail_kind.map(|k| k.as_str()))
        .bind(&t.error)
        .bind(extra)
        .bind(t.started)
        .bind(t.finished)
        .bind(t.heartbeat)
        .fetch_one(&mut *tx)
        .await?;
        insert_trial_values(tx, trial_id, &t.values).await?;
        insert_curve(tx, trial_id, curve).await?;
        ids.insert(t.number, trial_id);
    }
    for (number, r) in dump.rungs_by_number()? {
        sqlx::query(
            "INSERT INTO rung_reports (study_id, trial_id, bracket, step, value, costs, promoted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(ids[&number])
        .bind(r.bracket as i64)
        .bind(r.step as i64)
        .bind(Some(r.competitor.value).filter(|v| !v.is_nan()))
        .bind(costs::encode(&r.competitor.costs))
        .bind(r.promoted as i64)
        .execute(&mut *tx)
        .await?;
    }
    for (key, value) in &dump.state {
        sqlx::query("INSERT INTO strategy_state (study_id, key, value) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Study { id, ..s.clone() })
}
