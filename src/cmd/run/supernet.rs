//! The supernet part of `nas run --strategy darts`: the progress bar of the
//! warm-up and λ phases, and what each λ derived.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use hybrid_nas::data::Corpus;
use hybrid_nas::search::darts::bilevel::PhaseProgress;
use hybrid_nas::search::darts::{describe, DartsError, DartsObserver, Derived};
use hybrid_nas::search::Strategy;
use hybrid_nas::space::{PlannedPhase, SupernetShape};
use hybrid_nas::store::Store;
use hybrid_nas::study::interrupt::{self, Activity};
use hybrid_nas::study::{self, StoredStudy, StudyError, ThreadSplit};

use super::phase_clock::{human_duration, PhaseClock};

/// Trains (or resumes) the study's supernets with a bar per phase, prints
/// what each search derived, and returns the strategy that proposes those
/// designs; `None` when Ctrl-C stopped a phase (it is checkpointed).
pub fn derive(
    store: &dyn Store,
    study: &mut StoredStudy,
    corpus: &Corpus,
    (threads, device): (ThreadSplit, hybrid_nas::device::ComputeDevice),
    quiet: bool,
    plan: Vec<PlannedPhase>,
) -> anyhow::Result<Option<Box<dyn Strategy>>> {
    let interrupted = interrupt::flag();
    interrupt::set_activity(Activity::Supernet);
    let mut observer = BarObserver::new(quiet, &interrupted, PhaseClock::new(plan));
    let result = study::darts::derive(store, study, corpus, &mut observer, (threads, device));
    observer.finish();
    interrupt::set_activity(Activity::Trials);
    match result {
        Ok((derived, strategy)) => {
            if !quiet {
                print_derived(&derived);
            }
            Ok(Some(Box::new(strategy)))
        }
        Err(StudyError::Darts(DartsError::Interrupted)) => {
            eprintln!("interrupted: the supernet is checkpointed; the same command continues it");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Shows each supernet phase as a bar, or as one line per phase without a
/// terminal (nothing when `quiet`), with its place among all the study's
/// phases and the time they should still take; stops the phase when the
/// interrupt flag is set.
struct BarObserver<'a> {
    bar: Option<ProgressBar>,
    quiet: bool,
    interrupted: &'a AtomicBool,
    clock: PhaseClock,
}

impl<'a> BarObserver<'a> {
    fn new(quiet: bool, interrupted: &'a AtomicBool, clock: PhaseClock) -> Self {
        BarObserver {
            bar: None,
            quiet,
            interrupted,
            clock,
        }
    }

    /// "time left: 12 min 05 s", or what stands in before the first step.
    fn time_left(&self) -> String {
        self.clock.eta_s().map_or_else(
            || "time left: known after the first steps".into(),
            |s| format!("time left: {}", human_duration(s)),
        )
    }

    /// Clears the last bar.
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl DartsObserver for BarObserver<'_> {
    fn step(&mut self, p: PhaseProgress) -> ControlFlow<()> {
        self.clock.step(p.step);
        if let Some(bar) = &self.bar {
            bar.set_position(p.step as u64);
            bar.set_message(format!(
                "loss {:.3}  all phases: {}",
                p.loss,
                self.time_left()
            ));
        }
        if self.interrupted.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn phase(&mut self, shape: SupernetShape, lambda: Option<f64>, step: usize, steps: usize) {
        self.finish();
        let position = self.clock.start(shape, lambda, step);
        if self.quiet {
            return;
        }
        let what = match lambda {
            None => format!("{shape} warm-up"),
            Some(l) => format!("{shape} search {}", describe(Some(l))),
        };
        let place = position.map_or(String::new(), |i| format!("{i} of {}", self.clock.len()));
        if console_is_hidden() {
            // No terminal to redraw a bar on: one line per phase.
            eprintln!(
                "supernet phase {place}: {what}, from step {step} of {steps}; all phases: {}",
                self.time_left()
            );
            return;
        }
        let what = format!("{place:>7} {what}");
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{what:<36} {{bar:30}} {{pos}}/{{len}} steps  {{msg}}  [{{elapsed_precise}} < {{eta_precise}}]"
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

fn console_is_hidden() -> bool {
    ProgressBar::new(1).is_hidden()
}

/// Prints what each search derived.
fn print_derived(derived: &[Derived]) {
    let supernet_s: f64 = derived.iter().map(|d| d.seconds).sum();
    eprintln!(
        "supernet: {} searches in {supernet_s:.1} s (plus the warm-ups); derived:",
        derived.len()
    );
    for d in derived {
        eprintln!("  {} λ = {:<8} {}", d.shape, d.lambda, d.arch.short_form());
    }
}
