//! Order-independent sums of f64 values.
//!
//! Recorded weight statistics must be bit-identical for any number of threads, yet the fast way
//! to read a projection's weights is chunk by chunk in memory order, which depends on the
//! chunking. An exact sum has no order: every value's 53-bit integer mantissa is added, as an
//! integer, to the bin of its binary exponent, and only the final total is rounded.
//! Merging accumulators is exact too, so chunks can be summed separately.

/// An exact running sum of f64 values (finite ones; 32 KiB of bins).
#[derive(Clone)]
pub struct ExactSum {
    /// bins[e] counts units of 2^(max(e, 1) − 1075) for biased exponent e.
    bins: Box<[i128; 2048]>,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self {
            bins: Box::new([0; 2048]),
        }
    }
}

impl ExactSum {
    /// Adds `x` exactly (x must be finite).
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        let (e, m) = split(x);
        self.bins[e] += m;
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &ExactSum) {
        for (a, b) in self.bins.iter_mut().zip(other.bins.iter()) {
            *a += b;
        }
    }

    /// The sum, rounded once. (Carrying the bins into one integer drops bits below 2^-32 of
    /// the top bin's unit, some 2^-84 of the total unless it cancels almost completely.)
    pub fn value(&self) -> f64 {
        const GUARD: u32 = 32;
        let Some(top) = self.bins.iter().rposition(|&b| b != 0) else {
            return 0.0;
        };
        // From the smallest unit up, in units of 2^-GUARD of the current bin's; no overflow
        // below 2^41 added values (each bin holds at most count·2^53).
        let mut acc = self.bins[0] << GUARD;
        for e in 1..=top {
            if e >= 2 {
                acc >>= 1;
            }
            acc += self.bins[e] << GUARD;
        }
        let k = top.max(1) as i32 - 1075 - GUARD as i32;
        acc as f64 * pow2(k / 2) * pow2(k - k / 2)
    }
}

/// (Biased exponent, signed integer mantissa) of a finite `x`: x = m·2^(max(e, 1) − 1075).
#[inline(always)]
fn split(x: f64) -> (usize, i128) {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as usize;
    let hidden = if e == 0 { 0 } else { 1u64 << 52 };
    let m = ((bits & ((1u64 << 52) - 1)) | hidden) as i128;
    (e, if bits >> 63 == 0 { m } else { -m })
}

/// 2^k for −1022 ≤ k ≤ 1023.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(values: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        for &v in values {
            s.add(v);
        }
        s.value()
    }

    #[test]
    fn sums_exactly_and_in_any_order() {
        assert_eq!(sum_of(&[]), 0.0);
        assert_eq!(sum_of(&[1.5, -0.25, 3.0]), 4.25);
        // Catastrophic cancellation that a float sum gets wrong (it returns 0).
        assert_eq!(sum_of(&[1e16, 1.0, -1e16]), 1.0);
        assert_eq!(sum_of(&[1e300, -1e300, 5e-324, 5e-324]), 1e-323);
        // Many values of mixed signs and magnitudes: the same bits for every order, and equal
        // to a compensated reference.
        let values: Vec<f64> = (0..100_000u64)
            .map(|i| {
                let u = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
                (u - 0.4) * 10f64.powi((i % 7) as i32 - 3)
            })
            .collect();
        let forward = sum_of(&values);
        let mut shuffled = values.clone();
        shuffled.reverse();
        shuffled.rotate_left(12_345);
        assert_eq!(forward.to_bits(), sum_of(&shuffled).to_bits());
        let (mut halves, mut second) = (ExactSum::default(), ExactSum::default());
        values[..500].iter().for_each(|&v| halves.add(v));
        values[500..].iter().for_each(|&v| second.add(v));
        halves.merge(&second);
        assert_eq!(halves.value().to_bits(), forward.to_bits());
        let (mut s, mut c) = (0.0f64, 0.0f64); // Neumaier
        for &v in &values {
            let t = s + v;
            c += if s.abs() >= v.abs() { (s - t) + v } else { (v - t) + s };
            s = t;
        }
        assert!(
            (forward - (s + c)).abs() <= 2.3e-16 * forward.abs(),
            "{forward} vs {}",
            s + c
        );
    }
}
