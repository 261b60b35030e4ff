//! The recurrent state of one SSM layer's decode state.

use tch::{Device, Kind, Tensor};

use crate::cost::{SsmDims, SSM_CONV_WIDTH};

/// What a Mamba-2 mixer carries from one token to the next, for every
/// sequence of the batch. Its size does not depend on the context length.
#[derive(Debug)]
pub struct SsmState {
    /// `(B, C, K-1)`: the conv's last K-1 inputs (x, B, C channels, before
    /// the conv), oldest first.
    pub(crate) conv: Tensor,
    /// `(B, H, P, N)`: the SSM state `h` of every head.
    pub(crate) h: Tensor,
}

impl SsmState {
    /// The zero state `Ssm::forward` starts from.
    pub fn new(batch: i64, dims: &SsmDims, opts: (Kind, Device)) -> Self {
        let k = SSM_CONV_WIDTH as i64;
        SsmState {
            conv: Tensor::zeros([batch, dims.conv_channels as i64, k - 1], opts),
            h: Tensor::zeros(
                [
                    batch,
                    dims.heads as i64,
                    dims.head_dim as i64,
                    dims.state as i64,
                ],
                opts,
            ),
        }
    }

    /// Bytes of the conv window.
    pub fn conv_bytes(&self) -> u64 {
        tensor_bytes(&self.conv)
    }

    /// Bytes of the SSM state `h`.
    pub fn state_bytes(&self) -> u64 {
        tensor_bytes(&self.h)
    }
}

pub(crate) fn tensor_bytes(t: &Tensor) -> u64 {
    t.numel() as u64 * t.kind().elt_size_in_bytes() as u64
}
