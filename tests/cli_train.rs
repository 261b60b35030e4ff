//! `nas train` and `nas bench` through the command line.

mod common;

use common::{nas, stderr, stdout, write_corpus};

#[test]
fn train_writes_checkpoint_architecture_and_metrics_and_reloads_them() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 20_000);
    let corpus = corpus.to_str().unwrap();
    let args = [
        "train",
        "--arch",
        "d32 S8 A4*",
        "--corpus",
        corpus,
        "--steps",
        "8",
        "--batch",
        "4",
        "--seq-len",
        "16",
        "--eval-interval",
        "4",
        "--eval-batches",
        "2",
        "--out",
        "run1",
        "--json",
    ];
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let metrics: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(metrics["arch"], "d32 S8 A4*");
    assert_eq!(metrics["report"]["curve"].as_array().unwrap().len(), 2);
    let run = dir.path().join("run1");
    for file in ["model.safetensors", "arch.toml", "metrics.json"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // The written architecture file trains again unchanged.
    let out = nas(
        dir.path(),
        &[
            "train",
            "--arch",
            "run1/arch.toml",
            "--corpus",
            corpus,
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "8",
            "--eval-batches",
            "1",
            "--out",
            "run2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("d32 S8 A4*"));
}

/// A second run of the same design and seed goes to a fresh folder instead
/// of replacing the first one's checkpoint; `--overwrite` replaces it; each
/// text checkpoint has its vocabulary beside it.
#[test]
fn a_second_train_never_replaces_the_first_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 5_000);
    let corpus = corpus.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--arch",
            "d16 S4",
            "--corpus",
            corpus,
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "8",
            "--eval-batches",
            "1",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = nas(dir.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let metrics: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        std::path::PathBuf::from(metrics["checkpoint"].as_str().unwrap())
    };
    let first = train(&[]);
    let second = train(&[]);
    assert_ne!(first, second, "the second run replaced the first");
    let (first_dir, second_dir) = (first.parent().unwrap(), second.parent().unwrap());
    assert_eq!(
        second_dir.file_name().unwrap().to_str().unwrap(),
        format!("{}-2", first_dir.file_name().unwrap().to_str().unwrap())
    );
    let first_bytes = std::fs::metadata(dir.path().join(&first))
        .unwrap()
        .modified()
        .unwrap();
    let again = train(&["--overwrite"]);
    assert_eq!(again, first, "--overwrite writes the default folder");
    assert_ne!(
        std::fs::metadata(dir.path().join(&first))
            .unwrap()
            .modified()
            .unwrap(),
        first_bytes
    );

    let vocab: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(first_dir).join("vocab.json")).unwrap(),
    )
    .unwrap();
    let tokens: Vec<&str> = vocab["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let mut chars: Vec<char> = std::fs::read_to_string(corpus).unwrap().chars().collect();
    chars.sort_unstable();
    chars.dedup();
    let expected: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    assert_eq!(tokens, expected, "token i is the i-th distinct character");
}

#[test]
fn bad_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[architecture]\nd_model = 64\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["train", "--corpus", "missing.txt"],
            "missing.txt: file not found",
        ),
        (&["train", "--corpus", "empty.txt"], "empty"),
        (
            &["train", "--arch", "d64 A3"],
            "3 attention heads do not divide d_model 64",
        ),
        (&["train", "--arch", "bad.toml"], "bad.toml"),
    ];
    for (args, expected) in cases {
        let out = nas(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(
        !dir.path().join("runs").exists(),
        "nothing is written on bad input"
    );
}

#[test]
fn sizes_over_the_caps_or_the_memory_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    common::write_corpus(dir.path(), 30_000);
    let deep = format!("d64{}", " S16".repeat(300));
    let cases: [(&[&str], &str); 4] = [
        (
            &["train", "--arch", "d16384 S16"],
            "d_model 16384 is above the cap of 8192",
        ),
        (
            &[
                "eval",
                "--space",
                "tiny",
                "--evaluator",
                "analytic",
                "--arch",
                &deep,
            ],
            "depth 300 is above the cap of 256",
        ),
        (
            &["train", "--corpus", "corpus.txt", "--steps", "100000000"],
            "steps 100000000 is above the cap of 1000000",
        ),
        (
            &["train", "--corpus", "corpus.txt", "--batch", "100000"],
            "batch size 100000 is above the cap of 4096",
        ),
    ];
    for (args, expected) in cases {
        let out = nas(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    if hybrid_nas::memory::system_available().is_some() {
        // Within the caps, but far beyond any machine: refused with the numbers.
        let args = [
            "train",
            "--corpus",
            "corpus.txt",
            "--arch",
            "d4096 A32 A32 A32 A32",
            "--batch",
            "4096",
            "--seq-len",
            "2048",
            "--steps",
            "1",
        ];
        let out = nas(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the training does not fit in memory: estimated peak"),
            "{err}"
        );
        assert!(err.contains("is available (MemAvailable)"), "{err}");
    }
    assert!(!dir.path().join("runs").exists(), "nothing is written");
}

#[test]
fn bench_prints_the_peer_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(
        dir.path(),
        &[
            "bench", "--arch", "SAS", "--d", "32", "--T", "16", "--B", "2", "--steps", "1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    for key in ["params", "step_ms", "tokens_per_s", "arch", "d", "T", "B"] {
        assert!(line.get(key).is_some(), "missing {key}");
    }
    assert!(line["tokens_per_s"].as_f64().unwrap() > 0.0);
}

/// `--sweep-T`: one JSON line per design and length, each measured in a
/// process of its own (a peak of its own), with the cost model's figures
/// beside; the figure is written; a bad length or figure name exits 2
/// before anything runs.
#[test]
fn bench_sweep_prints_one_measured_line_per_point_and_draws_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(
        dir.path(),
        &[
            "bench",
            "--sweep-T",
            "64,16",
            "--steps",
            "1",
            "--arch",
            "SA",
            "AA",
            "--d",
            "16",
            "--heads",
            "2",
            "--json",
            "--plot",
            "sweep.svg",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let points: Vec<(&str, u64)> = lines
        .iter()
        .map(|l| (l["arch"].as_str().unwrap(), l["T"].as_u64().unwrap()))
        .collect();
    assert_eq!(points, [("SA", 16), ("SA", 64), ("AA", 16), ("AA", 64)]);
    for l in &lines {
        for key in ["ms_per_token", "forward_ms", "flops_per_token"] {
            assert!(l[key].as_f64().unwrap() > 0.0, "{key}: {l}");
        }
        let peak = l["peak_bytes"].as_u64().unwrap();
        let baseline = l["baseline_bytes"].as_u64().unwrap();
        assert!(peak >= baseline && baseline > 0, "{l}");
        assert_eq!(l["model_peak_bytes"].as_u64().unwrap(), peak - baseline);
    }
    // Cost model: the KV cache grows with T, the SSM state does not.
    assert_eq!(
        lines[1]["kv_cache_bytes"].as_u64().unwrap(),
        4 * lines[0]["kv_cache_bytes"].as_u64().unwrap()
    );
    assert_eq!(lines[0]["ssm_state_bytes"], lines[1]["ssm_state_bytes"]);
    let svg = std::fs::read_to_string(dir.path().join("sweep.svg")).unwrap();
    assert!(svg.contains("<svg"), "a figure");

    for bad in [["--sweep-T", "0"], ["--plot", "sweep.pdf"]] {
        let mut args = vec!["bench", "--sweep-T", "16", "--arch", "SA", "--d", "16"];
        args.extend(bad);
        let out = nas(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "nothing ran: {bad:?}");
    }
}

/// `--decode`: one line per design and context, with the bytes held; a
/// global attention layer's cache grows with the context, the SSM's state
/// and a windowed cache do not.
#[test]
fn bench_decode_prints_latency_and_bytes_per_context() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(
        dir.path(),
        &[
            "bench",
            "--decode",
            "--context",
            "16,8",
            "--steps",
            "2",
            "--threads",
            "1",
            "--arch",
            "d16 S4 A2w4",
            "d16 A2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rows: Vec<(&str, u64)> = lines
        .iter()
        .map(|l| (l["arch"].as_str().unwrap(), l["context"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("d16 S4 A2w4", 8),
            ("d16 S4 A2w4", 16),
            ("d16 A2", 8),
            ("d16 A2", 16)
        ]
    );
    for l in &lines {
        assert!(l["token_ms"].as_f64().unwrap() > 0.0);
        let parts: u64 = ["kv_cache", "conv_window", "ssm_state"]
            .iter()
            .map(|k| l[k].as_u64().unwrap())
            .sum();
        assert_eq!(l["state_bytes"].as_u64().unwrap(), parts);
    }
    // A key and a value of 16 f32 per token: the window of 4 holds 4, the
    // global cache every token.
    let kv = |i: usize| lines[i]["kv_cache"].as_u64().unwrap();
    assert_eq!((kv(0), kv(1)), (4 * 2 * 16 * 4, 4 * 2 * 16 * 4));
    assert_eq!((kv(2), kv(3)), (8 * 2 * 16 * 4, 16 * 2 * 16 * 4));
    assert_eq!(lines[0]["ssm_state"], lines[1]["ssm_state"]);
    assert!(lines[0]["ssm_state"].as_u64().unwrap() > 0);
}
