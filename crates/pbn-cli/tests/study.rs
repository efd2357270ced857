//! End-to-end: `pbn study` runs a study, judges its claims, and resumes after an interruption
//! without redoing finished points; the bundled catalogue parses and expands.

mod common;

use common::tiny_study;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pbn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pbn")).args(args).output().unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// `pbn study run STUDY --out OUT EXTRA…`.
fn run_study(study: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["study", "run", study.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    pbn(&args)
}

fn claims(report: &serde_json::Value) -> Vec<(String, String)> {
    report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_study_judges_its_claims_and_a_false_claim_is_red() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tiny_study(tmp.path(), 3000);
    let out = tmp.path().join("out");
    let o = run_study(&study, &out, &["--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed claim exits with 1: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&out.join("report.json"));
    assert_eq!(
        claims(&report),
        vec![
            ("j_ee grows with beta".to_string(), "pass".to_string()),
            ("a wrong fixed point".to_string(), "fail".to_string())
        ]
    );
    assert_eq!(report["done"], 3);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("| j_ee grows with beta |") && md.contains("**FAIL**"),
        "{md}"
    );
    assert!(out.join("figures/weight.png").exists() && out.join("figures/weight.svg").exists());
    // The report is rebuilt from the finished points alone.
    std::fs::remove_file(out.join("report.json")).unwrap();
    let o = pbn(&["study", "report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(claims(&json(&out.join("report.json"))), claims(&report));
    // Status lists every point.
    let o = pbn(&["study", "status", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("done 3, running 0, pending 0, failed 0"), "{text}");
    // A study whose claims changed but whose points did not re-judges the finished points
    // without running them again: the false claim, corrected, passes.
    let meta = out.join("points/p001/meta.json");
    let before = std::fs::read(&meta).unwrap();
    let fixed = std::fs::read_to_string(&study)
        .unwrap()
        .replace("name = \"a wrong fixed point\"", "name = \"any weight\"")
        .replace(
            "value = -3.0\ntolerance = 0.1",
            "value = 0.0\ntolerance = 1e9\nrelative = false",
        );
    std::fs::write(&study, fixed).unwrap();
    let o = run_study(&study, &out, &["--quiet"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("judged by the new claims"), "{stderr}");
    assert_eq!(std::fs::read(&meta).unwrap(), before, "a finished point was run again");
    let rejudged = claims(&json(&out.join("report.json")));
    assert_eq!(rejudged[1], ("any weight".to_string(), "pass".to_string()));
    // An edited study is not mixed into an old directory.
    std::fs::write(
        &study,
        std::fs::read_to_string(&study).unwrap().replace("n=400", "n=500"),
    )
    .unwrap();
    let o = run_study(&study, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different study file"));
}

#[test]
fn an_interrupted_study_resumes_without_redoing_finished_points() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tiny_study(tmp.path(), 12000);
    let whole = tmp.path().join("whole");
    let o = run_study(&study, &whole, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));

    let cut = tmp.path().join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbn"))
        .args([
            "study",
            "run",
            study.to_str().unwrap(),
            "--out",
            cut.to_str().unwrap(),
            "--jobs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // SIGTERM once the first point is finished, while the second runs.
    let first = cut.join("points/p000/meta.json");
    let started = Instant::now();
    while !std::fs::read_to_string(&first).is_ok_and(|t| t.contains("\"completed\"")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first point never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_written = std::fs::metadata(&first).unwrap().modified().unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted study exits with 130");
    assert!(!cut.join("report.json").exists(), "no report for an unfinished study");
    let o = pbn(&["study", "status", cut.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("done 1,"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // The point that was running stopped at a checkpoint; it is continued, not restarted.
    let second = cut.join("points/p001/meta.json");
    let stopped_at = std::fs::read_to_string(&second)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m["simulated_ms"].as_f64())
        .unwrap_or(0.0);

    let o = run_study(&study, &cut, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    if stopped_at > 0.0 {
        assert_eq!(json(&second)["resumed_from_ms"].as_f64(), Some(stopped_at));
    }
    assert_eq!(
        std::fs::metadata(&first).unwrap().modified().unwrap(),
        first_written,
        "the finished point was not run again"
    );
    // Every point's arrays are the bytes of the uninterrupted study's, and so is the verdict.
    for p in ["p000", "p001", "p002"] {
        for f in [
            "spike_times_ms.npy",
            "spike_ids.npy",
            "weights_E_to_E_mean.npy",
            "final_weights_E_to_E_j.npy",
        ] {
            let a = std::fs::read(whole.join("points").join(p).join(f)).unwrap();
            let b = std::fs::read(cut.join("points").join(p).join(f)).unwrap();
            assert!(a == b, "{p}/{f} differs after the resumed study");
        }
    }
    let (a, b) = (json(&whole.join("report.json")), json(&cut.join("report.json")));
    assert_eq!(a["claims"], b["claims"]);
}

#[test]
fn the_bundled_catalogue_parses_and_expands() {
    let o = pbn(&["study", "list", "--studies", repo("studies").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let stems: Vec<String> = std::fs::read_dir(repo("studies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(stems.iter().any(|s| s == "kohonen_stability"));
    for stem in &stems {
        assert!(text.contains(stem.as_str()), "{stem} is not listed:\n{text}");
    }
    assert!(!text.contains(" ? "), "every study expands at both scales:\n{text}");
}

/// Runs a bundled study at quick scale and requires every claim to pass.
fn bundled_study_passes(name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(name);
    let o = pbn(&[
        "study",
        "run",
        name,
        "--studies",
        repo("studies").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let report = json(&out.join("report.json"));
    let failed: Vec<_> = report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] != "pass")
        .map(|c| format!("{}: {}", c["name"], c["summary"]))
        .collect();
    assert!(failed.is_empty(), "{name}: {failed:#?}");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn learning_windows_of_every_rule_match_the_rule_form() {
    bundled_study_passes("learning_windows");
}

#[test]
fn a_study_that_does_not_fit_in_memory_is_refused_before_it_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tiny_study(tmp.path(), 1000);
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_pbn"))
        .args(["study", "run", study.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("PBN_AVAILABLE_MEMORY", "1M")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("runs at once need") && err.contains("--jobs"), "{err}");
    assert!(!out.join("points/p000/meta.json").exists(), "nothing ran");
}

#[test]
fn istdp_and_its_instability_studies_pass_at_quick_scale() {
    // One network study of each kind in CI: a single long plastic run judged against the theory
    // and the published numbers, and a sweep where one learning-rate ratio must not settle.
    bundled_study_passes("distributions_istdp");
    bundled_study_passes("ei_ii");
}
