//! How the neurons are split into chunks (one per thread): contiguous id ranges with about equal
//! estimated work. Any split gives bit-identical results; a balanced one keeps the threads from
//! waiting on each other at every step's barriers.

use crate::layout::{Layout, Source};
use crate::spec::{NetworkSpec, Precision};

/// Rate assumed for a recurrent population whose rate the caller does not supply (Hz): balanced
/// networks sit at a few to a few tens of Hz.
const NOMINAL_RATE_HZ: f64 = 10.0;

/// Work per event, in ns of one thread at N = 5000 (`pbn bench --profile`, MODEL.md §2 network
/// with iSTDP: 1.3 ns per static event, 2.5 ns per plastic presynaptic event with its
/// pre-spike update, 5.4 ns per post-spike update, whose weights are scattered in memory).
const STATIC_EVENT_NS: f64 = 1.3;
const PLASTIC_EVENT_NS: f64 = 2.5;
const POST_UPDATE_NS: f64 = 5.4;

/// One neuron's voltage update and spike check per step (ns): f32 state is about twice as fast
/// as f64 (wider vectors, a shorter exp polynomial).
fn neuron_step_ns(precision: Precision) -> f64 {
    match precision {
        Precision::F64 => 1.3,
        Precision::F32 => 0.6,
    }
}

/// Estimated work (ns per simulated second) of one neuron of each population: its voltage
/// updates, the events it receives, and its post-spike updates. `rates_hz` are the expected
/// rates of the populations (layout order), if known.
fn population_costs(spec: &NetworkSpec, layout: &Layout, rates_hz: Option<&[f64]>) -> Vec<f64> {
    let steps_per_s = 1000.0 / spec.dt_ms;
    let rate_of = |pop: usize| {
        rates_hz
            .and_then(|r| r.get(pop).copied())
            .filter(|r| r.is_finite() && *r >= 0.0)
            .unwrap_or(NOMINAL_RATE_HZ)
    };
    let mut cost = vec![neuron_step_ns(spec.precision) * steps_per_s; layout.populations.len()];
    for p in &spec.projections {
        let (Some(source), Some(post)) = (layout.source(&p.from), layout.population(&p.to)) else {
            continue;
        };
        let pre_rate = match source {
            Source::Population(pop) => rate_of(pop),
            Source::Input(x) => spec.inputs[x].rate_hz,
        };
        let fan_in = p.probability * layout.source_len(source) as f64;
        cost[post] += fan_in
            * match p.plasticity {
                Some(_) => pre_rate * PLASTIC_EVENT_NS + rate_of(post) * POST_UPDATE_NS,
                None => pre_rate * STATIC_EVENT_NS,
            };
    }
    cost
}

/// `n_chunks` contiguous, non-empty ranges [lo, hi) covering all neurons, each with about
/// 1/n_chunks of the estimated work (needs n ≥ n_chunks); `rates_hz` as in [`population_costs`].
pub(super) fn chunk_bounds(
    spec: &NetworkSpec,
    layout: &Layout,
    n_chunks: usize,
    rates_hz: Option<&[f64]>,
) -> Vec<(usize, usize)> {
    split(&population_costs(spec, layout, rates_hz), layout, n_chunks)
}

/// The split for given per-population costs.
fn split(costs: &[f64], layout: &Layout, n_chunks: usize) -> Vec<(usize, usize)> {
    let n = layout.n;
    assert!(
        n_chunks >= 1 && n >= n_chunks,
        "{n} neurons cannot fill {n_chunks} chunks"
    );
    let neuron_cost = |id: usize| costs[layout.population_of(id)];
    let total: f64 = layout
        .populations
        .iter()
        .zip(costs)
        .map(|(p, c)| p.len as f64 * c)
        .sum();
    let mut bounds = Vec::with_capacity(n_chunks);
    let (mut lo, mut id, mut done) = (0, 0, 0.0);
    for c in 1..n_chunks {
        let goal = total * c as f64 / n_chunks as f64;
        // Leave at least one neuron for each chunk still to come.
        while id < n - (n_chunks - c) && (done + neuron_cost(id) <= goal || id == lo) {
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
    fn chunks_are_contiguous_nonempty_and_share_the_work() {
        let spec = example("istdp_i_to_e.toml");
        let layout = Layout::new(&spec);
        let costs = population_costs(&spec, &layout, None);
        // E neurons carry the plastic I→E synapses: each costs more than an I neuron.
        assert!(costs[0] > 1.1 * costs[1], "{costs:?}");
        for k in 1..=4 {
            let b = chunk_bounds(&spec, &layout, k, None);
            assert_eq!((b.len(), b[0].0, b[k - 1].1), (k, 0, layout.n));
            assert!(b.windows(2).all(|w| w[0].1 == w[1].0) && b.iter().all(|&(lo, hi)| lo < hi));
            let work = |(lo, hi): (usize, usize)| (lo..hi).map(|id| costs[layout.population_of(id)]).sum::<f64>();
            let shares: Vec<f64> = b.iter().map(|&r| work(r)).collect();
            let (min, max) = shares
                .iter()
                .fold((f64::MAX, 0.0f64), |(a, z), &s| (a.min(s), z.max(s)));
            assert!(max - min <= 2.0 * costs[0], "{k} chunks: {shares:?}");
        }
        // Two chunks: fewer than half the neurons in the first (all E, the dearer ones).
        assert!(chunk_bounds(&spec, &layout, 2, None)[0].1 < layout.n / 2);
        // Expected rates move work: a faster I population makes the plastic I→E synapses (and
        // so the E neurons) dearer, and the split gives the first chunk fewer E neurons.
        let slow_i = chunk_bounds(&spec, &layout, 2, Some(&[6.0, 6.0]))[0].1;
        let fast_i = chunk_bounds(&spec, &layout, 2, Some(&[6.0, 15.0]))[0].1;
        assert!(fast_i < slow_i, "{fast_i} vs {slow_i}");
        // Equal costs give equal shares; as many chunks as neurons gives one neuron each.
        assert_eq!(split(&[1.0, 1.0], &layout, 2), vec![(0, 2500), (2500, 5000)]);
        let tiny = Layout::new(&NetworkSpec::from_toml_with_overrides(&example_text(), &["n=3".into()]).unwrap());
        assert_eq!(split(&[5.0, 1.0], &tiny, 3), vec![(0, 1), (1, 2), (2, 3)]);
    }

    fn example_text() -> String {
        std::fs::read_to_string(format!("{}/../../examples/default.toml", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }
}
