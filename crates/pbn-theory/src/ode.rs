//! Time course of the mean weights under the reduced dynamics dj/dt = F(j) (docs/theory.md §4.4–4.5),
//! with the rates re-solved from balance at every evaluation (weights and rates together).
//!
//! Adaptive Dormand–Prince 5(4) with per-component error control; the output is sampled on a
//! regular grid (steps are shortened to land on every sample time). Integration stops early,
//! keeping what was computed, when balance breaks (W singular or a rate reaches zero) — e.g.
//! Kohonen beyond its saddle-node (docs/theory.md §4.5.1).

use crate::drift::{self, DriftOptions};
use crate::error::TheoryError;
use crate::model::Model;

/// A sampled trajectory of the weight ODE.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trajectory {
    /// Sample times (s).
    pub t_s: Vec<f64>,
    /// Mean weight of each plastic block at each sample (`weights[sample][block]`).
    pub weights: Vec<Vec<f64>>,
    /// Balanced rates (Hz) at each sample (`rates_hz[sample][population]`).
    pub rates_hz: Vec<Vec<f64>>,
    /// Why integration stopped before the end, if it did.
    pub stopped: Option<String>,
}

/// Dormand–Prince tableau.
const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// 5th-order weights: the last row of A (first same as last), with 0 for the 7th stage.
const B5: [f64; 7] = {
    let r = A[6];
    [r[0], r[1], r[2], r[3], r[4], r[5], 0.0]
};
/// 4th-order weights.
const B4: [f64; 7] = [
    5179.0 / 57600.0,
    0.0,
    7571.0 / 16695.0,
    393.0 / 640.0,
    -92097.0 / 339200.0,
    187.0 / 2100.0,
    1.0 / 40.0,
];

/// Integrates y' = f(t, y) from t0 to t1 with adaptive Dormand–Prince 5(4), calling `sample`
/// at each time in `out_times` (sorted, within [t0, t1]). If f keeps failing, returns
/// Err((t, y, reason)) with the last accepted state.
pub fn dopri45<F, S>(
    mut f: F,
    y0: &[f64],
    t0: f64,
    out_times: &[f64],
    rtol: f64,
    atol: &[f64],
    mut sample: S,
) -> Result<(), (f64, Vec<f64>, String)>
where
    F: FnMut(f64, &[f64]) -> Result<Vec<f64>, String>,
    S: FnMut(f64, &[f64]),
{
    let n = y0.len();
    let mut t = t0;
    let mut y = y0.to_vec();
    let t_end = out_times.last().copied().unwrap_or(t0);
    let mut k1 = f(t, &y).map_err(|e| (t, y.clone(), e))?;
    let mut h = {
        let scale: f64 = (0..n)
            .map(|i| k1[i].abs() / (atol[i] + rtol * y[i].abs()))
            .fold(0.0, f64::max);
        let h0 = if scale > 0.0 {
            0.01 / scale
        } else {
            (t_end - t0) / 100.0
        };
        h0.min(t_end - t0).max(1e-12 * (t_end - t0).abs().max(1.0))
    };
    let mut next = 0;
    while next < out_times.len() && out_times[next] <= t {
        sample(t, &y);
        next += 1;
    }
    let mut steps = 0usize;
    while next < out_times.len() {
        steps += 1;
        if steps > 10_000_000 {
            return Err((t, y, "too many steps (stiff or ill-posed dynamics)".into()));
        }
        let target = out_times[next];
        let hh = h.min(target - t);
        let mut k = vec![k1.clone()];
        let mut failed = None;
        for s in 1..7 {
            let ys: Vec<f64> = (0..n)
                .map(|i| y[i] + hh * (0..s).map(|m| A[s][m] * k[m][i]).sum::<f64>())
                .collect();
            match f(t + C[s] * hh, &ys) {
                Ok(v) => k.push(v),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            // Shrink towards the failure; give up when the step is negligible.
            h = hh / 4.0;
            if h < 1e-12 * t.abs().max(1.0) {
                return Err((t, y, e));
            }
            continue;
        }
        let y5: Vec<f64> = (0..n)
            .map(|i| y[i] + hh * (0..7).map(|s| B5[s] * k[s][i]).sum::<f64>())
            .collect();
        let err = (0..n)
            .map(|i| {
                let e = hh * (0..7).map(|s| (B5[s] - B4[s]) * k[s][i]).sum::<f64>();
                let sc = atol[i] + rtol * y[i].abs().max(y5[i].abs());
                (e / sc).powi(2)
            })
            .sum::<f64>();
        let err = (err / n.max(1) as f64).sqrt();
        if err <= 1.0 {
            t += hh;
            y = y5;
            k1 = k.swap_remove(6);
            if (t - target).abs() <= 1e-12 * target.abs().max(1.0) {
                t = target;
                sample(t, &y);
                next += 1;
            }
        }
        let factor = if err == 0.0 {
            5.0
        } else {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        };
        h = hh * factor;
        if !h.is_finite() || h <= 0.0 {
            return Err((t, y, "step size underflow".into()));
        }
    }
    Ok(())
}

/// Integrates the weight ODE of `model` from weights `j0` for `duration_ms`, sampled at
/// `samples` + 1 evenly spaced times.
pub fn integrate(
    model: &Model,
    j0: &[f64],
    duration_ms: f64,
    samples: usize,
    opts: &DriftOptions,
) -> Result<Trajectory, TheoryError> {
    if model.plastic.is_empty() {
        return Err(TheoryError::Config(
            "no plastic projection: the weights do not change".into(),
        ));
    }
    let samples = samples.max(1);
    let times: Vec<f64> = (0..=samples).map(|i| duration_ms * i as f64 / samples as f64).collect();
    let atol: Vec<f64> = j0.iter().map(|j| 1e-9 * j.abs().max(1.0)).collect();
    let mut traj = Trajectory {
        t_s: vec![],
        weights: vec![],
        rates_hz: vec![],
        stopped: None,
    };
    let result = dopri45(
        |_, j| drift::drift(model, j, opts).map(|(f, _)| f).map_err(|e| e.to_string()),
        j0,
        0.0,
        &times,
        1e-9,
        &atol,
        |t, j| {
            if let Ok((_, r)) = drift::drift(model, j, opts) {
                traj.t_s.push(t * 1e-3);
                traj.weights.push(j.to_vec());
                traj.rates_hz.push(r.iter().map(|r| r * 1e3).collect());
            }
        },
    );
    if let Err((t, j, reason)) = result {
        match drift::drift(model, &j, opts) {
            Ok((_, r)) if t > 0.0 => {
                traj.t_s.push(t * 1e-3);
                traj.weights.push(j);
                traj.rates_hz.push(r.iter().map(|r| r * 1e3).collect());
            }
            _ => {}
        }
        if traj.t_s.is_empty() {
            return Err(TheoryError::Integration { t_s: t * 1e-3, reason });
        }
        traj.stopped = Some(format!("stopped at t = {:.3} s: {reason}", t * 1e-3));
    }
    Ok(traj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_point::{SolverOptions, find_fixed_points};
    use crate::testing;

    #[test]
    fn dopri_solves_exponential_decay_and_oscillator() {
        let times: Vec<f64> = (0..=10).map(|i| i as f64).collect();
        let mut out = vec![];
        dopri45(
            |_, y| Ok(vec![-y[0]]),
            &[1.0],
            0.0,
            &times,
            1e-10,
            &[1e-12],
            |t, y| out.push((t, y[0])),
        )
        .unwrap();
        assert_eq!(out.len(), 11);
        for (t, y) in out {
            assert!((y - (-t).exp()).abs() < 1e-9, "t = {t}: {y}");
        }
        let mut last = vec![];
        dopri45(
            |_, y| Ok(vec![y[1], -y[0]]),
            &[1.0, 0.0],
            0.0,
            &[2.0 * std::f64::consts::PI],
            1e-10,
            &[1e-12; 2],
            |_, y| last = y.to_vec(),
        )
        .unwrap();
        assert!((last[0] - 1.0).abs() < 1e-8 && last[1].abs() < 1e-8, "{last:?}");
    }

    #[test]
    fn kohonen_relaxes_with_the_linear_rate() {
        // Start near j* = 3: the deviation decays as exp(λ t), λ from the Jacobian.
        let spec = testing::kohonen(2.0, 3.01);
        let m = Model::new(&spec, 0.0).unwrap();
        let lambda = find_fixed_points(&m, &[3.01], &SolverOptions::default())
            .unwrap()
            .stable()
            .unwrap()
            .eigenvalues_per_s[0]
            .re;
        let tr = integrate(&m, &[3.01], 100_000.0, 10, &DriftOptions::default()).unwrap();
        let dev = tr.weights[10][0] - 3.0;
        assert!(
            (dev / 0.01 - (lambda * 100.0).exp()).abs() < 2e-3,
            "{dev} vs {}",
            0.01 * (lambda * 100.0).exp()
        );
    }

    #[test]
    fn kohonen_beyond_the_saddle_node_stops_when_balance_breaks() {
        let spec = testing::kohonen(9.0, 3.0);
        let m = Model::new(&spec, 0.0).unwrap();
        let tr = integrate(&m, &[3.0], 1e8, 100, &DriftOptions::default()).unwrap();
        let stopped = tr.stopped.expect("must stop");
        assert!(
            stopped.contains("singular") || stopped.contains("no positive balanced state"),
            "{stopped}"
        );
        let last = tr.weights.last().unwrap()[0];
        assert!(last > 30.0 && last < 45.0, "{last}");
    }

    /// Property: for stable configs, a long integration lands on the reported fixed point.
    #[test]
    fn long_integration_lands_on_the_fixed_point() {
        let mut specs = vec![];
        for (beta, j0) in [(1.0, 0.5), (2.0, 1.0), (3.0, 8.0), (4.0, 20.0)] {
            specs.push(testing::kohonen(beta, j0));
        }
        for (c, j0) in [(0.0, -250.0), (0.1, -60.0)] {
            let mut s = testing::istdp_ie(1e-3);
            s.inputs[0].correlation = c;
            s.projections[1].weight = j0;
            specs.push(s);
        }
        for (rho, eta_ei, eta_ii) in [(20.0, 1e-3, 1e-4), (23.0, 1e-3, 1e-3), (23.0, 2e-3, 1e-4)] {
            specs.push(testing::istdp_ie_ii(rho, eta_ei, eta_ii));
        }
        for spec in specs {
            let m = Model::new(&spec, 0.0).unwrap();
            let j0 = m.initial_plastic_weights();
            let fp = find_fixed_points(&m, &j0, &SolverOptions::default()).unwrap();
            let stable = fp.stable().unwrap_or_else(|| panic!("no stable point: {fp:?}"));
            // 30 slowest time constants.
            let slowest = stable
                .eigenvalues_per_s
                .iter()
                .map(|z| -z.re)
                .fold(f64::INFINITY, f64::min);
            let duration_ms = 30.0 / slowest * 1e3;
            let tr = integrate(&m, &j0, duration_ms, 5, &DriftOptions::default()).unwrap();
            assert!(tr.stopped.is_none(), "{:?}", tr.stopped);
            let last = tr.weights.last().unwrap();
            for (a, b) in last.iter().zip(&stable.weights) {
                assert!(
                    (a - b).abs() < 1e-5 * b.abs().max(1.0),
                    "{j0:?}: ODE {last:?} vs fixed point {:?}",
                    stable.weights
                );
            }
        }
    }
}
