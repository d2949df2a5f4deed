//! x86-64 register tiles for [`super::sgemm`]: AVX-512 (14 x 32: 28 zmm
//! accumulators, two B vectors, A broadcast from memory) and AVX2+FMA
//! (6 x 16: 12 ymm accumulators).

use std::arch::x86_64::*;

/// Rows of the AVX-512 tile.
pub const AVX512_MR: usize = 14;
/// Columns of the AVX-512 tile (two 16-lane vectors).
pub const AVX512_NR: usize = 32;
/// Rows of the AVX2 tile.
pub const AVX2_MR: usize = 6;
/// Columns of the AVX2 tile (two 8-lane vectors).
pub const AVX2_NR: usize = 16;

/// The AVX-512 microkernel (see `super::TileFn`).
///
/// # Safety
/// The CPU must support AVX-512F; `a` holds `kc * 14` values, `b` holds
/// `kc * 32`, and `c` addresses 14 rows of 32 writable values `ldc` apart.
pub unsafe fn tile_avx512(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    // SAFETY: forwarded contract; AVX-512F presence is the caller's duty
    // (this kernel is only chosen when `cpu_capability()` detected it).
    unsafe { tile_avx512_impl(kc, a, b, c, ldc, first) }
}

#[target_feature(enable = "avx512f")]
unsafe fn tile_avx512_impl(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    const MR: usize = AVX512_MR;
    let mut acc0 = [_mm512_setzero_ps(); MR];
    let mut acc1 = [_mm512_setzero_ps(); MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        // SAFETY: each step reads 32 values of the B strip and 14 of the A
        // strip, `kc` steps in all (contract).
        unsafe {
            let b0 = _mm512_loadu_ps(b);
            let b1 = _mm512_loadu_ps(b.add(16));
            for r in 0..MR {
                let ar = _mm512_set1_ps(a.add(r).read());
                acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
                acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
            }
            a = a.add(MR);
            b = b.add(AVX512_NR);
        }
    }
    for r in 0..MR {
        // SAFETY: row r of the tile: 32 writable values of C (contract).
        unsafe {
            let row = c.add(r * ldc);
            let (c0, c1) = if first {
                (_mm512_setzero_ps(), _mm512_setzero_ps())
            } else {
                (_mm512_loadu_ps(row), _mm512_loadu_ps(row.add(16)))
            };
            _mm512_storeu_ps(row, _mm512_add_ps(c0, acc0[r]));
            _mm512_storeu_ps(row.add(16), _mm512_add_ps(c1, acc1[r]));
        }
    }
}

/// The AVX2+FMA microkernel (see `super::TileFn`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a` holds `kc * 6` values, `b` holds
/// `kc * 16`, and `c` addresses 6 rows of 16 writable values `ldc` apart.
pub unsafe fn tile_avx2(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    // SAFETY: forwarded contract; AVX2+FMA presence was detected by the caller.
    unsafe { tile_avx2_impl(kc, a, b, c, ldc, first) }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn tile_avx2_impl(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    const MR: usize = AVX2_MR;
    let mut acc0 = [_mm256_setzero_ps(); MR];
    let mut acc1 = [_mm256_setzero_ps(); MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        // SAFETY: each step reads 16 values of the B strip and 6 of the A
        // strip, `kc` steps in all (contract).
        unsafe {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for r in 0..MR {
                let ar = _mm256_broadcast_ss(&*a.add(r));
                acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
                acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
            }
            a = a.add(MR);
            b = b.add(AVX2_NR);
        }
    }
    for r in 0..MR {
        // SAFETY: row r of the tile: 16 writable values of C (contract).
        unsafe {
            let row = c.add(r * ldc);
            let (c0, c1) = if first {
                (_mm256_setzero_ps(), _mm256_setzero_ps())
            } else {
                (_mm256_loadu_ps(row), _mm256_loadu_ps(row.add(8)))
            };
            _mm256_storeu_ps(row, _mm256_add_ps(c0, acc0[r]));
            _mm256_storeu_ps(row.add(8), _mm256_add_ps(c1, acc1[r]));
        }
    }
}
