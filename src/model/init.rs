//! Parameter creation with initial values drawn from a per-model Rust RNG.
//!
//! tch's own initialisers draw from libtorch's one global generator, so two
//! trials built in parallel threads would not be reproducible. Every parameter
//! here is drawn from the `ChaCha8Rng` handed in, then copied into the
//! VarStore. The distributions match PyTorch's defaults, so the model starts
//! where the same model in PyTorch eager starts.
//!
//! Weight decay groups: matrices (and conv kernels) go to [`DECAYED`], vectors
//! (biases, norm gains, SSM per-head scalars) to [`NOT_DECAYED`].

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use tch::{nn, Tensor};

pub const NOT_DECAYED: usize = 0;
pub const DECAYED: usize = 1;

/// Creates parameters under one VarStore path from one RNG.
pub struct ParamInit<'a, 'p> {
    pub rng: &'a mut ChaCha8Rng,
    path: nn::Path<'p>,
}

impl<'a, 'p> ParamInit<'a, 'p> {
    pub fn new(path: nn::Path<'p>, rng: &'a mut ChaCha8Rng) -> Self {
        ParamInit { rng, path }
    }

    /// A child scope sharing the RNG.
    pub fn sub<'b>(&'b mut self, name: &str) -> ParamInit<'b, 'p> {
        ParamInit {
            rng: self.rng,
            path: &self.path / name,
        }
    }

    fn store(&self, name: &str, dims: &[i64], values: Vec<f32>) -> Tensor {
        let group = if dims.len() >= 2 {
            DECAYED
        } else {
            NOT_DECAYED
        };
        let init = Tensor::from_slice(&values).view(dims);
        self.path.set_group(group).var_copy(name, &init)
    }

    /// U(-bound, bound), PyTorch's default for Linear and Conv weights and
    /// biases (bound = 1/sqrt(fan_in)).
    pub fn uniform(&mut self, name: &str, dims: &[i64], bound: f64) -> Tensor {
        let n = dims.iter().product::<i64>() as usize;
        let values = (0..n)
            .map(|_| self.rng.random_range(-bound..bound) as f32)
            .collect();
        self.store(name, dims, values)
    }

    /// N(0, std^2), PyTorch's default for embeddings (std = 1).
    pub fn normal(&mut self, name: &str, dims: &[i64], std: f64) -> Tensor {
        let n = dims.iter().product::<i64>() as usize;
        let values = (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(self.rng);
                (z * std) as f32
            })
            .collect();
        self.store(name, dims, values)
    }

    pub fn constant(&mut self, name: &str, dims: &[i64], value: f64) -> Tensor {
        let n = dims.iter().product::<i64>() as usize;
        self.store(name, dims, vec![value as f32; n])
    }

    /// A tensor of given values (for structured inits such as SSM decays).
    pub fn values(&mut self, name: &str, values: Vec<f32>) -> Tensor {
        let n = values.len() as i64;
        self.store(name, &[n], values)
    }

    /// `x @ w.T + b` with PyTorch's Linear init.
    pub fn linear(&mut self, name: &str, d_in: usize, d_out: usize, bias: bool) -> Linear {
        let bound = 1.0 / (d_in as f64).sqrt();
        let mut p = self.sub(name);
        let weight = p.uniform("weight", &[d_out as i64, d_in as i64], bound);
        let bias = bias.then(|| p.uniform("bias", &[d_out as i64], bound));
        Linear { weight, bias }
    }

    /// LayerNorm over the last dimension: gain 1, bias 0.
    pub fn layer_norm(&mut self, name: &str, dim: usize) -> LayerNorm {
        let mut p = self.sub(name);
        let weight = p.constant("weight", &[dim as i64], 1.0);
        let bias = p.constant("bias", &[dim as i64], 0.0);
        LayerNorm { weight, bias, dim }
    }
}

/// A dense layer; weight is `(out, in)`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// `(.., in) -> (.., out)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }

    /// Same weights, another handle (autograd sees one parameter).
    pub fn share(&self) -> Linear {
        Linear {
            weight: self.weight.shallow_clone(),
            bias: self.bias.as_ref().map(Tensor::shallow_clone),
        }
    }
}

#[derive(Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    dim: usize,
}

impl LayerNorm {
    /// `(.., dim) -> (.., dim)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm(
            [self.dim as i64],
            Some(&self.weight),
            Some(&self.bias),
            1e-5,
            false,
        )
    }
}
