//! Typed quantities: what a simulation measures and what the theory predicts for the same
//! thing, over the same window. Shared by `pbn compare` and `pbn study`.

use std::cell::RefCell;
use std::fmt;

use pbn_analysis::{Analysis, AnalyzeOptions, analyze_run};
use pbn_core::NetworkSpec;
use pbn_rundir::RunData;
use pbn_theory::{Prediction, Stability, TheoryOptions};
use serde::{Deserialize, Serialize};

use crate::spec::{TheoryMode, TheorySpec};

/// A kind of quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Population rate over the window, silent neurons included (Hz); `of` = population.
    Rate,
    /// Block-mean unscaled weight averaged over the weight records in the window; `of` = projection.
    Weight,
    /// Across-synapse SD of the unscaled weight, averaged over the records in the window.
    WeightSd,
    /// Mean spike-count covariance (diagonal excluded) over the window; `of` = `A-B`.
    Covariance,
    /// Mean spike-count correlation coefficient over the window; `of` = `A-B`.
    Correlation,
    /// Kolmogorov–Smirnov p-value between the sampled weights at the window's start and end
    /// (stationarity of the weight distribution); `of` = projection.
    KsP,
    /// Convergence time of the block-mean weight (s; derivative criterion); `of` = projection.
    ConvergenceTime,
    /// Cov(j, r) across synapses of the final weights with presynaptic rates over the window
    /// (weight·kHz); `of` = projection.
    CovJR,
    /// ⟨j r⟩ over the final weights (weight·kHz): the mean drive through the projection.
    MeanJR,
    /// Pearson correlation, across presynaptic neurons, of mean outgoing final weight and rate.
    RateWeightCorrelation,
    /// Mean net input (sum over sources) onto the sampled neurons of a population (mV/ms).
    NetInput,
    /// Mean final weight of a projection minus its configured initial weight (from the final
    /// weights); `of` = projection.
    WeightChange,
    /// First spike of population B minus first spike of population A (ms); `of` = `A-B`. With one
    /// neuron each, the lag t_post − t_pre of a learning window.
    SpikeLag,
    /// Fraction of the configured duration that was simulated: 1 for a completed run, less for
    /// one the runaway guard or a divergence stopped (an unstable weight dynamics).
    CompletedFraction,
}

impl Quantity {
    /// Unit, for tables.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Rate => "Hz",
            Quantity::Weight | Quantity::WeightSd => "j",
            Quantity::Covariance => "spikes²",
            Quantity::Correlation | Quantity::KsP | Quantity::RateWeightCorrelation => "",
            Quantity::ConvergenceTime => "s",
            Quantity::CovJR | Quantity::MeanJR => "j·kHz",
            Quantity::NetInput => "mV/ms",
            Quantity::WeightChange => "j",
            Quantity::SpikeLag => "ms",
            Quantity::CompletedFraction => "",
        }
    }

    /// Name in words.
    pub fn words(self) -> &'static str {
        match self {
            Quantity::Rate => "rate",
            Quantity::Weight => "mean weight",
            Quantity::WeightSd => "weight SD",
            Quantity::Covariance => "count covariance",
            Quantity::Correlation => "count correlation",
            Quantity::KsP => "KS p",
            Quantity::ConvergenceTime => "convergence time",
            Quantity::CovJR => "Cov(j, r)",
            Quantity::MeanJR => "⟨j r⟩",
            Quantity::RateWeightCorrelation => "corr(weight, rate)",
            Quantity::NetInput => "net input",
            Quantity::WeightChange => "weight change",
            Quantity::SpikeLag => "spike lag",
            Quantity::CompletedFraction => "fraction of the run completed",
        }
    }
}

/// What a window's fractions are fractions of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowOf {
    /// The configured duration: a run stopped before the window ends cannot be measured.
    #[default]
    Duration,
    /// The time the run simulated (the configured duration when it completed): for claims about
    /// a dynamics that the runaway guard may stop, at a time that depends on the scale.
    Simulated,
}

/// A quantity of something over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// The kind.
    pub quantity: Quantity,
    /// A population (`E`), a projection (`I_to_E`) or a pair of populations (`E-I`).
    #[serde(default)]
    pub of: String,
    /// Window as fractions of the run's duration; default [0.5, 1] (the second half).
    #[serde(default)]
    pub window: Option<[f64; 2]>,
    /// What the window's fractions are fractions of (default: the configured duration).
    #[serde(default)]
    pub window_of: WindowOf,
}

impl Measure {
    /// The window as fractions of the duration.
    pub fn window(&self) -> [f64; 2] {
        self.window.unwrap_or(match self.quantity {
            Quantity::KsP => [0.8, 1.0],
            _ => [0.5, 1.0],
        })
    }

    /// The window in ms for a run configured for `duration_ms` that simulated `simulated_ms`.
    pub fn window_ms(&self, duration_ms: f64, simulated_ms: f64) -> (f64, f64) {
        let [a, b] = self.window();
        let t = match self.window_of {
            WindowOf::Duration => duration_ms,
            WindowOf::Simulated => simulated_ms,
        };
        (a * t, b * t)
    }

    fn pair(&self) -> Result<(&str, &str), String> {
        self.of.split_once('-').ok_or_else(|| {
            format!(
                "{}: `of` must name two populations as `A-B`, not `{}`",
                self.quantity.words(),
                self.of
            )
        })
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.quantity.words(), self.of)?;
        let [a, b] = self.window();
        match self.window_of {
            WindowOf::Duration if [a, b] != [0.5, 1.0] => write!(f, " [{a}T, {b}T]")?,
            WindowOf::Duration => {}
            // T_sim: the time simulated, less than T where the run was stopped.
            WindowOf::Simulated => write!(f, " [{a}T_sim, {b}T_sim]")?,
        }
        let unit = self.quantity.unit();
        if !unit.is_empty() {
            write!(f, " ({unit})")?;
        }
        Ok(())
    }
}

/// One finished run, measured lazily (analyses are cached per window).
pub struct MeasuredRun {
    /// The run directory.
    pub run: RunData,
    analyses: RefCell<Vec<((u64, u64), Analysis)>>,
}

impl MeasuredRun {
    /// Opens a run directory.
    pub fn open(dir: &std::path::Path) -> Result<Self, String> {
        Ok(Self {
            run: RunData::open(dir).map_err(|e| e.to_string())?,
            analyses: RefCell::new(vec![]),
        })
    }

    /// The `pbn analyze` analysis over a window (ms).
    pub fn analysis(&self, from_ms: f64, to_ms: f64) -> Result<Analysis, String> {
        let key = (from_ms.to_bits(), to_ms.to_bits());
        if let Some((_, a)) = self.analyses.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(a.clone());
        }
        let options = AnalyzeOptions {
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            ..AnalyzeOptions::default()
        };
        let a = analyze_run(&self.run, &options).map_err(|e| e.to_string())?;
        self.analyses.borrow_mut().push((key, a.clone()));
        Ok(a)
    }

    /// The simulated value of `m`.
    pub fn measure(&self, m: &Measure) -> Result<f64, String> {
        let (from, to) = m.window_ms(self.run.spec.duration_ms, self.run.simulated_ms);
        // A run stopped early (runaway, divergence) says nothing about windows it did not reach.
        if to > self.run.simulated_ms + 1e-6 && m.quantity != Quantity::CompletedFraction {
            return Err(format!(
                "the run stopped at t = {:.1} s ({}), before the window [{:.1}, {:.1}] s ends",
                self.run.simulated_ms * 1e-3,
                self.run.meta["stop_reason"]
                    .as_str()
                    .unwrap_or("status ")
                    .split(':')
                    .next()
                    .unwrap_or(""),
                from * 1e-3,
                to * 1e-3
            ));
        }
        let weight_series = || {
            self.run.weights(&m.of).map_err(|e| {
                format!(
                    "{}: no weight records for projection `{}` ({e})",
                    m.quantity.words(),
                    m.of
                )
            })
        };
        let in_window = |t: &[f64]| -> Vec<usize> {
            let idx: Vec<usize> = (0..t.len()).filter(|&i| t[i] > from && t[i] <= to + 1e-9).collect();
            if idx.is_empty() {
                // A window narrower than the record interval: the record nearest its end.
                nearest(t, to).into_iter().collect()
            } else {
                idx
            }
        };
        let mean_at = |v: &[f64], idx: &[usize]| idx.iter().map(|&i| v[i]).sum::<f64>() / idx.len().max(1) as f64;
        match m.quantity {
            Quantity::Rate => {
                let a = self.analysis(from, to)?;
                a.populations
                    .iter()
                    .find(|p| p.name == m.of)
                    .map(|p| p.rate_hz)
                    .ok_or_else(|| format!("rate: no population `{}`", m.of))
            }
            Quantity::Weight | Quantity::WeightSd => {
                let w = weight_series()?;
                let idx = in_window(&w.t_ms);
                if idx.is_empty() {
                    return Err(format!("{}: no weight records", m));
                }
                Ok(mean_at(
                    if m.quantity == Quantity::Weight {
                        &w.mean
                    } else {
                        &w.std
                    },
                    &idx,
                ))
            }
            Quantity::Covariance | Quantity::Correlation => {
                let (a, b) = m.pair()?;
                let an = self.analysis(from, to)?;
                let cov = an.covariance.as_ref().ok_or_else(|| format!("{m}: no spike counts"))?;
                let block = cov
                    .summary
                    .block(a, b)
                    .or_else(|| cov.summary.block(b, a))
                    .ok_or_else(|| format!("{m}: no populations `{a}` and `{b}`"))?;
                Ok(if m.quantity == Quantity::Covariance {
                    block.mean_cov
                } else {
                    block.mean_corr
                })
            }
            Quantity::KsP => {
                let w = weight_series()?;
                let (i, k) = (nearest(&w.t_ms, from), nearest(&w.t_ms, to));
                let (Some(i), Some(k)) = (i, k) else {
                    return Err(format!("{m}: no weight records"));
                };
                Ok(pbn_analysis::ks::ks_two_sample(w.samples.row(i), w.samples.row(k)).p_value)
            }
            Quantity::ConvergenceTime => {
                let a = self.analysis(from, to)?;
                let w = self.weight_report(&a, &m.of)?;
                Ok(w.stats.convergence_time_ms.map_or(f64::NAN, |t| t * 1e-3))
            }
            Quantity::CovJR | Quantity::MeanJR | Quantity::RateWeightCorrelation => {
                let a = self.analysis(from, to)?;
                let w = self.weight_report(&a, &m.of)?;
                let rw = w
                    .rate_weight
                    .as_ref()
                    .ok_or_else(|| format!("{m}: needs the final weights and spikes (record.final_weights)"))?;
                Ok(match m.quantity {
                    Quantity::CovJR => rw.cov_j_r,
                    Quantity::MeanJR => rw.mean_jr,
                    _ => rw.fit.r,
                })
            }
            Quantity::WeightChange => {
                let fw = self
                    .run
                    .final_weights(&m.of)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("{m}: needs the final weights (record.final_weights)"))?;
                let initial = self
                    .run
                    .spec
                    .projections
                    .iter()
                    .find(|p| format!("{}_to_{}", p.from, p.to) == m.of)
                    .map(|p| p.weight)
                    .ok_or_else(|| format!("{m}: no projection `{}`", m.of))?;
                Ok(fw.j.iter().sum::<f64>() / fw.j.len().max(1) as f64 - initial)
            }
            Quantity::CompletedFraction => Ok(self.run.simulated_ms / self.run.spec.duration_ms),
            Quantity::SpikeLag => {
                let (a, b) = m.pair()?;
                let (first_a, first_b) = (self.spike_steps(a)?, self.spike_steps(b)?);
                match (first_a.first(), first_b.first()) {
                    (Some(&ta), Some(&tb)) => Ok((tb as f64 - ta as f64) * self.run.spec.dt_ms),
                    _ => Err(format!("{m}: `{a}` or `{b}` never spiked")),
                }
            }
            Quantity::NetInput => {
                let a = self.analysis(from, to)?;
                a.balance
                    .as_ref()
                    .and_then(|b| b.iter().find(|g| g.name == m.of))
                    .map(|g| g.total)
                    .ok_or_else(|| format!("{m}: no sampled neurons of `{}` (record.neuron_samples)", m.of))
            }
        }
    }

    /// Spike steps of the first neuron of a population.
    pub fn spike_steps(&self, population: &str) -> Result<Vec<u64>, String> {
        let p = self
            .run
            .populations
            .iter()
            .find(|p| p.name == population)
            .ok_or_else(|| format!("no population `{population}`"))?;
        let (times, ids) = self.run.spikes().map_err(|e| e.to_string())?;
        let dt = self.run.spec.dt_ms;
        Ok(times
            .iter()
            .zip(&ids)
            .filter(|(_, i)| **i as usize == p.start)
            .map(|(t, _)| (t / dt).round() as u64)
            .collect())
    }

    /// What the projection's rule predicts for the weight change of its first synapse, applied
    /// event by event to the recorded spike trains of the first neurons of its two populations.
    pub fn rule_weight_change(&self, projection: &str) -> Result<f64, String> {
        let spec = &self.run.spec;
        let p = spec
            .projections
            .iter()
            .find(|p| format!("{}_to_{}", p.from, p.to) == projection)
            .ok_or_else(|| format!("no projection `{projection}`"))?;
        let rule = p
            .plasticity
            .as_ref()
            .ok_or_else(|| format!("`{projection}` is not plastic"))?;
        let form = pbn_core::PlasticityRule::from_spec(rule, spec.n);
        let (pre, post) = (self.spike_steps(&p.from)?, self.spike_steps(&p.to)?);
        Ok(form.replay(spec.dt_ms, p.weight, &pre, &post) - p.weight)
    }

    fn weight_report<'a>(&self, a: &'a Analysis, name: &str) -> Result<&'a pbn_analysis::run::WeightReport, String> {
        a.weights
            .iter()
            .find(|w| w.name == name)
            .ok_or_else(|| format!("no plastic projection `{name}` in {}", self.run.root.display()))
    }

    /// The balance correction D (weight·kHz per population) measured over a window.
    pub fn correction(&self, from_ms: f64, to_ms: f64) -> Result<Vec<f64>, String> {
        self.analysis(from_ms, to_ms)?
            .correction_d
            .ok_or_else(|| "the correction D needs the final weights of the plastic projections".to_string())
    }
}

/// Position of projection `of` (`FROM_to_TO`) among the plastic projections, the order of the
/// theory's weight vectors.
fn plastic_index(spec: &NetworkSpec, of: &str) -> Result<usize, String> {
    spec.projections
        .iter()
        .filter(|p| p.plasticity.is_some())
        .position(|p| format!("{}_to_{}", p.from, p.to) == of)
        .ok_or_else(|| format!("`{of}` is no plastic projection"))
}

/// Index of the record nearest `t`.
fn nearest(t: &[f64], at: f64) -> Option<usize> {
    (0..t.len()).min_by(|&a, &b| (t[a] - at).abs().total_cmp(&(t[b] - at).abs()))
}

/// Theory for one config, with predictions cached per (mode, evaluation time, correction).
pub struct TheoryAt<'a> {
    spec: &'a NetworkSpec,
    settings: &'a TheorySpec,
    cache: RefCell<Vec<(String, Prediction)>>,
}

impl<'a> TheoryAt<'a> {
    /// Theory for `spec`.
    pub fn new(spec: &'a NetworkSpec, settings: &'a TheorySpec) -> Self {
        Self {
            spec,
            settings,
            cache: RefCell::new(vec![]),
        }
    }

    fn plastic(&self) -> bool {
        self.spec.projections.iter().any(|p| p.plasticity.is_some())
    }

    fn predict(&self, at_ms: f64, integrate: bool, correction: Option<Vec<f64>>) -> Result<Prediction, String> {
        let key = format!("{at_ms}|{integrate}|{correction:?}");
        if let Some((_, p)) = self.cache.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(p.clone());
        }
        let options = TheoryOptions {
            at_ms,
            window_ms: self.settings.window_ms,
            kappa: self.settings.kappa,
            correction,
            integrate_ms: integrate.then_some(self.spec.duration_ms),
            samples: 400,
            ..TheoryOptions::default()
        };
        let p = pbn_theory::predict(self.spec, &options).map_err(|e| e.to_string())?;
        self.cache.borrow_mut().push((key, p.clone()));
        Ok(p)
    }

    /// The theory's value of `m`, or `None` where the theory says nothing about it.
    /// `correction` is needed for [`TheoryMode::CorrectedFixedPoint`].
    pub fn value(&self, m: &Measure, mode: TheoryMode, correction: Option<Vec<f64>>) -> Result<Option<f64>, String> {
        // The rule's prediction needs the recorded spikes: `Collection::theory` evaluates it.
        if matches!(mode, TheoryMode::None | TheoryMode::Rule) {
            return Ok(None);
        }
        let predicted = matches!(
            m.quantity,
            Quantity::Rate | Quantity::Weight | Quantity::Covariance | Quantity::Correlation
        );
        if !predicted {
            return Ok(None);
        }
        // (`Study::check` allows windows of the simulated time only where the theory needs no
        // time: for a run that completed, both are the configured duration.)
        let (from, to) = m.window_ms(self.spec.duration_ms, self.spec.duration_ms);
        let mid = 0.5 * (from + to);
        // Weights and rates the quantity is evaluated at.
        let (weights, rates_hz, at_ms, correction) = if mode == TheoryMode::Ode && self.plastic() {
            let p = self.predict(0.0, true, None)?;
            let plasticity = p.plasticity.as_ref().ok_or("no plastic projection")?;
            let tr = plasticity.trajectory.as_ref().ok_or_else(|| {
                format!(
                    "the weight ODE failed: {}",
                    plasticity.trajectory_error.as_deref().unwrap_or("no reason given")
                )
            })?;
            let idx: Vec<usize> = (0..tr.t_s.len())
                .filter(|&i| tr.t_s[i] * 1e3 > from - 1e-9 && tr.t_s[i] * 1e3 <= to + 1e-9)
                .collect();
            let idx = if idx.is_empty() {
                nearest(&tr.t_s.iter().map(|t| t * 1e3).collect::<Vec<_>>(), to)
                    .into_iter()
                    .collect()
            } else {
                idx
            };
            if idx.is_empty() {
                return Err("the weight ODE has no samples".into());
            }
            let avg = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&i| f(i)).sum::<f64>() / idx.len() as f64;
            let weights: Vec<f64> = (0..tr.weights[0].len()).map(|b| avg(&|i| tr.weights[i][b])).collect();
            let rates: Vec<f64> = (0..tr.rates_hz[0].len()).map(|k| avg(&|i| tr.rates_hz[i][k])).collect();
            (weights, rates, 0.0, None)
        } else if self.plastic() && mode != TheoryMode::Ode {
            let correction = if mode == TheoryMode::CorrectedFixedPoint {
                Some(correction.ok_or("the corrected fixed point needs the measured correction D")?)
            } else {
                None
            };
            let p = self.predict(mid, false, correction.clone())?;
            let plasticity = p.plasticity.as_ref().ok_or("no plastic projection")?;
            // The stable fixed point; or the only one when linear analysis cannot decide (a singular
            // W, as with a stimulated subpopulation, docs/theory.md §4.8), never an unstable one.
            let fp = plasticity
                .fixed_points
                .as_ref()
                .and_then(|f| {
                    let only = match f.points.as_slice() {
                        [only] if matches!(only.stability, Stability::Marginal | Stability::Undetermined(_)) => {
                            Some(only)
                        }
                        _ => None,
                    };
                    f.stable().or(only)
                })
                .ok_or_else(|| {
                    format!(
                        "no stable fixed point{}",
                        plasticity
                            .fixed_point_error
                            .as_deref()
                            .map_or(String::new(), |e| format!(": {e}"))
                    )
                })?;
            (fp.weights.clone(), fp.rates_hz.clone(), mid, correction)
        } else {
            let p = self.predict(mid, false, None)?;
            let rates = p
                .rates_hz
                .clone()
                .ok_or_else(|| format!("no balanced state: {}", p.balance_error.as_deref().unwrap_or("")))?;
            (vec![], rates, mid, None)
        };

        let options = TheoryOptions {
            at_ms,
            correction,
            ..TheoryOptions::default()
        };
        let model = pbn_theory::model_with_options(self.spec, &options).map_err(|e| e.to_string())?;
        let names: Vec<&str> = model.populations.iter().map(|p| p.name.as_str()).collect();
        let pop = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| format!("{m}: no population `{name}`"))
        };
        Ok(Some(match m.quantity {
            Quantity::Rate => rates_hz[pop(&m.of)?],
            Quantity::Weight => weights[plastic_index(self.spec, &m.of).map_err(|e| format!("{m}: {e}"))?],
            _ => {
                let (a, b) = m.pair()?;
                let (a, b) = (pop(a)?, pop(b)?);
                let w = model.w(&if weights.is_empty() {
                    model.initial_plastic_weights()
                } else {
                    weights
                });
                let window = self.settings.window_ms;
                let count = pbn_theory::covariance::count_covariance(&model, &w, window, false);
                if m.quantity == Quantity::Covariance {
                    count[a][b]
                } else {
                    let khz: Vec<f64> = rates_hz.iter().map(|r| r * 1e-3).collect();
                    pbn_theory::covariance::correlation(&count, &khz, window, 1.0)[a][b]
                }
            }
        }))
    }

    /// The phase line of projection `of`: (j, dj/dt in 1/s) at `points` weights in [lo, hi], the
    /// other plastic blocks at their configured weights; weights without a balanced state are
    /// left out.
    pub fn phase_line(&self, of: &str, lo: f64, hi: f64, points: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
        let k = plastic_index(self.spec, of)?;
        let options = TheoryOptions {
            kappa: self.settings.kappa,
            window_ms: self.settings.window_ms,
            ..TheoryOptions::default()
        };
        let model = pbn_theory::model_with_options(self.spec, &options).map_err(|e| e.to_string())?;
        let mut j = model.initial_plastic_weights();
        let (mut x, mut y) = (vec![], vec![]);
        for i in 0..points.max(2) {
            j[k] = lo + (hi - lo) * i as f64 / (points.max(2) - 1) as f64;
            if let Ok((drift, _)) = pbn_theory::drift::drift(&model, &j, &options.drift()) {
                x.push(j[k]);
                y.push(drift[k] * 1e3);
            }
        }
        Ok((x, y))
    }

    /// The ODE's block-mean weight of projection `of` over time: (t ms, j).
    pub fn weight_trajectory(&self, of: &str) -> Result<(Vec<f64>, Vec<f64>), String> {
        let k = plastic_index(self.spec, of)?;
        let p = self.predict(0.0, true, None)?;
        let tr = p
            .plasticity
            .as_ref()
            .and_then(|pl| pl.trajectory.as_ref())
            .ok_or("the weight ODE failed")?;
        Ok((
            tr.t_s.iter().map(|t| t * 1e3).collect(),
            tr.weights.iter().map(|w| w[k]).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_a_fraction_of_the_configured_or_of_the_simulated_time() {
        let mut m = Measure {
            quantity: Quantity::Rate,
            of: "E".into(),
            window: Some([0.5, 1.0]),
            window_of: WindowOf::Duration,
        };
        // A run configured for 5000 s that the runaway guard stopped at 360 s.
        assert_eq!(m.window_ms(5.0e6, 3.6e5), (2.5e6, 5.0e6));
        m.window_of = WindowOf::Simulated;
        assert_eq!(m.window_ms(5.0e6, 3.6e5), (1.8e5, 3.6e5));
        assert_eq!(m.to_string(), "rate E [0.5T_sim, 1T_sim] (Hz)");
    }
}
