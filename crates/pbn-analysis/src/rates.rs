//! Firing rates (docs/analysis.md §5): per neuron, per population, and time-resolved.

use serde::Serialize;

use crate::Group;

/// Number of whole windows of `width_ms` that tile (from_ms, to_ms] (a partial last window is
/// dropped; a relative slack of 1e-9 absorbs rounding in the bounds).
pub fn whole_windows(from_ms: f64, to_ms: f64, width_ms: f64) -> usize {
    if width_ms > 0.0 && to_ms > from_ms {
        ((to_ms - from_ms) / width_ms + 1e-9).floor() as usize
    } else {
        0
    }
}

/// Spike count of each of `n` neurons with spike time in the half-open window (`from_ms`, `to_ms`].
/// Ids ≥ `n` are ignored.
pub fn spike_counts(times_ms: &[f64], ids: &[u32], n: usize, from_ms: f64, to_ms: f64) -> Vec<u64> {
    let mut counts = vec![0u64; n];
    for (&t, &id) in times_ms.iter().zip(ids) {
        if t > from_ms && t <= to_ms && (id as usize) < n {
            counts[id as usize] += 1;
        }
    }
    counts
}

/// Rate of each of `n` neurons (Hz): spike count in (`from_ms`, `to_ms`] divided by the window length.
pub fn neuron_rates_hz(times_ms: &[f64], ids: &[u32], n: usize, from_ms: f64, to_ms: f64) -> Vec<f64> {
    let seconds = (to_ms - from_ms) * 1e-3;
    spike_counts(times_ms, ids, n, from_ms, to_ms)
        .into_iter()
        .map(|c| c as f64 / seconds)
        .collect()
}

/// Mean of `per_neuron` over each group (silent neurons included; NaN for an empty group).
pub fn group_means(per_neuron: &[f64], groups: &[Group]) -> Vec<f64> {
    groups
        .iter()
        .map(|g| per_neuron[g.range()].iter().sum::<f64>() / g.len as f64)
        .collect()
}

/// Population rates over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateSeries {
    /// Bin width (ms).
    pub bin_ms: f64,
    /// End of each bin (ms).
    pub t_ms: Vec<f64>,
    /// Rate of each group per bin (Hz): `rates_hz[group][bin]`.
    pub rates_hz: Vec<Vec<f64>>,
}

/// Time-resolved population rates: spikes of each group counted in bins (t0 + k·bin, t0 + (k+1)·bin]
/// tiling (`t0_ms`, `t1_ms`] (a last partial bin is dropped), divided by bin width × group size (Hz).
pub fn population_rate_series(
    times_ms: &[f64],
    ids: &[u32],
    groups: &[Group],
    t0_ms: f64,
    t1_ms: f64,
    bin_ms: f64,
) -> RateSeries {
    let bins = whole_windows(t0_ms, t1_ms, bin_ms);
    let mut counts = vec![vec![0u64; bins]; groups.len()];
    for (&t, &id) in times_ms.iter().zip(ids) {
        if t <= t0_ms || bins == 0 {
            continue;
        }
        let b = ((t - t0_ms) / bin_ms).ceil() as usize;
        if b == 0 || b > bins {
            continue;
        }
        if let Some(g) = groups.iter().position(|g| g.range().contains(&(id as usize))) {
            counts[g][b - 1] += 1;
        }
    }
    let rates_hz = counts
        .into_iter()
        .zip(groups)
        .map(|(c, g)| {
            c.into_iter()
                .map(|k| k as f64 / (bin_ms * 1e-3 * g.len as f64))
                .collect()
        })
        .collect();
    RateSeries {
        bin_ms,
        t_ms: (1..=bins).map(|k| t0_ms + k as f64 * bin_ms).collect(),
        rates_hz,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_match_hand_counts() {
        // Neuron 0: spikes at 10, 600, 700 → 2 in (500, 1000]; neuron 1: 500 (excluded), 1000 (included);
        // neuron 2 silent; id 7 out of range.
        let t = [10.0, 500.0, 600.0, 700.0, 1000.0, 800.0];
        let id = [0, 1, 0, 0, 1, 7];
        let r = neuron_rates_hz(&t, &id, 3, 500.0, 1000.0);
        assert_eq!(r, vec![4.0, 2.0, 0.0]);
        let groups = [Group::new("E", 0, 2), Group::new("I", 2, 1)];
        assert_eq!(group_means(&r, &groups), vec![3.0, 0.0]);
    }

    #[test]
    fn time_resolved_rates_match_hand_counts() {
        let t = [50.0, 100.0, 100.1, 150.0, 250.0, 299.0];
        let id = [0, 1, 0, 2, 2, 0];
        let groups = [Group::new("E", 0, 2), Group::new("I", 2, 1)];
        let s = population_rate_series(&t, &id, &groups, 0.0, 300.0, 100.0);
        assert_eq!(s.t_ms, vec![100.0, 200.0, 300.0]);
        // E: bin1 {50,100} = 2 spikes / (0.1 s · 2) = 10 Hz; bin2 {100.1} = 5 Hz; bin3 {299} = 5 Hz.
        assert_eq!(s.rates_hz[0], vec![10.0, 5.0, 5.0]);
        // I: bin2 {150}, bin3 {250} → 10 Hz each.
        assert_eq!(s.rates_hz[1], vec![0.0, 10.0, 10.0]);
    }
}
