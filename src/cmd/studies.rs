//! `nas studies` and `nas trials`: what a store holds.

use hybrid_nas::evaluate::objective_value;
use hybrid_nas::search::darts::DartsSearch;
use hybrid_nas::space::{Objective, SearchSpace};
use hybrid_nas::store::{database_path, SqliteStore, Store, Study, TrialRecord, TrialState};

use super::{trial_json, UsageError};
use crate::cli::{EvaluatorKind, StoreArgs, TrialSort, TrialsArgs};

/// Opens an existing store for reading; a missing file is a usage error, not
/// a reason to create an empty database.
pub fn open_existing(storage: &str) -> anyhow::Result<SqliteStore> {
    let path = database_path(storage)?;
    if !path.exists() {
        return Err(UsageError(format!(
            "no store at {storage} (run `nas run` first, or pass --storage)"
        ))
        .into());
    }
    Ok(SqliteStore::open(storage)?)
}

pub fn find_study(store: &SqliteStore, name: &str) -> anyhow::Result<Study> {
    match store.find_study(name)? {
        Some(s) => Ok(s),
        None => {
            let names: Vec<String> = store
                .list_studies()?
                .into_iter()
                .map(|s| s.study.name)
                .collect();
            Err(UsageError(format!(
                "no study `{name}` in this store (studies: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
            .into())
        }
    }
}

/// Which evaluator produced a study's complete trials, read off their metrics:
/// the analytic evaluator trains nothing, so its trials have no throughput.
/// `None` before the first complete trial.
pub fn evaluator_of(trials: &[TrialRecord]) -> Option<&'static str> {
    let mut kinds = trials.iter().filter_map(|t| t.metrics.as_ref()).map(|m| {
        if m.tokens_per_s > 0.0 {
            "training"
        } else {
            "analytic"
        }
    });
    let first = kinds.next()?;
    Some(if kinds.all(|k| k == first) {
        first
    } else {
        "mixed"
    })
}

/// The name [`evaluator_of`] gives the trials of an evaluator.
pub fn evaluator_name(kind: EvaluatorKind) -> &'static str {
    match kind {
        EvaluatorKind::Train => "training",
        EvaluatorKind::Analytic => "analytic",
    }
}

/// The study's cost objective (its second), if it has one.
pub fn cost_objective(study: &Study) -> Option<Objective> {
    study.objectives.get(1).and_then(|o| o.parse().ok())
}

pub fn list_studies(args: StoreArgs) -> anyhow::Result<()> {
    let store = open_existing(&args.storage)?;
    let studies = store.list_studies()?;
    if studies.is_empty() {
        println!("no studies in {}", args.storage);
        return Ok(());
    }
    println!(
        "{:<20} {:<10} {:<9} {:>8} {:>8} {:>7} {:>7}  {:>9}  {:>9}  objectives",
        "study",
        "strategy",
        "evaluator",
        "complete",
        "running",
        "failed",
        "budget",
        "best ppl",
        "compute s"
    );
    for s in studies {
        let trials = store.trials(s.study.id)?;
        println!(
            "{:<20} {:<10} {:<9} {:>8} {:>8} {:>7} {:>7}  {:>9}  {:>9.1}  {}",
            s.study.name,
            s.study.strategy,
            evaluator_of(&trials).unwrap_or("-"),
            s.complete,
            s.running,
            s.failed,
            s.study.budget,
            s.best_val_ppl.map_or("-".into(), |p| format!("{p:.3}")),
            compute(&store, &s.study, &trials)?.total(),
            s.study.objectives.join(", ")
        );
    }
    Ok(())
}

/// Wall seconds a study has spent, for comparing strategies at equal compute.
pub struct Compute {
    /// DARTS' supernet phases (0 for other strategies).
    pub supernet: f64,
    /// Every trial that finished (complete, failed or pruned), start to end.
    pub trials: f64,
}

impl Compute {
    pub fn total(&self) -> f64 {
        self.supernet + self.trials
    }
}

pub fn compute(
    store: &SqliteStore,
    study: &Study,
    trials: &[TrialRecord],
) -> anyhow::Result<Compute> {
    let trials = trials
        .iter()
        .filter_map(|t| t.finished.map(|f| (f - t.started).max(0.0)))
        .sum();
    let mut supernet = 0.0;
    if study.strategy == "darts" {
        // The stored space says which supernets and λs there are.
        if let Ok(space) = SearchSpace::parse(&study.space_text, &study.name) {
            supernet = DartsSearch::progress(store, study.id, &space)?
                .iter()
                .map(|p| p.seconds())
                .sum();
        }
    }
    Ok(Compute { supernet, trials })
}

pub fn list_trials(args: TrialsArgs) -> anyhow::Result<()> {
    let store = open_existing(&args.store.storage)?;
    let study = find_study(&store, &args.study)?;
    let state = args
        .state
        .as_deref()
        .map(|s| {
            s.parse::<TrialState>().map_err(|_| {
                UsageError(format!(
                    "--state {s}: expected running, complete, pruned or failed"
                ))
            })
        })
        .transpose()?;
    let cost = cost_objective(&study);
    let mut trials: Vec<_> = store
        .trials(study.id)?
        .into_iter()
        .filter(|t| state.is_none_or(|s| t.state == s))
        .collect();
    let key = |t: &TrialRecord, by_cost: bool| {
        t.metrics
            .as_ref()
            .map_or(f64::INFINITY, |m| match (by_cost, cost) {
                (true, Some(c)) => objective_value(m, c),
                _ => m.val_ppl,
            })
    };
    match args.sort {
        TrialSort::Number => {}
        TrialSort::Ppl => trials.sort_by(|a, b| key(a, false).total_cmp(&key(b, false))),
        TrialSort::Cost => trials.sort_by(|a, b| key(a, true).total_cmp(&key(b, true))),
    }
    if args.json {
        for t in &trials {
            println!("{}", trial_json(t, cost));
        }
        return Ok(());
    }
    let cost_name = cost.map_or("cost", |c| c.as_str());
    println!(
        "{:>5}  {:<9} {:>9} {:>12} {:>10}  architecture",
        "trial", "state", "val ppl", cost_name, "params"
    );
    for t in &trials {
        let (ppl, c, params) = match &t.metrics {
            Some(m) => (
                format!("{:.3}", m.val_ppl),
                cost.map_or("-".into(), |c| format!("{:.4e}", objective_value(m, c))),
                m.params.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>5}  {:<9} {:>9} {:>12} {:>10}  {}",
            t.number,
            t.state.to_string(),
            ppl,
            c,
            params,
            t.arch_short
        );
        if let Some(err) = &t.error {
            println!("{:>5}  {:<9} {err}", "", "");
        }
    }
    Ok(())
}
