//! Statistics of a plastic block's weights over time (docs/analysis.md §5): mean/SD traces, distributions of the
//! sampled synapses at chosen times, a KS stationarity test between two times, and the convergence time.

use pbn_rundir::Matrix;
use serde::Serialize;

use crate::convergence::{Tolerance, convergence_time};
use crate::ks::{KsResult, ks_two_sample};
use crate::stats::{Histogram, Summary, histogram, summarize};

/// Options of [`block_stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct WeightOptions {
    /// Times (ms) at which to describe the sampled-weight distribution (nearest record each).
    pub distribution_times_ms: Vec<f64>,
    /// The two times (ms) compared by the KS test (nearest records).
    pub ks_times_ms: (f64, f64),
    /// Moving-average width (ms) before the derivative criterion.
    pub smooth_ms: f64,
    /// Tolerance of the derivative criterion.
    pub tolerance: Tolerance,
    /// Fraction of the record at the end in which a settling time counts as "not converged".
    pub min_tail: f64,
    /// Histogram bins of the distributions (shared edges over all chosen times).
    pub bins: usize,
    /// The mean/SD traces are decimated to at most this many points in the report.
    pub max_series_points: usize,
}

/// The block-mean and block-SD traces, decimated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightSeriesSummary {
    /// Record times (ms).
    pub t_ms: Vec<f64>,
    /// Mean unscaled weight over all synapses of the block.
    pub mean: Vec<f64>,
    /// SD over all synapses of the block.
    pub std: Vec<f64>,
}

/// Distribution of the sampled weights at one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightDistribution {
    /// Record time (ms).
    pub t_ms: f64,
    /// Summary of the sampled unscaled weights.
    pub summary: Summary,
    /// Histogram (edges shared by all distributions of the block).
    pub histogram: Histogram,
}

/// KS comparison of the sampled weights at two records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightKs {
    /// First record time (ms).
    pub t1_ms: f64,
    /// Second record time (ms).
    pub t2_ms: f64,
    /// The test.
    pub result: KsResult,
}

/// Statistics of one plastic block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightBlockStats {
    /// Number of weight records.
    pub records: usize,
    /// Number of sampled synapses.
    pub sampled: usize,
    /// Block mean at the first record.
    pub initial_mean: f64,
    /// Block mean at the last record.
    pub final_mean: f64,
    /// Block SD at the last record.
    pub final_std: f64,
    /// Time average of the block mean over the records in the analysis window.
    pub window_mean: f64,
    /// SD over time of the block mean in the analysis window (fluctuation of the trace).
    pub window_mean_sd: f64,
    /// Convergence time (ms) of the block mean, `None` if not converged (see [`crate::convergence`]).
    pub convergence_time_ms: Option<f64>,
    /// The criterion used, in words.
    pub convergence_criterion: String,
    /// KS test between two times (`None` without sampled synapses).
    pub ks: Option<WeightKs>,
    /// Distributions of the sampled weights at the chosen times.
    pub distributions: Vec<WeightDistribution>,
    /// Decimated mean/SD traces.
    pub series: WeightSeriesSummary,
}

/// Index of the record nearest to `t` (`None` if there are no records).
pub fn nearest_index(t_ms: &[f64], t: f64) -> Option<usize> {
    (0..t_ms.len()).min_by(|&a, &b| (t_ms[a] - t).abs().total_cmp(&(t_ms[b] - t).abs()))
}

/// Statistics of one block from its records: times (ms), block mean and SD per record, and the sampled
/// weights (one row per record); `window_ms` = (from, to] is the analysis window.
pub fn block_stats(
    t_ms: &[f64],
    mean: &[f64],
    std: &[f64],
    samples: &Matrix,
    window_ms: (f64, f64),
    options: &WeightOptions,
) -> WeightBlockStats {
    let n = t_ms.len().min(mean.len());
    let last = |v: &[f64]| v.get(n.wrapping_sub(1)).copied().unwrap_or(f64::NAN);
    let in_window: Vec<f64> = (0..n)
        .filter(|&i| t_ms[i] > window_ms.0 && t_ms[i] <= window_ms.1)
        .map(|i| mean[i])
        .collect();
    let win = summarize(&in_window);
    let sampled = if samples.rows > 0 { samples.cols } else { 0 };
    let row = |i: usize| samples.row(i).to_vec();
    let dist_idx: Vec<usize> = if sampled > 0 {
        options
            .distribution_times_ms
            .iter()
            .filter_map(|&t| nearest_index(&t_ms[..n.min(samples.rows)], t))
            .collect()
    } else {
        vec![]
    };
    let all: Vec<f64> = dist_idx
        .iter()
        .flat_map(|&i| row(i))
        .filter(|x| x.is_finite())
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
    let distributions = dist_idx
        .iter()
        .map(|&i| {
            let v = row(i);
            WeightDistribution {
                t_ms: t_ms[i],
                summary: summarize(&v),
                histogram: histogram(&v, lo, hi, options.bins),
            }
        })
        .collect();
    let ks = if sampled > 0 {
        let rows = n.min(samples.rows);
        match (
            nearest_index(&t_ms[..rows], options.ks_times_ms.0),
            nearest_index(&t_ms[..rows], options.ks_times_ms.1),
        ) {
            (Some(a), Some(b)) => Some(WeightKs {
                t1_ms: t_ms[a],
                t2_ms: t_ms[b],
                result: ks_two_sample(&row(a), &row(b)),
            }),
            _ => None,
        }
    } else {
        None
    };
    let step = n.div_ceil(options.max_series_points.max(1)).max(1);
    let mut idx: Vec<usize> = (0..n).step_by(step).collect();
    if n > 0 && idx.last() != Some(&(n - 1)) {
        idx.push(n - 1);
    }
    let criterion = match options.tolerance {
        Tolerance::PerMs(v) => format!(
            "{} ms moving average of the block mean; |d mean/dt| <= {v} per ms",
            options.smooth_ms
        ),
        Tolerance::RelativeToMax(f) => format!(
            "{} ms moving average of the block mean; |d mean/dt| <= {f} x its maximum, for good, before the last {}% of the record",
            options.smooth_ms,
            options.min_tail * 100.0
        ),
    };
    WeightBlockStats {
        records: n,
        sampled,
        initial_mean: mean.first().copied().unwrap_or(f64::NAN),
        final_mean: last(mean),
        final_std: last(std),
        window_mean: win.mean,
        window_mean_sd: win.std,
        convergence_time_ms: convergence_time(
            &t_ms[..n],
            &mean[..n],
            options.smooth_ms,
            options.tolerance,
            options.min_tail,
        ),
        convergence_criterion: criterion,
        ks,
        distributions,
        series: WeightSeriesSummary {
            t_ms: idx.iter().map(|&i| t_ms[i]).collect(),
            mean: idx.iter().map(|&i| mean[i]).collect(),
            std: idx.iter().map(|&i| std.get(i).copied().unwrap_or(f64::NAN)).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_stats_by_hand() {
        // 4 records of 3 sampled synapses; the last two records are identical (stationary).
        let t = [0.0, 100.0, 200.0, 300.0];
        let mean = [1.0, 2.0, 3.0, 3.0];
        let std = [0.0, 0.1, 0.2, 0.2];
        let samples = Matrix {
            rows: 4,
            cols: 3,
            data: vec![1.0, 1.0, 1.0, 1.5, 2.0, 2.5, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0],
        };
        let opts = WeightOptions {
            distribution_times_ms: vec![0.0, 290.0],
            ks_times_ms: (210.0, 300.0),
            smooth_ms: 0.0,
            tolerance: Tolerance::PerMs(1e-3),
            min_tail: 0.0,
            bins: 3,
            max_series_points: 3,
        };
        let s = block_stats(&t, &mean, &std, &samples, (150.0, 300.0), &opts);
        assert_eq!(
            (s.records, s.sampled, s.initial_mean, s.final_mean, s.final_std),
            (4, 3, 1.0, 3.0, 0.2)
        );
        assert_eq!((s.window_mean, s.window_mean_sd), (3.0, 0.0));
        assert_eq!(s.distributions[1].t_ms, 300.0);
        assert_eq!(s.distributions[1].summary.mean, 3.0);
        assert_eq!(s.distributions[0].histogram.counts, vec![3, 0, 0]);
        assert_eq!(s.distributions[1].histogram.counts, vec![0, 1, 2]);
        let ks = s.ks.unwrap();
        assert_eq!((ks.t1_ms, ks.t2_ms, ks.result.statistic), (200.0, 300.0, 0.0));
        // Derivatives (central): 1/100, 1/100, 1/200, 0 per ms → only the last is ≤ 1e-3.
        assert_eq!(s.convergence_time_ms, Some(300.0));
        assert_eq!(s.series.t_ms, vec![0.0, 200.0, 300.0]);
    }
}
