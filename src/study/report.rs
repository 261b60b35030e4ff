//! `nas report`: a study's designs as the lecture's comparison tables print
//! them, with measured columns. One row per design (its complete trials
//! aggregated over seeds by [`groups`]), in the order of each design's first
//! trial (a grid's order), and each cost as a ratio to the first row, so a
//! grid that lists its baseline first reads as the seed's tables do.
//!
//! Measured: perplexity, recall, training seconds and forward latency (each
//! mean ± sd over seeds). From the cost model: parameters, FLOPs per token,
//! KV-cache and SSM-state bytes at the space's context.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::groups::{self, DesignGroup, Summary};
use super::StoredStudy;
use crate::metrics;
use crate::store::TrialRecord;

/// One design's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    pub arch: String,
    /// Attention layers / depth; `None` when the short form does not read.
    pub attention_ratio: Option<f64>,
    pub n: usize,
    pub seeds: Vec<u64>,
    pub params: Option<f64>,
    pub val_ppl: Option<Summary>,
    /// The mean over the recall tasks and difficulties, then each of them
    /// (`recall_acc/mqar/2`, ...).
    pub recall: Option<Summary>,
    pub recall_by: BTreeMap<String, Summary>,
    pub train_seconds: Option<Summary>,
    pub recall_seconds: Option<Summary>,
    pub latency_ms: Option<Summary>,
    /// The process's peak resident set while the trial trained (measured;
    /// `None` for trials of processes that trained several at once).
    pub peak_rss_bytes: Option<Summary>,
    pub flops_per_token: Option<f64>,
    pub kv_cache_bytes: Option<f64>,
    pub ssm_state_bytes: Option<f64>,
    /// Each cost over the first row's (`None` where either is missing or
    /// the first is zero).
    pub ratios: Ratios,
}

/// Costs relative to the report's first row, as the seed prints them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ratios {
    pub params: Option<f64>,
    pub val_ppl: Option<f64>,
    pub train_seconds: Option<f64>,
    pub latency_ms: Option<f64>,
    /// KV cache plus SSM state bytes: what inference holds per sequence.
    pub cache_bytes: Option<f64>,
}

/// A study's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub study: String,
    pub evaluator: &'static str,
    /// True when the values are the analytic evaluator's stand-ins.
    pub stand_in: bool,
    /// Trials not in any row: running, failed or pruned.
    pub left_out: usize,
    pub rows: Vec<ReportRow>,
}

impl Report {
    pub fn of(study: &StoredStudy, trials: &[TrialRecord]) -> Report {
        let designs = groups::by_design(trials);
        let mut rows: Vec<ReportRow> = designs.iter().map(row).collect();
        if let Some(first) = rows.first().cloned() {
            for r in &mut rows {
                r.ratios = ratios(r, &first);
            }
        }
        Report {
            study: study.name.clone(),
            evaluator: study.evaluator_name(),
            stand_in: study.is_stand_in(),
            left_out: trials.iter().filter(|t| !t.is_complete()).count(),
            rows,
        }
    }
}

fn row(g: &DesignGroup) -> ReportRow {
    let s = |name: &str| g.summary(name).cloned();
    let mean = |name: &str| g.summary(name).map(|s| s.mean);
    let prefix = format!("{}/", metrics::RECALL_ACC);
    ReportRow {
        arch: g.arch.clone(),
        attention_ratio: g.factors().map(|f| f.attention_ratio),
        n: g.size(),
        seeds: g.seeds.clone(),
        params: mean(metrics::PARAMS),
        val_ppl: s(metrics::VAL_PPL),
        recall: s(metrics::RECALL_ACC),
        recall_by: g
            .values
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .map(|(name, s)| (name.clone(), s.clone()))
            .collect(),
        train_seconds: s(metrics::TRAIN_SECONDS),
        recall_seconds: s(metrics::RECALL_SECONDS),
        latency_ms: s(metrics::LATENCY),
        peak_rss_bytes: s(metrics::PEAK_RSS),
        flops_per_token: mean(metrics::FLOPS),
        kv_cache_bytes: mean(metrics::KV_CACHE),
        ssm_state_bytes: mean(metrics::SSM_STATE),
        ratios: Ratios::default(),
    }
}

fn cache_bytes(r: &ReportRow) -> Option<f64> {
    Some(r.kv_cache_bytes? + r.ssm_state_bytes?)
}

fn ratios(r: &ReportRow, first: &ReportRow) -> Ratios {
    let over = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    };
    let mean = |s: &Option<Summary>| s.as_ref().map(|s| s.mean);
    Ratios {
        params: over(r.params, first.params),
        val_ppl: over(mean(&r.val_ppl), mean(&first.val_ppl)),
        train_seconds: over(mean(&r.train_seconds), mean(&first.train_seconds)),
        latency_ms: over(mean(&r.latency_ms), mean(&first.latency_ms)),
        cache_bytes: over(cache_bytes(r), cache_bytes(first)),
    }
}

/// A summary of bytes in MiB.
fn mebibytes(s: &Summary) -> Summary {
    let mib = |b: f64| b / (1024.0 * 1024.0);
    Summary {
        mean: mib(s.mean),
        sd: s.sd.map(mib),
        n: s.n,
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

fn count(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

impl Report {
    /// The report as a Markdown table, with a line saying what the numbers
    /// are (a stand-in note for the analytic evaluator).
    pub fn markdown(&self) -> String {
        let recall_names: Vec<&String> = {
            let mut names: Vec<&String> =
                self.rows.iter().flat_map(|r| r.recall_by.keys()).collect();
            names.sort();
            names.dedup();
            names
        };
        let recall = self.rows.iter().any(|r| r.recall.is_some());
        let mut out = String::new();
        let _ = writeln!(out, "## Study `{}`\n", self.study);
        if self.stand_in {
            let _ = writeln!(
                out,
                "Values from the analytic evaluator: closed-form stand-ins, not measurements.\n"
            );
        }
        let mut header = vec!["design", "r", "n", "params", "val ppl"];
        let extra: Vec<String> = recall_names
            .iter()
            .map(|n| n.trim_start_matches("recall_acc/").replace('/', " "))
            .collect();
        if recall {
            header.push("recall");
        }
        header.extend(extra.iter().map(String::as_str));
        header.extend([
            "train s",
            "latency ms",
            "peak MiB",
            "FLOPs/token",
            "KV cache B",
            "SSM state B",
            "ppl x",
            "latency x",
            "cache x",
        ]);
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        for r in &self.rows {
            let mut cells = vec![
                format!("`{}`", r.arch),
                r.attention_ratio.map_or("-".into(), |x| format!("{x:.3}")),
                r.n.to_string(),
                count(r.params),
                Summary::show(r.val_ppl.as_ref(), 3),
            ];
            if recall {
                cells.push(Summary::show(r.recall.as_ref(), 3));
            }
            cells.extend(recall_names.iter().map(|n| {
                let s = r.recall_by.get(*n).cloned();
                Summary::show(s.as_ref(), 3)
            }));
            cells.extend([
                Summary::show(r.train_seconds.as_ref(), 1),
                Summary::show(r.latency_ms.as_ref(), 2),
                Summary::show(r.peak_rss_bytes.as_ref().map(mebibytes).as_ref(), 0),
                r.flops_per_token.map_or("-".into(), |v| format!("{v:.3e}")),
                count(r.kv_cache_bytes),
                count(r.ssm_state_bytes),
                ratio(r.ratios.val_ppl),
                ratio(r.ratios.latency_ms),
                ratio(r.ratios.cache_bytes),
            ]);
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(
            out,
            "\nmean ± sample sd over each design's seeds (n); ratios to the first row. \
             Measured: val ppl, recall, train s, latency ms (a forward pass of one \
             sequence), peak MiB (the process's peak resident set while the trial \
             trained, libtorch included; only from processes training one trial at a \
             time). Cost model: params, FLOPs/token, KV cache and SSM state bytes \
             (at the space's context)."
        );
        if self.left_out > 0 {
            let _ = writeln!(
                out,
                "{} trial(s) not complete (running, failed or pruned) are left out.",
                self.left_out
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Values;
    use crate::store::{Study, TrialState};

    fn study() -> StoredStudy {
        StoredStudy::decode(Study {
            id: 1,
            name: "r".into(),
            space_text: String::new(),
            space_hash: "h".into(),
            objectives: vec!["val_ppl".into(), "recall".into(), "kv_cache".into()],
            strategy: "grid".into(),
            evaluator: Some("train".into()),
            seed: 0,
            budget: 5,
            code_version: "test".into(),
            created: 0.0,
            pruner: None,
        })
        .unwrap()
    }

    fn trial(number: i64, arch: &str, seed: u64, values: &[(&str, f64)]) -> TrialRecord {
        TrialRecord {
            id: number + 1,
            study_id: 1,
            number,
            state: TrialState::Complete,
            arch_json: String::new(),
            arch_hash: arch.into(),
            arch_short: arch.into(),
            seed,
            worker: "w".into(),
            values: Values::from_iter(values.iter().copied()),
            fail_kind: None,
            error: None,
            extra: None,
            started: 0.0,
            finished: Some(1.0),
            heartbeat: 0.0,
        }
    }

    #[test]
    fn rows_aggregate_seeds_and_ratios_are_to_the_first_row() {
        let ssm = "d64 S16 S16";
        let hybrid = "d64 S16 A4";
        let cost = |kv: f64| {
            [
                ("kv_cache_bytes", kv),
                ("ssm_state_bytes", 1000.0),
                ("peak_rss_bytes", 200.0 * 1024.0 * 1024.0),
            ]
        };
        let with = |extra: &[(&'static str, f64)], kv: f64| {
            let mut v: Vec<(&str, f64)> = extra.to_vec();
            v.extend(cost(kv));
            v
        };
        let mut failed = trial(4, hybrid, 2, &[]);
        failed.state = TrialState::Failed;
        let trials = [
            trial(
                0,
                ssm,
                0,
                &with(
                    &[
                        ("val_ppl", 5.0),
                        ("latency_ms", 2.0),
                        ("recall_acc", 0.4),
                        ("recall_acc/mqar/2", 0.4),
                    ],
                    0.0,
                ),
            ),
            trial(
                1,
                hybrid,
                0,
                &with(
                    &[
                        ("val_ppl", 6.0),
                        ("latency_ms", 3.0),
                        ("recall_acc", 0.6),
                        ("recall_acc/mqar/2", 0.6),
                    ],
                    3000.0,
                ),
            ),
            trial(
                2,
                ssm,
                1,
                &with(
                    &[
                        ("val_ppl", 7.0),
                        ("latency_ms", 2.0),
                        ("recall_acc", 0.2),
                        ("recall_acc/mqar/2", 0.2),
                    ],
                    0.0,
                ),
            ),
            trial(
                3,
                hybrid,
                1,
                &with(
                    &[
                        ("val_ppl", 6.0),
                        ("latency_ms", 5.0),
                        ("recall_acc", 0.8),
                        ("recall_acc/mqar/2", 0.8),
                    ],
                    3000.0,
                ),
            ),
            failed,
        ];
        let report = Report::of(&study(), &trials);
        assert_eq!(report.left_out, 1);
        assert!(!report.stand_in);
        let [first, second] = &report.rows[..] else {
            panic!("two designs: {:?}", report.rows);
        };
        assert_eq!((first.arch.as_str(), first.n), (ssm, 2));
        assert_eq!(first.attention_ratio, Some(0.0));
        assert_eq!(second.attention_ratio, Some(0.5));
        let ppl = first.val_ppl.as_ref().unwrap();
        assert_eq!(ppl.mean, 6.0);
        assert!((ppl.sd.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(second.val_ppl.as_ref().unwrap().sd, Some(0.0));
        assert!((second.recall_by["recall_acc/mqar/2"].mean - 0.7).abs() < 1e-12);
        // Ratios: the first row is 1x; the hybrid's latency 4/2, cache 4000/1000.
        assert_eq!(first.ratios.val_ppl, Some(1.0));
        assert_eq!(second.ratios.latency_ms, Some(2.0));
        assert_eq!(second.ratios.cache_bytes, Some(4.0));
        assert_eq!(second.ratios.params, None, "no params stored");

        let md = report.markdown();
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(table.len(), 2 + 2, "{md}");
        assert!(table[0].contains("| mqar 2 |"), "{md}");
        assert!(
            table[2].starts_with("| `d64 S16 S16` | 0.000 | 2 |"),
            "{md}"
        );
        assert!(table[2].contains("| 6.000 ± 1.414 |"), "{md}");
        assert!(table[2].contains("| 200 ± 0 |"), "peak MiB: {md}");
        assert!(table[3].contains("| 2.00x | 4.00x |"), "{md}");
        assert!(md.contains("1 trial(s) not complete"), "{md}");
    }
}
