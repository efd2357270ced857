//! Helpers shared by the whole-network tests.
#![allow(dead_code)] // each test file uses a subset

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation, ThreadPacing};

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
/// thread: these tests are about the team).
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
    sim
}

/// Builds and runs `spec` to its end with `threads` threads.
pub fn simulate(spec: &NetworkSpec, threads: usize) -> (Simulation, MemorySink) {
    let mut sim = build(spec, threads);
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    (sim, sink)
}
