//! Spike-count covariances and correlations (docs/theory.md §4.3) and the covariance term Γ of the
//! weight drift (docs/theory.md §4.4).
//!
//! In the balanced state the rates track the shared external input: the response of the rates
//! to input layer m is v_m = −W⁻¹ W_x[:, m] (per unit input rate). Independent input layers add:
//!
//! * correlated layer (c_m > 0): C += T_win c_m r_x,m v_m v_mᵀ — O(c), independent of N
//!   (reference code `winsize*inv(W)*Wx*Wx'*c*rx*inv(W')`);
//! * uncorrelated layer (c_m = 0): C += (T_win/N)(r_x,m/q_x,m) v_m v_mᵀ — O(1/N), from the
//!   finite number of shared inputs (reference `1/N*winsize*inv(W)*Wx*Wx'*rx/qf*inv(W')`).
//!
//! With one input layer and no stimulus v r_x = r, so C_ab = T_win r_a r_b/(N q_x r_x) (c = 0)
//! and C_ab = T_win c r_a r_b/r_x (c > 0). The reference code drops the O(1/N) part when c > 0;
//! `finite_n_terms = true` keeps it as (1 − c_m)(T_win/N)(r_x,m/q_x,m) v_m v_mᵀ.

use crate::error::TheoryError;
use crate::linalg::{self, Matrix, zeros};
use crate::model::Model;

/// Which terms of the covariance to include.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CovarianceTerms {
    /// Include the O(c) term of correlated layers.
    pub correlated: bool,
    /// Include the O(1/N) term: of uncorrelated layers only (`false`), or of every layer with
    /// the factor (1 − c) (`true`).
    pub finite_n_all_layers: bool,
    /// Include the O(1/N) term at all.
    pub finite_n: bool,
}

impl CovarianceTerms {
    /// The reference code's reported covariances (docs/theory.md §4.3): O(c) for correlated layers, O(1/N)
    /// for uncorrelated ones; with `finite_n_terms` also (1 − c)/N for correlated layers.
    pub fn reported(finite_n_terms: bool) -> Self {
        Self {
            correlated: true,
            finite_n: true,
            finite_n_all_layers: finite_n_terms,
        }
    }

    /// The covariance that enters the weight drift: leading order in 1/N (only O(c) terms)
    /// unless `finite_n_terms`, which adds every O(1/N) term.
    pub fn drift(finite_n_terms: bool) -> Self {
        Self {
            correlated: true,
            finite_n: finite_n_terms,
            finite_n_all_layers: finite_n_terms,
        }
    }
}

/// Count covariance per unit window length, C/T_win (kHz = spikes²/ms), K×K. `w_inverse_apply`
/// solves W v = b; if W is singular the minimum-norm least-squares response is used.
pub fn covariance_rate(model: &Model, w: &Matrix, terms: CovarianceTerms) -> Result<Matrix, TheoryError> {
    let k = model.k();
    let mut c = zeros(k, k);
    let nf = model.n as f64;
    for (m, input) in model.inputs.iter().enumerate() {
        let rx = input.rate_khz();
        if rx == 0.0 || input.q == 0.0 {
            continue;
        }
        let col: Vec<f64> = (0..k).map(|a| -model.w_x[a][m]).collect();
        if col.iter().all(|&x| x == 0.0) {
            continue;
        }
        let v = match linalg::solve(w, &col)? {
            Some(v) => v,
            None => linalg::lstsq_min_norm(w, &col, linalg::SINGULAR_RCOND.sqrt())?,
        };
        let cx = input.correlation;
        let mut scale = 0.0;
        if terms.correlated && cx > 0.0 {
            scale += cx * rx;
        }
        if terms.finite_n {
            if cx == 0.0 {
                scale += rx / (nf * input.q);
            } else if terms.finite_n_all_layers {
                scale += (1.0 - cx) * rx / (nf * input.q);
            }
        }
        for a in 0..k {
            for b in 0..k {
                c[a][b] += scale * v[a] * v[b];
            }
        }
    }
    Ok(c)
}

/// Population-averaged spike-count covariances for a window `window_ms` (spikes²), K×K, or why
/// they cannot be computed (a numerical failure of the linear algebra on W).
pub fn try_count_covariance(
    model: &Model,
    w: &Matrix,
    window_ms: f64,
    finite_n_terms: bool,
) -> Result<Matrix, TheoryError> {
    Ok(covariance_rate(model, w, CovarianceTerms::reported(finite_n_terms))?
        .into_iter()
        .map(|row| row.into_iter().map(|x| x * window_ms).collect())
        .collect())
}

/// [`try_count_covariance`], with NaN entries where it fails.
pub fn count_covariance(model: &Model, w: &Matrix, window_ms: f64, finite_n_terms: bool) -> Matrix {
    try_count_covariance(model, w, window_ms, finite_n_terms).unwrap_or_else(|_| vec![vec![f64::NAN; w.len()]; w.len()])
}

/// Correlation coefficients R_ab = C_ab/√(V_a V_b) with count variances V_a = F r_a T_win
/// (Fano factor F, rates in kHz) (docs/theory.md §4.3).
pub fn correlation(count_cov: &Matrix, rates: &[f64], window_ms: f64, fano: f64) -> Matrix {
    let var: Vec<f64> = rates.iter().map(|r| fano * r * window_ms).collect();
    count_cov
        .iter()
        .enumerate()
        .map(|(a, row)| {
            row.iter()
                .enumerate()
                .map(|(b, c)| c / (var[a] * var[b]).sqrt())
                .collect()
        })
        .collect()
}

/// Γ_ab = κ·C_ab/T_win (kHz), the kernel-weighted cross-covariance integral of docs/theory.md §4.4 with the
/// kernel attenuation κ (0 < κ ≤ 1, 1 when τ_STDP ≫ correlation time). Γ⁺ = Γ⁻ = Γ/2.
pub fn gamma(model: &Model, w: &Matrix, kappa: f64, finite_n_terms: bool) -> Result<Matrix, TheoryError> {
    Ok(covariance_rate(model, w, CovarianceTerms::drift(finite_n_terms))?
        .into_iter()
        .map(|row| row.into_iter().map(|x| kappa * x).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance;
    use crate::testing::rel;
    use pbn_core::NetworkSpec;

    #[test]
    fn default_covariances_c0_and_c01() {
        // docs/validation.md §8.A.2, T_win = 250 ms, N = 5000.
        let mut spec = NetworkSpec::default();
        let m = Model::new(&spec, 0.0).unwrap();
        let w = m.w(&[]);
        let r = balance::rates(&m, &[]).unwrap();
        let c = count_covariance(&m, &w, 250.0, false);
        let want = [8.4784e-4, 2.31228e-3, 6.30623e-3];
        assert!(rel(c[0][0], want[0]) < 1e-4, "C_ee = {}", c[0][0]);
        assert!(rel(c[0][1], want[1]) < 1e-5, "C_ei = {}", c[0][1]);
        assert!(rel(c[1][1], want[2]) < 1e-5, "C_ii = {}", c[1][1]);
        assert!(rel(c[1][0], c[0][1]) < 1e-12);
        // Identity C = T r rᵀ/(N q_x r_x).
        for a in 0..2 {
            for b in 0..2 {
                assert!(rel(c[a][b], 250.0 * r[a] * r[b] / (5000.0 * 0.2 * 0.01)) < 1e-10);
            }
        }
        // Γ in the drift drops the O(1/N) term at leading order, keeps it on request.
        assert_eq!(gamma(&m, &w, 1.0, false).unwrap()[0][0], 0.0);
        assert!(rel(gamma(&m, &w, 0.5, true).unwrap()[0][0], 0.5 * c[0][0] / 250.0) < 1e-12);

        spec.inputs[0].correlation = 0.1;
        let m = Model::new(&spec, 0.0).unwrap();
        let c = count_covariance(&m, &w, 250.0, false);
        let want = [0.0847837, 0.231228, 0.630623];
        for (got, want) in [c[0][0], c[0][1], c[1][1]].into_iter().zip(want) {
            assert!(rel(got, want) < 1e-5, "{got} vs {want}");
        }
        for a in 0..2 {
            for b in 0..2 {
                assert!(rel(c[a][b], 250.0 * 0.1 * r[a] * r[b] / 0.01) < 1e-10);
            }
        }
        // With the (1 − c)/N term: + 0.9 × the c = 0 value.
        let full = count_covariance(&m, &w, 250.0, true);
        assert!(rel(full[0][0], 0.0847837 + 0.9 * 8.4784e-4) < 1e-4);
        // Correlations for F = 1: R_ab = c √(r_a r_b)/r_x (R_ee ≈ 0.06).
        let rho = correlation(&c, &r, 250.0, 1.0);
        assert!(rel(rho[0][0], 0.1 * r[0] / 0.01) < 1e-10);
        assert!((rho[0][0] - 0.0582).abs() < 1e-3);
        assert!(rel(rho[0][1], 0.1 * (r[0] * r[1]).sqrt() / 0.01) < 1e-10);
    }

    #[test]
    fn covariances_scale_as_one_over_n_for_uncorrelated_input() {
        let spec = NetworkSpec {
            n: 1000,
            ..NetworkSpec::default()
        };
        let m = Model::new(&spec, 0.0).unwrap();
        let c1000 = count_covariance(&m, &m.w(&[]), 250.0, false);
        assert!(rel(c1000[0][0], 5.0 * 8.4784e-4) < 1e-4);
        // R_ee ≈ r_e/(N q_x r_x F) at c = 0 (≈ 6·10⁻⁴ at N = 5000).
        let m = Model::new(&NetworkSpec::default(), 0.0).unwrap();
        let r = balance::rates(&m, &[]).unwrap();
        let rho = correlation(&count_covariance(&m, &m.w(&[]), 250.0, false), &r, 250.0, 1.0);
        assert!(rel(rho[0][0], r[0] / (5000.0 * 0.2 * 0.01)) < 1e-10);
    }
}
