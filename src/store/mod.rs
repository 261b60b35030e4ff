//! The trial store: every study and trial of a search, durable across runs.
//!
//! [`Store`] is the seam the search talks to; [`SqliteStore`] is the default
//! backend. The trait is synchronous because the search runs on rayon worker
//! threads; a backend that needs async I/O hides its own runtime.
//!
//! Several workers, threads or processes, may share one study. Two operations
//! make that safe: [`Store::claim`] reserves a budget slot and a trial number
//! atomically (and refuses an architecture already being evaluated), and
//! [`Store::reap_stale`] hands back the slots of workers that died.

mod any;
mod columns;
mod continuing;
mod costs;
pub mod dump;
mod errors;
pub mod location;
mod postgres;
mod rows;
mod sqlite;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use self::any::AnyStore;
pub use self::columns::Column;
pub use self::location::resolve as database_path;
pub use self::postgres::{is_postgres_url, redact, PgStore};
pub use self::sqlite::SqliteStore;
pub use crate::metrics::{CurveStep, Values};
use crate::prune::Competitor;

/// Where a trial is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    Running,
    Complete,
    Pruned,
    Failed,
}

impl TrialState {
    /// The name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialState::Running => "running",
            TrialState::Complete => "complete",
            TrialState::Pruned => "pruned",
            TrialState::Failed => "failed",
        }
    }
}

impl fmt::Display for TrialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrialState {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(TrialState::Running),
            "complete" => Ok(TrialState::Complete),
            "pruned" => Ok(TrialState::Pruned),
            "failed" => Ok(TrialState::Failed),
            other => Err(StoreError::InvalidState(other.to_string())),
        }
    }
}

/// Why a failed trial failed. Whether it is retried follows from the kind
/// alone ([`FailKind::is_retried`]), never from the wording of its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// The loss became NaN or infinite: the design (or its settings) fails.
    Diverged,
    /// Any other error of the evaluation (libtorch, an unreadable design).
    Error,
    /// Ctrl-C stopped it.
    Interrupted,
    /// Its process on this machine is gone.
    WorkerDied,
    /// Its worker stopped refreshing the heartbeat.
    HeartbeatLost,
}

impl FailKind {
    pub const ALL: [FailKind; 5] = [
        FailKind::Diverged,
        FailKind::Error,
        FailKind::Interrupted,
        FailKind::WorkerDied,
        FailKind::HeartbeatLost,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::Diverged => "diverged",
            FailKind::Error => "error",
            FailKind::Interrupted => "interrupted",
            FailKind::WorkerDied => "worker_died",
            FailKind::HeartbeatLost => "heartbeat_lost",
        }
    }

    /// Failures that say nothing about the design: its slot is trained
    /// again, with the same proposal.
    pub fn is_retried(self) -> bool {
        matches!(
            self,
            FailKind::Interrupted | FailKind::WorkerDied | FailKind::HeartbeatLost
        )
    }
}

impl fmt::Display for FailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailKind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FailKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StoreError::Invalid {
                what: "failure kind",
                value: s.to_string(),
            })
    }
}

/// What a user asks for when starting or continuing a study. The store
/// keeps the names as written; `crate::study` reads them back as types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySpec {
    pub name: String,
    /// The search space file as given, kept so a study can be inspected later.
    pub space_text: String,
    pub space_hash: String,
    pub objectives: Vec<String>,
    pub strategy: String,
    /// Which evaluator scores the trials (`train`, `analytic`).
    pub evaluator: String,
    pub seed: u64,
    /// Trials to evaluate (running, complete and pruned ones count; failed
    /// ones do not).
    pub budget: Budget,
    pub code_version: String,
    /// The pruner's settings as JSON, `None` when nothing is pruned. A
    /// continued study keeps its own.
    pub pruner: Option<String>,
}

/// The budget [`Store::open_study`] gives a study. Decided inside its
/// transaction, so that two processes opening one study at once cannot undo
/// each other's `--trials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Budget {
    /// This budget, new study or not (`--trials`).
    Set(usize),
    /// A new study gets this budget; a continued one keeps its own, unless
    /// `force` replaces its space, which then brings this budget.
    KeepOr(usize),
}

impl Budget {
    /// The budget of a new study.
    pub fn value(&self) -> usize {
        match *self {
            Budget::Set(n) | Budget::KeepOr(n) => n,
        }
    }
}

/// A stored study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub id: i64,
    pub name: String,
    pub space_text: String,
    pub space_hash: String,
    pub objectives: Vec<String>,
    pub strategy: String,
    /// `None` only for a study an earlier release created and no trial of
    /// which completed (its evaluator could not be told); the next run
    /// records its own.
    pub evaluator: Option<String>,
    pub seed: u64,
    pub budget: usize,
    pub code_version: String,
    /// Unix seconds.
    pub created: f64,
    /// The pruner's settings as JSON; `None`: every trial trains to the end.
    pub pruner: Option<String>,
}

/// A study with its trial counts, for listings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySummary {
    pub study: Study,
    pub running: usize,
    pub complete: usize,
    pub pruned: usize,
    pub failed: usize,
    /// Lowest validation perplexity among complete trials.
    pub best_val_ppl: Option<f64>,
}

/// A trial a worker wants to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTrial {
    pub arch_json: String,
    /// Dedup key, with `seed`: a study evaluates each (hash, seed) at most
    /// once (failures aside).
    pub arch_hash: String,
    pub arch_short: String,
    pub seed: u64,
    /// Who runs it (e.g. `host:pid:thread`), named when its heartbeat is lost.
    pub worker: String,
    /// Strategy information, e.g. the parent trial or a DARTS lambda.
    pub extra: Option<serde_json::Value>,
}

/// The answer to [`Store::claim`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// One value per trial: its size does not matter, and an unboxed record keeps
// matching on it simple.
#[allow(clippy::large_enum_variant)]
pub enum Claim {
    /// The trial is reserved and running; the worker must `finish` it.
    Claimed(TrialRecord),
    /// The architecture is already running or evaluated with this seed as trial `number`.
    Duplicate { number: i64 },
    /// The study has as many live or finished trials as its budget allows.
    BudgetExhausted,
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Complete {
        values: Values,
        curve: Vec<CurveStep>,
    },
    /// Stopped at a rung: its values there (validation loss and the costs
    /// it was ranked with), why, and its curve up to the rung.
    Pruned {
        step: usize,
        values: Values,
        reason: String,
        curve: Vec<CurveStep>,
    },
    Failed {
        kind: FailKind,
        error: String,
    },
}

/// A stored trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub id: i64,
    pub study_id: i64,
    /// Per-study sequence number, from 0; never reused.
    pub number: i64,
    pub state: TrialState,
    pub arch_json: String,
    pub arch_hash: String,
    pub arch_short: String,
    pub seed: u64,
    pub worker: String,
    /// What it measured, by name: at the end when complete, at the rung it
    /// stopped at when pruned ([`crate::metrics::PRUNED_AT`] names the step);
    /// empty otherwise.
    pub values: Values,
    /// Set exactly when the trial failed.
    pub fail_kind: Option<FailKind>,
    /// The failure message, or the reason a trial was pruned.
    pub error: Option<String>,
    pub extra: Option<serde_json::Value>,
    /// Unix seconds.
    pub started: f64,
    pub finished: Option<f64>,
    pub heartbeat: f64,
}

impl TrialRecord {
    /// A stored value of a complete trial (`metrics::VAL_PPL`, ...).
    pub fn value(&self, name: &str) -> Option<f64> {
        self.values.get(name)
    }

    pub fn is_complete(&self) -> bool {
        self.state == TrialState::Complete
    }

    /// The step a pruned trial stopped at.
    pub fn pruned_at(&self) -> Option<usize> {
        (self.state == TrialState::Pruned)
            .then(|| self.value(crate::metrics::PRUNED_AT))
            .flatten()
            .map(|s| s as usize)
    }

    /// Its state for listings: `pruned@33` for a trial a rung stopped at
    /// step 33, else the state's name.
    pub fn state_label(&self) -> String {
        match self.pruned_at() {
            Some(step) => format!("pruned@{step}"),
            None => self.state.to_string(),
        }
    }

    /// Seconds from its start to its end; `None` while it runs. Never
    /// negative, even when the clocks of two machines sharing a store
    /// disagree.
    pub fn duration(&self) -> Option<f64> {
        self.finished.map(|f| (f - self.started).max(0.0))
    }

    /// Complete with values: a trial that can be ranked, plotted, exported.
    pub fn is_scored(&self) -> bool {
        self.is_complete() && !self.values.is_empty()
    }

    /// Whether the trial has ended for good: complete, pruned, or failed for
    /// a reason of its design. A trial failed by an interruption or a dead
    /// worker will be retried, and is not.
    pub fn is_settled(&self) -> bool {
        match self.state {
            TrialState::Complete | TrialState::Pruned => true,
            TrialState::Failed => !self.fail_kind.is_some_and(FailKind::is_retried),
            TrialState::Running => false,
        }
    }
}

/// A running trial's validation loss at a rung of its bracket, with the
/// costs it is ranked by there.
#[derive(Debug, Clone, PartialEq)]
pub struct RungReport {
    pub bracket: usize,
    pub step: usize,
    pub competitor: Competitor,
}

/// A stored rung report, as [`Store::rung_reports`] reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRungReport {
    pub trial_id: i64,
    pub bracket: usize,
    pub step: usize,
    pub competitor: Competitor,
    pub promoted: bool,
}

/// What [`Store::report_rung`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RungRuling {
    /// Whether the trial trains on past the rung.
    pub promoted: bool,
    /// Trials that have reported at this rung, this one included.
    pub reached: usize,
    /// The decision is the one an earlier trial of the same design and seed
    /// got here (a retry after a crash), not a new one.
    pub repeated: bool,
}

/// Why a store operation failed. Each message is whole: a database error is
/// described once (its code and what it means here), not as a chain of
/// wrappers repeating one another.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {}", errors::describe_sqlx(.0))]
    Sqlx(sqlx::Error),
    #[error(
        "cannot bring the database schema up to date: {} \
         (if another version of nas wrote this database, use that version or another file)",
        errors::describe_migrate(.0)
    )]
    Migrate(sqlx::migrate::MigrateError),
    #[error(
        "{path} is a SQLite database of another program (tables: {tables}); nas leaves it \
         untouched: pass --storage with a nas store or a new file"
    )]
    Foreign { path: String, tables: String },
    #[error(
        "the PostgreSQL database {url} holds tables of another program ({tables}); nas leaves \
         it untouched: pass --storage with a database of its own (createdb nas)"
    )]
    ForeignDatabase { url: String, tables: String },
    #[error(
        "{0} is not a SQLite database; nas leaves it untouched: pass --storage with a nas store \
         or a new file"
    )]
    NotSqlite(String),
    #[error(
        "the store {0} is read-only here (this process may not write the file or its folder, \
         which SQLite needs for its journal); commands that only read it (studies, trials, \
         pareto, darts, export) still work"
    )]
    ReadOnly(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "study '{study}' was created with a different search space; \
         force it to replace the stored space, or use another study name"
    )]
    SpaceMismatch { study: String },
    #[error("{0} not found in the database")]
    NotFound(String),
    #[error("no store at {0} (run `nas run` first, or pass --storage or set NAS_STORAGE)")]
    Missing(String),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid PostgreSQL URL '{url}': {reason} (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)")]
    BadPostgresUrl { url: String, reason: String },
    #[error(
        "the PostgreSQL store {url} stayed unreachable for {seconds} s: {reason} \
         (is the server running, and does it accept this user from this host?)"
    )]
    Unreachable {
        url: String,
        seconds: u64,
        reason: String,
    },
    #[error("cannot start the database runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error(
        "invalid database location '{0}': expected a file path, sqlite:///RELATIVE/PATH, \
         sqlite:////ABSOLUTE/PATH, sqlite://PATH or sqlite:PATH"
    )]
    BadLocation(String),
    #[error(
        "storage '{url}' is ambiguous: as in SQLAlchemy it names the relative path {relative}, \
         which does not exist, but sqlx reads it as {absolute}, which does; write \
         sqlite:///{absolute} (four slashes) or {absolute} for that file, or {relative} for a \
         new store there"
    )]
    AmbiguousLocation {
        url: String,
        relative: String,
        absolute: String,
    },
    #[error("a study named `{0}` exists already in this store; choose another name")]
    NameTaken(String),
    #[error(
        "unknown trial state '{0}' in the database (expected running, complete, pruned or failed)"
    )]
    InvalidState(String),
    #[error("unknown {what} '{value}' in the database")]
    Invalid { what: &'static str, value: String },
    #[error("invalid JSON in the database ({what}): {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

// Not `#[from]`: that would make the sqlx error the source too, and a
// printed chain would repeat what the message already says.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Sqlx(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

impl StoreError {
    /// Whether the user can fix it by changing the command (exit status 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            StoreError::SpaceMismatch { .. }
                | StoreError::NotFound(_)
                | StoreError::Missing(_)
                | StoreError::BadLocation(_)
                | StoreError::BadPostgresUrl { .. }
                | StoreError::AmbiguousLocation { .. }
                | StoreError::NameTaken(_)
                | StoreError::Foreign { .. }
                | StoreError::ForeignDatabase { .. }
                | StoreError::NotSqlite(_)
                | StoreError::ReadOnly(_)
        )
    }
}

/// Persistent storage of studies and trials, safe to share between threads
/// (and, for backends that allow it, processes).
pub trait Store: Send + Sync {
    /// Create the study, or continue it. Continuing with a different
    /// `space_hash` is [`StoreError::SpaceMismatch`] unless `force` (then the
    /// stored space text and hash are replaced). The budget follows
    /// [`Budget`]; the other fields keep their stored values, except an
    /// evaluator the study did not record yet, which is taken from `spec`.
    fn open_study(&self, spec: &StudySpec, force: bool) -> Result<Study, StoreError>;

    fn find_study(&self, name: &str) -> Result<Option<Study>, StoreError>;

    /// All studies, oldest first, with their trial counts.
    fn list_studies(&self) -> Result<Vec<StudySummary>, StoreError>;

    /// Atomically reserve a trial: [`Claim::BudgetExhausted`] when running +
    /// complete + pruned trials reach the budget, else [`Claim::Duplicate`]
    /// when a running, complete or pruned trial has the same `arch_hash` and
    /// `seed` (only grid studies give one design several seeds), else
    /// insert a running trial numbered one past the study's highest number.
    fn claim(&self, study_id: i64, trial: &NewTrial) -> Result<Claim, StoreError>;

    /// Set the study's budget (DARTS, once it knows how many designs it derived).
    fn set_budget(&self, study_id: i64, budget: usize) -> Result<(), StoreError>;

    /// Record that the worker of a running trial is alive.
    fn heartbeat(&self, trial_id: i64) -> Result<(), StoreError>;

    /// Record how a running trial ended, with its curve, in one transaction.
    /// Returns `Ok(false)` and changes nothing if the trial was no longer
    /// running (e.g. reaped after a lost heartbeat).
    fn finish(&self, trial_id: i64, outcome: &Outcome) -> Result<bool, StoreError>;

    /// Records that running trial `trial_id` reached a rung and decides, in
    /// the same write transaction, whether it continues: `judge` gets every
    /// report at this rung of this bracket in arrival order, this one last,
    /// and says whether the last one is promoted. A design and seed already
    /// judged at this step (an earlier trial of it, retried after a crash)
    /// gets that decision again and nothing is added. A trial no longer
    /// running is promoted without a report: `finish` will refuse it anyway.
    fn report_rung(
        &self,
        trial_id: i64,
        report: &RungReport,
        judge: &dyn Fn(&[Competitor]) -> bool,
    ) -> Result<RungRuling, StoreError>;

    /// Every rung report of a study, in the order they were decided.
    fn rung_reports(&self, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError>;

    /// Fail the study's running trials whose heartbeat is older than
    /// `older_than_s` seconds ([`FailKind::HeartbeatLost`]), giving their
    /// budget slots back. Returns how many.
    fn reap_stale(&self, study_id: i64, older_than_s: f64) -> Result<usize, StoreError>;

    /// All trials of a study ordered by number.
    fn trials(&self, study_id: i64) -> Result<Vec<TrialRecord>, StoreError>;

    /// The learning curve of a trial, ordered by step.
    fn curve(&self, trial_id: i64) -> Result<Vec<CurveStep>, StoreError>;

    /// Store opaque per-study strategy state (e.g. DARTS architecture weights).
    fn save_state(&self, study_id: i64, key: &str, value: &[u8]) -> Result<(), StoreError>;

    fn load_state(&self, study_id: i64, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Delete a study with its trials, their values and curves, and its
    /// strategy state, in one transaction. Returns how many trials it had.
    fn delete_study(&self, study_id: i64) -> Result<usize, StoreError>;

    /// Every strategy-state entry of a study, by key.
    fn strategy_state(&self, study_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Writes a study read from another store ([`dump::StudyDump`]) with its
    /// trials, values, curves, rung reports and strategy state, in one
    /// transaction, keeping trial numbers, states and times. A name this
    /// store has already is [`StoreError::NameTaken`] and writes nothing.
    fn import_study(&self, dump: &dump::StudyDump) -> Result<Study, StoreError>;

    /// Give a study another name; a name another study has is
    /// [`StoreError::NameTaken`] and changes nothing.
    fn rename_study(&self, study_id: i64, new_name: &str) -> Result<(), StoreError>;
}
