//! pbn-theory: mean-field theory of plastic balanced networks (docs/theory.md §4), from the very
//! same [`NetworkSpec`] the simulator runs.
//!
//! * [`balance`] — balanced rates r = −W⁻¹(W_x r_x + s + D), balance conditions, singular W
//!   with its compatibility condition (docs/theory.md §4.1, §4.8), mean currents per source (docs/theory.md §4.2);
//! * [`covariance`] — spike-count covariances and correlations (docs/theory.md §4.3), Γ (docs/theory.md §4.4);
//! * [`drift`] — mean-field weight drift derived from each block's generic
//!   [`pbn_core::PlasticityRule`] (docs/theory.md §4.4);
//! * [`fixed_point`] — fixed points, Jacobian eigenvalues, stability (docs/theory.md §4.5);
//! * [`ode`] — time courses of the mean weights (adaptive Dormand–Prince);
//! * [`sweep`] — fixed points along a parameter;
//! * [`correction`] — the empirical correction D (docs/theory.md §4.7).
//!
//! Units: inside formulas rates are in kHz and time in ms (docs/model.md §1); everything reported
//! is in Hz, s⁻¹, s, unscaled weights j, and mV/ms for currents.
//!
//! ```
//! let spec = pbn_core::NetworkSpec::default();
//! let p = pbn_theory::predict(&spec, &pbn_theory::TheoryOptions::default()).unwrap();
//! let r = p.rates_hz.as_ref().unwrap();
//! assert!((r[0] - 5.82353).abs() < 1e-5 && (r[1] - 15.88235).abs() < 1e-5);
//! println!("{p}");
//! ```

pub mod balance;
pub mod correction;
pub mod covariance;
pub mod drift;
pub mod error;
pub mod fixed_point;
pub mod linalg;
pub mod model;
pub mod ode;
mod report;
pub mod sweep;

#[cfg(test)]
mod testing;

pub use error::{Compatibility, TheoryError};
pub use fixed_point::{FixedPoint, FixedPoints, Stability};
pub use model::Model;
pub use ode::Trajectory;
pub use report::{CovarianceReport, PlasticBlockReport, PlasticityReport, Prediction};
pub use sweep::{Sweep, SweepParam, SweepRow, sweep};

use pbn_core::NetworkSpec;

/// What to predict and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TheoryOptions {
    /// Time (ms) at which input and stimulus windows are evaluated (an input with
    /// start_ms ≤ at_ms < stop_ms is on). Default 0: the start of the run.
    pub at_ms: f64,
    /// Counting window T_win for covariances (ms), default 250.
    pub window_ms: f64,
    /// Fano factor F for correlation coefficients, default 1.
    pub fano: f64,
    /// Kernel attenuation κ of the covariance term Γ = κ C/T_win (docs/theory.md §4.4), default 1.
    pub kappa: f64,
    /// Keep O(1/N) covariance terms: in Γ of the drift (default: leading order, dropped) and,
    /// for correlated inputs, the (1 − c)/N part of the reported covariances.
    pub finite_n_terms: bool,
    /// Empirical correction D per population (weight·kHz, docs/theory.md §4.7); `None` = 0.
    pub correction: Option<Vec<f64>>,
    /// Integrate the weight ODE for this long (ms), starting from the config's weights.
    pub integrate_ms: Option<f64>,
    /// Number of intervals the ODE output is sampled at.
    pub samples: usize,
}

impl Default for TheoryOptions {
    fn default() -> Self {
        Self {
            at_ms: 0.0,
            window_ms: 250.0,
            fano: 1.0,
            kappa: 1.0,
            finite_n_terms: false,
            correction: None,
            integrate_ms: None,
            samples: 200,
        }
    }
}

impl TheoryOptions {
    /// The drift options these imply.
    pub fn drift(&self) -> drift::DriftOptions {
        drift::DriftOptions {
            kappa: self.kappa,
            finite_n_terms: self.finite_n_terms,
        }
    }
}

/// The [`Model`] of `spec` at `opts.at_ms`, with the correction D applied.
pub fn model_with_options(spec: &NetworkSpec, opts: &TheoryOptions) -> Result<Model, TheoryError> {
    let mut model = Model::new(spec, opts.at_ms)?;
    if let Some(d) = &opts.correction {
        if d.len() != model.k() {
            return Err(TheoryError::Config(format!(
                "the correction D has {} entries but the network has {} populations",
                d.len(),
                model.k()
            )));
        }
        model.correction = d.clone();
    }
    Ok(model)
}

/// Balanced rates (Hz) of `spec` at its configured weights, or why there are none.
pub fn balanced_rates(spec: &NetworkSpec, opts: &TheoryOptions) -> Result<Vec<f64>, TheoryError> {
    let m = model_with_options(spec, opts)?;
    Ok(balance::rates(&m, &m.initial_plastic_weights())?
        .iter()
        .map(|r| r * 1e3)
        .collect())
}

/// Everything the theory predicts for `spec`: balance, currents, covariances and, when some
/// projection is plastic, the weight dynamics (fixed points, stability, optional time course).
/// Failures of individual parts (no balanced state, no fixed point) are recorded in the
/// prediction; only an unusable config is an error.
pub fn predict(spec: &NetworkSpec, opts: &TheoryOptions) -> Result<Prediction, TheoryError> {
    report::build(&model_with_options(spec, opts)?, opts)
}
