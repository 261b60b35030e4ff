//! Grid studies through the CLI, on analytic stand-in values: every listed
//! design at every seed exactly once, resumes that add nothing, and the
//! refusals of grids that cannot run (each before anything is written).

mod common;

use std::path::Path;

use common::{nas, stderr, stdout, tree};
use hybrid_nas::store::{SqliteStore, Store, TrialRecord, TrialState};

/// Three designs inside the bundled tiny space.
const DESIGNS: [&str; 3] = ["d32 S8 S8", "d64 S16 A4", "d32 S8 A2 S8"];

/// The tiny space as a grid study with `grid` as its `[grid]` table.
fn grid_space(dir: &Path, grid: &str) -> String {
    let tiny = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    let text = tiny
        .replacen("name = \"tiny\"", "name = \"g\"", 1)
        .replacen("strategy = \"random\"", "strategy = \"grid\"", 1);
    assert!(text.contains("strategy = \"grid\""));
    std::fs::write(dir.join("g.toml"), format!("{text}\n[grid]\n{grid}\n")).unwrap();
    "g.toml".into()
}

fn designs_line(designs: &[&str]) -> String {
    let quoted: Vec<String> = designs.iter().map(|d| format!("\"{d}\"")).collect();
    format!("designs = [{}]", quoted.join(", "))
}

fn run_grid(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--space", "g.toml", "--evaluator", "analytic"];
    args.extend_from_slice(extra);
    nas(dir, &args)
}

fn trials(dir: &Path) -> Vec<TrialRecord> {
    let store = SqliteStore::open(dir.join("runs/nas.db").to_str().unwrap()).unwrap();
    let study = store.find_study("g").unwrap().expect("the study exists");
    store.trials(study.id).unwrap()
}

#[test]
fn a_grid_trains_each_design_at_each_seed_once_and_a_resume_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    grid_space(
        dir.path(),
        &format!("{}\nrepeats = 2", designs_line(&DESIGNS)),
    );
    let out = run_grid(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = trials(dir.path());
    assert_eq!(first.len(), 6, "{}", stderr(&out));
    assert!(first.iter().all(|t| t.state == TrialState::Complete));
    // Repeat-major: every design at seed 0 (the space's seed), then at seed 1.
    let pairs: Vec<(String, u64)> = first
        .iter()
        .map(|t| (t.arch_short.clone(), t.seed))
        .collect();
    let expected: Vec<(String, u64)> = [0, 1]
        .iter()
        .flat_map(|&s| DESIGNS.iter().map(move |d| (d.to_string(), s)))
        .collect();
    assert_eq!(pairs, expected);

    // The study is complete: a second run trains nothing more.
    let out = run_grid(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trials(dir.path()), first, "{}", stderr(&out));

    // Grouped, each design is one row over its two seeds.
    let out = nas(dir.path(), &["trials", "--study", "g", "--group", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), DESIGNS.len());
    for (row, design) in rows.iter().zip(DESIGNS) {
        assert_eq!(row["arch"], design);
        assert_eq!(row["n"], 2);
        assert_eq!(row["seeds"], serde_json::json!([0, 1]));
        let ppl: Vec<f64> = first
            .iter()
            .filter(|t| t.arch_short == design)
            .map(|t| t.value("val_ppl").unwrap())
            .collect();
        let mean = (ppl[0] + ppl[1]) / 2.0;
        let sd = (ppl[0] - ppl[1]).abs() / 2f64.sqrt();
        let got = &row["values"]["val_ppl"];
        assert!((got["mean"].as_f64().unwrap() - mean).abs() < 1e-9, "{row}");
        assert!((got["sd"].as_f64().unwrap() - sd).abs() < 1e-9, "{row}");
        assert_eq!(got["n"], 2);
    }
    let out = nas(
        dir.path(),
        &["trials", "--study", "g", "--group", "--format", "csv"],
    );
    let csv = stdout(&out);
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("arch,hash,depth,d_model,attention_ratio,pattern,n,trials,seeds,"));
    assert!(header.contains(",val_ppl_mean,val_ppl_sd"), "{header}");
    assert_eq!(csv.lines().count(), 1 + DESIGNS.len());
    let out = nas(
        dir.path(),
        &["trials", "--study", "g", "--group", "--sort", "ppl"],
    );
    let table = stdout(&out);
    assert!(table.contains(" ± "), "{table}");
    assert!(
        table.contains("(stand-in)") || table.contains("stand-in"),
        "{table}"
    );
    let out = nas(
        dir.path(),
        &["trials", "--study", "g", "--group", "--state", "failed"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "--group lists complete trials only"
    );

    // The front of the means: each design once, its values the means.
    let out = nas(dir.path(), &["pareto", "--study", "g", "--group", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let front: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(front["complete"], DESIGNS.len());
    assert_eq!(front["grouped"], true);
    for m in front["front"].as_array().unwrap() {
        let design = m["arch"].as_str().unwrap();
        let row = rows.iter().find(|r| r["arch"] == design).unwrap();
        assert_eq!(m["val_ppl"], row["values"]["val_ppl"]["mean"], "{m}");
    }

    // The report: every design one row, in the grid's order, labelled.
    let out = nas(dir.path(), &["report", "--study", "g"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), DESIGNS.len(), "{md}");
    for (row, design) in rows.iter().zip(DESIGNS) {
        assert!(row.starts_with(&format!("| `{design}` |")), "{md}");
        assert!(row.contains(" ± "), "{row}");
    }
    assert!(md.contains("stand-ins, not measurements"), "{md}");
    let out = nas(dir.path(), &["report", "--study", "g", "--format", "json"]);
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), DESIGNS.len());
    assert_eq!(rows[0]["ratios"]["val_ppl"], 1.0);
    assert_eq!(rows[0]["stand_in"], true);
    assert_eq!(rows[1]["n"], 2);

    // A grid's budget is its size.
    let out = run_grid(dir.path(), &["--trials", "9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--trials does not apply to grid"));
    assert_eq!(trials(dir.path()), first);
}

#[test]
fn grids_that_cannot_run_are_refused_at_their_line_and_nothing_is_written() {
    let cases: [(&str, String, &str); 4] = [
        (
            "outside the space",
            designs_line(&["d32 S8 S8", "d128 S16 S16"]),
            "g.toml:",
        ),
        (
            "the same design as entry 1",
            designs_line(&["d32 S8 S8", "d32 m4 S8 S8"]),
            "grid.designs",
        ),
        (
            "seeds per design",
            format!("{}\nrepeats = 0", designs_line(&DESIGNS)),
            "grid.repeats",
        ),
        ("short form", designs_line(&["d32 X8"]), "grid.designs"),
    ];
    for (expected, grid, place) in &cases {
        let dir = tempfile::tempdir().unwrap();
        grid_space(dir.path(), grid);
        let before = tree(dir.path());
        let out = run_grid(dir.path(), &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{grid}: {err}");
        assert!(err.contains(expected), "{grid}: {err}");
        assert!(err.contains(place), "{grid}: {err}");
        assert_eq!(tree(dir.path()), before, "{grid}: nothing written");
    }

    // `strategy = "grid"` without a [grid] table, in the file or by flag.
    let dir = tempfile::tempdir().unwrap();
    let tiny = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    let text = tiny.replacen("strategy = \"random\"", "strategy = \"grid\"", 1);
    std::fs::write(dir.path().join("g.toml"), text).unwrap();
    let before = tree(dir.path());
    let out = run_grid(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("without a [grid] table"),
        "{}",
        stderr(&out)
    );
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--strategy",
            "grid",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs a [grid] table"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn axes_expand_inside_the_space_after_the_listed_designs_and_each_trains_at_each_seed_once() {
    let dir = tempfile::tempdir().unwrap();
    // Ratio 0 places nothing, so its two patterns name one design; one
    // listed design is also a combination of the axes: both once.
    grid_space(
        dir.path(),
        &format!(
            "{}\nrepeats = 2\n[grid.axes]\ndepth = [3]\nd_model = [32]\n\
             ratio = [0.0, 0.333, 0.667]\npattern = [\"uniform\", \"clustered_first\"]\n\
             heads = [2]\nwindow = [0]\nshared = [false]\nstate_dim = [8]\nexpand = [2]",
            designs_line(&["d64 S16 A4", "d32 S8 A2 S8"])
        ),
    );
    let out = run_grid(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "grid: 6 designs x 2 seed(s) (4 from [grid.axes]: 6 combinations, 0 outside the space)"
        ),
        "{}",
        stderr(&out)
    );
    let designs = [
        "d64 S16 A4",
        "d32 S8 A2 S8",
        "d32 S8 S8 S8",
        "d32 A2 S8 S8",
        "d32 A2 S8 A2",
        "d32 A2 A2 S8",
    ];
    let pairs: Vec<(String, u64)> = trials(dir.path())
        .iter()
        .map(|t| (t.arch_short.clone(), t.seed))
        .collect();
    let expected: Vec<(String, u64)> = [0, 1]
        .iter()
        .flat_map(|&s| designs.iter().map(move |d| (d.to_string(), s)))
        .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn axes_that_cannot_give_a_design_are_refused_at_their_value_and_nothing_is_written() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "d_model = [32, 96]",
            "`grid.axes.d_model`: no combination with this value lies inside the space: \
             d_model 96 is not a choice of the space",
            ":column-of-96",
        ),
        (
            "pattern = [\"free\"]",
            "`free` names no positions",
            "grid.axes.pattern",
        ),
        (
            "ratio = [0.0, 1.5]",
            "1.5 lies outside [0, 1]",
            "grid.axes.ratio",
        ),
        (
            "depth = [3]\nratio = [0.5]",
            "ratio 0.5 of 3 layers is 1.500 layers",
            // Neither value gives a design; the first axis is named.
            "grid.axes.depth",
        ),
        ("colour = [1]", "`grid.axes.colour`: unknown key", "g.toml:"),
        ("heads = []", "the list is empty", "grid.axes.heads"),
        ("", "neither `designs` nor [grid.axes]", "`grid`"),
    ];
    for (axes, expected, place) in cases {
        let dir = tempfile::tempdir().unwrap();
        let grid = if axes.is_empty() {
            "repeats = 2".to_string()
        } else {
            format!("[grid.axes]\n{axes}")
        };
        let file = grid_space(dir.path(), &grid);
        let text = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        let before = tree(dir.path());
        let out = run_grid(dir.path(), &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{axes}: {err}");
        assert!(err.contains(expected), "{axes}: {err}");
        if place == ":column-of-96" {
            // The error points at the value itself: its line and column.
            let line = text
                .lines()
                .position(|l| l.starts_with("d_model = [32, 96]"))
                .unwrap();
            let at = format!("g.toml:{}:{}:", line + 1, "d_model = [32, ".len() + 1);
            assert!(
                err.starts_with(&format!("error: {at}")) || err.contains(&at),
                "{err}"
            );
        } else {
            assert!(err.contains(place), "{axes}: {err}");
        }
        assert_eq!(tree(dir.path()), before, "{axes}: nothing written");
    }
}
