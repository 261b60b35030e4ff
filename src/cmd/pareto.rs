//! `nas pareto`: the front of cost against perplexity, as a table, JSON, or a
//! plot. The geometry is `hybrid_nas::pareto`'s and the drawing
//! `hybrid_nas::plot`'s; this file gathers trials and prints.

use std::path::PathBuf;

use hybrid_nas::arch::Architecture;
use hybrid_nas::objective::Objective;
use hybrid_nas::pareto::{self, StudyFront};
use hybrid_nas::plot::{self, PlotPoint, PlotSeries, PlotSpec};
use hybrid_nas::store::{SqliteStore, Store, TrialRecord};
use hybrid_nas::study::{self, StoredStudy};

use super::UsageError;
use crate::cli::{CostArg, ParetoArgs};

/// One study's complete trials, as the front sees them.
struct Gathered {
    study: StoredStudy,
    trials: Vec<TrialRecord>,
}

impl Gathered {
    /// `(trial number, ppl, cost)` of every trial.
    fn points(&self, cost: Objective) -> Vec<(i64, f64, f64)> {
        let value = |t: &TrialRecord, o: Objective| o.value(&t.values).unwrap_or(f64::NAN);
        self.trials
            .iter()
            .map(|t| (t.number, value(t, Objective::ValPpl), value(t, cost)))
            .collect()
    }
}

fn objective_of(cost: CostArg) -> Objective {
    match cost {
        CostArg::Flops => Objective::Flops,
        CostArg::Params => Objective::Params,
        CostArg::KvCache => Objective::KvCache,
        CostArg::Latency => Objective::Latency,
    }
}

fn parse_reference(text: &str) -> Result<(f64, f64), UsageError> {
    let err = || {
        UsageError(format!(
            "--reference {text}: expected COST,PPL such as 2e6,8.5"
        ))
    };
    let (c, p) = text.split_once(',').ok_or_else(err)?;
    let (c, p): (f64, f64) = (
        c.trim().parse().map_err(|_| err())?,
        p.trim().parse().map_err(|_| err())?,
    );
    if !(c.is_finite() && p.is_finite()) {
        return Err(err());
    }
    Ok((c, p))
}

pub fn run(args: ParetoArgs) -> anyhow::Result<()> {
    let reference = args.reference.as_deref().map(parse_reference).transpose()?;
    let store = SqliteStore::open_existing(&args.store.storage)?;
    let studies = gather(&store, &args.study)?;
    let cost = match args.cost {
        Some(c) => objective_of(c),
        None => studies[0]
            .study
            .cost_objective()
            .unwrap_or(Objective::Flops),
    };
    let points: Vec<_> = studies.iter().map(|g| g.points(cost)).collect();
    let (reference, fronts) = pareto::compare(&points, reference);
    for (g, front) in studies.iter().zip(&fronts) {
        if args.json {
            print_json(g, front, cost, reference);
        } else {
            print_table(g, front, cost, reference);
        }
    }
    if let Some(plot_arg) = &args.plot {
        draw(&args, plot_arg.clone(), &studies, &fronts, cost, reference)?;
    }
    Ok(())
}

/// The complete trials of each named study; studies with none are left out
/// with a note (an error when none has any).
fn gather(store: &dyn Store, names: &[String]) -> anyhow::Result<Vec<Gathered>> {
    let mut studies = Vec::new();
    for name in names {
        let study = study::find(store, name)?;
        // Failed and pruned trials never reach the front.
        let trials = store
            .trials(study.id)?
            .into_iter()
            .filter(TrialRecord::is_scored)
            .collect();
        studies.push(Gathered { study, trials });
    }
    let (full, empty): (Vec<_>, Vec<_>) = studies.into_iter().partition(|g| !g.trials.is_empty());
    let empty: Vec<&str> = empty.iter().map(|g| g.study.name.as_str()).collect();
    if full.is_empty() {
        return Err(UsageError(format!(
            "no complete trial in {}: nothing has a perplexity yet (`nas trials --study {}` shows why)",
            empty.join(", "),
            empty[0]
        ))
        .into());
    }
    for name in &empty {
        eprintln!("note: study `{name}` has no complete trial; left out");
    }
    Ok(full)
}

/// The front's rows: trial, its attention ratio, perplexity and cost.
fn rows<'a>(
    g: &'a Gathered,
    front: &'a StudyFront<i64>,
) -> impl Iterator<Item = (&'a TrialRecord, f64, f64, f64)> {
    front.members.iter().map(move |m| {
        let t = g
            .trials
            .iter()
            .find(|t| t.number == m.id)
            .expect("front ids are trials");
        let ratio = serde_json::from_str::<Architecture>(&t.arch_json)
            .map(|a| a.attention_ratio())
            .unwrap_or(f64::NAN);
        (t, ratio, m.ppl, m.cost)
    })
}

fn print_json(g: &Gathered, front: &StudyFront<i64>, cost: Objective, reference: (f64, f64)) {
    let members: Vec<_> = rows(g, front)
        .map(|(t, ratio, ppl, c)| {
            serde_json::json!({
                "trial": t.number, "arch": t.arch_short, "attention_ratio": ratio,
                "val_ppl": ppl, "cost": c,
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "study": g.study.name, "cost": cost.as_str(), "complete": g.trials.len(),
            "evaluator": g.study.evaluator_json(),
            "reference": { "cost": reference.0, "val_ppl": reference.1 },
            "hypervolume": front.hypervolume, "front": members,
        })
    );
}

fn print_table(g: &Gathered, front: &StudyFront<i64>, cost: Objective, reference: (f64, f64)) {
    println!(
        "study `{}`: {} complete trials, {} on the front; hypervolume {:.6e} (reference {} = {:.4e}, val ppl = {:.3})",
        g.study.name,
        g.trials.len(),
        front.members.len(),
        front.hypervolume,
        cost.as_str(),
        reference.0,
        reference.1
    );
    if let Some(note) = g.study.stand_in_note() {
        println!("note: {note}");
    }
    println!(
        "{:>5}  {:>9}  {:>12}  {:>5}  architecture",
        "trial",
        "val ppl",
        cost.as_str(),
        "attn"
    );
    for (t, ratio, ppl, c) in rows(g, front) {
        println!(
            "{:>5}  {:>9.3}  {:>12.4e}  {:>5.2}  {}",
            t.number, ppl, c, ratio, t.arch_short
        );
    }
    println!();
}

fn draw(
    args: &ParetoArgs,
    path: Option<PathBuf>,
    studies: &[Gathered],
    fronts: &[StudyFront<i64>],
    cost: Objective,
    reference: (f64, f64),
) -> anyhow::Result<()> {
    let names: Vec<&str> = studies.iter().map(|g| g.study.name.as_str()).collect();
    let path = path.unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(names.join("+"))
            .join(format!("pareto-{}.png", cost.as_str()))
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let series: Vec<PlotSeries> = studies
        .iter()
        .zip(fronts)
        .map(|(g, front)| PlotSeries {
            // The legend says which series are stand-ins.
            study: if g.study.is_stand_in() {
                format!("{} (analytic stand-in)", g.study.name)
            } else {
                g.study.name.clone()
            },
            points: g
                .points(cost)
                .into_iter()
                .zip(&g.trials)
                .map(|((number, ppl, c), t)| PlotPoint {
                    cost: c,
                    ppl,
                    label: t.arch_short.clone(),
                    on_front: front.contains(&number),
                })
                .collect(),
            hypervolume: front.hypervolume,
        })
        .collect();
    let total: usize = studies.iter().map(|g| g.trials.len()).sum();
    let stand_in = studies.iter().any(|g| g.study.is_stand_in());
    let spec = PlotSpec {
        title: format!(
            "Pareto front: {} ({} complete trials){}",
            names.join(" vs "),
            total,
            if stand_in {
                ", analytic stand-in values, not measured"
            } else {
                ""
            }
        ),
        x_label: cost.describe(studies[0].study.space().ok().map(|s| s.task.seq_len)),
        y_label: format!("{} (per character)", Objective::ValPpl.describe(None)),
        log_x: if args.log_x {
            Some(true)
        } else if args.linear_x {
            Some(false)
        } else {
            None
        },
        reference: Some(reference),
    };
    plot::draw(&path, &series, &spec)?;
    eprintln!("plot written to {}", path.display());
    Ok(())
}
