//! Convergence time of a weight trace by a derivative criterion (docs/analysis.md §5).
//!
//! The trace m(t) is smoothed by a centred moving average over `smooth_ms` (shrinking at the ends),
//! differentiated by central differences (one-sided at the ends), and the convergence time is the
//! first record time t* from which the smoothed |dm/dt| stays at or below the tolerance until the end.
//! If that only happens within the last `min_tail` fraction of the record (default 10 %), the trace is
//! reported as not converged: the criterion cannot tell a plateau from a momentarily flat drift.

/// The tolerance on the smoothed |dm/dt|.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// Absolute, in units of m per ms.
    PerMs(f64),
    /// A fraction of the largest smoothed |dm/dt| of the record (for an exponential approach with time
    /// constant τ, fraction f gives t* ≈ τ·ln(1/f), independent of the run length).
    RelativeToMax(f64),
}

/// Centred moving average of `y` (sampled at increasing `t_ms`) over a window of `smooth_ms`:
/// each value is the mean of the samples within ±smooth_ms/2 of it.
pub fn moving_average(t_ms: &[f64], y: &[f64], smooth_ms: f64) -> Vec<f64> {
    let half = smooth_ms / 2.0;
    let n = y.len();
    let (mut lo, mut hi, mut sum) = (0usize, 0usize, 0.0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        while hi < n && t_ms[hi] <= t_ms[i] + half {
            sum += y[hi];
            hi += 1;
        }
        while t_ms[lo] < t_ms[i] - half {
            sum -= y[lo];
            lo += 1;
        }
        out.push(sum / (hi - lo) as f64);
    }
    out
}

/// Derivative dy/dt by central differences (one-sided at the ends); units of y per ms.
pub fn derivative(t_ms: &[f64], y: &[f64]) -> Vec<f64> {
    let n = y.len();
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(1), (i + 1).min(n - 1));
            if b == a {
                0.0
            } else {
                (y[b] - y[a]) / (t_ms[b] - t_ms[a])
            }
        })
        .collect()
}

/// Convergence time (ms) of `y(t)` (see the module docs); `None` if the trace never settles before
/// its last `min_tail` fraction of records, or has fewer than 3 records.
pub fn convergence_time(t_ms: &[f64], y: &[f64], smooth_ms: f64, tolerance: Tolerance, min_tail: f64) -> Option<f64> {
    let n = y.len().min(t_ms.len());
    if n < 3 {
        return None;
    }
    let (t_ms, y) = (&t_ms[..n], &y[..n]);
    let d: Vec<f64> = derivative(t_ms, &moving_average(t_ms, y, smooth_ms))
        .into_iter()
        .map(f64::abs)
        .collect();
    let tol = match tolerance {
        Tolerance::PerMs(v) => v,
        Tolerance::RelativeToMax(f) => f * d.iter().copied().fold(0.0, f64::max),
    };
    // First index from which every |d| ≤ tol.
    let mut first = n;
    for i in (0..n).rev() {
        if d[i] <= tol {
            first = i;
        } else {
            break;
        }
    }
    let last_allowed = ((n - 1) as f64 * (1.0 - min_tail)).floor() as usize;
    (first <= last_allowed).then(|| t_ms[first])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_and_derivative_by_hand() {
        let t = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(moving_average(&t, &[0.0, 3.0, 0.0, 3.0], 2.0), vec![1.5, 1.0, 2.0, 1.5]);
        assert_eq!(moving_average(&t, &[1.0, 2.0, 3.0, 4.0], 0.0), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(derivative(&t, &[0.0, 1.0, 4.0, 9.0]), vec![1.0, 2.0, 4.0, 5.0]);
    }

    #[test]
    fn exponential_approach_converges_at_tau_ln_inverse_fraction() {
        // m(t) = 1 − e^{−t/τ}, τ = 100 ms, dm/dt = e^{−t/τ}/τ: |dm/dt| ≤ 0.05·max ⇔ t ≥ τ ln 20 = 299.57 ms.
        let t: Vec<f64> = (0..=2000).map(|k| k as f64).collect();
        let y: Vec<f64> = t.iter().map(|s| 1.0 - (-s / 100.0).exp()).collect();
        let t_star = convergence_time(&t, &y, 0.0, Tolerance::RelativeToMax(0.05), 0.1).unwrap();
        assert!((t_star - 300.0).abs() <= 1.0, "{t_star}");
        // Absolute tolerance 1e-4 per ms: e^{−t/100}/100 ≤ 1e-4 ⇔ t ≥ 100 ln 100 = 460.5 ms.
        let t_star = convergence_time(&t, &y, 0.0, Tolerance::PerMs(1e-4), 0.1).unwrap();
        assert!((t_star - 461.0).abs() <= 1.0, "{t_star}");
        // A linear drift never converges.
        let lin: Vec<f64> = t.iter().map(|s| s * 1e-3).collect();
        assert_eq!(
            convergence_time(&t, &lin, 0.0, Tolerance::RelativeToMax(0.05), 0.1),
            None
        );
    }

    #[test]
    fn smoothing_removes_noise_before_the_criterion() {
        // Step-free plateau with alternating ±0.01 noise after an exponential approach: without smoothing
        // the noise derivative (0.02/ms) exceeds the tolerance forever; a 20 ms average removes it.
        let t: Vec<f64> = (0..=3000).map(|k| k as f64).collect();
        let y: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(k, s)| 10.0 * (1.0 - (-s / 100.0).exp()) + if k % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        assert_eq!(convergence_time(&t, &y, 0.0, Tolerance::PerMs(1e-3), 0.1), None);
        let t_star = convergence_time(&t, &y, 20.0, Tolerance::PerMs(1e-3), 0.1).unwrap();
        // 10 e^{−t/100}/100 ≤ 1e-3 ⇔ t ≥ 100 ln 100 = 460.5 ms (smoothing shifts it by < 10 ms).
        assert!((t_star - 460.5).abs() < 10.0, "{t_star}");
    }
}
