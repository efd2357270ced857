//! Sums of f64 values that do not depend on the order of the values.
//!
//! Recorded weight statistics must be bit-identical for any number of threads, yet the fast way
//! to read a projection's weights is chunk by chunk in memory order, which depends on the
//! chunking. So the values are summed in fixed point: each is scaled by the same power of two
//! (set by the largest magnitude, so that it uses 50 bits), rounded to an integer, and the
//! integers are added exactly. Every term's rounding depends only on the term and the maximum,
//! never on the order; the error is at most half a unit of 2^-50·max per term, like a float sum.

/// (Σx, Σx²) over every value of every slice in `parts`: the same bits for any order of the
/// values and any split into slices. Values must be finite, with squares that do not overflow
/// (|x| < 1e154).
#[cfg(test)]
pub fn sum_and_sum_of_squares(parts: &[&[f64]]) -> (f64, f64) {
    sum_and_sum_of_squares_guessing(parts, None).0
}

/// [`sum_and_sum_of_squares`] given a guess of the largest |x| (e.g. the previous call's on
/// slowly changing values): one pass over the values when the guess has the same binary exponent
/// as the true maximum, two otherwise, and the same bits either way. Also returns the true
/// maximum, the next call's guess.
pub fn sum_and_sum_of_squares_guessing(parts: &[&[f64]], guess: Option<f64>) -> ((f64, f64), f64) {
    if let Some(scale) = guess.and_then(FixedPointScale::for_max) {
        let (sum, sum_sq, max) = parts
            .iter()
            .map(|p| scale.partial_sums_and_max(p))
            .fold((0, 0, 0.0f64), |(a, b, m), (c, d, x)| (a + c, b + d, m.max(x)));
        if scale.fits(max) {
            return (scale.to_float(sum, sum_sq), max);
        }
        return (sums_at(parts, max), max);
    }
    let max = parts.iter().map(|p| max_abs(p)).fold(0.0f64, f64::max);
    (sums_at(parts, max), max)
}

/// The second pass: (Σx, Σx²) at the scale of the true maximum `max`.
fn sums_at(parts: &[&[f64]], max: f64) -> (f64, f64) {
    let Some(scale) = FixedPointScale::for_max(max) else {
        return (0.0, 0.0);
    };
    let (sum, sum_sq) = parts
        .iter()
        .map(|p| scale.partial_sums(p))
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    scale.to_float(sum, sum_sq)
}

/// The largest |x| of a slice (0 if empty): the first of the two passes of
/// [`sum_and_sum_of_squares`], which may run on each slice separately (in parallel).
pub fn max_abs(values: &[f64]) -> f64 {
    simd_dispatch!(max_abs_portable(values))
}

#[inline(always)]
fn max_abs_portable(values: &[f64]) -> f64 {
    f64::from_bits(values.iter().fold(0, |m, &x| m.max(magnitude_bits(x))))
}

/// The bits of |x|, which order like the magnitudes do; 0 for a NaN, which the maximum skips
/// (as `f64::max` would). An integer maximum vectorises where a float one, which must keep
/// NaN's rules, does not.
#[inline(always)]
fn magnitude_bits(x: f64) -> u64 {
    let bits = x.to_bits() & !(1 << 63);
    if bits > f64::INFINITY.to_bits() { 0 } else { bits }
}

/// The fixed-point scale of the second pass, set by the largest magnitude of all values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedPointScale {
    /// Values are scaled by 2^s.
    s: i32,
    /// Squares are scaled by 2^t.
    t: i32,
}

impl FixedPointScale {
    /// The scale for values whose largest magnitude is `max` (the maximum of [`max_abs`] over all
    /// slices); `None` when every value is zero.
    pub fn for_max(max: f64) -> Option<Self> {
        if max == 0.0 {
            return None;
        }
        // max < 2^(e + 1), so |x|·2^(49 − e) < 2^50 and x²·2^(47 − 2e) < 2^49.
        let e = ((max.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        Some(Self {
            s: (49 - e).clamp(-1000, 1000),
            t: (47 - 2 * e).clamp(-1000, 1000),
        })
    }

    /// Whether this is the scale for values whose largest magnitude is `max`.
    pub fn fits(&self, max: f64) -> bool {
        Self::for_max(max) == Some(*self)
    }

    /// (Σx, Σx²) of one slice in exact fixed point: add the results of all slices (any order,
    /// any split) and convert once with [`FixedPointScale::to_float`].
    pub fn partial_sums(&self, values: &[f64]) -> (i128, i128) {
        let (sum, sum_sq, _) = simd_dispatch!(self.partial_sums_portable::<false>(values));
        (sum, sum_sq)
    }

    /// [`FixedPointScale::partial_sums`] and the largest |x| in the same pass, for a scale that
    /// was guessed: the sums are meaningful only if the scale [`fits`](Self::fits) the maximum
    /// of all slices.
    pub fn partial_sums_and_max(&self, values: &[f64]) -> (i128, i128, f64) {
        simd_dispatch!(self.partial_sums_portable::<true>(values))
    }

    /// Integer-exact, so every instruction set gives the same result. Adds wrap: with a scale
    /// that does not fit, the sums are garbage (and discarded), never a panic.
    #[inline(always)]
    fn partial_sums_portable<const MAX: bool>(&self, values: &[f64]) -> (i128, i128, f64) {
        let (scale, scale_sq) = (pow2(self.s), pow2(self.t));
        let (mut sum, mut sum_sq, mut max) = (0i128, 0i128, 0u64);
        // Terms below 2^50 in i64: blocks of 4096 cannot overflow. Plain integer reductions,
        // which the compiler may reorder and so vectorises (2× faster than eight explicit
        // lanes, which it turned into gathers and scalar shuffles).
        for block in values.chunks(4096) {
            let (mut a, mut b) = (0i64, 0i64);
            for &x in block {
                a = a.wrapping_add(biased_integer(x * scale));
                b = b.wrapping_add(biased_integer(x * x * scale_sq));
                if MAX {
                    max = max.max(magnitude_bits(x));
                }
            }
            // Every term carried the bias once.
            let bias = (block.len() as i64).wrapping_mul(BIAS);
            sum += a.wrapping_sub(bias) as i128;
            sum_sq += b.wrapping_sub(bias) as i128;
        }
        (sum, sum_sq, f64::from_bits(max))
    }

    /// The float (Σx, Σx²) from the fixed-point totals.
    pub fn to_float(self, sum: i128, sum_sq: i128) -> (f64, f64) {
        (sum as f64 * pow2(-self.s), sum_sq as f64 * pow2(-self.t))
    }
}

/// 1.5·2^52: adding it to |y| < 2^51 rounds y to the nearest integer (ties to even) and leaves
/// that integer in the low mantissa bits.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// The bits of `MAGIC`, which [`biased_integer`] adds to each integer.
const BIAS: i64 = MAGIC.to_bits() as i64;

/// The nearest integer to |y| < 2^51, plus `BIAS`: branch-free so that loops vectorise, and
/// the bias is subtracted once per sum instead of once per term.
#[inline(always)]
fn biased_integer(y: f64) -> i64 {
    (y + MAGIC).to_bits() as i64
}

/// 2^k for −1000 ≤ k ≤ 1000, exact.
fn pow2(k: i32) -> f64 {
    // Two factors keep each within the normal range.
    let half = k / 2;
    f64::from_bits(((half + 1023) as u64) << 52) * f64::from_bits(((k - half + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_do_not_depend_on_order_or_split_and_are_accurate() {
        assert_eq!(sum_and_sum_of_squares(&[]), (0.0, 0.0));
        assert_eq!(sum_and_sum_of_squares(&[&[1.5, -0.25, 3.0]]), (4.25, 11.3125));
        // 100,000 values of mixed signs over three orders of magnitude.
        let values: Vec<f64> = (0..100_000u64)
            .map(|i| {
                let u = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
                (u - 0.4) * 10f64.powi((i % 4) as i32 - 3)
            })
            .collect();
        let whole = sum_and_sum_of_squares(&[&values]);
        let mut shuffled = values.clone();
        shuffled.reverse();
        shuffled.rotate_left(12_345);
        let (a, b) = shuffled.split_at(777);
        let split = sum_and_sum_of_squares(&[b, a]);
        assert_eq!(
            (whole.0.to_bits(), whole.1.to_bits()),
            (split.0.to_bits(), split.1.to_bits())
        );
        // Against compensated (Neumaier) sums: within 1e-12 of Σ|x| (the fixed-point error is
        // at most 2^-51·max per term).
        let neumaier = |f: &dyn Fn(f64) -> f64| {
            let (mut s, mut c) = (0.0f64, 0.0f64);
            for &v in &values {
                let (v, t) = (f(v), s + f(v));
                c += if s.abs() >= v.abs() { (s - t) + v } else { (v - t) + s };
                s = t;
            }
            s + c
        };
        let abs_sum: f64 = values.iter().map(|v| v.abs()).sum();
        assert!((whole.0 - neumaier(&|v| v)).abs() < 1e-12 * abs_sum, "{whole:?}");
        let sq = neumaier(&|v| v * v);
        assert!((whole.1 - sq).abs() < 1e-12 * sq, "{} vs {sq}", whole.1);
        // A guess of the maximum gives the same bits: one pass when it has the right binary
        // exponent (the maximum is about 0.6, so any guess in [0.5, 1)), two when it has not.
        let true_max = values.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
        assert!((0.5..1.0).contains(&true_max));
        for guess in [
            None,
            Some(true_max),
            Some(0.5),
            Some(0.49),
            Some(1.0),
            Some(1e-9),
            Some(1e9),
            Some(0.0),
        ] {
            let (sums, max) = sum_and_sum_of_squares_guessing(&[b, a], guess);
            assert_eq!(max, true_max);
            assert_eq!(
                (sums.0.to_bits(), sums.1.to_bits()),
                (whole.0.to_bits(), whole.1.to_bits()),
                "{guess:?}"
            );
        }
        let scale = FixedPointScale::for_max(true_max).unwrap();
        assert!(scale.fits(0.5) && scale.fits(0.99) && !scale.fits(1.0) && !scale.fits(0.49));
        // Tiny and huge magnitudes scale too.
        let (s, q) = sum_and_sum_of_squares(&[&[3e-200, -1e-200]]);
        assert!((s / 2e-200 - 1.0).abs() < 1e-15 && q == 0.0); // the squares underflow f64
        let (s, q) = sum_and_sum_of_squares(&[&[3e150, -1e150]]);
        assert!((s / 2e150 - 1.0).abs() < 1e-15 && (q / 1e301 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn each_term_is_rounded_to_nearest_even_and_the_maximum_skips_nan() {
        // The sums against a plain reference: each term rounded on its own (ties to even),
        // over lengths around the 4096-value blocks, values of both signs and exact ties.
        let scale = FixedPointScale::for_max(3.0).unwrap(); // 2^48: x·2^48 < 2^50
        let (s, t) = (pow2(scale.s), pow2(scale.t));
        let reference = |v: &[f64]| -> (i128, i128) {
            v.iter().fold((0, 0), |(a, b), &x| {
                let (y, z) = ((x * s).round_ties_even(), (x * x * t).round_ties_even());
                (a + y as i128, b + z as i128)
            })
        };
        let mut values: Vec<f64> = (0..12_345u64)
            .map(|i| {
                let u = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
                3.0 * (2.0 * u - 1.0)
            })
            .collect();
        // x·2^48 = k + 1/2 exactly: ties, to even up and down.
        values[7] = 2.5 / s;
        values[8] = -3.5 / s;
        values[9] = 4097.5 / s;
        for len in [0, 1, 7, 4095, 4096, 4097, 8192, 12_345] {
            let v = &values[..len];
            let (a, b, max) = scale.partial_sums_and_max(v);
            assert_eq!((a, b), reference(v), "{len} values");
            assert_eq!(scale.partial_sums(v), (a, b));
            assert_eq!(max, v.iter().fold(0.0f64, |m, &x| m.max(x.abs())));
        }
        assert_eq!(reference(&values[7..10]).0, 2 - 4 + 4098);
        // NaN is skipped by the maximum (as by f64::max); infinity and −0 count as magnitudes.
        assert_eq!(max_abs(&[-2.0, f64::NAN, 1.0]), 2.0);
        assert_eq!(max_abs(&[f64::NAN]), 0.0);
        assert_eq!(max_abs(&[-0.0]).to_bits(), 0.0f64.to_bits());
        assert_eq!(max_abs(&[1.0, f64::NEG_INFINITY]), f64::INFINITY);
        assert_eq!(scale.partial_sums_and_max(&[-2.0, f64::NAN]).2, 2.0);
    }
}
