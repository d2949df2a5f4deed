//! Vector loops over contiguous float32 slices, dispatched on
//! [`crate::cpu::cpu_capability`] (explicit-level variants for tests).
//!
//! Every element goes through the same vector code whatever its position
//! (the tail is handled with a masked or padded vector, never a scalar
//! fallback), so the result of an element does not depend on how a loop
//! was cut into chunks.

use crate::cpu::{cpu_capability, Capability};

pub(crate) mod exp;

/// `dst[i] = e^src[i]` for float32 on the process's SIMD level (at most
/// 1 ulp from the exact value on vector levels; the platform `exp` on the
/// scalar level).
///
/// ```
/// let src = [0.0f32, 1.0, -1.0, f32::INFINITY, f32::NEG_INFINITY];
/// let mut dst = [0.0f32; 5];
/// ft_kernels::simd::exp_f32(&src, &mut dst);
/// assert_eq!(dst[0], 1.0);
/// assert!((dst[1] - std::f32::consts::E).abs() <= f32::EPSILON * 3.0);
/// assert_eq!((dst[3], dst[4]), (f32::INFINITY, 0.0));
/// ```
///
/// # Panics
/// If the slices differ in length.
pub fn exp_f32(src: &[f32], dst: &mut [f32]) {
    exp_f32_with(cpu_capability(), src, dst)
}

/// [`exp_f32`] in place.
///
/// ```
/// let mut v = [0.0f32, 2.0];
/// ft_kernels::simd::exp_f32_inplace(&mut v);
/// assert_eq!(v[0], 1.0);
/// ```
pub fn exp_f32_inplace(values: &mut [f32]) {
    exp_f32_inplace_with(cpu_capability(), values)
}

/// [`exp_f32_inplace`] on an explicit level (which must be available).
pub(crate) fn exp_f32_inplace_with(cap: Capability, values: &mut [f32]) {
    let n = values.len();
    let p = values.as_mut_ptr();
    // SAFETY: `p` addresses `n` initialised, writable values; the kernels
    // read each vector before writing it back, so src == dst is allowed.
    unsafe { exp_raw(cap, p, p, n) }
}

/// [`exp_f32`] on an explicit level (which must be available).
pub(crate) fn exp_f32_with(cap: Capability, src: &[f32], dst: &mut [f32]) {
    assert_eq!(src.len(), dst.len(), "exp_f32: slices differ in length");
    // SAFETY: both slices hold `len` values and cannot overlap (one is &mut).
    unsafe { exp_raw(cap, src.as_ptr(), dst.as_mut_ptr(), src.len()) }
}

/// # Safety
/// `src` must address `n` readable values and `dst` `n` writable ones; they
/// may be the same range but must not otherwise overlap. `cap` must be
/// available on this CPU.
unsafe fn exp_raw(cap: Capability, src: *const f32, dst: *mut f32, n: usize) {
    match cap {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected (caller contract); pointers as above.
        Capability::Avx512 => unsafe { x86::exp_avx512(src, dst, n) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Capability::Avx2Fma => unsafe { x86::exp_avx2(src, dst, n) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as above.
        Capability::Neon => unsafe { neon::exp_neon(src, dst, n) },
        _ => {
            for i in 0..n {
                // SAFETY: i < n on both ranges; read before write.
                unsafe { dst.add(i).write(src.add(i).read().exp()) };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::exp::x86::{exp16, exp8};
    use std::arch::x86_64::*;

    /// # Safety
    /// AVX-512F present; `src`/`dst` as in `super::exp_raw`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn exp_avx512(src: *const f32, dst: *mut f32, n: usize) {
        let mut i = 0;
        while i + 16 <= n {
            // SAFETY: lanes i..i+16 are inside both ranges.
            unsafe { _mm512_storeu_ps(dst.add(i), exp16(_mm512_loadu_ps(src.add(i)))) };
            i += 16;
        }
        if i < n {
            let mask: __mmask16 = (1u32 << (n - i)) as u16 - 1;
            // SAFETY: masked-off lanes are neither read nor written (no
            // fault either); the active ones are inside both ranges.
            unsafe {
                let v = _mm512_maskz_loadu_ps(mask, src.add(i));
                _mm512_mask_storeu_ps(dst.add(i), mask, exp16(v));
            }
        }
    }

    /// # Safety
    /// AVX2 and FMA present; `src`/`dst` as in `super::exp_raw`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_avx2(src: *const f32, dst: *mut f32, n: usize) {
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: lanes i..i+8 are inside both ranges.
            unsafe { _mm256_storeu_ps(dst.add(i), exp8(_mm256_loadu_ps(src.add(i)))) };
            i += 8;
        }
        if i < n {
            let mut buf = [0.0f32; 8];
            // SAFETY: n - i < 8 values remain in both ranges; `buf` holds 8.
            unsafe {
                std::ptr::copy_nonoverlapping(src.add(i), buf.as_mut_ptr(), n - i);
                _mm256_storeu_ps(buf.as_mut_ptr(), exp8(_mm256_loadu_ps(buf.as_ptr())));
                std::ptr::copy_nonoverlapping(buf.as_ptr(), dst.add(i), n - i);
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use super::exp::neon::exp4;
    use std::arch::aarch64::*;

    /// # Safety
    /// `src`/`dst` as in `super::exp_raw`.
    #[target_feature(enable = "neon")]
    pub unsafe fn exp_neon(src: *const f32, dst: *mut f32, n: usize) {
        let mut i = 0;
        while i + 4 <= n {
            // SAFETY: lanes i..i+4 are inside both ranges.
            unsafe { vst1q_f32(dst.add(i), exp4(vld1q_f32(src.add(i)))) };
            i += 4;
        }
        if i < n {
            let mut buf = [0.0f32; 4];
            // SAFETY: n - i < 4 values remain in both ranges; `buf` holds 4.
            unsafe {
                std::ptr::copy_nonoverlapping(src.add(i), buf.as_mut_ptr(), n - i);
                vst1q_f32(buf.as_mut_ptr(), exp4(vld1q_f32(buf.as_ptr())));
                std::ptr::copy_nonoverlapping(buf.as_ptr(), dst.add(i), n - i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite-or-inf floats.
    fn ulps(a: f32, b: f32) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        let key = |v: f32| {
            let bits = v.to_bits() as i64;
            if bits < 0 {
                i64::from(i32::MIN) - bits
            } else {
                bits
            }
        };
        (key(a) - key(b)).unsigned_abs()
    }

    fn exact(x: f32) -> f32 {
        (x as f64).exp() as f32
    }

    #[test]
    fn vector_exp_is_within_one_ulp_over_a_dense_sweep() {
        // every 61st float between -104 and 89 (about 17 million values)
        let mut xs = Vec::new();
        let (lo, hi) = ((-104.0f32).to_bits(), 89.0f32.to_bits());
        let mut b = lo;
        while b > 61 {
            xs.push(f32::from_bits(b));
            b -= 61;
        }
        let mut b = 0u32;
        while b <= hi {
            xs.push(f32::from_bits(b));
            b += 61;
        }
        let mut out = vec![0.0f32; xs.len()];
        for cap in Capability::available() {
            if cap == Capability::Scalar {
                continue;
            }
            exp_f32_with(cap, &xs, &mut out);
            let worst = xs.iter().zip(&out).map(|(&x, &y)| ulps(y, exact(x))).max();
            assert!(worst <= Some(1), "{cap:?}: worst error {worst:?} ulp");
        }
    }

    #[test]
    fn special_values() {
        let xs = [
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            88.72283,
            88.72284,
            89.5,
            1e30,
            -87.33655,
            -100.0,
            -103.27893,
            -103.97208,
            -104.5,
            -1e30,
            f32::MAX,
            f32::MIN,
        ];
        for cap in Capability::available() {
            let mut out = vec![0.0f32; xs.len()];
            exp_f32_with(cap, &xs, &mut out);
            for (&x, &y) in xs.iter().zip(&out) {
                let want = exact(x);
                assert!(ulps(y, want) <= 1, "{cap:?}: exp({x}) = {y}, want {want}");
                assert_eq!(y.is_nan(), x.is_nan());
                assert_eq!(y.is_infinite(), want.is_infinite(), "{cap:?} exp({x})");
            }
        }
    }

    #[test]
    fn levels_agree_and_tails_match_full_vectors() {
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.173).collect();
        let caps = Capability::available();
        let mut want = vec![0.0f32; xs.len()];
        exp_f32_with(Capability::Scalar, &xs, &mut want);
        let mut first_vector: Option<Vec<f32>> = None;
        for &cap in &caps {
            let mut full = vec![0.0f32; xs.len()];
            exp_f32_with(cap, &xs, &mut full);
            assert!(full.iter().zip(&want).all(|(a, b)| ulps(*a, *b) <= 2), "{cap:?}");
            for start in [1usize, 7, 13, 999] {
                let mut part = vec![0.0f32; xs.len() - start];
                exp_f32_with(cap, &xs[start..], &mut part);
                assert_eq!(part, full[start..], "{cap:?} offset {start}");
            }
            if cap != Capability::Scalar {
                match &first_vector {
                    None => first_vector = Some(full),
                    Some(v) => assert_eq!(v, &full, "{cap:?} differs from another vector level"),
                }
            }
        }
        let mut inplace = xs.clone();
        exp_f32_inplace(&mut inplace);
        let mut direct = vec![0.0f32; xs.len()];
        exp_f32(&xs, &mut direct);
        assert_eq!(inplace, direct);
    }
}
