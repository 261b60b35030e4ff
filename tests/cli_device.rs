//! `--device` on a machine without CUDA (every CI machine): `auto` and
//! `cpu` train on the CPU; `cuda` is a clear error (exit 2) that writes
//! nothing.

mod common;

use common::{nas, stderr, tree};
use hybrid_nas::device::cuda_count;

#[test]
fn cuda_is_refused_without_a_gpu_and_nothing_is_written() {
    if cuda_count() > 0 {
        eprintln!("skipping: this build sees a GPU");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let before = tree(dir.path());
    for args in [
        &["train", "--steps", "2", "--device", "cuda"][..],
        &["bench", "--steps", "1", "--device", "cuda:0"],
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--trials",
            "2",
            "--device",
            "cuda",
        ],
    ] {
        let out = nas(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no CUDA device"), "{}", stderr(&out));
    }
    assert_eq!(tree(dir.path()), before, "a refused command wrote files");
}

#[test]
fn auto_and_cpu_run_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    for device in ["auto", "cpu"] {
        let out = nas(
            dir.path(),
            &[
                "bench",
                "--arch",
                "d32 S8 A2",
                "--steps",
                "1",
                "--T",
                "32",
                "--B",
                "2",
                "--device",
                device,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(common::stdout(&out).contains("tokens_per_s"));
    }
}
