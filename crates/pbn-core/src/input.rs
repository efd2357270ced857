//! External Poisson layers (docs/model.md §2.5), generated chunk by chunk in time so that long runs
//! never hold the whole input in memory.
//!
//! * Uncorrelated (c = 0): per chunk of length L, a Poisson(N_x r_x L) number of spikes with
//!   uniform times and uniform train indices.
//! * Correlated (c > 0): a mother Poisson process of rate r_x/c; each train keeps each mother
//!   spike independently with probability c (the same law as the reference's Binomial count plus
//!   sampling without replacement) and shifts it by Gaussian jitter N(0, σ²).
//!
//! Spikes at t ≤ 0 or outside the input's [start, stop) window are dropped; the trains do not
//! depend on the run's duration, so a run extended later sees the spikes an equally long run
//! would have seen. Because
//! jitter can move a spike backwards in time, chunks are generated at least 10σ ahead of the
//! simulation; a spike displaced by more than 10σ (probability < 2·10⁻²³) would be delivered one
//! step late rather than lost.

use rand::RngExt;
use rand_distr::{Distribution, Normal, Poisson};

use crate::checkpoint::{Checkpoint, CheckpointError, Section};
use crate::rng::Rng;
use crate::spec::InputSpec;

/// Length of one generation chunk (ms).
const CHUNK_MS: f64 = 1000.0;

/// Spike source for one input layer.
#[derive(Debug, Clone)]
pub struct ExternalInput {
    len: usize,
    rate_khz: f64,
    correlation: f64,
    jitter_ms: f64,
    start_ms: f64,
    stop_ms: f64,
    margin_ms: f64,
    generated_until_ms: f64,
    /// Pending (time ms, train index), sorted by time from `cursor` on.
    buffer: Vec<(f64, u32)>,
    cursor: usize,
    rng: Rng,
}

impl ExternalInput {
    /// An input of `len` trains as `spec` describes.
    pub fn new(spec: &InputSpec, len: usize, rng: Rng) -> Self {
        let correlated = spec.correlation > 0.0;
        Self {
            len,
            rate_khz: spec.rate_hz * 1e-3,
            correlation: spec.correlation,
            jitter_ms: spec.jitter_ms,
            start_ms: spec.start_ms,
            stop_ms: spec.stop_ms.unwrap_or(f64::INFINITY),
            margin_ms: if correlated { 10.0 * spec.jitter_ms } else { 0.0 },
            generated_until_ms: 0.0,
            buffer: Vec::new(),
            cursor: 0,
            rng,
        }
    }

    /// Appends to `out` the indices of all trains that spike at times ≤ `t_ms` not yet returned,
    /// in time order.
    pub fn spikes_until(&mut self, t_ms: f64, out: &mut Vec<u32>) {
        while self.generated_until_ms < t_ms + self.margin_ms && self.generated_until_ms < self.stop_ms + self.margin_ms
        {
            self.generate_chunk();
        }
        while let Some(&(t, k)) = self.buffer.get(self.cursor) {
            if t > t_ms {
                break;
            }
            out.push(k);
            self.cursor += 1;
        }
    }

    /// Stores the generator's state (random stream, pending spikes) as input `x` of `cp`.
    pub(crate) fn save(&self, cp: &mut Checkpoint, x: usize) {
        let pending = &self.buffer[self.cursor..];
        cp.put_rng(&self.rng);
        cp.put(
            format!("inputs/{x}/pending_ms"),
            Section::F64(pending.iter().map(|p| p.0).collect()),
        );
        cp.put(
            format!("inputs/{x}/pending_train"),
            Section::U32(pending.iter().map(|p| p.1).collect()),
        );
        cp.put(
            format!("inputs/{x}/generated_until_ms"),
            Section::F64(vec![self.generated_until_ms]),
        );
    }

    /// Restores the state [`ExternalInput::save`] stored as input `x` of `cp`.
    pub(crate) fn restore(&mut self, cp: &Checkpoint, x: usize) -> Result<(), CheckpointError> {
        let times = cp.f64s(&format!("inputs/{x}/pending_ms"), None)?;
        let trains = cp.u32s(&format!("inputs/{x}/pending_train"), Some(times.len()))?;
        if let Some(&k) = trains.iter().find(|&&k| k as usize >= self.len.max(1)) {
            return Err(CheckpointError::Config(format!("input {x} has no train {k}")));
        }
        self.rng = cp.rng(x)?;
        self.buffer = times.iter().copied().zip(trains.iter().copied()).collect();
        self.cursor = 0;
        self.generated_until_ms = cp.f64s(&format!("inputs/{x}/generated_until_ms"), Some(1))?[0];
        Ok(())
    }

    /// Rate (Hz) and correlation the generator draws with now.
    pub fn params(&self) -> (f64, f64) {
        (self.rate_khz * 1e3, self.correlation)
    }

    /// Sets the rate (Hz) and correlation for the spikes drawn from now on, without touching
    /// what was drawn already (a checkpoint restores the rest).
    pub(crate) fn set_params(&mut self, rate_hz: f64, correlation: f64) {
        self.rate_khz = rate_hz * 1e-3;
        self.correlation = correlation;
        self.margin_ms = if correlation > 0.0 { 10.0 * self.jitter_ms } else { 0.0 };
    }

    /// Changes rate and correlation for every spike after `cut_ms`: pending spikes after it are
    /// dropped and the trains are drawn afresh from `cut_ms` on with the new parameters,
    /// continuing the same random stream (spikes the fresh draw places at or before `cut_ms` are
    /// dropped). For independent trains this is exactly a Poisson process that changes its rate
    /// at `cut_ms`. For correlated trains the spikes that jitter would have carried across
    /// `cut_ms` are missing, a dip of about a jitter's width (docs/engine.md §7.12).
    pub(crate) fn change_at(&mut self, cut_ms: f64, rate_hz: f64, correlation: f64) {
        self.set_params(rate_hz, correlation);
        self.buffer.drain(..self.cursor);
        self.cursor = 0;
        self.buffer.retain(|&(t, _)| t <= cut_ms);
        self.generated_until_ms = cut_ms;
        // The first chunk now, so that the floor at `cut_ms` needs no state of its own.
        self.generate_chunk_above(cut_ms);
    }

    fn generate_chunk(&mut self) {
        self.generate_chunk_above(0.0);
    }

    /// Draws the next chunk, keeping spikes at times > `floor_ms` only.
    fn generate_chunk_above(&mut self, floor_ms: f64) {
        let t0 = self.generated_until_ms;
        let t1 = t0 + CHUNK_MS;
        self.generated_until_ms = t1;
        self.buffer.drain(..self.cursor);
        self.cursor = 0;
        if self.len == 0 || self.rate_khz <= 0.0 {
            return;
        }
        let fresh_from = self.buffer.len();
        if self.correlation > 0.0 {
            self.generate_correlated(t0, t1);
        } else {
            let mean = self.len as f64 * self.rate_khz * CHUNK_MS;
            let count = Poisson::new(mean).expect("finite positive mean").sample(&mut self.rng) as usize;
            for _ in 0..count {
                let t = t0 + CHUNK_MS * self.rng.random::<f64>();
                let k = self.rng.random_range(0..self.len as u32);
                self.buffer.push((t, k));
            }
        }
        let (start, stop) = (self.start_ms.max(0.0), self.stop_ms);
        let mut i = fresh_from;
        while i < self.buffer.len() {
            let t = self.buffer[i].0;
            if t <= floor_ms || t < start || t >= stop {
                self.buffer.swap_remove(i);
            } else {
                i += 1;
            }
        }
        self.buffer.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }

    fn generate_correlated(&mut self, t0: f64, t1: f64) {
        let c = self.correlation;
        let mother_rate = self.rate_khz / c;
        let count = Poisson::new(mother_rate * (t1 - t0))
            .expect("finite positive mean")
            .sample(&mut self.rng) as usize;
        let mut mother: Vec<f64> = (0..count).map(|_| t0 + (t1 - t0) * self.rng.random::<f64>()).collect();
        mother.sort_by(f64::total_cmp);
        let jitter = Normal::new(0.0, self.jitter_ms).expect("jitter ≥ 0");
        let log_q = (1.0 - c).ln();
        for k in 0..self.len as u32 {
            // Keep each mother spike with probability c, skipping geometrically.
            let mut m: i64 = -1;
            loop {
                let skip = if c >= 1.0 {
                    0.0
                } else {
                    ((1.0 - self.rng.random::<f64>()).ln() / log_q).floor()
                };
                m += skip as i64 + 1;
                if skip >= mother.len() as f64 || m >= mother.len() as i64 {
                    break;
                }
                let dt = if self.jitter_ms > 0.0 {
                    jitter.sample(&mut self.rng)
                } else {
                    0.0
                };
                self.buffer.push((mother[m as usize] + dt, k));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn spec(rate_hz: f64, correlation: f64) -> InputSpec {
        InputSpec {
            name: "X".into(),
            kind: crate::spec::Sign::Excitatory,
            fraction: None,
            size: Some(200),
            rate_hz,
            correlation,
            jitter_ms: 5.0,
            tau_syn_ms: 10.0,
            start_ms: 0.0,
            stop_ms: None,
        }
    }

    /// Spike counts per 250 ms window: counts[w][k].
    fn counts(input: &mut ExternalInput, n: usize, t_ms: f64, dt: f64) -> Vec<Vec<f64>> {
        let windows = (t_ms / 250.0) as usize;
        let mut counts = vec![vec![0.0; n]; windows];
        let steps = (t_ms / dt).round() as usize;
        let mut out = Vec::new();
        for i in 1..=steps {
            out.clear();
            let t = i as f64 * dt;
            input.spikes_until(t, &mut out);
            let w = (((t - 1e-9) / 250.0) as usize).min(windows - 1);
            for &k in &out {
                counts[w][k as usize] += 1.0;
            }
        }
        counts
    }

    /// Mean rate (Hz) and mean pairwise count correlation over distinct trains.
    fn rate_and_correlation(counts: &[Vec<f64>], t_ms: f64) -> (f64, f64) {
        let n = counts[0].len();
        let w = counts.len() as f64;
        let total: f64 = counts.iter().flatten().sum();
        let rate = total / n as f64 / (t_ms * 1e-3);
        let mean: Vec<f64> = (0..n).map(|k| counts.iter().map(|c| c[k]).sum::<f64>() / w).collect();
        let cov =
            |a: usize, b: usize| counts.iter().map(|c| (c[a] - mean[a]) * (c[b] - mean[b])).sum::<f64>() / (w - 1.0);
        let var: Vec<f64> = (0..n).map(|k| cov(k, k)).collect();
        let (mut sum, mut pairs) = (0.0, 0.0);
        for a in 0..n {
            for b in a + 1..n {
                sum += cov(a, b) / (var[a] * var[b]).sqrt();
                pairs += 1.0;
            }
        }
        (rate, sum / pairs)
    }

    #[test]
    fn a_change_applies_to_every_spike_after_its_time() {
        for c in [0.0, 0.1] {
            let mut x = ExternalInput::new(&spec(10.0, c), 200, stream(7, Purpose::Input, 0, 0));
            let mut out = vec![];
            x.spikes_until(500.0, &mut out);
            x.change_at(500.0, 30.0, c);
            assert_eq!(x.params(), (30.0, c));
            // 20 s at the new rate (the correlated ones lose about a jitter's worth at the cut).
            let mut n = 0;
            for i in 1..=200 {
                out.clear();
                x.spikes_until(500.0 + 100.0 * i as f64, &mut out);
                n += out.len();
            }
            let rate = n as f64 / 200.0 / 20.0;
            assert!((rate - 30.0).abs() < 1.0, "c = {c}: {rate} Hz (30 Hz)");
        }
    }

    #[test]
    fn uncorrelated_trains_have_rate_and_no_correlation() {
        let mut x = ExternalInput::new(&spec(10.0, 0.0), 200, stream(5, Purpose::Input, 0, 0));
        let counts = counts(&mut x, 200, 100_000.0, 0.1);
        let (rate, rho) = rate_and_correlation(&counts, 100_000.0);
        assert!((rate - 10.0).abs() < 0.3, "rate {rate} Hz (10 Hz ± 3 %)");
        assert!(rho.abs() < 0.02, "mean pairwise correlation {rho} (0 ± 0.02)");
    }

    #[test]
    fn correlated_trains_have_rate_and_correlation_c() {
        let mut x = ExternalInput::new(&spec(10.0, 0.1), 200, stream(6, Purpose::Input, 0, 0));
        let counts = counts(&mut x, 200, 100_000.0, 0.1);
        let (rate, rho) = rate_and_correlation(&counts, 100_000.0);
        assert!((rate - 10.0).abs() < 0.3, "rate {rate} Hz (10 Hz ± 3 %)");
        assert!((rho - 0.1).abs() < 0.02, "mean pairwise correlation {rho} (0.1 ± 0.02)");
    }

    #[test]
    fn window_limits_the_spikes_and_order_is_by_time() {
        let mut s = spec(50.0, 0.3);
        s.start_ms = 200.0;
        s.stop_ms = Some(700.0);
        let mut x = ExternalInput::new(&s, 50, stream(1, Purpose::Input, 0, 0));
        let mut before = Vec::new();
        x.spikes_until(199.9, &mut before);
        assert!(before.is_empty());
        let mut during = Vec::new();
        x.spikes_until(700.0, &mut during);
        let mut after = Vec::new();
        x.spikes_until(3000.0, &mut after);
        assert!(after.is_empty());
        let expected = 50.0 * 0.05 * 500.0;
        assert!((during.len() as f64 - expected).abs() < 6.0 * expected.sqrt() + 0.1 * expected);
    }
}
