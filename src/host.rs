//! Sharing one host's cores among the `nas run` processes on it.
//!
//! Each process that left `--threads` unset joins a registry of this host's
//! searching processes: a file per process in a folder of the temporary
//! directory, held under an exclusive `flock` for as long as the process
//! lives. The kernel drops the lock when the process dies however it dies
//! (SIGKILL included), so counting the files whose lock is held counts the
//! live processes, and a dead one's file is removed by whoever finds it.
//! Before each trial a worker sets libtorch's threads to its share:
//! `cores / (processes x jobs)`, at least one. Measured on 2 cores
//! (README, "Many machines"): two processes each giving libtorch both cores
//! ran 2.5x slower than one; with one thread each they run side by side.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// This process's place in the host's registry; leaving it (drop) removes
/// its file.
#[derive(Debug)]
pub struct HostShare {
    dir: PathBuf,
    own: PathBuf,
    /// Held open: the lock lives as long as the file description.
    _file: File,
    cores: usize,
}

impl HostShare {
    /// Joins the registry in the default folder (`$TMPDIR/nas-host-UID`).
    pub fn join() -> io::Result<HostShare> {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::join_in(&std::env::temp_dir().join(format!("nas-host-{uid}")), cores)
    }

    /// Joins the registry in `dir`, sharing `cores`.
    pub fn join_in(dir: &Path, cores: usize) -> io::Result<HostShare> {
        fs::create_dir_all(dir)?;
        let pid = std::process::id();
        // Locked under a name nobody counts, then renamed: a file that
        // appears as `.lock` is locked already, so no one takes it for a
        // dead process's.
        let fresh = dir.join(format!("{pid}.new"));
        let own = dir.join(format!("{pid}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&fresh)?;
        if !try_lock(&file)? {
            // Another process of the same pid (pid namespaces) holds it.
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is held by another process", fresh.display()),
            ));
        }
        fs::rename(&fresh, &own)?;
        Ok(HostShare {
            dir: dir.to_path_buf(),
            own,
            _file: file,
            cores: cores.max(1),
        })
    }

    /// Live searching processes on this host, this one included. Files of
    /// dead processes are removed on the way.
    pub fn live_processes(&self) -> usize {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return 1;
        };
        let mut live = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path == self.own {
                live += 1;
                continue;
            }
            if path.extension().is_none_or(|e| e != "lock") {
                continue;
            }
            // An open that fails: removed meanwhile by another process
            // that found it dead.
            if let Ok(file) = OpenOptions::new().write(true).open(&path) {
                match try_lock(&file) {
                    Ok(false) => live += 1,
                    // Nobody holds it: its process is gone. (Removed while
                    // we hold the lock; a process reusing the pid makes a
                    // new file.)
                    Ok(true) => {
                        let _ = fs::remove_file(&path);
                    }
                    Err(_) => {}
                }
            }
        }
        live.max(1)
    }

    /// libtorch threads for each of `jobs` concurrent trials of this
    /// process: the host's cores divided among the live processes and their
    /// jobs, at least one.
    pub fn threads_per_job(&self, jobs: usize) -> usize {
        (self.cores / (self.live_processes() * jobs.max(1))).max(1)
    }

    pub fn cores(&self) -> usize {
        self.cores
    }
}

impl Drop for HostShare {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.own);
    }
}

/// Takes the exclusive lock without waiting; `false` when another open
/// file description holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    // SAFETY: flock on a valid, open descriptor.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.kind() == io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_are_counted_while_they_hold_their_lock() {
        let dir = tempfile::tempdir().unwrap();
        let me = HostShare::join_in(dir.path(), 4).unwrap();
        assert_eq!(me.live_processes(), 1);
        assert_eq!(me.threads_per_job(1), 4);
        assert_eq!(me.threads_per_job(2), 2);
        // Another live process: its file, locked by a child that sleeps.
        let other = dir.path().join("999999.lock");
        // -o: only `flock` itself holds the lock, not the `sleep` it runs.
        let mut child = std::process::Command::new("flock")
            .arg("-o")
            .arg(&other)
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while me.live_processes() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(me.live_processes(), 2);
        assert_eq!(me.threads_per_job(1), 2);
        assert_eq!(me.threads_per_job(4), 1, "never fewer than one thread");
        // Killed: its lock goes with it, and its file is cleaned up.
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(me.live_processes(), 1);
        assert!(!other.exists());
        drop(me);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
