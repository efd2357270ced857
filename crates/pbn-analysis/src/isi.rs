//! Inter-spike-interval coefficient of variation.

/// Spike times of each of `n` neurons within (`from_ms`, `to_ms`], sorted (ids ≥ `n` ignored).
pub fn trains(times_ms: &[f64], ids: &[u32], n: usize, from_ms: f64, to_ms: f64) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); n];
    for (&t, &id) in times_ms.iter().zip(ids) {
        if t > from_ms && t <= to_ms && (id as usize) < n {
            out[id as usize].push(t);
        }
    }
    for tr in &mut out {
        if !tr.is_sorted() {
            tr.sort_by(f64::total_cmp);
        }
    }
    out
}

/// CV of one sorted spike train's inter-spike intervals: SD/mean with the population SD (divisor
/// #ISIs, as Elephant's `cv`). NaN for fewer than 3 spikes (2 intervals).
pub fn cv(train_ms: &[f64]) -> f64 {
    if train_ms.len() < 3 {
        return f64::NAN;
    }
    let isi: Vec<f64> = train_ms.windows(2).map(|w| w[1] - w[0]).collect();
    let m = isi.iter().sum::<f64>() / isi.len() as f64;
    let var = isi.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / isi.len() as f64;
    var.sqrt() / m
}

/// ISI CV of each of `n` neurons in (`from_ms`, `to_ms`] (NaN where fewer than 3 spikes).
pub fn neuron_cvs(times_ms: &[f64], ids: &[u32], n: usize, from_ms: f64, to_ms: f64) -> Vec<f64> {
    trains(times_ms, ids, n, from_ms, to_ms).iter().map(|t| cv(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cv_by_hand() {
        // ISIs 10 and 30: mean 20, SD 10 → CV 0.5.
        assert!((cv(&[0.0, 10.0, 40.0]) - 0.5).abs() < 1e-15);
        // Regular train → 0; too few spikes → NaN.
        assert_eq!(cv(&[1.0, 2.0, 3.0, 4.0]), 0.0);
        assert!(cv(&[1.0, 2.0]).is_nan());
        let cvs = neuron_cvs(&[40.0, 0.5, 10.0, 5.0, 1.0], &[0, 0, 0, 1, 0], 2, 0.0, 100.0);
        // Neuron 0: 0.5, 1, 10, 40 → ISIs 0.5, 9, 30.
        let isi = [0.5, 9.0, 30.0];
        let m = isi.iter().sum::<f64>() / 3.0;
        let sd = (isi.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / 3.0).sqrt();
        assert!((cvs[0] - sd / m).abs() < 1e-14);
        assert!(cvs[1].is_nan());
    }

    #[test]
    fn poisson_train_has_cv_near_one() {
        // Deterministic exponential ISIs via the inverse CDF of an evenly spread quantile sequence.
        let mut t = 0.0;
        let mut train = vec![];
        for k in 0..20000 {
            let u = ((k as f64 * 0.618_033_988_75) % 1.0).max(1e-12);
            t += -u.ln() * 10.0;
            train.push(t);
        }
        assert!((cv(&train) - 1.0).abs() < 0.02, "{}", cv(&train));
    }
}
