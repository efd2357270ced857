//! The study directory and the local executor.
//!
//! A study directory holds `manifest.json` (the study file's text, the base config, the scale
//! and every point), one ordinary run directory per point under `points/`, and the report. A
//! point is finished when its `meta.json` says so; running the same study into the same
//! directory again runs only the points that are not (an interrupted point restarts from its
//! beginning). The executor only decides where a point runs: its bytes depend on its config and
//! seed alone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pbn_core::SimOptions;
use pbn_rundir::{CHECKPOINT_FILE, ExecuteOptions, RunStatus, RunSummary, execute, resume, write_atomic};
use serde::{Deserialize, Serialize};

use crate::points::{Point, expand, spec_with};
use crate::spec::Study;

/// What a study directory was made for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Study name.
    pub study: String,
    /// Scale (`quick`, `paper`).
    pub scale: String,
    /// The study file's text.
    pub study_text: String,
    /// The base config's text.
    pub config_text: String,
    /// The points.
    pub points: Vec<Point>,
    /// pbn version that made it.
    pub pbn_version: String,
}

/// Where a point stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum PointState {
    /// Not started, interrupted or killed: runs (again) on the next `study run`.
    Pending,
    /// Running now (its `meta.json` says `running`; if no process runs it, it was killed).
    Running,
    /// Finished the whole duration.
    Done,
    /// Stopped for a reason a rerun would meet again (runaway, divergence, bad config).
    Failed(String),
}

/// Creates the study directory for `study` at `scale`, or checks that an existing one holds the
/// same study (same base config, scale and points); returns its manifest. Where only the study
/// file's claims, figures or words changed, the manifest takes the new study file.
pub fn prepare(study: &Study, scale: &str, root: &Path) -> Result<Manifest, String> {
    let manifest = Manifest {
        study: study.name.clone(),
        scale: scale.to_string(),
        study_text: study.text.clone(),
        config_text: study.config_text.clone(),
        points: expand(study, scale)?,
        pbn_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let path = root.join("manifest.json");
    if path.exists() {
        let old = load_manifest(root)?;
        let same_runs = old.study == manifest.study
            && old.scale == manifest.scale
            && old.config_text == manifest.config_text
            && old.points == manifest.points;
        if same_runs && old.study_text != manifest.study_text {
            // Only what is judged or drawn changed (claims, figures, words): every point would run
            // exactly as it did, so its finished run stands and the new claims judge it.
            eprintln!(
                "{}: the study file changed but none of its points did: finished points are kept and judged by \
                 the new claims",
                root.display()
            );
            write_manifest(&path, &manifest)?;
            return Ok(manifest);
        }
        if !same_runs {
            return Err(format!(
                "{} holds {} at scale {} made from a different study file or config; choose another --out or \
                 remove it",
                root.display(),
                old.study,
                old.scale
            ));
        }
        return Ok(old);
    }
    std::fs::create_dir_all(root.join("points")).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    write_manifest(&path, &manifest)?;
    Ok(manifest)
}

fn write_manifest(path: &Path, manifest: &Manifest) -> Result<(), String> {
    let text = serde_json::to_string_pretty(manifest).map_err(|e| e.to_string())?;
    write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a study directory's manifest.
pub fn load_manifest(root: &Path) -> Result<Manifest, String> {
    let path = root.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{} is not a study directory (no readable manifest.json: {e})",
            root.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where a point that failed before it had a run directory (its config cannot be built, its
/// directory cannot be made) keeps the reason, so that every executor reports it and none retries
/// it: `points/pNNN.failed`.
fn failure_note(root: &Path, point: &Point) -> PathBuf {
    root.join(format!("{}.failed", point.dir()))
}

/// The state of a point, from its run directory.
pub fn point_state(root: &Path, point: &Point) -> PointState {
    let meta = root.join(point.dir()).join("meta.json");
    let Ok(text) = std::fs::read_to_string(meta) else {
        if let Ok(why) = std::fs::read_to_string(failure_note(root, point)) {
            return PointState::Failed(why);
        }
        return PointState::Pending;
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
        return PointState::Pending;
    };
    let reason = meta["stop_reason"].as_str().unwrap_or("").to_string();
    match meta["status"].as_str() {
        Some("completed") => PointState::Done,
        Some("running") => PointState::Running,
        Some("runaway") | Some("diverged") => PointState::Failed(reason),
        _ => PointState::Pending,
    }
}

/// The points a run would (re)start: not finished and not failed for good.
pub fn pending<'a>(manifest: &'a Manifest, root: &Path) -> Vec<&'a Point> {
    manifest
        .points
        .iter()
        .filter(|p| matches!(point_state(root, p), PointState::Pending | PointState::Running))
        .collect()
}

/// Progress of a local study run.
pub trait StudyProgress: Sync {
    /// `ms` more simulated time somewhere.
    fn advanced(&self, ms: f64);
    /// A point ended.
    fn point_ended(&self, point: &Point, state: &PointState, wall_s: f64);
}

/// How to run a study's points on this machine.
pub struct LocalOptions<'a> {
    /// Points running at the same time.
    pub jobs: usize,
    /// Threads per point (results are the same for any number).
    pub threads: usize,
    /// Stops every running point between slices (their directories restart on the next run).
    pub stop: &'a AtomicBool,
    /// Progress display.
    pub progress: &'a dyn StudyProgress,
}

/// Runs every point of the manifest that is not finished, `jobs` at a time; returns the state of
/// every point afterwards.
pub fn run_local(study: &Study, manifest: &Manifest, root: &Path, options: &LocalOptions<'_>) -> Vec<PointState> {
    let pending = pending(manifest, root);
    let next = AtomicUsize::new(0);
    let workers = options.jobs.clamp(1, pending.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if options.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(point) = pending.get(k) else { break };
                    let started = std::time::Instant::now();
                    let state = run_point(study, point, root, options);
                    options
                        .progress
                        .point_ended(point, &state, started.elapsed().as_secs_f64());
                }
            });
        }
    });
    manifest.points.iter().map(|p| point_state(root, p)).collect()
}

/// Runs one point: continues an interrupted or killed one from its checkpoint (`resume`), or
/// runs it into a fresh run directory (a partial one that cannot be continued is removed). A
/// point that fails before it has a run directory leaves the reason in `points/pNNN.failed`.
pub fn run_point(study: &Study, point: &Point, root: &Path, options: &LocalOptions<'_>) -> PointState {
    let state = run_point_in_place(study, point, root, options);
    if let PointState::Failed(why) = &state
        && !root.join(point.dir()).join("meta.json").exists()
    {
        // Best effort: if even this cannot be written, the caller still gets the state.
        let _ = write_atomic(&failure_note(root, point), why.as_bytes());
    }
    state
}

fn run_point_in_place(study: &Study, point: &Point, root: &Path, options: &LocalOptions<'_>) -> PointState {
    let dir: PathBuf = root.join(point.dir());
    if dir.join(CHECKPOINT_FILE).exists() {
        let mut last_ms = 0.0;
        let mut on_slice = |sim: &pbn_core::Simulation, _: &[f64]| {
            options.progress.advanced(sim.time_ms() - last_ms);
            last_ms = sim.time_ms();
        };
        let threads = options.threads.max(1);
        let resumed = resume(
            &dir,
            None,
            ExecuteOptions {
                sim: SimOptions {
                    threads,
                    expected_rates_hz: spec_with(study, &point.sets)
                        .ok()
                        .and_then(|spec| pbn_theory::balance::initial_rates_hz(&spec)),
                },
                stop: Some(options.stop),
                on_slice: &mut on_slice,
            },
        );
        if let Ok(summary) = resumed {
            return outcome(summary);
        }
        // Not resumable (e.g. killed before its first checkpoint was whole): run it afresh.
    }
    if dir.exists()
        && let Err(e) = std::fs::remove_dir_all(&dir)
    {
        return PointState::Failed(format!("cannot remove the unfinished {}: {e}", dir.display()));
    }
    let spec = match spec_with(study, &point.sets) {
        Ok(s) => s,
        Err(e) => return PointState::Failed(e),
    };
    let mut last_ms = 0.0;
    let mut on_slice = |sim: &pbn_core::Simulation, _: &[f64]| {
        options.progress.advanced(sim.time_ms() - last_ms);
        last_ms = sim.time_ms();
    };
    let sim = SimOptions {
        threads: options.threads.max(1),
        expected_rates_hz: pbn_theory::balance::initial_rates_hz(&spec),
    };
    match execute(
        &spec,
        &dir,
        ExecuteOptions {
            sim,
            stop: Some(options.stop),
            on_slice: &mut on_slice,
        },
    ) {
        Ok(summary) => outcome(summary),
        Err(e) => PointState::Failed(e),
    }
}

/// A point's state after its run ended this way.
fn outcome(summary: RunSummary) -> PointState {
    match summary.status {
        RunStatus::Completed => PointState::Done,
        RunStatus::Runaway | RunStatus::Diverged => PointState::Failed(summary.stop_reason.unwrap_or_default()),
        _ => PointState::Pending,
    }
}
