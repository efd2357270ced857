//! Runs that survive: a run killed (SIGKILL) or stopped (SIGTERM) at any moment — while
//! stepping, while writing a checkpoint, while finishing — and resumed with `pbn resume` ends
//! with the same bytes as a run that was never interrupted; a finished run extended with
//! `--until-ms` equals a longer run; checkpoints of another config, another version or damaged
//! ones are refused.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

fn pbn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pbn")).args(args).output().unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A plastic network whose run takes about a second here, with a checkpoint every 300 ms of
/// simulated time (so that kills often land during a checkpoint write) and every recorder on.
const SETS: [&str; 6] = [
    "n=1000",
    "record.weight_interval_ms=10",
    "record.neuron_interval_ms=5",
    "checkpoint.every_ms=300",
    "inputs.0.correlation=0.05",
    "guard.window_ms=100",
];

fn run_args(out: &Path, duration_ms: u64) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        example("istdp_i_to_e.toml"),
        "--quiet".into(),
        "--out".into(),
        out.to_str().unwrap().into(),
        "--set".into(),
        format!("duration_ms={duration_ms}"),
    ];
    for s in SETS {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    args
}

/// Every result file of a run directory with its bytes: the arrays, the resolved config and the
/// final checkpoint (`meta.json` holds timings and process ids, compared by [`meta_core`]).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "meta.json" && n != "checkpoint.bin.prev")
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// meta.json without what differs between any two runs (timings, process, host) or says how the
/// run was made (`resumed_from_ms`).
fn meta_core(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let o = m.as_object_mut().unwrap();
    for key in ["timings", "pid", "host", "resumed_from_ms", "threads"] {
        o.remove(key);
    }
    m
}

fn assert_same_run(dir: &Path, reference: &Path, what: &str) {
    let (a, b) = (results(dir), results(reference));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: the same files"
    );
    for (name, bytes) in &b {
        assert!(a[name] == *bytes, "{what}: {name} differs from the uninterrupted run");
    }
    assert_eq!(meta_core(dir), meta_core(reference), "{what}: meta.json");
}

/// Resumes `dir` until it completes (a resume can itself be killed), checking each exit.
fn resume_to_the_end(dir: &Path, what: &str) {
    let o = pbn(&["resume", dir.to_str().unwrap(), "--quiet", "--threads", "2"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() || stderr.contains("is complete"),
        "{what}: resume failed: {stderr}"
    );
}

/// Starts a run in the background; once it has written meta.json (the network is built),
/// returns it and the moment it started stepping.
fn start(out: &Path, duration_ms: u64) -> (Child, Instant) {
    let child = Command::new(env!("CARGO_BIN_EXE_pbn"))
        .args(run_args(out, duration_ms))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !out.join("meta.json").exists() {
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(Duration::from_millis(1));
    }
    (child, Instant::now())
}

/// Uniform numbers in [0, 1) from a fixed seed (the kill moments, reproducible).
fn moments(seed: u64, count: usize) -> Vec<f64> {
    let mut x = seed;
    (0..count)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn reference(tmp: &Path, duration_ms: u64) -> (std::path::PathBuf, Duration) {
    let out = tmp.join(format!("reference-{duration_ms}"));
    let started = Instant::now();
    let o = pbn(&run_args(&out, duration_ms)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (out, started.elapsed())
}

/// Bytes of spike data on disk so far (finished array or stream).
fn spike_bytes(dir: &Path) -> u64 {
    ["spike_times_ms.npy.part", "spike_times_ms.npy"]
        .iter()
        .find_map(|n| std::fs::metadata(dir.join(n)).ok())
        .map_or(0, |m| m.len())
}

#[test]
fn killed_at_twenty_moments_a_run_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (reference, _) = reference(tmp.path(), 8000);
    let total = spike_bytes(&reference);
    let mut outcomes = BTreeMap::new();
    // Moments by progress (the share of the spikes on disk, so that they do not depend on the
    // machine's speed) plus 0–3 ms, so that kills land in every phase: stepping, flushing,
    // writing a checkpoint, finishing; the last two let the run finish, or nearly.
    let mut fractions = moments(12, 18);
    fractions.extend([0.999, 1.0]);
    for (k, (u, jitter)) in fractions.into_iter().zip(moments(5, 20)).enumerate() {
        let out = tmp.path().join(format!("killed-{k}"));
        let (mut child, _) = start(&out, 8000);
        while spike_bytes(&out) < (u * total as f64) as u64 && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros((jitter * 3000.0) as u64));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let meta = std::fs::read_to_string(out.join("meta.json")).unwrap();
        let state = if status.success() {
            "finished before the kill"
        } else if !out.join("checkpoint.bin").exists() {
            "killed before the first checkpoint"
        } else if out.join("checkpoint.bin.part").exists() {
            "killed while writing a checkpoint"
        } else if meta.contains("\"running\"") {
            "killed while running"
        } else {
            "killed after the final meta.json"
        };
        *outcomes.entry(state).or_insert(0) += 1;
        let what = format!("SIGKILL {k} at {:.1} % of the spikes ({state})", 100.0 * u);
        resume_to_the_end(&out, &what);
        assert_same_run(&out, &reference, &what);
    }
    eprintln!("kill outcomes: {outcomes:?}");
    let killed: usize = outcomes
        .iter()
        .filter(|(k, _)| k.starts_with("killed"))
        .map(|(_, n)| n)
        .sum();
    assert!(killed >= 15, "{outcomes:?}");
}

#[test]
fn stopped_by_sigterm_a_run_checkpoints_and_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (reference, wall) = reference(tmp.path(), 8000);
    for (k, u) in [0.1, 0.45, 0.8].into_iter().enumerate() {
        let out = tmp.path().join(format!("stopped-{k}"));
        let (child, stepping) = start(&out, 8000);
        std::thread::sleep(wall.mul_f64(u).saturating_sub(stepping.elapsed()));
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        if o.status.code() == Some(130) {
            let meta = std::fs::read_to_string(out.join("meta.json")).unwrap();
            assert!(meta.contains("\"interrupted\""));
            // Stopped mid-run, then killed while resuming: still the same bytes in the end.
            let mut resumed = Command::new(env!("CARGO_BIN_EXE_pbn"))
                .args(["resume", out.to_str().unwrap(), "--quiet"])
                .spawn()
                .unwrap();
            std::thread::sleep(wall.mul_f64(0.2));
            resumed.kill().unwrap();
            resumed.wait().unwrap();
        }
        resume_to_the_end(&out, &format!("SIGTERM {k}"));
        assert_same_run(&out, &reference, &format!("SIGTERM {k}"));
    }
}

#[test]
fn a_finished_run_extended_with_until_ms_equals_a_longer_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (reference, wall) = reference(tmp.path(), 8000);
    // Plain extension, to more and to less than twice the duration (the second-half rates of
    // the summary then come from the spikes on disk).
    for first_ms in [3000u64, 5000] {
        let out = tmp.path().join(format!("short-{first_ms}"));
        let o = pbn(&run_args(&out, first_ms).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success());
        let o = pbn(&["resume", out.to_str().unwrap(), "--quiet"]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("give --until-ms"));
        let o = pbn(&["resume", out.to_str().unwrap(), "--until-ms", "8000", "--quiet"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_run(&out, &reference, &format!("extended from {first_ms} ms"));
    }
    // An extension killed part way, then resumed.
    for (k, u) in moments(7, 4).into_iter().enumerate() {
        let out = tmp.path().join(format!("extension-{k}"));
        let o = pbn(&run_args(&out, 2000).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success());
        let mut child = Command::new(env!("CARGO_BIN_EXE_pbn"))
            .args(["resume", out.to_str().unwrap(), "--until-ms", "8000", "--quiet"])
            .spawn()
            .unwrap();
        std::thread::sleep(wall.mul_f64(0.1 + 0.7 * u));
        child.kill().unwrap();
        child.wait().unwrap();
        resume_to_the_end(&out, &format!("extension killed {k}"));
        assert_same_run(&out, &reference, &format!("extension killed {k}"));
    }
}

#[test]
fn checkpoints_of_another_config_version_or_damaged_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = pbn(&run_args(&out, 1000).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success());
    let resume = |extra: &str| {
        let o = pbn(&["resume", out.to_str().unwrap(), "--until-ms", extra, "--quiet"]);
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let checkpoint = out.join("checkpoint.bin");
    let original = std::fs::read(&checkpoint).unwrap();

    // Another version wrote it (the header edited and the checksum made to match again).
    let text = String::from_utf8_lossy(&original).into_owned();
    let version = format!("\"pbn_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    let at = text.find(&version).unwrap();
    let mut other = original.clone();
    other[at + 15] = if other[at + 15] == b'9' { b'8' } else { b'9' };
    let body = other.len() - 4;
    let crc = crc32fast::hash(&other[..body]).to_le_bytes();
    other[body..].copy_from_slice(&crc);
    std::fs::write(&checkpoint, &other).unwrap();
    let e = resume("2000");
    assert!(e.contains("was written by pbn") && e.contains("bit for bit"), "{e}");

    // Damaged: the newest and the previous one.
    let mut damaged = original.clone();
    damaged[100] ^= 1;
    std::fs::write(&checkpoint, &damaged).unwrap();
    std::fs::write(out.join("checkpoint.bin.prev"), &damaged[..50]).unwrap();
    let e = resume("2000");
    assert!(e.contains("not a valid pbn checkpoint"), "{e}");

    // The config changed under it.
    std::fs::write(&checkpoint, &original).unwrap();
    let config = out.join("config.resolved.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, toml.replacen("seed = 1", "seed = 5", 1)).unwrap();
    let e = resume("2000");
    assert!(e.contains("another config") && e.contains("seed = 5"), "{e}");
    std::fs::write(&config, toml).unwrap();

    // Before the checkpoint, and nonsense.
    let e = resume("500");
    assert!(e.contains("before the last checkpoint"), "{e}");
    let e = resume("1000.05");
    assert!(e.contains("duration_ms"), "{e}");
    // And the intact checkpoint still extends the run.
    let o = pbn(&["resume", out.to_str().unwrap(), "--until-ms", "1500", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_full_disk_stops_the_run_with_a_message_and_it_resumes_once_there_is_room() {
    // A 3 MB file system: needs a tmpfs mount (root); skipped, visibly, where that is not allowed.
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs", small.to_str().unwrap()])
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a small tmpfs here (needs root) to fill a disk");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&small);
    let out = small.join("run");
    let o = pbn(&run_args(&out, 30000).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("No space left on device") && stderr.contains("pbn resume"),
        "{stderr}"
    );
    // Room again: the run continues from its last checkpoint to the uninterrupted bytes.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=64m", small.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(grown.success());
    resume_to_the_end(&out, "after a full disk");
    let (reference, _) = reference(tmp.path(), 30000);
    assert_same_run(&out, &reference, "after a full disk");
}

#[test]
fn a_run_whose_directory_vanishes_stops_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let (child, _) = start(&out, 10_000_000);
    std::thread::sleep(Duration::from_millis(300));
    // Moved away in one step (removing it file by file races with the files the run creates).
    std::fs::rename(&out, tmp.path().join("elsewhere")).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("has vanished"), "{stderr}");
}
