//! Drawing the next token from logits: temperature, top-k, a seeded RNG.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::GenerateError;

/// How the next token is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits before the softmax; 0 = greedy (always the most
    /// likely token, the RNG unused).
    pub temperature: f64,
    /// Draw only among the `top_k` most likely tokens; 0 = all.
    pub top_k: usize,
    /// Seed of the draws: the same seed, model and prompt give the same text.
    pub seed: u64,
}

impl Sampling {
    pub fn check(&self) -> Result<(), GenerateError> {
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(GenerateError::Sampling(format!(
                "--temperature must be 0 (greedy) or positive, not {}",
                self.temperature
            )));
        }
        Ok(())
    }
}

/// Draws tokens one at a time with its own RNG, so that a generation is
/// reproducible whatever else runs in the process.
#[derive(Debug)]
pub struct Sampler {
    rng: ChaCha8Rng,
    temperature: f64,
    top_k: usize,
}

impl Sampler {
    pub fn new(sampling: &Sampling) -> Self {
        Sampler {
            rng: ChaCha8Rng::seed_from_u64(sampling.seed),
            temperature: sampling.temperature,
            top_k: sampling.top_k,
        }
    }

    /// The next token id, given one sequence's logits over the vocabulary.
    pub fn pick(&mut self, logits: &[f32]) -> usize {
        assert!(!logits.is_empty(), "logits over an empty vocabulary");
        // Highest logit first; ties keep the lower id first, so greedy
        // decoding is the first argmax, as `argmax` has it.
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&i, &j| logits[j].total_cmp(&logits[i]).then(i.cmp(&j)));
        if self.temperature == 0.0 {
            return order[0];
        }
        if self.top_k > 0 {
            order.truncate(self.top_k);
        }
        // Softmax in f64 over the candidates, shifted by the maximum so that
        // no exp overflows at low temperatures.
        let max = logits[order[0]] as f64;
        let weights: Vec<f64> = order
            .iter()
            .map(|&i| ((logits[i] as f64 - max) / self.temperature).exp())
            .collect();
        let mut u = self.rng.random::<f64>() * weights.iter().sum::<f64>();
        for (&id, w) in order.iter().zip(&weights) {
            if u < *w {
                return id;
            }
            u -= w;
        }
        // Only rounding leaves `u` past the last weight.
        *order.last().expect("at least one candidate")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(temperature: f64, top_k: usize, seed: u64) -> Sampler {
        Sampler::new(&Sampling {
            temperature,
            top_k,
            seed,
        })
    }

    #[test]
    fn temperature_zero_is_the_first_argmax() {
        let mut s = sampler(0.0, 0, 1);
        assert_eq!(s.pick(&[0.1, 2.0, -1.0, 2.0]), 1);
        assert_eq!(s.pick(&[5.0]), 0);
    }

    #[test]
    fn top_k_draws_only_among_the_k_most_likely() {
        let logits = [1.0, 3.0, 0.5, 2.9, -2.0];
        let mut s = sampler(5.0, 2, 7);
        let mut seen = [0usize; 5];
        for _ in 0..500 {
            seen[s.pick(&logits)] += 1;
        }
        assert_eq!(seen[0] + seen[2] + seen[4], 0, "{seen:?}");
        assert!(seen[1] > 100 && seen[3] > 100, "{seen:?}");
    }

    /// Frequencies follow softmax(logits / T): here 1 : e^-1 at T = 1.
    #[test]
    fn draws_follow_the_softmax() {
        let mut s = sampler(1.0, 0, 3);
        let n = 20_000;
        let ones = (0..n).filter(|_| s.pick(&[1.0, 0.0]) == 1).count();
        let expected = n as f64 * (-1f64).exp() / (1.0 + (-1f64).exp());
        assert!((ones as f64 - expected).abs() < 0.03 * n as f64, "{ones}");
    }

    #[test]
    fn a_seed_fixes_the_draws() {
        let logits: Vec<f32> = (0..10).map(|i| (i as f32 * 0.37).sin()).collect();
        let draw = |seed| {
            let mut s = sampler(1.0, 0, seed);
            (0..50).map(|_| s.pick(&logits)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
