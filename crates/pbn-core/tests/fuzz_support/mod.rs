//! Generators shared by the config fuzz suites (`pbn-core/tests/fuzz_configs.rs`, and
//! `pbn-cli/tests/fuzz_cli.rs`, which includes this file by path): `--set` overrides with extreme
//! values on the examples, whole configs that are structurally valid but extreme, the
//! reproducible proptest configuration, and the corpus-file format of found cases.
//!
//! Environment: `PBN_FUZZ_CASES` (number of generated cases; each suite has its own default, sized
//! for CI) and `PBN_FUZZ_SEED` (another fixed seed, to fuzz elsewhere).
#![allow(dead_code)] // each suite uses a subset

use std::fmt;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

/// The examples, by file name.
pub const EXAMPLES: [(&str, &str); 8] = [
    ("default.toml", include_str!("../../../../examples/default.toml")),
    ("correlated.toml", include_str!("../../../../examples/correlated.toml")),
    ("kohonen.toml", include_str!("../../../../examples/kohonen.toml")),
    ("hebb_soft.toml", include_str!("../../../../examples/hebb_soft.toml")),
    (
        "hebb_additive_bounded.toml",
        include_str!("../../../../examples/hebb_additive_bounded.toml"),
    ),
    (
        "istdp_i_to_e.toml",
        include_str!("../../../../examples/istdp_i_to_e.toml"),
    ),
    (
        "istdp_i_to_e_and_i_to_i.toml",
        include_str!("../../../../examples/istdp_i_to_e_and_i_to_i.toml"),
    ),
    (
        "optogenetics.toml",
        include_str!("../../../../examples/optogenetics.toml"),
    ),
];

/// The text of example `name`.
pub fn example(name: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no example {name}"))
        .1
}

/// Overrides put before the generated ones on an example: a network small and short enough to
/// run in milliseconds (a generated `--set` may still replace them).
pub const SMALL: [&str; 3] = ["n=200", "duration_ms=50", "record.weight_samples=20"];

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
    )
}

/// Proptest settings: a fixed seed and algorithm (reproducible in CI), `default_cases` cases
/// unless `PBN_FUZZ_CASES` says otherwise, no regression files (found cases go into
/// `tests/fuzz_corpus/` by hand), bounded shrinking.
pub fn config(default_cases: u32) -> Config {
    let cases = env_u64("PBN_FUZZ_CASES").map_or(default_cases, |c| c.clamp(1, u32::MAX as u64) as u32);
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(env_u64("PBN_FUZZ_SEED").unwrap_or(0x0070_626e_f022)),
        failure_persistence: None,
        max_shrink_iters: 512,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// Valid configs larger than these are only validated and estimated, not run (the runs are sized
/// for milliseconds).
pub const MAX_BYTES: f64 = 256.0 * 1024.0 * 1024.0;
pub const MAX_NEURONS: usize = 3000;
pub const MAX_TRAINS: usize = 20_000;
pub const MAX_STEPS: u64 = 5000;
/// Steps × (neurons + trains + synapses): a bound on the work of a run where every neuron fires
/// at every step.
pub const MAX_WORK: f64 = 4e8;

/// Whether a valid `spec` is too large to simulate in a fuzz case.
pub fn too_large(spec: &pbn_core::NetworkSpec, estimate: &pbn_core::MemoryEstimate) -> bool {
    let layout = pbn_core::Layout::new(spec);
    let trains: usize = layout.inputs.iter().map(|x| x.len).sum();
    let synapses = estimate.static_synapses + estimate.plastic_synapses;
    let steps = spec.n_steps();
    estimate.peak_bytes() > MAX_BYTES
        || layout.n > MAX_NEURONS
        || trains > MAX_TRAINS
        || steps > MAX_STEPS
        || steps as f64 * (layout.n as f64 + trains as f64 + synapses) > MAX_WORK
}

/// One generated case: a config text and `--set` overrides, simulated with `threads` threads.
#[derive(Clone)]
pub struct Case {
    /// The example it starts from, or `None` for a generated config.
    pub example: Option<&'static str>,
    /// The config text.
    pub text: String,
    /// `--set` overrides, in order.
    pub sets: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// Expected population rates handed to the engine (`SimOptions::expected_rates_hz`).
    pub rates_hz: Option<Vec<f64>>,
}

impl fmt::Debug for Case {
    /// The case as a corpus file (see [`parse_corpus`]): paste it into `tests/fuzz_corpus/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        if let Some(name) = self.example {
            writeln!(f, "# example: {name}")?;
        }
        writeln!(f, "# threads: {}", self.threads)?;
        if let Some(rates) = &self.rates_hz {
            let rates: Vec<String> = rates.iter().map(|r| format!("{r:?}")).collect();
            writeln!(f, "# rates: {}", rates.join(", "))?;
        }
        for s in &self.sets {
            writeln!(f, "# set: {s}")?;
        }
        if self.example.is_none() {
            write!(f, "{}", self.text)?;
        }
        Ok(())
    }
}

/// A corpus file: header lines `# example: NAME` (the config is that example; otherwise the
/// file's text is the config), `# set: KEY=VALUE` (one override each, in order), `# threads: K`,
/// `# rates: R1, R2, …` (expected rates handed to the engine),
/// `# expect: TEXT` (the error message must contain TEXT; `# expect: ok` — the run finishes or
/// the guard stops it), and any other comment.
pub fn parse_corpus(file: &str) -> (Case, Option<String>) {
    let mut case = Case {
        example: None,
        text: file.to_string(),
        sets: vec![],
        threads: 1,
        rates_hz: None,
    };
    let mut expect = None;
    for line in file.lines() {
        let Some(header) = line.strip_prefix("# ") else {
            continue;
        };
        if let Some(name) = header.strip_prefix("example: ") {
            let name = name.trim();
            case.example = Some(EXAMPLES.iter().find(|(n, _)| *n == name).expect("known example").0);
            case.text = example(name).to_string();
        } else if let Some(set) = header.strip_prefix("set: ") {
            case.sets.push(set.to_string());
        } else if let Some(k) = header.strip_prefix("threads: ") {
            case.threads = k.trim().parse().expect("a number of threads");
        } else if let Some(r) = header.strip_prefix("rates: ") {
            case.rates_hz = Some(
                r.split(',')
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| r.trim().parse().expect("a rate"))
                    .collect(),
            );
        } else if let Some(e) = header.strip_prefix("expect: ") {
            expect = Some(e.to_string());
        }
    }
    (case, expect)
}

// ---------------------------------------------------------------------------------------------
// Values

/// A float as a TOML literal.
pub fn toml_float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v:?}")
    }
}

/// Floats that break code: zeros, signs, NaN, infinities, the ends of the range, subnormals,
/// one past 32 bits; and any float at all.
pub fn extreme_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => select(vec![
            0.0,
            -0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            -1e300,
            1e-300,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            4294967297.0,
            1e-9,
            1e9,
        ]),
        1 => any::<f64>(),
    ]
}

/// Mostly a float from `normal`, sometimes one of `edges` (extreme values the field accepts),
/// now and then any extreme one (rarely enough that about half the generated configs are
/// valid).
fn float(normal: impl Strategy<Value = f64> + 'static, edges: &[f64]) -> BoxedStrategy<f64> {
    if edges.is_empty() {
        return prop_oneof![150 => normal, 1 => extreme_f64()].boxed();
    }
    prop_oneof![150 => normal, 6 => select(edges.to_vec()), 1 => extreme_f64()].boxed()
}

/// Valid but extreme time constants (ms) at dt = 0.1 ms.
const TAU_EDGES: &[f64] = &[1.0, 1e6, 1e300, f64::MAX];
/// Valid but extreme lengths of time (ms).
const TIME_EDGES: &[f64] = &[0.0, 5e-324, 1e-9, 1e300, f64::MAX];
/// Valid but extreme magnitudes.
const BIG: &[f64] = &[0.0, 5e-324, 1e-300, 1e300, f64::MAX];
/// Valid but extreme signed values.
const SIGNED: &[f64] = &[0.0, -0.0, 5e-324, 1e300, -1e300, f64::MAX, f64::MIN];

/// Literal `--set` values: numbers at the edges, special floats, integers around 2^32, 2^63 and
/// 2^64, other TOML types, names, rule names, broken syntax, inline tables and arrays.
const LITERALS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "3",
    "0.0",
    "-0.0",
    "0.5",
    "1.0",
    "1.5",
    "-0.1",
    "0.1",
    "0.25",
    "10",
    "100",
    "1000",
    "10000",
    "1e6",
    "1e9",
    "-200",
    "200",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "1e300",
    "-1e300",
    "1e-300",
    "5e-324",
    "1.7976931348623157e308",
    "1e309",
    "4294967295",
    "4294967296",
    "4294967297",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "0x10",
    "1_000",
    "true",
    "false",
    "\"\"",
    "''",
    "\"E\"",
    "E",
    "I",
    "X",
    "E1",
    "E2",
    "X2",
    "Q",
    "\"a b\"",
    "a-b",
    "é",
    "\"\\u0000\"",
    "excitatory",
    "inhibitory",
    "f32",
    "f64",
    "f16",
    "kohonen",
    "istdp",
    "hebb_soft",
    "hebb_additive",
    "oja",
    "triplet",
    "generic",
    "magic",
    "cap_minus_j",
    "j",
    "one",
    "[]",
    "[1, 2]",
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "",
    "=",
    "\"",
    "[",
    "{",
    "{rule=\"kohonen\", eta=0.01, beta=2.0}",
    "{rule=\"kohonen\", eta=1e300, beta=1e300, tau_ms=1e-300}",
    "{rule=\"istdp\", eta=1e-3, target_rate_hz=10.0, j_norm=-200.0}",
    "{rule=\"istdp\", eta=10.0, target_rate_hz=1e300, j_norm=-1e-300, tau_ms=1.0}",
    "{rule=\"hebb_soft\", eta=10.0, j_max=1e300}",
    "{rule=\"hebb_additive\", eta=1e300, j_min=-1e300, j_max=1e300}",
    "{rule=\"hebb_additive\", eta=0.1}",
    "{rule=\"oja\", eta=1.0, beta=1e10, gamma=-1e10}",
    "{rule=\"triplet\", eta=0.1, v_theta=0.0, tau_ms=1.0}",
    "{rule=\"generic\", eta=0.1, on_pre={trace=1.0}, on_post={weight=\"cap_minus_j\", cap=1e300, constant=-1.0}}",
    "{rule=\"generic\", eta=1e300, sqrt_n_scaling=true, on_pre={weight=\"j\", trace=-1e300, trace_power=2}, on_post={constant=1e300}, j_min=-1.0, j_max=1.0}",
    "[{population=\"E\", current=1e300}]",
    "[{population=\"E\", current=-1.0, start_ms=10.0, stop_ms=20.0}]",
    "[{population=\"E\", current=1.0, start_ms=1e300}]",
    "[{name=\"P\", kind=\"excitatory\", size=1, tau_syn_ms=1.0}]",
    "[{name=\"E\", kind=\"excitatory\", fraction=1.0, tau_syn_ms=8.0}]",
    "[{name=\"X\", rate_hz=9999.0, size=1, tau_syn_ms=1.0}]",
    "[{name=\"X\", rate_hz=1.0, correlation=1.0, jitter_ms=0.0, size=4294967295, tau_syn_ms=10.0}]",
    "[{from=\"E\", to=\"E\", probability=1.0, weight=1e300}]",
];

/// A `--set` value: a literal above, a random float, integer or name (quoted or bare), or a long
/// string.
pub fn set_value() -> BoxedStrategy<String> {
    prop_oneof![
        12 => select(LITERALS).prop_map(String::from),
        3 => extreme_f64().prop_map(toml_float),
        2 => (-1e4..1e4f64).prop_map(toml_float),
        2 => (0.0..=1.0f64).prop_map(toml_float),
        2 => any::<i64>().prop_map(|i| i.to_string()),
        1 => (0i64..100_000).prop_map(|i| i.to_string()),
        1 => "[A-Za-z0-9_]{1,8}",
        1 => "\\PC{0,12}".prop_map(|s| toml::Value::String(s).to_string()),
        1 => "[^=]{0,12}",
        1 => (60usize..70).prop_map(|k| "N".repeat(k)),
        1 => select(vec![300usize, 5000]).prop_map(|k| format!("\"{}\"", "é".repeat(k))),
    ]
    .boxed()
}

/// Keys `--set` can reach; `#` is an array index. Also some that are no key at all.
const KEYS: &[&str] = &[
    "n",
    "duration_ms",
    "dt_ms",
    "allow_coarse_dt",
    "precision",
    "seed",
    "populations",
    "inputs",
    "projections",
    "stimuli",
    "record",
    "guard",
    "populations.#",
    "populations.#.name",
    "populations.#.kind",
    "populations.#.fraction",
    "populations.#.size",
    "populations.#.tau_syn_ms",
    "populations.#.neuron",
    "populations.#.neuron.c_m",
    "populations.#.neuron.tau_m_ms",
    "populations.#.neuron.e_l_mv",
    "populations.#.neuron.v_t_mv",
    "populations.#.neuron.delta_t_mv",
    "populations.#.neuron.v_th_mv",
    "populations.#.neuron.v_re_mv",
    "populations.#.neuron.v_init_min_mv",
    "populations.#.neuron.v_init_max_mv",
    "inputs.#",
    "inputs.#.name",
    "inputs.#.kind",
    "inputs.#.fraction",
    "inputs.#.size",
    "inputs.#.rate_hz",
    "inputs.#.correlation",
    "inputs.#.jitter_ms",
    "inputs.#.tau_syn_ms",
    "inputs.#.start_ms",
    "inputs.#.stop_ms",
    "projections.#",
    "projections.#.from",
    "projections.#.to",
    "projections.#.probability",
    "projections.#.weight",
    "projections.#.plasticity",
    "projections.#.plasticity.rule",
    "projections.#.plasticity.eta",
    "projections.#.plasticity.beta",
    "projections.#.plasticity.tau_ms",
    "projections.#.plasticity.j_max",
    "projections.#.plasticity.j_min",
    "projections.#.plasticity.gamma",
    "projections.#.plasticity.v_theta",
    "projections.#.plasticity.target_rate_hz",
    "projections.#.plasticity.j_norm",
    "projections.#.plasticity.sqrt_n_scaling",
    "projections.#.plasticity.on_pre",
    "projections.#.plasticity.on_pre.weight",
    "projections.#.plasticity.on_pre.cap",
    "projections.#.plasticity.on_pre.constant",
    "projections.#.plasticity.on_pre.trace",
    "projections.#.plasticity.on_pre.trace_power",
    "projections.#.plasticity.on_post.weight",
    "projections.#.plasticity.on_post.cap",
    "projections.#.plasticity.on_post.trace",
    "projections.#.plasticity.on_post.trace_power",
    "stimuli.#.population",
    "stimuli.#.current",
    "stimuli.#.start_ms",
    "stimuli.#.stop_ms",
    "record.spikes",
    "record.rate_bin_ms",
    "record.weight_samples",
    "record.weight_interval_ms",
    "record.neuron_samples",
    "record.neuron_interval_ms",
    "record.final_weights",
    "guard.max_rate_hz",
    "guard.window_ms",
    "checkpoint.every_ms",
    // Not keys.
    "",
    " ",
    ".",
    "n.",
    ".n",
    "a..b",
    "n.x",
    "nn",
    "record.spikes.x",
    "populations.x.name",
    "populations.-1.name",
    "populations.18446744073709551616.name",
    "é",
];

/// A `--set KEY=VALUE` assignment.
pub fn set() -> BoxedStrategy<String> {
    (
        select(KEYS),
        select(vec![0usize, 0, 1, 1, 2, 3, 5, 17]),
        set_value(),
        prop_oneof![20 => Just("="), 1 => Just(" = "), 1 => Just("")],
    )
        .prop_map(|(key, index, value, eq)| format!("{}{eq}{value}", key.replace('#', &index.to_string())))
        .boxed()
}

/// An example with the small-network overrides and 1 to 5 generated ones.
pub fn example_case() -> BoxedStrategy<Case> {
    (select(EXAMPLES.to_vec()), vec(set(), 1..=5), threads_and_rates())
        .prop_map(|((name, text), sets, (threads, rates_hz))| Case {
            example: Some(name),
            text: text.to_string(),
            sets: SMALL.iter().map(|s| s.to_string()).chain(sets).collect(),
            threads,
            rates_hz,
        })
        .boxed()
}

/// Threads (mostly one) and, sometimes, expected rates for the engine's work split.
fn threads_and_rates() -> impl Strategy<Value = (usize, Option<Vec<f64>>)> {
    (
        select(vec![1usize, 1, 1, 2]),
        option::weighted(0.15, vec(prop_oneof![3 => 0.0..50.0f64, 1 => extreme_f64()], 0..=5)),
    )
}

// ---------------------------------------------------------------------------------------------
// Whole configs

/// How a population or input gives its size.
#[derive(Debug, Clone, Copy)]
enum SizeMode {
    Fraction,
    Size,
    Both,
    Neither,
    Extreme(f64),
}

fn size_mode() -> impl Strategy<Value = SizeMode> {
    prop_oneof![
        80 => Just(SizeMode::Fraction),
        40 => Just(SizeMode::Size),
        1 => Just(SizeMode::Both),
        1 => Just(SizeMode::Neither),
        1 => extreme_f64().prop_map(SizeMode::Extreme),
    ]
}

fn put_size(t: &mut toml::Table, mode: SizeMode, size: u64, n: i64) {
    let fraction = if n > 0 { size as f64 / n as f64 } else { 0.5 };
    match mode {
        SizeMode::Fraction => {
            t.insert("fraction".into(), fraction.into());
        }
        SizeMode::Size => {
            t.insert("size".into(), (size as i64).into());
        }
        SizeMode::Both => {
            t.insert("fraction".into(), fraction.into());
            t.insert("size".into(), (size as i64).into());
        }
        SizeMode::Neither => {}
        SizeMode::Extreme(f) => {
            t.insert("fraction".into(), f.into());
        }
    }
}

fn name(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        300 => select(pool).prop_map(String::from),
        1 => "[A-Za-z0-9_]{1,70}",
        1 => "\\PC{0,10}",
        1 => Just(String::new()),
        1 => (60usize..70).prop_map(|k| "N".repeat(k)),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Pop {
    name: String,
    inhibitory: bool,
    size: u64,
    mode: SizeMode,
    tau_syn_ms: f64,
    neuron: Option<toml::Table>,
}

fn neuron() -> impl Strategy<Value = toml::Table> {
    let field = |k: &'static str, s: BoxedStrategy<f64>| option::weighted(0.5, s).prop_map(move |v| (k, v));
    (
        field("c_m", float(0.5..2.0, &[5e-324, 1e-300, 1e-9, 1e9, 1e300, f64::MAX])),
        field("tau_m_ms", float(2.0..30.0, TAU_EDGES)),
        field("e_l_mv", float(-80.0..-60.0, SIGNED)),
        field("v_t_mv", float(-60.0..-45.0, SIGNED)),
        field("delta_t_mv", float(0.2..3.0, &[5e-324, 1e-300, 1e-9, 1e300, f64::MAX])),
        field("v_th_mv", float(-55.0..-20.0, &[-55.0, 1e300, f64::MAX])),
        field("v_re_mv", float(-80.0..-60.0, &[-1e300, f64::MIN, -50.000001])),
        field("v_init_min_mv", float(-80.0..-70.0, &[-1e300, f64::MIN, -56.0])),
        field("v_init_max_mv", float(-70.0..-56.0, &[-50.000001, 1e300, -1e300])),
    )
        .prop_map(|fields| {
            let (a, b, c, d, e, f, g, h, i) = fields;
            [a, b, c, d, e, f, g, h, i]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), toml::Value::Float(v))))
                .collect()
        })
}

fn population() -> impl Strategy<Value = Pop> {
    (
        name(&["E", "I", "E1", "E2", "P"]),
        prop::bool::weighted(0.35),
        prop_oneof![4 => 1u64..60, 1 => 60u64..1500],
        size_mode(),
        float(1.0..20.0, TAU_EDGES),
        option::weighted(0.25, neuron()),
    )
        .prop_map(|(name, inhibitory, size, mode, tau_syn_ms, neuron)| Pop {
            name,
            inhibitory,
            size,
            mode,
            tau_syn_ms,
            neuron,
        })
}

#[derive(Debug, Clone)]
struct Input {
    name: String,
    kind: Option<bool>,
    size: u64,
    mode: SizeMode,
    rate_hz: f64,
    correlation: f64,
    jitter_ms: Option<f64>,
    tau_syn_ms: f64,
    start_ms: Option<f64>,
    stop_ms: Option<f64>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        name(&["X", "X1", "X2", "Y"]),
        option::weighted(0.3, prop::bool::weighted(0.1)),
        prop_oneof![4 => 1u64..100, 1 => 100u64..5000],
        size_mode(),
        float(0.0..60.0, &[0.0, 5e-324, 1e-300, 9999.0, 9999.999]),
        prop_oneof![60 => Just(0.0), 40 => 0.0..=1.0f64, 4 => select(vec![1.0, 1e-6, 0.999999]), 1 => extreme_f64()],
        option::weighted(0.3, float(0.0..20.0, &[0.0, 5e-324, 1e3, 1e5, 1e7, 1e300])),
        float(1.0..20.0, TAU_EDGES),
        option::weighted(0.2, float(0.0..50.0, TIME_EDGES)),
        option::weighted(0.2, float(0.0..100.0, TIME_EDGES)),
    )
        .prop_map(
            |(name, kind, size, mode, rate_hz, correlation, jitter_ms, tau_syn_ms, start_ms, stop_ms)| Input {
                name,
                kind,
                size,
                mode,
                rate_hz,
                correlation,
                jitter_ms,
                tau_syn_ms,
                start_ms,
                stop_ms,
            },
        )
}

#[derive(Debug, Clone)]
struct Term {
    weight: &'static str,
    cap: Option<f64>,
    constant: f64,
    trace: f64,
    trace_power: i64,
}

fn term() -> impl Strategy<Value = Term> {
    (
        select(vec!["one", "one", "j", "cap_minus_j"]),
        option::weighted(0.5, float(-300.0..300.0, SIGNED)),
        float(-2.0..2.0, SIGNED),
        float(-2.0..2.0, SIGNED),
        prop_oneof![30 => Just(1i64), 10 => Just(2), 1 => select(vec![0i64, 3, 256])],
    )
        .prop_map(|(weight, cap, constant, trace, trace_power)| Term {
            weight,
            cap,
            constant,
            trace,
            trace_power,
        })
}

impl Term {
    fn table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("weight".into(), self.weight.into());
        // `cap` with cap_minus_j and not otherwise, but now and then the other way round.
        let wrong = self.cap.is_some_and(|c| c < -290.0);
        if (self.weight == "cap_minus_j") != wrong {
            t.insert("cap".into(), self.cap.unwrap_or(50.0).into());
        }
        t.insert("constant".into(), self.constant.into());
        t.insert("trace".into(), self.trace.into());
        t.insert("trace_power".into(), self.trace_power.into());
        t
    }
}

#[derive(Debug, Clone)]
struct Rule {
    rule: &'static str,
    eta: f64,
    a: f64,
    b: Option<f64>,
    tau_ms: Option<f64>,
    sqrt_n: bool,
    pre: Term,
    post: Term,
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        select(vec![
            "kohonen",
            "hebb_soft",
            "hebb_additive",
            "oja",
            "triplet",
            "istdp",
            "istdp",
            "generic",
            "generic",
        ]),
        float(0.0..0.05, BIG),
        float(-300.0..300.0, SIGNED),
        option::weighted(0.7, float(-300.0..300.0, SIGNED)),
        option::weighted(0.6, float(1.0..300.0, TAU_EDGES)),
        any::<bool>(),
        term(),
        term(),
    )
        .prop_map(|(rule, eta, a, b, tau_ms, sqrt_n, pre, post)| Rule {
            rule,
            eta,
            a,
            b,
            tau_ms,
            sqrt_n,
            pre,
            post,
        })
}

impl Rule {
    /// The rule's table for a projection of weight `weight`.
    fn table(&self, weight: f64) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("rule".into(), self.rule.into());
        t.insert("eta".into(), self.eta.into());
        if let Some(tau) = self.tau_ms {
            t.insert("tau_ms".into(), tau.into());
        }
        let mut put = |k: &str, v: Option<f64>| {
            if let Some(v) = v {
                t.insert(k.into(), v.into());
            }
        };
        match self.rule {
            "kohonen" => put("beta", Some(self.a.abs() / 50.0)),
            "hebb_soft" => put("j_max", Some(self.a.abs())),
            "oja" => {
                put("beta", Some(self.a.abs()));
                put("gamma", self.b.map(|b| b / 100.0));
            }
            "triplet" => put("v_theta", self.b.map(|b| b.abs() / 100.0)),
            "istdp" => {
                put("target_rate_hz", Some(self.a.abs() / 10.0));
                // Mostly with the weight's sign, as the rule requires.
                let sign = if weight < 0.0 { -1.0 } else { 1.0 };
                put(
                    "j_norm",
                    Some(
                        self.b
                            .map_or(sign * 200.0, |b| if b.abs() > 10.0 { sign * b.abs() } else { b }),
                    ),
                );
            }
            "hebb_additive" | "generic" => {
                let (lo, hi) = (
                    self.a.min(self.b.unwrap_or(f64::NAN)),
                    self.a.max(self.b.unwrap_or(f64::NAN)),
                );
                if self.b.is_some() {
                    put("j_min", Some(lo));
                    put("j_max", Some(hi));
                } else if self.a > 0.0 {
                    put("j_max", Some(self.a));
                }
            }
            _ => unreachable!(),
        }
        if self.rule == "generic" {
            t.insert("sqrt_n_scaling".into(), self.sqrt_n.into());
            t.insert("on_pre".into(), self.pre.table().into());
            t.insert("on_post".into(), self.post.table().into());
        }
        t
    }
}

/// A projection; `from` and `to` index the sources and populations (`usize::MAX`: an unknown
/// name, or for `to` an input). Unless `faulty`, duplicates are dropped and plasticity is kept
/// to what the rule allows; a faulty projection may have the wrong sign too.
#[derive(Debug, Clone)]
struct Projection {
    from: usize,
    to: usize,
    probability: f64,
    magnitude: f64,
    faulty: bool,
    plasticity: Option<Rule>,
}

fn projection() -> impl Strategy<Value = Projection> {
    (
        prop_oneof![200 => 0usize..8, 1 => Just(usize::MAX)],
        prop_oneof![200 => 0usize..8, 1 => Just(usize::MAX)],
        float(0.0..=1.0, &[0.0, 5e-324, 1e-300, 1.0, 1.0 - f64::EPSILON]),
        float(0.0..300.0, BIG),
        prop::bool::weighted(0.03),
        option::weighted(0.35, rule()),
    )
        .prop_map(|(from, to, probability, magnitude, faulty, plasticity)| Projection {
            from,
            to,
            probability,
            magnitude,
            faulty,
            plasticity,
        })
}

#[derive(Debug, Clone)]
struct Stimulus {
    target: usize,
    current: f64,
    start_ms: Option<f64>,
    stop_ms: Option<f64>,
}

fn stimulus() -> impl Strategy<Value = Stimulus> {
    (
        prop_oneof![40 => 0usize..3, 1 => Just(usize::MAX)],
        float(-3.0..3.0, SIGNED),
        option::weighted(0.4, float(0.0..50.0, TIME_EDGES)),
        option::weighted(0.4, float(0.0..100.0, TIME_EDGES)),
    )
        .prop_map(|(target, current, start_ms, stop_ms)| Stimulus {
            target,
            current,
            start_ms,
            stop_ms,
        })
}

/// Intervals (ms) for `record` and `guard`: mostly whole numbers of steps of the usual dt.
fn interval() -> BoxedStrategy<f64> {
    float(
        prop_oneof![
            40 => select(vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 100.0]),
            1 => select(vec![0.1, 0.05, 0.3, 1e6]),
        ],
        &[0.1, 1e300, f64::MAX, 1e-9],
    )
    .boxed()
}

#[derive(Debug, Clone)]
struct Network {
    n: Option<i64>,
    dt_ms: Option<f64>,
    steps: u32,
    duration_ms: Option<f64>,
    precision: Option<&'static str>,
    allow_coarse_dt: Option<bool>,
    seed: Option<i64>,
    populations: Vec<Pop>,
    inputs: Vec<Input>,
    projections: Vec<Projection>,
    stimuli: Vec<Stimulus>,
    record: Option<toml::Table>,
    guard: Option<toml::Table>,
}

fn record() -> impl Strategy<Value = toml::Table> {
    (
        option::weighted(0.5, any::<bool>()),
        option::weighted(0.5, interval()),
        option::weighted(
            0.5,
            prop_oneof![40 => 0i64..100, 1 => Just(i64::MAX), 1 => any::<i64>()],
        ),
        option::weighted(0.5, interval()),
        option::weighted(0.5, prop_oneof![40 => 0i64..20, 1 => Just(i64::MAX), 1 => any::<i64>()]),
        option::weighted(0.5, interval()),
        option::weighted(0.5, any::<bool>()),
    )
        .prop_map(|(spikes, bin, ws, wi, ns, ni, fw)| {
            let mut t = toml::Table::new();
            let mut put = |k: &str, v: Option<toml::Value>| {
                if let Some(v) = v {
                    t.insert(k.into(), v);
                }
            };
            put("spikes", spikes.map(Into::into));
            put("rate_bin_ms", bin.map(Into::into));
            put("weight_samples", ws.map(Into::into));
            put("weight_interval_ms", wi.map(Into::into));
            put("neuron_samples", ns.map(Into::into));
            put("neuron_interval_ms", ni.map(Into::into));
            put("final_weights", fw.map(Into::into));
            t
        })
}

fn guard() -> impl Strategy<Value = toml::Table> {
    (
        option::weighted(0.7, float(1.0..1000.0, &[5e-324, 1e-300, 1e300, f64::MAX])),
        option::weighted(0.7, interval()),
    )
        .prop_map(|(rate, window)| {
            let mut t = toml::Table::new();
            if let Some(r) = rate {
                t.insert("max_rate_hz".into(), r.into());
            }
            if let Some(w) = window {
                t.insert("window_ms".into(), w.into());
            }
            t
        })
}

fn network() -> impl Strategy<Value = Network> {
    let top = (
        option::weighted(
            0.03,
            prop_oneof![
                Just(0i64),
                Just(1),
                Just(4294967295),
                Just(4294967296),
                Just(i64::MAX),
                1i64..500
            ],
        ),
        option::weighted(
            0.7,
            float(
                select(vec![0.1, 0.1, 0.1, 0.05, 0.025, 0.2]),
                &[1e-3, 2.0, 1000.0, 1e9, 1e300],
            ),
        ),
        1u32..600,
        option::weighted(0.02, prop_oneof![extreme_f64(), select(vec![1e-9, 5e-324, 1e300])]),
        option::weighted(0.4, select(vec!["f64", "f32", "f32"])),
        option::weighted(0.15, any::<bool>()),
        option::weighted(0.3, prop_oneof![20 => 0i64..1000, 1 => any::<i64>()]),
    );
    (
        top,
        prop_oneof![1 => Just(0usize), 60 => 1usize..=3, 6 => 4usize..=5].prop_flat_map(|k| vec(population(), k)),
        vec(input(), 0..=3),
        vec(projection(), 0..=9),
        vec(stimulus(), 0..=2),
        option::weighted(0.6, record()),
        option::weighted(0.4, guard()),
    )
        .prop_map(
            |(
                (n, dt_ms, steps, duration_ms, precision, allow_coarse_dt, seed),
                populations,
                inputs,
                projections,
                stimuli,
                record,
                guard,
            )| Network {
                n,
                dt_ms,
                steps,
                duration_ms,
                precision,
                allow_coarse_dt,
                seed,
                populations,
                inputs,
                projections,
                stimuli,
                record,
                guard,
            },
        )
}

impl Network {
    fn text(&self) -> String {
        let mut t = toml::Table::new();
        let total: u64 = self.populations.iter().map(|p| p.size).sum();
        let n = self.n.unwrap_or(total as i64);
        t.insert("n".into(), n.into());
        let dt = self.dt_ms.unwrap_or(0.1);
        if let Some(dt) = self.dt_ms {
            t.insert("dt_ms".into(), dt.into());
        }
        let duration = self.duration_ms.unwrap_or(self.steps as f64 * dt);
        t.insert("duration_ms".into(), duration.into());
        if let Some(p) = self.precision {
            t.insert("precision".into(), p.into());
        }
        if let Some(a) = self.allow_coarse_dt {
            t.insert("allow_coarse_dt".into(), a.into());
        }
        if let Some(s) = self.seed {
            t.insert("seed".into(), s.into());
        }
        // Names are made unique (duplicates are easy to reach with `--set`).
        let mut used = std::collections::HashSet::new();
        let mut unique = |name: &str| {
            let mut name = name.to_string();
            while !used.insert(name.clone()) {
                name.push('_');
            }
            name
        };
        let pop_names: Vec<String> = self.populations.iter().map(|p| unique(&p.name)).collect();
        let input_names: Vec<String> = self.inputs.iter().map(|x| unique(&x.name)).collect();
        let mut pops = toml::value::Array::new();
        for (p, name) in self.populations.iter().zip(&pop_names) {
            let mut pt = toml::Table::new();
            pt.insert("name".into(), name.clone().into());
            pt.insert(
                "kind".into(),
                if p.inhibitory { "inhibitory" } else { "excitatory" }.into(),
            );
            put_size(&mut pt, p.mode, p.size, n);
            pt.insert("tau_syn_ms".into(), p.tau_syn_ms.into());
            if let Some(nt) = &p.neuron {
                pt.insert("neuron".into(), nt.clone().into());
            }
            pops.push(pt.into());
        }
        t.insert("populations".into(), pops.into());
        let mut inputs = toml::value::Array::new();
        for (x, name) in self.inputs.iter().zip(&input_names) {
            let mut xt = toml::Table::new();
            xt.insert("name".into(), name.clone().into());
            if let Some(inh) = x.kind {
                xt.insert("kind".into(), if inh { "inhibitory" } else { "excitatory" }.into());
            }
            put_size(&mut xt, x.mode, x.size, n);
            xt.insert("rate_hz".into(), x.rate_hz.into());
            xt.insert("correlation".into(), x.correlation.into());
            if let Some(j) = x.jitter_ms {
                xt.insert("jitter_ms".into(), j.into());
            }
            xt.insert("tau_syn_ms".into(), x.tau_syn_ms.into());
            if let Some(s) = x.start_ms {
                xt.insert("start_ms".into(), s.into());
            }
            if let Some(len) = x.stop_ms {
                xt.insert("stop_ms".into(), (x.start_ms.unwrap_or(0.0) + len).into());
            }
            inputs.push(xt.into());
        }
        if !inputs.is_empty() {
            t.insert("inputs".into(), inputs.into());
        }
        // Sources: (name, inhibitory, is a population).
        let sources: Vec<(&str, bool, bool)> = self
            .populations
            .iter()
            .zip(&pop_names)
            .map(|(p, name)| (name.as_str(), p.inhibitory, true))
            .chain(
                self.inputs
                    .iter()
                    .zip(&input_names)
                    .map(|(x, name)| (name.as_str(), x.kind == Some(true), false)),
            )
            .collect();
        let mut pairs = std::collections::HashSet::new();
        let mut projections = toml::value::Array::new();
        for p in &self.projections {
            let (from, inhibitory, from_population) = match p.from {
                usize::MAX => ("Q", false, true),
                k if sources.is_empty() => ("E", k % 2 == 1, true),
                k => sources[k % sources.len()],
            };
            let to = match p.to {
                usize::MAX => input_names.first().map_or("Q", |s| s.as_str()),
                _ if pop_names.is_empty() => "E",
                k => pop_names[k % pop_names.len()].as_str(),
            };
            if !pairs.insert((from, to)) && !p.faulty {
                continue;
            }
            let sign = if inhibitory != p.faulty { -1.0 } else { 1.0 };
            let weight = sign * p.magnitude;
            let mut pt = toml::Table::new();
            pt.insert("from".into(), from.into());
            pt.insert("to".into(), to.into());
            pt.insert("probability".into(), p.probability.into());
            pt.insert("weight".into(), weight.into());
            if let Some(r) = &p.plasticity
                && (from_population || p.faulty)
            {
                let mut r = r.clone();
                if inhibitory && !p.faulty && !matches!(r.rule, "istdp" | "generic") {
                    r.rule = "istdp";
                }
                pt.insert("plasticity".into(), r.table(weight).into());
            }
            projections.push(pt.into());
        }
        if !projections.is_empty() {
            t.insert("projections".into(), projections.into());
        }
        let mut stimuli = toml::value::Array::new();
        for s in &self.stimuli {
            let mut st = toml::Table::new();
            let target = match s.target {
                usize::MAX => "Z",
                _ if pop_names.is_empty() => "E",
                k => pop_names[k % pop_names.len()].as_str(),
            };
            st.insert("population".into(), target.into());
            st.insert("current".into(), s.current.into());
            if let Some(v) = s.start_ms {
                st.insert("start_ms".into(), v.into());
            }
            if let Some(len) = s.stop_ms {
                st.insert("stop_ms".into(), (s.start_ms.unwrap_or(0.0) + len).into());
            }
            stimuli.push(st.into());
        }
        if !stimuli.is_empty() {
            t.insert("stimuli".into(), stimuli.into());
        }
        if let Some(r) = &self.record {
            t.insert("record".into(), r.clone().into());
        }
        if let Some(g) = &self.guard {
            t.insert("guard".into(), g.clone().into());
        }
        t.to_string()
    }
}

/// A generated config (mostly valid, with extreme values here and there) with up to two
/// generated overrides.
pub fn generated_case() -> BoxedStrategy<Case> {
    (
        network(),
        prop_oneof![4 => Just(vec![]), 1 => vec(set(), 1..=2)],
        threads_and_rates(),
    )
        .prop_map(|(net, sets, (threads, rates_hz))| Case {
            example: None,
            text: net.text(),
            sets,
            threads,
            rates_hz,
        })
        .boxed()
}

/// Either kind of case.
pub fn any_case() -> BoxedStrategy<Case> {
    prop_oneof![2 => example_case(), 3 => generated_case()].boxed()
}
