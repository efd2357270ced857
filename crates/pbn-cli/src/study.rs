//! `pbn study`: the paper's studies as one command each (list, run, report, status).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use pbn_study::executor::{LocalOptions, PointState, StudyProgress};
use pbn_study::points::{Point, spec_with};
use pbn_study::{Study, Verdict, slurm};

#[derive(clap::Subcommand)]
pub enum StudyCommand {
    /// List the study catalogue.
    List(CatalogueArgs),
    /// Run a study's points (skipping finished ones) and write its report.
    Run(Box<RunArgs>),
    /// Rebuild figures and report from a study directory's finished points.
    Report {
        /// Study directory.
        dir: PathBuf,
    },
    /// Show which points of a study directory are done, running, pending or failed (and, for
    /// the Slurm executor, what is still in Slurm's queue).
    Status {
        /// Study directory.
        dir: PathBuf,
    },
    /// Run the points of one Slurm array task (what the job script of `--executor slurm` calls).
    RunPoint(RunPointArgs),
    /// Copy finished studies' reports and figures into a folder (default `reproduction/`) and
    /// rewrite its index (`REPRODUCTION.md` beside it) from every report there.
    Publish {
        /// Study directories.
        dirs: Vec<PathBuf>,
        /// Folder that receives the reports.
        #[arg(long, default_value = "reproduction")]
        into: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct CatalogueArgs {
    /// Directory of study files.
    #[arg(long, default_value = "studies")]
    studies: PathBuf,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Study name (from `pbn study list`) or path to a study file.
    study: String,
    /// `quick` (minutes on two cores) or `paper` (the paper's N, durations and learning rates).
    #[arg(long, default_value = "quick")]
    scale: String,
    /// Study directory [default: study/<name>-<scale>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Points run at the same time [default: cores / threads].
    #[arg(long)]
    jobs: Option<usize>,
    /// Threads per point (results are identical for any number; 0 = all cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run even if the points running at once are estimated to need more memory than is
    /// available (see `pbn run --help`).
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Directory of study files (for names).
    #[arg(long, default_value = "studies")]
    studies: PathBuf,
    /// Where the points run, and how they are submitted to Slurm.
    #[command(flatten)]
    slurm: SlurmArgs,
}

/// `--executor` and the Slurm options, shared by `pbn study run` and `pbn compare`.
#[derive(clap::Args, Clone)]
pub struct SlurmArgs {
    /// Where the points run: on this machine, or as a Slurm job array (submitted with sbatch;
    /// the command returns at once unless --wait).
    #[arg(long, value_enum, default_value = "local")]
    pub executor: Executor,
    /// Slurm: wait until the array has finished (with a progress display), then report.
    #[arg(long)]
    wait: bool,
    /// Slurm: partition.
    #[arg(long)]
    partition: Option<String>,
    /// Slurm: time limit per array task (HH:MM:SS).
    #[arg(long)]
    time: Option<String>,
    /// Slurm: CPUs per array task; each point runs with this many threads [default: --threads].
    #[arg(long)]
    cpus_per_task: Option<usize>,
    /// Slurm: memory per array task (e.g. 4G).
    #[arg(long)]
    mem: Option<String>,
    /// Slurm: at most this many array tasks at once.
    #[arg(long)]
    max_parallel: Option<usize>,
    /// Slurm: points per array task, run one after the other (for many tiny points).
    #[arg(long, default_value_t = 1)]
    points_per_task: usize,
    /// Slurm: a further sbatch option, e.g. --sbatch-arg=--account=lab (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
}

/// Where a study's points run.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Executor {
    /// Points in parallel on this machine.
    Local,
    /// A Slurm job array.
    Slurm,
}

#[derive(clap::Args)]
pub struct RunPointArgs {
    /// Study directory.
    dir: PathBuf,
    /// The submission's tasks file (`slurm/tasks-K.json`).
    #[arg(long)]
    tasks: PathBuf,
    /// Array task index (`$SLURM_ARRAY_TASK_ID`).
    #[arg(long)]
    task: usize,
    /// Threads per point.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

pub fn study(command: StudyCommand) -> Result<ExitCode, String> {
    match command {
        StudyCommand::List(args) => list(&args.studies),
        StudyCommand::Run(args) => run(*args),
        StudyCommand::Report { dir } => report(&dir),
        StudyCommand::Status { dir } => status(&dir),
        StudyCommand::RunPoint(args) => run_point(args),
        StudyCommand::Publish { dirs, into } => publish(&dirs, &into),
    }
}

fn list(dir: &Path) -> Result<ExitCode, String> {
    let studies = pbn_study::catalogue(dir)?;
    println!("{:<28} {:<12} {:>6} {:>6}  title", "study", "paper", "quick", "paper");
    for s in &studies {
        let count = |scale: &str| pbn_study::points::expand(s, scale).map_or("?".into(), |p| p.len().to_string());
        println!(
            "{:<28} {:<12} {:>6} {:>6}  {}",
            s.name,
            s.spec.paper,
            count("quick"),
            count("paper"),
            s.spec.title
        );
    }
    println!("\n(points per scale; run one with `pbn study run NAME [--scale quick|paper]`)");
    Ok(ExitCode::SUCCESS)
}

/// One bar for the whole study: simulated time over all pending points.
struct Bar {
    bar: Option<ProgressBar>,
    done: AtomicUsize,
    total: usize,
    ms: AtomicU64,
}

impl StudyProgress for Bar {
    fn advanced(&self, ms: f64) {
        let now = self.ms.fetch_add(ms.round() as u64, Ordering::Relaxed) + ms.round() as u64;
        if let Some(b) = &self.bar {
            b.set_position(now);
        }
    }

    fn point_ended(&self, point: &Point, state: &PointState, wall_s: f64) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let line = match state {
            PointState::Done => format!("  point {} done in {wall_s:.1} s", point.index),
            PointState::Failed(why) => format!("  point {} failed: {why}", point.index),
            _ => format!("  point {} stopped; it restarts on the next run", point.index),
        };
        match &self.bar {
            Some(b) => {
                b.set_message(format!("{done}/{} points", self.total));
                b.suspend(|| eprintln!("{line}"));
            }
            None => eprintln!("{line}"),
        }
    }
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let study = pbn_study::find(&args.study, &args.studies)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("study").join(format!("{}-{}", study.name, args.scale)));
    let manifest = pbn_study::prepare(&study, &args.scale, &out)?;
    let pending = pbn_study::executor::pending(&manifest, &out);
    let total_ms: f64 = pending
        .iter()
        .map(|p| spec_with(&study, &p.sets).map_or(0.0, |s| s.duration_ms))
        .sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = crate::resources::resolve_threads(args.threads);
    let jobs = args.jobs.unwrap_or((cores / threads).max(1)).max(1);
    if args.slurm.executor == Executor::Slurm {
        return match run_on_slurm(
            &args.slurm,
            &study,
            &manifest,
            &out,
            pending,
            threads,
            args.force,
            args.quiet,
        )? {
            SlurmOutcome::Finished(states) => finish(&study, &manifest, &out, states),
            SlurmOutcome::Submitted => Ok(ExitCode::SUCCESS),
            SlurmOutcome::StoppedWaiting => Ok(ExitCode::from(130)),
        };
    }
    largest_fits(&study, &pending, jobs, threads, args.force, args.quiet)?;
    eprintln!(
        "pbn study {} ({}), scale {}: {} points, {} to run, {jobs} at a time × {threads} thread(s); directory {}",
        study.name,
        study.spec.title,
        args.scale,
        manifest.points.len(),
        pending.len(),
        out.display()
    );
    let bar = (!args.quiet && std::io::stderr().is_terminal() && !pending.is_empty()).then(|| {
        let b = ProgressBar::new(total_ms.round() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} ms simulated  [{elapsed_precise} < {eta_precise}]  {msg}",
            )
            .expect("valid template"),
        );
        b.set_message(format!("0/{} points", pending.len()));
        b.enable_steady_tick(Duration::from_millis(250));
        b
    });
    let progress = Bar {
        bar,
        done: AtomicUsize::new(0),
        total: pending.len(),
        ms: AtomicU64::new(0),
    };
    let stop = crate::signals::stop_flag();
    let states = pbn_study::run_local(
        &study,
        &manifest,
        &out,
        &LocalOptions {
            jobs,
            threads,
            stop: &stop,
            progress: &progress,
        },
    );
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    if stop.load(Ordering::SeqCst) {
        let done = states.iter().filter(|s| **s == PointState::Done).count();
        eprintln!(
            "interrupted: {done} of {} points are finished and kept; run the same command again to finish the rest",
            states.len()
        );
        return Ok(ExitCode::from(130));
    }
    finish(&study, &manifest, &out, states)
}

/// How a Slurm submission ended for the caller.
pub enum SlurmOutcome {
    /// Every point is finished (nothing to submit, or waited for): their states.
    Finished(Vec<PointState>),
    /// Submitted (or still queued); not waiting.
    Submitted,
    /// Stopped waiting (Ctrl-C); the array keeps running.
    StoppedWaiting,
}

/// `--executor slurm`: submits the unfinished points that are not in Slurm's queue already as one
/// job array; with `--wait`, waits for the queue to empty.
#[allow(clippy::too_many_arguments)]
pub fn run_on_slurm(
    args: &SlurmArgs,
    study: &Study,
    manifest: &pbn_study::Manifest,
    out: &Path,
    pending: Vec<&Point>,
    threads: usize,
    force: bool,
    quiet: bool,
) -> Result<SlurmOutcome, String> {
    slurm::available()?;
    let in_queue = slurm::points_in_queue(out)?;
    let to_submit: Vec<&Point> = pending.into_iter().filter(|p| !in_queue.contains(&p.index)).collect();
    let cpus = args.cpus_per_task.unwrap_or(threads).max(1);
    // Each array task gets its own node share: check one task's largest point.
    largest_fits(study, &to_submit, 1, cpus, force, quiet)?;
    if !to_submit.is_empty() {
        let options = slurm::SlurmOptions {
            partition: args.partition.clone(),
            time: args.time.clone(),
            cpus_per_task: cpus,
            mem: args.mem.clone(),
            max_parallel: args.max_parallel,
            sbatch_args: args.sbatch_args.clone(),
            points_per_task: args.points_per_task,
            pbn: std::env::current_exe().map_err(|e| format!("cannot find the pbn binary: {e}"))?,
        };
        let sub = slurm::submit(manifest, out, &to_submit, &options)?;
        println!(
            "submitted job {}: {} array task(s) for {} point(s) of {} ({} scale); script {}",
            sub.job_id,
            sub.tasks.len(),
            to_submit.len(),
            study.name,
            manifest.scale,
            out.join(&sub.script).display()
        );
    }
    if !in_queue.is_empty() {
        println!(
            "{} point(s) are still in Slurm's queue from earlier submissions",
            in_queue.len()
        );
    }
    let states = || manifest.points.iter().map(|p| pbn_study::point_state(out, p)).collect();
    if to_submit.is_empty() && in_queue.is_empty() {
        return Ok(SlurmOutcome::Finished(states()));
    }
    if !args.wait {
        println!(
            "`pbn study status {}` shows progress; run this command again with --wait to wait for the report",
            out.display()
        );
        return Ok(SlurmOutcome::Submitted);
    }
    let stop = crate::signals::stop_flag();
    let total = manifest.points.len();
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(total as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} points done  [{elapsed_precise}]  {msg}")
                .expect("valid template"),
        );
        b.enable_steady_tick(Duration::from_millis(250));
        b
    });
    let ids: Vec<String> = slurm::submissions(out)?.into_iter().map(|s| s.job_id).collect();
    loop {
        let queued = slurm::queued(&ids)?;
        let done = manifest
            .points
            .iter()
            .filter(|p| matches!(pbn_study::point_state(out, p), PointState::Done | PointState::Failed(_)))
            .count();
        if let Some(b) = &bar {
            b.set_position(done as u64);
            let running = queued.iter().filter(|q| q.state == "RUNNING").count();
            b.set_message(format!("{running} task(s) running, {} queued", queued.len() - running));
        }
        if queued.is_empty() {
            break;
        }
        if stop.load(Ordering::SeqCst) {
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            eprintln!(
                "stopped waiting; the job array keeps running (`pbn study status {}`)",
                out.display()
            );
            return Ok(SlurmOutcome::StoppedWaiting);
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(SlurmOutcome::Finished(states()))
}

/// Progress of an array task: one line per point on stderr (the task's log).
struct TaskLog;

impl StudyProgress for TaskLog {
    fn advanced(&self, _ms: f64) {}

    fn point_ended(&self, point: &Point, state: &PointState, wall_s: f64) {
        eprintln!("point {}: {state:?} after {wall_s:.1} s", point.index);
    }
}

/// `pbn study run-point`: the points of one array task, one after the other; exit 130 when
/// stopped by a signal (each point keeps its checkpoint), 0 otherwise.
fn run_point(args: RunPointArgs) -> Result<ExitCode, String> {
    let (study, manifest) = load(&args.dir)?;
    let indices = slurm::task_points(&args.tasks, args.task)?;
    let stop = crate::signals::stop_flag();
    let options = LocalOptions {
        jobs: 1,
        threads: crate::resources::resolve_threads(args.threads),
        stop: &stop,
        progress: &TaskLog,
    };
    for i in indices {
        let point = manifest
            .points
            .get(i)
            .ok_or_else(|| format!("{} has no point {i}", args.dir.display()))?;
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if matches!(
            pbn_study::point_state(&args.dir, point),
            PointState::Done | PointState::Failed(_)
        ) {
            continue;
        }
        let started = std::time::Instant::now();
        let state = pbn_study::executor::run_point(&study, point, &args.dir, &options);
        options
            .progress
            .point_ended(point, &state, started.elapsed().as_secs_f64());
    }
    Ok(if stop.load(Ordering::SeqCst) {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

/// Refuses (unless forced) when `jobs` of the largest pending points at once would not fit in
/// memory.
pub fn largest_fits(
    study: &Study,
    pending: &[&Point],
    jobs: usize,
    threads: usize,
    force: bool,
    quiet: bool,
) -> Result<(), String> {
    let largest = pending
        .iter()
        .filter_map(|p| spec_with(study, &p.sets).ok())
        .map(|spec| pbn_core::MemoryEstimate::new(&spec, threads))
        .max_by(|a, b| a.peak_bytes().total_cmp(&b.peak_bytes()));
    match largest {
        Some(estimate) => crate::resources::check_memory(&estimate, jobs.min(pending.len()), force, quiet),
        None => Ok(()),
    }
}

fn finish(
    study: &Study,
    manifest: &pbn_study::Manifest,
    out: &Path,
    states: Vec<PointState>,
) -> Result<ExitCode, String> {
    let report = pbn_study::report::build(study, manifest, out, states)?;
    print_claims(&report);
    println!("report: {}", out.join("report.md").display());
    Ok(match report.verdict() {
        Verdict::Pass => ExitCode::SUCCESS,
        Verdict::Fail => ExitCode::from(1),
        Verdict::Incomplete => ExitCode::from(3),
    })
}

fn print_claims(r: &pbn_study::Report) {
    println!(
        "\n{} ({} scale): {}/{} points, {:.0} s simulated in {:.0} s wall",
        r.study, r.scale, r.done, r.points, r.simulated_s, r.simulation_wall_s
    );
    for c in &r.claims {
        let v = match c.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Incomplete => "incomplete",
        };
        println!(
            "  [{v:^10}] {}: sim {}, theory {} — {}",
            c.name,
            pbn_study::report::simulated_cell(c),
            pbn_study::report::theory_cell(c),
            c.summary
        );
    }
    for (label, why) in &r.failed {
        println!("  failed point {label}: {why}");
    }
}

fn load(dir: &Path) -> Result<(Study, pbn_study::Manifest), String> {
    let manifest = pbn_study::load_manifest(dir)?;
    // The study as it was when the directory was made.
    let study = Study::from_parts(
        &manifest.study,
        &dir.join("manifest.json"),
        &manifest.study_text,
        &manifest.config_text,
    )?;
    Ok((study, manifest))
}

fn report(dir: &Path) -> Result<ExitCode, String> {
    let (study, manifest) = load(dir)?;
    let states = manifest.points.iter().map(|p| pbn_study::point_state(dir, p)).collect();
    finish(&study, &manifest, dir, states)
}

fn status(dir: &Path) -> Result<ExitCode, String> {
    let (study, manifest) = load(dir)?;
    let mut counts = [0usize; 4];
    println!(
        "{} at scale {}: {} points",
        manifest.study,
        manifest.scale,
        manifest.points.len()
    );
    for p in &manifest.points {
        let state = pbn_study::point_state(dir, p);
        let (k, word) = match &state {
            PointState::Done => (0, "done".to_string()),
            PointState::Running => (1, "running (or killed while running)".to_string()),
            PointState::Pending => (2, "pending".to_string()),
            PointState::Failed(why) => (3, format!("failed: {why}")),
        };
        counts[k] += 1;
        println!("  {:<10} {:<40} {word}", p.dir(), p.label(&study));
    }
    println!(
        "done {}, running {}, pending {}, failed {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    let submissions = slurm::submissions(dir)?;
    if !submissions.is_empty() {
        let ids: Vec<String> = submissions.iter().map(|s| s.job_id.clone()).collect();
        match slurm::queued(&ids) {
            Ok(queued) => {
                for s in &submissions {
                    let mine: Vec<&slurm::QueuedTask> = queued.iter().filter(|q| q.job_id == s.job_id).collect();
                    let mut by_state = std::collections::BTreeMap::new();
                    for q in &mine {
                        *by_state.entry(q.state.to_lowercase()).or_insert(0) += 1;
                    }
                    let states: Vec<String> = by_state.iter().map(|(k, n)| format!("{n} {k}")).collect();
                    println!(
                        "slurm job {} ({}, {} task(s)): {}",
                        s.job_id,
                        s.script,
                        s.tasks.len(),
                        if states.is_empty() {
                            "no longer in the queue".to_string()
                        } else {
                            states.join(", ")
                        }
                    );
                }
            }
            Err(e) => println!("slurm: {e}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(dirs: &[PathBuf], into: &Path) -> Result<ExitCode, String> {
    for d in dirs {
        let dest = pbn_study::report::publish(d, into)?;
        println!("published {} → {}", d.display(), dest.display());
    }
    let index = pbn_study::report::reproduction_index(into)?;
    let path = into
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("REPRODUCTION.md");
    pbn_rundir::write_atomic(&path, index.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("index: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
