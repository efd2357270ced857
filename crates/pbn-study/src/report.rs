//! The study report: `report.md` (claims table with verdicts, figures embedded), `report.json`
//! (every number) and the figures (PNG + SVG) under `figures/`.

use std::path::{Path, PathBuf};

use pbn_rundir::write_atomic;
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimResult, Collection, Verdict, at_label, fmt};
use crate::executor::{Manifest, PointState};
use crate::points::{axis_sets, base_sets, label_value, render, spec_with};
use crate::quantity::{Measure, Quantity, TheoryAt};
use crate::spec::{FigureSpec, Study, TheoryMode};

/// The whole report, as written to `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Study name.
    pub study: String,
    /// Title.
    pub title: String,
    /// Paper reference.
    pub paper: String,
    /// Scale.
    pub scale: String,
    /// Points in the study.
    pub points: usize,
    /// Finished points (completed runs).
    pub done: usize,
    /// Failed points with their reasons (label, reason).
    pub failed: Vec<(String, String)>,
    /// Simulation wall time summed over the finished points (s).
    pub simulation_wall_s: f64,
    /// Simulated time summed over the finished points (s).
    pub simulated_s: f64,
    /// The claims.
    pub claims: Vec<ClaimResult>,
    /// Figure files (relative to the study directory).
    pub figures: Vec<String>,
    /// Figures that could not be drawn, and why.
    pub figure_errors: Vec<String>,
    /// The command that reproduces the study.
    pub command: String,
}

impl Report {
    /// Pass when every claim passes; Incomplete when a point is missing; else Fail.
    pub fn verdict(&self) -> Verdict {
        if self.claims.iter().any(|c| c.verdict == Verdict::Fail) {
            Verdict::Fail
        } else if self.done + self.failed.len() < self.points
            || self.claims.iter().any(|c| c.verdict == Verdict::Incomplete)
        {
            Verdict::Incomplete
        } else {
            Verdict::Pass
        }
    }
}

/// Judges the claims, draws the figures and writes `report.md` and `report.json` into `root`.
pub fn build(study: &Study, manifest: &Manifest, root: &Path, states: Vec<PointState>) -> Result<Report, String> {
    let failed: Vec<(String, String)> = manifest
        .points
        .iter()
        .zip(&states)
        .filter_map(|(p, s)| match s {
            PointState::Failed(why) => Some((p.label(study), why.clone())),
            _ => None,
        })
        .collect();
    let done = states.iter().filter(|s| **s == PointState::Done).count();
    let collection = Collection::open(study, manifest, root, states);
    let claims: Vec<ClaimResult> = study
        .spec
        .claims
        .iter()
        .filter(|c| c.scales.is_empty() || c.scales.contains(&manifest.scale))
        .map(|c| collection.judge(c))
        .collect();
    let (mut wall, mut simulated) = (0.0, 0.0);
    for p in &manifest.points {
        if let Ok(text) = std::fs::read_to_string(root.join(p.dir()).join("meta.json"))
            && let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text)
            && matches!(meta["status"].as_str(), Some("completed" | "runaway" | "diverged"))
        {
            wall +=
                meta["timings"]["run_s"].as_f64().unwrap_or(0.0) + meta["timings"]["build_s"].as_f64().unwrap_or(0.0);
            simulated += meta["simulated_ms"].as_f64().unwrap_or(0.0) * 1e-3;
        }
    }
    let figures_dir = root.join("figures");
    std::fs::create_dir_all(&figures_dir).map_err(|e| format!("cannot create {}: {e}", figures_dir.display()))?;
    let (mut figures, mut figure_errors) = (vec![], vec![]);
    for f in &study.spec.figures {
        match draw(study, &manifest.scale, &collection, f, &figures_dir.join(f.name())) {
            Ok(files) => figures.extend(
                files
                    .iter()
                    .filter_map(|p| p.strip_prefix(root).ok().map(|r| r.to_string_lossy().into_owned())),
            ),
            Err(e) => figure_errors.push(format!("{}: {e}", f.name())),
        }
    }
    let report = Report {
        study: study.name.clone(),
        title: study.spec.title.clone(),
        paper: study.spec.paper.clone(),
        scale: manifest.scale.clone(),
        points: manifest.points.len(),
        done,
        failed,
        simulation_wall_s: wall,
        simulated_s: simulated,
        claims,
        figures,
        figure_errors,
        command: format!("pbn study run {} --scale {}", study.name, manifest.scale),
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    write_atomic(&root.join("report.json"), json.as_bytes()).map_err(|e| format!("cannot write report.json: {e}"))?;
    write_atomic(&root.join("report.md"), markdown(study, &report).as_bytes())
        .map_err(|e| format!("cannot write report.md: {e}"))?;
    Ok(report)
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "**pass**",
        Verdict::Fail => "**FAIL**",
        Verdict::Incomplete => "incomplete",
    }
}

/// A claim's simulated value in one cell: mean ± SD for one row, the range for several.
pub fn simulated_cell(c: &ClaimResult) -> String {
    match c.rows.as_slice() {
        [] => "—".into(),
        [r] => match r.sd {
            Some(sd) => format!("{} ± {}", fmt(r.mean), fmt(sd)),
            None => fmt(r.mean),
        },
        rows => {
            let first = &rows[0];
            let last = &rows[rows.len() - 1];
            format!("{} … {} ({} points)", fmt(first.mean), fmt(last.mean), rows.len())
        }
    }
}

/// A claim's published value and its source in one cell.
pub fn published_cell(c: &ClaimResult) -> String {
    c.published.map_or("—".into(), |p| {
        let source = c
            .published_source
            .as_deref()
            .map_or(String::new(), |s| format!(" ({s})"));
        format!("{}{source}", fmt(p))
    })
}

/// A claim's theory value in one cell.
pub fn theory_cell(c: &ClaimResult) -> String {
    let values: Vec<f64> = c.rows.iter().filter_map(|r| r.theory).collect();
    match values.as_slice() {
        [] => "—".into(),
        [v] => fmt(*v),
        vs => format!("{} … {}", fmt(vs[0]), fmt(vs[vs.len() - 1])),
    }
}

fn markdown(study: &Study, r: &Report) -> String {
    let mut s = format!("# {} — {}\n\n", r.study, r.title);
    if !r.paper.is_empty() {
        s += &format!("Reproduces: {}.  \n", r.paper);
    }
    s += &format!(
        "Scale: `{}`; {} of {} points finished; {:.0} s simulated in {:.0} s of simulation wall time \
         (summed over points, which run in parallel). \
         Reproduce with `{}`.\n\n",
        r.scale, r.done, r.points, r.simulated_s, r.simulation_wall_s, r.command
    );
    if !study.spec.description.is_empty() {
        s += &format!("{}\n\n", study.spec.description.trim());
    }
    s += &format!("Overall: {}\n\n", verdict_word(r.verdict()));
    s += "| claim | quantity | simulation | theory | published | test | verdict |\n|---|---|---|---|---|---|---|\n";
    for c in &r.claims {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            c.name,
            c.quantity,
            simulated_cell(c),
            theory_cell(c),
            published_cell(c),
            c.summary.replace('|', "\\|"),
            verdict_word(c.verdict)
        );
    }
    for c in r.claims.iter().filter(|c| c.rows.len() > 1 || c.note.is_some()) {
        s += &format!("\n### {}\n\n", c.name);
        if let Some(n) = &c.note {
            s += &format!("{}\n\n", n.trim());
        }
        if c.rows.len() > 1 {
            s += "| point | simulation | theory | deviation | pass |\n|---|---|---|---|---|\n";
            for row in &c.rows {
                let sim = match row.sd {
                    Some(sd) => format!("{} ± {}", fmt(row.mean), fmt(sd)),
                    None => fmt(row.mean),
                };
                let dev = row.deviation.map_or("—".into(), |d| {
                    if c.relative {
                        format!("{:+.1} %", 100.0 * d)
                    } else {
                        format!("{:+}", fmt(d))
                    }
                });
                s += &format!(
                    "| {} | {} | {} | {} | {} |\n",
                    at_label(study, &row.at),
                    sim,
                    row.theory
                        .map_or_else(|| row.theory_error.clone().unwrap_or("—".into()), fmt),
                    dev,
                    row.pass.map_or("—", |p| if p { "yes" } else { "no" })
                );
            }
        }
    }
    if !r.failed.is_empty() {
        s += "\n## Failed points\n\n";
        for (label, why) in &r.failed {
            s += &format!("- {label}: {why}\n");
        }
    }
    if !r.figures.is_empty() {
        s += "\n## Figures\n\n";
        for f in r.figures.iter().filter(|f| f.ends_with(".png")) {
            s += &format!("![{f}]({f})\n\n");
        }
    }
    for e in &r.figure_errors {
        s += &format!("Figure not drawn: {e}\n\n");
    }
    s
}

/// Draws one figure.
fn draw(study: &Study, scale: &str, c: &Collection<'_>, f: &FigureSpec, stem: &Path) -> Result<Vec<PathBuf>, String> {
    let err = |e: pbn_plot::PlotError| e.to_string();
    match f {
        FigureSpec::Versus {
            title,
            quantities,
            x: x_measure,
            x_label,
            theory,
            y_label,
            log_y,
            identity,
            ..
        } => {
            let axis = study.spec.axes.first().ok_or("a `versus` figure needs an axis")?;
            let combos = c.combinations(&Default::default());
            // x of each combination: the axis value, or the mean of a measured quantity.
            let mut xs = vec![];
            for p in &combos {
                xs.push(match x_measure {
                    Some(m) => {
                        let v = c.simulated(p.combination, m)?;
                        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                    }
                    None => p.value(&axis.key),
                });
            }
            let realizations = c.study.scale(scale).map_or(1, |s| s.realizations);
            let (mut points, mut lines) = (vec![], vec![]);
            for (k, m) in quantities.iter().enumerate() {
                let color = pbn_plot::Rgb::cycle(k);
                let (mut x, mut y, mut e) = (vec![], vec![], vec![]);
                for (p, px) in combos.iter().zip(&xs) {
                    let v = c.simulated(p.combination, m)?;
                    let Some(px) = px else { continue };
                    if v.is_empty() {
                        continue;
                    }
                    let n = v.len() as f64;
                    let mean = v.iter().sum::<f64>() / n;
                    let sd = if v.len() > 1 {
                        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
                    } else {
                        0.0
                    };
                    x.push(*px);
                    y.push(mean);
                    e.push(sd);
                }
                points.push(pbn_plot::ErrorSeries {
                    label: if realizations > 1 {
                        format!("{} (mean ± SD, {realizations} realizations)", short(m))
                    } else {
                        format!("{} (simulation)", short(m))
                    },
                    x,
                    y,
                    err: e,
                    color: Some(color),
                    join: false,
                });
                if *theory != TheoryMode::None {
                    let (tx, ty) = if x_measure.is_none() && !needs_runs(*theory) {
                        theory_curve(study, scale, m, *theory)?
                    } else {
                        // At the points, in the order of x.
                        let mut at: Vec<(f64, f64)> = combos
                            .iter()
                            .zip(&xs)
                            .filter_map(|(p, px)| Some((*px)?).zip(c.theory(p, m, *theory).ok().flatten()))
                            .collect();
                        at.sort_by(|a, b| a.0.total_cmp(&b.0));
                        at.into_iter().unzip()
                    };
                    if !tx.is_empty() {
                        lines.push(
                            pbn_plot::Series::new(format!("{} theory", short(m)), tx, ty)
                                .color(color)
                                .kind(pbn_plot::LineKind::Dashed),
                        );
                    }
                }
            }
            if *identity {
                let (lo, hi) = xs
                    .iter()
                    .flatten()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                lines.push(
                    pbn_plot::Series::new("y = x", vec![lo, hi], vec![lo, hi])
                        .color(pbn_plot::Rgb::GREY)
                        .kind(pbn_plot::LineKind::Solid),
                );
            }
            let label = |m: &Measure| {
                let u = m.quantity.unit();
                if u.is_empty() {
                    short(m)
                } else {
                    format!("{} ({u})", short(m))
                }
            };
            let y_label = y_label.clone().unwrap_or_else(|| label(&quantities[0]));
            let x_label = x_label
                .clone()
                .or_else(|| x_measure.as_ref().map(label))
                .unwrap_or_else(|| axis.label().to_string());
            let mut panel = pbn_plot::Panel::new("", x_label, y_label, pbn_plot::Content::ErrorBars { points, lines });
            panel.log_x = axis.log && x_measure.is_none();
            panel.log_y = *log_y;
            panel.legend = pbn_plot::Legend::UpperRight;
            pbn_plot::figure(stem, title, &[panel], 1, Some((900, 600))).map_err(err)
        }
        FigureSpec::WeightTraces { title, of, ode, .. } => {
            let combos = c.combinations(&Default::default());
            let mut series = vec![];
            for (k, p) in combos.iter().enumerate() {
                let Some(run) = c.first_run(p.combination) else {
                    continue;
                };
                let w = run.run.weights(of).map_err(|e| e.to_string())?;
                let color = pbn_plot::Rgb::cycle(k);
                let label = if combos.len() > 8 {
                    String::new()
                } else {
                    at_label(study, &p.values)
                };
                let t_s: Vec<f64> = w.t_ms.iter().map(|t| t * 1e-3).collect();
                series.push(pbn_plot::Series::new(label, t_s, w.mean.clone()).color(color));
                if *ode {
                    let spec = spec_with(study, &p.sets)?;
                    if let Ok((t, j)) = TheoryAt::new(&spec, &study.spec.theory).weight_trajectory(of) {
                        let t_s = t.iter().map(|t| t * 1e-3).collect();
                        series.push(
                            pbn_plot::Series::new("", t_s, j)
                                .color(color)
                                .kind(pbn_plot::LineKind::Dashed),
                        );
                    }
                }
            }
            let dashed = series.iter().any(|s| s.kind == pbn_plot::LineKind::Dashed);
            let title = if dashed {
                format!("{title} (dashed: mean-field ODE)")
            } else {
                title.clone()
            };
            pbn_plot::lines(
                stem,
                &title,
                "time (s)",
                &format!("mean weight {of} (unscaled j)"),
                &series,
                false,
                false,
                &[],
            )
            .map_err(err)
        }
        FigureSpec::PhaseLine {
            title,
            of,
            values,
            weights: [lo, hi],
            ..
        } => {
            let axis = study.spec.axes.first().ok_or("a phase line needs an axis")?;
            let base = base_sets(study, scale)?;
            let mut series = vec![];
            for (k, &v) in values.iter().enumerate() {
                let mut sets = base.clone();
                sets.extend(axis_sets(study, 0, v));
                let spec = spec_with(study, &sets)?;
                let (x, y) = TheoryAt::new(&spec, &study.spec.theory).phase_line(of, *lo, *hi, 200)?;
                series.push(
                    pbn_plot::Series::new(format!("{} = {}", axis.label(), label_value(v)), x, y)
                        .color(pbn_plot::Rgb::cycle(k)),
                );
            }
            let zero = [pbn_plot::RefLine::solid(0.0, "", pbn_plot::Rgb::GREY)];
            pbn_plot::lines(
                stem,
                title,
                &format!("mean weight {of} (unscaled j)"),
                "dj/dt (1/s), mean-field",
                &series,
                false,
                false,
                &zero,
            )
            .map_err(err)
        }
        FigureSpec::RateTraces { title, bin_ms, .. } => {
            let combos = c.combinations(&Default::default());
            let run = combos
                .first()
                .and_then(|p| c.first_run(p.combination))
                .ok_or("no finished point")?;
            let (t, rates) = run.run.population_rates().map_err(|e| e.to_string())?;
            let recorded = if t.len() > 1 { t[1] - t[0] } else { 1.0 };
            let group = ((bin_ms / recorded).round() as usize).max(1);
            let mut series = vec![];
            for (k, pop) in run.run.populations.iter().enumerate() {
                let col = rates.column(k);
                let (mut x, mut y) = (vec![], vec![]);
                for (chunk_t, chunk_r) in t.chunks(group).zip(col.chunks(group)) {
                    if chunk_t.len() == group {
                        x.push(chunk_t[group - 1] * 1e-3);
                        y.push(chunk_r.iter().sum::<f64>() / group as f64);
                    }
                }
                series.push(pbn_plot::Series::new(pop.name.clone(), x, y).color(pbn_plot::Rgb::cycle(k)));
            }
            pbn_plot::lines(
                stem,
                &format!("{title} ({} ms bins)", render(recorded * group as f64)),
                "time (s)",
                "population rate (Hz)",
                &series,
                false,
                false,
                &[],
            )
            .map_err(err)
        }
    }
}

fn short(m: &Measure) -> String {
    match m.quantity {
        Quantity::Rate => format!("rate {}", m.of),
        _ => format!("{} {}", m.quantity.words(), m.of),
    }
}

/// Theory modes that need a point's own run (measured correction, recorded spikes).
fn needs_runs(mode: TheoryMode) -> bool {
    matches!(mode, TheoryMode::CorrectedFixedPoint | TheoryMode::Rule)
}

/// The theory of `m` along the first axis on a fine grid (other axes and sets as at the scale's
/// base).
fn theory_curve(study: &Study, scale: &str, m: &Measure, mode: TheoryMode) -> Result<(Vec<f64>, Vec<f64>), String> {
    let axis = &study.spec.axes[0];
    let (mut x, mut y) = (vec![], vec![]);
    let values = crate::points::axis_values(study, scale)?.remove(0);
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let n = study.spec.theory.fine.max(2);
    let base = base_sets(study, scale)?;
    for k in 0..n {
        let f = k as f64 / (n - 1) as f64;
        let v = if axis.log {
            10f64.powf(lo.log10() + (hi.log10() - lo.log10()) * f)
        } else {
            lo + (hi - lo) * f
        };
        // Network sizes are whole numbers.
        let v = if axis.key == "n" { v.round() } else { v };
        let mut sets = base.clone();
        sets.extend(axis_sets(study, 0, v));
        let Ok(spec) = spec_with(study, &sets) else {
            continue;
        };
        if let Ok(Some(t)) = TheoryAt::new(&spec, &study.spec.theory).value(m, mode, None) {
            x.push(v);
            y.push(t);
        }
    }
    Ok((x, y))
}

/// Reads a study directory's `report.json`.
pub fn load(root: &Path) -> Result<Report, String> {
    let path = root.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies a finished study's report (`report.md`, `report.json`, PNG figures) into `into/NAME-SCALE`
/// (the run directories stay behind); returns the folder.
pub fn publish(root: &Path, into: &Path) -> Result<PathBuf, String> {
    let report = load(root)?;
    let dest = into.join(format!("{}-{}", report.study, report.scale));
    let figures = dest.join("figures");
    std::fs::create_dir_all(&figures).map_err(|e| format!("cannot create {}: {e}", figures.display()))?;
    for f in ["report.md", "report.json"] {
        let bytes = std::fs::read(root.join(f)).map_err(|e| format!("cannot read {}: {e}", root.join(f).display()))?;
        write_atomic(&dest.join(f), &bytes).map_err(|e| e.to_string())?;
    }
    for f in report.figures.iter().filter(|f| f.ends_with(".png")) {
        let bytes = std::fs::read(root.join(f)).map_err(|e| format!("cannot read {}: {e}", root.join(f).display()))?;
        write_atomic(&dest.join(f), &bytes).map_err(|e| e.to_string())?;
    }
    Ok(dest)
}

/// `REPRODUCTION.md`: one row per study and claim, from the published reports under `dir`
/// (paths in the table are relative to `dir`'s parent, where the file is written).
pub fn reproduction_index(dir: &Path) -> Result<String, String> {
    let mut reports: Vec<Report> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("report.json").exists())
        .map(|p| load(&p))
        .collect::<Result<_, _>>()?;
    reports.sort_by(|a, b| a.study.cmp(&b.study));
    let folder = dir
        .file_name()
        .map_or("reproduction".into(), |n| n.to_string_lossy().into_owned());
    let claims: usize = reports.iter().map(|r| r.claims.len()).sum();
    let passed: usize = reports
        .iter()
        .map(|r| r.claims.iter().filter(|c| c.verdict == Verdict::Pass).count())
        .sum();
    let wall: f64 = reports.iter().map(|r| r.simulation_wall_s).sum();
    let mut s = String::from("# Reproduction of the paper's findings\n\n");
    s += &format!(
        "Every row is a claim of a bundled study (`studies/`), judged by numbers: the simulation's value \
         (mean ± SD over realizations, or the range over the study's points), the mean-field theory for \
         the same points, the published value where the paper or the authors' code gives one, and the \
         test. {passed} of {claims} claims pass; the studies took {:.0} s of simulation wall time here \
         (2 cores). Each study's report, with its figures and a row per point, is linked; rerun one with \
         the command in its row (`--scale paper` for the paper's N, durations and learning rates). How \
         studies are written and judged: docs/studies.md.\n\n",
        wall
    );
    s += "| study | scale | claim | simulation | theory | published | test | verdict |\n|---|---|---|---|---|---|---|---|\n";
    for r in &reports {
        for c in &r.claims {
            s += &format!(
                "| [{}]({folder}/{}-{}/report.md) | {} | {} | {} | {} | {} | {} | {} |\n",
                r.study,
                r.study,
                r.scale,
                r.scale,
                c.name,
                simulated_cell(c),
                theory_cell(c),
                published_cell(c),
                c.summary.replace('|', "\\|"),
                verdict_word(c.verdict)
            );
        }
    }
    s += "\n## Studies\n\n| study | reproduces | scale | points | simulated | wall time | command |\n|---|---|---|---|---|---|---|\n";
    for r in &reports {
        s += &format!(
            "| {} | {} | {} | {}/{} | {:.0} s | {:.0} s | `{}` |\n",
            r.study, r.paper, r.scale, r.done, r.points, r.simulated_s, r.simulation_wall_s, r.command
        );
    }
    let notes: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.claims.iter().filter_map(move |c| {
                c.note
                    .as_ref()
                    .map(|n| format!("- **{}, {}**: {}", r.study, c.name, n.trim().replace('\n', " ")))
            })
        })
        .collect();
    if !notes.is_empty() {
        s += "\n## Where simulation and theory differ, and why\n\n";
        s += &notes.join("\n");
        s += "\n";
    }
    Ok(s)
}
