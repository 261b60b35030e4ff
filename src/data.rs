//! Character-level corpora: vocabulary from the text, the last 10% held out for
//! validation, and seeded random batches.

use std::path::{Path, PathBuf};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

/// Fraction of the corpus (its tail) held out for validation.
pub const VALID_FRACTION: f64 = 0.1;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{what} {path}: file not found{hint}")]
    Missing {
        what: &'static str,
        path: PathBuf,
        hint: String,
    },
    // `error`, not `source`: the message carries it, and a chained source
    // would print it twice.
    #[error("corpus {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("corpus {path}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    /// Valid UTF-8 that holds a NUL: a binary file, not a text to learn.
    #[error("corpus {path}: a binary file, not text (NUL byte at offset {offset})")]
    Binary { path: PathBuf, offset: usize },
    #[error("corpus {path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error(
        "corpus {path}: too short for sequences of {seq_len}: the validation split \
         (last 10%) has {valid} characters, needs at least {needed} (a corpus of about {total_needed})"
    )]
    TooShort {
        path: PathBuf,
        seq_len: usize,
        valid: usize,
        needed: usize,
        total_needed: usize,
    },
}

/// A character corpus as token ids. Plain vectors (not tensors) so one corpus
/// can be shared by parallel trials; each trial makes its own [`Batches`].
#[derive(Debug, Clone)]
pub struct Corpus {
    pub path: PathBuf,
    /// The vocabulary: the distinct characters, sorted; a token is an index.
    pub chars: Vec<char>,
    pub train: Vec<i64>,
    pub valid: Vec<i64>,
}

/// The cache `scripts/setup.sh` fills: `${XDG_CACHE_HOME:-~/.cache}/hybrid-nas`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("hybrid-nas")
}

/// Where `scripts/setup.sh` puts the default corpus (Shakespeare's plays).
pub fn default_corpus_path() -> PathBuf {
    cache_dir().join("data").join("shakespeare.txt")
}

impl Corpus {
    /// Reads a UTF-8 text file. `None` means the default corpus.
    pub fn load(path: Option<&Path>) -> Result<Self, DataError> {
        let (path, text) = read_text(path)?;
        Self::from_text(&text, path)
    }

    /// What [`Corpus::load`] and [`Corpus::check_seq_len`] would refuse, without
    /// building the corpus: for a check made before anything else (a space
    /// file naming its corpus, under an evaluator that never reads it).
    pub fn check_file(path: &Path, seq_len: usize) -> Result<(), DataError> {
        let (path, text) = read_text(Some(path))?;
        if text.is_empty() {
            return Err(DataError::Empty { path });
        }
        let total = text.chars().count();
        let train = split_at(total);
        too_short(&path, seq_len, train, total - train).map_or(Ok(()), Err)
    }

    pub fn from_text(text: &str, path: PathBuf) -> Result<Self, DataError> {
        if text.is_empty() {
            return Err(DataError::Empty { path });
        }
        let mut chars: Vec<char> = text.chars().collect();
        let ids_of = chars.clone();
        chars.sort_unstable();
        chars.dedup();
        let ids: Vec<i64> = ids_of
            .iter()
            .map(|c| {
                chars
                    .binary_search(c)
                    .expect("every char is in the vocabulary") as i64
            })
            .collect();
        let split = split_at(ids.len());
        let valid = ids[split..].to_vec();
        let mut train = ids;
        train.truncate(split);
        Ok(Corpus {
            path,
            chars,
            train,
            valid,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.chars.len()
    }

    /// Checks that both splits hold at least one window of `seq_len + 1`.
    pub fn check_seq_len(&self, seq_len: usize) -> Result<(), DataError> {
        too_short(&self.path, seq_len, self.train.len(), self.valid.len()).map_or(Ok(()), Err)
    }
}

/// Where the validation split starts in a corpus of `len` characters.
fn split_at(len: usize) -> usize {
    ((1.0 - VALID_FRACTION) * len as f64) as usize
}

/// The error when a split of `train` or `valid` characters holds no window
/// of `seq_len + 1` (and a start to draw).
fn too_short(path: &Path, seq_len: usize, train: usize, valid: usize) -> Option<DataError> {
    let needed = seq_len + 2;
    (valid < needed || train < needed).then(|| DataError::TooShort {
        path: path.to_path_buf(),
        seq_len,
        valid,
        needed,
        total_needed: (needed as f64 / VALID_FRACTION).ceil() as usize,
    })
}

/// The text of a corpus file (`None`: the default corpus), refused when it is
/// missing, unreadable, not UTF-8 or binary (holds a NUL).
fn read_text(path: Option<&Path>) -> Result<(PathBuf, String), DataError> {
    let (path, hint) = match path {
        Some(p) => (p.to_path_buf(), String::new()),
        None => (
            default_corpus_path(),
            " (the default corpus: run scripts/setup.sh, or pass --corpus FILE)".to_string(),
        ),
    };
    let bytes = std::fs::read(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                what: "corpus",
                path: path.clone(),
                hint,
            }
        } else {
            DataError::Io {
                path: path.clone(),
                error,
            }
        }
    })?;
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DataError::Binary { path, offset });
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(DataError::NotUtf8 {
            offset: e.utf8_error().valid_up_to(),
            path,
        }),
    }
}

/// One split as a tensor, cut into random windows.
pub struct Batches {
    /// `(N)` int64 token ids.
    data: Tensor,
    len: i64,
}

impl Batches {
    pub fn new(ids: &[i64]) -> Self {
        Batches {
            data: Tensor::from_slice(ids),
            len: ids.len() as i64,
        }
    }

    /// A batch of `b` windows of `t + 1` tokens at random offsets drawn from
    /// `rng`: inputs `(b, t)` and next-token targets `(b, t)`.
    pub fn sample(&self, rng: &mut ChaCha8Rng, b: usize, t: usize) -> (Tensor, Tensor) {
        let starts = draw_starts(rng, self.len as usize, b, t);
        let t = t as i64;
        // (b, t+1) gather indices: start + 0..=t
        let idx = Tensor::from_slice(&starts).unsqueeze(1)
            + Tensor::arange(t + 1, (tch::Kind::Int64, tch::Device::Cpu)).unsqueeze(0);
        let window = self
            .data
            .index_select(0, &idx.view([-1]))
            .view([b as i64, t + 1]);
        (window.narrow(1, 0, t), window.narrow(1, 1, t))
    }
}

/// The offsets of `b` windows of `t + 1` tokens in a split of `len` tokens,
/// drawn from `rng`: what [`Batches::sample`] cuts, so that another program
/// can cut the same windows.
pub fn draw_starts(rng: &mut ChaCha8Rng, len: usize, b: usize, t: usize) -> Vec<i64> {
    let (len, t) = (len as i64, t as i64);
    (0..b).map(|_| rng.random_range(0..len - t - 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_and_split() {
        let c = Corpus::from_text(&"abcab".repeat(20), "mem".into()).unwrap();
        assert_eq!(c.chars, vec!['a', 'b', 'c']);
        assert_eq!(c.train.len() + c.valid.len(), 100);
        assert_eq!(c.valid.len(), 10);
        assert!(c.check_seq_len(8).is_ok());
        assert!(matches!(
            c.check_seq_len(9),
            Err(DataError::TooShort { .. })
        ));
    }
}
