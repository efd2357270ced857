//! A sink can stop a run: `run_for` returns after the step whose records it asked to stop on,
//! with one thread or the team, and continuing gives what one uninterrupted run gives.

mod common;

use std::io;

use common::{build, spec};
use pbn_core::{MemorySink, RecordSink, RecordingPlan};

/// Records into a `MemorySink` and asks to stop once a spike is recorded at or after `at_ms`.
struct StopAfter {
    inner: MemorySink,
    at_ms: f64,
    seen_ms: f64,
}

impl RecordSink for StopAfter {
    fn start(&mut self, plan: &RecordingPlan) -> io::Result<()> {
        self.inner.start(plan)
    }
    fn spikes(&mut self, t_ms: f64, ids: &[u32]) -> io::Result<()> {
        self.seen_ms = t_ms;
        self.inner.spikes(t_ms, ids)
    }
    fn population_rates(&mut self, t_end_ms: f64, rates_hz: &[f64]) -> io::Result<()> {
        self.inner.population_rates(t_end_ms, rates_hz)
    }
    fn weights(&mut self, p: usize, t_ms: f64, samples: &[f64], mean: f64, std: f64) -> io::Result<()> {
        self.inner.weights(p, t_ms, samples, mean, std)
    }
    fn neurons(&mut self, t_end_ms: f64, voltage_mv: &[f64], currents: &[f64]) -> io::Result<()> {
        self.inner.neurons(t_end_ms, voltage_mv, currents)
    }
    fn final_weights(&mut self, p: usize, pre: &[u32], post: &[u32], weight: &[f64]) -> io::Result<()> {
        self.inner.final_weights(p, pre, post, weight)
    }
    fn stop_requested(&mut self) -> bool {
        self.seen_ms >= self.at_ms
    }
}

#[test]
fn a_sink_stops_the_run_after_the_step_it_asks_for_and_the_run_continues_unchanged() {
    let spec = spec(
        "istdp_i_to_e.toml",
        &["n=1000", "duration_ms=600", "record.weight_interval_ms=10"],
    );
    for threads in [1, 2] {
        let mut whole = build(&spec, threads);
        let mut reference = MemorySink::default();
        whole.run(&mut reference).unwrap();

        let mut sim = build(&spec, threads);
        let mut sink = StopAfter {
            inner: MemorySink::default(),
            at_ms: 200.0,
            seen_ms: 0.0,
        };
        sim.run_for(1000.0, &mut sink).unwrap();
        // Stopped at the first step with a spike at or after 200 ms, not at the requested 1000.
        let first = reference.spike_times_ms.iter().copied().find(|&t| t >= 200.0).unwrap();
        assert_eq!(sim.time_ms(), first, "{threads} thread(s)");
        assert!(!sim.is_finished());
        // Continuing (the sink no longer stops it) gives the uninterrupted records.
        sink.at_ms = f64::INFINITY;
        sim.run(&mut sink).unwrap();
        assert!(sim.is_finished());
        assert_eq!(sink.inner.spike_ids, reference.spike_ids, "{threads} thread(s)");
        assert_eq!(sink.inner.spike_times_ms, reference.spike_times_ms);
        assert_eq!(sink.inner.weights, reference.weights);
        assert_eq!(sink.inner.rates, reference.rates);
    }
}
