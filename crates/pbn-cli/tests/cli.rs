//! End-to-end: the `pbn` binary writes a run directory NumPy can read.

use std::path::Path;
use std::process::Command;

fn pbn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pbn")).args(args).output().unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn npy(path: &Path) -> npyz::NpyFile<std::io::Cursor<Vec<u8>>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npyz::NpyFile::new(std::io::Cursor::new(bytes)).unwrap()
}

fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

#[test]
fn run_writes_a_complete_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = pbn(&[
        "run",
        &example("istdp_i_to_e.toml"),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "n=500",
        "--set",
        "duration_ms=300",
        "--set",
        "record.neuron_samples=3",
        "--set",
        "record.weight_samples=50",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("rate E") && stdout.contains("weight I_to_E"),
        "{stdout}"
    );

    let m = meta(&out);
    assert_eq!(m["status"], "completed");
    assert_eq!(m["simulated_ms"], 300.0);
    assert_eq!(m["populations"][0]["size"], 400);
    assert!(m["summary"]["rates_hz"]["E"].as_f64().unwrap() > 0.0);
    for f in m["files"].as_array().unwrap() {
        assert!(out.join(f.as_str().unwrap()).exists(), "{f} listed but missing");
    }
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".part"))
    );

    let times = npy(&out.join("spike_times_ms.npy"));
    let ids = npy(&out.join("spike_ids.npy"));
    assert_eq!(times.shape(), ids.shape());
    let ids: Vec<u32> = ids.into_vec().unwrap();
    assert!(!ids.is_empty() && ids.iter().all(|&i| i < 500));
    assert_eq!(npy(&out.join("population_rates_hz.npy")).shape(), &[30, 2]);
    assert_eq!(npy(&out.join("weights_I_to_E_samples.npy")).shape(), &[3, 50]);
    assert_eq!(npy(&out.join("weights_I_to_E_mean.npy")).shape(), &[3]);
    assert_eq!(npy(&out.join("neurons_v_mv.npy")).shape(), &[30, 6]);
    assert_eq!(npy(&out.join("neurons_current_X.npy")).shape(), &[30, 6]);
    let j: Vec<f64> = npy(&out.join("final_weights_I_to_E_j.npy")).into_vec().unwrap();
    assert!(j.len() > 1000 && j.iter().all(|&w| w < 0.0));
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(resolved.contains("n = 500") && resolved.contains("[record]"));

    // The same directory is not overwritten.
    let again = pbn(&[
        "run",
        &example("default.toml"),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(!again.status.success());
}

/// The default network with inhibition almost switched off (it explodes), with one more `--set`.
fn exploding_run(out: &Path, set: &str) -> std::process::Output {
    pbn(&[
        "run",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "n=800",
        "--set",
        "projections.1.weight=-5",
        "--set",
        "projections.3.weight=-5",
        "--set",
        set,
    ])
}

/// Starts `pbn run CONFIG --quiet --out OUT SETS…` in the background and returns once its
/// meta.json exists (the run is under way).
fn spawn_run(config: &str, out: &Path, sets: &[&str]) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pbn"));
    cmd.args(["run", &example(config), "--quiet", "--out", out.to_str().unwrap()]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    let child = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    while !out.join("meta.json").exists() {
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child
}

#[test]
fn runaway_run_stops_with_a_message_and_a_valid_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runaway");
    let o = exploding_run(&out, "guard.window_ms=100");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("runaway activity") && err.contains("guard.max_rate_hz"),
        "{err}"
    );
    let m = meta(&out);
    assert_eq!(m["status"], "runaway");
    assert!(m["simulated_ms"].as_f64().unwrap() < 1000.0);
    assert!(m["stop_reason"].as_str().unwrap().contains("runaway"));
    let ids: Vec<u32> = npy(&out.join("spike_ids.npy")).into_vec().unwrap();
    assert!(!ids.is_empty());
}

#[test]
fn bad_config_exits_non_zero_naming_the_key() {
    let o = pbn(&["run", &example("default.toml"), "--set", "projections.0.probability=2"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("projections[0].probability") && err.contains("between 0 and 1"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn printed_default_config_is_the_default_network() {
    let o = pbn(&["config", "--print-default"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        pbn_core::NetworkSpec::from_toml(&text).unwrap(),
        pbn_core::NetworkSpec::default()
    );
}

#[test]
fn theory_reads_the_simulator_config_and_writes_json_and_time_courses() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("theory.json");
    let out = tmp.path().join("ode");
    let o = pbn(&[
        "theory",
        &example("istdp_i_to_e.toml"),
        "--integrate-ms",
        "600000",
        "--json",
        json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("-119.65812"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let r = &v["rates_hz"];
    assert!((r[0].as_f64().unwrap() - 5.82353).abs() < 1e-5 && (r[1].as_f64().unwrap() - 15.88235).abs() < 1e-5);
    let weights = npy(&out.join("theory_weights.npy"));
    assert_eq!(weights.shape()[1], 1);
    let w: Vec<f64> = weights.into_vec().unwrap();
    assert!(
        (w.last().unwrap() + 119.658).abs() < 0.01,
        "ODE ends at {}",
        w.last().unwrap()
    );
}

#[test]
fn theory_sweeps_a_parameter() {
    // Kohonen β table (docs/theory.md §4.5.1): β = 2 → j_ee* = 3.0000, β = 4 → 6.5548.
    let o = pbn(&[
        "theory",
        &example("kohonen.toml"),
        "--sweep",
        "projections.0.plasticity.beta=1:4:16",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("3.00000") && stdout.contains("6.55478"), "{stdout}");
}

#[test]
fn compare_runs_sizes_and_realizations_and_tabulates_sim_and_theory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = pbn(&[
        "compare",
        &example("default.toml"),
        "--sizes",
        "300,600",
        "--realizations",
        "2",
        "--set",
        "duration_ms=1500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 4);
    let rows = v["rows"].as_array().unwrap();
    let rate_e: Vec<&serde_json::Value> = rows.iter().filter(|r| r["quantity"] == "rate E (Hz)").collect();
    assert_eq!(rate_e.len(), 2);
    for r in rate_e {
        assert_eq!(r["simulated"].as_array().unwrap().len(), 2);
        assert!((r["theory"].as_f64().unwrap() - 5.82353).abs() < 1e-4);
        assert!(r["mean"].as_f64().unwrap() > 0.0 && r["relative_error"].is_number());
    }
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.starts_with("quantity,n,mean,sd,theory,relative_error,realizations"));
    let last = v["runs"][3]["dir"].as_str().unwrap();
    assert!(Path::new(last).join("meta.json").exists() && Path::new(last).join("analysis.json").exists());
    assert_eq!(v["runs"][3]["value"], 600.0);
    assert_eq!(v["runs"][3]["realization"], 1);
    assert!(out.join("compare.png").exists() && out.join("compare.svg").exists());
    let cov: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["quantity"] == "count covariance E-E (spikes²)")
        .collect();
    assert!(cov.len() == 2 && cov.iter().all(|r| r["theory"].is_number()));
}

#[test]
fn plot_draws_the_run_figures_including_covariance_distributions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = pbn(&[
        "run",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "n=400",
        "--set",
        "duration_ms=1500",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = pbn(&["plot", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in ["raster", "rates", "covariances"] {
        for ext in ["png", "svg"] {
            let f = out.join("plots").join(format!("{name}.{ext}"));
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert!(bytes.len() > 1000, "{} is suspiciously small", f.display());
        }
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("skipped weights"), "{stdout}");
}

#[test]
fn theory_takes_the_correction_d_from_a_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let sets = [
        "n=500",
        "duration_ms=3000",
        "projections.1.weight=-250",
        "projections.1.plasticity.eta=0.01",
    ];
    let mut args = vec!["run", "--quiet", "--out", run.to_str().unwrap()];
    let cfg = example("istdp_i_to_e.toml");
    args.insert(1, &cfg);
    for s in &sets {
        args.extend(["--set", s]);
    }
    assert!(pbn(&args).status.success());
    let o = pbn(&[
        "theory",
        &cfg,
        "--set",
        "n=500",
        "--correction-from",
        run.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("correction D from") && stdout.contains("D (correction)"),
        "{stdout}"
    );

    // A run without plastic weights has no D: a clear error, not a panic.
    let plain = tmp.path().join("plain");
    assert!(
        pbn(&[
            "run",
            "--quiet",
            "--out",
            plain.to_str().unwrap(),
            "--set",
            "n=300",
            "--set",
            "duration_ms=600"
        ])
        .status
        .success()
    );
    let o = pbn(&["theory", "--correction-from", plain.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no correction D could be measured"));
}

/// `pbn` with one environment variable set.
fn pbn_env(args: &[&str], key: &str, value: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pbn"))
        .args(args)
        .env(key, value)
        .output()
        .unwrap()
}

#[test]
fn threads_zero_means_every_core_and_too_many_are_reduced_to_the_cores() {
    let tmp = tempfile::tempdir().unwrap();
    let base = ["--quiet", "--set", "n=600", "--set", "duration_ms=200"];
    let one = tmp.path().join("one");
    let o = pbn(&[&["run", "--out", one.to_str().unwrap()][..], &base[..]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = tmp.path().join("all");
    let o = pbn(&[
        &["run", "--out", all.to_str().unwrap(), "--threads", "0"][..],
        &base[..],
    ]
    .concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
    // 1000 threads: a warning, the run done with the available cores, in seconds.
    let many = tmp.path().join("many");
    let started = std::time::Instant::now();
    let o = pbn(&[
        &["run", "--out", many.to_str().unwrap(), "--threads", "1000"][..],
        &base[..],
    ]
    .concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(started.elapsed().as_secs() < 60);
    let cores = std::thread::available_parallelism().unwrap().get();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "warning: --threads 1000 is more than the {cores} available core(s); using {cores}"
        )),
        "{err}"
    );
    let ids = |dir: &Path| -> Vec<u32> { npy(&dir.join("spike_ids.npy")).into_vec().unwrap() };
    assert_eq!(ids(&one), ids(&all));
    assert_eq!(ids(&one), ids(&many));
    let help = String::from_utf8_lossy(&pbn(&["run", "--help"]).stdout).to_string();
    assert!(help.contains("0 means all available cores"), "{help}");
}

#[test]
fn a_run_larger_than_the_available_memory_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("big");
    let args = [
        "run",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "n=400",
        "--set",
        "duration_ms=100",
    ];
    let o = pbn_env(&args, "PBN_AVAILABLE_MEMORY", "1M");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: this run needs about ")
            && err.contains("static synapses")
            && err.contains("but only 1.0 MiB is available (PBN_AVAILABLE_MEMORY)")
            && err.contains("--force"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written before the refusal");
    // With room, or with --force, it runs.
    let o = pbn_env(&args, "PBN_AVAILABLE_MEMORY", "1G");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&out).unwrap();
    let forced = [&args[..], &["--force"][..]].concat();
    let o = pbn_env(&forced, "PBN_AVAILABLE_MEMORY", "1M");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("running anyway (--force)"));
    assert_eq!(meta(&out)["status"], "completed");
    // A network no machine holds is refused at once, whatever the machine (where the machine
    // says what it has).
    if !Path::new("/proc/meminfo").exists() {
        return;
    }
    let huge = tmp.path().join("huge");
    let o = pbn(&["run", "--out", huge.to_str().unwrap(), "--set", "n=1000000000"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("PiB at peak") || err.contains("EiB at peak"), "{err}");
    assert!(!huge.exists());
}

#[test]
fn a_run_shorter_than_the_guard_window_still_stops_on_runaway() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("short");
    let o = exploding_run(&out, "duration_ms=400");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("runaway activity"), "{err}");
    let m = meta(&out);
    assert_eq!(m["status"], "runaway");
    assert!(m["simulated_ms"].as_f64().unwrap() < 400.0);
}

#[test]
fn a_long_population_name_is_a_config_error_and_leaves_no_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("named");
    let long = "P".repeat(300);
    let sets: Vec<String> = [
        "populations.1.name",
        "projections.1.from",
        "projections.2.to",
        "projections.3.from",
        "projections.3.to",
        "projections.5.to",
    ]
    .iter()
    .map(|k| format!("{k}={long}"))
    .collect();
    let cfg = example("istdp_i_to_e.toml");
    let mut args = vec!["run", cfg.as_str(), "--quiet", "--out", out.to_str().unwrap()];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let o = pbn(&args);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`populations[1].name` = \"PPPPPPPPPPPPPPPP…\" (300 characters): names are at most 64 characters"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no `running` directory is left behind");
}

#[test]
fn absurd_weights_give_a_theory_error_and_a_run_without_the_hint() {
    let sets = [
        "projections.0.weight=1e200",
        "projections.1.weight=-1e200",
        "projections.2.weight=1e200",
        "projections.3.weight=-1e200",
        "projections.4.weight=1e200",
        "projections.5.weight=1e200",
    ];
    let mut args = vec!["theory"];
    for s in &sets {
        args.extend(["--set", s]);
    }
    let o = pbn(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: numerical failure: the singular value decomposition of a 2×2 matrix failed")
            && err.contains("overflow double precision")
            && err.contains("comes from the projection"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // `pbn run` asks the theory only for a hint about the work split: it runs without it (and the
    // network, far from balanced, is stopped by the guard).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("absurd");
    let mut args = vec!["run", "--quiet", "--threads", "2", "--out", out.to_str().unwrap()];
    args.extend(["--set", "n=400", "--set", "duration_ms=100"]);
    for s in &sets {
        args.extend(["--set", s]);
    }
    let o = pbn(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let status = meta(&out)["status"].as_str().unwrap().to_string();
    assert!(status == "runaway" || status == "diverged", "{status}");
}

#[test]
fn sigterm_and_sighup_stop_a_run_like_ctrl_c() {
    for signal in ["-TERM", "-HUP"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        // meta.json is written (atomically, saying `running`) once the run is under way.
        let mut child = spawn_run("default.toml", &out, &["n=1000", "duration_ms=10000000"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(130), "{signal}");
        let m = meta(&out);
        assert_eq!(m["status"], "interrupted", "{signal}");
        // Arrays are finalized: numpy-readable, spike times and ids of equal length.
        let times = npy(&out.join("spike_times_ms.npy")).into_vec::<f64>().unwrap();
        let ids = npy(&out.join("spike_ids.npy")).into_vec::<u32>().unwrap();
        assert!(!times.is_empty() && times.len() == ids.len(), "{signal}");
        assert!(!out.join("spike_times_ms.npy.part").exists());
    }
}

#[test]
fn a_killed_run_is_recovered_into_readable_arrays_cut_at_one_time() {
    for wait_ms in [50u64, 400, 1200] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let mut child = spawn_run(
            "istdp_i_to_e.toml",
            &out,
            &["n=600", "duration_ms=10000000", "record.weight_interval_ms=10"],
        );
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL: no chance to finish anything
        child.wait().unwrap();
        assert_eq!(meta(&out)["status"], "running");
        // A run whose writer is gone is not "still being written". `analyze` recovers it first;
        // killed before its buffers were first flushed, it recovers as empty (nothing to analyse).
        if wait_ms >= 400 {
            let o = pbn(&["analyze", out.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(String::from_utf8_lossy(&o.stderr).contains("recovering it first"));
        } else {
            let o = pbn(&["recover", out.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let m = meta(&out);
        assert_eq!(m["status"], "interrupted");
        let cut = m["simulated_ms"].as_f64().unwrap();
        let times = npy(&out.join("spike_times_ms.npy")).into_vec::<f64>().unwrap();
        let ids = npy(&out.join("spike_ids.npy")).into_vec::<u32>().unwrap();
        assert_eq!(times.len(), ids.len(), "after {wait_ms} ms");
        assert!(times.iter().all(|t| *t <= cut + 1e-9), "no spike after the cut");
        for name in ["population_rates_t_ms.npy", "weights_t_ms.npy"] {
            let t = npy(&out.join(name)).into_vec::<f64>().unwrap();
            assert!(t.iter().all(|x| *x <= cut + 1e-9), "{name} ends at the cut");
        }
        let samples = npy(&out.join("weights_I_to_E_samples.npy"));
        let rows = npy(&out.join("weights_t_ms.npy")).shape()[0];
        assert!(samples.shape()[0] == rows || rows == 0, "weight rows match their times");
        assert!(
            !std::fs::read_dir(&out)
                .unwrap()
                .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".part")),
            "no .part stream is left"
        );
        // Recovering twice is refused with a reason.
        let o = pbn(&["recover", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to recover"));
    }
}

#[test]
fn a_run_still_being_written_is_not_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_run("default.toml", &out, &["n=600", "duration_ms=10000000"]);
    let o = pbn(&["recover", out.to_str().unwrap()]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("still being written"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
