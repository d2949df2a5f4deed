//! A strided N-D elementwise iteration engine (the role of PyTorch's
//! `TensorIterator`), shared by the binary, unary and copy kernels.
//!
//! The engine has three layers:
//!
//! 1. **Layout math** (pure functions over sizes and strides):
//!    [`is_non_overlapping_and_dense`], [`dense_strides_like`],
//!    [`output_strides`]. A new output follows the memory layout (the stride
//!    permutation) of the inputs, exactly as PyTorch's iterator allocates it.
//! 2. **Typed loops** [`fill`], [`map1`] and [`map2`]: they broadcast the
//!    inputs to the output's shape, order the dims from fastest to slowest
//!    moving, coalesce dims that are contiguous with each other, and call a
//!    closure over element values in a fixed (deterministic) order. All element
//!    access goes through raw pointers under one [`StorageAccess`] guard.
//! 3. **[`Elementwise`]**: the op-level driver. It checks memory overlap of an
//!    in-place destination, broadcasts shapes, checks the cast to the
//!    destination, converts inputs to the compute dtype (like PyTorch's CPU
//!    iterator, which makes converted temporaries), allocates the output and
//!    writes a result of another dtype back into the destination.
//!
//! Arithmetic on float16/bfloat16 happens in float32 ("opmath", see
//! [`OpMath`]) and is rounded back once.

use ft_runtime::half::{bf16, f16};
use ft_runtime::parallel;
use ft_runtime::shape::{self, DimVec};
use ft_runtime::tensor::for_each_offset;
use ft_runtime::{can_cast, dispatch_dtype, DType, Element, Error, ErrorKind, Result, Scalar, StorageAccess, Tensor};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::ops::Range;

// ---------------------------------------------------------------------------
// Element arithmetic
// ---------------------------------------------------------------------------

/// Arithmetic on a compute ("opmath") type: integers wrap, `bool` is logical.
///
/// ```
/// use ft_kernels::iter::Arith;
/// assert_eq!(Arith::add(250u8, 10u8), 4);
/// assert!(Arith::add(true, false));
/// assert!(!Arith::mul(true, false));
/// assert_eq!(Arith::mul(1.5f32, 2.0), 3.0);
/// ```
pub trait Arith: Copy + PartialOrd + Send + Sync + 'static {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// `self + rhs` (wrapping for integers, logical or for bool).
    fn add(self, rhs: Self) -> Self;
    /// `self - rhs` (wrapping for integers, `self && !rhs` for bool).
    fn sub(self, rhs: Self) -> Self;
    /// `self * rhs` (wrapping for integers, logical and for bool).
    fn mul(self, rhs: Self) -> Self;
    /// `-self` (wrapping for integers, identity for bool).
    fn neg(self) -> Self;
}

impl Arith for bool {
    const ZERO: Self = false;
    const ONE: Self = true;
    fn add(self, rhs: Self) -> Self {
        self | rhs
    }
    fn sub(self, rhs: Self) -> Self {
        self & !rhs
    }
    fn mul(self, rhs: Self) -> Self {
        self & rhs
    }
    fn neg(self) -> Self {
        self
    }
}

macro_rules! int_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            fn add(self, rhs: Self) -> Self {
                self.wrapping_add(rhs)
            }
            fn sub(self, rhs: Self) -> Self {
                self.wrapping_sub(rhs)
            }
            fn mul(self, rhs: Self) -> Self {
                self.wrapping_mul(rhs)
            }
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
        }
    )*};
}
int_arith!(u8, i8, i16, i32, i64);

/// Floating-point math on a compute type (`f32` or `f64`).
///
/// ```
/// use ft_kernels::iter::FloatMath;
/// assert_eq!(FloatMath::div(1.0f64, 4.0), 0.25);
/// assert_eq!(FloatMath::exp(0.0f32), 1.0);
/// ```
pub trait FloatMath: Arith {
    /// `self / rhs` (IEEE: division by zero gives inf or NaN).
    fn div(self, rhs: Self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Absolute value (NaN stays NaN, `-0.0` becomes `0.0`).
    fn abs(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Tangent.
    fn tan(self) -> Self;
    /// Hyperbolic sine.
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    fn cosh(self) -> Self;
    /// Arcsine (NaN outside [-1, 1]).
    fn asin(self) -> Self;
    /// Arccosine (NaN outside [-1, 1]).
    fn acos(self) -> Self;
    /// Arctangent.
    fn atan(self) -> Self;
    /// Inverse hyperbolic sine.
    fn asinh(self) -> Self;
    /// Inverse hyperbolic cosine (NaN below 1).
    fn acosh(self) -> Self;
    /// Inverse hyperbolic tangent (NaN outside [-1, 1]).
    fn atanh(self) -> Self;
    /// The Gauss error function.
    fn erf(self) -> Self;
    /// `e^self - 1`, accurate near zero.
    fn expm1(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    fn log1p(self) -> Self;
    /// Base-2 logarithm.
    fn log2(self) -> Self;
    /// Base-10 logarithm.
    fn log10(self) -> Self;
    /// Smallest integer not below `self`.
    fn ceil(self) -> Self;
    /// Largest integer not above `self`.
    fn floor(self) -> Self;
    /// Nearest integer, ties to even (C's `nearbyint`).
    fn round_even(self) -> Self;
    /// Integer part, rounding toward zero.
    fn trunc(self) -> Self;
}

/// The Gauss error function in float64.
///
/// Below `|x| = 6` it sums the all-positive series
/// `erf(x) = 2/sqrt(pi) * e^(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1))`,
/// which has no cancellation; beyond, `erf(x)` rounds to `±1`.
///
/// ```
/// use ft_kernels::iter::erf_f64;
/// assert_eq!(erf_f64(0.0), 0.0);
/// assert!((erf_f64(1.0) - 0.8427007929497149).abs() < 1e-15);
/// assert_eq!(erf_f64(-7.0), -1.0);
/// assert!(erf_f64(f64::NAN).is_nan());
/// ```
pub fn erf_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a >= 6.0 {
        return 1.0f64.copysign(x);
    }
    let two_x2 = 2.0 * a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0f64;
    loop {
        n += 1.0;
        term *= two_x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    let r = (std::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp() * sum).min(1.0);
    r.copysign(x)
}

macro_rules! float_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn add(self, rhs: Self) -> Self {
                self + rhs
            }
            fn sub(self, rhs: Self) -> Self {
                self - rhs
            }
            fn mul(self, rhs: Self) -> Self {
                self * rhs
            }
            fn neg(self) -> Self {
                -self
            }
        }
        impl FloatMath for $t {
            fn div(self, rhs: Self) -> Self {
                self / rhs
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            // Transcendentals are evaluated in float64 and rounded once, so
            // float32 results are within an ulp of the exact value.
            fn tan(self) -> Self {
                f64::tan(self as f64) as $t
            }
            fn sinh(self) -> Self {
                f64::sinh(self as f64) as $t
            }
            fn cosh(self) -> Self {
                f64::cosh(self as f64) as $t
            }
            fn asin(self) -> Self {
                f64::asin(self as f64) as $t
            }
            fn acos(self) -> Self {
                f64::acos(self as f64) as $t
            }
            fn atan(self) -> Self {
                f64::atan(self as f64) as $t
            }
            fn asinh(self) -> Self {
                f64::asinh(self as f64) as $t
            }
            fn acosh(self) -> Self {
                f64::acosh(self as f64) as $t
            }
            fn atanh(self) -> Self {
                f64::atanh(self as f64) as $t
            }
            fn erf(self) -> Self {
                erf_f64(self as f64) as $t
            }
            fn expm1(self) -> Self {
                f64::exp_m1(self as f64) as $t
            }
            fn log1p(self) -> Self {
                f64::ln_1p(self as f64) as $t
            }
            fn log2(self) -> Self {
                f64::log2(self as f64) as $t
            }
            fn log10(self) -> Self {
                f64::log10(self as f64) as $t
            }
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn round_even(self) -> Self {
                <$t>::round_ties_even(self)
            }
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
        }
    )*};
}
float_arith!(f32, f64);

/// An element type together with the type its arithmetic is done in
/// (PyTorch's `opmath_type`): `f32` for float16/bfloat16, itself otherwise.
///
/// ```
/// use ft_kernels::iter::OpMath;
/// use ft_runtime::half::f16;
/// let x = f16::from_f32(1.5);
/// let wide: f32 = x.widen();
/// assert_eq!(f16::narrow(wide * 2.0), f16::from_f32(3.0));
/// assert_eq!(7i32.widen(), 7);
/// ```
pub trait OpMath: Element {
    /// The compute type.
    type Acc: Arith;
    /// Converts an element to the compute type (exact).
    fn widen(self) -> Self::Acc;
    /// Rounds a computed value back to the element type.
    fn narrow(acc: Self::Acc) -> Self;
    /// A scalar argument in the compute type, without first rounding it to
    /// the element type (how PyTorch passes thresholds to reduced-float kernels).
    fn acc_from_scalar(s: Scalar) -> Self::Acc {
        s.to_elem::<Self>().widen()
    }
}

macro_rules! identity_opmath {
    ($($t:ty),*) => {$(
        impl OpMath for $t {
            type Acc = $t;
            fn widen(self) -> Self::Acc {
                self
            }
            fn narrow(acc: Self::Acc) -> Self {
                acc
            }
        }
    )*};
}
identity_opmath!(bool, u8, i8, i16, i32, i64, f32, f64);

macro_rules! reduced_opmath {
    ($($t:ty),*) => {$(
        impl OpMath for $t {
            type Acc = f32;
            fn widen(self) -> f32 {
                self.to_f32()
            }
            fn narrow(acc: f32) -> Self {
                <$t>::from_f32(acc)
            }
            fn acc_from_scalar(s: Scalar) -> f32 {
                s.to_elem::<f32>()
            }
        }
    )*};
}
reduced_opmath!(f16, bf16);

/// Runs `$body` with `$T` bound to the element type of a floating `$dtype`,
/// or evaluates `$other` for any other dtype.
macro_rules! dispatch_float {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            ::ft_runtime::DType::F16 => {
                type $T = ::ft_runtime::half::f16;
                $body
            }
            ::ft_runtime::DType::BF16 => {
                type $T = ::ft_runtime::half::bf16;
                $body
            }
            ::ft_runtime::DType::F32 => {
                type $T = f32;
                $body
            }
            ::ft_runtime::DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    }};
}
pub(crate) use dispatch_float;

/// Converts one element between dtypes with PyTorch's CPU cast semantics:
/// anything to bool is `!= 0`; float to integer truncates toward zero and
/// wraps into narrow types through int64 (so `-1.0` becomes `255u8`, as c10
/// does); integer to integer wraps.
///
/// ```
/// use ft_kernels::iter::cast;
/// assert_eq!(cast::<f32, i32>(-2.7), -2);
/// assert_eq!(cast::<f64, u8>(-1.0), 255);
/// assert_eq!(cast::<i64, i8>(300), 44);
/// assert!(cast::<f32, bool>(0.5));
/// assert_eq!(cast::<bool, f64>(true), 1.0);
/// ```
#[inline(always)]
pub fn cast<S: Element, D: Element>(s: S) -> D {
    if S::DTYPE == DType::Bool {
        D::from_bool(s.to_bool())
    } else if S::DTYPE.is_floating_point() {
        if D::DTYPE.is_integral(false) {
            D::from_i64(s.to_f64() as i64)
        } else {
            D::from_f64(s.to_f64())
        }
    } else {
        D::from_i64(s.to_i64())
    }
}

/// Reads one element; bools are read as bytes so that any stored byte is valid.
///
/// # Safety
/// `p` must be valid for reads and aligned for `T`, under a storage lock.
#[inline(always)]
unsafe fn load<T: Element>(p: *const T) -> T {
    if T::DTYPE == DType::Bool {
        // SAFETY: the caller guarantees `p` is readable; a byte has no invalid values.
        T::from_bool(unsafe { p.cast::<u8>().read() } != 0)
    } else {
        // SAFETY: as above; every bit pattern is a valid non-bool element.
        unsafe { p.read() }
    }
}

// ---------------------------------------------------------------------------
// Layout math
// ---------------------------------------------------------------------------

/// PyTorch's `is_non_overlapping_and_dense`: the elements exactly fill a
/// contiguous block of memory in some dim order.
///
/// ```
/// use ft_kernels::iter::is_non_overlapping_and_dense;
/// assert!(is_non_overlapping_and_dense(&[2, 3], &[1, 2])); // a transpose
/// assert!(!is_non_overlapping_and_dense(&[2, 3], &[0, 1])); // expanded
/// assert!(!is_non_overlapping_and_dense(&[2, 3], &[6, 2])); // sliced
/// ```
pub fn is_non_overlapping_and_dense(sizes: &[usize], strides: &[usize]) -> bool {
    if sizes.len() == 1 {
        return sizes[0] < 2 || strides[0] == 1;
    }
    let mut dims: SmallVec<[usize; 6]> = (0..sizes.len()).collect();
    dims.sort_by_key(|&d| (sizes[d] < 2, strides[d]));
    let mut expected = 1usize;
    for d in dims {
        if sizes[d] < 2 {
            return true;
        }
        if strides[d] != expected {
            return false;
        }
        expected = expected.saturating_mul(sizes[d]);
    }
    true
}

/// Orders dim `d0` relative to `d1` by the operands' strides, as PyTorch's
/// iterator does: the first operand with two non-zero, different strides
/// decides; equal strides put the smaller dim first; otherwise undecided.
fn compare_dims(shape: &[usize], strides: &[&[usize]], d0: usize, d1: usize) -> Ordering {
    for st in strides {
        let (s0, s1) = (st[d0], st[d1]);
        if s0 == 0 || s1 == 0 {
            continue;
        }
        match s0.cmp(&s1) {
            Ordering::Equal if shape[d0] > shape[d1] => return Ordering::Greater,
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// The dim order from fastest to slowest moving implied by `strides` (one
/// stride list per operand, already broadcast to `shape`). Starts from
/// row-major order and insertion-sorts with undecided comparisons skipped,
/// so dims that no operand orders keep their row-major order.
///
/// ```
/// use ft_kernels::iter::layout_perm;
/// assert_eq!(layout_perm(&[2, 3], &[&[3, 1]]).as_slice(), &[1, 0]);
/// assert_eq!(layout_perm(&[2, 3], &[&[1, 2]]).as_slice(), &[0, 1]);
/// ```
pub fn layout_perm(shape: &[usize], strides: &[&[usize]]) -> DimVec {
    let nd = shape.len();
    let mut perm: DimVec = (0..nd).rev().collect();
    for i in 1..nd {
        let mut moving = i;
        for j in (0..i).rev() {
            match compare_dims(shape, strides, perm[j], perm[moving]) {
                Ordering::Greater => {
                    perm.swap(j, moving);
                    moving = j;
                }
                Ordering::Less => break,
                Ordering::Equal => {}
            }
        }
    }
    perm
}

/// Dense strides that keep the dim order of (`sizes`, `strides`) (PyTorch's
/// `infer_dense_strides`, used by `empty_like` and `clone` for inputs that are
/// not dense).
///
/// ```
/// use ft_kernels::iter::dense_strides_like;
/// // a transposed, column-sliced [4, 3] view keeps its column-major order
/// assert_eq!(dense_strides_like(&[4, 3], &[1, 8]).as_slice(), &[1, 4]);
/// assert_eq!(dense_strides_like(&[2, 3], &[0, 1]).as_slice(), &[3, 1]);
/// ```
pub fn dense_strides_like(sizes: &[usize], strides: &[usize]) -> DimVec {
    let nd = sizes.len();
    if nd <= 1 {
        return SmallVec::from_elem(1, nd);
    }
    let perm = layout_perm(sizes, &[strides]);
    let mut out: DimVec = SmallVec::from_elem(0, nd);
    let mut next = 1usize;
    for &d in &perm {
        out[d] = next;
        if sizes[d] > 1 {
            next = next.saturating_mul(sizes[d]);
        }
    }
    out
}

/// The strides `empty_like(t)` gives under `preserve_format`: `t`'s own if it
/// is dense and non-overlapping, otherwise [`dense_strides_like`].
///
/// ```
/// use ft_kernels::iter::preserve_strides;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3], DType::F32).as_view(&[3, 2], &[1, 3], 0).unwrap();
/// assert_eq!(preserve_strides(&t).as_slice(), &[1, 3]);
/// ```
pub fn preserve_strides(t: &Tensor) -> DimVec {
    if is_non_overlapping_and_dense(t.sizes(), t.strides()) {
        t.strides().into()
    } else {
        dense_strides_like(t.sizes(), t.strides())
    }
}

/// Strides of `t` when broadcast to `shape` (0 for broadcast dims).
fn broadcast_strides(t: &Tensor, shape: &[usize]) -> Result<DimVec> {
    shape::expand_strides("TensorIterator", t.sizes(), t.strides(), shape)
}

/// The strides PyTorch's iterator gives a new output of `shape` computed from
/// `inputs`: contiguous if all inputs are contiguous with that shape; the
/// inputs' strides if they all share them and are dense; otherwise dense
/// strides in the dim order the inputs' strides imply (contiguous when that
/// order is row-major).
///
/// ```
/// use ft_kernels::iter::output_strides;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::zeros_contiguous(&[3, 2], DType::F32).as_view(&[2, 3], &[1, 2], 0).unwrap();
/// let row = Tensor::zeros_contiguous(&[3], DType::F32);
/// assert_eq!(output_strides(&[2, 3], &[&a, &row]).as_slice(), &[1, 2]);
/// let c = Tensor::zeros_contiguous(&[2, 3], DType::F32);
/// assert_eq!(output_strides(&[2, 3], &[&c, &row]).as_slice(), &[3, 1]);
/// ```
pub fn output_strides(shape: &[usize], inputs: &[&Tensor]) -> DimVec {
    if inputs.iter().all(|t| t.sizes() == shape) {
        if inputs.iter().all(|t| t.is_contiguous()) {
            return shape::contiguous_strides(shape);
        }
        let first = inputs[0].strides();
        if inputs
            .iter()
            .all(|t| t.strides() == first && is_non_overlapping_and_dense(t.sizes(), t.strides()))
        {
            return first.into();
        }
    }
    let full: Vec<DimVec> = inputs.iter().filter_map(|t| broadcast_strides(t, shape).ok()).collect();
    let refs: Vec<&[usize]> = full.iter().map(|s| s.as_slice()).collect();
    let perm = layout_perm(shape, &refs);
    if perm.iter().enumerate().all(|(i, &d)| d == shape.len() - 1 - i) {
        return shape::contiguous_strides(shape);
    }
    let mut out: DimVec = SmallVec::from_elem(0, shape.len());
    let mut next = 1usize;
    for &d in &perm {
        out[d] = next;
        next = next.saturating_mul(shape[d]);
    }
    out
}

// ---------------------------------------------------------------------------
// Allocation and overlap checks
// ---------------------------------------------------------------------------

/// Above this many bytes, an allocation is first tried fallibly so that an
/// impossible request is an error instead of an abort.
const PROBE_BYTES: usize = 1 << 30;

/// Bytes spanned by a tensor of `sizes`/`strides`, or `None` on overflow.
fn storage_nbytes(sizes: &[usize], strides: &[usize], itemsize: usize) -> Option<usize> {
    if sizes.contains(&0) {
        return Some(0);
    }
    let mut last = 0usize;
    for (&s, &st) in sizes.iter().zip(strides) {
        last = last.checked_add((s - 1).checked_mul(st)?)?;
    }
    let nbytes = last.checked_add(1)?.checked_mul(itemsize)?;
    (nbytes <= i64::MAX as usize).then_some(nbytes)
}

/// A new zero-filled tensor with the given sizes and strides, failing
/// (instead of aborting) when the size overflows or memory is exhausted.
///
/// ```
/// use ft_kernels::iter::empty_strided;
/// use ft_runtime::DType;
/// let t = empty_strided("aten::empty", &[2, 3], &[1, 2], DType::I32).unwrap();
/// assert_eq!(t.strides(), &[1, 2]);
/// assert!(empty_strided("aten::empty", &[usize::MAX, 2], &[2, 1], DType::F32).is_err());
/// ```
pub fn empty_strided(op: &str, sizes: &[usize], strides: &[usize], dtype: DType) -> Result<Tensor> {
    check_allocation(op, sizes, strides, dtype)?;
    Ok(Tensor::zeros_strided(sizes, strides, dtype))
}

/// Like [`empty_strided`], but the elements are initialised to unspecified
/// values (see `Storage::for_overwrite`): only for outputs the caller writes
/// entirely before anything reads them. It skips the memset of a reused block.
///
/// ```
/// use ft_kernels::iter::empty_strided_for_overwrite;
/// use ft_runtime::DType;
/// let t = empty_strided_for_overwrite("aten::add", &[2, 3], &[1, 2], DType::F32).unwrap();
/// assert_eq!(t.strides(), &[1, 2]);
/// assert!(empty_strided_for_overwrite("aten::add", &[usize::MAX, 2], &[2, 1], DType::F32).is_err());
/// ```
pub fn empty_strided_for_overwrite(op: &str, sizes: &[usize], strides: &[usize], dtype: DType) -> Result<Tensor> {
    check_allocation(op, sizes, strides, dtype)?;
    Ok(Tensor::empty_strided_for_overwrite(sizes, strides, dtype))
}

/// Fails when a tensor of `sizes`/`strides` overflows or cannot be allocated.
fn check_allocation(op: &str, sizes: &[usize], strides: &[usize], dtype: DType) -> Result<()> {
    let nbytes = storage_nbytes(sizes, strides, dtype.itemsize()).ok_or_else(|| {
        Error::invalid(
            op,
            format!(
                "Storage size calculation overflowed with sizes={}",
                shape::fmt_sizes(sizes)
            ),
        )
    })?;
    if nbytes >= PROBE_BYTES {
        let mut probe: Vec<u8> = Vec::new();
        probe.try_reserve_exact(nbytes).map_err(|_| {
            Error::invalid(
                op,
                format!("DefaultCPUAllocator: not enough memory: you tried to allocate {nbytes} bytes."),
            )
        })?;
    }
    Ok(())
}

/// A new zero-filled row-major tensor (see [`empty_strided`]).
///
/// ```
/// use ft_kernels::iter::empty_contiguous;
/// use ft_runtime::DType;
/// assert_eq!(empty_contiguous("aten::empty", &[2, 0, 3], DType::F32).unwrap().strides(), &[3, 3, 1]);
/// ```
pub fn empty_contiguous(op: &str, sizes: &[usize], dtype: DType) -> Result<Tensor> {
    empty_strided(op, sizes, &checked_contiguous_strides(op, sizes)?, dtype)
}

/// A new row-major tensor for an output written entirely (see
/// [`empty_strided_for_overwrite`]).
///
/// ```
/// use ft_kernels::iter::empty_contiguous_for_overwrite;
/// use ft_runtime::DType;
/// assert_eq!(empty_contiguous_for_overwrite("aten::exp", &[2, 3], DType::F32).unwrap().numel(), 6);
/// ```
pub fn empty_contiguous_for_overwrite(op: &str, sizes: &[usize], dtype: DType) -> Result<Tensor> {
    empty_strided_for_overwrite(op, sizes, &checked_contiguous_strides(op, sizes)?, dtype)
}

/// Row-major strides of `sizes`, failing when their product overflows.
fn checked_contiguous_strides(op: &str, sizes: &[usize]) -> Result<shape::DimVec> {
    let mut stride_product = 1usize;
    for &s in sizes {
        stride_product = stride_product.checked_mul(s.max(1)).ok_or_else(|| {
            Error::invalid(
                op,
                format!(
                    "Storage size calculation overflowed with sizes={}",
                    shape::fmt_sizes(sizes)
                ),
            )
        })?;
    }
    Ok(shape::contiguous_strides(sizes))
}

/// How two tensors' memory relates (PyTorch's `MemOverlapStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Disjoint memory.
    No,
    /// The same elements in the same layout.
    Full,
    /// Some but not all elements shared, or shared in another layout.
    Partial,
    /// Not decidable cheaply (a tensor is not dense); treated as no overlap.
    TooHard,
}

/// PyTorch's `get_overlap_status(a, b)`.
///
/// ```
/// use ft_kernels::iter::{overlap_status, Overlap};
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::zeros_contiguous(&[4], DType::F32);
/// let head = a.as_view(&[2], &[1], 0).unwrap();
/// let mid = a.as_view(&[2], &[1], 1).unwrap();
/// assert_eq!(overlap_status(&a, &a), Overlap::Full);
/// assert_eq!(overlap_status(&head, &mid), Overlap::Partial);
/// assert_eq!(overlap_status(&head, &a.as_view(&[2], &[1], 2).unwrap()), Overlap::No);
/// ```
pub fn overlap_status(a: &Tensor, b: &Tensor) -> Overlap {
    if a.is_same(b) {
        return Overlap::Full;
    }
    if a.numel() == 0 || b.numel() == 0 {
        return Overlap::No;
    }
    if !is_non_overlapping_and_dense(a.sizes(), a.strides()) || !is_non_overlapping_and_dense(b.sizes(), b.strides()) {
        return Overlap::TooHard;
    }
    if !a.storage().is_same(b.storage()) {
        return Overlap::No;
    }
    let a_begin = a.data_ptr();
    let a_end = a_begin + a.numel() * a.dtype().itemsize();
    let b_begin = b.data_ptr();
    let b_end = b_begin + b.numel() * b.dtype().itemsize();
    if a_begin == b_begin && a_end == b_end {
        return if a.strides() == b.strides() {
            Overlap::Full
        } else {
            Overlap::Partial
        };
    }
    if a_begin < b_end && b_begin < a_end {
        return Overlap::Partial;
    }
    Overlap::No
}

/// Fails if several elements of the written-to tensor `out` share memory
/// (an expanded tensor), as PyTorch's `assert_no_internal_overlap` does.
///
/// ```
/// use ft_kernels::iter::check_no_internal_overlap;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::zeros_contiguous(&[3], DType::F32);
/// assert!(check_no_internal_overlap("aten::add_.Tensor", &a).is_ok());
/// let expanded = a.as_view(&[2, 3], &[0, 1], 0).unwrap();
/// assert!(check_no_internal_overlap("aten::add_.Tensor", &expanded).is_err());
/// ```
pub fn check_no_internal_overlap(op: &str, out: &Tensor) -> Result<()> {
    let internal = !is_non_overlapping_and_dense(out.sizes(), out.strides())
        && out
            .sizes()
            .iter()
            .zip(out.strides())
            .any(|(&size, &stride)| stride == 0 && size > 1);
    if internal {
        return Err(Error::invalid(
            op,
            "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.",
        ));
    }
    Ok(())
}

/// Fails if `input` partially overlaps the written-to tensor `out` (sharing
/// exactly the same view is fine), as PyTorch's `assert_no_partial_overlap`.
///
/// ```
/// use ft_kernels::iter::check_no_partial_overlap;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::zeros_contiguous(&[2, 2], DType::F32);
/// assert!(check_no_partial_overlap("op", &a, &a).is_ok());
/// let t = a.as_view(&[2, 2], &[1, 2], 0).unwrap();
/// assert!(check_no_partial_overlap("op", &a, &t).is_err());
/// ```
pub fn check_no_partial_overlap(op: &str, out: &Tensor, input: &Tensor) -> Result<()> {
    if overlap_status(out, input) == Overlap::Partial {
        return Err(Error::invalid(
            op,
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.",
        ));
    }
    Ok(())
}

/// The broadcast shape of `operands` (in order, PyTorch's `infer_size`
/// messages); if `out` is given it must equal `out`'s shape.
///
/// ```
/// use ft_kernels::iter::broadcast_all;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::zeros_contiguous(&[2, 1], DType::F32);
/// let b = Tensor::zeros_contiguous(&[3], DType::F32);
/// assert_eq!(broadcast_all("op", &[&a, &b], None).unwrap().as_slice(), &[2, 3]);
/// let e = broadcast_all("op", &[&a, &b], Some(&a)).unwrap_err();
/// assert_eq!(e.message(), "output with shape [2, 1] doesn't match the broadcast shape [2, 3]");
/// ```
pub fn broadcast_all(op: &str, operands: &[&Tensor], out: Option<&Tensor>) -> Result<DimVec> {
    let mut shape: DimVec = operands.first().map(|t| t.sizes().into()).unwrap_or_default();
    for t in operands.iter().skip(1) {
        shape = shape::broadcast_shapes(op, &shape, t.sizes())?;
    }
    if let Some(out) = out {
        if out.sizes() != shape.as_slice() {
            return Err(Error::shape(
                op,
                format!(
                    "output with shape {} doesn't match the broadcast shape {}",
                    shape::fmt_sizes(out.sizes()),
                    shape::fmt_sizes(&shape)
                ),
            ));
        }
    }
    Ok(shape)
}

// ---------------------------------------------------------------------------
// Iteration plan and typed loops
// ---------------------------------------------------------------------------

/// Elements per parallel chunk of the typed loops (fixed, so the split
/// depends on the problem size only; elementwise results do not depend on
/// the split anyway).
const GRAIN: usize = 1 << 15;
/// A run visitor: `f(offsets, len, strides)` for one run of `N` operands.
type RunFn<'a, const N: usize> = dyn Fn(&[usize; N], usize, &[usize; N]) + Sync + 'a;

/// Run length of a tile of the transposed-operand walk.
const TILE_ROWS: usize = 64;
/// Runs side by side in a tile (a 64-byte line of float32).
const TILE_COLS: usize = 64;

/// A storage base pointer shared by the chunks of one parallel loop.
#[derive(Clone, Copy)]
struct Shared<P>(P);

// SAFETY: the pointer addresses a storage whose lock the calling thread holds
// for the whole parallel loop; chunks access disjoint output elements (an
// output never overlaps itself, and an input either does not overlap the
// output or coincides with it element for element), so sharing it is sound.
unsafe impl<P> Send for Shared<P> {}
// SAFETY: as for Send.
unsafe impl<P> Sync for Shared<P> {}

impl<P: Copy> Shared<P> {
    /// The pointer (a method, so closures capture the whole `Shared`).
    fn get(&self) -> P {
        self.0
    }
}

/// Dims of an iteration over `N` operands (operand 0 is the output), ordered
/// fastest-moving first and coalesced.
struct Plan<const N: usize> {
    sizes: DimVec,
    strides: SmallVec<[[usize; N]; 6]>,
    offsets: [usize; N],
}

impl<const N: usize> Plan<N> {
    /// Broadcasts every operand to `shape`, orders dims by the operands'
    /// layout and merges dims that are contiguous for every operand.
    fn new(shape: &[usize], ops: [&Tensor; N]) -> Result<Self> {
        // Fast path: every operand contiguous with exactly `shape` is one run.
        if ops.iter().all(|t| t.is_contiguous() && t.sizes() == shape) {
            let mut sizes = DimVec::new();
            let mut strides: SmallVec<[[usize; N]; 6]> = SmallVec::new();
            sizes.push(shape.iter().product());
            strides.push([1; N]);
            return Ok(Plan {
                sizes,
                strides,
                offsets: ops.map(|t| t.storage_offset()),
            });
        }
        let mut full: SmallVec<[DimVec; 3]> = SmallVec::new();
        for t in ops {
            full.push(broadcast_strides(t, shape)?);
        }
        let refs: SmallVec<[&[usize]; 3]> = full.iter().map(|s| s.as_slice()).collect();
        let perm = layout_perm(shape, &refs);
        let mut sizes = DimVec::new();
        let mut strides: SmallVec<[[usize; N]; 6]> = SmallVec::new();
        for &d in &perm {
            sizes.push(shape[d]);
            strides.push(std::array::from_fn(|k| full[k][d]));
        }
        let mut plan = Plan {
            sizes,
            strides,
            offsets: ops.map(|t| t.storage_offset()),
        };
        plan.coalesce();
        Ok(plan)
    }

    /// Merges each dim into the previous (faster) one when every operand
    /// steps through both as one run; size-1 dims always merge.
    fn coalesce(&mut self) {
        if self.sizes.len() <= 1 {
            return;
        }
        let mut w = 0;
        for r in 1..self.sizes.len() {
            let (s0, s1) = (self.sizes[w], self.sizes[r]);
            let joins = s0 == 1 || s1 == 1 || (0..N).all(|k| self.strides[w][k].wrapping_mul(s0) == self.strides[r][k]);
            if joins {
                if s0 == 1 {
                    self.strides[w] = self.strides[r];
                }
                self.sizes[w] = s0 * s1;
            } else {
                w += 1;
                self.sizes[w] = s1;
                self.strides[w] = self.strides[r];
            }
        }
        self.sizes.truncate(w + 1);
        self.strides.truncate(w + 1);
    }

    /// Calls `f(offsets, len, strides)` for every run of `runs` (run `r` is
    /// the `r`-th position of the dims after the fastest, in their order).
    fn for_each_run_in(&self, runs: Range<usize>, f: &RunFn<'_, N>) {
        let nd = self.sizes.len();
        let mut idx: DimVec = SmallVec::from_elem(0, nd);
        let mut off = self.offsets;
        let mut rest = runs.start;
        for d in 1..nd {
            idx[d] = rest % self.sizes[d];
            rest /= self.sizes[d];
            for (o, st) in off.iter_mut().zip(&self.strides[d]) {
                *o += st * idx[d];
            }
        }
        for _ in runs {
            f(&off, self.sizes[0], &self.strides[0]);
            for d in 1..nd {
                idx[d] += 1;
                for (o, st) in off.iter_mut().zip(&self.strides[d]) {
                    *o += st;
                }
                if idx[d] < self.sizes[d] {
                    break;
                }
                for (o, st) in off.iter_mut().zip(&self.strides[d]) {
                    *o -= st * self.sizes[d];
                }
                idx[d] = 0;
            }
        }
    }

    /// [`Plan::for_each_run`] in parallel: the runs (or, for a single run,
    /// pieces of it) are cut into chunks of about [`GRAIN`] elements, a split
    /// that depends on the sizes only. `f` must touch only the elements of
    /// the run it is given.
    ///
    /// `f` is a trait object so that rayon's machinery is instantiated once
    /// per operand count rather than once per elementwise closure (each call
    /// covers a whole run, so the indirect call costs nothing measurable).
    fn par_for_each_run(&self, f: &RunFn<'_, N>) {
        if self.sizes.contains(&0) {
            return;
        }
        if self.sizes.is_empty() {
            f(&self.offsets, 1, &[0; N]);
            return;
        }
        let run = self.sizes[0];
        let runs: usize = self.sizes[1..].iter().product();
        if run.saturating_mul(runs) <= GRAIN {
            self.for_each_run_in(0..runs, f);
        } else if self.transposed_operand() {
            self.par_for_each_tile(f);
        } else if runs == 1 {
            parallel::for_each_chunk(run, GRAIN, |r| {
                let off = std::array::from_fn(|k| self.offsets[k] + r.start * self.strides[0][k]);
                f(&off, r.len(), &self.strides[0]);
            });
        } else {
            parallel::for_each_chunk(runs, (GRAIN / run).max(1), |r| self.for_each_run_in(r, f));
        }
    }

    /// Whether some operand steps through memory along the second dim but
    /// not along the first (a transposed operand: `a.t() + b`), so that runs
    /// along the first dim would touch a new cache line per element.
    fn transposed_operand(&self) -> bool {
        self.sizes.len() >= 2 && (0..N).any(|k| self.strides[1][k] == 1 && self.strides[0][k] > 1)
    }

    /// Visits the first two dims in tiles of [`TILE_ROWS`] x [`TILE_COLS`]
    /// (short runs along the first dim, side by side along the second), so
    /// every cache line a tile touches is used whole for every operand;
    /// column blocks (per position of the remaining dims) run in parallel.
    fn par_for_each_tile(&self, f: &RunFn<'_, N>) {
        let (s0, s1) = (self.sizes[0], self.sizes[1]);
        let col_blocks = s1.div_ceil(TILE_COLS);
        let outer: usize = self.sizes[2..].iter().product();
        let grain = (GRAIN / (s0 * TILE_COLS)).max(1);
        parallel::for_each_chunk(outer * col_blocks, grain, |units| {
            for u in units {
                let (o, cb) = (u / col_blocks, u % col_blocks);
                let mut base = self.offsets;
                let mut rest = o;
                for d in 2..self.sizes.len() {
                    let i = rest % self.sizes[d];
                    rest /= self.sizes[d];
                    for (b, st) in base.iter_mut().zip(&self.strides[d]) {
                        *b += st * i;
                    }
                }
                let cols = cb * TILE_COLS..((cb + 1) * TILE_COLS).min(s1);
                for i0 in (0..s0).step_by(TILE_ROWS) {
                    let len = TILE_ROWS.min(s0 - i0);
                    for j in cols.clone() {
                        let off = std::array::from_fn(|k| base[k] + i0 * self.strides[0][k] + j * self.strides[1][k]);
                        f(&off, len, &self.strides[0]);
                    }
                }
            }
        });
    }

    /// Calls `f(offsets, len, strides)` for every run along the fastest dim,
    /// with element offsets of the run's first element for each operand.
    fn for_each_run(&self, mut f: impl FnMut(&[usize; N], usize, &[usize; N])) {
        if self.sizes.contains(&0) {
            return;
        }
        if self.sizes.is_empty() {
            f(&self.offsets, 1, &[0; N]);
            return;
        }
        let nd = self.sizes.len();
        let mut idx: DimVec = SmallVec::from_elem(0, nd);
        let mut off = self.offsets;
        loop {
            f(&off, self.sizes[0], &self.strides[0]);
            let mut d = 1;
            loop {
                if d == nd {
                    return;
                }
                idx[d] += 1;
                for (o, st) in off.iter_mut().zip(&self.strides[d]) {
                    *o += st;
                }
                if idx[d] < self.sizes[d] {
                    break;
                }
                for (o, st) in off.iter_mut().zip(&self.strides[d]) {
                    *o -= st * self.sizes[d];
                }
                idx[d] = 0;
                d += 1;
            }
        }
    }
}

/// Whether no two elements of a layout share memory, by a cheap sufficient
/// test: with dims sorted by stride, each stride exceeds the span of the
/// faster dims.
fn disjoint_elements(sizes: &[usize], strides: &[usize]) -> bool {
    let mut dims: SmallVec<[(usize, usize); 6]> = sizes
        .iter()
        .zip(strides)
        .filter(|(&n, _)| n > 1)
        .map(|(&n, &st)| (st, n))
        .collect();
    dims.sort_unstable();
    let mut span = 0usize;
    for (st, n) in dims {
        if st <= span {
            return false;
        }
        span = span.saturating_add(st.saturating_mul(n - 1));
    }
    true
}

/// Whether a loop writing `out` from `inputs` may run its chunks in
/// parallel: `out` has no internal overlap, and every input either uses
/// another storage or is exactly `out` (same elements in the same layout),
/// so chunks never read what another chunk writes.
fn parallel_ok(out: &Tensor, inputs: &[&Tensor]) -> bool {
    disjoint_elements(out.sizes(), out.strides())
        && inputs.iter().all(|t| {
            !t.storage().is_same(out.storage())
                || (t.storage_offset() == out.storage_offset()
                    && t.sizes() == out.sizes()
                    && t.strides() == out.strides())
        })
}

fn check_elem<T: Element>(what: &str, t: &Tensor) -> Result<()> {
    if t.dtype() != T::DTYPE {
        return Err(Error::new(
            ErrorKind::DType,
            "TensorIterator",
            format!(
                "internal error: {what} has dtype {} but the loop expects {}",
                t.dtype(),
                T::DTYPE
            ),
        ));
    }
    Ok(())
}

/// Writes `value` into every element of `out` (any strides, including
/// expanded ones).
///
/// ```
/// use ft_kernels::iter::fill;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 2], DType::I16);
/// fill(&t, 7i16).unwrap();
/// assert_eq!(t.to_vec::<i16>().unwrap(), vec![7; 4]);
/// ```
pub fn fill<O: Element>(out: &Tensor, value: O) -> Result<()> {
    check_elem::<O>("output", out)?;
    let plan = Plan::new(out.sizes(), [out])?;
    let access = StorageAccess::lock(&[], &[out.storage()]);
    let po = Shared(access.base_ptr_mut(out.storage()) as *mut O);
    let body = |off: &[usize; 1], n: usize, st: &[usize; 1]| {
        // SAFETY: the exclusive lock on out's storage is held; every offset the
        // plan yields is inside the storage (checked when `out` was created),
        // and storages are aligned for every element type.
        unsafe {
            let o = po.get().add(off[0]);
            for i in 0..n {
                o.add(i * st[0]).write(value);
            }
        }
    };
    if parallel_ok(out, &[]) {
        plan.par_for_each_run(&body);
    } else {
        plan.for_each_run(body);
    }
    Ok(())
}

/// Writes `f(i)` into the `i`-th element of `out` in row-major (logical)
/// order, whatever `out`'s strides.
///
/// ```
/// use ft_kernels::iter::fill_indexed;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 2], DType::I64).as_view(&[2, 2], &[1, 2], 0).unwrap();
/// fill_indexed(&t, |i| i as i64).unwrap();
/// assert_eq!(t.to_vec::<i64>().unwrap(), vec![0, 1, 2, 3]);
/// ```
pub fn fill_indexed<O: Element>(out: &Tensor, mut f: impl FnMut(usize) -> O) -> Result<()> {
    check_elem::<O>("output", out)?;
    let access = StorageAccess::lock(&[], &[out.storage()]);
    let po = access.base_ptr_mut(out.storage()) as *mut O;
    let mut i = 0usize;
    for_each_offset(out.sizes(), out.strides(), out.storage_offset(), |off| {
        // SAFETY: the exclusive lock is held and `off` is inside out's checked extent.
        unsafe { po.add(off).write(f(i)) };
        i += 1;
    });
    Ok(())
}

/// `out[i] = f(a[i])` with `a` broadcast to `out`'s shape. `out` and `a` may
/// share memory (each element is read before it is written).
///
/// ```
/// use ft_kernels::iter::map1;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
/// let out = Tensor::zeros_contiguous(&[2, 3], DType::F64);
/// map1(&out, &a, |x: i32| x as f64 * 0.5).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![0.5, 1.0, 1.5, 0.5, 1.0, 1.5]);
/// ```
pub fn map1<A: Element, O: Element>(out: &Tensor, a: &Tensor, f: impl Fn(A) -> O + Sync + Send) -> Result<()> {
    check_elem::<O>("output", out)?;
    check_elem::<A>("input", a)?;
    let plan = Plan::new(out.sizes(), [out, a])?;
    let access = StorageAccess::lock(&[a.storage()], &[out.storage()]);
    let po = Shared(access.base_ptr_mut(out.storage()) as *mut O);
    let pa = Shared(access.base_ptr(a.storage()) as *const A);
    let body = |off: &[usize; 2], n: usize, st: &[usize; 2]| {
        // SAFETY: locks on both storages are held (exclusive for out); the
        // plan's offsets stay inside each tensor's checked extent; reads and
        // writes go through raw pointers only, so aliasing is allowed.
        unsafe {
            let (o, a) = (po.get().add(off[0]), pa.get().add(off[1]));
            if st[0] == 1 && st[1] == 1 {
                for i in 0..n {
                    o.add(i).write(f(load(a.add(i))));
                }
            } else {
                for i in 0..n {
                    o.add(i * st[0]).write(f(load(a.add(i * st[1]))));
                }
            }
        }
    };
    if parallel_ok(out, &[a]) {
        plan.par_for_each_run(&body);
    } else {
        plan.for_each_run(body);
    }
    Ok(())
}

/// Like [`map1`], but `f` maps whole slices (`f(input, output)`, equal
/// lengths), for vectorised kernels. Contiguous runs of an output that does
/// not share `a`'s storage are passed directly; other runs go through small
/// buffers, so `f` always sees dense, non-aliasing slices and every element
/// is computed by the same code whatever the layout.
///
/// ```
/// use ft_kernels::iter::map1_slices;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let at = a.as_view(&[2, 2], &[1, 2], 0).unwrap();
/// let out = Tensor::zeros_contiguous(&[2, 2], DType::F32);
/// map1_slices(&out, &at, |x: &[f32], o: &mut [f32]| {
///     for (o, x) in o.iter_mut().zip(x) {
///         *o = x * 10.0;
///     }
/// })
/// .unwrap();
/// assert_eq!(out.to_vec::<f32>().unwrap(), vec![10.0, 30.0, 20.0, 40.0]);
/// ```
pub fn map1_slices<A: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    f: impl Fn(&[A], &mut [O]) + Sync + Send,
) -> Result<()> {
    const BUF: usize = 256;
    check_elem::<O>("output", out)?;
    check_elem::<A>("input", a)?;
    let plan = Plan::new(out.sizes(), [out, a])?;
    let access = StorageAccess::lock(&[a.storage()], &[out.storage()]);
    let po = Shared(access.base_ptr_mut(out.storage()) as *mut O);
    let pa = Shared(access.base_ptr(a.storage()) as *const A);
    let aliased = a.storage().is_same(out.storage());
    let body = |off: &[usize; 2], n: usize, st: &[usize; 2]| {
        // SAFETY: locks on both storages are held (exclusive for out) and the
        // plan's offsets stay inside each tensor's checked extent. Slices are
        // made only over a stride-1 run of an output that shares no memory
        // with the input, so they never alias; everything else is copied
        // through the local buffers with raw-pointer reads and writes.
        unsafe {
            let (o, a) = (po.get().add(off[0]), pa.get().add(off[1]));
            if st == &[1, 1] && !aliased && A::DTYPE != DType::Bool {
                f(std::slice::from_raw_parts(a, n), std::slice::from_raw_parts_mut(o, n));
                return;
            }
            let mut bin = [A::default(); BUF];
            let mut bout = [O::default(); BUF];
            for start in (0..n).step_by(BUF) {
                let len = BUF.min(n - start);
                for (i, v) in bin[..len].iter_mut().enumerate() {
                    *v = load(a.add((start + i) * st[1]));
                }
                f(&bin[..len], &mut bout[..len]);
                for (i, v) in bout[..len].iter().enumerate() {
                    o.add((start + i) * st[0]).write(*v);
                }
            }
        }
    };
    if parallel_ok(out, &[a]) {
        plan.par_for_each_run(&body);
    } else {
        plan.for_each_run(body);
    }
    Ok(())
}

/// `out[i] = f(a[i], b[i])` with `a` and `b` broadcast to `out`'s shape.
/// `out` may share memory with either input.
///
/// ```
/// use ft_kernels::iter::map2;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2, 1]).unwrap();
/// let b = Tensor::from_vec(vec![10.0f32, 20.0, 30.0], &[3]).unwrap();
/// let out = Tensor::zeros_contiguous(&[2, 3], DType::F32);
/// map2(&out, &a, &b, |x: f32, y: f32| x + y).unwrap();
/// assert_eq!(out.to_vec::<f32>().unwrap(), vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
/// ```
pub fn map2<A: Element, B: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Result<()> {
    check_elem::<O>("output", out)?;
    check_elem::<A>("first input", a)?;
    check_elem::<B>("second input", b)?;
    let plan = Plan::new(out.sizes(), [out, a, b])?;
    let access = StorageAccess::lock(&[a.storage(), b.storage()], &[out.storage()]);
    let po = Shared(access.base_ptr_mut(out.storage()) as *mut O);
    let pa = Shared(access.base_ptr(a.storage()) as *const A);
    let pb = Shared(access.base_ptr(b.storage()) as *const B);
    let body = |off: &[usize; 3], n: usize, st: &[usize; 3]| {
        // SAFETY: as in `map1`: locks held, offsets in bounds, raw pointers only.
        unsafe {
            let (o, a, b) = (po.get().add(off[0]), pa.get().add(off[1]), pb.get().add(off[2]));
            match (st[0], st[1], st[2]) {
                (1, 1, 1) => {
                    for i in 0..n {
                        o.add(i).write(f(load(a.add(i)), load(b.add(i))));
                    }
                }
                (1, 1, 0) => {
                    let y = load(b);
                    for i in 0..n {
                        o.add(i).write(f(load(a.add(i)), y));
                    }
                }
                (so, sa, sb) => {
                    for i in 0..n {
                        o.add(i * so).write(f(load(a.add(i * sa)), load(b.add(i * sb))));
                    }
                }
            }
        }
    };
    if parallel_ok(out, &[a, b]) {
        plan.par_for_each_run(&body);
    } else {
        plan.for_each_run(body);
    }
    Ok(())
}

/// `out[i] = f(a[i], b[i], c[i])` with the inputs broadcast to `out`'s
/// shape (the ternary loop of `where` and `clamp`). `out` may share memory
/// with any input.
///
/// ```
/// use ft_kernels::iter::map3;
/// use ft_runtime::{Tensor, DType};
/// let c = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let a = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![9i32], &[]).unwrap();
/// let out = Tensor::zeros_contiguous(&[2], DType::I32);
/// map3(&out, &c, &a, &b, |c: bool, x: i32, y: i32| if c { x } else { y }).unwrap();
/// assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 9]);
/// ```
pub fn map3<A: Element, B: Element, C: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    f: impl Fn(A, B, C) -> O + Sync + Send,
) -> Result<()> {
    check_elem::<O>("output", out)?;
    check_elem::<A>("first input", a)?;
    check_elem::<B>("second input", b)?;
    check_elem::<C>("third input", c)?;
    let plan = Plan::new(out.sizes(), [out, a, b, c])?;
    let access = StorageAccess::lock(&[a.storage(), b.storage(), c.storage()], &[out.storage()]);
    let po = Shared(access.base_ptr_mut(out.storage()) as *mut O);
    let pa = Shared(access.base_ptr(a.storage()) as *const A);
    let pb = Shared(access.base_ptr(b.storage()) as *const B);
    let pc = Shared(access.base_ptr(c.storage()) as *const C);
    let body = |off: &[usize; 4], n: usize, st: &[usize; 4]| {
        // SAFETY: as in `map1`: locks held, offsets in bounds, raw pointers only.
        unsafe {
            let (o, a, b, c) = (
                po.get().add(off[0]),
                pa.get().add(off[1]),
                pb.get().add(off[2]),
                pc.get().add(off[3]),
            );
            for i in 0..n {
                let v = f(load(a.add(i * st[1])), load(b.add(i * st[2])), load(c.add(i * st[3])));
                o.add(i * st[0]).write(v);
            }
        }
    };
    if parallel_ok(out, &[a, b, c]) {
        plan.par_for_each_run(&body);
    } else {
        plan.for_each_run(body);
    }
    Ok(())
}

/// Copies `src` (broadcast to `dst`'s shape) into `dst`, converting with
/// [`cast`]. Performs no overlap or shape policy checks (see `copy_`).
///
/// ```
/// use ft_kernels::iter::cast_copy;
/// use ft_runtime::{Tensor, DType};
/// let src = Tensor::from_vec(vec![1.9f32, -1.9], &[2]).unwrap();
/// let dst = Tensor::zeros_contiguous(&[2], DType::I64);
/// cast_copy(&dst, &src).unwrap();
/// assert_eq!(dst.to_vec::<i64>().unwrap(), vec![1, -1]);
/// ```
pub fn cast_copy(dst: &Tensor, src: &Tensor) -> Result<()> {
    dispatch_dtype!(src.dtype(), S => dispatch_dtype!(dst.dtype(), D => map1::<S, D>(dst, src, cast::<S, D>)))
}

/// `t` converted to `dtype` (`t` itself when it already has it), laid out as
/// `empty_like(t)` would be, like PyTorch's `t.to(dtype)`.
///
/// ```
/// use ft_kernels::iter::to_dtype;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// assert_eq!(to_dtype(&t, DType::F16).unwrap().dtype(), DType::F16);
/// assert!(to_dtype(&t, DType::I32).unwrap().is_same(&t));
/// ```
pub fn to_dtype(t: &Tensor, dtype: DType) -> Result<Tensor> {
    if t.dtype() == dtype {
        return Ok(t.clone());
    }
    let out = empty_strided_for_overwrite("aten::_to_copy", t.sizes(), &preserve_strides(t), dtype)?;
    cast_copy(&out, t)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Op-level driver
// ---------------------------------------------------------------------------

/// What an elementwise op computes over, before any data is touched.
pub struct Spec<'a> {
    /// ATen operator name used in error messages.
    pub op: &'a str,
    /// The inputs, broadcast together (in PyTorch's operand order).
    pub inputs: &'a [&'a Tensor],
    /// The compute dtype: inputs are converted to it, and a new output has it.
    pub dtype: DType,
    /// The destination of an in-place op, or `None` to allocate the output.
    pub out: Option<&'a Tensor>,
}

/// A prepared elementwise computation: run a typed loop over
/// [`Elementwise::output`] and [`Elementwise::input`], then call
/// [`Elementwise::finish`].
///
/// ```
/// use ft_kernels::iter::{map2, Elementwise, Spec};
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.5f32], &[]).unwrap();
/// let ew = Elementwise::new(Spec { op: "aten::mul.Tensor", inputs: &[&a, &b], dtype: DType::F32, out: None }).unwrap();
/// map2(ew.output(), ew.input(0), ew.input(1), |x: f32, y: f32| x * y).unwrap();
/// assert_eq!(ew.finish().unwrap().to_vec::<f32>().unwrap(), vec![0.5, 1.0]);
/// ```
pub struct Elementwise {
    inputs: SmallVec<[Tensor; 2]>,
    out: Tensor,
    writeback: Option<Tensor>,
}

impl Elementwise {
    /// Checks and prepares `spec`, in PyTorch's order: memory overlap of the
    /// destination, broadcast shape (which must equal the destination's), the
    /// cast of the compute dtype to the destination's dtype; then converts the
    /// inputs and allocates the output.
    pub fn new(spec: Spec<'_>) -> Result<Elementwise> {
        let Spec { op, inputs, dtype, out } = spec;
        if let Some(dst) = out {
            check_no_internal_overlap(op, dst)?;
            for t in inputs {
                check_no_partial_overlap(op, dst, t)?;
            }
        }
        // Fast path: same-shape contiguous inputs of the compute dtype need no
        // broadcasting, conversion or layout search; the output is contiguous.
        if out.is_none()
            && !inputs.is_empty()
            && inputs
                .iter()
                .all(|t| t.is_contiguous() && t.dtype() == dtype && t.sizes() == inputs[0].sizes())
        {
            return Ok(Elementwise {
                inputs: inputs.iter().map(|t| (*t).clone()).collect(),
                out: empty_contiguous_for_overwrite(op, inputs[0].sizes(), dtype)?,
                writeback: None,
            });
        }
        let shape = broadcast_all(op, inputs, out)?;
        if let Some(dst) = out {
            if !can_cast(dtype, dst.dtype()) {
                return Err(Error::dtype(
                    op,
                    format!(
                        "result type {} can't be cast to the desired output type {}",
                        dtype.scalar_type_name(),
                        dst.dtype().scalar_type_name()
                    ),
                ));
            }
        }
        let converted = inputs
            .iter()
            .map(|t| to_dtype(t, dtype))
            .collect::<Result<SmallVec<[Tensor; 2]>>>()?;
        let (result, writeback) = match out {
            Some(dst) if dst.dtype() == dtype => (dst.clone(), None),
            Some(dst) => (
                empty_strided_for_overwrite(op, dst.sizes(), &preserve_strides(dst), dtype)?,
                Some(dst.clone()),
            ),
            None => {
                let refs: SmallVec<[&Tensor; 2]> = converted.iter().collect();
                let strides = output_strides(&shape, &refs);
                (empty_strided_for_overwrite(op, &shape, &strides, dtype)?, None)
            }
        };
        Ok(Elementwise {
            inputs: converted,
            out: result,
            writeback,
        })
    }

    /// The tensor the loop writes (compute dtype).
    pub fn output(&self) -> &Tensor {
        &self.out
    }

    /// Input `i`, converted to the compute dtype.
    ///
    /// # Panics
    /// If `i` is not below the number of inputs given to [`Elementwise::new`].
    pub fn input(&self, i: usize) -> &Tensor {
        &self.inputs[i]
    }

    /// Casts the result into the destination if it had another dtype, and
    /// returns the destination handle (or the new output).
    pub fn finish(self) -> Result<Tensor> {
        match self.writeback {
            Some(dst) => {
                cast_copy(&dst, &self.out)?;
                Ok(dst)
            }
            None => Ok(self.out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange_f32(n: usize, sizes: &[usize]) -> Tensor {
        Tensor::from_vec((0..n).map(|i| i as f32).collect::<Vec<_>>(), sizes).unwrap()
    }

    #[test]
    fn dense_check_matches_pytorch() {
        assert!(is_non_overlapping_and_dense(&[], &[]));
        assert!(is_non_overlapping_and_dense(&[1], &[5]));
        assert!(is_non_overlapping_and_dense(&[2, 1, 3], &[3, 7, 1]));
        assert!(is_non_overlapping_and_dense(&[0, 3], &[3, 1]));
        assert!(!is_non_overlapping_and_dense(&[3], &[2]));
        assert!(!is_non_overlapping_and_dense(&[2, 2], &[1, 1]));
    }

    #[test]
    fn perm_leaves_broadcast_dims_in_place() {
        // sizes/strides (6,5,4,3,2)/(6,0,120,0,1) -> dims fastest-first 4,3,0,1,2
        let perm = layout_perm(&[6, 5, 4, 3, 2], &[&[6, 0, 120, 0, 1]]);
        assert_eq!(perm.as_slice(), &[4, 3, 0, 1, 2]);
    }

    #[test]
    fn output_layout_follows_transposed_inputs() {
        let a = arange_f32(6, &[3, 2]).as_view(&[2, 3], &[1, 2], 0).unwrap();
        let b = arange_f32(6, &[3, 2]).as_view(&[2, 3], &[1, 2], 0).unwrap();
        assert_eq!(output_strides(&[2, 3], &[&a, &b]).as_slice(), &[1, 2]);
        // an expanded operand does not decide the order
        let e = arange_f32(3, &[3]).as_view(&[2, 3], &[0, 1], 0).unwrap();
        assert_eq!(output_strides(&[2, 3], &[&e]).as_slice(), &[3, 1]);
        // zero-dim operands are ignored
        let z = arange_f32(1, &[]);
        assert_eq!(output_strides(&[2, 3], &[&z, &a]).as_slice(), &[1, 2]);
        assert_eq!(output_strides(&[], &[&z]).as_slice(), &[] as &[usize]);
    }

    #[test]
    fn coalesce_merges_contiguous_dims() {
        let a = arange_f32(24, &[2, 3, 4]);
        let plan = Plan::new(&[2, 3, 4], [&a, &a]).unwrap();
        assert_eq!(plan.sizes.as_slice(), &[24]);
        let sliced = a.as_view(&[2, 3, 2], &[12, 4, 1], 0).unwrap();
        let plan = Plan::new(&[2, 3, 2], [&sliced]).unwrap();
        assert_eq!(plan.sizes.as_slice(), &[2, 6]);
        assert_eq!(plan.strides.as_slice(), &[[1], [4]]);
    }

    #[test]
    fn map2_handles_strides_and_broadcast() {
        let a = arange_f32(6, &[2, 3]).as_view(&[3, 2], &[1, 3], 0).unwrap(); // transpose
        let b = arange_f32(2, &[2]);
        let out = Tensor::zeros_contiguous(&[3, 2], DType::F32);
        map2(&out, &a, &b, |x: f32, y: f32| x * 10.0 + y).unwrap();
        assert_eq!(out.to_vec::<f32>().unwrap(), vec![0.0, 31.0, 10.0, 41.0, 20.0, 51.0]);
    }

    #[test]
    fn loops_on_empty_and_zero_dim() {
        let e = Tensor::zeros_contiguous(&[0, 3], DType::F32);
        map1(&e, &e, |x: f32| x + 1.0).unwrap();
        let z = Tensor::from_vec(vec![2.0f64], &[]).unwrap();
        map1(&z, &z, |x: f64| x * 3.0).unwrap();
        assert_eq!(z.to_vec::<f64>().unwrap(), vec![6.0]);
    }

    #[test]
    fn loops_reject_wrong_element_type() {
        let t = Tensor::zeros_contiguous(&[2], DType::F32);
        assert!(map1(&t, &t, |x: f64| x).is_err());
        assert!(fill(&t, 1i32).is_err());
    }

    #[test]
    fn bool_bytes_are_read_as_truthiness() {
        let raw = Tensor::from_vec(vec![0u8, 2, 255], &[3]).unwrap();
        let as_bool = Tensor::from_storage(raw.storage().clone(), &[3], &[1], 0, DType::Bool).unwrap();
        let out = Tensor::zeros_contiguous(&[3], DType::I32);
        cast_copy(&out, &as_bool).unwrap();
        assert_eq!(out.to_vec::<i32>().unwrap(), vec![0, 1, 1]);
    }

    #[test]
    fn casts_follow_c10() {
        assert_eq!(cast::<f32, i8>(200.0), -56);
        assert_eq!(cast::<i64, f16>(3), f16::from_f32(3.0));
        assert_eq!(cast::<bf16, u8>(bf16::from_f32(-2.0)), 254);
        assert!(cast::<f64, bool>(f64::NAN));
        assert!(!cast::<i16, bool>(0));
    }

    #[test]
    fn elementwise_writes_back_other_dtypes() {
        let dst = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
        let other = Tensor::from_vec(vec![10i64, 20], &[2]).unwrap();
        let ew = Elementwise::new(Spec {
            op: "op",
            inputs: &[&dst, &other],
            dtype: DType::I64,
            out: Some(&dst),
        })
        .unwrap();
        map2(ew.output(), ew.input(0), ew.input(1), |x: i64, y: i64| x + y).unwrap();
        let r = ew.finish().unwrap();
        assert!(r.is_same(&dst));
        assert_eq!(dst.to_vec::<i32>().unwrap(), vec![11, 22]);
    }

    #[test]
    fn elementwise_rejects_bad_destinations() {
        let a = arange_f32(3, &[3]);
        let bad_cast = Elementwise::new(Spec {
            op: "op",
            inputs: &[&a],
            dtype: DType::F32,
            out: Some(&Tensor::zeros_contiguous(&[3], DType::I64)),
        });
        assert_eq!(
            bad_cast.err().unwrap().message(),
            "result type Float can't be cast to the desired output type Long"
        );
        let expanded = a.as_view(&[2, 3], &[0, 1], 0).unwrap();
        let e = Elementwise::new(Spec {
            op: "op",
            inputs: &[&a],
            dtype: DType::F32,
            out: Some(&expanded),
        })
        .err()
        .unwrap();
        assert!(e.message().starts_with("unsupported operation: more than one element"));
        let shifted = a.as_view(&[2], &[1], 1).unwrap();
        let head = a.as_view(&[2], &[1], 0).unwrap();
        let e = Elementwise::new(Spec {
            op: "op",
            inputs: &[&shifted],
            dtype: DType::F32,
            out: Some(&head),
        })
        .err()
        .unwrap();
        assert!(e.message().starts_with("unsupported operation: some elements"));
    }

    #[test]
    fn allocation_overflow_is_an_error() {
        assert!(empty_contiguous("op", &[usize::MAX / 2, 4], DType::F32).is_err());
        assert!(empty_contiguous("op", &[0, usize::MAX / 2, 4], DType::F32).is_err());
        assert_eq!(empty_contiguous("op", &[0, 5], DType::F32).unwrap().numel(), 0);
    }
}
