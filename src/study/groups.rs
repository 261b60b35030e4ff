//! Repeats of one design, aggregated. A grid study trains each design on
//! several seeds; a design's group is its complete trials, and each stored
//! value is summarised over them as mean and sample standard deviation, so
//! that listings and reports compare designs by their means and show how
//! much a seed moves them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::frame::{design_factors, Factors};
use crate::arch::Architecture;
use crate::metrics::Values;
use crate::store::TrialRecord;

/// One value over a group's trials.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n - 1); `None` for a single trial, where
    /// there is no spread to estimate.
    pub sd: Option<f64>,
    /// How many of the group's trials hold the value.
    pub n: usize,
}

impl Summary {
    /// `None` for no samples. NaN samples (a diverged loss) make the mean
    /// NaN: a design that diverged on one seed is not hidden by the others.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let n = samples.len();
        if n == 0 {
            return None;
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let sd = (n > 1).then(|| {
            let ss: f64 = samples.iter().map(|x| (x - mean).powi(2)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Some(Summary { mean, sd, n })
    }

    /// `5.916 ± 0.016` at `digits` decimals, the mean alone for one trial,
    /// `-` for no value: how listings and reports print a summary.
    pub fn show(s: Option<&Summary>, digits: usize) -> String {
        match s {
            None => "-".into(),
            Some(Summary { mean, sd: None, .. }) => format!("{mean:.digits$}"),
            Some(Summary {
                mean, sd: Some(sd), ..
            }) => format!("{mean:.digits$} ± {sd:.digits$}"),
        }
    }
}

/// The complete trials of one design.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesignGroup {
    pub arch: String,
    pub hash: String,
    /// Trial numbers, ascending.
    pub trials: Vec<i64>,
    /// Their seeds, in the same order.
    pub seeds: Vec<u64>,
    /// Every value any of the trials stores, by name.
    pub values: BTreeMap<String, Summary>,
}

impl DesignGroup {
    pub fn size(&self) -> usize {
        self.trials.len()
    }

    /// The design's factors, from its short form (`None` when that does not
    /// read: a store another version wrote).
    pub fn factors(&self) -> Option<Factors> {
        Architecture::parse_short_form(&self.arch)
            .ok()
            .as_ref()
            .map(design_factors)
    }

    pub fn summary(&self, name: &str) -> Option<&Summary> {
        self.values.get(name)
    }

    /// The means as values, so that objectives rank groups as they rank
    /// trials.
    pub fn means(&self) -> Values {
        self.values
            .iter()
            .map(|(name, s)| (name.as_str(), s.mean))
            .collect()
    }
}

/// Complete trials grouped by design, the groups in the order of each
/// design's first trial. Other trials (running, failed, pruned) are left out:
/// a mean over partial runs would mix budgets.
pub fn by_design(trials: &[TrialRecord]) -> Vec<DesignGroup> {
    let mut complete: Vec<&TrialRecord> = trials.iter().filter(|t| t.is_complete()).collect();
    complete.sort_by_key(|t| t.number);
    let mut order: Vec<&str> = Vec::new();
    let mut members: BTreeMap<&str, Vec<&TrialRecord>> = BTreeMap::new();
    for t in complete {
        let entry = members.entry(t.arch_hash.as_str()).or_default();
        if entry.is_empty() {
            order.push(&t.arch_hash);
        }
        entry.push(t);
    }
    order
        .into_iter()
        .map(|hash| group(&members[hash]))
        .collect()
}

/// Each design as one trial, for fronts over the means: its first complete
/// trial (number, design, seed) with every value replaced by the mean over
/// the design's complete trials.
pub fn mean_trials(trials: &[TrialRecord]) -> Vec<TrialRecord> {
    let by_number: HashMap<i64, &TrialRecord> = trials.iter().map(|t| (t.number, t)).collect();
    by_design(trials)
        .into_iter()
        .filter_map(|g| {
            let first = by_number.get(&g.trials[0])?;
            Some(TrialRecord {
                values: g.means(),
                ..(*first).clone()
            })
        })
        .collect()
}

fn group(members: &[&TrialRecord]) -> DesignGroup {
    let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for t in members {
        for (name, v) in t.values.iter() {
            samples.entry(name).or_default().push(v);
        }
    }
    DesignGroup {
        arch: members[0].arch_short.clone(),
        hash: members[0].arch_hash.clone(),
        trials: members.iter().map(|t| t.number).collect(),
        seeds: members.iter().map(|t| t.seed).collect(),
        values: samples
            .into_iter()
            .filter_map(|(name, xs)| Summary::of(&xs).map(|s| (name.to_string(), s)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{TrialRecord, TrialState};

    fn trial(number: i64, hash: &str, seed: u64, ppl: f64, state: TrialState) -> TrialRecord {
        TrialRecord {
            id: number + 1,
            study_id: 1,
            number,
            state,
            arch_json: String::new(),
            arch_hash: hash.into(),
            arch_short: format!("d64 {hash}"),
            seed,
            worker: "w".into(),
            values: Values::from_iter([("val_ppl", ppl)]),
            fail_kind: None,
            error: None,
            extra: None,
            started: 0.0,
            finished: Some(1.0),
            heartbeat: 0.0,
        }
    }

    #[test]
    fn summary_is_mean_and_sample_sd() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.mean, 5.0);
        // Sum of squares 32 over n - 1 = 7.
        assert!((s.sd.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.n, 8);
        assert_eq!(Summary::of(&[3.5]).unwrap().sd, None);
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[1.0, f64::NAN]).unwrap().mean.is_nan());
    }

    #[test]
    fn groups_hold_complete_trials_of_one_design_in_first_seen_order() {
        let trials = [
            trial(3, "b", 1, 8.0, TrialState::Complete),
            trial(0, "a", 0, 5.0, TrialState::Complete),
            trial(1, "b", 0, 6.0, TrialState::Complete),
            trial(2, "a", 1, 7.0, TrialState::Complete),
            trial(4, "a", 2, 100.0, TrialState::Pruned),
            trial(5, "c", 0, 1.0, TrialState::Running),
        ];
        let groups = by_design(&trials);
        let names: Vec<&str> = groups.iter().map(|g| g.hash.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(groups[0].trials, [0, 2]);
        assert_eq!(groups[0].seeds, [0, 1]);
        let ppl = groups[0].summary("val_ppl").unwrap();
        assert_eq!((ppl.mean, ppl.n), (6.0, 2));
        assert!((ppl.sd.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(groups[1].trials, [1, 3]);
        assert_eq!(groups[1].means().get("val_ppl"), Some(7.0));

        let means = mean_trials(&trials);
        let got: Vec<(i64, Option<f64>)> = means
            .iter()
            .map(|t| (t.number, t.value("val_ppl")))
            .collect();
        assert_eq!(got, [(0, Some(6.0)), (1, Some(7.0))]);
    }
}
