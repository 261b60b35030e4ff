//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub mod backends;

/// A small corpus with learnable structure: sentences from a tiny grammar,
/// drawn by a fixed linear congruential sequence (no RNG crate needed).
pub fn synthetic_text(chars: usize) -> String {
    let subjects = ["the cat", "a dog", "my friend", "the king", "our queen"];
    let verbs = ["sees", "likes", "finds", "calls", "follows"];
    let objects = [
        "the moon.",
        "a bird.",
        "the sea.",
        "her crown.",
        "his horse.",
    ];
    let mut state: u64 = 42;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    let mut text = String::new();
    while text.len() < chars {
        text.push_str(subjects[next(5)]);
        text.push(' ');
        text.push_str(verbs[next(5)]);
        text.push(' ');
        text.push_str(objects[next(5)]);
        text.push('\n');
    }
    text
}

pub fn write_corpus(dir: &Path, chars: usize) -> PathBuf {
    let path = dir.join("corpus.txt");
    std::fs::write(&path, synthetic_text(chars)).unwrap();
    path
}

/// Runs the built `nas` binary in `cwd` with 2 libtorch threads. A
/// `NAS_STORAGE` of the caller's environment is removed: tests name their
/// stores, or mean the default `runs/nas.db` of `cwd`.
pub fn nas(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(cwd)
        .env_remove("NAS_STORAGE")
        .args(["--threads", "2"])
        .args(args)
        .output()
        .expect("the nas binary runs")
}

/// Starts the built `nas` binary in `cwd` with 1 libtorch thread (so that
/// two of them share the cores), stdout discarded and stderr piped.
pub fn spawn_nas(cwd: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(cwd)
        .env_remove("NAS_STORAGE")
        .args(["--threads", "1"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nas binary starts")
}

/// Starts `nas args` ten times in `cwd`, each killed with SIGKILL after 60
/// to 460 ms unless it ended first; the delays are a fixed sequence from
/// `seed`, so that a test is repeatable. Returns how many were killed.
pub fn kill_ten_times(cwd: &Path, args: &[&str], seed: u64) -> usize {
    let mut delay = seed;
    let mut killed = 0;
    for _ in 0..10 {
        let mut child = spawn_nas(cwd, args);
        std::thread::sleep(Duration::from_millis(60 + delay % 400));
        delay = delay * 7919 % 10007;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
    }
    killed
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nas run` of the bundled tiny space on analytic stand-in values (a
/// trial takes milliseconds), `trials` trials, then `extra` arguments.
pub fn run_tiny(dir: &Path, trials: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--space",
        "tiny",
        "--evaluator",
        "analytic",
        "--trials",
        trials,
    ];
    args.extend_from_slice(extra);
    nas(dir, &args)
}

/// Every path under `root`, relative to it.
pub fn tree(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            }
        }
    }
    out
}
