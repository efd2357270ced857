//! Runtime selection of the widest SIMD instruction set for the hot loops.

/// Evaluates an `#[inline(always)]` call compiled for AVX-512 or AVX2 (each with FMA) when the
/// CPU has them.
///
/// The wider versions perform the very same IEEE operations as the portable one: Rust never
/// fuses a multiply and an add on its own, and the fused ones we ask for (`mul_add`) are
/// correctly rounded on every machine (an FMA instruction here, libm's exact `fma` elsewhere),
/// so every machine gets bit-identical results.
macro_rules! simd_dispatch {
    ($call:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,fma")]
            unsafe fn wide512<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn wide256<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            let fma = std::arch::is_x86_feature_detected!("fma");
            if fma && std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F and FMA (checked just above).
                unsafe { wide512(|| $call) }
            } else if fma && std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                unsafe { wide256(|| $call) }
            } else {
                $call
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $call
        }
    }};
}
