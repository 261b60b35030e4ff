//! The KV cache of one attention layer's decode state.

use tch::{Device, Kind, Tensor};

/// Entries a global cache first makes room for; it doubles when full, so
/// appending costs amortised O(1) copies instead of a full copy per token.
const INITIAL_CAPACITY: i64 = 64;

/// Keys (already rotated when the layer uses RoPE) and values of the tokens a
/// layer's next query may attend to, for every sequence of the batch.
///
/// Global attention (`window == 0`) keeps every token. Windowed attention
/// keeps the last `window` in a ring buffer: slot `pos % window` is
/// overwritten, so its memory is bounded by the window, not by the context.
#[derive(Debug)]
pub struct KvCache {
    /// `(B, H, capacity, hd)` each; the first `len` entries along dim 2 are held.
    keys: Tensor,
    values: Tensor,
    len: i64,
    /// Tokens pushed so far (the ring's write position is `pushed % window`).
    pushed: i64,
    window: i64,
}

impl KvCache {
    /// An empty cache for `batch` sequences of a layer with `heads` heads of
    /// width `head_dim`; `window == 0` for global attention.
    pub fn new(batch: i64, heads: i64, head_dim: i64, window: i64, opts: (Kind, Device)) -> Self {
        let capacity = if window > 0 { window } else { INITIAL_CAPACITY };
        let keys = Tensor::zeros([batch, heads, capacity, head_dim], opts);
        KvCache {
            values: keys.zeros_like(),
            keys,
            len: 0,
            pushed: 0,
            window,
        }
    }

    /// Appends one token's key and value (`(B, H, 1, hd)` each) and returns
    /// the held keys and values, `(B, H, S, hd)` each with `S = min(tokens
    /// pushed, window)` (every token pushed for a global cache).
    pub fn push(&mut self, k: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
        let slot = if self.window > 0 {
            self.pushed % self.window
        } else {
            if self.len == self.capacity() {
                self.grow();
            }
            self.len
        };
        self.keys.narrow(2, slot, 1).copy_(k);
        self.values.narrow(2, slot, 1).copy_(v);
        self.pushed += 1;
        self.len = if self.window > 0 {
            self.pushed.min(self.window)
        } else {
            self.pushed
        };
        (
            self.keys.narrow(2, 0, self.len),
            self.values.narrow(2, 0, self.len),
        )
    }

    /// Entries held (at most `window` for a windowed cache).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the keys and values held. A global cache's buffer may have
    /// room for up to twice as many (it doubles when full); a windowed one
    /// holds `window` entries once the window has filled.
    pub fn bytes(&self) -> u64 {
        let per_entry = self.keys.numel() as u64 / self.capacity() as u64;
        2 * per_entry * self.len as u64 * self.keys.kind().elt_size_in_bytes() as u64
    }

    fn capacity(&self) -> i64 {
        self.keys.size()[2]
    }

    fn grow(&mut self) {
        let more = |t: &Tensor| Tensor::cat(&[t, &t.zeros_like()], 2);
        self.keys = more(&self.keys);
        self.values = more(&self.values);
    }
}
