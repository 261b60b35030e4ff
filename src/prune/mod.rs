//! Early stopping of trials: asynchronous successive halving (ASHA, Li et
//! al. 2020) and Hyperband (Li et al. 2018), single- and multi-objective.
//!
//! A trial is evaluated on the fixed validation batches at each *rung* of its
//! bracket ([`rungs`]); there it reports its values through the store and is
//! compared with every trial that reached the same rung before it
//! ([`promote`]). It continues only when it ranks in the top `1/η` of them
//! (the best one while fewer than `η` have arrived), otherwise it ends as
//! *pruned*. The decision is taken inside the store's transaction that
//! records the report, so workers of one process, several processes and
//! several machines decide consistently and nobody waits for a rung to fill.
//!
//! The learning-rate schedule stays the one of the full budget: a trial at a
//! rung is part-way down the same schedule as every other, so their losses
//! there compare.

mod promote;
pub mod replay;
mod rungs;
mod settings;

pub use self::promote::{promotes, rank_position, Competitor};
pub use self::rungs::{bracket_of, bracket_weights, Bracket};
pub use self::settings::{
    Pruner, PrunerError, PrunerKind, PrunerSettings, DEFAULT_REDUCTION_FACTOR,
};
