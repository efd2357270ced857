//! The team of threads on a network small enough for Miri, which checks how
//! `simulation/handoff.rs` hands the state to the threads phase by phase (data races, aliasing,
//! out-of-bounds, use after free):
//!
//!     MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-ignore-leaks" \
//!         cargo +nightly miri test -p pbn-core --test threads_under_miri
//!
//! (`rustup +nightly component add miri rust-src` once; about 5 minutes). Tree Borrows because
//! Stacked Borrows flags crossbeam-epoch, under rayon, not pbn's code; leaks ignored because
//! rayon's global pool outlives the test. Under the ordinary test runner it is a quick check that
//! the team and the calling thread agree on a plastic network.

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation, ThreadPacing};

fn tiny() -> NetworkSpec {
    // Compiled in: Miri isolates the program from the file system.
    let text = include_str!("../../../examples/istdp_i_to_e.toml");
    let sets: Vec<String> = [
        "n=40",
        "duration_ms=3",
        "record.weight_interval_ms=1",
        "record.rate_bin_ms=1",
        "record.neuron_interval_ms=1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    NetworkSpec::from_toml_with_overrides(text, &sets).unwrap()
}

fn run(threads: usize) -> MemorySink {
    let mut sim = Simulation::new(
        &tiny(),
        SimOptions {
            threads,
            ..Default::default()
        },
    )
    .unwrap();
    sim.set_thread_pacing(ThreadPacing::Team);
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    sim.write_final_weights(&mut sink).unwrap();
    sink
}

#[test]
fn the_team_and_one_thread_give_the_same_records() {
    let (one, three) = (run(1), run(3));
    assert_eq!(one.spike_ids, three.spike_ids);
    assert_eq!(one.weights, three.weights);
    assert_eq!(one.final_weights, three.final_weights);
    assert_eq!(one.neurons, three.neurons);
}
