//! Fuzzing configs and `--set` overrides (library level): whatever the config, parsing,
//! validation, the memory estimate, building and running either refuse it with a clear message
//! or finish (or are stopped by the runaway guard or a divergence, with a message) — no panic,
//! no abort, no hang. Configs come from the examples with random overrides and from a generator
//! of structurally valid but extreme configs (`fuzz_support`); valid ones that are small enough
//! are simulated with a `MemorySink`.
//!
//! The seed is fixed (reproducible in CI); `PBN_FUZZ_CASES=50000` fuzzes longer,
//! `PBN_FUZZ_SEED=N` elsewhere, and `PBN_FUZZ_VERBOSE=1` prints every case with its outcome. A
//! failure prints the shrunk case in the corpus format of `tests/fuzz_corpus/`: every case found
//! is kept there and checked by `corpus_cases_give_a_clear_error_or_a_finished_run`.

mod fuzz_support;

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fuzz_support::{Case, any_case, parse_corpus, too_large};
use pbn_core::spec::SpecErrors;
use pbn_core::{MemoryEstimate, MemorySink, NetworkSpec, SimError, SimOptions, Simulation};
use proptest::test_runner::{TestCaseError, TestRunner};

/// Generated cases per CI run (about 15 s in --release on two cores).
const CASES: u32 = 4000;

/// A run that has not finished after this long hangs (the runs are sized for milliseconds).
const TIMEOUT: Duration = Duration::from_secs(30);

/// How a case ended (all fine).
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Invalid config, with its message.
    Refused(String),
    /// Valid, but too large to simulate here.
    TooLarge,
    /// Simulated to the end.
    Completed,
    /// Stopped by the runaway guard or a divergence, with its message.
    Stopped(String),
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// `f()`, with a panic turned into a bug report.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| format!("panicked while {what}: {}", panic_message(&*p)))
}

/// Every error names a key, a value and what is allowed (or is a syntax error with a message).
fn check_errors(errors: &SpecErrors) -> Result<String, String> {
    let msg = errors.to_string();
    if errors.0.is_empty() {
        return Err("refused without any error".into());
    }
    for e in &errors.0 {
        let ok = if e.key.is_empty() {
            !e.allowed.trim().is_empty()
        } else {
            !e.value.is_empty() && !e.allowed.trim().is_empty()
        };
        if !ok {
            return Err(format!("unclear error {e:?} in:\n{msg}"));
        }
    }
    Ok(msg)
}

/// Builds and runs `spec` to its end as `pbn run` does (final weights and weight statistics
/// included), and checks what was recorded.
fn simulate(spec: &NetworkSpec, threads: usize, expected_rates_hz: Option<Vec<f64>>) -> Result<Outcome, String> {
    let options = SimOptions {
        threads,
        expected_rates_hz,
    };
    let mut sim = Simulation::new(spec, options).map_err(|e| format!("a valid config does not build: {e}"))?;
    let mut sink = MemorySink::default();
    let outcome = match sim.run(&mut sink) {
        Ok(()) if sim.is_finished() => Outcome::Completed,
        Ok(()) => return Err(format!("run returned at t = {} ms, before the end", sim.time_ms())),
        Err(e @ (SimError::Runaway { .. } | SimError::Diverged { .. })) => Outcome::Stopped(e.to_string()),
        Err(e) => return Err(format!("unexpected error: {e}")),
    };
    if spec.record.final_weights {
        sim.write_final_weights(&mut sink)
            .map_err(|e| format!("final weights into memory failed: {e}"))?;
    }
    for (i, _, _) in sim.plastic_projections() {
        sim.weight_stats(i);
    }
    let n = sim.layout().n;
    if let Some(id) = sink.spike_ids.iter().find(|&&id| id as usize >= n) {
        return Err(format!("spike of neuron {id}, but N = {n}"));
    }
    let end = sim.time_ms() + 1e-9;
    if let Some(t) = sink.spike_times_ms.iter().find(|&&t| !(t > 0.0 && t <= end)) {
        return Err(format!("spike at t = {t} ms outside (0, {end}]"));
    }
    Ok(outcome)
}

/// `simulate` on another thread, so that a hang is a failure rather than a stuck test (the
/// hanging thread is left behind).
fn simulate_in_time(spec: NetworkSpec, threads: usize, rates_hz: Option<Vec<f64>>) -> Result<Outcome, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(guarded("simulating", || simulate(&spec, threads, rates_hz)));
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(result) => result?,
        Err(_) => Err(format!(
            "no result after {} s: the run hangs (or is far slower than its size)",
            TIMEOUT.as_secs()
        )),
    }
}

/// The whole property for one case: `Ok` is a fine outcome, `Err` a bug.
fn check(case: &Case) -> Result<Outcome, String> {
    let parsed = guarded("parsing and validating", || {
        NetworkSpec::from_toml_with_overrides(&case.text, &case.sets)
    })?;
    let spec = match parsed {
        Err(errors) => return check_errors(&errors).map(Outcome::Refused),
        Ok(spec) => spec,
    };
    // The resolved config (written into every run directory) is valid and reads back the same.
    let resolved = guarded("writing the resolved config", || spec.to_resolved_toml())?;
    match guarded("re-reading the resolved config", || NetworkSpec::from_toml(&resolved))? {
        Ok(again) if again.to_resolved_toml() == resolved => {}
        Ok(again) => {
            return Err(format!(
                "the resolved config changes when read back:\n{resolved}\n---\n{}",
                again.to_resolved_toml()
            ));
        }
        Err(e) => return Err(format!("the resolved config is refused: {e}\n{resolved}")),
    }
    // Durations and intervals are whole numbers of steps, at least one.
    let r = &spec.record;
    for (key, v) in [
        ("duration_ms", spec.duration_ms),
        ("record.rate_bin_ms", r.rate_bin_ms),
        ("record.weight_interval_ms", r.weight_interval_ms),
        ("record.neuron_interval_ms", r.neuron_interval_ms),
        ("guard.window_ms", spec.guard.window_ms),
    ] {
        if (v / spec.dt_ms).round() < 1.0 {
            return Err(format!(
                "accepted {key} = {v}, less than one step of dt_ms = {}",
                spec.dt_ms
            ));
        }
    }
    let estimate = guarded("estimating memory", || MemoryEstimate::new(&spec, case.threads))?;
    if estimate.peak_bytes().is_nan() || estimate.peak_bytes() < 0.0 {
        return Err(format!("memory estimate {} B: {estimate:?}", estimate.peak_bytes()));
    }
    guarded("formatting the memory estimate", || estimate.to_string())?;
    if too_large(&spec, &estimate) {
        return Ok(Outcome::TooLarge);
    }
    simulate_in_time(spec, case.threads, case.rates_hz.clone())
}

#[test]
fn generated_configs_and_overrides_never_panic_or_hang() {
    let config = fuzz_support::config(CASES);
    let cases = config.cases;
    let counts: [AtomicUsize; 4] = Default::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&any_case(), |case| {
        let outcome = check(&case).map_err(TestCaseError::fail)?;
        if std::env::var_os("PBN_FUZZ_VERBOSE").is_some() {
            eprintln!("{case:?}=> {outcome:?}");
        }
        let k = match outcome {
            Outcome::Refused(_) => 0,
            Outcome::TooLarge => 1,
            Outcome::Completed => 2,
            Outcome::Stopped(_) => 3,
        };
        counts[k].fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    let [refused, large, completed, stopped] = counts.map(|c| c.into_inner());
    eprintln!(
        "{cases} cases in {:.1} s: {refused} refused, {large} valid but too large to run, {completed} completed, {stopped} stopped by the guard or a divergence",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}\n(the case above is in the format of tests/fuzz_corpus/: add it there once fixed)");
    }
    // The generators reach both the validation and the engine.
    if cases >= 200 {
        assert!(refused * 10 >= cases as usize, "too few invalid configs: {refused}");
        assert!(
            (completed + stopped) * 4 >= cases as usize,
            "too few runs: {}",
            completed + stopped
        );
    }
}

#[test]
fn corpus_cases_give_a_clear_error_or_a_finished_run() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_corpus");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut failures = vec![];
    for path in &paths {
        let (case, expect) = parse_corpus(&std::fs::read_to_string(path).unwrap());
        let name = path.file_name().unwrap().to_string_lossy();
        match (check(&case), expect.as_deref()) {
            (Err(bug), _) => failures.push(format!("{name}: {bug}")),
            (Ok(Outcome::Refused(msg)), Some(needle)) if needle != "ok" && !msg.contains(needle) => {
                failures.push(format!("{name}: message lacks {needle:?}:\n{msg}"))
            }
            (Ok(Outcome::Refused(msg)), Some("ok")) => failures.push(format!("{name}: refused:\n{msg}")),
            (Ok(o), Some(needle)) if needle != "ok" && !matches!(o, Outcome::Refused(_)) => {
                failures.push(format!("{name}: accepted ({o:?}), expected an error with {needle:?}"))
            }
            (Ok(Outcome::TooLarge), Some("ok")) => failures.push(format!("{name}: too large to run here")),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn specs_built_in_code_with_integers_beyond_toml_are_refused() {
    // TOML integers are 64-bit signed: a spec built in code with a larger seed or sample count
    // validated, ran, and wrote a config.resolved.toml that could not be read back ("u64 value
    // was too large").
    for set in [
        |s: &mut NetworkSpec| s.seed = u64::MAX,
        |s: &mut NetworkSpec| s.record.weight_samples = 1 << 63,
        |s: &mut NetworkSpec| s.record.neuron_samples = u64::MAX,
    ] {
        let mut spec = NetworkSpec::default();
        set(&mut spec);
        let e = spec.validate().unwrap_err();
        let msg = check_errors(&e).unwrap();
        assert!(
            msg.contains(": must be at most 9223372036854775807: TOML integers are 64-bit signed"),
            "{msg}"
        );
    }
    let spec = NetworkSpec {
        seed: i64::MAX as u64,
        ..Default::default()
    };
    spec.validate().unwrap();
    assert_eq!(NetworkSpec::from_toml(&spec.to_resolved_toml()).unwrap(), spec);
}
