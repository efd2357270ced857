//! `pbn resume`: continue a stopped or killed run from its last checkpoint, or extend a
//! finished one, with output identical to a run that was never interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use pbn_core::{MemoryEstimate, NetworkSpec};
use pbn_rundir::resume as resume_run;

use crate::resources::{check_memory, resolve_threads};
use crate::run::with_progress;

#[derive(clap::Args)]
pub struct ResumeArgs {
    /// Run directory written by `pbn run` (interrupted, killed, failed, or completed with
    /// --until-ms).
    run_dir: PathBuf,
    /// Run until this simulated time (ms) instead of the configured duration: extends a
    /// completed run (the directory then equals a run of that duration).
    #[arg(long, value_name = "T")]
    until_ms: Option<f64>,
    /// Worker threads (results are identical for any number; 0 means all available cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    force: bool,
    /// No progress bar and no summary.
    #[arg(long)]
    quiet: bool,
}

pub fn resume(args: ResumeArgs) -> Result<ExitCode, String> {
    let config_path = args.run_dir.join("config.resolved.toml");
    let text = std::fs::read_to_string(&config_path).map_err(|e| {
        format!(
            "cannot read {}: {e} (is {} a run directory?)",
            config_path.display(),
            args.run_dir.display()
        )
    })?;
    let mut spec = NetworkSpec::from_toml(&text).map_err(|e| format!("{}: {e}", config_path.display()))?;
    if let Some(until) = args.until_ms {
        spec.duration_ms = until;
    }
    let threads = resolve_threads(args.threads);
    check_memory(&MemoryEstimate::new(&spec, threads), 1, args.force, args.quiet)?;
    with_progress(&spec, threads, &args.run_dir, args.quiet, |options| {
        resume_run(&args.run_dir, args.until_ms, options)
    })
}
