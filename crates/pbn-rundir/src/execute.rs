//! Running a spec into a run directory: the one loop `pbn run`, `pbn compare` and `pbn study`
//! share (slices, stop requests, status, summary and `meta.json`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pbn_core::{NetworkSpec, SimError, SimOptions, Simulation};
use serde_json::{Value, json};

use crate::{RunDirectory, RunStatus, describe_run};

/// How to run.
pub struct ExecuteOptions<'a> {
    /// Engine options (threads, expected rates for the work split).
    pub sim: SimOptions,
    /// Checked between slices: when set, the run stops with status `interrupted`.
    pub stop: Option<&'a AtomicBool>,
    /// Called after every slice with the simulation and the population rates (Hz) over that slice.
    pub on_slice: &'a mut dyn FnMut(&Simulation, &[f64]),
}

/// How a run ended and what it measured on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// How the run ended.
    pub status: RunStatus,
    /// Why it stopped early (runaway, divergence, signal, write failure).
    pub stop_reason: Option<String>,
    /// Simulated time (ms).
    pub simulated_ms: f64,
    /// Network construction (s).
    pub build_s: f64,
    /// Stepping (s).
    pub run_s: f64,
    /// Synapses in the network.
    pub synapses: usize,
    /// Population names.
    pub populations: Vec<String>,
    /// Rates over the whole run (Hz).
    pub rates_hz: Vec<f64>,
    /// Rates over the second half (Hz), when the run got that far.
    pub rates_second_half_hz: Option<Vec<f64>>,
    /// Plastic projections: (name, final mean, final SD, initial weight), unscaled.
    pub weights: Vec<(String, f64, f64, f64)>,
}

impl RunSummary {
    /// Wall seconds per simulated second.
    pub fn wall_s_per_simulated_s(&self) -> f64 {
        if self.simulated_ms > 0.0 {
            self.run_s / (self.simulated_ms * 1e-3)
        } else {
            f64::NAN
        }
    }
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

/// Builds `spec`, simulates it to its end (or until a stop request, the runaway guard or a
/// divergence) into a new run directory at `out`, and writes `meta.json` (status `running` while
/// it goes, then the outcome). `Err` only when the network cannot be built or the directory
/// cannot be written; a run that stops early is an `Ok` with its status and reason.
pub fn execute(spec: &NetworkSpec, out: &Path, options: ExecuteOptions<'_>) -> Result<RunSummary, String> {
    let started = Instant::now();
    let mut sim = Simulation::new(spec, options.sim).map_err(|e| e.to_string())?;
    let build_s = started.elapsed().as_secs_f64();
    let mut dir = RunDirectory::create(out, &spec.to_resolved_toml())
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut meta = describe_run(spec, &sim);
    meta["status"] = json!(RunStatus::Running);
    // Who writes it: `recover` must not touch a run that is still going.
    meta["pid"] = json!(std::process::id());
    meta["host"] = json!(crate::host());
    dir.write_meta(&meta)
        .map_err(|e| format!("cannot write meta.json: {e}"))?;

    let run_started = Instant::now();
    let slice_ms = (spec.dt_ms * 1000.0).max(100.0);
    let half_ms = spec.duration_ms / 2.0;
    let mut half_counts = None;
    let mut last_counts = sim.spike_counts().to_vec();
    let mut outcome: Result<(), SimError> = Ok(());
    while !sim.is_finished() {
        if options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
        // Land exactly on the half so that the second-half rates are exact.
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
        (options.on_slice)(&sim, &rates);
    }
    let run_s = run_started.elapsed().as_secs_f64();

    let mut status = match &outcome {
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
    // Arrays first, then the final meta.json: a directory whose meta says `completed` is whole.
    if let Err(e) = dir.close_streams() {
        outcome = outcome.and(Err(SimError::Sink(e)));
    }

    if matches!(outcome, Err(SimError::Sink(_))) {
        status = RunStatus::Failed;
    }
    let simulated_s = sim.time_ms() * 1e-3;
    let zeros = vec![0; sim.spike_counts().len()];
    let summary = RunSummary {
        status,
        stop_reason: match &outcome {
            Ok(()) if status == RunStatus::Interrupted => {
                Some("interrupted by a signal (SIGINT, SIGTERM or SIGHUP)".into())
            }
            Ok(()) => None,
            Err(e) => Some(e.to_string()),
        },
        simulated_ms: sim.time_ms(),
        build_s,
        run_s,
        synapses: sim.synapse_count(),
        populations: sim.layout().populations.iter().map(|p| p.name.clone()).collect(),
        rates_hz: rates_hz(&sim, sim.spike_counts(), &zeros, simulated_s),
        rates_second_half_hz: half_counts
            .as_ref()
            .map(|h| rates_hz(&sim, sim.spike_counts(), h, simulated_s - half_ms * 1e-3)),
        weights: sim
            .plastic_projections()
            .iter()
            .map(|(i, name, _)| {
                let (mean, std) = sim.weight_stats(*i);
                (name.to_string(), mean, std, spec.projections[*i].weight)
            })
            .collect(),
    };

    let by_name = |v: &[f64]| {
        Value::Object(
            summary
                .populations
                .iter()
                .zip(v)
                .map(|(p, r)| (p.clone(), json!(r)))
                .collect(),
        )
    };
    let weights: serde_json::Map<String, Value> = summary
        .weights
        .iter()
        .map(|(name, mean, std, initial)| (name.clone(), json!({"mean": mean, "std": std, "initial": initial})))
        .collect();
    meta["status"] = json!(status);
    meta["stop_reason"] = json!(summary.stop_reason);
    meta["simulated_ms"] = json!(summary.simulated_ms);
    meta["timings"] =
        json!({"build_s": build_s, "run_s": run_s, "wall_s_per_simulated_s": summary.wall_s_per_simulated_s()});
    meta["summary"] = json!({
        "rates_hz": by_name(&summary.rates_hz),
        "rates_second_half_hz": summary.rates_second_half_hz.as_deref().map(by_name),
        "plastic_weights": weights,
    });
    meta["files"] = json!(dir.files());
    dir.write_meta(&meta)
        .map_err(|e| format!("cannot write meta.json: {e}"))?;
    Ok(summary)
}
