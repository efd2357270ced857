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

use rand::RngExt;
use rayon::prelude::*;
use thiserror::Error;

use crate::connectivity::{ChunkSynapses, Rows};
use crate::input::ExternalInput;
use crate::layout::{Layout, Source};
use crate::neuron::Eif;
use crate::plasticity::PlasticityRule;
use crate::recording::{RecordSink, RecordingPlan};
use crate::rng::{Purpose, stream};
use crate::spec::{NetworkSpec, SpecErrors};

/// What every chunk reads during a step, borrowed field by field (so the chunks stay mutable).
/// `step_context!(delivery: sim)` leaves the step's inputs out: the delivery phase does not read
/// them, and a team thread may be preparing the next step's meanwhile.
macro_rules! step_context {
    ($sim:expr) => {
        step_context!(@ $sim, &$sim.stimulus, &$sim.input_spikes)
    };
    (delivery: $sim:expr) => {
        step_context!(@ $sim, &[], &[])
    };
    (@ $sim:expr, $stimulus:expr, $input_spikes:expr) => {
        StepContext {
            projections: &$sim.projections,
            eif: &$sim.eif,
            stimulus: $stimulus,
            input_spikes: $input_spikes,
            current_decay: &$sim.current_decay,
            pop_ranges: &$sim.pop_ranges,
        }
    };
}

mod chunk;
mod live;
mod pacing;
mod partition;
mod profile;
mod recorder;
mod snapshot;
mod team;
mod traces;

pub use pacing::ThreadPacing;
pub use profile::{Phase, PhaseProfile, ThreadProfile};
use profile::{Stopwatch, lap};

use chunk::{Chunk, ProjectionRuntime, StepContext, block_stats};
use pacing::Pacer;
use partition::Partition;
use recorder::Recorder;
use traces::TraceSet;

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

/// A stimulus resolved to steps.
#[derive(Debug, Clone)]
struct StimulusRuntime {
    population: usize,
    current: f64,
    start_ms: f64,
    stop_ms: f64,
}

/// A running simulation of one network.
pub struct Simulation {
    /// The config the network was built from.
    spec: NetworkSpec,
    /// The same with the changes made since ([`Simulation::set_plasticity`],
    /// [`Simulation::set_input`]): the one description of the plasticity rules and input
    /// parameters in force; the engine's compiled rules derive from it.
    current: NetworkSpec,
    layout: Layout,
    options: SimOptions,
    dt_ms: f64,
    sqrt_n: f64,
    step: u64,
    n_steps: u64,
    projections: Vec<ProjectionRuntime>,
    chunks: Vec<Chunk>,
    /// Which thread advances and delivers to which chunks.
    partition: Partition,
    eif: Vec<Eif>,
    pop_ranges: Vec<(usize, usize)>,
    stimuli: Vec<StimulusRuntime>,
    stimulus: Vec<f64>,
    inputs: Vec<ExternalInput>,
    input_spikes: Vec<Vec<u32>>,
    /// The step whose external spikes and stimuli `input_spikes` and `stimulus` hold.
    inputs_ready_for: Option<u64>,
    spikes: Vec<u32>,
    /// One set of traces per distinct STDP time constant.
    traces: Vec<TraceSet>,
    /// Their time constants (ms).
    trace_taus: Vec<f64>,
    current_decay: Vec<f64>,
    spike_counts: Vec<u64>,
    recorder: Recorder,
    /// Per-phase timing, when profiling is on with one thread.
    stopwatch: Option<Stopwatch>,
    /// Per-thread timing, when profiling is on with several.
    thread_profiles: Option<Vec<ThreadProfile>>,
    /// With several threads: team or calling thread, batch by batch.
    pacer: Pacer,
    /// The sink asked to stop after the last step ([`RecordSink::stop_requested`]).
    stop_requested: bool,
}

impl Simulation {
    /// Validates `spec` and builds the network (connectivity, initial state, inputs).
    pub fn new(spec: &NetworkSpec, options: SimOptions) -> Result<Self, SimError> {
        spec.validate()?;
        let threads = options.threads.max(1);
        if threads == 1 {
            return Self::build(spec, options, 1);
        }
        // Connectivity is drawn in parallel on a pool of the requested size; stepping later uses
        // its own team of threads (see `team`).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| SimError::Sink(std::io::Error::other(format!("cannot start {threads} threads: {e}"))))?;
        pool.install(|| Self::build(spec, options, threads))
    }

    fn build(spec: &NetworkSpec, options: SimOptions, threads: usize) -> Result<Self, SimError> {
        let layout = Layout::new(spec);
        let n = layout.n;
        let dt = spec.dt_ms;
        let sqrt_n = spec.sqrt_n();
        let sources = layout.sources();
        let tau_of = |s: Source| match s {
            Source::Population(p) => spec.populations[p].tau_syn_ms,
            Source::Input(x) => spec.inputs[x].tau_syn_ms,
        };
        let current_decay: Vec<f64> = sources.iter().map(|&s| 1.0 - dt / tau_of(s)).collect();

        // Distinct trace time constants, in order of first use.
        let mut trace_taus: Vec<f64> = vec![];
        let mut projections = vec![];
        for p in &spec.projections {
            let source = layout.source(&p.from).expect("validated");
            let post_pop = layout.population(&p.to).expect("validated");
            let rule = p
                .plasticity
                .as_ref()
                .map(|r| PlasticityRule::from_spec_sqrt_n(r, sqrt_n));
            let trace = match &rule {
                Some(r) => trace_index(&mut trace_taus, r.tau_ms),
                None => 0,
            };
            let inv_tau = 1.0 / tau_of(source);
            let w0 = p.weight / sqrt_n;
            projections.push(ProjectionRuntime {
                name: format!("{}_to_{}", p.from, p.to),
                source,
                current: layout.source_index(source),
                pre_start: match source {
                    Source::Population(pi) => layout.populations[pi].start,
                    Source::Input(_) => 0,
                },
                n_pre: layout.source_len(source),
                post_pop,
                inv_tau,
                static_kick: w0 * inv_tau,
                decay: current_decay[layout.source_index(source)],
                rule: rule.as_ref().map(|r| r.scaled(sqrt_n)),
                trace,
            });
        }

        let partition = Partition::new(
            spec,
            &layout,
            threads.min(n).max(1),
            options.expected_rates_hz.as_deref(),
        );
        let pop_ranges: Vec<(usize, usize)> = layout.populations.iter().map(|p| (p.start, p.start + p.len)).collect();
        let mut chunks: Vec<Chunk> = partition
            .chunks
            .iter()
            .map(|&(lo, hi)| {
                let segments = pop_ranges
                    .iter()
                    .enumerate()
                    .filter_map(|(pi, &(a, b))| {
                        let (a, b) = (a.max(lo), b.min(hi));
                        (a < b).then(|| (pi, a - lo, b - lo))
                    })
                    .collect();
                Chunk::new(lo, hi, spec.precision, sources.len(), segments)
            })
            .collect();
        for (pi, (p, proj)) in spec.projections.iter().zip(&projections).enumerate() {
            let post = &layout.populations[proj.post_pop];
            let rows = Rows::bernoulli(spec.seed, pi, proj.n_pre, post.len, p.probability);
            let parts: Vec<ChunkSynapses> = chunks
                .par_iter()
                .map(|c| {
                    let a = post.start.max(c.lo);
                    let b = (post.start + post.len).min(c.hi).max(a);
                    ChunkSynapses::from_rows(
                        &rows,
                        a - post.start,
                        b - post.start,
                        a - c.lo,
                        proj.rule.is_some(),
                        p.weight / sqrt_n,
                    )
                })
                .collect();
            for (c, part) in chunks.iter_mut().zip(parts) {
                c.parts.push(part);
            }
        }

        // Initial voltages: one stream per population, uniform on [v_init_min, v_init_max].
        for (pi, (pop, ps)) in layout.populations.iter().zip(&spec.populations).enumerate() {
            let mut rng = stream(spec.seed, Purpose::InitialVoltage, pi as u64, 0);
            let (lo_v, hi_v) = (ps.neuron.v_init_min_mv, ps.neuron.v_init_max_mv);
            for id in pop.range() {
                let v = lo_v + (hi_v - lo_v) * rng.random::<f64>();
                let c = chunks
                    .iter_mut()
                    .find(|c| c.lo <= id && id < c.hi)
                    .expect("ids are covered");
                c.set_voltage(id - c.lo, v);
            }
        }

        let inputs = spec
            .inputs
            .iter()
            .enumerate()
            .map(|(xi, x)| {
                ExternalInput::new(
                    x,
                    layout.inputs[xi].len,
                    stream(spec.seed, Purpose::Input, xi as u64, 0),
                )
            })
            .collect();
        let eif = spec.populations.iter().map(|p| Eif::new(&p.neuron, dt)).collect();
        let stimuli = spec
            .stimuli
            .iter()
            .map(|s| StimulusRuntime {
                population: layout.population(&s.population).expect("validated"),
                current: s.current * sqrt_n,
                start_ms: s.start_ms,
                stop_ms: s.stop_ms.unwrap_or(f64::INFINITY),
            })
            .collect();

        let recorder = Recorder::plan(spec, &layout, &projections, &chunks);
        Ok(Self {
            spec: spec.clone(),
            current: spec.clone(),
            pop_ranges,
            stimulus: vec![0.0; layout.populations.len()],
            input_spikes: vec![vec![]; layout.inputs.len()],
            inputs_ready_for: None,
            spike_counts: vec![0; layout.populations.len()],
            traces: trace_taus.iter().map(|t| TraceSet::new(n, 1.0 - dt / t)).collect(),
            trace_taus,
            layout,
            options,
            dt_ms: dt,
            sqrt_n,
            step: 0,
            n_steps: spec.n_steps(),
            projections,
            chunks,
            partition,
            eif,
            stimuli,
            inputs,
            spikes: vec![],
            current_decay,
            recorder,
            stopwatch: None,
            thread_profiles: None,
            pacer: Pacer::new(ThreadPacing::default()),
            stop_requested: false,
        })
    }

    /// The validated spec this simulation was built from.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// The spec in force now: [`Simulation::spec`] with the plasticity and input changes made
    /// since ([`Simulation::set_plasticity`], [`Simulation::set_input`]).
    pub fn current_spec(&self) -> &NetworkSpec {
        &self.current
    }

    /// Sizes and id ranges.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// What will be recorded (sampled synapses and neurons included).
    pub fn recording_plan(&self) -> &RecordingPlan {
        &self.recorder.plan
    }

    /// The options the simulation was built with.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Simulated time so far (ms).
    pub fn time_ms(&self) -> f64 {
        self.step as f64 * self.dt_ms
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// Total steps of the configured duration.
    pub fn total_steps(&self) -> u64 {
        self.n_steps
    }

    /// Whether the configured duration has been simulated (a simulation may run on past it:
    /// [`Simulation::run_for`]).
    pub fn is_finished(&self) -> bool {
        self.step >= self.n_steps
    }

    /// Spikes per population since the start.
    pub fn spike_counts(&self) -> &[u64] {
        &self.spike_counts
    }

    /// Total synapses (all projections).
    pub fn synapse_count(&self) -> usize {
        self.chunks.iter().flat_map(|c| c.parts.iter()).map(|p| p.len()).sum()
    }

    /// Synapse storage: (static synapses, their bytes, plastic synapses, their bytes), with the
    /// row pointers and, for plastic projections, weights and the backward index included.
    pub fn synapse_memory(&self) -> (usize, usize, usize, usize) {
        let mut m = (0, 0, 0, 0);
        for c in &self.chunks {
            for (part, proj) in c.parts.iter().zip(&self.projections) {
                if proj.rule.is_some() {
                    (m.2, m.3) = (m.2 + part.len(), m.3 + part.memory_bytes());
                } else {
                    (m.0, m.1) = (m.0 + part.len(), m.1 + part.memory_bytes());
                }
            }
        }
        m
    }

    /// Projections with plastic weights (those built with a rule): (config index, name, the
    /// rule in force, `None` while switched off).
    pub fn plastic_projections(&self) -> Vec<(usize, &str, Option<PlasticityRule>)> {
        self.projections
            .iter()
            .enumerate()
            .filter(|(_, p)| p.rule.is_some())
            .map(|(i, p)| (i, p.name.as_str(), self.rule(i)))
            .collect()
    }

    /// The rule in force on projection `projection` (unscaled), if any.
    pub fn rule(&self, projection: usize) -> Option<PlasticityRule> {
        self.current.projections[projection]
            .plasticity
            .as_ref()
            .map(|r| PlasticityRule::from_spec_sqrt_n(r, self.sqrt_n))
    }

    /// Mean and standard deviation of the unscaled weights of projection `projection`
    /// (its initial weight and 0 for a static projection).
    pub fn weight_stats(&self, projection: usize) -> (f64, f64) {
        if self.projections[projection].rule.is_none() {
            return (self.spec.projections[projection].weight, 0.0);
        }
        block_stats(&self.chunks, projection, self.sqrt_n, None).0
    }

    /// Every synapse of a projection: (pre id, post id, unscaled weight), post-major.
    pub fn synapses(&self, projection: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        let proj = &self.projections[projection];
        // Exact capacities: for a large projection this copy is the run's last peak of memory.
        let total: usize = self.chunks.iter().map(|c| c.parts[projection].len()).sum();
        let (mut pre, mut post, mut w) = (
            Vec::with_capacity(total),
            Vec::with_capacity(total),
            Vec::with_capacity(total),
        );
        for c in &self.chunks {
            let part = &c.parts[projection];
            if proj.rule.is_some() {
                for i in 0..part.post_len {
                    for (base, slots) in part.incoming(i) {
                        for s in slots {
                            pre.push((proj.pre_start + base + part.bwd_pre[s] as usize) as u32);
                            post.push((c.lo + part.post_offset + i) as u32);
                            w.push(part.weights[part.bwd_pos[s] as usize] * self.sqrt_n);
                        }
                    }
                }
            } else {
                // Static parts have no backward index: sort the chunk's (post, pre) pairs.
                let mut pairs = Vec::with_capacity(part.len());
                for k in 0..proj.n_pre {
                    for (base, segment) in part.segments(k) {
                        for &t in &part.fwd_target[segment] {
                            pairs.push(((c.lo + base + t as usize) as u32, (proj.pre_start + k) as u32));
                        }
                    }
                }
                pairs.sort_unstable();
                post.extend(pairs.iter().map(|p| p.0));
                pre.extend(pairs.iter().map(|p| p.1));
                w.resize(post.len(), self.spec.projections[projection].weight);
            }
        }
        (pre, post, w)
    }

    /// Membrane voltages of all neurons (mV).
    pub fn voltages(&self) -> Vec<f64> {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.hi - c.lo).map(|l| c.voltage(l)))
            .collect()
    }

    /// Simulates `duration_ms` more (rounded to whole steps), recording into `sink`. Call
    /// repeatedly with the same sink to run in slices; slices give the same results as one call.
    /// The configured `duration_ms` is only where [`Simulation::run`] stops: `run_for` may go on
    /// past it (the inputs do not depend on it; the runaway guard's check of a last, partial
    /// window happens at the configured end only). On `Err`, what was recorded so far is intact
    /// and the state is that at the end of the last whole step.
    pub fn run_for(&mut self, duration_ms: f64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        let steps = (duration_ms / self.dt_ms).round();
        // Saturating (a float-to-int cast saturates too): an infinite duration never ends.
        self.run_until_step(self.step.saturating_add(steps as u64), sink)
    }

    /// Runs to the configured end ([`Simulation::run_for`] after it has passed: does nothing).
    pub fn run(&mut self, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        self.run_until_step(self.n_steps.max(self.step), sink)
    }

    /// Steps until `target` steps are done, recording into `sink`.
    pub fn run_until_step(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        self.stop_requested = false;
        if !self.recorder.started {
            sink.start(&self.recorder.plan)?;
            self.recorder.started = true;
        }
        self.run_steps(target, sink)
    }

    fn run_steps(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        if self.partition.threads() > 1 {
            // Thread profiles time the team: always use it then.
            if self.thread_profiles.is_some() {
                return self.run_steps_team(target, None, sink);
            }
            while self.step < target && !self.stop_requested {
                let batch = self.pacer.plan(self.step);
                let end = self.step.saturating_add(batch.steps).min(target);
                let (start, started) = (self.step, std::time::Instant::now());
                if batch.team {
                    self.run_steps_team(end, batch.deadline, sink)?;
                } else {
                    self.run_steps_serial(end, batch.deadline, sink)?;
                }
                self.pacer.observe(batch.team, self.step - start, started.elapsed());
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
        let first = self.step;
        while self.step < target && !self.stop_requested {
            if self.step > first && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                break;
            }
            self.step_once();
            self.after_step(sink, None)?;
            lap(&mut self.stopwatch, Phase::Recording);
        }
        Ok(())
    }

    /// How a simulation with several threads chooses between its team and the calling thread
    /// ([`ThreadPacing::Adaptive`] by default; results are the same either way).
    pub fn set_thread_pacing(&mut self, pacing: ThreadPacing) {
        self.pacer = Pacer::new(pacing);
    }

    /// Threads this simulation steps with at most (the requested number, at most one per neuron).
    pub fn threads(&self) -> usize {
        self.partition.threads()
    }

    /// Turns on timing: per phase of a step with one thread ([`Simulation::profile`]), per
    /// thread and activity with several ([`Simulation::thread_profile`]). Costs about 3 % of the
    /// run time at N = 5000 with one thread (more with several: each thread reads the clock at
    /// every barrier), less for larger networks.
    pub fn enable_profile(&mut self) {
        if self.partition.threads() > 1 {
            self.thread_profiles
                .get_or_insert_with(|| vec![ThreadProfile::default(); self.partition.threads()]);
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

    /// Divergence check, records and runaway guard after a step (`weight_stats`: see
    /// [`Recorder::record`]).
    fn after_step(&mut self, sink: &mut dyn RecordSink, weight_stats: Option<&[(f64, f64)]>) -> Result<(), SimError> {
        if let Some(neuron) = self.chunks.iter().find_map(|c| c.nan_neuron) {
            return Err(SimError::Diverged {
                neuron,
                t_ms: self.time_ms(),
            });
        }
        let max_rate_hz = self.spec.guard.max_rate_hz;
        self.recorder.record(
            self.step,
            self.dt_ms,
            self.sqrt_n,
            &self.chunks,
            &self.spikes,
            &self.layout,
            max_rate_hz,
            self.n_steps,
            weight_stats,
            sink,
        )?;
        self.stop_requested = sink.stop_requested();
        Ok(())
    }

    /// Sends the final weights of every plastic projection to the sink.
    pub fn write_final_weights(&self, sink: &mut dyn RecordSink) -> io::Result<()> {
        for (k, info) in self.recorder.plan.plastic.iter().enumerate() {
            let (pre, post, w) = self.synapses(info.projection);
            sink.final_weights(k, &pre, &post, &w)?;
        }
        Ok(())
    }

    /// One step on the calling thread (the single-chunk path; the team runs the same phases).
    fn step_once(&mut self) {
        let mut stopwatch = self.stopwatch.take();
        self.prelude();
        lap(&mut stopwatch, Phase::InputGeneration);
        let ctx = step_context!(self);
        for c in self.chunks.iter_mut() {
            c.kick_inputs(&ctx);
        }
        lap(&mut stopwatch, Phase::InputDelivery);
        for c in self.chunks.iter_mut() {
            c.update_neurons(&ctx);
        }
        lap(&mut stopwatch, Phase::NeuronUpdate);
        self.gather();
        let ctx = step_context!(self);
        for c in self.chunks.iter_mut() {
            c.deliver(&ctx, &self.spikes, &self.traces, &mut |phase| {
                lap(&mut stopwatch, phase)
            });
            c.finish(&ctx);
        }
        self.epilogue();
        lap(&mut stopwatch, Phase::TracesAndReset);
        self.stopwatch = stopwatch;
    }

    /// Step 1 prerequisites for the next step (unless they are ready already).
    fn prelude(&mut self) {
        if self.inputs_ready_for != Some(self.step) {
            let stimulus = StimulusInputs {
                stimuli: &self.stimuli,
                stimulus: &mut self.stimulus,
            };
            prepare_inputs(
                self.step,
                self.dt_ms,
                &mut self.inputs,
                &mut self.input_spikes,
                stimulus,
            );
            self.inputs_ready_for = Some(self.step);
        }
    }

    /// This step's spikes of all chunks, in id order.
    fn gather(&mut self) {
        self.spikes.clear();
        for c in &self.chunks {
            self.spikes.extend_from_slice(&c.spikes);
        }
    }

    /// After steps 4–5 and 8: traces take this step's spikes and decay (steps 6–7; plasticity
    /// has read them as they were), spikes are counted, the step is done.
    fn epilogue(&mut self) {
        for t in &mut self.traces {
            t.advance(&self.spikes);
        }
        for &s in &self.spikes {
            let pop = self.pop_ranges.partition_point(|&(_, end)| end <= s as usize);
            self.spike_counts[pop] += 1;
            self.recorder.rate_counts[pop] += 1;
            self.recorder.guard_counts[pop] += 1;
        }
        self.step += 1;
    }
}

/// The trace time constants of the rules `spec` builds with, in order of first use.
fn built_trace_taus(spec: &NetworkSpec) -> Vec<f64> {
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

/// The stimuli and the per-population stimulus current they add up to.
struct StimulusInputs<'a> {
    stimuli: &'a [StimulusRuntime],
    stimulus: &'a mut [f64],
}

/// Step 1 prerequisites of step `step`: external spikes with time ≤ t = (step + 1)·dt into
/// `input_spikes`, and the stimulus current of each population at t. A free function over the
/// fields it needs, so that a team thread can run it while others read the rest.
fn prepare_inputs(
    step: u64,
    dt_ms: f64,
    inputs: &mut [ExternalInput],
    input_spikes: &mut [Vec<u32>],
    s: StimulusInputs,
) {
    let t = (step + 1) as f64 * dt_ms;
    for (input, spikes) in inputs.iter_mut().zip(input_spikes.iter_mut()) {
        spikes.clear();
        input.spikes_until(t, spikes);
    }
    s.stimulus.fill(0.0);
    for stim in s.stimuli {
        if stim.start_ms <= t && t < stim.stop_ms {
            s.stimulus[stim.population] += stim.current;
        }
    }
}
