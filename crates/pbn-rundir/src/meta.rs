//! The static description of a run written to `meta.json`.

use pbn_core::{NetworkSpec, Simulation};
use serde_json::{Value, json};

/// Crate versions that can change sampled values (from Cargo.lock at build time).
fn dependency_versions() -> Value {
    let lock = include_str!("../../../Cargo.lock");
    let mut out = serde_json::Map::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name) {
            if ["rand", "rand_core", "rand_distr", "rand_xoshiro"].contains(&n) {
                out.insert(n.to_string(), json!(v.trim_matches('"')));
            }
            name = None;
        }
    }
    Value::Object(out)
}

/// The static part of `meta.json` (sizes, id ranges, projections, sources, versions); the
/// caller adds `status`, `timings`, `summary` and `files` as the run ends.
pub fn describe_run(spec: &NetworkSpec, sim: &Simulation) -> Value {
    let layout = sim.layout();
    let populations: Vec<Value> = layout
        .populations
        .iter()
        .map(|p| json!({"name": p.name, "kind": p.kind, "first_id": p.start, "size": p.len}))
        .collect();
    let inputs: Vec<Value> = layout
        .inputs
        .iter()
        .map(|x| json!({"name": x.name, "size": x.len}))
        .collect();
    let projections: Vec<Value> = spec
        .projections
        .iter()
        .map(|p| {
            json!({
                "name": format!("{}_to_{}", p.from, p.to), "from": p.from, "to": p.to,
                "weight": p.weight, "plasticity": p.plasticity.as_ref().map(|r| r.name()),
            })
        })
        .collect();
    json!({
        "pbn_version": env!("CARGO_PKG_VERSION"),
        "seed": spec.seed, "n": spec.n, "dt_ms": spec.dt_ms, "duration_ms": spec.duration_ms,
        "threads": sim.options().threads,
        "synapses": sim.synapse_count(),
        "populations": populations, "inputs": inputs, "projections": projections,
        "sources": sim.recording_plan().sources,
        "dependencies": dependency_versions(),
    })
}
