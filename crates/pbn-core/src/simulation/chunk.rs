//! A chunk: a contiguous range of neurons. Its fixed part (neuron range, the synapses onto its
//! neurons) is the network's [`ChunkWiring`]; its [`ChunkState`] (voltages, currents, the weights
//! of its plastic synapses, this step's spikes) is what a step writes, and only the chunk's own:
//! so chunks run in parallel. This module holds the per-step phases a chunk runs (docs/model.md
//! §2.7 steps 1–3, 4–5 and 8); every per-neuron and per-synapse sequence of operations is the
//! same for any chunking.

use crate::connectivity::{ChunkSynapses, TARGET_BLOCK, TargetIndex, with_targets};
use crate::layout::Source;
use crate::neuron::detect_spikes;
use crate::order_free_sum::sum_and_sum_of_squares_guessing;
use crate::spec::Precision;
use crate::state_float::StateFloat;

use super::network::{ChunkWiring, Network};
use super::profile::Phase;
use super::state::RuleInForce;
use super::traces::TraceSet;
use crate::plasticity::ScaledRule;

/// What every chunk reads during a step besides its own wiring and state.
#[derive(Clone, Copy)]
pub(super) struct StepContext<'a> {
    pub(super) network: &'a Network,
    /// Per projection, the rule in force (`None` for static projections).
    pub(super) rules: &'a [Option<RuleInForce>],
    /// Per population, this step's stimulus current (mV/ms). Empty in the delivery phase.
    pub(super) stimulus: &'a [f64],
    /// Per input layer, this step's external spikes. Empty in the delivery phase.
    pub(super) input_spikes: &'a [Vec<u32>],
}

/// Voltages and synaptic currents of a chunk's neurons, stored in precision `F`: one allocation,
/// the currents (one row per source, each padded to whole target blocks, so that a 16-bit target
/// indexes a block without a bounds check) then the voltages, so that a large chunk's neuron
/// state sits on one or a few huge pages. Rows are staggered by `STAGGER_BYTES`: padded to
/// 65,536 entries they would otherwise be a multiple of 4 KiB apart, and the voltage pass's loads
/// and stores of one neuron's entries in different rows would alias in the CPU's 4 KiB
/// store-to-load check and share cache sets (measured at N = 20,000, f64: 1.9 ns per neuron step
/// unstaggered, 1.2 staggered).
pub(super) struct NeuronState<F> {
    flat: Vec<F>,
    /// Index in `flat` of the first row (where the huge-page-aligned part starts).
    base: usize,
    /// Distance between consecutive rows (padded length plus the stagger).
    stride: usize,
    /// Length of a current row: whole target blocks.
    padded: usize,
    /// Number of neurons (length of the voltage row).
    len: usize,
    n_currents: usize,
}

/// Offset between consecutive rows of [`NeuronState`], beyond their padded length.
const STAGGER_BYTES: usize = 192;

/// Neuron state using at least this many bytes goes on huge pages.
const HUGE_PAGES_FROM_BYTES: usize = 256 << 10;

impl<F: StateFloat> NeuronState<F> {
    fn new(len: usize, n_currents: usize) -> Self {
        let padded = len.div_ceil(TARGET_BLOCK).max(1) * TARGET_BLOCK;
        let stride = padded + STAGGER_BYTES / size_of::<F>();
        let huge = (n_currents + 1) * len * size_of::<F>() >= HUGE_PAGES_FROM_BYTES;
        let (flat, base) = crate::huge_pages::zeroed_aligned::<F>(n_currents * stride + len, huge);
        Self {
            flat,
            base,
            stride,
            padded,
            len,
            n_currents,
        }
    }

    /// The voltages.
    #[inline(always)]
    pub(super) fn v(&self) -> &[F] {
        let at = self.base + self.n_currents * self.stride;
        &self.flat[at..at + self.len]
    }

    /// The voltages, mutable.
    #[inline(always)]
    pub(super) fn v_mut(&mut self) -> &mut [F] {
        let at = self.base + self.n_currents * self.stride;
        &mut self.flat[at..at + self.len]
    }

    /// Current row `k` (padded to whole target blocks).
    #[inline(always)]
    pub(super) fn current(&self, k: usize) -> &[F] {
        let at = self.base + k * self.stride;
        &self.flat[at..at + self.padded]
    }

    /// Current row `k`, mutable.
    #[inline(always)]
    pub(super) fn current_mut(&mut self, k: usize) -> &mut [F] {
        let at = self.base + k * self.stride;
        &mut self.flat[at..at + self.padded]
    }

    /// Runs `f` on (voltages, every current row), mutable at once; without allocating for up
    /// to four sources (this runs every step for every chunk).
    fn with_rows<R>(&mut self, f: impl FnOnce(&mut [F], &mut [&mut [F]]) -> R) -> R {
        let (padded, len, n) = (self.padded, self.len, self.n_currents);
        let rows = &mut self.flat[self.base..];
        let (currents, v) = rows.split_at_mut(n * self.stride);
        let mut rows = currents.chunks_exact_mut(self.stride).map(|r| &mut r[..padded]);
        if n <= 4 {
            let mut few: [&mut [F]; 4] = std::array::from_fn(|_| rows.next().unwrap_or(&mut []));
            f(&mut v[..len], &mut few[..n])
        } else {
            f(&mut v[..len], &mut rows.collect::<Vec<_>>())
        }
    }
}

/// A chunk's neuron state in the run's precision (`NetworkSpec::precision`).
pub(super) enum Neurons {
    F64(NeuronState<f64>),
    F32(NeuronState<f32>),
}

/// Runs `$body` with `$s` bound to the chunk's `NeuronState<F>`, for whichever `F` it has.
macro_rules! with_state {
    ($state:expr, $s:ident => $body:expr) => {
        match $state {
            Neurons::F64($s) => $body,
            Neurons::F32($s) => $body,
        }
    };
}

/// What a step writes of a chunk.
pub(super) struct ChunkState {
    pub(super) neurons: Neurons,
    /// Per projection, the scaled weights J of the synapses onto this chunk, aligned with the
    /// part's forward arrays (empty for static projections).
    pub(super) weights: Vec<Vec<f64>>,
    /// This step's spikes of the chunk's neurons (ids, ascending).
    pub(super) spikes: Vec<u32>,
    /// The first neuron whose voltage became NaN.
    pub(super) nan_neuron: Option<usize>,
    /// Per sampled neuron of this chunk (`RecordSchedule::sampled_in`), the sums over the
    /// current record block of its voltage and then of its current from each source: kept by
    /// the chunk, so that the thread that delivers to it adds them every step and no other
    /// core reads its neurons' state.
    pub(super) sample_sums: Vec<f64>,
}

impl ChunkState {
    /// Zero state for the neurons of chunk `c` (`wiring`) with `n_currents` current sources;
    /// plastic parts start at their projection's initial weight.
    pub(super) fn new(c: usize, wiring: &ChunkWiring, network: &Network, precision: Precision) -> Self {
        let (len, n_currents) = (wiring.len(), network.current_decay.len());
        let neurons = match precision {
            Precision::F64 => Neurons::F64(NeuronState::new(len, n_currents)),
            Precision::F32 => Neurons::F32(NeuronState::new(len, n_currents)),
        };
        let weights = wiring
            .parts
            .iter()
            .zip(&network.projections)
            .zip(&network.spec.projections)
            .map(|((part, proj), spec)| match proj.plastic {
                true => part.initial_weights(spec.weight / network.sqrt_n),
                false => vec![],
            })
            .collect();
        Self {
            neurons,
            weights,
            spikes: vec![],
            nan_neuron: None,
            sample_sums: vec![0.0; network.schedule.sampled_in(c).len() * (1 + n_currents)],
        }
    }

    /// Voltage (mV) of chunk-local neuron `l`.
    pub(super) fn voltage(&self, l: usize) -> f64 {
        with_state!(&self.neurons, s => s.v()[l].to_f64())
    }

    /// Sets the voltage (mV) of chunk-local neuron `l`.
    pub(super) fn set_voltage(&mut self, l: usize, v: f64) {
        with_state!(&mut self.neurons, s => s.v_mut()[l] = StateFloat::from_f64(v))
    }

    /// Current from source `source` (mV/ms) into chunk-local neuron `l`.
    pub(super) fn current(&self, source: usize, l: usize) -> f64 {
        with_state!(&self.neurons, s => s.current(source)[l].to_f64())
    }

    /// Sets the current from source `source` (mV/ms) into chunk-local neuron `l`.
    pub(super) fn set_current(&mut self, source: usize, l: usize, value: f64) {
        with_state!(&mut self.neurons, s => s.current_mut(source)[l] = StateFloat::from_f64(value))
    }

    /// Number of current sources.
    pub(super) fn n_currents(&self) -> usize {
        with_state!(&self.neurons, s => s.n_currents)
    }

    /// Adds this step's voltage and currents of the chunk-local neurons `locals` (the chunk's
    /// sampled neurons, in order) to `sample_sums`; with `restart`, to zero instead (a new
    /// record block: 0 + x, as a sum reset to zero would give).
    pub(super) fn accumulate_samples(&mut self, locals: impl Iterator<Item = usize>, restart: bool) {
        let Self {
            neurons, sample_sums, ..
        } = self;
        let from = |sum: f64| if restart { 0.0 } else { sum };
        with_state!(neurons, s => {
            let per_neuron = 1 + s.n_currents;
            for (sums, l) in sample_sums.chunks_exact_mut(per_neuron).zip(locals) {
                sums[0] = from(sums[0]) + s.v()[l].to_f64();
                for (k, sum) in sums[1..].iter_mut().enumerate() {
                    *sum = from(*sum) + s.current(k)[l].to_f64();
                }
            }
        })
    }

    /// Steps 1–3 for this chunk.
    pub(super) fn advance(&mut self, wiring: &ChunkWiring, ctx: &StepContext) {
        self.kick_inputs(wiring, ctx);
        self.update_neurons(wiring, ctx);
    }

    /// Step 1: this step's external spikes kick their targets in this chunk.
    pub(super) fn kick_inputs(&mut self, wiring: &ChunkWiring, ctx: &StepContext) {
        with_state!(&mut self.neurons, s => kick_inputs(&wiring.parts, s, ctx))
    }

    /// Steps 2–3: voltage update and spike detection.
    pub(super) fn update_neurons(&mut self, wiring: &ChunkWiring, ctx: &StepContext) {
        let nan = with_state!(&mut self.neurons, s => update_neurons(s, wiring, &mut self.spikes, ctx));
        self.nan_neuron = self.nan_neuron.or(nan);
    }

    /// Steps 4–5 for the synapses onto this chunk.
    /// `lap` is told when each kind of work ends (for the profile; a no-op otherwise).
    pub(super) fn deliver(
        &mut self,
        wiring: &ChunkWiring,
        ctx: &StepContext,
        spikes: &[u32],
        traces: &[TraceSet],
        post_now: bool,
        lap: &mut impl FnMut(Phase),
    ) {
        self.prefetch(wiring, ctx, spikes, post_now);
        let this = ThisChunk {
            lo: wiring.lo,
            spikes: &self.spikes,
            post_now,
        };
        let weights = &mut self.weights;
        with_state!(&mut self.neurons, s => deliver(&wiring.parts, weights, s, this, ctx, spikes, traces, lap))
    }

    /// Asks for the cache lines this step's delivery will touch first: the rows of this step's
    /// presynaptic spikes, and the first POST_AHEAD weights of each spiking neuron's incoming
    /// plastic synapses (scattered over the projection's weights, stored in presynaptic order),
    /// so that their memory latency overlaps the presynaptic delivery. The post-spike loop asks
    /// for the rest itself, POST_AHEAD synapses ahead.
    fn prefetch(&self, wiring: &ChunkWiring, ctx: &StepContext, spikes: &[u32], post_now: bool) {
        for (p, (proj, rule)) in ctx.network.projections.iter().zip(ctx.rules).enumerate() {
            let (part, weights) = (&wiring.parts[p], &self.weights[p]);
            if let Source::Population(_) = proj.source {
                for &s in spikes_in(spikes, proj.pre_start, proj.pre_start + proj.n_pre) {
                    let row = part.row_range(s as usize - proj.pre_start);
                    prefetch_targets(part, row.clone());
                    if rule.is_some() {
                        for w in weights[row].iter().step_by(8) {
                            prefetch(w);
                        }
                    }
                }
            }
            if post_now && rule.is_some_and(|r| r.rule.post.active) && part.post_len > 0 {
                let first = wiring.lo + part.post_offset;
                for &s in spikes_in(&self.spikes, first, first + part.post_len) {
                    prefetch_post(part, weights.as_ptr(), s as usize - first);
                }
            }
        }
    }

    /// Step 8 for this chunk: spiking neurons are reset (steps 6–7 are the traces', serial
    /// and O(spikes): see `traces`).
    pub(super) fn finish(&mut self, wiring: &ChunkWiring, ctx: &StepContext) {
        with_state!(&mut self.neurons, state => {
            for &s in &self.spikes {
                let id = s as usize;
                state.v_mut()[id - wiring.lo] = StateFloat::from_f64(ctx.network.eif[ctx.network.population_of(id)].v_re);
            }
        })
    }
}

/// The chunk a delivery writes to: its first neuron id and this step's spikes among its neurons.
#[derive(Clone, Copy)]
struct ThisChunk<'a> {
    lo: usize,
    spikes: &'a [u32],
    /// Whether this step's post-spike updates are done here (otherwise the team does them
    /// later: see `team`).
    post_now: bool,
}

/// Step 1: this step's external spikes kick their targets in this chunk.
fn kick_inputs<F: StateFloat>(parts: &[ChunkSynapses], state: &mut NeuronState<F>, ctx: &StepContext) {
    // All of this step's rows asked for first, so that their memory latencies overlap.
    for (p, proj) in ctx.network.projections.iter().enumerate() {
        if let Source::Input(x) = proj.source {
            for &k in &ctx.input_spikes[x] {
                prefetch_targets(&parts[p], parts[p].row_range(k as usize));
            }
        }
    }
    for (p, proj) in ctx.network.projections.iter().enumerate() {
        if let Source::Input(x) = proj.source {
            let part = &parts[p];
            // A slice, not the Vec: stores through it cannot alias its length and pointer,
            // so they stay in registers.
            let cur = state.current_mut(proj.current);
            let inputs = ctx.input_spikes[x].iter().map(|&k| k as usize);
            kick_targets(part, cur, inputs, F::from_f64(proj.static_kick));
        }
    }
}

/// Steps 2–3: voltage update and spike detection into `spikes`; returns the first NaN neuron.
/// Step 7's current decay is fused into the same pass (see [`super::network::Projection::decay`]).
fn update_neurons<F: StateFloat>(
    state: &mut NeuronState<F>,
    wiring: &ChunkWiring,
    spikes: &mut Vec<u32>,
    ctx: &StepContext,
) -> Option<usize> {
    let eif = &ctx.network.eif;
    state.with_rows(|v, currents| {
        for &(pop, a, b) in &wiring.segments {
            eif[pop].step(v, currents, a..b, &ctx.network.current_decay, ctx.stimulus[pop]);
        }
    });
    spikes.clear();
    let mut nan = None;
    for &(pop, a, b) in &wiring.segments {
        nan = nan.or(detect_spikes(&state.v()[a..b], eif[pop].v_th, wiring.lo + a, spikes));
    }
    nan
}

/// Steps 4–5: recurrent kicks into `state`'s currents and plasticity of the synapses in `parts`.
#[allow(clippy::too_many_arguments)]
fn deliver<F: StateFloat>(
    parts: &[ChunkSynapses],
    weights: &mut [Vec<f64>],
    state: &mut NeuronState<F>,
    this: ThisChunk,
    ctx: &StepContext,
    spikes: &[u32],
    traces: &[TraceSet],
    lap: &mut impl FnMut(Phase),
) {
    for (p, (proj, rule)) in ctx.network.projections.iter().zip(ctx.rules).enumerate() {
        if let Source::Input(_) = proj.source {
            continue;
        }
        let pre_spikes = spikes_in(spikes, proj.pre_start, proj.pre_start + proj.n_pre);
        let (part, part_weights) = (&parts[p], weights[p].as_mut_slice());
        let cur = state.current_mut(proj.current); // (see `kick_inputs`)
        let Some(RuleInForce { rule, trace }) = *rule else {
            let pre = pre_spikes.iter().map(|&s| s as usize - proj.pre_start);
            kick_targets(part, cur, pre, F::from_f64(proj.static_kick * proj.decay));
            lap(Phase::StaticDelivery);
            continue;
        };
        let inv_tau = proj.inv_tau * proj.decay;
        // Traces are read as x̃·D (see `traces`).
        let (x, x_scale) = (traces[trace].scaled(), traces[trace].scale());
        for &s in pre_spikes {
            let k = s as usize - proj.pre_start;
            for b in 0..part.n_blocks {
                let (base, segment) = part.segment(k, b);
                let weights = &mut part_weights[segment.clone()];
                let (cur, x) = (target_block(cur, base), &x[this.lo + base..]);
                with_targets!(part, base, segment, |targets| if rule.pre.active {
                    let mut targets = targets;
                    for weights in weights.chunks_mut(PRE_BATCH) {
                        // The kicks and trace reads (scattered) first, then the weight updates
                        // (contiguous, so they vectorise); each kick still uses the weight
                        // before its update.
                        let mut x_post = [0.0; PRE_BATCH];
                        for ((w, t), xp) in weights.iter().zip(&mut targets).zip(&mut x_post) {
                            cur[t as usize] += F::from_f64(*w * inv_tau);
                            *xp = x[t as usize] * x_scale;
                        }
                        for (w, &xp) in weights.iter_mut().zip(&x_post) {
                            *w = rule.on_pre(*w, xp);
                        }
                    }
                } else {
                    for (t, w) in targets.zip(weights) {
                        cur[t as usize] += F::from_f64(*w * inv_tau);
                    }
                })
            }
        }
        lap(Phase::PlasticDelivery);
        if this.post_now && rule.post.active && part.post_len > 0 {
            let first = this.lo + part.post_offset;
            let x_pre = &x[proj.pre_start..];
            let weights = PostWeights::new(part, &mut weights[p]);
            for &s in spikes_in(this.spikes, first, first + part.post_len) {
                // SAFETY: `weights` is this part's, borrowed mutably for the loop.
                unsafe { post_spike_update(part, weights, s as usize - first, &rule, x_pre, x_scale) };
            }
            lap(Phase::PostSpikeUpdates);
        }
    }
}

/// The weights of one chunk part of a plastic projection, for post-spike updates: a raw view,
/// because with several threads (see `team`) different threads update different neurons'
/// incoming synapses of one part at once, and those are scattered through its weights.
#[derive(Clone, Copy)]
pub(super) struct PostWeights {
    ptr: *mut f64,
    len: usize,
}

// SAFETY: plain pointer and length; who may write through it is `post_spike_update`'s contract.
unsafe impl Send for PostWeights {}
unsafe impl Sync for PostWeights {}

impl PostWeights {
    /// The view of `weights`, the weights of `part` (checked: same length). Its pointer is the
    /// vector's own (`Vec::as_mut_ptr`), not one taken from a slice of it, so that slices made
    /// of the vector later (each step's delivery) leave it valid.
    pub(super) fn new(part: &ChunkSynapses, weights: &mut Vec<f64>) -> Self {
        assert_eq!(weights.len(), part.bwd_pos.len(), "a part's weights");
        Self {
            ptr: Vec::as_mut_ptr(weights),
            len: weights.len(),
        }
    }

    /// The first weight's address.
    pub(super) fn ptr(self) -> *const f64 {
        self.ptr
    }
}

/// Step 5's post-spike side for the incoming synapses of chunk part `part` onto its post
/// neuron `local` (index among the part's postsynaptic neurons): w ← on_post(w, x_pre), with
/// `x_pre` the presynaptic traces as x̃ (indexed from the projection's first presynaptic neuron)
/// and `x_scale` their D.
///
/// # Safety
/// `weights` must be `part`'s weights, alive, and nobody else may read or write the synapses
/// onto `local` while this runs.
pub(super) unsafe fn post_spike_update(
    part: &ChunkSynapses,
    weights: PostWeights,
    local: usize,
    rule: &ScaledRule,
    x_pre: &[f64],
    x_scale: f64,
) {
    for b in 0..part.n_pre_blocks {
        let (base, slots) = part.incoming_block(local, b);
        let x_pre = &x_pre[base..];
        let positions = &part.bwd_pos[slots.clone()];
        for (i, (&f, &pre)) in positions.iter().zip(&part.bwd_pre[slots]).enumerate() {
            // The first POST_AHEAD were asked for before (see `prefetch_post`).
            if let Some(&ahead) = positions.get(i + POST_AHEAD) {
                prefetch_at(weights.ptr.wrapping_add(ahead as usize));
            }
            assert!((f as usize) < weights.len);
            // SAFETY: in bounds (checked); the synapse is onto `local`, which the caller gives
            // this call alone.
            unsafe {
                let w = weights.ptr.add(f as usize);
                *w = rule.on_post(*w, x_pre[pre as usize] * x_scale);
            }
        }
    }
}

/// Asks for the first POST_AHEAD weights of the synapses of `part` onto its post neuron
/// `local`, so that their memory latency overlaps other work; `post_spike_update` asks for the
/// rest itself, POST_AHEAD synapses ahead.
pub(super) fn prefetch_post(part: &ChunkSynapses, weights: *const f64, local: usize) {
    for slot in part.incoming_range(local).take(POST_AHEAD) {
        // No reference: other threads may be updating these weights (see `deferred_post`).
        prefetch_at(weights.wrapping_add(part.bwd_pos[slot] as usize));
    }
}

/// Adds `kick` to the current `cur` of every target of the presynaptic neurons `pre` (indices
/// within the projection's source).
#[inline(always)]
fn kick_targets<F: StateFloat>(part: &ChunkSynapses, cur: &mut [F], pre: impl Iterator<Item = usize>, kick: F) {
    for k in pre {
        for (base, segment) in part.segments(k) {
            let cur = target_block(cur, base);
            with_targets!(part, base, segment, |targets| for t in targets {
                cur[t as usize] += kick;
            })
        }
    }
}

/// The target block starting at chunk-local neuron `base` of a current (padded to whole blocks),
/// as an array that a 16-bit target indexes without a bounds check.
#[inline(always)]
fn target_block<F>(cur: &mut [F], base: usize) -> &mut [F; TARGET_BLOCK] {
    (&mut cur[base..base + TARGET_BLOCK])
        .try_into()
        .expect("currents are padded to whole blocks")
}

/// The ids in a sorted spike list that fall in [lo, hi).
pub(super) fn spikes_in(spikes: &[u32], lo: usize, hi: usize) -> &[u32] {
    let a = spikes.partition_point(|&s| (s as usize) < lo);
    let b = spikes.partition_point(|&s| (s as usize) < hi);
    &spikes[a..b]
}

/// Mean and standard deviation (unscaled) of a plastic projection's weights, and the largest
/// |scaled weight|. The weights are read in memory order and summed order-free, so the result
/// is the same for any chunking; `guess` of that largest |weight| (the previous record's) saves
/// a pass over them when it is about right.
pub(super) fn block_stats(
    chunks: &[ChunkState],
    projection: usize,
    sqrt_n: f64,
    guess: Option<f64>,
) -> ((f64, f64), f64) {
    let parts: Vec<&[f64]> = chunks.iter().map(|c| c.weights[projection].as_slice()).collect();
    let n = parts.iter().map(|p| p.len()).sum();
    let (sums, max) = sum_and_sum_of_squares_guessing(&parts, guess);
    (mean_and_std(n, sums, sqrt_n), max)
}

/// Unscaled mean and standard deviation of `n` scaled weights from their (Σw, Σw²).
pub(super) fn mean_and_std(n: usize, (sum, sum_sq): (f64, f64), sqrt_n: f64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = sum / n as f64;
    let var = (sum_sq / n as f64 - mean * mean).max(0.0);
    (mean * sqrt_n, var.sqrt() * sqrt_n)
}

/// Asks for every 64-byte line of the targets of the forward range `row` of `part`.
#[inline(always)]
fn prefetch_targets(part: &ChunkSynapses, row: std::ops::Range<usize>) {
    match &part.targets {
        TargetIndex::Gaps(g) => g[row].iter().step_by(64).for_each(prefetch),
        TargetIndex::Offsets(o) => o[row].iter().step_by(32).for_each(prefetch),
    }
}

/// Presynaptic events per batch of plastic delivery (see `deliver`): the batch's traces stay in L1.
const PRE_BATCH: usize = 128;

/// How many incoming synapses ahead a post-spike update asks for its weight: enough to cover a
/// main-memory latency at a few ns per update (24 and 96 were slower at N = 20,000).
const POST_AHEAD: usize = 48;

/// Hints the CPU to load the cache line holding `value` into L2 (no effect on results). Into
/// L2, not L1: a step's rows and scattered weights outnumber L1's lines and miss buffers, and
/// loading them into L1 evicted the currents being kicked (measured at N = 20,000, 1 thread:
/// post-spike updates 0.50 → 0.26 s/s, static delivery 0.37 → 0.27 s/s).
#[inline(always)]
fn prefetch<T>(value: &T) {
    prefetch_at(value as *const T);
}

/// [`prefetch`] by address (which need not be valid: a prefetch never faults).
#[inline(always)]
fn prefetch_at<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and does not change memory.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(at.cast());
    }
}
