//! What the engine records each step (spikes, population rates, sampled neurons and synapses,
//! block weight statistics), which synapses and neurons are sampled, and the runaway guard.
//!
//! The guard counts each population's spikes over consecutive windows of `guard.window_ms` and
//! stops the run when a population's mean rate over a window exceeds `guard.max_rate_hz`. So that
//! it works in runs of any length it also stops (a) as soon as a window's spikes exceed what the
//! limit allows over the whole window (the window's rate will exceed it whatever follows), and
//! (b) at the last step of a run, on the trailing partial window if that is at least half a
//! window long or is the whole run (a shorter tail follows a window that was just checked).

use rand::seq::index::sample;

use super::SimError;
use super::chunk::{ChunkState, block_stats};
use super::network::{ChunkWiring, Network, Projection};
use crate::layout::Layout;
use crate::recording::{PlasticInfo, PopulationInfo, RecordSink, RecordingPlan};
use crate::rng::{Purpose, stream};
use crate::spec::NetworkSpec;

/// Where a recorded synapse lives: its chunk and forward position.
#[derive(Debug, Clone, Copy)]
pub(super) struct SynapseRef {
    pub(super) chunk: usize,
    pub(super) pos: usize,
}

/// What is recorded and when: fixed when the network is built.
pub(super) struct RecordSchedule {
    pub(super) plan: RecordingPlan,
    pub(super) rate_bin_steps: u64,
    pub(super) weight_steps: u64,
    /// Per plastic projection (plan order), the sampled synapses.
    pub(super) weight_samples: Vec<Vec<SynapseRef>>,
    pub(super) neuron_steps: u64,
    /// Per sampled neuron, (chunk, chunk-local index).
    pub(super) neuron_refs: Vec<(usize, usize)>,
    pub(super) guard_steps: u64,
}

/// What the recorder accumulates between records: simulation state.
#[derive(Debug, Clone)]
pub(super) struct Recorder {
    /// The sink has been told the plan ([`RecordSink::start`]).
    pub(super) started: bool,
    pub(super) rate_counts: Vec<u64>,
    /// Per plastic projection, the largest |scaled weight| at the previous record: the guess
    /// that lets the next weight statistics read the weights once (see `order_free_sum`).
    pub(super) weight_max: Vec<Option<f64>>,
    pub(super) guard_counts: Vec<u64>,
    /// Steps counted in `guard_counts` so far (the current window's elapsed part).
    pub(super) guard_elapsed: u64,
}

impl Recorder {
    /// Empty accumulators for `network`'s schedule.
    pub(super) fn new(network: &Network) -> Self {
        let schedule = &network.schedule;
        let n_pops = network.layout.populations.len();
        Self {
            started: false,
            rate_counts: vec![0; n_pops],
            weight_max: vec![None; schedule.weight_samples.len()],
            guard_counts: vec![0; n_pops],
            guard_elapsed: 0,
        }
    }
}

impl RecordSchedule {
    /// The schedule `spec` asks for, with its samples drawn over `chunks`.
    pub(super) fn new(spec: &NetworkSpec, layout: &Layout, projections: &[Projection], chunks: &[ChunkWiring]) -> Self {
        let r = &spec.record;
        let steps = |ms: f64| ((ms / spec.dt_ms).round() as u64).max(1);
        let mut plastic = vec![];
        let mut weight_samples = vec![];
        for (pi, proj) in projections.iter().enumerate() {
            if !proj.plastic {
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
                let (i, k) = part.slot_synapse(pos);
                refs.push(SynapseRef {
                    chunk,
                    pos: part.bwd_pos[pos] as usize,
                });
                pre.push((proj.pre_start + k) as u32);
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
        Self {
            rate_bin_steps: steps(r.rate_bin_ms),
            weight_steps: steps(r.weight_interval_ms),
            weight_samples,
            neuron_steps: steps(r.neuron_interval_ms),
            neuron_refs,
            guard_steps: steps(spec.guard.window_ms),
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

    /// The sampled neurons of chunk `chunk`, as (chunk, chunk-local index): a run of
    /// `neuron_refs`, which ascend by id and so by chunk.
    pub(super) fn sampled_in(&self, chunk: usize) -> &[(usize, usize)] {
        let refs = &self.neuron_refs;
        &refs[refs.partition_point(|r| r.0 < chunk)..refs.partition_point(|r| r.0 <= chunk)]
    }

    /// Step `step` (1 for the first) is done for chunk `c`: its sampled neurons' voltages and
    /// currents join their record block's sums, which restart with the block's first step. The
    /// thread that delivers to the chunk calls this.
    pub(super) fn accumulate_samples(&self, c: usize, chunk: &mut ChunkState, step: u64) {
        if !self.neuron_refs.is_empty() {
            let restart = (step - 1).is_multiple_of(self.neuron_steps);
            chunk.accumulate_samples(self.sampled_in(c).iter().map(|&(_, l)| l), restart);
        }
    }

    /// The sampled neurons' sums of the current record block, kept by `chunks`: voltages in
    /// `neuron_refs` order, then currents source-major.
    fn gather_sample_sums(&self, chunks: &[ChunkState]) -> (Vec<f64>, Vec<f64>) {
        let n = self.neuron_refs.len();
        let per_neuron = chunks.first().map_or(1, |c| 1 + c.n_currents());
        let (mut v, mut currents) = (vec![0.0; n], vec![0.0; n * (per_neuron - 1)]);
        let sums = chunks.iter().flat_map(|c| c.sample_sums.chunks_exact(per_neuron));
        for (k, sums) in sums.enumerate() {
            v[k] = sums[0];
            for (s, &sum) in sums[1..].iter().enumerate() {
                currents[s * n + k] = sum;
            }
        }
        (v, currents)
    }

    /// The sampled neurons' sums for a checkpoint after `step` steps, as
    /// [`RecordSchedule::gather_sample_sums`]; zeros right after a record (`step` a multiple of
    /// the block), where the next step restarts them.
    pub(super) fn sample_sums(&self, chunks: &[ChunkState], step: u64) -> (Vec<f64>, Vec<f64>) {
        let (mut v, mut currents) = self.gather_sample_sums(chunks);
        if step.is_multiple_of(self.neuron_steps) {
            v.fill(0.0);
            currents.fill(0.0);
        }
        (v, currents)
    }

    /// Puts sums saved by [`RecordSchedule::sample_sums`] back into the chunks.
    pub(super) fn set_sample_sums(&self, chunks: &mut [ChunkState], v: &[f64], currents: &[f64]) {
        let n = self.neuron_refs.len();
        let mut k = 0;
        for chunk in chunks {
            let per_neuron = 1 + chunk.n_currents();
            for sums in chunk.sample_sums.chunks_exact_mut(per_neuron) {
                sums[0] = v[k];
                for (s, sum) in sums[1..].iter_mut().enumerate() {
                    *sum = currents[s * n + k];
                }
                k += 1;
            }
        }
    }

    /// Whether the records after step `step` include weight statistics.
    pub(super) fn weight_stats_due(&self, step: u64) -> bool {
        step.is_multiple_of(self.weight_steps) && !self.plan.plastic.is_empty()
    }
}

impl Recorder {
    /// Hands the records after step `step` to the sink and applies the runaway guard.
    /// `weight_stats`, when given, holds the (mean, std) of every plastic projection (in plan
    /// order) computed by the caller (who then updates `weight_max`); otherwise they are
    /// computed here when due.
    pub(super) fn record(
        &mut self,
        network: &Network,
        step: u64,
        chunks: &[ChunkState],
        spikes: &[u32],
        weight_stats: Option<&[(f64, f64)]>,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let (dt_ms, sqrt_n, layout) = (network.dt_ms, network.sqrt_n, &network.layout);
        let schedule = &network.schedule;
        let t = step as f64 * dt_ms;
        let i = step;
        let rec = self;
        if schedule.plan.spikes && !spikes.is_empty() {
            sink.spikes(t, spikes)?;
        }
        if i.is_multiple_of(schedule.rate_bin_steps) {
            let bin_s = schedule.rate_bin_steps as f64 * dt_ms * 1e-3;
            let rates: Vec<f64> = rec
                .rate_counts
                .iter()
                .zip(&layout.populations)
                .map(|(&c, p)| c as f64 / (p.len as f64 * bin_s))
                .collect();
            sink.population_rates(t, &rates)?;
            rec.rate_counts.fill(0);
        }
        if !schedule.neuron_refs.is_empty() && i.is_multiple_of(schedule.neuron_steps) {
            // The block's sums, kept by the chunks (see `accumulate_samples`).
            let inv = 1.0 / schedule.neuron_steps as f64;
            let (mut v, mut cur) = schedule.gather_sample_sums(chunks);
            v.iter_mut().chain(&mut cur).for_each(|x| *x *= inv);
            sink.neurons(t, &v, &cur)?;
        }
        if i.is_multiple_of(schedule.weight_steps) {
            for k in 0..schedule.plan.plastic.len() {
                let pi = schedule.plan.plastic[k].projection;
                let samples: Vec<f64> = schedule.weight_samples[k]
                    .iter()
                    .map(|r| chunks[r.chunk].weights[pi][r.pos] * sqrt_n)
                    .collect();
                let (mean, std) = match weight_stats {
                    Some(stats) => stats[k],
                    None => {
                        let (stats, max) = block_stats(chunks, pi, sqrt_n, rec.weight_max[k]);
                        rec.weight_max[k] = Some(max);
                        stats
                    }
                };
                sink.weights(k, t, &samples, mean, std)?;
            }
        }
        let last = step == network.n_steps;
        rec.guard(
            step,
            dt_ms,
            schedule.guard_steps,
            layout,
            network.spec.guard.max_rate_hz,
            last,
        )
    }

    /// The runaway guard after step `step` (see the module docs); `last`: the run ends here.
    fn guard(
        &mut self,
        step: u64,
        dt_ms: f64,
        guard_steps: u64,
        layout: &Layout,
        max_rate_hz: f64,
        last: bool,
    ) -> Result<(), SimError> {
        self.guard_elapsed += 1;
        let full = self.guard_elapsed >= guard_steps;
        let window_s = guard_steps as f64 * dt_ms * 1e-3;
        // Rounded to the nanosecond: 56 steps of 0.1 ms are 5.6 ms, not 5.6000000000000005.
        let ms = |steps: u64| (steps as f64 * dt_ms * 1e6).round() / 1e6;
        let elapsed_ms = ms(self.guard_elapsed);
        let tail = last && (2 * self.guard_elapsed >= guard_steps || self.guard_elapsed == step);
        for (p, &c) in self.guard_counts.iter().enumerate() {
            let pop = &layout.populations[p];
            let over_budget = c as f64 > max_rate_hz * pop.len as f64 * window_s;
            if !(full || tail || over_budget) {
                continue;
            }
            let rate = c as f64 / (pop.len as f64 * elapsed_ms * 1e-3);
            if rate > max_rate_hz {
                return Err(SimError::Runaway {
                    population: pop.name.clone(),
                    rate_hz: rate,
                    limit_hz: max_rate_hz,
                    window_ms: elapsed_ms,
                    t_ms: ms(step),
                });
            }
        }
        if full {
            self.guard_counts.fill(0);
            self.guard_elapsed = 0;
        }
        Ok(())
    }
}
