//! `pbn plot`: the standard figures of a run directory, as PNG and SVG.

use std::path::PathBuf;
use std::process::ExitCode;

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
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    for (figure, why) in &report.skipped {
        println!("skipped {figure}: {why}");
    }
    if report.files.is_empty() {
        return Err(format!("{}: nothing to plot", args.run_dir.display()));
    }
    Ok(ExitCode::SUCCESS)
}
