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
            .map(|(k, v)| format!("{}={}", study.axis_label(k), label_value(*v)))
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

/// A value for labels: whole numbers as integers, others to 4 significant digits.
pub fn label_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{}", v as i64)
    } else {
        format!("{}", format!("{v:.3e}").parse::<f64>().unwrap_or(v))
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
        .chain(a.shifted.iter().map(|(k, d)| format!("{k}={}", render(value + d))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Values;

    const CONFIG: &str = "n = 500\nduration_ms = 100.0\nseed = 7\n[[populations]]\nname = \"E\"\nkind = \"excitatory\"\nfraction = 0.8\ntau_syn_ms = 8.0\n[[populations]]\nname = \"I\"\nkind = \"inhibitory\"\nfraction = 0.2\ntau_syn_ms = 4.0\n[[inputs]]\nname = \"X\"\nfraction = 0.2\nrate_hz = 10.0\ntau_syn_ms = 10.0\n[[projections]]\nfrom = \"I\"\nto = \"E\"\nprobability = 0.1\nweight = -150.0\n";

    fn study(extra: &str) -> Study {
        let text = format!(
            "title = \"t\"\nconfig_toml = '''{CONFIG}'''\n[scales.quick]\nrealizations = 2\n[scales.paper]\nset = [\"n=1000\"]\n{extra}"
        );
        Study::from_parts("t", std::path::Path::new("t.toml"), &text, CONFIG).unwrap()
    }

    #[test]
    fn values_expand_as_lists_linear_and_log_ranges() {
        let lin = Values::Range {
            from: 1.0,
            to: 4.0,
            count: 16,
            log: false,
            round: None,
        };
        let v = lin.expand();
        assert_eq!(v.len(), 16);
        assert!((v[1] - 1.2).abs() < 1e-12 && v[15] == 4.0);
        // The paper's asymptotic sizes: round(10^linspace(3, 4, 8), -1).
        let sizes = Values::Range {
            from: 1000.0,
            to: 10000.0,
            count: 8,
            log: true,
            round: Some(10.0),
        };
        assert_eq!(
            sizes.expand(),
            vec![1000.0, 1390.0, 1930.0, 2680.0, 3730.0, 5180.0, 7200.0, 10000.0]
        );
    }

    #[test]
    fn points_are_the_product_of_axes_and_realizations() {
        let s = study(
            "[[axes]]\nkey = \"inputs.0.correlation\"\nvalues = [0.0, 0.5]\n[[axes]]\nkey = \"seed\"\nvalues = [1.0, 2.0, 3.0]\n",
        );
        let points = expand(&s, "quick").unwrap();
        assert_eq!(points.len(), 2 * 3 * 2);
        assert_eq!(
            points[0].values,
            vec![("inputs.0.correlation".into(), 0.0), ("seed".into(), 1.0)]
        );
        assert_eq!(points[2].values[1].1, 2.0, "the last axis varies fastest");
        assert_eq!(
            points[11].values,
            vec![("inputs.0.correlation".into(), 0.5), ("seed".into(), 3.0)]
        );
        assert_eq!(points[5].combination, 2);
    }

    #[test]
    fn shared_networks_share_seeds_across_combinations() {
        let axis = "[[axes]]\nkey = \"projections.0.weight\"\nvalues = [-250.0, -55.0]\n";
        let config = CONFIG;
        let make = |share: bool| {
            let text = format!(
                "title = \"t\"\nshare_network = {share}\n[scales.quick]\nrealizations = 2\n[scales.paper]\n{axis}"
            );
            let s = Study::from_parts("t", std::path::Path::new("t.toml"), &text, config).unwrap();
            expand(&s, "quick").unwrap().iter().map(|p| p.seed).collect::<Vec<_>>()
        };
        assert_eq!(make(true), vec![7, 8, 7, 8]);
        assert_eq!(make(false), vec![7, 8, 9, 10]);
    }

    #[test]
    fn a_bad_axis_value_fails_before_anything_runs() {
        let s = study("[[axes]]\nkey = \"n\"\nvalues = [500.0, -3.0]\n");
        let e = expand(&s, "quick").unwrap_err();
        assert!(e.contains("n = -3"), "{e}");
    }

    #[test]
    fn whole_values_are_written_as_integers() {
        assert_eq!(render(5000.0), "5000");
        assert_eq!(render(0.1), "0.1");
        assert_eq!(render(-2.5e-5), "-2.5e-5");
    }
}
