//! `nas pareto`: the front of cost against perplexity, as a table, JSON, or a
//! plot. The geometry is `hybrid_nas::pareto`'s; this file only gathers
//! trials and prints or hands them to `hybrid_nas::plot`.

use std::path::PathBuf;

use hybrid_nas::arch::Architecture;
use hybrid_nas::evaluate::objective_value;
use hybrid_nas::pareto::{default_reference, StudyFront};
use hybrid_nas::plot::{self, PlotPoint, PlotSeries, PlotSpec};
use hybrid_nas::space::{Objective, SearchSpace};
use hybrid_nas::store::{Store, TrialRecord, TrialState};

use super::studies::{cost_objective, find_study, open_existing};
use super::UsageError;
use crate::cli::{CostArg, ParetoArgs};

struct Gathered {
    name: String,
    trials: Vec<TrialRecord>,
    seq_len: Option<usize>,
}

fn objective_of(cost: CostArg) -> Objective {
    match cost {
        CostArg::Flops => Objective::Flops,
        CostArg::Params => Objective::Params,
        CostArg::KvCache => Objective::KvCache,
        CostArg::Latency => Objective::Latency,
    }
}

fn axis_title(cost: Objective, seq_len: Option<usize>) -> String {
    let at = seq_len.map_or(String::new(), |t| format!(", T = {t}"));
    match cost {
        Objective::Flops => format!("forward FLOPs per token{at}"),
        Objective::Params => "parameters".into(),
        Objective::KvCache => format!("KV cache bytes (bf16{at})"),
        Objective::Latency => format!("latency, ms per forward (batch 1{at})"),
        Objective::ValPpl => "validation perplexity".into(),
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
    let store = open_existing(&args.store.storage)?;
    let mut studies = Vec::new();
    for name in &args.study {
        let study = find_study(&store, name)?;
        let trials = store
            .trials(study.id)?
            .into_iter()
            // Failed and pruned trials never reach the front.
            .filter(|t| t.state == TrialState::Complete && t.metrics.is_some())
            .collect::<Vec<_>>();
        let seq_len = SearchSpace::parse(&study.space_text, name)
            .ok()
            .map(|s| s.task.seq_len);
        studies.push((
            study,
            Gathered {
                name: name.clone(),
                trials,
                seq_len,
            },
        ));
    }
    let cost = match args.cost {
        Some(c) => objective_of(c),
        None => cost_objective(&studies[0].0).unwrap_or(Objective::Flops),
    };
    let empty: Vec<&str> = studies
        .iter()
        .filter(|(_, g)| g.trials.is_empty())
        .map(|(_, g)| g.name.as_str())
        .collect();
    if empty.len() == studies.len() {
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
    let studies: Vec<Gathered> = studies
        .into_iter()
        .map(|(_, g)| g)
        .filter(|g| !g.trials.is_empty())
        .collect();

    // One reference for every study, so their hypervolumes compare.
    let point = |t: &TrialRecord| {
        let m = t.metrics.as_ref().expect("complete trials have metrics");
        (objective_value(m, cost), m.val_ppl)
    };
    let reference = match &args.reference {
        Some(text) => parse_reference(text)?,
        None => {
            let all: Vec<(f64, f64)> = studies
                .iter()
                .flat_map(|g| g.trials.iter().map(point))
                .collect();
            default_reference(&all)
        }
    };
    let fronts: Vec<StudyFront<i64>> = studies
        .iter()
        .map(|g| {
            let input: Vec<(i64, f64, f64)> = g
                .trials
                .iter()
                .map(|t| {
                    let (c, p) = point(t);
                    (t.number, p, c)
                })
                .collect();
            StudyFront::compute(&input, Some(reference))
        })
        .collect();

    for (g, front) in studies.iter().zip(&fronts) {
        let rows = front.members.iter().map(|m| {
            let t = g
                .trials
                .iter()
                .find(|t| t.number == m.id)
                .expect("front ids are trials");
            let ratio = serde_json::from_str::<Architecture>(&t.arch_json)
                .map(|a| a.attention_ratio())
                .unwrap_or(f64::NAN);
            (t, ratio, m.ppl, m.cost)
        });
        if args.json {
            let front_json: Vec<_> = rows
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
                    "study": g.name, "cost": cost.as_str(), "complete": g.trials.len(),
                    "reference": { "cost": reference.0, "val_ppl": reference.1 },
                    "hypervolume": front.hypervolume, "front": front_json,
                })
            );
            continue;
        }
        println!(
            "study `{}`: {} complete trials, {} on the front; hypervolume {:.6e} (reference {} = {:.4e}, val ppl = {:.3})",
            g.name,
            g.trials.len(),
            front.members.len(),
            front.hypervolume,
            cost.as_str(),
            reference.0,
            reference.1
        );
        println!(
            "{:>5}  {:>9}  {:>12}  {:>5}  architecture",
            "trial",
            "val ppl",
            cost.as_str(),
            "attn"
        );
        for (t, ratio, ppl, c) in rows {
            println!(
                "{:>5}  {:>9.3}  {:>12.4e}  {:>5.2}  {}",
                t.number, ppl, c, ratio, t.arch_short
            );
        }
        println!();
    }

    if let Some(plot_arg) = &args.plot {
        let path = plot_arg.clone().unwrap_or_else(|| {
            let names: Vec<&str> = studies.iter().map(|g| g.name.as_str()).collect();
            PathBuf::from("runs")
                .join(names.join("+"))
                .join(format!("pareto-{}.png", cost.as_str()))
        });
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let series: Vec<PlotSeries> = studies
            .iter()
            .zip(&fronts)
            .map(|(g, front)| PlotSeries {
                study: g.name.clone(),
                points: g
                    .trials
                    .iter()
                    .map(|t| {
                        let (c, p) = point(t);
                        PlotPoint {
                            cost: c,
                            ppl: p,
                            label: t.arch_short.clone(),
                            on_front: front.contains(&t.number),
                        }
                    })
                    .collect(),
                hypervolume: front.hypervolume,
            })
            .collect();
        let total: usize = studies.iter().map(|g| g.trials.len()).sum();
        let names: Vec<&str> = studies.iter().map(|g| g.name.as_str()).collect();
        let spec = PlotSpec {
            title: format!(
                "Pareto front: {} ({} complete trials)",
                names.join(" vs "),
                total
            ),
            x_label: axis_title(cost, studies[0].seq_len),
            y_label: "validation perplexity (per character)".into(),
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
    }
    Ok(())
}
