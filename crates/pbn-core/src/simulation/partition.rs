//! How a step's work is split between threads. A step has two parallel phases: P1 advances
//! neurons (external kicks, voltage update, spike detection: work that grows with the number
//! of neurons) and P2 delivers recurrent spikes (work that grows with the events and plasticity
//! each neuron receives, so an E neuron with plastic I→E synapses costs more than an I neuron).
//! The chunks are contiguous id ranges that own their neurons and incoming synapses; every
//! thread advances a run of chunks in P1 and delivers to a run in P2. Any chunking gives
//! bit-identical results; a balanced one keeps the threads from waiting on each other at every
//! step's barriers.
//!
//! One split of the neurons cannot balance both phases exactly. Splitting each phase on its
//! own and cutting the chunks at both splits' points balances each phase, but the chunk between
//! the two cuts is advanced by one thread and delivered to by another (its state moves between
//! cores every step), and every extra chunk splits each spike's rows into more, shorter
//! segments. Measured with two threads (`pbn bench`, alternating runs), one split of the summed
//! work of both phases is faster: 0.93× the time at N = 5000 (21 rounds), 0.94× at 10,000
//! (11 rounds), 0.96× at 20,000 (5 rounds). So [`Partition::new`] makes one chunk per thread.

use std::ops::Range;

use crate::layout::{Layout, Source};
use crate::spec::{NetworkSpec, Precision};

/// Rate assumed for a recurrent population whose rate the caller does not supply (Hz): balanced
/// networks sit at a few to a few tens of Hz.
const NOMINAL_RATE_HZ: f64 = 10.0;

/// Work per event, in ns of one thread (`pbn bench --profile`, docs/model.md §2 network with iSTDP,
/// f32 state): 1.1 ns per static event (1.07, 1.09 and 0.91 at N = 5000, 20,000 and 100,000)
/// and 2.3 ns per plastic presynaptic event with its pre-spike update (2.3, 2.2, 2.4).
const STATIC_EVENT_NS: f64 = 1.1;
const PLASTIC_EVENT_NS: f64 = 2.3;

/// A post-spike update reads and writes one weight scattered in the projection's weight array,
/// so its cost grows once that array outgrows the caches: 3.4 ns at N = 5000 (3.2 MB of I→E
/// weights), 5.2 ns at N = 20,000 (51 MB), 6.8 ns at N = 100,000 (1.6 GB). Interpolated in
/// log(size) between 8 MiB and 1 GiB, constant outside.
fn post_update_ns(weight_bytes: f64) -> f64 {
    let (small, large) = (8.0 * 1024.0 * 1024.0, 1024.0 * 1024.0 * 1024.0);
    let x = ((weight_bytes / small).ln() / (large / small).ln()).clamp(0.0, 1.0);
    3.4 + x * (6.8 - 3.4)
}

/// Drawing one external spike (ns; 0.0012–0.0014 s per simulated second for the 10,000 correlated
/// input spikes per second of that network). The last thread does it in the delivery phase.
const INPUT_SPIKE_NS: f64 = 130.0;

/// One neuron's voltage update and spike check per step (ns, N = 5000): f32 state is more than
/// twice as fast as f64 (wider vectors, a shorter exp polynomial).
fn neuron_step_ns(precision: Precision) -> f64 {
    match precision {
        Precision::F64 => 1.2,
        Precision::F32 => 0.5,
    }
}

/// Estimated work (ns per simulated second) of one neuron of each population in P1 (voltage
/// updates and external kicks) and in P2 (recurrent events and post-spike updates).
/// `rates_hz` are the expected rates of the populations (layout order), if known.
fn population_costs(spec: &NetworkSpec, layout: &Layout, rates_hz: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let steps_per_s = 1000.0 / spec.dt_ms;
    let rate_of = |pop: usize| {
        rates_hz
            .and_then(|r| r.get(pop).copied())
            .filter(|r| r.is_finite() && *r >= 0.0)
            .unwrap_or(NOMINAL_RATE_HZ)
    };
    let k = layout.populations.len();
    let mut advance = vec![neuron_step_ns(spec.precision) * steps_per_s; k];
    // Every neuron is reset at least at its spikes; a floor keeps an idle population's chunk
    // from being empty of work in the estimate.
    let mut deliver = vec![1.0; k];
    for p in &spec.projections {
        let (Some(source), Some(post)) = (layout.source(&p.from), layout.population(&p.to)) else {
            continue;
        };
        let fan_in = p.probability * layout.source_len(source) as f64;
        let weight_bytes = fan_in * layout.populations[post].len as f64 * 8.0;
        match source {
            Source::Input(x) => advance[post] += fan_in * spec.inputs[x].rate_hz * STATIC_EVENT_NS,
            Source::Population(pre) => {
                deliver[post] += fan_in
                    * match p.plasticity {
                        Some(_) => rate_of(pre) * PLASTIC_EVENT_NS + rate_of(post) * post_update_ns(weight_bytes),
                        None => rate_of(pre) * STATIC_EVENT_NS,
                    }
            }
        }
    }
    (advance, deliver)
}

/// The chunks and which thread works on which in each phase.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Partition {
    /// Contiguous, non-empty ranges [lo, hi) covering all neurons, in order.
    pub(super) chunks: Vec<(usize, usize)>,
    /// Per thread, the run of chunks (indices into `chunks`) it advances in P1.
    pub(super) advance: Vec<Range<usize>>,
    /// Per thread, the run of chunks it delivers to in P2.
    pub(super) deliver: Vec<Range<usize>>,
}

impl Partition {
    /// The split for `threads` threads (at most one per neuron): one chunk per thread, each
    /// with about the same work of both phases together (see the module docs); `rates_hz` as in
    /// [`population_costs`].
    pub(super) fn new(spec: &NetworkSpec, layout: &Layout, threads: usize, rates_hz: Option<&[f64]>) -> Self {
        let (advance, deliver) = population_costs(spec, layout, rates_hz);
        let both: Vec<f64> = advance.iter().zip(&deliver).map(|(a, d)| a + d).collect();
        // The last thread also draws the next step's external spikes, in P2.
        let input_ns: f64 = spec
            .inputs
            .iter()
            .zip(&layout.inputs)
            .map(|(x, l)| x.rate_hz * l.len as f64 * INPUT_SPIKE_NS)
            .sum();
        let parts = split(&both, layout, threads, input_ns);
        Self::from_splits(&parts, &parts)
    }

    /// The chunks cut at the points of both per-thread splits.
    fn from_splits(advance: &[(usize, usize)], deliver: &[(usize, usize)]) -> Self {
        let mut cuts: Vec<usize> = advance.iter().chain(deliver).map(|r| r.0).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let n = advance.last().map_or(0, |r| r.1);
        let chunks: Vec<(usize, usize)> = cuts
            .iter()
            .zip(cuts.iter().skip(1).chain([&n]))
            .map(|(&a, &b)| (a, b))
            .collect();
        // Thread t's chunks in a phase: those starting in its range [lo, hi).
        let runs = |split: &[(usize, usize)]| -> Vec<Range<usize>> {
            split
                .iter()
                .map(|&(lo, hi)| chunks.partition_point(|c| c.0 < lo)..chunks.partition_point(|c| c.0 < hi))
                .collect()
        };
        Self {
            advance: runs(advance),
            deliver: runs(deliver),
            chunks,
        }
    }

    /// Number of threads.
    pub(super) fn threads(&self) -> usize {
        self.advance.len()
    }
}

/// `n_parts` contiguous, non-empty ranges [lo, hi) covering all neurons, each with about
/// 1/n_parts of the work given per population by `costs` (needs n ≥ n_parts), counting
/// `last_extra` of other work as the last part's.
fn split(costs: &[f64], layout: &Layout, n_parts: usize, last_extra: f64) -> Vec<(usize, usize)> {
    let n = layout.n;
    assert!(n_parts >= 1 && n >= n_parts, "{n} neurons cannot fill {n_parts} parts");
    let neuron_cost = |id: usize| costs[layout.population_of(id)];
    let total: f64 = layout
        .populations
        .iter()
        .zip(costs)
        .map(|(p, c)| p.len as f64 * c)
        .sum::<f64>()
        + last_extra;
    let mut bounds = Vec::with_capacity(n_parts);
    let (mut lo, mut id, mut done) = (0, 0, 0.0);
    for c in 1..n_parts {
        let goal = total * c as f64 / n_parts as f64;
        // Leave at least one neuron for each part still to come.
        while id < n - (n_parts - c) && (done + neuron_cost(id) <= goal || id == lo) {
            done += neuron_cost(id);
            id += 1;
        }
        bounds.push((lo, id));
        lo = id;
    }
    bounds.push((lo, n));
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> NetworkSpec {
        let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
        NetworkSpec::from_toml_with_overrides(&std::fs::read_to_string(path).unwrap(), &[]).unwrap()
    }

    #[test]
    fn splits_are_contiguous_nonempty_and_share_the_work() {
        let spec = example("istdp_i_to_e.toml");
        let layout = Layout::new(&spec);
        let (advance, deliver) = population_costs(&spec, &layout, None);
        // Voltage work is the same for E and I (same input fan-in); E neurons receive the
        // plastic I→E synapses, so their delivery work is larger.
        assert_eq!(advance[0], advance[1]);
        assert!(deliver[0] > 1.5 * deliver[1], "{deliver:?}");
        for costs in [&advance, &deliver] {
            for k in 1..=4 {
                let b = split(costs, &layout, k, 0.0);
                assert_eq!((b.len(), b[0].0, b[k - 1].1), (k, 0, layout.n));
                assert!(b.windows(2).all(|w| w[0].1 == w[1].0) && b.iter().all(|&(lo, hi)| lo < hi));
                let work = |(lo, hi): (usize, usize)| (lo..hi).map(|id| costs[layout.population_of(id)]).sum::<f64>();
                let shares: Vec<f64> = b.iter().map(|&r| work(r)).collect();
                let (min, max) = shares
                    .iter()
                    .fold((f64::MAX, 0.0f64), |(a, z), &s| (a.min(s), z.max(s)));
                assert!(max - min <= 2.0 * costs[0], "{k} parts: {shares:?}");
            }
        }
        // The model at given rates (r_E, r_I) = (6, 15) Hz, p = 0.1, 4000 E and 1000 I: an E
        // neuron receives 400 static E events per E spike rate, 100 plastic I events per I
        // spike rate, and makes 100 post-spike updates per spike of its own.
        let (a, d) = population_costs(&spec, &layout, Some(&[6.0, 15.0]));
        let e_delivery = 1.0 + 400.0 * 6.0 * STATIC_EVENT_NS + 100.0 * (15.0 * PLASTIC_EVENT_NS + 6.0 * 3.4);
        let i_delivery = 1.0 + 400.0 * 6.0 * STATIC_EVENT_NS + 100.0 * 15.0 * STATIC_EVENT_NS;
        assert!(
            (d[0] - e_delivery).abs() < 1e-9 && (d[1] - i_delivery).abs() < 1e-9,
            "{d:?}"
        );
        // Voltage work: 10,000 steps and 100 external events per X spike rate (10 Hz).
        let voltage = 1e4 * neuron_step_ns(spec.precision) + 100.0 * 10.0 * STATIC_EVENT_NS;
        assert!((a[0] - voltage).abs() < 1e-9 && a == advance, "{a:?}");
        // Equal costs give equal shares; as many parts as neurons gives one neuron each.
        assert_eq!(split(&[1.0, 1.0], &layout, 2, 0.0), vec![(0, 2500), (2500, 5000)]);
        // Other work of the last part moves the cut: 1000 neurons' worth → 3000 + 2000.
        assert_eq!(split(&[1.0, 1.0], &layout, 2, 1000.0), vec![(0, 3000), (3000, 5000)]);
        let tiny = Layout::new(&NetworkSpec::from_toml_with_overrides(&example_text(), &["n=3".into()]).unwrap());
        assert_eq!(split(&[5.0, 1.0], &tiny, 3, 0.0), vec![(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn post_spike_updates_cost_more_once_the_weights_outgrow_the_caches() {
        let mib = 1024.0 * 1024.0;
        assert_eq!(post_update_ns(3.2e6), 3.4);
        assert_eq!(post_update_ns(8.0 * mib), 3.4);
        // Near the 5.2 ns measured at N = 20,000.
        assert!((post_update_ns(51e6) - 5.2).abs() < 0.6, "{}", post_update_ns(51e6));
        assert_eq!(post_update_ns(1024.0 * mib), 6.8);
        assert_eq!(post_update_ns(1.6e9), 6.8);
    }

    #[test]
    fn chunks_are_cut_at_both_splits_and_each_thread_gets_a_run_in_each_phase() {
        // Two threads: voltage work split at 2500, delivery work at 2200 → chunks [0, 2200),
        // [2200, 2500), [2500, 5000); the middle one is advanced by thread 0, delivered by 1.
        let p = Partition::from_splits(&[(0, 2500), (2500, 5000)], &[(0, 2200), (2200, 5000)]);
        assert_eq!(p.chunks, vec![(0, 2200), (2200, 2500), (2500, 5000)]);
        assert_eq!(
            (p.advance.clone(), p.deliver.clone()),
            (vec![0..2, 2..3], vec![0..1, 1..3])
        );
        // Shared cut points give no empty chunk.
        let q = Partition::from_splits(&[(0, 10), (10, 20), (20, 30)], &[(0, 10), (10, 25), (25, 30)]);
        assert_eq!(q.chunks, vec![(0, 10), (10, 20), (20, 25), (25, 30)]);
        assert_eq!((q.advance, q.deliver), (vec![0..1, 1..2, 2..4], vec![0..1, 1..3, 3..4]));
        // One thread: one chunk.
        let spec = example("istdp_i_to_e.toml");
        let one = Partition::new(&spec, &Layout::new(&spec), 1, None);
        assert_eq!(one.chunks, vec![(0, 5000)]);
        assert!(one.advance.len() == 1 && one.advance[0] == (0..1) && one.deliver == one.advance);
        // Two threads: one chunk each, the same in both phases, with about equal work of both
        // phases together (within one neuron's).
        let layout = Layout::new(&spec);
        let two = Partition::new(&spec, &layout, 2, None);
        assert_eq!((two.chunks.len(), two.threads()), (2, 2), "{two:?}");
        assert!(two.advance == vec![0..1, 1..2] && two.deliver == two.advance, "{two:?}");
        let (a, d) = population_costs(&spec, &layout, None);
        let work = |(lo, hi): (usize, usize)| -> f64 {
            (lo..hi)
                .map(|id| a[layout.population_of(id)] + d[layout.population_of(id)])
                .sum()
        };
        // The last thread's share includes drawing the external spikes (1000 trains at 10 Hz).
        let (w0, w1) = (
            work(two.chunks[0]),
            work(two.chunks[1]) + 1000.0 * 10.0 * INPUT_SPIKE_NS,
        );
        assert!((w0 - w1).abs() <= 2.0 * (a[0] + d[0]).max(a[1] + d[1]), "{w0} vs {w1}");
        // E neurons cost more in P2, so thread 0 (all E) gets fewer than half the neurons.
        assert!(two.chunks[0].1 < 2500, "{two:?}");
    }

    fn example_text() -> String {
        std::fs::read_to_string(format!("{}/../../examples/default.toml", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }
}
