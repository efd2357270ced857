//! What several end-to-end test files share.
#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};

/// A small Kohonen study: β ∈ {1, 2, 3} on N = 400 for `duration_ms`, with a true and a false claim.
pub fn tiny_study(dir: &Path, duration_ms: u32) -> PathBuf {
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kohonen.toml")).unwrap();
    let text = format!(
        r#"title = "tiny Kohonen sweep"
config_toml = '''{config}'''
set = ["n=400", "duration_ms={duration_ms}", "record.weight_interval_ms=100", "record.weight_samples=50", "projections.0.plasticity.eta=0.05", "checkpoint.every_ms=500"]
[scales.quick]
[scales.paper]
[[axes]]
key = "projections.0.plasticity.beta"
label = "β"
values = [1.0, 2.0, 3.0]
[[claims]]
name = "j_ee grows with beta"
quantity = "weight"
of = "E_to_E"
check = "increasing"
[[claims]]
name = "a wrong fixed point"
quantity = "weight"
of = "E_to_E"
check = "value"
value = -3.0
tolerance = 0.1
at = {{ "projections.0.plasticity.beta" = 2.0 }}
[[figures]]
kind = "versus"
name = "weight"
title = "weight vs beta"
quantities = [{{ quantity = "weight", of = "E_to_E" }}]
theory = "fixed_point"
"#
    );
    let path = dir.join(format!("tiny-{duration_ms}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}
