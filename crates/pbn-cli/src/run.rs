//! `pbn run`: simulate a config and write a run directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pbn_core::{SimError, SimOptions, Simulation};
use pbn_rundir::{RunDirectory, RunStatus};
use serde_json::{Value, json};

use crate::config::load;
use crate::progress::Progress;

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
    /// Master seed (same as --set seed=S).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads; results are identical for any number.
    #[arg(long, default_value_t = 1)]
    threads: usize,
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

/// Population rates (Hz) from spike-count differences over `seconds`.
fn rates_hz(sim: &Simulation, now: &[u64], before: &[u64], seconds: f64) -> Vec<f64> {
    now.iter()
        .zip(before)
        .zip(&sim.layout().populations)
        .map(|((a, b), p)| {
            if seconds > 0.0 {
                (a - b) as f64 / (p.len as f64 * seconds)
            } else {
                f64::NAN
            }
        })
        .collect()
}

pub fn run(args: RunArgs) -> Result<ExitCode, String> {
    let mut sets = args.sets.clone();
    if let Some(seed) = args.seed {
        sets.push(format!("seed={seed}"));
    }
    let spec = load(args.config.as_deref(), &sets)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(args.config.as_deref()));
    if out.join("meta.json").exists() {
        return Err(format!("{} already holds a run; choose another --out", out.display()));
    }

    let started = Instant::now();
    let mut sim = Simulation::new(
        &spec,
        SimOptions {
            threads: args.threads.max(1),
            expected_rates_hz: pbn_theory::balance::initial_rates_hz(&spec),
        },
    )
    .map_err(|e| e.to_string())?;
    let build_s = started.elapsed().as_secs_f64();
    let mut dir = RunDirectory::create(&out, &spec.to_resolved_toml())
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut meta = pbn_rundir::describe_run(&spec, &sim);
    meta["status"] = json!(RunStatus::Running);
    dir.write_meta(&meta)
        .map_err(|e| format!("cannot write meta.json: {e}"))?;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second handler cannot be installed in the same process; ignore that case.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }

    let progress = Progress::new(spec.duration_ms, !args.quiet);
    let run_started = Instant::now();
    let slice_ms = (spec.dt_ms * 1000.0).max(100.0);
    let half_ms = spec.duration_ms / 2.0;
    let mut half_counts = None;
    let mut last_counts = sim.spike_counts().to_vec();
    let mut outcome: Result<(), SimError> = Ok(());
    while !sim.is_finished() {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let step_ms = if half_counts.is_none() && sim.time_ms() < half_ms {
            slice_ms.min(half_ms - sim.time_ms())
        } else {
            slice_ms
        };
        if let Err(e) = sim.run_for(step_ms.max(spec.dt_ms), &mut dir) {
            outcome = Err(e);
            break;
        }
        if half_counts.is_none() && sim.time_ms() >= half_ms - 1e-9 {
            half_counts = Some(sim.spike_counts().to_vec());
        }
        let now = sim.spike_counts().to_vec();
        let rates = rates_hz(&sim, &now, &last_counts, step_ms * 1e-3);
        last_counts = now;
        let names = &sim.layout().populations;
        let msg = names
            .iter()
            .zip(&rates)
            .map(|(p, r)| format!("{} {:.2} Hz", p.name, r))
            .collect::<Vec<_>>()
            .join(", ");
        progress.update(sim.time_ms(), msg);
    }
    progress.finish();
    let run_s = run_started.elapsed().as_secs_f64();

    let status = match &outcome {
        Ok(()) if sim.is_finished() => RunStatus::Completed,
        Ok(()) => RunStatus::Interrupted,
        Err(SimError::Runaway { .. }) => RunStatus::Runaway,
        Err(SimError::Diverged { .. }) => RunStatus::Diverged,
        Err(_) => RunStatus::Failed,
    };
    if spec.record.final_weights
        && let Err(e) = sim.write_final_weights(&mut dir)
    {
        outcome = outcome.and(Err(SimError::Sink(e)));
    }
    let close = dir.close_streams();

    // Summary numbers.
    let simulated_s = sim.time_ms() * 1e-3;
    let zeros = vec![0; sim.spike_counts().len()];
    let whole = rates_hz(&sim, sim.spike_counts(), &zeros, simulated_s);
    let second_half = half_counts
        .as_ref()
        .map(|h| rates_hz(&sim, sim.spike_counts(), h, simulated_s - half_ms * 1e-3));
    let pops = &sim.layout().populations;
    let by_name = |v: &[f64]| Value::Object(pops.iter().zip(v).map(|(p, r)| (p.name.clone(), json!(r))).collect());
    let weights: serde_json::Map<String, Value> = sim
        .plastic_projections()
        .iter()
        .map(|(i, name, _)| {
            let (mean, std) = sim.weight_stats(*i);
            (
                name.to_string(),
                json!({"mean": mean, "std": std, "initial": spec.projections[*i].weight}),
            )
        })
        .collect();
    let s_per_s = if simulated_s > 0.0 {
        run_s / simulated_s
    } else {
        f64::NAN
    };
    meta["status"] = json!(status);
    meta["stop_reason"] = match &outcome {
        Ok(()) if status == RunStatus::Interrupted => json!("interrupted by the user (Ctrl-C)"),
        Ok(()) => Value::Null,
        Err(e) => json!(e.to_string()),
    };
    meta["simulated_ms"] = json!(sim.time_ms());
    meta["timings"] = json!({"build_s": build_s, "run_s": run_s, "wall_s_per_simulated_s": s_per_s});
    meta["summary"] = json!({
        "rates_hz": by_name(&whole),
        "rates_second_half_hz": second_half.as_deref().map(by_name),
        "plastic_weights": weights,
    });
    meta["files"] = json!(dir.files());
    dir.write_meta(&meta)
        .map_err(|e| format!("cannot write meta.json: {e}"))?;
    close.map_err(|e| format!("cannot finish the output files: {e}"))?;

    if !args.quiet {
        println!("run directory: {}", out.display());
        println!(
            "simulated {:.1} ms of N = {} ({} synapses) in {:.2} s + {:.2} s build: {:.3} s per simulated s",
            sim.time_ms(),
            spec.n,
            sim.synapse_count(),
            run_s,
            build_s,
            s_per_s
        );
        for (k, p) in pops.iter().enumerate() {
            let half = second_half
                .as_ref()
                .map_or(String::new(), |h| format!(", second half {:.3} Hz", h[k]));
            println!("  rate {:<6} {:8.3} Hz (whole run{half})", p.name, whole[k]);
        }
        for (name, w) in &weights {
            println!(
                "  weight {name}: mean {:.4}, SD {:.4} (unscaled; initial {})",
                w["mean"].as_f64().unwrap_or(f64::NAN),
                w["std"].as_f64().unwrap_or(f64::NAN),
                w["initial"]
            );
        }
    }
    match (outcome, status) {
        (Err(e), _) => Err(format!(
            "{e}\nwhat was recorded up to t = {} ms is in {}",
            sim.time_ms(),
            out.display()
        )),
        (Ok(()), RunStatus::Interrupted) => {
            eprintln!(
                "interrupted at t = {} ms; what was recorded is in {}",
                sim.time_ms(),
                out.display()
            );
            Ok(ExitCode::from(130))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
