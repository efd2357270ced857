//! The standard figures of a run directory.

use std::path::{Path, PathBuf};

use pbn_analysis::rate_weight::rate_weight;
use pbn_analysis::rates::neuron_rates_hz;
use pbn_core::spec::Sign;
use pbn_rundir::RunData;

use crate::{
    Content, Hist, Legend, Panel, PlotError, RasterGroup, RefLine, Rgb, ScatterGroup, Series, figure, fmt_value,
};

/// Files written by [`plot_run_report`], and the figures it skipped with the reason.
#[derive(Debug, Clone, Default)]
pub struct RunPlots {
    /// Every file written (PNG and SVG of each figure).
    pub files: Vec<PathBuf>,
    /// (figure, why it was skipped), e.g. ("weights", "no plastic projection recorded").
    pub skipped: Vec<(String, String)>,
}

/// Draws the standard figures of a run into `out_dir` (created if needed) and returns the files
/// written. Figures whose data were not recorded (or cannot be read) are skipped; see
/// [`plot_run_report`] for the reasons.
///
/// | file stem | content |
/// |---|---|
/// | `raster` | spikes of the last ≤ 2 s, a subset of ≤ 400 neurons, one colour per population |
/// | `rates` | population rates over time (re-binned to ≤ 600 points) |
/// | `weights_<block>` | mean ± SD over the block and sampled weights over time |
/// | `weight_hist_<block>` | weight distribution early (10 % of the run) vs at the end |
/// | `currents` | mean E/I/X input currents onto each population and their sum |
/// | `rate_weight_<block>` | per neuron: mean outgoing weight vs presynaptic rate, mean incoming weight vs postsynaptic rate, with linear fits |
pub fn plot_run(run: &RunData, out_dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    Ok(plot_run_report(run, out_dir)?.files)
}

/// [`plot_run`], also saying which figures were skipped and why. Errors only when a file cannot be
/// written or drawn; missing or unreadable data skip the figure.
pub fn plot_run_report(run: &RunData, out_dir: &Path) -> Result<RunPlots, PlotError> {
    std::fs::create_dir_all(out_dir)?;
    let ctx = RunCtx::new(run);
    let mut out = RunPlots::default();
    let mut take = |name: &str, r: Result<Figures, PlotError>| -> Result<(), PlotError> {
        match r {
            Ok(Figures::Written(f)) => out.files.extend(f),
            Ok(Figures::Skipped(why)) => out.skipped.push((name.to_string(), why)),
            Err(PlotError::Read(e)) => out.skipped.push((name.to_string(), e.to_string())),
            Err(e) => return Err(e),
        }
        Ok(())
    };
    take("raster", raster_figure(&ctx, out_dir))?;
    take("rates", rates_figure(&ctx, out_dir))?;
    let blocks = run.plastic_projections();
    if blocks.is_empty() {
        take(
            "weights",
            Ok(Figures::Skipped("no plastic projection with weight records".into())),
        )?;
    }
    for b in &blocks {
        take(&format!("weights_{b}"), weights_figure(&ctx, b, out_dir))?;
        take(&format!("weight_hist_{b}"), weight_hist_figure(&ctx, b, out_dir))?;
    }
    take("currents", currents_figure(&ctx, out_dir))?;
    for b in &blocks {
        take(&format!("rate_weight_{b}"), rate_weight_figure(&ctx, b, out_dir))?;
    }
    Ok(out)
}

enum Figures {
    Written(Vec<PathBuf>),
    Skipped(String),
}

struct RunCtx<'a> {
    run: &'a RunData,
    /// Simulated time (ms); the last spike or record time if meta.json lacks it.
    t_end: f64,
    /// Divide ms by this for the time axis.
    t_div: f64,
    t_unit: &'static str,
}

impl<'a> RunCtx<'a> {
    fn new(run: &'a RunData) -> Self {
        let t_end = if run.simulated_ms > 0.0 {
            run.simulated_ms
        } else {
            run.spec.duration_ms
        };
        let (t_div, t_unit) = if t_end >= 3000.0 { (1000.0, "s") } else { (1.0, "ms") };
        Self {
            run,
            t_end,
            t_div,
            t_unit,
        }
    }

    fn time_label(&self) -> String {
        format!("time ({})", self.t_unit)
    }

    /// Colour of a population or input by name: excitatory reds, inhibitory blues, inputs greens.
    fn color(&self, name: &str) -> Rgb {
        let spec = &self.run.spec;
        let mut ne = 0;
        let mut ni = 0;
        for p in &spec.populations {
            let c = match p.kind {
                Sign::Excitatory => {
                    ne += 1;
                    Rgb::EXC.shade(ne - 1)
                }
                Sign::Inhibitory => {
                    ni += 1;
                    Rgb::INH.shade(ni - 1)
                }
            };
            if p.name == name {
                return c;
            }
        }
        for (k, x) in spec.inputs.iter().enumerate() {
            if x.name == name {
                return Rgb::EXT.shade(k);
            }
        }
        Rgb::GREY
    }

    fn projection(&self, block: &str) -> (String, String, String, Option<f64>) {
        let p = self.run.meta["projections"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"].as_str() == Some(block)));
        match p {
            Some(p) => (
                p["from"].as_str().unwrap_or("?").to_string(),
                p["to"].as_str().unwrap_or("?").to_string(),
                p["plasticity"].as_str().unwrap_or("plastic").to_string(),
                p["weight"].as_f64(),
            ),
            None => (block.to_string(), "?".into(), "plastic".into(), None),
        }
    }

    fn title(&self, what: &str) -> String {
        let name = self
            .run
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.is_empty() {
            what.to_string()
        } else {
            format!("{what} — {name}")
        }
    }
}

/// Averages consecutive groups so that at most `max` points remain (x averaged too).
fn rebin(x: &[f64], y: &[f64], max: usize) -> (Vec<f64>, Vec<f64>) {
    let k = x.len().div_ceil(max.max(1)).max(1);
    if k == 1 {
        return (x.to_vec(), y.to_vec());
    }
    x.chunks(k)
        .zip(y.chunks(k))
        .map(|(a, b)| {
            (
                a.iter().sum::<f64>() / a.len() as f64,
                b.iter().sum::<f64>() / b.len() as f64,
            )
        })
        .unzip()
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn raster_figure(c: &RunCtx, out: &Path) -> Result<Figures, PlotError> {
    let run = c.run;
    if !run.has("spike_times_ms.npy") {
        return Ok(Figures::Skipped("spikes were not recorded".into()));
    }
    let (times, ids) = run.spikes()?;
    if times.is_empty() {
        return Ok(Figures::Skipped("no spikes".into()));
    }
    let t_end = times.iter().copied().fold(c.t_end, f64::max);
    let total: usize = run.populations.iter().map(|p| p.len).sum::<usize>().max(1);
    const MAX_ROWS: usize = 400;
    let shown: Vec<usize> = run
        .populations
        .iter()
        .map(|p| {
            p.len
                .min(((MAX_ROWS * p.len) as f64 / total as f64).round().max(10.0) as usize)
        })
        .collect();
    // At most ~200k spikes in the figure (the SVG stays a few MB): shorten the window if needed.
    let mut window = 2000f64.min(t_end);
    let count_in = |w: f64| {
        times
            .iter()
            .zip(&ids)
            .filter(|(t, id)| {
                **t >= t_end - w
                    && run.populations.iter().zip(&shown).any(|(p, &s)| {
                        let i = **id as usize;
                        i >= p.start && i < p.start + s
                    })
            })
            .count()
    };
    while window > 50.0 && count_in(window) > 200_000 {
        window /= 2.0;
    }
    let t0 = t_end - window;
    let mut groups = Vec::new();
    let mut offset = 0usize;
    for (p, &s) in run.populations.iter().zip(&shown) {
        let (mut gt, mut gr) = (Vec::new(), Vec::new());
        for (&t, &id) in times.iter().zip(&ids) {
            let i = id as usize;
            if t >= t0 && i >= p.start && i < p.start + s {
                gt.push(t / c.t_div);
                gr.push((offset + i - p.start) as f64);
            }
        }
        let label = if s < p.len {
            format!("{} ({s} of {})", p.name, p.len)
        } else {
            p.name.clone()
        };
        groups.push(RasterGroup {
            label,
            times: gt,
            rows: gr,
            color: c.color(&p.name),
        });
        offset += s;
    }
    let mut panel = Panel::new(
        "",
        c.time_label(),
        "neuron (per population, in id order)",
        Content::Raster(groups),
    );
    panel.x_range = Some((t0 / c.t_div, t_end / c.t_div));
    let title = c.title(&format!("Spike raster, last {} ms", fmt_value(window)));
    Ok(Figures::Written(figure(
        &out.join("raster"),
        &title,
        &[panel],
        1,
        Some((1100, 700)),
    )?))
}

fn rates_figure(c: &RunCtx, out: &Path) -> Result<Figures, PlotError> {
    let run = c.run;
    if !run.has("population_rates_hz.npy") {
        return Ok(Figures::Skipped("population rates were not recorded".into()));
    }
    let (t, m) = run.population_rates()?;
    if t.is_empty() || m.rows == 0 {
        return Ok(Figures::Skipped("no rate bins".into()));
    }
    let rows = t.len().min(m.rows);
    let half = t[rows - 1] / 2.0;
    let mut series = Vec::new();
    for (k, p) in run.populations.iter().enumerate().take(m.cols) {
        let y: Vec<f64> = m.column(k)[..rows].to_vec();
        let late: Vec<f64> = t
            .iter()
            .zip(&y)
            .filter(|(tt, _)| **tt > half)
            .map(|(_, v)| *v)
            .collect();
        let xs: Vec<f64> = t[..rows].iter().map(|v| v / c.t_div).collect();
        let (x, y) = rebin(&xs, &y, 400);
        let label = format!("{} (mean {} Hz, 2nd half)", p.name, fmt_value(mean(&late)));
        series.push(Series::new(label, x, y).color(c.color(&p.name)));
    }
    let mut panel = Panel::new("", c.time_label(), "population rate (Hz)", Content::Lines(series));
    panel.x_range = Some((0.0, c.t_end / c.t_div));
    panel.include_zero = true;
    let recorded_ms = if rows > 1 { t[1] - t[0] } else { t[0] };
    let shown_ms = recorded_ms * rows.div_ceil(400).max(1) as f64;
    let title = c.title(&format!("Population rates ({} ms bins)", fmt_value(shown_ms)));
    Ok(Figures::Written(figure(
        &out.join("rates"),
        &title,
        &[panel],
        1,
        Some((1100, 600)),
    )?))
}

fn weights_figure(c: &RunCtx, block: &str, out: &Path) -> Result<Figures, PlotError> {
    let w = c.run.weights(block)?;
    let n = w.t_ms.len().min(w.mean.len()).min(w.std.len());
    if n == 0 {
        return Ok(Figures::Skipped("no weight records".into()));
    }
    let (from, to, rule, j0) = c.projection(block);
    let x: Vec<f64> = w.t_ms[..n].iter().map(|v| v / c.t_div).collect();
    let mut series = Vec::new();
    let k_show = w.samples.cols.min(40);
    let rows = w.samples.rows.min(n);
    for s in 0..k_show {
        let y: Vec<f64> = (0..rows).map(|r| w.samples.data[r * w.samples.cols + s]).collect();
        let label = if s == 0 {
            format!("{k_show} of {} sampled synapses", w.samples.cols)
        } else {
            String::new()
        };
        series.push(
            Series::new(label, x[..rows].to_vec(), y)
                .color(Rgb::GREY)
                .width(1)
                .alpha(0.45),
        );
    }
    let lo: Vec<f64> = (0..n).map(|i| w.mean[i] - w.std[i]).collect();
    let hi: Vec<f64> = (0..n).map(|i| w.mean[i] + w.std[i]).collect();
    let col = c.color(&from);
    series.push(
        Series::new(
            format!(
                "block mean ± SD (end: {} ± {})",
                fmt_value(w.mean[n - 1]),
                fmt_value(w.std[n - 1])
            ),
            x.clone(),
            w.mean[..n].to_vec(),
        )
        .color(col)
        .width(3)
        .band(lo, hi),
    );
    let mut panel = Panel::new("", c.time_label(), "unscaled weight j", Content::Lines(series));
    panel.x_range = Some((0.0, c.t_end.max(w.t_ms[n - 1]) / c.t_div));
    if let Some(j0) = j0 {
        panel.hlines.push(RefLine::dashed(
            j0,
            format!("initial j = {}", fmt_value(j0)),
            Rgb::BLACK,
        ));
    }
    panel.legend = Legend::UpperLeft;
    let title = c.title(&format!("Weights {from} → {to} ({rule})"));
    Ok(Figures::Written(figure(
        &out.join(format!("weights_{block}")),
        &title,
        &[panel],
        1,
        Some((1100, 650)),
    )?))
}

fn weight_hist_figure(c: &RunCtx, block: &str, out: &Path) -> Result<Figures, PlotError> {
    let w = c.run.weights(block)?;
    let rows = w.samples.rows.min(w.t_ms.len());
    if rows == 0 || w.samples.cols == 0 {
        return Ok(Figures::Skipped("no sampled weights".into()));
    }
    let (from, to, rule, j0) = c.projection(block);
    let t_last = w.t_ms[rows - 1];
    let early = w.t_ms[..rows].iter().position(|&t| t >= 0.1 * t_last).unwrap_or(0);
    let mut hists = vec![Hist {
        label: format!("t = {} {} (sampled)", fmt_value(w.t_ms[early] / c.t_div), c.t_unit),
        values: w.samples.row(early).to_vec(),
        color: Some(Rgb::cycle(0)),
    }];
    let final_w = c.run.final_weights(block).ok().flatten().filter(|f| !f.j.is_empty());
    match final_w {
        Some(f) => hists.push(Hist {
            label: format!(
                "end, t = {} {} (all {} synapses)",
                fmt_value(c.t_end / c.t_div),
                c.t_unit,
                f.j.len()
            ),
            values: f.j,
            color: Some(Rgb::cycle(1)),
        }),
        None if early != rows - 1 => hists.push(Hist {
            label: format!("t = {} {} (sampled)", fmt_value(t_last / c.t_div), c.t_unit),
            values: w.samples.row(rows - 1).to_vec(),
            color: Some(Rgb::cycle(1)),
        }),
        None => {}
    }
    let mut panel = Panel::new(
        "",
        "unscaled weight j",
        "probability density (1/weight unit)",
        Content::Histograms {
            hists,
            bins: 50,
            density: true,
        },
    );
    if let Some(j0) = j0 {
        panel.vlines.push(RefLine::dashed(
            j0,
            format!("initial j = {}", fmt_value(j0)),
            Rgb::BLACK,
        ));
    }
    let title = c.title(&format!("Weight distribution {from} → {to} ({rule}), early vs late"));
    Ok(Figures::Written(figure(
        &out.join(format!("weight_hist_{block}")),
        &title,
        &[panel],
        1,
        Some((1100, 650)),
    )?))
}

fn currents_figure(c: &RunCtx, out: &Path) -> Result<Figures, PlotError> {
    let run = c.run;
    let Some(nr) = run.neurons()? else {
        return Ok(Figures::Skipped(
            "no neurons were sampled (record.neuron_samples = 0)".into(),
        ));
    };
    if nr.t_ms.is_empty() || nr.currents.is_empty() {
        return Ok(Figures::Skipped("no current records".into()));
    }
    let mut panels = Vec::new();
    for p in &run.populations {
        let cols: Vec<usize> = nr
            .ids
            .iter()
            .enumerate()
            .filter(|(_, id)| (**id as usize) >= p.start && (**id as usize) < p.start + p.len)
            .map(|(k, _)| k)
            .collect();
        if cols.is_empty() {
            continue;
        }
        let q = nr.t_ms.len();
        let xs: Vec<f64> = nr.t_ms.iter().map(|t| t / c.t_div).collect();
        let mut total = vec![0.0; q];
        let mut series = Vec::new();
        for (src, m) in &nr.currents {
            let rows = q.min(m.rows);
            let y: Vec<f64> = (0..rows)
                .map(|r| cols.iter().map(|&k| m.data[r * m.cols + k]).sum::<f64>() / cols.len() as f64)
                .collect();
            for (tot, v) in total.iter_mut().zip(&y) {
                *tot += v;
            }
            let (x, yb) = rebin(&xs[..rows], &y, 600);
            series.push(Series::new(format!("from {src} (mean {})", fmt_value(mean(&y))), x, yb).color(c.color(src)));
        }
        let names: Vec<&str> = nr.currents.iter().map(|(s, _)| s.as_str()).collect();
        let (x, yb) = rebin(&xs, &total, 600);
        series.push(
            Series::new(
                format!("total {} (mean {})", names.join("+"), fmt_value(mean(&total))),
                x,
                yb,
            )
            .color(Rgb::BLACK)
            .width(3),
        );
        let mut panel = Panel::new(
            format!("onto {} (mean of {} sampled neurons)", p.name, cols.len()),
            c.time_label(),
            "input current (mV/ms)",
            Content::Lines(series),
        );
        panel.hlines.push(RefLine::solid(0.0, "", Rgb::GREY));
        panel.x_range = Some((0.0, c.t_end / c.t_div));
        panels.push(panel);
    }
    if panels.is_empty() {
        return Ok(Figures::Skipped("no sampled neuron belongs to a population".into()));
    }
    let title = c.title("Input currents (block-averaged) and their sum");
    Ok(Figures::Written(figure(
        &out.join("currents"),
        &title,
        &panels,
        1,
        Some((1100, 520)),
    )?))
}

fn rate_weight_figure(c: &RunCtx, block: &str, out: &Path) -> Result<Figures, PlotError> {
    let run = c.run;
    let Some(fw) = run.final_weights(block)? else {
        return Ok(Figures::Skipped("final weights were not written".into()));
    };
    if !run.has("spike_times_ms.npy") {
        return Ok(Figures::Skipped("spikes were not recorded".into()));
    }
    if fw.j.is_empty() || c.t_end <= 0.0 {
        return Ok(Figures::Skipped("no synapses or no simulated time".into()));
    }
    let (times, ids) = run.spikes()?;
    let n: usize = run.populations.iter().map(|p| p.start + p.len).max().unwrap_or(0);
    let from_t = c.t_end / 2.0;
    let rates = neuron_rates_hz(&times, &ids, n, from_t, c.t_end);
    // Mean weight per presynaptic (outgoing) and per postsynaptic (incoming) neuron vs its rate.
    let per_neuron = |key: &[u32]| {
        let rw = rate_weight(key, &fw.j, &rates);
        (rw.pre_rate_hz, rw.pre_mean_j)
    };
    let (from, to, rule, _) = c.projection(block);
    let half = fmt_value(from_t / c.t_div);
    let panel = |role: &str, who: &str, weight: &str, (x, y): (Vec<f64>, Vec<f64>)| {
        Panel::new(
            format!("per {role} {who} neuron ({} neurons)", x.len()),
            format!("rate of the {who} neuron (Hz, t > {half} {})", c.t_unit),
            format!("mean {weight} weight j"),
            Content::Scatter {
                groups: vec![ScatterGroup {
                    label: format!("{who} neurons"),
                    x,
                    y,
                    color: Some(c.color(who)),
                }],
                fit: true,
            },
        )
    };
    let pre = panel("presynaptic", &from, "outgoing", per_neuron(&fw.pre));
    let post = panel("postsynaptic", &to, "incoming", per_neuron(&fw.post));
    let title = c.title(&format!("Final weights vs rates, {from} → {to} ({rule})"));
    Ok(Figures::Written(figure(
        &out.join(format!("rate_weight_{block}")),
        &title,
        &[pre, post],
        2,
        Some((900, 640)),
    )?))
}
