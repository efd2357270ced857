//! The network description: what a user writes in a TOML config.
//!
//! Units are part of the field names (`_ms`, `_mv`, `_hz`). Weights are *unscaled*: a projection
//! with `weight = j` creates synapses of simulated strength `j / √n` (docs/model.md §1). Projections are
//! written from → to (`from = "I", to = "E"` is the paper's j_ei, docs/model.md §1).

mod overrides;
mod plasticity;
mod validate;

pub use overrides::{SetError, apply_set};
pub use plasticity::{PlasticitySpec, SpikeTermSpec, WeightFactorSpec};
pub use validate::{DT_FRACTION_OF_TAU, MAX_IDS, MAX_NAME_LEN, SpecError, SpecErrors};

use serde::{Deserialize, Serialize};

/// A whole simulation: network, duration, recording and safety limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Total number of recurrent neurons N (sum of all populations); weights scale as 1/√N.
    pub n: u64,
    /// Simulated time (ms); must be a whole number of steps.
    #[serde(default = "defaults::duration_ms")]
    pub duration_ms: f64,
    /// Forward-Euler time step (ms); at most a tenth of the fastest time constant (τ_m, the
    /// synaptic τs and the STDP τs) unless `allow_coarse_dt`.
    #[serde(default = "defaults::dt_ms")]
    pub dt_ms: f64,
    /// Accept a `dt_ms` above a tenth of the fastest time constant (results are then dominated
    /// by the integration error; for numerical experiments only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_coarse_dt: bool,
    /// Floating-point type of voltages and synaptic currents (`"f64"` or `"f32"`; weights,
    /// traces and plasticity are always f64). f32 roughly halves the cost of the voltage update
    /// and changes no measured statistic (see `state_float`).
    #[serde(default)]
    pub precision: Precision,
    /// Master seed; every random stream (connectivity, inputs, initial voltages) derives from it.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// Recurrent populations of EIF neurons, numbered in this order.
    pub populations: Vec<PopulationSpec>,
    /// External Poisson layers.
    #[serde(default)]
    pub inputs: Vec<InputSpec>,
    /// Connections from a population or input to a population.
    #[serde(default)]
    pub projections: Vec<ProjectionSpec>,
    /// Constant stimulus currents (docs/model.md §2.6a).
    #[serde(default)]
    pub stimuli: Vec<StimulusSpec>,
    /// What to record.
    #[serde(default)]
    pub record: RecordSpec,
    /// Runaway guard.
    #[serde(default)]
    pub guard: GuardSpec,
    /// Periodic checkpoints of run directories (results do not depend on it).
    #[serde(default)]
    pub checkpoint: CheckpointSpec,
}

/// Floating-point type of the neuron state (voltages and synaptic currents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE double precision (53-bit mantissa).
    #[default]
    F64,
    /// IEEE single precision (24-bit mantissa).
    F32,
}

impl Precision {
    /// The name used in configs: `"f64"` or `"f32"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

/// Whether a population's (or input's) outgoing weights are positive or negative (Dale's law).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    /// Outgoing weights > 0.
    Excitatory,
    /// Outgoing weights < 0.
    Inhibitory,
}

/// A group of identical EIF neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Name used in projections and output file names (letters, digits, `_`; at most 64).
    pub name: String,
    /// Sign of the population's outgoing weights.
    pub kind: Sign,
    /// Size as a fraction of `n` (rounded); give this or `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Size as an absolute count; give this or `fraction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Decay time (ms) of the synaptic current this population sends.
    pub tau_syn_ms: f64,
    /// Neuron parameters (docs/model.md §2.3 defaults).
    #[serde(default)]
    pub neuron: EifSpec,
}

/// Exponential integrate-and-fire parameters (docs/model.md §2.3). Currents are in mV/ms with C_m = 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EifSpec {
    /// Membrane capacitance (µF/cm²).
    pub c_m: f64,
    /// Membrane time constant C_m/g_L (ms).
    pub tau_m_ms: f64,
    /// Leak reversal potential (mV).
    pub e_l_mv: f64,
    /// Soft threshold of the exponential term (mV).
    pub v_t_mv: f64,
    /// Slope factor of the exponential term (mV).
    pub delta_t_mv: f64,
    /// Spike detection threshold (mV).
    pub v_th_mv: f64,
    /// Reset potential (mV).
    pub v_re_mv: f64,
    /// Initial voltages are uniform on [v_init_min_mv, v_init_max_mv].
    pub v_init_min_mv: f64,
    /// Upper end of the initial-voltage range (mV).
    pub v_init_max_mv: f64,
}

impl Default for EifSpec {
    fn default() -> Self {
        Self {
            c_m: 1.0,
            tau_m_ms: 15.0,
            e_l_mv: -72.0,
            v_t_mv: -55.0,
            delta_t_mv: 1.0,
            v_th_mv: -50.0,
            v_re_mv: -75.0,
            v_init_min_mv: -75.0,
            v_init_max_mv: -55.0,
        }
    }
}

/// A layer of Poisson spike trains (docs/model.md §2.5); uncorrelated, or correlated through a shared
/// mother process thinned with probability `correlation` and jittered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Name used in projections and output file names.
    pub name: String,
    /// Sign of the input's weights (external inputs are usually excitatory).
    #[serde(default = "defaults::excitatory")]
    pub kind: Sign,
    /// Size as a fraction of `n` (rounded); give this or `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Size as an absolute count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Rate of every train (Hz).
    pub rate_hz: f64,
    /// Pairwise correlation c in [0, 1]; 0 gives independent trains.
    #[serde(default)]
    pub correlation: f64,
    /// Standard deviation of the Gaussian jitter of correlated spikes (ms).
    #[serde(default = "defaults::jitter_ms")]
    pub jitter_ms: f64,
    /// Decay time (ms) of the synaptic current this input sends.
    pub tau_syn_ms: f64,
    /// Spikes are kept only at times ≥ start_ms.
    #[serde(default)]
    pub start_ms: f64,
    /// Spikes are kept only at times < stop_ms (default: never stops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_ms: Option<f64>,
}

/// Random (Erdős–Rényi) connections from one population or input to one population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    /// Presynaptic population or input.
    pub from: String,
    /// Postsynaptic population.
    pub to: String,
    /// Probability of each ordered (pre, post) pair being connected; self-connections allowed.
    pub probability: f64,
    /// Unscaled initial weight j; the simulated weight is j/√n.
    pub weight: f64,
    /// Plasticity rule; absent means static synapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plasticity: Option<PlasticitySpec>,
}

/// Constant stimulus current √n·`current` (mV/ms) into every neuron of a population (docs/model.md §2.6a).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StimulusSpec {
    /// Target population.
    pub population: String,
    /// Unscaled amplitude s; the injected current is √n·s.
    pub current: f64,
    /// On from this time (ms).
    #[serde(default)]
    pub start_ms: f64,
    /// Off from this time (ms); default: until the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_ms: Option<f64>,
}

/// What the simulation records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordSpec {
    /// Record every spike (time, neuron id).
    pub spikes: bool,
    /// Bin width of the population-rate time series (ms).
    pub rate_bin_ms: f64,
    /// Synapses sampled per plastic projection for weight time series.
    pub weight_samples: u64,
    /// Interval between weight records, and of block mean/std (ms).
    pub weight_interval_ms: f64,
    /// Neurons sampled per population for currents and voltage.
    pub neuron_samples: u64,
    /// Currents and voltages are averaged over blocks of this length (ms).
    pub neuron_interval_ms: f64,
    /// Write every plastic synapse (pre, post, weight) at the end.
    pub final_weights: bool,
}

impl Default for RecordSpec {
    fn default() -> Self {
        Self {
            spikes: true,
            rate_bin_ms: 10.0,
            weight_samples: 1000,
            weight_interval_ms: 100.0,
            neuron_samples: 10,
            neuron_interval_ms: 10.0,
            final_weights: true,
        }
    }
}

/// Stops a run whose activity explodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardSpec {
    /// Stop if any population's mean rate over a window exceeds this (Hz).
    pub max_rate_hz: f64,
    /// Window over which the rate is measured (ms).
    pub window_ms: f64,
}

impl Default for GuardSpec {
    fn default() -> Self {
        Self {
            max_rate_hz: 100.0,
            window_ms: 500.0,
        }
    }
}

/// How often a run directory gets a checkpoint to resume from (`pbn resume`). Checkpoints are
/// also written when a run ends, however it ends short of a kill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointSpec {
    /// Simulated time between checkpoints (ms); 0 writes one only when the run ends.
    pub every_ms: f64,
}

impl Default for CheckpointSpec {
    fn default() -> Self {
        Self { every_ms: 10_000.0 }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

mod defaults {
    use super::Sign;
    pub fn duration_ms() -> f64 {
        1000.0
    }
    pub fn dt_ms() -> f64 {
        0.1
    }
    pub fn seed() -> u64 {
        1
    }
    pub fn jitter_ms() -> f64 {
        5.0
    }
    pub fn excitatory() -> Sign {
        Sign::Excitatory
    }
}

impl Default for NetworkSpec {
    /// The default network of docs/model.md §2: N = 5000, E/I = 80/20 %, X = 0.2 N at 10 Hz, p = 0.1,
    /// j = 25 / −150 / 112.5 / −250 / 180 / 135, static synapses, c = 0, 1 s.
    fn default() -> Self {
        let pop = |name: &str, kind, fraction, tau| PopulationSpec {
            name: name.into(),
            kind,
            fraction: Some(fraction),
            size: None,
            tau_syn_ms: tau,
            neuron: EifSpec::default(),
        };
        let proj = |from: &str, to: &str, weight| ProjectionSpec {
            from: from.into(),
            to: to.into(),
            probability: 0.1,
            weight,
            plasticity: None,
        };
        Self {
            n: 5000,
            duration_ms: defaults::duration_ms(),
            dt_ms: defaults::dt_ms(),
            allow_coarse_dt: false,
            precision: Precision::default(),
            seed: defaults::seed(),
            populations: vec![
                pop("E", Sign::Excitatory, 0.8, 8.0),
                pop("I", Sign::Inhibitory, 0.2, 4.0),
            ],
            inputs: vec![InputSpec {
                name: "X".into(),
                kind: Sign::Excitatory,
                fraction: Some(0.2),
                size: None,
                rate_hz: 10.0,
                correlation: 0.0,
                jitter_ms: defaults::jitter_ms(),
                tau_syn_ms: 10.0,
                start_ms: 0.0,
                stop_ms: None,
            }],
            projections: vec![
                proj("E", "E", 25.0),
                proj("I", "E", -150.0),
                proj("E", "I", 112.5),
                proj("I", "I", -250.0),
                proj("X", "E", 180.0),
                proj("X", "I", 135.0),
            ],
            stimuli: vec![],
            record: RecordSpec::default(),
            guard: GuardSpec::default(),
            checkpoint: CheckpointSpec::default(),
        }
    }
}

impl NetworkSpec {
    /// Parses a TOML config, applies `--set KEY=VALUE` overrides, and validates the result.
    pub fn from_toml_with_overrides(text: &str, sets: &[String]) -> Result<Self, SpecErrors> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| SpecErrors::single(SpecError::syntax(e.to_string())))?;
        for set in sets {
            apply_set(&mut table, set).map_err(|e| SpecErrors::single(e.into()))?;
        }
        let spec: NetworkSpec = table
            .try_into()
            .map_err(|e: toml::de::Error| SpecErrors::single(SpecError::syntax(e.to_string())))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parses and validates a TOML config.
    pub fn from_toml(text: &str) -> Result<Self, SpecErrors> {
        Self::from_toml_with_overrides(text, &[])
    }

    /// The config with every default written out (what `config.resolved.toml` holds).
    pub fn to_resolved_toml(&self) -> String {
        toml::to_string(self).expect("a NetworkSpec always serialises")
    }

    /// Number of time steps.
    pub fn n_steps(&self) -> u64 {
        (self.duration_ms / self.dt_ms).round() as u64
    }

    /// √N, the weight scale.
    pub fn sqrt_n(&self) -> f64 {
        (self.n as f64).sqrt()
    }
}
