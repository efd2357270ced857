//! Two-sample Kolmogorov–Smirnov test (stationarity of weight distributions, docs/analysis.md §5).

use serde::Serialize;

/// Result of [`ks_two_sample`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KsResult {
    /// D = sup_x |F₁(x) − F₂(x)| of the two empirical distribution functions.
    pub statistic: f64,
    /// Asymptotic p-value Q_KS((√n_e + 0.12 + 0.11/√n_e)·D), n_e = n₁n₂/(n₁+n₂) (Numerical Recipes;
    /// Stephens' correction makes it accurate already for n_e ≳ 4).
    pub p_value: f64,
    /// Size of the first sample (finite values).
    pub n1: usize,
    /// Size of the second sample.
    pub n2: usize,
}

/// Kolmogorov survival function Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} = P(K > λ).
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 1e-3 {
        return 1.0;
    }
    if lambda < 1.18 {
        // Small-λ form (the alternating series converges slowly there): P(K ≤ λ) = √(2π)/λ Σ e^{−(2k−1)²π²/(8λ²)}.
        let y = std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda);
        let s: f64 = (1..=6).map(|k| (-(2.0 * k as f64 - 1.0).powi(2) * y).exp()).sum();
        return (1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * s).clamp(0.0, 1.0);
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        sum += sign * term;
        sign = -sign;
        if term < 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Two-sample KS test on the finite values of `a` and `b` (NaN statistic and p-value if either is empty).
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> KsResult {
    let sorted = |v: &[f64]| {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        s.sort_by(f64::total_cmp);
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return KsResult {
            statistic: f64::NAN,
            p_value: f64::NAN,
            n1,
            n2,
        };
    }
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < n1 && j < n2 {
        let x = a[i].min(b[j]);
        while i < n1 && a[i] <= x {
            i += 1;
        }
        while j < n2 && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n1 as f64 - j as f64 / n2 as f64).abs());
    }
    let ne = (n1 * n2) as f64 / (n1 + n2) as f64;
    let en = ne.sqrt();
    KsResult {
        statistic: d,
        p_value: kolmogorov_q((en + 0.12 + 0.11 / en) * d),
        n1,
        n2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_distribution_known_values() {
        // Tabulated: P(K ≤ 1.36) ≈ 0.9505, P(K ≤ 1.0) = 0.7300, P(K ≤ 0.5) = 0.0361, P(K ≤ 1.63) = 0.9902.
        assert!((kolmogorov_q(1.0) - 0.269_999_7).abs() < 1e-6, "{}", kolmogorov_q(1.0));
        assert!((kolmogorov_q(1.36) - 0.0494).abs() < 1e-3);
        assert!((kolmogorov_q(0.5) - 0.963_945).abs() < 1e-5, "{}", kolmogorov_q(0.5));
        assert!((kolmogorov_q(1.63) - 0.0098).abs() < 2e-4);
        // The two series agree where they switch.
        assert!((kolmogorov_q(1.18 - 1e-12) - kolmogorov_q(1.18)).abs() < 1e-12);
        assert_eq!(kolmogorov_q(0.0), 1.0);
    }

    #[test]
    fn ks_statistic_by_hand() {
        // Disjoint samples: D = 1.
        assert_eq!(ks_two_sample(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).statistic, 1.0);
        // a = {1,2,3,4}, b = {3,4,5,6}: at x = 2, F_a = 1/2, F_b = 0 → D = 1/2.
        let r = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]);
        assert_eq!(r.statistic, 0.5);
        // p-value: n_e = 2, λ = (√2 + 0.12 + 0.11/√2)·0.5.
        let en = 2f64.sqrt();
        assert!((r.p_value - kolmogorov_q((en + 0.12 + 0.11 / en) * 0.5)).abs() < 1e-15);
        // Ties across samples: a = {1,1,2}, b = {1,2,2}: F_a(1) = 2/3, F_b(1) = 1/3 → D = 1/3.
        let r = ks_two_sample(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]);
        assert!((r.statistic - 1.0 / 3.0).abs() < 1e-15);
        // Identical samples: D = 0, p = 1.
        let r = ks_two_sample(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
        assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
    }

    #[test]
    fn ks_on_large_samples_detects_a_shift_and_not_a_resample() {
        // Evenly spread quantiles of U(0,1) vs the same shifted by 0.1.
        let a: Vec<f64> = (0..1000).map(|k| (k as f64 + 0.5) / 1000.0).collect();
        let b: Vec<f64> = (0..800).map(|k| (k as f64 + 0.37) / 800.0).collect();
        assert!(ks_two_sample(&a, &b).p_value > 0.99);
        let c: Vec<f64> = b.iter().map(|x| x + 0.1).collect();
        let r = ks_two_sample(&a, &c);
        // n_e = 444.4, λ = (21.08 + 0.12 + 0.005)·0.1008 ≈ 2.14 → p ≈ 2e^{−2λ²} ≈ 2·10⁻⁴.
        assert!(
            (r.statistic - 0.1).abs() < 2e-3 && r.p_value < 5e-4 && r.p_value > 1e-4,
            "{r:?}"
        );
    }
}
