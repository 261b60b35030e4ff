//! The text task: next-character prediction on a corpus, every position a
//! target, scored by perplexity.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Batch, EvalSet, TaskData, EVAL_SEED};
use crate::data::{draw_starts, Batches, Corpus};

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

/// The offsets in the validation split of every window `eval_sets` scores
/// (`n` batches of `b` windows of `seq_len + 1` tokens), for a split of
/// `valid_len` tokens: the same stream, so that another program (the
/// PyTorch reference, scripts/reference_model.py) scores the same text.
pub fn eval_starts(valid_len: usize, seq_len: usize, b: usize, n: usize) -> Vec<Vec<i64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(EVAL_SEED);
    (0..n)
        .map(|_| draw_starts(&mut rng, valid_len, b, seq_len))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_starts_are_the_windows_eval_sets_scores() {
        let text: String = (0..3000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let corpus = Corpus::from_text(&text, "mem".into()).unwrap();
        let (seq_len, b, n) = (16, 3, 4);
        let task = TextTask::new(&corpus, seq_len);
        let sets = task.eval_sets(b, n);
        let starts = eval_starts(corpus.valid.len(), seq_len, b, n);
        assert_eq!(starts.len(), n);
        for (batch, starts) in sets[0].batches.iter().zip(&starts) {
            for (row, &s) in starts.iter().enumerate() {
                let s = s as usize;
                let x: Vec<i64> = batch.x.get(row as i64).try_into().unwrap();
                let y: Vec<i64> = batch.y.get(row as i64).try_into().unwrap();
                assert_eq!(x, corpus.valid[s..s + seq_len]);
                assert_eq!(y, corpus.valid[s + 1..s + seq_len + 1]);
            }
        }
    }
}
