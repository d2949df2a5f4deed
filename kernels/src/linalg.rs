//! Matrix products: `mm` and `bmm`.
//!
//! float32 products run on the packed SIMD GEMM of [`crate::gemm`] (which
//! documents their summation order). Other dtypes take the generic path
//! below: inputs are packed (converted to the accumulation type, row-major) under a
//! read lock, then multiplied by a cache-blocked kernel: panels of B
//! (`KC x NC`) and A (`MC x KC`) are repacked into strips, and an `MR x NR`
//! register tile accumulates over the `KC` slice before being added to C.
//! Each output element is therefore summed in a fixed order (sequential
//! within a `KC` slice, slices added in order), independent of the tile
//! shape chosen for the CPU. Floating types accumulate in f32 (f16, bf16, f32)
//! or f64; integers use wrapping arithmetic (i32 for types up to 32 bits,
//! which gives the same low bits as PyTorch's wrapping products).

use crate::gemm::{sgemm, MatRef};
use ft_runtime::half::{bf16, f16};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, StorageAccess, Tensor};

/// Rows of the register tile.
const MR: usize = 4;
/// Depth of a packed panel.
const KC: usize = 256;
/// Rows of A per packed panel.
const MC: usize = 64;
/// Columns of B per packed panel.
const NC: usize = 1024;

/// Arithmetic of the accumulation type.
trait GemmElem: Copy + Send + Sync + 'static {
    const ZERO: Self;
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn add(self, other: Self) -> Self;
}

macro_rules! gemm_float {
    ($($t:ty),*) => {$(
        impl GemmElem for $t {
            const ZERO: Self = 0.0;
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self + a * b
            }
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self + other
            }
        }
    )*};
}
gemm_float!(f32, f64);

macro_rules! gemm_int {
    ($($t:ty),*) => {$(
        impl GemmElem for $t {
            const ZERO: Self = 0;
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self.wrapping_add(a.wrapping_mul(b))
            }
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        }
    )*};
}
gemm_int!(i32, i64);

/// An element type and the type its products accumulate in.
trait MmElem: Element {
    type C: GemmElem;
    fn to_c(self) -> Self::C;
    fn from_c(c: Self::C) -> Self;
}

macro_rules! mm_elem_cast {
    ($c:ty => $($t:ty),*) => {$(
        impl MmElem for $t {
            type C = $c;
            #[inline(always)]
            fn to_c(self) -> $c {
                self as $c
            }
            #[inline(always)]
            fn from_c(c: $c) -> Self {
                c as $t
            }
        }
    )*};
}
mm_elem_cast!(i32 => u8, i8, i16, i32);
mm_elem_cast!(i64 => i64);
mm_elem_cast!(f32 => f32);
mm_elem_cast!(f64 => f64);

macro_rules! mm_elem_half {
    ($($t:ty),*) => {$(
        impl MmElem for $t {
            type C = f32;
            #[inline(always)]
            fn to_c(self) -> f32 {
                self.to_f32()
            }
            #[inline(always)]
            fn from_c(c: f32) -> Self {
                <$t>::from_f32(c)
            }
        }
    )*};
}
mm_elem_half!(f16, bf16);

/// Bool is rejected before any arithmetic; this impl only lets dtype dispatch compile.
impl MmElem for bool {
    type C = i32;
    fn to_c(self) -> i32 {
        self as i32
    }
    fn from_c(c: i32) -> Self {
        c != 0
    }
}

/// PyTorch's C++ type name for a dtype, as printed in mm dtype errors.
fn c_type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::U8 => "unsigned char",
        DType::I8 => "signed char",
        DType::I16 => "short int",
        DType::I32 => "int",
        DType::I64 => "long int",
        DType::F16 => "c10::Half",
        DType::BF16 => "c10::BFloat16",
        DType::F32 => "float",
        DType::F64 => "double",
    }
}

/// A zero-filled buffer, or an error instead of aborting when it cannot be allocated.
fn zeroed<C: GemmElem>(op: &str, len: usize) -> Result<Vec<C>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::invalid(
            op,
            format!("not enough memory: cannot allocate a buffer of {len} elements"),
        )
    })?;
    v.resize(len, C::ZERO);
    Ok(v)
}

/// One strided matrix inside a storage (sizes and strides in elements).
#[derive(Clone, Copy)]
struct MatLayout {
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// Appends the matrix at `m` to `dst` in row-major order, converted to `T::C`.
///
/// # Safety
/// `base` must point to a storage the caller holds locked (read or write)
/// and every element offset of `m` must lie inside it.
unsafe fn load_matrix<T: MmElem>(base: *const T, m: MatLayout, dst: &mut Vec<T::C>) {
    for i in 0..m.rows {
        let row = m.offset + i * m.row_stride;
        if m.col_stride == 1 {
            // SAFETY: row..row + cols are elements of the matrix (caller contract).
            let run = unsafe { std::slice::from_raw_parts(base.add(row), m.cols) };
            dst.extend(run.iter().map(|&v| v.to_c()));
        } else {
            // SAFETY: each offset is an element of the matrix (caller contract).
            dst.extend((0..m.cols).map(|j| unsafe { base.add(row + j * m.col_stride).read() }.to_c()));
        }
    }
}

/// Packs rows `i0..i0 + mc`, depths `p0..p0 + kc` of row-major `a` (`k` wide)
/// into strips of `MR` rows: `pack[strip][kk][r]`, zero-padded.
#[inline(always)]
fn pack_a<C: GemmElem>(a: &[C], k: usize, i0: usize, mc: usize, p0: usize, kc: usize, pack: &mut Vec<C>) {
    pack.clear();
    for s in (0..mc).step_by(MR) {
        for kk in 0..kc {
            for r in 0..MR {
                let i = s + r;
                pack.push(if i < mc { a[(i0 + i) * k + p0 + kk] } else { C::ZERO });
            }
        }
    }
}

/// Packs depths `p0..p0 + kc`, columns `j0..j0 + nc` of row-major `b`
/// (`n` wide) into strips of `NR` columns: `pack[strip][kk][c]`, zero-padded.
#[inline(always)]
fn pack_b<C: GemmElem, const NR: usize>(
    b: &[C],
    n: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    pack: &mut Vec<C>,
) {
    pack.clear();
    for s in (0..nc).step_by(NR) {
        let w = NR.min(nc - s);
        for kk in 0..kc {
            let row = (p0 + kk) * n + j0 + s;
            pack.extend_from_slice(&b[row..row + w]);
            pack.resize(pack.len() + NR - w, C::ZERO);
        }
    }
}

/// The register tile: `MR x NR` sums over one packed strip pair.
#[inline(always)]
fn micro_tile<C: GemmElem, const NR: usize>(a: &[C], b: &[C]) -> [[C; NR]; MR] {
    let mut acc = [[C::ZERO; NR]; MR];
    for (av, bv) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &ai) in acc.iter_mut().zip(av) {
            for (c, &bj) in row.iter_mut().zip(bv) {
                *c = c.mul_add(ai, bj);
            }
        }
    }
    acc
}

/// `c += a * b` for row-major `a` (m x k), `b` (k x n), `c` (m x n).
#[inline(always)]
fn gemm_blocked<C: GemmElem, const NR: usize>(m: usize, k: usize, n: usize, a: &[C], b: &[C], c: &mut [C]) {
    let (mut apack, mut bpack) = (Vec::new(), Vec::new());
    for j0 in (0..n).step_by(NC) {
        let nc = NC.min(n - j0);
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            pack_b::<C, NR>(b, n, p0, kc, j0, nc, &mut bpack);
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                pack_a(a, k, i0, mc, p0, kc, &mut apack);
                for (sj, bstrip) in bpack.chunks_exact(kc * NR).enumerate() {
                    for (si, astrip) in apack.chunks_exact(kc * MR).enumerate() {
                        let tile = micro_tile::<C, NR>(astrip, bstrip);
                        let (ri, cj) = (i0 + si * MR, j0 + sj * NR);
                        for (r, trow) in tile.iter().enumerate().take(m - ri) {
                            let crow = &mut c[(ri + r) * n + cj..];
                            for (dst, &v) in crow.iter_mut().zip(trow).take(n - cj) {
                                *dst = dst.add(v);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// [`gemm_blocked`] compiled for AVX2 (tiles of `MR x NR` fill 8 of the 16
/// vector registers).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gemm_avx2<C: GemmElem, const NR: usize>(m: usize, k: usize, n: usize, a: &[C], b: &[C], c: &mut [C]) {
    gemm_blocked::<C, NR>(m, k, n, a, b, c)
}

/// `c += a * b`, using the widest kernel this CPU supports (all kernels sum
/// each element in the same order, so results do not depend on the CPU).
fn gemm<C: GemmElem>(m: usize, k: usize, n: usize, a: &[C], b: &[C], c: &mut [C]) {
    let wide = std::mem::size_of::<C>() == 8;
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 support was just detected at run time.
        unsafe {
            if wide {
                gemm_avx2::<C, 8>(m, k, n, a, b, c)
            } else {
                gemm_avx2::<C, 16>(m, k, n, a, b, c)
            }
        };
        return;
    }
    if wide {
        gemm_blocked::<C, 4>(m, k, n, a, b, c)
    } else {
        gemm_blocked::<C, 8>(m, k, n, a, b, c)
    }
}

/// Matrix products of `batches` pairs, returning the row-major results.
fn batched_product<T: MmElem>(op: &str, a: &Tensor, b: &Tensor, batches: &[(MatLayout, MatLayout)]) -> Result<Vec<T>> {
    let (n, k, p) = (batches[0].0.rows, batches[0].0.cols, batches[0].1.cols);
    let mut out = Vec::new();
    out.try_reserve_exact(batches.len() * n * p)
        .map_err(|_| Error::invalid(op, "not enough memory for the result"))?;
    let mut ma = Vec::new();
    let mut mb = Vec::new();
    ma.try_reserve_exact(n * k)
        .map_err(|_| Error::invalid(op, "not enough memory to pack mat1"))?;
    mb.try_reserve_exact(k * p)
        .map_err(|_| Error::invalid(op, "not enough memory to pack mat2"))?;
    let mut mc = zeroed::<T::C>(op, n * p)?;
    for &(la, lb) in batches {
        ma.clear();
        mb.clear();
        {
            let access = StorageAccess::lock(&[a.storage(), b.storage()], &[]);
            // SAFETY: both storages are read-locked by `access` for this block,
            // and the layouts describe elements of `a` and `b`, which were
            // bounds-checked against their storages when the tensors were made.
            unsafe {
                load_matrix(access.base_ptr(a.storage()) as *const T, la, &mut ma);
                load_matrix(access.base_ptr(b.storage()) as *const T, lb, &mut mb);
            }
        }
        mc.fill(T::C::ZERO);
        gemm(n, k, p, &ma, &mb, &mut mc);
        out.extend(mc.iter().map(|&v| T::from_c(v)));
    }
    Ok(out)
}

/// The float32 products of `batches` through the packed SIMD GEMM
/// ([`crate::gemm::sgemm`]), read straight from the input storages and
/// written into a new contiguous tensor of `sizes`.
fn sgemm_product(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    batches: &[(MatLayout, MatLayout)],
    sizes: &[usize],
) -> Result<Tensor> {
    let out = crate::iter::empty_contiguous(op, sizes, DType::F32)?;
    let (n, k, p) = (batches[0].0.rows, batches[0].0.cols, batches[0].1.cols);
    {
        let access = StorageAccess::lock(&[a.storage(), b.storage()], &[out.storage()]);
        let pa = access.base_ptr(a.storage()) as *const f32;
        let pb = access.base_ptr(b.storage()) as *const f32;
        let pc = access.base_ptr_mut(out.storage()) as *mut f32;
        for (i, &(la, lb)) in batches.iter().enumerate() {
            // SAFETY: `access` read-locks both inputs and write-locks the new
            // output (a different storage) for this block; the layouts address
            // elements of `a` and `b` (bounds-checked when the tensors were
            // made); batch i of the contiguous output is n*p values at i*n*p.
            unsafe {
                let ma = MatRef {
                    ptr: pa.add(la.offset),
                    rs: la.row_stride,
                    cs: la.col_stride,
                };
                let mb = MatRef {
                    ptr: pb.add(lb.offset),
                    rs: lb.row_stride,
                    cs: lb.col_stride,
                };
                sgemm(n, k, p, ma, mb, pc.add(out.storage_offset() + i * n * p), p);
            }
        }
    }
    Ok(out)
}

/// The layout of matrix `index` along dim 0 of a 3-D tensor (or the 2-D tensor itself).
fn layout(t: &Tensor, index: usize) -> MatLayout {
    let (s, st) = (t.sizes(), t.strides());
    let d = s.len() - 2;
    let batch_offset = if d == 1 { index * st[0] } else { 0 };
    MatLayout {
        offset: t.storage_offset() + batch_offset,
        rows: s[d],
        cols: s[d + 1],
        row_stride: st[d],
        col_stride: st[d + 1],
    }
}

/// `aten::mm`: the matrix product of `self_` (n x m) and `mat2` (m x p), a
/// new contiguous n x p tensor. Both must be 2-D with the same non-bool dtype.
///
/// ```
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
/// let b = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]).unwrap();
/// let c = ft_kernels::linalg::mm(&a, &b).unwrap();
/// assert_eq!(c.sizes(), &[2, 2]);
/// assert_eq!(c.to_vec::<f32>().unwrap(), vec![4.0, 5.0, 10.0, 11.0]);
/// ```
pub fn mm(self_: &Tensor, mat2: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::mm";
    if self_.dim() != 2 {
        return Err(Error::shape(OP, "self must be a matrix"));
    }
    if mat2.dim() != 2 {
        return Err(Error::shape(OP, "mat2 must be a matrix"));
    }
    let (sa, sb) = (self_.sizes(), mat2.sizes());
    if sa[1] != sb[0] {
        return Err(Error::shape(
            OP,
            format!(
                "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
                sa[0], sa[1], sb[0], sb[1]
            ),
        ));
    }
    if self_.dtype() != mat2.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "expected m1 and m2 to have the same dtype, but got: {} != {}",
                c_type_name(self_.dtype()),
                c_type_name(mat2.dtype())
            ),
        ));
    }
    let (n, k, p) = (sa[0], sa[1], sb[1]);
    let dtype = self_.dtype();
    if n.checked_mul(p).is_none() {
        return Err(Error::invalid(OP, "the result has too many elements"));
    }
    if n * p == 0 || k == 0 {
        return Ok(Tensor::zeros_contiguous(&[n, p], dtype));
    }
    if dtype == DType::Bool {
        return Err(Error::dtype(OP, "\"addmm_impl_cpu_\" not implemented for 'Bool'"));
    }
    let batches = [(layout(self_, 0), layout(mat2, 0))];
    if dtype == DType::F32 {
        return sgemm_product(OP, self_, mat2, &batches, &[n, p]);
    }
    dispatch_dtype!(dtype, T => Tensor::from_vec(batched_product::<T>(OP, self_, mat2, &batches)?, &[n, p]))
}

/// `aten::bmm`: batched matrix product of `self_` (b x n x m) and `mat2`
/// (b x m x p), a new contiguous b x n x p tensor.
///
/// ```
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![1i64, 1, 2, 2], &[2, 2, 1]).unwrap();
/// let c = ft_kernels::linalg::bmm(&a, &b).unwrap();
/// assert_eq!(c.sizes(), &[2, 1, 1]);
/// assert_eq!(c.to_vec::<i64>().unwrap(), vec![3, 14]);
/// ```
pub fn bmm(self_: &Tensor, mat2: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::bmm";
    if self_.dim() != 3 {
        return Err(Error::shape(OP, "batch1 must be a 3D tensor"));
    }
    if mat2.dim() != 3 {
        return Err(Error::shape(OP, "batch2 must be a 3D tensor"));
    }
    let (sa, sb) = (self_.sizes(), mat2.sizes());
    let (bs, n, k, p) = (sa[0], sa[1], sa[2], sb[2]);
    if sb[0] != bs || sb[1] != k {
        return Err(Error::shape(
            OP,
            format!(
                "Expected size for first two dimensions of batch2 tensor to be: [{bs}, {k}] but got: [{}, {}].",
                sb[0], sb[1]
            ),
        ));
    }
    let numel = bs.checked_mul(n).and_then(|v| v.checked_mul(p));
    let Some(numel) = numel else {
        return Err(Error::invalid(OP, "the result has too many elements"));
    };
    // Like PyTorch, the result takes batch2's dtype, and empty products
    // return before the dtype is inspected.
    if numel == 0 || k == 0 {
        return Ok(Tensor::zeros_contiguous(&[bs, n, p], mat2.dtype()));
    }
    if self_.dtype() != mat2.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "expected scalar type {} but found {}",
                self_.dtype().scalar_type_name(),
                mat2.dtype().scalar_type_name()
            ),
        ));
    }
    if self_.dtype() == DType::Bool {
        let name = if k.saturating_mul(n).saturating_mul(p) < 400 {
            "bmm"
        } else {
            "addmm_impl_cpu_"
        };
        return Err(Error::dtype(OP, format!("\"{name}\" not implemented for 'Bool'")));
    }
    let batches: Vec<(MatLayout, MatLayout)> = (0..bs).map(|i| (layout(self_, i), layout(mat2, i))).collect();
    if self_.dtype() == DType::F32 {
        return sgemm_product(OP, self_, mat2, &batches, &[bs, n, p]);
    }
    dispatch_dtype!(self_.dtype(), T => Tensor::from_vec(batched_product::<T>(OP, self_, mat2, &batches)?, &[bs, n, p]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view;
    use ft_runtime::ErrorKind;

    /// Reference product in f64 of row-major values.
    fn naive(a: &[f64], b: &[f64], n: usize, k: usize, p: usize) -> Vec<f64> {
        let mut c = vec![0.0; n * p];
        for i in 0..n {
            for j in 0..p {
                c[i * p + j] = (0..k).map(|x| a[i * k + x] * b[x * p + j]).sum();
            }
        }
        c
    }

    fn values(n: usize, seed: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (((i * 7 + seed * 13) % 23) as f64 - 11.0) / 4.0)
            .collect()
    }

    fn check_f32(n: usize, k: usize, p: usize) {
        let (va, vb) = (values(n * k, 1), values(k * p, 2));
        let a = Tensor::from_vec(va.iter().map(|&v| v as f32).collect::<Vec<_>>(), &[n, k]).unwrap();
        let b = Tensor::from_vec(vb.iter().map(|&v| v as f32).collect::<Vec<_>>(), &[k, p]).unwrap();
        let c = mm(&a, &b).unwrap();
        assert_eq!((c.sizes(), c.dtype()), (&[n, p][..], DType::F32));
        let want = naive(&va, &vb, n, k, p);
        for (x, y) in c.to_f64_vec().iter().zip(&want) {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y} for {n}x{k}x{p}");
        }
    }

    #[test]
    fn mm_f32_shapes() {
        for &(n, k, p) in &[
            (1, 1, 1),
            (3, 5, 7),
            (4, 16, 16),
            (17, 300, 33),
            (70, 9, 1030),
            (5, 513, 2),
        ] {
            check_f32(n, k, p);
        }
    }

    #[test]
    fn mm_exact_integers_and_f64() {
        let (n, k, p) = (9, 37, 21);
        let (va, vb) = (values(n * k, 3), values(k * p, 4));
        let want = naive(&va, &vb, n, k, p);
        let a = Tensor::from_vec(va.clone(), &[n, k]).unwrap();
        let b = Tensor::from_vec(vb.clone(), &[k, p]).unwrap();
        assert_eq!(mm(&a, &b).unwrap().to_vec::<f64>().unwrap(), want);
        let ai = Tensor::from_vec(va.iter().map(|&v| (v * 4.0) as i64).collect::<Vec<_>>(), &[n, k]).unwrap();
        let bi = Tensor::from_vec(vb.iter().map(|&v| (v * 4.0) as i64).collect::<Vec<_>>(), &[k, p]).unwrap();
        let wi: Vec<i64> = want.iter().map(|&v| (v * 16.0) as i64).collect();
        assert_eq!(mm(&ai, &bi).unwrap().to_vec::<i64>().unwrap(), wi);
        let a32 = Tensor::from_vec(va.iter().map(|&v| (v * 4.0) as i32).collect::<Vec<_>>(), &[n, k]).unwrap();
        let b32 = Tensor::from_vec(vb.iter().map(|&v| (v * 4.0) as i32).collect::<Vec<_>>(), &[k, p]).unwrap();
        let c32 = mm(&a32, &b32).unwrap();
        assert_eq!(c32.dtype(), DType::I32);
        assert_eq!(
            c32.to_vec::<i32>().unwrap(),
            wi.iter().map(|&v| v as i32).collect::<Vec<_>>()
        );
    }

    #[test]
    fn mm_small_types_wrap() {
        let a = Tensor::from_vec(vec![100i8, 100], &[1, 2]).unwrap();
        let b = Tensor::from_vec(vec![2i8, 1], &[2, 1]).unwrap();
        assert_eq!(mm(&a, &b).unwrap().to_vec::<i8>().unwrap(), vec![(300i32 as i8)]);
        let u = Tensor::from_vec(vec![200u8, 100], &[1, 2]).unwrap();
        let v = Tensor::from_vec(vec![1u8, 1], &[2, 1]).unwrap();
        assert_eq!(mm(&u, &v).unwrap().to_vec::<u8>().unwrap(), vec![44]);
        let s = Tensor::from_vec(vec![300i16, 2], &[1, 2]).unwrap();
        let t = Tensor::from_vec(vec![300i16, 2], &[2, 1]).unwrap();
        assert_eq!(mm(&s, &t).unwrap().to_vec::<i16>().unwrap(), vec![(90004i32 as i16)]);
        let l = Tensor::from_vec(vec![i64::MAX, 1], &[1, 2]).unwrap();
        let r = Tensor::from_vec(vec![2i64, 2], &[2, 1]).unwrap();
        assert_eq!(mm(&l, &r).unwrap().to_vec::<i64>().unwrap(), vec![0]);
    }

    #[test]
    fn mm_half_types() {
        let a = Tensor::from_vec(vec![f16::from_f32(0.5); 6], &[2, 3]).unwrap();
        let b = Tensor::from_vec(vec![f16::from_f32(2.0); 6], &[3, 2]).unwrap();
        let c = mm(&a, &b).unwrap();
        assert_eq!(
            (c.dtype(), c.to_vec::<f16>().unwrap()),
            (DType::F16, vec![f16::from_f32(3.0); 4])
        );
        let a = Tensor::from_vec(vec![bf16::from_f32(1.0); 512], &[1, 512]).unwrap();
        let b = Tensor::from_vec(vec![bf16::from_f32(1.0); 512], &[512, 1]).unwrap();
        // accumulating in bf16 would stall at 256
        assert_eq!(
            mm(&a, &b).unwrap().to_vec::<bf16>().unwrap(),
            vec![bf16::from_f32(512.0)]
        );
    }

    #[test]
    fn mm_strided_inputs() {
        let (va, vb) = (values(6 * 4, 5), values(4 * 6, 6));
        let a = Tensor::from_vec(va.clone(), &[6, 4]).unwrap();
        let b = Tensor::from_vec(vb.clone(), &[4, 6]).unwrap();
        // a^T (4x6) @ b^T (6x4) == (b @ a)^T
        let at = view::transpose(&a, 0, 1).unwrap();
        let bt = view::transpose(&b, 0, 1).unwrap();
        let c = mm(&at, &bt).unwrap();
        assert!(c.is_contiguous());
        let ba = naive(&vb, &va, 4, 6, 4);
        let want: Vec<f64> = (0..16).map(|i| ba[(i % 4) * 4 + i / 4]).collect();
        assert_eq!(c.to_vec::<f64>().unwrap(), want);
        let row = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[1, 3]).unwrap();
        let e = view::expand(&row, &[5, 3], false).unwrap();
        let ones = Tensor::from_vec(vec![1.0f64; 6], &[3, 2]).unwrap();
        assert_eq!(mm(&e, &ones).unwrap().to_vec::<f64>().unwrap(), vec![6.0; 10]);
        let sliced = view::as_strided(&a, &[2, 2], &[8, 2], Some(1)).unwrap();
        let id = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
        assert_eq!(
            mm(&sliced, &id).unwrap().to_vec::<f64>().unwrap(),
            sliced.to_vec::<f64>().unwrap()
        );
    }

    #[test]
    fn every_kernel_width_gives_identical_bits() {
        let (m, k, n) = (13, 600, 37);
        let a: Vec<f32> = values(m * k, 9).iter().map(|&v| v as f32 * 0.37).collect();
        let b: Vec<f32> = values(k * n, 10).iter().map(|&v| v as f32 * 1.13).collect();
        let mut c1 = vec![0.0f32; m * n];
        let mut c2 = vec![0.0f32; m * n];
        let mut c3 = vec![0.0f32; m * n];
        gemm(m, k, n, &a, &b, &mut c1);
        gemm_blocked::<f32, 8>(m, k, n, &a, &b, &mut c2);
        gemm_blocked::<f32, 16>(m, k, n, &a, &b, &mut c3);
        assert_eq!(c1, c2);
        assert_eq!(c1, c3);
        let ad: Vec<f64> = a.iter().map(|&v| v as f64).collect();
        let bd: Vec<f64> = b.iter().map(|&v| v as f64).collect();
        let mut d1 = vec![0.0f64; m * n];
        let mut d2 = vec![0.0f64; m * n];
        gemm(m, k, n, &ad, &bd, &mut d1);
        gemm_blocked::<f64, 4>(m, k, n, &ad, &bd, &mut d2);
        assert_eq!(d1, d2);
        let ai: Vec<i64> = (0..m * k).map(|i| i as i64 * 3 - 50).collect();
        let bi: Vec<i64> = (0..k * n).map(|i| 7 - i as i64).collect();
        let mut i1 = vec![0i64; m * n];
        let mut i2 = vec![0i64; m * n];
        gemm(m, k, n, &ai, &bi, &mut i1);
        gemm_blocked::<i64, 4>(m, k, n, &ai, &bi, &mut i2);
        assert_eq!(i1, i2);
    }

    #[test]
    fn mm_empty() {
        let a = Tensor::zeros_contiguous(&[2, 0], DType::F32);
        let b = Tensor::zeros_contiguous(&[0, 3], DType::F32);
        let c = mm(&a, &b).unwrap();
        assert_eq!(
            (c.sizes(), c.to_vec::<f32>().unwrap()),
            (&[2usize, 3][..], vec![0.0; 6])
        );
        let z = mm(
            &Tensor::zeros_contiguous(&[0, 4], DType::I64),
            &Tensor::zeros_contiguous(&[4, 3], DType::I64),
        )
        .unwrap();
        assert_eq!(z.sizes(), &[0, 3]);
        let bb = mm(
            &Tensor::zeros_contiguous(&[2, 0], DType::Bool),
            &Tensor::zeros_contiguous(&[0, 2], DType::Bool),
        )
        .unwrap();
        assert_eq!(bb.to_vec::<bool>().unwrap(), vec![false; 4]);
    }

    #[test]
    fn mm_errors() {
        let a = Tensor::zeros_contiguous(&[2, 3], DType::F32);
        let v = Tensor::zeros_contiguous(&[3], DType::F32);
        assert_eq!(mm(&v, &a).unwrap_err().message(), "self must be a matrix");
        assert_eq!(mm(&a, &v).unwrap_err().message(), "mat2 must be a matrix");
        let e = mm(&a, &Tensor::zeros_contiguous(&[4, 5], DType::F32)).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::ShapeMismatch,
                "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
            )
        );
        assert_eq!(e.op(), "aten::mm");
        let e = mm(&a, &Tensor::zeros_contiguous(&[3, 2], DType::F64)).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::DType,
                "expected m1 and m2 to have the same dtype, but got: float != double"
            )
        );
        let e = mm(
            &Tensor::zeros_contiguous(&[1, 1], DType::I64),
            &Tensor::zeros_contiguous(&[1, 1], DType::F16),
        )
        .unwrap_err();
        assert!(e.message().ends_with("long int != c10::Half"), "{e}");
        let bl = Tensor::zeros_contiguous(&[2, 2], DType::Bool);
        assert_eq!(mm(&bl, &bl).unwrap_err().kind(), ErrorKind::DType);
    }

    #[test]
    fn bmm_values_and_strides() {
        let (bs, n, k, p) = (3, 5, 7, 6);
        let (va, vb) = (values(bs * n * k, 7), values(bs * k * p, 8));
        let a = Tensor::from_vec(va.clone(), &[bs, n, k]).unwrap();
        let b = Tensor::from_vec(vb.clone(), &[bs, k, p]).unwrap();
        let c = bmm(&a, &b).unwrap();
        assert_eq!(c.sizes(), &[bs, n, p]);
        let got = c.to_vec::<f64>().unwrap();
        for i in 0..bs {
            let want = naive(
                &va[i * n * k..(i + 1) * n * k],
                &vb[i * k * p..(i + 1) * k * p],
                n,
                k,
                p,
            );
            assert_eq!(&got[i * n * p..(i + 1) * n * p], &want[..]);
        }
        // batch-transposed input: a permuted so batch is not the outer dim
        let ap = view::permute(&Tensor::from_vec(va.clone(), &[n, bs, k]).unwrap(), &[1, 0, 2]).unwrap();
        let cp = bmm(&ap, &b).unwrap().to_vec::<f64>().unwrap();
        let ac = ap.to_vec::<f64>().unwrap();
        let want0 = naive(&ac[..n * k], &vb[..k * p], n, k, p);
        assert_eq!(&cp[..n * p], &want0[..]);
        // expanded batch of mat2
        let one = Tensor::from_vec(vb[..k * p].to_vec(), &[1, k, p]).unwrap();
        let be = view::expand(&one, &[bs as i64, k as i64, p as i64], false).unwrap();
        let ce = bmm(&a, &be).unwrap().to_vec::<f64>().unwrap();
        let want2 = naive(&va[2 * n * k..], &vb[..k * p], n, k, p);
        assert_eq!(&ce[2 * n * p..], &want2[..]);
    }

    #[test]
    fn bmm_empty_and_errors() {
        let z = bmm(
            &Tensor::zeros_contiguous(&[2, 3, 0], DType::F32),
            &Tensor::zeros_contiguous(&[2, 0, 4], DType::F32),
        )
        .unwrap();
        assert_eq!(
            (z.sizes(), z.to_vec::<f32>().unwrap()),
            (&[2usize, 3, 4][..], vec![0.0; 24])
        );
        assert_eq!(
            bmm(
                &Tensor::zeros_contiguous(&[0, 3, 2], DType::I32),
                &Tensor::zeros_contiguous(&[0, 2, 4], DType::I32)
            )
            .unwrap()
            .sizes(),
            &[0, 3, 4]
        );
        let a = Tensor::zeros_contiguous(&[2, 3, 4], DType::F32);
        let m = Tensor::zeros_contiguous(&[3, 4], DType::F32);
        assert_eq!(bmm(&m, &a).unwrap_err().message(), "batch1 must be a 3D tensor");
        assert_eq!(bmm(&a, &m).unwrap_err().message(), "batch2 must be a 3D tensor");
        let e = bmm(&a, &Tensor::zeros_contiguous(&[2, 5, 4], DType::F32)).unwrap_err();
        assert_eq!(
            e.message(),
            "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."
        );
        let e = bmm(&a, &Tensor::zeros_contiguous(&[3, 4, 4], DType::F32)).unwrap_err();
        assert_eq!(
            e.message(),
            "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4]."
        );
        let e = bmm(&a, &Tensor::zeros_contiguous(&[2, 4, 1], DType::F64)).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::DType, "expected scalar type Float but found Double")
        );
        let bl = Tensor::zeros_contiguous(&[1, 2, 2], DType::Bool);
        assert_eq!(
            bmm(&bl, &bl).unwrap_err().message(),
            "\"bmm\" not implemented for 'Bool'"
        );
    }
}
