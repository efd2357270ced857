//! Spike-train and weight statistics: the quantities the mean-field theory predicts (docs/theory.md §4),
//! measured as docs/analysis.md §5 describes.
//!
//! Every statistic is a function of plain arrays — spike times (ms), neuron ids, neuron counts, weight
//! samples — so it serves simulator output and outside data alike. [`run`] maps a pbn run directory
//! ([`pbn_rundir::RunData`]) onto these functions and assembles the [`Analysis`] that `pbn analyze`
//! writes as `analysis.json`.
//!
//! Units: times in ms, rates reported in Hz (kHz inside rate–weight products, as in docs/model.md §1),
//! spike counts per counting window, unscaled weights j (= √N·J), currents in mV/ms.
//!
//! | module | concept |
//! |---|---|
//! | [`rates`] | per-neuron, per-population and time-resolved firing rates |
//! | [`isi`] | inter-spike-interval coefficient of variation |
//! | [`counts`] | spike-count matrix over counting windows |
//! | [`covariance`] | count covariances/correlations (GEMM), population-block means, samples |
//! | [`stats`] | summaries, quantiles, histograms |
//! | [`ks`] | two-sample Kolmogorov–Smirnov test |
//! | [`fit`] | least-squares line and Pearson correlation |
//! | [`convergence`] | convergence time of a weight trace (derivative criterion) |
//! | [`weights`] | statistics of plastic blocks over time |
//! | [`rate_weight`] | rate–weight covariance and the balance correction D (docs/theory.md §4.7) |
//! | [`balance`] | mean E/I/X input currents onto each population (docs/theory.md §4.2) |
//! | [`run`] | the run-directory layer and the [`Analysis`] report |

pub mod balance;
pub mod convergence;
pub mod counts;
pub mod covariance;
pub mod fit;
pub mod isi;
pub mod ks;
pub mod rate_weight;
pub mod rates;
mod report;
pub mod run;
pub mod stats;
pub mod weights;

pub use run::{Analysis, AnalysisError, AnalyzeOptions, analyze_run};

/// A contiguous group of neuron ids (a population), `start..start + len`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    /// Name (e.g. `E`).
    pub name: String,
    /// First id.
    pub start: usize,
    /// Number of neurons.
    pub len: usize,
}

impl Group {
    /// A group.
    pub fn new(name: &str, start: usize, len: usize) -> Self {
        Self {
            name: name.to_string(),
            start,
            len,
        }
    }

    /// Its id range.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// Mean of the finite values (NaN if there are none).
pub(crate) fn finite_mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for v in values {
        if v.is_finite() {
            s += v;
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { s / n as f64 }
}
