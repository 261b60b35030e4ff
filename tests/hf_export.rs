//! `nas export --format nemotron-h|bamba|zamba2`: designs of the default space
//! become configs that Hugging Face transformers loads as the right class,
//! depth, width, heads and attention positions, or are refused with a reason.
//!
//! Loading needs the transformers that scripts/setup.sh installs into the
//! cache (the README's test command runs it first); without it this test
//! fails and says so, rather than passing without checking anything.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{nas, stderr, stdout};
use hybrid_nas::arch::{Architecture, Layer};
use hybrid_nas::data::{cache_dir, Corpus};

const FAMILIES: [&str; 3] = ["nemotron-h", "bamba", "zamba2"];

/// What transformers must load for one design, or `None` when the family
/// must refuse it.
#[derive(Debug, PartialEq)]
struct Expected {
    class: &'static str,
    layers: usize,
    attention: Vec<usize>,
}

fn expected(arch: &Architecture, family: &str) -> Option<Expected> {
    let attention: Vec<usize> = (0..arch.layers.len())
        .filter(|&i| matches!(arch.layers[i], Layer::Attention { .. }))
        .collect();
    let shared = arch
        .layers
        .iter()
        .filter(|l| matches!(l, Layer::Attention { shared: true, .. }))
        .count();
    let n = arch.layers.len();
    match family {
        "nemotron-h" => (shared == 0).then(|| Expected {
            class: "NemotronHConfig",
            layers: 2 * n,
            attention: attention.iter().map(|i| 2 * i).collect(),
        }),
        "bamba" => (shared == 0).then_some(Expected {
            class: "BambaConfig",
            layers: n,
            attention,
        }),
        "zamba2" => {
            // Each attention block joins the SSM block right above it.
            let mut layers = 0;
            let mut hybrid = Vec::new();
            let mut i = 0;
            while i < n {
                if matches!(arch.layers[i], Layer::Attention { .. }) {
                    if !matches!(arch.layers.get(i + 1), Some(Layer::Ssm { .. })) {
                        return None;
                    }
                    hybrid.push(layers);
                    i += 1;
                }
                layers += 1;
                i += 1;
            }
            (shared == 0 || shared == attention.len()).then_some(Expected {
                class: "Zamba2Config",
                layers,
                attention: hybrid,
            })
        }
        _ => unreachable!(),
    }
}

/// The transformers scripts/setup.sh installs, on Python's path.
fn hf_python() -> PathBuf {
    let dir = cache_dir().join("hf-python");
    assert!(
        dir.join("transformers").is_dir(),
        "{} has no transformers: run scripts/setup.sh (it installs scripts/hf_requirements.txt there)",
        dir.display()
    );
    dir
}

/// One JSON object per folder, as tests/support/hf_load.py reads it.
fn load_all(folders: &[PathBuf]) -> BTreeMap<PathBuf, serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/hf_load.py");
    let out = Command::new("python3")
        .env("PYTHONPATH", hf_python())
        .arg(script)
        .args(folders)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (PathBuf::from(v["folder"].as_str().unwrap()), v)
        })
        .collect()
}

/// Every trial of `study` in `dir`'s store: its number and design.
fn designs(dir: &Path, study: &str) -> Vec<(i64, Architecture)> {
    let listed = nas(dir, &["trials", "--study", study, "--json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    stdout(&listed)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let arch = Architecture::parse_short_form(v["arch"].as_str().unwrap()).unwrap();
            (v["number"].as_i64().unwrap(), arch)
        })
        .collect()
}

#[test]
fn default_space_designs_load_in_transformers_or_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let run = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "hybrid",
            "--evaluator",
            "analytic",
            "--trials",
            "24",
            "--study",
            "hf",
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let trials = designs(dir.path(), "hf");
    assert_eq!(trials.len(), 24);
    let vocab = Corpus::load(None).unwrap().vocab_size();

    let mut exported = Vec::new();
    let mut refused = BTreeMap::<&str, usize>::new();
    for (number, arch) in &trials {
        for family in FAMILIES {
            let folder = dir.path().join(format!("hf/{family}-{number}"));
            let out = nas(
                dir.path(),
                &[
                    "export",
                    "--study",
                    "hf",
                    "--trial",
                    &number.to_string(),
                    "--format",
                    family,
                    "-o",
                    folder.to_str().unwrap(),
                ],
            );
            let want = expected(arch, family);
            let short = arch.short_form();
            if want.is_none() {
                assert_eq!(out.status.code(), Some(2), "{family} took {short}");
                assert!(
                    stderr(&out).contains(&format!("cannot export to {family}: ")),
                    "{}",
                    stderr(&out)
                );
                assert!(
                    !folder.exists(),
                    "a refused export wrote {}",
                    folder.display()
                );
                *refused.entry(family).or_default() += 1;
                continue;
            }
            assert!(out.status.success(), "{family} {short}: {}", stderr(&out));
            let listing = std::fs::read_to_string(folder.join("NOT_CARRIED.txt")).unwrap();
            assert!(listing.contains("LayerNorm"), "{listing}");
            assert!(
                stderr(&out).contains("LayerNorm"),
                "the list is also printed"
            );
            exported.push((folder, arch.clone(), want.unwrap()));
        }
    }
    for family in FAMILIES {
        let n = exported
            .iter()
            .filter(|(f, ..)| f.to_str().unwrap().contains(&format!("/{family}-")))
            .count();
        assert!(n >= 3, "only {n} designs exported to {family}");
    }
    // The default space shares attention in about half its designs.
    assert!(
        refused.get("nemotron-h").copied().unwrap_or(0) >= 3,
        "{refused:?}"
    );

    let folders: Vec<PathBuf> = exported.iter().map(|(f, ..)| f.clone()).collect();
    let loaded = load_all(&folders);
    for (folder, arch, want) in &exported {
        let got = &loaded[folder];
        let heads = arch
            .layers
            .iter()
            .filter_map(|l| l.attention_part().map(|(heads, _)| heads))
            .max()
            .unwrap();
        let context = format!("{} in {}", arch.short_form(), folder.display());
        assert_eq!(got["class"], want.class, "{context}");
        assert_eq!(got["layers"], want.layers, "{context}");
        assert_eq!(got["hidden_size"], arch.d_model, "{context}");
        assert_eq!(got["heads"], heads, "{context}");
        assert_eq!(got["vocab_size"], vocab, "{context}");
        assert_eq!(
            got["attention"],
            serde_json::json!(want.attention),
            "{context}"
        );
    }
}

#[test]
fn a_hugging_face_format_wants_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_tiny(dir.path(), "3", &["--study", "t"]);
    assert!(run.status.success(), "{}", stderr(&run));
    std::fs::write(dir.path().join("taken.json"), "{}").unwrap();
    for output in ["-", "taken.json"] {
        let out = nas(
            dir.path(),
            &[
                "export", "--study", "t", "--best", "--format", "bamba", "-o", output,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "-o {output}");
        assert!(stderr(&out).contains("writes a folder"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.json")).unwrap(),
        "{}"
    );
}

#[test]
fn all_parallel_designs_load_as_falcon_h1_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let space = hybrid_nas::space::SearchSpace::bundled("hybrid")
        .unwrap()
        .replacen("ratio = [0.1, 0.5]", "ratio = [1.0, 1.0]", 1)
        .replacen("every = [2, 4, 8]", "every = [1]", 1)
        .replacen(
            "shared = [false, true]",
            "shared = [false]\nparallel = [true]",
            1,
        );
    std::fs::write(dir.path().join("p.toml"), space).unwrap();
    let run = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "p.toml",
            "--evaluator",
            "analytic",
            "--trials",
            "6",
            "--study",
            "p",
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let mut folders = Vec::new();
    for n in 0..6 {
        let folder = dir.path().join(format!("falcon-{n}"));
        let out = nas(
            dir.path(),
            &[
                "export",
                "--study",
                "p",
                "--trial",
                &n.to_string(),
                "--format",
                "falcon-h1",
                "-o",
                folder.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        folders.push(folder);
    }
    let designs: BTreeMap<i64, Architecture> = designs(dir.path(), "p").into_iter().collect();
    let loaded = load_all(&folders);
    for (n, folder) in folders.iter().enumerate() {
        let arch = &designs[&(n as i64)];
        let got = &loaded[folder];
        assert_eq!(got["class"], "FalconH1Config", "{}", arch.short_form());
        assert_eq!(got["layers"], arch.layers.len());
        assert_eq!(got["hidden_size"], arch.d_model);
        let heads = arch
            .layers
            .iter()
            .filter_map(|l| l.attention_part())
            .map(|a| a.0)
            .max();
        assert_eq!(got["heads"], heads.unwrap());
    }
    // A design with an SSM layer is refused by falcon-h1, and its parallel
    // layers by the other families.
    let mixed = dir.path().join("mixed.toml");
    let mut hybrid = common::run_tiny(dir.path(), "4", &["--study", "t"]);
    assert!(hybrid.status.success(), "{}", stderr(&hybrid));
    hybrid = nas(
        dir.path(),
        &[
            "export",
            "--study",
            "t",
            "--best",
            "--format",
            "falcon-h1",
            "-o",
            mixed.to_str().unwrap(),
        ],
    );
    assert_eq!(hybrid.status.code(), Some(2));
    assert!(
        stderr(&hybrid).contains("every layer of the family is parallel"),
        "{}",
        stderr(&hybrid)
    );
    let bamba = nas(
        dir.path(),
        &[
            "export", "--study", "p", "--trial", "0", "--format", "bamba", "-o", "b",
        ],
    );
    assert_eq!(bamba.status.code(), Some(2));
    assert!(
        stderr(&bamba).contains("--format falcon-h1"),
        "{}",
        stderr(&bamba)
    );
    assert!(!dir.path().join("b").exists());
}
