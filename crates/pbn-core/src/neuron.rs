//! Exponential integrate-and-fire neurons (docs/model.md §2.3) and the exp they need.

use std::ops::Range;

use crate::spec::EifSpec;
use crate::state_float::StateFloat;

/// EIF parameters in the form the voltage loop uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eif {
    /// dt / C_m (ms per µF/cm²).
    pub dt_over_c: f64,
    /// Leak conductance g_L = C_m/τ_m (mS/cm²).
    pub g_l: f64,
    /// Leak reversal (mV).
    pub e_l: f64,
    /// Soft threshold V_T (mV).
    pub v_t: f64,
    /// Slope Δ_T (mV).
    pub delta_t: f64,
    /// Spike threshold (mV).
    pub v_th: f64,
    /// Reset (mV).
    pub v_re: f64,
}

impl Eif {
    /// From config parameters and the time step (ms).
    pub fn new(p: &EifSpec, dt_ms: f64) -> Self {
        Self {
            dt_over_c: dt_ms / p.c_m,
            g_l: p.c_m / p.tau_m_ms,
            e_l: p.e_l_mv,
            v_t: p.v_t_mv,
            delta_t: p.delta_t_mv,
            v_th: p.v_th_mv,
            v_re: p.v_re_mv,
        }
    }

    /// One forward-Euler step for neurons `range` of `v`: V += dt/C·(I + g_L(E_L − V) +
    /// g_L Δ_T exp((V − V_T)/Δ_T)), where the input I is `stimulus` plus the sum of the
    /// `currents` (one per source, summed in order). Each current is then decayed by one step,
    /// I ← I·`decays[k]`, in the same pass over memory. All arithmetic is in the state's
    /// precision `F`.
    pub fn step<F: StateFloat, C: AsMut<[F]>>(
        &self,
        v: &mut [F],
        currents: &mut [C],
        range: Range<usize>,
        decays: &[f64],
        stimulus: f64,
    ) {
        simd_dispatch!(self.step_portable(v, currents, range, decays, stimulus))
    }

    /// The voltage loop for any CPU (see [`Eif::step`]). Branch-free so that it vectorises.
    #[inline(always)]
    pub fn step_portable<F: StateFloat, C: AsMut<[F]>>(
        &self,
        v: &mut [F],
        currents: &mut [C],
        range: Range<usize>,
        decays: &[f64],
        stimulus: f64,
    ) {
        assert!(decays.len() == currents.len());
        let v = &mut v[range.clone()];
        let d = |k: usize| F::from_f64(decays[k]);
        // Slices, not the Vecs: stores through them cannot alias their lengths and pointers.
        let r = || range.clone();
        // Up to four sources are summed (and decayed) inside the voltage loop: one pass over
        // memory. The summation order I_0 + I_1 + … is the same in every branch.
        match currents {
            [] => self.update(v, stimulus, |_| F::default()),
            [a] => {
                let (a, da) = (&mut a.as_mut()[r()], d(0));
                self.update(v, stimulus, |l| {
                    let i = a[l];
                    a[l] *= da;
                    i
                })
            }
            [a, b] => {
                let (a, b) = (&mut a.as_mut()[r()], &mut b.as_mut()[r()]);
                let (da, db) = (d(0), d(1));
                self.update(v, stimulus, |l| {
                    let i = a[l] + b[l];
                    (a[l], b[l]) = (a[l] * da, b[l] * db);
                    i
                })
            }
            [a, b, c] => {
                let (a, b, c) = (&mut a.as_mut()[r()], &mut b.as_mut()[r()], &mut c.as_mut()[r()]);
                let (da, db, dc) = (d(0), d(1), d(2));
                self.update(v, stimulus, |l| {
                    let i = a[l] + b[l] + c[l];
                    (a[l], b[l], c[l]) = (a[l] * da, b[l] * db, c[l] * dc);
                    i
                })
            }
            [a, b, c, e] => {
                let (a, b, c, e) = (
                    &mut a.as_mut()[r()],
                    &mut b.as_mut()[r()],
                    &mut c.as_mut()[r()],
                    &mut e.as_mut()[r()],
                );
                let (da, db, dc, de) = (d(0), d(1), d(2), d(3));
                self.update(v, stimulus, |l| {
                    let i = a[l] + b[l] + c[l] + e[l];
                    (a[l], b[l], c[l], e[l]) = (a[l] * da, b[l] * db, c[l] * dc, e[l] * de);
                    i
                })
            }
            currents => {
                // More sources: summed into a small scratch block by block (the same order).
                const BLOCK: usize = 256;
                let mut total = [F::default(); BLOCK];
                for (b, v) in v.chunks_mut(BLOCK).enumerate() {
                    let (lo, len) = (range.start + b * BLOCK, v.len());
                    let total = &mut total[..len];
                    total.copy_from_slice(&currents[0].as_mut()[lo..lo + len]);
                    for cur in &mut currents[1..] {
                        for (t, c) in total.iter_mut().zip(&cur.as_mut()[lo..lo + len]) {
                            *t += *c;
                        }
                    }
                    for (k, cur) in currents.iter_mut().enumerate() {
                        let dk = d(k);
                        cur.as_mut()[lo..lo + len].iter_mut().for_each(|c| *c *= dk);
                    }
                    self.update(v, stimulus, |l| total[l]);
                }
            }
        }
    }

    /// V ← V + dt/C·(g_L(E_L − V) + stimulus + input(l) + g_L Δ_T e^{(V − V_T)/Δ_T}), arranged
    /// for few operations: the leak and the stimulus are one multiply-add, the exponential term
    /// another. (Folding g_L Δ_T into the exponential's polynomial would save one more but
    /// turns its constant coefficients into registers, which costs more than it saves.)
    #[inline(always)]
    fn update<F: StateFloat>(&self, v: &mut [F], stimulus: f64, mut input: impl FnMut(usize) -> F) {
        let f = F::from_f64;
        let (neg_g_l, dt_over_c) = (f(-self.g_l), f(self.dt_over_c));
        let leak_at_zero_plus_stimulus = f(self.g_l * self.e_l + stimulus);
        let inv_delta = f(1.0 / self.delta_t);
        let gl_delta = f(self.g_l * self.delta_t);
        let neg_v_t_scaled = f(-(self.v_t * (1.0 / self.delta_t)));
        for (l, v) in v.iter_mut().enumerate() {
            let drive = v.mul_add(neg_g_l, leak_at_zero_plus_stimulus) + input(l);
            let total = gl_delta.mul_add(v.mul_add(inv_delta, neg_v_t_scaled).fast_exp(), drive);
            *v = dt_over_c.mul_add(total, *v);
        }
    }
}

/// Spike detection (docs/model.md §2.7 step 3): appends `first_id + l` to `spikes` for every `l` with
/// `v[l] ≥ v_th`, in order, and returns the id of the first NaN voltage, if any.
pub fn detect_spikes<F: StateFloat>(v: &[F], v_th: f64, first_id: usize, spikes: &mut Vec<u32>) -> Option<usize> {
    simd_dispatch!(detect_spikes_portable(v, v_th, first_id, spikes))
}

#[inline(always)]
fn detect_spikes_portable<F: StateFloat>(v: &[F], v_th: f64, first_id: usize, spikes: &mut Vec<u32>) -> Option<usize> {
    const BLOCK: usize = 16;
    let v_th = F::from_f64(v_th);
    let mut nan = None;
    let mut scan = |values: &[F], offset: usize| {
        for (l, &x) in values.iter().enumerate() {
            if x >= v_th {
                spikes.push((first_id + offset + l) as u32);
            } else if x.is_nan() && nan.is_none() {
                nan = Some(first_id + offset + l);
            }
        }
    };
    // Spikes are rare: test fixed-size blocks with one vector compare and no branches
    // (`!(x < v_th)` also counts NaN as a hit, so divergence is caught), and look inside a
    // block only when it has a hit.
    let (blocks, rest) = v.as_chunks::<BLOCK>();
    for (b, block) in blocks.iter().enumerate() {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if block.iter().fold(false, |hit, &x| hit | !(x < v_th)) {
            scan(block, b * BLOCK);
        }
    }
    scan(rest, blocks.len() * BLOCK);
    nan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `step` or `step_portable` on copies of `currents`; returns (voltages, decayed currents).
    fn stepped(
        eif: &Eif,
        v: &[f64],
        currents: &[Vec<f64>],
        decays: &[f64],
        stim: f64,
        wide: bool,
    ) -> (Vec<f64>, Vec<Vec<f64>>) {
        let (mut v, mut cur) = (v.to_vec(), currents.to_vec());
        let all = 0..v.len();
        if wide {
            eif.step(&mut v, &mut cur, all, decays, stim);
        } else {
            eif.step_portable(&mut v, &mut cur, all, decays, stim);
        }
        (v, cur)
    }

    fn bits(x: &[f64]) -> Vec<u64> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn vectorised_and_portable_voltage_updates_are_bit_identical() {
        let eif = Eif::new(&EifSpec::default(), 0.1);
        let v0: Vec<f64> = (0..1003).map(|k| -80.0 + 0.0317 * k as f64).collect();
        let input: Vec<f64> = (0..1003).map(|k| ((k * 7919) % 113) as f64 * 0.05 - 2.0).collect();
        let two = vec![input.clone(), input.clone()];
        let (a, ca) = stepped(&eif, &v0, &two, &[0.9, 0.5], 0.3, true);
        let (b, cb) = stepped(&eif, &v0, &two, &[0.9, 0.5], 0.3, false);
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(ca, cb);
        // Summing 0–6 sources inside the loop equals summing them first, bit for bit, and each
        // source comes out decayed by its own factor.
        let decays = [0.975, 0.9875, 0.99, 0.5, 0.25, 0.125];
        for k in 0..=6 {
            let mut total = vec![0.0; input.len()];
            for _ in 0..k {
                for (t, c) in total.iter_mut().zip(&input) {
                    *t += c;
                }
            }
            let sources = vec![input.clone(); k];
            let (fused, decayed) = stepped(&eif, &b, &sources, &decays[..k], 0.3, false);
            let (summed, _) = stepped(&eif, &b, &[total], &[1.0], 0.3, false);
            assert_eq!(bits(&fused), bits(&summed), "{k} sources");
            for (cur, d) in decayed.iter().zip(decays) {
                assert!(cur.iter().zip(&input).all(|(c, i)| *c == i * d), "{k} sources");
            }
        }
    }

    #[test]
    fn f32_state_vectorised_and_portable_updates_are_bit_identical_and_close_to_f64() {
        let eif = Eif::new(&EifSpec::default(), 0.1);
        let v64: Vec<f64> = (0..1003).map(|k| -80.0 + 0.0317 * k as f64).collect();
        let i64: Vec<f64> = (0..1003).map(|k| ((k * 7919) % 113) as f64 * 0.05 - 2.0).collect();
        let v32: Vec<f32> = v64.iter().map(|&x| x as f32).collect();
        let i32: Vec<f32> = i64.iter().map(|&x| x as f32).collect();
        let run = |wide: bool| {
            let mut v = v32.clone();
            let mut cur = vec![i32.clone(), i32.clone()];
            let all = 0..v.len();
            if wide {
                eif.step(&mut v, &mut cur, all, &[0.9, 0.5], 0.3);
            } else {
                eif.step_portable(&mut v, &mut cur, all, &[0.9, 0.5], 0.3);
            }
            let [a, b] = <[Vec<f32>; 2]>::try_from(cur).unwrap();
            (v, a, b)
        };
        let (wide, portable) = (run(true), run(false));
        assert_eq!(
            wide.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            portable.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!((&wide.1, &wide.2), (&portable.1, &portable.2));
        // One step in f32 is within a few f32 ulp (of ~80 mV: 7.6e-6 mV) of the f64 step from the
        // same (f32-representable) start, up to where the exponential term blows up.
        let (reference, _) = stepped(
            &eif,
            &v32.iter().map(|&x| x as f64).collect::<Vec<_>>(),
            &[
                i32.iter().map(|&x| x as f64).collect(),
                i32.iter().map(|&x| x as f64).collect(),
            ],
            &[0.9, 0.5],
            0.3,
            false,
        );
        for (l, (&a, &b)) in wide.0.iter().zip(&reference).enumerate() {
            if b < -45.0 {
                assert!((a as f64 - b).abs() < 3e-5, "neuron {l}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn spike_detection_finds_every_crossing_in_order_and_the_first_nan() {
        for len in [0, 1, 15, 16, 17, 100, 1003] {
            let mut v: Vec<f64> = (0..len).map(|k| -70.0 + ((k * 7919) % 31) as f64).collect();
            let expected: Vec<u32> = (0..len).filter(|&k| v[k] >= -50.0).map(|k| (k + 7) as u32).collect();
            let mut spikes = vec![];
            assert_eq!(detect_spikes(&v, -50.0, 7, &mut spikes), None);
            assert_eq!(spikes, expected, "len {len}");
            if len > 3 {
                v[len - 2] = f64::NAN;
                v[len - 1] = f64::NAN;
                spikes.clear();
                assert_eq!(detect_spikes(&v, -50.0, 7, &mut spikes), Some(len - 2 + 7));
            }
        }
    }

    /// V after 2 s at rest from −60 mV, in precision F.
    fn rested<F: StateFloat>() -> f64 {
        let eif = Eif::new(&EifSpec::default(), 0.1);
        let mut v = vec![F::from_f64(-60.0)];
        for _ in 0..20_000 {
            eif.step(&mut v, &mut [vec![F::default()]], 0..1, &[1.0], 0.0);
        }
        v[0].to_f64()
    }

    #[test]
    fn resting_neuron_relaxes_to_the_leak_fixed_point() {
        // With no input, V converges to the stable root of g_L(E_L − V) + g_L Δ_T e^{(V−V_T)/Δ_T} = 0,
        // which is within 1e-6 mV of E_L − Δ_T e^{(E_L−V_T)/Δ_T} (one Newton step from E_L).
        let expected = -72.0 - (-17.0f64).exp();
        assert!((rested::<f64>() - expected).abs() < 1e-6, "{}", rested::<f64>());
        // In f32, forward Euler stalls once a step's change dt/τ_m·(V* − V) rounds away, i.e.
        // within about ulp(72 mV)/2 · τ_m/dt = 5.7e-4 mV of the fixed point (measured: 5.7e-4
        // mV), far below any voltage fluctuation in a network.
        assert!((rested::<f32>() - expected).abs() < 1e-3, "{}", rested::<f32>());
    }
}
