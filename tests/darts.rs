//! DARTS: the α gradient, discretisation, the cost penalty, resume, and the
//! commands around it.

mod common;

use std::ops::ControlFlow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use hybrid_nas::arch::{Architecture, Layer};
use hybrid_nas::cost::Cost;
use hybrid_nas::data::Corpus;
use hybrid_nas::search::darts::bilevel::PhaseProgress;
use hybrid_nas::search::darts::{derive, DartsError, DartsObserver, DartsSearch, Derived};
use hybrid_nas::space::{SearchSpace, SupernetShape};
use hybrid_nas::store::{Budget, SqliteStore, Store, StudySpec};

/// Tiny with a `[darts]` table and other lines replaced.
fn tiny_with(darts: &str, edits: &[(&str, &str)]) -> SearchSpace {
    let mut text = SearchSpace::bundled("tiny").unwrap().to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    // Replace the bundled [darts] table, if any, by the test's.
    if let Some(at) = text.find("\n[darts]") {
        text.truncate(at);
    }
    text.push_str("\n[darts]\n");
    text.push_str(darts);
    SearchSpace::parse(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

struct Quiet {
    /// Break once this many steps of the λ phase `stop_in` have run.
    stop_at: Option<(f64, usize)>,
}

impl DartsObserver for Quiet {
    fn step(&mut self, p: PhaseProgress) -> ControlFlow<()> {
        match self.stop_at {
            Some((lambda, step)) if p.lambda == Some(lambda) && p.step == step => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
    fn phase(&mut self, _: SupernetShape, _: Option<f64>, _: usize, _: usize) {}
    fn note(&mut self, message: String) {
        panic!("unexpected note: {message}");
    }
}

fn open_study(store: &SqliteStore, space: &SearchSpace) -> i64 {
    let spec = StudySpec {
        name: "d".into(),
        space_text: space.text.clone(),
        space_hash: space.hash(),
        objectives: space
            .objective_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        strategy: "darts".into(),
        evaluator: "train".into(),
        seed: 0,
        budget: Budget::Set(space.darts.lambdas.len()),
        code_version: "test".into(),
        pruner: None,
    };
    store.open_study(&spec, false).unwrap().id
}

fn search(
    space: &SearchSpace,
    corpus: &Corpus,
    store: &SqliteStore,
    stop_at: Option<(f64, usize)>,
) -> Result<Vec<Derived>, DartsError> {
    let study_id = open_study(store, space);
    DartsSearch {
        store,
        study_id,
        space,
        corpus,
        seed: 0,
        device: Default::default(),
    }
    .run(&mut Quiet { stop_at })
}

/// The small grammar corpus and a fresh store in a temporary directory
/// (kept alive by the returned guard).
fn grammar_and_store() -> (Corpus, tempfile::TempDir, SqliteStore) {
    let corpus = Corpus::from_text(&common::synthetic_text(40_000), "grammar".into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    (corpus, dir, store)
}

/// Blocks of eight characters `xyxyxyxy`, a fresh random pair each block:
/// the character two back predicts the next one, the one before does not.
/// An SSM sees two back through its short convolution; attention without
/// positions cannot tell the current block's pair from earlier ones.
fn two_back_text(chars: usize) -> String {
    let letters: Vec<char> = "abcdefghijklmnop".chars().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut text = String::new();
    while text.len() < chars {
        let x = rng.random_range(0..letters.len());
        let y = (x + rng.random_range(1..letters.len())) % letters.len();
        for _ in 0..4 {
            text.push(letters[x]);
            text.push(letters[y]);
        }
    }
    text
}

#[test]
fn alpha_moves_toward_the_clearly_better_candidate() {
    let space = tiny_with(
        "lambdas = [0.0]\nwarmup_steps = 40\nsearch_steps = 80\narch_lr = 0.05\n",
        &[
            ("depth = [2, 3]", "depth = [1]"),
            ("d_model = [32, 64]", "d_model = [32]"),
            ("ratio = [0.0, 0.67]", "ratio = [0.0, 1.0]"),
            (
                "pattern = [\"alternating\", \"uniform\", \"free\"]",
                "pattern = [\"free\"]",
            ),
            ("every = [2]\n", ""),
            ("heads = [2, 4]", "heads = [2]"),
            ("window = [0, 16]", "window = [0]"),
            ("shared = [false, true]", "shared = [false]"),
            ("state_dim = [8, 16]", "state_dim = [8]"),
            ("expand = [1, 2]", "expand = [1]"),
            ("seq_len = 64", "seq_len = 32"),
        ],
    );
    let candidates = derive::candidates(&space, 1);
    assert_eq!(candidates.len(), 2);
    let ssm = candidates.iter().position(|c| !c.is_attention()).unwrap();
    let corpus = Corpus::from_text(&two_back_text(60_000), "two-back".into()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // One α step already moves α off uniform: its gradient is not zero.
    let store = SqliteStore::open(dir.path().join("a.db").to_str().unwrap()).unwrap();
    let err = search(&space, &corpus, &store, Some((0.0, 1))).unwrap_err();
    assert!(matches!(err, DartsError::Interrupted), "{err}");
    let progress = DartsSearch::progress(&store, 1, &space).unwrap();
    let first = progress[0].searches[0].as_ref().unwrap();
    let after_one = &first.trajectory.last().unwrap().probs[0];
    assert_eq!(first.step, 1);
    assert!(
        (after_one[0] - 0.5).abs() > 1e-4,
        "α did not move in one step: {after_one:?}"
    );

    // The whole search ends clearly on the SSM.
    let store = SqliteStore::open(dir.path().join("b.db").to_str().unwrap()).unwrap();
    let derived = search(&space, &corpus, &store, None).unwrap();
    let probs = &derived[0].probs[0];
    assert!(probs[ssm] > 0.7, "SSM probability {probs:?}");
    assert!(!derived[0].arch.layers[0].is_attention());
}

/// Spaces whose constraints discretisation must meet: the bundled ones and
/// others with fixed patterns, shared attention, exact ratios.
fn constrained_spaces() -> Vec<SearchSpace> {
    let hybrid = SearchSpace::bundled("hybrid").unwrap();
    let all_patterns = "pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]";
    let variants: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("depth = [4, 5, 6, 7, 8]", "depth = [8]"),
            ("ratio = [0.1, 0.5]", "ratio = [0.1, 0.3]"),
            (all_patterns, "pattern = [\"alternating\"]"),
            ("every = [2, 4, 8]", "every = [4, 8]"),
        ],
        vec![
            ("ratio = [0.1, 0.5]", "ratio = [0.2, 0.4]"),
            (all_patterns, "pattern = [\"uniform\"]"),
            ("every = [2, 4, 8]\n", ""),
            ("shared = [false, true]", "shared = [true]"),
        ],
        vec![
            ("depth = [4, 5, 6, 7, 8]", "depth = [4, 6, 8]"),
            ("ratio = [0.1, 0.5]", "ratio = [0.25, 0.5]"),
            (
                all_patterns,
                "pattern = [\"clustered_first\", \"clustered_last\", \"clustered_middle\"]",
            ),
            ("every = [2, 4, 8]\n", ""),
        ],
        vec![
            ("depth = [4, 5, 6, 7, 8]", "depth = [2, 4, 6]"),
            ("ratio = [0.1, 0.5]", "ratio = [0.5, 0.5]"),
            (all_patterns, "pattern = [\"free\"]"),
            ("every = [2, 4, 8]\n", ""),
        ],
        // Deep and free: 2^48 masks, which discretisation must not enumerate.
        vec![
            ("depth = [4, 5, 6, 7, 8]", "depth = [48]"),
            ("ratio = [0.1, 0.5]", "ratio = [0.0, 0.5]"),
            (all_patterns, "pattern = [\"free\", \"uniform\"]"),
            ("every = [2, 4, 8]\n", ""),
        ],
        // Parallel layers beside plain attention, and alone.
        vec![(
            "shared = [false, true]",
            "shared = [false, true]\nparallel = [false, true]",
        )],
        vec![
            (
                "shared = [false, true]",
                "shared = [false]\nparallel = [true]",
            ),
            ("ratio = [0.1, 0.5]", "ratio = [0.3, 0.6]"),
        ],
        // No attention at all, and nothing but attention.
        vec![
            ("ratio = [0.1, 0.5]", "ratio = [0.0, 0.0]"),
            (all_patterns, "pattern = [\"free\"]"),
            ("every = [2, 4, 8]\n", ""),
        ],
        vec![
            ("ratio = [0.1, 0.5]", "ratio = [1.0, 1.0]"),
            (all_patterns, "pattern = [\"free\"]"),
            ("every = [2, 4, 8]\n", ""),
        ],
    ];
    let mut out = vec![
        SearchSpace::parse(hybrid, "hybrid").unwrap(),
        SearchSpace::parse(SearchSpace::bundled("tiny").unwrap(), "tiny").unwrap(),
    ];
    for edits in variants {
        let mut text = hybrid.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        out.push(SearchSpace::parse(&text, "variant").unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

#[test]
fn discretisation_never_leaves_the_space() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for space in constrained_spaces() {
        for &depth in &space.model.depth {
            let candidates = derive::candidates(&space, depth);
            let draws = if depth > 16 { 20 } else { 200 };
            for &shared in &space.attention.shared {
                let mut settings = space.darts.clone();
                settings.shared = shared;
                let d_model = space.model.d_model[0];
                for _ in 0..draws {
                    // Peaked or flat tables, so that both the plain argmax
                    // and the repairs are exercised.
                    let sharpness = rng.random_range(0.1..8.0);
                    let probs: Vec<Vec<f64>> = (0..depth)
                        .map(|_| {
                            let logits: Vec<f64> = candidates
                                .iter()
                                .map(|_| rng.random_range(0.0..sharpness))
                                .collect();
                            let z: f64 = logits.iter().map(|l| l.exp()).sum();
                            logits.iter().map(|l| l.exp() / z).collect()
                        })
                        .collect();
                    let arch = derive::discretise(&space, &settings, d_model, &candidates, &probs)
                        .unwrap_or_else(|e| panic!("{}: {e}", space.origin));
                    assert_eq!(arch.layers.len(), depth);
                    // Written as the sampler writes it: shared only with two
                    // attention layers or more (or when the space allows
                    // nothing else), so equal designs have equal hashes.
                    let n = arch.layers.iter().filter(|l| l.is_attention()).count();
                    let is_shared = arch
                        .layers
                        .iter()
                        .any(|l| matches!(l, Layer::Attention { shared: true, .. }));
                    let parallel = arch
                        .layers
                        .iter()
                        .any(|l| matches!(l, Layer::Parallel { .. }));
                    if parallel {
                        // A design is all parallel or all plain attention.
                        assert!(
                            arch.layers
                                .iter()
                                .all(|l| !matches!(l, Layer::Attention { .. })),
                            "{}",
                            arch.short_form()
                        );
                        assert!(!is_shared);
                    } else if n >= 2 {
                        assert_eq!(is_shared, shared, "{}", arch.short_form());
                    } else {
                        assert_eq!(is_shared, space.canonical_shared(), "{}", arch.short_form());
                    }

                    // Where the per-slot argmax is itself allowed (and needs
                    // no shared setting), it is the result.
                    let argmax: Vec<Layer> = probs
                        .iter()
                        .map(|row| {
                            let c = (0..row.len())
                                .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
                                .unwrap();
                            match candidates[c] {
                                Layer::Attention { heads, window, .. } => Layer::Attention {
                                    heads,
                                    window,
                                    shared: is_shared,
                                },
                                other => other,
                            }
                        })
                        .collect();
                    let plain = Architecture {
                        layers: argmax,
                        ..arch.clone()
                    };
                    if space.check(&plain).is_ok() {
                        assert_eq!(arch, plain);
                    }
                }
            }
        }
    }
}

#[test]
fn larger_lambda_never_derives_a_costlier_architecture() {
    // Controlled: one warm-up, the same batches and Gumbel noise for every
    // λ (common random numbers), penalties far apart; only λ differs.
    let space = tiny_with(
        "lambdas = [0.0, 0.1, 1.0, 10.0]\nwarmup_steps = 20\nsearch_steps = 40\ngumbel = true\narch_lr = 0.05\n",
        &[],
    );
    let (corpus, _dir, store) = grammar_and_store();
    let derived = search(&space, &corpus, &store, None).unwrap();
    let costs: Vec<u64> = derived
        .iter()
        .map(|d| Cost::of(&d.arch, space.task.seq_len).params)
        .collect();
    for pair in costs.windows(2) {
        assert!(pair[1] <= pair[0], "params by λ: {costs:?}");
    }
    // The largest penalty ends on the cheapest candidate everywhere.
    let cheapest = Cost::of(
        &Architecture::parse_short_form("d64 S8e1 S8e1 S8e1").unwrap(),
        space.task.seq_len,
    )
    .params;
    assert_eq!(*costs.last().unwrap(), cheapest, "{derived:?}");
}

/// Dies (panics) at a step of one λ, like a killed process: no checkpoint
/// is written at that moment.
struct Dies {
    at: (f64, usize),
}

impl DartsObserver for Dies {
    fn step(&mut self, p: PhaseProgress) -> ControlFlow<()> {
        if p.lambda == Some(self.at.0) && p.step == self.at.1 {
            panic!("killed");
        }
        ControlFlow::Continue(())
    }
    fn phase(&mut self, _: SupernetShape, _: Option<f64>, _: usize, _: usize) {}
    fn note(&mut self, message: String) {
        panic!("unexpected note: {message}");
    }
}

#[test]
fn a_killed_search_resumes_exactly_from_its_checkpoint() {
    for gumbel in [false, true] {
        let space = tiny_with(
            &format!(
                "lambdas = [0.0, 1.0]\nwarmup_steps = 10\nsearch_steps = 20\ncheckpoint_every = 4\ngumbel = {gumbel}\n"
            ),
            &[],
        );
        let corpus = Corpus::from_text(&common::synthetic_text(40_000), "grammar".into()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let straight = SqliteStore::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
        let expected = search(&space, &corpus, &straight, None).unwrap();

        let killed = SqliteStore::open(dir.path().join("k.db").to_str().unwrap()).unwrap();
        let study_id = open_study(&killed, &space);
        // Killed at step 10 of the second λ: its last checkpoint is step 8.
        let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            DartsSearch {
                store: &killed,
                study_id,
                space: &space,
                corpus: &corpus,
                seed: 0,
                device: Default::default(),
            }
            .run(&mut Dies { at: (1.0, 10) })
        }));
        assert!(died.is_err());
        let progress = DartsSearch::progress(&killed, study_id, &space).unwrap();
        assert!(progress[0].warmup.as_ref().unwrap().done());
        let phases = &progress[0].searches;
        assert!(phases[0].as_ref().unwrap().done());
        assert_eq!(phases[1].as_ref().unwrap().step, 8);
        // Until every search has derived, the budget is only an upper bound
        // (what `nas studies` marks with ≤).
        let budget_final = || {
            let stored = hybrid_nas::study::find(&killed, "d").unwrap();
            hybrid_nas::study::darts::budget_is_final(&killed, &stored).unwrap()
        };
        assert!(!budget_final());
        let resumed = search(&space, &corpus, &killed, None).unwrap();
        assert!(budget_final());

        assert_eq!(resumed.len(), expected.len());
        for (r, e) in resumed.iter().zip(&expected) {
            assert_eq!(r.arch, e.arch);
            for (rr, er) in r.probs.iter().zip(&e.probs) {
                for (a, b) in rr.iter().zip(er) {
                    assert!(
                        (a - b).abs() < 1e-6,
                        "gumbel {gumbel}: {:?} vs {:?}",
                        r.probs,
                        e.probs
                    );
                }
            }
        }
        // The α trajectories agree point for point, losses included.
        let a = DartsSearch::progress(&straight, 1, &space).unwrap();
        let b = DartsSearch::progress(&killed, study_id, &space).unwrap();
        for (a, b) in a[0].searches.iter().zip(&b[0].searches) {
            let (a, b) = (
                &a.as_ref().unwrap().trajectory,
                &b.as_ref().unwrap().trajectory,
            );
            assert_eq!(a.len(), b.len());
            for (p, q) in a.iter().zip(b) {
                assert_eq!(p.step, q.step);
                let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
                    (Some(x), Some(y)) => (x - y).abs() < 1e-6,
                    (x, y) => x == y,
                };
                assert!(close(p.train_loss, q.train_loss), "{p:?} vs {q:?}");
                assert!(close(p.arch_loss, q.arch_loss), "{p:?} vs {q:?}");
            }
        }
    }
}

#[test]
fn one_alpha_step_with_a_large_penalty_favours_the_cheapest_candidate() {
    let space = tiny_with(
        "lambdas = [100.0]\nwarmup_steps = 0\nsearch_steps = 3\n",
        &[],
    );
    let (corpus, _dir, store) = grammar_and_store();
    let err = search(&space, &corpus, &store, Some((100.0, 1))).unwrap_err();
    assert!(matches!(err, DartsError::Interrupted), "{err}");
    let study = DartsSearch {
        store: &store,
        study_id: 1,
        space: &space,
        corpus: &corpus,
        seed: 0,
        device: Default::default(),
    };
    let (_, costs) = study.spec(space.darts.shapes()[0]);
    let cheapest = (0..costs.len())
        .min_by(|&a, &b| costs[a].total_cmp(&costs[b]))
        .unwrap();
    let dearest = (0..costs.len())
        .max_by(|&a, &b| costs[a].total_cmp(&costs[b]))
        .unwrap();
    assert_eq!(costs[cheapest], 0.0);
    assert_eq!(costs[dearest], 1.0);
    let progress = DartsSearch::progress(&store, 1, &space).unwrap();
    let probs = &progress[0].searches[0]
        .as_ref()
        .unwrap()
        .trajectory
        .last()
        .unwrap()
        .probs;
    for row in probs {
        let uniform = 1.0 / row.len() as f64;
        assert!(row[cheapest] > uniform, "{row:?}");
        assert!(row[dearest] < uniform, "{row:?}");
    }
}

#[test]
fn darts_study_runs_resumes_and_reports_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = common::write_corpus(dir.path(), 30_000);
    let mut text = SearchSpace::bundled("tiny").unwrap().to_string();
    if let Some(at) = text.find("\n[darts]") {
        text.truncate(at);
    }
    let text = text
        .replacen(
            "seq_len = 64",
            &format!("seq_len = 64\ncorpus = \"{}\"", corpus.display()),
            1,
        )
        .replacen("steps = 50", "steps = 20", 1)
        + "\n[darts]\nlambdas = [0.0, 30.0]\ndepth = [2, 3]\nwarmup_steps = 5\nsearch_steps = 10\ngumbel = true\n";
    std::fs::write(dir.path().join("d.toml"), text).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--space",
            "d.toml",
            "--strategy",
            "darts",
            "--study",
            "d",
        ];
        args.extend_from_slice(extra);
        common::nas(dir.path(), &args)
    };

    let out = run(&[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(err.contains("derived:"), "{err}");
    // Two supernets, one per depth, each searched at both λ.
    assert!(err.contains("d64x2 λ = 30"), "{err}");
    assert!(err.contains("d64x3 λ = 30"), "{err}");
    // Without a terminal: one line per phase with its place among all six
    // (two shapes, each a warm-up and two searches) and the time left, and
    // one line per finished trial with its values and seconds.
    for i in 1..=6 {
        assert!(err.contains(&format!("supernet phase {i} of 6: ")), "{err}");
    }
    assert!(
        err.contains("supernet phase 1 of 6: d64x2 warm-up, from step 0 of 5"),
        "{err}"
    );
    let last = err
        .lines()
        .find(|l| l.starts_with("supernet phase 6 of 6"))
        .unwrap();
    assert!(
        last.contains("time left: ") && last.ends_with(" s"),
        "{last}"
    );
    let trial = err.lines().find(|l| l.starts_with("trial ")).unwrap();
    assert!(
        trial.contains(" complete in ") && trial.contains(" s: d64 ") && trial.contains("val_ppl "),
        "{trial}"
    );

    // Every trial carries the λ(s) that derived it and the final α.
    let trials = common::nas(dir.path(), &["trials", "--study", "d", "--json"]);
    let lines: Vec<serde_json::Value> = common::stdout(&trials)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 2 && lines.len() <= 4, "{lines:?}");
    for t in &lines {
        assert_eq!(t["state"], "complete", "{t}");
        assert!(
            t["extra"]["lambdas"]
                .as_array()
                .is_some_and(|l| !l.is_empty()),
            "{t}"
        );
        // One α row per layer of the design.
        let depth = t["arch"].as_str().unwrap().split_whitespace().count() - 1;
        assert_eq!(
            t["extra"]["alpha"].as_array().map(Vec::len),
            Some(depth),
            "{t}"
        );
    }

    // Its supernets done, the study's budget is final: no ≤ in `nas studies`.
    let listing = common::stdout(&common::nas(dir.path(), &["studies"]));
    assert!(!listing.contains('≤'), "{listing}");

    // Running it again finds everything done: nothing is trained twice.
    let again = run(&[]);
    assert!(again.status.success(), "{}", common::stderr(&again));
    assert!(!common::stderr(&again).contains("starts over"));
    let trials = common::nas(dir.path(), &["trials", "--study", "d", "--json"]);
    assert_eq!(common::stdout(&trials).lines().count(), lines.len());

    let report = common::nas(
        dir.path(),
        &["darts", "--study", "d", "--plot", "alphas.svg"],
    );
    assert!(report.status.success(), "{}", common::stderr(&report));
    let table = common::stdout(&report);
    assert!(table.contains("10/10"), "{table}");
    assert!(table.contains("compute: supernet"), "{table}");
    let svg = std::fs::read_to_string(dir.path().join("alphas.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // One line per candidate, slot and search: 8 candidates x (2 + 3 slots) x 2 λ.
    let curves = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .count();
    assert_eq!(curves, 8 * (2 + 3) * 2, "{svg}");

    let json = common::nas(dir.path(), &["darts", "--study", "d", "--json"]);
    let rows: Vec<serde_json::Value> = common::stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1]["shape"], "d64x2");
    assert_eq!(rows[1]["lambda"], 30.0);
    assert!(rows[1]["arch"].as_str().is_some());

    // Misuse is refused with exit status 2 and nothing stored.
    let studies = || common::stdout(&common::nas(dir.path(), &["studies"]));
    let before = studies();
    let trials_flag = run(&["--trials", "5"]);
    assert_eq!(trials_flag.status.code(), Some(2));
    let other = common::nas(
        dir.path(),
        &[
            "run",
            "--space",
            "d.toml",
            "--study",
            "d2",
            "--strategy",
            "darts",
            "--trials",
            "5",
        ],
    );
    assert_eq!(other.status.code(), Some(2));
    assert_eq!(studies(), before);
    // A space of parallel layers only: the supernet's attending candidates
    // are all parallel, and so is every derived design.
    let parallel = std::fs::read_to_string(dir.path().join("d.toml"))
        .unwrap()
        .replacen(
            "shared = [false, true]",
            "shared = [false]\nparallel = [true]",
            1,
        );
    assert!(parallel.contains("parallel = [true]"));
    std::fs::write(dir.path().join("p.toml"), parallel).unwrap();
    let only_parallel = common::nas(
        dir.path(),
        &[
            "run",
            "--space",
            "p.toml",
            "--study",
            "p",
            "--strategy",
            "darts",
        ],
    );
    assert!(
        only_parallel.status.success(),
        "{}",
        common::stderr(&only_parallel)
    );
    let derived = common::stdout(&common::nas(
        dir.path(),
        &["trials", "--study", "p", "--json"],
    ));
    assert!(!derived.is_empty());
    for line in derived.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let arch = Architecture::parse_short_form(v["arch"].as_str().unwrap()).unwrap();
        assert!(
            arch.layers
                .iter()
                .all(|l| !matches!(l, Layer::Attention { .. })),
            "{}",
            arch.short_form()
        );
    }
    let random = common::nas(
        dir.path(),
        &[
            "run",
            "--space",
            "d.toml",
            "--study",
            "r",
            "--evaluator",
            "analytic",
            "--trials",
            "2",
        ],
    );
    assert!(random.status.success(), "{}", common::stderr(&random));
    let not_darts = common::nas(dir.path(), &["darts", "--study", "r"]);
    assert_eq!(not_darts.status.code(), Some(2));
    assert!(common::stderr(&not_darts).contains("random strategy"));
}

#[test]
fn a_derived_design_that_fails_is_not_retried_and_the_others_still_train() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = common::write_corpus(dir.path(), 30_000);
    let mut text = SearchSpace::bundled("tiny").unwrap().to_string();
    text.truncate(text.find("\n[darts]").unwrap());
    // Trials diverge at this learning rate; the supernet keeps a sane one.
    let text = text
        .replacen("seq_len = 64", &format!("seq_len = 64\ncorpus = \"{}\"", corpus.display()), 1)
        .replacen("steps = 50", "steps = 20", 1)
        .replacen("lr = 3e-3", "lr = 1e6", 1)
        + "\n[darts]\nlambdas = [0.0, 30.0]\nwarmup_steps = 5\nsearch_steps = 10\ngumbel = true\nweight_lr = 3e-3\n";
    std::fs::write(dir.path().join("d.toml"), text).unwrap();
    let out = common::nas(
        dir.path(),
        &[
            "run",
            "--space",
            "d.toml",
            "--strategy",
            "darts",
            "--study",
            "f",
        ],
    );
    let err = common::stderr(&out);
    let trials = common::nas(dir.path(), &["trials", "--study", "f", "--json"]);
    let rows: Vec<serde_json::Value> = common::stdout(&trials)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each distinct derived design was tried exactly once, and failed.
    let mut hashes: Vec<&str> = rows.iter().map(|r| r["hash"].as_str().unwrap()).collect();
    let tried = hashes.len();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), tried, "a design was retried: {rows:?}");
    assert!((1..=2).contains(&tried), "{rows:?}");
    assert!(rows.iter().all(|r| r["state"] == "failed"), "{rows:?}");
    assert!(err.contains("trial 0 failed"), "{err}");
    assert!(err.contains("every derived design has been tried"), "{err}");
    assert_eq!(out.status.code(), Some(1), "nothing completed: {err}");
}
