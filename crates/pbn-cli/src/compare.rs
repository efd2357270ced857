//! `pbn compare`: simulation and theory side by side, as N grows or along a parameter.
//!
//! For every value (network size N, or a swept config key) and realization (seed + r) it runs the
//! simulation into `OUT/runs/…`, runs the theory for the very same config, and tabulates each
//! quantity (population rates, mean weights of plastic blocks, mean spike-count covariances over
//! 250 ms windows, diagonal excluded), all over the second half of the run:
//! mean ± SD over realizations, the prediction, and the relative error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use pbn_analysis::run::{AnalyzeOptions, analyze_run};
use pbn_core::{NetworkSpec, SimOptions, Simulation};
use pbn_rundir::{RunData, RunDirectory, write_atomic};
use pbn_theory::{SweepParam, TheoryOptions};
use serde::Serialize;
use serde_json::json;

use crate::config::DEFAULT_CONFIG;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Config file (TOML). Without it, the built-in default network.
    config: Option<PathBuf>,
    /// Network sizes N to run (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000,2000,5000,10000")]
    sizes: Vec<u64>,
    /// Sweep a config key instead of N, e.g. --sweep inputs.0.correlation=0:0.5:6.
    #[arg(long, value_name = "KEY=START:STOP:STEPS")]
    sweep: Option<String>,
    /// Realizations (seeds seed, seed+1, …) per value.
    #[arg(long, default_value_t = 1)]
    realizations: u64,
    /// Override a config key for every run (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Output directory [default: compare/<config name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulations run at the same time [default: number of cores].
    #[arg(long)]
    jobs: Option<usize>,
}

/// One simulation to run.
struct Job {
    value: f64,
    realization: u64,
    spec: NetworkSpec,
    dir: PathBuf,
}

/// What one finished simulation measured: (quantity, value).
type Measured = Vec<(String, f64)>;

/// One row of the comparison.
#[derive(Debug, Clone, Serialize)]
struct Row {
    /// Quantity name, with its unit.
    quantity: String,
    /// N or the swept value.
    x: f64,
    /// Simulated values, one per realization.
    simulated: Vec<f64>,
    /// Mean over realizations.
    mean: f64,
    /// Standard deviation over realizations (0 for one).
    sd: f64,
    /// Theory.
    theory: Option<f64>,
    /// (mean − theory)/|theory|.
    relative_error: Option<f64>,
}

pub fn compare(args: CompareArgs) -> Result<ExitCode, String> {
    let text = match &args.config {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display()))?,
        None => DEFAULT_CONFIG.to_string(),
    };
    let stem = args
        .config
        .as_deref()
        .and_then(|p| p.file_stem())
        .map_or("default".into(), |s| s.to_string_lossy().into_owned());
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("compare").join(&stem));
    let (axis, values): (String, Vec<f64>) = match &args.sweep {
        Some(s) => {
            let p: SweepParam = s.parse().map_err(|e: pbn_theory::TheoryError| e.to_string())?;
            let vals = (0..p.steps)
                .map(|k| {
                    if p.steps == 1 {
                        p.start
                    } else {
                        p.start + (p.stop - p.start) * k as f64 / (p.steps - 1) as f64
                    }
                })
                .collect();
            (p.key, vals)
        }
        None => ("n".into(), args.sizes.iter().map(|&n| n as f64).collect()),
    };
    if values.is_empty() || args.realizations == 0 {
        return Err("nothing to run: give at least one size (or sweep value) and one realization".into());
    }

    // Resolve every config first, so a bad value fails before anything runs.
    let base_seed = spec_for(&text, &args.sets, &axis, values[0], 0)?.seed;
    let mut jobs = vec![];
    for &value in &values {
        for r in 0..args.realizations {
            let spec = spec_for(&text, &args.sets, &axis, value, base_seed + r)?;
            let dir = out
                .join("runs")
                .join(format!("{}_{}_r{}", axis.replace('.', "_"), value, r));
            if dir.join("meta.json").exists() {
                return Err(format!("{} already holds a run; choose another --out", dir.display()));
            }
            jobs.push(Job {
                value,
                realization: r,
                spec,
                dir,
            });
        }
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    let started = Instant::now();
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, jobs.len());
    eprintln!(
        "pbn compare: {} simulation(s) ({} value(s) of {axis} × {} realization(s)), {workers} at a time",
        jobs.len(),
        values.len(),
        args.realizations
    );
    let results = run_all(&jobs, workers)?;
    let sim_wall_s = started.elapsed().as_secs_f64();

    let mut rows = vec![];
    for &value in &values {
        let spec = spec_for(&text, &args.sets, &axis, value, base_seed)?;
        let theory = predict(&spec)?;
        let measured: Vec<&Measured> = jobs
            .iter()
            .zip(&results)
            .filter(|(j, _)| j.value == value)
            .map(|(_, m)| m)
            .collect();
        for (k, (quantity, _)) in measured[0].iter().enumerate() {
            let simulated: Vec<f64> = measured.iter().map(|m| m[k].1).collect();
            let mean = simulated.iter().sum::<f64>() / simulated.len() as f64;
            let sd = if simulated.len() > 1 {
                (simulated.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (simulated.len() - 1) as f64).sqrt()
            } else {
                0.0
            };
            let th = theory.iter().find(|(q, _)| q == quantity).map(|(_, v)| *v);
            rows.push(Row {
                quantity: quantity.clone(),
                x: value,
                simulated,
                mean,
                sd,
                theory: th,
                relative_error: th.filter(|t| *t != 0.0).map(|t| (mean - t) / t.abs()),
            });
        }
    }

    // Group by quantity (in order of first appearance), then by value.
    let order: Vec<String> = rows.iter().fold(vec![], |mut seen: Vec<String>, r| {
        if !seen.contains(&r.quantity) {
            seen.push(r.quantity.clone());
        }
        seen
    });
    rows.sort_by(|a, b| {
        let pos = |q: &String| order.iter().position(|o| o == q);
        pos(&a.quantity).cmp(&pos(&b.quantity)).then(a.x.total_cmp(&b.x))
    });
    print_table(&axis, &rows, &jobs, sim_wall_s);
    write_outputs(&out, &axis, &rows, &jobs, sim_wall_s)?;
    println!(
        "tables: {}, {}",
        out.join("compare.csv").display(),
        out.join("compare.json").display()
    );
    let figure = draw(&out.join("compare"), &stem, &axis, &rows).map_err(|e| format!("cannot draw the figure: {e}"))?;
    println!(
        "figure: {}",
        figure
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The config with `--set`s, the axis value and the seed applied. Whole values are written as
/// integers, which TOML accepts for float keys too.
fn spec_for(text: &str, sets: &[String], axis: &str, value: f64, seed: u64) -> Result<NetworkSpec, String> {
    let rendered = if value.fract() == 0.0 && value.abs() < 9e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:?}")
    };
    let mut all = sets.to_vec();
    all.push(format!("{axis}={rendered}"));
    if seed > 0 {
        all.push(format!("seed={seed}"));
    }
    NetworkSpec::from_toml_with_overrides(text, &all).map_err(|e| format!("{axis} = {value}: {e}"))
}

/// Runs every job, `workers` at a time, each single-threaded; returns measurements in job order.
fn run_all(jobs: &[Job], workers: usize) -> Result<Vec<Measured>, String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Measured, String>>>> = Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let t0 = Instant::now();
                    let result = simulate(job);
                    match &result {
                        Ok(_) => eprintln!(
                            "  done: {} (r{}) in {:.1} s",
                            job.value,
                            job.realization,
                            t0.elapsed().as_secs_f64()
                        ),
                        Err(e) => eprintln!("  failed: {} (r{}): {e}", job.value, job.realization),
                    }
                    results.lock().expect("no poisoned lock")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no poisoned lock")
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// Simulates one job into its run directory and measures it.
fn simulate(job: &Job) -> Result<Measured, String> {
    let spec = &job.spec;
    let t0 = Instant::now();
    let mut sim = Simulation::new(
        spec,
        SimOptions {
            threads: 1,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let mut dir = RunDirectory::create(&job.dir, &spec.to_resolved_toml()).map_err(|e| e.to_string())?;
    let mut meta = pbn_rundir::describe_run(spec, &sim);
    let outcome = sim.run(&mut dir);
    if spec.record.final_weights {
        sim.write_final_weights(&mut dir).map_err(|e| e.to_string())?;
    }
    dir.close_streams().map_err(|e| e.to_string())?;
    meta["status"] = json!(if outcome.is_ok() { "completed" } else { "runaway" });
    meta["stop_reason"] = outcome
        .as_ref()
        .err()
        .map_or(serde_json::Value::Null, |e| json!(e.to_string()));
    meta["simulated_ms"] = json!(sim.time_ms());
    meta["timings"] = json!({"run_s": t0.elapsed().as_secs_f64()});
    meta["files"] = json!(dir.files());
    dir.write_meta(&meta).map_err(|e| e.to_string())?;
    outcome.map_err(|e| e.to_string())?;
    measure(&RunData::open(&job.dir).map_err(|e| e.to_string())?)
}

/// Second-half statistics of a run (via `pbn analyze`'s analysis, also written as
/// `analysis.json` into the run directory).
fn measure(run: &RunData) -> Result<Measured, String> {
    let analysis = analyze_run(run, &AnalyzeOptions::default()).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&analysis).map_err(|e| e.to_string())?;
    write_atomic(&run.root.join("analysis.json"), text.as_bytes()).map_err(|e| e.to_string())?;
    let mut m = vec![];
    for p in &analysis.populations {
        m.push((rate_quantity(&p.name), p.rate_hz));
    }
    for w in &analysis.weights {
        m.push((weight_quantity(&w.name), w.stats.window_mean));
    }
    if let Some(c) = &analysis.covariance {
        for block in &c.summary.blocks {
            m.push((covariance_quantity(&block.a, &block.b), block.mean_cov));
        }
    }
    Ok(m)
}

fn rate_quantity(population: &str) -> String {
    format!("rate {population} (Hz)")
}

fn weight_quantity(projection: &str) -> String {
    format!("mean weight {projection}")
}

fn covariance_quantity(a: &str, b: &str) -> String {
    format!("count cov {a}-{b} (250 ms)")
}

/// The theory's value of every quantity `measure` reports. For plastic networks the weight ODE
/// is integrated over the run and averaged over the same window as the simulation (second half).
fn predict(spec: &NetworkSpec) -> Result<Vec<(String, f64)>, String> {
    let plastic = spec.projections.iter().any(|p| p.plasticity.is_some());
    let window_ms = AnalyzeOptions::default().count_window_ms;
    let options = TheoryOptions {
        integrate_ms: plastic.then_some(spec.duration_ms),
        window_ms,
        ..TheoryOptions::default()
    };
    let p = pbn_theory::predict(spec, &options).map_err(|e| e.to_string())?;
    let names: Vec<String> = p.populations.iter().map(|q| q.name.clone()).collect();
    let mut out = vec![];
    let (rates, covariance) = match p.plasticity.as_ref().and_then(|pl| pl.trajectory.as_ref()) {
        Some(tr) => {
            let half_s = spec.duration_ms * 1e-3 / 2.0;
            let idx: Vec<usize> = (0..tr.t_s.len()).filter(|&i| tr.t_s[i] > half_s).collect();
            if idx.is_empty() {
                return Ok(out);
            }
            let avg = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&i| f(i)).sum::<f64>() / idx.len() as f64;
            let blocks = tr.weights[0].len();
            let weights: Vec<f64> = (0..blocks).map(|b| avg(&|i| tr.weights[i][b])).collect();
            for (proj, w) in spec.projections.iter().filter(|p| p.plasticity.is_some()).zip(&weights) {
                out.push((weight_quantity(&format!("{}_to_{}", proj.from, proj.to)), *w));
            }
            let rates: Vec<f64> = (0..names.len()).map(|k| avg(&|i| tr.rates_hz[i][k])).collect();
            let model = pbn_theory::model_with_options(spec, &options).map_err(|e| e.to_string())?;
            let cov = pbn_theory::covariance::count_covariance(&model, &model.w(&weights), window_ms, false);
            (Some(rates), Some(cov))
        }
        None => (p.rates_hz.clone(), p.covariance.as_ref().map(|c| c.count.clone())),
    };
    if let Some(r) = rates {
        out.extend(names.iter().zip(r).map(|(name, r)| (rate_quantity(name), r)));
    }
    if let Some(c) = covariance {
        for a in 0..names.len() {
            for b in a..names.len() {
                out.push((covariance_quantity(&names[a], &names[b]), c[a][b]));
            }
        }
    }
    Ok(out)
}

fn print_table(axis: &str, rows: &[Row], jobs: &[Job], wall_s: f64) {
    println!(
        "simulation vs theory ({} runs, {:.1} s of simulation wall time)",
        jobs.len(),
        wall_s
    );
    println!(
        "{:<28} {:>12} {:>14} {:>12} {:>14} {:>10}",
        "quantity", axis, "simulated", "± SD", "theory", "rel. err"
    );
    let mut last = "";
    for r in rows {
        if r.quantity != last {
            println!();
            last = &r.quantity;
        }
        let th = r.theory.map_or("—".to_string(), |t| format!("{t:.5}"));
        let err = r
            .relative_error
            .map_or("—".to_string(), |e| format!("{:+.1} %", 100.0 * e));
        println!(
            "{:<28} {:>12} {:>14.5} {:>12.5} {:>14} {:>10}",
            r.quantity, r.x, r.mean, r.sd, th, err
        );
    }
}

/// One panel per kind of quantity (rates, mean weights, covariances): simulated mean ± SD over
/// realizations as points, theory as dashed lines of the same colour.
fn draw(stem: &Path, config: &str, axis: &str, rows: &[Row]) -> Result<Vec<PathBuf>, pbn_plot::PlotError> {
    let log_x = axis == "n";
    let x_label = if log_x {
        "network size N".to_string()
    } else {
        axis.to_string()
    };
    let kinds = [
        ("rate ", "population rates", "rate (Hz)"),
        ("mean weight ", "mean weights of plastic blocks", "unscaled weight j"),
        (
            "count cov ",
            "mean spike-count covariance (250 ms windows)",
            "covariance (spikes²)",
        ),
    ];
    let mut panels = vec![];
    for (prefix, title, y_label) in kinds {
        let mut quantities: Vec<&str> = vec![];
        for r in rows.iter().filter(|r| r.quantity.starts_with(prefix)) {
            if !quantities.contains(&r.quantity.as_str()) {
                quantities.push(&r.quantity);
            }
        }
        if quantities.is_empty() {
            continue;
        }
        let (mut points, mut lines) = (vec![], vec![]);
        for (k, q) in quantities.iter().enumerate() {
            let rs: Vec<&Row> = rows.iter().filter(|r| r.quantity == *q).collect();
            let label = q.trim_start_matches(prefix).split(" (").next().unwrap_or(q).to_string();
            let color = pbn_plot::Rgb::cycle(k);
            points.push(pbn_plot::ErrorSeries {
                label: format!("{label} simulated"),
                x: rs.iter().map(|r| r.x).collect(),
                y: rs.iter().map(|r| r.mean).collect(),
                err: rs.iter().map(|r| r.sd).collect(),
                color: Some(color),
                join: false,
            });
            let theory: Vec<&Row> = rs.iter().copied().filter(|r| r.theory.is_some()).collect();
            if !theory.is_empty() {
                let x = theory.iter().map(|r| r.x).collect();
                let y = theory.iter().map(|r| r.theory.unwrap_or(f64::NAN)).collect();
                lines.push(
                    pbn_plot::Series::new(format!("{label} theory"), x, y)
                        .color(color)
                        .kind(pbn_plot::LineKind::Dashed),
                );
            }
        }
        let positive = rows
            .iter()
            .filter(|r| r.quantity.starts_with(prefix))
            .all(|r| r.mean > 0.0 && r.theory.is_none_or(|t| t > 0.0));
        let mut panel = pbn_plot::Panel::new(title, &x_label, y_label, pbn_plot::Content::ErrorBars { points, lines });
        panel.log_x = log_x;
        panel.log_y = prefix == "count cov " && positive;
        panel.legend = pbn_plot::Legend::UpperRight;
        panels.push(panel);
    }
    let title = format!("{config}: simulation (mean ± SD over realizations) vs theory (dashed)");
    let columns = panels.len().min(3);
    pbn_plot::figure(stem, &title, &panels, columns, Some((760, 560)))
}

fn write_outputs(out: &Path, axis: &str, rows: &[Row], jobs: &[Job], wall_s: f64) -> Result<(), String> {
    let mut csv = format!("quantity,{axis},mean,sd,theory,relative_error,realizations\n");
    for r in rows {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        csv += &format!(
            "\"{}\",{},{},{},{},{},{}\n",
            r.quantity,
            r.x,
            r.mean,
            r.sd,
            opt(r.theory),
            opt(r.relative_error),
            r.simulated.len()
        );
    }
    write_atomic(&out.join("compare.csv"), csv.as_bytes()).map_err(|e| e.to_string())?;
    let runs: Vec<_> = jobs
        .iter()
        .map(|j| json!({"value": j.value, "realization": j.realization, "seed": j.spec.seed, "dir": j.dir}))
        .collect();
    let doc = json!({"axis": axis, "simulation_wall_s": wall_s, "runs": runs, "rows": rows});
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    write_atomic(&out.join("compare.json"), text.as_bytes()).map_err(|e| e.to_string())
}
