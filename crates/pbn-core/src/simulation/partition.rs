//! How the neurons are split into chunks (one per thread): contiguous id ranges with about equal
//! estimated work. Any split gives bit-identical results; a balanced one keeps the threads from
//! waiting on each other at every step's barriers.

use crate::layout::{Layout, Source};
use crate::spec::NetworkSpec;

/// Rate assumed for recurrent presynaptic populations when estimating work (Hz): their rates are
/// not known before the run, and balanced networks sit at a few to a few tens of Hz.
const NOMINAL_RATE_HZ: f64 = 10.0;

/// Work of one synaptic event on a plastic synapse relative to a static one: the kick, the
/// pre-spike update, and its share of post-spike updates.
const PLASTIC_EVENT_COST: f64 = 3.0;

/// Work of one neuron's voltage update per step, in static synaptic events (measured: about
/// 0.5 ns against 1.5 ns per event at N = 5000).
const NEURON_STEP_COST: f64 = 0.33;

/// Estimated work per simulated second of one neuron of each population, in static events.
fn population_costs(spec: &NetworkSpec, layout: &Layout) -> Vec<f64> {
    let steps_per_s = 1000.0 / spec.dt_ms;
    let mut cost = vec![NEURON_STEP_COST * steps_per_s; layout.populations.len()];
    for p in &spec.projections {
        let (Some(source), Some(post)) = (layout.source(&p.from), layout.population(&p.to)) else {
            continue;
        };
        let rate = match source {
            Source::Population(_) => NOMINAL_RATE_HZ,
            Source::Input(x) => spec.inputs[x].rate_hz,
        };
        let per_event = if p.plasticity.is_some() {
            PLASTIC_EVENT_COST
        } else {
            1.0
        };
        cost[post] += p.probability * layout.source_len(source) as f64 * rate * per_event;
    }
    cost
}

/// `n_chunks` contiguous, non-empty ranges [lo, hi) covering all neurons, each with about
/// 1/n_chunks of the estimated work (needs n ≥ n_chunks).
pub(super) fn chunk_bounds(spec: &NetworkSpec, layout: &Layout, n_chunks: usize) -> Vec<(usize, usize)> {
    split(&population_costs(spec, layout), layout, n_chunks)
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
        let costs = population_costs(&spec, &layout);
        // E neurons carry the plastic I→E synapses: each costs more than an I neuron.
        assert!(costs[0] > 1.1 * costs[1], "{costs:?}");
        for k in 1..=4 {
            let b = chunk_bounds(&spec, &layout, k);
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
        assert!(chunk_bounds(&spec, &layout, 2)[0].1 < layout.n / 2);
        // Equal costs give equal shares; as many chunks as neurons gives one neuron each.
        assert_eq!(split(&[1.0, 1.0], &layout, 2), vec![(0, 2500), (2500, 5000)]);
        let tiny = Layout::new(&NetworkSpec::from_toml_with_overrides(&example_text(), &["n=3".into()]).unwrap());
        assert_eq!(split(&[5.0, 1.0], &tiny, 3), vec![(0, 1), (1, 2), (2, 3)]);
    }

    fn example_text() -> String {
        std::fs::read_to_string(format!("{}/../../examples/default.toml", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }
}
