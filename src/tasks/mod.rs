//! Tasks: what a proxy model is trained and scored on.
//!
//! - `text`: a character corpus, scored by perplexity (`crate::data`).
//! - Synthetic in-context tasks, generated on the fly from a seed (no files),
//!   scored by accuracy at the answer positions only:
//!   [`mqar`] (multi-query associative recall, Zoology), [`mqar::noisy`]
//!   (the same with noise tokens between the pairs, MAD's noisy in-context
//!   recall) and [`copy`] (MAD's selective copying).
//! - [`digits`]: the 8x8 handwritten digits of scikit-learn, each image read
//!   as a 64-step pixel sequence and classified at its end.
//!
//! Every task hands the trainer [`Batch`]es: inputs `x` and next-token
//! targets `y`, both `(B, T)` int64, with [`IGNORE`] in `y` wherever no loss
//! is taken. Held-out batches come from a fixed seed of their own, apart from
//! the training stream, and are grouped by difficulty ([`EvalSet`]), so that
//! accuracy can be reported per difficulty.

pub mod copy;
pub mod digits;
pub mod mqar;
mod text;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

pub use self::text::{eval_starts, TextTask};
use crate::names::named;

/// The target of a position where no loss is taken (PyTorch's convention).
pub const IGNORE: i64 = -100;

/// Seed of every task's held-out sequences: each trial is scored on the
/// same ones.
pub const EVAL_SEED: u64 = 1234;

/// One batch: `x` and `y` are `(B, T)` int64; `y` is [`IGNORE`] where no
/// loss is taken.
#[derive(Debug)]
pub struct Batch {
    pub x: Tensor,
    pub y: Tensor,
}

impl Batch {
    /// The batch on `device` (the same tensors when it is there already).
    pub fn to(self, device: tch::Device) -> Batch {
        if self.x.device() == device {
            return self;
        }
        Batch {
            x: self.x.to_device(device),
            y: self.y.to_device(device),
        }
    }
}

/// Fixed held-out batches of one difficulty.
#[derive(Debug)]
pub struct EvalSet {
    /// The difficulty in values' names, e.g. `16` (pairs) for MQAR; empty for
    /// a task with one difficulty.
    pub name: String,
    pub batches: Vec<Batch>,
}

/// What the trainer trains on and scores.
pub trait TaskData {
    /// Tokens the model embeds and predicts.
    fn vocab_size(&self) -> usize;
    /// The length `T` of every sequence.
    fn seq_len(&self) -> usize;
    /// A training batch of `b` sequences drawn from `rng`.
    fn train_batch(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch;
    /// `n` held-out batches of `b` sequences per difficulty, the same on
    /// every call.
    fn eval_sets(&self, b: usize, n: usize) -> Vec<EvalSet>;
    /// Whether the targets skip positions (answers only) and the task is
    /// scored by accuracy; `false` for text (every position, perplexity).
    fn scores_accuracy(&self) -> bool;
}

/// The tasks `nas train --task` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    Text,
    Mqar,
    SelectiveCopy,
    NoisyRecall,
    Digits,
}

named!(TaskKind, "task");

impl TaskKind {
    pub const ALL: [TaskKind; 5] = [
        TaskKind::Text,
        TaskKind::Mqar,
        TaskKind::SelectiveCopy,
        TaskKind::NoisyRecall,
        TaskKind::Digits,
    ];

    /// The in-context tasks a study's `[recall]` table may list.
    pub const RECALL: [TaskKind; 3] = [
        TaskKind::Mqar,
        TaskKind::SelectiveCopy,
        TaskKind::NoisyRecall,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TaskKind::Text => "text",
            TaskKind::Mqar => "mqar",
            TaskKind::SelectiveCopy => "selective-copy",
            TaskKind::NoisyRecall => "noisy-recall",
            TaskKind::Digits => "digits",
        }
    }
}

/// `(B, T)` int64 tensor from rows of equal length.
pub(crate) fn stack(rows: &[Vec<i64>]) -> Tensor {
    let t = rows.first().map_or(0, Vec::len) as i64;
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_slice(&flat).view([rows.len() as i64, t])
}

/// A batch from `(x, y)` rows.
pub(crate) fn batch(rows: Vec<(Vec<i64>, Vec<i64>)>) -> Batch {
    let (x, y): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    Batch {
        x: stack(&x),
        y: stack(&y),
    }
}

/// Held-out sets of a synthetic task, one per difficulty: `n` batches of `b`
/// rows each, drawn by `sequence(rng, difficulty)` from [`EVAL_SEED`] on a
/// stream of the difficulty's own, so that adding a difficulty leaves the
/// other sets' sequences as they were.
pub(crate) fn seeded_sets(
    difficulties: &[usize],
    b: usize,
    n: usize,
    sequence: impl Fn(&mut ChaCha8Rng, usize) -> (Vec<i64>, Vec<i64>),
) -> Vec<EvalSet> {
    difficulties
        .iter()
        .map(|&d| {
            let mut rng = ChaCha8Rng::seed_from_u64(EVAL_SEED);
            rng.set_stream(d as u64);
            let batches = (0..n)
                .map(|_| batch((0..b).map(|_| sequence(&mut rng, d)).collect()))
                .collect();
            EvalSet {
                name: d.to_string(),
                batches,
            }
        })
        .collect()
}
