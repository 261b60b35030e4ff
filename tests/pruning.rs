//! Early stopping in live studies: ASHA and Hyperband through `nas run`.
//!
//! The analytic evaluator hands a stand-in learning curve to the pruner
//! (labelled a stand-in everywhere it shows): what these tests check is the
//! rule and its bookkeeping — decisions taken in the store, in order, kept
//! across processes and crashes, pruned trials off the front — not numbers.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{kill_ten_times, nas, spawn_nas, stderr, stdout};
use hybrid_nas::metrics;
use hybrid_nas::prune::{promotes, Competitor};
use hybrid_nas::store::{SqliteStore, Store, TrialRecord, TrialState};

fn run_args<'a>(study: &'a str, pruner: &'a str, trials: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--pruner",
        pruner,
        "--study",
        study,
        "--trials",
        trials,
        "--json",
    ]
}

fn store_of(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir.join("runs/nas.db").to_str().unwrap()).unwrap()
}

fn study_id(store: &SqliteStore, name: &str) -> i64 {
    store
        .find_study(name)
        .unwrap()
        .expect("the study exists")
        .id
}

fn count(trials: &[TrialRecord], state: TrialState) -> usize {
    trials.iter().filter(|t| t.state == state).count()
}

/// Every invariant of a pruned study's store, checked from the store alone:
///
/// - replaying the reports of each rung in their stored order, with one
///   judge, gives exactly the stored decisions (whoever took them);
/// - a design and seed has at most one report per rung (a retried design
///   got its first decision again instead of a second one);
/// - a design that has a report not promoted ended pruned at that step, with
///   its loss there and its curve ending there; every other design that
///   reported completed.
///
/// Returns (complete, pruned).
fn check_decisions(store: &SqliteStore, study: i64, eta: usize) -> (usize, usize) {
    let trials = store.trials(study).unwrap();
    let reports = store.rung_reports(study).unwrap();
    let design_of: HashMap<i64, (String, u64)> = trials
        .iter()
        .map(|t| (t.id, (t.arch_hash.clone(), t.seed)))
        .collect();
    let mut at_rung: HashMap<(usize, usize), Vec<Competitor>> = HashMap::new();
    let mut judged = HashSet::new();
    let mut stopped_at: HashMap<(String, u64), usize> = HashMap::new();
    for r in &reports {
        let entries = at_rung.entry((r.bracket, r.step)).or_default();
        entries.push(r.competitor.clone());
        assert_eq!(
            r.promoted,
            promotes(entries, entries.len() - 1, eta),
            "report of trial id {} at step {}",
            r.trial_id,
            r.step
        );
        let design = design_of[&r.trial_id].clone();
        assert!(
            judged.insert((design.clone(), r.bracket, r.step)),
            "design {design:?} judged twice at step {}",
            r.step
        );
        if !r.promoted {
            assert!(stopped_at.insert(design, r.step).is_none());
        }
    }
    let settled: Vec<&TrialRecord> = trials.iter().filter(|t| t.is_settled()).collect();
    for t in &settled {
        let design = (t.arch_hash.clone(), t.seed);
        match stopped_at.get(&design) {
            Some(&step) => {
                assert_eq!(t.state, TrialState::Pruned, "trial {}", t.number);
                assert_eq!(t.pruned_at(), Some(step), "trial {}", t.number);
                assert!(t.value(metrics::VAL_LOSS).is_some_and(f64::is_finite));
                assert!(t.value(metrics::FLOPS).is_some(), "it keeps its costs");
                let curve = store.curve(t.id).unwrap();
                assert_eq!(
                    curve.last().map(|p| p.step),
                    Some(step),
                    "trial {}",
                    t.number
                );
            }
            None => assert_eq!(t.state, TrialState::Complete, "trial {}", t.number),
        }
    }
    assert_eq!(
        count(&trials, TrialState::Running),
        0,
        "no trial left running"
    );
    (
        count(&trials, TrialState::Complete),
        count(&trials, TrialState::Pruned),
    )
}

#[test]
fn asha_prunes_by_its_rule_and_pruned_trials_never_reach_the_front() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(dir.path(), &run_args("a", "asha", "300"));
    assert!(out.status.success(), "{}", stderr(&out));
    let store = store_of(dir.path());
    let id = study_id(&store, "a");
    let (complete, pruned) = check_decisions(&store, id, 3);
    assert_eq!(
        complete + pruned,
        300,
        "pruned trials count towards the budget"
    );
    assert!(
        pruned > 150 && complete >= 10,
        "{complete} complete, {pruned} pruned"
    );
    let rungs: HashSet<usize> = store
        .trials(id)
        .unwrap()
        .iter()
        .filter_map(TrialRecord::pruned_at)
        .collect();
    assert_eq!(rungs, HashSet::from([33, 99]), "ASHA's rungs for 300 steps");

    let front = nas(dir.path(), &["pareto", "--study", "a", "--json"]);
    assert!(front.status.success(), "{}", stderr(&front));
    let front: serde_json::Value = serde_json::from_str(stdout(&front).trim()).unwrap();
    let states: HashMap<i64, TrialState> = store
        .trials(id)
        .unwrap()
        .iter()
        .map(|t| (t.number, t.state))
        .collect();
    let members = front["front"].as_array().unwrap();
    assert!(!members.is_empty());
    for m in members {
        let number = m["trial"].as_i64().unwrap();
        assert_eq!(
            states[&number],
            TrialState::Complete,
            "trial {number} on the front"
        );
    }
    assert_eq!(front["complete"].as_u64(), Some(complete as u64));

    let listing = stdout(&nas(dir.path(), &["trials", "--study", "a"]));
    assert!(listing.contains("pruned@33"), "{listing}");
}

#[test]
fn hyperband_runs_brackets_of_its_own_rungs() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(dir.path(), &run_args("h", "hyperband", "300"));
    assert!(out.status.success(), "{}", stderr(&out));
    let store = store_of(dir.path());
    let id = study_id(&store, "h");
    let (complete, pruned) = check_decisions(&store, id, 3);
    assert_eq!(complete + pruned, 300);
    let reports = store.rung_reports(id).unwrap();
    let brackets: HashSet<(usize, usize)> = reports.iter().map(|r| (r.bracket, r.step)).collect();
    // Bracket 0 judges at 33 and 99, bracket 1 at 99 only; bracket 2 trains
    // its trials to the end without a report.
    assert_eq!(brackets, HashSet::from([(0, 33), (0, 99), (1, 99)]));
    let reported: HashSet<i64> = reports.iter().map(|r| r.trial_id).collect();
    let unjudged = store
        .trials(id)
        .unwrap()
        .iter()
        .filter(|t| !reported.contains(&t.id))
        .count();
    assert!(unjudged > 0, "the last bracket trains to the end");
}

#[test]
fn two_processes_on_one_study_take_each_decision_on_the_reports_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = run_args("c", "asha", "600");
    // Create the study first so both processes continue the same one.
    let out = nas(dir.path(), &run_args("c", "asha", "1"));
    assert!(out.status.success(), "{}", stderr(&out));
    let children = [spawn_nas(dir.path(), &args), spawn_nas(dir.path(), &args)];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = store_of(dir.path());
    let id = study_id(&store, "c");
    let (complete, pruned) = check_decisions(&store, id, 3);
    assert_eq!(complete + pruned, 600);
    let trials = store.trials(id).unwrap();
    let workers: HashSet<_> = trials
        .iter()
        .map(|t| t.worker.rsplit_once(':').unwrap().0.to_string())
        .collect();
    assert!(workers.len() >= 2, "both processes worked: {workers:?}");
}

/// The settled trials of a study in order: (design, seed, state, rung).
fn outcomes(store: &SqliteStore, name: &str) -> Vec<(String, u64, TrialState, Option<usize>)> {
    store
        .trials(study_id(store, name))
        .unwrap()
        .into_iter()
        .filter(|t| t.is_settled())
        .map(|t| (t.arch_hash.clone(), t.seed, t.state, t.pruned_at()))
        .collect()
}

#[test]
fn a_study_killed_mid_rung_resumes_with_the_decisions_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let args = run_args("k", "asha", "1500");
    let killed = kill_ten_times(dir.path(), &args, 53);
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        killed >= 5,
        "only {killed} of 10 runs were killed mid-study"
    );
    let store = store_of(dir.path());
    let (complete, pruned) = check_decisions(&store, study_id(&store, "k"), 3);
    assert_eq!(complete + pruned, 1500);

    // The same study, never interrupted, in another store: the same designs
    // end the same way, in the same order.
    let calm = tempfile::tempdir().unwrap();
    let out = nas(calm.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let calm_store = store_of(calm.path());
    assert_eq!(outcomes(&store, "k"), outcomes(&calm_store, "k"));
}

#[test]
fn a_compute_budget_stops_new_trials_once_spent() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = run_args("b", "asha", "1000");
    args.extend(["--budget-steps", "3000"]);
    let out = nas(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&nas(dir.path(), &["studies", "--json"]));
    let study: serde_json::Value = serde_json::from_str(listed.trim()).unwrap();
    let steps = study["compute_steps"].as_u64().unwrap();
    // One process, one job: the last trial started below the budget and
    // trained at most the full 300 steps.
    assert!((3000..3300).contains(&steps), "{steps} steps spent");
    assert_eq!(study["pruner"]["kind"], "asha");
    let trials =
        study["trials"]["complete"].as_u64().unwrap() + study["trials"]["pruned"].as_u64().unwrap();
    assert!(trials < 1000, "the compute budget stopped it first");
}

#[test]
fn a_pruner_the_study_does_not_use_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = nas(dir.path(), &run_args("r", "asha", "20"));
    assert!(out.status.success(), "{}", stderr(&out));
    let before = store_of(dir.path()).trials(1).unwrap().len();
    let out = nas(dir.path(), &run_args("r", "hyperband", "40"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("prunes with asha"),
        "{}",
        stderr(&out)
    );
    let store = store_of(dir.path());
    assert_eq!(store.trials(1).unwrap().len(), before);
    assert_eq!(store.find_study("r").unwrap().unwrap().budget, 20);
    // Continued without --pruner, it prunes as it did.
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "hybrid",
            "--evaluator",
            "analytic",
            "--study",
            "r",
            "--trials",
            "40",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    check_decisions(&store, 1, 3);

    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "hybrid",
            "--strategy",
            "darts",
            "--pruner",
            "asha",
            "--study",
            "d",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not apply to darts"),
        "{}",
        stderr(&out)
    );
    assert!(store.find_study("d").unwrap().is_none());
}
