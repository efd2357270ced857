//! Summaries of a sample: mean, SD, quantiles, histograms.

use serde::Serialize;

/// Summary of the finite values of a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of finite values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Standard deviation (divisor n).
    pub std: f64,
    /// Minimum.
    pub min: f64,
    /// 5 % quantile.
    pub q05: f64,
    /// Median.
    pub median: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// Maximum.
    pub max: f64,
}

/// Quantile `p` ∈ [0, 1] of sorted values by linear interpolation (NumPy's default); NaN if empty.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summary of the finite values (all-NaN fields for an empty sample).
pub fn summarize(values: &[f64]) -> Summary {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64).sqrt();
    Summary {
        n,
        mean,
        std,
        min: v.first().copied().unwrap_or(f64::NAN),
        q05: quantile_sorted(&v, 0.05),
        median: quantile_sorted(&v, 0.5),
        q95: quantile_sorted(&v, 0.95),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

/// A histogram with equal-width bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Bin edges (bins + 1 values).
    pub edges: Vec<f64>,
    /// Count per bin (the last bin includes its right edge).
    pub counts: Vec<u64>,
}

/// Histogram of the finite values in `bins` equal bins over [lo, hi]; values outside are dropped.
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Histogram {
    let bins = bins.max(1);
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let mut counts = vec![0u64; bins];
    for &x in values {
        if x.is_finite() && x >= lo && x <= hi {
            counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
        }
    }
    Histogram {
        edges: (0..=bins).map(|k| lo + k as f64 * width).collect(),
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_histogram_by_hand() {
        let s = summarize(&[3.0, 1.0, f64::NAN, 2.0, 4.0]);
        assert_eq!((s.n, s.mean, s.min, s.max, s.median), (4, 2.5, 1.0, 4.0, 2.5));
        assert!((s.std - 1.25f64.sqrt()).abs() < 1e-15);
        assert!((s.q05 - 1.15).abs() < 1e-12);
        let h = histogram(&[0.0, 0.5, 1.0, 1.5, 2.0, 5.0], 0.0, 2.0, 2);
        assert_eq!(h.edges, vec![0.0, 1.0, 2.0]);
        assert_eq!(h.counts, vec![2, 3]);
    }
}
