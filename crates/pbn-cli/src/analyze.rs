//! `pbn analyze`: statistics of a run directory (docs/analysis.md §5), written to `analysis.json`.
//!
//! Thin: options in, `pbn_analysis::analyze_run`, table out. The science is in `pbn-analysis`.

use std::path::PathBuf;
use std::process::ExitCode;

use pbn_analysis::{AnalyzeOptions, analyze_run};
use pbn_rundir::{RunData, write_atomic};

/// File name of the full covariance matrix written with `--full`.
pub const FULL_COVARIANCE_FILE: &str = "analysis_count_covariance.npy";

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Run directory written by `pbn run`.
    run_dir: PathBuf,
    /// Start of the analysis window (ms, exclusive); default: half the simulated time.
    #[arg(long = "from", value_name = "MS")]
    from_ms: Option<f64>,
    /// End of the analysis window (ms, inclusive); default: the simulated time.
    #[arg(long = "to", value_name = "MS")]
    to_ms: Option<f64>,
    /// Counting window for spike-count covariances and correlations (ms).
    #[arg(long = "window", value_name = "MS", default_value_t = 250.0)]
    window_ms: f64,
    /// Bin of the time-resolved population rates (ms).
    #[arg(long = "rate-bin", value_name = "MS", default_value_t = 100.0)]
    rate_bin_ms: f64,
    /// Also write the full N×N count-covariance matrix (float64, row-major) as analysis_count_covariance.npy.
    #[arg(long)]
    full: bool,
    /// Report the reference MATLAB E–E estimator (diagonal included, docs/plasticity.md §3.6 item 10) as the mean.
    #[arg(long)]
    matlab_diagonal: bool,
    /// Do not print the table.
    #[arg(long)]
    quiet: bool,
}

pub fn analyze(args: AnalyzeArgs) -> Result<ExitCode, String> {
    if !(args.window_ms > 0.0 && args.rate_bin_ms > 0.0) {
        return Err("--window and --rate-bin must be positive durations in ms".into());
    }
    crate::recover::if_killed(&args.run_dir)?;
    let run = RunData::open(&args.run_dir).map_err(|e| e.to_string())?;
    let options = AnalyzeOptions {
        from_ms: args.from_ms,
        to_ms: args.to_ms,
        count_window_ms: args.window_ms,
        rate_bin_ms: args.rate_bin_ms,
        matlab_diagonal: args.matlab_diagonal,
        full_covariance: args.full.then(|| args.run_dir.join(FULL_COVARIANCE_FILE)),
        ..AnalyzeOptions::default()
    };
    let analysis = analyze_run(&run, &options).map_err(|e| e.to_string())?;
    let path = args.run_dir.join("analysis.json");
    let json = serde_json::to_vec_pretty(&analysis).map_err(|e| format!("cannot serialise the analysis: {e}"))?;
    write_atomic(&path, &json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if !args.quiet {
        print!("{analysis}");
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
