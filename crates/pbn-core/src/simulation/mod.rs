//! The simulation engine: builds a network from a spec and integrates it step by step.
//!
//! Per time step i (t_i = i·dt), exactly the order of docs/model.md §2.7:
//! 1. external spikes with time ≤ t_i kick their targets' currents (J/τ);
//! 2. forward-Euler voltage update with the summed currents and stimuli;
//! 3. spike detection (V ≥ V_th);
//! 4. recurrent kicks from this step's spikes, with the weights *before* this step's plasticity;
//! 5. plasticity: per synapse, the pre-spike update, then the post-spike update (which sees the
//!    first), both reading traces *before* this step's increments;
//! 6. trace increments x += 1 for spiking neurons;
//! 7. decays I ← I(1 − dt/τ_syn), x ← x(1 − dt/τ_STDP);
//!    (the current decay is done in step 2's pass over memory, right after I is read, and step
//!    4's kicks are added pre-multiplied by the decay factor: (I + k)·d = I·d + k·d, equal up to
//!    rounding);
//! 8. reset V ← V_re for spiking neurons.
//!
//! Neurons are split into contiguous chunks; each chunk owns its neurons' state and all synapses
//! onto them, so chunks run in parallel without sharing writes. Every per-neuron and per-synapse
//! sequence of operations is the same whatever the chunking, so results are bit-identical for any
//! thread count.

use std::io;

use thiserror::Error;

use crate::layout::Layout;
use crate::plasticity::PlasticityRule;
use crate::recording::{RecordSink, RecordingPlan};
use crate::spec::{NetworkSpec, SpecErrors};

mod barrier;
mod chunk;
mod deferred_post;
mod handoff;
mod live;
mod network;
mod pacing;
mod partition;
mod profile;
mod recorder;
mod snapshot;
mod state;
mod team;
mod traces;

pub use deferred_post::PostDeferral;
pub use pacing::ThreadPacing;
pub use profile::{Phase, PhaseProfile, ThreadProfile};
use profile::{Stopwatch, lap};

use chunk::{StepContext, block_stats};
use network::Network;
use pacing::Pacer;
use partition::Partition;
use state::State;

/// Why a simulation stopped early or could not start.
#[derive(Debug, Error)]
pub enum SimError {
    /// The config is invalid.
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    /// A population fired faster than the runaway guard allows.
    #[error(
        "runaway activity: population {population} fired at {rate_hz:.1} Hz over the {window_ms} ms ending at t = {t_ms} ms (guard.max_rate_hz = {limit_hz}); the network has left the balanced regime"
    )]
    Runaway {
        /// Population name.
        population: String,
        /// Measured rate (Hz).
        rate_hz: f64,
        /// The limit (Hz).
        limit_hz: f64,
        /// Window (ms).
        window_ms: f64,
        /// End of the window (ms).
        t_ms: f64,
    },
    /// A voltage became NaN.
    #[error("numerical divergence: the voltage of neuron {neuron} became NaN at t = {t_ms} ms (try a smaller dt_ms)")]
    Diverged {
        /// Neuron id.
        neuron: usize,
        /// Time (ms).
        t_ms: f64,
    },
    /// A change between runs that the simulation cannot make.
    #[error("{0}")]
    Change(String),
    /// The recorder sink failed.
    #[error("recording failed: {0}")]
    Sink(#[from] io::Error),
}

/// Options that do not change results.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Worker threads; results are identical for any value (0 counts as 1). With more than one,
    /// the simulation steps with them only while that is faster than with one thread
    /// ([`ThreadPacing`]).
    pub threads: usize,
    /// Expected firing rate (Hz) of each population, in config order (e.g. the balanced-state
    /// prediction): used only to give the threads equal work; `None` assumes 10 Hz.
    pub expected_rates_hz: Option<Vec<f64>>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            expected_rates_hz: None,
        }
    }
}

/// The chunks (neuron id ranges) a simulation of `spec` with `threads` threads is split into.
pub(crate) fn chunk_ranges(spec: &NetworkSpec, layout: &Layout, threads: usize) -> Vec<(usize, usize)> {
    Partition::new(spec, layout, threads.min(layout.n).max(1), None).chunks
}

/// A running simulation of one network: the [`Network`] it was built as (never written once
/// built) and the [`State`] that steps change.
pub struct Simulation {
    network: Network,
    state: State,
    options: SimOptions,
    /// Per-phase timing, when profiling is on with one thread.
    stopwatch: Option<Stopwatch>,
    /// Per-thread timing, when profiling is on with several.
    thread_profiles: Option<Vec<ThreadProfile>>,
    /// With several threads: team or calling thread, batch by batch.
    pacer: Pacer,
    /// Whether a team defers post-spike updates to the next step's voltage phase.
    post_deferral: PostDeferral,
}

impl Simulation {
    /// Validates `spec` and builds the network (connectivity, initial state, inputs).
    pub fn new(spec: &NetworkSpec, options: SimOptions) -> Result<Self, SimError> {
        spec.validate()?;
        let threads = options.threads.max(1);
        let build = || {
            let network = Network::build(spec, threads, options.expected_rates_hz.as_deref());
            let state = State::new(&network);
            (network, state)
        };
        let (network, state) = if threads == 1 {
            build()
        } else {
            // Connectivity is drawn in parallel on a pool of the requested size; stepping later
            // uses its own team of threads (see `team`).
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| SimError::Sink(std::io::Error::other(format!("cannot start {threads} threads: {e}"))))?
                .install(build)
        };
        Ok(Self {
            network,
            state,
            options,
            stopwatch: None,
            thread_profiles: None,
            pacer: Pacer::new(ThreadPacing::default()),
            post_deferral: PostDeferral::default(),
        })
    }

    /// The validated spec this simulation was built from.
    pub fn spec(&self) -> &NetworkSpec {
        &self.network.spec
    }

    /// The spec in force now: [`Simulation::spec`] with the plasticity and input changes made
    /// since ([`Simulation::set_plasticity`], [`Simulation::set_input`]).
    pub fn current_spec(&self) -> &NetworkSpec {
        &self.state.serial.current
    }

    /// Sizes and id ranges.
    pub fn layout(&self) -> &Layout {
        &self.network.layout
    }

    /// What will be recorded (sampled synapses and neurons included).
    pub fn recording_plan(&self) -> &RecordingPlan {
        &self.network.schedule.plan
    }

    /// The options the simulation was built with.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Simulated time so far (ms).
    pub fn time_ms(&self) -> f64 {
        self.state.serial.step as f64 * self.network.dt_ms
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.state.serial.step
    }

    /// Total steps of the configured duration.
    pub fn total_steps(&self) -> u64 {
        self.network.n_steps
    }

    /// Whether the configured duration has been simulated (a simulation may run on past it:
    /// [`Simulation::run_for`]).
    pub fn is_finished(&self) -> bool {
        self.state.serial.step >= self.network.n_steps
    }

    /// Spikes per population since the start.
    pub fn spike_counts(&self) -> &[u64] {
        &self.state.serial.spike_counts
    }

    /// Total synapses (all projections).
    pub fn synapse_count(&self) -> usize {
        self.network
            .chunks
            .iter()
            .flat_map(|c| c.parts.iter())
            .map(|p| p.len())
            .sum()
    }

    /// Synapse storage: (static synapses, their bytes, plastic synapses, their bytes), with the
    /// row pointers and, for plastic projections, weights and the backward index included.
    pub fn synapse_memory(&self) -> (usize, usize, usize, usize) {
        let mut m = (0, 0, 0, 0);
        for (wiring, chunk) in self.network.chunks.iter().zip(&self.state.chunks) {
            for ((part, proj), weights) in wiring.parts.iter().zip(&self.network.projections).zip(&chunk.weights) {
                let bytes = part.memory_bytes() + weights.capacity() * size_of::<f64>();
                if proj.plastic {
                    (m.2, m.3) = (m.2 + part.len(), m.3 + bytes);
                } else {
                    (m.0, m.1) = (m.0 + part.len(), m.1 + bytes);
                }
            }
        }
        m
    }

    /// Projections with plastic weights (those built with a rule): (config index, name, the
    /// rule in force, `None` while switched off).
    pub fn plastic_projections(&self) -> Vec<(usize, &str, Option<PlasticityRule>)> {
        self.network
            .projections
            .iter()
            .enumerate()
            .filter(|(_, p)| p.plastic)
            .map(|(i, p)| (i, p.name.as_str(), self.rule(i)))
            .collect()
    }

    /// The rule in force on projection `projection` (unscaled), if any.
    pub fn rule(&self, projection: usize) -> Option<PlasticityRule> {
        self.state.serial.current.projections[projection]
            .plasticity
            .as_ref()
            .map(|r| PlasticityRule::from_spec_sqrt_n(r, self.network.sqrt_n))
    }

    /// Mean and standard deviation of the unscaled weights of projection `projection`
    /// (its initial weight and 0 for a static projection).
    pub fn weight_stats(&self, projection: usize) -> (f64, f64) {
        if !self.network.projections[projection].plastic {
            return (self.network.spec.projections[projection].weight, 0.0);
        }
        block_stats(&self.state.chunks, projection, self.network.sqrt_n, None).0
    }

    /// Every synapse of a projection: (pre id, post id, unscaled weight), post-major.
    pub fn synapses(&self, projection: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        let proj = &self.network.projections[projection];
        let sqrt_n = self.network.sqrt_n;
        // Exact capacities: for a large projection this copy is the run's last peak of memory.
        let total: usize = self.network.chunks.iter().map(|c| c.parts[projection].len()).sum();
        let (mut pre, mut post, mut w) = (
            Vec::with_capacity(total),
            Vec::with_capacity(total),
            Vec::with_capacity(total),
        );
        for (c, state) in self.network.chunks.iter().zip(&self.state.chunks) {
            let part = &c.parts[projection];
            if proj.plastic {
                let weights = &state.weights[projection];
                for i in 0..part.post_len {
                    for (base, slots) in part.incoming(i) {
                        for s in slots {
                            pre.push((proj.pre_start + base + part.bwd_pre[s] as usize) as u32);
                            post.push((c.lo + part.post_offset + i) as u32);
                            w.push(weights[part.bwd_pos[s] as usize] * sqrt_n);
                        }
                    }
                }
            } else {
                // Static parts have no backward index: sort the chunk's (post, pre) pairs.
                let mut pairs = Vec::with_capacity(part.len());
                for k in 0..proj.n_pre {
                    for (base, segment) in part.segments(k) {
                        for t in part.targets(base, segment) {
                            pairs.push(((c.lo + base + t as usize) as u32, (proj.pre_start + k) as u32));
                        }
                    }
                }
                pairs.sort_unstable();
                post.extend(pairs.iter().map(|p| p.0));
                pre.extend(pairs.iter().map(|p| p.1));
                w.resize(post.len(), self.network.spec.projections[projection].weight);
            }
        }
        (pre, post, w)
    }

    /// Membrane voltages of all neurons (mV).
    pub fn voltages(&self) -> Vec<f64> {
        self.network
            .chunks
            .iter()
            .zip(&self.state.chunks)
            .flat_map(|(w, c)| (0..w.len()).map(|l| c.voltage(l)))
            .collect()
    }

    /// Simulates `duration_ms` more (rounded to whole steps), recording into `sink`. Call
    /// repeatedly with the same sink to run in slices; slices give the same results as one call.
    /// The configured `duration_ms` is only where [`Simulation::run`] stops: `run_for` may go on
    /// past it (the inputs do not depend on it; the runaway guard's check of a last, partial
    /// window happens at the configured end only). On `Err`, what was recorded so far is intact
    /// and the state is that at the end of the last whole step.
    pub fn run_for(&mut self, duration_ms: f64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        let steps = (duration_ms / self.network.dt_ms).round();
        // Saturating (a float-to-int cast saturates too): an infinite duration never ends.
        self.run_until_step(self.state.serial.step.saturating_add(steps as u64), sink)
    }

    /// Runs to the configured end ([`Simulation::run_for`] after it has passed: does nothing).
    pub fn run(&mut self, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        self.run_until_step(self.network.n_steps.max(self.state.serial.step), sink)
    }

    /// Steps until `target` steps are done, recording into `sink`.
    pub fn run_until_step(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        let serial = &mut self.state.serial;
        serial.stop_requested = false;
        if !serial.recorder.started {
            sink.start(&self.network.schedule.plan)?;
            serial.recorder.started = true;
        }
        self.run_steps(target, sink)
    }

    fn run_steps(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        if self.network.partition.threads() > 1 {
            // Thread profiles time the team: always use it then.
            if self.thread_profiles.is_some() {
                return self.run_steps_team(target, None, sink);
            }
            while self.state.serial.step < target && !self.state.serial.stop_requested {
                let step = self.state.serial.step;
                let batch = self.pacer.plan(step);
                let end = step.saturating_add(batch.steps).min(target);
                let started = std::time::Instant::now();
                if batch.team {
                    self.run_steps_team(end, batch.deadline, sink)?;
                } else {
                    self.run_steps_serial(end, batch.deadline, sink)?;
                }
                self.pacer
                    .observe(batch.team, self.state.serial.step - step, started.elapsed());
            }
            return Ok(());
        }
        self.run_steps_serial(target, None, sink)
    }

    /// Steps up to `target` (or, after at least one step, until `deadline`) on the calling
    /// thread, every chunk in turn.
    fn run_steps_serial(
        &mut self,
        target: u64,
        deadline: Option<std::time::Instant>,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        if let Some(s) = self.stopwatch.as_mut() {
            s.resume();
        }
        let first = self.state.serial.step;
        while self.state.serial.step < target && !self.state.serial.stop_requested {
            if self.state.serial.step > first && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                break;
            }
            self.step_once();
            let state = &mut self.state;
            for (c, chunk) in state.chunks.iter_mut().enumerate() {
                self.network.schedule.accumulate_samples(c, chunk, state.serial.step);
            }
            state.serial.after_step(&self.network, &state.chunks, sink, None)?;
            lap(&mut self.stopwatch, Phase::Recording);
        }
        Ok(())
    }

    /// How a simulation with several threads chooses between its team and the calling thread
    /// ([`ThreadPacing::Adaptive`] by default; results are the same either way).
    pub fn set_thread_pacing(&mut self, pacing: ThreadPacing) {
        self.pacer = Pacer::new(pacing);
    }

    /// Whether a team of threads does each step's post-spike updates in the next step's voltage
    /// phase, shared out among its threads ([`PostDeferral::Auto`] by default: where the weights
    /// they update outgrow the caches). Results are the same either way.
    pub fn set_post_deferral(&mut self, deferral: PostDeferral) {
        self.post_deferral = deferral;
    }

    /// Threads this simulation steps with at most (the requested number, at most one per neuron).
    pub fn threads(&self) -> usize {
        self.network.partition.threads()
    }

    /// Turns on timing: per phase of a step with one thread ([`Simulation::profile`]), per
    /// thread and activity with several ([`Simulation::thread_profile`]). Costs about 3 % of the
    /// run time at N = 5000 with one thread (more with several: each thread reads the clock at
    /// every barrier), less for larger networks.
    pub fn enable_profile(&mut self) {
        let threads = self.network.partition.threads();
        if threads > 1 {
            self.thread_profiles
                .get_or_insert_with(|| vec![ThreadProfile::default(); threads]);
        } else {
            self.stopwatch.get_or_insert_with(Stopwatch::new);
        }
    }

    /// Wall time per phase so far, if profiling is on and the run has one thread.
    pub fn profile(&self) -> Option<&PhaseProfile> {
        self.stopwatch.as_ref().map(|s| &s.profile)
    }

    /// Wall time per thread and activity so far, if profiling is on and the run has several
    /// threads (thread 0 is the calling one).
    pub fn thread_profile(&self) -> Option<&[ThreadProfile]> {
        self.thread_profiles.as_deref()
    }

    /// Sends the final weights of every plastic projection to the sink.
    pub fn write_final_weights(&self, sink: &mut dyn RecordSink) -> io::Result<()> {
        for (k, info) in self.network.schedule.plan.plastic.iter().enumerate() {
            let (pre, post, w) = self.synapses(info.projection);
            sink.final_weights(k, &pre, &post, &w)?;
        }
        Ok(())
    }

    /// One step on the calling thread (the single-chunk path; the team runs the same phases).
    fn step_once(&mut self) {
        let mut stopwatch = self.stopwatch.take();
        let (network, state) = (&self.network, &mut self.state);
        let serial = &mut state.serial;
        state.inputs.prepare(serial.step, network);
        lap(&mut stopwatch, Phase::InputGeneration);
        let ctx = StepContext {
            network,
            rules: &serial.rules,
            stimulus: &state.inputs.stimulus,
            input_spikes: &state.inputs.spikes,
        };
        for (c, w) in state.chunks.iter_mut().zip(&network.chunks) {
            c.kick_inputs(w, &ctx);
        }
        lap(&mut stopwatch, Phase::InputDelivery);
        for (c, w) in state.chunks.iter_mut().zip(&network.chunks) {
            c.update_neurons(w, &ctx);
        }
        lap(&mut stopwatch, Phase::NeuronUpdate);
        serial.spikes.clear();
        for c in &state.chunks {
            serial.spikes.extend_from_slice(&c.spikes);
        }
        for (c, w) in state.chunks.iter_mut().zip(&network.chunks) {
            c.deliver(w, &ctx, &serial.spikes, &serial.traces, true, &mut |phase| {
                lap(&mut stopwatch, phase)
            });
            c.finish(w, &ctx);
        }
        serial.epilogue(network);
        lap(&mut stopwatch, Phase::TracesAndReset);
        self.stopwatch = stopwatch;
    }
}
