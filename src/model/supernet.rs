//! The DARTS supernet: the reference model of [`super::HybridLm`] with every
//! layer slot holding all candidate mixers of the space at once.
//!
//! A slot is `x += mix_c(mixer_c(norm1(x))); x += mlp(norm2(x))`, where the
//! mix is a weighted sum over candidates (DARTS) or one sampled candidate
//! scaled by a straight-through one-hot weight (GDAS). The weights come from
//! the caller (the architecture parameters α live outside this module, so the
//! network optimiser never sees them). Norms and the MLP are shared by the
//! candidates of a slot: they are the same in every derived architecture.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Tensor};

use super::init::{LayerNorm, Linear, ParamInit};
use super::lm::Mixer;
use super::mlp::Mlp;
use crate::arch::{Architecture, Layer};

/// What a supernet is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct SupernetSpec {
    /// Width, vocabulary, MLP ratio, SSM head size and RoPE of every
    /// candidate; its `layers` are ignored.
    pub template: Architecture,
    /// Number of layer slots.
    pub depth: usize,
    /// The candidate mixers of every slot, in a fixed order (attention is
    /// never shared inside the supernet: sharing is decided on derivation).
    pub candidates: Vec<Layer>,
}

/// How one forward pass mixes each slot's candidates.
pub enum Mixing<'a> {
    /// Every candidate runs; slot s outputs `sum_c w[s, c] mixer_c(h)` with
    /// `w` of shape `(S, C)` (softmax of α).
    Soft(&'a Tensor),
    /// Only `chosen[s]` runs in slot s, scaled by `w[s, chosen[s]]`; `w` is
    /// `(S, C)` and 1 at the chosen candidates: a plain one-hot for weight
    /// steps, or for α steps a straight-through one-hot whose gradient is
    /// that of the soft Gumbel sample.
    Hard { chosen: &'a [usize], w: &'a Tensor },
}

#[derive(Debug)]
struct Slot {
    norm1: LayerNorm,
    candidates: Vec<Mixer>,
    norm2: LayerNorm,
    mlp: Mlp,
}

#[derive(Debug)]
pub struct Supernet {
    /// `(V, d)`.
    embed: Tensor,
    slots: Vec<Slot>,
    norm: LayerNorm,
    /// `(V, d)`, no bias.
    head: Linear,
}

impl Supernet {
    /// Builds every slot's candidates in `vs`, drawing initial values from an
    /// RNG seeded with `seed`. `spec.template.vocab_size` must be set.
    pub fn new(vs: &nn::Path, spec: &SupernetSpec, seed: u64) -> Self {
        let arch = &spec.template;
        assert!(arch.vocab_size > 0, "the vocabulary size must be known");
        assert!(!spec.candidates.is_empty(), "a slot needs a candidate");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut p = ParamInit::new(vs.clone(), &mut rng);
        let (d, v) = (arch.d_model, arch.vocab_size);
        let embed = p.normal("embed", &[v as i64, d as i64], 1.0);
        let slots = (0..spec.depth)
            .map(|s| {
                let mut sp = p.sub(&format!("slot{s}"));
                let norm1 = sp.layer_norm("norm1", d);
                let candidates = spec
                    .candidates
                    .iter()
                    .enumerate()
                    .map(|(c, layer)| {
                        Mixer::unshared(&mut sp.sub(&format!("cand{c}")), layer, arch)
                    })
                    .collect();
                let norm2 = sp.layer_norm("norm2", d);
                let mlp = Mlp::new(&mut sp.sub("mlp"), d, arch.mlp_ratio);
                Slot {
                    norm1,
                    candidates,
                    norm2,
                    mlp,
                }
            })
            .collect();
        let norm = p.layer_norm("norm", d);
        let head = p.linear("head", d, v, false);
        Supernet {
            embed,
            slots,
            norm,
            head,
        }
    }

    /// Token ids `(B, T)` (int64) -> logits `(B, T, V)`.
    pub fn forward(&self, idx: &Tensor, mixing: &Mixing) -> Tensor {
        let mut x = Tensor::embedding(&self.embed, idx, -1, false, false); // (B, T, d)
        for (s, slot) in self.slots.iter().enumerate() {
            let h = slot.norm1.forward(&x);
            let mixed = match mixing {
                Mixing::Soft(w) => {
                    let w = w.get(s as i64);
                    slot.candidates
                        .iter()
                        .enumerate()
                        .map(|(c, m)| m.forward(&h) * w.get(c as i64))
                        .reduce(|a, b| a + b)
                        .expect("a slot has candidates")
                }
                Mixing::Hard { chosen, w } => {
                    let c = chosen[s];
                    slot.candidates[c].forward(&h) * w.get(s as i64).get(c as i64)
                }
            };
            x = &x + mixed;
            x = &x + slot.mlp.forward(&slot.norm2.forward(&x));
        }
        self.head.forward(&self.norm.forward(&x))
    }
}
