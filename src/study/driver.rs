//! The study driver: K workers in one process (and any number of processes on
//! one store) claim trials atomically, evaluate them, and record the outcome.
//!
//! Budget: a study wants `budget` trials that are complete or pruned. Running
//! trials hold a slot; failed ones give it back. A trial left running by a
//! dead process is failed on the next start (at once when its process was on
//! this machine and is gone, otherwise when its heartbeat is older than
//! `stale_after`), so its slot is trained again and none is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::finish::{FinishRetry, ResultLost};
use super::pruning::Pruning;
use super::trial::{new_trial, TrialRun};
use super::{ComputeBudget, StoredStudy};
use crate::device::DeviceChoice;
use crate::evaluate::Evaluator;
use crate::host::HostShare;
use crate::search::Strategy;
use crate::store::{Claim, FailKind, Outcome, Store, StoreError, TrialRecord, TrialState};

/// How a run behaves; the defaults suit both real training and the analytic
/// evaluator.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Trials evaluated at once in this process.
    pub jobs: usize,
    /// A running trial whose heartbeat is older than this is taken as dead.
    pub stale_after: Duration,
    /// How often a training trial refreshes its heartbeat.
    pub heartbeat_every: Duration,
    /// Consecutive proposals of already-evaluated designs before the space is
    /// declared exhausted.
    pub max_duplicate_draws: usize,
    /// How often the local copy of the history is re-read (other processes).
    pub refresh_every: Duration,
    /// How long recording a trial's end is retried after a store error.
    pub finish_retry: FinishRetry,
    /// libtorch threads of each worker (None: leave as set).
    pub threads_per_job: Option<usize>,
    /// When set, each worker takes its share of the host's cores before
    /// every trial ([`HostShare::threads_per_job`]), instead of
    /// `threads_per_job`: processes starting or ending on this host change it.
    pub host_share: Option<std::sync::Arc<HostShare>>,
    /// `--device`: worker k trains on its resolution for k (checked by
    /// the command before the run starts).
    pub device: DeviceChoice,
    /// Trials failing in a row (for reasons of their own, not interruptions)
    /// before the run gives up: failures free their slots, so a study whose
    /// every design fails (a learning rate that always diverges) would
    /// otherwise never end.
    pub max_consecutive_failures: usize,
    /// `--budget-steps` / `--budget-hours`: no trial starts once the study's
    /// trials have spent it, whatever the trial budget says.
    pub compute_budget: Option<ComputeBudget>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 1,
            stale_after: Duration::from_secs(120),
            heartbeat_every: Duration::from_secs(5),
            max_duplicate_draws: 500,
            refresh_every: Duration::from_secs(2),
            finish_retry: FinishRetry::default(),
            threads_per_job: None,
            host_share: None,
            device: DeviceChoice::Cpu,
            max_consecutive_failures: 10,
            compute_budget: None,
        }
    }
}

/// What this process did.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub complete: usize,
    /// Trials a rung stopped (they count towards the budget).
    pub pruned: usize,
    pub failed: usize,
    pub reaped: usize,
    pub interrupted: bool,
    /// The strategy kept proposing evaluated designs: the space is used up.
    pub exhausted: bool,
    /// The run stopped because the study's trials spent the compute budget.
    pub compute_spent: bool,
    /// Set when the run stopped after `max_consecutive_failures` failures in a
    /// row: the last error.
    pub gave_up: Option<String>,
}

impl RunSummary {
    /// The exit status of a run that leaves `complete` trials in its study:
    /// 130 after Ctrl-C; 1 when it gave up, or when trials failed and none has
    /// completed (nothing to show for the run: said to scripts too); else 0.
    pub fn exit_status(&self, complete: usize) -> i32 {
        if self.interrupted {
            super::EXIT_INTERRUPTED
        } else if self.gave_up.is_some() || (complete == 0 && self.failed > 0) {
            1
        } else {
            0
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A trial trained but could not be recorded; the error holds its result.
    #[error(transparent)]
    Lost(#[from] Box<ResultLost>),
    #[error("worker pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Device(#[from] crate::device::DeviceError),
}

/// Identity of this process's workers: `host:pid`.
pub fn process_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Whether a worker id names a process on this machine that no longer runs.
fn is_dead_local_worker(worker: &str, host: &str) -> bool {
    let mut parts = worker.split(':');
    let (Some(h), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    h == host
        && pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
}

/// Fails the running trials whose worker is gone; returns how many.
pub fn reap_dead(
    store: &dyn Store,
    study: &StoredStudy,
    stale_after: Duration,
) -> Result<usize, StoreError> {
    let mut reaped = store.reap_stale(study.id, stale_after.as_secs_f64())?;
    let me = process_id();
    let host = me.split(':').next().unwrap_or_default().to_string();
    for t in store.trials(study.id)? {
        if t.state == TrialState::Running && is_dead_local_worker(&t.worker, &host) {
            let error = format!("worker {} died (process gone)", t.worker);
            let outcome = Outcome::Failed {
                kind: FailKind::WorkerDied,
                error,
            };
            if store.finish(t.id, &outcome)? {
                reaped += 1;
            }
        }
    }
    Ok(reaped)
}

/// The RNG of one proposal: a function of the study seed, how many trials have
/// ended for good ([`TrialRecord::is_settled`]), and how many duplicates were
/// drawn for this slot. A trial failed by an interruption or a dead worker is
/// retried, so it must not move the RNG on, or a resumed study would not
/// propose what the uninterrupted one did; a design that fails on its own
/// must move it on, or it would be proposed again forever.
fn proposal_rng(seed: u64, finished: usize, attempt: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((finished as u64) << 20) | attempt as u64);
    rng
}

/// Where a worker records what its trials did.
#[derive(Clone, Copy)]
struct Ends<'a> {
    shared: &'a Mutex<Shared>,
    summary: &'a Mutex<RunSummary>,
    on_finished: &'a (dyn Fn(&TrialRecord) + Sync),
}

struct Shared {
    strategy: Box<dyn Strategy>,
    history: Vec<TrialRecord>,
    refreshed: Instant,
    consecutive_failures: usize,
}

enum Next {
    Trial(Box<TrialRecord>),
    /// Budget used, but others still run trials that may fail and free slots.
    Wait,
    Done,
    Exhausted,
    /// The study's trials spent the compute budget.
    ComputeSpent,
}

pub struct Driver<'a> {
    pub store: &'a dyn Store,
    pub study: &'a StoredStudy,
    pub evaluator: &'a dyn Evaluator,
    pub options: RunOptions,
    pub interrupted: &'a AtomicBool,
}

impl Driver<'_> {
    /// Runs until the study's budget is met, the space is exhausted or the
    /// run is interrupted. `on_finished` sees every trial this process ends.
    pub fn run(
        &self,
        strategy: Box<dyn Strategy>,
        on_finished: &(dyn Fn(&TrialRecord) + Sync),
    ) -> Result<RunSummary, DriverError> {
        let reaped = reap_dead(self.store, self.study, self.options.stale_after)?;
        let shared = Mutex::new(Shared {
            strategy,
            history: self.store.trials(self.study.id)?,
            refreshed: Instant::now(),
            consecutive_failures: 0,
        });
        let summary = Mutex::new(RunSummary {
            reaped,
            ..Default::default()
        });
        let first_error: Mutex<Option<DriverError>> = Mutex::new(None);
        let pruning = Pruning::of(self.study);
        let me = process_id();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.options.jobs.max(1))
            .build()
            .map_err(|e| DriverError::Pool(e.to_string()))?;
        pool.scope(|scope| {
            for k in 0..self.options.jobs.max(1) {
                let worker = format!("{me}:{k}");
                let (shared, summary, first_error) = (&shared, &summary, &first_error);
                let pruning = pruning.as_ref();
                scope.spawn(move |_| {
                    // OpenMP's thread count is per calling thread: set it in
                    // each worker, not only in the thread that built the pool.
                    if let Some(n) = self.options.threads_per_job {
                        tch::set_num_threads(n as i32);
                    }
                    match self.options.device.resolve(k) {
                        Ok(device) => crate::device::set_worker_device(device),
                        Err(e) => {
                            first_error
                                .lock()
                                .unwrap()
                                .get_or_insert(DriverError::Device(e));
                            self.interrupted.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                    let ends = Ends {
                        shared,
                        summary,
                        on_finished,
                    };
                    if let Err(e) = self.worker_loop(&worker, pruning, ends) {
                        self.interrupted.store(true, Ordering::SeqCst);
                        first_error.lock().unwrap().get_or_insert(e);
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap() {
            return Err(e);
        }
        Ok(summary.into_inner().unwrap())
    }

    fn worker_loop(
        &self,
        worker: &str,
        pruning: Option<&Pruning>,
        ends: Ends<'_>,
    ) -> Result<(), DriverError> {
        let Ends {
            shared,
            summary,
            on_finished,
        } = ends;
        loop {
            if summary.lock().unwrap().gave_up.is_some() {
                return Ok(());
            }
            if self.interrupted.load(Ordering::SeqCst) {
                summary.lock().unwrap().interrupted = true;
                return Ok(());
            }
            let trial = match self.next_trial(worker, shared)? {
                Next::Trial(t) => *t,
                Next::Wait => {
                    std::thread::sleep(Duration::from_millis(500));
                    let reaped = reap_dead(self.store, self.study, self.options.stale_after)?;
                    summary.lock().unwrap().reaped += reaped;
                    continue;
                }
                Next::Done => return Ok(()),
                Next::ComputeSpent => {
                    summary.lock().unwrap().compute_spent = true;
                    return Ok(());
                }
                Next::Exhausted => {
                    summary.lock().unwrap().exhausted = true;
                    return Ok(());
                }
            };
            if let Some(host) = &self.options.host_share {
                tch::set_num_threads(host.threads_per_job(self.options.jobs) as i32);
            }
            let run = TrialRun {
                pruning,
                store: self.store,
                evaluator: self.evaluator,
                interrupted: self.interrupted,
                heartbeat_every: self.options.heartbeat_every,
                finish_retry: self.options.finish_retry,
            };
            let finished = run.run(trial)?;
            let interrupted = finished.interrupted();
            if !finished.recorded {
                // Reaped while it ran (its heartbeat looked lost): the store
                // already counts it failed and its slot is being retrained.
                continue;
            }
            let record = finished.record;
            let failures_in_a_row = {
                let mut s = shared.lock().unwrap();
                if let Some(slot) = s.history.iter_mut().find(|t| t.id == record.id) {
                    *slot = record.clone();
                }
                if record.is_settled() {
                    if record.state == TrialState::Failed {
                        s.consecutive_failures += 1;
                    } else {
                        s.consecutive_failures = 0;
                    }
                }
                s.consecutive_failures
            };
            {
                let mut sum = summary.lock().unwrap();
                match record.state {
                    TrialState::Complete => sum.complete += 1,
                    TrialState::Pruned => sum.pruned += 1,
                    _ => sum.failed += 1,
                }
            }
            on_finished(&record);
            if failures_in_a_row >= self.options.max_consecutive_failures.max(1) {
                summary.lock().unwrap().gave_up = record.error.clone();
                return Ok(());
            }
            if interrupted {
                summary.lock().unwrap().interrupted = true;
                return Ok(());
            }
        }
    }

    /// Asks the strategy and claims the design; draws again on duplicates.
    fn next_trial(&self, worker: &str, shared: &Mutex<Shared>) -> Result<Next, StoreError> {
        let mut s = shared.lock().unwrap();
        if s.refreshed.elapsed() >= self.options.refresh_every {
            s.history = self.store.trials(self.study.id)?;
            s.refreshed = Instant::now();
        }
        if let Some(budget) = self.options.compute_budget {
            // Trials another process finished count once the history is
            // re-read (every `refresh_every`).
            let steps = self.study.space().map_or(0, |space| space.training.steps);
            if budget.is_spent(&s.history, steps) {
                return Ok(Next::ComputeSpent);
            }
        }
        for attempt in 0..self.options.max_duplicate_draws {
            let finished = s.history.iter().filter(|t| t.is_settled()).count();
            let mut rng = proposal_rng(self.study.seed, finished, attempt);
            let Shared {
                strategy, history, ..
            } = &mut *s;
            let Some(proposal) = strategy.ask(history, &mut rng) else {
                return Ok(Next::Exhausted);
            };
            let seed = proposal.seed.unwrap_or(self.study.seed);
            let new = new_trial(&proposal.arch, seed, worker, proposal.extra);
            match self.store.claim(self.study.id, &new)? {
                Claim::Claimed(record) => {
                    s.history.push(record.clone());
                    return Ok(Next::Trial(Box::new(record)));
                }
                Claim::Duplicate { .. } => {
                    // Another process may have finished trials we have not
                    // seen; a fresh history lets history-driven strategies move on.
                    if attempt % 16 == 15 {
                        s.history = self.store.trials(self.study.id)?;
                        s.refreshed = Instant::now();
                    }
                }
                Claim::BudgetExhausted => {
                    s.history = self.store.trials(self.study.id)?;
                    s.refreshed = Instant::now();
                    let others_running = s.history.iter().any(|t| t.state == TrialState::Running);
                    return Ok(if others_running {
                        Next::Wait
                    } else {
                        Next::Done
                    });
                }
            }
        }
        Ok(Next::Exhausted)
    }
}
