//! The proxy model in tch: the reference hybrid LM (embedding, pre-norm
//! residual blocks of mixer and MLP, final norm, linear head).

pub mod attention;
pub mod decode;
pub mod init;
pub mod lm;
pub mod mlp;
pub mod parallel;
pub mod ssm;
pub mod supernet;

pub use decode::{DecodeState, StateBytes};
pub use lm::HybridLm;
