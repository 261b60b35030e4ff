//! A fidelity finding as text: one row per retrained design, then the
//! agreements and what they mean for a user of the proxy.

use std::fmt::Write as _;

use super::analysis::{strength, Agreement, FidelityRow};
use super::FidelityReport;
use crate::correlation::ranks;
use crate::study::groups::Summary;

impl FidelityReport {
    /// The finding as a table and a few sentences.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let f = &self.finding;
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "Fidelity of study `{}` ({} steps) against `{}` ({} steps = {} x, seeds {}), {} designs",
            self.study,
            self.proxy_steps,
            self.linked,
            self.long_steps,
            self.factor,
            seeds.join(", "),
            f.rows.len()
        );
        if self.stand_in {
            let _ = writeln!(
                out,
                "Values from the analytic evaluator: closed-form stand-ins, not measurements."
            );
        }
        out.push('\n');
        self.table(&mut out);
        out.push('\n');
        self.verdict(&mut out);
        out
    }

    fn table(&self, out: &mut String) {
        let rows = &self.finding.rows;
        let measured = |r: &FidelityRow| r.long_ppl.is_some();
        let proxy: Vec<f64> = rows.iter().filter(|r| measured(r)).map(ppl_of).collect();
        let long: Vec<f64> = rows
            .iter()
            .filter(|r| measured(r))
            .map(|r| r.long_ppl.as_ref().map_or(f64::NAN, |s| s.mean))
            .collect();
        let (proxy_rank, long_rank) = (ranks(&proxy), ranks(&long));
        let width = rows
            .iter()
            .map(|r| r.arch.chars().count())
            .max()
            .unwrap_or(6);
        let _ = writeln!(
            out,
            "{:>6}  {:<width$}  {:>10}  {:>16}  {:>5}  {:>5}  front",
            "trial", "design", "proxy ppl", "long ppl", "rank", "long"
        );
        let mut k = 0;
        for r in rows {
            let (pr, lr) = if measured(r) {
                k += 1;
                (rank(proxy_rank[k - 1]), rank(long_rank[k - 1]))
            } else {
                ("-".into(), "-".into())
            };
            let front = match (r.proxy_front, r.long_front) {
                (true, Some(true)) => "proxy, long",
                (true, Some(false)) => "proxy (lost)",
                (true, None) => "proxy",
                (false, Some(true)) => "long",
                _ => "",
            };
            let _ = writeln!(
                out,
                "{:>6}  {:<width$}  {:>10}  {:>16}  {pr:>5}  {lr:>5}  {front}",
                format!("#{}", r.source_trial),
                r.arch,
                Summary::show(r.proxy_ppl.as_ref(), 3),
                Summary::show(r.long_ppl.as_ref(), 3),
            );
        }
    }

    fn verdict(&self, out: &mut String) {
        let f = &self.finding;
        let steps = self.long_steps;
        let _ = writeln!(
            out,
            "proxy against {steps} steps ({} designs):  {}",
            f.proxy.n,
            agreement(&f.proxy)
        );
        let _ = writeln!(
            out,
            "parameter count alone:          {}",
            agreement(&f.params)
        );
        if let Some(s) = &f.seed_to_seed {
            let _ = writeln!(
                out,
                "seed against seed at {steps} steps:  {}  (what a seed alone reorders)",
                agreement(s)
            );
        }
        if let (Some(seed), Some(design)) = (f.seed_sd, f.design_sd) {
            let _ = writeln!(
                out,
                "seed noise: sd {seed:.3} over seeds against {design:.3} between designs ({:.0}%)",
                100.0 * seed / design
            );
        }
        if f.front_measured > 0 {
            let _ = writeln!(
                out,
                "front: {} of {} proxy-front designs stay on the front at {steps} steps",
                f.front_kept, f.front_measured
            );
        }
        if f.pending > 0 {
            let _ = writeln!(
                out,
                "{} design(s) not retrained yet: `nas fidelity --study {} --factor {}` trains them",
                f.pending, self.study, self.factor
            );
        }
        if let Some(advice) = self.advice() {
            let _ = writeln!(out, "\n{advice}");
        }
    }

    /// What a user should conclude, once every design has a long value.
    pub fn advice(&self) -> Option<String> {
        let f = &self.finding;
        let rho = f.proxy.rho.filter(|_| f.pending == 0)?;
        let beats = f.params.rho.is_none_or(|p| rho > p);
        let mut text = format!(
            "The proxy's ranking is {} (Spearman ρ {rho:.2}; NAS practice counts 0.8 strong, \
             0.6 weak)",
            strength(rho)
        );
        text.push_str(if beats {
            " and beats parameter count alone."
        } else {
            ", no better than parameter count alone: rank by size, or train longer."
        });
        if rho < 0.8 {
            let _ = write!(
                text,
                " Raise [training] steps in the space (or compare only designs far apart) \
                 before trusting its front."
            );
        }
        if let (Some(seed), Some(design)) = (f.seed_sd, f.design_sd) {
            let _ = write!(
                text,
                " Differences under about {:.3} in perplexity (two seed sds) are noise.",
                2.0 * seed
            );
            if seed > design / 2.0 {
                text.push_str(" Seeds move designs as much as designs differ: repeat seeds.");
            }
        }
        Some(text)
    }
}

fn ppl_of(r: &FidelityRow) -> f64 {
    r.proxy_ppl.as_ref().map_or(f64::NAN, |s| s.mean)
}

/// A rank, `3` or `2.5` for a tie.
fn rank(r: f64) -> String {
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn agreement(a: &Agreement) -> String {
    let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    format!("Kendall τ {}, Spearman ρ {}", show(a.tau), show(a.rho))
}
