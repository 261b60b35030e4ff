//! Text generation from a checkpoint that `nas train` wrote for the text
//! task: the prompt is fed through the model's incremental decode path
//! ([`HybridLm::step`]), then each next character is sampled from the last
//! logits and fed back.

pub mod checkpoint;
pub mod sample;

use std::path::PathBuf;

use tch::Tensor;

pub use checkpoint::{TextModel, Vocabulary};
pub use sample::{Sampler, Sampling};

use crate::arch::ArchError;
use crate::model::HybridLm;

/// What stops a generation before it starts.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("checkpoint folder {0}: not found")]
    NoFolder(PathBuf),
    #[error(
        "checkpoint folder {dir}: no {file} (`nas train` writes model.safetensors, \
         arch.toml and, for text, vocab.json)"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error(
        "checkpoint folder {dir}: {reason}; `nas generate` needs a model trained on text \
         (`nas train --task text`), whose folder has vocab.json"
    )]
    NotText { dir: PathBuf, reason: String },
    #[error(transparent)]
    Arch(#[from] ArchError),
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: the weights do not fit the architecture in arch.toml: {message}")]
    Weights { path: PathBuf, message: String },
    #[error(
        "the prompt's character {position} ({ch:?}) is not in the checkpoint's vocabulary \
         of {size} characters"
    )]
    OutOfVocabulary {
        ch: char,
        /// 1-based, in characters.
        position: usize,
        size: usize,
    },
    #[error("the prompt is empty: the model continues a text, so give it at least one character")]
    EmptyPrompt,
    #[error("{0}")]
    Sampling(String),
}

impl GenerateError {
    /// Bad input the user can fix (a path, a prompt, a setting), rather than
    /// a checkpoint whose files disagree.
    pub fn is_usage(&self) -> bool {
        !matches!(self, GenerateError::Weights { .. })
    }
}

/// Feeds `prompt` (token ids, at least one) through `model` one token at a
/// time, then draws `tokens` more with `sampling`, handing each to `emit` as
/// soon as it is drawn (so that a caller can stream it). Returns the drawn ids.
pub fn generate(
    model: &HybridLm,
    prompt: &[i64],
    tokens: usize,
    sampling: &Sampling,
    mut emit: impl FnMut(i64),
) -> Result<Vec<i64>, GenerateError> {
    sampling.check()?;
    let (&last, earlier) = prompt.split_last().ok_or(GenerateError::EmptyPrompt)?;
    let mut sampler = Sampler::new(sampling);
    let mut state = model.decode_state(1);
    for &id in earlier {
        // Only the last prompt token's logits are needed.
        let _ = model.step(&Tensor::from_slice(&[id]), &mut state);
    }
    let mut logits = model.step(&Tensor::from_slice(&[last]), &mut state);
    let mut drawn = Vec::with_capacity(tokens);
    for i in 0..tokens {
        let row = Vec::<f32>::try_from(logits.select(0, 0)).expect("logits are f32");
        let id = sampler.pick(&row) as i64;
        emit(id);
        drawn.push(id);
        // The last token's logits would never be used.
        if i + 1 < tokens {
            logits = model.step(&Tensor::from_slice(&[id]), &mut state);
        }
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use tch::nn;

    use super::*;
    use crate::arch::Architecture;

    fn model() -> (nn::VarStore, HybridLm) {
        let mut arch = Architecture::parse_short_form("d32 S8 A4w4 A4").unwrap();
        arch.vocab_size = 9;
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let model = HybridLm::new(&vs.root(), &arch, 1);
        (vs, model)
    }

    fn sampling(temperature: f64, seed: u64) -> Sampling {
        Sampling {
            temperature,
            top_k: 0,
            seed,
        }
    }

    /// Greedy decoding by stepping picks, at every token, the argmax of the
    /// full forward over the prompt and what was drawn so far.
    #[test]
    fn greedy_generation_follows_the_full_forward() {
        let (_vs, model) = model();
        let prompt = [3i64, 1, 4, 1, 5];
        let drawn = generate(&model, &prompt, 12, &sampling(0.0, 0), |_| {}).unwrap();
        let mut seq = prompt.to_vec();
        for &id in &drawn {
            let logits = tch::no_grad(|| model.forward(&Tensor::from_slice(&seq).view([1, -1])));
            let argmax = logits.select(1, seq.len() as i64 - 1).argmax(-1, false);
            assert_eq!(argmax.int64_value(&[0]), id);
            seq.push(id);
        }
    }

    #[test]
    fn emit_sees_every_drawn_token_in_order() {
        let (_vs, model) = model();
        let mut seen = Vec::new();
        let drawn = generate(&model, &[2], 20, &sampling(1.0, 4), |id| seen.push(id)).unwrap();
        assert_eq!(seen, drawn);
        assert_eq!(drawn.len(), 20);
        assert!(drawn.iter().all(|&id| (0..9).contains(&id)));
    }

    #[test]
    fn an_empty_prompt_or_a_negative_temperature_is_refused() {
        let (_vs, model) = model();
        let empty = generate(&model, &[], 3, &sampling(1.0, 0), |_| {});
        assert!(matches!(empty, Err(GenerateError::EmptyPrompt)));
        let cold = generate(&model, &[1], 3, &sampling(-0.5, 0), |_| {});
        assert!(matches!(cold, Err(GenerateError::Sampling(_))));
    }
}
