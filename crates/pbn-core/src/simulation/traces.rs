//! STDP traces (docs/plasticity.md §3.1; steps 6–7 of docs/model.md §2.7) without an O(N) decay pass per step.
//!
//! Every trace of one time constant decays by the same factor d = 1 − dt/τ each step, so the
//! traces are stored divided by a common scale D_i = d^i: x_j = x̃_j·D_i. A step then costs O(1)
//! plus O(spikes): the decay x ← x·d is D ← D·d, and the increment x_j += 1 before it is
//! x̃_j += 1/D_i. This is the same explicit-Euler recursion, x_{i+1} = (x_i + s)·d, rounded
//! differently (one rounding per read instead of one per step). When D gets small the x̃ are
//! folded back (x̃ ← x̃·D, D ← 1) long before anything could overflow.

/// All traces of one time constant τ: one value per neuron.
#[derive(Debug, Clone)]
pub(super) struct TraceSet {
    /// x̃_j = x_j / scale.
    scaled: Vec<f64>,
    /// D = d^(steps since the last fold).
    scale: f64,
    /// d = 1 − dt/τ.
    decay: f64,
}

/// Below this scale the x̃ are folded back; a trace of at most 1/(1 − d) (a neuron firing every
/// step) divided by it stays far from f64's range (2^1023).
const FOLD_BELOW: f64 = 1e-200;

impl TraceSet {
    /// Zero traces for `n` neurons with per-step decay factor `decay` (= 1 − dt/τ).
    pub(super) fn new(n: usize, decay: f64) -> Self {
        Self {
            scaled: vec![0.0; n],
            scale: 1.0,
            decay,
        }
    }

    /// The stored x̃ (multiply by [`TraceSet::scale`] to get traces).
    #[inline]
    pub(super) fn scaled(&self) -> &[f64] {
        &self.scaled
    }

    /// The common scale D of this step.
    #[inline]
    pub(super) fn scale(&self) -> f64 {
        self.scale
    }

    /// (x̃, D): what a checkpoint stores.
    pub(super) fn state(&self) -> (&[f64], f64) {
        (&self.scaled, self.scale)
    }

    /// Restores what [`TraceSet::state`] gave.
    pub(super) fn set_state(&mut self, scaled: &[f64], scale: f64) {
        self.scaled.copy_from_slice(scaled);
        self.scale = scale;
    }

    /// Trace of neuron `id` (dimensionless).
    #[cfg(test)]
    pub(super) fn value(&self, id: usize) -> f64 {
        self.scaled[id] * self.scale
    }

    /// Steps 6–7: x += 1 for every neuron in `spikes`, then x ← x·d for all.
    pub(super) fn advance(&mut self, spikes: &[u32]) {
        if !spikes.is_empty() {
            let increment = 1.0 / self.scale;
            for &s in spikes {
                self.scaled[s as usize] += increment;
            }
        }
        self.scale *= self.decay;
        if self.scale < FOLD_BELOW {
            for x in &mut self.scaled {
                *x *= self.scale;
            }
            self.scale = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_per_step_euler_recursion() {
        // Neuron 0 fires every 7 steps, neuron 1 every step, neuron 2 never; τ/dt = 20 folds
        // every ~9200 steps, so 30,000 steps cross three folds.
        let d = 1.0 - 1.0 / 20.0;
        let mut traces = TraceSet::new(3, d);
        let mut direct = [0.0f64; 3];
        for i in 0..30_000u32 {
            let spikes: Vec<u32> = if i % 7 == 0 { vec![0, 1] } else { vec![1] };
            for &s in &spikes {
                direct[s as usize] += 1.0;
            }
            for x in &mut direct {
                *x *= d;
            }
            traces.advance(&spikes);
            for (j, &x) in direct.iter().enumerate() {
                let err = (traces.value(j) - x).abs();
                assert!(
                    err <= 1e-12 * x.max(1.0),
                    "step {i}, neuron {j}: {} vs {x}",
                    traces.value(j)
                );
            }
        }
        assert!(traces.scale() > FOLD_BELOW && traces.scale() <= 1.0);
        // The fixed point of x = (x + 1)·d for a neuron firing every step.
        assert!((traces.value(1) - d / (1.0 - d)).abs() < 1e-9);
        assert_eq!(traces.value(2), 0.0);
    }
}
