//! The Mamba-2 mixer and its chunked SSD scan.
//!
//! Mixer (as in the PyTorch peer the README compares with): in-projection to
//! z, x, B, C, dt; short causal depthwise conv with SiLU over (x, B, C); softplus dt; a
//! scalar decay per head; SSD scan; LayerNorm of the scan output gated by
//! SiLU(z); out-projection. B and C are shared by all heads (one group).
//!
//! The scan never loops over time: within a chunk of L steps it is a masked
//! matrix product, across chunks a short recurrence also written as a matrix
//! product (after state-spaces/mamba's `ssd_minimal`). Because B and C are the
//! same for every head, `C B^T` is formed once per chunk and not per head, which
//! saves the peer's per-head einsum work.

use tch::{Device, Kind, Tensor};

use super::decode::SsmState;
use super::init::{Linear, ParamInit};
use crate::cost::{SsmDims, SSM_CONV_WIDTH};

/// Chunk length of the SSD scan.
pub const SSD_CHUNK: i64 = 32;

#[derive(Debug)]
pub struct Ssm {
    dims: SsmDims,
    in_proj: Linear,
    /// `(C, 1, K)` depthwise kernel over C = inner + 2N channels, and its bias `(C)`.
    conv_weight: Tensor,
    conv_bias: Tensor,
    /// `(H)` each.
    dt_bias: Tensor,
    a_log: Tensor,
    skip: Tensor,
    norm: super::init::LayerNorm,
    out_proj: Linear,
}

impl Ssm {
    pub fn new(p: &mut ParamInit, d_model: usize, dims: SsmDims) -> Self {
        let c = dims.conv_channels as i64;
        let k = SSM_CONV_WIDTH as i64;
        let in_proj = p.linear("in_proj", d_model, dims.in_proj_out(), false);
        // Depthwise conv: fan_in = K, so PyTorch's bound is 1/sqrt(K).
        let bound = 1.0 / (k as f64).sqrt();
        let conv_weight = p.uniform("conv_weight", &[c, 1, k], bound);
        let conv_bias = p.uniform("conv_bias", &[c], bound);
        let h = dims.heads;
        let dt_bias = p.constant("dt_bias", &[h as i64], 0.0);
        // Decay rates A = 1..16 spread over the heads, as in the peer.
        let a_log = p.values(
            "a_log",
            (0..h)
                .map(|i| {
                    let a = if h == 1 {
                        1.0
                    } else {
                        1.0 + 15.0 * i as f64 / (h - 1) as f64
                    };
                    a.ln() as f32
                })
                .collect(),
        );
        let skip = p.constant("skip", &[h as i64], 1.0);
        let norm = p.layer_norm("norm", dims.inner);
        let out_proj = p.linear("out_proj", dims.inner, d_model, false);
        Ssm {
            dims,
            in_proj,
            conv_weight,
            conv_bias,
            dt_bias,
            a_log,
            skip,
            norm,
            out_proj,
        }
    }

    /// `(B, T, d) -> (B, T, d)`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let (b, t, _) = x.size3().expect("SSM input is (B, T, d)");
        let (e, n, h, p) = (
            self.dims.inner as i64,
            self.dims.state as i64,
            self.dims.heads as i64,
            self.dims.head_dim as i64,
        );
        let k = SSM_CONV_WIDTH as i64;
        let proj = self.in_proj.forward(x); // (B, T, 2E + 2N + H)
        let parts = proj.split_with_sizes([e, e + 2 * n, h], -1);
        let (z, xbc, dt) = (&parts[0], &parts[1], &parts[2]);
        // Causal depthwise conv: pad K-1 on the left only. (B, C, T)
        let xbc = xbc
            .transpose(1, 2)
            .constant_pad_nd([k - 1, 0])
            .conv1d(
                &self.conv_weight,
                Some(&self.conv_bias),
                [1],
                [0],
                [1],
                self.dims.conv_channels as i64,
            )
            .transpose(1, 2)
            .silu(); // (B, T, C)
        let parts = xbc.split_with_sizes([e, n, n], -1);
        let (u, bm, cm) = (parts[0].view([b, t, h, p]), &parts[1], &parts[2]);
        let dt = (dt + &self.dt_bias).softplus(); // (B, T, H)
        let a = -self.a_log.exp(); // (H)
        let y = ssd_scan(&(&u * dt.unsqueeze(-1)), &(&dt * &a), bm, cm, SSD_CHUNK)
            + &u * self.skip.unsqueeze(-1); // (B, T, H, P)
        let y = self.norm.forward(&y.reshape([b, t, e])) * z.silu();
        self.out_proj.forward(&y)
    }
}

impl Ssm {
    /// A zero state for `batch` sequences: what `forward` starts from (its
    /// conv pads with zeros on the left, its scan starts at `h = 0`).
    pub fn empty_state(&self, batch: i64, opts: (Kind, Device)) -> SsmState {
        SsmState::new(batch, &self.dims, opts)
    }

    /// One decode step, the recurrent form of [`Ssm::forward`] with the same
    /// weights: `x (B, d) -> (B, d)`, advancing the conv window and the SSM
    /// state of `state`.
    pub fn step(&self, x: &Tensor, state: &mut SsmState) -> Tensor {
        let (b, _) = x.size2().expect("SSM step input is (B, d)");
        let (e, n, h, p) = (
            self.dims.inner as i64,
            self.dims.state as i64,
            self.dims.heads as i64,
            self.dims.head_dim as i64,
        );
        let k = SSM_CONV_WIDTH as i64;
        let proj = self.in_proj.forward(x); // (B, 2E + 2N + H)
        let parts = proj.split_with_sizes([e, e + 2 * n, h], -1);
        let (z, xbc, dt) = (&parts[0], &parts[1], &parts[2]);
        // The conv's input over its width: the K-1 inputs before, then this one. (B, C, K)
        let window = Tensor::cat(&[&state.conv, &xbc.unsqueeze(-1)], 2);
        state.conv = window.narrow(2, 1, k - 1).contiguous(); // (B, C, K-1)
                                                              // Depthwise: each channel's K taps against its own K inputs, as conv1d
                                                              // (a cross-correlation) does over the left-padded sequence.
        let xbc = ((&window * self.conv_weight.squeeze_dim(1)).sum_dim_intlist(
            [-1i64].as_slice(),
            false,
            Kind::Float,
        ) + &self.conv_bias)
            .silu(); // (B, C)
        let parts = xbc.split_with_sizes([e, n, n], -1);
        let (u, bm, cm) = (parts[0].view([b, h, p]), &parts[1], &parts[2]);
        let dt = (dt + &self.dt_bias).softplus(); // (B, H)
        let a = -self.a_log.exp(); // (H)
                                   // h = exp(dt A) h + (dt x) b^T; y = h c + skip x. (B, H, P, N)
        let decay = (&dt * &a).exp().view([b, h, 1, 1]);
        let input = (&u * dt.unsqueeze(-1)).unsqueeze(-1) * bm.view([b, 1, 1, n]);
        state.h = &state.h * decay + input;
        let y =
            state.h.matmul(&cm.view([b, 1, n, 1])).squeeze_dim(-1) + &u * self.skip.unsqueeze(-1); // (B, H, P)
        let y = self.norm.forward(&y.reshape([b, e])) * z.silu();
        self.out_proj.forward(&y)
    }
}

/// Chunked SSD scan with B and C shared across heads.
///
/// Shapes: `x (B, T, H, P)` inputs already scaled by dt; `a (B, T, H)` log
/// decays (`dt * A <= 0`); `b, c (B, T, N)`. Returns `y (B, T, H, P)` with
/// `h_t = exp(a_t) h_{t-1} + x_t b_t^T`, `y_t = h_t c_t` (h per head: P x N).
///
/// T need not be a multiple of the chunk: the tail is padded with `x = 0`,
/// `a = 0` (no input, no decay), which leaves every real step unchanged since
/// the scan is causal, and the padding is cut off again.
pub fn ssd_scan(x: &Tensor, a: &Tensor, b: &Tensor, c: &Tensor, chunk: i64) -> Tensor {
    let (bs, t, h, p) = x.size4().expect("x is (B, T, H, P)");
    let n = b.size()[2];
    let l = chunk.min(t);
    let pad = (l - t % l) % l;
    let (x, a, b, c) = if pad > 0 {
        (
            x.constant_pad_nd([0, 0, 0, 0, 0, pad]),
            a.constant_pad_nd([0, 0, 0, pad]),
            b.constant_pad_nd([0, 0, 0, pad]),
            c.constant_pad_nd([0, 0, 0, pad]),
        )
    } else {
        (
            x.shallow_clone(),
            a.shallow_clone(),
            b.shallow_clone(),
            c.shallow_clone(),
        )
    };
    let nc = (t + pad) / l;
    let x = x.view([bs, nc, l, h, p]).permute([0, 3, 1, 2, 4]); // (B, H, C, L, P)
    let a = a.view([bs, nc, l, h]).permute([0, 3, 1, 2]); // (B, H, C, L)
    let b = b.view([bs, nc, l, n]); // (B, C, L, N)
    let c = c.view([bs, nc, l, n]); // (B, C, L, N)
    let a_cum = a.cumsum(-1, Kind::Float); // (B, H, C, L)

    // 1. Within chunks: y[l] = sum_{s<=l} (c_l . b_s) exp(a_{s+1..l}) x_s.
    let cb = c.matmul(&b.transpose(-1, -2)).unsqueeze(1); // (B, 1, C, L, L)

    // exp(a_cum[l] - a_cum[s]) for s <= l, else 0. Differences of cumulative
    // sums within one short chunk stay exact enough in f32 (see the test
    // against the sequential recurrence); the mask goes on before exp so no
    // inf (and no NaN gradient) is ever formed.
    let future = Tensor::ones([l, l], (Kind::Bool, a.device())).triu(1);
    let decay_within = (a_cum.unsqueeze(-1) - a_cum.unsqueeze(-2))
        .masked_fill(&future, f64::NEG_INFINITY)
        .exp(); // (B, H, C, L, L)
    let y_diag = (decay_within * cb).matmul(&x); // (B, H, C, L, P)

    // 2. State each chunk leaves behind: sum_s exp(a_{s+1..end}) x_s b_s^T.
    let decay_to_end = (a_cum.narrow(-1, l - 1, 1) - &a_cum).exp(); // (B, H, C, L)
    let states = (&x * decay_to_end.unsqueeze(-1))
        .transpose(-1, -2)
        .matmul(&b.unsqueeze(1)); // (B, H, C, P, N)

    // 3. Across chunks: the state entering each chunk, a recurrence over C
    //    chunks written as one (C+1, C+1) decay matrix product.
    let states = Tensor::cat(&[states.zeros_like().narrow(2, 0, 1), states], 2); // (B, H, C+1, P, N)
    let chunk_decay = a_cum.select(-1, l - 1).constant_pad_nd([1, 0]); // (B, H, C+1)
    let decay_chunks = segsum(&chunk_decay).exp(); // (B, H, C+1, C+1)
    let entering = decay_chunks
        .matmul(&states.view([bs, h, nc + 1, p * n]))
        .narrow(2, 0, nc)
        .view([bs, h, nc, p, n]); // (B, H, C, P, N)

    // 4. Contribution of the entering state: y[l] += exp(a_{1..l}) h_in c_l.
    let y_off = c
        .unsqueeze(1)
        .matmul(&entering.transpose(-1, -2)) // (B, H, C, L, P)
        * a_cum.exp().unsqueeze(-1);

    (y_diag + y_off)
        .permute([0, 2, 3, 1, 4]) // (B, C, L, H, P)
        .reshape([bs, nc * l, h, p])
        .narrow(1, 0, t)
}

/// `(..., L) -> (..., L, L)`: `out[i][j] = x[j+1] + ... + x[i]` for `j <= i`
/// (0 on the diagonal), `-inf` above it. Summing the masked values (instead of
/// subtracting two cumulative sums) keeps it exact for long chunks.
fn segsum(x: &Tensor) -> Tensor {
    let l = *x.size().last().expect("segsum needs a last dimension");
    let opts = (Kind::Bool, x.device());
    let strictly_lower = Tensor::ones([l, l], opts).tril(-1);
    let lower = Tensor::ones([l, l], opts).tril(0);
    let mut shape = x.size();
    shape.push(l);
    let expanded = x.unsqueeze(-1).expand(&shape, false); // (..., L, L): [i][j] = x[i]
    let s = expanded
        .masked_fill(&strictly_lower.logical_not(), 0.0)
        .cumsum(-2, Kind::Float);
    s.masked_fill(&lower.logical_not(), f64::NEG_INFINITY)
}

/// The same recurrence, one step at a time (the definition the scan must
/// match; used by tests). Loops over `unbind` pieces, never indexes a tensor
/// that needs grad inside the loop. Shapes as in [`ssd_scan`].
pub fn sequential_scan(x: &Tensor, a: &Tensor, b: &Tensor, c: &Tensor) -> Tensor {
    let (bs, _, h, p) = x.size4().expect("x is (B, T, H, P)");
    let n = b.size()[2];
    let mut state = Tensor::zeros([bs, h, p, n], (x.kind(), x.device()));
    let mut ys = Vec::new();
    for (((xt, at), bt), ct) in x
        .unbind(1)
        .iter()
        .zip(a.unbind(1).iter())
        .zip(b.unbind(1).iter())
        .zip(c.unbind(1).iter())
    {
        // xt (B, H, P), at (B, H), bt/ct (B, N)
        state = &state * at.exp().view([bs, h, 1, 1]) + xt.unsqueeze(-1) * bt.view([bs, 1, 1, n]);
        ys.push(state.matmul(&ct.view([bs, 1, n, 1])).squeeze_dim(-1)); // (B, H, P)
    }
    Tensor::stack(&ys, 1)
}
