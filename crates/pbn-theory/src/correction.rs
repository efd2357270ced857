//! Empirical finite-N correction of the balance equations (docs/theory.md §4.1, §4.7).
//!
//! The authors replace W r + W_x r_x = 0 by r = −W⁻¹(W_x r_x + D), with D measured in a
//! simulation as D = (R_sim − R_mf)/√N: R_sim is the time-averaged total synaptic input
//! (recurrent + external, mV/ms) per population, R_mf = √N (W(ĵ) r̂ + W_x r_x) uses the measured
//! mean weights ĵ and rates r̂. D (weight·kHz) carries the rate–weight covariance
//! D_a = Σ_b p_ab q_b Cov(j_ab, r_b) and the finite-N net input. With D set
//! ([`crate::TheoryOptions::correction`]), every prediction — rates, and the weights at which a
//! homeostatic target is met (the fixed points) — uses the corrected balance.

use crate::linalg;
use crate::model::Model;

/// D = (R_sim − R_mf)/√N (weight·kHz) from measured total synaptic inputs (mV/ms), measured
/// population rates (Hz) and measured mean weights of the plastic blocks (unscaled).
pub fn correction_from_measurement(
    model: &Model,
    measured_input_mv_per_ms: &[f64],
    measured_rates_hz: &[f64],
    measured_plastic_weights: &[f64],
) -> Vec<f64> {
    let w = model.w(measured_plastic_weights);
    let r: Vec<f64> = measured_rates_hz.iter().map(|r| r * 1e-3).collect();
    let s = model.sqrt_n();
    linalg::mat_vec(&w, &r)
        .iter()
        .zip(model.input_drive())
        .zip(measured_input_mv_per_ms)
        .map(|((wr, x), r_sim)| (r_sim - s * (wr + x)) / s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_point::{SolverOptions, find_fixed_points};
    use crate::testing;

    #[test]
    fn corrected_istdp_fixed_point() {
        // With D = (d_e, 0): r_e = ρ_e, r_i unchanged (23.4 Hz), and
        // j_ei* = −(W_ee ρ_e + W_ex r_x + d_e)/(p q_i r_i).
        let spec = testing::istdp_ie(1e-4);
        let mut m = Model::new(&spec, 0.0).unwrap();
        let d_e = -0.01;
        m.correction = vec![d_e, 0.0];
        let fp = find_fixed_points(&m, &m.initial_plastic_weights(), &SolverOptions::default()).unwrap();
        let want = -(2.0 * 0.01 + 0.036 + d_e) / (0.1 * 0.2 * 0.0234);
        let p = &fp.points[0];
        assert!((p.weights[0] - want).abs() < 1e-6, "{} vs {want}", p.weights[0]);
        assert!((p.rates_hz[0] - 10.0).abs() < 1e-9 && (p.rates_hz[1] - 23.4).abs() < 1e-9);
    }

    #[test]
    fn correction_is_zero_for_mean_field_inputs() {
        // If the measured input equals √N (W r + W_x r_x), D = 0; an excess δ gives D = δ/√N.
        let m = Model::new(&testing::default(), 0.0).unwrap();
        let r = [7.0, 20.0];
        let s = m.sqrt_n();
        let w = m.w(&[]);
        let mf: Vec<f64> = (0..2)
            .map(|a| s * (w[a][0] * r[0] * 1e-3 + w[a][1] * r[1] * 1e-3 + m.w_x[a][0] * 0.01))
            .collect();
        let d = correction_from_measurement(&m, &[mf[0] + 0.3, mf[1]], &r, &[]);
        assert!((d[0] - 0.3 / s).abs() < 1e-12 && d[1].abs() < 1e-12, "{d:?}");
    }
}
