//! Test configs (docs/model.md §2 defaults with plasticity switched on).

use pbn_core::NetworkSpec;
use pbn_core::spec::PlasticitySpec;

/// Relative difference |a − b|/|b|.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Default network (projections: 0 E→E, 1 I→E, 2 E→I, 3 I→I, 4 X→E, 5 X→I).
pub fn default() -> NetworkSpec {
    NetworkSpec::default()
}

/// docs/theory.md §4.5.1 example: j_ei = −100, Kohonen on E→E (η = 10⁻³, τ = 200 ms), initial j_ee = `j0`.
pub fn kohonen(beta: f64, j0: f64) -> NetworkSpec {
    let mut s = default();
    s.projections[1].weight = -100.0;
    s.projections[0].weight = j0;
    s.projections[0].plasticity = Some(PlasticitySpec::Kohonen {
        eta: 1e-3,
        beta,
        tau_ms: 200.0,
    });
    s
}

/// I→E iSTDP (ρ_e = 10 Hz, ĵ_norm = −200, τ = 200 ms) on the default network.
pub fn istdp_ie(eta: f64) -> NetworkSpec {
    let mut s = default();
    s.projections[1].plasticity = Some(PlasticitySpec::Istdp {
        eta,
        target_rate_hz: 10.0,
        j_norm: -200.0,
        tau_ms: 200.0,
    });
    s
}

/// I→E (ρ_e = 10 Hz) and I→I (ρ_i) iSTDP, both ĵ_norm = −200, τ = 200 ms.
pub fn istdp_ie_ii(rho_i: f64, eta_ei: f64, eta_ii: f64) -> NetworkSpec {
    let mut s = istdp_ie(eta_ei);
    s.projections[3].plasticity = Some(PlasticitySpec::Istdp {
        eta: eta_ii,
        target_rate_hz: rho_i,
        j_norm: -200.0,
        tau_ms: 200.0,
    });
    s
}

/// The optogenetic protocol of docs/model.md §2.6b and docs/theory.md §4.8 (c = 0): E1 (0.4),
/// E2 (0.4), I (0.2); X1 at 10 Hz onto all, X2 at 5 Hz onto E1 during [2000 s, 3000 s); I→E1 and
/// I→E2 iSTDP from −250.
pub fn optogenetic() -> NetworkSpec {
    let text = r#"
n = 5000
duration_ms = 4000000.0
[[populations]]
name = "E1"
kind = "excitatory"
fraction = 0.4
tau_syn_ms = 8.0
[[populations]]
name = "E2"
kind = "excitatory"
fraction = 0.4
tau_syn_ms = 8.0
[[populations]]
name = "I"
kind = "inhibitory"
fraction = 0.2
tau_syn_ms = 4.0
[[inputs]]
name = "X1"
fraction = 0.2
rate_hz = 10.0
tau_syn_ms = 10.0
[[inputs]]
name = "X2"
fraction = 0.2
rate_hz = 5.0
tau_syn_ms = 10.0
start_ms = 2000000.0
stop_ms = 3000000.0
"#;
    let mut t = text.to_string();
    let proj = |from: &str, to: &str, w: f64, plastic: bool| {
        let mut p = format!("[[projections]]\nfrom = \"{from}\"\nto = \"{to}\"\nprobability = 0.1\nweight = {w:?}\n");
        if plastic {
            p += "plasticity = { rule = \"istdp\", eta = 1e-4, target_rate_hz = 10.0, j_norm = -200.0, tau_ms = 200.0 }\n";
        }
        p
    };
    for (from, to, w, plastic) in [
        ("E1", "E1", 25.0, false),
        ("E2", "E1", 25.0, false),
        ("E1", "E2", 25.0, false),
        ("E2", "E2", 25.0, false),
        ("I", "E1", -250.0, true),
        ("I", "E2", -250.0, true),
        ("E1", "I", 112.5, false),
        ("E2", "I", 112.5, false),
        ("I", "I", -250.0, false),
        ("X1", "E1", 180.0, false),
        ("X1", "E2", 180.0, false),
        ("X1", "I", 135.0, false),
        ("X2", "E1", 180.0, false),
    ] {
        t += &proj(from, to, w, plastic);
    }
    NetworkSpec::from_toml(&t).expect("optogenetic test config is valid")
}
