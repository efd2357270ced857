//! Checkpoint and restore: a run continued from a checkpoint — with any thread count, through
//! the file format, or extended past its original duration — records exactly what the
//! uninterrupted run records.

mod common;

use std::path::Path;

use common::{build, spec};
use pbn_core::spec::StimulusSpec;
use pbn_core::{Checkpoint, MemorySink, NetworkSpec};

/// Everything `sink` recorded after `from_ms`, in a comparable form (bit patterns of floats).
fn after(sink: &MemorySink, from_ms: f64) -> Vec<(String, f64, Vec<u64>)> {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
    let mut out = vec![];
    for (t, id) in sink.spike_times_ms.iter().zip(&sink.spike_ids) {
        if *t > from_ms {
            out.push(("spike".into(), *t, vec![*id as u64]));
        }
    }
    for (t, r) in sink.rates.iter().filter(|r| r.0 > from_ms) {
        out.push(("rates".into(), *t, bits(r)));
    }
    for (k, records) in sink.weights.iter().enumerate() {
        for (t, samples, mean, std) in records.iter().filter(|r| r.0 > from_ms) {
            out.push((
                format!("weights {k}"),
                *t,
                [bits(samples), bits(&[*mean, *std])].concat(),
            ));
        }
    }
    for (t, v, c) in sink.neurons.iter().filter(|r| r.0 > from_ms) {
        out.push(("neurons".into(), *t, [bits(v), bits(c)].concat()));
    }
    for (k, (pre, post, w)) in sink.final_weights.iter().enumerate() {
        let ids = pre.iter().chain(post).map(|&i| i as u64);
        out.push((format!("final {k}"), 0.0, ids.chain(bits(w)).collect()));
    }
    out
}

/// Runs `spec` to its end with `threads` threads; the sink, and the final voltages' bits.
fn whole(spec: &NetworkSpec, threads: usize) -> (MemorySink, Vec<u64>) {
    let mut sim = build(spec, threads);
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    sim.write_final_weights(&mut sink).unwrap();
    (sink, sim.voltages().iter().map(|v| v.to_bits()).collect())
}

/// Runs `spec` to `split_ms` with `threads_before`, checkpoints through the file format, and
/// continues a freshly built simulation of `resume_spec` with `threads_after` to its end.
fn split(
    spec: &NetworkSpec,
    split_ms: f64,
    threads_before: usize,
    resume_spec: &NetworkSpec,
    threads_after: usize,
) -> (MemorySink, Vec<u64>) {
    let mut sim = build(spec, threads_before);
    sim.run_for(split_ms, &mut MemorySink::default()).unwrap();
    let bytes = sim.checkpoint().to_bytes();
    drop(sim);
    let cp = Checkpoint::from_bytes(&bytes, Path::new("memory")).unwrap();
    assert_eq!(cp.time_ms(), split_ms);
    let mut sim = build(resume_spec, threads_after);
    sim.restore(&cp).unwrap();
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    sim.write_final_weights(&mut sink).unwrap();
    (sink, sim.voltages().iter().map(|v| v.to_bits()).collect())
}

fn plastic(sets: &[&str]) -> NetworkSpec {
    let base = [
        "n=1000",
        "duration_ms=600",
        "record.weight_interval_ms=10",
        "record.neuron_interval_ms=5",
        "record.rate_bin_ms=7",
        "guard.window_ms=100",
    ];
    spec("istdp_i_to_e.toml", &[&base[..], sets].concat())
}

#[test]
fn a_restored_run_continues_bit_for_bit_with_any_thread_count() {
    // Correlated input (jittered spikes generated ahead of time), a stimulus that starts after
    // the checkpoint, a checkpoint inside a rate bin, a weight interval and a guard window.
    let mut spec = plastic(&["inputs.0.correlation=0.1"]);
    spec.stimuli.push(StimulusSpec {
        population: "E".into(),
        current: 0.03,
        start_ms: 400.0,
        stop_ms: None,
    });
    let (reference, voltages) = whole(&spec, 1);
    for (before, after_threads) in [(1, 1), (2, 1), (1, 3)] {
        let (resumed, v) = split(&spec, 233.3, before, &spec, after_threads);
        assert_eq!(
            after(&resumed, 233.3),
            after(&reference, 233.3),
            "{before} → {after_threads} threads"
        );
        assert_eq!(v, voltages);
    }
}

#[test]
fn an_f32_run_restores_bit_for_bit() {
    let spec = plastic(&["precision=\"f32\""]);
    let (reference, voltages) = whole(&spec, 2);
    let (resumed, v) = split(&spec, 300.0, 2, &spec, 1);
    assert_eq!(after(&resumed, 300.0), after(&reference, 300.0));
    assert_eq!(v, voltages);
}

#[test]
fn a_finished_run_extended_equals_a_longer_run() {
    let short = plastic(&["duration_ms=250"]);
    let long = plastic(&[]);
    let (reference, voltages) = whole(&long, 1);
    let (extended, v) = split(&short, 250.0, 1, &long, 2);
    assert_eq!(after(&extended, 250.0), after(&reference, 250.0));
    assert_eq!(v, voltages);
}

#[test]
fn a_checkpoint_of_another_network_is_refused() {
    let spec = plastic(&["duration_ms=20"]);
    let mut sim = build(&spec, 1);
    sim.run(&mut MemorySink::default()).unwrap();
    let cp = sim.checkpoint();
    for (set, says) in [
        ("seed=2", "seed = 2"),
        ("n=1200", "n = 1200"),
        ("projections.1.plasticity.eta=0.1", "eta"),
    ] {
        let mut other = build(&plastic(&["duration_ms=20", set]), 1);
        let e = other.restore(&cp).unwrap_err().to_string();
        assert!(e.contains("another config") && e.contains(says), "{set}: {e}");
    }
    // Beyond the duration of the simulation it is restored into: accepted (`run_for` may run
    // past the configured end), and that simulation is finished.
    let mut shorter = build(&plastic(&["duration_ms=10"]), 1);
    shorter.restore(&cp).unwrap();
    assert!(shorter.is_finished());
}
