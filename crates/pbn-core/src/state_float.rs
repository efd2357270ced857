//! The floating-point types a neuron's voltage and synaptic currents can be stored in (the
//! config's `precision`), and a vectorisable `exp` for each.
//!
//! Weights, traces and every plasticity update stay in f64 whatever the precision: a weight
//! increment η·x can be far below half an f32 ulp of the weight at large N and would be lost.
//! Voltages and currents are sums of O(1) terms that are re-drawn by noise every few ms, so f32
//! storage (24-bit mantissa: 4·10⁻⁶ mV at −60 mV) changes no statistic we can measure (see the
//! precision tests) while halving the memory traffic and doubling the SIMD width of the voltage
//! loop.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, MulAssign, Sub};

/// A float type for neuron state: `f64` or `f32`.
pub trait StateFloat:
    Copy
    + Default
    + PartialOrd
    + Debug
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + MulAssign
{
    /// Rounds an f64 to this type (to nearest).
    fn from_f64(x: f64) -> Self;
    /// Widens to f64 (exact).
    fn to_f64(self) -> f64;
    /// self·a + b with one rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// e^self to within a few ulp, branch-free (see [`exp`] and [`exp_f32`]).
    fn fast_exp(self) -> Self;
    /// Whether this is NaN.
    fn is_nan(self) -> bool;
}

impl StateFloat for f64 {
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        exp(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

impl StateFloat for f32 {
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        exp_f32(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

/// e^x to within 3 ulp for x in [−708, 708] (clamped outside, so overflow gives a huge finite
/// value that crosses any threshold). Written without branches or calls so that the voltage loop
/// vectorises; `f64::exp` is a libm call that blocks that and dominates the step at N ≈ 5000.
/// Every multiply-add is fused (12 FMAs for the polynomial), which halves the work.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding 1.5·2^52 rounds to an integer and leaves it in the low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 708.0);
    let shifted = x.mul_add(LOG2E, SHIFT);
    let k = shifted - SHIFT;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x)); // |r| ≤ ln2/2
    // Taylor series to degree 12: truncation error < 2.5e-16 relative on |r| ≤ 0.347.
    let p = horner(r, &INVERSE_FACTORIALS);
    // 2^k from the integer sitting in the low bits of `shifted`.
    let ki = (shifted.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    p * f64::from_bits(((ki + 1023) as u64) << 52)
}

/// The f32 version of [`exp`]: within 2 ulp for x in [−87, 88] (clamped outside), the same
/// range reduction with a degree-7 Taylor polynomial (truncation error < 6e-9 relative).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO with LN2_HI = 355/512, so k·LN2_HI is exact for |k| < 2^15.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2^23: adding it rounds to an integer in the low mantissa bits.
    const SHIFT: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x.mul_add(LOG2E, SHIFT);
    let k = shifted - SHIFT;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let p = horner(r, &INVERSE_FACTORIALS_F32);
    let ki = (shifted.to_bits() as i32).wrapping_sub(SHIFT.to_bits() as i32);
    p * f32::from_bits(((ki + 127) as u32) << 23)
}

/// 1/n! for n = 0…12: the Taylor coefficients of e^r to degree 12 (n! is exact in f64).
const INVERSE_FACTORIALS: [f64; 13] = {
    let mut c = [1.0; 13];
    let mut factorial = 1.0;
    let mut n = 1;
    while n < 13 {
        factorial *= n as f64;
        c[n] = 1.0 / factorial;
        n += 1;
    }
    c
};

/// The same to degree 7, rounded to f32.
const INVERSE_FACTORIALS_F32: [f32; 8] = {
    let mut c = [0.0; 8];
    let mut n = 0;
    while n < 8 {
        c[n] = INVERSE_FACTORIALS[n] as f32;
        n += 1;
    }
    c
};

/// The polynomial Σ c[i]·r^i by Horner's rule with fused multiply-adds (highest degree first).
#[inline(always)]
fn horner<F: StateFloat>(r: F, c: &[F]) -> F {
    let (last, rest) = c.split_last().expect("at least one coefficient");
    rest.iter().rev().fold(*last, |p, &ci| p.mul_add(r, ci))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_libm_to_three_ulp() {
        let mut worst = 0.0f64;
        let mut x = -700.0;
        while x < 700.0 {
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
            x += 0.012_345_6;
        }
        for x in [-30.0, -5.0, -1e-9, 0.0, 1e-9, 0.5, 5.0] {
            let (a, b) = (exp(x), f64::exp(x));
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 6.7e-16, "max relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(1e6).is_finite() && exp(1e6) > 1e300);
        assert!(exp(-1e6) >= 0.0 && exp(-1e6) < 1e-300);
    }

    #[test]
    fn exp_f32_is_within_two_ulp_of_the_exact_value() {
        // Against e^x computed in f64 from the same f32 argument; 2 ulp of f32 ≤ 2·2^-23 relative.
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (a, b) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((a - b) / b).abs());
            x += 0.001_234_5;
        }
        for x in [-30.0f32, -5.0, -1e-9, 0.0, 1e-9, 0.5, 5.0] {
            let (a, b) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 2.0 * f32::EPSILON as f64, "max relative error {worst}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(1e6).is_finite() && exp_f32(1e6) > 1e38);
        assert!(exp_f32(-1e6) >= 0.0 && exp_f32(-1e6) < 1e-37);
    }
}
