//! `pbn compare`: simulation and theory side by side, as N grows or along a parameter.
//!
//! A compare is a study made on the fly (one axis: N or the swept key; realizations seed, seed + 1,
//! …; no claims): it runs through the same executor (resumable into the same `--out`, interrupts
//! keep finished runs) and measures through the same typed quantities as `pbn study` — population
//! rates, mean weights of plastic blocks, mean spike-count covariances over 250 ms windows
//! (diagonal excluded), all over the second half of the run — against the theory for the very
//! same config (for plastic networks the weight ODE over the run, averaged over the same half).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use pbn_core::NetworkSpec;
use pbn_rundir::write_atomic;
use pbn_study::executor::{LocalOptions, PointState, StudyProgress};
use pbn_study::points::Point;
use pbn_study::spec::{Axis, Scale, StudySpec, TheoryMode, TheorySpec, Values};
use pbn_study::{Collection, Measure, Quantity, Study};
use pbn_theory::SweepParam;
use serde::Serialize;
use serde_json::json;

use crate::config::DEFAULT_CONFIG;
use crate::study::{Executor, SlurmOutcome, run_on_slurm};

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
    /// Output directory [default: compare/<config name>]; running again into it finishes what an
    /// interrupted compare left.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulations run at the same time [default: number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Run even if the simulations running at once are estimated to need more memory than is
    /// available (see `pbn run --help`).
    #[arg(long)]
    force: bool,
    /// Where the runs go: this machine, or a Slurm job array.
    #[command(flatten)]
    slurm: crate::study::SlurmArgs,
}

/// One row of the comparison.
#[derive(Debug, Clone, Serialize)]
struct Row {
    /// Quantity, with its unit.
    quantity: String,
    /// N or the swept value.
    x: f64,
    /// Simulated values, one per realization.
    simulated: Vec<f64>,
    /// Mean over realizations.
    mean: f64,
    /// Standard deviation over realizations (absent for one realization).
    sd: Option<f64>,
    /// Theory.
    theory: Option<f64>,
    /// (mean − theory)/|theory|.
    relative_error: Option<f64>,
}

/// Prints each finished run.
struct Lines;

impl StudyProgress for Lines {
    fn advanced(&self, _ms: f64) {}
    fn point_ended(&self, point: &Point, state: &PointState, wall_s: f64) {
        let at = point.values.first().map_or(0.0, |v| v.1);
        match state {
            PointState::Done => eprintln!("  done: {at} (r{}) in {wall_s:.1} s", point.realization),
            PointState::Failed(why) => eprintln!("  failed: {at} (r{}): {why}", point.realization),
            _ => eprintln!("  stopped: {at} (r{}); it restarts on the next run", point.realization),
        }
    }
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
    let (key, values): (String, Vec<f64>) = match &args.sweep {
        Some(s) => {
            let p: SweepParam = s.parse().map_err(|e: pbn_theory::TheoryError| e.to_string())?;
            (p.key.clone(), p.values())
        }
        None => ("n".into(), args.sizes.iter().map(|&n| n as f64).collect()),
    };
    if values.is_empty() || args.realizations == 0 {
        return Err("nothing to run: give at least one size (or sweep value) and one realization".into());
    }
    let scale = Scale {
        set: args.sets.clone(),
        realizations: args.realizations,
        axes: Default::default(),
    };
    let spec = StudySpec {
        title: format!("{stem}: simulation vs theory along {key}"),
        paper: String::new(),
        description: String::new(),
        config: None,
        config_toml: Some(text.clone()),
        set: vec![],
        scales: [("quick".to_string(), scale.clone()), ("paper".to_string(), scale)].into(),
        axes: vec![Axis {
            key: key.clone(),
            also: vec![],
            shifted: Default::default(),
            label: None,
            values: Values::List(values.clone()),
            log: key == "n",
        }],
        share_network: true,
        theory: TheorySpec::default(),
        claims: vec![],
        figures: vec![],
    };
    let study = Study::from_spec(&format!("compare-{stem}"), &out.join("manifest.json"), &spec, &text)?;
    let manifest = pbn_study::prepare(&study, "quick", &out)?;

    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pending = pbn_study::executor::pending(&manifest, &out);
    if args.slurm.executor == Executor::Slurm {
        let states = match run_on_slurm(&args.slurm, &study, &manifest, &out, pending, 1, args.force, false)? {
            SlurmOutcome::Finished(states) => states,
            SlurmOutcome::Submitted => return Ok(ExitCode::SUCCESS),
            SlurmOutcome::StoppedWaiting => return Ok(ExitCode::from(130)),
        };
        return tabulate(&study, &manifest, &out, (&stem, &key), states);
    }
    crate::study::largest_fits(&study, &pending, workers, 1, args.force, false)?;
    eprintln!(
        "pbn compare: {} simulation(s) ({} value(s) of {key} × {} realization(s)), {workers} at a time, into {}",
        manifest.points.len(),
        values.len(),
        args.realizations,
        out.display()
    );
    let stop = crate::signals::stop_flag();
    let states = pbn_study::run_local(
        &study,
        &manifest,
        &out,
        &LocalOptions {
            jobs: workers,
            threads: 1,
            stop: &stop,
            progress: &Lines,
        },
    );
    if stop.load(Ordering::SeqCst) {
        eprintln!(
            "interrupted: finished runs are kept in {}; run the same command to finish",
            out.display()
        );
        return Ok(ExitCode::from(130));
    }
    tabulate(&study, &manifest, &out, (&stem, &key), states)
}

/// The comparison table, files and figure from finished runs.
fn tabulate(
    study: &Study,
    manifest: &pbn_study::Manifest,
    out: &Path,
    (stem, key): (&str, &str),
    states: Vec<PointState>,
) -> Result<ExitCode, String> {
    if let Some((p, PointState::Failed(why))) = manifest
        .points
        .iter()
        .zip(&states)
        .find(|(_, s)| matches!(s, PointState::Failed(_)))
    {
        return Err(format!("the run at {} failed: {why}", p.label(study)));
    }
    let collection = Collection::open(study, manifest, out, states);
    let base = pbn_study::points::spec_with(study, &manifest.points[0].sets)?;
    let quantities = quantities(&base);
    let mut rows = vec![];
    for m in &quantities {
        for point in collection.combinations(&Default::default()) {
            let simulated = collection.simulated(point.combination, m)?;
            if simulated.is_empty() {
                continue;
            }
            let n = simulated.len() as f64;
            let mean = simulated.iter().sum::<f64>() / n;
            let sd = (simulated.len() > 1)
                .then(|| (simulated.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
            let theory = collection.theory(point, m, TheoryMode::Ode).ok().flatten();
            rows.push(Row {
                quantity: m.to_string(),
                x: point.values[0].1,
                simulated,
                mean,
                sd,
                theory,
                relative_error: theory.filter(|t| *t != 0.0).map(|t| (mean - t) / t.abs()),
            });
        }
    }
    // Each run's second-half analysis beside its arrays, as `pbn analyze` writes it.
    for p in &manifest.points {
        if let Some(run) = collection.first_run_of(p.index) {
            let a = run.analysis(run.run.simulated_ms / 2.0, run.run.simulated_ms)?;
            let text = serde_json::to_string_pretty(&a).map_err(|e| e.to_string())?;
            write_atomic(&out.join(p.dir()).join("analysis.json"), text.as_bytes()).map_err(|e| e.to_string())?;
        }
    }

    print_table(key, &rows, manifest.points.len());
    write_outputs(out, key, &rows, &manifest.points, study)?;
    println!(
        "tables: {}, {}",
        out.join("compare.csv").display(),
        out.join("compare.json").display()
    );
    let figure = draw(&out.join("compare"), stem, key, &quantities, &rows)
        .map_err(|e| format!("cannot draw the figure: {e}"))?;
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

/// Rates of every population, mean weights of every plastic projection, mean count covariances
/// of every pair of populations, over the second half.
fn quantities(spec: &NetworkSpec) -> Vec<Measure> {
    let m = |quantity, of: String| Measure {
        quantity,
        of,
        window: None,
        window_of: Default::default(),
    };
    let names: Vec<&str> = spec.populations.iter().map(|p| p.name.as_str()).collect();
    let mut out: Vec<Measure> = names.iter().map(|n| m(Quantity::Rate, n.to_string())).collect();
    out.extend(
        spec.projections
            .iter()
            .filter(|p| p.plasticity.is_some())
            .map(|p| m(Quantity::Weight, format!("{}_to_{}", p.from, p.to))),
    );
    for a in 0..names.len() {
        for b in a..names.len() {
            out.push(m(Quantity::Covariance, format!("{}-{}", names[a], names[b])));
        }
    }
    out
}

fn print_table(axis: &str, rows: &[Row], runs: usize) {
    println!("simulation vs theory ({runs} runs; mean ± SD over realizations)");
    println!(
        "{:<34} {:>10} {:>14} {:>12} {:>14} {:>10}",
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
        let sd = r.sd.map_or("—".to_string(), |s| format!("{s:.5}"));
        println!(
            "{:<34} {:>10} {:>14.5} {:>12} {:>14} {:>10}",
            r.quantity, r.x, r.mean, sd, th, err
        );
    }
}

/// One panel per kind of quantity (rates, mean weights, covariances): simulated mean ± SD over
/// realizations as points, theory as dashed lines of the same colour.
fn draw(
    stem: &Path,
    config: &str,
    axis: &str,
    quantities: &[Measure],
    rows: &[Row],
) -> Result<Vec<PathBuf>, pbn_plot::PlotError> {
    let log_x = axis == "n";
    let x_label = if log_x {
        "network size N".to_string()
    } else {
        axis.to_string()
    };
    let kinds = [
        (Quantity::Rate, "population rates", "rate (Hz)"),
        (Quantity::Weight, "mean weights of plastic blocks", "unscaled weight j"),
        (
            Quantity::Covariance,
            "mean spike-count covariance (250 ms windows)",
            "covariance (spikes²)",
        ),
    ];
    let mut panels = vec![];
    for (kind, title, y_label) in kinds {
        let of_kind: Vec<&Measure> = quantities.iter().filter(|m| m.quantity == kind).collect();
        let (mut points, mut lines) = (vec![], vec![]);
        for (k, m) in of_kind.iter().enumerate() {
            let name = m.to_string();
            let rs: Vec<&Row> = rows.iter().filter(|r| r.quantity == name).collect();
            if rs.is_empty() {
                continue;
            }
            let color = pbn_plot::Rgb::cycle(k);
            points.push(pbn_plot::ErrorSeries {
                label: format!("{} simulated", m.of),
                x: rs.iter().map(|r| r.x).collect(),
                y: rs.iter().map(|r| r.mean).collect(),
                err: rs.iter().map(|r| r.sd.unwrap_or(0.0)).collect(),
                color: Some(color),
                join: false,
            });
            let theory: Vec<&Row> = rs.iter().copied().filter(|r| r.theory.is_some()).collect();
            if !theory.is_empty() {
                let x = theory.iter().map(|r| r.x).collect();
                let y = theory.iter().map(|r| r.theory.unwrap_or(f64::NAN)).collect();
                lines.push(
                    pbn_plot::Series::new(format!("{} theory", m.of), x, y)
                        .color(color)
                        .kind(pbn_plot::LineKind::Dashed),
                );
            }
        }
        if points.is_empty() {
            continue;
        }
        let positive = rows
            .iter()
            .filter(|r| of_kind.iter().any(|m| m.to_string() == r.quantity))
            .all(|r| r.mean > 0.0 && r.theory.is_none_or(|t| t > 0.0));
        let mut panel = pbn_plot::Panel::new(title, &x_label, y_label, pbn_plot::Content::ErrorBars { points, lines });
        panel.log_x = log_x;
        panel.log_y = kind == Quantity::Covariance && positive;
        panel.legend = pbn_plot::Legend::UpperRight;
        panels.push(panel);
    }
    let title = format!("{config}: simulation (mean ± SD over realizations) vs theory (dashed)");
    let columns = panels.len().min(3);
    pbn_plot::figure(stem, &title, &panels, columns, Some((760, 560)))
}

fn write_outputs(out: &Path, axis: &str, rows: &[Row], points: &[Point], study: &Study) -> Result<(), String> {
    let mut csv = format!("quantity,{axis},mean,sd,theory,relative_error,realizations\n");
    for r in rows {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        csv += &format!(
            "\"{}\",{},{},{},{},{},{}\n",
            r.quantity,
            r.x,
            r.mean,
            opt(r.sd),
            opt(r.theory),
            opt(r.relative_error),
            r.simulated.len()
        );
    }
    write_atomic(&out.join("compare.csv"), csv.as_bytes()).map_err(|e| e.to_string())?;
    let runs: Vec<_> = points
        .iter()
        .map(|p| {
            json!({"value": p.values[0].1, "realization": p.realization, "seed": p.seed,
                   "dir": out.join(p.dir()), "label": p.label(study)})
        })
        .collect();
    let doc = json!({"axis": axis, "runs": runs, "rows": rows});
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    write_atomic(&out.join("compare.json"), text.as_bytes()).map_err(|e| e.to_string())
}
