//! Multi-query associative recall (MQAR; Arora et al. 2023, Zoology) and its
//! noisy variant (MAD's noisy in-context recall, Poli et al. 2024).
//!
//! One sequence of N pairs (N is the difficulty):
//!
//! ```text
//! k1 v1 k2 v2 ... kN vN | q1 a1 q2 a2 ... qN aN | pad ...
//! ```
//!
//! The keys are N distinct key tokens, each value any value token; the query
//! part asks every key once, in a random order, each followed by its answer.
//! The loss and the accuracy are taken only at the query positions, whose
//! next-token target is the key's value: the model must find the earlier
//! occurrence of the key and read the token after it. In the noisy variant
//! `noise x N` tokens from a vocabulary of their own are scattered between
//! the pairs of the first part.
//!
//! Why architectures differ here: attention without positions matches the
//! query to the earlier key but cannot tell which token came after it; a
//! layer that mixes the previous token into each position first (an SSM's
//! short convolution, or a first attention layer with `rope`) lets a later
//! attention layer read the value off the key's neighbour. A recurrent layer
//! alone must keep every pair in its fixed state, which a small state cannot
//! do exactly for many pairs.
//!
//! Tokens: 0 pads, `1..=keys` are keys, then `values` value tokens, then (noisy
//! only) [`NOISE_TOKENS`] noise tokens.

use rand::seq::{index::sample, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{batch, seeded_sets, Batch, EvalSet, TaskData, IGNORE};

/// Distinct noise tokens of the noisy variant.
pub const NOISE_TOKENS: usize = 16;

const PAD: i64 = 0;

/// An MQAR task; with `noise > 0`, noisy in-context recall.
#[derive(Clone, Debug, PartialEq)]
pub struct Mqar {
    /// Distinct key tokens (at least the largest pair count).
    pub keys: usize,
    /// Distinct value tokens.
    pub values: usize,
    /// Pair counts (difficulties); training draws one per sequence, evaluation
    /// scores each apart.
    pub pairs: Vec<usize>,
    /// Noise tokens per pair in the first part (0: plain MQAR).
    pub noise: usize,
}

impl Mqar {
    /// The `nas train --task mqar` default: separates attention from small
    /// recurrent states within a minute of training per model on 2 cores (see
    /// the README's recall section for how it was chosen).
    pub fn default_task() -> Self {
        Mqar {
            keys: 32,
            values: 32,
            pairs: vec![4, 5],
            noise: 0,
        }
    }

    /// The `nas train --task noisy-recall` default.
    pub fn default_noisy() -> Self {
        Mqar {
            noise: 1,
            ..Self::default_task()
        }
    }

    fn length(&self, pairs: usize) -> usize {
        pairs * (4 + self.noise)
    }

    /// One sequence of `pairs` pairs, padded to [`TaskData::seq_len`] + 1
    /// tokens, as `(x, y)` rows of length `seq_len`.
    fn sequence(&self, rng: &mut ChaCha8Rng, pairs: usize) -> (Vec<i64>, Vec<i64>) {
        let total = self.seq_len() + 1;
        let keys: Vec<i64> = sample(rng, self.keys, pairs)
            .into_iter()
            .map(|k| 1 + k as i64)
            .collect();
        let first_value = 1 + self.keys as i64;
        let values: Vec<i64> = (0..pairs)
            .map(|_| first_value + rng.random_range(0..self.values) as i64)
            .collect();
        // Noise goes into the gaps after each pair, `noise * pairs` in all.
        let mut gaps = vec![0usize; pairs];
        for _ in 0..self.noise * pairs {
            gaps[rng.random_range(0..pairs)] += 1;
        }
        let first_noise = first_value + self.values as i64;
        let mut tokens = Vec::with_capacity(total);
        let mut answer_at = Vec::with_capacity(pairs);
        for i in 0..pairs {
            tokens.extend([keys[i], values[i]]);
            for _ in 0..gaps[i] {
                tokens.push(first_noise + rng.random_range(0..NOISE_TOKENS) as i64);
            }
        }
        let mut order: Vec<usize> = (0..pairs).collect();
        order.shuffle(rng);
        for i in order {
            answer_at.push(tokens.len());
            tokens.extend([keys[i], values[i]]);
        }
        tokens.resize(total, PAD);
        let mut y = vec![IGNORE; total - 1];
        for &t in &answer_at {
            y[t] = tokens[t + 1];
        }
        (tokens[..total - 1].to_vec(), y)
    }
}

impl TaskData for Mqar {
    fn vocab_size(&self) -> usize {
        let noise = if self.noise > 0 { NOISE_TOKENS } else { 0 };
        1 + self.keys + self.values + noise
    }

    fn seq_len(&self) -> usize {
        self.length(self.pairs.iter().copied().max().unwrap_or(1))
    }

    /// Training sequences hold 1 to N pairs (N the largest difficulty), each
    /// count equally likely: the short ones let a model find the recall
    /// mechanism quickly, the long ones make it hold for many pairs.
    fn train_batch(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch {
        let most = self.pairs.iter().copied().max().unwrap_or(1);
        let rows = (0..b)
            .map(|_| {
                let pairs = rng.random_range(1..=most);
                self.sequence(rng, pairs)
            })
            .collect();
        batch(rows)
    }

    fn eval_sets(&self, b: usize, n: usize) -> Vec<EvalSet> {
        seeded_sets(&self.pairs, b, n, |rng, pairs| self.sequence(rng, pairs))
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
    fn every_query_asks_a_key_of_the_first_part_for_its_value() {
        let task = Mqar {
            keys: 10,
            values: 5,
            pairs: vec![3, 6],
            noise: 2,
        };
        assert_eq!(task.seq_len(), 36);
        assert_eq!(task.vocab_size(), 1 + 10 + 5 + NOISE_TOKENS);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for pairs in [3, 6] {
            let (x, y) = task.sequence(&mut rng, pairs);
            assert_eq!((x.len(), y.len()), (36, 36));
            let answers: Vec<usize> = (0..36).filter(|&t| y[t] != IGNORE).collect();
            assert_eq!(answers.len(), pairs);
            let context = pairs * (2 + 2);
            for &t in &answers {
                assert!(t >= context, "queries follow the pairs");
                let key = x[t];
                assert!((1..=10).contains(&key));
                // The answer is the token after the key's first occurrence.
                let first = x.iter().position(|&k| k == key).unwrap();
                assert!(first < context);
                assert_eq!(y[t], x[first + 1]);
                assert!((11..=15).contains(&y[t]));
            }
        }
    }

    #[test]
    fn held_out_sets_are_fixed_and_per_difficulty() {
        let task = Mqar::default_task();
        let a = task.eval_sets(4, 2);
        let b = task.eval_sets(4, 2);
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].name, "5");
        assert!(a[0].batches[1].x.equal(&b[0].batches[1].x));
        assert_eq!(a[0].batches[0].x.size(), [4, task.seq_len() as i64]);
    }
}
