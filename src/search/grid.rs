//! Grid search: every design `[grid]` lists, `repeats` times with seeds
//! `study seed + r`. A (design, seed) is a trial of its own: the store refuses
//! a second live trial of the same pair, not of the same design.
//!
//! The order is repeat-major (every design at the first seed, then every
//! design at the second, ...), so a stopped grid study has measured as many
//! designs as it could. The next pair is the first one the history has not
//! settled or started; a trial interrupted or left by a dead worker is not
//! settled and is proposed again, one that failed on its own is not.

use std::collections::HashSet;

use rand_chacha::ChaCha8Rng;

use super::{Proposal, Strategy};
use crate::space::GridSettings;
use crate::store::{TrialRecord, TrialState};

pub struct GridSearch {
    grid: GridSettings,
    /// `grid.designs`' hashes, in order: computed once, not on every ask.
    hashes: Vec<String>,
    /// The study's seed: repeat `r` trains with `seed + r`.
    seed: u64,
}

impl GridSearch {
    pub fn new(grid: GridSettings, seed: u64) -> Self {
        let hashes = grid.designs.iter().map(|a| a.hash()).collect();
        GridSearch { grid, hashes, seed }
    }

    /// Every (design index, trial seed) in proposal order.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (0..self.grid.repeats)
            .flat_map(move |r| (0..self.grid.designs.len()).map(move |i| (i, self.seed + r as u64)))
    }
}

impl Strategy for GridSearch {
    fn ask(&mut self, history: &[TrialRecord], _rng: &mut ChaCha8Rng) -> Option<Proposal> {
        let taken: HashSet<(&str, u64)> = history
            .iter()
            .filter(|t| t.is_settled() || t.state == TrialState::Running)
            .map(|t| (t.arch_hash.as_str(), t.seed))
            .collect();
        let (i, seed) = self
            .pairs()
            .find(|&(i, seed)| !taken.contains(&(self.hashes[i].as_str(), seed)))?;
        Some(Proposal {
            arch: self.grid.designs[i].clone(),
            extra: None,
            seed: Some(seed),
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::arch::Architecture;
    use crate::store::{FailKind, Values};

    fn grid(repeats: usize) -> GridSettings {
        let designs = ["d64 S16 S16", "d64 S16 A4", "d64 A4 A4"]
            .iter()
            .map(|s| Architecture::parse_short_form(s).unwrap())
            .collect();
        GridSettings {
            designs,
            repeats,
            expansion: None,
        }
    }

    fn record(arch: &Architecture, seed: u64, state: TrialState) -> TrialRecord {
        TrialRecord {
            id: 0,
            study_id: 1,
            number: 0,
            state,
            arch_json: serde_json::to_string(arch).unwrap(),
            arch_hash: arch.hash(),
            arch_short: arch.short_form(),
            seed,
            worker: "w".into(),
            values: Values::default(),
            fail_kind: None,
            error: None,
            extra: None,
            started: 0.0,
            finished: None,
            heartbeat: 0.0,
        }
    }

    /// Asks until the grid is exhausted, recording each proposal as complete.
    fn drain(search: &mut GridSearch, history: &mut Vec<TrialRecord>) -> Vec<(String, u64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut asked = Vec::new();
        while let Some(p) = search.ask(history, &mut rng) {
            let seed = p.seed.expect("grid proposals carry their seed");
            asked.push((p.arch.short_form(), seed));
            history.push(record(&p.arch, seed, TrialState::Complete));
        }
        asked
    }

    #[test]
    fn every_design_at_every_seed_once_repeat_major() {
        let g = grid(2);
        let mut search = GridSearch::new(g.clone(), 10);
        let asked = drain(&mut search, &mut Vec::new());
        let short = |i: usize| g.designs[i].short_form();
        let expected: Vec<(String, u64)> = [(0, 10), (1, 10), (2, 10), (0, 11), (1, 11), (2, 11)]
            .iter()
            .map(|&(i, s)| (short(i), s))
            .collect();
        assert_eq!(asked, expected);
        assert_eq!(asked.len(), g.size());
    }

    #[test]
    fn settled_and_running_pairs_are_skipped_and_retryable_failures_proposed_again() {
        let g = grid(2);
        let failed = |kind| {
            let mut t = record(&g.designs[0], 0, TrialState::Failed);
            t.fail_kind = Some(kind);
            t
        };
        // A design that fails on its own is settled: not proposed again.
        let mut history = vec![
            failed(FailKind::Diverged),
            record(&g.designs[1], 0, TrialState::Running),
            record(&g.designs[2], 1, TrialState::Complete),
        ];
        let asked = drain(&mut GridSearch::new(g.clone(), 0), &mut history);
        let pairs: Vec<(String, u64)> = [(2, 0), (0, 1), (1, 1)]
            .iter()
            .map(|&(i, s)| (g.designs[i].short_form(), s))
            .collect();
        assert_eq!(asked, pairs);

        // One whose worker died is retried, first.
        let mut history = vec![failed(FailKind::WorkerDied)];
        let asked = drain(&mut GridSearch::new(g.clone(), 0), &mut history);
        assert_eq!(asked[0], (g.designs[0].short_form(), 0));
        assert_eq!(asked.len(), g.size());
    }
}
