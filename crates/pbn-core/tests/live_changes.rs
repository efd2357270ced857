//! Changes between `run_for` calls (docs/engine.md §7.12): running past the configured duration,
//! switching plasticity on and off or changing its parameters, changing an input's rate and
//! correlation — deterministic, kept by checkpoints, and with the expected effect.

mod common;

use std::path::Path;

use common::{build, rates, spec};
use pbn_core::spec::PlasticitySpec;
use pbn_core::{Checkpoint, MemorySink, NetworkSpec, SimError, Simulation};

const ISTDP: &str = "istdp_i_to_e.toml";

fn small(sets: &[&str]) -> NetworkSpec {
    let mut all = vec!["n=1000", "record.weight_interval_ms=10", "record.weight_samples=20"];
    all.extend_from_slice(sets);
    spec(ISTDP, &all)
}

/// Spikes, rates, weight records and final weights as bit patterns.
fn bits(sink: &MemorySink, sim: &Simulation) -> Vec<u64> {
    let mut out: Vec<u64> = sink.spike_times_ms.iter().map(|t| t.to_bits()).collect();
    out.extend(sink.spike_ids.iter().map(|&i| i as u64));
    for (t, r) in &sink.rates {
        out.push(t.to_bits());
        out.extend(r.iter().map(|x| x.to_bits()));
    }
    for records in &sink.weights {
        for (t, s, m, sd) in records {
            out.extend([t.to_bits(), m.to_bits(), sd.to_bits()]);
            out.extend(s.iter().map(|x| x.to_bits()));
        }
    }
    for (i, _, _) in sim.plastic_projections() {
        out.extend(sim.synapses(i).2.iter().map(|x| x.to_bits()));
    }
    out.extend(sim.voltages().iter().map(|v| v.to_bits()));
    out
}

fn istdp(eta: f64) -> PlasticitySpec {
    PlasticitySpec::Istdp {
        eta,
        target_rate_hz: 10.0,
        j_norm: -200.0,
        tau_ms: 200.0,
    }
}

#[test]
fn slices_past_the_duration_and_unchanged_parameters_equal_one_run() {
    // One run of 600 ms.
    let mut whole = build(&small(&["duration_ms=600"]), 1);
    let mut a = MemorySink::default();
    whole.run(&mut a).unwrap();
    // A run configured for 200 ms, continued to 600 in slices, "changed" to what it has.
    for threads in [1, 2] {
        let mut sim = build(&small(&["duration_ms=200"]), threads);
        let mut b = MemorySink::default();
        sim.run(&mut b).unwrap();
        assert!(sim.is_finished());
        sim.run(&mut b).unwrap(); // at the end already: nothing
        assert_eq!(sim.time_ms(), 200.0);
        sim.run_for(137.0, &mut b).unwrap();
        sim.set_plasticity(1, Some(istdp(1e-3))).unwrap();
        sim.run_for(0.0, &mut b).unwrap();
        sim.run_for(263.0, &mut b).unwrap();
        assert_eq!(sim.time_ms(), 600.0);
        assert_eq!(bits(&a, &whole), bits(&b, &sim), "threads {threads}");
    }
}

#[test]
fn plasticity_switched_off_is_the_rule_with_eta_zero_and_on_again_changes_nothing_before() {
    // Off from the start = a config with η = 0, bit for bit; the weights stay put.
    let mut off = build(&small(&["duration_ms=300"]), 1);
    off.set_plasticity(1, None).unwrap();
    assert!(off.rule(1).is_none());
    let mut a = MemorySink::default();
    off.run(&mut a).unwrap();
    let mut zero = build(&small(&["duration_ms=300", "projections.1.plasticity.eta=0"]), 1);
    let mut b = MemorySink::default();
    zero.run(&mut b).unwrap();
    assert_eq!(bits(&a, &off), bits(&b, &zero));
    for &(_, _, mean, std) in &a.weights[0] {
        assert!((mean + 150.0).abs() < 1e-9 && std < 1e-9, "{mean} ± {std}");
    }
    // Switched on at 300 ms, the run so far is that of the switched-off one.
    let mut on = build(&small(&["duration_ms=300"]), 2);
    on.set_plasticity(1, None).unwrap();
    let mut c = MemorySink::default();
    on.run(&mut c).unwrap();
    on.set_plasticity(1, Some(istdp(1e-2))).unwrap();
    on.run_for(300.0, &mut c).unwrap();
    let before = c.spike_times_ms.iter().filter(|&&t| t <= 300.0).count();
    assert_eq!(a.spike_times_ms, c.spike_times_ms[..before]);
    assert_eq!(a.spike_ids, c.spike_ids[..before]);
    let after: Vec<_> = c.weights[0].iter().filter(|r| r.0 > 300.0).collect();
    assert!(after.last().unwrap().3 > 0.0, "the weights learn again");
}

#[test]
fn switched_on_the_mean_weight_drifts_as_in_a_network_plastic_from_the_start() {
    // Primed without plasticity for 300 ms, then switched on: over the next 400 ms the mean I→E
    // weight drifts as much as in a network plastic from the start over its first 400 ms
    // (the same dynamics from the same weight; there the traces start at zero, which makes it
    // drift about 10 % faster: 20 % tolerance). And as the mean-field rule says to leading
    // order: per synapse an I spike adds η_n (2ρτ − x_E) j and an E spike −η_n x_I j, with
    // η_n = √N η / ĵ_norm, so with ⟨x⟩ = rτ the mean weight drifts at
    // dj/dt = 2 η_n τ r_I (ρ − r_E) j. Spike-pair correlations, left out there, add about a third
    // at N = 1000: same sign, within a factor 2.
    let (eta, tau, rho) = (1e-2, 200.0, 10e-3);
    let spec = small(&["duration_ms=300"]);
    let mut sim = build(&spec, 1);
    sim.set_plasticity(1, None).unwrap();
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    sim.set_plasticity(1, Some(istdp(eta))).unwrap();
    sim.run_for(400.0, &mut sink).unwrap();
    let r = rates(&sink, &sim, 300.0, 700.0);
    let (r_e, r_i) = (r[0] * 1e-3, r[1] * 1e-3); // kHz
    let mean_at = |t: f64| sink.weights[0].iter().find(|w| (w.0 - t).abs() < 1e-9).unwrap().2;
    let (j0, j1) = (mean_at(300.0), mean_at(700.0));
    assert!((j0 + 150.0).abs() < 1e-9);
    let got = j1 - j0;

    let mut from_start = build(&small(&["duration_ms=400", "projections.1.plasticity.eta=1e-2"]), 1);
    let mut b = MemorySink::default();
    from_start.run(&mut b).unwrap();
    let got_b = b.weights[0].last().unwrap().2 - j0;
    assert!(got_b > 1.0, "the test needs a visible drift: {got_b}");
    assert!(
        (got / got_b - 1.0).abs() < 0.2,
        "Δj = {got} switched on at 300 ms, {got_b} plastic from the start"
    );

    let eta_n = (1000f64).sqrt() * eta / -200.0;
    let k = 2.0 * eta_n * tau * r_i * (rho - r_e);
    let want = j0 * (k * 400.0).exp() - j0;
    assert!(
        got / want > 0.5 && got / want < 2.0,
        "Δj = {got}, mean field {want} (r_E = {} Hz, r_I = {} Hz)",
        r[0],
        r[1]
    );
}

#[test]
fn an_input_rate_change_gives_the_network_of_the_new_rate() {
    // After the change (and a 100 ms transient) the network fires as one configured with the
    // new rate from the start: rates within 10 % over 500 ms.
    let sets = ["duration_ms=300", "projections.1.plasticity.eta=0"];
    let mut sim = build(&small(&sets), 1);
    let mut a = MemorySink::default();
    sim.run(&mut a).unwrap();
    let low = rates(&a, &sim, 100.0, 300.0);
    sim.set_input(0, 15.0, None).unwrap();
    assert_eq!(sim.current_spec().inputs[0].rate_hz, 15.0);
    sim.run_for(600.0, &mut a).unwrap();
    let changed = rates(&a, &sim, 400.0, 900.0);
    let mut reference = build(
        &small(&[
            "duration_ms=900",
            "projections.1.plasticity.eta=0",
            "inputs.0.rate_hz=15",
        ]),
        1,
    );
    let mut b = MemorySink::default();
    reference.run(&mut b).unwrap();
    let want = rates(&b, &reference, 400.0, 900.0);
    for p in 0..2 {
        assert!(
            changed[p] > low[p] * 1.2,
            "population {p}: {} → {} Hz",
            low[p],
            changed[p]
        );
        assert!(
            (changed[p] / want[p] - 1.0).abs() < 0.1,
            "population {p}: {} Hz after the change, {} Hz configured",
            changed[p],
            want[p]
        );
    }
}

/// Runs with changes at fixed times; the same calls must give the same bytes.
fn changed_run(threads: usize, checkpoint_at_change: bool) -> (Vec<u64>, NetworkSpec) {
    let spec = small(&["duration_ms=200", "inputs.0.correlation=0.1"]);
    let mut sim = build(&spec, threads);
    let mut sink = MemorySink::default();
    sim.run_for(150.0, &mut sink).unwrap();
    sim.set_plasticity(1, Some(istdp(5e-3))).unwrap();
    sim.set_input(0, 12.0, Some(0.2)).unwrap();
    if checkpoint_at_change {
        let bytes = sim.checkpoint().to_bytes();
        let cp = Checkpoint::from_bytes(&bytes, Path::new("memory")).unwrap();
        sim = build(&spec, 3 - threads);
        sim.restore(&cp).unwrap();
        sink = MemorySink::default();
    }
    sim.run_for(120.0, &mut sink).unwrap();
    sim.set_plasticity(1, None).unwrap();
    sim.set_input(0, 8.0, Some(0.0)).unwrap();
    sim.run_for(80.0, &mut sink).unwrap();
    // What was recorded after the changes (a restored simulation records from there on).
    let after = MemorySink {
        spike_times_ms: sink.spike_times_ms.iter().copied().filter(|&t| t > 150.0).collect(),
        spike_ids: sink
            .spike_times_ms
            .iter()
            .zip(&sink.spike_ids)
            .filter(|(t, _)| **t > 150.0)
            .map(|(_, &i)| i)
            .collect(),
        rates: sink.rates.iter().filter(|r| r.0 > 150.0).cloned().collect(),
        weights: sink
            .weights
            .iter()
            .map(|w| w.iter().filter(|r| r.0 > 150.0).cloned().collect())
            .collect(),
        ..Default::default()
    };
    let after = bits(&after, &sim);
    (after, sim.current_spec().clone())
}

#[test]
fn changes_are_deterministic_for_any_thread_count_and_kept_by_checkpoints() {
    let (one, spec_one) = changed_run(1, false);
    let (two, spec_two) = changed_run(2, false);
    assert_eq!(one, two);
    assert_eq!(spec_one, spec_two);
    assert_eq!(spec_one.inputs[0].rate_hz, 8.0);
    assert_eq!(spec_one.projections[1].plasticity, None);
    // Checkpointed right after the changes and restored into a simulation built from the
    // original config (with the other thread count): the changes are in force there.
    let (restored, spec_restored) = changed_run(1, true);
    assert_eq!(one, restored);
    assert_eq!(spec_one, spec_restored);
}

#[test]
fn impossible_or_invalid_changes_are_refused_with_the_config_messages() {
    let mut sim = build(&small(&["duration_ms=10"]), 1);
    let e = sim.set_plasticity(0, Some(istdp(1e-3))).unwrap_err();
    assert!(
        matches!(e, SimError::Change(_)) && e.to_string().contains("E_to_E"),
        "{e}"
    );
    let e = sim.set_plasticity(9, None).unwrap_err().to_string();
    assert!(e.contains("no projection 9"), "{e}");
    let e = sim.set_plasticity(1, Some(istdp(-1.0))).unwrap_err().to_string();
    assert!(
        e.contains("projections[1].plasticity.eta") || e.contains("projections.1.plasticity.eta"),
        "{e}"
    );
    let e = sim.set_input(0, 1e5, None).unwrap_err().to_string();
    assert!(e.contains("rate_hz") && e.contains("1000/dt_ms"), "{e}");
    let e = sim.set_input(0, 10.0, Some(1.5)).unwrap_err().to_string();
    assert!(e.contains("correlation"), "{e}");
    let e = sim.set_input(3, 10.0, None).unwrap_err().to_string();
    assert!(e.contains("no input 3"), "{e}");
    // Nothing was changed by the refused calls.
    assert_eq!(sim.current_spec(), sim.spec());
    assert_eq!(sim.projection_index("I_to_E"), Some(1));
    assert_eq!(sim.input_index("X"), Some(0));
}
