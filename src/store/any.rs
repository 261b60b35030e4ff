//! The store a `--storage` value names: a SQLite file (a path or a
//! `sqlite:` URL) or a PostgreSQL database (`postgres://…`). Commands open
//! an [`AnyStore`] and talk to it through [`Store`].

use super::{
    is_postgres_url, Claim, Column, CurveStep, NewTrial, Outcome, PgStore, RungReport, RungRuling,
    SqliteStore, Store, StoreError, StoredRungReport, Study, StudySpec, StudySummary, TrialRecord,
};
use crate::prune::Competitor;

/// One of the two backends.
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Calls the same method on whichever backend `$store` is.
macro_rules! each {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            AnyStore::Sqlite($s) => $call,
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl AnyStore {
    /// Opens, creating and migrating as needed ([`SqliteStore::open`],
    /// [`PgStore::open`]).
    pub fn open(location: &str) -> Result<AnyStore, StoreError> {
        if is_postgres_url(location) {
            PgStore::open(location).map(AnyStore::Postgres)
        } else {
            SqliteStore::open(location).map(AnyStore::Sqlite)
        }
    }

    /// Opens a store that must exist, for commands that only read.
    pub fn open_existing(location: &str) -> Result<AnyStore, StoreError> {
        if is_postgres_url(location) {
            PgStore::open_existing(location).map(AnyStore::Postgres)
        } else {
            SqliteStore::open_existing(location).map(AnyStore::Sqlite)
        }
    }

    /// Opens a store that must exist, for commands that change it.
    pub fn open_existing_writable(location: &str) -> Result<AnyStore, StoreError> {
        if is_postgres_url(location) {
            PgStore::open_existing_writable(location).map(AnyStore::Postgres)
        } else {
            SqliteStore::open_existing_writable(location).map(AnyStore::Sqlite)
        }
    }

    /// Where it is, for messages: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            AnyStore::Sqlite(s) => s.path().display().to_string(),
            AnyStore::Postgres(s) => s.location().to_string(),
        }
    }

    /// Whether reads come from a migrated copy of an earlier release's
    /// SQLite store (never so for PostgreSQL).
    pub fn is_snapshot(&self) -> bool {
        matches!(self, AnyStore::Sqlite(s) if s.is_snapshot())
    }

    /// The tables and columns, in terms both backends share.
    pub fn schema(&self) -> Result<Vec<Column>, StoreError> {
        each!(self, s => s.schema())
    }
}

impl Store for AnyStore {
    fn open_study(&self, spec: &StudySpec, force: bool) -> Result<Study, StoreError> {
        each!(self, s => s.open_study(spec, force))
    }

    fn find_study(&self, name: &str) -> Result<Option<Study>, StoreError> {
        each!(self, s => s.find_study(name))
    }

    fn list_studies(&self) -> Result<Vec<StudySummary>, StoreError> {
        each!(self, s => s.list_studies())
    }

    fn claim(&self, study_id: i64, trial: &NewTrial) -> Result<Claim, StoreError> {
        each!(self, s => s.claim(study_id, trial))
    }

    fn set_budget(&self, study_id: i64, budget: usize) -> Result<(), StoreError> {
        each!(self, s => s.set_budget(study_id, budget))
    }

    fn heartbeat(&self, trial_id: i64) -> Result<(), StoreError> {
        each!(self, s => s.heartbeat(trial_id))
    }

    fn finish(&self, trial_id: i64, outcome: &Outcome) -> Result<bool, StoreError> {
        each!(self, s => s.finish(trial_id, outcome))
    }

    fn report_rung(
        &self,
        trial_id: i64,
        report: &RungReport,
        judge: &dyn Fn(&[Competitor]) -> bool,
    ) -> Result<RungRuling, StoreError> {
        each!(self, s => s.report_rung(trial_id, report, judge))
    }

    fn rung_reports(&self, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError> {
        each!(self, s => s.rung_reports(study_id))
    }

    fn reap_stale(&self, study_id: i64, older_than_s: f64) -> Result<usize, StoreError> {
        each!(self, s => s.reap_stale(study_id, older_than_s))
    }

    fn trials(&self, study_id: i64) -> Result<Vec<TrialRecord>, StoreError> {
        each!(self, s => s.trials(study_id))
    }

    fn curve(&self, trial_id: i64) -> Result<Vec<CurveStep>, StoreError> {
        each!(self, s => s.curve(trial_id))
    }

    fn save_state(&self, study_id: i64, key: &str, value: &[u8]) -> Result<(), StoreError> {
        each!(self, s => s.save_state(study_id, key, value))
    }

    fn load_state(&self, study_id: i64, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.load_state(study_id, key))
    }

    fn delete_study(&self, study_id: i64) -> Result<usize, StoreError> {
        each!(self, s => s.delete_study(study_id))
    }

    fn strategy_state(&self, study_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        each!(self, s => s.strategy_state(study_id))
    }

    fn import_study(&self, dump: &super::dump::StudyDump) -> Result<Study, StoreError> {
        each!(self, s => s.import_study(dump))
    }

    fn rename_study(&self, study_id: i64, new_name: &str) -> Result<(), StoreError> {
        each!(self, s => s.rename_study(study_id, new_name))
    }
}
