//! Spike-count covariances and correlations (docs/theory.md §4.3, docs/analysis.md §5).
//!
//! C_jk = Σ_w (n_wj − n̄_j)(n_wk − n̄_k) / (W − 1) (unbiased, divisor W − 1) over the W counting windows
//! of a [`CountMatrix`]; R_jk = C_jk / √(C_jj C_kk), NaN when either neuron is silent (zero variance) —
//! NaN entries are excluded from every mean.
//!
//! The N×N matrix is computed as C = Xcᵀ Xc / (W − 1) on the centred counts with faer's GEMM, in stripes
//! of rows, so memory stays at W·N + stripe·N values: a 10⁴×10⁴ matrix (800 MB) is never held. Only
//! what the statistics need is kept — per-block sums and random samples — unless a row sink is given
//! (`pbn analyze --full`), which then receives every row in order.
//!
//! Population-block means exclude the diagonal: a–a blocks average the N_a(N_a − 1)/2 distinct pairs,
//! a–b blocks all N_a·N_b pairs. The reference MATLAB estimator (docs/plasticity.md §3.6 item 10) averages the
//! entries with row ≤ column of the a–a block, i.e. *including* the N_a variances (and correlations 1);
//! it is reported beside the unbiased one as `*_matlab` for figure matching.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use serde::Serialize;

use crate::counts::CountMatrix;
use crate::{Group, finite_mean};

/// Receives the rows of the full covariance matrix, in order (N values each).
pub type RowSink<'a> = &'a mut dyn FnMut(&[f64]) -> std::io::Result<()>;

/// Options of [`count_covariance`].
#[derive(Debug, Clone, PartialEq)]
pub struct CovarianceOptions {
    /// Random off-diagonal pairs sampled per population block for the distributions.
    pub samples_per_block: usize,
    /// Seed of the pair sampling.
    pub seed: u64,
    /// Rows per GEMM stripe (memory: stripe × N values).
    pub stripe: usize,
}

impl Default for CovarianceOptions {
    fn default() -> Self {
        Self {
            samples_per_block: 1000,
            seed: 1,
            stripe: 256,
        }
    }
}

/// Count statistics of one population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupCounts {
    /// Population name.
    pub name: String,
    /// Mean spike count per window.
    pub mean_count: f64,
    /// Mean count variance (the diagonal of C averaged over the population), counts².
    pub mean_variance: f64,
    /// Mean Fano factor Var/mean over neurons that spiked.
    pub mean_fano: f64,
    /// Neurons without a spike in the counting windows.
    pub silent: usize,
}

/// Covariance/correlation statistics of one population block (a, b), a ≤ b.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockCov {
    /// First population.
    pub a: String,
    /// Second population.
    pub b: String,
    /// Distinct off-diagonal pairs averaged.
    pub pairs: u64,
    /// Mean covariance over distinct pairs, diagonal excluded (counts²).
    pub mean_cov: f64,
    /// Mean correlation over distinct pairs with finite R, diagonal excluded.
    pub mean_corr: f64,
    /// Pairs with finite correlation.
    pub corr_pairs: u64,
    /// The reference's diagonal-included mean covariance (a = b only; docs/plasticity.md §3.6 item 10).
    pub mean_cov_matlab: Option<f64>,
    /// The reference's diagonal-included mean correlation (a = b only).
    pub mean_corr_matlab: Option<f64>,
    /// Covariances of random distinct pairs of the block.
    pub cov_samples: Vec<f64>,
    /// Correlations of the same pairs, NaN ones dropped.
    pub corr_samples: Vec<f64>,
}

/// What [`count_covariance`] keeps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CovarianceSummary {
    /// Number of counting windows W.
    pub windows: usize,
    /// Window length (ms).
    pub window_ms: f64,
    /// Per population.
    pub groups: Vec<GroupCounts>,
    /// Per population block (a ≤ b, in group order: (0,0), (0,1), …, (1,1), …).
    pub blocks: Vec<BlockCov>,
    /// Count variance of each neuron (counts²).
    #[serde(skip)]
    pub variances: Vec<f64>,
    /// Mean count of each neuron.
    #[serde(skip)]
    pub means: Vec<f64>,
}

impl CovarianceSummary {
    /// The block of groups `a` and `b` (either order).
    pub fn block(&self, a: &str, b: &str) -> Option<&BlockCov> {
        self.blocks
            .iter()
            .find(|k| (k.a == a && k.b == b) || (k.a == b && k.b == a))
    }
}

/// SplitMix64: a tiny deterministic generator for pair sampling.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * n as f64) as usize
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Count covariances of `counts` summarised per population block (see the module docs).
///
/// `full_rows`, if given, receives the rows of the full N×N covariance matrix in order (N values each).
/// Errors: fewer than 2 windows, or an error returned by the sink.
pub fn count_covariance(
    counts: &CountMatrix,
    groups: &[Group],
    options: &CovarianceOptions,
    mut full_rows: Option<RowSink<'_>>,
) -> Result<CovarianceSummary, String> {
    let (w, n) = (counts.windows, counts.neurons);
    if w < 2 {
        return Err(format!(
            "spike-count covariances need at least 2 counting windows of {} ms; the analysis window has {w}",
            counts.window_ms
        ));
    }
    if let Some(g) = groups.iter().find(|g| g.start + g.len > n) {
        return Err(format!(
            "population {} (ids {:?}) exceeds the {n} counted neurons",
            g.name,
            g.range()
        ));
    }
    let means = counts.means();
    let xc = counts.centred();
    let norm = 1.0 / (w - 1) as f64;
    let variances: Vec<f64> = (0..n).map(|j| dot(xc.neuron(j), xc.neuron(j)) * norm).collect();
    let inv_sd: Vec<f64> = variances
        .iter()
        .map(|&v| if v > 0.0 { 1.0 / v.sqrt() } else { f64::NAN })
        .collect();

    // Group id of each neuron (u32::MAX: in no group).
    let ng = groups.len();
    let mut gid = vec![u32::MAX; n];
    for (g, grp) in groups.iter().enumerate() {
        gid[grp.range()].fill(g as u32);
    }
    let mut sum_cov = vec![0.0; ng * ng];
    let mut sum_corr = vec![0.0; ng * ng];
    let mut n_corr = vec![0u64; ng * ng];

    let x = MatRef::from_column_major_slice(&xc.data, w, n);
    let stripe = options.stripe.max(1);
    let mut buf = vec![0.0; stripe * n];
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + stripe).min(n);
        let rows = r1 - r0;
        // Columns c0..n of C for rows r0..r1: all of them for the full matrix, else the upper triangle.
        let c0 = if full_rows.is_some() { 0 } else { r0 };
        let cols = n - c0;
        // dst (cols × rows, column-major) = Xc[:, c0..]ᵀ Xc[:, r0..r1] / (W−1): column i is row r0+i of C.
        let dst = MatMut::from_column_major_slice_mut(&mut buf[..cols * rows], cols, rows);
        matmul(
            dst,
            Accum::Replace,
            x.subcols(c0, cols).transpose(),
            x.subcols(r0, rows),
            norm,
            Par::Seq,
        );
        for i in 0..rows {
            let row = &buf[i * cols..(i + 1) * cols];
            let j = r0 + i;
            if let Some(sink) = full_rows.as_mut() {
                sink(row).map_err(|e| format!("cannot write the covariance matrix: {e}"))?;
            }
            let gj = gid[j];
            if gj == u32::MAX {
                continue;
            }
            for k in j + 1..n {
                let gk = gid[k];
                if gk == u32::MAX {
                    continue;
                }
                let v = row[k - c0];
                let slot = gj as usize * ng + gk as usize;
                sum_cov[slot] += v;
                let r = v * inv_sd[j] * inv_sd[k];
                if r.is_finite() {
                    sum_corr[slot] += r;
                    n_corr[slot] += 1;
                }
            }
        }
        r0 = r1;
    }

    let group_stats = groups
        .iter()
        .map(|g| {
            let r = g.range();
            let len = g.len as f64;
            GroupCounts {
                name: g.name.clone(),
                mean_count: means[r.clone()].iter().sum::<f64>() / len,
                mean_variance: variances[r.clone()].iter().sum::<f64>() / len,
                mean_fano: finite_mean(r.clone().map(|j| {
                    if means[j] > 0.0 {
                        variances[j] / means[j]
                    } else {
                        f64::NAN
                    }
                })),
                silent: r.filter(|&j| means[j] == 0.0).count(),
            }
        })
        .collect();

    let mut rng = SplitMix(options.seed);
    let mut blocks = Vec::new();
    for a in 0..ng {
        for b in a..ng {
            let (ga, gb) = (&groups[a], &groups[b]);
            let same = a == b;
            let pairs = if same {
                (ga.len * ga.len.saturating_sub(1) / 2) as u64
            } else {
                (ga.len * gb.len) as u64
            };
            let s = sum_cov[a * ng + b] + if same { 0.0 } else { sum_cov[b * ng + a] };
            let sc = sum_corr[a * ng + b] + if same { 0.0 } else { sum_corr[b * ng + a] };
            let nc = n_corr[a * ng + b] + if same { 0 } else { n_corr[b * ng + a] };
            let (mean_cov_matlab, mean_corr_matlab) = if same {
                let r = ga.range();
                let diag: f64 = variances[r.clone()].iter().sum();
                let active = r.filter(|&j| variances[j] > 0.0).count() as u64;
                let len = ga.len as u64;
                (
                    Some((s + diag) / (pairs + len) as f64),
                    Some((sc + active as f64) / (nc + active) as f64),
                )
            } else {
                (None, None)
            };
            let mut cov_samples = Vec::new();
            let mut corr_samples = Vec::new();
            if pairs > 0 {
                for _ in 0..options.samples_per_block {
                    let (j, k) = loop {
                        let j = ga.start + rng.below(ga.len);
                        let k = gb.start + rng.below(gb.len);
                        if j != k {
                            break (j, k);
                        }
                    };
                    let v = dot(xc.neuron(j), xc.neuron(k)) * norm;
                    cov_samples.push(v);
                    let r = v * inv_sd[j] * inv_sd[k];
                    if r.is_finite() {
                        corr_samples.push(r);
                    }
                }
            }
            blocks.push(BlockCov {
                a: ga.name.clone(),
                b: gb.name.clone(),
                pairs,
                mean_cov: s / pairs as f64,
                mean_corr: sc / nc as f64,
                corr_pairs: nc,
                mean_cov_matlab,
                mean_corr_matlab,
                cov_samples,
                corr_samples,
            });
        }
    }
    Ok(CovarianceSummary {
        windows: w,
        window_ms: counts.window_ms,
        groups: group_stats,
        blocks,
        variances,
        means,
    })
}

/// Reference implementation: the full covariance matrix by the definition, O(N²·W), row-major N×N.
pub fn covariance_direct(counts: &CountMatrix) -> Vec<f64> {
    let (w, n) = (counts.windows, counts.neurons);
    let means = counts.means();
    let mut c = vec![0.0; n * n];
    for j in 0..n {
        for k in 0..n {
            let (xj, xk) = (counts.neuron(j), counts.neuron(k));
            let s: f64 = (0..w).map(|t| (xj[t] - means[j]) * (xk[t] - means[k])).sum();
            c[j * n + k] = s / (w - 1) as f64;
        }
    }
    c
}

/// Correlation matrix from a row-major covariance matrix: R_jk = C_jk/√(C_jj C_kk), NaN for silent neurons.
pub fn correlation_from_covariance(c: &[f64], n: usize) -> Vec<f64> {
    let mut r = vec![0.0; n * n];
    for j in 0..n {
        for k in 0..n {
            let d = (c[j * n + j] * c[k * n + k]).sqrt();
            r[j * n + k] = if d > 0.0 { c[j * n + k] / d } else { f64::NAN };
        }
    }
    r
}
