//! Why a prediction could not be made.

use thiserror::Error;

/// Errors of the theory engine. Messages say what failed and why, in physical units.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TheoryError {
    /// The config names something the theory cannot use.
    #[error("config: {0}")]
    Config(String),
    /// W is singular: balance fixes only some combinations of rates, and it has a solution only
    /// if the drive satisfies the compatibility condition(s) (docs/theory.md §4.8).
    #[error(
        "W is singular (det W = {det:.4e}): balance W r + ξ = 0 does not determine the rates. {}",
        compatibility_text(.compatibility)
    )]
    SingularW {
        /// det W.
        det: f64,
        /// One entry per left null vector u (uᵀW = 0): the condition uᵀξ = 0 and its value.
        compatibility: Vec<Compatibility>,
    },
    /// The balance equations have a solution, but some rate is ≤ 0: no positive balanced state.
    #[error("no positive balanced state: r = −W⁻¹ξ gives {} (det W = {det:.4})", rates_text(.names, .rates_hz))]
    NonPositiveRates {
        /// Population names.
        names: Vec<String>,
        /// The (unphysical) solution (Hz).
        rates_hz: Vec<f64>,
        /// det W.
        det: f64,
    },
    /// No fixed point of the weight dynamics exists (or none was found), and why.
    #[error("no fixed point of the weight dynamics: {0}")]
    NoFixedPoint(String),
    /// Integration of the weight ODE stopped early.
    #[error("weight ODE stopped at t = {t_s:.3} s: {reason}")]
    Integration {
        /// Time reached (s).
        t_s: f64,
        /// Why.
        reason: String,
    },
    /// A sweep specification could not be used.
    #[error("sweep: {0}")]
    Sweep(String),
    /// The linear algebra failed on the numbers it was given (e.g. entries so large that their
    /// squares overflow double precision).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// A compatibility condition of singular balance equations: Σ_a u_a ξ_a must vanish.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Compatibility {
    /// Human-readable condition, e.g. `0.707·ξ[E1] − 0.707·ξ[E2] = 0`.
    pub condition: String,
    /// Left null vector u (uᵀW = 0), unit length.
    pub null_vector: Vec<f64>,
    /// uᵀξ (weight·kHz); 0 when the balance equations are solvable.
    pub residual: f64,
    /// Whether |uᵀξ| is negligible (relative to |ξ|).
    pub satisfied: bool,
}

fn compatibility_text(c: &[Compatibility]) -> String {
    let parts: Vec<String> = c
        .iter()
        .map(|c| {
            format!(
                "Compatibility condition {} is {} (residual {:.4e})",
                c.condition,
                if c.satisfied {
                    "satisfied: balance has a family of solutions"
                } else {
                    "violated: no balanced state exists"
                },
                c.residual
            )
        })
        .collect();
    parts.join("; ")
}

fn rates_text(names: &[String], rates_hz: &[f64]) -> String {
    names
        .iter()
        .zip(rates_hz)
        .map(|(n, r)| format!("r_{n} = {r:.4} Hz"))
        .collect::<Vec<_>>()
        .join(", ")
}
