//! `[evolution]`: settings of aging evolution (`search::evolution`), validated
//! with the rest of the space by `schema/evolution.rs`.

use super::mutate::MutationWeights;

/// The smallest population a space may ask for: a tournament must have a
/// choice to make.
pub const MIN_POPULATION: usize = 2;

/// Aging-evolution settings; every field has a default.
#[derive(Clone, Debug, PartialEq)]
pub struct EvolutionSettings {
    /// The most recent complete trials that form the population (default 20,
    /// at least [`MIN_POPULATION`]).
    pub population: usize,
    /// Members drawn per tournament, at most `population` (default 5).
    pub tournament: usize,
    /// How often each kind of mutation is drawn (default: all 1).
    pub mutation_weights: MutationWeights,
}

impl Default for EvolutionSettings {
    fn default() -> Self {
        EvolutionSettings {
            population: 20,
            tournament: 5,
            mutation_weights: MutationWeights::default(),
        }
    }
}
