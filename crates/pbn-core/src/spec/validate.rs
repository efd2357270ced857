//! Checks a typed config before anything runs; every message names the key, the value and what
//! is allowed.

use std::collections::HashSet;
use std::fmt;

use super::{NetworkSpec, PlasticitySpec, Sign, SpikeTermSpec, WeightFactorSpec};

/// Largest number of neurons (`n`), of neurons in a population and of trains in an input:
/// neuron ids and train indices are 32-bit.
pub const MAX_IDS: u64 = u32::MAX as u64;

/// Longest population or input name: names become parts of file names
/// (`weights_<from>_to_<to>_samples.npy`), which most file systems cap at 255 bytes.
pub const MAX_NAME_LEN: usize = 64;

/// `dt_ms` may be at most this fraction of the fastest time constant (τ_m, synaptic τ, STDP τ):
/// forward Euler replaces the exact decay e^(−dt/τ) per step by 1 − dt/τ, and at dt = τ/10 the
/// decay over one τ comes out 5 % faster than e⁻¹ (0.9¹⁰ = 0.349 vs 0.368); at dt ≥ τ a current
/// flips sign every step.
pub const DT_FRACTION_OF_TAU: f64 = 0.1;

/// Most time steps a run may have: step counts and times stay exact in f64 up to 2^53.
const MAX_STEPS: f64 = 9_007_199_254_740_992.0;

/// Smallest non-zero input correlation: the mother process runs at rate_hz / correlation.
pub const MIN_CORRELATION: f64 = 1e-6;

/// Longest time step (ms): input spikes are drawn one second of simulated time at a time
/// (`input::CHUNK_MS`), all the seconds up to the current time at every step, so a step of
/// 1e300 ms would never end (and no time constant of a neuron comes near a second).
pub const MAX_DT_MS: f64 = 1000.0;

/// Largest jitter SD of correlated inputs (ms). Correlated spikes are drawn 10 × `jitter_ms`
/// ahead of the simulated time (jitter moves spikes backwards) and every second of input drawn
/// sorts all the pending ones: up to 1 s, that is at most 11 s of pending input; at 1e7 ms a
/// 10 ms run drew and sorted for hours before its first step.
pub const MAX_JITTER_MS: f64 = 1000.0;

/// One problem in a config.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Dotted key (`projections[2].probability`), empty for syntax errors.
    pub key: String,
    /// The offending value as written.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

impl SpecError {
    fn new(key: impl Into<String>, value: impl fmt::Display, allowed: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// A TOML syntax or type error (its message already points at the place).
    pub fn syntax(message: String) -> Self {
        Self {
            key: String::new(),
            value: String::new(),
            allowed: message.trim_end().to_string(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.allowed)
        } else {
            write!(f, "`{}` = {}: {}", self.key, self.value, self.allowed)
        }
    }
}

impl From<super::SetError> for SpecError {
    fn from(e: super::SetError) -> Self {
        SpecError::syntax(e.to_string())
    }
}

/// All problems found in a config.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    /// A single error.
    pub fn single(e: SpecError) -> Self {
        Self(vec![e])
    }

    /// Whether some error concerns `key` (exactly, or as a prefix of its path).
    pub fn mentions(&self, key: &str) -> bool {
        self.0.iter().any(|e| e.key.starts_with(key) || e.allowed.contains(key))
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid config ({} problem(s)):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Collects errors while walking the config.
struct Checker {
    errors: Vec<SpecError>,
}

impl Checker {
    fn fail(&mut self, key: impl Into<String>, value: impl fmt::Display, allowed: impl Into<String>) {
        self.errors.push(SpecError::new(key, value, allowed));
    }
    fn positive(&mut self, key: impl Into<String>, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.fail(key, v, "must be a finite number > 0");
        }
    }
    fn non_negative(&mut self, key: impl Into<String>, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.fail(key, v, "must be a finite number ≥ 0");
        }
    }
    fn finite(&mut self, key: impl Into<String>, v: f64) {
        if !v.is_finite() {
            self.fail(key, v, "must be a finite number");
        }
    }
    fn unit_interval(&mut self, key: impl Into<String>, v: f64) {
        if !(0.0..=1.0).contains(&v) {
            self.fail(key, v, "must be between 0 and 1");
        }
    }
    fn multiple_of_dt(&mut self, key: impl Into<String>, v: f64, dt: f64) {
        let steps = v / dt;
        if dt > 0.0 && v.is_finite() && (steps - steps.round()).abs() > 1e-6 * steps.max(1.0) {
            self.fail(key, v, format!("must be a whole number of time steps (dt_ms = {dt})"));
        } else if dt > 0.0 && dt.is_finite() && v > 0.0 && steps.round() < 1.0 {
            // Within the tolerance above of zero steps: the engine would take one step, or none.
            self.fail(key, v, format!("must be at least one time step (dt_ms = {dt})"));
        }
    }
    fn name(&mut self, key: String, name: &str, seen: &mut HashSet<String>) {
        if name.chars().count() > MAX_NAME_LEN {
            let head: String = name.chars().take(16).collect();
            self.fail(
                key,
                format!("\"{head}…\" ({} characters)", name.chars().count()),
                format!("names are at most {MAX_NAME_LEN} characters (they become parts of file names)"),
            );
        } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.fail(key, format!("{name:?}"), "names use letters, digits and `_` only");
        } else if !seen.insert(name.to_string()) {
            self.fail(
                key,
                format!("{name:?}"),
                "names of populations and inputs must be unique",
            );
        }
    }
    fn size(&mut self, key: &str, fraction: Option<f64>, size: Option<u64>, n: u64) {
        match (fraction, size) {
            (Some(_), Some(_)) | (None, None) => self.fail(
                format!("{key}.fraction"),
                "?",
                "give exactly one of `fraction` and `size`",
            ),
            (Some(f), None) => {
                if !(f > 0.0 && f.is_finite()) {
                    self.fail(format!("{key}.fraction"), f, "must be > 0");
                } else if (f * n as f64).round() < 1.0 {
                    self.fail(format!("{key}.fraction"), f, format!("gives no neuron at n = {n}"));
                } else if (f * n as f64).round() > MAX_IDS as f64 {
                    self.fail(
                        format!("{key}.fraction"),
                        f,
                        format!(
                            "gives {:.0} at n = {n}; at most {MAX_IDS} (ids are 32-bit)",
                            (f * n as f64).round()
                        ),
                    );
                }
            }
            (None, Some(0)) => self.fail(format!("{key}.size"), 0, "must be ≥ 1"),
            (None, Some(s)) if s > MAX_IDS => self.fail(
                format!("{key}.size"),
                s,
                format!("must be between 1 and {MAX_IDS} (ids are 32-bit)"),
            ),
            (None, Some(_)) => {}
        }
    }
}

impl NetworkSpec {
    /// Checks every field; returns all problems at once.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut c = Checker { errors: vec![] };
        let dt = self.dt_ms;
        if self.n == 0 {
            c.fail("n", 0, "must be ≥ 1");
        } else if self.n > MAX_IDS {
            c.fail(
                "n",
                self.n,
                format!("must be between 1 and {MAX_IDS} (neuron ids are 32-bit)"),
            );
        }
        c.positive("dt_ms", dt);
        if dt.is_finite() && dt > MAX_DT_MS {
            c.fail(
                "dt_ms",
                dt,
                format!(
                    "must be at most {MAX_DT_MS} ms: input spikes are drawn one second of simulated time at a time, every second a step spans before the step"
                ),
            );
        }
        c.positive("duration_ms", self.duration_ms);
        c.multiple_of_dt("duration_ms", self.duration_ms, dt);
        if dt > 0.0 && self.duration_ms / dt > MAX_STEPS {
            c.fail(
                "duration_ms",
                self.duration_ms,
                format!("needs more than 2^53 time steps of dt_ms = {dt}; steps are counted exactly only up to 2^53"),
            );
        }

        let mut names = HashSet::new();
        if self.populations.is_empty() {
            c.fail("populations", "[]", "at least one population is needed");
        }
        let mut total = 0u64;
        for (i, p) in self.populations.iter().enumerate() {
            let key = format!("populations[{i}]");
            c.name(format!("{key}.name"), &p.name, &mut names);
            c.size(&key, p.fraction, p.size, self.n);
            total = total.saturating_add(
                p.size
                    .unwrap_or_else(|| (p.fraction.unwrap_or(0.0) * self.n as f64).round() as u64),
            );
            c.positive(format!("{key}.tau_syn_ms"), p.tau_syn_ms);
            let e = &p.neuron;
            let nk = format!("{key}.neuron");
            c.positive(format!("{nk}.c_m"), e.c_m);
            c.positive(format!("{nk}.tau_m_ms"), e.tau_m_ms);
            c.positive(format!("{nk}.delta_t_mv"), e.delta_t_mv);
            for (k, v) in [
                ("e_l_mv", e.e_l_mv),
                ("v_t_mv", e.v_t_mv),
                ("v_th_mv", e.v_th_mv),
                ("v_re_mv", e.v_re_mv),
            ] {
                c.finite(format!("{nk}.{k}"), v);
            }
            if e.v_re_mv >= e.v_th_mv {
                c.fail(
                    format!("{nk}.v_re_mv"),
                    e.v_re_mv,
                    format!("reset must be below the threshold v_th_mv = {}", e.v_th_mv),
                );
            }
            if !(e.v_init_min_mv <= e.v_init_max_mv && e.v_init_max_mv < e.v_th_mv) {
                c.fail(
                    format!("{nk}.v_init_max_mv"),
                    e.v_init_max_mv,
                    format!("need v_init_min_mv ≤ v_init_max_mv < v_th_mv = {}", e.v_th_mv),
                );
            }
        }
        if self.n > 0 && !self.populations.is_empty() && total != self.n && self.errors_free(&c) {
            c.fail(
                "n",
                self.n,
                format!("population sizes add up to {total}; they must add up to n"),
            );
        }

        for (i, x) in self.inputs.iter().enumerate() {
            let key = format!("inputs[{i}]");
            c.name(format!("{key}.name"), &x.name, &mut names);
            c.size(&key, x.fraction, x.size, self.n);
            c.non_negative(format!("{key}.rate_hz"), x.rate_hz);
            let max_rate_hz = 1000.0 / dt;
            if dt > 0.0 && dt.is_finite() && x.rate_hz.is_finite() && x.rate_hz >= max_rate_hz {
                c.fail(
                    format!("{key}.rate_hz"),
                    x.rate_hz,
                    format!(
                        "must be below 1000/dt_ms = {max_rate_hz} Hz: a Poisson train must fire less than once per time step (dt_ms = {dt})"
                    ),
                );
            }
            c.unit_interval(format!("{key}.correlation"), x.correlation);
            if x.correlation > 0.0 && x.correlation < MIN_CORRELATION {
                c.fail(
                    format!("{key}.correlation"),
                    x.correlation,
                    format!(
                        "must be 0 or at least {MIN_CORRELATION:e}: correlated trains share a mother process at rate_hz / correlation"
                    ),
                );
            }
            if x.correlation > 0.0 {
                c.non_negative(format!("{key}.jitter_ms"), x.jitter_ms);
                if x.jitter_ms.is_finite() && x.jitter_ms > MAX_JITTER_MS {
                    c.fail(
                        format!("{key}.jitter_ms"),
                        x.jitter_ms,
                        format!(
                            "must be at most {MAX_JITTER_MS} ms: correlated spikes are drawn 10 × jitter_ms ahead of the simulated time"
                        ),
                    );
                }
            }
            c.positive(format!("{key}.tau_syn_ms"), x.tau_syn_ms);
            c.non_negative(format!("{key}.start_ms"), x.start_ms);
            if let Some(stop) = x.stop_ms
                && stop.partial_cmp(&x.start_ms) != Some(std::cmp::Ordering::Greater)
            {
                c.fail(
                    format!("{key}.stop_ms"),
                    stop,
                    format!("must be after start_ms = {}", x.start_ms),
                );
            }
        }

        let population = |name: &str| self.populations.iter().find(|p| p.name == name);
        let mut pairs = HashSet::new();
        for (i, p) in self.projections.iter().enumerate() {
            let key = format!("projections[{i}]");
            let source_sign = match (population(&p.from), self.inputs.iter().find(|x| x.name == p.from)) {
                (Some(pop), _) => Some(pop.kind),
                (None, Some(x)) => Some(x.kind),
                (None, None) => {
                    c.fail(
                        format!("{key}.from"),
                        format!("{:?}", p.from),
                        format!("no population or input of that name; known: {}", self.source_names()),
                    );
                    None
                }
            };
            if population(&p.to).is_none() {
                let why = if self.inputs.iter().any(|x| x.name == p.to) {
                    "inputs only send spikes; `to` must be a population".to_string()
                } else {
                    format!("no population of that name; known: {}", self.population_names())
                };
                c.fail(format!("{key}.to"), format!("{:?}", p.to), why);
            }
            if !pairs.insert((p.from.clone(), p.to.clone())) {
                c.fail(
                    key.clone(),
                    format!("{} → {}", p.from, p.to),
                    "only one projection per (from, to) pair",
                );
            }
            c.unit_interval(format!("{key}.probability"), p.probability);
            c.finite(format!("{key}.weight"), p.weight);
            match source_sign {
                Some(Sign::Excitatory) if p.weight < 0.0 => c.fail(
                    format!("{key}.weight"),
                    p.weight,
                    format!("`{}` is excitatory: weight must be ≥ 0", p.from),
                ),
                Some(Sign::Inhibitory) if p.weight > 0.0 => c.fail(
                    format!("{key}.weight"),
                    p.weight,
                    format!("`{}` is inhibitory: weight must be ≤ 0", p.from),
                ),
                _ => {}
            }
            if let Some(rule) = &p.plasticity {
                let rk = format!("{key}.plasticity");
                if population(&p.from).is_none() && source_sign.is_some() {
                    c.fail(
                        format!("{rk}.rule"),
                        rule.name(),
                        format!(
                            "`{}` is an input: inputs have no traces, so their projections cannot be plastic",
                            p.from
                        ),
                    );
                }
                if rule.needs_excitatory_source() && source_sign == Some(Sign::Inhibitory) {
                    c.fail(
                        format!("{rk}.rule"),
                        rule.name(),
                        format!(
                            "this rule assumes positive weights; `{}` is inhibitory (use `istdp` or `generic`)",
                            p.from
                        ),
                    );
                }
                check_rule(&mut c, &rk, rule, p.weight);
            }
        }

        for (i, s) in self.stimuli.iter().enumerate() {
            let key = format!("stimuli[{i}]");
            if population(&s.population).is_none() {
                c.fail(
                    format!("{key}.population"),
                    format!("{:?}", s.population),
                    format!("no population of that name; known: {}", self.population_names()),
                );
            }
            c.finite(format!("{key}.current"), s.current);
            c.non_negative(format!("{key}.start_ms"), s.start_ms);
            if let Some(stop) = s.stop_ms
                && stop.partial_cmp(&s.start_ms) != Some(std::cmp::Ordering::Greater)
            {
                c.fail(
                    format!("{key}.stop_ms"),
                    stop,
                    format!("must be after start_ms = {}", s.start_ms),
                );
            }
        }

        let r = &self.record;
        for (k, v) in [
            ("record.rate_bin_ms", r.rate_bin_ms),
            ("record.weight_interval_ms", r.weight_interval_ms),
            ("record.neuron_interval_ms", r.neuron_interval_ms),
        ] {
            c.positive(k, v);
            c.multiple_of_dt(k, v, dt);
        }
        // Built in code, a spec can hold integers its TOML (config.resolved.toml) cannot.
        for (k, v) in [
            ("seed", self.seed),
            ("record.weight_samples", r.weight_samples),
            ("record.neuron_samples", r.neuron_samples),
        ] {
            if v > i64::MAX as u64 {
                c.fail(
                    k,
                    v,
                    format!("must be at most {}: TOML integers are 64-bit signed", i64::MAX),
                );
            }
        }
        c.positive("guard.max_rate_hz", self.guard.max_rate_hz);
        c.positive("guard.window_ms", self.guard.window_ms);
        c.non_negative("checkpoint.every_ms", self.checkpoint.every_ms);
        c.multiple_of_dt("guard.window_ms", self.guard.window_ms, dt);

        if let Some((key, tau)) = self.fastest_time_constant()
            && dt.is_finite()
            && dt > DT_FRACTION_OF_TAU * tau * (1.0 + 1e-9)
            && !self.allow_coarse_dt
        {
            c.fail(
                "dt_ms",
                dt,
                format!(
                    "must be ≤ {} ms, a tenth of the fastest time constant ({key} = {tau} ms): forward Euler decays by 1 − dt/τ per step instead of e^(−dt/τ), 5 % off over one τ at dt = τ/10 and nonsense at dt ≥ τ; set `allow_coarse_dt = true` to run anyway",
                    DT_FRACTION_OF_TAU * tau
                ),
            );
        }

        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(c.errors))
        }
    }

    /// The smallest positive time constant that forward Euler integrates (membrane τ_m, synaptic
    /// τ of every population and input, τ_STDP of every plastic projection), with its key.
    pub fn fastest_time_constant(&self) -> Option<(String, f64)> {
        let mut taus: Vec<(String, f64)> = vec![];
        for (i, p) in self.populations.iter().enumerate() {
            taus.push((format!("populations[{i}].neuron.tau_m_ms"), p.neuron.tau_m_ms));
            taus.push((format!("populations[{i}].tau_syn_ms"), p.tau_syn_ms));
        }
        for (i, x) in self.inputs.iter().enumerate() {
            taus.push((format!("inputs[{i}].tau_syn_ms"), x.tau_syn_ms));
        }
        for (i, p) in self.projections.iter().enumerate() {
            if let Some(rule) = &p.plasticity {
                taus.push((format!("projections[{i}].plasticity.tau_ms"), rule.tau_ms()));
            }
        }
        taus.into_iter()
            .filter(|(_, t)| t.is_finite() && *t > 0.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn errors_free(&self, c: &Checker) -> bool {
        c.errors.is_empty()
    }

    fn population_names(&self) -> String {
        self.populations
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn source_names(&self) -> String {
        self.populations
            .iter()
            .map(|p| p.name.as_str())
            .chain(self.inputs.iter().map(|x| x.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn check_rule(c: &mut Checker, key: &str, rule: &PlasticitySpec, weight: f64) {
    c.non_negative(format!("{key}.eta"), rule.eta());
    c.positive(format!("{key}.tau_ms"), rule.tau_ms());
    let bounds = |c: &mut Checker, j_min: Option<f64>, j_max: Option<f64>| {
        if let (Some(lo), Some(hi)) = (j_min, j_max)
            && lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
        {
            c.fail(format!("{key}.j_min"), lo, format!("must be below j_max = {hi}"));
        }
    };
    match *rule {
        PlasticitySpec::Kohonen { beta, .. } | PlasticitySpec::Oja { beta, .. } => {
            c.finite(format!("{key}.beta"), beta)
        }
        PlasticitySpec::HebbSoft { j_max, .. } => c.finite(format!("{key}.j_max"), j_max),
        PlasticitySpec::HebbAdditive { j_min, j_max, .. } => bounds(c, j_min, j_max),
        PlasticitySpec::Triplet { v_theta, .. } => c.finite(format!("{key}.v_theta"), v_theta),
        PlasticitySpec::Istdp {
            target_rate_hz, j_norm, ..
        } => {
            c.non_negative(format!("{key}.target_rate_hz"), target_rate_hz);
            if !(j_norm.is_finite() && j_norm != 0.0 && (weight == 0.0 || j_norm.signum() == weight.signum())) {
                c.fail(format!("{key}.j_norm"), j_norm, format!("must be non-zero with the sign of the projection's weight ({weight}), so the rule never flips a weight's sign"));
            }
        }
        PlasticitySpec::Generic {
            ref on_pre,
            ref on_post,
            j_min,
            j_max,
            ..
        } => {
            bounds(c, j_min, j_max);
            for (side, t) in [("on_pre", on_pre), ("on_post", on_post)] {
                check_term(c, &format!("{key}.{side}"), t);
            }
        }
    }
}

fn check_term(c: &mut Checker, key: &str, t: &SpikeTermSpec) {
    if !matches!(t.trace_power, 1 | 2) {
        c.fail(format!("{key}.trace_power"), t.trace_power, "must be 1 or 2");
    }
    c.finite(format!("{key}.constant"), t.constant);
    c.finite(format!("{key}.trace"), t.trace);
    match (t.weight, t.cap) {
        (WeightFactorSpec::CapMinusJ, None) => c.fail(
            format!("{key}.cap"),
            "missing",
            "`weight = \"cap_minus_j\"` needs `cap`",
        ),
        (WeightFactorSpec::CapMinusJ, Some(v)) => c.finite(format!("{key}.cap"), v),
        (_, Some(v)) => c.fail(
            format!("{key}.cap"),
            v,
            "`cap` is only used with `weight = \"cap_minus_j\"`",
        ),
        _ => {}
    }
}
