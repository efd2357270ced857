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
pub fn sum_and_sum_of_squares(parts: &[&[f64]]) -> (f64, f64) {
    let max = parts.iter().flat_map(|p| p.iter()).fold(0.0f64, |m, &x| m.max(x.abs()));
    if max == 0.0 {
        return (0.0, 0.0);
    }
    // max < 2^(e + 1), so |x|·2^(49 − e) < 2^50 and x²·2^(47 − 2e) < 2^49.
    let e = ((max.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let (s, t) = ((49 - e).clamp(-1000, 1000), (47 - 2 * e).clamp(-1000, 1000));
    let (scale, scale_sq) = (pow2(s), pow2(t));
    let (mut sum, mut sum_sq) = (0i128, 0i128);
    for part in parts {
        // Terms below 2^50 in i64: blocks of 4096 cannot overflow.
        for block in part.chunks(4096) {
            let (mut a, mut b) = (0i64, 0i64);
            for &x in block {
                a += to_integer(x * scale);
                b += to_integer(x * x * scale_sq);
            }
            sum += a as i128;
            sum_sq += b as i128;
        }
    }
    (sum as f64 * pow2(-s), sum_sq as f64 * pow2(-t))
}

/// Rounds |y| < 2^51 to the nearest integer (ties to even), branch-free so that loops vectorise:
/// adding 1.5·2^52 leaves the integer in the low mantissa bits.
#[inline(always)]
fn to_integer(y: f64) -> i64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    (y + MAGIC).to_bits() as i64 - MAGIC.to_bits() as i64
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
        // Tiny and huge magnitudes scale too.
        let (s, q) = sum_and_sum_of_squares(&[&[3e-200, -1e-200]]);
        assert!((s / 2e-200 - 1.0).abs() < 1e-15 && q == 0.0); // the squares underflow f64
        let (s, q) = sum_and_sum_of_squares(&[&[3e150, -1e150]]);
        assert!((s / 2e150 - 1.0).abs() < 1e-15 && (q / 1e301 - 1.0).abs() < 1e-15);
    }
}
