//! A supernet checkpoint as one blob in the store's strategy state: a
//! header, the phase's metadata as JSON (progress, α trajectory, result) and
//! the tensors (network weights, α, optimiser moments) in libtorch's format.
//!
//! The metadata comes first and is length-prefixed, so `nas darts` reads a
//! study's progress without loading any tensor.

use std::io::Cursor;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::arch::Architecture;

const MAGIC: &[u8; 8] = b"NASDART1";

/// One point of an α trajectory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlphaPoint {
    pub step: usize,
    /// Per slot, the softmax of its architecture weights (candidate order).
    pub probs: Vec<Vec<f64>>,
    /// Mean training loss of the network-weight steps since the last point
    /// (none at step 0).
    pub train_loss: Option<f64>,
    /// Mean held-out cross-entropy of the α steps since the last point.
    pub arch_loss: Option<f64>,
}

/// What a finished λ phase derived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseResult {
    pub probs: Vec<Vec<f64>>,
    pub arch: Architecture,
}

/// Progress of one phase (the warm-up, or the search at one λ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseMeta {
    /// `None` for the warm-up.
    pub lambda: Option<f64>,
    /// The settings the phase was run with; a checkpoint with another one is
    /// stale (the space changed under `--force`) and the phase starts over.
    pub fingerprint: String,
    pub step: usize,
    pub steps: usize,
    /// Wall seconds spent in this phase so far, across resumes.
    pub seconds: f64,
    /// ChaCha word positions of the phase's random streams, as decimal text
    /// (u128 does not fit JSON numbers).
    pub rng_positions: Vec<String>,
    /// Losses summed since the last trajectory point.
    pub pending: Pending,
    pub trajectory: Vec<AlphaPoint>,
    /// Set when the phase has run all its steps.
    pub result: Option<PhaseResult>,
}

/// Running sums behind the next trajectory point's mean losses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub train_sum: f64,
    pub arch_sum: f64,
    pub count: usize,
}

impl PhaseMeta {
    pub fn done(&self) -> bool {
        self.step >= self.steps
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a supernet checkpoint (bad header)")]
    Header,
    #[error("checkpoint metadata: {0}")]
    Json(#[from] serde_json::Error),
    #[error("checkpoint tensors: {0}")]
    Torch(#[from] tch::TchError),
}

/// `MAGIC`, the metadata length (u64 little-endian), the metadata, tensors.
pub fn encode(meta: &PhaseMeta, tensors: &[(String, Tensor)]) -> Result<Vec<u8>, CheckpointError> {
    let json = serde_json::to_vec(meta)?;
    let mut out = Vec::with_capacity(16 + json.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    let named: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    Tensor::save_multi_to_stream(&named, &mut out)?;
    Ok(out)
}

fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), CheckpointError> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(CheckpointError::Header);
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let rest = &bytes[16..];
    if rest.len() < len {
        return Err(CheckpointError::Header);
    }
    Ok(rest.split_at(len))
}

pub fn decode_meta(bytes: &[u8]) -> Result<PhaseMeta, CheckpointError> {
    let (json, _) = split(bytes)?;
    Ok(serde_json::from_slice(json)?)
}

pub fn decode(bytes: &[u8]) -> Result<(PhaseMeta, Vec<(String, Tensor)>), CheckpointError> {
    let (json, tensors) = split(bytes)?;
    let meta = serde_json::from_slice(json)?;
    let tensors = Tensor::load_multi_from_stream(Cursor::new(tensors))?;
    Ok((meta, tensors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_metadata_and_tensors() {
        let meta = PhaseMeta {
            lambda: Some(0.5),
            fingerprint: "f".into(),
            step: 3,
            steps: 10,
            seconds: 1.5,
            pending: Pending {
                train_sum: 4.0,
                arch_sum: 4.2,
                count: 2,
            },
            rng_positions: vec!["340282366920938463463374607431768211455".into()],
            trajectory: vec![AlphaPoint {
                step: 1,
                probs: vec![vec![0.25, 0.75]],
                train_loss: Some(2.0),
                arch_loss: None,
            }],
            result: None,
        };
        let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([3, 1]);
        let bytes = encode(&meta, &[("w".into(), t.shallow_clone())]).unwrap();
        assert_eq!(decode_meta(&bytes).unwrap(), meta);
        let (back, tensors) = decode(&bytes).unwrap();
        assert_eq!(back, meta);
        assert_eq!(tensors.len(), 1);
        assert_eq!(tensors[0].0, "w");
        assert!(tensors[0].1.equal(&t));
        assert!(matches!(decode(b"garbage"), Err(CheckpointError::Header)));
    }
}
