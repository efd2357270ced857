//! Fuzzing `pbn run` and `pbn theory` with generated `--set` overrides and configs (the
//! generators of `pbn-core/tests/fuzz_support`): the process exits with 0 or 2 (never a panic's
//! 101, an abort or a signal), names the problem on stderr when it fails, never hangs, and never
//! leaves a run directory whose meta.json still says `running`.
//!
//! Each case is a small network (a generated one, or an example at n = 200 and 50 ms unless an
//! override says otherwise); valid configs too large to run in milliseconds are only given to
//! `pbn theory` (the library suite, `fuzz_configs.rs`, checks them further).
//! `PBN_FUZZ_CASES` and `PBN_FUZZ_SEED` as there.

#[path = "../../pbn-core/tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fuzz_support::{Case, example_case, generated_case, too_large};
use pbn_core::{MemoryEstimate, NetworkSpec};
use proptest::prop_oneof;
use proptest::strategy::Strategy;
use proptest::test_runner::{TestCaseError, TestRunner};

/// Cases per CI run (each two short processes).
const CASES: u32 = 30;

/// A command that has not exited after this long hangs.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Exit {
    code: Option<i32>,
    stderr: String,
}

/// Runs `pbn ARGS` with stdout and stderr into files in `dir`, killing it after `TIMEOUT`.
fn pbn(args: &[String], dir: &Path) -> Result<Exit, String> {
    let (out, err) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbn"))
        .args(args)
        .env("PBN_AVAILABLE_MEMORY", "512M")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            return Err(format!(
                "`pbn {}` still running after {} s",
                args.join(" "),
                TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(&err).unwrap()).into_owned();
    if !matches!(status.code(), Some(0 | 2)) {
        return Err(format!("`pbn {}` ended with {status}:\n{stderr}", args.join(" ")));
    }
    if stderr.contains("panicked") {
        return Err(format!("`pbn {}` panicked:\n{stderr}", args.join(" ")));
    }
    if status.code() == Some(2) && !(stderr.starts_with("error: ") && stderr.trim_end().len() > "error: ".len() + 5) {
        return Err(format!("`pbn {}` failed without saying why:\n{stderr}", args.join(" ")));
    }
    Ok(Exit {
        code: status.code(),
        stderr,
    })
}

/// How a case went (all fine): refused, valid but too large to run here, completed, stopped by
/// the guard or a divergence, refused by `pbn run` only (memory).
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Refused,
    TooLarge,
    Completed,
    Stopped,
    RunRefused,
}

fn check(case: &Case) -> Result<Outcome, String> {
    if case.sets.iter().any(|s| s.contains('\0')) {
        return Ok(Outcome::Refused); // not something a command line can hold
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = match case.example {
        Some(name) => format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR")),
        None => {
            let path = tmp.path().join("config.toml");
            std::fs::write(&path, &case.text).unwrap();
            path.to_string_lossy().into_owned()
        }
    };
    let sets: Vec<String> = case
        .sets
        .iter()
        .flat_map(|s| ["--set".to_string(), s.clone()])
        .collect();

    // Valid but too large to run in milliseconds: the library suite has checked it.
    let spec = NetworkSpec::from_toml_with_overrides(&case.text, &case.sets).ok();
    let runnable = spec
        .as_ref()
        .is_none_or(|s| !too_large(s, &MemoryEstimate::new(s, case.threads)));

    let theory = pbn(
        &[&["theory".to_string(), config.clone()][..], &sets].concat(),
        tmp.path(),
    )?;
    if spec.is_none() && theory.code == Some(0) {
        return Err(format!("`pbn theory` accepted an invalid config:\n{}", theory.stderr));
    }
    if !runnable {
        return Ok(Outcome::TooLarge);
    }
    let out = tmp.path().join("run");
    let args = [
        &[
            "run".to_string(),
            config,
            "--quiet".into(),
            "--threads".into(),
            case.threads.to_string(),
            "--out".into(),
            out.to_string_lossy().into_owned(),
        ][..],
        &sets,
    ]
    .concat();
    let run = pbn(&args, tmp.path())?;
    let status = std::fs::read_to_string(out.join("meta.json")).ok().map(|m| {
        let meta: serde_json::Value = serde_json::from_str(&m).unwrap_or_else(|e| panic!("meta.json: {e}\n{m}"));
        meta["status"].as_str().unwrap_or("(none)").to_string()
    });
    match (run.code, status.as_deref(), &spec) {
        (_, Some("running"), _) => Err(format!(
            "`running` directory left after exit {:?}:\n{}",
            run.code, run.stderr
        )),
        (Some(0), Some("completed"), Some(_)) => Ok(Outcome::Completed),
        (Some(0), s, _) => Err(format!("exit 0 with status {s:?}:\n{}", run.stderr)),
        (Some(2), _, None) if out.exists() => Err(format!("an invalid config left a directory:\n{}", run.stderr)),
        (Some(2), None, None) => Ok(Outcome::Refused),
        (Some(2), None, Some(_)) => Ok(Outcome::RunRefused),
        (Some(2), Some("runaway" | "diverged"), Some(_)) => Ok(Outcome::Stopped),
        (code, s, _) => Err(format!("exit {code:?} with status {s:?}:\n{}", run.stderr)),
    }
}

#[test]
fn pbn_run_and_theory_exit_cleanly_whatever_the_overrides() {
    let config = fuzz_support::config(CASES);
    let cases = config.cases;
    let counts: std::sync::Mutex<std::collections::BTreeMap<String, usize>> = Default::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    // Mostly generated configs: more of them are valid, and it is the runs that can leave a
    // directory behind.
    let cases_strategy = prop_oneof![1 => example_case(), 3 => generated_case()].boxed();
    let result = runner.run(&cases_strategy, |case| {
        let outcome = check(&case).map_err(TestCaseError::fail)?;
        *counts.lock().unwrap().entry(format!("{outcome:?}")).or_default() += 1;
        Ok(())
    });
    eprintln!(
        "{cases} cases in {:.1} s: {:?}",
        started.elapsed().as_secs_f64(),
        counts.lock().unwrap()
    );
    if let Err(e) = result {
        panic!("{e}\n(the case above is in the format of pbn-core/tests/fuzz_corpus/)");
    }
}
