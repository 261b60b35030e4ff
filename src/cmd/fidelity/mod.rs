//! `nas fidelity`: retrain some of a study's designs longer and on more
//! seeds in a linked grid study, then say how well the proxy ranked them.
//! Training is `nas run`'s (the same driver, progress and resume); the
//! choice of designs, the linked space and the statistics are the library's
//! (`study::fidelity`).

mod train;

use hybrid_nas::plot::{draw_fidelity, FidelityPoint, FidelityText, Format};
use hybrid_nas::store::{AnyStore, Store};
use hybrid_nas::study::fidelity::{self, FidelityReport, FidelityRequest};
use hybrid_nas::study::{self, StoredStudy};

use super::open_for_reading;
use crate::cli::FidelityArgs;

pub fn run(args: FidelityArgs, threads: usize) -> anyhow::Result<i32> {
    if let Some(path) = &args.plot {
        Format::from_path(path)?;
    }
    let request = FidelityRequest {
        factor: args.factor,
        sample: args.sample,
        seeds: args.seeds,
        linked: args.linked.clone(),
    };
    // --no-train reads only: the store is never created, migrated or written.
    let store: AnyStore = if args.no_train {
        open_for_reading(&args.store.storage)?
    } else {
        AnyStore::open(&args.store.storage)?
    };
    let source = study::find(&store, &args.study)?;
    let source_trials = store.trials(source.id)?;
    let linked_name = args
        .linked
        .clone()
        .unwrap_or_else(|| fidelity::linked_name(&source.name, args.factor));
    let existing = store
        .find_study(&linked_name)?
        .map(StoredStudy::decode)
        .transpose()?;
    let planned = fidelity::plan(&source, &source_trials, existing.as_ref(), &request)?;
    let (status, linked_trials) = if args.no_train {
        let trials = match &existing {
            Some(linked) => store.trials(linked.id)?,
            None => vec![],
        };
        (0, trials)
    } else {
        train::train(&store, &planned, &args, threads)?
    };
    let report = FidelityReport::new(&source, &source_trials, &planned, &linked_trials)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.text());
    }
    if let Some(path) = &args.plot {
        plot(path, &report)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(status)
}

/// The figure: every design with a long-budget value.
fn plot(path: &std::path::Path, report: &FidelityReport) -> anyhow::Result<()> {
    let points: Vec<FidelityPoint> = report
        .finding
        .rows
        .iter()
        .filter_map(|r| {
            let long = r.long_ppl.as_ref()?;
            Some(FidelityPoint {
                proxy: r.proxy_ppl.as_ref()?.mean,
                long: long.mean,
                long_sd: long.sd,
                label: format!("#{}", r.source_trial),
                on_front: r.proxy_front,
            })
        })
        .collect();
    let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    let p = &report.finding.proxy;
    let stand_in = if report.stand_in {
        " (stand-in values)"
    } else {
        ""
    };
    let title = format!(
        "Proxy fidelity of `{}`{stand_in}: Kendall τ {}, Spearman ρ {} over {} designs",
        report.study,
        show(p.tau),
        show(p.rho),
        p.n
    );
    let x_label = format!(
        "validation perplexity, proxy ({} steps)",
        report.proxy_steps
    );
    let y_label = format!(
        "validation perplexity, {} steps (mean ± sd over {} seeds)",
        report.long_steps,
        report.seeds.len()
    );
    let text = FidelityText {
        title: &title,
        x_label: &x_label,
        y_label: &y_label,
    };
    Ok(draw_fidelity(path, &text, &points)?)
}
