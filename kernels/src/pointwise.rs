//! Binary pointwise math beyond the four arithmetic operators: `atan2`,
//! `fmod`, `remainder`, `div` with a rounding mode, and the float
//! classifiers `isinf` / `isnan`.
//!
//! The result dtype is PyTorch's `result_type` of the operands (a `Scalar`
//! counts as a wrapped number). `atan2` computes integral and bool operands in
//! the default float dtype; the others keep the promoted dtype and reject
//! bool. Integer division or modulo by zero is an error ("ZeroDivisionError",
//! as PyTorch raises); integer arithmetic otherwise wraps. float16/bfloat16
//! compute in float32 and round once.
//!
//! The shared pieces (the [`Other`] operand, the [`IntElem`] and [`FloatExt`]
//! element traits, the dtype-error helper) are used by the `pow`, `ternary`
//! and `activation` kernels too.

use crate::iter::{self, dispatch_float, Elementwise, FloatMath, OpMath, Spec};
use ft_runtime::half::{bf16, f16};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{DType, Element, Error, Result, Scalar, Tensor, DEFAULT_DTYPE};
use std::sync::atomic::{AtomicBool, Ordering};

/// The second operand of a binary op: a tensor, or a number that takes part
/// in type promotion as a wrapped number.
#[derive(Clone, Copy, Debug)]
pub enum Other<'a> {
    /// A tensor operand.
    Tensor(&'a Tensor),
    /// A Python number.
    Scalar(Scalar),
}

impl Other<'_> {
    /// The operand as seen by [`result_type`].
    pub fn operand(&self) -> Operand<'_> {
        match self {
            Other::Tensor(t) => Operand::Tensor(t),
            Other::Scalar(s) => Operand::Scalar(*s),
        }
    }

    /// The operand as a tensor; a number becomes a 0-dim tensor of `dtype`.
    pub fn to_tensor(self, dtype: DType) -> Tensor {
        match self {
            Other::Tensor(t) => t.clone(),
            Other::Scalar(s) => Tensor::scalar_tensor(s, dtype),
        }
    }

    /// For a one-element operand, its value in float32 before any rounding
    /// to a reduced float dtype (PyTorch's `original_scalar_value`).
    pub fn single_value_f32(&self) -> Result<Option<f32>> {
        match self {
            Other::Scalar(s) => Ok(Some(s.to_elem::<f32>())),
            Other::Tensor(t) if t.numel() == 1 => Ok(Some(t.item()?.to_elem::<f32>())),
            Other::Tensor(_) => Ok(None),
        }
    }
}

/// "`kernel` not implemented for 'Bool'", PyTorch's missing-dtype error.
///
/// ```
/// use ft_kernels::pointwise::not_implemented;
/// use ft_runtime::{DType, ErrorKind};
/// let e = not_implemented("aten::fmod.Tensor", "fmod_cpu", DType::Bool);
/// assert_eq!(e.kind(), ErrorKind::DType);
/// assert_eq!(e.message(), "\"fmod_cpu\" not implemented for 'Bool'");
/// ```
pub fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// Integer element types with C-like wrapping arithmetic.
///
/// ```
/// use ft_kernels::pointwise::IntElem;
/// assert_eq!(IntElem::wrapping_floor_div(-7i32, 2), -4);
/// assert_eq!(IntElem::powi(3u8, 255u8), 171);
/// assert_eq!(IntElem::powi(2i8, -1i8), 0);
/// assert_eq!(IntElem::powi(-1i64, -3i64), -1);
/// ```
pub trait IntElem: Element {
    /// Zero.
    const ZERO: Self;
    /// Truncating division (wrapping on overflow); `rhs` must not be zero.
    fn wrapping_trunc_div(self, rhs: Self) -> Self;
    /// Floor division (wrapping on overflow); `rhs` must not be zero.
    fn wrapping_floor_div(self, rhs: Self) -> Self;
    /// C's `%` (sign of the dividend); `rhs` must not be zero.
    fn c_rem(self, rhs: Self) -> Self;
    /// Python's `%` (sign of the divisor); `rhs` must not be zero.
    fn py_rem(self, rhs: Self) -> Self;
    /// `self ** exp` by repeated squaring with wrapping; a negative exponent
    /// gives `1 / self` truncated (0 unless `self` is 1 or -1).
    fn powi(self, exp: Self) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl IntElem for $t {
            const ZERO: Self = 0;
            fn wrapping_trunc_div(self, rhs: Self) -> Self {
                self.wrapping_div(rhs)
            }
            fn wrapping_floor_div(self, rhs: Self) -> Self {
                let q = self.wrapping_div(rhs);
                let r = self.wrapping_rem(rhs);
                #[allow(unused_comparisons)]
                let signs_differ = (self < 0) != (rhs < 0);
                if r != 0 && signs_differ {
                    q.wrapping_sub(1)
                } else {
                    q
                }
            }
            fn c_rem(self, rhs: Self) -> Self {
                self.wrapping_rem(rhs)
            }
            fn py_rem(self, rhs: Self) -> Self {
                let r = self.wrapping_rem(rhs);
                #[allow(unused_comparisons)]
                let signs_differ = (r < 0) != (rhs < 0);
                if r != 0 && signs_differ {
                    r.wrapping_add(rhs)
                } else {
                    r
                }
            }
            #[allow(unused_comparisons)]
            fn powi(self, exp: Self) -> Self {
                if exp < 0 {
                    return match self as i64 {
                        1 => 1,
                        -1 if (exp as i64) % 2 != 0 => self,
                        -1 => 1,
                        _ => 0,
                    };
                }
                let (mut base, mut e, mut acc): (Self, Self, Self) = (self, exp, 1);
                while e != 0 {
                    if (e & 1) == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
        }
    )*};
}
int_elem!(u8, i8, i16, i32, i64);

/// Runs `$body` with `$T` bound to the element type of an integral (non-bool)
/// `$dtype`, or evaluates `$other` for any other dtype.
macro_rules! dispatch_int {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            ::ft_runtime::DType::U8 => {
                type $T = u8;
                $body
            }
            ::ft_runtime::DType::I8 => {
                type $T = i8;
                $body
            }
            ::ft_runtime::DType::I16 => {
                type $T = i16;
                $body
            }
            ::ft_runtime::DType::I32 => {
                type $T = i32;
                $body
            }
            ::ft_runtime::DType::I64 => {
                type $T = i64;
                $body
            }
            _ => $other,
        }
    }};
}
pub(crate) use dispatch_int;

/// Float math the binary kernels need beyond [`FloatMath`].
///
/// ```
/// use ft_kernels::pointwise::FloatExt;
/// assert_eq!(FloatExt::fmod(-5.0f64, 3.0), -2.0);
/// assert_eq!(FloatExt::floor_div(-5.0f64, 2.0), -3.0);
/// assert!(FloatExt::is_nan(f32::NAN));
/// ```
pub trait FloatExt: FloatMath {
    /// `atan2(self, x)`, the angle of the point `(x, self)`.
    fn atan2(self, x: Self) -> Self;
    /// C's `fmod` (exact; sign of the dividend).
    fn fmod(self, rhs: Self) -> Self;
    /// `self ** exp`.
    fn powf(self, exp: Self) -> Self;
    /// True for NaN.
    fn is_nan(self) -> bool;
    /// Python's float `//`: the floor of the exact quotient, computed from
    /// `fmod` so that it is exact for representable results; IEEE `a / 0`.
    fn floor_div(self, rhs: Self) -> Self {
        if rhs == Self::ZERO {
            return self.div(rhs);
        }
        let m = self.fmod(rhs);
        let mut q = self.sub(m).div(rhs);
        if m != Self::ZERO && (rhs < Self::ZERO) != (m < Self::ZERO) {
            q = q.sub(Self::ONE);
        }
        if q == Self::ZERO {
            // Zero with the sign of the true quotient.
            return if self.div(rhs).is_sign_neg() {
                Self::ZERO.neg()
            } else {
                Self::ZERO
            };
        }
        let f = q.floor();
        // Guard against `(a - m) / b` rounding just below an integer.
        let half = Self::ONE.div(Self::ONE.add(Self::ONE));
        if q.sub(f) > half {
            f.add(Self::ONE)
        } else {
            f
        }
    }
    /// True when the sign bit is set.
    fn is_sign_neg(self) -> bool;
}

macro_rules! float_ext {
    ($($t:ty),*) => {$(
        impl FloatExt for $t {
            fn atan2(self, x: Self) -> Self {
                f64::atan2(self as f64, x as f64) as $t
            }
            fn fmod(self, rhs: Self) -> Self {
                self % rhs
            }
            fn powf(self, exp: Self) -> Self {
                f64::powf(self as f64, exp as f64) as $t
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_sign_neg(self) -> bool {
                <$t>::is_sign_negative(self)
            }
        }
    )*};
}
float_ext!(f32, f64);

/// What one binary op computes, per dtype category.
trait BinaryFn {
    /// The CPU kernel name PyTorch reports for an unsupported dtype.
    const KERNEL: &'static str;
    /// Integral and bool operands compute in the default float dtype.
    const INT_TO_FLOAT: bool = false;
    /// The float computation (in the compute type).
    fn float<F: FloatExt>(a: F, b: F) -> F;
    /// The integer computation; sets `zero` on a division by zero.
    fn int<I: IntElem>(a: I, b: I, zero: &AtomicBool) -> I;
}

/// Runs `f` unless `b` is zero, in which case it flags `zero` and gives 0.
#[inline(always)]
fn nonzero<I: IntElem>(b: I, zero: &AtomicBool, f: impl FnOnce() -> I) -> I {
    if b == I::ZERO {
        zero.store(true, Ordering::Relaxed);
        I::ZERO
    } else {
        f()
    }
}

struct Atan2;
impl BinaryFn for Atan2 {
    const KERNEL: &'static str = "atan2_cpu";
    const INT_TO_FLOAT: bool = true;
    fn float<F: FloatExt>(a: F, b: F) -> F {
        a.atan2(b)
    }
    fn int<I: IntElem>(_: I, _: I, _: &AtomicBool) -> I {
        I::ZERO
    }
}

struct Fmod;
impl BinaryFn for Fmod {
    const KERNEL: &'static str = "fmod_cpu";
    fn float<F: FloatExt>(a: F, b: F) -> F {
        a.fmod(b)
    }
    fn int<I: IntElem>(a: I, b: I, zero: &AtomicBool) -> I {
        nonzero(b, zero, || a.c_rem(b))
    }
}

struct Remainder;
impl BinaryFn for Remainder {
    const KERNEL: &'static str = "remainder_cpu";
    fn float<F: FloatExt>(a: F, b: F) -> F {
        let m = a.fmod(b);
        if m != F::ZERO && (b < F::ZERO) != (m < F::ZERO) {
            m.add(b)
        } else {
            m
        }
    }
    fn int<I: IntElem>(a: I, b: I, zero: &AtomicBool) -> I {
        nonzero(b, zero, || a.py_rem(b))
    }
}

struct DivTrunc;
impl BinaryFn for DivTrunc {
    const KERNEL: &'static str = "div_trunc_cpu";
    fn float<F: FloatExt>(a: F, b: F) -> F {
        a.div(b).trunc()
    }
    fn int<I: IntElem>(a: I, b: I, zero: &AtomicBool) -> I {
        nonzero(b, zero, || a.wrapping_trunc_div(b))
    }
}

struct DivFloor;
impl BinaryFn for DivFloor {
    const KERNEL: &'static str = "div_floor_cpu";
    fn float<F: FloatExt>(a: F, b: F) -> F {
        a.floor_div(b)
    }
    fn int<I: IntElem>(a: I, b: I, zero: &AtomicBool) -> I {
        nonzero(b, zero, || a.wrapping_floor_div(b))
    }
}

/// Reduced-float loop with a one-element right operand kept at float32
/// precision (how PyTorch's `div_trunc`/`div_floor` treat a scalar divisor).
fn reduced_with_value<K: BinaryFn>(o: &Tensor, a: &Tensor, b: &Tensor, v: f32) -> Result<()> {
    match o.dtype() {
        DType::F16 => iter::map2(o, a, b, move |x: f16, _: f16| f16::from_f32(K::float(x.to_f32(), v))),
        DType::BF16 => iter::map2(o, a, b, move |x: bf16, _: bf16| bf16::from_f32(K::float(x.to_f32(), v))),
        other => Err(Error::dtype(
            "TensorIterator",
            format!("internal error: {other} is not a reduced float"),
        )),
    }
}

/// The shared driver: promotion, the dtype check, the typed loop, the
/// division-by-zero check. `opmath_scalar` keeps a one-element divisor at
/// float32 precision for float16/bfloat16.
fn binary<K: BinaryFn>(op: &str, self_: &Tensor, other: Other<'_>, opmath_scalar: bool) -> Result<Tensor> {
    let mut dtype = result_type(&[Operand::Tensor(self_), other.operand()]);
    if K::INT_TO_FLOAT && !dtype.is_floating_point() {
        dtype = DEFAULT_DTYPE;
    }
    if dtype == DType::Bool {
        return Err(not_implemented(op, K::KERNEL, dtype));
    }
    let other_t = other.to_tensor(dtype);
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_, &other_t],
        dtype,
        out: None,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    let zero = AtomicBool::new(false);
    let reduced = matches!(dtype, DType::F16 | DType::BF16);
    match other.single_value_f32()? {
        Some(v) if reduced && opmath_scalar => reduced_with_value::<K>(o, a, b, v)?,
        _ => dispatch_float!(dtype,
            T => iter::map2(o, a, b, |x: T, y: T| T::narrow(K::float(x.widen(), y.widen())))?,
            _ => dispatch_int!(dtype,
                T => iter::map2(o, a, b, |x: T, y: T| K::int(x, y, &zero))?,
                _ => return Err(not_implemented(op, K::KERNEL, dtype)))),
    }
    if zero.load(Ordering::Relaxed) {
        return Err(Error::invalid(op, "ZeroDivisionError"));
    }
    ew.finish()
}

/// `atan2(self, other)`: the angle of the point `(other, self)`, in
/// `[-pi, pi]`; integral and bool operands give float32.
///
/// ```
/// use ft_kernels::pointwise::atan2;
/// use ft_runtime::{Tensor, DType};
/// let y = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0i64, 1], &[2]).unwrap();
/// let r = atan2(&y, &x).unwrap();
/// assert_eq!(r.dtype(), DType::F32);
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![std::f32::consts::FRAC_PI_2, 0.0]);
/// ```
pub fn atan2(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary::<Atan2>("aten::atan2", self_, Other::Tensor(other), false)
}

/// C's `fmod`: the remainder of truncating division (sign of `self`).
///
/// ```
/// use ft_kernels::pointwise::fmod_tensor;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![5i64, -5], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3i64], &[]).unwrap();
/// assert_eq!(fmod_tensor(&a, &b).unwrap().to_vec::<i64>().unwrap(), vec![2, -2]);
/// assert!(fmod_tensor(&a, &Tensor::from_vec(vec![0i64], &[]).unwrap()).is_err());
/// ```
pub fn fmod_tensor(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary::<Fmod>("aten::fmod.Tensor", self_, Other::Tensor(other), false)
}

/// `fmod` by a number.
///
/// ```
/// use ft_kernels::pointwise::fmod_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![-5.5f64, 5.5], &[2]).unwrap();
/// assert_eq!(fmod_scalar(&a, Scalar::Int(2)).unwrap().to_vec::<f64>().unwrap(), vec![-1.5, 1.5]);
/// ```
pub fn fmod_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary::<Fmod>("aten::fmod.Scalar", self_, Other::Scalar(other), false)
}

/// Python's `%`: the remainder of floor division (sign of `other`).
///
/// ```
/// use ft_kernels::pointwise::remainder_tensor;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![5.0f32, -5.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3.0f32], &[1]).unwrap();
/// assert_eq!(remainder_tensor(&a, &b).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 1.0]);
/// ```
pub fn remainder_tensor(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary::<Remainder>("aten::remainder.Tensor", self_, Other::Tensor(other), false)
}

/// Python's `%` by a number.
///
/// ```
/// use ft_kernels::pointwise::remainder_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![-1i8, 7], &[2]).unwrap();
/// assert_eq!(remainder_scalar(&a, Scalar::Int(-3)).unwrap().to_vec::<i8>().unwrap(), vec![-1, -2]);
/// ```
pub fn remainder_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary::<Remainder>("aten::remainder.Scalar", self_, Other::Scalar(other), false)
}

/// The rounding applied by `div` with a `rounding_mode`.
enum Rounding {
    /// True division (`None`).
    True,
    /// Round toward zero (`"trunc"`).
    Trunc,
    /// Round down (`"floor"`).
    Floor,
}

fn rounding(op: &str, mode: Option<&str>) -> Result<Rounding> {
    match mode {
        None => Ok(Rounding::True),
        Some("trunc") => Ok(Rounding::Trunc),
        Some("floor") => Ok(Rounding::Floor),
        Some(bad) => Err(Error::invalid(
            op,
            format!("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{bad}'"),
        )),
    }
}

fn div_mode(op: &str, self_: &Tensor, other: Other<'_>, mode: Option<&str>) -> Result<Tensor> {
    let r = match rounding(op, mode)? {
        Rounding::True => match other {
            Other::Tensor(t) => crate::binary::div(self_, t),
            Other::Scalar(s) => crate::binary::div_scalar(self_, s),
        },
        Rounding::Trunc => binary::<DivTrunc>(op, self_, other, true),
        Rounding::Floor => binary::<DivFloor>(op, self_, other, true),
    };
    r.map_err(|e| e.with_op(op))
}

/// `self / other` rounded as `rounding_mode` says: `None` is true division
/// (integers give float32), `"trunc"` rounds toward zero and `"floor"` down,
/// both keeping the promoted dtype.
///
/// ```
/// use ft_kernels::pointwise::div_tensor_mode;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![7i32, -7], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2i32], &[1]).unwrap();
/// assert_eq!(div_tensor_mode(&a, &b, Some("trunc")).unwrap().to_vec::<i32>().unwrap(), vec![3, -3]);
/// assert_eq!(div_tensor_mode(&a, &b, Some("floor")).unwrap().to_vec::<i32>().unwrap(), vec![3, -4]);
/// assert_eq!(div_tensor_mode(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![3.5, -3.5]);
/// ```
pub fn div_tensor_mode(self_: &Tensor, other: &Tensor, rounding_mode: Option<&str>) -> Result<Tensor> {
    div_mode("aten::div.Tensor_mode", self_, Other::Tensor(other), rounding_mode)
}

/// `div` with a rounding mode by a number.
///
/// ```
/// use ft_kernels::pointwise::div_scalar_mode;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![5.0f64, -5.0], &[2]).unwrap();
/// let r = div_scalar_mode(&a, Scalar::Float(2.0), Some("floor")).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, -3.0]);
/// ```
pub fn div_scalar_mode(self_: &Tensor, other: Scalar, rounding_mode: Option<&str>) -> Result<Tensor> {
    div_mode("aten::div.Scalar_mode", self_, Other::Scalar(other), rounding_mode)
}

/// A bool tensor laid out like `self_`, with `pred` of each float element
/// (all false for integral and bool inputs).
fn classify(op: &str, self_: &Tensor, pred: fn(f64) -> bool) -> Result<Tensor> {
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_],
        dtype: self_.dtype(),
        out: None,
    })?;
    let layout = ew.output();
    let out = iter::empty_strided(op, layout.sizes(), layout.strides(), DType::Bool)?;
    let a = ew.input(0);
    dispatch_float!(a.dtype(), T => iter::map1(&out, a, move |x: T| pred(x.to_f64()))?,
        _ => iter::fill(&out, false)?);
    Ok(out)
}

/// True where `self` is `+inf` or `-inf`.
///
/// ```
/// use ft_kernels::pointwise::isinf;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, f32::INFINITY, f32::NAN], &[3]).unwrap();
/// assert_eq!(isinf(&a).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false]);
/// ```
pub fn isinf(self_: &Tensor) -> Result<Tensor> {
    classify("aten::isinf", self_, f64::is_infinite)
}

/// True where `self` is NaN.
///
/// ```
/// use ft_kernels::pointwise::isnan;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f64, f64::NAN], &[2]).unwrap();
/// assert_eq!(isnan(&a).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn isnan(self_: &Tensor) -> Result<Tensor> {
    classify("aten::isnan", self_, f64::is_nan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn integer_division_by_zero_is_an_error() {
        let a = t(vec![5i32, -5], &[2]);
        let z = t(vec![1i32, 0], &[2]);
        for r in [
            fmod_tensor(&a, &z),
            remainder_tensor(&a, &z),
            div_tensor_mode(&a, &z, Some("trunc")),
            div_tensor_mode(&a, &z, Some("floor")),
            fmod_scalar(&a, Scalar::Int(0)),
            div_scalar_mode(&a, Scalar::Int(0), Some("floor")),
        ] {
            let e = r.unwrap_err();
            assert_eq!(e.message(), "ZeroDivisionError");
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        }
        // floats follow IEEE
        let f = t(vec![5.0f32, -5.0, 0.0], &[3]);
        let r = div_scalar_mode(&f, Scalar::Int(0), Some("floor"))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(r[..2], [f32::INFINITY, f32::NEG_INFINITY]);
        assert!(r[2].is_nan());
    }

    #[test]
    fn floor_and_trunc_semantics() {
        let a = t(vec![5.0f64, -5.0, 5.0, -5.0, 0.0], &[5]);
        let b = t(vec![3.0f64, 3.0, -3.0, -3.0, -3.0], &[5]);
        let fl = div_tensor_mode(&a, &b, Some("floor")).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(fl, vec![1.0, -2.0, -2.0, 1.0, -0.0]);
        assert!(fl[4].is_sign_negative());
        let tr = div_tensor_mode(&a, &b, Some("trunc")).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(tr, vec![1.0, -1.0, -1.0, 1.0, -0.0]);
        let rem = remainder_tensor(&a, &b).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(rem, vec![2.0, 1.0, -1.0, -2.0, 0.0]);
        let i8t = t(vec![-128i8], &[1]);
        let m1 = t(vec![-1i8], &[1]);
        assert_eq!(
            div_tensor_mode(&i8t, &m1, Some("floor"))
                .unwrap()
                .to_vec::<i8>()
                .unwrap(),
            vec![-128]
        );
        assert_eq!(remainder_tensor(&i8t, &m1).unwrap().to_vec::<i8>().unwrap(), vec![0]);
    }

    #[test]
    fn dtypes_follow_promotion() {
        let b = t(vec![true], &[1]);
        assert_eq!(fmod_scalar(&b, Scalar::Int(2)).unwrap().dtype(), DType::I64);
        assert_eq!(fmod_tensor(&b, &b).unwrap_err().kind(), ErrorKind::DType);
        assert_eq!(atan2(&b, &b).unwrap().dtype(), DType::F32);
        let i8t = t(vec![5i8], &[1]);
        assert_eq!(fmod_scalar(&i8t, Scalar::Float(2.5)).unwrap().dtype(), DType::F32);
        let e = div_tensor_mode(&i8t, &i8t, Some("round")).unwrap_err();
        assert!(e.message().contains("found 'round'"));
        assert_eq!(e.op(), "aten::div.Tensor_mode");
        assert_eq!(
            div_scalar_mode(&b, Scalar::Int(2), Some("floor")).unwrap().dtype(),
            DType::I64
        );
    }

    #[test]
    fn classification() {
        let i = t(vec![1i32, 2], &[2]);
        assert_eq!(isnan(&i).unwrap().to_vec::<bool>().unwrap(), vec![false, false]);
        let h = t(vec![f16::INFINITY, f16::NAN], &[2]);
        assert_eq!(isinf(&h).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
        assert_eq!(isnan(&h).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
    }
}
