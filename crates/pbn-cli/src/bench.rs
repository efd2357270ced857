//! `pbn bench`: wall seconds per simulated second on the reference benchmark network.

use std::process::ExitCode;
use std::time::Instant;

use pbn_core::{MemorySink, NetworkSpec, Phase, SimOptions, Simulation, ThreadPacing};
use serde_json::json;

/// The benchmark network: the default network with iSTDP on I→E (examples/istdp_i_to_e.toml),
/// correlated input c = 0.1.
const BENCH_CONFIG: &str = include_str!("../../../examples/istdp_i_to_e.toml");

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Network size N.
    #[arg(long, default_value_t = 5000)]
    n: u64,
    /// Worker threads (0: all available cores; more than the available cores are reduced to
    /// them). Unlike `pbn run`, the threads step every step, even where one would be faster.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Simulated time (ms).
    #[arg(long, default_value_t = 10_000.0)]
    duration_ms: f64,
    /// Floating-point type of voltages and currents: f64 or f32 (config key `precision`).
    #[arg(long, default_value = "f64")]
    precision: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Time each phase of a step (input generation, neuron update, delivery, plasticity,
    /// recording) with one thread, or each thread's voltage phase, delivery phase, serial work
    /// and waiting with several; costs about 3 % at N = 5000 with one thread (less for larger N).
    #[arg(long)]
    profile: bool,
    /// Override a key of the benchmark network (repeatable), e.g. `--set inputs.0.correlation=0`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

pub fn bench(mut args: BenchArgs) -> Result<ExitCode, String> {
    args.threads = crate::resources::resolve_threads(args.threads);
    let mut sets = vec![
        format!("n={}", args.n),
        format!("duration_ms={:?}", args.duration_ms),
        "inputs.0.correlation=0.1".to_string(),
        "record.spikes=false".to_string(),
        "record.final_weights=false".to_string(),
        format!("precision={}", args.precision),
    ];
    sets.extend(args.sets.iter().cloned());
    let spec = NetworkSpec::from_toml_with_overrides(BENCH_CONFIG, &sets).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut sim = Simulation::new(
        &spec,
        SimOptions {
            threads: args.threads,
            expected_rates_hz: pbn_theory::balance::initial_rates_hz(&spec),
        },
    )
    .map_err(|e| e.to_string())?;
    // A benchmark of K threads measures K threads.
    sim.set_thread_pacing(ThreadPacing::Team);
    let build_s = t0.elapsed().as_secs_f64();
    if args.profile {
        sim.enable_profile();
    }
    let mut sink = MemorySink::default();
    let t1 = Instant::now();
    sim.run(&mut sink).map_err(|e| e.to_string())?;
    let run_s = t1.elapsed().as_secs_f64();
    let sim_s = sim.time_ms() * 1e-3;
    let spikes: u64 = sim.spike_counts().iter().sum();
    // Synaptic events: recurrent spikes times their fan-out, plus input spikes times theirs.
    let synapses = sim.synapse_count() as f64;
    let fanout = synapses / (sim.layout().n as f64 + sim.layout().inputs.iter().map(|x| x.len).sum::<usize>() as f64);
    let rates: Vec<f64> = sim
        .spike_counts()
        .iter()
        .zip(&sim.layout().populations)
        .map(|(&c, p)| c as f64 / (p.len as f64 * sim_s))
        .collect();
    let events_per_s = (spikes as f64
        + sim
            .layout()
            .inputs
            .iter()
            .map(|x| x.len as f64 * 10.0 * sim_s)
            .sum::<f64>())
        * fanout
        / run_s;
    let s_per_s = run_s / sim_s;
    let (n_static, static_bytes, n_plastic, plastic_bytes) = sim.synapse_memory();
    let per_synapse = |bytes: usize, n: usize| if n == 0 { f64::NAN } else { bytes as f64 / n as f64 };
    let (static_b, plastic_b) = (
        per_synapse(static_bytes, n_static),
        per_synapse(plastic_bytes, n_plastic),
    );
    let peak_mib = peak_rss_mib();
    let profile: Option<serde_json::Map<String, serde_json::Value>> = sim.profile().map(|p| {
        Phase::ALL
            .iter()
            .map(|&ph| (ph.name().to_string(), json!(p.get(ph))))
            .collect()
    });
    if args.json {
        let mut out = json!({"n": args.n, "threads": args.threads, "precision": spec.precision, "simulated_s": sim_s, "build_s": build_s, "run_s": run_s,
               "wall_s_per_simulated_s": s_per_s, "synaptic_events_per_s": events_per_s, "rates_hz": rates,
               "synapses": synapses, "bytes_per_static_synapse": static_b, "bytes_per_plastic_synapse": plastic_b,
               "peak_rss_mib": peak_mib});
        if let Some(p) = profile {
            out["profile_s"] = serde_json::Value::Object(p);
        }
        if let Some(threads) = sim.thread_profile() {
            out["thread_profile_s"] = threads
                .iter()
                .map(
                    |t| json!({"advance": t.advance_s, "deliver": t.deliver_s, "serial": t.serial_s, "wait": t.wait_s}),
                )
                .collect();
        }
        println!("{out}");
    } else {
        println!(
            "pbn bench: default network + iSTDP on I→E, c = 0.1, N = {}, {} thread(s), {} state, {:.1} s simulated",
            args.n,
            args.threads,
            spec.precision.name(),
            sim_s
        );
        println!("  build            {build_s:.3} s");
        println!("  run              {run_s:.3} s");
        println!("  wall s / sim s   {s_per_s:.4}");
        println!("  synaptic events  {:.3e} per wall second (approx.)", events_per_s);
        println!("  rates            E {:.2} Hz, I {:.2} Hz", rates[0], rates[1]);
        println!("  synapses         {synapses:.3e}: {static_b:.2} B per static, {plastic_b:.2} B per plastic synapse");
        if let Some(mib) = peak_mib {
            println!("  peak memory      {mib:.0} MiB (resident)");
        }
        if let Some(p) = sim.profile() {
            println!("  where the run's time goes (wall s per simulated s, share):");
            for phase in Phase::ALL {
                let t = p.get(phase);
                println!(
                    "    {:<20} {:>8.4}  {:>5.1} %",
                    phase.name(),
                    t / sim_s,
                    100.0 * t / p.total()
                );
            }
        }
        if let Some(threads) = sim.thread_profile() {
            println!("  where each thread's time goes (wall s per simulated s, share):");
            println!("    thread    advance         deliver         serial          waiting");
            for (k, t) in threads.iter().enumerate() {
                let cell = |x: f64| format!("{:.4} {:>5.1} %", x / sim_s, 100.0 * x / t.total());
                println!(
                    "    {k:<6}    {}  {}  {}  {}",
                    cell(t.advance_s),
                    cell(t.deliver_s),
                    cell(t.serial_s),
                    cell(t.wait_s)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident memory (MiB), where the OS reports it (Linux: VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
