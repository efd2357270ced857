//! Invalid configs are refused before anything runs, with a message naming the key, the value
//! and what is allowed.

use pbn_core::NetworkSpec;

const GOOD: &str = include_str!("../../../examples/istdp_i_to_e.toml");

/// (description, --set overrides or a full replacement, text that must appear in the message)
fn cases() -> Vec<(&'static str, Vec<&'static str>, &'static str)> {
    vec![
        ("unknown top-level key", vec!["nn=5"], "unknown field `nn`"),
        (
            "unknown key in a population",
            vec!["populations.0.sise=3"],
            "unknown field `sise`",
        ),
        ("wrong type", vec!["n=\"many\""], "invalid type"),
        ("negative n", vec!["n=-5"], "n"),
        ("n = 0", vec!["n=0"], "`n` = 0"),
        (
            "probability above 1",
            vec!["projections.0.probability=1.5"],
            "`projections[0].probability` = 1.5: must be between 0 and 1",
        ),
        (
            "negative probability",
            vec!["projections.3.probability=-0.1"],
            "projections[3].probability",
        ),
        (
            "excitatory weight negative",
            vec!["projections.0.weight=-25.0"],
            "`E` is excitatory",
        ),
        (
            "inhibitory weight positive",
            vec!["projections.1.weight=150.0"],
            "`I` is inhibitory",
        ),
        (
            "input weight negative",
            vec!["projections.4.weight=-1.0"],
            "`X` is excitatory",
        ),
        ("dt = 0", vec!["dt_ms=0.0"], "`dt_ms` = 0"),
        ("negative dt", vec!["dt_ms=-0.1"], "dt_ms"),
        (
            "duration not a multiple of dt",
            vec!["duration_ms=100.05"],
            "whole number of time steps",
        ),
        (
            "unknown source population",
            vec!["projections.0.from=Q"],
            "no population or input of that name",
        ),
        (
            "unknown target population",
            vec!["projections.0.to=Q"],
            "no population of that name",
        ),
        (
            "projection into an input",
            vec!["projections.0.to=X"],
            "inputs only send spikes",
        ),
        (
            "correlation above 1",
            vec!["inputs.0.correlation=1.2"],
            "inputs[0].correlation",
        ),
        (
            "negative input rate",
            vec!["inputs.0.rate_hz=-1.0"],
            "inputs[0].rate_hz",
        ),
        (
            "zero synaptic time constant",
            vec!["populations.1.tau_syn_ms=0.0"],
            "populations[1].tau_syn_ms",
        ),
        (
            "reset above threshold",
            vec!["populations.0.neuron.v_re_mv=-40.0"],
            "reset must be below the threshold",
        ),
        (
            "fraction and size both",
            vec!["populations.0.size=4000"],
            "exactly one of `fraction` and `size`",
        ),
        (
            "sizes do not add up to n",
            vec!["populations.0.fraction=0.7"],
            "must add up to n",
        ),
        (
            "duplicate population name",
            vec!["populations.1.name=E"],
            "must be unique",
        ),
        (
            "bad name characters",
            vec!["populations.1.name=I-cells"],
            "letters, digits",
        ),
        (
            "unknown rule",
            vec!["projections.1.plasticity.rule=magic"],
            "unknown variant `magic`",
        ),
        (
            "negative learning rate",
            vec!["projections.1.plasticity.eta=-1e-3"],
            "plasticity.eta",
        ),
        (
            "istdp norm with the wrong sign",
            vec!["projections.1.plasticity.j_norm=200.0"],
            "j_norm",
        ),
        (
            "rule parameter of another rule",
            vec!["projections.1.plasticity.beta=2.0"],
            "unknown field `beta`",
        ),
        (
            "plastic input projection",
            vec!["projections.4.plasticity={rule=\"kohonen\", eta=0.1, beta=2.0}"],
            "inputs have no traces",
        ),
        (
            "hebbian rule on inhibitory synapses",
            vec!["projections.1.plasticity={rule=\"hebb_soft\", eta=0.1, j_max=2.0}"],
            "assumes positive weights",
        ),
        (
            "bounds in the wrong order",
            vec!["projections.0.plasticity={rule=\"hebb_additive\", eta=0.1, j_min=5.0, j_max=1.0}"],
            "must be below j_max",
        ),
        (
            "generic trace power 3",
            vec!["projections.0.plasticity={rule=\"generic\", eta=0.1, on_pre={trace=1.0, trace_power=3}, on_post={}}"],
            "must be 1 or 2",
        ),
        (
            "cap without cap_minus_j",
            vec!["projections.0.plasticity={rule=\"generic\", eta=0.1, on_pre={cap=3.0}, on_post={}}"],
            "only used with",
        ),
        (
            "duplicate projection",
            vec!["projections.2.from=E", "projections.2.to=E"],
            "only one projection per (from, to) pair",
        ),
        (
            "stimulus for an unknown population",
            vec!["stimuli=[{population=\"Z\", current=1.0}]"],
            "stimuli[0].population",
        ),
        (
            "input window ends before it starts",
            vec!["inputs.0.start_ms=500.0", "inputs.0.stop_ms=100.0"],
            "must be after start_ms",
        ),
        (
            "record interval not a multiple of dt",
            vec!["record.rate_bin_ms=0.25"],
            "record.rate_bin_ms",
        ),
        ("guard rate zero", vec!["guard.max_rate_hz=0.0"], "guard.max_rate_hz"),
        (
            "no populations",
            vec!["populations=[]", "projections=[]"],
            "at least one population",
        ),
        (
            "n beyond 32-bit ids",
            vec!["n=4294967297"],
            "`n` = 4294967297: must be between 1 and 4294967295 (neuron ids are 32-bit)",
        ),
        (
            "population size beyond 32-bit ids",
            vec!["populations.0.fraction=1e9"],
            "`populations[0].fraction` = 1000000000: gives 5000000000000 at n = 5000; at most 4294967295",
        ),
        (
            "input size beyond 32-bit ids",
            vec!["inputs.0.fraction=1e7"],
            "`inputs[0].fraction` = 10000000",
        ),
        (
            "input rate of one spike per step or more",
            vec!["inputs.0.rate_hz=1e9"],
            "`inputs[0].rate_hz` = 1000000000: must be below 1000/dt_ms = 10000 Hz",
        ),
        (
            "input rate exactly one spike per step",
            vec!["inputs.0.rate_hz=10000.0"],
            "inputs[0].rate_hz",
        ),
        (
            "vanishing correlation",
            vec!["inputs.0.correlation=1e-12"],
            "must be 0 or at least 1e-6",
        ),
        (
            "dt above the membrane and synaptic time constants",
            vec![
                "dt_ms=20.0",
                "record.rate_bin_ms=20.0",
                "record.neuron_interval_ms=20.0",
            ],
            "`dt_ms` = 20: must be ≤ 0.4 ms, a tenth of the fastest time constant (populations[1].tau_syn_ms = 4 ms)",
        ),
        (
            "dt just above a tenth of the fastest time constant",
            vec!["dt_ms=0.5"],
            "allow_coarse_dt = true",
        ),
        (
            "dt above a tenth of a fast STDP trace",
            vec!["projections.1.plasticity.tau_ms=0.5"],
            "(projections[1].plasticity.tau_ms = 0.5 ms)",
        ),
        ("more than 2^53 steps", vec!["duration_ms=1e300"], "2^53"),
        ("bad --set syntax", vec!["n"], "expected KEY=VALUE"),
        (
            "--set index out of range",
            vec!["projections.17.weight=1.0"],
            "index must be below 6",
        ),
    ]
}

#[test]
fn every_bad_config_is_refused_with_a_clear_message() {
    assert!(NetworkSpec::from_toml(GOOD).is_ok());
    let cases = cases();
    assert!(cases.len() >= 20);
    let mut failures = vec![];
    for (what, sets, needle) in &cases {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match NetworkSpec::from_toml_with_overrides(GOOD, &sets) {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(e) => {
                let msg = e.to_string();
                if !msg.contains(needle) {
                    failures.push(format!("{what}: message lacks {needle:?}:\n{msg}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn long_names_are_refused_before_they_become_file_names() {
    // A plastic projection's weights go to `weights_<from>_to_<to>_*.npy`; a 300-character
    // population name would make that longer than file systems allow.
    let long = "A".repeat(300);
    let sets = vec![
        format!("populations.1.name={long}"),
        format!("projections.1.from={long}"),
        format!("projections.3.from={long}"),
        format!("projections.3.to={long}"),
        format!("projections.2.to={long}"),
        format!("projections.5.to={long}"),
    ];
    let e = NetworkSpec::from_toml_with_overrides(GOOD, &sets).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`populations[1].name` = \"AAAAAAAAAAAAAAAA…\" (300 characters): names are at most 64 characters"),
        "{msg}"
    );
    // 64 characters are fine.
    let ok = "B".repeat(64);
    let sets: Vec<String> = sets.iter().map(|s| s.replace(&long, &ok)).collect();
    NetworkSpec::from_toml_with_overrides(GOOD, &sets).unwrap();
}

#[test]
fn coarse_dt_is_accepted_at_the_bound_or_when_asked_for() {
    // The fastest time constant of the example is τ_syn,I = 4 ms: dt up to 0.4 ms.
    let ok = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        NetworkSpec::from_toml_with_overrides(GOOD, &sets)
    };
    assert_eq!(ok(&["dt_ms=0.4"]).unwrap().dt_ms, 0.4);
    assert!(ok(&["dt_ms=0.5"]).is_err());
    let coarse = ok(&["dt_ms=0.5", "allow_coarse_dt=true"]).unwrap();
    // The override survives the resolved config.
    assert!(coarse.to_resolved_toml().contains("allow_coarse_dt = true"));
    assert!(
        !NetworkSpec::from_toml(GOOD)
            .unwrap()
            .to_resolved_toml()
            .contains("allow_coarse_dt")
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let sets = vec!["dt_ms=-1.0".to_string(), "projections.0.probability=2.0".to_string()];
    let e = NetworkSpec::from_toml_with_overrides(GOOD, &sets).unwrap_err();
    assert!(e.0.len() >= 2, "{e}");
}

#[test]
fn every_example_is_valid_and_the_default_example_is_the_builtin_default() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue; // examples/python/
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = NetworkSpec::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The resolved form round-trips.
        assert_eq!(NetworkSpec::from_toml(&spec.to_resolved_toml()).unwrap(), spec);
        count += 1;
    }
    assert!(count >= 8);
    let default = NetworkSpec::from_toml(include_str!("../../../examples/default.toml")).unwrap();
    assert_eq!(default, NetworkSpec::default());
}
