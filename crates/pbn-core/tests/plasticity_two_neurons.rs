//! Every rule on two neurons: a presynaptic neuron A and a postsynaptic neuron B, driven by
//! constant stimuli chosen by hand so that they fire regular trains at different rates (and, in
//! one case, in the same steps). The engine's final weight must equal the closed-form result of
//! applying the per-spike updates of docs/plasticity.md §3.3 in unscaled units to the recorded
//! trains, with each trace written out as its explicit sum x(t_i) = Σ_{t_s < t_i} (1 − dt/τ)^{i − s}
//! (docs/plasticity.md §3.1, docs/model.md §2.7).

use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation};

mod common;

const DT: f64 = common::PAIR_DT_MS;

fn two_neuron_config(source_kind: &str, weight: f64, stim_a: f64, stim_b: f64, rule: &str) -> String {
    common::driven_pair_config(source_kind, 1, weight, stim_a, stim_b, (-60.0, -60.0), rule, 3000.0)
}

/// Runs the config; returns (pre spike steps, post spike steps, final unscaled weight).
fn run(config: &str) -> (Vec<u64>, Vec<u64>, f64) {
    let spec = NetworkSpec::from_toml(config).unwrap();
    let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
    let mut sink = MemorySink::default();
    sim.run(&mut sink).unwrap();
    let steps = |id: u32| -> Vec<u64> {
        sink.spike_ids
            .iter()
            .zip(&sink.spike_times_ms)
            .filter(|(i, _)| **i == id)
            .map(|(_, t)| (t / DT).round() as u64)
            .collect()
    };
    let (_, _, w) = sim.synapses(0);
    assert_eq!(w.len(), 1);
    (steps(0), steps(1), w[0])
}

/// Applies hand-written unscaled updates `pre(j, x_post)` and `post(j, x_pre)` in the engine's
/// event order (pre first within a step; traces before the step's increments).
fn replay(
    pre_steps: &[u64],
    post_steps: &[u64],
    tau: f64,
    j0: f64,
    pre: impl Fn(f64, f64) -> f64,
    post: impl Fn(f64, f64) -> f64,
) -> f64 {
    pbn_core::plasticity::replay_events(pre_steps, post_steps, 1.0 - DT / tau, j0, pre, post)
}

fn check(name: &str, engine: f64, expected: f64, j0: f64) {
    assert!(
        (engine - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{name}: engine {engine} vs closed form {expected}"
    );
    assert!(
        (engine - j0).abs() > 1e-6,
        "{name}: the weight must actually change ({j0} → {engine})"
    );
}

const SQRT2: f64 = std::f64::consts::SQRT_2;

#[test]
fn kohonen() {
    let (eta, beta, tau, j0) = (0.002, 2.0, 200.0, 1.0);
    let (a, b, w) = run(&two_neuron_config(
        "excitatory",
        j0,
        1.6,
        1.3,
        &format!("rule = \"kohonen\", eta = {eta}, beta = {beta}, tau_ms = {tau}"),
    ));
    assert!(a.len() > 50 && b.len() > 50);
    let expected = replay(&a, &b, tau, j0, |j, x| j + eta * beta * x, |j, _| j - eta * j);
    check("kohonen", w, expected, j0);
}

#[test]
fn hebb_soft() {
    let (eta, jmax, tau, j0) = (1e-3, 30.0, 50.0, 10.0);
    let (a, b, w) = run(&two_neuron_config(
        "excitatory",
        j0,
        1.6,
        1.3,
        &format!("rule = \"hebb_soft\", eta = {eta}, j_max = {jmax}, tau_ms = {tau}"),
    ));
    let expected = replay(&a, &b, tau, j0, |j, x| j - eta * x * j, |j, x| j + eta * x * jmax);
    check("hebb_soft", w, expected, j0);
}

#[test]
fn hebb_additive_with_bounds() {
    // √N·η per unit trace (N = 2); bounds [0, 5] are hit, clipping after every update.
    let (eta, tau, j0) = (0.01, 20.0, 2.0);
    let cfg = two_neuron_config(
        "excitatory",
        j0,
        1.3,
        1.6,
        &format!("rule = \"hebb_additive\", eta = {eta}, j_min = 0.0, j_max = 5.0, tau_ms = {tau}"),
    );
    let (a, b, w) = run(&cfg);
    let clip = |j: f64| j.clamp(0.0, 5.0);
    let expected = replay(
        &a,
        &b,
        tau,
        j0,
        |j, x| clip(j - SQRT2 * eta * x),
        |j, x| clip(j + SQRT2 * eta * x),
    );
    check("hebb_additive", w, expected, j0);
    assert!(w == 0.0 || w == 5.0 || (0.0..5.0).contains(&w));
}

#[test]
fn oja() {
    let (eta, beta, gamma, tau, j0) = (1e-3, 25.0, 0.5, 100.0, 5.0);
    let (a, b, w) = run(&two_neuron_config(
        "excitatory",
        j0,
        1.6,
        1.4,
        &format!("rule = \"oja\", eta = {eta}, beta = {beta}, gamma = {gamma}, tau_ms = {tau}"),
    ));
    let expected = replay(
        &a,
        &b,
        tau,
        j0,
        |j, x| j + eta * gamma * beta * x,
        |j, x| j - eta * gamma * x * j,
    );
    check("oja", w, expected, j0);
}

#[test]
fn triplet() {
    let (eta, vt, tau, j0) = (1e-4, 2.0, 50.0, 3.0);
    let (a, b, w) = run(&two_neuron_config(
        "excitatory",
        j0,
        1.5,
        1.4,
        &format!("rule = \"triplet\", eta = {eta}, v_theta = {vt}, tau_ms = {tau}"),
    ));
    let pos = |j: f64| j.max(0.0);
    let expected = replay(
        &a,
        &b,
        tau,
        j0,
        |j, x| pos(j + SQRT2 * eta * vt * x),
        |j, x| pos(j - SQRT2 * eta * x * x),
    );
    check("triplet", w, expected, j0);
}

#[test]
fn istdp_inhibitory_to_excitatory() {
    // η_n = √N η / ĵ_norm; pre: Δj = η_n (α − x_post) j; post: Δj = −η_n x_pre j; α = 2ρτ.
    let (eta, rho_khz, jn, tau, j0) = (1e-3, 0.01, -200.0, 200.0, -20.0);
    let cfg = two_neuron_config(
        "inhibitory",
        j0,
        1.6,
        2.0,
        &format!(
            "rule = \"istdp\", eta = {eta}, target_rate_hz = {}, j_norm = {jn}, tau_ms = {tau}",
            rho_khz * 1e3
        ),
    );
    let (a, b, w) = run(&cfg);
    let eta_n = SQRT2 * eta / jn;
    let alpha = 2.0 * rho_khz * tau;
    let expected = replay(
        &a,
        &b,
        tau,
        j0,
        |j, x| j + eta_n * (alpha - x) * j,
        |j, x| j - eta_n * x * j,
    );
    check("istdp", w, expected, j0);
    assert!(w < 0.0, "multiplicative iSTDP never flips the sign");
}

#[test]
fn generic_rule_with_soft_cap_and_same_step_spikes() {
    // Identical neurons with identical drive spike in the same steps (at least at first), so the
    // pre update and then the post update apply within one step (docs/model.md §2.7).
    let (eta, cap, tau, j0) = (2e-3, 70.0, 50.0, 0.5);
    let rule = format!(
        "rule = \"generic\", eta = {eta}, tau_ms = {tau}, on_pre = {{ weight = \"j\", trace = -1.0 }}, on_post = {{ weight = \"cap_minus_j\", cap = {cap}, trace = 1.0, constant = 0.1 }}"
    );
    let (a, b, w) = run(&two_neuron_config("excitatory", j0, 1.5, 1.5, &rule));
    let same = a.iter().filter(|s| b.contains(s)).count();
    assert!(same >= 1, "expected same-step pre/post spikes");
    let expected = replay(
        &a,
        &b,
        tau,
        j0,
        |j, x| j - eta * j * x,
        |j, x| j + eta * (cap - j) * (0.1 + x),
    );
    check("generic", w, expected, j0);
}

#[test]
fn the_rule_form_replayed_on_the_spike_trains_gives_the_engine_weight() {
    // PlasticityRule::replay is what the learning-window study takes as the rule's prediction.
    let rules = [
        (
            "excitatory",
            1.0,
            "rule = \"kohonen\", eta = 0.002, beta = 2.0, tau_ms = 200.0",
        ),
        (
            "excitatory",
            10.0,
            "rule = \"hebb_soft\", eta = 0.001, j_max = 30.0, tau_ms = 50.0",
        ),
        (
            "excitatory",
            2.0,
            "rule = \"hebb_additive\", eta = 0.01, j_min = 0.0, j_max = 5.0, tau_ms = 20.0",
        ),
        (
            "inhibitory",
            -20.0,
            "rule = \"istdp\", eta = 0.001, target_rate_hz = 10.0, j_norm = -200.0, tau_ms = 50.0",
        ),
    ];
    for (kind, j0, rule) in rules {
        let config = two_neuron_config(kind, j0, 1.6, 1.3, rule);
        let spec = NetworkSpec::from_toml(&config).unwrap();
        let form = pbn_core::PlasticityRule::from_spec(spec.projections[0].plasticity.as_ref().unwrap(), spec.n);
        let (a, b, w) = run(&config);
        check(rule, w, form.replay(DT, j0, &a, &b), j0);
    }
}
