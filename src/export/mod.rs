//! Exports of a design to other ecosystems' model descriptions.

pub mod hf;
