//! `pbn plot`: the standard figures of a run directory, as PNG and SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use pbn_analysis::{AnalyzeOptions, analyze_run};
use pbn_rundir::RunData;

#[derive(clap::Args)]
pub struct PlotArgs {
    /// Run directory written by `pbn run`.
    run_dir: PathBuf,
    /// Directory for the figures [default: RUN_DIR/plots].
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn plot(args: PlotArgs) -> Result<ExitCode, String> {
    crate::recover::if_killed(&args.run_dir)?;
    let run = RunData::open(&args.run_dir).map_err(|e| e.to_string())?;
    let out = args.out.unwrap_or_else(|| args.run_dir.join("plots"));
    let report = pbn_plot::plot_run_report(&run, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    if run.status() != "completed" {
        println!(
            "note: run status is '{}'; plotting the {} ms that were simulated",
            run.status(),
            run.simulated_ms
        );
    }
    let mut files = report.files;
    match covariance_figure(&run, &out) {
        Ok(Some(more)) => files.extend(more),
        Ok(None) => println!("skipped covariances: fewer than two 250 ms windows of spikes in the second half"),
        Err(e) => println!("skipped covariances: {e}"),
    }
    for f in &files {
        println!("wrote {}", f.display());
    }
    for (figure, why) in &report.skipped {
        println!("skipped {figure}: {why}");
    }
    if files.is_empty() {
        return Err(format!("{}: nothing to plot", args.run_dir.display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Distributions of pairwise spike-count covariances and correlations per population pair
/// (second half, 250 ms windows; the pairs `pbn analyze` samples).
fn covariance_figure(run: &RunData, out: &std::path::Path) -> Result<Option<Vec<PathBuf>>, String> {
    let analysis = analyze_run(run, &AnalyzeOptions::default()).map_err(|e| e.to_string())?;
    let Some(cov) = analysis.covariance else {
        return Ok(None);
    };
    // The legend gives the mean over all pairs (what `pbn analyze` reports); the histogram shows
    // the sampled pairs, whose mean can differ (even in sign) when the mean is small.
    type Pick = dyn Fn(&pbn_analysis::covariance::BlockCov) -> (Vec<f64>, f64);
    let hist = |pick: &Pick| -> Vec<pbn_plot::Hist> {
        cov.summary
            .blocks
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let (samples, all_pairs_mean) = pick(b);
                pbn_plot::Hist {
                    label: format!(
                        "{}–{}: {} sampled pairs; mean over all pairs {}",
                        b.a,
                        b.b,
                        samples.len(),
                        pbn_plot::fmt_value(all_pairs_mean)
                    ),
                    values: samples,
                    color: Some(pbn_plot::Rgb::cycle(k)),
                }
            })
            .collect()
    };
    let panel = |title: &str, x_label: &str, hists| {
        let mut p = pbn_plot::Panel::new(
            title,
            x_label,
            "probability density",
            pbn_plot::Content::Histograms {
                hists,
                bins: 60,
                density: true,
            },
        );
        p.vlines = vec![pbn_plot::RefLine::solid(0.0, "", pbn_plot::Rgb::BLACK)];
        p
    };
    let panels = [
        panel(
            "pairwise spike-count covariance",
            "covariance (spikes²)",
            hist(&|b| (b.cov_samples.clone(), b.mean_cov)),
        ),
        panel(
            "pairwise spike-count correlation",
            "correlation coefficient",
            hist(&|b| (b.corr_samples.clone(), b.mean_corr)),
        ),
    ];
    let title = format!(
        "Spike-count statistics, {} windows of {} ms, t ∈ ({}, {}] ms",
        cov.summary.windows, cov.summary.window_ms, analysis.from_ms, analysis.to_ms
    );
    pbn_plot::figure(&out.join("covariances"), &title, &panels, 2, None)
        .map(Some)
        .map_err(|e| e.to_string())
}
