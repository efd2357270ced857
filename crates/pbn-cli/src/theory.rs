//! `pbn theory`: mean-field predictions for the same config a simulation runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pbn_analysis::{AnalyzeOptions, analyze_run};
use pbn_rundir::{NpyStream, RunData, write_atomic};
use pbn_theory::{SweepParam, TheoryOptions, Trajectory};

use crate::config::{DEFAULT_CONFIG, load};

#[derive(clap::Args)]
pub struct TheoryArgs {
    /// Config file (TOML). Without it, the built-in default network.
    config: Option<PathBuf>,
    /// Override a config key, e.g. --set n=2000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Fixed points along a parameter instead, e.g. --sweep projections.0.plasticity.beta=1:4:16.
    #[arg(long, value_name = "KEY=START:STOP:STEPS")]
    sweep: Option<String>,
    /// Evaluate input and stimulus windows at this time (ms).
    #[arg(long, default_value_t = 0.0)]
    at_ms: f64,
    /// Counting window for covariances (ms).
    #[arg(long, default_value_t = 250.0)]
    window_ms: f64,
    /// Fano factor used for correlation coefficients.
    #[arg(long, default_value_t = 1.0)]
    fano: f64,
    /// Kernel attenuation κ of the covariance term of the weight drift.
    #[arg(long, default_value_t = 1.0)]
    kappa: f64,
    /// Keep the O(1/N) covariance terms (leading order drops them).
    #[arg(long)]
    finite_n: bool,
    /// Empirical correction D per population (weight·kHz), comma-separated (docs/theory.md §4.7).
    #[arg(long, value_delimiter = ',', value_name = "D1,D2,...")]
    correction: Option<Vec<f64>>,
    /// Take D from a run directory instead: D_a = Σ_b p_ab q_b Cov(j_ab, r_b) measured from its
    /// final plastic weights and second-half rates (the authors' recipe for the manifold, docs/theory.md §4.7).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "correction")]
    correction_from: Option<PathBuf>,
    /// Integrate the mean-weight ODE for this long (ms) from the config's weights.
    #[arg(long)]
    integrate_ms: Option<f64>,
    /// Write every number as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the ODE time course as .npy files into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn theory(args: TheoryArgs) -> Result<ExitCode, String> {
    let correction = match &args.correction_from {
        Some(dir) => Some(measured_correction(dir)?),
        None => args.correction.clone(),
    };
    let options = TheoryOptions {
        at_ms: args.at_ms,
        window_ms: args.window_ms,
        fano: args.fano,
        kappa: args.kappa,
        finite_n_terms: args.finite_n,
        correction,
        integrate_ms: args.integrate_ms,
        ..TheoryOptions::default()
    };
    if let Some(sweep) = &args.sweep {
        let param: SweepParam = sweep.parse().map_err(|e: pbn_theory::TheoryError| e.to_string())?;
        let text = match &args.config {
            Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display()))?,
            None => DEFAULT_CONFIG.to_string(),
        };
        let table = pbn_theory::sweep(&text, &args.sets, &param, &options).map_err(|e| e.to_string())?;
        print!("{table}");
        write_json(args.json.as_deref(), &table)?;
        return Ok(ExitCode::SUCCESS);
    }
    let spec = load(args.config.as_deref(), &args.sets)?;
    let prediction = pbn_theory::predict(&spec, &options).map_err(|e| e.to_string())?;
    print!("{prediction}");
    write_json(args.json.as_deref(), &prediction)?;
    if let Some(dir) = &args.out {
        match prediction.plasticity.as_ref().and_then(|p| p.trajectory.as_ref()) {
            Some(t) => write_trajectory(dir, t).map_err(|e| format!("cannot write {}: {e}", dir.display()))?,
            None => {
                return Err(
                    "--out writes the weight ODE time course: give --integrate-ms and a plastic projection".into(),
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_json(path: Option<&Path>, value: &impl serde::Serialize) -> Result<(), String> {
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// `theory_t_s.npy` (T,), `theory_weights.npy` (T, blocks), `theory_rates_hz.npy` (T, populations).
fn write_trajectory(dir: &Path, t: &Trajectory) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    pbn_rundir::write_array(&dir.join("theory_t_s.npy"), &t.t_s)?;
    for (name, rows) in [("theory_weights.npy", &t.weights), ("theory_rates_hz.npy", &t.rates_hz)] {
        let width = rows.first().map_or(0, |r| r.len());
        let mut s = NpyStream::<f64>::two_d(&dir.join(name), width)?;
        for r in rows {
            s.extend(r.iter().copied())?;
        }
        s.finish()?;
    }
    Ok(())
}

/// D measured in a run directory (via `pbn analyze`'s rate–weight covariance).
fn measured_correction(dir: &Path) -> Result<Vec<f64>, String> {
    let run = RunData::open(dir).map_err(|e| e.to_string())?;
    let analysis = analyze_run(&run, &AnalyzeOptions::default()).map_err(|e| e.to_string())?;
    let d = analysis.correction_d.ok_or_else(|| {
        format!(
            "{}: no correction D could be measured (it needs final weights of a plastic projection and spikes): {}",
            dir.display(),
            analysis.notes.join("; ")
        )
    })?;
    println!(
        "correction D from {} (weight·kHz): {}",
        dir.display(),
        d.iter().map(|v| format!("{v:+.4e}")).collect::<Vec<_>>().join(", ")
    );
    Ok(d)
}
