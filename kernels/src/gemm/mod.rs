//! A packed, cache-blocked, parallel float32 GEMM: `C = A * B` for strided
//! `A` (m x k) and `B` (k x n) into a row-major `C` (m x n).
//!
//! # Blocking
//! `C` is cut into blocks of `mc x nc` elements (sizes chosen from `m`, `n`
//! and the register tile only); every block is one parallel task. A task
//! walks the depth in slices of [`KC`]: it packs `B[p0..p0+kc, j0..j0+nc]`
//! into strips of `NR` columns (an L2-sized panel) and `A[i0..i0+mc,
//! p0..p0+kc]` into strips of `MR` rows, then runs the `MR x NR` register
//! tile (the "microkernel") over every strip pair.
//!
//! # Summation order (the determinism contract)
//! Every element `C[i][j]` is computed the same way whatever the tile shape,
//! the block sizes, the thread count or the CPU level:
//! for each depth slice `s = [p0, p0 + KC)` in increasing order, a partial
//! `t_s = ((a[p0] b[p0] + a[p0+1] b[p0+1]) + ...)` is accumulated from 0 in
//! increasing `p`, then `C = (((0 + t_0) + t_1) + ...)`. The vector levels
//! (AVX2+FMA, AVX-512, NEON) fuse each multiply-add; the scalar level
//! rounds the product first, so its bits may differ from theirs (within
//! normal float32 matmul error), while all vector levels agree exactly.

use crate::cpu::{cpu_capability, Capability};
use ft_runtime::parallel;
use std::cell::RefCell;

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;

/// Depth of one packed slice (fixed: it is part of the summation order).
pub const KC: usize = 256;
/// Largest number of columns of `C` per task (a `KC x NC` f32 panel of B
/// is 512 KiB: it stays in a Zen 4 core's 1 MiB L2).
const NC: usize = 512;
/// Register-tile rows per task block at most (`MC = MC_TILES * MR`).
const MC_TILES: usize = 8;
/// Tasks wanted for large products (enough to balance 2-8 threads).
const MAX_TASKS: usize = 16;
/// Multiply-adds per task wanted for small products.
const TASK_FLOPS: usize = 1 << 20;
/// Below this many multiply-adds a product runs as one task (no threads).
const SERIAL_FLOPS: usize = 1 << 18;

/// A strided read-only matrix: element `(i, j)` is at `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct MatRef {
    /// Address of element (0, 0).
    pub ptr: *const f32,
    /// Row stride in elements.
    pub rs: usize,
    /// Column stride in elements.
    pub cs: usize,
}

// SAFETY: a MatRef is only built over memory the caller keeps alive and does
// not write during the product (see `sgemm`'s contract); reading it from
// several threads at once is then sound.
unsafe impl Send for MatRef {}
// SAFETY: as for Send: shared reads only.
unsafe impl Sync for MatRef {}

/// The row-major output matrix (row stride `ldc`), written by disjoint
/// blocks from several threads.
#[derive(Clone, Copy)]
struct OutPtr {
    ptr: *mut f32,
    ldc: usize,
}

// SAFETY: every task writes a disjoint block of C (see `sgemm`), so sharing
// the base pointer across threads creates no data race.
unsafe impl Send for OutPtr {}
// SAFETY: as for Send.
unsafe impl Sync for OutPtr {}

/// A register-tile kernel: `tile(kc, a_strip, b_strip, c, ldc, first)` adds
/// (or, when `first`, stores `0 + `) the `MR x NR` product of a packed A
/// strip (`kc` steps of `MR` values) and a packed B strip (`kc` steps of
/// `NR` values) into `c`, whose rows are `ldc` apart.
type TileFn = unsafe fn(usize, *const f32, *const f32, *mut f32, usize, bool);

/// One CPU level's microkernel and its tile shape.
#[derive(Clone, Copy)]
struct Kernel {
    mr: usize,
    nr: usize,
    tile: TileFn,
}

/// The microkernel for `cap` (falling back to the portable one).
fn kernel_for(cap: Capability) -> Kernel {
    match cap {
        #[cfg(target_arch = "x86_64")]
        Capability::Avx512 => Kernel {
            mr: x86::AVX512_MR,
            nr: x86::AVX512_NR,
            tile: x86::tile_avx512,
        },
        #[cfg(target_arch = "x86_64")]
        Capability::Avx2Fma => Kernel {
            mr: x86::AVX2_MR,
            nr: x86::AVX2_NR,
            tile: x86::tile_avx2,
        },
        #[cfg(target_arch = "aarch64")]
        Capability::Neon => Kernel {
            mr: neon::MR,
            nr: neon::NR,
            tile: neon::tile_neon,
        },
        _ => Kernel {
            mr: SCALAR_MR,
            nr: SCALAR_NR,
            tile: tile_scalar,
        },
    }
}

/// Tile shape of the portable kernel.
const SCALAR_MR: usize = 4;
const SCALAR_NR: usize = 16;

/// The portable microkernel (unfused multiply then add).
///
/// # Safety
/// `a` holds `kc * SCALAR_MR` values, `b` holds `kc * SCALAR_NR`, and `c`
/// addresses `SCALAR_MR` rows of `SCALAR_NR` writable values `ldc` apart.
unsafe fn tile_scalar(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, first: bool) {
    // SAFETY: the packed strips have exactly these lengths (caller contract).
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, kc * SCALAR_MR),
            std::slice::from_raw_parts(b, kc * SCALAR_NR),
        )
    };
    let mut acc = [[0.0f32; SCALAR_NR]; SCALAR_MR];
    for (av, bv) in a.chunks_exact(SCALAR_MR).zip(b.chunks_exact(SCALAR_NR)) {
        for (row, &ai) in acc.iter_mut().zip(av) {
            for (x, &bj) in row.iter_mut().zip(bv) {
                *x += ai * bj;
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        // SAFETY: row r of the tile lies in C (caller contract).
        let crow = unsafe { std::slice::from_raw_parts_mut(c.add(r * ldc), SCALAR_NR) };
        for (dst, &v) in crow.iter_mut().zip(row) {
            *dst = if first { 0.0 + v } else { *dst + v };
        }
    }
}

/// Per-thread packing buffers, reused across calls (packing panels are a
/// few hundred KiB: allocating them per task would fault in fresh pages).
struct PackBufs {
    a: Vec<f32>,
    b: Vec<f32>,
    /// An `MR x NR` scratch tile for edge tiles.
    edge: Vec<f32>,
}

thread_local! {
    static BUFS: RefCell<PackBufs> = const {
        RefCell::new(PackBufs { a: Vec::new(), b: Vec::new(), edge: Vec::new() })
    };
}

/// A 64-byte aligned window of `len` values inside `v` (grown as needed).
fn aligned(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len + 16 {
        v.resize(len + 16, 0.0);
    }
    let off = v.as_ptr().align_offset(64).min(16);
    &mut v[off..off + len]
}

/// Packs rows `0..mc` (zero-padded to a multiple of `mr`) and depths
/// `0..kc` of `a` into strips: `dst[strip][p][r]`.
///
/// # Safety
/// Every element `(i, p)`, `i < mc`, `p < kc` of `a` must be readable.
unsafe fn pack_a(a: MatRef, mc: usize, kc: usize, mr: usize, dst: &mut [f32]) {
    for (s, strip) in dst.chunks_exact_mut(kc * mr).enumerate() {
        let rows = mr.min(mc - s * mr);
        for r in 0..mr {
            if r >= rows {
                for p in 0..kc {
                    strip[p * mr + r] = 0.0;
                }
                continue;
            }
            // SAFETY: row s*mr + r < mc and every depth p < kc are readable.
            let row = unsafe { a.ptr.add((s * mr + r) * a.rs) };
            for p in 0..kc {
                // SAFETY: as above.
                strip[p * mr + r] = unsafe { row.add(p * a.cs).read() };
            }
        }
    }
}

/// Packs depths `0..kc` and columns `0..nc` (zero-padded to a multiple of
/// `nr`) of `b` into strips: `dst[strip][p][c]`.
///
/// # Safety
/// Every element `(p, j)`, `p < kc`, `j < nc` of `b` must be readable.
unsafe fn pack_b(b: MatRef, kc: usize, nc: usize, nr: usize, dst: &mut [f32]) {
    for (s, strip) in dst.chunks_exact_mut(kc * nr).enumerate() {
        let cols = nr.min(nc - s * nr);
        for (p, out) in strip.chunks_exact_mut(nr).enumerate() {
            // SAFETY: depth p < kc and columns s*nr .. s*nr + cols are readable.
            let src = unsafe { b.ptr.add(p * b.rs + s * nr * b.cs) };
            if b.cs == 1 {
                // SAFETY: `cols` consecutive readable values (cs == 1).
                out[..cols].copy_from_slice(unsafe { std::slice::from_raw_parts(src, cols) });
            } else {
                for (j, o) in out[..cols].iter_mut().enumerate() {
                    // SAFETY: column s*nr + j < nc is readable.
                    *o = unsafe { src.add(j * b.cs).read() };
                }
            }
            out[cols..].fill(0.0);
        }
    }
}

/// The task grid for an `m x k x n` product with an `mr x nr` tile: block
/// sizes `(mc, nc)` depending on the sizes and the tile only. Small products
/// get fewer tasks (about one per [`TASK_FLOPS`] multiply-adds, at most
/// [`MAX_TASKS`] wanted), so that thread start-up does not dominate.
fn blocks(m: usize, k: usize, n: usize, mr: usize, nr: usize) -> (usize, usize) {
    let nc = NC.min(n.div_ceil(nr) * nr);
    let col_blocks = n.div_ceil(nc);
    let flops = m.saturating_mul(k).saturating_mul(n);
    let want_tasks = (flops / TASK_FLOPS).clamp(1, MAX_TASKS);
    let want_rows = want_tasks.div_ceil(col_blocks);
    let mc = (m.div_ceil(want_rows).div_ceil(mr) * mr).clamp(mr, MC_TILES * mr);
    (mc, nc)
}

/// `C = A * B` (`A` m x k, `B` k x n, `C` m x n row-major with row stride
/// `ldc`), on the CPU level of [`cpu_capability`]. `C`'s previous contents
/// are ignored (overwritten).
///
/// # Safety
/// Every element of `a` and `b` must be readable for the whole call and not
/// written by anyone meanwhile; `c` must address `m` rows of `n` writable
/// values, `ldc >= n` apart, that nothing else reads or writes during the
/// call and that do not overlap `a` or `b`.
pub unsafe fn sgemm(m: usize, k: usize, n: usize, a: MatRef, b: MatRef, c: *mut f32, ldc: usize) {
    // SAFETY: forwarded caller contract.
    unsafe { sgemm_with(cpu_capability(), m, k, n, a, b, c, ldc) }
}

/// [`sgemm`] on an explicit CPU level (tests compare the levels).
///
/// # Safety
/// As [`sgemm`]; `cap` must be one of [`Capability::available`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm_with(
    cap: Capability,
    m: usize,
    k: usize,
    n: usize,
    a: MatRef,
    b: MatRef,
    c: *mut f32,
    ldc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let out = OutPtr { ptr: c, ldc };
    if k == 0 {
        for i in 0..m {
            // SAFETY: row i of C is writable (caller contract).
            unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), n) }.fill(0.0);
        }
        return;
    }
    let kern = kernel_for(cap);
    let (mc, nc) = blocks(m, k, n, kern.mr, kern.nr);
    let (row_blocks, col_blocks) = (m.div_ceil(mc), n.div_ceil(nc));
    let tasks = row_blocks * col_blocks;
    let grain = if m.saturating_mul(n).saturating_mul(k) < SERIAL_FLOPS {
        tasks
    } else {
        1
    };
    parallel::for_each_chunk(tasks, grain, |range| {
        for t in range {
            let (i0, j0) = ((t / col_blocks) * mc, (t % col_blocks) * nc);
            let (mcur, ncur) = (mc.min(m - i0), nc.min(n - j0));
            // SAFETY: the block lies inside A, B and C (caller contract) and
            // tasks write disjoint blocks of C.
            unsafe { block(kern, k, a, b, out, i0, j0, mcur, ncur) };
        }
    });
}

/// Computes the `mc x nc` block of C at `(i0, j0)` over the full depth.
///
/// # Safety
/// As [`sgemm_with`], for the rows `i0..i0+mc` and columns `j0..j0+nc`.
#[allow(clippy::too_many_arguments)]
unsafe fn block(kern: Kernel, k: usize, a: MatRef, b: MatRef, c: OutPtr, i0: usize, j0: usize, mc: usize, nc: usize) {
    let Kernel { mr, nr, tile } = kern;
    let (a_strips, b_strips) = (mc.div_ceil(mr), nc.div_ceil(nr));
    BUFS.with(|bufs| {
        let bufs = &mut *bufs.borrow_mut();
        let mut p0 = 0;
        while p0 < k {
            let kc = KC.min(k - p0);
            let ap = aligned(&mut bufs.a, a_strips * mr * kc);
            let bp = aligned(&mut bufs.b, b_strips * nr * kc);
            let edge = aligned(&mut bufs.edge, mr * nr);
            // SAFETY: the sub-matrices start inside A and B and the packed
            // ranges are inside them (caller contract).
            unsafe {
                let asub = MatRef {
                    ptr: a.ptr.add(i0 * a.rs + p0 * a.cs),
                    ..a
                };
                let bsub = MatRef {
                    ptr: b.ptr.add(p0 * b.rs + j0 * b.cs),
                    ..b
                };
                pack_a(asub, mc, kc, mr, ap);
                pack_b(bsub, kc, nc, nr, bp);
            }
            let first = p0 == 0;
            for (si, astrip) in ap.chunks_exact(kc * mr).enumerate() {
                let rows = mr.min(mc - si * mr);
                for (sj, bstrip) in bp.chunks_exact(kc * nr).enumerate() {
                    let cols = nr.min(nc - sj * nr);
                    // SAFETY: (i0 + si*mr, j0 + sj*nr) is inside this task's
                    // block of C.
                    let cptr = unsafe { c.ptr.add((i0 + si * mr) * c.ldc + j0 + sj * nr) };
                    if rows == mr && cols == nr {
                        // SAFETY: a full tile: mr rows of nr values in C.
                        unsafe { tile(kc, astrip.as_ptr(), bstrip.as_ptr(), cptr, c.ldc, first) };
                    } else {
                        edge_tile(tile, kc, astrip, bstrip, edge, nr, cptr, c.ldc, rows, cols, first);
                    }
                }
            }
            p0 += kc;
        }
    });
}

/// A partial tile: computed into `edge` (as a first slice), then added to
/// (or stored into) the valid `rows x cols` corner of C with the same
/// rounding as the full-tile path.
#[allow(clippy::too_many_arguments)]
fn edge_tile(
    tile: TileFn,
    kc: usize,
    astrip: &[f32],
    bstrip: &[f32],
    edge: &mut [f32],
    nr: usize,
    c: *mut f32,
    ldc: usize,
    rows: usize,
    cols: usize,
    first: bool,
) {
    // SAFETY: the strips hold kc*mr and kc*nr values; `edge` holds mr rows
    // of nr values.
    unsafe { tile(kc, astrip.as_ptr(), bstrip.as_ptr(), edge.as_mut_ptr(), nr, true) };
    for r in 0..rows {
        // SAFETY: row r < rows of the tile is inside C, `cols` values long.
        let crow = unsafe { std::slice::from_raw_parts_mut(c.add(r * ldc), cols) };
        for (dst, &v) in crow.iter_mut().zip(&edge[r * nr..r * nr + cols]) {
            // `edge` already holds 0 + t: adding it to 0 again changes nothing.
            *dst = if first { v } else { *dst + v };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    /// C with the documented order, the products fused or not.
    fn reference(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], fused: bool) -> Vec<f32> {
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut total = 0.0f32;
                for p0 in (0..k).step_by(KC) {
                    let mut t = 0.0f32;
                    for p in p0..(p0 + KC).min(k) {
                        t = if fused {
                            a[i * k + p].mul_add(b[p * n + j], t)
                        } else {
                            t + a[i * k + p] * b[p * n + j]
                        };
                    }
                    total += t;
                }
                c[i * n + j] = total;
            }
        }
        c
    }

    fn run(cap: Capability, m: usize, k: usize, n: usize, a: &[f32], b: &[f32], transposed_b: bool) -> Vec<f32> {
        let mut c = vec![f32::NAN; m * n];
        let bt: Vec<f32>;
        let bref = if transposed_b {
            bt = (0..n * k).map(|x| b[(x % k) * n + x / k]).collect();
            MatRef {
                ptr: bt.as_ptr(),
                rs: 1,
                cs: k,
            }
        } else {
            MatRef {
                ptr: b.as_ptr(),
                rs: n,
                cs: 1,
            }
        };
        let aref = MatRef {
            ptr: a.as_ptr(),
            rs: k,
            cs: 1,
        };
        // SAFETY: the vectors outlive the call and have the stated shapes.
        unsafe { sgemm_with(cap, m, k, n, aref, bref, c.as_mut_ptr(), n) };
        c
    }

    #[test]
    fn every_level_follows_the_documented_order() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (14, 256, 32),
            (29, 600, 70),
            (100, 513, 33),
            (5, 1000, 1100),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            for cap in Capability::available() {
                let fused = cap != Capability::Scalar;
                let want = reference(m, k, n, &a, &b, fused);
                for transposed in [false, true] {
                    let got = run(cap, m, k, n, &a, &b, transposed);
                    assert!(
                        got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{cap:?} {m}x{k}x{n} transposed {transposed}"
                    );
                }
            }
        }
    }

    #[test]
    fn thread_counts_give_identical_bits() {
        let (m, k, n) = (300, 700, 260);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let cap = cpu_capability();
        let one = parallel::with_threads(1, || run(cap, m, k, n, &a, &b, false));
        let three = parallel::with_threads(3, || run(cap, m, k, n, &a, &b, false));
        assert_eq!(one, three);
    }

    #[test]
    fn blocks_cover_small_and_large_products() {
        assert_eq!(blocks(1, 1, 1, 14, 32), (14, 32));
        assert_eq!(blocks(2048, 2048, 2048, 14, 32), (112, 512));
        // 512: one column block, 13 row blocks of 42 rows
        assert_eq!(blocks(512, 512, 512, 14, 32), (42, 512));
        // 128: two tasks of about half the rows
        assert_eq!(blocks(128, 128, 128, 14, 32), (70, 128));
    }
}
