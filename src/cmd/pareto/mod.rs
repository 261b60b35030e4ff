//! `nas pareto`: the front of the study's objectives (perplexity and a cost,
//! and recall accuracy when the study measures it) as a table, JSON, or
//! figures. The geometry is `hybrid_nas::pareto`'s and the drawing
//! `hybrid_nas::plot`'s; this module gathers trials and prints.

mod figures;

use std::collections::HashMap;

use hybrid_nas::arch::Architecture;
use hybrid_nas::objective::Objective;
use hybrid_nas::pareto::Front;
use hybrid_nas::store::{Store, TrialRecord};
use hybrid_nas::study::{self, groups, StoredStudy};
use hybrid_nas::terminal::escape;

use super::{open_for_reading, UsageError};
use crate::cli::{CostArg, ParetoArgs};

/// One study's complete trials, as the front sees them.
struct Gathered {
    study: StoredStudy,
    trials: Vec<TrialRecord>,
    /// The trials are designs' means (`--group`).
    grouped: bool,
    /// With `--group`, each design's group by the number of its first
    /// trial (the number its mean carries): the sds of the error bars.
    designs: HashMap<i64, groups::DesignGroup>,
}

impl Gathered {
    /// The sample sd of `metric` over the seeds of the design whose mean is
    /// trial `number` (`None` ungrouped or for one seed).
    fn sd(&self, number: i64, metric: &str) -> Option<f64> {
        self.designs.get(&number)?.summary(metric)?.sd
    }
}

/// The objectives a front is computed over, in the order of its vectors:
/// the cost first (so that members list by cost, then perplexity), then
/// perplexity, then recall when the studies measure it.
struct Axes {
    cost: Objective,
    recall: bool,
}

impl Axes {
    fn objectives(&self) -> Vec<Objective> {
        let mut o = vec![self.cost, Objective::ValPpl];
        if self.recall {
            o.push(Objective::Recall);
        }
        o
    }

    /// A trial's vector, each value turned so that lower is better (NaN
    /// where a value is missing: such a trial is never on the front).
    fn point(&self, t: &TrialRecord) -> Vec<f64> {
        self.objectives()
            .iter()
            .map(|o| o.minimised(&t.values).unwrap_or(f64::NAN))
            .collect()
    }

    /// `--reference` as written (cost, perplexity, then recall) into the
    /// vector order.
    fn reference(&self, text: &str) -> Result<Vec<f64>, UsageError> {
        let wanted = if self.recall {
            "COST,PPL,RECALL such as 2e6,8.5,0.2"
        } else {
            "COST,PPL such as 2e6,8.5"
        };
        let err = || UsageError(format!("--reference {text}: expected {wanted}"));
        let values: Vec<f64> = text
            .split(',')
            .map(|v| v.trim().parse::<f64>().map_err(|_| err()))
            .collect::<Result<_, _>>()?;
        if values.len() != self.objectives().len() || values.iter().any(|v| !v.is_finite()) {
            return Err(err());
        }
        let mut reference = values;
        if self.recall {
            reference[2] = -reference[2];
        }
        Ok(reference)
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

pub fn run(args: ParetoArgs) -> anyhow::Result<()> {
    // A figure name that says no format is refused before anything is
    // printed or drawn.
    if let Some(Some(path)) = &args.plot {
        hybrid_nas::plot::Format::from_path(path)?;
    }
    let store = open_for_reading(&args.store.storage)?;
    let studies = gather(&store, &args.study, args.group)?;
    let first = &studies[0].study;
    let axes = Axes {
        cost: args
            .cost
            .map(objective_of)
            .or_else(|| first.cost_objective())
            .unwrap_or(Objective::Flops),
        recall: first.objectives.contains(&Objective::Recall),
    };
    if axes.recall {
        for g in studies
            .iter()
            .filter(|g| !g.study.objectives.contains(&Objective::Recall))
        {
            eprintln!(
                "note: study `{}` does not measure recall: none of its trials can be on the \
                 three-objective front",
                escape(&g.study.name)
            );
        }
    }
    let reference = args
        .reference
        .as_deref()
        .map(|r| axes.reference(r))
        .transpose()?;
    let points: Vec<Vec<(i64, Vec<f64>)>> = studies
        .iter()
        .map(|g| g.trials.iter().map(|t| (t.number, axes.point(t))).collect())
        .collect();
    let (reference, fronts) = Front::compare(&points, reference);
    for (g, front) in studies.iter().zip(&fronts) {
        if args.json {
            print_json(g, front, &axes, &reference);
        } else {
            print_table(g, front, &axes, &reference);
        }
    }
    if let Some(path) = &args.plot {
        figures::draw(&args, path.clone(), &studies, &axes, &reference)?;
    }
    Ok(())
}

/// The complete trials of each named study (with `group`, one per design:
/// the means over its complete trials); studies with none are left out with
/// a note (an error when none has any).
fn gather(store: &dyn Store, names: &[String], group: bool) -> anyhow::Result<Vec<Gathered>> {
    let mut studies = Vec::new();
    for name in names {
        let study = study::find(store, name)?;
        // Failed and pruned trials never reach the front.
        let trials = store
            .trials(study.id)?
            .into_iter()
            .filter(TrialRecord::is_scored)
            .collect::<Vec<_>>();
        let designs = match group {
            true => groups::by_design(&trials)
                .into_iter()
                .map(|g| (g.trials[0], g))
                .collect(),
            false => HashMap::new(),
        };
        let trials = if group {
            groups::mean_trials(&trials)
        } else {
            trials
        };
        studies.push(Gathered {
            study,
            trials,
            grouped: group,
            designs,
        });
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
        eprintln!(
            "note: study `{}` has no complete trial; left out",
            escape(name)
        );
    }
    Ok(full)
}

/// A front member as shown: the trial, its attention ratio and its values
/// (cost, perplexity, recall) as measured, not turned.
struct Row<'a> {
    trial: &'a TrialRecord,
    ratio: f64,
    values: Vec<f64>,
}

fn rows<'a>(
    g: &'a Gathered,
    front: &'a Front<i64>,
    axes: &'a Axes,
) -> impl Iterator<Item = Row<'a>> {
    front.members.iter().map(move |m| {
        let trial = g
            .trials
            .iter()
            .find(|t| t.number == m.id)
            .expect("front ids are trials");
        let ratio = serde_json::from_str::<Architecture>(&trial.arch_json)
            .map(|a| a.attention_ratio())
            .unwrap_or(f64::NAN);
        let values = axes
            .objectives()
            .iter()
            .map(|o| o.value(&trial.values).unwrap_or(f64::NAN))
            .collect();
        Row {
            trial,
            ratio,
            values,
        }
    })
}

fn print_json(g: &Gathered, front: &Front<i64>, axes: &Axes, reference: &[f64]) {
    let members: Vec<_> = rows(g, front, axes)
        .map(|r| {
            let mut m = serde_json::json!({
                "trial": r.trial.number, "arch": r.trial.arch_short,
                "attention_ratio": r.ratio, "val_ppl": r.values[1], "cost": r.values[0],
            });
            if axes.recall {
                m["recall"] = r.values[2].into();
            }
            m
        })
        .collect();
    let mut reference_json = serde_json::json!({ "cost": reference[0], "val_ppl": reference[1] });
    if axes.recall {
        reference_json["recall"] = (-reference[2]).into();
    }
    println!(
        "{}",
        serde_json::json!({
            "study": g.study.name, "cost": axes.cost.as_str(), "complete": g.trials.len(),
            "grouped": g.grouped,
            "objectives": axes.objectives().iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            "evaluator": g.study.evaluator_json(),
            "reference": reference_json,
            "hypervolume": front.hypervolume, "front": members,
        })
    );
}

fn print_table(g: &Gathered, front: &Front<i64>, axes: &Axes, reference: &[f64]) {
    let recall_ref = if axes.recall {
        format!(", recall = {:.3}", -reference[2])
    } else {
        String::new()
    };
    println!(
        "study `{}`: {} {}, {} on the front; hypervolume {:.6e} (reference {} = {:.4e}, val ppl = {:.3}{recall_ref})",
        escape(&g.study.name),
        g.trials.len(),
        if g.grouped {
            "designs (the means of their complete trials)"
        } else {
            "complete trials"
        },
        front.members.len(),
        front.hypervolume,
        axes.cost.as_str(),
        reference[0],
        reference[1],
    );
    if let Some(note) = g.study.stand_in_note() {
        println!("note: {note}");
    }
    let recall_header = if axes.recall {
        format!("  {:>6}", "recall")
    } else {
        String::new()
    };
    println!(
        "{:>5}  {:>9}  {:>12}{recall_header}  {:>5}  architecture",
        "trial",
        "val ppl",
        axes.cost.as_str(),
        "attn"
    );
    for r in rows(g, front, axes) {
        let recall = if axes.recall {
            format!("  {:>6.3}", r.values[2])
        } else {
            String::new()
        };
        println!(
            "{:>5}  {:>9.3}  {:>12.4e}{recall}  {:>5.2}  {}",
            r.trial.number,
            r.values[1],
            r.values[0],
            r.ratio,
            escape(&r.trial.arch_short)
        );
    }
    println!();
}
