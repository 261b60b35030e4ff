//! What a fidelity check finds: for each retrained design its proxy
//! perplexity (the source study's mean over its seeds) beside its
//! long-budget perplexity (the linked study's, per seed and mean), and over
//! all of them the rank agreement of the two, the same agreement for
//! parameter count alone, seed noise against the spread between designs,
//! and how much of the proxy's front survives the longer training.

use std::collections::BTreeMap;

use serde::Serialize;

use super::select::front_of;
use crate::arch::Architecture;
use crate::correlation::{kendall_tau_b, spearman_rho};
use crate::metrics;
use crate::objective::Objective;
use crate::store::TrialRecord;
use crate::study::groups::{by_design, DesignGroup, Summary};

/// One retrained design.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FidelityRow {
    pub arch: String,
    /// The design's first complete trial in the source study.
    pub source_trial: i64,
    pub params: Option<f64>,
    /// Validation perplexity at the proxy budget (over the source's seeds).
    pub proxy_ppl: Option<Summary>,
    /// At the long budget, over the linked study's seeds; `None` until one
    /// has completed.
    pub long_ppl: Option<Summary>,
    /// The long budget's perplexity by seed.
    pub long_by_seed: BTreeMap<u64, f64>,
    /// On the source study's front (all its designs, their means).
    pub proxy_front: bool,
    /// On the front of the retrained designs at the long budget; `None`
    /// until the design has a long value.
    pub long_front: Option<bool>,
}

/// Rank agreement between two orderings of the same designs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    /// Kendall's τ-b; `None` for fewer than two designs or a constant side.
    pub tau: Option<f64>,
    /// Spearman's ρ.
    pub rho: Option<f64>,
    /// Designs compared.
    pub n: usize,
}

impl Agreement {
    pub fn of(x: &[f64], y: &[f64]) -> Agreement {
        Agreement {
            tau: kendall_tau_b(x, y),
            rho: spearman_rho(x, y),
            n: x.len(),
        }
    }
}

/// The whole finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fidelity {
    pub rows: Vec<FidelityRow>,
    /// Proxy perplexity against long-budget perplexity (mean over seeds).
    pub proxy: Agreement,
    /// Parameter count alone (more parameters ranked better) against the
    /// long budget: what any proxy must beat.
    pub params: Agreement,
    /// The first two seeds of the long budget against each other: how far a
    /// seed alone reorders designs, the most a proxy can be expected to agree.
    pub seed_to_seed: Option<Agreement>,
    /// Pooled standard deviation of one design over seeds at the long budget
    /// (the root of the mean per-design variance).
    pub seed_sd: Option<f64>,
    /// Standard deviation of the long-budget means between designs.
    pub design_sd: Option<f64>,
    /// Proxy-front designs still on the front at the long budget, of those
    /// with a long value.
    pub front_kept: usize,
    pub front_measured: usize,
    /// Retrained designs still waiting for their first long-budget trial.
    pub pending: usize,
}

/// Compares the source study's trials with the linked study's, for the
/// linked grid's `designs` in order. Fronts use `objectives` (the source's):
/// at the long budget perplexity is the linked mean and every cost the
/// linked design's own.
pub fn analyse(
    designs: &[Architecture],
    source: &[TrialRecord],
    linked: &[TrialRecord],
    objectives: &[Objective],
) -> Fidelity {
    let source_groups = by_design(source);
    let proxy_front: Vec<&str> = front_of(&source_groups, objectives)
        .into_iter()
        .map(|i| source_groups[i].hash.as_str())
        .collect();
    let linked_groups = by_design(linked);
    let find = |groups: &'_ [DesignGroup], hash: &str| -> Option<usize> {
        groups.iter().position(|g| g.hash == hash)
    };
    let mut rows: Vec<FidelityRow> = Vec::new();
    let mut long_groups: Vec<DesignGroup> = Vec::new();
    for arch in designs {
        let hash = arch.hash();
        let Some(proxy) = find(&source_groups, &hash).map(|i| &source_groups[i]) else {
            continue;
        };
        let long = find(&linked_groups, &hash).map(|i| &linked_groups[i]);
        if let Some(long) = long {
            long_groups.push(long.clone());
        }
        rows.push(FidelityRow {
            arch: proxy.arch.clone(),
            source_trial: proxy.trials[0],
            params: proxy.summary(metrics::PARAMS).map(|s| s.mean),
            proxy_ppl: proxy.summary(metrics::VAL_PPL).cloned(),
            long_ppl: long.and_then(|g| g.summary(metrics::VAL_PPL).cloned()),
            long_by_seed: long.map(|g| by_seed(g, linked)).unwrap_or_default(),
            proxy_front: proxy_front.contains(&hash.as_str()),
            long_front: None,
        });
    }
    let long_front: Vec<String> = front_of(&long_groups, objectives)
        .into_iter()
        .map(|i| long_groups[i].arch.clone())
        .collect();
    for r in rows.iter_mut().filter(|r| r.long_ppl.is_some()) {
        r.long_front = Some(long_front.contains(&r.arch));
    }
    summarise(rows)
}

/// The linked study's perplexity of `group`'s trials, by seed.
fn by_seed(group: &DesignGroup, linked: &[TrialRecord]) -> BTreeMap<u64, f64> {
    linked
        .iter()
        .filter(|t| group.trials.contains(&t.number))
        .filter_map(|t| Some((t.seed, t.value(metrics::VAL_PPL)?)))
        .collect()
}

fn summarise(rows: Vec<FidelityRow>) -> Fidelity {
    let measured: Vec<&FidelityRow> = rows
        .iter()
        .filter(|r| finite(r.long_ppl.as_ref()) && finite(r.proxy_ppl.as_ref()))
        .collect();
    let long: Vec<f64> = measured.iter().map(|r| mean(&r.long_ppl)).collect();
    let proxy: Vec<f64> = measured.iter().map(|r| mean(&r.proxy_ppl)).collect();
    let with_params: Vec<(f64, f64)> = measured
        .iter()
        .zip(&long)
        .filter_map(|(r, &l)| Some((-r.params?, l)))
        .collect();
    let (neg_params, params_long): (Vec<f64>, Vec<f64>) = with_params.into_iter().unzip();
    let seed_to_seed = seed_pairs(&measured);
    let variances: Vec<f64> = measured
        .iter()
        .filter_map(|r| r.long_ppl.as_ref()?.sd.map(|sd| sd * sd))
        .collect();
    let seed_sd = (!variances.is_empty())
        .then(|| (variances.iter().sum::<f64>() / variances.len() as f64).sqrt());
    let design_sd = Summary::of(&long).and_then(|s| s.sd);
    let front: Vec<&&FidelityRow> = measured.iter().filter(|r| r.proxy_front).collect();
    Fidelity {
        proxy: Agreement::of(&proxy, &long),
        params: Agreement::of(&neg_params, &params_long),
        seed_to_seed,
        seed_sd,
        design_sd,
        front_kept: front.iter().filter(|r| r.long_front == Some(true)).count(),
        front_measured: front.len(),
        pending: rows.iter().filter(|r| r.long_ppl.is_none()).count(),
        rows,
    }
}

/// The two lowest seeds every measured design has at the long budget,
/// against each other; `None` without two such seeds.
fn seed_pairs(measured: &[&FidelityRow]) -> Option<Agreement> {
    let first = measured.first()?;
    let common: Vec<u64> = first
        .long_by_seed
        .keys()
        .copied()
        .filter(|s| measured.iter().all(|r| r.long_by_seed.contains_key(s)))
        .take(2)
        .collect();
    let [a, b] = common[..] else { return None };
    let x: Vec<f64> = measured.iter().map(|r| r.long_by_seed[&a]).collect();
    let y: Vec<f64> = measured.iter().map(|r| r.long_by_seed[&b]).collect();
    Some(Agreement::of(&x, &y))
}

fn finite(s: Option<&Summary>) -> bool {
    s.is_some_and(|s| s.mean.is_finite())
}

fn mean(s: &Option<Summary>) -> f64 {
    s.as_ref().map_or(f64::NAN, |s| s.mean)
}

/// How strong a Spearman ρ is by NAS practice: 0.8 and over strong (the best
/// zero-cost proxies on NAS-Bench-201), about 0.6 weak (reduced training
/// there scored 0.61).
pub fn strength(rho: f64) -> &'static str {
    if rho >= 0.8 {
        "strong"
    } else if rho >= 0.6 {
        "moderate"
    } else {
        "weak"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Values;
    use crate::store::TrialState;

    fn arch(i: usize) -> Architecture {
        let heads = [2, 4, 8][i % 3];
        let state = [8, 16, 32, 8][i / 3];
        Architecture::parse_short_form(&format!("d64 S{state} A{heads} S{state}")).unwrap()
    }

    fn trial(number: i64, a: &Architecture, seed: u64, ppl: f64, params: f64) -> TrialRecord {
        TrialRecord {
            id: number + 1,
            study_id: 1,
            number,
            state: TrialState::Complete,
            arch_json: a.to_json(),
            arch_hash: a.hash(),
            arch_short: a.short_form(),
            seed,
            worker: "w".into(),
            values: Values::from_iter([
                (metrics::VAL_PPL, ppl),
                (metrics::PARAMS, params),
                (metrics::FLOPS, params * 2.0),
            ]),
            fail_kind: None,
            error: None,
            extra: None,
            started: 0.0,
            finished: Some(1.0),
            heartbeat: 0.0,
        }
    }

    const OBJECTIVES: [Objective; 2] = [Objective::ValPpl, Objective::Flops];

    #[test]
    fn agreement_pooled_noise_and_front_follow_the_values() {
        let designs: Vec<Architecture> = (0..4).map(arch).collect();
        // Proxy order 0 < 1 < 2 < 3; params decreasing with it.
        let proxy = [5.0, 6.0, 7.0, 8.0];
        let params = [400.0, 300.0, 200.0, 100.0];
        let source: Vec<TrialRecord> = (0..4)
            .map(|i| trial(i as i64, &designs[i], 0, proxy[i], params[i]))
            .collect();
        // Long budget, two seeds: designs 1 and 2 swap on the mean.
        let long = [[4.0, 4.2], [4.9, 5.1], [4.5, 4.7], [6.0, 6.0]];
        let mut linked = Vec::new();
        for (i, seeds) in long.iter().enumerate() {
            for (s, &ppl) in seeds.iter().enumerate() {
                let n = (s * 4 + i) as i64;
                linked.push(trial(n, &designs[i], s as u64, ppl, params[i]));
            }
        }
        let f = analyse(&designs, &source, &linked, &OBJECTIVES);
        assert_eq!(f.rows.len(), 4);
        assert_eq!(f.pending, 0);
        let means = [4.1, 5.0, 4.6, 6.0];
        assert_eq!(f.proxy, Agreement::of(&proxy, &means));
        // One discordant pair of six: τ = (5 - 1) / 6.
        assert!((f.proxy.tau.unwrap() - 4.0 / 6.0).abs() < 1e-12);
        // Ranks 1 3 2 4 against 1 2 3 4: ρ = 1 - 6·2 / (4·15) = 0.8.
        assert!((f.proxy.rho.unwrap() - 0.8).abs() < 1e-12);
        let neg: Vec<f64> = params.iter().map(|p| -p).collect();
        assert_eq!(f.params, Agreement::of(&neg, &means));
        // Per-design sds 0.1414, 0.1414, 0.1414, 0: pooled √(0.06/4).
        assert!((f.seed_sd.unwrap() - (0.06f64 / 4.0).sqrt()).abs() < 1e-9);
        assert_eq!(f.design_sd, Summary::of(&means).unwrap().sd);
        let s2s = f.seed_to_seed.unwrap();
        assert_eq!(
            s2s,
            Agreement::of(&[4.0, 4.9, 4.5, 6.0], &[4.2, 5.1, 4.7, 6.0])
        );
        assert_eq!(f.rows[1].long_by_seed, BTreeMap::from([(0, 4.9), (1, 5.1)]));
        // Proxy front (ppl, flops): every design (ppl up, cost down). At the
        // long budget design 1 (5.0, 600) is dominated by 2 (4.6, 400).
        assert!(f.rows.iter().all(|r| r.proxy_front));
        let long_front: Vec<Option<bool>> = f.rows.iter().map(|r| r.long_front).collect();
        assert_eq!(
            long_front,
            [Some(true), Some(false), Some(true), Some(true)]
        );
        assert_eq!((f.front_kept, f.front_measured), (3, 4));
    }

    #[test]
    fn designs_not_yet_retrained_are_pending_and_left_out_of_the_numbers() {
        let designs: Vec<Architecture> = (0..3).map(arch).collect();
        let source: Vec<TrialRecord> = (0..3)
            .map(|i| trial(i as i64, &designs[i], 0, 5.0 + i as f64, 100.0))
            .collect();
        let linked = vec![
            trial(0, &designs[0], 0, 4.0, 100.0),
            trial(1, &designs[2], 0, 4.5, 100.0),
        ];
        let f = analyse(&designs, &source, &linked, &OBJECTIVES);
        assert_eq!(f.pending, 1);
        assert_eq!(f.proxy.n, 2);
        assert_eq!(f.rows[1].long_front, None);
        assert_eq!(f.seed_sd, None, "one seed: no seed noise to pool");
        assert_eq!(f.seed_to_seed, None);
        // Equal parameter counts order nothing.
        assert_eq!(f.params.tau, None);
    }
}
