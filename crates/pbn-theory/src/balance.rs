//! Balanced-state rates (docs/theory.md §4.1) and the input balance diagnostic (docs/theory.md §4.2).
//!
//! At leading order in 1/√N the mean input √N (W r + ξ) must stay O(1), so W r + ξ = 0 and
//! r = −W⁻¹ ξ with ξ = W_x r_x + s + D (inputs, constant stimuli docs/model.md §2.6a, empirical correction
//! docs/theory.md §4.7). A positive solution needs W non-singular and every component of −W⁻¹ξ positive.

use crate::error::{Compatibility, TheoryError};
use crate::linalg::{self, Matrix};
use crate::model::Model;

/// Relative size below which a compatibility residual uᵀξ counts as zero.
const COMPATIBLE_RTOL: f64 = 1e-9;

/// Solves W r + ξ = 0 for the rates (kHz), or says why there is no positive balanced state.
pub fn solve_rates(model: &Model, w: &Matrix, drive: &[f64]) -> Result<Vec<f64>, TheoryError> {
    let rhs: Vec<f64> = drive.iter().map(|x| -x).collect();
    match linalg::solve(w, &rhs).map_err(|e| in_w(e, model, w))? {
        Some(r) => {
            if r.iter().all(|&x| x > 0.0) {
                Ok(r)
            } else {
                Err(TheoryError::NonPositiveRates {
                    names: model.populations.iter().map(|p| p.name.clone()).collect(),
                    rates_hz: r.iter().map(|x| x * 1e3).collect(),
                    det: linalg::det(w),
                })
            }
        }
        None => Err(TheoryError::SingularW {
            det: linalg::det(w),
            compatibility: compatibility(model, w, drive)?,
        }),
    }
}

/// A numerical failure on W, said in the config's terms: the largest entry and its projection.
fn in_w(e: TheoryError, model: &Model, w: &Matrix) -> TheoryError {
    let TheoryError::Numerical(msg) = e else {
        return e;
    };
    let mut largest = (0.0f64, 0, 0);
    for (a, row) in w.iter().enumerate() {
        for (b, &x) in row.iter().enumerate() {
            // NaN counts as the largest.
            if x.is_nan() || x.abs() > largest.0 {
                largest = (x.abs(), a, b);
            }
        }
    }
    let (_, a, b) = largest;
    let names = |k: usize| model.populations.get(k).map_or("?".to_string(), |p| p.name.clone());
    TheoryError::Numerical(format!(
        "{msg}; the matrix is W = p·j·q, whose largest entry W[{}][{}] = {:.3e} comes from the projection {} → {}",
        names(a),
        names(b),
        w[a][b],
        names(b),
        names(a)
    ))
}

/// Balanced rates (kHz) of `model` at the given plastic weights.
pub fn rates(model: &Model, plastic_weights: &[f64]) -> Result<Vec<f64>, TheoryError> {
    solve_rates(model, &model.w(plastic_weights), &model.drive())
}

/// Balanced rates (Hz, config order) of `spec` at its initial weights and t = 0, or `None`
/// when it has no positive balanced state: an estimate of a run's activity before it starts
/// (the simulator uses it to split the work between threads).
pub fn initial_rates_hz(spec: &pbn_core::NetworkSpec) -> Option<Vec<f64>> {
    let model = Model::new(spec, 0.0).ok()?;
    let r = rates(&model, &model.initial_plastic_weights()).ok()?;
    Some(r.iter().map(|x| x * 1e3).collect())
}

/// The compatibility conditions uᵀξ = 0 of a singular W, one per left null vector u
/// (docs/theory.md §4.8: with E1 and E2 sharing outgoing weights, the E1 and E2 rows must agree).
pub fn compatibility(model: &Model, w: &Matrix, drive: &[f64]) -> Result<Vec<Compatibility>, TheoryError> {
    let scale = drive.iter().map(|x| x.abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    Ok(linalg::left_null_space(w, linalg::SINGULAR_RCOND.sqrt())
        .map_err(|e| in_w(e, model, w))?
        .into_iter()
        .map(|u| {
            let residual: f64 = u.iter().zip(drive).map(|(u, x)| u * x).sum();
            let terms: Vec<String> = u
                .iter()
                .zip(&model.populations)
                .filter(|(u, _)| u.abs() > 1e-9)
                .map(|(u, p)| format!("{u:+.4}·ξ[{}]", p.name))
                .collect();
            Compatibility {
                condition: format!("{} = 0", terms.join(" ")),
                null_vector: u,
                residual,
                satisfied: residual.abs() <= COMPATIBLE_RTOL * scale,
            }
        })
        .collect())
}

/// One sign condition of the balanced state, with whether it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Condition {
    /// The condition with its numbers.
    pub text: String,
    /// Whether it holds.
    pub holds: bool,
}

/// The balance conditions that can be stated in general: det W ≠ 0 and each r_a > 0; for two
/// populations also the closed forms of docs/theory.md §4.1 (Δ > 0 and both numerators positive, which for an
/// E/I pair reads ξ_E/ξ_I > W_EI/W_II > W_EE/W_IE).
pub fn conditions(model: &Model, w: &Matrix, drive: &[f64]) -> Vec<Condition> {
    let mut out = Vec::new();
    let det = linalg::det(w);
    out.push(match linalg::reciprocal_condition(w) {
        Ok(rcond) => Condition {
            text: format!("det W = {det:.6} ≠ 0 (σ_min/σ_max = {rcond:.3e})"),
            holds: rcond >= linalg::SINGULAR_RCOND,
        },
        Err(e) => Condition {
            text: format!("det W = {det:.6} ≠ 0 (σ_min/σ_max cannot be computed: {e})"),
            holds: false,
        },
    });
    if w.len() == 2 {
        let names: Vec<&str> = model.populations.iter().map(|p| p.name.as_str()).collect();
        let (a, b) = (names[0], names[1]);
        let n0 = w[0][1] * drive[1] - w[1][1] * drive[0];
        let n1 = w[1][0] * drive[0] - w[0][0] * drive[1];
        out.push(Condition {
            text: format!("Δ = W_{a}{a} W_{b}{b} − W_{a}{b} W_{b}{a} = {det:.6} > 0"),
            holds: det > 0.0,
        });
        out.push(Condition {
            text: format!(
                "r_{a}·Δ = W_{a}{b} ξ_{b} − W_{b}{b} ξ_{a} = {:.6} > 0 (weight·Hz)",
                n0 * 1e3
            ),
            holds: n0 > 0.0,
        });
        out.push(Condition {
            text: format!(
                "r_{b}·Δ = W_{b}{a} ξ_{a} − W_{a}{a} ξ_{b} = {:.6} > 0 (weight·Hz)",
                n1 * 1e3
            ),
            holds: n1 > 0.0,
        });
    }
    if let Ok(Some(r)) = linalg::solve(w, &drive.iter().map(|x| -x).collect::<Vec<_>>()) {
        for (p, r) in model.populations.iter().zip(r) {
            out.push(Condition {
                text: format!("r_{} = {:.5} Hz > 0", p.name, r * 1e3),
                holds: r > 0.0,
            });
        }
    }
    out
}

/// Mean input current onto one population split by source (docs/theory.md §4.2), mV/ms.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CurrentBreakdown {
    /// Postsynaptic population.
    pub population: String,
    /// (source name, √N·W_ab r_b or √N·W_ax r_x or √N·s_a) in mV/ms.
    pub sources: Vec<(String, f64)>,
    /// Sum of all parts (O(1) when balanced; exactly 0 at leading order).
    pub total: f64,
}

/// Mean currents by source at the given rates (kHz): each part is O(√N), the sum O(1) (docs/theory.md §4.2).
pub fn currents(model: &Model, w: &Matrix, rates: &[f64]) -> Vec<CurrentBreakdown> {
    let s = model.sqrt_n();
    (0..model.k())
        .map(|a| {
            let mut sources: Vec<(String, f64)> = model
                .populations
                .iter()
                .enumerate()
                .map(|(b, p)| (p.name.clone(), s * w[a][b] * rates[b]))
                .collect();
            for (x, inp) in model.inputs.iter().enumerate() {
                if model.w_x[a][x] != 0.0 {
                    sources.push((inp.name.clone(), s * model.w_x[a][x] * inp.rate_khz()));
                }
            }
            if model.stimulus[a] != 0.0 {
                sources.push(("stimulus".into(), s * model.stimulus[a]));
            }
            if model.correction[a] != 0.0 {
                sources.push(("D (correction)".into(), s * model.correction[a]));
            }
            let total = sources.iter().map(|(_, v)| v).sum();
            CurrentBreakdown {
                population: model.populations[a].name.clone(),
                sources,
                total,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::rel;
    use pbn_core::NetworkSpec;

    #[test]
    fn default_network_rates() {
        // docs/validation.md §8.A.1: r = (5.82353, 15.88235) Hz = (9.9/17, 27/17)·r_x.
        let m = Model::new(&NetworkSpec::default(), 0.0).unwrap();
        let r = rates(&m, &[]).unwrap();
        assert!(rel(r[0] * 1e3, 99.0 / 17.0) < 1e-12, "r_e = {}", r[0] * 1e3);
        assert!(rel(r[1] * 1e3, 270.0 / 17.0) < 1e-12, "r_i = {}", r[1] * 1e3);
        assert!(rel(r[0] * 1e3, 5.82353) < 1e-6 && rel(r[1] * 1e3, 15.88235) < 1e-6);
        let c = conditions(&m, &m.w(&[]), &m.drive());
        assert!(c.iter().all(|c| c.holds), "{c:?}");
        // The same in Hz from the spec alone; none for a network with no positive balanced state.
        let hz = initial_rates_hz(&NetworkSpec::default()).unwrap();
        assert!(
            rel(hz[0], 99.0 / 17.0) < 1e-12 && rel(hz[1], 270.0 / 17.0) < 1e-12,
            "{hz:?}"
        );
        let mut silenced = NetworkSpec::default();
        silenced.stimuli.push(pbn_core::spec::StimulusSpec {
            population: "E".into(),
            current: -0.0522,
            start_ms: 0.0,
            stop_ms: None,
        });
        assert_eq!(initial_rates_hz(&silenced), None);
    }

    #[test]
    fn stimulus_enters_the_drive() {
        // r = −W⁻¹(W_x r_x + s), W⁻¹ = [[−5, 3], [−9, 2]]/17 ⇒ r_e = (5 ξ_E − 3 ξ_I)/17.
        let mut spec = NetworkSpec::default();
        let stim = |current| pbn_core::spec::StimulusSpec {
            population: "E".into(),
            current,
            start_ms: 0.0,
            stop_ms: None,
        };
        spec.stimuli.push(stim(0.01));
        let m = Model::new(&spec, 0.0).unwrap();
        let r = rates(&m, &[]).unwrap();
        assert!(rel(r[0], (5.0 * 0.046 - 3.0 * 0.027) / 17.0) < 1e-12);
        // A strong negative stimulus on E silences it: no positive balanced state.
        spec.stimuli[0] = stim(-0.0522);
        let m = Model::new(&spec, 0.0).unwrap();
        match rates(&m, &[]) {
            Err(e @ TheoryError::NonPositiveRates { .. }) => {
                let TheoryError::NonPositiveRates { ref rates_hz, .. } = e else {
                    unreachable!()
                };
                let want = (5.0 * (0.036 - 0.0522) - 3.0 * 0.027) / 17.0 * 1e3;
                assert!((rates_hz[0] - want).abs() < 1e-9, "{rates_hz:?}");
                assert!(e.to_string().contains("r_E = -"), "{e}");
            }
            other => panic!("expected non-positive rates, got {other:?}"),
        }
    }

    #[test]
    fn default_currents_match_section_4_2() {
        // √N W_ee r_e = 0.82, √N W_ex r_x = 2.55, √N W_ei r_i = −3.37 (mV/ms), sum 0.
        let m = Model::new(&NetworkSpec::default(), 0.0).unwrap();
        let r = rates(&m, &[]).unwrap();
        let c = currents(&m, &m.w(&[]), &r);
        let e = &c[0];
        assert_eq!(e.population, "E");
        let get = |n: &str| e.sources.iter().find(|(s, _)| s == n).unwrap().1;
        let s = 5000f64.sqrt();
        assert!(rel(get("E"), s * 2.0 * 99.0 / 17.0e3) < 1e-12);
        assert!((get("E") - 0.82).abs() < 0.005);
        assert!((get("X") - 2.55).abs() < 0.005);
        assert!((get("I") + 3.37).abs() < 0.005);
        assert!(e.total.abs() < 1e-12);
    }

    #[test]
    fn singular_w_reports_the_compatibility_condition() {
        // Two identical E populations with identical inputs: W singular, compatible.
        let text = r#"
n = 1000
[[populations]]
name = "A"
kind = "excitatory"
fraction = 0.5
tau_syn_ms = 8.0
[[populations]]
name = "B"
kind = "excitatory"
fraction = 0.5
tau_syn_ms = 8.0
[[inputs]]
name = "X"
fraction = 0.2
rate_hz = 10.0
tau_syn_ms = 10.0
[[projections]]
from = "A"
to = "A"
probability = 0.1
weight = 10.0
[[projections]]
from = "A"
to = "B"
probability = 0.1
weight = 10.0
[[projections]]
from = "B"
to = "A"
probability = 0.1
weight = 10.0
[[projections]]
from = "B"
to = "B"
probability = 0.1
weight = 10.0
[[projections]]
from = "X"
to = "A"
probability = 0.1
weight = 100.0
[[projections]]
from = "X"
to = "B"
probability = 0.1
weight = 150.0
"#;
        let spec = NetworkSpec::from_toml(text).unwrap();
        let m = Model::new(&spec, 0.0).unwrap();
        match rates(&m, &[]) {
            Err(TheoryError::SingularW { compatibility, .. }) => {
                assert_eq!(compatibility.len(), 1);
                let c = &compatibility[0];
                // u ∝ (1, −1)/√2; uᵀξ = ±(0.02 − 0.03)/√2: violated.
                assert!(!c.satisfied);
                assert!((c.residual.abs() - 0.01 / 2f64.sqrt()).abs() < 1e-12);
                assert!(c.condition.contains("ξ[A]") && c.condition.contains("ξ[B]"));
            }
            other => panic!("expected a singular W, got {other:?}"),
        }
    }
}
