//! The supernet part of `nas run --strategy darts`: runs or resumes the
//! warm-up and the λ phases with a progress bar, then reports what each λ
//! derived.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use hybrid_nas::data::Corpus;
use hybrid_nas::search::darts::bilevel::PhaseProgress;
use hybrid_nas::search::darts::{describe, DartsError, DartsObserver, DartsSearch, Derived};
use hybrid_nas::space::{SearchSpace, SupernetShape};
use hybrid_nas::store::{Store, Study};

struct BarObserver<'a> {
    bar: Option<ProgressBar>,
    quiet: bool,
    interrupted: &'a AtomicBool,
}

impl DartsObserver for BarObserver<'_> {
    fn step(&mut self, p: PhaseProgress) -> ControlFlow<()> {
        if let Some(bar) = &self.bar {
            bar.set_position(p.step as u64);
            bar.set_message(format!("loss {:.3}", p.loss));
        }
        if self.interrupted.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn phase(&mut self, shape: SupernetShape, lambda: Option<f64>, step: usize, steps: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let what = match lambda {
            None => format!("{shape} warm-up"),
            Some(l) => format!("{shape} search {}", describe(Some(l))),
        };
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{what:<28} {{bar:30}} {{pos}}/{{len}} steps  {{msg}}  [{{elapsed_precise}} < {{eta_precise}}]"
            ))
            .expect("valid progress template"),
        );
        bar.set_position(step as u64);
        self.bar = Some(bar);
    }

    fn note(&mut self, message: String) {
        match &self.bar {
            Some(bar) => bar.println(format!("note: {message}")),
            None => eprintln!("note: {message}"),
        }
    }
}

/// Runs every unfinished supernet phase of `study`; prints what each λ
/// derived unless `quiet`.
pub fn search(
    store: &dyn Store,
    study: &Study,
    space: &SearchSpace,
    corpus: &Corpus,
    interrupted: &AtomicBool,
    quiet: bool,
) -> Result<Vec<Derived>, DartsError> {
    let search = DartsSearch {
        store,
        study_id: study.id,
        space,
        corpus,
        seed: study.seed,
    };
    let mut observer = BarObserver {
        bar: None,
        quiet,
        interrupted,
    };
    let result = search.run(&mut observer);
    if let Some(bar) = observer.bar.take() {
        bar.finish_and_clear();
    }
    let derived = result?;
    if !quiet {
        let supernet_s: f64 = derived.iter().map(|d| d.seconds).sum();
        eprintln!(
            "supernet: {} searches in {supernet_s:.1} s (plus the warm-ups); derived:",
            derived.len()
        );
        for d in &derived {
            eprintln!("  {} λ = {:<8} {}", d.shape, d.lambda, d.arch.short_form());
        }
    }
    Ok(derived)
}
