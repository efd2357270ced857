//! `pbn config`: the default config, and checking a config.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pbn_core::NetworkSpec;

/// The fully commented default config (also `examples/default.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../../examples/default.toml");

/// Reads and validates a config file with `--set` overrides; `None` gives the built-in default.
pub fn load(path: Option<&Path>, sets: &[String]) -> Result<NetworkSpec, String> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display()))?,
        None => DEFAULT_CONFIG.to_string(),
    };
    let name = path.map_or_else(|| "the default config".to_string(), |p| p.display().to_string());
    NetworkSpec::from_toml_with_overrides(&text, sets).map_err(|e| format!("{name}: {e}"))
}

pub fn config(print_default: bool, check: Option<PathBuf>, sets: &[String]) -> Result<ExitCode, String> {
    if print_default {
        print!("{DEFAULT_CONFIG}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = check {
        let spec = load(Some(&path), sets)?;
        print!("{}", spec.to_resolved_toml());
        return Ok(ExitCode::SUCCESS);
    }
    Err("nothing to do: use `pbn config --print-default` or `pbn config --check CONFIG`".into())
}
