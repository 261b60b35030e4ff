//! SQLite backend of [`Store`], through sqlx.
//!
//! The database runs in WAL mode so that readers never block the one writer,
//! with `synchronous = NORMAL` (a commit costs no fsync; a power cut may lose
//! the last commits but never corrupts the file) and a long busy timeout so
//! that concurrent writers, from this process or others, queue instead of
//! failing. Every transaction that reads and then writes starts with
//! `BEGIN IMMEDIATE`: a deferred one takes the write lock only at its first
//! write, and SQLite answers "database is locked" at once, without waiting,
//! when another writer committed in between.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::rows;
use super::{
    location, Claim, Column, CurveStep, NewTrial, Outcome, RungReport, RungRuling, Store,
    StoreError, StoredRungReport, Study, StudySpec, StudySummary, TrialRecord, TrialState, Values,
};
use crate::prune::Competitor;
use crate::utc::now;

mod import;
mod open;
mod rungs;
mod snapshot;

static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations");

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections per store. SQLite has one writer at a time; a few connections
/// let readers (listings, `trials`) proceed while workers claim and finish.
const MAX_CONNECTIONS: u32 = 8;
/// Attempts at opening a new database while another process creates it too.
const OPEN_ATTEMPTS: u32 = 20;
/// Named-value rows per INSERT, keeping under SQLite's 32766 bound parameters.
const VALUE_ROWS_PER_INSERT: usize = 1000;

const STUDY_COLUMNS: &str = "id, name, space_text, space_hash, objectives, strategy, evaluator, \
     seed, budget, code_version, created, pruner";

const TRIAL_COLUMNS: &str = "id, study_id, number, state, arch_json, arch_hash, arch_short, seed, \
     worker, fail_kind, error, extra, started, finished, heartbeat";

/// A [`Store`] on one SQLite file. Cheap to share behind an `Arc`; several
/// instances (in one process or many) may use the same file at once.
///
/// Methods block on a private tokio runtime, so they must not be called from
/// inside an async context.
pub struct SqliteStore {
    // Declared before `rt` so that the pool is dropped while the runtime that
    // runs its background tasks still exists.
    pool: SqlitePool,
    rt: tokio::runtime::Runtime,
    path: PathBuf,
    /// For a store an earlier release wrote, opened by a command that only
    /// reads: the migrated copy the pool reads (`path` stays the original,
    /// for messages). Last, so that it outlives the pool.
    snapshot: Option<snapshot::Snapshot>,
}

impl SqliteStore {
    /// Open (creating if missing, with its parent directories) the database at
    /// a path or `sqlite:` URL (see [`location`]), and bring its schema up to
    /// date. A file that is neither empty nor a store of ours is refused
    /// before anything is written to it ([`StoreError::Foreign`]), and so is
    /// one this process may not write ([`StoreError::ReadOnly`]).
    pub fn open(url_or_path: &str) -> Result<SqliteStore, StoreError> {
        let path = location::resolve(url_or_path)?;
        let (pool, rt) = open_writable(&path)?;
        Ok(SqliteStore {
            pool,
            rt,
            path,
            snapshot: None,
        })
    }

    /// Opens a database that must exist already, for commands that only
    /// read: a missing or empty file is [`StoreError::Missing`], not a new
    /// store, and the connections are read-only (nothing is migrated, the
    /// journal mode is left as it is), so a store in a folder nobody may
    /// write still reads. A store an earlier release wrote is read from a
    /// migrated temporary copy ([`SqliteStore::is_snapshot`]); the file itself
    /// is left as it is, for the next command that writes to migrate.
    pub fn open_existing(url_or_path: &str) -> Result<SqliteStore, StoreError> {
        let path = location::resolve(url_or_path)?;
        if !path.exists() {
            return Err(StoreError::Missing(url_or_path.to_string()));
        }
        let rt = runtime()?;
        match rt.block_on(open::inspect(&path))? {
            open::Contents::Absent | open::Contents::Empty => {
                Err(StoreError::Missing(url_or_path.to_string()))
            }
            open::Contents::Ours { pending: true } => {
                let snapshot = rt.block_on(snapshot::take(&path))?;
                drop(rt);
                let (pool, rt) = open_writable(&snapshot.path)?;
                Ok(SqliteStore {
                    pool,
                    rt,
                    path,
                    snapshot: Some(snapshot),
                })
            }
            open::Contents::Ours { pending: false } => {
                let pool = rt.block_on(open::read_only_pool(&path, MAX_CONNECTIONS))?;
                Ok(SqliteStore {
                    pool,
                    rt,
                    path,
                    snapshot: None,
                })
            }
        }
    }

    /// Opens a database that must exist already, for commands that change
    /// what it holds but never create a store (`nas study delete`): a
    /// missing or empty file is [`StoreError::Missing`]; otherwise it opens
    /// as [`SqliteStore::open`] does, migrating a store of an earlier release.
    pub fn open_existing_writable(url_or_path: &str) -> Result<SqliteStore, StoreError> {
        let path = location::resolve(url_or_path)?;
        let rt = runtime()?;
        match rt.block_on(open::inspect(&path))? {
            open::Contents::Absent | open::Contents::Empty => {
                Err(StoreError::Missing(url_or_path.to_string()))
            }
            open::Contents::Ours { .. } => {
                drop(rt);
                Self::open(url_or_path)
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this store reads a migrated copy of [`SqliteStore::path`]
    /// (an earlier release's store opened by [`SqliteStore::open_existing`]).
    pub fn is_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound,
    /// otherwise the problems it found, one per line.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.run(async {
            let rows = sqlx::query("PRAGMA integrity_check")
                .fetch_all(&self.pool)
                .await?;
            let lines = rows
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(lines.join("\n"))
        })
    }

    /// The store's tables and columns (sqlx's bookkeeping left out), sorted.
    pub fn schema(&self) -> Result<Vec<Column>, StoreError> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk \
                 FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT IN ('_sqlx_migrations', 'sqlite_sequence') \
                 ORDER BY 1, 2",
            )
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    // An INTEGER PRIMARY KEY is the rowid, never NULL,
                    // though SQLite does not report it NOT NULL.
                    let not_null =
                        row.try_get::<i64, _>("nn")? != 0 || row.try_get::<i64, _>("pk")? != 0;
                    Ok(Column {
                        table: row.try_get("t")?,
                        name: row.try_get("c")?,
                        kind: row.try_get::<String, _>("ty")?.to_lowercase(),
                        not_null,
                    })
                })
                .collect()
        })
    }

    fn run<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    async fn study_by_name(
        conn: &mut sqlx::SqliteConnection,
        name: &str,
    ) -> Result<Option<Study>, StoreError> {
        let sql = format!("SELECT {STUDY_COLUMNS} FROM studies WHERE name = ?1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(rows::study).transpose()
    }

    async fn trial_exists(&self, trial_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM trials WHERE id = ?1")
            .bind(trial_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the connections cleanly lets the last one checkpoint the WAL
        // into the main file. Blocking is impossible inside an async context,
        // where the connections are simply dropped instead.
        if tokio::runtime::Handle::try_current().is_err() {
            self.rt.block_on(self.pool.close());
        }
    }
}

/// Opens (creating if missing, with its parent directories) the database
/// file at `path` for reading and writing, and migrates it.
fn open_writable(path: &Path) -> Result<(SqlitePool, tokio::runtime::Runtime), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let rt = runtime()?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    let pool = rt.block_on(connect_and_migrate(path, options))?;
    Ok((pool, rt))
}

/// Connect and migrate, retrying while another process is creating the same
/// database: switching a new file to WAL needs an exclusive lock that the busy
/// timeout does not wait for, and two migrators may race to apply the same
/// migration (the loser's attempt rolls back and the next one finds it done).
async fn connect_and_migrate(
    path: &Path,
    options: SqliteConnectOptions,
) -> Result<SqlitePool, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = async {
            // Before any write: a foreign file is refused as it is, and so
            // is a store this process could open only to fail at its first
            // write.
            open::inspect(path).await?;
            if !open::writable(path) {
                return Err(StoreError::ReadOnly(path.display().to_string()));
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .min_connections(0)
                .acquire_timeout(BUSY_TIMEOUT * 2)
                // A local file connection does not go stale; pinging it on every
                // acquire would add a round trip to the connection's thread.
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            if let Err(e) = MIGRATOR.run(&pool).await {
                pool.close().await;
                return Err(StoreError::Migrate(e));
            }
            Ok(pool)
        }
        .await;
        match result {
            Ok(pool) => return Ok(pool),
            Err(e) if attempt < OPEN_ATTEMPTS && is_open_race(&e) => {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_open_race(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlx(e) => is_busy(e),
        StoreError::Migrate(MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _)) => {
            // Busy, or the other migrator's tables/row already exist.
            is_busy(e) || matches!(e, sqlx::Error::Database(_))
        }
        _ => false,
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED, including their extended codes.
fn is_busy(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// The (extended) result code of an error SQLite returned.
pub(crate) fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    db.code().and_then(|c| c.parse::<i32>().ok())
}

/// The store's private runtime: one worker thread, which runs the
/// connections' I/O while a caller blocks on it.
fn runtime() -> Result<tokio::runtime::Runtime, StoreError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("nas-store")
        .enable_all()
        .build()
        .map_err(StoreError::Runtime)
}

/// Inserts a trial's named values, in chunks that stay under SQLite's bound
/// parameter limit (as does [`insert_curve`]).
async fn insert_trial_values(
    tx: &mut sqlx::SqliteConnection,
    trial_id: i64,
    values: &Values,
) -> Result<(), StoreError> {
    let rows: Vec<(&str, f64)> = values.iter().collect();
    for chunk in rows.chunks(VALUE_ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO trial_values (trial_id, name, value) ");
        insert.push_values(chunk, |mut row, (name, value)| {
            row.push_bind(trial_id).push_bind(*name).push_bind(*value);
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn insert_curve(
    tx: &mut sqlx::SqliteConnection,
    trial_id: i64,
    curve: &[CurveStep],
) -> Result<(), StoreError> {
    let rows = super::rows::curve_rows(curve);
    for chunk in rows.chunks(VALUE_ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO curve_values (trial_id, step, name, value) ");
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

impl Store for SqliteStore {
    fn open_study(&self, spec: &StudySpec, force: bool) -> Result<Study, StoreError> {
        self.run(async {
            // IMMEDIATE: two processes opening the same new study must not both
            // insert it.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let study = match Self::study_by_name(&mut tx, &spec.name).await? {
                None => {
                    let objectives = serde_json::to_string(&spec.objectives).map_err(|source| {
                        StoreError::Json {
                            what: "study objectives",
                            source,
                        }
                    })?;
                    let created = now();
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO studies (name, space_text, space_hash, objectives, strategy, \
                         evaluator, seed, budget, code_version, created, pruner) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                    )
                    .bind(&spec.name)
                    .bind(&spec.space_text)
                    .bind(&spec.space_hash)
                    .bind(objectives)
                    .bind(&spec.strategy)
                    .bind(&spec.evaluator)
                    .bind(rows::to_db(spec.seed))
                    .bind(spec.budget.value() as i64)
                    .bind(&spec.code_version)
                    .bind(created)
                    .bind(&spec.pruner)
                    .fetch_one(&mut *tx)
                    .await?;
                    Study {
                        id,
                        name: spec.name.clone(),
                        space_text: spec.space_text.clone(),
                        space_hash: spec.space_hash.clone(),
                        objectives: spec.objectives.clone(),
                        strategy: spec.strategy.clone(),
                        evaluator: Some(spec.evaluator.clone()),
                        seed: spec.seed,
                        budget: spec.budget.value(),
                        code_version: spec.code_version.clone(),
                        created,
                        pruner: spec.pruner.clone(),
                    }
                }
                Some(stored) => {
                    let study = super::continuing::continued(stored, spec, force)?;
                    sqlx::query(
                        "UPDATE studies SET space_text = ?2, space_hash = ?3, budget = ?4, \
                         evaluator = ?5 WHERE id = ?1",
                    )
                    .bind(study.id)
                    .bind(&study.space_text)
                    .bind(&study.space_hash)
                    .bind(study.budget as i64)
                    .bind(&study.evaluator)
                    .execute(&mut *tx)
                    .await?;
                    study
                }
            };
            tx.commit().await?;
            Ok(study)
        })
    }

    fn find_study(&self, name: &str) -> Result<Option<Study>, StoreError> {
        self.run(async {
            let mut conn = self.pool.acquire().await?;
            Self::study_by_name(&mut conn, name).await
        })
    }

    fn list_studies(&self) -> Result<Vec<StudySummary>, StoreError> {
        self.run(async {
            let sql = format!(
                "SELECT {cols}, \
                   COALESCE(SUM(t.state = 'running'), 0) AS n_running, \
                   COALESCE(SUM(t.state = 'complete'), 0) AS n_complete, \
                   COALESCE(SUM(t.state = 'pruned'), 0) AS n_pruned, \
                   COALESCE(SUM(t.state = 'failed'), 0) AS n_failed, \
                   (SELECT MIN(v.value) FROM trials c \
                     JOIN trial_values v ON v.trial_id = c.id AND v.name = 'val_ppl' \
                     WHERE c.study_id = s.id AND c.state = 'complete') AS best_val_ppl \
                 FROM studies s LEFT JOIN trials t ON t.study_id = s.id \
                 GROUP BY s.id ORDER BY s.id",
                cols = STUDY_COLUMNS
                    .split(", ")
                    .map(|c| format!("s.{c} AS {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
            rows.iter()
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
        self.run(async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            // One read for everything the decision needs, each part an index
            // lookup so a claim costs the same at trial 10 and trial 100000.
            // Trials are only ever inserted here, numbered max + 1 from 0, and
            // never deleted one by one, so the study has `last + 1` trials and
            // `last + 1 - failed` of them use the budget; counting the live
            // ones directly would scan the whole study on every claim. Claims
            // keep at most one live trial per (hash, seed), so the duplicate lookup
            // needs no ORDER BY (which would make SQLite walk the study in
            // number order instead of using the hash index).
            let row = sqlx::query(
                "SELECT s.budget AS budget, \
                   (SELECT MAX(number) FROM trials WHERE study_id = s.id) AS last, \
                   (SELECT COUNT(*) FROM trials WHERE study_id = s.id AND state = 'failed') \
                     AS failed, \
                   (SELECT number FROM trials \
                     WHERE study_id = s.id AND arch_hash = ?2 AND seed = ?3 \
                       AND state != 'failed' \
                     LIMIT 1) AS duplicate \
                 FROM studies s WHERE s.id = ?1",
            )
            .bind(study_id)
            .bind(&trial.arch_hash)
            .bind(rows::to_db(trial.seed))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("study with id {study_id}")))?;
            let budget: i64 = row.try_get("budget")?;
            let last: Option<i64> = row.try_get("last")?;
            let failed: i64 = row.try_get("failed")?;
            let duplicate: Option<i64> = row.try_get("duplicate")?;
            let number = last.map_or(0, |n| n + 1);
            if number - failed >= budget {
                tx.rollback().await?;
                return Ok(Claim::BudgetExhausted);
            }
            if let Some(number) = duplicate {
                tx.rollback().await?;
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
            let started = now();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, arch_short, \
                 seed, worker, extra, started, heartbeat) \
                 VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
            )
            .bind(study_id)
            .bind(number)
            .bind(&trial.arch_json)
            .bind(&trial.arch_hash)
            .bind(&trial.arch_short)
            .bind(rows::to_db(trial.seed))
            .bind(&trial.worker)
            .bind(extra)
            .bind(started)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Claim::Claimed(TrialRecord {
                id,
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
        })
    }

    fn heartbeat(&self, trial_id: i64) -> Result<(), StoreError> {
        self.run(async {
            let done =
                sqlx::query("UPDATE trials SET heartbeat = ?2 WHERE id = ?1 AND state = 'running'")
                    .bind(trial_id)
                    .bind(now())
                    .execute(&self.pool)
                    .await?;
            // A trial that stopped running (reaped) is no error here: the
            // worker learns it from `finish`.
            if done.rows_affected() == 0 && !self.trial_exists(trial_id).await? {
                return Err(StoreError::NotFound(format!("trial with id {trial_id}")));
            }
            Ok(())
        })
    }

    fn set_budget(&self, study_id: i64, budget: usize) -> Result<(), StoreError> {
        self.run(async {
            let done = sqlx::query("UPDATE studies SET budget = ?2 WHERE id = ?1")
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

    fn finish(&self, trial_id: i64, outcome: &Outcome) -> Result<bool, StoreError> {
        let none = Values::new();
        let (state, values, kind, error, curve) = match outcome {
            Outcome::Complete { values, curve } => {
                (TrialState::Complete, values, None, None, &curve[..])
            }
            Outcome::Pruned {
                values,
                reason,
                curve,
                ..
            } => (
                TrialState::Pruned,
                values,
                None,
                Some(reason.as_str()),
                &curve[..],
            ),
            Outcome::Failed { kind, error } => (
                TrialState::Failed,
                &none,
                Some(kind.as_str()),
                Some(error.as_str()),
                &[][..],
            ),
        };
        self.run(async {
            // One transaction: the state change, the values and the curve
            // land together or not at all.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let changed = sqlx::query(
                "UPDATE trials SET state = ?2, fail_kind = ?3, error = ?4, finished = ?5 \
                 WHERE id = ?1 AND state = 'running'",
            )
            .bind(trial_id)
            .bind(state.as_str())
            .bind(kind)
            .bind(error)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if changed {
                insert_trial_values(&mut tx, trial_id, values).await?;
                insert_curve(&mut tx, trial_id, curve).await?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
                if !self.trial_exists(trial_id).await? {
                    return Err(StoreError::NotFound(format!("trial with id {trial_id}")));
                }
            }
            Ok(changed)
        })
    }

    fn report_rung(
        &self,
        trial_id: i64,
        report: &RungReport,
        judge: &dyn Fn(&[Competitor]) -> bool,
    ) -> Result<RungRuling, StoreError> {
        self.run(async {
            // IMMEDIATE: the reports read and the one written are one
            // snapshot, so two workers at a rung at once are ordered.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let ruling = rungs::report(&mut tx, trial_id, report, judge).await?;
            tx.commit().await?;
            Ok(ruling)
        })
    }

    fn rung_reports(&self, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError> {
        self.run(rungs::all(&self.pool, study_id))
    }

    fn reap_stale(&self, study_id: i64, older_than_s: f64) -> Result<usize, StoreError> {
        self.run(async {
            let now = now();
            let done = sqlx::query(
                "UPDATE trials SET state = 'failed', fail_kind = 'heartbeat_lost', \
                   error = 'heartbeat lost (worker ' || worker || ')', finished = ?2 \
                 WHERE study_id = ?1 AND state = 'running' AND heartbeat < ?3",
            )
            .bind(study_id)
            .bind(now)
            .bind(now - older_than_s)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() as usize)
        })
    }

    fn trials(&self, study_id: i64) -> Result<Vec<TrialRecord>, StoreError> {
        self.run(async {
            // Two reads in one transaction, so the values match the trials.
            let mut tx = self.pool.begin().await?;
            let sql =
                format!("SELECT {TRIAL_COLUMNS} FROM trials WHERE study_id = ?1 ORDER BY number");
            let rows = sqlx::query(&sql).bind(study_id).fetch_all(&mut *tx).await?;
            let mut trials = rows
                .iter()
                .map(rows::trial)
                .collect::<Result<Vec<_>, _>>()?;
            let values = sqlx::query(
                "SELECT v.trial_id AS trial_id, v.name AS name, v.value AS value \
                 FROM trial_values v JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ?1",
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
        self.run(async {
            let rows = sqlx::query(
                "SELECT step, name, value FROM curve_values \
                 WHERE trial_id = ?1 ORDER BY step, rowid",
            )
            .bind(trial_id)
            .fetch_all(&self.pool)
            .await?;
            rows::curve(&rows)
        })
    }

    fn save_state(&self, study_id: i64, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.run(async {
            // Inserting through a SELECT on the study turns a missing study into
            // "no row written" rather than a foreign-key error. (The WHERE also
            // keeps SQLite from reading ON CONFLICT as a join constraint.)
            let done = sqlx::query(
                "INSERT INTO strategy_state (study_id, key, value) \
                 SELECT id, ?2, ?3 FROM studies WHERE id = ?1 \
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
        self.run(async {
            let value = sqlx::query_scalar(
                "SELECT value FROM strategy_state WHERE study_id = ?1 AND key = ?2",
            )
            .bind(study_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            Ok(value)
        })
    }

    fn delete_study(&self, study_id: i64) -> Result<usize, StoreError> {
        self.run(async {
            // Explicit deletes rather than relying on ON DELETE CASCADE, which
            // SQLite honours only on connections with foreign keys enabled.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut trials = 0;
            for (table, sql) in STUDY_ROWS {
                let done = sqlx::query(sql).bind(study_id).execute(&mut *tx).await?;
                if *table == "trials" {
                    trials = done.rows_affected() as usize;
                }
            }
            let done = sqlx::query("DELETE FROM studies WHERE id = ?1")
                .bind(study_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            tx.commit().await?;
            Ok(trials)
        })
    }

    fn strategy_state(&self, study_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT key, value FROM strategy_state WHERE study_id = ?1 ORDER BY key",
            )
            .bind(study_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
                .collect()
        })
    }

    fn import_study(&self, dump: &super::dump::StudyDump) -> Result<Study, StoreError> {
        self.run(async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let study = import::import(&mut tx, dump).await?;
            tx.commit().await?;
            Ok(study)
        })
    }

    fn rename_study(&self, study_id: i64, new_name: &str) -> Result<(), StoreError> {
        self.run(async {
            // IMMEDIATE: the check and the update see the same names, so two
            // renames to one name cannot both pass the check.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let taken = sqlx::query("SELECT 1 FROM studies WHERE name = ?1")
                .bind(new_name)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(StoreError::NameTaken(new_name.to_string()));
            }
            let done = sqlx::query("UPDATE studies SET name = ?2 WHERE id = ?1")
                .bind(study_id)
                .bind(new_name)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("study with id {study_id}")));
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// The rows of a study outside `studies`, table by table, children first:
/// every table that references `studies` or `trials` (a unit test checks
/// that none is missing).
const STUDY_ROWS: &[(&str, &str)] = &[
    (
        "curve_values",
        "DELETE FROM curve_values WHERE trial_id IN (SELECT id FROM trials WHERE study_id = ?1)",
    ),
    (
        "trial_values",
        "DELETE FROM trial_values WHERE trial_id IN (SELECT id FROM trials WHERE study_id = ?1)",
    ),
    (
        "rung_reports",
        "DELETE FROM rung_reports WHERE study_id = ?1",
    ),
    ("trials", "DELETE FROM trials WHERE study_id = ?1"),
    (
        "strategy_state",
        "DELETE FROM strategy_state WHERE study_id = ?1",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleting_a_study_covers_every_table_that_references_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("nas.db").to_str().unwrap()).unwrap();
        let referencing: Vec<String> = store
            .run(async {
                sqlx::query_scalar::<_, String>(
                    "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                     WHERE m.type = 'table' AND f.\"table\" IN ('studies', 'trials') \
                     ORDER BY m.name",
                )
                .fetch_all(&store.pool)
                .await
            })
            .unwrap();
        let mut covered: Vec<String> = STUDY_ROWS.iter().map(|(t, _)| t.to_string()).collect();
        covered.sort();
        assert_eq!(referencing, covered);
    }

    #[test]
    fn state_names() {
        for s in [
            TrialState::Running,
            TrialState::Complete,
            TrialState::Pruned,
            TrialState::Failed,
        ] {
            assert_eq!(s.to_string().parse::<TrialState>().unwrap(), s);
        }
        assert!("done".parse::<TrialState>().is_err());
    }
}
