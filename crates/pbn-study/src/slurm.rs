//! The Slurm executor: a study's unfinished points as one job array, through Slurm's own
//! commands (`sbatch`, `squeue`, `scancel`, `scontrol`).
//!
//! Each submission writes, under the study directory's `slurm/`, the array's batch script
//! (`job-K.sh`, readable and editable: `sbatch slurm/job-K.sh` submits it by hand) and the points
//! each array task runs (`tasks-K.json`), and appends the job to `submissions.json`. An array
//! task runs `pbn study run-point DIR --tasks slurm/tasks-K.json --task $SLURM_ARRAY_TASK_ID`
//! as a job step (`srun`), so that `scancel --signal=TERM`, a time limit (`--signal=TERM@120`
//! asks for SIGTERM two minutes before it) and preemption reach it: it writes its checkpoint and
//! exits, and the requeued task — or the next `pbn study run` — continues from it. Whatever ran a
//! point, its directory holds the same bytes: they depend on the point's config and seed alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::executor::Manifest;
use crate::points::Point;

/// How to submit.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (HH:MM:SS or any form sbatch takes).
    pub time: Option<String>,
    /// `--cpus-per-task`; each point runs with this many threads.
    pub cpus_per_task: usize,
    /// `--mem` (e.g. `4G`).
    pub mem: Option<String>,
    /// At most this many array tasks at once (`--array=…%J`).
    pub max_parallel: Option<usize>,
    /// Further sbatch arguments, each written as an `#SBATCH` line.
    pub sbatch_args: Vec<String>,
    /// Points per array task (run one after the other), so that tiny points are not one
    /// scheduler job each.
    pub points_per_task: usize,
    /// The `pbn` binary the tasks run.
    pub pbn: PathBuf,
}

/// One submitted job array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Slurm's job id of the array.
    pub job_id: String,
    /// Its batch script, relative to the study directory.
    pub script: String,
    /// The point indices of each array task.
    pub tasks: Vec<Vec<usize>>,
    /// When it was submitted (Unix seconds).
    pub submitted_unix_s: f64,
    /// Wall time of the `sbatch` call (s).
    pub sbatch_s: f64,
}

/// The state of an array task in Slurm's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedTask {
    /// Array job id.
    pub job_id: String,
    /// Task index (`None` for a line that stands for a pending range).
    pub task: Option<usize>,
    /// `PENDING`, `RUNNING`, `REQUEUED`, …
    pub state: String,
}

fn slurm_dir(root: &Path) -> PathBuf {
    root.join("slurm")
}

/// Whether Slurm's commands are here and answer.
pub fn available() -> Result<(), String> {
    let out = Command::new("sinfo")
        .args(["-h", "-o", "%P %T"])
        .output()
        .map_err(|e| format!("Slurm's `sinfo` cannot be run ({e}): is Slurm installed on this machine?"))?;
    if !out.status.success() {
        return Err(format!(
            "Slurm does not answer: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The submissions made into this study directory so far.
pub fn submissions(root: &Path) -> Result<Vec<Submission>, String> {
    let path = slurm_dir(root).join("submissions.json");
    if !path.exists() {
        return Ok(vec![]);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The array tasks of `job_ids` still in Slurm's queue (pending, running, requeued, …).
pub fn queued(job_ids: &[String]) -> Result<Vec<QueuedTask>, String> {
    if job_ids.is_empty() {
        return Ok(vec![]);
    }
    let out = Command::new("squeue")
        .args(["-h", "-r", "-o", "%i|%T", "-j", &job_ids.join(",")])
        .output()
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // squeue fails for jobs it has already forgotten: nothing of them is queued.
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("Invalid job id") {
            return Ok(vec![]);
        }
        return Err(format!("squeue failed: {}", stderr.trim()));
    }
    Ok(text
        .lines()
        .filter_map(|line| {
            let (id, state) = line.split_once('|')?;
            let (job, task) = id.split_once('_').unwrap_or((id, ""));
            Some(QueuedTask {
                job_id: job.to_string(),
                task: task.parse().ok(),
                state: state.trim().to_string(),
            })
        })
        .collect())
}

/// Points that belong to array tasks still queued or running (not to be submitted again).
pub fn points_in_queue(root: &Path) -> Result<Vec<usize>, String> {
    let subs = submissions(root)?;
    let ids: Vec<String> = subs.iter().map(|s| s.job_id.clone()).collect();
    let mut points = vec![];
    for q in queued(&ids)? {
        let Some(sub) = subs.iter().find(|s| s.job_id == q.job_id) else {
            continue;
        };
        match q.task {
            Some(t) => points.extend(sub.tasks.get(t).into_iter().flatten().copied()),
            // A pending range we cannot read: keep every point of the array.
            None => points.extend(sub.tasks.iter().flatten().copied()),
        }
    }
    points.sort_unstable();
    points.dedup();
    Ok(points)
}

/// The batch script of a submission.
fn script(manifest: &Manifest, root: &Path, tasks_file: &Path, n_tasks: usize, options: &SlurmOptions) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!(
            "# pbn study {} (scale {}) in {}: {} array task(s).",
            manifest.study,
            manifest.scale,
            root.display(),
            n_tasks
        ),
        "# Written by `pbn study run --executor slurm`. Each task runs its points (listed in the tasks".into(),
        "# file) one after the other, continuing any from its checkpoint; on SIGTERM (scancel --signal,".into(),
        "# time limit, preemption) it checkpoints and exits. Submit it again by hand with sbatch, or let".into(),
        "# `pbn study run ... --executor slurm` resubmit only the unfinished points.".into(),
        format!("#SBATCH --job-name=pbn-{}", manifest.study),
        format!(
            "#SBATCH --array=0-{}{}",
            n_tasks.saturating_sub(1),
            options.max_parallel.map_or(String::new(), |j| format!("%{j}"))
        ),
        format!("#SBATCH --cpus-per-task={}", options.cpus_per_task.max(1)),
        "#SBATCH --ntasks=1".into(),
        format!("#SBATCH --output={}/slurm/logs/%A_%a.out", root.display()),
        "#SBATCH --requeue".into(),
        "#SBATCH --signal=TERM@120".into(),
    ];
    if let Some(p) = &options.partition {
        lines.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(t) = &options.time {
        lines.push(format!("#SBATCH --time={t}"));
    }
    if let Some(m) = &options.mem {
        lines.push(format!("#SBATCH --mem={m}"));
    }
    for a in &options.sbatch_args {
        lines.push(format!("#SBATCH {a}"));
    }
    lines.push(String::new());
    lines.push(format!(
        "srun --kill-on-bad-exit=1 '{}' study run-point '{}' --tasks '{}' --task \"$SLURM_ARRAY_TASK_ID\" --threads {}",
        options.pbn.display(),
        root.display(),
        tasks_file.display(),
        options.cpus_per_task.max(1)
    ));
    lines.join("\n") + "\n"
}

/// Submits `pending` as one job array (`points_per_task` points per task) and records it.
pub fn submit(
    manifest: &Manifest,
    root: &Path,
    pending: &[&Point],
    options: &SlurmOptions,
) -> Result<Submission, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", root.display()))?;
    let dir = slurm_dir(&root);
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut subs = submissions(&root)?;
    let k = subs.len();
    let tasks: Vec<Vec<usize>> = pending
        .chunks(options.points_per_task.max(1))
        .map(|c| c.iter().map(|p| p.index).collect())
        .collect();
    let tasks_file = dir.join(format!("tasks-{k}.json"));
    let script_file = dir.join(format!("job-{k}.sh"));
    let write = |path: &Path, text: &str| {
        pbn_rundir::write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&tasks_file, &serde_json::to_string(&tasks).map_err(|e| e.to_string())?)?;
    write(
        &script_file,
        &script(manifest, &root, &tasks_file, tasks.len(), options),
    )?;
    let started = std::time::Instant::now();
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script_file)
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    let sbatch_s = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "sbatch refused {}: {}",
            script_file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job_id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if job_id.is_empty() {
        return Err(format!("sbatch printed no job id: {stdout}"));
    }
    let submission = Submission {
        job_id,
        script: format!("slurm/job-{k}.sh"),
        tasks,
        submitted_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        sbatch_s,
    };
    subs.push(submission.clone());
    write(
        &dir.join("submissions.json"),
        &serde_json::to_string_pretty(&subs).map_err(|e| e.to_string())?,
    )?;
    Ok(submission)
}

/// The points array task `task` of the tasks file `tasks_file` runs.
pub fn task_points(tasks_file: &Path, task: usize) -> Result<Vec<usize>, String> {
    let text = std::fs::read_to_string(tasks_file).map_err(|e| format!("cannot read {}: {e}", tasks_file.display()))?;
    let tasks: Vec<Vec<usize>> = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", tasks_file.display()))?;
    tasks.get(task).cloned().ok_or_else(|| {
        format!(
            "{} has {} tasks; there is no task {task}",
            tasks_file.display(),
            tasks.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_asks_for_what_the_options_say() {
        let manifest = Manifest {
            study: "manifold".into(),
            scale: "quick".into(),
            study_text: String::new(),
            config_text: String::new(),
            points: vec![],
            pbn_version: "0".into(),
        };
        let options = SlurmOptions {
            partition: Some("short".into()),
            time: Some("01:00:00".into()),
            cpus_per_task: 2,
            mem: Some("4G".into()),
            max_parallel: Some(3),
            sbatch_args: vec!["--account=lab".into()],
            points_per_task: 1,
            pbn: PathBuf::from("/opt/pbn"),
        };
        let s = script(
            &manifest,
            Path::new("/s"),
            Path::new("/s/slurm/tasks-0.json"),
            5,
            &options,
        );
        for line in [
            "#SBATCH --array=0-4%3",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --partition=short",
            "#SBATCH --time=01:00:00",
            "#SBATCH --mem=4G",
            "#SBATCH --account=lab",
            "#SBATCH --requeue",
            "srun --kill-on-bad-exit=1 '/opt/pbn' study run-point '/s' --tasks '/s/slurm/tasks-0.json' --task \"$SLURM_ARRAY_TASK_ID\" --threads 2",
        ] {
            assert!(s.lines().any(|l| l == line), "missing `{line}` in\n{s}");
        }
    }
}
