//! The assembled prediction and its human-readable table.

use std::fmt;

use crate::TheoryOptions;
use crate::balance::{self, Condition, CurrentBreakdown};
use crate::covariance;
use crate::drift;
use crate::error::{Compatibility, TheoryError};
use crate::fixed_point::{FixedPoints, SolverOptions, find_fixed_points};
use crate::linalg::{self, Matrix};
use crate::model::{Input, Model, Population};
use crate::ode::{self, Trajectory};

/// Spike-count covariances and correlations at the configured weights (docs/theory.md §4.3).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CovarianceReport {
    /// Counting window (ms).
    pub window_ms: f64,
    /// Fano factor used for the correlations.
    pub fano: f64,
    /// Population-averaged count covariance C_ab (spikes²), K×K.
    pub count: Matrix,
    /// Correlation coefficients R_ab = C_ab/√(V_a V_b), V_a = F r_a T_win.
    pub correlation: Matrix,
}

/// One plastic block.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlasticBlockReport {
    /// `pre→post`.
    pub label: String,
    /// Rule name.
    pub rule: String,
    /// Initial (configured) mean weight.
    pub initial_weight: f64,
    /// dj/dt at the configured weights (weight/s), if balance holds there.
    pub initial_drift_per_s: Option<f64>,
}

/// The weight dynamics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlasticityReport {
    /// The plastic blocks (order of the weight vectors below).
    pub blocks: Vec<PlasticBlockReport>,
    /// Fixed points found.
    pub fixed_points: Option<FixedPoints>,
    /// Why there are none.
    pub fixed_point_error: Option<String>,
    /// Time course, when requested.
    pub trajectory: Option<Trajectory>,
    /// Why the time course could not be computed.
    pub trajectory_error: Option<String>,
}

/// Everything predicted for one config (see [`crate::predict`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// N.
    pub n: u64,
    /// Time at which input windows were evaluated (ms).
    pub at_ms: f64,
    /// Populations (names, sizes, fractions).
    pub populations: Vec<Population>,
    /// Inputs (and whether each is on).
    pub inputs: Vec<Input>,
    /// W at the configured weights (unscaled weight units).
    pub w: Matrix,
    /// W_x.
    pub w_x: Matrix,
    /// ξ = W_x r_x + s + D (weight·Hz).
    pub drive_hz: Vec<f64>,
    /// det W.
    pub det_w: f64,
    /// Balance conditions with whether each holds.
    pub conditions: Vec<Condition>,
    /// Balanced rates (Hz), if a positive balanced state exists.
    pub rates_hz: Option<Vec<f64>>,
    /// Why not.
    pub balance_error: Option<String>,
    /// Compatibility conditions when W is singular.
    pub compatibility: Vec<Compatibility>,
    /// Mean currents by source (mV/ms).
    pub currents: Vec<CurrentBreakdown>,
    /// Covariances and correlations.
    pub covariance: Option<CovarianceReport>,
    /// Weight dynamics, when a projection is plastic.
    pub plasticity: Option<PlasticityReport>,
}

pub(crate) fn build(model: &Model, opts: &TheoryOptions) -> Result<Prediction, TheoryError> {
    let j0 = model.initial_plastic_weights();
    let w = model.w(&j0);
    let drive = model.drive();
    let rates = balance::solve_rates(model, &w, &drive);
    // Not a property of the network but of the numbers: no prediction at all then.
    if let Err(e @ TheoryError::Numerical(_)) = &rates {
        return Err(e.clone());
    }
    let compatibility = match &rates {
        Err(TheoryError::SingularW { compatibility, .. }) => compatibility.clone(),
        _ => vec![],
    };
    let (currents, covariance) = match &rates {
        Ok(r) => {
            let count = covariance::try_count_covariance(model, &w, opts.window_ms, opts.finite_n_terms)?;
            let correlation = covariance::correlation(&count, r, opts.window_ms, opts.fano);
            (
                balance::currents(model, &w, r),
                Some(CovarianceReport {
                    window_ms: opts.window_ms,
                    fano: opts.fano,
                    count,
                    correlation,
                }),
            )
        }
        Err(_) => (vec![], None),
    };
    let plasticity = (!model.plastic.is_empty()).then(|| plasticity(model, opts, &j0));
    Ok(Prediction {
        n: model.n,
        at_ms: model.at_ms,
        populations: model.populations.clone(),
        inputs: model.inputs.clone(),
        det_w: linalg::det(&w),
        conditions: balance::conditions(model, &w, &drive),
        w,
        w_x: model.w_x.clone(),
        drive_hz: drive.iter().map(|x| x * 1e3).collect(),
        rates_hz: rates.as_ref().ok().map(|r| r.iter().map(|r| r * 1e3).collect()),
        balance_error: rates.err().map(|e| e.to_string()),
        compatibility,
        currents,
        covariance,
        plasticity,
    })
}

fn plasticity(model: &Model, opts: &TheoryOptions, j0: &[f64]) -> PlasticityReport {
    let d = opts.drift();
    let initial = drift::drift(model, j0, &d).ok();
    let blocks = model
        .plastic
        .iter()
        .enumerate()
        .map(|(k, &b)| PlasticBlockReport {
            label: model.block_label(b),
            rule: model.blocks[b].rule.as_ref().map_or("", |r| r.name).to_string(),
            initial_weight: j0[k],
            initial_drift_per_s: initial.as_ref().map(|(f, _)| f[k] * 1e3),
        })
        .collect();
    let solver = SolverOptions {
        drift: d,
        ..SolverOptions::default()
    };
    let (fixed_points, fixed_point_error) = match find_fixed_points(model, j0, &solver) {
        Ok(fp) => (Some(fp), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let (trajectory, trajectory_error) = match opts.integrate_ms {
        Some(t) => match ode::integrate(model, j0, t, opts.samples, &d) {
            Ok(tr) => (Some(tr), None),
            Err(e) => (None, Some(e.to_string())),
        },
        None => (None, None),
    };
    PlasticityReport {
        blocks,
        fixed_points,
        fixed_point_error,
        trajectory,
        trajectory_error,
    }
}

fn matrix(f: &mut fmt::Formatter<'_>, names: &[String], m: &Matrix, fmt_cell: impl Fn(f64) -> String) -> fmt::Result {
    write!(f, "    {:>8}", "")?;
    for n in names {
        write!(f, " {n:>12}")?;
    }
    writeln!(f)?;
    for (n, row) in names.iter().zip(m) {
        write!(f, "    {n:>8}")?;
        for v in row {
            write!(f, " {:>12}", fmt_cell(*v))?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.populations.iter().map(|p| p.name.clone()).collect();
        writeln!(
            f,
            "Mean-field theory (docs/theory.md §4), N = {}, at t = {} ms",
            self.n, self.at_ms
        )?;
        writeln!(
            f,
            "populations: {}",
            self.populations
                .iter()
                .map(|p| format!("{} (q = {:.4})", p.name, p.q))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for x in &self.inputs {
            writeln!(
                f,
                "input {}: q_x = {:.4}, {} Hz, c = {}{}",
                x.name,
                x.q,
                x.rate_hz,
                x.correlation,
                if x.on { "" } else { " — OFF at this time" }
            )?;
        }
        writeln!(f, "\nW (rows: post, columns: pre; W_ab = p_ab j_ab q_b):")?;
        matrix(f, &names, &self.w, |v| format!("{v:.5}"))?;
        writeln!(
            f,
            "drive ξ = W_x r_x + s + D (weight·Hz): {}",
            fmt_vec(&self.drive_hz, 5)
        )?;
        writeln!(f, "\nBalance conditions:")?;
        for c in &self.conditions {
            writeln!(f, "  [{}] {}", if c.holds { "ok" } else { "FAIL" }, c.text)?;
        }
        match (&self.rates_hz, &self.balance_error) {
            (Some(r), _) => {
                writeln!(f, "\nBalanced rates (Hz):")?;
                for (n, r) in names.iter().zip(r) {
                    writeln!(f, "  r_{n:<8} {r:>12.5}")?;
                }
            }
            (None, Some(e)) => writeln!(f, "\nNo balanced state at the configured weights: {e}")?,
            _ => {}
        }
        if !self.currents.is_empty() {
            writeln!(f, "\nMean input currents by source (mV/ms; each O(√N), sum O(1)):")?;
            for c in &self.currents {
                let parts: Vec<String> = c.sources.iter().map(|(s, v)| format!("{s}: {v:+.4}")).collect();
                writeln!(
                    f,
                    "  → {:<8} {}   total {:+.2e}",
                    c.population,
                    parts.join("  "),
                    c.total
                )?;
            }
        }
        if let Some(c) = &self.covariance {
            writeln!(
                f,
                "\nSpike-count covariance C_ab (spikes², T_win = {} ms):",
                c.window_ms
            )?;
            matrix(f, &names, &c.count, |v| format!("{v:.5e}"))?;
            writeln!(f, "Correlation coefficients (Fano factor {}):", c.fano)?;
            matrix(f, &names, &c.correlation, |v| format!("{v:.5e}"))?;
        }
        if let Some(p) = &self.plasticity {
            writeln!(f, "\nWeight dynamics (unscaled weights j):")?;
            for b in &p.blocks {
                write!(f, "  {:<10} {:<14} j(0) = {:>10.4}", b.label, b.rule, b.initial_weight)?;
                match b.initial_drift_per_s {
                    Some(d) => writeln!(f, "   dj/dt(0) = {d:+.4e} /s")?,
                    None => writeln!(f)?,
                }
            }
            if let Some(fp) = &p.fixed_points {
                for n in &fp.notes {
                    writeln!(f, "  note: {n}")?;
                }
                for (i, pt) in fp.points.iter().enumerate() {
                    writeln!(f, "  fixed point {}: {}", i + 1, pt.stability)?;
                    for (b, j) in p.blocks.iter().zip(&pt.weights) {
                        writeln!(f, "    j_{:<10} {j:>12.5}", b.label)?;
                    }
                    for (n, r) in names.iter().zip(&pt.rates_hz) {
                        writeln!(f, "    r_{n:<10} {r:>12.5} Hz")?;
                    }
                    if !pt.eigenvalues_per_s.is_empty() {
                        let ev: Vec<String> = pt
                            .eigenvalues_per_s
                            .iter()
                            .map(|z| {
                                if z.im == 0.0 {
                                    format!("{:.4e}", z.re)
                                } else {
                                    format!("{:.4e} {:+.4e}i", z.re, z.im)
                                }
                            })
                            .collect();
                        writeln!(f, "    eigenvalues (1/s): {}", ev.join(", "))?;
                    }
                }
            }
            if let Some(e) = &p.fixed_point_error {
                writeln!(f, "  {e}")?;
            }
            if let Some(tr) = &p.trajectory {
                let last = tr.weights.len() - 1;
                writeln!(
                    f,
                    "  ODE: t = {:.1} s → weights {} , rates {} Hz",
                    tr.t_s[last],
                    fmt_vec(&tr.weights[last], 4),
                    fmt_vec(&tr.rates_hz[last], 4)
                )?;
                if let Some(s) = &tr.stopped {
                    writeln!(f, "  ODE {s}")?;
                }
            }
            if let Some(e) = &p.trajectory_error {
                writeln!(f, "  ODE: {e}")?;
            }
        }
        Ok(())
    }
}

fn fmt_vec(v: &[f64], digits: usize) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.digits$}")).collect();
    format!("({})", parts.join(", "))
}

impl fmt::Display for crate::Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>14}", self.param.key.rsplit('.').next().unwrap_or(""))?;
        for p in &self.populations {
            write!(f, " {:>12}", format!("r_{p} (Hz)"))?;
        }
        for b in &self.blocks {
            write!(f, " {:>12}", format!("j*_{b}"))?;
        }
        for p in &self.populations {
            write!(f, " {:>12}", format!("r*_{p} (Hz)"))?;
        }
        writeln!(f, "  stability")?;
        for r in &self.rows {
            write!(f, "{:>14.6}", r.value)?;
            for i in 0..self.populations.len() {
                match &r.rates_hz {
                    Some(v) => write!(f, " {:>12.5}", v[i])?,
                    None => write!(f, " {:>12}", "—")?,
                }
            }
            match &r.fixed_point {
                Some(p) => {
                    for j in &p.weights {
                        write!(f, " {j:>12.5}")?;
                    }
                    for x in &p.rates_hz {
                        write!(f, " {x:>12.5}")?;
                    }
                    write!(f, "  {}", p.stability)?;
                }
                None => {
                    for _ in 0..self.blocks.len() + self.populations.len() {
                        write!(f, " {:>12}", "—")?;
                    }
                }
            }
            if let Some(e) = &r.error {
                write!(f, "  {e}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing;
    use crate::{TheoryOptions, predict};

    #[test]
    fn default_prediction_table_and_json() {
        let p = predict(&testing::default(), &TheoryOptions::default()).unwrap();
        let text = p.to_string();
        assert!(text.contains("5.82353") && text.contains("15.88235"), "{text}");
        assert!(text.contains("8.47837e-4"), "{text}");
        assert!(p.plasticity.is_none());
        let json = serde_json::to_value(&p).unwrap();
        assert!((json["rates_hz"][0].as_f64().unwrap() - 5.82353).abs() < 1e-5);
        assert!((json["det_w"].as_f64().unwrap() - 17.0).abs() < 1e-9);
    }

    #[test]
    fn plastic_prediction_with_ode() {
        let opts = TheoryOptions {
            integrate_ms: Some(2.0e6),
            samples: 20,
            ..TheoryOptions::default()
        };
        let p = predict(&testing::istdp_ie(1e-3), &opts).unwrap();
        let pl = p.plasticity.as_ref().unwrap();
        let fp = &pl.fixed_points.as_ref().unwrap().points[0];
        assert!((fp.weights[0] + 119.6581).abs() < 1e-4);
        let tr = pl.trajectory.as_ref().unwrap();
        assert_eq!(tr.t_s.len(), 21);
        assert!((tr.weights[20][0] + 119.6581).abs() < 1e-3, "{:?}", tr.weights[20]);
        let text = p.to_string();
        assert!(text.contains("stable node") && text.contains("-119.658"), "{text}");
        serde_json::to_string(&p).unwrap();
    }

    #[test]
    fn optogenetic_prediction_reports_singular_w() {
        let opts = TheoryOptions {
            at_ms: 2.5e6,
            ..TheoryOptions::default()
        };
        let p = predict(&testing::optogenetic(), &opts).unwrap();
        assert!(p.rates_hz.is_none());
        assert!(p.balance_error.as_ref().unwrap().contains("singular"));
        // At the configured weights (j_e1i = j_e2i) with X2 on, the E1 and E2 rows disagree.
        assert_eq!(p.compatibility.len(), 1);
        assert!(!p.compatibility[0].satisfied);
        let fp = p.plasticity.unwrap().fixed_points.unwrap();
        assert!((fp.points[0].weights[0] + 158.12).abs() < 1e-2);
        // Before the stimulus the condition holds: a family of balanced states.
        let p = predict(&testing::optogenetic(), &TheoryOptions::default()).unwrap();
        assert!(p.compatibility[0].satisfied, "{:?}", p.compatibility);
    }
}
