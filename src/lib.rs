//! hybrid-nas: search hybrid attention + state-space language-model
//! architectures with proxy training on libtorch.
//!
//! The vocabulary: an [`arch::Architecture`] is one design,
//! [`cost::Cost`] its closed-form cost, [`model::HybridLm`] its tch proxy model,
//! [`train::train`] the proxy trainer that measures it, an
//! [`evaluate::Evaluator`] turns a design into named [`metrics::Values`], a
//! [`search::Strategy`] proposes designs, and a [`study`] records them as
//! trials in a [`store::Store`] against its [`objective::Objective`]s.

pub mod arch;
pub mod bench;
pub mod correlation;
pub mod cost;
pub mod csv;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod export;
pub mod generate;
pub mod host;
pub mod limits;
pub mod memory;
pub mod metrics;
pub mod model;
pub(crate) mod names;
pub mod objective;
pub mod optim;
pub mod pareto;
pub mod plot;
pub mod prune;
pub mod resident;
pub mod search;
pub mod space;
pub mod store;
pub mod study;
pub mod tasks;
pub mod terminal;
pub mod train;
pub mod utc;
