//! The Slurm executor against a real Slurm (a one-node cluster: `scripts/slurm-local.sh up`;
//! CI starts one). A study submitted as a job array ends with the local executor's bytes and
//! verdicts; a task stopped by `scancel --signal=TERM` or requeued (`scontrol requeue`, as
//! preemption does) continues from its checkpoint. Skipped, with a message, where Slurm does not
//! answer.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::tiny_study;

fn pbn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pbn")).args(args).output().unwrap()
}

fn slurm_here() -> bool {
    let ok = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !ok {
        eprintln!("SKIPPED: Slurm does not answer here (`scripts/slurm-local.sh up` starts a one-node cluster)");
    }
    ok
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn study_run(study: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "study",
        "run",
        study.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    pbn(&args)
}

/// Every point's result files are the bytes of the local run's, and the verdicts are the same.
fn assert_same_study(dir: &Path, local: &Path) {
    for p in ["p000", "p001", "p002"] {
        let names: Vec<String> = std::fs::read_dir(local.join("points").join(p))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".npy") || n == "config.resolved.toml" || n == "checkpoint.bin")
            .collect();
        assert!(names.len() > 10);
        for n in names {
            let a = std::fs::read(local.join("points").join(p).join(&n)).unwrap();
            let b = std::fs::read(dir.join("points").join(p).join(&n)).unwrap();
            assert!(a == b, "{p}/{n} differs from the local executor's");
        }
    }
    assert_eq!(
        json(&dir.join("report.json"))["claims"],
        json(&local.join("report.json"))["claims"]
    );
}

/// Waits until point `p` of `dir` has written a checkpoint and is still running.
fn wait_mid_run(dir: &Path, p: &str) {
    let started = Instant::now();
    let point = dir.join("points").join(p);
    while !(point.join("checkpoint.bin").exists()
        && std::fs::read_to_string(point.join("meta.json")).is_ok_and(|m| m.contains("\"running\"")))
    {
        assert!(started.elapsed() < Duration::from_secs(120), "{p} never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn job_id(submit: &Output) -> String {
    let stdout = String::from_utf8_lossy(&submit.stdout);
    stdout
        .split("submitted job ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .unwrap_or_else(|| panic!("no job id in {stdout}"))
        .to_string()
}

#[test]
fn a_study_on_slurm_equals_the_local_run() {
    if !slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let study = tiny_study(tmp.path(), 4000);
    let local = tmp.path().join("local");
    // The tiny study has a true and a false claim: a finished study exits with 1.
    assert_eq!(study_run(&study, &local, &[]).status.code(), Some(1));
    // One point per task, and two per task (3 points → 2 tasks).
    for per_task in ["1", "2"] {
        let out = tmp.path().join(format!("slurm-{per_task}"));
        let o = study_run(
            &study,
            &out,
            &["--executor", "slurm", "--points-per-task", per_task, "--wait"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        let tasks = json(&out.join("slurm/submissions.json"))[0]["tasks"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(tasks, if per_task == "1" { 3 } else { 2 });
        assert!(
            std::fs::read_to_string(out.join("slurm/job-0.sh"))
                .unwrap()
                .contains("#SBATCH --array=0-")
        );
        assert_same_study(&out, &local);
        // Nothing left to do: nothing is submitted again.
        let o = study_run(&study, &out, &["--executor", "slurm", "--wait"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(!String::from_utf8_lossy(&o.stdout).contains("submitted job"));
    }
}

#[test]
fn tasks_stopped_by_scancel_or_requeued_continue_from_their_checkpoints() {
    if !slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let study = tiny_study(tmp.path(), 120_000);
    let local = tmp.path().join("local");
    assert_eq!(study_run(&study, &local, &["--jobs", "2"]).status.code(), Some(1));

    let out = tmp.path().join("slurm");
    let submitted = study_run(&study, &out, &["--executor", "slurm"]);
    assert!(
        submitted.status.success(),
        "{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let job = job_id(&submitted);
    // `status` shows the points and the queue's view of the array.
    let status = pbn(&["study", "status", out.to_str().unwrap()]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains(&format!("slurm job {job} (slurm/job-0.sh, 3 task(s))")),
        "{status}"
    );

    // Task 0: SIGTERM through Slurm; the task checkpoints and ends.
    wait_mid_run(&out, "p000");
    // (scancel may report a failure for the batch step while the job step got the signal: what
    // counts is checked below, the point stopped at a checkpoint.)
    let o = Command::new("scancel")
        .args(["--signal=TERM", &format!("{job}_0")])
        .output()
        .unwrap();
    eprintln!("scancel --signal=TERM {job}_0: {}", o.status);
    let started = Instant::now();
    while !Command::new("squeue")
        .args(["-h", "-j", &format!("{job}_0")])
        .output()
        .unwrap()
        .stdout
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the signalled task never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        std::fs::read_to_string(out.join("points/p000/meta.json"))
            .unwrap()
            .contains("\"interrupted\"")
    );
    // Task 1: requeued (what preemption does): SIGTERM, then queued again; released at once
    // instead of after Slurm's requeue delay.
    wait_mid_run(&out, "p001");
    let o = Command::new("scontrol")
        .args(["requeue", &format!("{job}_1")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let started = Instant::now();
    loop {
        let state = Command::new("squeue")
            .args(["-h", "-o", "%T|%r", "-j", &format!("{job}_1")])
            .output()
            .unwrap()
            .stdout;
        let state = String::from_utf8_lossy(&state).trim().to_string();
        if state == "PENDING|BeginTime" {
            let o = Command::new("scontrol")
                .args(["update", &format!("jobid={job}_1"), "StartTime=now"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            break;
        }
        if state.starts_with("RUNNING") && started.elapsed() > Duration::from_secs(1) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the requeued task never came back to the queue: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Resubmits what is unfinished and not queued (point 0), waits for everything, reports.
    let o = study_run(&study, &out, &["--executor", "slurm", "--wait"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("submitted job"));
    for p in ["p000", "p001"] {
        let m = json(&out.join("points").join(p).join("meta.json"));
        assert!(
            m["resumed_from_ms"].as_f64().unwrap_or(0.0) > 0.0,
            "{p} was continued, not restarted: {m}"
        );
    }
    assert_same_study(&out, &local);
}

#[test]
fn a_compare_on_slurm_tabulates_what_a_local_one_does() {
    if !slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/default.toml");
    let compare = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "compare",
            config.to_str().unwrap(),
            "--sizes",
            "300,600",
            "--set",
            "duration_ms=1000",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = pbn(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (local, on_slurm) = (tmp.path().join("local"), tmp.path().join("slurm"));
    compare(&local, &[]);
    compare(&on_slurm, &["--executor", "slurm", "--wait"]);
    assert_eq!(
        std::fs::read(local.join("compare.csv")).unwrap(),
        std::fs::read(on_slurm.join("compare.csv")).unwrap()
    );
}
