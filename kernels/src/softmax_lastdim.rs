//! Softmax and log-softmax of contiguous float32 rows (the last dim), one
//! row at a time: max, shifted `exp` with a 16-lane float64 sum, then the
//! scale.
//! Rows run in parallel in chunks of a fixed number of rows.
//!
//! Each row's result depends on that row only, and the lane sum has a fixed
//! order, so results do not depend on the thread count. The exact steps
//! (max, subtract, lane sums, division) give the same bits on every CPU
//! level (they are the same scalar operations, compiled with wider
//! vectors); `exp` is [`crate::simd::exp_f32`]'s.

use crate::cpu::{cpu_capability, Capability};
use crate::iter;
use ft_runtime::{parallel, DType, Result, StorageAccess, Tensor};

/// Lanes of the running max and sum.
const LANES: usize = 16;
/// Elements per parallel chunk (rows are grouped to about this many).
const GRAIN: usize = 1 << 15;

/// Softmax (or log-softmax when `log`) of one row: `dst = exp(x - m) / s`
/// or `dst = (x - m) - ln s`, with `m` the row's max (0 when it is
/// infinite) and `s = sum exp(x - m)`; a row holding NaN gives NaN.
///
/// ```
/// let mut out = [0.0f32; 2];
/// ft_kernels::softmax_lastdim::softmax_row_f32(&[0.0, 0.0], &mut out, false);
/// assert_eq!(out, [0.5, 0.5]);
/// ft_kernels::softmax_lastdim::softmax_row_f32(&[1.0, 1.0], &mut out, true);
/// assert_eq!(out, [-std::f32::consts::LN_2; 2]);
/// ```
///
/// # Panics
/// If the slices differ in length.
pub fn softmax_row_f32(src: &[f32], dst: &mut [f32], log: bool) {
    assert_eq!(src.len(), dst.len(), "softmax_row_f32: slices differ in length");
    row_on(cpu_capability(), src, dst, log);
}

/// [`softmax_row_f32`] on an explicit (available) level.
fn row_on(cap: Capability, src: &[f32], dst: &mut [f32], log: bool) {
    match cap {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected on this CPU (caller contract).
        Capability::Avx512 => unsafe { row_avx512(src, dst, log) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Capability::Avx2Fma => unsafe { row_avx2(src, dst, log) },
        _ => row(cap, src, dst, log),
    }
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_avx512(src: &[f32], dst: &mut [f32], log: bool) {
    row(Capability::Avx512, src, dst, log)
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_avx2(src: &[f32], dst: &mut [f32], log: bool) {
    row(Capability::Avx2Fma, src, dst, log)
}

/// The row algorithm (inlined into each level's wrapper so that its plain
/// loops are compiled with that level's vectors).
#[inline(always)]
fn row(cap: Capability, x: &[f32], o: &mut [f32], log: bool) {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut nan = false;
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            nan |= v.is_nan();
            *m = if v > *m { v } else { *m };
        }
    }
    for (m, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        nan |= v.is_nan();
        *m = if v > *m { v } else { *m };
    }
    if nan {
        o.fill(f32::NAN);
        return;
    }
    let max = lanes.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    // An infinite maximum would make every `x - max` NaN or -inf: shift by 0.
    let shift = if max.is_finite() { max } else { 0.0 };
    for (d, &v) in o.iter_mut().zip(x) {
        *d = v - shift;
    }
    crate::simd::exp_f32_inplace_with(cap, o);
    let sum = lane_sum(o);
    if log {
        let log_sum = sum.ln() as f32;
        for (d, &v) in o.iter_mut().zip(x) {
            *d = (v - shift) - log_sum;
        }
    } else {
        let sum = sum as f32;
        for d in o.iter_mut() {
            *d /= sum;
        }
    }
}

/// Sum in float64 (the sum feeds a logarithm or a division of every
/// element, so its error matters more than one element's), in [`LANES`]
/// interleaved partial sums (the tail into the first lanes), combined by a
/// fixed halving tree.
#[inline(always)]
fn lane_sum(v: &[f32]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for (s, &x) in lanes.iter_mut().zip(c) {
            *s += x as f64;
        }
    }
    for (s, &x) in lanes.iter_mut().zip(chunks.remainder()) {
        *s += x as f64;
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] += lanes[i + width];
        }
    }
    lanes[0]
}

/// Softmax or log-softmax over the last dim of a contiguous, non-empty
/// float32 tensor `x` (rows of length `x.sizes().last()`, at least 1), as a
/// new contiguous tensor.
pub(crate) fn softmax_lastdim(op: &str, x: &Tensor, log: bool) -> Result<Tensor> {
    debug_assert!(x.dtype() == DType::F32 && x.is_contiguous());
    let len = x.sizes().last().copied().unwrap_or(1);
    let rows = x.numel() / len;
    let out = iter::empty_contiguous(op, x.sizes(), DType::F32)?;
    let cap = cpu_capability();
    {
        let access = StorageAccess::lock(&[x.storage()], &[out.storage()]);
        let src = SharedRows(access.base_ptr(x.storage()) as *const f32, x.storage_offset());
        let dst = SharedRows(access.base_ptr_mut(out.storage()) as *const f32, out.storage_offset());
        parallel::for_each_chunk(rows, (GRAIN / len).max(1), |r| {
            for i in r {
                // SAFETY: `access` read-locks x and write-locks the new output
                // (another storage) until the loop ends; row i of each is
                // `len` contiguous elements inside its tensor, and chunks
                // write disjoint rows.
                let (a, o) = unsafe {
                    (
                        std::slice::from_raw_parts(src.row(i, len), len),
                        std::slice::from_raw_parts_mut(dst.row(i, len) as *mut f32, len),
                    )
                };
                row_on(cap, a, o, log);
            }
        });
    }
    Ok(out)
}

/// A locked storage's base pointer and a tensor's offset, shared by the
/// parallel row chunks.
#[derive(Clone, Copy)]
struct SharedRows(*const f32, usize);

// SAFETY: used only while the owning StorageAccess holds the locks, with
// chunks touching disjoint rows of the output (see `softmax_lastdim`).
unsafe impl Send for SharedRows {}
// SAFETY: as for Send.
unsafe impl Sync for SharedRows {}

impl SharedRows {
    /// Address of row `i` (rows of `len` elements).
    ///
    /// # Safety
    /// Row `i` must lie inside the tensor.
    unsafe fn row(&self, i: usize, len: usize) -> *const f32 {
        // SAFETY: caller contract.
        unsafe { self.0.add(self.1 + i * len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], log: bool) -> Vec<f64> {
        let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        let s: f64 = x.iter().map(|&v| (v as f64 - m).exp()).sum();
        x.iter()
            .map(|&v| {
                if log {
                    v as f64 - m - s.ln()
                } else {
                    (v as f64 - m).exp() / s
                }
            })
            .collect()
    }

    #[test]
    fn rows_match_f64_on_every_level() {
        for len in [1usize, 5, 16, 17, 100, 4099] {
            let x: Vec<f32> = (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.21).collect();
            for log in [false, true] {
                let want = reference(&x, log);
                let mut bits: Option<Vec<f32>> = None;
                for cap in Capability::available() {
                    let mut o = vec![0.0f32; len];
                    row_on(cap, &x, &mut o, log);
                    for (g, w) in o.iter().zip(&want) {
                        assert!(
                            ((*g as f64) - w).abs() <= 1e-6 * (1.0 + w.abs()),
                            "{cap:?} {len} {log}: {g} vs {w}"
                        );
                    }
                    if cap != Capability::Scalar {
                        match &bits {
                            None => bits = Some(o),
                            Some(b) => assert_eq!(b, &o, "{cap:?}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn special_rows() {
        let mut o = [0.0f32; 3];
        for cap in Capability::available() {
            row_on(cap, &[1.0, f32::NAN, 2.0], &mut o, false);
            assert!(o.iter().all(|v| v.is_nan()));
            row_on(cap, &[f32::NEG_INFINITY, 0.0, f32::NEG_INFINITY], &mut o, false);
            assert_eq!(o, [0.0, 1.0, 0.0]);
            row_on(cap, &[f32::NEG_INFINITY; 3], &mut o, false);
            assert!(o.iter().all(|v| v.is_nan()));
            row_on(cap, &[f32::INFINITY, 0.0, 1.0], &mut o, false);
            assert!(o[0].is_nan() && o[1] == 0.0);
            row_on(cap, &[f32::NEG_INFINITY, 0.0, 0.0], &mut o, true);
            assert_eq!(o, [f32::NEG_INFINITY, -std::f32::consts::LN_2, -std::f32::consts::LN_2]);
        }
    }

    #[test]
    fn thread_counts_give_identical_bits() {
        let x: Vec<f32> = (0..300 * 333).map(|i| ((i * 7919 % 1009) as f32) * 0.01).collect();
        let t = Tensor::from_vec(x, &[300, 333]).unwrap();
        let run = |n| parallel::with_threads(n, || softmax_lastdim("t", &t, false).unwrap().to_vec::<f32>().unwrap());
        assert_eq!(run(1), run(3));
    }
}
