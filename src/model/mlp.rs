//! The MLP of every block: `d -> r d -> d` with GELU (r = 4 in the reference).

use tch::Tensor;

use super::init::{Linear, ParamInit};

#[derive(Debug)]
pub struct Mlp {
    up: Linear,
    down: Linear,
}

impl Mlp {
    pub fn new(p: &mut ParamInit, d_model: usize, ratio: usize) -> Self {
        Mlp {
            up: p.linear("up", d_model, ratio * d_model, true),
            down: p.linear("down", ratio * d_model, d_model, true),
        }
    }

    /// `(B, T, d) -> (B, T, d)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.down.forward(&self.up.forward(x).gelu("none"))
    }
}
