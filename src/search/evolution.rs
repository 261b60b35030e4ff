//! Regularized (aging) evolution, Real et al. 2019, with NSGA-II selection for
//! several objectives.
//!
//! The population is the most recent `population` complete trials of the
//! study (by trial number), so the oldest member dies as each child
//! completes, and the whole state is the stored history: a resumed study
//! rebuilds it exactly. A parent is the winner of a tournament of
//! `tournament` members drawn at random from the population, ranked by
//! non-dominated front, then by crowding distance (larger wins); with one
//! objective that is simply the lowest perplexity. The child is one mutation
//! of the parent, mutated again (a bounded number of times) while it matches a
//! design already evaluated. Until the population is full, proposals are
//! random samples.

use std::collections::HashSet;

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Proposal, Strategy};
use crate::arch::Architecture;
use crate::pareto::{crowding_distance, non_dominated_sort};
use crate::space::{EvolutionSettings, Objective, SearchSpace, MIN_POPULATION};
use crate::store::{TrialRecord, TrialState};

/// Re-mutations of a child that matches an evaluated design before giving up
/// (the store then refuses it and the driver asks again).
const MAX_REMUTATIONS: usize = 20;

pub struct AgingEvolution {
    /// The space, its `evolution` the settings in use.
    space: SearchSpace,
    objectives: Vec<Objective>,
}

impl AgingEvolution {
    /// Evolution in `space` with `settings`, validated (normally the space's
    /// own `space.evolution`). They replace `space.evolution`, whose mutation
    /// weights [`SearchSpace::mutate`] draws by.
    pub fn new(mut space: SearchSpace, settings: EvolutionSettings) -> Self {
        space.evolution = settings;
        AgingEvolution {
            objectives: space.objectives.clone(),
            space,
        }
    }

    fn settings(&self) -> &EvolutionSettings {
        &self.space.evolution
    }

    /// The tournament winner among `members` (indices into `values`).
    fn tournament(&self, values: &[Vec<f64>], rng: &mut ChaCha8Rng) -> usize {
        let size = self.settings().tournament.clamp(1, values.len());
        let members: Vec<usize> = sample(rng, values.len(), size).into_vec();
        // Rank and crowding are computed within the population, as in NSGA-II.
        let fronts = non_dominated_sort(values);
        let mut rank = vec![usize::MAX; values.len()];
        let mut crowd = vec![0.0; values.len()];
        for (r, front) in fronts.iter().enumerate() {
            for (&i, d) in front.iter().zip(crowding_distance(values, front)) {
                rank[i] = r;
                crowd[i] = d;
            }
        }
        *members
            .iter()
            .min_by(|&&a, &&b| {
                rank[a]
                    .cmp(&rank[b])
                    .then(crowd[b].total_cmp(&crowd[a]))
                    .then(a.cmp(&b))
            })
            .expect("a tournament has members")
    }
}

impl Strategy for AgingEvolution {
    fn ask(&mut self, history: &[TrialRecord], rng: &mut ChaCha8Rng) -> Option<Proposal> {
        Some(self.propose(history, rng))
    }
}

impl AgingEvolution {
    fn propose(&mut self, history: &[TrialRecord], rng: &mut ChaCha8Rng) -> Proposal {
        let complete: Vec<&TrialRecord> = history.iter().filter(|t| t.is_scored()).collect();
        // A parsed space has at least MIN_POPULATION; settings built in code
        // get the same floor.
        let p = self.settings().population.max(MIN_POPULATION);
        if complete.len() < p {
            return Proposal {
                arch: self.space.sample(rng),
                extra: Some(serde_json::json!({ "origin": "random" })),
                seed: None,
            };
        }
        let population = &complete[complete.len() - p..];
        let values: Vec<Vec<f64>> = population
            .iter()
            .map(|t| {
                // Lower is better for every objective here; a value the
                // trial lacks ranks worst.
                self.objectives
                    .iter()
                    .map(|o| o.minimised(&t.values).unwrap_or(f64::INFINITY))
                    .collect()
            })
            .collect();
        let winner = population[self.tournament(&values, rng)];
        // A stored design this build cannot read (written by another version)
        // cannot be a parent; a fresh sample takes its turn.
        let Ok(parent) = serde_json::from_str::<Architecture>(&winner.arch_json) else {
            return Proposal {
                arch: self.space.sample(rng),
                extra: Some(serde_json::json!({ "origin": "random" })),
                seed: None,
            };
        };
        let seen: HashSet<&str> = history
            .iter()
            .filter(|t| t.state != TrialState::Failed)
            .map(|t| t.arch_hash.as_str())
            .collect();
        let mut child = self.space.mutate(&parent, rng);
        for _ in 0..MAX_REMUTATIONS {
            if !seen.contains(child.hash().as_str()) {
                break;
            }
            // Mutate the parent afresh (or, half the time, the child further)
            // so the search can step past a crowded neighbourhood.
            let base = if rng.random_bool(0.5) {
                &child
            } else {
                &parent
            };
            child = self.space.mutate(base, rng);
        }
        Proposal {
            arch: child,
            extra: Some(serde_json::json!({ "origin": "mutation", "parent": winner.number })),
            seed: None,
        }
    }
}
