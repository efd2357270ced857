//! One presynaptic neuron onto 400 postsynaptic ones: a row long enough that the engine delivers
//! it in several batches (and, with two threads, in two chunks). The postsynaptic neurons start at
//! different voltages, so they fire at different phases and every synapse sees its own
//! postsynaptic trace. Each final weight must equal the per-spike updates of docs/plasticity.md
//! §3.3 replayed on the recorded trains of its own two neurons: a kick or a trace read paired
//! with the wrong target, or a synapse skipped at a batch's edge, shows as a wrong weight.

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation};

mod common;

const DT: f64 = common::PAIR_DT_MS;
const TARGETS: usize = 400;

fn config(eta: f64, beta: f64, tau: f64, j0: f64) -> String {
    // Stimuli are given per √N: these make A and B fire as 1.6 and 1.3 do at N = 2.
    let per_sqrt_n = (2.0 / (TARGETS + 1) as f64).sqrt();
    common::driven_pair_config(
        "excitatory",
        TARGETS,
        j0,
        1.6 * per_sqrt_n,
        1.3 * per_sqrt_n,
        (-72.0, -52.0),
        &format!("rule = \"kohonen\", eta = {eta}, beta = {beta}, tau_ms = {tau}"),
        2000.0,
    )
}

#[test]
fn every_synapse_of_a_long_row_follows_its_own_trains() {
    let (eta, beta, tau, j0) = (0.002, 2.0, 200.0, 1.0);
    let spec = NetworkSpec::from_toml(&config(eta, beta, tau, j0)).unwrap();
    for threads in [1, 2] {
        let mut sim = Simulation::new(
            &spec,
            SimOptions {
                threads,
                ..SimOptions::default()
            },
        )
        .unwrap();
        let mut sink = MemorySink::default();
        sim.run(&mut sink).unwrap();
        let mut trains = vec![vec![]; TARGETS + 1];
        for (&id, &t) in sink.spike_ids.iter().zip(&sink.spike_times_ms) {
            trains[id as usize].push((t / DT).round() as u64);
        }
        assert!(trains[0].len() > 20, "A fires {} times", trains[0].len());
        let (pre, post, w) = sim.synapses(0);
        assert_eq!(w.len(), TARGETS);
        let mut expected_all = vec![];
        for ((&a, &b), &w) in pre.iter().zip(&post).zip(&w) {
            assert_eq!(a, 0);
            let expected = pbn_core::plasticity::replay_events(
                &trains[0],
                &trains[b as usize],
                1.0 - DT / tau,
                j0,
                |j, x| j + eta * beta * x,
                |j, _| j - eta * j,
            );
            assert!(
                (w - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                "{threads} thread(s), synapse 0 → {b}: engine {w} vs replay {expected}"
            );
            expected_all.push(expected);
        }
        // The synapses differ from each other by far more than the tolerance, so a weight
        // checked against another synapse's trains would fail.
        let (lo, hi) = expected_all
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(hi - lo > 1e-3, "weights {lo}..{hi} do not tell synapses apart");
    }
}
