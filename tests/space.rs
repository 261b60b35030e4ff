//! SearchSpace: the bundled files, resolution of names and paths, sampling and
//! mutation inside the space, and the messages for malformed files.

use std::path::Path;

use hybrid_nas::arch::{Architecture, Layer};
use hybrid_nas::space::{
    EvolutionSettings, Objective, Pattern, SearchSpace, SpaceError, StrategyName,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn bundled(name: &str) -> SearchSpace {
    SearchSpace::parse(SearchSpace::bundled(name).unwrap(), name).unwrap()
}

/// `text` with each `(from, to)` replaced once; panics when `from` is absent,
/// so a changed bundled file cannot silently weaken a test.
fn edit(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in edits {
        assert!(out.contains(from), "`{from}` not in the text");
        out = out.replacen(from, to, 1);
    }
    out
}

#[test]
fn bundled_spaces_parse() {
    let hybrid = bundled("hybrid");
    assert_eq!(hybrid.name, "hybrid");
    assert_eq!(hybrid.objectives, [Objective::ValPpl, Objective::Flops]);
    assert_eq!(hybrid.strategy, StrategyName::Random);
    assert_eq!(hybrid.trials, 50);
    assert_eq!(hybrid.task.seq_len, 128);
    assert_eq!(hybrid.task.corpus, None);
    assert_eq!(hybrid.training.seq_len, 128);
    assert_eq!(hybrid.training.steps, 300);
    assert_eq!(hybrid.training.batch_size, 16);
    assert_eq!(hybrid.training.lr, 3e-3);
    assert_eq!(hybrid.model.d_model, [64, 96, 128]);
    assert_eq!(hybrid.attention.patterns.len(), Pattern::ALL.len());
    assert!(hybrid.attention.every.contains(&8), "Jamba's 1:7");
    assert_eq!(hybrid.attention.shared, [false, true]);

    let tiny = bundled("tiny");
    assert_eq!(tiny.name, "tiny");
    assert_eq!(tiny.training.seq_len, 64);
    assert_eq!(tiny.training.eval_batches, 4);
    assert!((8..=10).contains(&tiny.trials));
    assert!(tiny.model.depth.iter().all(|&d| d <= 3));

    let recall = bundled("recall");
    assert_eq!(
        recall.objectives,
        [Objective::ValPpl, Objective::Recall, Objective::KvCache]
    );
    let r = recall.recall.as_ref().expect("[recall] with the objective");
    assert_eq!(r.pairs, [2, 4]);
    assert!(hybrid.recall.is_none() && tiny.recall.is_none());

    let names: Vec<_> = SearchSpace::bundled_names().collect();
    assert_eq!(
        names,
        [
            "hybrid",
            "tiny",
            "recall",
            "seed-compare",
            "seed-ratio",
            "seed-placement"
        ]
    );
    assert!(SearchSpace::bundled("nope").is_none());
}

/// The attending fraction of each design of a bundled grid.
fn grid_ratios(space: &SearchSpace) -> Vec<f64> {
    let grid = space.grid.as_ref().expect("a [grid] table");
    grid.designs
        .iter()
        .map(|a| {
            let attending = a.layers.iter().filter(|l| l.is_attention()).count();
            attending as f64 / a.layers.len() as f64
        })
        .collect()
}

#[test]
fn seed_spaces_are_the_lectures_grids() {
    for name in ["seed-compare", "seed-ratio", "seed-placement"] {
        let space = bundled(name);
        assert_eq!(space.strategy, StrategyName::Grid, "{name}");
        assert_eq!(space.grid.as_ref().unwrap().repeats, 3, "{name}");
        assert!(space.objectives.contains(&Objective::Recall), "{name}");
    }

    // 5.1: pure attention, pure SSM, 5:1 hybrid, parameters within 5%
    // (counted with the default corpus's 84 characters).
    let compare = bundled("seed-compare");
    assert_eq!(grid_ratios(&compare), [1.0, 0.0, 1.0 / 6.0]);
    let params: Vec<u64> = compare
        .grid
        .as_ref()
        .unwrap()
        .designs
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.vocab_size = 84;
            assert_eq!(a.layers.len(), 6);
            hybrid_nas::cost::Cost::of(&a, 128).params
        })
        .collect();
    let (lo, hi) = (params.iter().min().unwrap(), params.iter().max().unwrap());
    assert!((*hi as f64) / (*lo as f64) <= 1.05, "{params:?}");
    assert!(
        (450_000..650_000).contains(lo),
        "about 0.5M as in the seed: {params:?}"
    );

    // 5.2.1: r in {0, 1/8, 1/4, 1/2, 1} at 8 layers.
    assert_eq!(
        grid_ratios(&bundled("seed-ratio")),
        [0.0, 0.125, 0.25, 0.5, 1.0]
    );

    // 5.2.2: two attention layers in eight, five distinct placements.
    let placement = bundled("seed-placement");
    assert_eq!(grid_ratios(&placement), [0.25; 5]);
    let grid = placement.grid.as_ref().unwrap();
    assert!(grid.designs.iter().all(|a| a.layers.len() == 8));
}

/// `name`'s bundled text with its `[grid]` table replaced by `grid`.
fn with_grid(name: &str, grid: &str) -> SearchSpace {
    let text = SearchSpace::bundled(name).unwrap();
    let head = &text[..text.find("\n[grid]").expect("a [grid] table")];
    SearchSpace::parse(&format!("{head}\n[grid]\n{grid}\n"), name).unwrap()
}

fn short_forms(space: &SearchSpace) -> Vec<String> {
    let grid = space.grid.as_ref().unwrap();
    grid.designs.iter().map(|a| a.short_form()).collect()
}

#[test]
fn the_lectures_ablations_are_products_of_two_axes() {
    // 5.2.1: the ratios, spread evenly; every other axis is the space's one choice.
    let ratio = with_grid(
        "seed-ratio",
        "repeats = 3\n[grid.axes]\nratio = [0.0, 0.125, 0.25, 0.5, 1.0]\npattern = [\"uniform\"]",
    );
    assert_eq!(short_forms(&ratio), short_forms(&bundled("seed-ratio")));
    let expansion = ratio.grid.as_ref().unwrap().expansion.unwrap();
    assert_eq!(
        (expansion.combinations, expansion.outside, expansion.added),
        (5, 0, 5)
    );

    // 5.2.2: two attention layers in eight, by each pattern that places them.
    let placement = with_grid(
        "seed-placement",
        "repeats = 3\n[grid.axes]\nratio = [0.25]\npattern = [\"alternating\", \"clustered_first\", \
         \"clustered_last\", \"clustered_middle\", \"uniform\"]",
    );
    assert_eq!(
        short_forms(&placement),
        short_forms(&bundled("seed-placement"))
    );
}

#[test]
fn resolve_takes_files_and_bare_bundled_names_only() {
    let space = SearchSpace::resolve("tiny").unwrap();
    assert_eq!(space.name, "tiny");
    assert_eq!(space.text, SearchSpace::bundled("tiny").unwrap());

    // A path that does not exist never falls back to the bundled space its
    // stem names: the user asked for a file.
    for arg in [
        "spaces/hybrid.toml",
        "search_spaces/nope/recall.toml",
        "./tiny.toml",
        "tiny.toml",
        "nowhere/custom.toml",
    ] {
        let err = SearchSpace::resolve(arg).unwrap_err();
        assert!(matches!(err, SpaceError::NotFound { .. }), "{arg}: {err}");
        let message = err.to_string();
        assert!(message.contains(arg), "{message}");
        assert!(message.contains("named bare"), "{message}");
        assert!(message.contains("hybrid, tiny"), "{message}");
    }

    // An existing file wins over the bundled name, and names the space by its stem.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.toml");
    let text = edit(
        SearchSpace::bundled("tiny").unwrap(),
        &[("name = \"tiny\"\n", ""), ("trials = 10", "trials = 3")],
    );
    std::fs::write(&path, &text).unwrap();
    let space = SearchSpace::resolve(path.to_str().unwrap()).unwrap();
    assert_eq!(space.trials, 3);
    assert_eq!(space.name, "tiny");
    assert_eq!(space.text, text);
}

#[test]
fn hash_covers_the_exact_text() {
    let a = bundled("hybrid");
    assert_eq!(a.hash(), bundled("hybrid").hash());
    assert_eq!(a.hash().len(), 16);
    assert!(a.hash().chars().all(|c| c.is_ascii_hexdigit()));
    let text = format!("{}\n# a comment\n", a.text);
    assert_ne!(SearchSpace::parse(&text, "h").unwrap().hash(), a.hash());
}

#[test]
fn names_round_trip() {
    for o in Objective::ALL {
        assert_eq!(o.as_str().parse::<Objective>().unwrap(), o);
    }
    for s in StrategyName::ALL {
        assert_eq!(s.as_str().parse::<StrategyName>().unwrap(), s);
    }
    assert_eq!("kv_cache".parse::<Objective>().unwrap(), Objective::KvCache);
    let err = "memory".parse::<Objective>().unwrap_err().to_string();
    assert!(err.contains("memory") && err.contains("val_ppl"), "{err}");
}

#[test]
fn optional_tables_are_kept() {
    // Tiny without its own [darts] table (the last one in the file).
    let tiny = SearchSpace::bundled("tiny").unwrap();
    let tiny = &tiny[..tiny.find("\n[darts]").unwrap()];
    let text = format!(
        "{tiny}\n[evolution]\npopulation = 16\ntournament = 4\nmutation_weights = {{ flip = 2.0, move = 0.0 }}\n\n[darts]\nlambdas = [0.0, 2.5]\nsearch_steps = 7\ngumbel = true\n",
    );
    let space = SearchSpace::parse(&text, "t.toml").unwrap();
    assert_eq!(
        (space.evolution.population, space.evolution.tournament),
        (16, 4)
    );
    assert_eq!(space.darts.lambdas, vec![0.0, 2.5]);
    assert_eq!(space.darts.search_steps, 7);
    assert!(space.darts.gumbel);
    // Unset keys keep their defaults: the largest depth and width, the
    // study's cost objective.
    assert_eq!(space.darts.depth, vec![3]);
    assert_eq!(space.darts.d_model, vec![64]);
    assert_eq!(space.darts.cost, hybrid_nas::space::Objective::Params);
    use hybrid_nas::space::MutationOp;
    let weights = &space.evolution.mutation_weights;
    assert_eq!(weights.get(MutationOp::Flip), 2.0);
    assert_eq!(weights.get(MutationOp::Move), 0.0);
    assert_eq!(weights.get(MutationOp::Depth), 1.0);
    // Without the table: the defaults.
    let plain = SearchSpace::parse(tiny, "t.toml").unwrap();
    assert_eq!(plain.evolution, EvolutionSettings::default());
    assert_eq!(
        (plain.evolution.population, plain.evolution.tournament),
        (20, 5)
    );
    assert!(MutationOp::ALL
        .iter()
        .all(|&op| plain.evolution.mutation_weights.get(op) == 1.0));
}

/// Spaces that exercise every pattern alone and the corner cases of sharing and
/// exact ratios, besides the bundled ones.
fn spaces() -> Vec<SearchSpace> {
    let hybrid = SearchSpace::bundled("hybrid").unwrap();
    let variants: [(&str, &[(&str, &str)]); 7] = [
        (
            "jamba",
            &[
                ("depth = [4, 5, 6, 7, 8]", "depth = [8, 12, 16]"),
                ("ratio = [0.1, 0.5]", "ratio = [0.1, 0.3]"),
                ("pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]", "pattern = [\"alternating\"]"),
                ("every = [2, 4, 8]", "every = [4, 8]"),
            ],
        ),
        (
            "zamba",
            &[
                ("ratio = [0.1, 0.5]", "ratio = [0.2, 0.4]"),
                ("pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]", "pattern = [\"uniform\"]"),
                ("every = [2, 4, 8]\n", ""),
                ("shared = [false, true]", "shared = [true]"),
            ],
        ),
        (
            "clustered",
            &[
                ("depth = [4, 5, 6, 7, 8]", "depth = [4, 6, 8]"),
                ("ratio = [0.1, 0.5]", "ratio = [0.25, 0.5]"),
                ("pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]", "pattern = [\"clustered_first\", \"clustered_last\", \"clustered_middle\"]"),
                ("every = [2, 4, 8]\n", ""),
            ],
        ),
        (
            "half",
            &[
                ("depth = [4, 5, 6, 7, 8]", "depth = [2, 4, 6]"),
                ("ratio = [0.1, 0.5]", "ratio = [0.5, 0.5]"),
                ("pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]", "pattern = [\"free\"]"),
                ("every = [2, 4, 8]\n", ""),
            ],
        ),
        (
            "hymba",
            &[(
                "shared = [false, true]",
                "shared = [false, true]\nparallel = [false, true]",
            )],
        ),
        (
            "parallel_only",
            &[
                ("shared = [false, true]", "shared = [false]\nparallel = [true]"),
                ("ratio = [0.1, 0.5]", "ratio = [0.3, 0.6]"),
            ],
        ),
        (
            "all_attention",
            &[
                ("ratio = [0.1, 0.5]", "ratio = [1.0, 1.0]"),
                ("pattern = [\"alternating\", \"clustered_first\", \"clustered_last\", \"clustered_middle\", \"uniform\", \"free\"]", "pattern = [\"uniform\", \"alternating\"]"),
                ("every = [2, 4, 8]", "every = [1]"),
            ],
        ),
    ];
    let mut out = vec![bundled("hybrid"), bundled("tiny")];
    for (name, edits) in variants {
        let text =
            edit(hybrid, edits).replacen("name = \"hybrid\"", &format!("name = \"{name}\""), 1);
        out.push(SearchSpace::parse(&text, name).unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

/// Whether the attention positions of `arch` follow `pattern`, written out
/// independently of the library's placement code.
fn follows(arch: &Architecture, pattern: Pattern, every: &[usize]) -> bool {
    let d = arch.layers.len();
    let at: Vec<usize> = (0..d).filter(|&i| arch.layers[i].is_attention()).collect();
    let n = at.len();
    let run = |start: usize| (start..start + n).collect::<Vec<_>>();
    match pattern {
        Pattern::Free => true,
        Pattern::Alternating => every
            .iter()
            .any(|k| at == (0..d).filter(|i| (i + 1) % k == 0).collect::<Vec<_>>()),
        Pattern::ClusteredFirst => at == run(0),
        Pattern::ClusteredLast => at == run(d - n),
        Pattern::ClusteredMiddle => at == run((d - n) / 2),
        Pattern::Uniform => {
            // Evenly spread: the j-th sits in the j-th of n equal slices, at its centre.
            at.iter().enumerate().all(|(j, &i)| {
                let centre = (2 * j + 1) as f64 * d as f64 / (2 * n) as f64;
                i == centre.floor() as usize
            })
        }
    }
}

/// The space's rules, checked without `SearchSpace::check`.
fn assert_in_space(space: &SearchSpace, arch: &Architecture) {
    arch.validate().unwrap();
    let ctx = format!("{}: {arch}", space.name);
    assert_eq!(arch.vocab_size, 0, "{ctx}");
    assert!(space.model.depth.contains(&arch.layers.len()), "{ctx}");
    assert!(space.model.d_model.contains(&arch.d_model), "{ctx}");
    assert!(space.model.mlp_ratio.contains(&arch.mlp_ratio), "{ctx}");
    let ratio = arch.attention_ratio();
    assert!(
        ratio >= space.attention.ratio_min - 1e-9 && ratio <= space.attention.ratio_max + 1e-9,
        "{ctx}: ratio {ratio}"
    );
    assert!(
        space
            .attention
            .patterns
            .iter()
            .any(|&p| follows(arch, p, &space.attention.every)),
        "{ctx}: follows none of {:?}",
        space.attention.patterns
    );
    let attention: Vec<&Layer> = arch.layers.iter().filter(|l| l.is_attention()).collect();
    let shared: Vec<bool> = attention
        .iter()
        .map(|l| matches!(l, Layer::Attention { shared: true, .. }))
        .collect();
    if shared.contains(&true) {
        assert!(shared.iter().all(|&s| s), "{ctx}: partly shared");
        assert!(
            attention.iter().all(|l| *l == attention[0]),
            "{ctx}: shared layers differ"
        );
        assert!(space.attention.shared.contains(&true), "{ctx}");
    }
    let parallel: Vec<bool> = attention
        .iter()
        .map(|l| matches!(l, Layer::Parallel { .. }))
        .collect();
    if parallel.contains(&true) {
        assert!(parallel.iter().all(|&p| p), "{ctx}: partly parallel");
        assert!(space.attention.parallel.contains(&true), "{ctx}");
    } else if !attention.is_empty() {
        assert!(space.attention.parallel.contains(&false), "{ctx}");
    }
    for layer in &arch.layers {
        if let Some((heads, window)) = layer.attention_part() {
            assert!(space.attention.heads.contains(&heads), "{ctx}");
            assert!(space.attention.window.contains(&window), "{ctx}");
        }
        if let Some((state_dim, expand)) = layer.ssm_part() {
            assert!(space.ssm.state_dim.contains(&state_dim), "{ctx}");
            assert!(space.ssm.expand.contains(&expand), "{ctx}");
        }
    }
    space.check(arch).unwrap_or_else(|e| panic!("{ctx}: {e}"));
}

#[test]
fn samples_and_mutations_stay_in_the_space() {
    for space in spaces() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut changed, mut local, mut patterns, mut counts) = (0, 0, Vec::new(), Vec::new());
        const N: usize = 2000;
        for _ in 0..N {
            let arch = space.sample(&mut rng);
            assert_in_space(&space, &arch);
            let n = arch.layers.iter().filter(|l| l.is_attention()).count();
            if !counts.contains(&n) {
                counts.push(n);
            }
            for &p in &space.attention.patterns {
                if p != Pattern::Free
                    && n > 0
                    && n < arch.layers.len()
                    && follows(&arch, p, &space.attention.every)
                    && !patterns.contains(&p)
                {
                    patterns.push(p);
                }
            }
            let child = space.mutate(&arch, &mut rng);
            assert_in_space(&space, &child);
            changed += usize::from(child != arch);
            // A mutation is a small step: a fresh sample would rarely keep both.
            local += usize::from(
                child.d_model == arch.d_model && child.layers.len() == arch.layers.len(),
            );
        }
        let name = &space.name;
        assert!(
            changed >= N * 95 / 100,
            "{name}: only {changed} of {N} mutations changed the design"
        );
        assert!(
            local >= N / 2,
            "{name}: only {local} of {N} mutations kept depth and width"
        );
        // Every listed fixed pattern shows up (with at least one attention and one SSM layer).
        let fixed = space
            .attention
            .patterns
            .iter()
            .filter(|&&p| p != Pattern::Free)
            .count();
        assert!(
            patterns.len() == fixed || name == "all_attention",
            "{name}: saw only {patterns:?}"
        );
        assert!(
            counts.len() > 1 || name == "all_attention",
            "{name}: attention counts {counts:?}"
        );
    }
}

#[test]
fn sampling_is_deterministic_per_seed() {
    let space = bundled("hybrid");
    let draw = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..20)
            .map(|_| space.sample(&mut rng).short_form())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
}

#[test]
fn mutation_weights_select_the_kind() {
    let zeros = "flip = 0.0, heads = 0.0, window = 0.0, state_dim = 0.0, expand = 0.0, shared = 0.0, move = 0.0, depth = 0.0, mlp_ratio = 0.0";
    let text = format!(
        "{}\n[evolution]\nmutation_weights = {{ {zeros}, d_model = 1.0 }}\n",
        SearchSpace::bundled("hybrid").unwrap()
    );
    let space = SearchSpace::parse(&text, "w.toml").unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..200 {
        let arch = space.sample(&mut rng);
        let child = space.mutate(&arch, &mut rng);
        assert_ne!(child.d_model, arch.d_model);
        assert_eq!(child.layers, arch.layers);
    }
}

#[test]
fn mutation_leaves_a_design_outside_the_space_for_one_inside() {
    let space = bundled("tiny");
    let outside = Architecture::parse_short_form("d128 S16 S16 S16 S16 S16 A4").unwrap();
    assert!(space.check(&outside).is_err());
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    assert_in_space(&space, &space.mutate(&outside, &mut rng));
}

#[test]
fn check_says_why_a_design_is_outside() {
    let space = bundled("hybrid");
    let why = |short: &str| {
        space
            .check(&Architecture::parse_short_form(short).unwrap())
            .unwrap_err()
    };
    assert!(space
        .check(&Architecture::parse_short_form("d64 S16 S16 S16 A4").unwrap())
        .is_ok());
    assert!(why("d64 S16 S16 A4").contains("depth 3"));
    assert!(why("d80 S16 S16 S16 A4").contains("d_model 80"));
    assert!(why("d64 S16 S16 S16 A16").contains("heads 16"));
    assert!(why("d64 S16 S16 S16 A4w16").contains("window 16"));
    assert!(why("d64 S64 S16 S16 A4").contains("state_dim 64"));
    assert!(why("d64 A4 A4 A4 S16").contains("ratio bounds"));
    assert!(why("d64 A4* S16 S16 A2*").contains("shared attention layers differ"));
    assert!(why("d64 A4* S16 S16 A4").contains("share weights and others do not"));
    assert!(why("d64 rope S16 S16 S16 A4").contains("rotary"));
    // Under the fixed patterns only: a clustered space rejects scattered attention.
    let clustered = spaces()
        .into_iter()
        .find(|s| s.name == "clustered")
        .unwrap();
    let scattered = Architecture::parse_short_form("d64 A4 S16 A4 S16").unwrap();
    let message = clustered.check(&scattered).unwrap_err();
    assert!(
        message.contains("follows none of the patterns"),
        "{message}"
    );
    assert!(clustered
        .check(&Architecture::parse_short_form("d64 S16 A4 A4 S16").unwrap())
        .is_ok());
}

/// Each malformed file, with the line, column, key and expectation of its message.
#[test]
fn malformed_spaces_name_file_line_key_and_expectation() {
    let cases: &[(&str, &str, &str)] = &[
        ("syntax", "20:14", "`task.seq_len`: expected newline"),
        ("unknown_key", "6:1", "`model.dmodel`: unknown key (expected one of `depth`, `d_model`, `mlp_ratio`)"),
        ("empty_choices", "16:13", "`ssm.state_dim`: the list is empty (expected one or more state sizes)"),
        ("heads_not_dividing", "12:13", "`attention.heads`: 3 does not divide d_model 64 (expected heads that divide every d_model choice)"),
        ("ratio_out_of_range", "9:15", "`attention.ratio`: 1.5 lies outside [0, 1] (expected `[min, max]` with 0 <= min <= max <= 1)"),
        ("ratio_min_above_max", "9:9", "`attention.ratio`: min 0.6 is above max 0.2 (expected"),
        ("unknown_pattern", "10:27", "`attention.pattern`: unknown name `interleaved` (expected one of `alternating`, `clustered_first`"),
        ("ssm_width", "17:11", "`ssm.expand`: SSM inner width expand 1 x d_model 48 = 48 is not a multiple of 32 (expected expand * d_model a multiple of the SSM head width 32"),
        ("infeasible_ratio", "9:9", "`attention.ratio`: no depth and pattern choice gives an attention ratio within [0.3, 0.3] (expected"),
        ("dead_pattern", "10:12", "`attention.pattern`: `alternating` can never be used: no `every` choice [8] gives an attention ratio within [0.1, 0.5] at any depth (expected"),
        ("objective_first", "2:15", "`objectives`: the first objective is `flops` (expected `val_ppl` first"),
        ("unknown_objective", "2:26", "`objectives`: unknown name `memory` (expected `val_ppl` first, then costs from one of `flops`, `params`, `kv_cache`, `latency`, and optionally `recall`)"),
        ("one_objective", "2:14", "`objectives`: only one objective (expected at least two"),
        ("unknown_strategy", "28:12", "`search.strategy`: unknown strategy `bayesian` (expected one of `random`, `evolution`, `darts`, `grid`)"),
        ("zero_trials", "29:10", "`search.trials`: 0 is not positive (expected a trial budget >= 1)"),
        ("zero_batch", "24:14", "`training.batch_size`: 0 is not positive (expected sequences per batch >= 1)"),
        ("negative_lr", "25:6", "`training.lr`: -0.001 is not positive (expected a learning rate > 0)"),
        ("negative_window", "13:14", "`attention.window`: -32 is negative (expected windows >= 0)"),
        ("darts_negative_lambda", "32:17", "`darts.lambdas`: -0.5 is negative or not finite (expected cost penalties >= 0)"),
        ("darts_unknown_key", "32:1", "`darts.lamdas`: unknown key (expected one of `lambdas`, `cost`"),
        ("darts_depth", "32:13", "`darts.depth`: 5 is not a depth choice of [model] (expected values from [4, 6])"),
        ("evolution_zero_population", "32:14", "`evolution.population`: 0 is too small (expected a population size >= 2)"),
        ("evolution_population_one", "32:14", "`evolution.population`: 1 is too small (expected a population size >= 2)"),
        ("depth_over_cap", "5:13", "`model.depth`: 3000 is above the cap of 256 (expected layer counts from 1 to 256)"),
        ("d_model_over_cap", "6:16", "`model.d_model`: 65536 is above the cap of 8192 (expected widths from 1 to 8192)"),
        ("heads_over_cap", "12:13", "`attention.heads`: 512 is above the cap of 256 (expected head counts from 1 to 256)"),
        ("state_dim_over_cap", "16:17", "`ssm.state_dim`: 4096 is above the cap of 1024 (expected state sizes from 1 to 1024)"),
        ("seq_len_over_cap", "20:11", "`task.seq_len`: 1000000 is above the cap of 65536 (expected a sequence length from 1 to 65536)"),
        ("batch_over_cap", "24:14", "`training.batch_size`: 100000 is above the cap of 4096 (expected sequences per batch from 1 to 4096)"),
        ("steps_over_cap", "23:9", "`training.steps`: 100000000 is above the cap of 1000000 (expected optimiser steps from 1 to 1000000)"),
        ("corpus_missing", "20:10", "`task.corpus`: corpus no/such/corpus.txt: file not found (expected a UTF-8 text file"),
        ("corpus_binary", "20:10", "`task.corpus`: corpus tests/fixtures/corpora/binary.bin: a binary file, not text (NUL byte at offset 0) (expected a UTF-8 text file"),
        ("corpus_not_utf8", "20:10", "`task.corpus`: corpus tests/fixtures/corpora/latin1.txt: not UTF-8 text (invalid byte at offset 9203) (expected a UTF-8 text file"),
        ("not_utf8", "20:20", "not UTF-8 text: byte 0xe9 at offset "),
        ("evolution_tournament_too_large", "33:14", "`evolution.tournament`: 8 is larger than the population 4 (expected a tournament size from 1 to 4)"),
        ("evolution_unknown_key", "32:1", "`evolution.populaton`: unknown key (expected one of `population`, `tournament`, `mutation_weights`)"),
        ("evolution_negative_weight", "32:41", "`evolution.mutation_weights`: weight -0.5 for `move` is negative (expected weights >= 0)"),
        ("evolution_unknown_mutation", "32:34", "`evolution.mutation_weights`: unknown mutation `swap` (expected one of `flip`, `heads`, `window`, `state_dim`, `expand`, `shared`, `move`, `depth`, `d_model`, `mlp_ratio`, `parallel`)"),
        ("recall_no_cost", "2:14", "`objectives`: no cost among the objectives (expected at least one cost"),
        ("recall_pairs_over_keys", "35:13", "`recall.pairs`: 16 pairs do not fit `keys` = 8 (expected `pairs` up to `keys`)"),
        ("recall_unknown_task", "34:18", "`recall.tasks`: `digits` is not an in-context task (expected one of `mqar`, `selective-copy`, `noisy-recall`)"),
        ("recall_without_objective", "33:1", "`recall`: the table is given, but `recall` is not among the objectives (expected `recall` among the objectives, or no [recall] table)"),
        ("evolution_zero_weights", "32:1", "`evolution.mutation_weights`: every weight is zero (expected at least one positive weight)"),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures/bad_spaces");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut named: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    named.sort();
    assert_eq!(
        files, named,
        "every fixture has a case and every case a fixture"
    );
    for (file, at, message) in cases {
        let path = dir.join(format!("{file}.toml"));
        let err = SearchSpace::load(&path).unwrap_err().to_string();
        let expected = format!("{}:{at}: {message}", path.display());
        assert!(
            err.starts_with(&expected),
            "\n got: {err}\nwant: {expected}"
        );
    }
}

#[test]
fn load_reports_unreadable_files() {
    let err = SearchSpace::load(Path::new("no/such/space.toml")).unwrap_err();
    assert!(matches!(err, SpaceError::Io { .. }));
    assert!(err.to_string().contains("no/such/space.toml"));
    // The cause is in the message, not chained as well: printed with its
    // chain (`{:#}`, as `nas` prints errors) it would appear twice.
    assert!(std::error::Error::source(&err).is_none());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad_spaces");
    let err = SearchSpace::load(&dir.join("not_utf8.toml")).unwrap_err();
    assert!(matches!(
        err,
        SpaceError::NotUtf8 {
            line: 20,
            column: 20,
            byte: 0xe9,
            ..
        }
    ));
    assert!(std::error::Error::source(&err).is_none());
    assert_eq!(err.to_string().matches("UTF-8").count(), 2, "{err}");
}

/// The corpus is checked when a space file is loaded, not when one is parsed
/// (a study's stored space is parsed wherever its corpus is now).
#[test]
fn the_corpus_is_checked_on_load_only() {
    let text = edit(
        SearchSpace::bundled("tiny").unwrap(),
        &[(
            "seq_len = 64",
            "corpus = \"no/such/corpus.txt\"\nseq_len = 64",
        )],
    );
    assert!(SearchSpace::parse(&text, "t.toml").is_ok());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(&path, &text).unwrap();
    let err = SearchSpace::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("`task.corpus`: corpus no/such/corpus.txt: file not found"),
        "{err}"
    );
    // Too short for the sequence length: the same rule as training's.
    let corpus = dir.path().join("short.txt");
    std::fs::write(&corpus, "abc ".repeat(100)).unwrap();
    let line = format!("corpus = \"{}\"\nseq_len = 64", corpus.display());
    let text = edit(
        SearchSpace::bundled("tiny").unwrap(),
        &[("seq_len = 64", &line)],
    );
    std::fs::write(&path, &text).unwrap();
    let err = SearchSpace::load(&path).unwrap_err().to_string();
    assert!(err.contains("too short for sequences of 64"), "{err}");
    std::fs::write(&corpus, "abc ".repeat(1000)).unwrap();
    assert!(SearchSpace::load(&path).is_ok());
}

/// Each kind of mutation, alone, makes the change it names (a fresh sample
/// stands in only where it cannot apply, e.g. `heads` on a pure-SSM design).
#[test]
fn each_mutation_kind_makes_its_change() {
    use hybrid_nas::space::MutationOp;
    fn attention_of(a: &Architecture) -> Vec<bool> {
        a.layers.iter().map(|l| l.is_attention()).collect()
    }
    fn count(a: &Architecture) -> usize {
        a.layers.iter().filter(|l| l.is_attention()).count()
    }
    fn shared(a: &Architecture) -> bool {
        a.layers
            .iter()
            .any(|l| matches!(l, Layer::Attention { shared: true, .. }))
    }
    fn same_shape(a: &Architecture, b: &Architecture) -> bool {
        a.d_model == b.d_model && a.mlp_ratio == b.mlp_ratio && attention_of(a) == attention_of(b)
    }
    // State dim and expand both change exactly one SSM layer in place.
    fn one_ssm_layer_changed(a: &Architecture, b: &Architecture) -> bool {
        same_shape(a, b)
            && a.layers
                .iter()
                .zip(&b.layers)
                .filter(|(x, y)| x != y)
                .count()
                == 1
    }
    type Sig = Box<dyn Fn(&Architecture, &Architecture) -> bool>;
    let kinds: Vec<(MutationOp, Sig)> = vec![
        (
            MutationOp::Flip,
            Box::new(|a, b| a.layers.len() == b.layers.len() && count(a) != count(b)),
        ),
        (
            MutationOp::Move,
            Box::new(|a, b| {
                a.layers.len() == b.layers.len()
                    && count(a) == count(b)
                    && attention_of(a) != attention_of(b)
            }),
        ),
        (
            MutationOp::Depth,
            Box::new(|a, b| a.layers.len() != b.layers.len() && a.d_model == b.d_model),
        ),
        (
            MutationOp::DModel,
            Box::new(|a, b| a.d_model != b.d_model && a.layers == b.layers),
        ),
        (
            MutationOp::MlpRatio,
            Box::new(|a, b| a.mlp_ratio != b.mlp_ratio && a.layers == b.layers),
        ),
        (
            MutationOp::Shared,
            Box::new(|a, b| same_shape(a, b) && shared(a) != shared(b)),
        ),
        (
            MutationOp::Heads,
            Box::new(|a, b| {
                same_shape(a, b) && a.layers.iter().zip(&b.layers).any(|p| matches!(p, (Layer::Attention { heads: x, .. }, Layer::Attention { heads: y, .. }) if x != y))
            }),
        ),
        (
            MutationOp::Window,
            Box::new(|a, b| {
                same_shape(a, b) && a.layers.iter().zip(&b.layers).any(|p| matches!(p, (Layer::Attention { window: x, .. }, Layer::Attention { window: y, .. }) if x != y))
            }),
        ),
        (MutationOp::StateDim, Box::new(one_ssm_layer_changed)),
        (MutationOp::Expand, Box::new(one_ssm_layer_changed)),
    ];
    for space in spaces()
        .into_iter()
        .filter(|s| ["hybrid", "jamba", "clustered"].contains(&s.name.as_str()))
    {
        for (op, signature) in &kinds {
            let mut space = space.clone();
            for other in MutationOp::ALL {
                space
                    .evolution
                    .mutation_weights
                    .set(other, if other == *op { 1.0 } else { 0.0 });
            }
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let n = 300;
            let hits = (0..n)
                .filter(|_| {
                    let arch = space.sample(&mut rng);
                    signature(&arch, &space.mutate(&arch, &mut rng))
                })
                .count();
            // `move` cannot apply in the Jamba space: its periods give different counts.
            let least = if space.name == "jamba" && *op == MutationOp::Move {
                0
            } else {
                n * 2 / 5
            };
            assert!(
                hits >= least,
                "{} {op:?}: {hits} of {n} made the change",
                space.name
            );
        }
    }
}

#[test]
fn integers_stand_for_numbers() {
    let text = edit(
        SearchSpace::bundled("tiny").unwrap(),
        &[
            ("ratio = [0.0, 0.67]", "ratio = [0, 1]"),
            ("lr = 3e-3", "lr = 1"),
        ],
    );
    let space = SearchSpace::parse(&text, "t.toml").unwrap();
    assert_eq!(
        (space.attention.ratio_min, space.attention.ratio_max),
        (0.0, 1.0)
    );
    assert_eq!(space.training.lr, 1.0);
}

#[test]
fn parallel_layers_are_sampled_and_mutated_both_ways() {
    let space = spaces().into_iter().find(|s| s.name == "hymba").unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let is_parallel =
        |a: &Architecture| a.layers.iter().any(|l| matches!(l, Layer::Parallel { .. }));
    let (mut parallel, mut toggled) = (0, 0);
    for _ in 0..500 {
        let arch = space.sample(&mut rng);
        parallel += usize::from(is_parallel(&arch));
        let child = space.mutate(&arch, &mut rng);
        toggled += usize::from(is_parallel(&child) != is_parallel(&arch));
    }
    assert!(
        (150..350).contains(&parallel),
        "{parallel} of 500 samples parallel"
    );
    assert!(
        toggled > 10,
        "only {toggled} mutations turned attention parallel or back"
    );
    let only = spaces()
        .into_iter()
        .find(|s| s.name == "parallel_only")
        .unwrap();
    for _ in 0..200 {
        let arch = only.sample(&mut rng);
        assert!(is_parallel(&arch), "{}", arch.short_form());
        assert!(!arch
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Attention { .. })));
    }
}

#[test]
fn a_space_of_parallel_layers_that_must_share_is_refused() {
    let hybrid = SearchSpace::bundled("hybrid").unwrap();
    let text = hybrid.replacen(
        "shared = [false, true]",
        "shared = [true]\nparallel = [true]",
        1,
    );
    let err = SearchSpace::parse(&text, "p.toml").unwrap_err().to_string();
    assert!(err.contains("attention.parallel"), "{err}");
    assert!(err.contains("never share"), "{err}");
}

#[test]
fn a_pruner_table_is_checked_against_the_training_budget() {
    let hybrid = SearchSpace::bundled("hybrid").unwrap();
    let with = |table: &str| SearchSpace::parse(&format!("{hybrid}\n[pruner]\n{table}"), "p.toml");
    // The table alone asks for ASHA with a first rung at a ninth of 300 steps.
    let asha = with("").unwrap().pruner.unwrap();
    assert_eq!(asha.kind, hybrid_nas::prune::PrunerKind::Asha);
    assert_eq!(
        (asha.min_steps, asha.reduction_factor, asha.by_loss),
        (33, 3, false)
    );
    let by_loss = with("kind = \"hyperband\"\nrank = \"loss\"")
        .unwrap()
        .pruner
        .unwrap();
    assert!(by_loss.by_loss);
    assert!(bundled("hybrid").pruner.is_none(), "no table, no pruner");
    let lines = hybrid.lines().count();
    for (table, key, expected) in [
        (
            "kind = \"ashaa\"",
            "pruner.kind",
            "expected one of `none`, `asha`, `hyperband`",
        ),
        (
            "min_steps = 101",
            "pruner.min_steps",
            "min_steps from 1 to 100",
        ),
        ("reduction_factor = 1", "pruner.reduction_factor", ">= 2"),
        ("brackets = 2", "pruner.brackets", "hyperband pruner only"),
        ("rank = \"cost\"", "pruner.rank", "`objectives`"),
    ] {
        let message = with(table).unwrap_err().to_string();
        // The table starts two lines below the space's last line.
        assert!(
            message.contains(&format!("p.toml:{}:", lines + 3)),
            "{message}"
        );
        assert!(
            message.contains(key) && message.contains(expected),
            "{message}"
        );
    }
}
