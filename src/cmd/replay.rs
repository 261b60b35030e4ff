//! `nas replay`: early stopping replayed on a fully trained study; the
//! simulation and the statistics are the library's (`prune::replay`).

use hybrid_nas::prune::replay::{replay, rung_correlations, Replay, Spread};
use hybrid_nas::prune::{PrunerKind, PrunerSettings};
use hybrid_nas::study;
use hybrid_nas::study::replay::{replay_trials, Promotion};

use super::{open_for_reading, UsageError};
use crate::cli::{PrunerArg, ReplayArgs};

pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    let steps = study.space()?.training.steps;
    let promotion = if args.by_loss {
        Promotion::Loss
    } else {
        Promotion::Objectives
    };
    let trials = replay_trials(&store, &study, promotion)?;
    let mut replays = Vec::new();
    for &kind in &args.pruner {
        let kind = match kind {
            PrunerArg::Asha => PrunerKind::Asha,
            PrunerArg::Hyperband => PrunerKind::Hyperband,
        };
        let defaults = PrunerSettings::default_for(kind, steps);
        let settings = PrunerSettings {
            kind,
            min_steps: args.min_steps.unwrap_or(defaults.min_steps),
            reduction_factor: args.reduction_factor,
            brackets: args.brackets.filter(|_| kind == PrunerKind::Hyperband),
            by_loss: args.by_loss,
        };
        let pruner = settings
            .pruner(steps)
            .map_err(|e| UsageError(e.to_string()))?;
        let r = replay(&trials, &pruner, args.orders, args.seed)
            .map_err(|e| UsageError(e.to_string()))?;
        replays.push((pruner.describe(), r));
    }
    let taus = rung_correlations(&trials);
    if args.json {
        let json = serde_json::json!({
            "study": study.name,
            "steps": steps,
            "promotion": if args.by_loss { "loss" } else { "objectives" },
            "stand_in": study.is_stand_in(),
            "replays": replays.iter().map(|(p, r)| serde_json::json!({"pruner": p, "replay": r}))
                .collect::<Vec<_>>(),
            "rung_tau": taus.iter().map(|(s, t)| serde_json::json!({"step": s, "tau": t}))
                .collect::<Vec<_>>(),
        });
        println!("{json}");
        return Ok(());
    }
    if let Some(note) = study.stand_in_note() {
        println!("note: {note}");
    }
    let first = &replays[0].1;
    println!(
        "study `{}`: {} designs trained to {steps} steps, replayed in {} random orders \
         (seed {}); ranked at a rung by {}",
        study.name,
        first.trials,
        first.orders,
        args.seed,
        if args.by_loss {
            "the loss alone"
        } else {
            "the loss and the costs known before training"
        }
    );
    println!(
        "random search's best: val ppl {:.3}; hypervolume reference [{}]",
        first.target_loss.exp(),
        first
            .reference
            .iter()
            .map(|v| format!("{v:.4e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (describe, r) in &replays {
        print_replay(describe, r);
    }
    println!("\nKendall τ, loss at the step against the final loss:");
    for (step, tau) in &taus {
        println!("  step {step:>5}  τ {tau:.3}");
    }
    Ok(())
}

fn spread(s: &Spread, digits: usize) -> String {
    format!(
        "{:.digits$} [{:.digits$}, {:.digits$}]",
        s.median, s.q1, s.q3
    )
}

fn print_replay(describe: &str, r: &Replay) {
    let c = &r.comparison;
    println!("\n{describe}");
    println!(
        "  steps to random's best, x random's:  {}  (reached in {} of {} orders)",
        spread(&c.compute_ratio, 2),
        c.reached,
        r.orders
    );
    println!(
        "  steps for the whole order, x random's: {}",
        spread(&c.total_ratio, 2)
    );
    println!(
        "  hypervolume at equal steps:          {}  (random search: {})",
        spread(&c.hypervolume, 4),
        spread(&c.random_hypervolume, 4)
    );
}
