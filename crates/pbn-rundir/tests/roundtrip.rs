//! What the run directory writes, the reader returns unchanged.

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation};
use pbn_rundir::{RunData, RunDirectory, describe_run};

#[test]
fn recordings_read_back_exactly() {
    let text = include_str!("../../../examples/istdp_i_to_e.toml");
    let sets: Vec<String> = [
        "n=400",
        "duration_ms=250",
        "record.neuron_samples=4",
        "record.weight_samples=20",
        "record.weight_interval_ms=50",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let spec = NetworkSpec::from_toml_with_overrides(text, &sets).unwrap();

    let mut memory = MemorySink::default();
    let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
    sim.run(&mut memory).unwrap();
    sim.write_final_weights(&mut memory).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let mut dir = RunDirectory::create(tmp.path(), &spec.to_resolved_toml()).unwrap();
    let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
    let mut meta = describe_run(&spec, &sim);
    sim.run(&mut dir).unwrap();
    sim.write_final_weights(&mut dir).unwrap();
    dir.close_streams().unwrap();
    meta["simulated_ms"] = serde_json::json!(sim.time_ms());
    meta["status"] = serde_json::json!("completed");
    dir.write_meta(&meta).unwrap();

    let run = RunData::open(tmp.path()).unwrap();
    assert_eq!(run.spec, spec);
    assert_eq!(run.status(), "completed");
    assert_eq!(run.simulated_ms, 250.0);
    assert_eq!(
        run.populations.iter().map(|p| (p.start, p.len)).collect::<Vec<_>>(),
        vec![(0, 320), (320, 80)]
    );
    let (t, ids) = run.spikes().unwrap();
    assert_eq!(t, memory.spike_times_ms);
    assert_eq!(ids, memory.spike_ids);
    let (bins, rates) = run.population_rates().unwrap();
    assert_eq!(bins.len(), memory.rates.len());
    assert_eq!(rates.row(3), &memory.rates[3].1[..]);
    assert_eq!(run.plastic_projections(), vec!["I_to_E".to_string()]);
    let w = run.weights("I_to_E").unwrap();
    assert_eq!(w.t_ms, memory.weights[0].iter().map(|r| r.0).collect::<Vec<_>>());
    assert_eq!(w.samples.row(2), &memory.weights[0][2].1[..]);
    assert_eq!(w.mean, memory.weights[0].iter().map(|r| r.2).collect::<Vec<_>>());
    assert_eq!(w.sample_pre, memory.plan.as_ref().unwrap().plastic[0].sample_pre);
    let f = run.final_weights("I_to_E").unwrap().unwrap();
    assert_eq!((f.pre, f.post, f.j), memory.final_weights[0]);
    let n = run.neurons().unwrap().unwrap();
    assert_eq!(n.ids.len(), 8);
    assert_eq!(n.v_mv.row(0), &memory.neurons[0].1[..]);
    assert_eq!(n.currents.len(), 3);
    assert_eq!(n.currents[2].0, "X");
    assert_eq!(n.currents[2].1.row(1), &memory.neurons[1].2[16..24]);
}

#[test]
fn records_of_a_projection_whose_files_were_never_opened_are_errors_not_panics() {
    // `start` failing half-way (e.g. a file name the file system refuses) leaves a plastic
    // projection without streams; the run then still writes its final weights and meta.json.
    use pbn_core::RecordSink;
    let tmp = tempfile::tempdir().unwrap();
    let mut dir = RunDirectory::create(tmp.path(), "").unwrap();
    let e = dir.final_weights(0, &[0], &[1], &[2.0]).unwrap_err();
    assert!(
        e.to_string().contains("no files were opened for plastic projection 0"),
        "{e}"
    );
    let e = dir.weights(0, 0.0, &[1.0], 1.0, 0.0).unwrap_err();
    assert!(e.to_string().contains("no files were opened"), "{e}");
}
