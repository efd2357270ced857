//! `pbn run`: simulate a config and write a run directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pbn_core::{MemoryEstimate, NetworkSpec, SimOptions, Simulation};
use pbn_rundir::{ExecuteOptions, RunStatus, RunSummary, execute};

use crate::config::load;
use crate::progress::Progress;
use crate::resources::{check_memory, resolve_threads};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Config file (TOML). Without it, the built-in default network (`pbn config --print-default`).
    config: Option<PathBuf>,
    /// Run directory to create [default: runs/<config name>, made unique with -2, -3, …].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a config key, e.g. --set n=2000 --set inputs.0.correlation=0.1 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Master seed (same as --set seed=S; at most 2^63 − 1, the largest TOML integer).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    seed: Option<u64>,
    /// Worker threads; 0 means all available cores, and more than the available cores are
    /// reduced to them (with a warning). Results are identical for any number; while stepping
    /// with the threads is slower than with one (small networks, busy cores), the run uses one.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run even if the estimated memory exceeds what the machine has available (`MemAvailable`
    /// of /proc/meminfo, or the environment variable PBN_AVAILABLE_MEMORY, e.g. 8G).
    #[arg(long)]
    force: bool,
    /// Simulated time between checkpoints (ms), from which `pbn resume` continues a stopped or
    /// killed run; 0: only when the run ends (same as --set checkpoint.every_ms=T).
    #[arg(long, value_name = "T")]
    checkpoint_every_ms: Option<f64>,
    /// No progress bar and no summary.
    #[arg(long)]
    quiet: bool,
}

fn default_out(config: Option<&Path>) -> PathBuf {
    let stem = config
        .and_then(|p| p.file_stem())
        .map_or_else(|| "default".to_string(), |s| s.to_string_lossy().into_owned());
    let base = PathBuf::from("runs").join(&stem);
    (1..)
        .map(|k| {
            if k == 1 {
                base.clone()
            } else {
                PathBuf::from("runs").join(format!("{stem}-{k}"))
            }
        })
        .find(|p| !p.exists())
        .expect("some name is free")
}

pub fn run(args: RunArgs) -> Result<ExitCode, String> {
    let mut sets = args.sets.clone();
    if let Some(seed) = args.seed {
        sets.push(format!("seed={seed}"));
    }
    if let Some(every) = args.checkpoint_every_ms {
        sets.push(format!("checkpoint.every_ms={every}"));
    }
    let spec = load(args.config.as_deref(), &sets)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(args.config.as_deref()));
    if out.join("meta.json").exists() {
        return Err(format!("{} already holds a run; choose another --out", out.display()));
    }
    let threads = resolve_threads(args.threads);
    check_memory(&MemoryEstimate::new(&spec, threads), 1, args.force, args.quiet)?;

    with_progress(&spec, threads, &out, args.quiet, |options| {
        execute(&spec, &out, options)
    })
}

/// Runs `go` (which executes or resumes the run of `spec` in `out`) with `threads` threads, a
/// progress bar and the stop flag of SIGINT/TERM/HUP, then reports (see [`report`]).
pub fn with_progress(
    spec: &NetworkSpec,
    threads: usize,
    out: &Path,
    quiet: bool,
    go: impl FnOnce(ExecuteOptions<'_>) -> Result<RunSummary, String>,
) -> Result<ExitCode, String> {
    let interrupted = crate::signals::stop_flag();
    let progress = Progress::new(spec.duration_ms, !quiet);
    let summary = go(ExecuteOptions {
        sim: SimOptions {
            threads,
            expected_rates_hz: pbn_theory::balance::initial_rates_hz(spec),
        },
        stop: Some(&interrupted),
        on_slice: &mut |sim, rates| show_rates(&progress, sim, rates),
    })?;
    progress.finish();
    report(&summary, spec.n, out, quiet)
}

/// Shows the time and the latest rates on the progress bar.
pub fn show_rates(progress: &Progress, sim: &Simulation, rates: &[f64]) {
    let msg = sim
        .layout()
        .populations
        .iter()
        .zip(rates)
        .map(|(p, r)| format!("{} {:.2} Hz", p.name, r))
        .collect::<Vec<_>>()
        .join(", ");
    progress.update(sim.time_ms(), msg);
}

/// Prints how a run went (unless `quiet`) and turns its outcome into the exit code: 0
/// completed, 130 interrupted, an error (exit 2) with the reason otherwise.
pub fn report(summary: &RunSummary, n: u64, out: &Path, quiet: bool) -> Result<ExitCode, String> {
    if !quiet {
        println!("run directory: {}", out.display());
        println!(
            "simulated {:.1} ms of N = {} ({} synapses) in {:.2} s + {:.2} s build: {:.3} s per simulated s",
            summary.simulated_ms,
            n,
            summary.synapses,
            summary.run_s,
            summary.build_s,
            summary.wall_s_per_simulated_s()
        );
        let (count, seconds) = summary.checkpoints;
        if count > 0 {
            println!(
                "  {count} checkpoint{} in {seconds:.3} s ({:.2} % of the run)",
                if count == 1 { "" } else { "s" },
                100.0 * seconds / summary.run_s.max(1e-9)
            );
        }
        for (k, name) in summary.populations.iter().enumerate() {
            let half = summary
                .rates_second_half_hz
                .as_ref()
                .map_or(String::new(), |h| format!(", second half {:.3} Hz", h[k]));
            println!("  rate {:<6} {:8.3} Hz (whole run{half})", name, summary.rates_hz[k]);
        }
        for (name, mean, std, initial) in &summary.weights {
            println!("  weight {name}: mean {mean:.4}, SD {std:.4} (unscaled; initial {initial})");
        }
    }
    // Whole nanoseconds: 641 steps of 0.1 ms are 64.1 ms, not 64.10000000000001.
    let simulated_ms = (summary.simulated_ms * 1e6).round() / 1e6;
    match (summary.status, &summary.stop_reason) {
        (RunStatus::Interrupted, _) => {
            eprintln!(
                "interrupted at t = {simulated_ms} ms; what was recorded is in {} (continue with `pbn resume {}`)",
                out.display(),
                out.display()
            );
            Ok(ExitCode::from(130))
        }
        (RunStatus::Failed, Some(reason)) => Err(format!(
            "{reason}\nwhat was recorded up to t = {simulated_ms} ms is in {}; once the cause is fixed, `pbn resume {}` continues from its last checkpoint",
            out.display(),
            out.display()
        )),
        (_, Some(reason)) => Err(format!(
            "{reason}\nwhat was recorded up to t = {simulated_ms} ms is in {}",
            out.display()
        )),
        _ => Ok(ExitCode::SUCCESS),
    }
}
