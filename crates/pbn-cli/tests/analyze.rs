//! End-to-end: `pbn analyze` on a small run directory made by `pbn run`.

use std::path::Path;
use std::process::Command;

fn pbn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pbn")).args(args).output().unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn make_run(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        &example("istdp_i_to_e.toml")[..],
        "--out",
        out.to_str().unwrap(),
        "--set",
        "n=500",
        "--set",
        "duration_ms=2000",
        "--set",
        "record.neuron_samples=4",
        "--set",
        "record.weight_samples=100",
        "--quiet",
    ]
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = pbn(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn analysis(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("analysis.json")).unwrap()).unwrap()
}

#[test]
fn analyze_writes_analysis_json_consistent_with_the_spikes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, &[]);
    let o = pbn(&["analyze", run.to_str().unwrap(), "--full"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("E-E") && stdout.contains("I_to_E") && stdout.contains("analysis.json"),
        "{stdout}"
    );

    let a = analysis(&run);
    assert_eq!(
        (a["from_ms"].as_f64(), a["to_ms"].as_f64()),
        (Some(1000.0), Some(2000.0))
    );
    // Rates against a hand count of the spike files over (1000, 2000].
    let t: Vec<f64> = npy_vec(&run.join("spike_times_ms.npy"));
    let id: Vec<u32> = npy_vec(&run.join("spike_ids.npy"));
    let e_spikes = t
        .iter()
        .zip(&id)
        .filter(|(t, i)| **t > 1000.0 && **t <= 2000.0 && **i < 400)
        .count();
    let e_rate = a["populations"][0]["rate_hz"].as_f64().unwrap();
    assert!(
        (e_rate - e_spikes as f64 / 400.0).abs() < 1e-9,
        "{e_rate} vs {e_spikes}/400 spikes/s"
    );
    assert_eq!(a["neuron_rates_hz"].as_array().unwrap().len(), 500);
    // Covariances: 4 windows of 250 ms; three blocks; the E–E mean matches the full matrix written by --full.
    let c = &a["covariance"];
    assert_eq!(c["windows"], 4);
    assert_eq!(c["blocks"].as_array().unwrap().len(), 3);
    let full: Vec<f64> = npy_vec(&run.join("analysis_count_covariance.npy"));
    assert_eq!(full.len(), 500 * 500);
    let ee: Vec<f64> = (0..400)
        .flat_map(|j| (0..400).filter(move |&k| k != j).map(move |k| (j, k)))
        .map(|(j, k)| full[j * 500 + k])
        .collect();
    let mean_ee = ee.iter().sum::<f64>() / ee.len() as f64;
    let reported = c["blocks"][0]["mean_cov"].as_f64().unwrap();
    assert!((mean_ee - reported).abs() < 1e-12, "{mean_ee} vs {reported}");
    // Plastic block: weights, KS, rate–weight covariance and D; balance from the sampled neurons.
    let w = &a["weights"][0];
    assert_eq!(w["name"], "I_to_E");
    assert_eq!(w["sampled"], 100);
    assert!(w["ks"]["result"]["statistic"].as_f64().is_some());
    let rw = &w["rate_weight"];
    let (jr, j, r, cov) = (
        rw["mean_jr"].as_f64().unwrap(),
        rw["mean_j"].as_f64().unwrap(),
        rw["mean_r_khz"].as_f64().unwrap(),
        rw["cov_j_r"].as_f64().unwrap(),
    );
    assert!((cov - (jr - j * r)).abs() < 1e-12);
    let d = a["correction_d"].as_array().unwrap();
    assert!(
        (d[0].as_f64().unwrap() - 0.1 * 0.2 * cov).abs() < 1e-12,
        "D_E = p_ei q_i Cov"
    );
    let b = &a["balance"][0];
    assert_eq!(b["name"], "E");
    assert!(
        b["sources"][1]["mean"].as_f64().unwrap() < 0.0,
        "inhibitory current is negative"
    );

    // The MATLAB estimator changes only the E–E headline, and only by including the diagonal.
    let o = pbn(&[
        "analyze",
        run.to_str().unwrap(),
        "--matlab-diagonal",
        "--quiet",
        "--from",
        "500",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = analysis(&run);
    assert_eq!(m["from_ms"], 500.0);
    assert_eq!(m["covariance"]["windows"], 6);
    let b0 = &m["covariance"]["blocks"][0];
    assert_eq!(b0["mean_cov"], b0["mean_cov_matlab"]);
    assert_ne!(b0["mean_cov"], m["covariance"]["blocks"][2]["mean_cov_matlab"]);
}

#[test]
fn analyze_without_spikes_or_weights_still_reports_and_bad_windows_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(
        &run,
        &["--set", "record.spikes=false", "--set", "record.neuron_samples=0"],
    );
    let o = pbn(&["analyze", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = analysis(&run);
    assert!(a["covariance"].is_null() && a["balance"].is_null());
    assert!(a["notes"].as_array().unwrap().len() >= 2);

    let o = pbn(&["analyze", run.to_str().unwrap(), "--from", "1500", "--to", "1000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("window"));
    let o = pbn(&["analyze", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("meta.json"));
}

fn npy_vec<T: npyz::Deserialize>(path: &Path) -> Vec<T> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap()
}
