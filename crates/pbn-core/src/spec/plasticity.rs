//! Plasticity as written in a config: named rules (docs/plasticity.md §3.3) or the generic form
//! (docs/plasticity.md §3.2). Every variant becomes one [`crate::plasticity::PlasticityRule`]; see that module for the
//! update equations.

use serde::{Deserialize, Serialize};

/// A projection's plasticity rule. `tau_ms` is the eligibility-trace time constant τ_STDP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlasticitySpec {
    /// R1: pre spike Δj = η β x_post; post spike Δj = −η j.
    Kohonen {
        /// Learning rate η.
        eta: f64,
        /// Potentiation scale β (unscaled); fixed point j ≈ β τ r_pre.
        beta: f64,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// R2 (E→E) / R9 (E→I): pre spike Δj = −η x_post j; post spike Δj = +η x_pre j_max.
    HebbSoft {
        /// Learning rate η.
        eta: f64,
        /// Soft bound and fixed point (unscaled).
        j_max: f64,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// R3: pre spike Δj = −√N η x_post; post spike Δj = +√N η x_pre; weights clipped to
    /// [j_min, j_max] after each update (unbounded if omitted).
    HebbAdditive {
        /// Learning rate η (code units: the per-spike change of the scaled weight).
        eta: f64,
        /// Lower bound (unscaled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        j_min: Option<f64>,
        /// Upper bound (unscaled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        j_max: Option<f64>,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// R4: pre spike Δj = η γ β x_post; post spike Δj = −η γ x_pre j.
    Oja {
        /// Learning rate η.
        eta: f64,
        /// Fixed point β (unscaled).
        beta: f64,
        /// Extra factor γ.
        #[serde(default = "one")]
        gamma: f64,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// R5: pre spike Δj = √N η v_θ x_post; post spike Δj = −√N η x_pre²; weights kept ≥ 0.
    Triplet {
        /// Learning rate η (code units).
        eta: f64,
        /// Threshold v_θ (dimensionless trace units; 2 = 10 Hz × 200 ms).
        #[serde(default = "two")]
        v_theta: f64,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// R6/R7/R8 homeostatic STDP: with η_n = √N η / j_norm, pre spike Δj = η_n (α − x_post) j and
    /// post spike Δj = −η_n x_pre j, α = 2 ρ τ. Drives the postsynaptic rate to `target_rate_hz`.
    Istdp {
        /// Learning rate η (code units; divided by the scaled j_norm as in the reference).
        eta: f64,
        /// Target rate ρ of the postsynaptic population (Hz).
        target_rate_hz: f64,
        /// Normalising weight ĵ_norm (unscaled, same sign as the projection's weight).
        j_norm: f64,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
    /// The generic event form: Δj = rate · w(j) · (constant + trace · x^power) on each pre spike
    /// (x = post trace) and each post spike (x = pre trace); rate = η, times √N if `sqrt_n_scaling`.
    Generic {
        /// Learning rate η.
        eta: f64,
        /// Multiply η by √N (rules whose reference form is additive in scaled weights).
        #[serde(default)]
        sqrt_n_scaling: bool,
        /// Applied when the presynaptic neuron spikes.
        on_pre: SpikeTermSpec,
        /// Applied when the postsynaptic neuron spikes.
        on_post: SpikeTermSpec,
        /// Lower bound (unscaled); weights are clipped after each update.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        j_min: Option<f64>,
        /// Upper bound (unscaled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        j_max: Option<f64>,
        /// Trace time constant (ms).
        #[serde(default = "default_tau_ms")]
        tau_ms: f64,
    },
}

/// One side (pre or post) of the generic rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeTermSpec {
    /// Weight dependence w(j).
    #[serde(default)]
    pub weight: WeightFactorSpec,
    /// Upper value `cap` for `weight = "cap_minus_j"` (unscaled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    /// Timing-independent part.
    #[serde(default)]
    pub constant: f64,
    /// Coefficient of the other neuron's trace.
    #[serde(default)]
    pub trace: f64,
    /// Power of the trace (1 or 2).
    #[serde(default = "one_u8")]
    pub trace_power: u8,
}

/// Weight dependence of a generic term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightFactorSpec {
    /// w = 1 (additive).
    #[default]
    One,
    /// w = j (multiplicative).
    J,
    /// w = cap − j (soft upper bound).
    CapMinusJ,
}

fn default_tau_ms() -> f64 {
    200.0
}
fn one() -> f64 {
    1.0
}
fn two() -> f64 {
    2.0
}
fn one_u8() -> u8 {
    1
}

impl PlasticitySpec {
    /// The rule's name as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kohonen { .. } => "kohonen",
            Self::HebbSoft { .. } => "hebb_soft",
            Self::HebbAdditive { .. } => "hebb_additive",
            Self::Oja { .. } => "oja",
            Self::Triplet { .. } => "triplet",
            Self::Istdp { .. } => "istdp",
            Self::Generic { .. } => "generic",
        }
    }

    /// Learning rate η as given.
    pub fn eta(&self) -> f64 {
        match self {
            Self::Kohonen { eta, .. }
            | Self::HebbSoft { eta, .. }
            | Self::HebbAdditive { eta, .. }
            | Self::Oja { eta, .. }
            | Self::Triplet { eta, .. }
            | Self::Istdp { eta, .. }
            | Self::Generic { eta, .. } => *eta,
        }
    }

    /// Trace time constant (ms).
    pub fn tau_ms(&self) -> f64 {
        match self {
            Self::Kohonen { tau_ms, .. }
            | Self::HebbSoft { tau_ms, .. }
            | Self::HebbAdditive { tau_ms, .. }
            | Self::Oja { tau_ms, .. }
            | Self::Triplet { tau_ms, .. }
            | Self::Istdp { tau_ms, .. }
            | Self::Generic { tau_ms, .. } => *tau_ms,
        }
    }

    /// Rules whose presets assume positive (excitatory) weights.
    pub fn needs_excitatory_source(&self) -> bool {
        matches!(
            self,
            Self::Kohonen { .. }
                | Self::HebbSoft { .. }
                | Self::HebbAdditive { .. }
                | Self::Oja { .. }
                | Self::Triplet { .. }
        )
    }
}
