//! Every figure is written as a valid PNG and SVG, whatever the run recorded.

use std::path::{Path, PathBuf};

use pbn_core::{NetworkSpec, SimOptions, Simulation};
use pbn_plot::{
    Content, ErrorSeries, Hist, LineKind, Panel, RasterGroup, RefLine, Rgb, ScatterGroup, Series, figure, histograms,
    lines, plot_run, plot_run_report, points_with_errorbars, raster, scatter_with_fit,
};
use pbn_rundir::{RunData, RunDirectory, describe_run};

/// Checks the PNG signature and header, returns (width, height).
fn check_png(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(w >= 400 && h >= 300, "{}: {w}×{h}", path.display());
    assert!(
        bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
        "{} lacks IEND",
        path.display()
    );
    (w, h)
}

fn check_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let head = text.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{} is not SVG",
        path.display()
    );
    assert!(text.trim_end().ends_with("</svg>"), "{} is truncated", path.display());
    assert!(text.contains("<text"), "{} has no text", path.display());
}

fn check_all(files: &[PathBuf]) {
    assert!(!files.is_empty());
    assert_eq!(files.len() % 2, 0);
    for f in files {
        match f.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                check_png(f);
            }
            Some("svg") => check_svg(f),
            other => panic!("unexpected file {other:?}"),
        }
    }
    // No temporary files left behind.
    let dir = files[0].parent().unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".part"), "leftover {name}");
    }
}

fn stems(files: &[PathBuf]) -> Vec<String> {
    let mut s: Vec<String> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    s.sort();
    s
}

/// Simulates `config` with overrides into a temporary run directory; `stop_ms` stops early.
fn make_run(config: &str, sets: &[&str], stop_ms: Option<f64>) -> tempfile::TempDir {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let spec = NetworkSpec::from_toml_with_overrides(config, &sets).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut dir = RunDirectory::create(tmp.path(), &spec.to_resolved_toml()).unwrap();
    let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
    let mut meta = describe_run(&spec, &sim);
    let status = match stop_ms {
        Some(ms) => {
            sim.run_for(ms, &mut dir).unwrap();
            "interrupted"
        }
        None => {
            sim.run(&mut dir).unwrap();
            "completed"
        }
    };
    if spec.record.final_weights {
        sim.write_final_weights(&mut dir).unwrap();
    }
    dir.close_streams().unwrap();
    meta["simulated_ms"] = serde_json::json!(sim.time_ms());
    meta["status"] = serde_json::json!(status);
    dir.write_meta(&meta).unwrap();
    tmp
}

const ISTDP: &str = include_str!("../../../examples/istdp_i_to_e.toml");
const DEFAULT: &str = include_str!("../../../examples/default.toml");
const SMALL: [&str; 6] = [
    "n=400",
    "record.neuron_samples=0",
    "duration_ms=400",
    "record.weight_samples=20",
    "record.weight_interval_ms=20",
    "projections.1.plasticity.eta=0.01",
];

fn plot(run_dir: &Path) -> (Vec<PathBuf>, Vec<(String, String)>) {
    let run = RunData::open(run_dir).unwrap();
    let out = run_dir.join("plots");
    let report = plot_run_report(&run, &out).unwrap();
    if !report.files.is_empty() {
        check_all(&report.files);
    }
    // Plotting twice overwrites cleanly.
    assert_eq!(plot_run(&run, &out).unwrap(), report.files);
    (report.files, report.skipped)
}

#[test]
fn everything_recorded() {
    let mut sets = SMALL.to_vec();
    sets.push("record.neuron_samples=4");
    let tmp = make_run(ISTDP, &sets, None);
    let (files, skipped) = plot(tmp.path());
    assert_eq!(
        stems(&files),
        [
            "currents",
            "raster",
            "rate_weight_I_to_E",
            "rates",
            "weight_hist_I_to_E",
            "weights_I_to_E"
        ]
    );
    assert!(skipped.is_empty(), "{skipped:?}");
}

#[test]
fn spikes_off() {
    let mut sets = SMALL.to_vec();
    sets.push("record.spikes=false");
    let tmp = make_run(ISTDP, &sets, None);
    let (files, skipped) = plot(tmp.path());
    assert_eq!(stems(&files), ["rates", "weight_hist_I_to_E", "weights_I_to_E"]);
    let names: Vec<&str> = skipped.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["raster", "currents", "rate_weight_I_to_E"]);
}

#[test]
fn neuron_samples_are_recorded_by_default() {
    // The input-balance figure, the signature of a balanced network, needs no extra key.
    let tmp = make_run(DEFAULT, &["n=400", "duration_ms=300"], None);
    let (files, _) = plot(tmp.path());
    assert_eq!(stems(&files), ["currents", "raster", "rates"]);
}

#[test]
fn no_plastic_projection_and_no_neuron_samples() {
    let tmp = make_run(DEFAULT, &["n=400", "duration_ms=300", "record.neuron_samples=0"], None);
    let (files, skipped) = plot(tmp.path());
    assert_eq!(stems(&files), ["raster", "rates"]);
    let names: Vec<&str> = skipped.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["weights", "currents"]);
}

#[test]
fn no_final_weights() {
    let mut sets = SMALL.to_vec();
    sets.push("record.final_weights=false");
    let tmp = make_run(ISTDP, &sets, None);
    let (files, _) = plot(tmp.path());
    assert_eq!(
        stems(&files),
        ["raster", "rates", "weight_hist_I_to_E", "weights_I_to_E"]
    );
}

#[test]
fn run_stopped_early() {
    let mut sets = SMALL.to_vec();
    sets.push("record.neuron_samples=2");
    let tmp = make_run(ISTDP, &sets, Some(130.0));
    let run = RunData::open(tmp.path()).unwrap();
    assert_eq!(run.status(), "interrupted");
    let (files, _) = plot(tmp.path());
    assert!(stems(&files).contains(&"weights_I_to_E".to_string()));
    assert!(stems(&files).contains(&"raster".to_string()));
}

#[test]
fn run_stopped_before_any_record() {
    let tmp = make_run(ISTDP, &SMALL, Some(0.0));
    let (_files, _) = plot(tmp.path());
}

#[test]
fn generic_figures_on_awkward_data() {
    // PBN_PLOT_KEEP=DIR keeps the figures for a look.
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("PBN_PLOT_KEEP").map(PathBuf::from);
    let d = keep.as_deref().unwrap_or(tmp.path());
    let n: Vec<f64> = vec![500.0, 1000.0, 2000.0, 5000.0, 10000.0];
    let theory: Vec<f64> = n.iter().map(|v| 1.0 / v).collect();
    // Error bars reaching below zero on a log axis, a NaN, and a dashed theory line.
    let pts = ErrorSeries {
        label: "simulation (mean ± SD, 5 realizations)".into(),
        x: n.clone(),
        y: vec![2.1e-3, 1.0e-3, f64::NAN, 2.2e-4, 1.1e-4],
        err: vec![3e-3, 2e-4, 1e-4, 5e-5, 2e-5],
        color: Some(Rgb::EXC),
        join: true,
    };
    let th = Series::new("theory ∝ 1/N", n.clone(), theory)
        .kind(LineKind::Dashed)
        .color(Rgb::BLACK);
    let files = points_with_errorbars(
        &d.join("cov_vs_n"),
        "Mean E–E covariance vs N",
        "network size N",
        "mean covariance (spikes²)",
        &[pts],
        &[th],
        &[RefLine::dashed(5e-4, "a constant", Rgb::GREY)],
        true,
        true,
    )
    .unwrap();
    check_all(&files);

    // Lines: empty series, constant series, a band, markers, log x with non-positive values.
    let files = lines(
        &d.join("lines"),
        "Lines",
        "x (a.u.)",
        "y (a.u.)",
        &[
            Series::new("empty", vec![], vec![]),
            Series::new("constant", vec![0.0, 1.0, 2.0], vec![3.0; 3]).band(vec![2.0; 3], vec![4.0; 3]),
            Series::new("markers", vec![0.5, 1.5], vec![1.0, 2.0]).kind(LineKind::LineMarkers),
        ],
        true,
        false,
        &[RefLine::dashed(3.5, "theory", Rgb::BLACK)],
    )
    .unwrap();
    check_all(&files);

    // Histograms of a single value and of nothing.
    let files = histograms(
        &d.join("hist"),
        "Histograms",
        "value",
        &[
            Hist {
                label: "delta".into(),
                values: vec![-150.0; 10],
                color: None,
            },
            Hist {
                label: "empty".into(),
                values: vec![],
                color: None,
            },
        ],
        30,
        &[RefLine::dashed(-150.0, "initial", Rgb::BLACK)],
    )
    .unwrap();
    check_all(&files);

    // Scatter with too few points for a fit, and a raster with no spikes.
    let files = scatter_with_fit(
        &d.join("scatter"),
        "Scatter",
        "rate (Hz)",
        "weight",
        &[ScatterGroup {
            label: "one point".into(),
            x: vec![1.0],
            y: vec![2.0],
            color: None,
        }],
    )
    .unwrap();
    check_all(&files);
    let files = raster(
        &d.join("raster"),
        "Raster",
        "time (ms)",
        "neuron",
        &[RasterGroup {
            label: "E".into(),
            times: vec![],
            rows: vec![],
            color: Rgb::EXC,
        }],
    )
    .unwrap();
    check_all(&files);

    // Several panels, into a directory that does not exist yet.
    let p = |log| {
        let mut p = Panel::new(
            "panel",
            "x",
            "y",
            Content::Lines(vec![Series::new("a", vec![1.0, 10.0, 100.0], vec![1.0, 0.1, 0.01])]),
        );
        p.log_y = log;
        p
    };
    let files = figure(
        &d.join("sub/dir/grid"),
        "Grid",
        &[p(false), p(true), p(true)],
        2,
        Some((500, 400)),
    )
    .unwrap();
    check_all(&files);
    assert_eq!(check_png(&files[0]), (1000, 800 + 50));
}

#[test]
fn linear_fit_hand_case() {
    let f = pbn_plot::linear_fit(&[0.0, 1.0, 2.0, f64::NAN], &[1.0, 3.0, 5.0, 7.0]).unwrap();
    assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 1.0).abs() < 1e-12 && (f.r - 1.0).abs() < 1e-12);
    assert_eq!(f.n, 3);
    assert!(pbn_plot::linear_fit(&[1.0, 1.0], &[0.0, 1.0]).is_none());
}
