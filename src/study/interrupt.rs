//! Ctrl-C, and the signals that ask a process to stop (SIGTERM, sent by
//! `timeout`, Slurm and `docker stop`; SIGHUP, when the terminal closes):
//! the first one asks the running work to stop cleanly (a running trial is
//! recorded as interrupted, a supernet checkpoints); a second one exits at
//! once with [`EXIT_INTERRUPTED`](super::EXIT_INTERRUPTED).
//!
//! What the first one prints depends on what is running ([`Activity`]),
//! which the commands declare as they go.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static ACTIVITY: AtomicU8 = AtomicU8::new(Activity::Trials as u8);

/// What an interrupt stops, for the message it prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Activity {
    /// Trials train (`nas run`, `nas eval --study`).
    Trials = 0,
    /// A DARTS supernet trains.
    Supernet = 1,
}

impl Activity {
    fn from_u8(v: u8) -> Activity {
        match v {
            1 => Activity::Supernet,
            _ => Activity::Trials,
        }
    }
}

/// Says what an interrupt would stop from now on.
pub fn set_activity(activity: Activity) {
    ACTIVITY.store(activity as u8, Ordering::SeqCst);
}

/// The line printed on the first interrupt while `activity` runs.
pub fn message(activity: Activity) -> &'static str {
    match activity {
        Activity::Trials => {
            "interrupt: stopping cleanly; the running trial is recorded as interrupted and \
             trained again by the next run (interrupt again to quit now)"
        }
        Activity::Supernet => {
            "interrupt: stopping cleanly; the supernet saves a checkpoint that the same command \
             continues from (interrupt again to quit now)"
        }
    }
}

/// The process's interrupt flag, with the handler of SIGINT, SIGTERM and
/// SIGHUP installed on the first call (a process has one handler; later
/// calls share the flag).
pub fn flag() -> Arc<AtomicBool> {
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        // Failing to install (another handler exists, as in some test
        // harnesses) leaves the signals at their default: the process stops.
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                std::process::exit(super::EXIT_INTERRUPTED);
            }
            let activity = Activity::from_u8(ACTIVITY.load(Ordering::SeqCst));
            eprintln!("\n{}", message(activity));
        });
        flag
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_fits_what_runs() {
        let trials = message(Activity::Trials);
        assert!(trials.contains("trial") && !trials.contains("supernet"));
        assert!(!trials.contains("checkpoint"));
        let supernet = message(Activity::Supernet);
        assert!(supernet.contains("supernet") && supernet.contains("checkpoint"));
        for a in [Activity::Trials, Activity::Supernet] {
            assert_eq!(Activity::from_u8(a as u8), a);
        }
    }
}
