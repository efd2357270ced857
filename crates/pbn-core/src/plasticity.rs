//! The one plasticity representation (docs/plasticity.md §3.2, docs/engine.md §7.6).
//!
//! For a synapse with unscaled weight j, presynaptic neuron k and postsynaptic neuron j':
//!
//! * when k spikes: Δj = rate · w_pre(j) · (c_pre + b_pre · x_post^p_pre)
//! * when j' spikes: Δj = rate · w_post(j) · (c_post + b_post · x_pre^p_post)
//!
//! with traces x as in docs/plasticity.md §3.1 (seen *before* this step's increments), then j is
//! clipped to [j_min, j_max] if bounds are given. Within a step the pre update is applied first and
//! the post update sees its result (docs/model.md §2.7). Every named rule of docs/plasticity.md §3.3
//! is a constructor of this form, so the simulator, the theory and the docs all read the same
//! coefficients.

use crate::spec::{PlasticitySpec, SpikeTermSpec, WeightFactorSpec};

/// Weight dependence w(j) of one term (unscaled weights).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightFactor {
    /// w = 1.
    One,
    /// w = j.
    J,
    /// w = cap − j.
    CapMinusJ(f64),
}

/// One side of the rule: w(j) · (constant + trace · x^power).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeTerm {
    /// Weight dependence.
    pub weight: WeightFactor,
    /// Timing-independent part.
    pub constant: f64,
    /// Coefficient of the other neuron's trace.
    pub trace: f64,
    /// Power of the trace: 1 or 2.
    pub trace_power: u8,
}

impl SpikeTerm {
    /// A term that changes nothing.
    pub const ZERO: SpikeTerm = SpikeTerm {
        weight: WeightFactor::One,
        constant: 0.0,
        trace: 0.0,
        trace_power: 1,
    };

    fn new(weight: WeightFactor, constant: f64, trace: f64) -> Self {
        Self {
            weight,
            constant,
            trace,
            trace_power: 1,
        }
    }

    /// Whether the term ever changes a weight.
    pub fn is_active(&self) -> bool {
        self.constant != 0.0 || self.trace != 0.0
    }
}

/// A plasticity rule in generic form, in unscaled weight units.
#[derive(Debug, Clone, PartialEq)]
pub struct PlasticityRule {
    /// Rule name, for reports.
    pub name: &'static str,
    /// Overall rate (per spike), including the √N factor of rules that scale with N (docs/plasticity.md §3.5).
    pub rate: f64,
    /// Applied when the presynaptic neuron spikes (reads the postsynaptic trace).
    pub on_pre: SpikeTerm,
    /// Applied when the postsynaptic neuron spikes (reads the presynaptic trace).
    pub on_post: SpikeTerm,
    /// Lower bound on j, if any.
    pub j_min: Option<f64>,
    /// Upper bound on j, if any.
    pub j_max: Option<f64>,
    /// Eligibility-trace time constant τ_STDP (ms).
    pub tau_ms: f64,
}

impl PlasticityRule {
    /// Builds the rule a config describes, for a network of `n` neurons (√N enters the rate of
    /// rules that are additive in scaled weights, docs/plasticity.md §3.5).
    pub fn from_spec(spec: &PlasticitySpec, n: u64) -> Self {
        Self::from_spec_sqrt_n(spec, (n as f64).sqrt())
    }

    /// [`PlasticityRule::from_spec`] given √N (computed once by the caller).
    pub fn from_spec_sqrt_n(spec: &PlasticitySpec, sqrt_n: f64) -> Self {
        use WeightFactor::{J, One};
        let tau_ms = spec.tau_ms();
        let rule = |rate, on_pre, on_post, j_min, j_max| PlasticityRule {
            name: spec.name(),
            rate,
            on_pre,
            on_post,
            j_min,
            j_max,
            tau_ms,
        };
        match *spec {
            PlasticitySpec::Kohonen { eta, beta, .. } => rule(
                eta,
                SpikeTerm::new(One, 0.0, beta),
                SpikeTerm::new(J, -1.0, 0.0),
                None,
                None,
            ),
            PlasticitySpec::HebbSoft { eta, j_max, .. } => rule(
                eta,
                SpikeTerm::new(J, 0.0, -1.0),
                SpikeTerm::new(One, 0.0, j_max),
                None,
                None,
            ),
            PlasticitySpec::HebbAdditive { eta, j_min, j_max, .. } => rule(
                eta * sqrt_n,
                SpikeTerm::new(One, 0.0, -1.0),
                SpikeTerm::new(One, 0.0, 1.0),
                j_min,
                j_max,
            ),
            PlasticitySpec::Oja { eta, beta, gamma, .. } => rule(
                eta * gamma,
                SpikeTerm::new(One, 0.0, beta),
                SpikeTerm::new(J, 0.0, -1.0),
                None,
                None,
            ),
            PlasticitySpec::Triplet { eta, v_theta, .. } => rule(
                eta * sqrt_n,
                SpikeTerm::new(One, 0.0, v_theta),
                SpikeTerm {
                    trace_power: 2,
                    ..SpikeTerm::new(One, 0.0, -1.0)
                },
                Some(0.0),
                None,
            ),
            PlasticitySpec::Istdp {
                eta,
                target_rate_hz,
                j_norm,
                tau_ms,
            } => {
                // α = 2 ρ τ with ρ in kHz.
                let alpha = 2.0 * target_rate_hz * 1e-3 * tau_ms;
                rule(
                    eta * sqrt_n / j_norm,
                    SpikeTerm::new(J, alpha, -1.0),
                    SpikeTerm::new(J, 0.0, -1.0),
                    None,
                    None,
                )
            }
            PlasticitySpec::Generic {
                eta,
                sqrt_n_scaling,
                ref on_pre,
                ref on_post,
                j_min,
                j_max,
                ..
            } => rule(
                if sqrt_n_scaling { eta * sqrt_n } else { eta },
                term_from_spec(on_pre),
                term_from_spec(on_post),
                j_min,
                j_max,
            ),
        }
    }

    /// The same rule compiled for the engine's scaled weights J = j/√N.
    pub fn scaled(&self, sqrt_n: f64) -> ScaledRule {
        let side = |t: &SpikeTerm| {
            // ΔJ = Δj/√N: additive terms shrink by √N, multiplicative ones keep their rate.
            // w(J) = w0 + w1·J covers 1, J and cap − J without branches.
            let (gain, w0, w1) = match t.weight {
                WeightFactor::One => (self.rate / sqrt_n, 1.0, 0.0),
                WeightFactor::J => (self.rate, 0.0, 1.0),
                WeightFactor::CapMinusJ(c) => (self.rate, c / sqrt_n, -1.0),
            };
            let (p0, p1) = if t.trace_power == 2 { (0.0, 1.0) } else { (1.0, 0.0) };
            ScaledTerm {
                gain,
                w0,
                w1,
                p0,
                p1,
                constant: t.constant,
                trace: t.trace,
                active: t.is_active() && self.rate != 0.0,
            }
        };
        ScaledRule {
            pre: side(&self.on_pre),
            post: side(&self.on_post),
            min: self.j_min.map_or(f64::NEG_INFINITY, |v| v / sqrt_n),
            max: self.j_max.map_or(f64::INFINITY, |v| v / sqrt_n),
        }
    }

    /// Unscaled weight change of one spike-triggered update at weight `j`, given the other
    /// neuron's trace `x` (`pre = true`: a presynaptic spike reading the postsynaptic trace),
    /// clipped to the bounds.
    pub fn update(&self, pre: bool, j: f64, x: f64) -> f64 {
        let t = if pre { &self.on_pre } else { &self.on_post };
        let xp = if t.trace_power == 2 { x * x } else { x };
        let new = j + self.rate * weight_factor(t.weight, j) * (t.constant + t.trace * xp);
        new.clamp(
            self.j_min.unwrap_or(f64::NEG_INFINITY),
            self.j_max.unwrap_or(f64::INFINITY),
        )
    }

    /// Final unscaled weight of one synapse from `j0` after the given spike trains (step indices)
    /// with time step `dt_ms`: the rule applied event by event in the engine's order.
    pub fn replay(&self, dt_ms: f64, j0: f64, pre_steps: &[u64], post_steps: &[u64]) -> f64 {
        replay_events(
            pre_steps,
            post_steps,
            1.0 - dt_ms / self.tau_ms,
            j0,
            |j, x| self.update(true, j, x),
            |j, x| self.update(false, j, x),
        )
    }

    /// Learning window: weight change (unscaled, per unit rate) for one pre/post pair at
    /// lag Δ = t_post − t_pre (ms) at weight j, ignoring the timing-independent constants.
    pub fn window(&self, lag_ms: f64, j: f64) -> f64 {
        let decay = (-lag_ms.abs() / self.tau_ms).exp();
        let term = |t: &SpikeTerm| t.trace * weight_factor(t.weight, j) * decay.powi(t.trace_power as i32);
        if lag_ms > 0.0 {
            term(&self.on_post) // pre first: the post spike reads the pre trace
        } else {
            term(&self.on_pre)
        }
    }
}

/// Applies spike-triggered updates in the engine's order (docs/model.md §2.7): at each step with
/// spikes, the presynaptic update first (reading the postsynaptic trace), then the postsynaptic
/// one (reading the presynaptic trace, and seeing the first's result). Traces are seen before the
/// step's own increments, x(t_i) = Σ_{s < i} d^{i − s} with d = 1 − dt/τ (docs/plasticity.md §3.1).
pub fn replay_events(
    pre_steps: &[u64],
    post_steps: &[u64],
    d: f64,
    j0: f64,
    pre: impl Fn(f64, f64) -> f64,
    post: impl Fn(f64, f64) -> f64,
) -> f64 {
    let trace =
        |spikes: &[u64], i: u64| -> f64 { spikes.iter().filter(|&&s| s < i).map(|&s| d.powi((i - s) as i32)).sum() };
    let mut events: Vec<u64> = pre_steps.iter().chain(post_steps).copied().collect();
    events.sort_unstable();
    events.dedup();
    let mut j = j0;
    for i in events {
        if pre_steps.contains(&i) {
            j = pre(j, trace(post_steps, i));
        }
        if post_steps.contains(&i) {
            j = post(j, trace(pre_steps, i));
        }
    }
    j
}

/// w(j) for unscaled j.
pub fn weight_factor(w: WeightFactor, j: f64) -> f64 {
    match w {
        WeightFactor::One => 1.0,
        WeightFactor::J => j,
        WeightFactor::CapMinusJ(c) => c - j,
    }
}

fn term_from_spec(t: &SpikeTermSpec) -> SpikeTerm {
    SpikeTerm {
        weight: match t.weight {
            WeightFactorSpec::One => WeightFactor::One,
            WeightFactorSpec::J => WeightFactor::J,
            WeightFactorSpec::CapMinusJ => WeightFactor::CapMinusJ(t.cap.unwrap_or(0.0)),
        },
        constant: t.constant,
        trace: t.trace,
        trace_power: t.trace_power,
    }
}

/// One side of a rule in the engine's scaled units: ΔJ = gain·(w0 + w1·J)·(c + b·x·(p0 + p1·x)).
/// The coefficient form is branch-free in the synapse loop, and exact: multiplying by 1 or
/// adding 0 does not round, so it equals the per-case formulas bit for bit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledTerm {
    gain: f64,
    w0: f64,
    w1: f64,
    p0: f64,
    p1: f64,
    constant: f64,
    trace: f64,
    /// Whether this side changes anything (lets the engine skip it).
    pub active: bool,
}

impl ScaledTerm {
    const ZERO: ScaledTerm = ScaledTerm {
        gain: 0.0,
        w0: 1.0,
        w1: 0.0,
        p0: 1.0,
        p1: 0.0,
        constant: 0.0,
        trace: 0.0,
        active: false,
    };

    /// ΔJ for scaled weight `w` and the other neuron's trace `x`.
    #[inline(always)]
    fn delta(&self, w: f64, x: f64) -> f64 {
        let xp = x * (self.p0 + self.p1 * x);
        self.gain * (self.w0 + self.w1 * w) * (self.constant + self.trace * xp)
    }
}

/// A rule compiled for scaled weights J = j/√N; what the engine applies per synapse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledRule {
    /// Pre-spike side (reads the postsynaptic trace).
    pub pre: ScaledTerm,
    /// Post-spike side (reads the presynaptic trace).
    pub post: ScaledTerm,
    min: f64,
    max: f64,
}

impl ScaledRule {
    /// A rule that changes nothing: plastic weights while their plasticity is switched off.
    pub const FROZEN: ScaledRule = ScaledRule {
        pre: ScaledTerm::ZERO,
        post: ScaledTerm::ZERO,
        min: f64::NEG_INFINITY,
        max: f64::INFINITY,
    };

    /// New weight after a presynaptic spike, given the postsynaptic trace.
    #[inline(always)]
    pub fn on_pre(&self, w: f64, x_post: f64) -> f64 {
        (w + self.pre.delta(w, x_post)).clamp(self.min, self.max)
    }

    /// New weight after a postsynaptic spike, given the presynaptic trace.
    #[inline(always)]
    pub fn on_post(&self, w: f64, x_pre: f64) -> f64 {
        (w + self.post.delta(w, x_pre)).clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_rules_match_the_reference_per_spike_updates() {
        // docs/plasticity.md §3.3 in scaled weights, N = 400 (√N = 20).
        let n = 400;
        let s = 20.0;
        let (w, x) = (1.5 / s, 0.7);
        let eta = 0.01;
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-15, "{a} vs {b}");

        let k = PlasticityRule::from_spec(
            &PlasticitySpec::Kohonen {
                eta,
                beta: 2.0,
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        close(k.on_pre(w, x), w + eta * (2.0 / s) * x);
        close(k.on_post(w, x), w - eta * w);

        let h = PlasticityRule::from_spec(
            &PlasticitySpec::HebbSoft {
                eta,
                j_max: 30.0,
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        close(h.on_pre(w, x), w - eta * x * w);
        close(h.on_post(w, x), w + eta * x * 30.0 / s);

        let a = PlasticityRule::from_spec(
            &PlasticitySpec::HebbAdditive {
                eta,
                j_min: Some(0.0),
                j_max: Some(50.0),
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        close(a.on_pre(w, x), w - eta * x);
        close(a.on_post(w, x), w + eta * x);
        close(a.on_pre(0.001 / s, 10.0), 0.0); // clipped at j_min
        close(a.on_post(49.99 / s, 10.0), 50.0 / s); // clipped at j_max

        let o = PlasticityRule::from_spec(
            &PlasticitySpec::Oja {
                eta,
                beta: 25.0,
                gamma: 1.0,
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        close(o.on_pre(w, x), w + eta * 25.0 / s * x);
        close(o.on_post(w, x), w - eta * x * w);

        let t = PlasticityRule::from_spec(
            &PlasticitySpec::Triplet {
                eta,
                v_theta: 2.0,
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        close(t.on_pre(w, x), w + eta * 2.0 * x);
        close(t.on_post(w, x), w - eta * x * x);

        // I→E iSTDP: J̃_norm = −200/√N, η_n = η/J̃_norm, α = 2·0.01 kHz·200 ms = 4.
        let wi = -150.0 / s;
        let i = PlasticityRule::from_spec(
            &PlasticitySpec::Istdp {
                eta,
                target_rate_hz: 10.0,
                j_norm: -200.0,
                tau_ms: 200.0,
            },
            n,
        )
        .scaled(s);
        let eta_n = eta / (-200.0 / s);
        close(i.on_pre(wi, x), wi - eta_n * (x - 4.0) * wi);
        close(i.on_post(wi, x), wi - eta_n * x * wi);
    }

    #[test]
    fn learning_windows_have_the_documented_shapes() {
        let tau = 20.0;
        let rule = |spec| PlasticityRule::from_spec(&spec, 100);
        let hebb = rule(PlasticitySpec::HebbAdditive {
            eta: 1.0,
            j_min: None,
            j_max: None,
            tau_ms: tau,
        });
        // Antisymmetric: potentiation for pre-first, depression for post-first (per unit rate).
        assert!((hebb.window(10.0, 0.0) - (-0.5f64).exp()).abs() < 1e-12);
        assert!((hebb.window(-10.0, 0.0) + (-0.5f64).exp()).abs() < 1e-12);
        let istdp = rule(PlasticitySpec::Istdp {
            eta: 1.0,
            target_rate_hz: 10.0,
            j_norm: -200.0,
            tau_ms: tau,
        });
        // Symmetric in the lag.
        assert!((istdp.window(7.0, -100.0) - istdp.window(-7.0, -100.0)).abs() < 1e-12);
    }
}
