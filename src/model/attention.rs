//! Causal multi-head attention: fused QKV projection, scaled dot-product
//! attention, optional sliding window, optional rotary position embedding.

use tch::{Device, Kind, Tensor};

use super::decode::KvCache;
use super::init::{Linear, ParamInit};

/// The projection weights of an attention mixer. Shared attention layers hold
/// handles to one `AttentionWeights` (see [`Linear::share`]).
#[derive(Debug)]
pub struct AttentionWeights {
    /// `(3d, d)`, no bias.
    pub qkv: Linear,
    /// `(d, d)`, no bias.
    pub out: Linear,
}

impl AttentionWeights {
    pub fn new(p: &mut ParamInit, d_model: usize) -> Self {
        AttentionWeights {
            qkv: p.linear("qkv", d_model, 3 * d_model, false),
            out: p.linear("out", d_model, d_model, false),
        }
    }

    pub fn share(&self) -> Self {
        AttentionWeights {
            qkv: self.qkv.share(),
            out: self.out.share(),
        }
    }
}

#[derive(Debug)]
pub struct Attention {
    weights: AttentionWeights,
    heads: i64,
    /// 0 = global causal attention.
    window: i64,
    rope: bool,
}

impl Attention {
    pub fn new(weights: AttentionWeights, heads: usize, window: usize, rope: bool) -> Self {
        Attention {
            weights,
            heads: heads as i64,
            window: window as i64,
            rope,
        }
    }

    /// `(B, T, d) -> (B, T, d)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let (b, t, d) = x.size3().expect("attention input is (B, T, d)");
        let hd = d / self.heads;
        // (B, T, 3d) -> three (B, H, T, hd) views. One unbind rather than three
        // selects: its backward stacks the three gradients into one buffer,
        // where each select's backward would build a zero-filled full-size
        // tensor for autograd to sum. Unbinding the (B, T, 3, H, hd) view
        // before moving the head axis makes that stack already (B, T, 3d) in
        // memory, so no copy follows it back into the projection's backward.
        let qkv = self
            .weights
            .qkv
            .forward(x)
            .view([b, t, 3, self.heads, hd])
            .unbind(2);
        let [mut q, mut k, v]: [Tensor; 3] = qkv
            .iter()
            .map(|z| z.transpose(1, 2))
            .collect::<Vec<_>>()
            .try_into()
            .expect("unbind of a size-3 dimension gives three tensors");
        if self.rope {
            let (cos, sin) = rope_tables(0, t, hd, x.device());
            q = apply_rope(&q, &cos, &sin);
            k = apply_rope(&k, &cos, &sin);
        }
        let y = if self.window > 0 && self.window < t {
            let mask = window_mask(t, self.window, x.device());
            Tensor::scaled_dot_product_attention(&q, &k, &v, Some(&mask), 0.0, false, None, false)
        } else {
            Tensor::scaled_dot_product_attention::<Tensor>(&q, &k, &v, None, 0.0, true, None, false)
        };
        // (B, H, T, hd) -> (B, T, d)
        self.weights
            .out
            .forward(&y.transpose(1, 2).reshape([b, t, d]))
    }
}

impl Attention {
    /// An empty KV cache for `batch` sequences: a ring buffer of `window`
    /// entries for windowed attention, a growing buffer for global attention.
    pub fn empty_cache(&self, batch: i64, opts: (Kind, Device)) -> KvCache {
        let d = self.weights.out.weight.size()[0];
        KvCache::new(batch, self.heads, d / self.heads, self.window, opts)
    }

    /// One decode step: `x (B, d)`, the token at absolute position `pos` of
    /// every row, attends to itself and the cached keys -> `(B, d)`. Appends
    /// its key and value to `cache`. The same weights and arithmetic as
    /// [`Attention::forward`] at that position.
    pub fn step(&self, x: &Tensor, pos: i64, cache: &mut KvCache) -> Tensor {
        let (b, d) = x.size2().expect("attention step input is (B, d)");
        let hd = d / self.heads;
        // (B, 3d) -> three (B, H, 1, hd), the layout `forward` has at one position.
        let qkv = self
            .weights
            .qkv
            .forward(x)
            .view([b, 3, self.heads, 1, hd])
            .unbind(1);
        let [mut q, mut k, v]: [Tensor; 3] = qkv
            .try_into()
            .expect("unbind of a size-3 dimension gives three tensors");
        if self.rope {
            // Keys are cached rotated: a key's angle is that of its own
            // position, fixed once written.
            let (cos, sin) = rope_tables(pos, 1, hd, x.device());
            q = apply_rope(&q, &cos, &sin);
            k = apply_rope(&k, &cos, &sin);
        }
        let (keys, values) = cache.push(&k, &v); // (B, H, S, hd), S = entries held
                                                 // The cache holds only keys the query may see (the window's ring has
                                                 // dropped older ones), so no mask; their order in the ring does not
                                                 // matter to a softmax-weighted sum.
        let y = Tensor::scaled_dot_product_attention::<Tensor>(
            &q, &keys, &values, None, 0.0, false, None, false,
        ); // (B, H, 1, hd)
        self.weights.out.forward(&y.reshape([b, d]))
    }
}

/// `(T, T)` boolean: query i may attend key j when `i - window < j <= i`.
fn window_mask(t: i64, window: i64, device: Device) -> Tensor {
    let i = Tensor::arange(t, (Kind::Int64, device)).unsqueeze(1);
    let j = Tensor::arange(t, (Kind::Int64, device)).unsqueeze(0);
    let diff = &i - &j;
    diff.ge(0).logical_and(&diff.lt(window))
}

/// cos and sin tables `(T, hd/2)` for rotary embedding with base 10000, at
/// absolute positions `start..start + t`.
fn rope_tables(start: i64, t: i64, hd: i64, device: Device) -> (Tensor, Tensor) {
    let half = hd / 2;
    let inv_freq =
        (Tensor::arange(half, (Kind::Float, device)) * (-2.0 * 10000f64.ln() / hd as f64)).exp();
    let pos = Tensor::arange_start(start, start + t, (Kind::Float, device));
    let angles = pos.unsqueeze(1) * inv_freq.unsqueeze(0);
    (angles.cos(), angles.sin())
}

/// Rotates pairs (first half, second half) of the head dimension of
/// `(B, H, T, hd)` by the position angle.
fn apply_rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
    let half = x.size()[3] / 2;
    let x1 = x.narrow(3, 0, half);
    let x2 = x.narrow(3, half, half);
    Tensor::cat(&[&x1 * cos - &x2 * sin, &x1 * sin + &x2 * cos], 3)
}
