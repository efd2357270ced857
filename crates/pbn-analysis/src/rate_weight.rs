//! Rate–weight covariance and the balance correction D (docs/theory.md §4.7).
//!
//! For the synapses s of one block (unscaled weight j_s, presynaptic neuron k_s with rate r_k in kHz):
//! ⟨j r⟩ = mean_s j_s r_{k_s}, ⟨j⟩⟨r⟩ = (mean_s j_s)(mean_s r_{k_s}), and
//! Cov(j, r_pre) = ⟨j r⟩ − ⟨j⟩⟨r⟩ — all in weight·kHz. The generalised balance condition uses
//! D_a = Σ_b p_ab q_b Cov(j_ab, r_b) (weight·kHz), r = −W⁻¹(W_x r_x + D).

use serde::Serialize;

use crate::fit::{LinearFit, linear_fit};

/// Rate–weight statistics of one block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateWeight {
    /// Synapses.
    pub synapses: usize,
    /// ⟨j⟩: mean unscaled weight over synapses.
    pub mean_j: f64,
    /// ⟨r⟩: mean presynaptic rate over synapses (kHz).
    pub mean_r_khz: f64,
    /// ⟨j r⟩ (weight·kHz).
    pub mean_jr: f64,
    /// ⟨j⟩⟨r⟩ (weight·kHz).
    pub mean_j_mean_r: f64,
    /// Cov(j, r_pre) = ⟨j r⟩ − ⟨j⟩⟨r⟩ (weight·kHz).
    pub cov_j_r: f64,
    /// Cov(j, r_pre) / (⟨j⟩⟨r⟩): the relative change of the effective input.
    pub relative_cov: f64,
    /// Presynaptic neurons with at least one synapse in the block.
    pub pre_ids: Vec<u32>,
    /// Their mean outgoing unscaled weight.
    pub pre_mean_j: Vec<f64>,
    /// Their rate (Hz).
    pub pre_rate_hz: Vec<f64>,
    /// Least-squares line mean outgoing j vs rate (slope in weight per Hz) and the correlation r.
    pub fit: LinearFit,
}

/// Rate–weight statistics of the synapses (presynaptic ids `pre`, weights `j`), with `rates_hz[id]` the
/// rate of each neuron (Hz). Synapses whose presynaptic id has no rate are ignored.
pub fn rate_weight(pre: &[u32], j: &[f64], rates_hz: &[f64]) -> RateWeight {
    let n = rates_hz.len();
    let (mut sj, mut sr, mut sjr, mut m) = (0.0, 0.0, 0.0, 0usize);
    let mut out_sum = vec![0.0; n];
    let mut out_cnt = vec![0u32; n];
    for (&k, &w) in pre.iter().zip(j) {
        let k = k as usize;
        if k >= n || !w.is_finite() {
            continue;
        }
        let r = rates_hz[k] * 1e-3;
        sj += w;
        sr += r;
        sjr += w * r;
        m += 1;
        out_sum[k] += w;
        out_cnt[k] += 1;
    }
    let mf = m as f64;
    let (mean_j, mean_r_khz, mean_jr) = (sj / mf, sr / mf, sjr / mf);
    let pre_ids: Vec<u32> = (0..n).filter(|&k| out_cnt[k] > 0).map(|k| k as u32).collect();
    let pre_mean_j: Vec<f64> = pre_ids
        .iter()
        .map(|&k| out_sum[k as usize] / out_cnt[k as usize] as f64)
        .collect();
    let pre_rate_hz: Vec<f64> = pre_ids.iter().map(|&k| rates_hz[k as usize]).collect();
    let fit = linear_fit(&pre_rate_hz, &pre_mean_j);
    RateWeight {
        synapses: m,
        mean_j,
        mean_r_khz,
        mean_jr,
        mean_j_mean_r: mean_j * mean_r_khz,
        cov_j_r: mean_jr - mean_j * mean_r_khz,
        relative_cov: (mean_jr - mean_j * mean_r_khz) / (mean_j * mean_r_khz),
        pre_ids,
        pre_mean_j,
        pre_rate_hz,
        fit,
    }
}

/// One term of D: block onto population `post` with connection probability `p`, presynaptic fraction
/// `q = N_b/N`, and Cov(j, r_pre) in weight·kHz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorrectionTerm {
    /// Index of the postsynaptic population.
    pub post: usize,
    /// Connection probability p_ab.
    pub p: f64,
    /// Presynaptic population fraction q_b.
    pub q: f64,
    /// Cov(j_ab, r_b) (weight·kHz).
    pub cov: f64,
}

/// D_a = Σ_b p_ab q_b Cov(j_ab, r_b) (weight·kHz) for `populations` populations.
pub fn balance_correction(terms: &[CorrectionTerm], populations: usize) -> Vec<f64> {
    let mut d = vec![0.0; populations];
    for t in terms {
        d[t.post] += t.p * t.q * t.cov;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_weight_by_hand() {
        // Neuron 0 at 10 Hz sends weights −2, −4; neuron 1 at 30 Hz sends −6; neuron 2 sends nothing.
        let rates = [10.0, 30.0, 50.0];
        let rw = rate_weight(&[0, 1, 0], &[-2.0, -6.0, -4.0], &rates);
        assert_eq!(rw.synapses, 3);
        assert_eq!(rw.mean_j, -4.0);
        // ⟨r⟩ = (0.01 + 0.03 + 0.01)/3 kHz; ⟨j r⟩ = (−0.02 − 0.18 − 0.04)/3 = −0.08.
        assert!((rw.mean_r_khz - 0.05 / 3.0).abs() < 1e-15);
        assert!((rw.mean_jr + 0.08).abs() < 1e-15);
        assert!((rw.cov_j_r - (-0.08 + 4.0 * 0.05 / 3.0)).abs() < 1e-15);
        assert_eq!(rw.pre_ids, vec![0, 1]);
        assert_eq!(rw.pre_mean_j, vec![-3.0, -6.0]);
        // Two points (10, −3), (30, −6): slope −0.15 per Hz, intercept −1.5, r = −1.
        assert!((rw.fit.slope + 0.15).abs() < 1e-15 && (rw.fit.intercept + 1.5).abs() < 1e-14);
        assert_eq!(rw.fit.r, -1.0);
        let d = balance_correction(
            &[
                CorrectionTerm {
                    post: 0,
                    p: 0.1,
                    q: 0.2,
                    cov: 2.0,
                },
                CorrectionTerm {
                    post: 0,
                    p: 0.1,
                    q: 0.8,
                    cov: -1.0,
                },
            ],
            2,
        );
        assert!((d[0] - (0.04 - 0.08)).abs() < 1e-15 && d[1] == 0.0);
    }
}
