//! PostgreSQL backend of [`Store`], through sqlx: one study shared by
//! workers on many machines.
//!
//! How it keeps the guarantees SQLite's single writer gives for free:
//!
//! - **Claims and rung decisions are serialised per study** by a row lock on
//!   the study (`SELECT … FOR NO KEY UPDATE`), taken first in the
//!   transaction; the reads that decide come in later statements, which in
//!   READ COMMITTED see everything committed before the lock was granted.
//!   `NO KEY` so that inserts elsewhere referencing the study (its strategy
//!   state) are not blocked. `UNIQUE (study_id, number)` backs the numbering.
//! - **Time is the server's** (`clock_timestamp()`): heartbeats, starts and
//!   ends, and the reaping cut-off, so that workers on hosts whose clocks
//!   disagree still reap each other correctly.
//! - **A bounded pool** ([`MAX_CONNECTIONS`] per process) that pings a
//!   connection before handing it out, so connections a server restart
//!   closed are replaced rather than failing a call.
//! - **Transient errors are retried** with backoff for up to [`RETRY_FOR`]
//!   ([`retry`]): a dropped connection, a restarting server, a deadlock or
//!   serialisation failure. Each operation is one transaction, so a retry
//!   repeats it whole or finds it done (see `finish`).

mod import;
mod retry;
mod rungs;
mod schema;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Row};

use super::rows;
use super::{
    Claim, Column, CurveStep, NewTrial, Outcome, RungReport, RungRuling, Store, StoreError,
    StoredRungReport, Study, StudySpec, StudySummary, TrialRecord, TrialState, Values,
};
use crate::prune::Competitor;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations_postgres");

/// Connections per process. A worker process has a few store calls in
/// flight at most (a claim, its jobs' heartbeats and finishes); PostgreSQL
/// allows 100 connections by default, so 25 worker processes fit.
pub const MAX_CONNECTIONS: u32 = 4;
/// How long transient errors are retried before the call fails.
pub const RETRY_FOR: Duration = Duration::from_secs(120);
/// How long a call waits for a free connection of the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);
/// Named-value rows per INSERT (PostgreSQL allows 65535 bound parameters).
const VALUE_ROWS_PER_INSERT: usize = 1000;
/// The server's clock, in unix seconds.
const SERVER_NOW: &str = "EXTRACT(EPOCH FROM clock_timestamp())::float8";

const STUDY_COLUMNS: &str = "id, name, space_text, space_hash, objectives, strategy, evaluator, \
     seed, budget, code_version, created, pruner";

const TRIAL_COLUMNS: &str = "id, study_id, number, state, arch_json, arch_hash, arch_short, seed, \
     worker, fail_kind, error, extra, started, finished, heartbeat";

/// Whether a `--storage` value names a PostgreSQL database.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The URL with its password replaced by `***`, for messages and listings.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A [`Store`] in one PostgreSQL database. Methods block on a private tokio
/// runtime, so they must not be called from inside an async context.
pub struct PgStore {
    // Before `rt`: the pool is dropped while its runtime still exists.
    pool: PgPool,
    rt: tokio::runtime::Runtime,
    /// The URL without its password.
    shown: String,
}

impl PgStore {
    /// Connects and brings the schema up to date (creating it in an empty
    /// database). A database whose `studies` table is not ours (an Optuna
    /// storage has one too) is refused before anything is written.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let store = Self::connect(url, false)?;
        store.migrate()?;
        Ok(store)
    }

    /// Refuses another program's tables, then applies pending migrations.
    fn migrate(&self) -> Result<(), StoreError> {
        self.rt.block_on(async {
            let tables = schema::tables(&self.pool).await?;
            if tables.iter().any(|t| t == "studies")
                && !tables.iter().any(|t| t == "_sqlx_migrations")
            {
                return Err(StoreError::ForeignDatabase {
                    url: self.shown.clone(),
                    tables: tables.join(", "),
                });
            }
            // sqlx holds an advisory lock while it migrates, so workers
            // starting at once apply each migration exactly once.
            MIGRATOR.run(&self.pool).await?;
            Ok(())
        })
    }

    /// Connects to a database that must hold a store already, for commands
    /// that only read: every transaction is read-only on the server
    /// (`default_transaction_read_only`), and nothing is migrated. A database
    /// without our tables is [`StoreError::Missing`].
    pub fn open_existing(url: &str) -> Result<PgStore, StoreError> {
        let store = Self::connect(url, true)?;
        store.require_store()?;
        Ok(store)
    }

    /// Connects to a database that must hold a store already, for commands
    /// that change it but never create one (`nas study delete`).
    pub fn open_existing_writable(url: &str) -> Result<PgStore, StoreError> {
        // One pool: the check reads only, and nothing is written before it.
        let store = Self::connect(url, false)?;
        store.require_store()?;
        store.migrate()?;
        Ok(store)
    }

    /// The URL without its password.
    pub fn location(&self) -> &str {
        &self.shown
    }

    /// The tables and columns of the store, for comparing the two backends'
    /// schemas.
    pub fn schema(&self) -> Result<Vec<Column>, StoreError> {
        self.rt.block_on(schema::columns(&self.pool))
    }

    fn connect(url: &str, read_only: bool) -> Result<PgStore, StoreError> {
        let shown = redact(url);
        let mut options: PgConnectOptions =
            url.parse()
                .map_err(|e: sqlx::Error| StoreError::BadPostgresUrl {
                    url: shown.clone(),
                    reason: e.to_string(),
                })?;
        options = options.application_name("nas");
        if read_only {
            options = options.options([("default_transaction_read_only", "on")]);
        }
        let rt = runtime()?;
        // The pool's maintenance tasks start on the runtime it is made in.
        let _entered = rt.enter();
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(60))
            .test_before_acquire(true)
            .connect_lazy_with(options);
        drop(_entered);
        let store = PgStore { pool, rt, shown };
        // One round trip now, so an unreachable server or a bad password is
        // an error of the command that named it, retried like any other.
        let pool = &store.pool;
        store.run(|_| async move {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })?;
        Ok(store)
    }

    fn require_store(&self) -> Result<(), StoreError> {
        let tables = self.rt.block_on(schema::tables(&self.pool))?;
        if tables.iter().any(|t| t == "_sqlx_migrations") && tables.iter().any(|t| t == "studies") {
            Ok(())
        } else {
            Err(StoreError::Missing(self.shown.clone()))
        }
    }

    /// Runs `op` (one whole transaction), retrying transient errors; `op`
    /// gets the attempt number, from 0.
    fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: Fn(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        self.rt.block_on(retry::retrying(&self.shown, op))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing tells the server at once; inside an async context, where
        // blocking is impossible, the connections are simply dropped.
        if tokio::runtime::Handle::try_current().is_err() {
            self.rt.block_on(self.pool.close());
        }
    }
}

/// The store's private runtime: one worker thread runs the connections' I/O
/// while a caller blocks on it.
fn runtime() -> Result<tokio::runtime::Runtime, StoreError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("nas-store-pg")
        .enable_all()
        .build()
        .map_err(StoreError::Runtime)
}

async fn insert_trial_values(
    tx: &mut sqlx::PgConnection,
    trial_id: i64,
    values: &Values,
) -> Result<(), StoreError> {
    let rows: Vec<(&str, f64)> = values.iter().collect();
    for chunk in rows.chunks(VALUE_ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Postgres>::new("INSERT INTO trial_values (trial_id, name, value) ");
        insert.push_values(chunk, |mut row, (name, value)| {
            row.push_bind(trial_id).push_bind(*name).push_bind(*value);
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn insert_curve(
    tx: &mut sqlx::PgConnection,
    trial_id: i64,
    curve: &[CurveStep],
) -> Result<(), StoreError> {
    let rows = rows::curve_rows(curve);
    for chunk in rows.chunks(VALUE_ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO curve_values (trial_id, step, name, value) ",
        );
        insert.push_values(chunk, |mut row, (step, name, value)| {
            row.push_bind(trial_id)
                .push_bind(*step as i64)
                .push_bind(*name)
                .push_bind(*value);
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn study_by_name(
    conn: &mut sqlx::PgConnection,
    name: &str,
    lock: bool,
) -> Result<Option<Study>, StoreError> {
    let sql = format!(
        "SELECT {STUDY_COLUMNS} FROM studies WHERE name = $1{}",
        if lock { " FOR NO KEY UPDATE" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rows::study).transpose()
}

/// Inserts the study if no study has its name; `None` when one has.
async fn insert_study(
    conn: &mut sqlx::PgConnection,
    spec: &StudySpec,
) -> Result<Option<Study>, StoreError> {
    let objectives =
        serde_json::to_string(&spec.objectives).map_err(|source| StoreError::Json {
            what: "study objectives",
            source,
        })?;
    let sql = format!(
        "INSERT INTO studies (name, space_text, space_hash, objectives, strategy, evaluator, \
         seed, budget, code_version, created, pruner) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {SERVER_NOW}, $10) \
         ON CONFLICT (name) DO NOTHING RETURNING {STUDY_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&spec.name)
        .bind(&spec.space_text)
        .bind(&spec.space_hash)
        .bind(objectives)
        .bind(&spec.strategy)
        .bind(&spec.evaluator)
        .bind(rows::to_db(spec.seed))
        .bind(spec.budget.value() as i64)
        .bind(&spec.code_version)
        .bind(&spec.pruner)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rows::study).transpose()
}

/// Continues a stored study as [`Store::open_study`] describes.
async fn continue_study(
    conn: &mut sqlx::PgConnection,
    stored: Study,
    spec: &StudySpec,
    force: bool,
) -> Result<Study, StoreError> {
    let study = super::continuing::continued(stored, spec, force)?;
    sqlx::query(
        "UPDATE studies SET space_text = $2, space_hash = $3, budget = $4, evaluator = $5 \
         WHERE id = $1",
    )
    .bind(study.id)
    .bind(&study.space_text)
    .bind(&study.space_hash)
    .bind(study.budget as i64)
    .bind(&study.evaluator)
    .execute(&mut *conn)
    .await?;
    Ok(study)
}

/// Locks the study row, serialising claims and rung decisions of the study.
/// `false` when there is no such study.
async fn lock_study(conn: &mut sqlx::PgConnection, study_id: i64) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM studies WHERE id = $1 FOR NO KEY UPDATE")
        .bind(study_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

async fn trial_exists(pool: &PgPool, trial_id: i64) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM trials WHERE id = $1")
        .bind(trial_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

async fn trial_state(pool: &PgPool, trial_id: i64) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT state FROM trials WHERE id = $1")
        .bind(trial_id)
        .fetch_optional(pool)
        .await?)
}

/// Reserves a trial inside `tx`, which holds the study's lock.
async fn claim_locked(
    tx: &mut sqlx::PgConnection,
    study_id: i64,
    trial: &NewTrial,
) -> Result<Claim, StoreError> {
    // As on SQLite: numbers are max + 1 from 0 and trials are never deleted
    // one by one, so `last + 1 - failed` trials use the budget.
    let row = sqlx::query(
        "SELECT s.budget AS budget, \
           (SELECT MAX(number) FROM trials WHERE study_id = s.id) AS last, \
           (SELECT COUNT(*) FROM trials WHERE study_id = s.id AND state = 'failed') AS failed, \
           (SELECT number FROM trials \
             WHERE study_id = s.id AND arch_hash = $2 AND seed = $3 AND state != 'failed' \
             LIMIT 1) AS duplicate \
         FROM studies s WHERE s.id = $1",
    )
    .bind(study_id)
    .bind(&trial.arch_hash)
    .bind(rows::to_db(trial.seed))
    .fetch_one(&mut *tx)
    .await?;
    let budget: i64 = row.try_get("budget")?;
    let last: Option<i64> = row.try_get("last")?;
    let failed: i64 = row.try_get("failed")?;
    let duplicate: Option<i64> = row.try_get("duplicate")?;
    let number = last.map_or(0, |n| n + 1);
    if number - failed >= budget {
        return Ok(Claim::BudgetExhausted);
    }
    if let Some(number) = duplicate {
        return Ok(Claim::Duplicate { number });
    }
    let extra = trial
        .extra
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|source| StoreError::Json {
            what: "trial extra",
            source,
        })?;
    let sql = format!(
        "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, arch_short, seed, \
         worker, extra, started, heartbeat) \
         VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, {SERVER_NOW}, {SERVER_NOW}) \
         RETURNING id, started"
    );
    let inserted = sqlx::query(&sql)
        .bind(study_id)
        .bind(number)
        .bind(&trial.arch_json)
        .bind(&trial.arch_hash)
        .bind(&trial.arch_short)
        .bind(rows::to_db(trial.seed))
        .bind(&trial.worker)
        .bind(extra)
        .fetch_one(&mut *tx)
        .await?;
    let started: f64 = inserted.try_get("started")?;
    Ok(Claim::Claimed(TrialRecord {
        id: inserted.try_get("id")?,
        study_id,
        number,
        state: TrialState::Running,
        arch_json: trial.arch_json.clone(),
        arch_hash: trial.arch_hash.clone(),
        arch_short: trial.arch_short.clone(),
        seed: trial.seed,
        worker: trial.worker.clone(),
        values: Values::new(),
        fail_kind: None,
        error: None,
        extra: trial.extra.clone(),
        started,
        finished: None,
        heartbeat: started,
    }))
}

/// Trial `number` of the study, when it is running for `trial`'s worker with
/// `trial`'s design and seed.
async fn own_running(
    pool: &PgPool,
    study_id: i64,
    number: i64,
    trial: &NewTrial,
) -> Result<Option<TrialRecord>, StoreError> {
    let sql = format!(
        "SELECT {TRIAL_COLUMNS} FROM trials WHERE study_id = $1 AND number = $2 \
         AND state = 'running' AND worker = $3 AND arch_hash = $4 AND seed = $5"
    );
    let row = sqlx::query(&sql)
        .bind(study_id)
        .bind(number)
        .bind(&trial.worker)
        .bind(&trial.arch_hash)
        .bind(rows::to_db(trial.seed))
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::trial).transpose()
}

/// The state, values and curve `finish` writes for an outcome.
fn finish_parts(outcome: &Outcome) -> (TrialState, Option<&str>, Option<&str>) {
    match outcome {
        Outcome::Complete { .. } => (TrialState::Complete, None, None),
        Outcome::Pruned { reason, .. } => (TrialState::Pruned, None, Some(reason.as_str())),
        Outcome::Failed { kind, error } => (
            TrialState::Failed,
            Some(kind.as_str()),
            Some(error.as_str()),
        ),
    }
}

impl Store for PgStore {
    fn open_study(&self, spec: &StudySpec, force: bool) -> Result<Study, StoreError> {
        self.run(|_| async move {
            let mut tx = self.pool.begin().await?;
            // Two processes opening one new study: the insert of one wins,
            // the other finds its row and continues it.
            let study = match insert_study(&mut tx, spec).await? {
                Some(study) => study,
                None => {
                    let stored = study_by_name(&mut tx, &spec.name, true)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("study {}", spec.name)))?;
                    continue_study(&mut tx, stored, spec, force).await?
                }
            };
            tx.commit().await?;
            Ok(study)
        })
    }

    fn find_study(&self, name: &str) -> Result<Option<Study>, StoreError> {
        self.run(|_| async move {
            let mut conn = self.pool.acquire().await?;
            study_by_name(&mut conn, name, false).await
        })
    }

    fn list_studies(&self) -> Result<Vec<StudySummary>, StoreError> {
        self.run(|_| async move {
            let sql = format!(
                "SELECT {cols}, \
                   COUNT(t.id) FILTER (WHERE t.state = 'running') AS n_running, \
                   COUNT(t.id) FILTER (WHERE t.state = 'complete') AS n_complete, \
                   COUNT(t.id) FILTER (WHERE t.state = 'pruned') AS n_pruned, \
                   COUNT(t.id) FILTER (WHERE t.state = 'failed') AS n_failed, \
                   (SELECT MIN(v.value) FROM trials c \
                     JOIN trial_values v ON v.trial_id = c.id AND v.name = 'val_ppl' \
                     WHERE c.study_id = s.id AND c.state = 'complete' AND v.value <> 'NaN') \
                     AS best_val_ppl \
                 FROM studies s LEFT JOIN trials t ON t.study_id = s.id \
                 GROUP BY s.id ORDER BY s.id",
                cols = STUDY_COLUMNS
                    .split(", ")
                    .map(|c| format!("s.{c} AS {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let found = sqlx::query(&sql).fetch_all(&self.pool).await?;
            found
                .iter()
                .map(|row| {
                    Ok(StudySummary {
                        study: rows::study(row)?,
                        running: rows::count(row, "n_running")?,
                        complete: rows::count(row, "n_complete")?,
                        pruned: rows::count(row, "n_pruned")?,
                        failed: rows::count(row, "n_failed")?,
                        best_val_ppl: row.try_get("best_val_ppl")?,
                    })
                })
                .collect()
        })
    }

    fn claim(&self, study_id: i64, trial: &NewTrial) -> Result<Claim, StoreError> {
        self.run(|attempt| async move {
            let mut tx = self.pool.begin().await?;
            if !lock_study(&mut tx, study_id).await? {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            let claim = claim_locked(&mut tx, study_id, trial).await?;
            match claim {
                Claim::Claimed(_) => tx.commit().await?,
                _ => tx.rollback().await?,
            }
            if let (Claim::Duplicate { number }, true) = (&claim, attempt > 0) {
                // A retry of a claim whose commit the server made but whose
                // answer the dropped connection lost: the duplicate is this
                // worker's own running trial (a worker runs one at a time).
                if let Some(own) = own_running(&self.pool, study_id, *number, trial).await? {
                    return Ok(Claim::Claimed(own));
                }
            }
            Ok(claim)
        })
    }

    fn set_budget(&self, study_id: i64, budget: usize) -> Result<(), StoreError> {
        self.run(|_| async move {
            let done = sqlx::query("UPDATE studies SET budget = $2 WHERE id = $1")
                .bind(study_id)
                .bind(budget as i64)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            Ok(())
        })
    }

    fn heartbeat(&self, trial_id: i64) -> Result<(), StoreError> {
        self.run(|_| async move {
            let sql = format!(
                "UPDATE trials SET heartbeat = {SERVER_NOW} WHERE id = $1 AND state = 'running'"
            );
            let done = sqlx::query(&sql).bind(trial_id).execute(&self.pool).await?;
            if done.rows_affected() == 0 && !trial_exists(&self.pool, trial_id).await? {
                return Err(StoreError::NotFound(format!("trial with id {trial_id}")));
            }
            Ok(())
        })
    }

    fn finish(&self, trial_id: i64, outcome: &Outcome) -> Result<bool, StoreError> {
        let (state, kind, error) = finish_parts(outcome);
        let none = Values::new();
        let (values, curve) = match outcome {
            Outcome::Complete { values, curve } | Outcome::Pruned { values, curve, .. } => {
                (values, &curve[..])
            }
            Outcome::Failed { .. } => (&none, &[][..]),
        };
        self.run(|attempt| async move {
            let mut tx = self.pool.begin().await?;
            let sql = format!(
                "UPDATE trials SET state = $2, fail_kind = $3, error = $4, finished = {SERVER_NOW} \
                 WHERE id = $1 AND state = 'running'"
            );
            let changed = sqlx::query(&sql)
                .bind(trial_id)
                .bind(state.as_str())
                .bind(kind)
                .bind(error)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            if changed {
                insert_trial_values(&mut tx, trial_id, values).await?;
                insert_curve(&mut tx, trial_id, curve).await?;
                tx.commit().await?;
                return Ok(true);
            }
            tx.rollback().await?;
            match trial_state(&self.pool, trial_id).await? {
                None => Err(StoreError::NotFound(format!("trial with id {trial_id}"))),
                // A retry of a commit whose answer the dropped connection
                // lost: the trial is already as this call left it.
                Some(stored) if attempt > 0 && stored == state.as_str() => Ok(true),
                Some(_) => Ok(false),
            }
        })
    }

    fn report_rung(
        &self,
        trial_id: i64,
        report: &RungReport,
        judge: &dyn Fn(&[Competitor]) -> bool,
    ) -> Result<RungRuling, StoreError> {
        self.run(|_| async move {
            let mut tx = self.pool.begin().await?;
            let ruling = rungs::report(&mut tx, trial_id, report, judge).await?;
            tx.commit().await?;
            Ok(ruling)
        })
    }

    fn rung_reports(&self, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError> {
        self.run(|_| rungs::all(&self.pool, study_id))
    }

    fn reap_stale(&self, study_id: i64, older_than_s: f64) -> Result<usize, StoreError> {
        self.run(|_| async move {
            let sql = format!(
                "UPDATE trials SET state = 'failed', fail_kind = 'heartbeat_lost', \
                   error = 'heartbeat lost (worker ' || worker || ')', finished = {SERVER_NOW} \
                 WHERE study_id = $1 AND state = 'running' AND heartbeat < {SERVER_NOW} - $2"
            );
            let done = sqlx::query(&sql)
                .bind(study_id)
                .bind(older_than_s)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() as usize)
        })
    }

    fn trials(&self, study_id: i64) -> Result<Vec<TrialRecord>, StoreError> {
        self.run(|_| async move {
            // REPEATABLE READ: both reads see one snapshot, so the values
            // match the trials.
            let mut tx = self.pool.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
            let sql =
                format!("SELECT {TRIAL_COLUMNS} FROM trials WHERE study_id = $1 ORDER BY number");
            let found = sqlx::query(&sql).bind(study_id).fetch_all(&mut *tx).await?;
            let mut trials = found
                .iter()
                .map(rows::trial)
                .collect::<Result<Vec<_>, _>>()?;
            let values = sqlx::query(
                "SELECT v.trial_id AS trial_id, v.name AS name, v.value AS value \
                 FROM trial_values v JOIN trials t ON t.id = v.trial_id WHERE t.study_id = $1",
            )
            .bind(study_id)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            rows::attach_values(&mut trials, &values)?;
            Ok(trials)
        })
    }

    fn curve(&self, trial_id: i64) -> Result<Vec<CurveStep>, StoreError> {
        self.run(|_| async move {
            // Within a step, names in order: the order a curve point's
            // values (a sorted map) were inserted in.
            let found = sqlx::query(
                "SELECT step, name, value FROM curve_values WHERE trial_id = $1 \
                 ORDER BY step, name",
            )
            .bind(trial_id)
            .fetch_all(&self.pool)
            .await?;
            rows::curve(&found)
        })
    }

    fn save_state(&self, study_id: i64, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.run(|_| async move {
            let done = sqlx::query(
                "INSERT INTO strategy_state (study_id, key, value) \
                 SELECT id, $2, $3 FROM studies WHERE id = $1 \
                 ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(study_id)
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            Ok(())
        })
    }

    fn load_state(&self, study_id: i64, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(|_| async move {
            Ok(sqlx::query_scalar(
                "SELECT value FROM strategy_state WHERE study_id = $1 AND key = $2",
            )
            .bind(study_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn delete_study(&self, study_id: i64) -> Result<usize, StoreError> {
        self.run(|_| async move {
            let mut tx = self.pool.begin().await?;
            if !lock_study(&mut tx, study_id).await? {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            let trials: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trials WHERE study_id = $1")
                .bind(study_id)
                .fetch_one(&mut *tx)
                .await?;
            // Every table referencing studies or trials does so ON DELETE
            // CASCADE, which PostgreSQL always honours.
            sqlx::query("DELETE FROM studies WHERE id = $1")
                .bind(study_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(trials.max(0) as usize)
        })
    }

    fn strategy_state(&self, study_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.run(|_| async move {
            let found = sqlx::query(
                "SELECT key, value FROM strategy_state WHERE study_id = $1 ORDER BY key",
            )
            .bind(study_id)
            .fetch_all(&self.pool)
            .await?;
            found
                .iter()
                .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
                .collect()
        })
    }

    fn import_study(&self, dump: &super::dump::StudyDump) -> Result<Study, StoreError> {
        self.run(|_| async move {
            let mut tx = self.pool.begin().await?;
            let study = import::import(&mut tx, dump).await?;
            tx.commit().await?;
            Ok(study)
        })
    }

    fn rename_study(&self, study_id: i64, new_name: &str) -> Result<(), StoreError> {
        self.run(|_| async move {
            let done = sqlx::query("UPDATE studies SET name = $2 WHERE id = $1")
                .bind(study_id)
                .bind(new_name)
                .execute(&self.pool)
                .await;
            match done {
                Err(e) if retry::is_unique_violation(&e) => {
                    Err(StoreError::NameTaken(new_name.to_string()))
                }
                Err(e) => Err(e.into()),
                Ok(done) if done.rows_affected() == 0 => {
                    Err(StoreError::NotFound(format!("study with id {study_id}")))
                }
                Ok(_) => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Budget;
    use super::*;

    /// On the server `NAS_TEST_POSTGRES` names (skipped without it): what a
    /// retried claim whose commit went through finds is its own trial, and
    /// only its own worker's.
    #[test]
    fn a_retried_claim_finds_its_own_trial() {
        let Ok(admin) = std::env::var("NAS_TEST_POSTGRES") else {
            eprintln!("skipping: NAS_TEST_POSTGRES unset");
            return;
        };
        // A database of its own, not the admin one.
        let db = format!("nas_unit_retry_{}", std::process::id());
        let rt = runtime().unwrap();
        let admin_sql = |sql: String| {
            rt.block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&sql).execute(&mut c).await.unwrap();
            })
        };
        admin_sql(format!("DROP DATABASE IF EXISTS {db}"));
        admin_sql(format!("CREATE DATABASE {db}"));
        let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
        let store = PgStore::open(&format!("{base}/{db}")).unwrap();
        let name = "retry".to_string();
        let spec = StudySpec {
            name: name.clone(),
            space_text: String::new(),
            space_hash: "h".into(),
            objectives: vec!["val_ppl".into()],
            strategy: "random".into(),
            evaluator: "analytic".into(),
            seed: 0,
            budget: Budget::Set(5),
            code_version: "test".into(),
            pruner: None,
        };
        let study = store.open_study(&spec, false).unwrap();
        let trial = NewTrial {
            arch_json: "{}".into(),
            arch_hash: "a".into(),
            arch_short: "a".into(),
            seed: 1,
            worker: "host:1:0".into(),
            extra: None,
        };
        let Claim::Claimed(first) = store.claim(study.id, &trial).unwrap() else {
            panic!("first claim")
        };
        // What a retry of that claim sees: a duplicate, which is its own.
        assert_eq!(
            store.claim(study.id, &trial).unwrap(),
            Claim::Duplicate {
                number: first.number
            }
        );
        let own = store
            .rt
            .block_on(own_running(&store.pool, study.id, first.number, &trial))
            .unwrap();
        assert_eq!(own.map(|t| t.id), Some(first.id));
        // Another worker's claim of the same design stays a duplicate.
        let other = NewTrial {
            worker: "host:2:0".into(),
            ..trial.clone()
        };
        assert_eq!(
            store
                .rt
                .block_on(own_running(&store.pool, study.id, first.number, &other))
                .unwrap(),
            None
        );
        drop(store);
        admin_sql(format!("DROP DATABASE {db} WITH (FORCE)"));
    }
}
