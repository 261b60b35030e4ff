//! The proxy model in tch: the reference hybrid LM of DESIGN.md.

pub mod attention;
pub mod init;
pub mod lm;
pub mod mlp;
pub mod ssm;
pub mod supernet;

pub use lm::HybridLm;
