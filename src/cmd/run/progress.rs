//! Progress of `nas run`: a bar on a terminal, one line per finished trial
//! otherwise (a log file, CI), one JSON line per trial with `--json`.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use hybrid_nas::metrics;
use hybrid_nas::objective::Objective;
use hybrid_nas::store::{TrialRecord, TrialState};
use hybrid_nas::study::StoredStudy;
use hybrid_nas::terminal::escape;

use crate::cmd::trial_json;

pub struct TrialProgress<'a> {
    study: &'a StoredStudy,
    bar: ProgressBar,
    json: bool,
    /// Complete trials so far and the best perplexity among them.
    state: Mutex<(usize, f64)>,
}

impl<'a> TrialProgress<'a> {
    /// `before`: the study's trials when the run starts.
    pub fn new(study: &'a StoredStudy, before: &[TrialRecord], json: bool) -> Self {
        // The bar counts the trials the budget counts: complete and pruned.
        let settled = before
            .iter()
            .filter(|t| t.is_complete() || t.state == TrialState::Pruned)
            .count();
        let complete = before.iter().filter(|t| t.is_complete()).count();
        let best = before
            .iter()
            .filter(|t| t.is_complete())
            .filter_map(|t| t.value(metrics::VAL_PPL))
            .fold(f64::INFINITY, f64::min);
        let bar = if json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(study.budget as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} trials  [{elapsed_precise} < {eta_precise}]  best ppl {msg}",
            )
            .expect("valid progress template"),
        );
        bar.set_position(settled.min(study.budget) as u64);
        bar.set_message(format_best(best));
        TrialProgress {
            study,
            bar,
            json,
            state: Mutex::new((complete, best)),
        }
    }

    /// Shows one trial this process finished: a line per trial without a
    /// terminal (number, design, values, seconds), or on a terminal the bar
    /// moves and shows the last finished design.
    pub fn finished(&self, t: &TrialRecord) {
        if self.json {
            println!("{}", trial_json(t, self.study));
            return;
        }
        let (complete, best) = {
            let mut s = self.state.lock().unwrap();
            if t.state == TrialState::Complete {
                s.0 += 1;
                s.1 = s.1.min(t.value(metrics::VAL_PPL).unwrap_or(f64::INFINITY));
            }
            *s
        };
        if t.state == TrialState::Pruned {
            self.bar.inc(1);
        }
        if t.state == TrialState::Complete {
            self.bar.inc(1);
            self.bar.set_message(format!(
                "{}  last: #{} {} {}",
                format_best(best),
                t.number,
                escape(&t.arch_short),
                format_best(t.value(metrics::VAL_PPL).unwrap_or(f64::NAN))
            ));
        }
        let line = match (&t.state, &t.error) {
            (TrialState::Complete, _) => {
                if !self.bar.is_hidden() {
                    return;
                }
                format!(
                    "trial {} complete in {}: {}  {}{}  ({complete}/{} complete, best ppl {})",
                    t.number,
                    seconds(t),
                    escape(&t.arch_short),
                    self.values(t),
                    if self.study.is_stand_in() {
                        " (stand-in)"
                    } else {
                        ""
                    },
                    self.study.budget,
                    format_best(best)
                )
            }
            (TrialState::Pruned, reason) => format!(
                "trial {} {} after {}: {}  {} at the rung  ({})",
                t.number,
                t.state_label(),
                seconds(t),
                escape(&t.arch_short),
                self.values(t),
                escape(reason.as_deref().unwrap_or("pruned"))
            ),
            (_, Some(err)) => format!(
                "trial {} {} after {} [{}]: {}",
                t.number,
                t.state,
                seconds(t),
                t.fail_kind.map_or("-", |k| k.as_str()),
                escape(err)
            ),
            (_, None) => format!("trial {} {} after {}", t.number, t.state, seconds(t)),
        };
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// The study's objectives as `name value` pairs, in the study's order.
    fn values(&self, t: &TrialRecord) -> String {
        self.study
            .objectives
            .iter()
            .filter_map(|o| o.value(&t.values).map(|v| (o, v)))
            .map(|(o, v)| match o {
                Objective::ValPpl | Objective::Recall => format!("{} {v:.3}", o.as_str()),
                _ => format!("{} {v:.4e}", o.as_str()),
            })
            .collect::<Vec<_>>()
            .join("  ")
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn format_best(ppl: f64) -> String {
    if ppl.is_finite() {
        format!("{ppl:.3}")
    } else {
        "-".into()
    }
}

/// Wall time of a finished trial, as the store has it.
fn seconds(t: &TrialRecord) -> String {
    match t.finished {
        Some(end) => format!("{:.1} s", (end - t.started).max(0.0)),
        None => "- s".into(),
    }
}
