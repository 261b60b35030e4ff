//! The hybrid language model: embedding, pre-norm residual blocks
//! (`x += mixer(norm(x)); x += mlp(norm(x))`), final norm, linear head.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Kind, Tensor};

use super::attention::{Attention, AttentionWeights};
use super::decode::{DecodeState, LayerState};
use super::init::{LayerNorm, Linear, ParamInit};
use super::mlp::Mlp;
use super::parallel::Parallel;
use super::ssm::Ssm;
use crate::arch::{Architecture, Layer};
use crate::cost::SsmDims;

/// The sequence mixer of one block.
#[derive(Debug)]
pub(crate) enum Mixer {
    Attention(Attention),
    Ssm(Ssm),
    Parallel(Parallel),
}

impl Mixer {
    /// A mixer with weights of its own (attention not shared) for `layer`.
    pub(crate) fn unshared(p: &mut ParamInit, layer: &Layer, arch: &Architecture) -> Mixer {
        let d = arch.d_model;
        match *layer {
            Layer::Attention { heads, window, .. } => Mixer::Attention(Attention::new(
                AttentionWeights::new(&mut p.sub("attn"), d),
                heads,
                window,
                arch.rope,
            )),
            Layer::Ssm { state_dim, expand } => {
                let dims = SsmDims::new(d, state_dim, expand, arch.ssm_head_dim);
                Mixer::Ssm(Ssm::new(&mut p.sub("ssm"), d, dims))
            }
            Layer::Parallel {
                heads,
                window,
                state_dim,
                expand,
            } => {
                let attention = Attention::new(
                    AttentionWeights::new(&mut p.sub("attn"), d),
                    heads,
                    window,
                    arch.rope,
                );
                let dims = SsmDims::new(d, state_dim, expand, arch.ssm_head_dim);
                let ssm = Ssm::new(&mut p.sub("ssm"), d, dims);
                let attention_norm = p.layer_norm("attn_out_norm", d);
                let ssm_norm = p.layer_norm("ssm_out_norm", d);
                Mixer::Parallel(Parallel::new(attention, ssm, attention_norm, ssm_norm))
            }
        }
    }

    /// `(B, T, d) -> (B, T, d)`.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Mixer::Attention(a) => a.forward(x),
            Mixer::Ssm(s) => s.forward(x),
            Mixer::Parallel(p) => p.forward(x),
        }
    }

    /// This mixer's empty decode state for `batch` sequences.
    fn empty_state(&self, batch: i64, opts: (Kind, Device)) -> LayerState {
        match self {
            Mixer::Attention(a) => LayerState::Attention(a.empty_cache(batch, opts)),
            Mixer::Ssm(s) => LayerState::Ssm(s.empty_state(batch, opts)),
            Mixer::Parallel(p) => LayerState::Parallel(
                p.attention.empty_cache(batch, opts),
                p.ssm.empty_state(batch, opts),
            ),
        }
    }

    /// `(B, d) -> (B, d)` for the token at position `pos`, advancing `state`.
    fn step(&self, x: &Tensor, pos: i64, state: &mut LayerState) -> Tensor {
        match (self, state) {
            (Mixer::Attention(a), LayerState::Attention(cache)) => a.step(x, pos, cache),
            (Mixer::Ssm(s), LayerState::Ssm(state)) => s.step(x, state),
            (Mixer::Parallel(p), LayerState::Parallel(cache, state)) => {
                p.combine(&p.attention.step(x, pos, cache), &p.ssm.step(x, state))
            }
            _ => panic!("a decode state from another model: layer kinds differ"),
        }
    }
}

#[derive(Debug)]
struct Block {
    norm1: LayerNorm,
    mixer: Mixer,
    norm2: LayerNorm,
    mlp: Mlp,
}

#[derive(Debug)]
pub struct HybridLm {
    /// `(V, d)`.
    embed: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    /// `(V, d)`, no bias.
    head: Linear,
}

impl HybridLm {
    /// Builds the model's parameters in `vs`, drawing every initial value from
    /// an RNG seeded with `seed` (reproducible whatever else runs in parallel).
    /// `arch.vocab_size` must be set.
    pub fn new(vs: &nn::Path, arch: &Architecture, seed: u64) -> Self {
        assert!(arch.vocab_size > 0, "the vocabulary size must be known");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut p = ParamInit::new(vs.clone(), &mut rng);
        let (d, v) = (arch.d_model, arch.vocab_size);
        let embed = p.normal("embed", &[v as i64, d as i64], 1.0);
        // One weight set for every shared attention layer, created on first use.
        let mut shared: Option<AttentionWeights> = None;
        let mut blocks = Vec::with_capacity(arch.layers.len());
        for (i, layer) in arch.layers.iter().enumerate() {
            let mut bp = p.sub(&format!("block{i}"));
            let norm1 = bp.layer_norm("norm1", d);
            let mixer = match *layer {
                Layer::Attention {
                    heads,
                    window,
                    shared: true,
                } => {
                    let weights = match &shared {
                        Some(w) => w.share(),
                        None => {
                            let w = AttentionWeights::new(&mut bp.sub("shared_attn"), d);
                            let handle = w.share();
                            shared = Some(w);
                            handle
                        }
                    };
                    Mixer::Attention(Attention::new(weights, heads, window, arch.rope))
                }
                _ => Mixer::unshared(&mut bp, layer, arch),
            };
            let norm2 = bp.layer_norm("norm2", d);
            let mlp = Mlp::new(&mut bp.sub("mlp"), d, arch.mlp_ratio);
            blocks.push(Block {
                norm1,
                mixer,
                norm2,
                mlp,
            });
        }
        let norm = p.layer_norm("norm", d);
        let head = p.linear("head", d, v, false);
        HybridLm {
            embed,
            blocks,
            norm,
            head,
        }
    }

    /// Token ids `(B, T)` (int64) -> logits `(B, T, V)`.
    pub fn forward(&self, idx: &Tensor) -> Tensor {
        let mut x = Tensor::embedding(&self.embed, idx, -1, false, false); // (B, T, d)
        for block in &self.blocks {
            let h = block.norm1.forward(&x);
            let mixed = block.mixer.forward(&h);
            // Not `+=`: that is in-place and would overwrite the input the norm saved for backward.
            x = &x + mixed;
            x = &x + block.mlp.forward(&block.norm2.forward(&x));
        }
        self.head.forward(&self.norm.forward(&x))
    }

    /// An empty decode state for `batch` sequences (position 0), one cache
    /// or state per layer, for [`HybridLm::step`].
    pub fn decode_state(&self, batch: usize) -> DecodeState {
        let opts = (self.embed.kind(), self.embed.device());
        DecodeState {
            layers: self
                .blocks
                .iter()
                .map(|block| block.mixer.empty_state(batch as i64, opts))
                .collect(),
            batch: batch as i64,
            position: 0,
        }
    }

    /// One decode step: token ids `(B,)` (int64), one per sequence of
    /// `state`, at position `state.position()` -> logits `(B, V)` for the
    /// next token; `state` advances by one. Feeding a sequence token by token
    /// gives the logits [`HybridLm::forward`] gives at each position.
    /// Inference only: runs without autograd.
    pub fn step(&self, tokens: &Tensor, state: &mut DecodeState) -> Tensor {
        assert_eq!(
            tokens.size(),
            [state.batch],
            "step takes one token id per sequence of the decode state"
        );
        assert_eq!(
            state.layers.len(),
            self.blocks.len(),
            "a decode state from another model: depths differ"
        );
        let _guard = tch::no_grad_guard();
        let pos = state.position;
        let mut x = Tensor::embedding(&self.embed, tokens, -1, false, false); // (B, d)
        for (block, layer) in self.blocks.iter().zip(state.layers.iter_mut()) {
            let mixed = block.mixer.step(&block.norm1.forward(&x), pos, layer);
            x = &x + mixed;
            x = &x + block.mlp.forward(&block.norm2.forward(&x));
        }
        state.position += 1;
        self.head.forward(&self.norm.forward(&x)) // (B, V)
    }
}
