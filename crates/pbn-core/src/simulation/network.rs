//! What never changes once a simulation is built: sizes and id ranges, the connectivity of every
//! chunk (without the weights, which learn), how the chunks are shared out among threads, the
//! neuron parameters, the stimuli and what is recorded. Built once from the spec; every thread
//! of a team reads it through ordinary shared references while it steps.

use rayon::prelude::*;

use super::partition::Partition;
use super::recorder::RecordSchedule;
use crate::connectivity::{ChunkSynapses, Rows};
use crate::layout::{Layout, Source};
use crate::neuron::Eif;
use crate::spec::NetworkSpec;

/// A projection as the engine reads it (its plasticity rule is state: see `state::RuleInForce`).
#[derive(Debug, Clone)]
pub(super) struct Projection {
    /// `FROM_to_TO`, as in output file names.
    pub(super) name: String,
    pub(super) source: Source,
    /// Index of the current this projection feeds (layout source order).
    pub(super) current: usize,
    /// First neuron id of the source population (0 for an input layer).
    pub(super) pre_start: usize,
    pub(super) n_pre: usize,
    pub(super) post_pop: usize,
    /// 1/τ_syn of the fed current (1/ms).
    pub(super) inv_tau: f64,
    /// Kick J/τ of one spike of a static projection (mV/ms), as external spikes add it.
    pub(super) static_kick: f64,
    /// Decay factor of the current this projection feeds. Recurrent kicks arrive after that
    /// current was decayed in the voltage pass (step 2) instead of before step 7, so they are
    /// added pre-multiplied by it: (I + k)·d = I·d + k·d.
    pub(super) decay: f64,
    /// Built with a plasticity rule: its synapses have weights of their own.
    pub(super) plastic: bool,
}

/// The fixed part of a chunk: its neuron range and the synapses onto its neurons.
pub(super) struct ChunkWiring {
    pub(super) lo: usize,
    pub(super) hi: usize,
    /// One part per projection (config order).
    pub(super) parts: Vec<ChunkSynapses>,
    /// (population, chunk-local start, chunk-local end).
    pub(super) segments: Vec<(usize, usize, usize)>,
}

impl ChunkWiring {
    /// Number of neurons.
    pub(super) fn len(&self) -> usize {
        self.hi - self.lo
    }
}

/// A stimulus resolved to steps.
#[derive(Debug, Clone)]
pub(super) struct StimulusRuntime {
    pub(super) population: usize,
    /// Injected current (mV/ms, already ×√N).
    pub(super) current: f64,
    pub(super) start_ms: f64,
    pub(super) stop_ms: f64,
}

/// A built network: everything a step reads and no step writes.
pub(super) struct Network {
    /// The config it was built from.
    pub(super) spec: NetworkSpec,
    pub(super) layout: Layout,
    pub(super) dt_ms: f64,
    /// √N, computed once.
    pub(super) sqrt_n: f64,
    /// Steps of the configured duration.
    pub(super) n_steps: u64,
    pub(super) projections: Vec<Projection>,
    /// Per chunk (id order).
    pub(super) chunks: Vec<ChunkWiring>,
    /// Which thread advances and delivers to which chunks.
    pub(super) partition: Partition,
    /// Per population.
    pub(super) eif: Vec<Eif>,
    /// Per population, its id range [start, end).
    pub(super) pop_ranges: Vec<(usize, usize)>,
    /// Per current source, its per-step decay factor 1 − dt/τ_syn.
    pub(super) current_decay: Vec<f64>,
    pub(super) stimuli: Vec<StimulusRuntime>,
    /// What is recorded and when.
    pub(super) schedule: RecordSchedule,
}

impl Network {
    /// Builds the network of a validated `spec` for `threads` threads (run inside a rayon pool of
    /// that size: connectivity is drawn in parallel). `rates_hz`: see `Partition::new`.
    pub(super) fn build(spec: &NetworkSpec, threads: usize, rates_hz: Option<&[f64]>) -> Self {
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
        let projections: Vec<Projection> = spec
            .projections
            .iter()
            .map(|p| {
                let source = layout.source(&p.from).expect("validated");
                let inv_tau = 1.0 / tau_of(source);
                Projection {
                    name: format!("{}_to_{}", p.from, p.to),
                    source,
                    current: layout.source_index(source),
                    pre_start: match source {
                        Source::Population(pi) => layout.populations[pi].start,
                        Source::Input(_) => 0,
                    },
                    n_pre: layout.source_len(source),
                    post_pop: layout.population(&p.to).expect("validated"),
                    inv_tau,
                    static_kick: p.weight / sqrt_n * inv_tau,
                    decay: current_decay[layout.source_index(source)],
                    plastic: p.plasticity.is_some(),
                }
            })
            .collect();

        let partition = Partition::new(spec, &layout, threads.min(n).max(1), rates_hz);
        let pop_ranges: Vec<(usize, usize)> = layout.populations.iter().map(|p| (p.start, p.start + p.len)).collect();
        let mut chunks: Vec<ChunkWiring> = partition
            .chunks
            .iter()
            .map(|&(lo, hi)| ChunkWiring {
                lo,
                hi,
                parts: vec![],
                segments: pop_ranges
                    .iter()
                    .enumerate()
                    .filter_map(|(pi, &(a, b))| {
                        let (a, b) = (a.max(lo), b.min(hi));
                        (a < b).then(|| (pi, a - lo, b - lo))
                    })
                    .collect(),
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
                    ChunkSynapses::from_rows(&rows, a - post.start, b - post.start, a - c.lo, proj.plastic)
                })
                .collect();
            for (c, part) in chunks.iter_mut().zip(parts) {
                c.parts.push(part);
            }
        }
        let schedule = RecordSchedule::new(spec, &layout, &projections, &chunks);
        Self {
            eif: spec.populations.iter().map(|p| Eif::new(&p.neuron, dt)).collect(),
            stimuli: spec
                .stimuli
                .iter()
                .map(|s| StimulusRuntime {
                    population: layout.population(&s.population).expect("validated"),
                    current: s.current * sqrt_n,
                    start_ms: s.start_ms,
                    stop_ms: s.stop_ms.unwrap_or(f64::INFINITY),
                })
                .collect(),
            spec: spec.clone(),
            layout,
            dt_ms: dt,
            sqrt_n,
            n_steps: spec.n_steps(),
            projections,
            chunks,
            partition,
            pop_ranges,
            current_decay,
            schedule,
        }
    }

    /// Index of the chunk holding neuron `id` and the neuron's chunk-local index.
    pub(super) fn locate(&self, id: usize) -> (usize, usize) {
        let c = self.chunks.partition_point(|c| c.hi <= id);
        (c, id - self.chunks[c].lo)
    }

    /// The population of neuron `id`.
    pub(super) fn population_of(&self, id: usize) -> usize {
        self.pop_ranges.partition_point(|&(_, end)| end <= id)
    }
}
