//! A text checkpoint as `nas train` writes it: the weights, the
//! architecture, and the character vocabulary that maps ids back to text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{nn, Tensor};

use super::{generate, GenerateError, Sampling};
use crate::arch::Architecture;
use crate::model::HybridLm;

/// The weights (safetensors, names as the VarStore has them).
pub const MODEL_FILE: &str = "model.safetensors";
/// The architecture, its vocabulary size set.
pub const ARCH_FILE: &str = "arch.toml";
/// The character vocabulary: token `i` is `tokens[i]`. Only text models have
/// one, since the ids of the other tasks are not characters.
pub const VOCAB_FILE: &str = "vocab.json";
/// The training's metrics; read only to say which task a model was for.
const METRICS_FILE: &str = "metrics.json";

/// The characters of a text model: id `i` is `chars[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    chars: Vec<char>,
    ids: HashMap<char, i64>,
}

impl Vocabulary {
    pub fn new(chars: Vec<char>) -> Self {
        let ids = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as i64))
            .collect();
        Vocabulary { chars, ids }
    }

    /// Reads a `vocab.json`: `{"tokens": ["\n", " ", "a", ...], ...}`, one
    /// character a token.
    pub fn load(path: &Path) -> Result<Self, GenerateError> {
        let format = |message: String| GenerateError::Format {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| format(e.to_string()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format(format!("not JSON: {e}")))?;
        let tokens = doc["tokens"]
            .as_array()
            .ok_or_else(|| format("no `tokens` list".into()))?;
        let mut chars = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let mut it = token.as_str().unwrap_or_default().chars();
            match (it.next(), it.next()) {
                (Some(c), None) => chars.push(c),
                _ => return Err(format(format!("token {i} is not one character: {token}"))),
            }
        }
        let vocab = Vocabulary::new(chars);
        if vocab.ids.len() != vocab.chars.len() {
            return Err(format("a character is listed twice".into()));
        }
        Ok(vocab)
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The ids of `text`'s characters; the first one outside the vocabulary
    /// is an error naming it and its position.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>, GenerateError> {
        text.chars()
            .enumerate()
            .map(|(i, ch)| {
                self.ids
                    .get(&ch)
                    .copied()
                    .ok_or(GenerateError::OutOfVocabulary {
                        ch,
                        position: i + 1,
                        size: self.len(),
                    })
            })
            .collect()
    }

    /// The character of token `id` (one of this vocabulary's ids).
    pub fn char(&self, id: i64) -> char {
        self.chars[id as usize]
    }
}

/// A trained text model, ready to generate.
#[derive(Debug)]
pub struct TextModel {
    pub arch: Architecture,
    pub model: HybridLm,
    pub vocab: Vocabulary,
    /// Owns the weights `model` holds handles to.
    _vs: nn::VarStore,
}

impl TextModel {
    /// Loads the folder `nas train` wrote for a text model.
    pub fn load(dir: &Path) -> Result<Self, GenerateError> {
        if !dir.is_dir() {
            return Err(GenerateError::NoFolder(dir.to_path_buf()));
        }
        let file = |name: &'static str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(GenerateError::MissingFile {
                    dir: dir.to_path_buf(),
                    file: name,
                })
            }
        };
        let (weights, arch_path) = (file(MODEL_FILE)?, file(ARCH_FILE)?);
        let vocab_path = file(VOCAB_FILE).map_err(|_| GenerateError::NotText {
            dir: dir.to_path_buf(),
            reason: not_text_reason(dir),
        })?;
        let arch = Architecture::load(&arch_path.to_string_lossy())?;
        let vocab = Vocabulary::load(&vocab_path)?;
        if vocab.len() != arch.vocab_size {
            return Err(GenerateError::Format {
                path: vocab_path,
                message: format!(
                    "{} characters, but {ARCH_FILE} has a vocabulary of {}",
                    vocab.len(),
                    arch.vocab_size
                ),
            });
        }
        let vs = nn::VarStore::new(tch::Device::Cpu);
        // The seed only fills the weights that the checkpoint then replaces.
        let model = HybridLm::new(&vs.root(), &arch, 0);
        load_weights(&vs, &weights)?;
        Ok(TextModel {
            arch,
            model,
            vocab,
            _vs: vs,
        })
    }

    /// Continues `prompt` by `tokens` characters, handing each to `emit` as
    /// it is drawn; returns them.
    pub fn generate(
        &self,
        prompt: &str,
        tokens: usize,
        sampling: &Sampling,
        mut emit: impl FnMut(char),
    ) -> Result<String, GenerateError> {
        let ids = self.vocab.encode(prompt)?;
        let drawn = generate(&self.model, &ids, tokens, sampling, |id| {
            emit(self.vocab.char(id))
        })?;
        Ok(drawn.into_iter().map(|id| self.vocab.char(id)).collect())
    }
}

/// Why a checkpoint without a vocabulary is not a text model: the task its
/// metrics name, when they do.
fn not_text_reason(dir: &Path) -> String {
    let task = std::fs::read_to_string(dir.join(METRICS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m["task"].as_str().map(String::from));
    match task {
        Some(task) if task != "text" => format!("a model trained on the {task} task"),
        _ => format!("no {VOCAB_FILE}"),
    }
}

/// Copies the checkpoint's tensors into `vs`, after checking that the names
/// and shapes are exactly the model's: a plain copy would broadcast a tensor
/// of another shape without complaint.
fn load_weights(vs: &nn::VarStore, path: &PathBuf) -> Result<(), GenerateError> {
    let fail = |message: String| GenerateError::Weights {
        path: path.clone(),
        message,
    };
    let mut stored: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|e| fail(e.to_string()))?
        .into_iter()
        .collect();
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut problems = Vec::new();
    let mut pairs = Vec::new();
    for (name, var) in vars {
        match stored.remove(&name) {
            None => problems.push(format!("no tensor {name}")),
            Some(t) if t.size() != var.size() => problems.push(format!(
                "{name} is {:?}, the architecture's is {:?}",
                t.size(),
                var.size()
            )),
            Some(t) => pairs.push((var, t)),
        }
    }
    let mut extra: Vec<&String> = stored.keys().collect();
    extra.sort();
    problems.extend(extra.iter().map(|name| format!("an extra tensor {name}")));
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(3);
        problems.truncate(3);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        return Err(fail(format!("{}{tail}", problems.join("; "))));
    }
    tch::no_grad(|| {
        for (mut var, t) in pairs {
            var.copy_(&t);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_names_the_first_character_outside_the_vocabulary() {
        let vocab = Vocabulary::new(vec!['a', 'b', ' ']);
        assert_eq!(vocab.encode("ba a").unwrap(), vec![1, 0, 2, 0]);
        match vocab.encode("ab zq") {
            Err(GenerateError::OutOfVocabulary { ch, position, .. }) => {
                assert_eq!((ch, position), ('z', 4));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_checkpoint_of_another_shape_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let save = |short: &str| {
            let mut arch = Architecture::parse_short_form(short).unwrap();
            arch.vocab_size = 3;
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let _model = HybridLm::new(&vs.root(), &arch, 0);
            vs.save(dir.path().join(MODEL_FILE)).unwrap();
            std::fs::write(dir.path().join(ARCH_FILE), arch.to_toml()).unwrap();
        };
        std::fs::write(
            dir.path().join(VOCAB_FILE),
            r#"{"kind": "characters", "tokens": ["a", "b", "c"]}"#,
        )
        .unwrap();
        save("d16 S4 A2");
        assert!(TextModel::load(dir.path()).is_ok());
        // The same weights under a wider model's arch.toml.
        let wide = Architecture::parse_short_form("d32 S4 A2").unwrap();
        let wide = Architecture {
            vocab_size: 3,
            ..wide
        };
        std::fs::write(dir.path().join(ARCH_FILE), wide.to_toml()).unwrap();
        let err = TextModel::load(dir.path()).unwrap_err();
        assert!(matches!(err, GenerateError::Weights { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("block0.mlp.down.bias is [16], the architecture's is [32]"),
            "{message}"
        );
        assert!(message.contains("(and 28 more)"), "{message}");
        assert!(!err.is_usage());
        // An attention layer where the weights have an SSM.
        let other = Architecture {
            vocab_size: 3,
            ..Architecture::parse_short_form("d16 A2 A2").unwrap()
        };
        std::fs::write(dir.path().join(ARCH_FILE), other.to_toml()).unwrap();
        let message = TextModel::load(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("no tensor block0.attn.qkv.weight"),
            "{message}"
        );
        assert!(
            message.contains("an extra tensor block0.ssm.a_log"),
            "{message}"
        );
    }

    /// Trainings of the other tasks write no vocabulary; their metrics say
    /// which task they were, and the error says it too.
    #[test]
    fn a_checkpoint_of_another_task_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        for file in [MODEL_FILE, ARCH_FILE] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        let err = TextModel::load(dir.path()).unwrap_err();
        assert!(matches!(err, GenerateError::NotText { .. }), "{err}");
        assert!(err.to_string().contains("no vocab.json"), "{err}");
        std::fs::write(dir.path().join(METRICS_FILE), r#"{"task": "mqar"}"#).unwrap();
        let err = TextModel::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a model trained on the mqar task"), "{err}");
        assert!(err.contains("needs a model trained on text"), "{err}");
        std::fs::remove_file(dir.path().join(ARCH_FILE)).unwrap();
        let err = TextModel::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no arch.toml"), "{err}");
    }
}
