//! Incremental (recurrent) decoding: one token per sequence at a time.
//!
//! A [`DecodeState`] holds, for each layer of a [`super::HybridLm`] in stack
//! order, what that layer carries to the next token: attention layers a
//! [`KvCache`], SSM layers an [`SsmState`] (conv window and SSM state),
//! parallel layers one of each.
//! Shared attention layers share weights, not caches: a key depends on the
//! layer's input, so each position in the stack keeps its own.
//! [`super::HybridLm::step`] feeds one token per sequence and advances it.

mod kv_cache;
mod ssm_state;

pub use kv_cache::KvCache;
pub use ssm_state::SsmState;

/// What one layer carries from token to token.
#[derive(Debug)]
pub enum LayerState {
    Attention(KvCache),
    Ssm(SsmState),
    /// A parallel layer carries both its branches' states.
    Parallel(KvCache, SsmState),
}

/// The decode state of a batch of sequences, all at the same position.
#[derive(Debug)]
pub struct DecodeState {
    pub(crate) layers: Vec<LayerState>,
    pub(crate) batch: i64,
    /// Absolute position of the next token (tokens fed so far).
    pub(crate) position: i64,
}

/// Bytes held by a decode state, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateBytes {
    /// Keys and values of every attention layer.
    pub kv_cache: u64,
    /// The conv windows of every SSM layer.
    pub conv_window: u64,
    /// The SSM states `h` of every SSM layer.
    pub ssm_state: u64,
}

impl StateBytes {
    pub fn total(&self) -> u64 {
        self.kv_cache + self.conv_window + self.ssm_state
    }
}

impl DecodeState {
    /// Tokens fed so far: the position the next one takes.
    pub fn position(&self) -> usize {
        self.position as usize
    }

    /// Sequences in the batch.
    pub fn batch(&self) -> usize {
        self.batch as usize
    }

    /// Each layer's state, in stack order.
    pub fn layers(&self) -> &[LayerState] {
        &self.layers
    }

    /// Bytes held by every cache and state (at the model's dtype, f32 here,
    /// for the whole batch).
    pub fn bytes(&self) -> StateBytes {
        let mut bytes = StateBytes::default();
        for layer in &self.layers {
            match layer {
                LayerState::Attention(cache) => bytes.kv_cache += cache.bytes(),
                LayerState::Ssm(state) => {
                    bytes.conv_window += state.conv_bytes();
                    bytes.ssm_state += state.state_bytes();
                }
                LayerState::Parallel(cache, state) => {
                    bytes.kv_cache += cache.bytes();
                    bytes.conv_window += state.conv_bytes();
                    bytes.ssm_state += state.state_bytes();
                }
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests;
