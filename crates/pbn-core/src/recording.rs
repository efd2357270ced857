//! What a run records, and the sink it is handed to. The engine knows nothing about files: the
//! CLI hands it a sink that writes a run directory; tests use [`MemorySink`].

use std::io;

/// A population as the recordings see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationInfo {
    /// Population name.
    pub name: String,
    /// First neuron id.
    pub start: usize,
    /// Number of neurons.
    pub len: usize,
}

/// A plastic projection as the recordings see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlasticInfo {
    /// Index of the projection in the config.
    pub projection: usize,
    /// File-friendly name, e.g. `I_to_E`.
    pub name: String,
    /// Total synapses of the projection.
    pub synapses: usize,
    /// Presynaptic neuron id of each sampled synapse.
    pub sample_pre: Vec<u32>,
    /// Postsynaptic neuron id of each sampled synapse.
    pub sample_post: Vec<u32>,
}

/// Everything a sink needs to know before the first record arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingPlan {
    /// Recurrent populations in id order.
    pub populations: Vec<PopulationInfo>,
    /// Names of the current sources (populations then inputs), in current-index order.
    pub sources: Vec<String>,
    /// Plastic projections, in config order.
    pub plastic: Vec<PlasticInfo>,
    /// Ids of the neurons whose voltage and currents are recorded (sorted).
    pub sampled_neurons: Vec<u32>,
    /// Whether every spike is recorded.
    pub spikes: bool,
    /// Bin of the population rates (ms).
    pub rate_bin_ms: f64,
    /// Interval of weight records (ms).
    pub weight_interval_ms: f64,
    /// Averaging block of neuron records (ms).
    pub neuron_interval_ms: f64,
}

/// Receives recordings as the simulation produces them (always on the thread that called
/// `run_for`).
pub trait RecordSink {
    /// Called once before the first step.
    fn start(&mut self, plan: &RecordingPlan) -> io::Result<()>;
    /// Neurons (ids, ascending) that spiked at time `t_ms`.
    fn spikes(&mut self, t_ms: f64, ids: &[u32]) -> io::Result<()>;
    /// Mean rate (Hz) of each population over the bin ending at `t_end_ms`.
    fn population_rates(&mut self, t_end_ms: f64, rates_hz: &[f64]) -> io::Result<()>;
    /// Plastic projection `plastic_index` (index into [`RecordingPlan::plastic`]) at `t_ms`:
    /// sampled unscaled weights, and the mean and standard deviation over all its synapses.
    fn weights(&mut self, plastic_index: usize, t_ms: f64, samples: &[f64], mean: f64, std: f64) -> io::Result<()>;
    /// Block averages ending at `t_end_ms` for the sampled neurons: voltage (mV) and, source by
    /// source, synaptic current (mV/ms), laid out `[source][neuron]`.
    fn neurons(&mut self, t_end_ms: f64, voltage_mv: &[f64], currents: &[f64]) -> io::Result<()>;
    /// Every synapse of a plastic projection at the end: pre id, post id, unscaled weight.
    fn final_weights(&mut self, plastic_index: usize, pre: &[u32], post: &[u32], weight: &[f64]) -> io::Result<()>;
    /// Asked after every step's records: `true` ends the current `run_for` after that step
    /// (it returns `Ok`; the simulation's time says where it stopped, and calling `run_for`
    /// again continues exactly as if it had not stopped). Lets a sink stop a run on what it sees
    /// — a condition met, a budget spent, a user's request.
    fn stop_requested(&mut self) -> bool {
        false
    }
}

/// One weight record: (t ms, sampled unscaled weights, block mean, block SD).
pub type WeightRecord = (f64, Vec<f64>, f64, f64);

/// Keeps every record in memory (for tests and library users).
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    /// The plan received at start.
    pub plan: Option<RecordingPlan>,
    /// Spike times (ms).
    pub spike_times_ms: Vec<f64>,
    /// Spike neuron ids.
    pub spike_ids: Vec<u32>,
    /// (bin end ms, rates per population in Hz).
    pub rates: Vec<(f64, Vec<f64>)>,
    /// Per plastic projection: (t ms, samples, mean, std).
    pub weights: Vec<Vec<WeightRecord>>,
    /// (t ms, voltages, currents).
    pub neurons: Vec<(f64, Vec<f64>, Vec<f64>)>,
    /// Per plastic projection: (pre, post, weight).
    pub final_weights: Vec<(Vec<u32>, Vec<u32>, Vec<f64>)>,
}

impl RecordSink for MemorySink {
    fn start(&mut self, plan: &RecordingPlan) -> io::Result<()> {
        self.weights = vec![vec![]; plan.plastic.len()];
        self.final_weights = vec![Default::default(); plan.plastic.len()];
        self.plan = Some(plan.clone());
        Ok(())
    }
    fn spikes(&mut self, t_ms: f64, ids: &[u32]) -> io::Result<()> {
        self.spike_times_ms.extend(std::iter::repeat_n(t_ms, ids.len()));
        self.spike_ids.extend_from_slice(ids);
        Ok(())
    }
    fn population_rates(&mut self, t_end_ms: f64, rates_hz: &[f64]) -> io::Result<()> {
        self.rates.push((t_end_ms, rates_hz.to_vec()));
        Ok(())
    }
    fn weights(&mut self, p: usize, t_ms: f64, samples: &[f64], mean: f64, std: f64) -> io::Result<()> {
        self.weights[p].push((t_ms, samples.to_vec(), mean, std));
        Ok(())
    }
    fn neurons(&mut self, t_end_ms: f64, voltage_mv: &[f64], currents: &[f64]) -> io::Result<()> {
        self.neurons.push((t_end_ms, voltage_mv.to_vec(), currents.to_vec()));
        Ok(())
    }
    fn final_weights(&mut self, p: usize, pre: &[u32], post: &[u32], weight: &[f64]) -> io::Result<()> {
        self.final_weights[p] = (pre.to_vec(), post.to_vec(), weight.to_vec());
        Ok(())
    }
}
