//! Ctrl-C: the first one asks the running work to stop cleanly (a running
//! trial is recorded as interrupted, a supernet checkpoints); a second one
//! exits at once with [`EXIT_INTERRUPTED`](super::EXIT_INTERRUPTED).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process's interrupt flag, with the Ctrl-C handler installed on the
/// first call (a process has one handler; later calls share the flag).
pub fn flag() -> Arc<AtomicBool> {
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        // Failing to install (another handler exists, as in some test
        // harnesses) leaves Ctrl-C at its default: the process stops.
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                std::process::exit(super::EXIT_INTERRUPTED);
            }
            eprintln!(
                "\ninterrupt: stopping cleanly; work in progress is recorded as interrupted \
                 (Ctrl-C again to quit now)"
            );
        });
        flag
    })
    .clone()
}
