//! What a simulation changes as it runs, apart from the [`Network`] it runs on: per chunk the
//! neuron state and plastic weights ([`ChunkState`]); the external inputs ([`InputState`]); and
//! the rest, which only the stepping thread touches between the parallel phases of a step
//! ([`SerialState`]: step count, rules in force, traces, spike counts, recorder accumulators).
//! The three are apart because a team of threads owns them differently phase by phase (see
//! `handoff`).

use rand::RngExt;

use super::SimError;
use super::chunk::ChunkState;
use super::network::Network;
use super::recorder::Recorder;
use super::traces::TraceSet;
use crate::input::ExternalInput;
use crate::plasticity::{PlasticityRule, ScaledRule};
use crate::recording::RecordSink;
use crate::rng::{Purpose, stream};
use crate::spec::NetworkSpec;

/// The compiled rule in force on a plastic projection and the trace set of its τ.
#[derive(Debug, Clone, Copy)]
pub(super) struct RuleInForce {
    pub(super) rule: ScaledRule,
    /// Index into [`SerialState::traces`].
    pub(super) trace: usize,
}

/// The external input layers' generators and what they prepared for the next step.
pub(super) struct InputState {
    /// Per input layer.
    pub(super) generators: Vec<ExternalInput>,
    /// Per input layer, the external spikes of the step `ready_for` (neuron indices in the layer).
    pub(super) spikes: Vec<Vec<u32>>,
    /// Per population, the stimulus current (mV/ms) of the step `ready_for`.
    pub(super) stimulus: Vec<f64>,
    /// The step whose external spikes and stimuli are prepared.
    pub(super) ready_for: Option<u64>,
}

impl InputState {
    fn new(network: &Network) -> Self {
        let spec = &network.spec;
        Self {
            generators: spec
                .inputs
                .iter()
                .enumerate()
                .map(|(xi, x)| {
                    let len = network.layout.inputs[xi].len;
                    ExternalInput::new(x, len, stream(spec.seed, Purpose::Input, xi as u64, 0))
                })
                .collect(),
            spikes: vec![vec![]; spec.inputs.len()],
            stimulus: vec![0.0; network.layout.populations.len()],
            ready_for: None,
        }
    }

    /// Step 1 prerequisites of step `step` (unless they are ready): external spikes with time
    /// ≤ t = (step + 1)·dt, and the stimulus current of each population at t.
    pub(super) fn prepare(&mut self, step: u64, network: &Network) {
        if self.ready_for == Some(step) {
            return;
        }
        let t = (step + 1) as f64 * network.dt_ms;
        for (input, spikes) in self.generators.iter_mut().zip(self.spikes.iter_mut()) {
            spikes.clear();
            input.spikes_until(t, spikes);
        }
        self.stimulus.fill(0.0);
        for stim in &network.stimuli {
            if stim.start_ms <= t && t < stim.stop_ms {
                self.stimulus[stim.population] += stim.current;
            }
        }
        self.ready_for = Some(step);
    }
}

/// The state only the stepping thread writes (between a step's parallel phases).
pub(super) struct SerialState {
    /// Steps done.
    pub(super) step: u64,
    /// The spec in force: the built one with the plasticity and input changes made since. The
    /// one description of the rules; `rules` is compiled from it.
    pub(super) current: NetworkSpec,
    /// Per projection, the rule in force (`None`: a static projection; a plastic one switched
    /// off has a rule that changes nothing).
    pub(super) rules: Vec<Option<RuleInForce>>,
    /// One set of traces per distinct STDP time constant.
    pub(super) traces: Vec<TraceSet>,
    /// Their time constants (ms).
    pub(super) trace_taus: Vec<f64>,
    /// This step's spikes, all chunks, ids ascending.
    pub(super) spikes: Vec<u32>,
    /// Spikes per population since the start.
    pub(super) spike_counts: Vec<u64>,
    pub(super) recorder: Recorder,
    /// The sink asked to stop after the last step ([`RecordSink::stop_requested`]).
    pub(super) stop_requested: bool,
    /// With a team of threads, the fraction of each step's post-spike updates each thread
    /// does (see `deferred_post`); tuned as the team runs, and never changes a result.
    pub(super) post_fractions: Vec<f64>,
}

impl SerialState {
    /// After steps 4–5 and 8: traces take this step's spikes and decay (steps 6–7; plasticity
    /// has read them as they were), spikes are counted, the step is done.
    pub(super) fn epilogue(&mut self, network: &Network) {
        for t in &mut self.traces {
            t.advance(&self.spikes);
        }
        for &s in &self.spikes {
            let pop = network.population_of(s as usize);
            self.spike_counts[pop] += 1;
            self.recorder.rate_counts[pop] += 1;
            self.recorder.guard_counts[pop] += 1;
        }
        self.step += 1;
    }

    /// Divergence check, records and runaway guard after a step (`weight_stats`: see
    /// [`Recorder::record`]).
    pub(super) fn after_step(
        &mut self,
        network: &Network,
        chunks: &[ChunkState],
        sink: &mut dyn RecordSink,
        weight_stats: Option<&[(f64, f64)]>,
    ) -> Result<(), SimError> {
        if let Some(neuron) = chunks.iter().find_map(|c| c.nan_neuron) {
            return Err(SimError::Diverged {
                neuron,
                t_ms: self.step as f64 * network.dt_ms,
            });
        }
        self.recorder
            .record(network, self.step, chunks, &self.spikes, weight_stats, sink)?;
        self.stop_requested = sink.stop_requested();
        Ok(())
    }

    /// Compiles the rules of the spec in force: every projection with weights of its own gets
    /// its rule (one that changes nothing while switched off) and the trace set of its τ (a new
    /// τ gets new traces, starting at zero).
    pub(super) fn compile_rules(&mut self, network: &Network) {
        for (i, proj) in network.projections.iter().enumerate() {
            if !proj.plastic {
                continue;
            }
            let compiled = match &self.current.projections[i].plasticity {
                Some(spec) => {
                    let rule = PlasticityRule::from_spec_sqrt_n(spec, network.sqrt_n);
                    let trace = trace_index(&mut self.trace_taus, rule.tau_ms);
                    while self.traces.len() < self.trace_taus.len() {
                        let tau = self.trace_taus[self.traces.len()];
                        self.traces
                            .push(TraceSet::new(network.layout.n, 1.0 - network.dt_ms / tau));
                    }
                    RuleInForce {
                        rule: rule.scaled(network.sqrt_n),
                        trace,
                    }
                }
                None => RuleInForce {
                    rule: ScaledRule::FROZEN,
                    trace: self.rules[i].map_or(0, |r| r.trace),
                },
            };
            self.rules[i] = Some(compiled);
        }
    }
}

/// Everything a simulation changes as it runs.
pub(super) struct State {
    /// Per chunk of the network (same order).
    pub(super) chunks: Vec<ChunkState>,
    pub(super) inputs: InputState,
    pub(super) serial: SerialState,
}

impl State {
    /// The initial state of `network`: voltages drawn uniformly on [v_init_min, v_init_max] (one
    /// stream per population), currents and traces zero, weights at their initial values.
    pub(super) fn new(network: &Network) -> Self {
        let spec = &network.spec;
        let mut chunks: Vec<ChunkState> = network
            .chunks
            .iter()
            .enumerate()
            .map(|(c, w)| ChunkState::new(c, w, network, spec.precision))
            .collect();
        for (pi, (pop, ps)) in network.layout.populations.iter().zip(&spec.populations).enumerate() {
            let mut rng = stream(spec.seed, Purpose::InitialVoltage, pi as u64, 0);
            let (lo_v, hi_v) = (ps.neuron.v_init_min_mv, ps.neuron.v_init_max_mv);
            for id in pop.range() {
                let v = lo_v + (hi_v - lo_v) * rng.random::<f64>();
                let (c, l) = network.locate(id);
                chunks[c].set_voltage(l, v);
            }
        }
        let mut serial = SerialState {
            step: 0,
            current: spec.clone(),
            rules: vec![None; network.projections.len()],
            traces: vec![],
            trace_taus: vec![],
            spikes: vec![],
            spike_counts: vec![0; network.layout.populations.len()],
            recorder: Recorder::new(network),
            stop_requested: false,
            post_fractions: vec![],
        };
        serial.compile_rules(network);
        Self {
            chunks,
            inputs: InputState::new(network),
            serial,
        }
    }
}

/// The trace time constants of the rules `spec` builds with, in order of first use.
pub(super) fn built_trace_taus(spec: &NetworkSpec) -> Vec<f64> {
    let mut taus = vec![];
    for p in spec.projections.iter().filter_map(|p| p.plasticity.as_ref()) {
        trace_index(&mut taus, p.tau_ms());
    }
    taus
}

/// Index of the trace set of time constant `tau_ms`, added at the end if new.
fn trace_index(taus: &mut Vec<f64>, tau_ms: f64) -> usize {
    match taus.iter().position(|&t| t == tau_ms) {
        Some(i) => i,
        None => {
            taus.push(tau_ms);
            taus.len() - 1
        }
    }
}
