//! The text task: next-character prediction on a corpus, every position a
//! target, scored by perplexity.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Batch, EvalSet, TaskData, EVAL_SEED};
use crate::data::{Batches, Corpus};

/// A corpus cut into windows of `seq_len`. Holds tensors: build one per
/// training run, inside the thread that trains.
pub struct TextTask {
    vocab: usize,
    seq_len: usize,
    train: Batches,
    valid: Batches,
}

impl TextTask {
    /// `corpus` must hold a window of `seq_len + 1` in both splits
    /// ([`Corpus::check_seq_len`]).
    pub fn new(corpus: &Corpus, seq_len: usize) -> Self {
        TextTask {
            vocab: corpus.vocab_size(),
            seq_len,
            train: Batches::new(&corpus.train),
            valid: Batches::new(&corpus.valid),
        }
    }
}

impl TaskData for TextTask {
    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn seq_len(&self) -> usize {
        self.seq_len
    }

    fn train_batch(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch {
        let (x, y) = self.train.sample(rng, b, self.seq_len);
        Batch { x, y }
    }

    /// Windows of the held-out tail at offsets drawn from [`EVAL_SEED`]: every
    /// trial is scored on the same text.
    fn eval_sets(&self, b: usize, n: usize) -> Vec<EvalSet> {
        let mut rng = ChaCha8Rng::seed_from_u64(EVAL_SEED);
        let batches = (0..n)
            .map(|_| {
                let (x, y) = self.valid.sample(&mut rng, b, self.seq_len);
                Batch { x, y }
            })
            .collect();
        vec![EvalSet {
            name: String::new(),
            batches,
        }]
    }

    fn scores_accuracy(&self) -> bool {
        false
    }
}
