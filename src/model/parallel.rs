//! The parallel mixer (Hymba's parallel heads; Falcon-H1's block is alike):
//! attention and a Mamba-2 mixer read the same input side by side; each
//! branch's output goes through its own LayerNorm, whose gain learns how much
//! of that branch to pass, and the two are averaged.
//!
//! Normalising first matters: the two branches' outputs differ in scale by
//! an order of magnitude at initialisation, and a plain average would let
//! the larger one drown the other.

use tch::Tensor;

use super::attention::Attention;
use super::init::LayerNorm;
use super::ssm::Ssm;

#[derive(Debug)]
pub struct Parallel {
    pub(crate) attention: Attention,
    pub(crate) ssm: Ssm,
    attention_norm: LayerNorm,
    ssm_norm: LayerNorm,
}

impl Parallel {
    pub fn new(
        attention: Attention,
        ssm: Ssm,
        attention_norm: LayerNorm,
        ssm_norm: LayerNorm,
    ) -> Self {
        Parallel {
            attention,
            ssm,
            attention_norm,
            ssm_norm,
        }
    }

    /// `(B, T, d) -> (B, T, d)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.combine(&self.attention.forward(x), &self.ssm.forward(x))
    }

    /// The mixer's output from its branches' outputs, both `(.., d)`: what
    /// the full forward and a decoding step share.
    pub fn combine(&self, attention: &Tensor, ssm: &Tensor) -> Tensor {
        (self.attention_norm.forward(attention) + self.ssm_norm.forward(ssm)) * 0.5
    }
}
