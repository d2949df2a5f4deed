//! Sum and mean reductions.
//!
//! Floating sums use a fixed cascade (pairwise) order so results do not depend
//! on thread count and stay close to PyTorch's cascade summation:
//! each run of up to `BLOCK` consecutive elements is summed in `LANES`
//! interleaved partial sums combined by a fixed tree, and the block sums are
//! combined pairwise like a binary counter. Reductions over an outer dim
//! (contiguous columns) use the same cascade over groups of `LEAF_ROWS` rows,
//! vectorized across columns. Accumulation is in f32 for float16, bfloat16 and
//! float32, f64 for float64 and wrapping i64 for bool and integers.

use crate::cpu::cpu_capability;
use ft_runtime::parallel;
use ft_runtime::shape::{self, DimVec};
use ft_runtime::tensor::for_each_offset;
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, StorageAccess, Tensor};

/// Partial sums per leaf block (interleaved, so the loop vectorizes).
const LANES: usize = 16;
/// Elements per leaf block of the cascade.
const BLOCK: usize = 8 * LANES;
/// Rows summed sequentially per leaf in the column (outer-dim) kernel.
const LEAF_ROWS: usize = 16;
/// Columns processed together in the column kernel (keeps buffers in cache).
const COL_CHUNK: usize = 1024;
/// Fewest contiguous columns for which the column kernel is used.
const MIN_COLS: usize = 8;

/// Accumulator arithmetic: float adds, or wrapping integer adds.
trait Accum: Copy + Send + Sync + 'static {
    const ZERO: Self;
    fn plus(self, other: Self) -> Self;
    /// Divides by an element count (used by mean, whose accumulator is a float).
    fn div_count(self, n: usize) -> Self;
    /// Converts to the output element type.
    fn store<O: Element>(self) -> O;
}

impl Accum for f32 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn div_count(self, n: usize) -> Self {
        self / n as f32
    }
    fn store<O: Element>(self) -> O {
        O::from_f64(self as f64)
    }
}

impl Accum for f64 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn div_count(self, n: usize) -> Self {
        self / n as f64
    }
    fn store<O: Element>(self) -> O {
        O::from_f64(self)
    }
}

impl Accum for i64 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn div_count(self, n: usize) -> Self {
        self.checked_div(n as i64).unwrap_or(0)
    }
    fn store<O: Element>(self) -> O {
        O::from_i64(self)
    }
}

/// An element type together with the accumulator its sums use.
trait SumElem: Element {
    type Acc: Accum;
    fn acc(self) -> Self::Acc;
}

macro_rules! sum_elem {
    ($acc:ty => $($t:ty),*) => {$(
        impl SumElem for $t {
            type Acc = $acc;
            #[inline(always)]
            fn acc(self) -> $acc {
                self as $acc
            }
        }
    )*};
}
sum_elem!(i64 => bool, u8, i8, i16, i32, i64);
sum_elem!(f32 => f32);
sum_elem!(f64 => f64);

impl SumElem for ft_runtime::half::f16 {
    type Acc = f32;
    #[inline(always)]
    fn acc(self) -> f32 {
        self.to_f32()
    }
}

impl SumElem for ft_runtime::half::bf16 {
    type Acc = f32;
    #[inline(always)]
    fn acc(self) -> f32 {
        self.to_f32()
    }
}

/// Pairwise combination of leaf sums, in the order of a binary counter:
/// two partial sums of equal size are merged as soon as both exist.
struct Cascade<A: Accum> {
    stack: [A; 64],
    len: usize,
    count: u64,
}

impl<A: Accum> Cascade<A> {
    fn new() -> Self {
        Cascade {
            stack: [A::ZERO; 64],
            len: 0,
            count: 0,
        }
    }

    fn push(&mut self, leaf: A) {
        self.stack[self.len] = leaf;
        self.len += 1;
        self.count += 1;
        let mut c = self.count;
        while c & 1 == 0 {
            self.len -= 1;
            self.stack[self.len - 1] = self.stack[self.len - 1].plus(self.stack[self.len]);
            c >>= 1;
        }
    }

    fn finish(&self) -> A {
        let Some((&last, rest)) = self.stack[..self.len].split_last() else {
            return A::ZERO;
        };
        rest.iter().rev().fold(last, |acc, &v| v.plus(acc))
    }

    /// Finishes the cascade whose partial sums are this one's followed by
    /// `tail`'s (what one serial cascade would hold after both runs).
    fn finish_with(&self, tail: &Cascade<A>) -> A {
        let all = self.stack[..self.len].iter().chain(&tail.stack[..tail.len]);
        let mut rev = all.rev();
        let Some(&last) = rev.next() else {
            return A::ZERO;
        };
        rev.fold(last, |acc, &v| v.plus(acc))
    }
}

/// Sum of at most [`BLOCK`] values: interleaved lanes, then a fixed halving tree.
#[inline(always)]
fn leaf<S: Copy, A: Accum>(values: &[S], f: impl Fn(S) -> A) -> A {
    let mut lanes = [A::ZERO; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = lane.plus(f(v));
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane = lane.plus(f(v));
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] = lanes[i].plus(lanes[i + width]);
        }
    }
    lanes[0]
}

/// Cascade sum of a contiguous run of elements, serially.
#[inline(always)]
fn sum_serial<T: SumElem>(values: &[T]) -> Cascade<T::Acc> {
    let mut cascade = Cascade::new();
    for block in values.chunks(BLOCK) {
        cascade.push(leaf(block, T::acc));
    }
    cascade
}

/// [`sum_serial`] compiled for AVX-512 (the same operations in the same
/// order, with wider vectors: identical bits).
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_serial_avx512<T: SumElem>(values: &[T]) -> Cascade<T::Acc> {
    sum_serial(values)
}

/// [`sum_serial`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_serial_avx2<T: SumElem>(values: &[T]) -> Cascade<T::Acc> {
    sum_serial(values)
}

/// [`sum_serial`] with the widest vectors of [`cpu_capability`].
fn sum_serial_dispatch<T: SumElem>(values: &[T]) -> Cascade<T::Acc> {
    match cpu_capability() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F was detected.
        crate::cpu::Capability::Avx512 => unsafe { sum_serial_avx512(values) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 was detected.
        crate::cpu::Capability::Avx2Fma => unsafe { sum_serial_avx2(values) },
        _ => sum_serial(values),
    }
}

/// Leaf blocks per parallel chunk of a long run: a power of two, so the
/// serial cascade would hold each chunk's sum as exactly one node; chunk
/// sums are then combined by the same binary counter, giving the serial
/// result bit for bit.
const CHUNK_BLOCKS: usize = 512;

/// Cascade sum of a contiguous run of elements (long runs in parallel,
/// with the serial order).
fn sum_slice<T: SumElem>(values: &[T]) -> T::Acc {
    let chunk = CHUNK_BLOCKS * BLOCK;
    if values.len() < 2 * chunk {
        return sum_serial_dispatch(values).finish();
    }
    let full = values.len() / chunk;
    let sums = parallel::map_reduce_chunks(
        full,
        1,
        |r| -> Vec<T::Acc> {
            r.map(|c| sum_serial_dispatch(&values[c * chunk..(c + 1) * chunk]).finish())
                .collect()
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    )
    .unwrap_or_default();
    let mut upper = Cascade::new();
    for v in sums {
        upper.push(v);
    }
    upper.finish_with(&sum_serial_dispatch(&values[full * chunk..]))
}

/// Streams values one at a time into the same cascade as [`sum_slice`].
struct StreamSum<A: Accum> {
    buf: [A; BLOCK],
    fill: usize,
    cascade: Cascade<A>,
}

impl<A: Accum> StreamSum<A> {
    fn new() -> Self {
        StreamSum {
            buf: [A::ZERO; BLOCK],
            fill: 0,
            cascade: Cascade::new(),
        }
    }

    #[inline(always)]
    fn push(&mut self, v: A) {
        self.buf[self.fill] = v;
        self.fill += 1;
        if self.fill == BLOCK {
            self.cascade.push(leaf(&self.buf, |a| a));
            self.fill = 0;
        }
    }

    /// Pushes a contiguous run; whole blocks go straight to the cascade,
    /// giving the same result as pushing the elements one by one.
    fn push_run<T: SumElem<Acc = A>>(&mut self, run: &[T]) {
        let mut rest = run;
        while self.fill != 0 {
            let Some((&first, tail)) = rest.split_first() else {
                return;
            };
            self.push(first.acc());
            rest = tail;
        }
        let mut blocks = rest.chunks_exact(BLOCK);
        for block in &mut blocks {
            self.cascade.push(leaf(block, T::acc));
        }
        for &v in blocks.remainder() {
            self.push(v.acc());
        }
    }

    fn finish(mut self) -> A {
        if self.fill > 0 {
            self.cascade.push(leaf(&self.buf[..self.fill], |a| a));
        }
        self.cascade.finish()
    }
}

/// Cascade of column buffers for the column kernel (vectors instead of scalars).
struct ColumnCascade<A: Accum> {
    levels: Vec<Vec<A>>,
    len: usize,
    count: u64,
}

impl<A: Accum> ColumnCascade<A> {
    fn new() -> Self {
        ColumnCascade {
            levels: Vec::new(),
            len: 0,
            count: 0,
        }
    }

    fn push(&mut self, leaf: &[A]) {
        if self.levels.len() == self.len {
            self.levels.push(leaf.to_vec());
        } else {
            self.levels[self.len].clear();
            self.levels[self.len].extend_from_slice(leaf);
        }
        self.len += 1;
        self.count += 1;
        let mut c = self.count;
        while c & 1 == 0 {
            self.len -= 1;
            let (lower, upper) = self.levels.split_at_mut(self.len);
            let dst = &mut lower[self.len - 1];
            for (d, &u) in dst.iter_mut().zip(&upper[0]) {
                *d = d.plus(u);
            }
            c >>= 1;
        }
    }

    fn finish(&self, out: &mut [A]) {
        let Some((last, rest)) = self.levels[..self.len].split_last() else {
            out.fill(A::ZERO);
            return;
        };
        out.copy_from_slice(last);
        for level in rest.iter().rev() {
            for (o, &v) in out.iter_mut().zip(level) {
                *o = v.plus(*o);
            }
        }
    }
}

/// Sizes and strides of one group of dims (kept or reduced), simplified.
#[derive(Default)]
struct Dims {
    sizes: DimVec,
    strides: DimVec,
}

impl Dims {
    /// Appends a dim, dropping size-1 dims and merging it into the previous
    /// one when the two are contiguous with each other.
    fn push(&mut self, size: usize, stride: usize) {
        if size == 1 {
            return;
        }
        if let (Some(ps), Some(pst)) = (self.sizes.last_mut(), self.strides.last_mut()) {
            if *pst == size * stride {
                *ps *= size;
                *pst = stride;
                return;
            }
        }
        self.sizes.push(size);
        self.strides.push(stride);
    }

    fn numel(&self) -> usize {
        self.sizes.iter().product()
    }
}

/// Sums `src` over the dims marked in `mask`, one accumulator per output
/// element in row-major output order.
fn reduce_typed<T: SumElem>(src: &Tensor, mask: &[bool]) -> Vec<T::Acc> {
    let (mut kept, mut red) = (Dims::default(), Dims::default());
    for ((&s, &st), &m) in src.sizes().iter().zip(src.strides()).zip(mask) {
        if m {
            red.push(s, st)
        } else {
            kept.push(s, st)
        }
    }
    let (n_out, n_red) = (kept.numel(), red.numel());
    if n_out == 0 || src.numel() == 0 {
        return vec![T::Acc::ZERO; n_out];
    }
    let access = StorageAccess::lock(&[src.storage()], &[]);
    let base = access.base_ptr(src.storage()) as *const T;
    let offset = src.storage_offset();
    let mut out = Vec::with_capacity(n_out);
    if red.sizes.is_empty() || (red.sizes.len() == 1 && red.strides[0] == 1) {
        let mut offs = Vec::with_capacity(n_out);
        for_each_offset(&kept.sizes, &kept.strides, offset, |off| offs.push(off));
        let base = SharedBase(base);
        let sums = parallel::map_reduce_chunks(
            n_out,
            (ROW_GRAIN / n_red.max(1)).max(1),
            |r| -> Vec<T::Acc> {
                offs[r]
                    .iter()
                    .map(|&off| {
                        // SAFETY: the reduced elements of this output are exactly
                        // off..off + n_red (stride 1), all inside the storage
                        // (checked when the tensor was created); the storage is
                        // read-locked by `access` until the loop ends and nothing
                        // writes it meanwhile, so a shared slice is sound. The
                        // storage is 64-byte aligned and `off` counts whole elements.
                        let run = unsafe { std::slice::from_raw_parts(base.get().add(off), n_red) };
                        sum_slice(run)
                    })
                    .collect()
            },
            |mut a, b| {
                a.extend(b);
                a
            },
        );
        out = sums.unwrap_or_default();
    } else if kept.strides.last() == Some(&1) && kept.sizes.last().is_some_and(|&c| c >= MIN_COLS) {
        out.resize(n_out, T::Acc::ZERO);
        let cols = *kept.sizes.last().unwrap_or(&1);
        let outer = kept.sizes.len() - 1;
        let mut chunks = out.chunks_mut(cols);
        for_each_offset(&kept.sizes[..outer], &kept.strides[..outer], offset, |off| {
            if let Some(dst) = chunks.next() {
                // SAFETY: `access` read-locks the storage; `off` walks the
                // outer kept dims and the last kept dim (stride 1, `cols`
                // long) with the reduced dims address elements of `src`.
                unsafe { column_sums(base, off, &red, dst) };
            }
        });
    } else {
        // Walk the reduced elements as runs: the innermost reduced dim when
        // it is contiguous, else single elements.
        let inner_contiguous = red.strides.last() == Some(&1);
        let outer = red.sizes.len() - usize::from(inner_contiguous);
        let run_len = if inner_contiguous { red.sizes[outer] } else { 1 };
        for_each_offset(&kept.sizes, &kept.strides, offset, |off| {
            let mut stream = StreamSum::new();
            for_each_offset(&red.sizes[..outer], &red.strides[..outer], off, |o| {
                // SAFETY: o..o + run_len are elements of `src` (a run along the
                // stride-1 innermost reduced dim, or one element), inside the
                // storage, which `access` keeps read-locked with no writer.
                let run = unsafe { std::slice::from_raw_parts(base.add(o), run_len) };
                stream.push_run(run);
            });
            out.push(stream.finish());
        });
    }
    drop(access);
    out
}

/// Elements per parallel chunk when many rows are summed.
const ROW_GRAIN: usize = 1 << 15;

/// A read-locked storage's base pointer shared by parallel row sums.
#[derive(Clone, Copy)]
struct SharedBase<T>(*const T);

// SAFETY: only used while the owning StorageAccess holds a read lock and
// nothing writes the storage: concurrent reads are sound.
unsafe impl<T> Send for SharedBase<T> {}
// SAFETY: as for Send.
unsafe impl<T> Sync for SharedBase<T> {}

impl<T> SharedBase<T> {
    /// The pointer (a method, so closures capture the whole wrapper).
    fn get(&self) -> *const T {
        self.0
    }
}

/// Column kernel: `dst[j]` = cascade sum, over the reduced offsets `r` of
/// `red` (non-empty), of the element at `off + r + j`. Each leaf adds
/// [`LEAF_ROWS`] rows sequentially; leaves are combined like [`Cascade`],
/// per column.
///
/// # Safety
/// `base` must point to a storage the caller holds read-locked, and every
/// `off + r + j` (`j < dst.len()`) must be the offset of an element in it.
unsafe fn column_sums<T: SumElem>(base: *const T, off: usize, red: &Dims, dst: &mut [T::Acc]) {
    let cols = dst.len();
    let mut leaf_buf = vec![T::Acc::ZERO; cols.min(COL_CHUNK)];
    for c0 in (0..cols).step_by(COL_CHUNK) {
        let width = (cols - c0).min(COL_CHUNK);
        let leaf_buf = &mut leaf_buf[..width];
        leaf_buf.fill(T::Acc::ZERO);
        let mut cascade = ColumnCascade::new();
        let mut rows_in_leaf = 0;
        let inner = red.sizes.len() - 1;
        let (rows, row_stride) = (red.sizes[inner], red.strides[inner]);
        for_each_offset(&red.sizes[..inner], &red.strides[..inner], off + c0, |start| {
            for i in 0..rows {
                // SAFETY: the caller holds a read lock on the storage behind
                // `base` and nothing writes it; the `width` elements from
                // `start + i * row_stride` are elements of the tensor
                // (contiguous output columns of one reduced row), so the
                // range is in bounds and aligned.
                let src = unsafe { std::slice::from_raw_parts(base.add(start + i * row_stride), width) };
                for (a, &v) in leaf_buf.iter_mut().zip(src) {
                    *a = a.plus(v.acc());
                }
                rows_in_leaf += 1;
                if rows_in_leaf == LEAF_ROWS {
                    cascade.push(leaf_buf);
                    leaf_buf.fill(T::Acc::ZERO);
                    rows_in_leaf = 0;
                }
            }
        });
        if rows_in_leaf > 0 {
            cascade.push(leaf_buf);
        }
        cascade.finish(&mut dst[c0..c0 + width]);
    }
}

/// Converts one element between dtypes with PyTorch's cast rules
/// (bool: nonzero; integers wrap; floats to integers truncate).
fn convert<T: Element, O: Element>(v: T) -> O {
    if O::DTYPE == DType::Bool {
        O::from_bool(v.to_bool())
    } else if O::DTYPE.is_floating_point() {
        O::from_f64(v.to_f64())
    } else {
        O::from_i64(v.to_i64())
    }
}

fn cast_typed<T: Element, O: Element>(x: &Tensor) -> Result<Tensor> {
    let values: Vec<O> = x.to_vec::<T>()?.into_iter().map(convert::<T, O>).collect();
    Tensor::from_vec(values, x.sizes())
}

/// A contiguous copy of `x` converted to `to`.
fn cast_contiguous(x: &Tensor, to: DType) -> Result<Tensor> {
    dispatch_dtype!(x.dtype(), T => dispatch_dtype!(to, O => cast_typed::<T, O>(x)))
}

/// The reduction request after argument checks.
struct Request {
    /// dtype the input is summed as (the input is cast to it if needed).
    sum_dtype: DType,
    out_dtype: DType,
    mean: bool,
}

/// Validates dims and runs the reduction.
fn reduce(op: &str, x: &Tensor, dim: Option<&[i64]>, keepdim: bool, req: Request) -> Result<Tensor> {
    let nd = x.dim();
    let mut mask = vec![true; nd];
    if let Some(dims) = dim.filter(|d| !d.is_empty()) {
        mask.fill(false);
        for w in shape::wrap_dims(op, dims, nd)? {
            if w < nd {
                mask[w] = true;
            }
        }
    }
    let out_sizes: DimVec = x
        .sizes()
        .iter()
        .zip(&mask)
        .filter_map(|(&s, &m)| {
            if !m {
                Some(s)
            } else if keepdim {
                Some(1)
            } else {
                None
            }
        })
        .collect();
    let count: usize = x
        .sizes()
        .iter()
        .zip(&mask)
        .filter(|(_, &m)| m)
        .map(|(&s, _)| s)
        .product();
    let natural = match SumKind::of(x.dtype()) {
        SumKind::Float => {
            x.dtype() == req.sum_dtype || (x.dtype().opmath() == DType::F32 && req.sum_dtype == DType::F32)
        }
        SumKind::Int => req.sum_dtype.is_integral(false),
    };
    let src = if natural {
        x.clone()
    } else {
        cast_contiguous(x, req.sum_dtype)?
    };
    dispatch_dtype!(src.dtype(), T => {
        let sums = reduce_typed::<T>(&src, &mask);
        store(sums, &out_sizes, req.out_dtype, req.mean.then_some(count))
    })
}

/// Whether a dtype sums in a float or an integer accumulator.
enum SumKind {
    Float,
    Int,
}

impl SumKind {
    fn of(d: DType) -> SumKind {
        if d.is_floating_point() {
            SumKind::Float
        } else {
            SumKind::Int
        }
    }
}

/// Builds the contiguous output from accumulators (dividing for mean).
fn store<A: Accum>(sums: Vec<A>, sizes: &[usize], dtype: DType, mean_count: Option<usize>) -> Result<Tensor> {
    dispatch_dtype!(dtype, O => {
        let values: Vec<O> = match mean_count {
            Some(n) => sums.into_iter().map(|a| a.div_count(n).store::<O>()).collect(),
            None => sums.into_iter().map(|a| a.store::<O>()).collect(),
        };
        Tensor::from_vec(values, sizes)
    })
}

fn sum_request(x: &Tensor, dtype: Option<DType>) -> Request {
    let out_dtype = dtype.unwrap_or(if x.dtype().is_integral(true) {
        DType::I64
    } else {
        x.dtype()
    });
    Request {
        sum_dtype: out_dtype,
        out_dtype,
        mean: false,
    }
}

fn mean_request(op: &str, x: &Tensor, dtype: Option<DType>) -> Result<Request> {
    let out_dtype = dtype.unwrap_or(x.dtype());
    if !out_dtype.is_floating_point() {
        return Err(Error::dtype(
            op,
            format!(
                "mean(): could not infer output dtype. {} dtype must be either a floating point or complex dtype. Got: {}",
                if dtype.is_some() { "Optional" } else { "Input" },
                out_dtype.scalar_type_name()
            ),
        ));
    }
    // Like PyTorch, reduced-precision means are summed and divided in float32.
    Ok(Request {
        sum_dtype: out_dtype.opmath(),
        out_dtype,
        mean: true,
    })
}

/// `aten::sum`: the sum of all elements as a 0-dim tensor. Bool and integer
/// inputs sum to int64 unless `dtype` is given (the input is cast to `dtype` first).
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// let s = ft_kernels::reduce::sum(&t, None).unwrap();
/// assert_eq!((s.dim(), s.dtype()), (0, DType::I64));
/// assert_eq!(s.to_vec::<i64>().unwrap(), vec![10]);
/// let f = ft_kernels::reduce::sum(&t, Some(DType::F64)).unwrap();
/// assert_eq!(f.to_vec::<f64>().unwrap(), vec![10.0]);
/// ```
pub fn sum(self_: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    reduce("aten::sum", self_, None, false, sum_request(self_, dtype))
}

/// `aten::sum.dim_IntList`: sums over `dim` (None or empty: all dims),
/// keeping reduced dims as size 1 when `keepdim`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
/// let s = ft_kernels::reduce::sum_dim(&t, Some(&[0]), false, None).unwrap();
/// assert_eq!(s.to_vec::<f32>().unwrap(), vec![5.0, 7.0, 9.0]);
/// let k = ft_kernels::reduce::sum_dim(&t, Some(&[-1]), true, None).unwrap();
/// assert_eq!(k.sizes(), &[2, 1]);
/// assert_eq!(k.to_vec::<f32>().unwrap(), vec![6.0, 15.0]);
/// ```
pub fn sum_dim(self_: &Tensor, dim: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    reduce("aten::sum.dim_IntList", self_, dim, keepdim, sum_request(self_, dtype))
}

/// `aten::mean`: the mean of all elements. The result dtype (`dtype`, else the
/// input's) must be floating point; the mean of no elements is NaN.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 6.0], &[4]).unwrap();
/// assert_eq!(ft_kernels::reduce::mean(&t, None).unwrap().to_vec::<f64>().unwrap(), vec![3.0]);
/// let i = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// assert!(ft_kernels::reduce::mean(&i, None).is_err());
/// assert_eq!(ft_kernels::reduce::mean(&i, Some(DType::F32)).unwrap().to_vec::<f32>().unwrap(), vec![1.5]);
/// ```
pub fn mean(self_: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    const OP: &str = "aten::mean";
    let req = mean_request(OP, self_, dtype)?;
    reduce(OP, self_, None, false, req)
}

/// `aten::mean.dim`: the mean over `dim` (None or empty: all dims).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let m = ft_kernels::reduce::mean_dim(&t, Some(&[1]), false, None).unwrap();
/// assert_eq!(m.to_vec::<f32>().unwrap(), vec![1.5, 3.5]);
/// ```
pub fn mean_dim(self_: &Tensor, dim: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    const OP: &str = "aten::mean.dim";
    let req = mean_request(OP, self_, dtype)?;
    reduce(OP, self_, dim, keepdim, req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view;
    use ft_runtime::half::{bf16, f16};
    use ft_runtime::ErrorKind;

    fn f32s(n: usize, sizes: &[usize]) -> Tensor {
        let v: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32) * 0.01 - 0.3).collect();
        Tensor::from_vec(v, sizes).unwrap()
    }

    /// Reference: sum in f64 over the reduced dims by brute force.
    fn reference(x: &Tensor, dims: &[usize], keepdim: bool) -> Vec<f64> {
        let vals = x.to_f64_vec();
        let sizes = x.sizes();
        let out_sizes: Vec<usize> = sizes
            .iter()
            .enumerate()
            .map(|(d, &s)| if dims.contains(&d) { 1 } else { s })
            .collect();
        let _ = keepdim;
        let mut out = vec![0.0; out_sizes.iter().product()];
        let mut idx = vec![0usize; sizes.len()];
        for v in vals {
            let mut o = 0;
            for d in 0..sizes.len() {
                o = o * out_sizes[d] + if dims.contains(&d) { 0 } else { idx[d] };
            }
            out[o] += v;
            for d in (0..sizes.len()).rev() {
                idx[d] += 1;
                if idx[d] < sizes[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        out
    }

    fn assert_close(a: &[f64], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn parallel_sum_keeps_the_serial_cascade_order() {
        let n = 3 * CHUNK_BLOCKS * BLOCK + 12_345;
        let v: Vec<f32> = (0..n).map(|i| ((i * 7919 % 10007) as f32) * 1e-3 - 4.0).collect();
        let serial = sum_serial(&v).finish();
        let one = parallel::with_threads(1, || sum_slice(&v));
        let three = parallel::with_threads(3, || sum_slice(&v));
        assert_eq!(serial.to_bits(), one.to_bits());
        assert_eq!(one.to_bits(), three.to_bits());
        let exact: f64 = v.iter().map(|&x| x as f64).sum();
        assert!(
            (serial as f64 - exact).abs() < 1e-6 * exact.abs(),
            "{serial} vs {exact}"
        );
        let t = Tensor::from_vec(v[..200 * 1000].to_vec(), &[200, 1000]).unwrap();
        let rows = |threads| {
            parallel::with_threads(threads, || {
                sum_dim(&t, Some(&[1]), false, None).unwrap().to_vec::<f32>().unwrap()
            })
        };
        let want: Vec<f32> = v[..200 * 1000].chunks(1000).map(|r| sum_serial(r).finish()).collect();
        assert_eq!(rows(1), want);
        assert_eq!(rows(3), want);
    }

    #[test]
    fn sum_all_dtypes() {
        let i = Tensor::from_vec(vec![1i8, 2, 3, 127], &[4]).unwrap();
        let s = sum(&i, None).unwrap();
        assert_eq!((s.dtype(), s.to_vec::<i64>().unwrap()), (DType::I64, vec![133]));
        let b = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
        assert_eq!(sum(&b, None).unwrap().to_vec::<i64>().unwrap(), vec![2]);
        let u = Tensor::from_vec(vec![200u8, 100], &[2]).unwrap();
        assert_eq!(sum(&u, Some(DType::U8)).unwrap().to_vec::<u8>().unwrap(), vec![44]);
        let h = Tensor::from_vec(vec![f16::from_f32(1.5), f16::from_f32(2.25)], &[2]).unwrap();
        let hs = sum(&h, None).unwrap();
        assert_eq!(
            (hs.dtype(), hs.to_vec::<f16>().unwrap()),
            (DType::F16, vec![f16::from_f32(3.75)])
        );
        let bh = Tensor::from_vec(vec![bf16::from_f32(1.0); 300], &[300]).unwrap();
        assert_eq!(
            sum(&bh, None).unwrap().to_vec::<bf16>().unwrap(),
            vec![bf16::from_f32(300.0)]
        );
        let d = Tensor::from_vec(vec![0.1f64; 10], &[10]).unwrap();
        assert_eq!(sum(&d, None).unwrap().dtype(), DType::F64);
        let l = Tensor::from_vec(vec![i64::MAX, 1], &[2]).unwrap();
        assert_eq!(sum(&l, None).unwrap().to_vec::<i64>().unwrap(), vec![i64::MIN]);
    }

    #[test]
    fn sum_with_dtype_casts_first() {
        let f = Tensor::from_vec(vec![1.7f32, 2.6, -0.5], &[3]).unwrap();
        assert_eq!(sum(&f, Some(DType::I64)).unwrap().to_vec::<i64>().unwrap(), vec![3]);
        let i = Tensor::from_vec(vec![1i64, -1], &[2]).unwrap();
        assert_eq!(
            sum(&i, Some(DType::Bool)).unwrap().to_vec::<bool>().unwrap(),
            vec![true]
        );
        let z = Tensor::from_vec(vec![0i64, 0], &[2]).unwrap();
        assert_eq!(
            sum(&z, Some(DType::Bool)).unwrap().to_vec::<bool>().unwrap(),
            vec![false]
        );
        let big = Tensor::from_vec(vec![70000.0f32, 70000.0], &[2]).unwrap();
        let h = sum(&big, Some(DType::F16)).unwrap();
        assert_eq!(h.dtype(), DType::F16);
        assert!(h.to_vec::<f16>().unwrap()[0].is_infinite());
        let d = sum(&f, Some(DType::F64)).unwrap();
        assert!((d.to_vec::<f64>().unwrap()[0] - 3.8).abs() < 1e-6);
    }

    #[test]
    fn sum_dim_matches_reference() {
        let x = f32s(2 * 3 * 40 * 17, &[2, 3, 40, 17]);
        let cases: &[&[usize]] = &[
            &[0],
            &[1],
            &[2],
            &[3],
            &[0, 2],
            &[1, 3],
            &[0, 1, 2, 3],
            &[2, 3],
            &[0, 1],
        ];
        for dims in cases {
            let di: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
            let s = sum_dim(&x, Some(&di), true, None).unwrap();
            assert_eq!(s.dtype(), DType::F32);
            assert!(s.is_contiguous());
            assert_close(&s.to_f64_vec(), &reference(&x, dims, true), 1e-5);
            let s2 = sum_dim(&x, Some(&di), false, None).unwrap();
            assert_eq!(s2.numel(), s.numel());
            assert_eq!(s2.dim(), 4 - dims.len());
        }
    }

    #[test]
    fn sum_non_contiguous_and_expanded() {
        let x = f32s(30 * 20, &[30, 20]);
        let t = view::transpose(&x, 0, 1).unwrap();
        for d in [0usize, 1] {
            let s = sum_dim(&t, Some(&[d as i64]), false, None).unwrap();
            assert_close(&s.to_f64_vec(), &reference(&t, &[d], false), 1e-5);
        }
        let strided = view::as_strided(&x, &[10, 7], &[40, 3], Some(5)).unwrap();
        for dims in [&[0usize][..], &[1], &[0, 1]] {
            let di: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
            let s = sum_dim(&strided, Some(&di), false, None).unwrap();
            assert_close(&s.to_f64_vec(), &reference(&strided, dims, false), 1e-5);
        }
        let row = Tensor::from_vec((0..50).map(|v| v as f64).collect::<Vec<_>>(), &[50]).unwrap();
        let e = view::expand(&row, &[1000, 50], false).unwrap();
        let s0 = sum_dim(&e, Some(&[0]), false, None).unwrap();
        assert_eq!(
            s0.to_vec::<f64>().unwrap(),
            (0..50).map(|v| v as f64 * 1000.0).collect::<Vec<_>>()
        );
        let s1 = sum_dim(&e, Some(&[1]), false, None).unwrap();
        assert_eq!(s1.to_vec::<f64>().unwrap(), vec![1225.0; 1000]);
        assert_eq!(sum(&e, None).unwrap().to_vec::<f64>().unwrap(), vec![1225000.0]);
        let col = Tensor::from_vec(vec![1i32, 2, 3], &[3, 1]).unwrap();
        let ec = view::expand(&col, &[3, 4], false).unwrap();
        assert_eq!(
            sum_dim(&ec, Some(&[0]), false, None).unwrap().to_vec::<i64>().unwrap(),
            vec![6; 4]
        );
    }

    #[test]
    fn sum_size_zero_and_zero_dim() {
        let e = Tensor::zeros_contiguous(&[0, 3], DType::F32);
        let s = sum_dim(&e, Some(&[0]), false, None).unwrap();
        assert_eq!((s.sizes(), s.to_vec::<f32>().unwrap()), (&[3usize][..], vec![0.0; 3]));
        assert_eq!(sum_dim(&e, Some(&[1]), true, None).unwrap().sizes(), &[0, 1]);
        assert_eq!(sum(&e, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
        let s0 = Tensor::from_vec(vec![5i16], &[]).unwrap();
        for dims in [None, Some(&[0i64][..]), Some(&[-1][..]), Some(&[][..])] {
            for keepdim in [false, true] {
                let r = sum_dim(&s0, dims, keepdim, None).unwrap();
                assert_eq!((r.dim(), r.to_vec::<i64>().unwrap()), (0, vec![5]));
            }
        }
        assert_eq!(
            sum_dim(&s0, Some(&[1]), false, None).unwrap_err().kind(),
            ErrorKind::DimOutOfRange
        );
        assert!(sum_dim(&s0, Some(&[0, -1]), false, None).is_err());
    }

    #[test]
    fn sum_dim_errors_and_keepdim() {
        let x = f32s(24, &[2, 3, 4]);
        let e = sum_dim(&x, Some(&[1, -2]), false, None).unwrap_err();
        assert_eq!(e.message(), "dim 1 appears multiple times in the list of dims");
        assert_eq!(e.op(), "aten::sum.dim_IntList");
        assert_eq!(
            sum_dim(&x, Some(&[3]), false, None).unwrap_err().kind(),
            ErrorKind::DimOutOfRange
        );
        assert_eq!(sum_dim(&x, None, true, None).unwrap().sizes(), &[1, 1, 1]);
        assert_eq!(sum_dim(&x, Some(&[]), false, None).unwrap().sizes(), &[] as &[usize]);
        assert_eq!(sum_dim(&x, Some(&[0, 2]), true, None).unwrap().sizes(), &[1, 3, 1]);
        assert_eq!(sum_dim(&x, Some(&[2, 0]), false, None).unwrap().sizes(), &[3]);
    }

    #[test]
    fn float32_sum_is_accurate() {
        // A naive f32 loop drifts badly here; the cascade stays close to exact.
        let n = 10_000_000;
        let x = Tensor::from_vec(vec![0.1f32; n], &[n]).unwrap();
        let s = sum(&x, None).unwrap().to_vec::<f32>().unwrap()[0] as f64;
        let exact = 0.1f32 as f64 * n as f64;
        assert!((s - exact).abs() / exact < 1e-6, "{s} vs {exact}");
        let cols = view::view(&x, &[100_000, 100]).unwrap();
        let c = sum_dim(&cols, Some(&[0]), false, None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(c
            .iter()
            .all(|&v| ((v as f64) - exact / 100.0).abs() / (exact / 100.0) < 1e-6));
    }

    #[test]
    fn sum_is_deterministic() {
        let x = f32s(100_003, &[100_003]);
        let a = sum(&x, None).unwrap().to_vec::<f32>().unwrap();
        let b = sum(&x, None).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(a[0].to_bits(), b[0].to_bits());
    }

    #[test]
    fn strided_runs_match_contiguous_bits() {
        // The same element sequence gives bit-identical sums on every path.
        let base = f32s(3 * 1001, &[3 * 1001]);
        let gappy = view::as_strided(&base, &[3, 1000], &[1001, 1], None).unwrap();
        let packed = Tensor::from_vec(gappy.to_vec::<f32>().unwrap(), &[3000]).unwrap();
        let a = sum(&gappy, None).unwrap().to_vec::<f32>().unwrap()[0];
        let b = sum(&packed, None).unwrap().to_vec::<f32>().unwrap()[0];
        assert_eq!(a.to_bits(), b.to_bits());
        let every_other = view::as_strided(&base, &[1500], &[2], None).unwrap();
        let packed2 = Tensor::from_vec(every_other.to_vec::<f32>().unwrap(), &[1500]).unwrap();
        let c = sum(&every_other, None).unwrap().to_vec::<f32>().unwrap()[0];
        let d = sum(&packed2, None).unwrap().to_vec::<f32>().unwrap()[0];
        assert_eq!(c.to_bits(), d.to_bits());
    }

    #[test]
    fn mean_values_and_dtypes() {
        let x = f32s(60, &[3, 4, 5]);
        let m = mean_dim(&x, Some(&[1, 2]), false, None).unwrap();
        let r: Vec<f64> = reference(&x, &[1, 2], false).iter().map(|v| v / 20.0).collect();
        assert_close(&m.to_f64_vec(), &r, 1e-5);
        let h = Tensor::from_vec(vec![f16::from_f32(60000.0); 4], &[4]).unwrap();
        let hm = mean(&h, None).unwrap();
        assert_eq!(
            (hm.dtype(), hm.to_vec::<f16>().unwrap()[0].to_f32()),
            (DType::F16, 60000.0)
        );
        let i = Tensor::from_vec(vec![1i32, 2, 3, 5], &[4]).unwrap();
        let im = mean(&i, Some(DType::F64)).unwrap();
        assert_eq!((im.dtype(), im.to_vec::<f64>().unwrap()), (DType::F64, vec![2.75]));
        let hd = mean(&x, Some(DType::BF16)).unwrap();
        assert_eq!(hd.dtype(), DType::BF16);
        let e = Tensor::zeros_contiguous(&[0, 2], DType::F64);
        assert!(mean(&e, None).unwrap().to_vec::<f64>().unwrap()[0].is_nan());
        let ed = mean_dim(&e, Some(&[0]), true, None).unwrap();
        assert_eq!(ed.sizes(), &[1, 2]);
        assert!(ed.to_vec::<f64>().unwrap().iter().all(|v| v.is_nan()));
        assert_eq!(mean_dim(&e, Some(&[1]), false, None).unwrap().sizes(), &[0]);
    }

    #[test]
    fn mean_dtype_errors() {
        let i = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
        let e = mean(&i, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DType);
        assert_eq!(
            e.message(),
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"
        );
        let f = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
        let e = mean_dim(&f, Some(&[0]), false, Some(DType::I32)).unwrap_err();
        assert!(
            e.message().contains("Optional dtype must be") && e.message().ends_with("Got: Int"),
            "{e}"
        );
        assert_eq!(e.op(), "aten::mean.dim");
        let b = Tensor::from_vec(vec![true], &[1]).unwrap();
        assert!(mean(&b, None).unwrap_err().message().ends_with("Got: Bool"));
    }
}
