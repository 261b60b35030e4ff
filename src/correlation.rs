//! Rank correlations: how well one ordering of designs (a proxy's) predicts
//! another (a longer training's). Kendall's τ-b counts pairs the two put in
//! the same order; Spearman's ρ is the Pearson correlation of the ranks.
//! Both handle ties the standard way (τ-b's tie correction, average ranks for
//! ρ), so they agree with `scipy.stats.kendalltau` and `spearmanr`.

/// Kendall's τ-b of paired samples: (concordant − discordant) pairs over
/// √((n₀ − tied in x)(n₀ − tied in y)), n₀ = n(n − 1)/2. `None` when the
/// samples differ in length, hold fewer than two pairs, or one of them is
/// constant (no order to agree with). O(n²): studies have hundreds of
/// designs, not millions.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut tied_x, mut tied_y) = (0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let dx = x[i].total_cmp(&x[j]) as i64;
            let dy = y[i].total_cmp(&y[j]) as i64;
            match (dx, dy) {
                (0, 0) => {
                    tied_x += 1;
                    tied_y += 1;
                }
                (0, _) => tied_x += 1,
                (_, 0) => tied_y += 1,
                _ if dx == dy => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n = x.len() as i64;
    let pairs = n * (n - 1) / 2;
    let denominator = (((pairs - tied_x) * (pairs - tied_y)) as f64).sqrt();
    (denominator > 0.0).then(|| (concordant - discordant) as f64 / denominator)
}

/// Spearman's ρ: the Pearson correlation of the two samples' ranks, tied
/// values sharing their average rank. `None` as for [`kendall_tau_b`].
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&ranks(x), &ranks(y))
}

/// Ranks from 1, ties given the mean of the ranks they span.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end: their mean.
        let shared = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = shared;
        }
        start = end;
    }
    ranks
}

/// The Pearson correlation; `None` when either sample is constant.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn tau_b_matches_scipy_with_ties_in_both_samples() {
        // scipy.stats.kendalltau's documented example: 2 concordant, 6
        // discordant, 2 pairs tied in x and 1 in y (one of them in both).
        let x = [12.0, 2.0, 1.0, 12.0, 2.0];
        let y = [1.0, 4.0, 7.0, 1.0, 0.0];
        assert!(close(kendall_tau_b(&x, &y), -4.0 / 72f64.sqrt()));
        assert!(close(kendall_tau_b(&x, &y), -0.47140452079103173));
    }

    #[test]
    fn rho_matches_scipy_with_a_tie() {
        // scipy.stats.spearmanr's documented example.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [5.0, 6.0, 7.0, 8.0, 7.0];
        assert!(close(spearman_rho(&x, &y), 0.8207826816681233));
        // τ-b of the same: 8 concordant, 1 discordant, 1 tied in y.
        assert!(close(kendall_tau_b(&x, &y), 7.0 / 90f64.sqrt()));
    }

    #[test]
    fn orders_that_agree_or_reverse_give_one_and_minus_one() {
        let x = [0.3, 1.0, 2.5, 7.0];
        let up = [10.0, 11.0, 30.0, 31.0];
        let down: Vec<f64> = up.iter().map(|v| -v).collect();
        assert!(close(kendall_tau_b(&x, &up), 1.0));
        assert!(close(spearman_rho(&x, &up), 1.0));
        assert!(close(kendall_tau_b(&x, &down), -1.0));
        assert!(close(spearman_rho(&x, &down), -1.0));
        // Only the order counts, not the spacing.
        let squashed: Vec<f64> = x.iter().map(|v: &f64| v.ln()).collect();
        assert!(close(spearman_rho(&squashed, &up), 1.0));
    }

    #[test]
    fn no_answer_without_an_order() {
        assert_eq!(kendall_tau_b(&[1.0], &[2.0]), None);
        assert_eq!(spearman_rho(&[1.0, 2.0], &[3.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(spearman_rho(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]), None);
    }

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(ranks(&[]), Vec::<f64>::new());
    }
}
