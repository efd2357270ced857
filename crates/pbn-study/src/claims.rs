//! Judging claims: each a quantity, a test, and the numbers (simulation mean ± SD over
//! realizations, theory, published value) that decide its verdict.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::executor::{Manifest, PointState};
use crate::points::{Point, label_value, spec_with};
use crate::quantity::{Measure, MeasuredRun, TheoryAt};
use crate::spec::{AtValues, Check, ClaimSpec, Study, TheoryMode};

/// The finished points of a study, measured on demand.
pub struct Collection<'a> {
    /// The study.
    pub study: &'a Study,
    /// Its points.
    pub points: &'a [Point],
    /// Their states.
    pub states: Vec<PointState>,
    runs: Vec<Option<MeasuredRun>>,
}

/// One combination of axis values: simulated values over realizations and the theory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Axis values.
    pub at: Vec<(String, f64)>,
    /// Simulated values, one per finished realization.
    pub simulated: Vec<f64>,
    /// Mean over realizations.
    pub mean: f64,
    /// SD over realizations (None for one realization).
    pub sd: Option<f64>,
    /// The theory's value.
    pub theory: Option<f64>,
    /// Why the theory has no value here.
    pub theory_error: Option<String>,
    /// What the row was tested against (theory, expected value or bounds), in words.
    pub expected: Option<String>,
    /// Deviation from what was expected (relative or absolute, as the claim says).
    pub deviation: Option<f64>,
    /// The row's own verdict, for per-point tests.
    pub pass: Option<bool>,
}

/// Verdict of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The numbers support the claim.
    Pass,
    /// They do not.
    Fail,
    /// Some points are missing (not run yet, or failed).
    Incomplete,
}

/// A judged claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Name.
    pub name: String,
    /// The quantity, in words, with window and unit.
    pub quantity: String,
    /// The test.
    pub check: Check,
    /// Theory mode.
    pub theory_mode: TheoryMode,
    /// Tolerance (relative or absolute).
    pub tolerance: Option<f64>,
    /// Whether the tolerance is relative.
    pub relative: bool,
    /// The published value.
    pub published: Option<f64>,
    /// Where it comes from.
    pub published_source: Option<String>,
    /// One row per selected combination of axis values.
    pub rows: Vec<Row>,
    /// The verdict.
    pub verdict: Verdict,
    /// The decisive numbers, in one line.
    pub summary: String,
    /// Why simulation and theory are expected to differ.
    pub note: Option<String>,
}

fn mean_sd(v: &[f64]) -> (f64, Option<f64>) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.len() > 1).then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, sd)
}

/// `value` with 4 significant digits.
pub fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let digits = if a == 0.0 {
            0
        } else {
            (3 - a.log10().floor() as i32).max(0) as usize
        };
        format!("{v:.digits$}")
    }
}

impl<'a> Collection<'a> {
    /// Opens the finished points of a study directory.
    pub fn open(study: &'a Study, manifest: &'a Manifest, root: &Path, states: Vec<PointState>) -> Self {
        let runs = manifest
            .points
            .iter()
            .zip(&states)
            .map(|(p, s)| {
                // A point stopped by the runaway guard or a divergence is measured over what it
                // recorded: whether and when it stopped is itself a result.
                matches!(s, PointState::Done | PointState::Failed(_))
                    .then(|| MeasuredRun::open(&root.join(p.dir())).ok())
                    .flatten()
            })
            .collect();
        Self {
            study,
            points: &manifest.points,
            states,
            runs,
        }
    }

    /// Number of points with a run to measure (finished, or stopped for good).
    pub fn done(&self) -> usize {
        self.runs.iter().filter(|r| r.is_some()).count()
    }

    /// Combinations (first point of each) matching `at`, in order.
    pub fn combinations(&self, at: &std::collections::BTreeMap<String, AtValues>) -> Vec<&'a Point> {
        let mut out: Vec<&Point> = vec![];
        for p in self.points {
            let matches = at.iter().all(|(k, v)| p.value(k).is_some_and(|x| v.contains(x)));
            if matches && !out.iter().any(|q| q.combination == p.combination) {
                out.push(p);
            }
        }
        out
    }

    /// Simulated values of `m` at a combination, one per finished realization.
    pub fn simulated(&self, combination: usize, m: &Measure) -> Result<Vec<f64>, String> {
        let mut out = vec![];
        for (p, run) in self.points.iter().zip(&self.runs) {
            if p.combination == combination
                && let Some(run) = run
            {
                out.push(run.measure(m)?);
            }
        }
        Ok(out)
    }

    /// The run of a combination's first finished realization.
    pub fn first_run(&self, combination: usize) -> Option<&MeasuredRun> {
        self.points
            .iter()
            .zip(&self.runs)
            .find(|(p, r)| p.combination == combination && r.is_some())
            .and_then(|(_, r)| r.as_ref())
    }

    /// The run of a point, if it finished.
    pub fn first_run_of(&self, index: usize) -> Option<&MeasuredRun> {
        self.runs.get(index).and_then(|r| r.as_ref())
    }

    /// The theory's value of `m` at a point's config.
    pub fn theory(&self, point: &Point, m: &Measure, mode: TheoryMode) -> Result<Option<f64>, String> {
        if mode == TheoryMode::Rule {
            if m.quantity != crate::quantity::Quantity::WeightChange {
                return Ok(None);
            }
            let run = self
                .first_run(point.combination)
                .ok_or("the rule's prediction needs the point's recorded spikes")?;
            return run.rule_weight_change(&m.of).map(Some);
        }
        let spec = spec_with(self.study, &point.sets)?;
        let correction = if mode == TheoryMode::CorrectedFixedPoint {
            let (from, to) = m.window_ms(spec.duration_ms, spec.duration_ms);
            // Mean D over the finished realizations.
            let ds: Vec<Vec<f64>> = self
                .points
                .iter()
                .zip(&self.runs)
                .filter(|(p, _)| p.combination == point.combination)
                .filter_map(|(_, r)| r.as_ref())
                .map(|r| r.correction(from, to))
                .collect::<Result<_, _>>()?;
            if ds.is_empty() {
                return Err("no finished run to measure the correction D in".into());
            }
            Some(
                (0..ds[0].len())
                    .map(|k| ds.iter().map(|d| d[k]).sum::<f64>() / ds.len() as f64)
                    .collect(),
            )
        } else {
            None
        };
        TheoryAt::new(&spec, &self.study.spec.theory).value(m, mode, correction)
    }

    /// Judges one claim.
    pub fn judge(&self, claim: &ClaimSpec) -> ClaimResult {
        let m = claim.measure();
        let mut rows = vec![];
        let mut errors = vec![];
        let mut missing = 0;
        for point in self.combinations(&claim.at) {
            let sim = self
                .simulated(point.combination, &m)
                .and_then(|v| match &claim.baseline {
                    Some(b) if claim.check == Check::Difference => {
                        let base = self.simulated(point.combination, b)?;
                        Ok(v.iter().zip(&base).map(|(a, b)| a - b).collect())
                    }
                    Some(b) if claim.check == Check::Ratio => {
                        let base = self.simulated(point.combination, b)?;
                        Ok(v.iter().zip(&base).map(|(a, b)| a / b).collect())
                    }
                    _ => Ok(v),
                });
            let simulated = match sim {
                Ok(v) if !v.is_empty() => v,
                Ok(_) => {
                    missing += 1;
                    continue;
                }
                Err(e) => {
                    errors.push(format!("{}: {e}", point.label(self.study)));
                    continue;
                }
            };
            let (mean, sd) = mean_sd(&simulated);
            // The theory of a difference is not the theory of its first term.
            let (theory, theory_error) = if claim.check != Check::Difference && claim.theory != TheoryMode::None {
                let theory = self
                    .theory(point, &m, claim.theory)
                    .and_then(|t| match (&claim.baseline, claim.check) {
                        (Some(b), Check::Ratio) => Ok(t.zip(self.theory(point, b, claim.theory)?).map(|(a, b)| a / b)),
                        _ => Ok(t),
                    });
                match theory {
                    Ok(t) => (t, None),
                    Err(e) => (None, Some(e)),
                }
            } else {
                (None, None)
            };
            rows.push(Row {
                at: point.values.clone(),
                simulated,
                mean,
                sd,
                theory,
                theory_error,
                expected: None,
                deviation: None,
                pass: None,
            });
        }
        let (verdict, summary) = if !errors.is_empty() {
            (Verdict::Fail, format!("cannot measure: {}", errors.join("; ")))
        } else if missing > 0 || rows.is_empty() {
            (
                Verdict::Incomplete,
                format!("{missing} of {} point(s) have no finished run", missing + rows.len()),
            )
        } else {
            test(claim, &mut rows)
        };
        ClaimResult {
            name: claim.name.clone(),
            quantity: match (&claim.baseline, claim.check) {
                (Some(b), Check::Difference) => format!("{m} − {b}"),
                (Some(b), Check::Ratio) => format!("{m} / {b}"),
                _ => m.to_string(),
            },
            check: claim.check,
            theory_mode: claim.theory,
            tolerance: claim.tolerance,
            relative: claim.relative,
            published: claim.published,
            published_source: claim.published_source.clone(),
            rows,
            verdict,
            summary,
            note: claim.note.clone(),
        }
    }
}

/// Applies the claim's test to its rows (all present); fills each row's deviation and verdict.
fn test(claim: &ClaimSpec, rows: &mut [Row]) -> (Verdict, String) {
    let tol = claim.tolerance.unwrap_or(0.0);
    let dev = |x: f64, reference: f64| {
        if claim.relative {
            (x - reference) / reference.abs()
        } else {
            x - reference
        }
    };
    let shown = |d: f64| {
        if claim.relative {
            format!("{:+.1} %", 100.0 * d)
        } else {
            format!("{:+}", fmt(d))
        }
    };
    let tol_shown = if claim.relative {
        format!("{:.1} %", 100.0 * tol)
    } else {
        fmt(tol)
    };
    let pass_of = |rows: &[Row]| rows.iter().all(|r| r.pass == Some(true));
    let verdict = |ok: bool| if ok { Verdict::Pass } else { Verdict::Fail };
    match claim.check {
        Check::Theory | Check::Value | Check::Ratio => {
            let mut worst: Option<f64> = None;
            for r in rows.iter_mut() {
                let reference = if claim.check != Check::Value {
                    r.theory
                } else {
                    claim.value
                };
                match reference {
                    Some(t) => {
                        let d = dev(r.mean, t);
                        r.expected = Some(fmt(t));
                        r.deviation = Some(d);
                        r.pass = Some(d.abs() <= tol);
                        worst = Some(worst.map_or(d, |w: f64| if d.abs() > w.abs() { d } else { w }));
                    }
                    None => r.pass = Some(false),
                }
            }
            let ok = pass_of(rows);
            let what = if claim.check != Check::Value {
                "theory"
            } else {
                "expected"
            };
            let s = match worst {
                Some(w) if rows.iter().all(|r| r.deviation.is_some()) => {
                    format!("largest deviation from {what} {} (tolerance {tol_shown})", shown(w))
                }
                _ => format!(
                    "no {what} value at some point: {}",
                    rows.iter()
                        .filter_map(|r| r.theory_error.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            };
            (verdict(ok), s)
        }
        Check::Range | Check::Difference => {
            let (lo, hi) = (
                claim.min.unwrap_or(f64::NEG_INFINITY),
                claim.max.unwrap_or(f64::INFINITY),
            );
            for r in rows.iter_mut() {
                r.expected = Some(bounds(claim.min, claim.max));
                r.pass = Some(r.mean >= lo && r.mean <= hi);
            }
            let values: Vec<String> = rows.iter().map(|r| fmt(r.mean)).collect();
            (
                verdict(pass_of(rows)),
                format!("{} in {}", values.join(", "), bounds(claim.min, claim.max)),
            )
        }
        Check::Increasing | Check::Decreasing => {
            let up = claim.check == Check::Increasing;
            let ok = rows.windows(2).all(|w| {
                if up {
                    w[1].mean > w[0].mean
                } else {
                    w[1].mean < w[0].mean
                }
            });
            let ends = format!(
                "{} → {} over {} points",
                fmt(rows[0].mean),
                fmt(rows[rows.len() - 1].mean),
                rows.len()
            );
            let bad = rows
                .windows(2)
                .filter(|w| {
                    if up {
                        w[1].mean <= w[0].mean
                    } else {
                        w[1].mean >= w[0].mean
                    }
                })
                .count();
            (
                verdict(ok && rows.len() > 1),
                if ok {
                    format!("strictly {}: {ends}", if up { "increasing" } else { "decreasing" })
                } else {
                    format!("{bad} step(s) against the claimed direction: {ends}")
                },
            )
        }
        Check::Same => {
            let means: Vec<f64> = rows.iter().map(|r| r.mean).collect();
            let (lo, hi) = min_max(&means);
            let centre = means.iter().sum::<f64>() / means.len() as f64;
            let spread = if claim.relative {
                (hi - lo) / centre.abs()
            } else {
                hi - lo
            };
            (
                verdict(spread <= tol),
                format!(
                    "spread {} across {} points ({} … {}; tolerance {tol_shown})",
                    if claim.relative {
                        format!("{:.1} %", 100.0 * spread)
                    } else {
                        fmt(spread)
                    },
                    rows.len(),
                    fmt(lo),
                    fmt(hi)
                ),
            )
        }
        Check::Spread => {
            let means: Vec<f64> = rows.iter().map(|r| r.mean).collect();
            let (lo, hi) = min_max(&means);
            let min = claim.min.unwrap_or(0.0);
            (
                verdict(hi - lo >= min),
                format!(
                    "span {} ({} … {}), needs ≥ {}",
                    fmt(hi - lo),
                    fmt(lo),
                    fmt(hi),
                    fmt(min)
                ),
            )
        }
        Check::SignChange => {
            let (a, b) = (rows[0].mean, rows[rows.len() - 1].mean);
            (
                verdict(a * b < 0.0),
                format!("first point {}, last point {}", fmt(a), fmt(b)),
            )
        }
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    })
}

fn bounds(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("[{}, {}]", fmt(a), fmt(b)),
        (Some(a), None) => format!("≥ {}", fmt(a)),
        (None, Some(b)) => format!("≤ {}", fmt(b)),
        (None, None) => "any".into(),
    }
}

/// `key=value` pairs of a row, with axis labels.
pub fn at_label(study: &Study, at: &[(String, f64)]) -> String {
    at.iter()
        .map(|(k, v)| format!("{} = {}", study.axis_label(k), label_value(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(check: Check, extra: &str) -> ClaimSpec {
        toml::from_str(&format!(
            "name = \"c\"\nquantity = \"weight\"\nof = \"E_to_E\"\ncheck = \"{}\"\n{extra}",
            serde_json::to_value(check).unwrap().as_str().unwrap()
        ))
        .unwrap()
    }

    fn rows(means: &[f64], theory: Option<&[f64]>) -> Vec<Row> {
        means
            .iter()
            .enumerate()
            .map(|(k, &m)| Row {
                at: vec![("x".into(), k as f64)],
                simulated: vec![m],
                mean: m,
                sd: None,
                theory: theory.map(|t| t[k]),
                theory_error: None,
                expected: None,
                deviation: None,
                pass: None,
            })
            .collect()
    }

    #[test]
    fn theory_check_passes_inside_and_fails_outside_the_tolerance() {
        let c = claim(Check::Theory, "tolerance = 0.05");
        let mut r = rows(&[2.9, 3.05], Some(&[3.0, 3.0]));
        assert_eq!(test(&c, &mut r).0, Verdict::Pass);
        assert!((r[0].deviation.unwrap() + 0.1 / 3.0).abs() < 1e-12);
        // A wrong fixed point (or a wrong sign) is red.
        let mut r = rows(&[2.9, -3.0], Some(&[3.0, 3.0]));
        assert_eq!(test(&c, &mut r).0, Verdict::Fail);
        assert_eq!(r[1].pass, Some(false));
        // Absolute tolerance.
        let c = claim(Check::Theory, "tolerance = 0.2\nrelative = false");
        assert_eq!(test(&c, &mut rows(&[3.15], Some(&[3.0]))).0, Verdict::Pass);
        assert_eq!(test(&c, &mut rows(&[3.25], Some(&[3.0]))).0, Verdict::Fail);
        // No theory value: fail, not pass.
        assert_eq!(test(&c, &mut rows(&[3.0], None)).0, Verdict::Fail);
    }

    #[test]
    fn monotonic_sign_and_spread_checks() {
        let inc = claim(Check::Increasing, "");
        assert_eq!(test(&inc, &mut rows(&[1.0, 2.0, 3.0], None)).0, Verdict::Pass);
        assert_eq!(test(&inc, &mut rows(&[1.0, 3.0, 2.0], None)).0, Verdict::Fail);
        assert_eq!(test(&inc, &mut rows(&[1.0], None)).0, Verdict::Fail);
        let dec = claim(Check::Decreasing, "");
        assert_eq!(test(&dec, &mut rows(&[3.0, 2.0, 1.0], None)).0, Verdict::Pass);
        let sign = claim(Check::SignChange, "");
        assert_eq!(test(&sign, &mut rows(&[1187.0, 10.0, -391.0], None)).0, Verdict::Pass);
        assert_eq!(test(&sign, &mut rows(&[1187.0, 10.0, 391.0], None)).0, Verdict::Fail);
        let same = claim(Check::Same, "tolerance = 0.03");
        assert_eq!(test(&same, &mut rows(&[2.0, 2.02, 2.04], None)).0, Verdict::Pass);
        assert_eq!(test(&same, &mut rows(&[2.0, 2.1], None)).0, Verdict::Fail);
        let spread = claim(Check::Spread, "min = 30");
        assert_eq!(test(&spread, &mut rows(&[-146.0, -72.0], None)).0, Verdict::Pass);
        assert_eq!(test(&spread, &mut rows(&[-146.0, -130.0], None)).0, Verdict::Fail);
    }

    #[test]
    fn range_difference_and_value_checks() {
        let range = claim(Check::Range, "min = 0.05");
        assert_eq!(test(&range, &mut rows(&[0.79], None)).0, Verdict::Pass);
        assert_eq!(test(&range, &mut rows(&[0.001], None)).0, Verdict::Fail);
        let diff = claim(
            Check::Difference,
            "min = -60\nmax = -25\nbaseline = { quantity = \"weight\", of = \"I_to_E\" }",
        );
        assert_eq!(test(&diff, &mut rows(&[-38.0], None)).0, Verdict::Pass);
        assert_eq!(test(&diff, &mut rows(&[38.0], None)).0, Verdict::Fail);
        let value = claim(Check::Value, "value = 10.0\ntolerance = 0.05");
        assert_eq!(test(&value, &mut rows(&[10.2, 9.7], None)).0, Verdict::Pass);
        assert_eq!(test(&value, &mut rows(&[10.2, 8.0], None)).0, Verdict::Fail);
    }

    #[test]
    fn numbers_are_shown_with_four_significant_digits() {
        assert_eq!(fmt(3.0), "3.000");
        assert_eq!(fmt(-119.6581), "-119.7");
        assert_eq!(fmt(0.0008478), "8.478e-4");
        assert_eq!(fmt(0.0), "0");
    }
}
