//! Studies: the rules of one search, shared by every command that records
//! trials.
//!
//! - [`StudyConfig`] is what a command asks for (a parsed space, a strategy,
//!   objectives, an evaluator, a seed, a budget), checked before anything is
//!   stored; [`open_or_continue`] creates the study or continues it under the
//!   rules a study keeps (same strategy, seed, evaluator and space unless
//!   forced).
//! - [`StoredStudy`] is a study read back from the store as types: its space
//!   parsed once, here, with one failure policy.
//! - [`trial::TrialRun`] is the one path by which a claimed trial is
//!   evaluated and recorded (heartbeat, panic catch, Ctrl-C, finish), used by
//!   the [`driver::Driver`] of `nas run` and by `nas eval` alike.
//!   Its end is recorded through [`finish`], which retries store errors for a
//!   bounded time and, failing, returns the result in its error.
//!   At each rung of a pruning study it reports through [`pruning`], and the
//!   store decides whether it goes on.
//! - [`name`] is the alphabet of new study names, and the safe path
//!   component of any stored one.
//! - [`ThreadSplit`] divides the machine's cores between concurrent trials.
//! - [`frame`] lays a study's trials out as one table for a data frame;
//!   [`manage`] deletes and renames studies; [`groups`] aggregates a
//!   design's repeats (mean and standard deviation over seeds), and
//!   [`report`] lays the designs out as the lecture's tables.

mod compute;
mod config;
pub mod curves;
pub mod darts;
pub mod driver;
pub mod fidelity;
pub mod finish;
pub mod frame;
pub mod groups;
pub mod interrupt;
pub mod manage;
pub mod name;
pub mod pruning;
pub mod replay;
pub mod report;
mod stored;
pub mod trial;

pub use compute::{compute, trial_steps, Compute, ComputeBudget};
pub use config::{
    darts_budget, open_or_continue, open_or_continue_noting, BudgetLowered, Opened, StudyConfig,
    StudyRequest,
};
pub use name::StudyNameError;
pub use stored::{find, list, StoredStudy};

use crate::data::DataError;
use crate::names::UnknownName;
use crate::search::darts::DartsError;
use crate::search::SearchError;
use crate::space::{SpaceError, StrategyName};
use crate::store::StoreError;

/// Exit status after Ctrl-C, as shells report SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// What proposes a study's designs: a strategy of the space, or whoever
/// calls `nas eval --study` (an external optimiser).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StudyStrategy {
    Search(StrategyName),
    External,
}

impl StudyStrategy {
    pub const EXTERNAL: &'static str = "external";

    /// The name stored with the study.
    pub fn as_str(&self) -> &'static str {
        match self {
            StudyStrategy::Search(s) => s.as_str(),
            StudyStrategy::External => Self::EXTERNAL,
        }
    }

    /// The space strategy, unless the study is external.
    pub fn search(&self) -> Option<StrategyName> {
        match self {
            StudyStrategy::Search(s) => Some(*s),
            StudyStrategy::External => None,
        }
    }
}

impl std::fmt::Display for StudyStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StudyStrategy {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == Self::EXTERNAL {
            return Ok(StudyStrategy::External);
        }
        s.parse().map(StudyStrategy::Search)
    }
}

/// How the cores of this process are divided: each of `jobs` concurrent
/// trials gets `threads / jobs` libtorch threads (at least one); a DARTS
/// supernet, one model, gets them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadSplit {
    pub threads: usize,
    pub jobs: usize,
}

impl ThreadSplit {
    pub fn new(threads: usize, jobs: usize) -> Self {
        ThreadSplit {
            threads: threads.max(1),
            jobs: jobs.max(1),
        }
    }

    pub fn per_job(&self) -> usize {
        (self.threads / self.jobs).max(1)
    }

    /// Sets libtorch's threads for trials. OpenMP's count is per calling
    /// thread: set before the worker pool starts, its threads inherit it.
    pub fn apply_per_job(&self) {
        tch::set_num_threads(self.per_job() as i32);
    }

    /// Runs `work` (a supernet) with every thread, then goes back to the
    /// trials' share.
    pub fn with_all<T>(&self, work: impl FnOnce() -> T) -> T {
        tch::set_num_threads(self.threads as i32);
        let result = work();
        self.apply_per_job();
        result
    }
}

/// Why a study cannot be opened, continued or read.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The request breaks a rule of the study; the message says which and
    /// how to go on. Nothing was stored.
    #[error("{0}")]
    Refused(String),
    #[error(
        "study `{study}` was created with a different search space (the space file changed); \
         pass --force to continue it with this space, or --study NEW_NAME to start another"
    )]
    SpaceChanged { study: String },
    #[error("no study `{name}` in this store (studies: {known})")]
    NotFound { name: String, known: String },
    /// A stored study whose space no longer parses (written by another
    /// version, or edited by hand).
    #[error(
        "study `{study}`: its stored search space cannot be read by this version (continue it \
         with --force and a space file this version accepts)"
    )]
    StoredSpace {
        study: String,
        #[source]
        source: std::sync::Arc<SpaceError>,
    },
    #[error("study `{study}`: the store holds {what}")]
    Corrupt { study: String, what: String },
    /// A new study's name breaks [`name::RULE`].
    #[error(transparent)]
    Name(#[from] StudyNameError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Strategy(#[from] SearchError),
    #[error(transparent)]
    Darts(#[from] DartsError),
    #[error(transparent)]
    Data(#[from] DataError),
}

impl StudyError {
    /// Whether the user can fix it by changing the command (exit status 2).
    pub fn is_usage(&self) -> bool {
        match self {
            StudyError::Refused(_)
            | StudyError::SpaceChanged { .. }
            | StudyError::NotFound { .. }
            | StudyError::StoredSpace { .. }
            | StudyError::Name(_)
            | StudyError::Data(_)
            | StudyError::Darts(DartsError::TooShort { .. }) => true,
            StudyError::Store(e) => e.is_usage(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_round_trip_through_their_names() {
        for s in [
            StudyStrategy::External,
            StudyStrategy::Search(StrategyName::Random),
            StudyStrategy::Search(StrategyName::Darts),
        ] {
            assert_eq!(s.as_str().parse::<StudyStrategy>().unwrap(), s);
        }
        assert!("grid-ish".parse::<StudyStrategy>().is_err());
    }

    #[test]
    fn threads_split_between_jobs() {
        assert_eq!(ThreadSplit::new(2, 1).per_job(), 2);
        assert_eq!(ThreadSplit::new(2, 2).per_job(), 1);
        assert_eq!(ThreadSplit::new(2, 4).per_job(), 1);
        assert_eq!(ThreadSplit::new(16, 3).per_job(), 5);
        assert_eq!(ThreadSplit::new(0, 0), ThreadSplit::new(1, 1));
    }
}
