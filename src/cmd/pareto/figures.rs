//! `nas pareto --plot`: perplexity against cost (shaded by recall accuracy
//! when the studies measure it), and for those studies a second figure of
//! recall against cost beside the first (`front.png` and `front-recall.png`).

use std::path::{Path, PathBuf};

use hybrid_nas::objective::{Direction, Objective};
use hybrid_nas::pareto::Front;
use hybrid_nas::plot::{self, PlotOptions, PlotPoint, PlotSeries, PlotSpec, Shading};
use hybrid_nas::study::name;

use super::{Axes, Gathered};
use crate::cli::ParetoArgs;

/// One 2-D view of the studies: `y` against the cost.
struct View {
    y: Objective,
    /// Each study's trials as (cost, y) in the figure, and whether each is on
    /// the view's own 2-D front.
    series: Vec<PlotSeries>,
    /// The 2-D reference, (cost, y) as drawn.
    reference: (f64, f64),
}

/// The figure of `y` against cost: every trial, each study's 2-D front (in
/// the sense of `y`'s direction) against the reference's cost and `y`.
fn view(studies: &[Gathered], axes: &Axes, y: Objective, reference: &[f64]) -> View {
    let index = axes
        .objectives()
        .iter()
        .position(|&o| o == y)
        .expect("an axis");
    let reference_2d = vec![reference[0], reference[index]];
    let series = studies
        .iter()
        .map(|g| {
            let points: Vec<(i64, Vec<f64>)> = g
                .trials
                .iter()
                .map(|t| {
                    let p = axes.point(t);
                    (t.number, vec![p[0], p[index]])
                })
                .collect();
            let front = Front::compute(&points, Some(reference_2d.clone()));
            PlotSeries {
                // The legend says which series are stand-ins.
                study: if g.study.is_stand_in() {
                    format!("{} (analytic stand-in)", shown(&g.study.name))
                } else {
                    shown(&g.study.name)
                },
                points: g
                    .trials
                    .iter()
                    .map(|t| PlotPoint {
                        cost: axes.cost.value(&t.values).unwrap_or(f64::NAN),
                        ppl: y.value(&t.values).unwrap_or(f64::NAN),
                        label: t.arch_short.clone(),
                        on_front: front.contains(&t.number),
                        y_sd: g.sd(t.number, y.metric()),
                    })
                    .collect(),
                hypervolume: front.hypervolume,
            }
        })
        .collect();
    // Drawn in the objective's own units: a maximised one turned back.
    let y_ref = match y.direction() {
        Direction::Minimise => reference[index],
        Direction::Maximise => -reference[index],
    };
    View {
        y,
        series,
        reference: (reference[0], y_ref),
    }
}

pub fn draw(
    args: &ParetoArgs,
    path: Option<PathBuf>,
    studies: &[Gathered],
    axes: &Axes,
    reference: &[f64],
) -> anyhow::Result<()> {
    let names: Vec<&str> = studies.iter().map(|g| g.study.name.as_str()).collect();
    // The default folder is derived from the names, made safe: a stored
    // name can never lead the file out of `runs/`.
    let path = path.unwrap_or_else(|| {
        name::output_dir(Path::new("runs"), &names)
            .join(format!("pareto-{}.png", axes.cost.as_str()))
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let ppl = view(studies, axes, Objective::ValPpl, reference);
    let shading = axes.recall.then(|| Shading {
        title: "recall accuracy".into(),
        values: studies
            .iter()
            .map(|g| {
                g.trials
                    .iter()
                    .map(|t| Objective::Recall.value(&t.values))
                    .collect()
            })
            .collect(),
    });
    let options = PlotOptions {
        y_maximised: false,
        shading,
    };
    figure(args, &path, studies, axes, &ppl, &options)?;
    if axes.recall {
        let recall_path = beside(&path, "recall");
        let recall = view(studies, axes, Objective::Recall, reference);
        let options = PlotOptions {
            y_maximised: true,
            shading: None,
        };
        figure(args, &recall_path, studies, axes, &recall, &options)?;
    }
    Ok(())
}

/// A study name as a figure shows it: control characters escaped, a long
/// name cut.
fn shown(name: &str) -> String {
    hybrid_nas::terminal::quote(name, 40)
}

/// `front.png` -> `front-recall.png`.
fn beside(path: &Path, what: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("pareto");
    let name = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-{what}.{ext}"),
        None => format!("{stem}-{what}"),
    };
    path.with_file_name(name)
}

fn figure(
    args: &ParetoArgs,
    path: &Path,
    studies: &[Gathered],
    axes: &Axes,
    view: &View,
    options: &PlotOptions,
) -> anyhow::Result<()> {
    let names: Vec<String> = studies.iter().map(|g| shown(&g.study.name)).collect();
    let total: usize = studies.iter().map(|g| g.trials.len()).sum();
    let stand_in = studies.iter().any(|g| g.study.is_stand_in());
    let what = match view.y {
        Objective::Recall => "Recall against cost",
        _ if axes.recall => "Pareto front (colour: recall)",
        _ => "Pareto front",
    };
    let spec = PlotSpec {
        title: format!(
            "{what}: {} ({} complete trials){}",
            names.join(" vs "),
            total,
            if stand_in {
                ", analytic stand-in values, not measured"
            } else {
                ""
            }
        ),
        x_label: axes
            .cost
            .describe(studies[0].study.space().ok().map(|s| s.task.seq_len)),
        y_label: match view.y {
            Objective::ValPpl => format!("{} (per character)", view.y.describe(None)),
            _ => view.y.describe(None),
        },
        log_x: if args.log_x {
            Some(true)
        } else if args.linear_x {
            Some(false)
        } else {
            None
        },
        reference: Some(view.reference),
    };
    plot::draw_with(path, &view.series, &spec, options)?;
    eprintln!("plot written to {}", path.display());
    Ok(())
}
