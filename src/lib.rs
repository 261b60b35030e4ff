//! hybrid-nas: search hybrid attention + state-space language-model
//! architectures with proxy training on libtorch.
//!
//! The vocabulary follows DESIGN.md: an [`arch::Architecture`] is one design,
//! [`cost::Cost`] its closed-form cost, [`model::HybridLm`] its tch proxy model,
//! [`train::train`] the proxy trainer that measures it.

pub mod arch;
pub mod bench;
pub mod cost;
pub mod data;
pub mod evaluate;
pub mod model;
pub mod optim;
pub mod pareto;
pub mod plot;
pub mod search;
pub mod space;
pub mod store;
pub mod train;
