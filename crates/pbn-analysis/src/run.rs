//! The run-directory layer: maps a [`RunData`] onto the array functions and assembles an [`Analysis`].

use std::path::PathBuf;

use pbn_rundir::{NpyStream, ReadError, RunData};
use serde::Serialize;

use crate::balance::{GroupBalance, input_balance};
use crate::convergence::Tolerance;
use crate::counts::CountMatrix;
use crate::covariance::{CovarianceOptions, CovarianceSummary, count_covariance};
use crate::rate_weight::{CorrectionTerm, RateWeight, balance_correction, rate_weight};
use crate::rates::{RateSeries, group_means, neuron_rates_hz, population_rate_series};
use crate::weights::{WeightBlockStats, WeightOptions, block_stats};
use crate::{Group, finite_mean, isi};

/// Why an analysis failed (one paragraph).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisError(pub String);

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnalysisError {}

impl From<ReadError> for AnalysisError {
    fn from(e: ReadError) -> Self {
        AnalysisError(e.0)
    }
}

/// What to analyse and how.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeOptions {
    /// Start of the analysis window (ms); default: half the simulated time.
    pub from_ms: Option<f64>,
    /// End of the analysis window (ms); default: the simulated time.
    pub to_ms: Option<f64>,
    /// Counting window for spike-count covariances (ms).
    pub count_window_ms: f64,
    /// Bin of the time-resolved population rates (ms); widened to a multiple of itself so that the
    /// whole run fits in at most `max_rate_bins` bins.
    pub rate_bin_ms: f64,
    /// Maximum number of time-resolved rate bins.
    pub max_rate_bins: usize,
    /// Report the reference's diagonal-included estimator as the first population's (E–E) mean
    /// covariance and correlation (docs/plasticity.md §3.6 item 10); both are always in the JSON.
    pub matlab_diagonal: bool,
    /// Write the full N×N covariance matrix here (.npy, float64, row-major).
    pub full_covariance: Option<PathBuf>,
    /// Pairs sampled per block for covariance/correlation distributions.
    pub samples_per_block: usize,
    /// Seed of that sampling.
    pub seed: u64,
    /// KS test between the weights at `ks_fraction` of the weight record and the final record.
    pub ks_fraction: f64,
    /// Smoothing of the weight-mean trace before the convergence criterion, as a fraction of the run.
    pub smooth_fraction: f64,
    /// Convergence tolerance: fraction of the largest smoothed |d mean/dt|.
    pub convergence_fraction: f64,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            from_ms: None,
            to_ms: None,
            count_window_ms: 250.0,
            rate_bin_ms: 100.0,
            max_rate_bins: 5000,
            matlab_diagonal: false,
            full_covariance: None,
            samples_per_block: 1000,
            seed: 1,
            ks_fraction: 0.8,
            smooth_fraction: 0.02,
            convergence_fraction: 0.05,
        }
    }
}

/// Rates and ISI statistics of one population over the analysis window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationStats {
    /// Name.
    pub name: String,
    /// First id.
    pub start: usize,
    /// Size.
    pub size: usize,
    /// Mean rate over the population, silent neurons included (Hz).
    pub rate_hz: f64,
    /// SD of the per-neuron rates (Hz).
    pub rate_sd_hz: f64,
    /// Neurons without a spike in the window.
    pub silent: usize,
    /// Mean ISI CV over neurons with ≥ 3 spikes in the window.
    pub isi_cv: f64,
    /// Neurons with ≥ 3 spikes (those averaged in `isi_cv`).
    pub isi_cv_neurons: usize,
}

/// Count covariances and which estimator the headline means use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CovarianceReport {
    /// `unbiased (diagonal excluded)` or `matlab (diagonal included in the first population's block)`.
    pub estimator: String,
    /// The statistics.
    #[serde(flatten)]
    pub summary: CovarianceSummary,
    /// Where the full matrix was written (with `--full`).
    pub full_matrix: Option<String>,
}

/// Statistics of one plastic projection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightReport {
    /// Projection name (`I_to_E`).
    pub name: String,
    /// Over-time statistics of the recorded weights.
    #[serde(flatten)]
    pub stats: WeightBlockStats,
    /// Rate–weight covariance from the final weights (needs final weights and spikes).
    pub rate_weight: Option<RateWeight>,
}

/// Everything `pbn analyze` computes; serialised as `analysis.json` (NaN appears as `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The run directory.
    pub run_dir: String,
    /// Run status from `meta.json`.
    pub status: String,
    /// Simulated time (ms).
    pub simulated_ms: f64,
    /// Network size N.
    pub n: u64,
    /// Analysis window start (ms, exclusive).
    pub from_ms: f64,
    /// Analysis window end (ms, inclusive).
    pub to_ms: f64,
    /// Per population.
    pub populations: Vec<PopulationStats>,
    /// Per-neuron rates over the window (Hz), by id.
    pub neuron_rates_hz: Vec<f64>,
    /// Per-neuron ISI CV over the window (null for < 3 spikes).
    pub neuron_isi_cv: Vec<f64>,
    /// Time-resolved population rates over the whole run.
    pub rate_series: Option<RateSeries>,
    /// Spike-count covariances and correlations.
    pub covariance: Option<CovarianceReport>,
    /// Plastic projections.
    pub weights: Vec<WeightReport>,
    /// D_a = Σ_b p_ab q_b Cov(j_ab, r_b) per population (weight·kHz), from the plastic blocks' final weights.
    pub correction_d: Option<Vec<f64>>,
    /// Mean E/I/X currents onto each population (sampled neurons).
    pub balance: Option<Vec<GroupBalance>>,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
}

/// Analyses a run directory.
pub fn analyze_run(run: &RunData, options: &AnalyzeOptions) -> Result<Analysis, AnalysisError> {
    let t_end = run.simulated_ms;
    let from_ms = options.from_ms.unwrap_or(t_end / 2.0);
    let to_ms = options.to_ms.unwrap_or(t_end);
    let valid = from_ms < to_ms && from_ms >= 0.0;
    if !valid {
        return Err(AnalysisError(format!(
            "the analysis window ({from_ms}, {to_ms}] ms is empty or negative; choose --from < --to within the \
             simulated {t_end} ms"
        )));
    }
    let mut notes = Vec::new();
    if to_ms > t_end + 1e-9 {
        notes.push(format!(
            "the window ends at {to_ms} ms but the run simulated only {t_end} ms: rates are diluted"
        ));
    }
    let groups: Vec<Group> = run
        .populations
        .iter()
        .map(|p| Group::new(&p.name, p.start, p.len))
        .collect();
    let n_neurons = groups.iter().map(|g| g.start + g.len).max().unwrap_or(0);

    let (times, ids) = run.spikes()?;
    let have_spikes = run.has("spike_times_ms.npy");
    let (neuron_rates, neuron_cv) = if have_spikes {
        (
            neuron_rates_hz(&times, &ids, n_neurons, from_ms, to_ms),
            isi::neuron_cvs(&times, &ids, n_neurons, from_ms, to_ms),
        )
    } else {
        notes.push("spikes were not recorded (record.spikes = false): no rates, CVs or covariances".into());
        (vec![f64::NAN; n_neurons], vec![f64::NAN; n_neurons])
    };
    let means = group_means(&neuron_rates, &groups);
    let populations = groups
        .iter()
        .zip(means)
        .map(|(g, rate_hz)| {
            let r = &neuron_rates[g.range()];
            let cv = &neuron_cv[g.range()];
            PopulationStats {
                name: g.name.clone(),
                start: g.start,
                size: g.len,
                rate_hz,
                rate_sd_hz: (r.iter().map(|x| (x - rate_hz).powi(2)).sum::<f64>() / g.len as f64).sqrt(),
                silent: r.iter().filter(|&&x| x == 0.0).count(),
                isi_cv: finite_mean(cv.iter().copied()),
                isi_cv_neurons: cv.iter().filter(|x| x.is_finite()).count(),
            }
        })
        .collect();

    let rate_series = have_spikes.then(|| {
        let base = options.rate_bin_ms;
        let factor = ((t_end / base) / options.max_rate_bins as f64).ceil().max(1.0);
        population_rate_series(&times, &ids, &groups, 0.0, t_end, base * factor)
    });

    let covariance = if have_spikes {
        covariance_report(&times, &ids, n_neurons, &groups, from_ms, to_ms, options, &mut notes)?
    } else {
        None
    };
    drop(times);
    drop(ids);

    let (weights, correction_d) = weight_reports(
        run,
        &groups,
        &neuron_rates,
        have_spikes,
        from_ms,
        to_ms,
        options,
        &mut notes,
    )?;

    let balance = match run.neurons()? {
        Some(ns) => {
            let currents: Vec<(String, &pbn_rundir::Matrix)> =
                ns.currents.iter().map(|(s, m)| (s.clone(), m)).collect();
            let b = input_balance(&ns.ids, &ns.t_ms, &currents, &groups, from_ms, to_ms);
            if b.iter().all(|g| g.blocks == 0) {
                notes.push("no neuron-recording block ends inside the analysis window: balance not computed".into());
                None
            } else {
                Some(b)
            }
        }
        None => {
            notes.push("no sampled neurons were recorded (record.neuron_samples = 0): no input balance".into());
            None
        }
    };

    Ok(Analysis {
        run_dir: run.root.display().to_string(),
        status: run.status().to_string(),
        simulated_ms: t_end,
        n: run.spec.n,
        from_ms,
        to_ms,
        populations,
        neuron_rates_hz: neuron_rates,
        neuron_isi_cv: neuron_cv,
        rate_series,
        covariance,
        weights,
        correction_d,
        balance,
        notes,
    })
}

#[allow(clippy::too_many_arguments)]
fn covariance_report(
    times: &[f64],
    ids: &[u32],
    n: usize,
    groups: &[Group],
    from_ms: f64,
    to_ms: f64,
    options: &AnalyzeOptions,
    notes: &mut Vec<String>,
) -> Result<Option<CovarianceReport>, AnalysisError> {
    let counts = CountMatrix::from_spikes(times, ids, n, from_ms, to_ms, options.count_window_ms);
    if counts.windows < 2 {
        notes.push(format!(
            "the window ({from_ms}, {to_ms}] ms holds {} counting windows of {} ms: no covariances (need ≥ 2)",
            counts.windows, options.count_window_ms
        ));
        return Ok(None);
    }
    let cov_opts = CovarianceOptions {
        samples_per_block: options.samples_per_block,
        seed: options.seed,
        ..CovarianceOptions::default()
    };
    let mut summary = match &options.full_covariance {
        Some(path) => {
            let err = |e: std::io::Error| AnalysisError(format!("cannot write {}: {e}", path.display()));
            let mut stream = NpyStream::<f64>::two_d(path, n).map_err(err)?;
            let mut sink = |row: &[f64]| stream.extend(row.iter().copied());
            let s = count_covariance(&counts, groups, &cov_opts, Some(&mut sink)).map_err(AnalysisError)?;
            stream.finish().map_err(err)?;
            s
        }
        None => count_covariance(&counts, groups, &cov_opts, None).map_err(AnalysisError)?,
    };
    let estimator = if options.matlab_diagonal {
        if let Some(b) = summary.blocks.first_mut() {
            b.mean_cov = b.mean_cov_matlab.unwrap_or(b.mean_cov);
            b.mean_corr = b.mean_corr_matlab.unwrap_or(b.mean_corr);
        }
        "matlab: diagonal included in the first population's block (docs/plasticity.md §3.6 item 10); other blocks unbiased"
    } else {
        "unbiased: diagonal excluded"
    };
    Ok(Some(CovarianceReport {
        estimator: estimator.into(),
        summary,
        full_matrix: options.full_covariance.as_ref().map(|p| p.display().to_string()),
    }))
}

#[allow(clippy::too_many_arguments)]
fn weight_reports(
    run: &RunData,
    groups: &[Group],
    neuron_rates: &[f64],
    have_spikes: bool,
    from_ms: f64,
    to_ms: f64,
    options: &AnalyzeOptions,
    notes: &mut Vec<String>,
) -> Result<(Vec<WeightReport>, Option<Vec<f64>>), AnalysisError> {
    let names = run.plastic_projections();
    let mut reports = Vec::new();
    let mut terms = Vec::new();
    let n_total = run.spec.n as f64;
    for name in names {
        let w = run.weights(&name)?;
        let t_last = w.t_ms.last().copied().unwrap_or(0.0);
        let wopts = WeightOptions {
            distribution_times_ms: vec![0.0, from_ms, t_last],
            ks_times_ms: (options.ks_fraction * t_last, t_last),
            smooth_ms: options.smooth_fraction * run.simulated_ms,
            tolerance: Tolerance::RelativeToMax(options.convergence_fraction),
            min_tail: 0.1,
            bins: 40,
            max_series_points: 500,
        };
        let stats = block_stats(&w.t_ms, &w.mean, &w.std, &w.samples, (from_ms, to_ms), &wopts);
        let proj = run
            .spec
            .projections
            .iter()
            .find(|p| format!("{}_to_{}", p.from, p.to) == name);
        let rw = match (run.final_weights(&name)?, proj) {
            (Some(fw), Some(proj)) if have_spikes => {
                let pre = groups.iter().position(|g| g.name == proj.from);
                let post = groups.iter().position(|g| g.name == proj.to);
                match pre {
                    Some(pre) => {
                        let rw = rate_weight(&fw.pre, &fw.j, neuron_rates);
                        if let Some(post) = post {
                            terms.push(CorrectionTerm {
                                post,
                                p: proj.probability,
                                q: groups[pre].len as f64 / n_total,
                                cov: rw.cov_j_r,
                            });
                        }
                        Some(rw)
                    }
                    None => {
                        notes.push(format!(
                            "{name}: presynaptic rates unknown (an input layer): no rate–weight covariance"
                        ));
                        None
                    }
                }
            }
            (None, _) => {
                notes.push(format!("{name}: no final weights recorded: no rate–weight covariance"));
                None
            }
            _ => None,
        };
        reports.push(WeightReport {
            name,
            stats,
            rate_weight: rw,
        });
    }
    let d = (!terms.is_empty()).then(|| balance_correction(&terms, groups.len()));
    Ok((reports, d))
}
