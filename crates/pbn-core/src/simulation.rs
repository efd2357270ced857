//! The simulation engine: builds a network from a spec and integrates it step by step.
//!
//! Per time step i (t_i = i·dt), exactly the order of MODEL.md §2.7:
//! 1. external spikes with time ≤ t_i kick their targets' currents (J/τ);
//! 2. forward-Euler voltage update with the summed currents and stimuli;
//! 3. spike detection (V ≥ V_th);
//! 4. recurrent kicks from this step's spikes, with the weights *before* this step's plasticity;
//! 5. plasticity: per synapse, the pre-spike update, then the post-spike update (which sees the
//!    first), both reading traces *before* this step's increments;
//! 6. trace increments x += 1 for spiking neurons;
//! 7. decays I ← I(1 − dt/τ_syn), x ← x(1 − dt/τ_STDP);
//! 8. reset V ← V_re for spiking neurons.
//!
//! Neurons are split into contiguous chunks; each chunk owns its neurons' state and all synapses
//! onto them, so chunks run in parallel without sharing writes. Every per-neuron and per-synapse
//! sequence of operations is the same whatever the chunking, so results are bit-identical for any
//! thread count.

use std::io;

use rand::RngExt;
use rand::seq::index::sample;
use rayon::prelude::*;
use thiserror::Error;

use crate::connectivity::{ChunkSynapses, Rows};
use crate::input::ExternalInput;
use crate::layout::{Layout, Source};
use crate::neuron::{Eif, decay};
use crate::plasticity::{PlasticityRule, ScaledRule};
use crate::recording::{PlasticInfo, PopulationInfo, RecordSink, RecordingPlan};
use crate::rng::{Purpose, stream};
use crate::spec::{NetworkSpec, SpecErrors};

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
    /// The recorder sink failed.
    #[error("recording failed: {0}")]
    Sink(#[from] io::Error),
}

/// Options that do not change results.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Worker threads (and chunks); results are identical for any value.
    pub threads: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { threads: 1 }
    }
}

/// A projection as the engine uses it.
#[derive(Debug, Clone)]
struct ProjectionRuntime {
    name: String,
    source: Source,
    current: usize,
    pre_start: usize,
    n_pre: usize,
    post_pop: usize,
    inv_tau: f64,
    static_kick: f64,
    rule: Option<ScaledRule>,
    trace: usize,
}

/// Per-step data every chunk reads.
struct StepContext<'a> {
    projections: &'a [ProjectionRuntime],
    eif: &'a [Eif],
    stimulus: &'a [f64],
    input_spikes: &'a [Vec<u32>],
    current_decay: &'a [f64],
    trace_decay: &'a [f64],
    pop_ranges: &'a [(usize, usize)],
}

/// A contiguous range of neurons with their state and incoming synapses.
struct Chunk {
    lo: usize,
    hi: usize,
    v: Vec<f64>,
    currents: Vec<Vec<f64>>,
    total: Vec<f64>,
    parts: Vec<ChunkSynapses>,
    /// (population, chunk-local start, chunk-local end).
    segments: Vec<(usize, usize, usize)>,
    spikes: Vec<u32>,
    nan_neuron: Option<usize>,
}

impl Chunk {
    /// Steps 1–3 for this chunk.
    fn advance(&mut self, ctx: &StepContext) {
        for (p, proj) in ctx.projections.iter().enumerate() {
            if let Source::Input(x) = proj.source {
                let part = &self.parts[p];
                let cur = &mut self.currents[proj.current];
                for &k in &ctx.input_spikes[x] {
                    for &t in &part.fwd_target[part.row_range(k as usize)] {
                        cur[t as usize] += proj.static_kick;
                    }
                }
            }
        }
        for &(pop, a, b) in &self.segments {
            let currents: Vec<&[f64]> = self.currents.iter().map(|c| &c[a..b]).collect();
            ctx.eif[pop].step(&mut self.v[a..b], &currents, ctx.stimulus[pop], &mut self.total[a..b]);
        }
        self.spikes.clear();
        for &(pop, a, b) in &self.segments {
            let v_th = ctx.eif[pop].v_th;
            // Spikes are rare: test blocks of 8 without branches (`!(v < v_th)` also counts NaN
            // as a hit, so divergence is caught; it measured 6 % faster than `v >= v_th ||
            // v.is_nan()`), and look inside a block only when it has a hit.
            for (block, vs) in self.v[a..b].chunks(8).enumerate() {
                #[allow(clippy::neg_cmp_op_on_partial_ord)]
                let hit = vs.iter().fold(false, |hit, &v| hit | !(v < v_th));
                if !hit {
                    continue;
                }
                for (l, &v) in vs.iter().enumerate() {
                    let id = self.lo + a + block * 8 + l;
                    if v >= v_th {
                        self.spikes.push(id as u32);
                    } else if v.is_nan() && self.nan_neuron.is_none() {
                        self.nan_neuron = Some(id);
                    }
                }
            }
        }
    }

    /// Steps 4–5 for the synapses onto this chunk.
    fn deliver(&mut self, ctx: &StepContext, spikes: &[u32], traces: &[Vec<f64>]) {
        for (p, proj) in ctx.projections.iter().enumerate() {
            if let Source::Input(_) = proj.source {
                continue;
            }
            let pre_spikes = spikes_in(spikes, proj.pre_start, proj.pre_start + proj.n_pre);
            let part = &mut self.parts[p];
            let cur = &mut self.currents[proj.current];
            let Some(rule) = proj.rule else {
                for &s in pre_spikes {
                    for &t in &part.fwd_target[part.row_range(s as usize - proj.pre_start)] {
                        cur[t as usize] += proj.static_kick;
                    }
                }
                continue;
            };
            let x = &traces[proj.trace];
            for &s in pre_spikes {
                let row = part.row_range(s as usize - proj.pre_start);
                let targets = &part.fwd_target[row.clone()];
                let weights = &mut part.weights[row];
                if rule.pre.active {
                    for (&t, w) in targets.iter().zip(weights) {
                        cur[t as usize] += *w * proj.inv_tau;
                        *w = rule.on_pre(*w, x[self.lo + t as usize]);
                    }
                } else {
                    for (&t, w) in targets.iter().zip(weights) {
                        cur[t as usize] += *w * proj.inv_tau;
                    }
                }
            }
            if rule.post.active && part.post_len > 0 {
                let first = self.lo + part.post_offset;
                for &s in spikes_in(&self.spikes, first, first + part.post_len) {
                    let i = s as usize - first;
                    for slot in part.incoming_range(i) {
                        let f = part.bwd_pos[slot] as usize;
                        let pre = proj.pre_start + part.bwd_pre[slot] as usize;
                        part.weights[f] = rule.on_post(part.weights[f], x[pre]);
                    }
                }
            }
        }
    }

    /// Steps 6–8 for this chunk; `traces` are this chunk's slices of every trace array.
    fn finish(&mut self, ctx: &StepContext, traces: Vec<&mut [f64]>) {
        for (x, &d) in traces.into_iter().zip(ctx.trace_decay) {
            for &s in &self.spikes {
                x[s as usize - self.lo] += 1.0;
            }
            decay(x, d);
        }
        for (cur, &d) in self.currents.iter_mut().zip(ctx.current_decay) {
            decay(cur, d);
        }
        for &s in &self.spikes {
            let id = s as usize;
            let pop = ctx.pop_ranges.partition_point(|&(_, end)| end <= id);
            self.v[id - self.lo] = ctx.eif[pop].v_re;
        }
    }
}

/// The ids in a sorted spike list that fall in [lo, hi).
fn spikes_in(spikes: &[u32], lo: usize, hi: usize) -> &[u32] {
    let a = spikes.partition_point(|&s| (s as usize) < lo);
    let b = spikes.partition_point(|&s| (s as usize) < hi);
    &spikes[a..b]
}

/// A stimulus resolved to steps.
#[derive(Debug, Clone)]
struct StimulusRuntime {
    population: usize,
    current: f64,
    start_ms: f64,
    stop_ms: f64,
}

/// Where a recorded synapse lives: its chunk and forward position.
#[derive(Debug, Clone, Copy)]
struct SynapseRef {
    chunk: usize,
    pos: usize,
}

/// Recording state.
struct Recorder {
    plan: RecordingPlan,
    started: bool,
    rate_bin_steps: u64,
    rate_counts: Vec<u64>,
    weight_steps: u64,
    weight_samples: Vec<Vec<SynapseRef>>,
    neuron_steps: u64,
    neuron_refs: Vec<(usize, usize)>,
    v_sum: Vec<f64>,
    current_sum: Vec<f64>,
    guard_steps: u64,
    guard_counts: Vec<u64>,
}

/// A running simulation of one network.
pub struct Simulation {
    spec: NetworkSpec,
    layout: Layout,
    options: SimOptions,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    dt_ms: f64,
    sqrt_n: f64,
    step: u64,
    n_steps: u64,
    projections: Vec<ProjectionRuntime>,
    rules: Vec<Option<PlasticityRule>>,
    chunks: Vec<Chunk>,
    eif: Vec<Eif>,
    pop_ranges: Vec<(usize, usize)>,
    stimuli: Vec<StimulusRuntime>,
    stimulus: Vec<f64>,
    inputs: Vec<ExternalInput>,
    input_spikes: Vec<Vec<u32>>,
    spikes: Vec<u32>,
    traces: Vec<Vec<f64>>,
    trace_decay: Vec<f64>,
    current_decay: Vec<f64>,
    spike_counts: Vec<u64>,
    recorder: Recorder,
}

impl Simulation {
    /// Validates `spec` and builds the network (connectivity, initial state, inputs).
    pub fn new(spec: &NetworkSpec, options: SimOptions) -> Result<Self, SimError> {
        spec.validate()?;
        let threads = options.threads.max(1);
        let pool = (threads > 1).then(|| {
            std::sync::Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("thread pool"),
            )
        });
        match &pool {
            Some(p) => p.install(|| Self::build(spec, options, threads)),
            None => Self::build(spec, options, 1),
        }
        .map(|mut sim| {
            sim.pool = pool;
            sim
        })
    }

    fn build(spec: &NetworkSpec, options: SimOptions, n_chunks: usize) -> Result<Self, SimError> {
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
        let mut rules = vec![];
        let mut projections = vec![];
        for p in &spec.projections {
            let source = layout.source(&p.from).expect("validated");
            let post_pop = layout.population(&p.to).expect("validated");
            let rule = p.plasticity.as_ref().map(|r| PlasticityRule::from_spec(r, spec.n));
            let trace = match &rule {
                Some(r) => match trace_taus.iter().position(|&t| t == r.tau_ms) {
                    Some(i) => i,
                    None => {
                        trace_taus.push(r.tau_ms);
                        trace_taus.len() - 1
                    }
                },
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
                rule: rule.as_ref().map(|r| r.scaled(sqrt_n)),
                trace,
            });
            rules.push(rule);
        }

        // Chunk boundaries: equal shares of the neurons.
        let bounds: Vec<(usize, usize)> = (0..n_chunks)
            .map(|c| (c * n / n_chunks, (c + 1) * n / n_chunks))
            .collect();
        let pop_ranges: Vec<(usize, usize)> = layout.populations.iter().map(|p| (p.start, p.start + p.len)).collect();
        let mut chunks: Vec<Chunk> = bounds
            .iter()
            .map(|&(lo, hi)| {
                let segments = pop_ranges
                    .iter()
                    .enumerate()
                    .filter_map(|(pi, &(a, b))| {
                        let (a, b) = (a.max(lo), b.min(hi));
                        (a < b).then_some((pi, a - lo, b - lo))
                    })
                    .collect();
                Chunk {
                    lo,
                    hi,
                    v: vec![0.0; hi - lo],
                    currents: vec![vec![0.0; hi - lo]; sources.len()],
                    total: vec![0.0; hi - lo],
                    parts: Vec::with_capacity(projections.len()),
                    segments,
                    spikes: vec![],
                    nan_neuron: None,
                }
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
                c.v[id - c.lo] = v;
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
                    spec.duration_ms,
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

        let recorder = Self::plan_recording(spec, &layout, &projections, &chunks);
        Ok(Self {
            spec: spec.clone(),
            pop_ranges,
            stimulus: vec![0.0; layout.populations.len()],
            input_spikes: vec![vec![]; layout.inputs.len()],
            spike_counts: vec![0; layout.populations.len()],
            traces: vec![vec![0.0; n]; trace_taus.len()],
            trace_decay: trace_taus.iter().map(|t| 1.0 - dt / t).collect(),
            layout,
            options,
            pool: None,
            dt_ms: dt,
            sqrt_n,
            step: 0,
            n_steps: spec.n_steps(),
            projections,
            rules,
            chunks,
            eif,
            stimuli,
            inputs,
            spikes: vec![],
            current_decay,
            recorder,
        })
    }

    fn plan_recording(
        spec: &NetworkSpec,
        layout: &Layout,
        projections: &[ProjectionRuntime],
        chunks: &[Chunk],
    ) -> Recorder {
        let r = &spec.record;
        let steps = |ms: f64| ((ms / spec.dt_ms).round() as u64).max(1);
        let mut plastic = vec![];
        let mut weight_samples = vec![];
        for (pi, proj) in projections.iter().enumerate() {
            if proj.rule.is_none() {
                continue;
            }
            let sizes: Vec<usize> = chunks.iter().map(|c| c.parts[pi].bwd_pre.len()).collect();
            let total: usize = sizes.iter().sum();
            let k = (r.weight_samples as usize).min(total);
            let mut rng = stream(spec.seed, Purpose::WeightSample, pi as u64, 0);
            let mut picks = sample(&mut rng, total, k).into_vec();
            picks.sort_unstable();
            let post_start = layout.populations[proj.post_pop].start;
            let (mut refs, mut pre, mut post) = (vec![], vec![], vec![]);
            for g in picks {
                let (mut chunk, mut pos) = (0, g);
                while pos >= sizes[chunk] {
                    pos -= sizes[chunk];
                    chunk += 1;
                }
                let part = &chunks[chunk].parts[pi];
                let i = part.bwd_ptr.partition_point(|&o| o as usize <= pos) - 1;
                refs.push(SynapseRef {
                    chunk,
                    pos: part.bwd_pos[pos] as usize,
                });
                pre.push((proj.pre_start + part.bwd_pre[pos] as usize) as u32);
                post.push((chunks[chunk].lo + part.post_offset + i) as u32);
                debug_assert!(post.last().map(|&p| p as usize >= post_start).unwrap_or(true));
            }
            plastic.push(PlasticInfo {
                projection: pi,
                name: proj.name.clone(),
                synapses: total,
                sample_pre: pre,
                sample_post: post,
            });
            weight_samples.push(refs);
        }
        let mut sampled = vec![];
        for (pi, pop) in layout.populations.iter().enumerate() {
            let k = (r.neuron_samples as usize).min(pop.len);
            let mut rng = stream(spec.seed, Purpose::NeuronSample, pi as u64, 0);
            let mut ids: Vec<u32> = sample(&mut rng, pop.len, k)
                .into_iter()
                .map(|i| (pop.start + i) as u32)
                .collect();
            ids.sort_unstable();
            sampled.extend(ids);
        }
        let neuron_refs = sampled
            .iter()
            .map(|&id| {
                let c = chunks
                    .iter()
                    .position(|c| c.lo <= id as usize && (id as usize) < c.hi)
                    .expect("covered");
                (c, id as usize - chunks[c].lo)
            })
            .collect();
        let n_sources = layout.sources().len();
        Recorder {
            rate_bin_steps: steps(r.rate_bin_ms),
            rate_counts: vec![0; layout.populations.len()],
            weight_steps: steps(r.weight_interval_ms),
            weight_samples,
            neuron_steps: steps(r.neuron_interval_ms),
            v_sum: vec![0.0; sampled.len()],
            current_sum: vec![0.0; sampled.len() * n_sources],
            neuron_refs,
            guard_steps: steps(spec.guard.window_ms),
            guard_counts: vec![0; layout.populations.len()],
            started: false,
            plan: RecordingPlan {
                populations: layout
                    .populations
                    .iter()
                    .map(|p| PopulationInfo {
                        name: p.name.clone(),
                        start: p.start,
                        len: p.len,
                    })
                    .collect(),
                sources: layout
                    .sources()
                    .iter()
                    .map(|&s| layout.source_name(s).to_string())
                    .collect(),
                plastic,
                sampled_neurons: sampled,
                spikes: r.spikes,
                rate_bin_ms: r.rate_bin_ms,
                weight_interval_ms: r.weight_interval_ms,
                neuron_interval_ms: r.neuron_interval_ms,
            },
        }
    }

    /// The validated spec this simulation runs.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
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
    pub fn options(&self) -> SimOptions {
        self.options
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

    /// Whether the configured duration has been simulated.
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

    /// Plastic projections: (config index, name, rule).
    pub fn plastic_projections(&self) -> Vec<(usize, &str, &PlasticityRule)> {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, self.projections[i].name.as_str(), r)))
            .collect()
    }

    /// Mean and standard deviation of the unscaled weights of projection `projection`
    /// (its initial weight and 0 for a static projection).
    pub fn weight_stats(&self, projection: usize) -> (f64, f64) {
        if self.projections[projection].rule.is_none() {
            return (self.spec.projections[projection].weight, 0.0);
        }
        block_stats(&self.chunks, projection, self.sqrt_n)
    }

    /// Every synapse of a projection: (pre id, post id, unscaled weight), post-major.
    pub fn synapses(&self, projection: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        let proj = &self.projections[projection];
        let (mut pre, mut post, mut w) = (vec![], vec![], vec![]);
        for c in &self.chunks {
            let part = &c.parts[projection];
            if proj.rule.is_some() {
                for i in 0..part.post_len {
                    for s in part.incoming_range(i) {
                        pre.push((proj.pre_start + part.bwd_pre[s] as usize) as u32);
                        post.push((c.lo + part.post_offset + i) as u32);
                        w.push(part.weights[part.bwd_pos[s] as usize] * self.sqrt_n);
                    }
                }
            } else {
                let w0 = self.spec.projections[projection].weight;
                for k in 0..proj.n_pre {
                    for f in part.row_range(k) {
                        pre.push((proj.pre_start + k) as u32);
                        post.push((c.lo + part.fwd_target[f] as usize) as u32);
                        w.push(w0);
                    }
                }
            }
        }
        (pre, post, w)
    }

    /// Membrane voltages of all neurons (mV).
    pub fn voltages(&self) -> Vec<f64> {
        self.chunks.iter().flat_map(|c| c.v.iter().copied()).collect()
    }

    /// Simulates `duration_ms` more (or up to the configured end), recording into `sink`. Call
    /// repeatedly with the same sink to run in slices. On `Err`, what was recorded so far is
    /// intact and the state is that at the end of the last whole step.
    pub fn run_for(&mut self, duration_ms: f64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        if !self.recorder.started {
            sink.start(&self.recorder.plan)?;
            self.recorder.started = true;
        }
        let target = (self.step + (duration_ms / self.dt_ms).round() as u64).min(self.n_steps);
        // Run the whole loop on a pool thread: the per-step parallel sections then start from
        // inside the pool instead of being injected into it, which costs far less per step.
        match self.pool.clone() {
            Some(pool) => pool.install(|| self.run_steps(target, sink)),
            None => self.run_steps(target, sink),
        }
    }

    fn run_steps(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        while self.step < target {
            self.step_once();
            self.record(sink)?;
        }
        Ok(())
    }

    /// Runs to the configured end.
    pub fn run(&mut self, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        self.run_for(f64::INFINITY, sink)
    }

    /// Sends the final weights of every plastic projection to the sink.
    pub fn write_final_weights(&self, sink: &mut dyn RecordSink) -> io::Result<()> {
        for (k, info) in self.recorder.plan.plastic.iter().enumerate() {
            let (pre, post, w) = self.synapses(info.projection);
            sink.final_weights(k, &pre, &post, &w)?;
        }
        Ok(())
    }

    fn step_once(&mut self) {
        let i = self.step + 1;
        let t = i as f64 * self.dt_ms;
        for (x, input) in self.inputs.iter_mut().enumerate() {
            self.input_spikes[x].clear();
            input.spikes_until(t, &mut self.input_spikes[x]);
        }
        self.stimulus.fill(0.0);
        for s in &self.stimuli {
            if s.start_ms <= t && t < s.stop_ms {
                self.stimulus[s.population] += s.current;
            }
        }

        let mut spikes = std::mem::take(&mut self.spikes);
        let mut traces = std::mem::take(&mut self.traces);
        let pool = self.pool.as_deref();
        let ctx = StepContext {
            projections: &self.projections,
            eif: &self.eif,
            stimulus: &self.stimulus,
            input_spikes: &self.input_spikes,
            current_decay: &self.current_decay,
            trace_decay: &self.trace_decay,
            pop_ranges: &self.pop_ranges,
        };
        for_each_chunk(pool, &mut self.chunks, |c| c.advance(&ctx));
        spikes.clear();
        for c in &self.chunks {
            spikes.extend_from_slice(&c.spikes);
        }
        for_each_chunk(pool, &mut self.chunks, |c| c.deliver(&ctx, &spikes, &traces));

        // Split every trace array into the chunks' ranges for the owner-only writes of steps 6–7.
        let mut slices: Vec<Vec<&mut [f64]>> = self.chunks.iter().map(|_| vec![]).collect();
        for tr in traces.iter_mut() {
            let mut rest: &mut [f64] = tr;
            for (c, s) in self.chunks.iter().zip(slices.iter_mut()) {
                let (a, b) = rest.split_at_mut(c.hi - c.lo);
                s.push(a);
                rest = b;
            }
        }
        match pool {
            Some(p) => p.install(|| {
                self.chunks
                    .par_iter_mut()
                    .zip(slices)
                    .for_each(|(c, s)| c.finish(&ctx, s));
            }),
            None => self.chunks.iter_mut().zip(slices).for_each(|(c, s)| c.finish(&ctx, s)),
        }
        self.traces = traces;
        for &s in &spikes {
            let pop = self.pop_ranges.partition_point(|&(_, end)| end <= s as usize);
            self.spike_counts[pop] += 1;
            self.recorder.rate_counts[pop] += 1;
            self.recorder.guard_counts[pop] += 1;
        }
        self.spikes = spikes;
        self.step = i;
    }

    fn record(&mut self, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        let t = self.time_ms();
        if let Some(neuron) = self.chunks.iter().find_map(|c| c.nan_neuron) {
            return Err(SimError::Diverged { neuron, t_ms: t });
        }
        let i = self.step;
        let rec = &mut self.recorder;
        if rec.plan.spikes && !self.spikes.is_empty() {
            sink.spikes(t, &self.spikes)?;
        }
        if i.is_multiple_of(rec.rate_bin_steps) {
            let bin_s = rec.rate_bin_steps as f64 * self.dt_ms * 1e-3;
            let rates: Vec<f64> = rec
                .rate_counts
                .iter()
                .zip(&self.layout.populations)
                .map(|(&c, p)| c as f64 / (p.len as f64 * bin_s))
                .collect();
            sink.population_rates(t, &rates)?;
            rec.rate_counts.fill(0);
        }
        if !rec.neuron_refs.is_empty() {
            let n = rec.neuron_refs.len();
            for (k, &(c, l)) in rec.neuron_refs.iter().enumerate() {
                let chunk = &self.chunks[c];
                rec.v_sum[k] += chunk.v[l];
                for (s, cur) in chunk.currents.iter().enumerate() {
                    rec.current_sum[s * n + k] += cur[l];
                }
            }
            if i.is_multiple_of(rec.neuron_steps) {
                let inv = 1.0 / rec.neuron_steps as f64;
                let v: Vec<f64> = rec.v_sum.iter().map(|x| x * inv).collect();
                let cur: Vec<f64> = rec.current_sum.iter().map(|x| x * inv).collect();
                sink.neurons(t, &v, &cur)?;
                rec.v_sum.fill(0.0);
                rec.current_sum.fill(0.0);
            }
        }
        if i.is_multiple_of(rec.weight_steps) {
            for k in 0..rec.plan.plastic.len() {
                let pi = rec.plan.plastic[k].projection;
                let samples: Vec<f64> = rec.weight_samples[k]
                    .iter()
                    .map(|r| self.chunks[r.chunk].parts[pi].weights[r.pos] * self.sqrt_n)
                    .collect();
                let (mean, std) = block_stats(&self.chunks, pi, self.sqrt_n);
                sink.weights(k, t, &samples, mean, std)?;
            }
        }
        let rec = &mut self.recorder;
        if i.is_multiple_of(rec.guard_steps) {
            let window_ms = rec.guard_steps as f64 * self.dt_ms;
            let limit = self.spec.guard.max_rate_hz;
            for (p, &c) in rec.guard_counts.iter().enumerate() {
                let pop = &self.layout.populations[p];
                let rate = c as f64 / (pop.len as f64 * window_ms * 1e-3);
                if rate > limit {
                    return Err(SimError::Runaway {
                        population: pop.name.clone(),
                        rate_hz: rate,
                        limit_hz: limit,
                        window_ms,
                        t_ms: t,
                    });
                }
            }
            rec.guard_counts.fill(0);
        }
        Ok(())
    }
}

/// Runs `f` on every chunk, in parallel when a pool is given.
fn for_each_chunk(pool: Option<&rayon::ThreadPool>, chunks: &mut [Chunk], f: impl Fn(&mut Chunk) + Sync + Send) {
    match pool {
        Some(p) => p.install(|| chunks.par_iter_mut().for_each(f)),
        None => chunks.iter_mut().for_each(f),
    }
}

/// Mean and standard deviation (unscaled) of a plastic projection's weights. One accumulator
/// over the synapses in post-major order gives the same sum for any chunking.
fn block_stats(chunks: &[Chunk], projection: usize, sqrt_n: f64) -> (f64, f64) {
    let (mut n, mut sum, mut sq) = (0usize, 0.0, 0.0);
    for c in chunks {
        let part = &c.parts[projection];
        for &f in &part.bwd_pos {
            let w = part.weights[f as usize];
            n += 1;
            sum += w;
            sq += w * w;
        }
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = sum / n as f64;
    let var = (sq / n as f64 - mean * mean).max(0.0);
    (mean * sqrt_n, var.sqrt() * sqrt_n)
}
