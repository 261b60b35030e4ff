//! Selective copying (MAD, Poli et al. 2024; the Mamba paper's task).
//!
//! One sequence with k tokens to copy (k is the difficulty):
//!
//! ```text
//! _ d1 _ _ d2 _ ... dk _ _ | SEP d1 d2 ... d(k-1) | pad ...
//! ```
//!
//! The first part is `context` positions, k of them (at random, in order)
//! holding data tokens and the rest a blank. After the separator the model
//! must write the data tokens in order: the targets at the separator and at
//! each copied token are the next data token; the loss and the accuracy are
//! taken there only. A layer that chooses what to keep (a selective SSM,
//! attention) can solve it; a fixed linear filter cannot, since the gaps move.
//!
//! Tokens: 0 pads, 1 is the blank, 2 the separator, then `tokens` data tokens.

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{batch, seeded_sets, Batch, EvalSet, TaskData, IGNORE};

const PAD: i64 = 0;
const BLANK: i64 = 1;
const SEP: i64 = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct SelectiveCopy {
    /// Distinct data tokens.
    pub tokens: usize,
    /// Positions of the first part.
    pub context: usize,
    /// Tokens to copy (difficulties), each at most `context`.
    pub copies: Vec<usize>,
}

impl SelectiveCopy {
    /// The `nas train --task selective-copy` default.
    pub fn default_task() -> Self {
        SelectiveCopy {
            tokens: 16,
            context: 24,
            // From 3 tokens up, held-out sequences almost never occur in
            // training (24 choose 3 positions times 16^3 data: 8 million).
            copies: vec![3, 4],
        }
    }

    /// One sequence copying `k` tokens, as `(x, y)` rows of `seq_len`.
    fn sequence(&self, rng: &mut ChaCha8Rng, k: usize) -> (Vec<i64>, Vec<i64>) {
        let total = self.seq_len() + 1;
        let mut positions: Vec<usize> = sample(rng, self.context, k).into_vec();
        positions.sort_unstable();
        let data: Vec<i64> = (0..k)
            .map(|_| 3 + rng.random_range(0..self.tokens) as i64)
            .collect();
        let mut tokens = vec![BLANK; self.context];
        for (&p, &d) in positions.iter().zip(&data) {
            tokens[p] = d;
        }
        tokens.push(SEP);
        tokens.extend(&data);
        tokens.resize(total, PAD);
        let mut y = vec![IGNORE; total - 1];
        // At the separator and at each copied token but the last.
        let answers = self.context..self.context + k;
        y[answers.clone()].copy_from_slice(&tokens[answers.start + 1..answers.end + 1]);
        (tokens[..total - 1].to_vec(), y)
    }
}

impl TaskData for SelectiveCopy {
    fn vocab_size(&self) -> usize {
        3 + self.tokens
    }

    fn seq_len(&self) -> usize {
        self.context + self.copies.iter().copied().max().unwrap_or(1)
    }

    fn train_batch(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch {
        let rows = (0..b)
            .map(|_| {
                let k = self.copies[rng.random_range(0..self.copies.len())];
                self.sequence(rng, k)
            })
            .collect();
        batch(rows)
    }

    fn eval_sets(&self, b: usize, n: usize) -> Vec<EvalSet> {
        seeded_sets(&self.copies, b, n, |rng, k| self.sequence(rng, k))
    }

    fn scores_accuracy(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn targets_are_the_data_tokens_in_order() {
        let task = SelectiveCopy {
            tokens: 5,
            context: 12,
            copies: vec![3, 5],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (x, y) = task.sequence(&mut rng, 3);
        assert_eq!(x.len(), 17);
        let data: Vec<i64> = x[..12].iter().copied().filter(|&t| t != BLANK).collect();
        assert_eq!(data.len(), 3);
        assert_eq!(x[12], SEP);
        let targets: Vec<i64> = y.iter().copied().filter(|&t| t != IGNORE).collect();
        assert_eq!(targets, data);
        assert!(y[..12].iter().all(|&t| t == IGNORE));
    }
}
