//! Fixed points along a parameter (`key=start:stop:steps`, the `--set` key syntax of
//! [`pbn_core::spec::apply_set`]), e.g. `projections.0.plasticity.beta=1:4:16`.
//!
//! Each value is written into the parsed config, the config re-parsed and validated, and the
//! prediction made; the previous value's stable fixed point seeds the next Newton search
//! (continuation).

use std::str::FromStr;

use pbn_core::NetworkSpec;
use pbn_core::spec::apply_set;

use crate::error::TheoryError;
use crate::fixed_point::{FixedPoint, SolverOptions, find_fixed_points};
use crate::model::Model;
use crate::{TheoryOptions, balance};

/// A swept parameter: `key=start:stop:steps` (steps ≥ 1 values, both ends included).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepParam {
    /// Dotted config key.
    pub key: String,
    /// First value.
    pub start: f64,
    /// Last value.
    pub stop: f64,
    /// Number of values.
    pub steps: usize,
}

impl FromStr for SweepParam {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| TheoryError::Sweep(format!("`{s}`: {why} (expected KEY=START:STOP:STEPS)"));
        let (key, range) = s.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let parts: Vec<&str> = range.split(':').collect();
        if parts.len() != 3 || key.trim().is_empty() {
            return Err(bad("malformed"));
        }
        let num = |p: &str| {
            p.trim()
                .parse::<f64>()
                .map_err(|_| bad(&format!("`{p}` is not a number")))
        };
        let steps: usize = parts[2]
            .trim()
            .parse()
            .map_err(|_| bad("STEPS must be a positive integer"))?;
        if steps == 0 {
            return Err(bad("STEPS must be a positive integer"));
        }
        Ok(Self {
            key: key.trim().to_string(),
            start: num(parts[0])?,
            stop: num(parts[1])?,
            steps,
        })
    }
}

impl SweepParam {
    /// The swept values.
    pub fn values(&self) -> Vec<f64> {
        if self.steps == 1 {
            return vec![self.start];
        }
        (0..self.steps)
            .map(|i| self.start + (self.stop - self.start) * i as f64 / (self.steps - 1) as f64)
            .collect()
    }
}

/// One value of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepRow {
    /// Parameter value.
    pub value: f64,
    /// Balanced rates (Hz) at the config's weights, if a positive balanced state exists.
    pub rates_hz: Option<Vec<f64>>,
    /// The stable fixed point of the weight dynamics (or the first one if none is stable).
    pub fixed_point: Option<FixedPoint>,
    /// How many fixed points were found.
    pub fixed_points_found: usize,
    /// Why something is missing.
    pub error: Option<String>,
}

/// A table of predictions along a parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sweep {
    /// The parameter.
    pub param: SweepParam,
    /// Population names (columns of the rates).
    pub populations: Vec<String>,
    /// Plastic block labels (columns of the weights).
    pub blocks: Vec<String>,
    /// One row per value.
    pub rows: Vec<SweepRow>,
}

/// Looks up a dotted key (numeric parts index arrays) in a parsed config.
fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = match v {
            toml::Value::Table(t) => t.get(p)?,
            toml::Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Runs the sweep on a TOML config (with `--set` overrides `sets` applied first).
pub fn sweep(config: &str, sets: &[String], param: &SweepParam, opts: &TheoryOptions) -> Result<Sweep, TheoryError> {
    let mut table: toml::Table = config
        .parse()
        .map_err(|e: toml::de::Error| TheoryError::Config(e.to_string()))?;
    for s in sets {
        apply_set(&mut table, s).map_err(|e| TheoryError::Config(e.to_string()))?;
    }
    let integer = matches!(lookup(&table, &param.key), Some(toml::Value::Integer(_)));
    let mut rows = Vec::new();
    let mut populations = Vec::new();
    let mut blocks = Vec::new();
    let mut previous: Option<Vec<f64>> = None;
    for value in param.values() {
        let mut t = table.clone();
        let assignment = if integer {
            format!("{}={}", param.key, value.round() as i64)
        } else {
            format!("{}={value:?}", param.key)
        };
        apply_set(&mut t, &assignment).map_err(|e| TheoryError::Sweep(e.to_string()))?;
        let spec: Result<NetworkSpec, String> = t
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())
            .and_then(|s: NetworkSpec| s.validate().map(|_| s).map_err(|e| e.to_string()));
        let row = match spec {
            Err(e) => SweepRow {
                value,
                rates_hz: None,
                fixed_point: None,
                fixed_points_found: 0,
                error: Some(e),
            },
            Ok(spec) => {
                let model = crate::model_with_options(&spec, opts)?;
                populations = model.populations.iter().map(|p| p.name.clone()).collect();
                blocks = model.plastic.iter().map(|&b| model.block_label(b)).collect();
                let rates = balance::rates(&model, &model.initial_plastic_weights());
                let mut row = SweepRow {
                    value,
                    rates_hz: rates.as_ref().ok().map(|r| r.iter().map(|r| r * 1e3).collect()),
                    fixed_point: None,
                    fixed_points_found: 0,
                    error: rates.err().map(|e| e.to_string()),
                };
                if !model.plastic.is_empty() {
                    row.error = None;
                    solve_row(&model, opts, &mut previous, &mut row);
                }
                row
            }
        };
        rows.push(row);
    }
    Ok(Sweep {
        param: param.clone(),
        populations,
        blocks,
        rows,
    })
}

fn solve_row(model: &Model, opts: &TheoryOptions, previous: &mut Option<Vec<f64>>, row: &mut SweepRow) {
    let initial = previous
        .clone()
        .filter(|p| p.len() == model.plastic.len())
        .unwrap_or_else(|| model.initial_plastic_weights());
    let solver = SolverOptions {
        drift: opts.drift(),
        ..SolverOptions::default()
    };
    match find_fixed_points(model, &initial, &solver) {
        Ok(fp) => {
            row.fixed_points_found = fp.points.len();
            let chosen = fp.stable().or(fp.points.first()).cloned();
            *previous = chosen.as_ref().map(|p| p.weights.clone());
            row.fixed_point = chosen;
        }
        Err(e) => {
            *previous = None;
            row.error = Some(e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn parses_sweep_params() {
        let p: SweepParam = "projections.0.plasticity.beta=1:4:16".parse().unwrap();
        assert_eq!(p.key, "projections.0.plasticity.beta");
        assert_eq!(p.values().len(), 16);
        assert!((p.values()[5] - 2.0).abs() < 1e-12);
        assert!("beta=1:4".parse::<SweepParam>().is_err());
        assert!("beta=1:4:0".parse::<SweepParam>().is_err());
        assert!("=1:4:3".parse::<SweepParam>().is_err());
    }

    #[test]
    fn kohonen_beta_sweep_reproduces_the_table_and_the_saddle_node() {
        let text = testing::kohonen(2.0, 1.0).to_resolved_toml();
        let p: SweepParam = "projections.0.plasticity.beta=1:4:16".parse().unwrap();
        let s = sweep(&text, &[], &p, &TheoryOptions::default()).unwrap();
        assert_eq!(s.blocks, vec!["E→E".to_string()]);
        let j = first_block_weights(&s);
        assert!(
            (j[0] - 1.4465).abs() < 1e-3 && (j[5] - 3.0).abs() < 1e-9 && (j[15] - 6.5548).abs() < 1e-3,
            "{j:?}"
        );
        // Past β_c = 8.04 the row says why there is no fixed point.
        let p: SweepParam = "projections.0.plasticity.beta=7:9:3".parse().unwrap();
        let s = sweep(&text, &[], &p, &TheoryOptions::default()).unwrap();
        assert!(s.rows[0].fixed_point.is_some() && s.rows[1].fixed_point.is_some());
        assert!(s.rows[2].fixed_point.is_none());
        assert!(
            s.rows[2].error.as_ref().unwrap().contains("no fixed point"),
            "{:?}",
            s.rows[2].error
        );
    }

    /// The fixed-point weight of the first plastic block in every row.
    fn first_block_weights(s: &Sweep) -> Vec<f64> {
        s.rows
            .iter()
            .map(|r| r.fixed_point.as_ref().unwrap().weights[0])
            .collect()
    }

    #[test]
    fn integer_keys_and_correlation_sweeps() {
        // N sweep (integer key): leading-order fixed point independent of N; c sweep raises it.
        let text = testing::kohonen(2.0, 1.0).to_resolved_toml();
        let p: SweepParam = "n=1000:5000:2".parse().unwrap();
        let s = sweep(&text, &[], &p, &TheoryOptions::default()).unwrap();
        for r in &s.rows {
            assert!((r.fixed_point.as_ref().unwrap().weights[0] - 3.0).abs() < 1e-9, "{r:?}");
        }
        let p: SweepParam = "inputs.0.correlation=0:1:3".parse().unwrap();
        let s = sweep(&text, &[], &p, &TheoryOptions::default()).unwrap();
        let j = first_block_weights(&s);
        assert!(
            (j[0] - 3.0).abs() < 1e-9 && (j[1] - 3.408).abs() < 1e-3 && (j[2] - 3.825).abs() < 1e-3,
            "{j:?}"
        );
    }
}
