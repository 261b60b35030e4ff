//! Recording how a trial ended, with bounded retries. A trial may have
//! trained for minutes; a store error at that moment (another process
//! holding the write lock past the busy timeout, a full disk, a damaged
//! table) must not throw the result away on the first try. The finish is
//! retried with growing pauses for a bounded time, and if it still fails the
//! error carries the result, so that it is printed rather than lost silently.

use std::time::{Duration, Instant};

use crate::store::{Outcome, Store, StoreError, TrialRecord};

/// How long to keep trying to record a trial's end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinishRetry {
    /// The pause after the first failure; each next one doubles, up to
    /// `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts after this long (each attempt itself may wait
    /// the store's busy timeout).
    pub give_up_after: Duration,
}

impl Default for FinishRetry {
    fn default() -> Self {
        FinishRetry {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
            give_up_after: Duration::from_secs(120),
        }
    }
}

/// A trial that ended but whose end could not be stored: the message holds
/// the result (every value of a complete trial), the cause follows it.
#[derive(Debug, thiserror::Error)]
#[error(
    "trial {number} ({arch}) ended but could not be recorded ({attempts} attempt(s) in \
     {seconds:.0} s); the store still shows it running, and the next run marks it failed and \
     trains its slot again. Its result, not stored: {result}"
)]
pub struct ResultLost {
    pub number: i64,
    pub arch: String,
    pub attempts: u32,
    pub seconds: f64,
    /// The outcome in words: `complete: val_ppl=…, params=…`, or the failure.
    pub result: String,
    #[source]
    pub source: StoreError,
}

/// Records `outcome` for the running `trial`, retrying database errors
/// under `retry` (the error boxed: it is rare, and large). `Ok(false)`: the store had already failed the trial (its
/// heartbeat looked lost) and kept that.
pub fn finish(
    store: &dyn Store,
    trial: &TrialRecord,
    outcome: &Outcome,
    retry: FinishRetry,
) -> Result<bool, Box<ResultLost>> {
    let start = Instant::now();
    let mut delay = retry.first_delay;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match store.finish(trial.id, outcome) {
            Ok(recorded) => return Ok(recorded),
            Err(e) => e,
        };
        let out_of_time = start.elapsed() + delay > retry.give_up_after;
        if !is_retried(&error) || out_of_time {
            return Err(Box::new(ResultLost {
                number: trial.number,
                arch: trial.arch_short.clone(),
                attempts,
                seconds: start.elapsed().as_secs_f64(),
                result: describe(outcome),
                source: error,
            }));
        }
        tracing::warn!(
            "recording trial {} failed ({error}); trying again in {:.1} s",
            trial.number,
            delay.as_secs_f64()
        );
        std::thread::sleep(delay);
        delay = (delay * 2).min(retry.max_delay);
    }
}

/// Database errors may pass (a lock released, space freed); a missing
/// trial or an unreadable row will not.
fn is_retried(e: &StoreError) -> bool {
    matches!(e, StoreError::Sqlx(_))
}

/// An outcome in words, with every value of a complete trial.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Complete { values, curve } => {
            let values: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "complete: {} ({} curve points)",
                values.join(", "),
                curve.len()
            )
        }
        Outcome::Pruned { reason, .. } => format!("pruned: {reason}"),
        Outcome::Failed { kind, error } => format!("failed [{kind}]: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::prune::Competitor;
    use crate::store::{
        Budget, Claim, CurveStep, NewTrial, RungReport, RungRuling, SqliteStore, StoredRungReport,
        Study, StudySpec, StudySummary, TrialState, Values,
    };

    /// A store whose first `failures` finishes fail with a database error
    /// (as a lock held past the busy timeout does), or every one when
    /// `failures` is `usize::MAX`.
    struct Flaky {
        inner: SqliteStore,
        failures: usize,
        calls: AtomicUsize,
    }

    impl Store for Flaky {
        fn open_study(&self, spec: &StudySpec, force: bool) -> Result<Study, StoreError> {
            self.inner.open_study(spec, force)
        }
        fn find_study(&self, name: &str) -> Result<Option<Study>, StoreError> {
            self.inner.find_study(name)
        }
        fn list_studies(&self) -> Result<Vec<StudySummary>, StoreError> {
            self.inner.list_studies()
        }
        fn claim(&self, study_id: i64, trial: &NewTrial) -> Result<Claim, StoreError> {
            self.inner.claim(study_id, trial)
        }
        fn set_budget(&self, study_id: i64, budget: usize) -> Result<(), StoreError> {
            self.inner.set_budget(study_id, budget)
        }
        fn heartbeat(&self, trial_id: i64) -> Result<(), StoreError> {
            self.inner.heartbeat(trial_id)
        }
        fn finish(&self, trial_id: i64, outcome: &Outcome) -> Result<bool, StoreError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(StoreError::Sqlx(sqlx::Error::PoolTimedOut));
            }
            self.inner.finish(trial_id, outcome)
        }
        fn report_rung(
            &self,
            trial_id: i64,
            report: &RungReport,
            judge: &dyn Fn(&[Competitor]) -> bool,
        ) -> Result<RungRuling, StoreError> {
            self.inner.report_rung(trial_id, report, judge)
        }
        fn rung_reports(&self, study_id: i64) -> Result<Vec<StoredRungReport>, StoreError> {
            self.inner.rung_reports(study_id)
        }
        fn reap_stale(&self, study_id: i64, older_than_s: f64) -> Result<usize, StoreError> {
            self.inner.reap_stale(study_id, older_than_s)
        }
        fn trials(&self, study_id: i64) -> Result<Vec<TrialRecord>, StoreError> {
            self.inner.trials(study_id)
        }
        fn curve(&self, trial_id: i64) -> Result<Vec<CurveStep>, StoreError> {
            self.inner.curve(trial_id)
        }
        fn save_state(&self, study_id: i64, key: &str, value: &[u8]) -> Result<(), StoreError> {
            self.inner.save_state(study_id, key, value)
        }
        fn load_state(&self, study_id: i64, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.load_state(study_id, key)
        }
        fn delete_study(&self, study_id: i64) -> Result<usize, StoreError> {
            self.inner.delete_study(study_id)
        }
        fn rename_study(&self, study_id: i64, new_name: &str) -> Result<(), StoreError> {
            self.inner.rename_study(study_id, new_name)
        }

        fn strategy_state(&self, study_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
            self.inner.strategy_state(study_id)
        }

        fn import_study(&self, dump: &crate::store::dump::StudyDump) -> Result<Study, StoreError> {
            self.inner.import_study(dump)
        }
    }

    fn fast() -> FinishRetry {
        FinishRetry {
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            give_up_after: Duration::from_millis(300),
        }
    }

    /// A store with one running trial, failing its first `failures` finishes.
    fn running(dir: &tempfile::TempDir, failures: usize) -> (Flaky, TrialRecord) {
        let inner = SqliteStore::open(dir.path().join("nas.db").to_str().unwrap()).unwrap();
        let spec = StudySpec {
            name: "s".into(),
            space_text: String::new(),
            space_hash: "h".into(),
            objectives: vec!["val_ppl".into()],
            strategy: "random".into(),
            evaluator: "analytic".into(),
            seed: 0,
            budget: Budget::Set(1),
            code_version: "test".into(),
            pruner: None,
        };
        let study = inner.open_study(&spec, false).unwrap();
        let new = NewTrial {
            arch_json: "{}".into(),
            arch_hash: "a".into(),
            arch_short: "d32 S8 A4".into(),
            seed: 0,
            worker: "w".into(),
            extra: None,
        };
        let Claim::Claimed(trial) = inner.claim(study.id, &new).unwrap() else {
            panic!("claimed")
        };
        let store = Flaky {
            inner,
            failures,
            calls: AtomicUsize::new(0),
        };
        (store, trial)
    }

    fn complete() -> Outcome {
        let values: Values = [("val_ppl", 7.25), ("params", 1234.0)]
            .into_iter()
            .collect();
        Outcome::Complete {
            values,
            curve: vec![],
        }
    }

    #[test]
    fn a_passing_store_error_is_retried_until_the_trial_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let (store, trial) = running(&dir, 3);
        assert!(finish(&store, &trial, &complete(), fast()).unwrap());
        assert_eq!(store.calls.load(Ordering::SeqCst), 4);
        let stored = &store.trials(trial.study_id).unwrap()[0];
        assert_eq!(stored.state, TrialState::Complete);
        assert_eq!(stored.value("val_ppl"), Some(7.25));
    }

    #[test]
    fn a_lasting_store_error_gives_up_in_bounded_time_and_says_what_was_lost() {
        let dir = tempfile::tempdir().unwrap();
        let (store, trial) = running(&dir, usize::MAX);
        let start = Instant::now();
        let lost = finish(&store, &trial, &complete(), fast()).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(lost.attempts > 1, "retried: {}", lost.attempts);
        let message = lost.to_string();
        for part in [
            "trial 0",
            "d32 S8 A4",
            "val_ppl=7.25",
            "params=1234",
            "running",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
        // The cause is the error's source, not repeated in its message.
        assert!(std::error::Error::source(&lost).is_some());
        assert!(!message.contains("pool timed out"), "{message}");
    }

    #[test]
    fn a_missing_trial_is_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let (store, mut trial) = running(&dir, 0);
        trial.id += 100;
        let lost = finish(&store, &trial, &complete(), fast()).unwrap_err();
        assert_eq!(lost.attempts, 1);
        assert!(matches!(lost.source, StoreError::NotFound(_)));
    }
}
