//! The aarch64 NEON register tile for [`super::sgemm`]: 8 x 8 (16 q-register
//! accumulators, fused multiply-adds like the x86 tiles).

use std::arch::aarch64::*;

/// Rows of the NEON tile.
pub const MR: usize = 8;
/// Columns of the NEON tile (two 4-lane vectors).
pub const NR: usize = 8;

/// The NEON microkernel (see `super::TileFn`).
///
/// # Safety
/// `a` holds `kc * 8` values, `b` holds `kc * 8`, and `c` addresses 8 rows
/// of 8 writable values `ldc` apart. (NEON is part of every aarch64 CPU.)
pub unsafe fn tile_neon(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    // SAFETY: forwarded contract.
    unsafe { tile_neon_impl(kc, a, b, c, ldc, first) }
}

#[target_feature(enable = "neon")]
unsafe fn tile_neon_impl(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    let mut acc0 = [vdupq_n_f32(0.0); MR];
    let mut acc1 = [vdupq_n_f32(0.0); MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        // SAFETY: each step reads 8 values of each strip, `kc` steps in all.
        unsafe {
            let b0 = vld1q_f32(b);
            let b1 = vld1q_f32(b.add(4));
            for r in 0..MR {
                let ar = vdupq_n_f32(a.add(r).read());
                acc0[r] = vfmaq_f32(acc0[r], ar, b0);
                acc1[r] = vfmaq_f32(acc1[r], ar, b1);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    for r in 0..MR {
        // SAFETY: row r of the tile: 8 writable values of C (contract).
        unsafe {
            let row = c.add(r * ldc);
            let (c0, c1) = if first {
                (vdupq_n_f32(0.0), vdupq_n_f32(0.0))
            } else {
                (vld1q_f32(row), vld1q_f32(row.add(4)))
            };
            vst1q_f32(row, vaddq_f32(c0, acc0[r]));
            vst1q_f32(row.add(4), vaddq_f32(c1, acc1[r]));
        }
    }
}
