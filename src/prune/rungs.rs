//! Rung arithmetic: where the trials of a bracket are compared, and which
//! bracket a trial belongs to.
//!
//! With a minimum of `r` steps, reduction factor `η` and a training budget
//! of `R` steps, ASHA's rungs are at `r·η^k` for every `k` with
//! `r·η^(k+1) ≤ R`: the rung above the last one is the full budget, where a
//! trial completes (with `r = 33`, `η = 3` and `R = 300`: 33 and 99, then
//! 300). Hyperband runs several such
//! ladders, *brackets*: bracket `b` starts at `r·η^b`, so bracket 0 prunes
//! the most aggressively and the last (when it starts at or beyond `R`)
//! trains every trial to the end, which bounds what a too-eager rung can
//! lose.

/// One ladder of rungs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bracket {
    /// Its index: it starts at `min_steps · η^index`.
    pub index: usize,
    /// Steps at which its trials are compared, increasing, each below the
    /// training budget.
    pub rungs: Vec<usize>,
}

/// The rungs `min_steps · η^k` from `k = first` on whose next rung,
/// `η` times further, is within `max_steps`.
pub(super) fn ladder(min_steps: usize, eta: usize, max_steps: usize, first: u32) -> Vec<usize> {
    let mut rungs = Vec::new();
    let mut k = first;
    while let Some(step) = eta
        .checked_pow(k)
        .and_then(|f| f.checked_mul(min_steps))
        .filter(|&s| s.checked_mul(eta).is_some_and(|next| next <= max_steps))
    {
        rungs.push(step);
        k += 1;
    }
    rungs
}

/// How many trials of each of `brackets` brackets Hyperband starts per
/// round, bracket 0 first: `⌈(s_max + 1)/(s + 1) · η^s⌉` for the bracket
/// with `s` halvings, as in Li et al. 2018, where `s_max` is the number of
/// rungs of bracket 0. Aggressive brackets try many designs cheaply; the
/// last tries few, fully.
pub fn bracket_weights(rungs_of_first: usize, eta: usize, brackets: usize) -> Vec<usize> {
    (0..brackets)
        .map(|b| {
            let s = rungs_of_first.saturating_sub(b) as u32;
            let n = (rungs_of_first + 1) as f64 / (s + 1) as f64 * (eta as f64).powi(s as i32);
            n.ceil().max(1.0) as usize
        })
        .collect()
}

/// The bracket of trial `number` under `weights`: trials are dealt to the
/// brackets in a fixed, interleaved cycle of `Σ weights` trials in which
/// bracket `b` appears `weights[b]` times (smooth weighted round robin).
/// A function of the number alone, so every worker and every resumed run
/// agrees on it.
pub fn bracket_of(number: u64, weights: &[usize]) -> usize {
    let total: usize = weights.iter().sum();
    if weights.len() <= 1 || total == 0 {
        return 0;
    }
    let position = (number % total as u64) as usize;
    let mut current = vec![0i64; weights.len()];
    let mut chosen = 0;
    for _ in 0..=position {
        for (c, &w) in current.iter_mut().zip(weights) {
            *c += w as i64;
        }
        chosen = (0..weights.len())
            .max_by_key(|&b| (current[b], std::cmp::Reverse(b)))
            .expect("at least two brackets");
        current[chosen] -= total as i64;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_are_min_steps_times_powers_of_eta_below_the_budget() {
        assert_eq!(ladder(33, 3, 300, 0), vec![33, 99]);
        assert_eq!(ladder(33, 3, 297, 0), vec![33, 99]);
        assert_eq!(ladder(33, 3, 296, 0), vec![33]);
        assert_eq!(ladder(10, 2, 100, 0), vec![10, 20, 40]);
        assert_eq!(ladder(10, 2, 100, 2), vec![40]);
        assert_eq!(ladder(300, 3, 300, 0), Vec::<usize>::new());
        // No overflow however far the powers go.
        assert_eq!(ladder(1, 2, usize::MAX, 0).len(), 63);
    }

    #[test]
    fn hyperband_weights_follow_the_paper() {
        // η = 3 and three rungs: 27, 12, 6 and 4 trials per round; two
        // rungs: 9, 5 and 3.
        assert_eq!(bracket_weights(3, 3, 4), vec![27, 12, 6, 4]);
        assert_eq!(bracket_weights(2, 3, 3), vec![9, 5, 3]);
        assert_eq!(bracket_weights(3, 3, 2), vec![27, 12]);
        assert_eq!(bracket_weights(0, 3, 1), vec![1]);
    }

    #[test]
    fn brackets_are_dealt_in_proportion_and_interleaved() {
        let weights = [27, 12, 6, 4];
        let total: usize = weights.iter().sum();
        let mut counts = [0usize; 4];
        for n in 0..total as u64 * 3 {
            counts[bracket_of(n, &weights)] += 1;
        }
        assert_eq!(counts, [81, 36, 18, 12]);
        // Interleaved: the first round's first ten trials visit several
        // brackets, not 27 of bracket 0 in a row.
        let first: std::collections::BTreeSet<usize> =
            (0..10).map(|n| bracket_of(n, &weights)).collect();
        assert!(first.len() >= 3, "{first:?}");
        assert_eq!(bracket_of(5, &[1]), 0);
    }
}
