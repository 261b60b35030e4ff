//! Search: strategies that propose architectures, ask/tell through the stored
//! history. `crate::study` drives them: it claims, evaluates and records.

pub mod darts;
pub mod evolution;
pub mod grid;
pub mod random;

use rand_chacha::ChaCha8Rng;

use crate::arch::Architecture;
use crate::space::{SearchSpace, StrategyName};
use crate::store::TrialRecord;

/// One proposal: the design and what the strategy wants stored with it
/// (a parent trial, DARTS' lambda, ...).
#[derive(Clone, Debug)]
pub struct Proposal {
    pub arch: Architecture,
    pub extra: Option<serde_json::Value>,
    /// The trial's seed; `None`: the study's (every strategy but grid).
    pub seed: Option<u64>,
}

/// Proposes architectures. A strategy keeps no state of its own that the
/// store does not hold: `ask` sees the study's trials (all states, ordered by
/// number) and an RNG the driver derives from the study seed and the number
/// of finished trials, so a resumed study proposes what the uninterrupted one
/// would have (with one job; several jobs interleave by timing).
pub trait Strategy: Send {
    /// The next design to evaluate, or `None` when the strategy has nothing
    /// left to propose (DARTS, once every derived design has been tried).
    fn ask(&mut self, history: &[TrialRecord], rng: &mut ChaCha8Rng) -> Option<Proposal>;
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// DARTS trains a supernet before it proposes anything: `nas run` drives
    /// it through [`darts::DartsSearch`] and [`darts::DerivedStrategy`].
    #[error("strategy `{0}` has no ask-only form; `nas run` drives it")]
    Unavailable(String),
    #[error(
        "strategy `grid` needs a [grid] table in space `{0}`: \
         designs = [\"d64 S16 A4 S16\", ...] and repeats = K"
    )]
    NoGrid(String),
}

/// The strategy a space (or `--strategy`) names; `seed` is the study's.
pub fn make_strategy(
    name: StrategyName,
    space: &SearchSpace,
    seed: u64,
) -> Result<Box<dyn Strategy>, SearchError> {
    match name {
        StrategyName::Grid => match &space.grid {
            Some(grid) => Ok(Box::new(grid::GridSearch::new(grid.clone(), seed))),
            None => Err(SearchError::NoGrid(space.name.clone())),
        },
        StrategyName::Random => Ok(Box::new(random::RandomSearch::new(space.clone()))),
        StrategyName::Evolution => Ok(Box::new(evolution::AgingEvolution::new(
            space.clone(),
            space.evolution.clone(),
        ))),
        other => Err(SearchError::Unavailable(other.as_str().to_string())),
    }
}
