//! Helpers shared by the whole-network tests.
#![allow(dead_code)] // each test file uses a subset

use pbn_core::{MemorySink, NetworkSpec, PostDeferral, SimOptions, Simulation, ThreadPacing};

/// The text of `examples/NAME`.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An example config with `--set` overrides applied.
pub fn spec(name: &str, sets: &[&str]) -> NetworkSpec {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    NetworkSpec::from_toml_with_overrides(&example(name), &sets).unwrap()
}

/// Mean rate (Hz) of each population over (from_ms, to_ms].
pub fn rates(sink: &MemorySink, sim: &Simulation, from_ms: f64, to_ms: f64) -> Vec<f64> {
    let pops = &sim.layout().populations;
    let mut counts = vec![0usize; pops.len()];
    for (t, &id) in sink.spike_times_ms.iter().zip(&sink.spike_ids) {
        if *t > from_ms && *t <= to_ms {
            counts[sim.layout().population_of(id as usize)] += 1;
        }
    }
    counts
        .iter()
        .zip(pops)
        .map(|(&c, p)| c as f64 / p.len as f64 / ((to_ms - from_ms) * 1e-3))
        .collect()
}

/// Builds `spec` for `threads` threads, which step every step (no adaptive fallback to one
/// thread: these tests are about the team), deferring post-spike updates whatever the size.
pub fn build(spec: &NetworkSpec, threads: usize) -> Simulation {
    let mut sim = Simulation::new(
        spec,
        SimOptions {
            threads,
            ..Default::default()
        },
    )
    .unwrap();
    sim.set_thread_pacing(ThreadPacing::Team);
    sim.set_post_deferral(PostDeferral::Always);
    sim
}

/// Builds and runs `spec` to its end with `threads` threads.
pub fn simulate(spec: &NetworkSpec, threads: usize) -> (Simulation, MemorySink) {
    let mut sim = build(spec, threads);
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    (sim, sink)
}

/// Time step (ms) of [`driven_pair_config`].
pub const PAIR_DT_MS: f64 = 0.1;

/// A one-neuron population A ("A", of kind `source_kind`) projecting with probability 1 and
/// unscaled weight `weight` onto population B of `targets` excitatory neurons, with plasticity
/// `rule` (the body of a TOML inline table). Constant stimuli `stim_a`, `stim_b` (per √N, as
/// every stimulus); A starts at −60 mV, B uniformly in `v_init_b_mv`; a guard at 1000 Hz; dt
/// = [`PAIR_DT_MS`].
#[allow(clippy::too_many_arguments)]
pub fn driven_pair_config(
    source_kind: &str,
    targets: usize,
    weight: f64,
    stim_a: f64,
    stim_b: f64,
    v_init_b_mv: (f64, f64),
    rule: &str,
    duration_ms: f64,
) -> String {
    format!(
        r#"
n = {n}
duration_ms = {duration_ms:?}
dt_ms = {PAIR_DT_MS}
[[populations]]
name = "A"
kind = "{source_kind}"
size = 1
tau_syn_ms = 5.0
neuron = {{ v_init_min_mv = -60.0, v_init_max_mv = -60.0 }}
[[populations]]
name = "B"
kind = "excitatory"
size = {targets}
tau_syn_ms = 5.0
neuron = {{ v_init_min_mv = {lo:?}, v_init_max_mv = {hi:?} }}
[[projections]]
from = "A"
to = "B"
probability = 1.0
weight = {weight:?}
plasticity = {{ {rule} }}
[[stimuli]]
population = "A"
current = {stim_a:?}
[[stimuli]]
population = "B"
current = {stim_b:?}
[guard]
max_rate_hz = 1000.0
"#,
        n = targets + 1,
        lo = v_init_b_mv.0,
        hi = v_init_b_mv.1,
    )
}
