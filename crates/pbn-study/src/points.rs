//! The run matrix: a study at one scale expands into points (axis values × realizations), each an
//! ordinary config with its own seed and run directory.

use pbn_core::NetworkSpec;
use serde::{Deserialize, Serialize};

use crate::spec::Study;

/// One simulation of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Position in the study (run directories are `points/p000`, `p001`, …).
    pub index: usize,
    /// Index of its combination of axis values (points of different realizations share it).
    pub combination: usize,
    /// (axis key, value), in axis order.
    pub values: Vec<(String, f64)>,
    /// Realization (0-based).
    pub realization: u64,
    /// Master seed.
    pub seed: u64,
    /// Every `KEY=VALUE` override applied to the base config, in order.
    pub sets: Vec<String>,
}

impl Point {
    /// Run directory, relative to the study directory.
    pub fn dir(&self) -> String {
        format!("points/p{:03}", self.index)
    }

    /// Short label: `beta=2 r0`.
    pub fn label(&self, study: &Study) -> String {
        let mut parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| {
                let label = study
                    .spec
                    .axes
                    .iter()
                    .find(|a| &a.key == k)
                    .map_or(k.as_str(), |a| a.label());
                format!("{label}={}", render(*v))
            })
            .collect();
        parts.push(format!("r{}", self.realization));
        parts.join(" ")
    }

    /// The value of an axis.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// A value as a `--set` writes it: whole numbers without a fraction (TOML accepts them for float
/// keys too, and integer keys such as `n` need them).
pub fn render(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// The base sets of a scale (study-wide first, then the scale's).
pub fn base_sets(study: &Study, scale: &str) -> Result<Vec<String>, String> {
    let s = study.scale(scale)?;
    Ok(study.spec.set.iter().chain(&s.set).cloned().collect())
}

/// The spec of a config with `sets` applied.
pub fn spec_with(study: &Study, sets: &[String]) -> Result<NetworkSpec, String> {
    NetworkSpec::from_toml_with_overrides(&study.config_text, sets).map_err(|e| e.to_string())
}

/// Every axis's values at `scale`.
pub fn axis_values(study: &Study, scale: &str) -> Result<Vec<Vec<f64>>, String> {
    let s = study.scale(scale)?;
    Ok(study
        .spec
        .axes
        .iter()
        .map(|a| s.axes.get(&a.key).unwrap_or(&a.values).expand())
        .collect())
}

/// The sets that put every key of `axis` to `value`.
pub fn axis_sets(study: &Study, axis: usize, value: f64) -> Vec<String> {
    let a = &study.spec.axes[axis];
    std::iter::once(&a.key)
        .chain(&a.also)
        .map(|k| format!("{k}={}", render(value)))
        .collect()
}

/// Expands a study at `scale` into its points; every point's config is resolved (so a bad value
/// fails before anything runs).
pub fn expand(study: &Study, scale: &str) -> Result<Vec<Point>, String> {
    let base = base_sets(study, scale)?;
    let realizations = study.scale(scale)?.realizations;
    let base_seed = spec_with(study, &base)?.seed;
    let values = axis_values(study, scale)?;
    let combinations: usize = values.iter().map(Vec::len).product();
    let mut points = vec![];
    for combination in 0..combinations {
        // Mixed-radix digits, the last axis fastest.
        let mut rest = combination;
        let mut chosen = vec![0.0; values.len()];
        for (k, vals) in values.iter().enumerate().rev() {
            chosen[k] = vals[rest % vals.len()];
            rest /= vals.len();
        }
        for r in 0..realizations {
            let seed = if study.spec.share_network {
                base_seed + r
            } else {
                base_seed + r + realizations * combination as u64
            };
            let mut sets = base.clone();
            for (k, v) in chosen.iter().enumerate() {
                sets.extend(axis_sets(study, k, *v));
            }
            sets.push(format!("seed={seed}"));
            spec_with(study, &sets).map_err(|e| {
                let at: Vec<String> = study
                    .spec
                    .axes
                    .iter()
                    .zip(&chosen)
                    .map(|(a, v)| format!("{} = {}", a.key, render(*v)))
                    .collect();
                format!("study {} at {}: {e}", study.name, at.join(", "))
            })?;
            points.push(Point {
                index: points.len(),
                combination,
                values: study
                    .spec
                    .axes
                    .iter()
                    .map(|a| a.key.clone())
                    .zip(chosen.clone())
                    .collect(),
                realization: r,
                seed,
                sets,
            });
        }
    }
    Ok(points)
}
