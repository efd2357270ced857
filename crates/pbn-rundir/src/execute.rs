//! Running a spec into a run directory: the one loop `pbn run`, `pbn compare` and `pbn study`
//! share (slices, stop requests, status, summary and `meta.json`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pbn_core::{Checkpoint, NetworkSpec, SimError, SimOptions, Simulation};
use serde_json::{Value, json};

use crate::recover::PartArray;
use crate::{RunDirectory, RunStatus, describe_run, write_atomic};

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
    /// Checkpoints written (periodic and final) and the wall time they took (s, part of `run_s`
    /// except the final one).
    pub checkpoints: (usize, f64),
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

/// The checkpoint file of a run directory (with `.prev`, the one it replaced, and `.part`, one
/// being written).
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";

/// Builds `spec`, simulates it to its end (or until a stop request, the runaway guard or a
/// divergence) into a new run directory at `out`, and writes `meta.json` (status `running` while
/// it goes, then the outcome). Checkpoints are written every `spec.checkpoint.every_ms` and when
/// the run ends. `Err` only when the network cannot be built or the directory cannot be
/// written; a run that stops early is an `Ok` with its status and reason.
pub fn execute(spec: &NetworkSpec, out: &Path, options: ExecuteOptions<'_>) -> Result<RunSummary, String> {
    let started = Instant::now();
    let sim = Simulation::new(spec, options.sim.clone()).map_err(|e| e.to_string())?;
    let build_s = started.elapsed().as_secs_f64();
    let dir = RunDirectory::create(out, &spec.to_resolved_toml())
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    drive(spec, sim, dir, None, build_s, options)
}

/// What a resumed run starts from.
struct Resumed {
    /// Simulated time of the checkpoint (ms).
    from_ms: f64,
    /// Spike counts per population at half the (new) duration, if the checkpoint is past it.
    half_counts: Option<Vec<u64>>,
}

/// Continues the run in `out` from its last checkpoint (or from the start, if it was killed
/// before writing one) to its end, or to `until_ms` (which may extend a completed run), with
/// output identical to a run that was never interrupted. Refuses a run that is still being
/// written, that ended in a runaway or divergence, or a checkpoint of another config or version.
pub fn resume(out: &Path, until_ms: Option<f64>, options: ExecuteOptions<'_>) -> Result<RunSummary, String> {
    let meta_path = out.join("meta.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| format!("cannot read {}: {e}", meta_path.display()))?;
    let meta: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", meta_path.display()))?;
    let status = meta["status"].as_str().unwrap_or("?");
    if status == "running"
        && let Some(pid) = crate::writer_alive(&meta)
    {
        return Err(format!("{} is still being written by process {pid}", out.display()));
    }
    if status == "completed" && until_ms.is_none() {
        return Err(format!(
            "{} is complete (t = {} ms); give --until-ms T to extend it",
            out.display(),
            meta["simulated_ms"]
        ));
    }
    if matches!(status, "runaway" | "diverged") {
        return Err(format!(
            "{} stopped because of its dynamics ({status}: {}); continuing would stop again — change the config and start a new run",
            out.display(),
            meta["stop_reason"].as_str().unwrap_or("?")
        ));
    }
    let config_path = out.join("config.resolved.toml");
    let config =
        std::fs::read_to_string(&config_path).map_err(|e| format!("cannot read {}: {e}", config_path.display()))?;
    let mut spec = NetworkSpec::from_toml(&config).map_err(|e| format!("{}: {e}", config_path.display()))?;
    if let Some(until) = until_ms {
        spec.duration_ms = until;
        spec.validate().map_err(|e| format!("--until-ms {until}: {e}"))?;
    }
    let started = Instant::now();
    let mut sim = Simulation::new(&spec, options.sim.clone()).map_err(|e| e.to_string())?;
    let checkpoint = Checkpoint::read_latest(&out.join(CHECKPOINT_FILE)).map_err(|e| format!("cannot resume: {e}"))?;
    let Some((checkpoint, fallback)) = checkpoint else {
        // Killed before its first checkpoint: nothing to continue; run it again from the start.
        let build_s = started.elapsed().as_secs_f64();
        let dir = RunDirectory::create(out, &spec.to_resolved_toml())
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        return drive(&spec, sim, dir, None, build_s, options);
    };
    if let Some(why) = fallback {
        eprintln!("note: resuming from the previous checkpoint ({why})");
    }
    if until_ms.is_some_and(|u| u < checkpoint.time_ms()) {
        return Err(format!(
            "--until-ms {} is before the last checkpoint (t = {} ms)",
            spec.duration_ms,
            checkpoint.time_ms()
        ));
    }
    sim.restore(&checkpoint)
        .map_err(|e| format!("cannot resume {}: {e}", out.display()))?;
    let positions: BTreeMap<String, u64> = checkpoint
        .attachment("streams")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .ok_or_else(|| format!("cannot resume: {CHECKPOINT_FILE} has no stream positions"))?;
    let half_ms = spec.duration_ms / 2.0;
    let half_counts = match checkpoint.attachment("half") {
        _ if checkpoint.time_ms() < half_ms - 1e-9 => None,
        Some(h) if h["at_ms"].as_f64() == Some(half_ms) => serde_json::from_value(h["counts"].clone()).ok(),
        // Extended to less than twice the duration it had: count from the spikes on disk.
        _ => spike_counts_until(out, &sim, half_ms, positions.get("spike_times_ms.npy").copied()),
    };
    if until_ms.is_some() {
        write_atomic(&config_path, spec.to_resolved_toml().as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
    }
    let dir = RunDirectory::reopen(out, positions).map_err(|e| format!("cannot resume {}: {e}", out.display()))?;
    let build_s = started.elapsed().as_secs_f64();
    let resumed = Resumed {
        from_ms: checkpoint.time_ms(),
        half_counts,
    };
    drive(&spec, sim, dir, Some(resumed), build_s, options)
}

/// Spike counts per population at times ≤ `t_ms`, from the first `len` spikes on disk.
fn spike_counts_until(out: &Path, sim: &Simulation, t_ms: f64, len: Option<u64>) -> Option<Vec<u64>> {
    let len = len? as usize;
    // The stream as written so far, finished or not.
    let read = |name: &str, dtype: &str| {
        let path = [out.join(name), crate::part_path(&out.join(name))]
            .into_iter()
            .find(|p| p.exists())?;
        PartArray::read(&path, (dtype, 1)).ok()
    };
    let (times, ids) = (
        read("spike_times_ms.npy", "<f8")?.f64s(),
        read("spike_ids.npy", "<u4")?.u32s(),
    );
    if times.len() < len || ids.len() < len {
        return None;
    }
    let layout = sim.layout();
    let mut counts = vec![0u64; layout.populations.len()];
    for (&t, &id) in times[..len].iter().zip(&ids[..len]) {
        if t <= t_ms + 1e-9 {
            counts[layout.population_of(id as usize)] += 1;
        }
    }
    Some(counts)
}

/// Writes checkpoints of a run directory on a background thread, one at a time, so that the run
/// does not wait for the disk: the state is copied and the streams flushed on the calling
/// thread, then the streams' data is forced to the disk and only after that is the checkpoint
/// that refers to it written (atomically) and made the current one.
struct CheckpointWriter {
    pending: Option<std::thread::JoinHandle<Result<(), String>>>,
    /// Checkpoints started, and the wall time the run spent on them (s).
    count: usize,
    wall_s: f64,
}

impl CheckpointWriter {
    fn new() -> Self {
        Self {
            pending: None,
            count: 0,
            wall_s: 0.0,
        }
    }

    /// Starts a checkpoint of `sim` whose stream positions are those of `dir` now (after the
    /// previous one is complete).
    fn start(&mut self, sim: &Simulation, dir: &mut RunDirectory, half: Option<(f64, &[u64])>) -> Result<(), SimError> {
        let started = Instant::now();
        self.wait()?;
        let files = dir.flush()?;
        let mut checkpoint = sim.checkpoint();
        checkpoint.attach("streams", json!(dir.positions()));
        if let Some((at_ms, counts)) = half {
            checkpoint.attach("half", json!({"at_ms": at_ms, "counts": counts}));
        }
        let path = dir.root().join(CHECKPOINT_FILE);
        self.pending = Some(std::thread::spawn(move || {
            for f in files {
                f.sync_data()
                    .map_err(|e| format!("cannot force the arrays to the disk: {e}"))?;
            }
            checkpoint.write(&path).map_err(|e| e.to_string())
        }));
        self.count += 1;
        self.wall_s += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Waits for the checkpoint being written, if any.
    fn wait(&mut self) -> Result<(), SimError> {
        let started = Instant::now();
        let result = match self.pending.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err("the checkpoint writer panicked".into())),
            None => Ok(()),
        };
        self.wall_s += started.elapsed().as_secs_f64();
        result.map_err(|e| SimError::Sink(std::io::Error::other(format!("cannot write the checkpoint: {e}"))))
    }
}

/// The loop shared by [`execute`] and [`resume`]: steps `sim` to the end of `spec` into `dir`.
fn drive(
    spec: &NetworkSpec,
    mut sim: Simulation,
    mut dir: RunDirectory,
    resumed: Option<Resumed>,
    build_s: f64,
    options: ExecuteOptions<'_>,
) -> Result<RunSummary, String> {
    let out = dir.root().to_path_buf();
    let mut meta = describe_run(spec, &sim);
    meta["status"] = json!(RunStatus::Running);
    // Who writes it: `recover` must not touch a run that is still going.
    meta["pid"] = json!(std::process::id());
    meta["host"] = json!(crate::host());
    if let Some(r) = &resumed {
        meta["resumed_from_ms"] = json!(r.from_ms);
    }
    dir.write_meta(&meta)
        .map_err(|e| format!("cannot write meta.json: {e}"))?;

    let run_started = Instant::now();
    let slice_ms = (spec.dt_ms * 1000.0).max(100.0);
    let half_ms = spec.duration_ms / 2.0;
    let every_ms = spec.checkpoint.every_ms;
    let next_after = |t: f64| {
        if every_ms > 0.0 {
            ((t / every_ms + 1e-9).floor() + 1.0) * every_ms
        } else {
            f64::INFINITY
        }
    };
    let mut next_checkpoint_ms = next_after(sim.time_ms());
    let mut checkpoints = CheckpointWriter::new();
    let mut half_counts = resumed.and_then(|r| r.half_counts);
    // Resumed past the half without counts for it (an extension without recorded spikes).
    let half_unknown = half_counts.is_none() && sim.time_ms() > half_ms + 1e-9;
    // Opens (or reopens) the sink's streams, even if there is no step left to run.
    if let Err(e) = sim.run_for(0.0, &mut dir) {
        return Err(format!("cannot write {}: {e}", out.display()));
    }
    let mut last_counts = sim.spike_counts().to_vec();
    let mut outcome: Result<(), SimError> = Ok(());
    while !sim.is_finished() {
        if options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
        // Writes into a deleted directory succeed (the files live on, unreachable): notice.
        if !out.is_dir() {
            outcome = Err(SimError::Sink(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "the run directory {} has vanished (deleted, moved or unmounted) at t = {} ms",
                    out.display(),
                    sim.time_ms()
                ),
            )));
            break;
        }
        // Land exactly on the half so that the second-half rates are exact.
        let step_ms = if half_counts.is_none() && sim.time_ms() < half_ms {
            slice_ms.min(half_ms - sim.time_ms())
        } else {
            slice_ms
        };
        // `run_for` may run past the configured end: stop there.
        let left_ms = (sim.total_steps() - sim.steps_done()) as f64 * spec.dt_ms;
        if let Err(e) = sim.run_for(step_ms.max(spec.dt_ms).min(left_ms), &mut dir) {
            outcome = Err(e);
            break;
        }
        if half_counts.is_none() && !half_unknown && sim.time_ms() >= half_ms - 1e-9 {
            half_counts = Some(sim.spike_counts().to_vec());
        }
        if sim.time_ms() >= next_checkpoint_ms - 1e-9 && !sim.is_finished() {
            let half = half_counts.as_deref().map(|c| (half_ms, c));
            if let Err(e) = checkpoints.start(&sim, &mut dir, half) {
                outcome = Err(e);
                break;
            }
            next_checkpoint_ms = next_after(sim.time_ms());
        }
        let now = sim.spike_counts().to_vec();
        let rates = rates_hz(&sim, &now, &last_counts, step_ms * 1e-3);
        last_counts = now;
        (options.on_slice)(&sim, &rates);
    }
    let run_s = run_started.elapsed().as_secs_f64();

    // A write that failed because the directory went away says so.
    if matches!(outcome, Err(SimError::Sink(_))) && !out.is_dir() {
        return Err(format!(
            "the run directory {} has vanished (deleted, moved or unmounted) at t = {} ms; nothing more can be written to it",
            out.display(),
            sim.time_ms()
        ));
    }
    let mut status = match &outcome {
        Ok(()) if sim.is_finished() => RunStatus::Completed,
        Ok(()) => RunStatus::Interrupted,
        Err(SimError::Runaway { .. }) => RunStatus::Runaway,
        Err(SimError::Diverged { .. }) => RunStatus::Diverged,
        Err(_) => RunStatus::Failed,
    };
    // A run that ended or was stopped can be continued (or extended) from where it is.
    if outcome.is_ok() {
        let half = half_counts.as_deref().map(|c| (half_ms, c));
        outcome = checkpoints.start(&sim, &mut dir, half);
    }
    // Every checkpoint is whole (or failed) before the arrays are finished.
    if let Err(e) = checkpoints.wait() {
        outcome = outcome.and(Err(e));
    }
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
        checkpoints: (checkpoints.count, checkpoints.wall_s),
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
    meta["timings"] = json!({"build_s": build_s, "run_s": run_s, "wall_s_per_simulated_s": summary.wall_s_per_simulated_s(),
               "checkpoints": checkpoints.count, "checkpoint_s": checkpoints.wall_s});
    meta["summary"] = json!({
        "rates_hz": by_name(&summary.rates_hz),
        "rates_second_half_hz": summary.rates_second_half_hz.as_deref().map(by_name),
        "plastic_weights": weights,
    });
    meta["files"] = json!(dir.files());
    dir.write_meta(&meta).map_err(|e| {
        let checkpoint = Checkpoint::read_latest(&out.join(CHECKPOINT_FILE))
            .ok()
            .flatten()
            .map_or("the start".to_string(), |(c, _)| format!("its last checkpoint (t = {} ms)", c.time_ms()));
        format!(
            "{}meta.json could not be updated either ({e}); what was recorded is in {}; once the cause is fixed, `pbn resume {}` continues from {checkpoint}",
            summary.stop_reason.as_deref().map_or(String::new(), |r| format!("{r}\n")),
            out.display(),
            out.display(),
        )
    })?;
    Ok(summary)
}
