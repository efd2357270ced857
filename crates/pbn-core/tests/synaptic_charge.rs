//! docs/model.md §2.4/§2.7: one presynaptic spike injects the charge J·(1 − dt/τ) into the
//! postsynaptic current (the kick decays once before it is first used), with J = j/√N.

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation};

#[test]
fn one_spike_injects_the_closed_form_charge() {
    let (dt, tau, j) = (0.1, 8.0, 2.0);
    let config = format!(
        r#"
n = 2
duration_ms = 300.0
dt_ms = {dt}
[[populations]]
name = "A"
kind = "excitatory"
size = 1
tau_syn_ms = {tau}
neuron = {{ v_init_min_mv = -60.0, v_init_max_mv = -60.0 }}
[[populations]]
name = "B"
kind = "excitatory"
size = 1
tau_syn_ms = 5.0
neuron = {{ v_init_min_mv = -72.0, v_init_max_mv = -72.0 }}
[[projections]]
from = "A"
to = "B"
probability = 1.0
weight = {j}
[[stimuli]]
population = "A"
current = 5.0
stop_ms = 3.0
[record]
neuron_samples = 1
neuron_interval_ms = {dt}
"#
    );
    let spec = NetworkSpec::from_toml(&config).unwrap();
    let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    assert_eq!(sink.spike_ids, vec![0], "exactly one spike, from A");

    // Currents are laid out [source][sampled neuron]; sampled neurons are A (0) and B (1).
    let from_a_onto_b: f64 = sink.neurons.iter().map(|(_, _, c)| c[1]).sum::<f64>() * dt;
    let expected = j / 2f64.sqrt() * (1.0 - dt / tau);
    let left = expected * (1.0 - dt / tau).powf(sink.neurons.len() as f64 - sink.spike_times_ms[0] / dt);
    assert!(
        (from_a_onto_b - expected).abs() <= left + 1e-12 * expected,
        "charge {from_a_onto_b} vs J(1 − dt/τ) = {expected}"
    );
    assert!(
        left < 1e-9 * expected,
        "the run is long enough for the kick to have decayed"
    );
}
