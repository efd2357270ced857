//! A team's post-spike updates, moved from the step that caused them into the next step's
//! voltage phase and shared out between the threads by how long their voltage phases take.
//!
//! In the delivery phase each thread delivers to its own chunk, and a chunk's post-spike
//! updates are those of its own spiking neurons (about 400 scattered weights each in the
//! default network at N = 5000, one main-memory access apiece at large N). How many of its
//! neurons spike changes from step to step, so at every step one thread waits for the other at
//! the barrier that ends the phase. The updates of step n touch only weights, which nothing
//! reads before step n + 1's delivery; step n + 1's voltage phase touches only neuron state.
//! So a team does step n's updates in step n + 1's voltage phase instead, each thread a run of
//! the spiking neurons whatever chunk they are in (the synapses onto one neuron are one
//! thread's alone). The runs' lengths are fractions of the step's spiking neurons that follow
//! the threads' measured voltage-phase times ([`rebalance`]), so they also even out that
//! phase's other work; which thread updates which synapse never changes a result.
//!
//! Each update still sees what it saw in place: the weight after step n's pre-spike update
//! (delivery comes before), and the presynaptic traces as they were before step n's increments
//! (kept by [`TraceSet::keep_previous`], since the traces have moved on by then). So every
//! weight gets the same operations in the same order: bit-identical to the single-threaded path.
//!
//! A step whose records read the weights (weight statistics and samples) keeps its updates in
//! place, and a team's run leaves none pending when it returns (thread 0 finishes them), so
//! that nothing outside a run ever sees a deferred update.

use std::sync::atomic::Ordering;

use super::chunk::{ChunkState, PostWeights, post_spike_update, prefetch_post, spikes_in};
use super::handoff::ThreadSlot;
use super::network::Network;
use super::state::RuleInForce;
use super::traces::TraceSet;

/// The chunk parts' weights of every plastic projection, per chunk and projection (`None` for
/// static ones): raw views, through which the threads update disjoint synapses in P1. Valid
/// while the weight vectors keep their buffers: nothing resizes them once a network is built.
pub(super) type PostWeightTable = Vec<Vec<Option<PostWeights>>>;

/// Plastic weights with post-spike updates below this many bytes stay in the caches, where the
/// updates are cheap and their amount per step varies little; deferring them there costs more
/// (bookkeeping, and weights updated by another core than the one that delivers to them) than
/// the balance gains: at N = 5000 (3.2 MB of I→E weights) two threads were 1.02–1.04× slower
/// with deferral, at N = 10,000 (13 MB) 0.95× as fast.
const DEFER_FROM_BYTES: usize = 8 << 20;

/// Whether a team of threads defers each step's post-spike updates to the next step's voltage
/// phase (see `Simulation::set_post_deferral`). Results are the same either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostDeferral {
    /// Where the weights updated at postsynaptic spikes outgrow the caches (8 MiB or more).
    #[default]
    Auto,
    /// Always (for tests of the deferred path on small networks).
    Always,
    /// Never: every step's updates in its own delivery phase.
    Never,
}

/// Whether a team defers the post-spike updates (see the module docs): as `deferral` says, and
/// for `Auto` when the weights that the `rules` in force update at postsynaptic spikes outgrow
/// the caches.
pub(super) fn pays(deferral: PostDeferral, network: &Network, rules: &[Option<RuleInForce>]) -> bool {
    match deferral {
        PostDeferral::Always => return true,
        PostDeferral::Never => return false,
        PostDeferral::Auto => {}
    }
    let bytes: usize = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_some_and(|r| r.rule.post.active))
        .map(|(p, _)| {
            network
                .chunks
                .iter()
                .map(|c| c.parts[p].len() * size_of::<f64>())
                .sum::<usize>()
        })
        .sum();
    bytes >= DEFER_FROM_BYTES
}

/// The table of `chunks`' weights (which must not be reallocated while it is used).
pub(super) fn weight_table(chunks: &mut [ChunkState], network: &Network) -> PostWeightTable {
    chunks
        .iter_mut()
        .zip(&network.chunks)
        .map(|(c, wiring)| {
            c.weights
                .iter_mut()
                .zip(&wiring.parts)
                .zip(&network.projections)
                .map(|((w, part), proj)| proj.plastic.then(|| PostWeights::new(part, w)))
                .collect()
        })
        .collect()
}

/// One spiking neuron's incoming synapses of one plastic projection.
struct Target<'a> {
    part: &'a crate::connectivity::ChunkSynapses,
    weights: PostWeights,
    /// The neuron's index among the part's postsynaptic neurons.
    local: usize,
    rule: &'a RuleInForce,
    pre_start: usize,
}

/// Which part of a step's post-spike updates a thread does: thread `t` of a team whose
/// threads take the fractions `fractions` (summing to 1) of the spiking neurons.
#[derive(Clone, Copy)]
pub(super) struct Share<'a> {
    pub(super) t: usize,
    pub(super) fractions: &'a [f64],
}

impl Share<'_> {
    /// All of them.
    pub(super) const ALL: Share<'static> = Share {
        t: 0,
        fractions: &[1.0],
    };

    /// The run [from, to) of `total` items that is this share.
    fn run(self, total: usize) -> (usize, usize) {
        let cut = |k: usize| match k {
            0 => 0,
            k if k >= self.fractions.len() => total,
            k => ((total as f64 * self.fractions[..k].iter().sum::<f64>()).round() as usize).min(total),
        };
        let (a, b) = (cut(self.t), cut(self.t + 1));
        (a, b.max(a))
    }
}

/// Calls `f` for `share` of the post-spike updates of `spikes` (a step's spikes, ids
/// ascending): per plastic projection with an active post-spike side, its spiking postsynaptic
/// neurons in id order, cut into one run per thread.
fn for_share(
    network: &Network,
    rules: &[Option<RuleInForce>],
    weights: &PostWeightTable,
    spikes: &[u32],
    share: Share,
    mut f: impl FnMut(Target),
) {
    for (p, (proj, rule)) in network.projections.iter().zip(rules).enumerate() {
        let Some(rule) = rule.as_ref().filter(|r| r.rule.post.active) else {
            continue;
        };
        // Per chunk: its part, its first postsynaptic neuron's id and its spiking ones.
        let spiking = network.chunks.iter().map(|wiring| {
            let part = &wiring.parts[p];
            let first = wiring.lo + part.post_offset;
            (part, first, spikes_in(spikes, first, first + part.post_len))
        });
        let total: usize = spiking.clone().map(|(_, _, these)| these.len()).sum();
        let (from, to) = share.run(total);
        // `seen`: spiking neurons in the chunks before this one.
        let mut seen = 0;
        for ((part, first, these), chunk_weights) in spiking.zip(weights) {
            let mine = from.saturating_sub(seen).min(these.len())..to.saturating_sub(seen).min(these.len());
            seen += these.len();
            let Some(w) = chunk_weights[p] else { continue };
            for &s in &these[mine] {
                f(Target {
                    part,
                    weights: w,
                    local: s as usize - first,
                    rule,
                    pre_start: proj.pre_start,
                });
            }
        }
    }
}

/// Asks for the first weights of thread `t`'s share (see [`apply`]), so that their memory
/// latency overlaps the voltage update.
pub(super) fn prefetch(
    network: &Network,
    rules: &[Option<RuleInForce>],
    weights: &PostWeightTable,
    spikes: &[u32],
    share: Share,
) {
    for_share(network, rules, weights, spikes, share, |target| {
        prefetch_post(target.part, target.weights.ptr(), target.local)
    });
}

/// Thread `t` of `threads` (`share`) applies its share of the post-spike updates of `spikes`
/// (the previous step's) with the traces as they were before that step's increments.
///
/// # Safety
/// `weights` must view the chunks' live weights; while this runs nobody else may touch them
/// except the other threads of the team, each through this function with its own `t` and the
/// same `spikes` (the shares are disjoint sets of postsynaptic neurons).
pub(super) unsafe fn apply(
    network: &Network,
    rules: &[Option<RuleInForce>],
    traces: &[TraceSet],
    weights: &PostWeightTable,
    spikes: &[u32],
    share: Share,
) {
    for_share(network, rules, weights, spikes, share, |target| {
        let (x, x_scale) = traces[target.rule.trace].previous();
        // SAFETY: the caller's contract; `target.local`'s synapses are this share's alone.
        unsafe {
            post_spike_update(
                target.part,
                target.weights,
                target.local,
                &target.rule.rule,
                &x[target.pre_start..],
                x_scale,
            )
        };
    });
}

/// How far one timed step moves the fractions: a thread whose P1 took 10 % longer than the
/// mean gives up 0.1·GAIN of the updates, so the fractions settle over a few hundred timed
/// steps and a single slow step hardly moves them.
const GAIN: f64 = 0.02;

/// Every how many steps the threads time their P1.
pub(super) const TIMED_EVERY: u64 = 4;

/// Moves the fractions of the post-spike updates towards threads whose last P1 (`p1_ns`, per
/// thread; 0 where it was not timed) was shorter than the mean. Only the split of the work
/// changes, never a result.
pub(super) fn rebalance(fractions: &mut [f64], p1_ns: &[ThreadSlot]) {
    // Runs between every two steps on thread 0 while the others wait: no allocation.
    let time = |s: &ThreadSlot| s.0.load(Ordering::Relaxed) as f64;
    if fractions.len() != p1_ns.len() || p1_ns.iter().any(|s| time(s) == 0.0) {
        return;
    }
    let mean = p1_ns.iter().map(time).sum::<f64>() / p1_ns.len() as f64;
    for (f, s) in fractions.iter_mut().zip(p1_ns) {
        *f = (*f + GAIN * (mean - time(s)) / mean).max(0.0);
    }
    let sum: f64 = fractions.iter().sum();
    if sum > 0.0 {
        fractions.iter_mut().for_each(|f| *f /= sum);
    } else {
        fractions.fill(1.0 / p1_ns.len() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shares_cut_every_step_into_disjoint_runs_that_cover_it() {
        for fractions in [
            &[1.0][..],
            &[0.5, 0.5],
            &[0.7, 0.3],
            &[0.0, 1.0],
            &[0.2, 0.0, 0.45, 0.35],
        ] {
            for total in [0, 1, 2, 3, 7, 400] {
                let runs: Vec<(usize, usize)> = (0..fractions.len())
                    .map(|t| Share { t, fractions }.run(total))
                    .collect();
                assert_eq!((runs[0].0, runs.last().unwrap().1), (0, total), "{fractions:?} {total}");
                assert!(
                    runs.windows(2).all(|w| w[0].1 == w[1].0),
                    "{fractions:?} {total}: {runs:?}"
                );
                for (&(a, b), f) in runs.iter().zip(fractions) {
                    assert!(
                        ((b - a) as f64 - f * total as f64).abs() <= 1.0,
                        "{fractions:?} {total}: {runs:?}"
                    );
                }
            }
        }
        assert_eq!(Share::ALL.run(9), (0, 9));
    }

    #[test]
    fn rebalancing_moves_work_to_the_faster_thread_and_keeps_the_fractions_whole() {
        let slots = |ns: &[u64]| -> Vec<ThreadSlot> {
            ns.iter()
                .map(|&n| {
                    let s = ThreadSlot::default();
                    s.0.store(n, Ordering::Relaxed);
                    s
                })
                .collect()
        };
        let mut f = vec![0.5, 0.5];
        // Thread 1 took 10 % longer than the mean: it gives up GAIN·0.1 of the updates.
        rebalance(&mut f, &slots(&[1000, 1222]));
        assert!(f[0] > 0.5 && f[1] < 0.5 && (f[0] + f[1] - 1.0).abs() < 1e-12, "{f:?}");
        assert!((f[0] - 0.5 - GAIN * 111.0 / 1111.0).abs() < 1e-9, "{f:?}");
        // An untimed step (0) changes nothing; a thread much slower than the rest ends at zero.
        let before = f.clone();
        rebalance(&mut f, &slots(&[0, 1000]));
        assert_eq!(f, before);
        for _ in 0..1000 {
            rebalance(&mut f, &slots(&[10, 1000]));
        }
        assert_eq!(f, vec![1.0, 0.0]);
        // With equal times the fractions stay where they are.
        let mut g = vec![0.3, 0.7];
        rebalance(&mut g, &slots(&[500, 500]));
        assert!((g[0] - 0.3).abs() < 1e-15 && (g[1] - 0.7).abs() < 1e-15, "{g:?}");
    }
}
