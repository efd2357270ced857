//! Mean-field drift of the plastic mean weights (docs/theory.md §4.4), derived from each block's
//! generic [`PlasticityRule`] coefficients — no per-rule formulas.
//!
//! For a block pre population b → post population a with mean unscaled weight j, a rule
//! Δj = ρ·w_pre(j)(c_pre + t_pre x_post^p) on pre spikes and Δj = ρ·w_post(j)(c_post + t_post
//! x_pre^q) on post spikes averages to
//!
//! dj/dt = ρ [ w_pre(j) (c_pre r_b + t_pre E[x_a^p S_b]) + w_post(j) (c_post r_a + t_post E[x_b^q S_a]) ]
//!
//! with (docs/theory.md §4.4) E[x_a S_b] = τ r_a r_b + Γ⁻_ab and E[x_b S_a] = τ r_a r_b + Γ⁺_ab, Γ⁺ = Γ⁻ = Γ/2
//! (symmetric averaged cross-covariances), and for squared traces (docs/theory.md §4.5.8, Poisson-like traces
//! E[x²] = τ r/2 + τ² r², covariance to first order Cov(x², S) ≈ 2 E[x] Cov(x, S)):
//! E[x_a² S_b] = r_b (τ r_a/2 + τ² r_a²) + 2 τ r_a Γ⁻_ab. Other powers use the mean trace,
//! E[x^p S] ≈ (τ r)^p r (no correction). The weight factors are evaluated at the mean weight
//! (rate–weight covariances are the business of the correction D, docs/theory.md §4.7). Rates in kHz, time in
//! ms: dj/dt is in weight units per ms. Bounds j_min/j_max act on the mean weight: at a bound
//! the outward drift is set to zero.

use pbn_core::PlasticityRule;
use pbn_core::plasticity::{SpikeTerm, weight_factor};

use crate::balance;
use crate::covariance;
use crate::error::TheoryError;
use crate::linalg::Matrix;
use crate::model::Model;

/// Options of the drift: the covariance term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftOptions {
    /// Kernel attenuation κ of Γ = κ C/T_win (docs/theory.md §4.4), default 1; 0 switches Γ off.
    pub kappa: f64,
    /// Keep O(1/N) covariance terms in Γ (default: leading order, only O(c) terms).
    pub finite_n_terms: bool,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            kappa: 1.0,
            finite_n_terms: false,
        }
    }
}

/// E[x_other^p S_spiking] for the trace of population `x_rate` read at spikes of a population
/// with rate `s_rate` (kHz), with the covariance term `gamma_half` (= Γ^± = Γ/2).
fn trace_moment(power: u8, tau: f64, x_rate: f64, s_rate: f64, gamma_half: f64) -> f64 {
    let mean = tau * x_rate;
    match power {
        0 => s_rate,
        1 => mean * s_rate + gamma_half,
        2 => s_rate * (tau * x_rate / 2.0 + mean * mean) + 2.0 * mean * gamma_half,
        p => mean.powi(p as i32) * s_rate,
    }
}

/// Mean rate of change of one spike side: w(j)·(c r_spike + t E[x^p S]).
fn side(term: &SpikeTerm, j: f64, tau: f64, x_rate: f64, s_rate: f64, gamma_half: f64) -> f64 {
    if !term.is_active() {
        return 0.0;
    }
    let moment = trace_moment(term.trace_power, tau, x_rate, s_rate, gamma_half);
    weight_factor(term.weight, j) * (term.constant * s_rate + term.trace * moment)
}

/// The two spike sides' contributions ρ·(pre side, post side) to dj/dt (weight/ms), unbounded.
fn block_parts(rule: &PlasticityRule, j: f64, r_post: f64, r_pre: f64, gamma: f64) -> (f64, f64) {
    let tau = rule.tau_ms;
    let g = gamma / 2.0;
    // Pre spike (rate r_pre) reads the post trace; post spike (rate r_post) reads the pre trace.
    let pre = side(&rule.on_pre, j, tau, r_post, r_pre, g);
    let post = side(&rule.on_post, j, tau, r_pre, r_post, g);
    (rule.rate * pre, rule.rate * post)
}

/// dj/dt (weight/ms) of a block pre → post with mean weight `j`, given the rates r (kHz) and
/// Γ_post,pre (kHz). Bounds are applied (zero outward drift at a bound).
pub fn block_drift(rule: &PlasticityRule, j: f64, r_post: f64, r_pre: f64, gamma: f64) -> f64 {
    let (pre, post) = block_parts(rule, j, r_post, r_pre, gamma);
    let mut d = pre + post;
    if rule.j_min.is_some_and(|lo| j <= lo) && d < 0.0 {
        d = 0.0;
    }
    if rule.j_max.is_some_and(|hi| j >= hi) && d > 0.0 {
        d = 0.0;
    }
    d
}

/// Size of the terms that make up dj/dt, |pre side| + |post side| (weight/ms): a drift much
/// smaller than this is a cancellation (e.g. additive Hebb, docs/theory.md §4.5.3), not a small rate.
pub fn block_drift_scale(rule: &PlasticityRule, j: f64, r_post: f64, r_pre: f64, gamma: f64) -> f64 {
    let (pre, post) = block_parts(rule, j, r_post, r_pre, gamma);
    pre.abs() + post.abs()
}

/// dj/dt (weight/ms) of every plastic block at plastic weights `j`, given rates (kHz) and the
/// matrix W used for Γ.
pub fn drift_at_rates(
    model: &Model,
    j: &[f64],
    rates: &[f64],
    w: &Matrix,
    opts: &DriftOptions,
) -> Result<Vec<f64>, TheoryError> {
    per_block(model, j, rates, w, opts, block_drift)
}

/// [`block_drift_scale`] of every plastic block.
pub fn drift_scale_at_rates(
    model: &Model,
    j: &[f64],
    rates: &[f64],
    w: &Matrix,
    opts: &DriftOptions,
) -> Result<Vec<f64>, TheoryError> {
    per_block(model, j, rates, w, opts, block_drift_scale)
}

/// Applies `f(rule, j, r_post, r_pre, Γ_post,pre)` to every plastic block.
fn per_block(
    model: &Model,
    j: &[f64],
    rates: &[f64],
    w: &Matrix,
    opts: &DriftOptions,
    f: impl Fn(&PlasticityRule, f64, f64, f64, f64) -> f64,
) -> Result<Vec<f64>, TheoryError> {
    let gamma = match opts.kappa != 0.0 {
        true => Some(covariance::gamma(model, w, opts.kappa, opts.finite_n_terms)?),
        false => None,
    };
    Ok(model
        .plastic
        .iter()
        .zip(j)
        .map(|(&b, &jb)| {
            let bl = &model.blocks[b];
            let rule = bl.rule.as_ref().expect("plastic blocks have a rule");
            let g = gamma.as_ref().map_or(0.0, |g| g[bl.post][bl.pre]);
            f(rule, jb, rates[bl.post], rates[bl.pre], g)
        })
        .collect())
}

/// The reduced weight dynamics dj/dt = F(j) with rates re-solved from balance at every point
/// (docs/theory.md §4.4–4.5). Returns (dj/dt in weight/ms, rates in kHz), or why balance fails at `j`.
pub fn drift(model: &Model, j: &[f64], opts: &DriftOptions) -> Result<(Vec<f64>, Vec<f64>), TheoryError> {
    let w = model.w(j);
    let r = balance::solve_rates(model, &w, &model.drive())?;
    Ok((drift_at_rates(model, j, &r, &w, opts)?, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbn_core::spec::PlasticitySpec;

    fn rule(spec: PlasticitySpec) -> PlasticityRule {
        PlasticityRule::from_spec(&spec, 5000)
    }

    #[test]
    fn kohonen_drift_is_eta_beta_tau_r2_minus_j_r() {
        // docs/theory.md §4.5.1: dj/dt = η [β (τ r_e² + Γ_ee/2) − j r_e].
        let k = rule(PlasticitySpec::Kohonen {
            eta: 1e-3,
            beta: 2.0,
            tau_ms: 200.0,
        });
        let (r, j, g) = (0.0075, 2.5, 1e-5);
        let want = 1e-3 * (2.0 * (200.0 * r * r + g / 2.0) - j * r);
        assert!((block_drift(&k, j, r, r, g) - want).abs() < 1e-18);
    }

    #[test]
    fn istdp_drift_matches_section_4_5_5() {
        // dj/dt = −(η √N/ĵ_norm) j [r_i (2τ r_e − α_e) + Γ_ei], α_e = 2 ρ_e τ.
        let i = rule(PlasticitySpec::Istdp {
            eta: 1e-4,
            target_rate_hz: 10.0,
            j_norm: -200.0,
            tau_ms: 200.0,
        });
        let (re, ri, j, g) = (0.012, 0.02, -130.0, 3e-5);
        let want = -(1e-4 * 5000f64.sqrt() / -200.0) * j * (ri * (2.0 * 200.0 * re - 4.0) + g);
        let got = block_drift(&i, j, re, ri, g);
        assert!((got - want).abs() < 1e-15 * want.abs().max(1.0), "{got} vs {want}");
        // Above target with j < 0: inhibition strengthens (j decreases).
        assert!(got < 0.0);
    }

    #[test]
    fn soft_hebb_oja_and_additive_hebb_drifts() {
        let (r, g) = (0.0066, 4e-6);
        let h = rule(PlasticitySpec::HebbSoft {
            eta: 1e-3,
            j_max: 30.0,
            tau_ms: 200.0,
        });
        // docs/theory.md §4.5.2: η (τ r² + Γ/2)(j_max − j).
        let want = 1e-3 * (200.0 * r * r + g / 2.0) * (30.0 - 20.0);
        assert!((block_drift(&h, 20.0, r, r, g) - want).abs() < 1e-18);
        assert_eq!(block_drift(&h, 30.0, r, r, g), 0.0);
        let o = rule(PlasticitySpec::Oja {
            eta: 1e-3,
            beta: 25.0,
            gamma: 1.0,
            tau_ms: 200.0,
        });
        assert!(block_drift(&o, 25.0, r, r, g).abs() < 1e-18);
        // docs/theory.md §4.5.3: additive Hebb's rate terms cancel: drift ∝ Γ⁺ − Γ⁻ = 0.
        let a = rule(PlasticitySpec::HebbAdditive {
            eta: 1e-3,
            j_min: Some(0.0),
            j_max: Some(50.0),
            tau_ms: 200.0,
        });
        assert!(block_drift(&a, 20.0, r, 2.0 * r, g).abs() < 1e-18);
    }

    #[test]
    fn triplet_uses_the_second_trace_moment() {
        // docs/theory.md §4.5.8: √N η r_post [v_θ τ r_pre − τ² r_pre² − τ r_pre/2] at Γ = 0.
        let t = rule(PlasticitySpec::Triplet {
            eta: 1e-6,
            v_theta: 2.0,
            tau_ms: 200.0,
        });
        let (rp, rq) = (0.008, 0.006); // post, pre
        let want = 1e-6 * 5000f64.sqrt() * rp * (2.0 * 200.0 * rq - 200.0f64.powi(2) * rq * rq - 200.0 * rq / 2.0);
        let got = block_drift(&t, 1.0, rp, rq, 0.0);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        // Zero at r_pre = (v_θ − ½)/τ = 7.5 Hz.
        assert!(block_drift(&t, 1.0, rp, 1.5 / 200.0, 0.0).abs() < 1e-18);
    }

    #[test]
    fn bounds_stop_outward_drift() {
        let a = rule(PlasticitySpec::Generic {
            eta: 1.0,
            sqrt_n_scaling: false,
            on_pre: pbn_core::spec::SpikeTermSpec {
                weight: Default::default(),
                cap: None,
                constant: 1.0,
                trace: 0.0,
                trace_power: 1,
            },
            on_post: pbn_core::spec::SpikeTermSpec {
                weight: Default::default(),
                cap: None,
                constant: 0.0,
                trace: 0.0,
                trace_power: 1,
            },
            j_min: Some(-1.0),
            j_max: Some(5.0),
            tau_ms: 200.0,
        });
        assert!((block_drift(&a, 4.0, 0.01, 0.02, 0.0) - 0.02).abs() < 1e-15);
        assert_eq!(block_drift(&a, 5.0, 0.01, 0.02, 0.0), 0.0);
    }
}
