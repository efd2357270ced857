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
    /// While kept (see [`TraceSet::keep_previous`]): the traces as they were before the last
    /// advance, as (x̃, D).
    previous: Option<Previous>,
}

/// The traces before the last advance: x̃ equal to the current ones except for the last
/// advance's spikers (or all of them after a fold), which the next advance brings up to date
/// first, so that keeping them costs O(spikes) per step.
#[derive(Debug, Clone)]
struct Previous {
    scaled: Vec<f64>,
    scale: f64,
    /// Where `scaled` differs from the current x̃: the last advance's spikers.
    stale: Vec<u32>,
    /// The last advance folded: every entry differs.
    all_stale: bool,
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
            previous: None,
        }
    }

    /// From now on, keeps the traces as they were before each advance (for post-spike updates
    /// applied after it: see `team`); `false` stops keeping them.
    pub(super) fn keep_previous(&mut self, keep: bool) {
        self.previous = keep.then(|| Previous {
            scaled: self.scaled.clone(),
            scale: self.scale,
            stale: vec![],
            all_stale: false,
        });
    }

    /// (x̃, D) as they were before the last advance (the current ones if there was none since
    /// [`TraceSet::keep_previous`]). Panics if they are not kept.
    #[inline]
    pub(super) fn previous(&self) -> (&[f64], f64) {
        let p = self.previous.as_ref().expect("previous traces are kept");
        (&p.scaled, p.scale)
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
        if self.previous.is_some() {
            self.keep_previous(true);
        }
    }

    /// Trace of neuron `id` (dimensionless).
    #[cfg(test)]
    pub(super) fn value(&self, id: usize) -> f64 {
        self.scaled[id] * self.scale
    }

    /// Steps 6–7: x += 1 for every neuron in `spikes`, then x ← x·d for all.
    pub(super) fn advance(&mut self, spikes: &[u32]) {
        if let Some(p) = &mut self.previous {
            if p.all_stale {
                p.scaled.copy_from_slice(&self.scaled);
            } else {
                for &s in &p.stale {
                    p.scaled[s as usize] = self.scaled[s as usize];
                }
            }
            p.scale = self.scale;
            p.stale.clear();
            p.stale.extend_from_slice(spikes);
            p.all_stale = self.scale * self.decay < FOLD_BELOW;
        }
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

    #[test]
    fn keeps_the_traces_before_the_last_advance_exactly() {
        // d = 0.5 folds every ~660 steps, so 3000 steps cross four folds; the spike patterns
        // leave some neurons unchanged, some changed at every step, some now and then.
        let mut traces = TraceSet::new(4, 0.5);
        traces.keep_previous(true);
        assert_eq!(traces.previous(), (&[0.0; 4][..], 1.0));
        let mut folds = 0;
        for i in 0..3000u32 {
            let before = (traces.scaled().to_vec(), traces.scale());
            let spikes: Vec<u32> = [(0, 3), (1, 1), (3, 7)]
                .iter()
                .filter(|&&(_, every)| i % every == 0)
                .map(|&(n, _)| n)
                .collect();
            traces.advance(&spikes);
            folds += usize::from(traces.scale() == 1.0);
            let (x, d) = traces.previous();
            assert_eq!((x, d), (&before.0[..], before.1), "step {i}");
        }
        assert_eq!(folds, 4);
        // A restored state starts a new history; not keeping them any more drops it.
        traces.set_state(&[1.0, 2.0, 3.0, 4.0], 0.25);
        assert_eq!(traces.previous(), (&[1.0, 2.0, 3.0, 4.0][..], 0.25));
        traces.keep_previous(false);
        assert!(traces.previous.is_none());
    }
}
