//! `pbn recover`: readable arrays from a run that was killed (SIGKILL, out of memory, power loss).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RecoverArgs {
    /// Run directory whose meta.json still says `running`.
    run_dir: PathBuf,
}

pub fn recover(args: RecoverArgs) -> Result<ExitCode, String> {
    report(&args.run_dir, &pbn_rundir::recover(&args.run_dir)?);
    Ok(ExitCode::SUCCESS)
}

/// Recovers `dir` first if it was left by a killed run (what `analyze` and `plot` do before
/// reading), saying so on stderr.
pub fn if_killed(dir: &Path) -> Result<(), String> {
    if pbn_rundir::was_killed(dir) {
        eprintln!("{} was left by a killed run; recovering it first", dir.display());
        report(dir, &pbn_rundir::recover(dir)?);
    }
    Ok(())
}

fn report(dir: &Path, r: &pbn_rundir::Recovery) {
    eprintln!(
        "recovered {}: arrays cut at t = {} ms (the last step whose spikes were all written); status `interrupted`",
        dir.display(),
        r.cut_ms
    );
    for (name, n) in &r.arrays {
        eprintln!("  {name}: {n}");
    }
}
