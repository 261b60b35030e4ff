//! `nas generate` on a checkpoint that `nas train` wrote: reproducible
//! sampling, greedy decoding, the prompt's vocabulary, and checkpoints it
//! cannot use.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use common::{stderr, stdout, synthetic_text, write_corpus};

const PROMPT: &str = "the cat";

/// `nas` on one libtorch thread: models this small gain nothing from a
/// second, and on a busy machine the second thread's spin-waits make each
/// step many times slower.
fn nas(cwd: &Path, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    args.extend_from_slice(&["--threads", "1"]);
    common::nas(cwd, &args)
}

/// One tiny text model for every test here: it trains in about a second,
/// and every layer kind's decode state is on the path (SSM, windowed and
/// global attention).
fn checkpoint() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let corpus = write_corpus(dir.path(), 5_000);
        let out = nas(
            dir.path(),
            &[
                "train",
                "--arch",
                "d16 S4 A2w4 A2",
                "--corpus",
                corpus.to_str().unwrap(),
                "--steps",
                "6",
                "--batch",
                "4",
                "--seq-len",
                "16",
                "--eval-interval",
                "6",
                "--eval-batches",
                "1",
                "--out",
                "model",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    })
    .path()
}

fn generate(extra: &[&str]) -> Output {
    let mut args = vec!["generate", "--checkpoint", "model", "--prompt", PROMPT];
    args.extend_from_slice(extra);
    nas(checkpoint(), &args)
}

/// The text printed: the prompt, then the generated characters, then a newline.
fn text(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    let printed = stdout(out);
    printed
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no final newline: {printed:?}"))
        .to_string()
}

#[test]
fn output_is_the_prompt_then_the_requested_number_of_corpus_characters() {
    let printed = text(&generate(&["--tokens", "37", "--seed", "3"]));
    let generated = printed
        .strip_prefix(PROMPT)
        .unwrap_or_else(|| panic!("does not start with the prompt: {printed:?}"));
    assert_eq!(generated.chars().count(), 37, "{printed:?}");
    let corpus = synthetic_text(5_000);
    for c in generated.chars() {
        assert!(corpus.contains(c), "{c:?} is not a corpus character");
    }
    // The default length.
    let printed = text(&generate(&[]));
    assert_eq!(printed.chars().count(), PROMPT.chars().count() + 200);
}

#[test]
fn the_same_seed_gives_the_same_text_and_another_seed_another() {
    let run = |seed: &str| text(&generate(&["--temperature", "1", "--seed", seed]));
    let first = run("11");
    assert_eq!(first, run("11"));
    assert_ne!(
        first,
        run("12"),
        "200 characters drawn alike from two seeds"
    );
    let top_k = |seed: &str| text(&generate(&["--top-k", "3", "--seed", seed]));
    assert_eq!(top_k("4"), top_k("4"));
}

#[test]
fn greedy_decoding_does_not_depend_on_the_seed() {
    let greedy = |seed: &str| {
        text(&generate(&[
            "--temperature",
            "0",
            "--seed",
            seed,
            "--tokens",
            "80",
        ]))
    };
    assert_eq!(greedy("1"), greedy("2"));
}

#[test]
fn a_prompt_character_outside_the_vocabulary_is_a_usage_error() {
    // The corpus is lower case: `Q` is the fifth character.
    let out = nas(
        checkpoint(),
        &["generate", "--checkpoint", "model", "--prompt", "the Qat"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("character 5 ('Q')"), "{message}");
    assert!(
        stdout(&out).is_empty(),
        "printed before refusing: {:?}",
        stdout(&out)
    );
}

#[test]
fn checkpoints_it_cannot_use_are_named() {
    let dir = checkpoint();
    let missing = nas(
        dir,
        &["generate", "--checkpoint", "nowhere", "--prompt", "a"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nowhere: not found"),
        "{}",
        stderr(&missing)
    );

    // A folder without vocab.json, as the other tasks' trainings write them.
    let other = dir.join("no-vocab");
    std::fs::create_dir_all(&other).unwrap();
    for file in ["model.safetensors", "arch.toml", "metrics.json"] {
        std::fs::copy(dir.join("model").join(file), other.join(file)).unwrap();
    }
    let out = nas(
        dir,
        &["generate", "--checkpoint", "no-vocab", "--prompt", "a"],
    );
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("no vocab.json"), "{message}");
    assert!(message.contains("trained on text"), "{message}");

    // Weights of another design.
    std::fs::copy(
        dir.join("model").join("vocab.json"),
        other.join("vocab.json"),
    )
    .unwrap();
    let arch = std::fs::read_to_string(other.join("arch.toml")).unwrap();
    std::fs::write(
        other.join("arch.toml"),
        arch.replace("d_model = 16", "d_model = 32"),
    )
    .unwrap();
    let out = nas(
        dir,
        &["generate", "--checkpoint", "no-vocab", "--prompt", "a"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("do not fit the architecture"),
        "{}",
        stderr(&out)
    );
}
