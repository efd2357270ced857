//! `pbn`: simulate plastic balanced spiking networks (Akil, Rosenbaum & Josić 2021).
//!
//! Thin by design: parsing, progress and files; the science is in `pbn-core`.

mod analyze;
mod bench;
mod compare;
mod config;
mod plot;
mod progress;
mod recover;
mod resources;
mod resume;
mod run;
mod signals;
mod study;
mod theory;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "pbn", version, about = "Plastic balanced spiking networks: simulation from TOML configs", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a network and write a run directory (without CONFIG: the built-in default network).
    Run(run::RunArgs),
    /// Work with configs.
    Config {
        /// Print the fully commented default config.
        #[arg(long)]
        print_default: bool,
        /// Check a config (with --set overrides) and print it with every default filled in.
        #[arg(long, value_name = "CONFIG")]
        check: Option<PathBuf>,
        /// Override a key, e.g. --set n=2000 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Statistics of a run directory (rates, count covariances, weights, balance) into analysis.json.
    Analyze(analyze::AnalyzeArgs),
    /// Draw the standard figures (PNG + SVG) of a run directory.
    Plot(plot::PlotArgs),
    /// Mean-field predictions (rates, covariances, weight fixed points and dynamics) for a config.
    Theory(theory::TheoryArgs),
    /// Simulation vs theory as N grows (or along a parameter): runs, predicts, tabulates.
    Compare(compare::CompareArgs),
    /// Continue a stopped or killed run from its last checkpoint, or extend a finished one
    /// (--until-ms), with output identical to an uninterrupted run.
    Resume(resume::ResumeArgs),
    /// Turn the `.part` streams of a killed run into readable arrays cut at its last complete step.
    Recover(recover::RecoverArgs),
    /// Benchmark the engine: wall seconds per simulated second.
    Bench(bench::BenchArgs),
    /// The paper's studies: run matrices with theory, judged claims and reports.
    #[command(subcommand)]
    Study(study::StudyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Config {
            print_default,
            check,
            sets,
        } => config::config(print_default, check, &sets),
        Command::Analyze(args) => analyze::analyze(args),
        Command::Plot(args) => plot::plot(args),
        Command::Theory(args) => theory::theory(args),
        Command::Compare(args) => compare::compare(args),
        Command::Bench(args) => bench::bench(args),
        Command::Recover(args) => recover::recover(args),
        Command::Resume(args) => resume::resume(args),
        Command::Study(command) => study::study(command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {}", message.trim_end());
            ExitCode::from(2)
        }
    }
}
