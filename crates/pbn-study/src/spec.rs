//! The study file (`studies/NAME.toml`): a base config, the run matrix at two scales, the theory
//! to evaluate, the claims to judge and the figures to draw. A study is data: the catalogue grows
//! without new code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::quantity::{Measure, Quantity, WindowOf};

/// A parsed, validated study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    /// One line: what the study shows.
    pub title: String,
    /// The paper's figure or section it reproduces (free text, e.g. "Fig 2").
    #[serde(default)]
    pub paper: String,
    /// A paragraph for the report.
    #[serde(default)]
    pub description: String,
    /// Base config: a path relative to the study file (e.g. `../examples/kohonen.toml`).
    #[serde(default)]
    pub config: Option<String>,
    /// Base config written inline (TOML text), instead of `config`.
    #[serde(default)]
    pub config_toml: Option<String>,
    /// `KEY=VALUE` overrides applied at every scale, before the scale's own.
    #[serde(default)]
    pub set: Vec<String>,
    /// The two scales: `quick` (minutes on two cores) and `paper` (the paper's N, T and η).
    pub scales: BTreeMap<String, Scale>,
    /// Sweep axes; points are their Cartesian product × realizations.
    #[serde(default)]
    pub axes: Vec<Axis>,
    /// Whether all points of one realization share one network (same seed; only the swept
    /// values differ), as in the paper's "same network, different initial weights" runs.
    #[serde(default = "yes")]
    pub share_network: bool,
    /// How the theory is evaluated.
    #[serde(default)]
    pub theory: TheorySpec,
    /// The claims, each judged by numbers.
    #[serde(default)]
    pub claims: Vec<ClaimSpec>,
    /// The figures.
    #[serde(default)]
    pub figures: Vec<FigureSpec>,
}

fn yes() -> bool {
    true
}

impl ClaimSpec {
    /// The measured quantity with its window.
    pub fn measure(&self) -> Measure {
        Measure {
            quantity: self.quantity,
            of: self.of.clone(),
            window: self.window,
            window_of: self.window_of,
        }
    }
}

/// One scale of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// `KEY=VALUE` overrides of this scale (N, duration, learning rates, windows …).
    #[serde(default)]
    pub set: Vec<String>,
    /// Realizations (seeds seed, seed + 1, …) per point.
    #[serde(default = "one")]
    pub realizations: u64,
    /// Axis values of this scale, replacing the axis's own, by axis key.
    #[serde(default)]
    pub axes: BTreeMap<String, Values>,
}

fn one() -> u64 {
    1
}

/// A sweep axis: one or more config keys set to the same value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Dotted config key (any `--set` key), e.g. `projections.0.plasticity.beta` or `n`.
    pub key: String,
    /// Further keys that take the same value (e.g. the initial weight onto E1 and onto E2).
    #[serde(default)]
    pub also: Vec<String>,
    /// Further keys that take the value plus a shift (e.g. a pulse's end, 1.5 ms after its start).
    #[serde(default)]
    pub shifted: BTreeMap<String, f64>,
    /// Label for tables and figures (default: the key).
    #[serde(default)]
    pub label: Option<String>,
    /// The values.
    pub values: Values,
    /// Draw this axis on a log scale.
    #[serde(default)]
    pub log: bool,
}

impl Axis {
    /// Label for tables and figures.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.key)
    }
}

/// Axis values: a list, or `{ from, to, count }` (both ends included, evenly spaced; with
/// `log = true` evenly spaced in log10; with `round = r` rounded to whole multiples of r).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Values {
    /// Explicit values.
    List(Vec<f64>),
    /// A range.
    Range {
        /// First value.
        from: f64,
        /// Last value.
        to: f64,
        /// Number of values (≥ 1).
        count: usize,
        /// Evenly spaced in log10 instead of linearly.
        #[serde(default)]
        log: bool,
        /// Round every value to a multiple of this (e.g. 10 for network sizes).
        #[serde(default)]
        round: Option<f64>,
    },
}

impl Values {
    /// The values, in order.
    pub fn expand(&self) -> Vec<f64> {
        match self {
            Values::List(v) => v.clone(),
            &Values::Range {
                from,
                to,
                count,
                log,
                round,
            } => {
                let at = |k: usize| {
                    let f = if count == 1 { 0.0 } else { k as f64 / (count - 1) as f64 };
                    let v = if log {
                        10f64.powf(from.log10() + (to.log10() - from.log10()) * f)
                    } else {
                        from + (to - from) * f
                    };
                    match round {
                        Some(r) if r > 0.0 => (v / r).round() * r,
                        _ => v,
                    }
                };
                (0..count).map(at).collect()
            }
        }
    }
}

/// How the theory is evaluated at each point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TheorySpec {
    /// Kernel attenuation κ of the covariance term of the weight drift.
    pub kappa: f64,
    /// Counting window of covariances (ms).
    pub window_ms: f64,
    /// Points of the fine grid on which theory curves are drawn along the first axis.
    pub fine: usize,
}

impl Default for TheorySpec {
    fn default() -> Self {
        Self {
            kappa: 1.0,
            window_ms: 250.0,
            fine: 60,
        }
    }
}

/// What the theory's value of a quantity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TheoryMode {
    /// Plastic networks: the mean-field weight ODE integrated from the initial weights over the
    /// run, averaged over the quantity's window; static networks: the balanced state.
    #[default]
    Ode,
    /// The stable fixed point of the weight dynamics (the balanced state for static networks),
    /// with inputs and stimuli as they are at the middle of the quantity's window.
    FixedPoint,
    /// As `fixed_point`, with the balance corrected by the rate–weight covariance measured in the
    /// point's own run, D_a = Σ_b p_ab q_b Cov(j_ab, r_b) (where on the manifold weights land).
    CorrectedFixedPoint,
    /// The rule's per-spike updates (the generic form) applied to the spike trains the point
    /// recorded: the prediction of a two-neuron learning window, for `weight_change`.
    Rule,
    /// No theory for this claim.
    None,
}

/// The test a claim applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// At every selected point, |sim − theory| ≤ tolerance (relative to |theory| if `relative`).
    Theory,
    /// At every selected point, |sim − value| ≤ tolerance (relative to |value| if `relative`).
    Value,
    /// At every selected point, min ≤ sim ≤ max.
    Range,
    /// The simulated value strictly increases along the first axis.
    Increasing,
    /// The simulated value strictly decreases along the first axis.
    Decreasing,
    /// Across the selected points, (max − min) ≤ tolerance (relative to |mean| if `relative`):
    /// the same outcome whatever was swept.
    Same,
    /// Across the selected points, max − min ≥ `min` (the outcome depends on what was swept).
    Spread,
    /// The simulated value has opposite signs at the first and the last selected point.
    SignChange,
    /// At every selected point, min ≤ sim − sim(`baseline`) ≤ max.
    Difference,
    /// At every selected point, sim / sim(`baseline`) agrees with theory / theory(`baseline`)
    /// within the tolerance: a relation the theory states independently of finite-N rate shifts
    /// (e.g. Kohonen's j* = β τ r_e).
    Ratio,
}

/// One claim: a quantity, a test and the numbers to judge it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    /// Short name (what is claimed).
    pub name: String,
    /// The measured quantity.
    pub quantity: Quantity,
    /// What it is of: a population (`E`), a projection (`I_to_E`) or a pair of populations (`E-I`).
    #[serde(default)]
    pub of: String,
    /// The window, as fractions of the run's duration (default: the second half, [0.5, 1]).
    #[serde(default)]
    pub window: Option<[f64; 2]>,
    /// What the window's fractions are fractions of: `duration` (the configured one, default) or
    /// `simulated` (the time the run simulated before the runaway guard stopped it, if it did).
    #[serde(default)]
    pub window_of: WindowOf,
    /// The test.
    pub check: Check,
    /// Selects points by axis value (`{ "projections.0.plasticity.beta" = 2.0 }`, or a list of
    /// values); default all.
    #[serde(default)]
    pub at: BTreeMap<String, AtValues>,
    /// How the theory value is computed (default: `ode`).
    #[serde(default)]
    pub theory: TheoryMode,
    /// Tolerance of `theory`, `value` and `same`.
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// Whether `tolerance` is relative (default true).
    #[serde(default = "yes")]
    pub relative: bool,
    /// Expected value for `value`.
    #[serde(default)]
    pub value: Option<f64>,
    /// Bounds for `range`, `spread` and `difference`.
    #[serde(default)]
    pub min: Option<f64>,
    /// Upper bound for `range` and `difference`.
    #[serde(default)]
    pub max: Option<f64>,
    /// The quantity subtracted for `difference`.
    #[serde(default)]
    pub baseline: Option<Measure>,
    /// The published value (paper or the authors' code), shown beside simulation and theory.
    #[serde(default)]
    pub published: Option<f64>,
    /// Where the published value comes from.
    #[serde(default)]
    pub published_source: Option<String>,
    /// Why simulation and theory are expected to differ (finite N, time-scale separation …).
    #[serde(default)]
    pub note: Option<String>,
    /// The scales this claim is judged at (default: every scale), for numbers that hold only at
    /// the paper's N (e.g. a published finite-N level).
    #[serde(default)]
    pub scales: Vec<String>,
}

/// The axis values a claim selects: one, or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AtValues {
    /// One value.
    One(f64),
    /// Any of these.
    Any(Vec<f64>),
}

impl AtValues {
    /// Whether `x` is selected.
    pub fn contains(&self, x: f64) -> bool {
        let near = |v: &f64| (x - v).abs() <= 1e-9 * v.abs().max(1.0);
        match self {
            AtValues::One(v) => near(v),
            AtValues::Any(vs) => vs.iter().any(near),
        }
    }
}

/// A figure of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum FigureSpec {
    /// Quantities along the first axis: simulation mean ± SD over realizations as points, the
    /// theory as a dashed line on a fine grid (and at the points when the axis is not numeric
    /// in the config).
    Versus {
        /// File stem.
        name: String,
        /// Title.
        title: String,
        /// The quantities (one colour each).
        quantities: Vec<Measure>,
        /// A measured quantity as the x axis instead of the first axis (e.g. the spike lag of a
        /// learning window); the theory is then drawn at the points.
        #[serde(default)]
        x: Option<Measure>,
        /// x axis label (default: the axis label or the x quantity).
        #[serde(default)]
        x_label: Option<String>,
        /// Theory mode for the dashed lines (`none` for no line).
        #[serde(default)]
        theory: TheoryMode,
        /// y axis label.
        #[serde(default)]
        y_label: Option<String>,
        /// Log y axis.
        #[serde(default)]
        log_y: bool,
        /// Draw the identity line y = x (e.g. final against initial weight).
        #[serde(default)]
        identity: bool,
    },
    /// The block-mean weight of a plastic projection over time, one line per point (first
    /// realization), with the theory's ODE dashed.
    WeightTraces {
        /// File stem.
        name: String,
        /// Title.
        title: String,
        /// Projection (`I_to_E`).
        of: String,
        /// Draw the ODE.
        #[serde(default = "yes")]
        ode: bool,
    },
    /// The theory's phase line: dj/dt of a plastic projection's mean weight against the weight,
    /// rates re-solved from balance at every weight, one line per value of the first axis (e.g.
    /// Kohonen's β: where a line stops crossing zero, the fixed point is lost in a saddle-node).
    PhaseLine {
        /// File stem.
        name: String,
        /// Title.
        title: String,
        /// Projection (`E_to_E`).
        of: String,
        /// Values of the first axis to draw (base sets of the scale otherwise).
        values: Vec<f64>,
        /// Weight range [from, to].
        weights: [f64; 2],
    },
    /// Population rates over time of the first point (first realization).
    RateTraces {
        /// File stem.
        name: String,
        /// Title.
        title: String,
        /// Bin of the displayed rates (ms), a multiple of the recorded bin.
        #[serde(default = "default_rate_bin")]
        bin_ms: f64,
    },
}

fn default_rate_bin() -> f64 {
    1000.0
}

impl FigureSpec {
    /// File stem.
    pub fn name(&self) -> &str {
        match self {
            FigureSpec::Versus { name, .. }
            | FigureSpec::WeightTraces { name, .. }
            | FigureSpec::PhaseLine { name, .. }
            | FigureSpec::RateTraces { name, .. } => name,
        }
    }
}

/// A study loaded from a file, with its base config text.
#[derive(Debug, Clone)]
pub struct Study {
    /// Name (the file stem).
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// The file's text (stored in the study directory so a rerun can tell it is the same study).
    pub text: String,
    /// The parsed study.
    pub spec: StudySpec,
    /// The base config's TOML text.
    pub config_text: String,
}

impl Study {
    /// Loads and checks a study file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read study {}: {e}", path.display()))?;
        let name = path
            .file_stem()
            .map_or("study".into(), |s| s.to_string_lossy().into_owned());
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_text(&name, path, &text, base)
    }

    /// Parses a study; `config` paths are relative to `base`.
    pub fn from_text(name: &str, path: &Path, text: &str, base: &Path) -> Result<Self, String> {
        let spec: StudySpec = toml::from_str(text).map_err(|e| format!("study {}: {e}", path.display()))?;
        let config_text = match (&spec.config, &spec.config_toml) {
            (Some(p), None) => {
                let p = base.join(p);
                std::fs::read_to_string(&p)
                    .map_err(|e| format!("study {}: cannot read config {}: {e}", path.display(), p.display()))?
            }
            (None, Some(t)) => t.clone(),
            _ => {
                return Err(format!(
                    "study {}: give exactly one of `config` (a path) or `config_toml` (inline)",
                    path.display()
                ));
            }
        };
        Self::from_parts(name, path, text, &config_text)
    }

    /// A study built in code (e.g. by `pbn compare`), with its base config's text.
    pub fn from_spec(name: &str, path: &Path, spec: &StudySpec, config_text: &str) -> Result<Self, String> {
        let text = toml::to_string(spec).map_err(|e| format!("study {name}: {e}"))?;
        Self::from_parts(name, path, &text, config_text)
    }

    /// A study from its text and its base config's text (as a study directory stores them).
    pub fn from_parts(name: &str, path: &Path, text: &str, config_text: &str) -> Result<Self, String> {
        let spec: StudySpec = toml::from_str(text).map_err(|e| format!("study {}: {e}", path.display()))?;
        let study = Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            text: text.to_string(),
            spec,
            config_text: config_text.to_string(),
        };
        study.check()?;
        Ok(study)
    }

    /// The label of the axis with this key (the key itself if there is none).
    pub fn axis_label<'a>(&'a self, key: &'a str) -> &'a str {
        self.spec.axes.iter().find(|a| a.key == key).map_or(key, |a| a.label())
    }

    /// The scale, or an error naming the ones there are.
    pub fn scale(&self, name: &str) -> Result<&Scale, String> {
        self.spec.scales.get(name).ok_or_else(|| {
            format!(
                "study {} has no scale `{name}`; it has: {}",
                self.name,
                self.spec.scales.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    fn check(&self) -> Result<(), String> {
        let s = &self.spec;
        let err = |m: String| Err(format!("study {}: {m}", self.name));
        for scale in ["quick", "paper"] {
            if !s.scales.contains_key(scale) {
                return err(format!("every study has a `[scales.{scale}]` table"));
            }
        }
        for (name, scale) in &s.scales {
            if scale.realizations == 0 {
                return err(format!("scales.{name}.realizations = 0: at least one realization"));
            }
            for key in scale.axes.keys() {
                if !s.axes.iter().any(|a| &a.key == key) {
                    return err(format!("scales.{name}.axes.{key}: no axis has this key"));
                }
            }
        }
        for a in &s.axes {
            if let Values::Range { count: 0, .. } = a.values {
                return err(format!("axis {}: count = 0", a.key));
            }
            if a.values.expand().is_empty() {
                return err(format!("axis {} has no values", a.key));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &s.claims {
            if let Some(bad) = c.scales.iter().find(|k| !s.scales.contains_key(*k)) {
                return err(format!("claim `{}`: no scale `{bad}`", c.name));
            }
            if !names.insert(&c.name) {
                return err(format!("two claims are named `{}`", c.name));
            }
            let need = |what: &str, ok: bool| {
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "study {}: claim `{}` ({:?}) needs {what}",
                        self.name, c.name, c.check
                    ))
                }
            };
            match c.check {
                Check::Theory => {
                    need("`tolerance`", c.tolerance.is_some())?;
                    need("a theory mode other than `none`", c.theory != TheoryMode::None)?;
                }
                Check::Value => need("`value` and `tolerance`", c.value.is_some() && c.tolerance.is_some())?,
                Check::Same => need("`tolerance`", c.tolerance.is_some())?,
                Check::Range => need("`min` or `max`", c.min.is_some() || c.max.is_some())?,
                Check::Spread => need("`min`", c.min.is_some())?,
                Check::Difference => need(
                    "`baseline` and `min` or `max`",
                    c.baseline.is_some() && (c.min.is_some() || c.max.is_some()),
                )?,
                Check::Ratio => need(
                    "`baseline`, `tolerance` and a theory mode other than `none`",
                    c.baseline.is_some() && c.tolerance.is_some() && c.theory != TheoryMode::None,
                )?,
                Check::Increasing | Check::Decreasing | Check::SignChange => {
                    need("at least one axis", !s.axes.is_empty())?
                }
            }
            if c.window_of == WindowOf::Simulated {
                // A run's simulated time is known only once it ran, and differs between
                // realizations: the theory is evaluated over the configured duration.
                need(
                    "`theory = \"none\"` with `window_of = \"simulated\"` (the theory knows only the configured duration)",
                    c.theory == TheoryMode::None,
                )?;
            }
            if let Some(b) = &c.baseline {
                need(
                    "a `baseline` with the claim's own `window_of` (over different time bases the two would not compare)",
                    b.window_of == c.window_of,
                )?;
            }
            for (key, at) in &c.at {
                let Some(axis) = s.axes.iter().find(|a| &a.key == key) else {
                    return err(format!("claim `{}`: `at` names {key}, which is no axis", c.name));
                };
                // Every selected value must exist at every scale, or the claim would silently judge nothing.
                for (scale_name, scale) in &s.scales {
                    let values = scale.axes.get(key).unwrap_or(&axis.values).expand();
                    let wanted: Vec<f64> = match at {
                        AtValues::One(v) => vec![*v],
                        AtValues::Any(vs) => vs.clone(),
                    };
                    if let Some(v) = wanted
                        .iter()
                        .find(|v| !values.iter().any(|x| AtValues::One(**v).contains(*x)))
                    {
                        return err(format!(
                            "claim `{}`: `at` {key} = {v} is not among the axis values at scale {scale_name} ({})",
                            c.name,
                            values.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
        }
        let mut stems = std::collections::BTreeSet::new();
        for f in &s.figures {
            if !stems.insert(f.name()) {
                return err(format!("two figures are named `{}`", f.name()));
            }
        }
        Ok(())
    }
}

/// The studies in a directory, sorted by name.
pub fn catalogue(dir: &Path) -> Result<Vec<Study>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read the study catalogue {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Study::load(p)).collect()
}

/// Finds a study by name in `dir`, or loads it from a path.
pub fn find(name_or_path: &str, dir: &Path) -> Result<Study, String> {
    let as_path = Path::new(name_or_path);
    if as_path.extension().is_some_and(|x| x == "toml") || as_path.exists() {
        return Study::load(as_path);
    }
    let candidate = dir.join(format!("{name_or_path}.toml"));
    if candidate.exists() {
        return Study::load(&candidate);
    }
    let known: Vec<String> = catalogue(dir)
        .map(|c| c.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    Err(format!(
        "no study `{name_or_path}` in {} (known: {}); give a name from `pbn study list` or a path to a study file",
        dir.display(),
        if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<Study, String> {
        let text = format!("title = \"t\"\nconfig_toml = 'n = 500'\n{extra}");
        Study::from_parts("t", Path::new("t.toml"), &text, "n = 500")
    }

    #[test]
    fn both_scales_are_required() {
        let e = parse("[scales.quick]\n").unwrap_err();
        assert!(e.contains("[scales.paper]"), "{e}");
        assert!(parse("[scales.quick]\n[scales.paper]\n").is_ok());
    }

    #[test]
    fn claims_name_what_they_lack() {
        let base = "[scales.quick]\n[scales.paper]\n[[claims]]\nname = \"c\"\nquantity = \"rate\"\nof = \"E\"\n";
        let e = parse(&format!("{base}check = \"theory\"\n")).unwrap_err();
        assert!(e.contains("claim `c`") && e.contains("tolerance"), "{e}");
        let e = parse(&format!("{base}check = \"increasing\"\n")).unwrap_err();
        assert!(e.contains("axis"), "{e}");
        let e = parse(&format!("{base}check = \"range\"\nmin = 1.0\nat = {{ beta = 2.0 }}\n")).unwrap_err();
        assert!(e.contains("beta") && e.contains("no axis"), "{e}");
        let axis = "[[axes]]\nkey = \"n\"\nvalues = [1000.0, 2000.0]\n";
        let e = parse(&format!(
            "{axis}{base}check = \"range\"\nmin = 1.0\nat = {{ n = 1500.0 }}\n"
        ))
        .unwrap_err();
        assert!(
            e.contains("1500") && e.contains("scale"),
            "a value no scale has is refused: {e}"
        );
        let e = parse(&format!("{base}check = \"range\"\nmin = 1\ntolerence = 2\n")).unwrap_err();
        assert!(e.contains("tolerence"), "unknown keys are refused: {e}");
    }

    #[test]
    fn windows_of_the_simulated_time_need_a_timeless_theory_and_a_like_baseline() {
        let base = "[scales.quick]\n[scales.paper]\n[[claims]]\nname = \"c\"\nquantity = \"weight\"\nof = \"I_to_E\"\n\
                    window_of = \"simulated\"\n";
        let e = parse(&format!("{base}check = \"range\"\nmin = 1.0\n")).unwrap_err();
        assert!(
            e.contains("theory = \"none\""),
            "the default theory (the ODE) is refused: {e}"
        );
        assert!(parse(&format!("{base}theory = \"none\"\ncheck = \"range\"\nmin = 1.0\n")).is_ok());
        let difference = "theory = \"none\"\ncheck = \"difference\"\nmin = 1.0\nbaseline = { quantity = \"weight\", of = \"I_to_E\" }\n";
        let e = parse(&format!("{base}{difference}")).unwrap_err();
        assert!(e.contains("baseline") && e.contains("window_of"), "{e}");
        let like = difference.replace("of = \"I_to_E\" }", "of = \"I_to_E\", window_of = \"simulated\" }");
        assert!(parse(&format!("{base}{like}")).is_ok());
    }
}
