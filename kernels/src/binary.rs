//! Elementwise arithmetic: `add`, `sub`, `mul` and true `div`, each with a
//! tensor and a scalar overload and in-place variants.
//!
//! The result dtype is PyTorch's `result_type` of the operands (a scalar is a
//! "wrapped number"); true division of integral or bool operands gives the
//! default float dtype. Integer arithmetic wraps; on bool, `add` is logical or
//! and `mul` logical and. float16/bfloat16 compute in float32.

use crate::iter::{self, dispatch_float, Arith, Elementwise, FloatMath, OpMath, Spec};
use ft_runtime::half::{bf16, f16};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// The right-hand operand: a tensor or a Python number.
#[derive(Clone, Copy)]
enum Rhs<'a> {
    Tensor(&'a Tensor),
    Scalar(Scalar),
}

impl Rhs<'_> {
    fn operand(&self) -> Operand<'_> {
        match self {
            Rhs::Tensor(t) => Operand::Tensor(t),
            Rhs::Scalar(s) => Operand::Scalar(*s),
        }
    }

    /// The operand as a tensor; a scalar becomes a 0-dim tensor of `dtype`.
    fn to_tensor(self, dtype: DType) -> Tensor {
        match self {
            Rhs::Tensor(t) => t.clone(),
            Rhs::Scalar(s) => Tensor::scalar_tensor(s, dtype),
        }
    }

    /// For one-element operands, the value in float32 before any rounding to
    /// the compute dtype (PyTorch's `original_scalar_value`).
    fn single_value_f32(&self) -> Result<Option<f32>> {
        match self {
            Rhs::Scalar(s) => Ok(Some(s.to_elem::<f32>())),
            Rhs::Tensor(t) if t.numel() == 1 => Ok(Some(t.item()?.to_elem::<f32>())),
            Rhs::Tensor(_) => Ok(None),
        }
    }
}

/// Which arithmetic a call performs.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `self + alpha * other`; `true` marks sub, which adds `-alpha`.
    Add(Scalar, bool),
    Mul,
    Div,
}

const ADD: &str = "aten::add.Tensor";
const ADD_SCALAR: &str = "aten::add.Scalar";
const ADD_: &str = "aten::add_.Tensor";
const ADD_SCALAR_: &str = "aten::add_.Scalar";
const SUB: &str = "aten::sub.Tensor";
const SUB_SCALAR: &str = "aten::sub.Scalar";
const SUB_: &str = "aten::sub_.Tensor";
const SUB_SCALAR_: &str = "aten::sub_.Scalar";
const MUL: &str = "aten::mul.Tensor";
const MUL_SCALAR: &str = "aten::mul.Scalar";
const MUL_: &str = "aten::mul_.Tensor";
const MUL_SCALAR_: &str = "aten::mul_.Scalar";
const DIV: &str = "aten::div.Tensor";
const DIV_SCALAR: &str = "aten::div.Scalar";
const DIV_: &str = "aten::div_.Tensor";
const DIV_SCALAR_: &str = "aten::div_.Scalar";

/// PyTorch's `alpha_check` on the compute dtype.
fn alpha_check(op: &str, dtype: DType, alpha: Scalar) -> Result<()> {
    if alpha.is_bool() && dtype != DType::Bool {
        return Err(Error::invalid(op, "Boolean alpha only supported for Boolean results."));
    }
    if !dtype.is_floating_point() && alpha.is_floating_point() {
        return Err(Error::invalid(
            op,
            "For integral input tensors, argument alpha must not be a floating point number.",
        ));
    }
    Ok(())
}

/// PyTorch's `sub_check`: subtraction is not defined on bool.
fn sub_check(op: &str, a: DType, b: DType) -> Result<()> {
    if a == DType::Bool && b == DType::Bool {
        return Err(Error::dtype(
            op,
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.",
        ));
    }
    if a == DType::Bool || b == DType::Bool {
        return Err(Error::dtype(
            op,
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
        ));
    }
    Ok(())
}

/// `-alpha`, as sub passes it to the add kernel.
fn negate(alpha: Scalar) -> Scalar {
    match alpha {
        Scalar::Bool(b) => Scalar::Int(-(b as i64)),
        Scalar::Int(i) => Scalar::Int(i.wrapping_neg()),
        Scalar::Float(f) => Scalar::Float(-f),
    }
}

/// The shared driver: promotion, checks, the typed loop and the write-back.
fn binary(op: &str, self_: &Tensor, other: Rhs<'_>, out: Option<&Tensor>, kind: Kind) -> Result<Tensor> {
    let mut dtype = result_type(&[Operand::Tensor(self_), other.operand()]);
    if kind == Kind::Div && !dtype.is_floating_point() {
        dtype = DEFAULT_DTYPE;
    }
    let other_t = other.to_tensor(dtype);
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_, &other_t],
        dtype,
        out,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    match kind {
        Kind::Add(alpha, is_sub) => {
            alpha_check(op, dtype, alpha)?;
            add_loop(o, a, b, if is_sub { negate(alpha) } else { alpha })?;
        }
        Kind::Mul => mul_loop(o, a, b, other)?,
        Kind::Div => div_loop(op, o, a, b, other)?,
    }
    ew.finish()
}

fn add_loop(o: &Tensor, a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<()> {
    dispatch_dtype!(o.dtype(), T => add_typed::<T>(o, a, b, alpha))
}

fn add_typed<T: OpMath>(o: &Tensor, a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<()> {
    if alpha.equals(1.0) {
        return iter::map2(o, a, b, |x: T, y: T| T::narrow(x.widen().add(y.widen())));
    }
    // PyTorch converts alpha to the element type first, then computes in opmath.
    let al = alpha.to_elem::<T>().widen();
    iter::map2(o, a, b, move |x: T, y: T| T::narrow(x.widen().add(al.mul(y.widen()))))
}

/// Reduced-float kernels take a one-element right operand at float32
/// precision instead of rounding it to the element type.
fn reduced_scalar_loop(o: &Tensor, a: &Tensor, b: &Tensor, v: f32, f: fn(f32, f32) -> f32) -> Result<()> {
    match o.dtype() {
        DType::F16 => iter::map2(o, a, b, move |x: f16, _: f16| f16::from_f32(f(x.to_f32(), v))),
        DType::BF16 => iter::map2(o, a, b, move |x: bf16, _: bf16| bf16::from_f32(f(x.to_f32(), v))),
        other => Err(Error::dtype(
            "TensorIterator",
            format!("internal error: {other} is not a reduced float"),
        )),
    }
}

fn is_reduced(dtype: DType) -> bool {
    matches!(dtype, DType::F16 | DType::BF16)
}

fn mul_loop(o: &Tensor, a: &Tensor, b: &Tensor, other: Rhs<'_>) -> Result<()> {
    if is_reduced(o.dtype()) {
        if let Some(v) = other.single_value_f32()? {
            return reduced_scalar_loop(o, a, b, v, |x, y| x * y);
        }
    }
    dispatch_dtype!(o.dtype(), T => iter::map2(o, a, b, |x: T, y: T| T::narrow(x.widen().mul(y.widen()))))
}

fn div_loop(op: &str, o: &Tensor, a: &Tensor, b: &Tensor, other: Rhs<'_>) -> Result<()> {
    if is_reduced(o.dtype()) {
        if let Some(v) = other.single_value_f32()? {
            return reduced_scalar_loop(o, a, b, v, |x, y| x / y);
        }
    }
    dispatch_float!(o.dtype(), T => iter::map2(o, a, b, |x: T, y: T| T::narrow(x.widen().div(y.widen()))),
        _ => Err(Error::dtype(op, format!("\"div_true_cpu\" not implemented for '{}'", o.dtype().scalar_type_name()))))
}

/// `self + alpha * other` with broadcasting and type promotion.
///
/// ```
/// use ft_kernels::binary::add;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let a = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
/// let b = Tensor::from_vec(vec![0.5f32, 1.5], &[2, 1]).unwrap();
/// let r = add(&a, &b, Scalar::Int(2)).unwrap();
/// assert_eq!(r.dtype(), DType::F32);
/// assert_eq!(r.sizes(), &[2, 3]);
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![2.0, 3.0, 4.0, 4.0, 5.0, 6.0]);
/// ```
pub fn add(self_: &Tensor, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
    binary(ADD, self_, Rhs::Tensor(other), None, Kind::Add(alpha, false))
}

/// `self + alpha * other` for a number `other` (a wrapped number in promotion).
///
/// ```
/// use ft_kernels::binary::add_scalar;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// let r = add_scalar(&a, Scalar::Float(0.5), Scalar::Int(1)).unwrap();
/// assert_eq!(r.dtype(), DType::F32);
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.5, 2.5]);
/// ```
pub fn add_scalar(self_: &Tensor, other: Scalar, alpha: Scalar) -> Result<Tensor> {
    binary(ADD_SCALAR, self_, Rhs::Scalar(other), None, Kind::Add(alpha, false))
}

/// In-place `self += alpha * other`; returns `self_`'s handle.
///
/// ```
/// use ft_kernels::binary::add_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let r = add_(&a, &a, Scalar::Int(1)).unwrap();
/// assert!(r.is_same(&a));
/// assert_eq!(a.to_vec::<f64>().unwrap(), vec![2.0, 4.0]);
/// ```
pub fn add_(self_: &Tensor, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
    binary(ADD_, self_, Rhs::Tensor(other), Some(self_), Kind::Add(alpha, false))
}

/// In-place `self += alpha * other` for a number `other`.
///
/// ```
/// use ft_kernels::binary::add_scalar_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1u8, 255], &[2]).unwrap();
/// add_scalar_(&a, Scalar::Int(1), Scalar::Int(1)).unwrap();
/// assert_eq!(a.to_vec::<u8>().unwrap(), vec![2, 0]); // wraps
/// ```
pub fn add_scalar_(self_: &Tensor, other: Scalar, alpha: Scalar) -> Result<Tensor> {
    binary(
        ADD_SCALAR_,
        self_,
        Rhs::Scalar(other),
        Some(self_),
        Kind::Add(alpha, false),
    )
}

/// `self - alpha * other`; bool operands are an error.
///
/// ```
/// use ft_kernels::binary::sub;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![5i64, 7], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// assert_eq!(sub(&a, &b, Scalar::Int(2)).unwrap().to_vec::<i64>().unwrap(), vec![3, 3]);
/// let m = Tensor::from_vec(vec![true], &[1]).unwrap();
/// assert!(sub(&m, &m, Scalar::Int(1)).is_err());
/// ```
pub fn sub(self_: &Tensor, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
    sub_check(SUB, self_.dtype(), other.dtype())?;
    binary(SUB, self_, Rhs::Tensor(other), None, Kind::Add(alpha, true))
}

/// `self - alpha * other` for a number `other`.
///
/// ```
/// use ft_kernels::binary::sub_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1.5f32], &[1]).unwrap();
/// assert_eq!(sub_scalar(&a, Scalar::Int(1), Scalar::Int(1)).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn sub_scalar(self_: &Tensor, other: Scalar, alpha: Scalar) -> Result<Tensor> {
    sub_check(SUB_SCALAR, self_.dtype(), other.dtype())?;
    binary(SUB_SCALAR, self_, Rhs::Scalar(other), None, Kind::Add(alpha, true))
}

/// In-place `self -= alpha * other`; returns `self_`'s handle.
///
/// ```
/// use ft_kernels::binary::sub_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![3i32, 4], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![1i32], &[]).unwrap();
/// sub_(&a, &b, Scalar::Int(1)).unwrap();
/// assert_eq!(a.to_vec::<i32>().unwrap(), vec![2, 3]);
/// ```
pub fn sub_(self_: &Tensor, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
    sub_check(SUB_, self_.dtype(), other.dtype())?;
    binary(SUB_, self_, Rhs::Tensor(other), Some(self_), Kind::Add(alpha, true))
}

/// In-place `self -= alpha * other` for a number `other`.
///
/// ```
/// use ft_kernels::binary::sub_scalar_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![0u8], &[1]).unwrap();
/// sub_scalar_(&a, Scalar::Int(1), Scalar::Int(1)).unwrap();
/// assert_eq!(a.to_vec::<u8>().unwrap(), vec![255]);
/// ```
pub fn sub_scalar_(self_: &Tensor, other: Scalar, alpha: Scalar) -> Result<Tensor> {
    sub_check(SUB_SCALAR_, self_.dtype(), other.dtype())?;
    binary(
        SUB_SCALAR_,
        self_,
        Rhs::Scalar(other),
        Some(self_),
        Kind::Add(alpha, true),
    )
}

/// `self * other` with broadcasting and type promotion (bool: logical and).
///
/// ```
/// use ft_kernels::binary::mul;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![true, true], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// assert_eq!(mul(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn mul(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary(MUL, self_, Rhs::Tensor(other), None, Kind::Mul)
}

/// `self * other` for a number `other`.
///
/// ```
/// use ft_kernels::binary::mul_scalar;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let a = Tensor::from_vec(vec![3i16], &[1]).unwrap();
/// let r = mul_scalar(&a, Scalar::Int(4)).unwrap();
/// assert_eq!(r.dtype(), DType::I16);
/// assert_eq!(r.to_vec::<i16>().unwrap(), vec![12]);
/// ```
pub fn mul_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary(MUL_SCALAR, self_, Rhs::Scalar(other), None, Kind::Mul)
}

/// In-place `self *= other`; returns `self_`'s handle.
///
/// ```
/// use ft_kernels::binary::mul_;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![2.0f32, 3.0], &[2]).unwrap();
/// mul_(&a, &a).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![4.0, 9.0]);
/// ```
pub fn mul_(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary(MUL_, self_, Rhs::Tensor(other), Some(self_), Kind::Mul)
}

/// In-place `self *= other` for a number `other`.
///
/// ```
/// use ft_kernels::binary::mul_scalar_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![2i64], &[1]).unwrap();
/// assert!(mul_scalar_(&a, Scalar::Float(1.5)).is_err()); // Float can't be cast to Long
/// ```
pub fn mul_scalar_(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary(MUL_SCALAR_, self_, Rhs::Scalar(other), Some(self_), Kind::Mul)
}

/// True division `self / other`; integral and bool operands give float32.
///
/// ```
/// use ft_kernels::binary::div;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1i64, 3], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2i64], &[]).unwrap();
/// let r = div(&a, &b).unwrap();
/// assert_eq!(r.dtype(), DType::F32);
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.5, 1.5]);
/// ```
pub fn div(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary(DIV, self_, Rhs::Tensor(other), None, Kind::Div)
}

/// True division by a number.
///
/// ```
/// use ft_kernels::binary::div_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1.0f64, -1.0], &[2]).unwrap();
/// assert_eq!(div_scalar(&a, Scalar::Int(0)).unwrap().to_vec::<f64>().unwrap(), vec![f64::INFINITY, f64::NEG_INFINITY]);
/// ```
pub fn div_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary(DIV_SCALAR, self_, Rhs::Scalar(other), None, Kind::Div)
}

/// In-place true division; an integral `self_` is an error (Float can't be
/// cast to it).
///
/// ```
/// use ft_kernels::binary::div_;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![4i32, 4], &[2]).unwrap();
/// div_(&a, &b).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.25, 0.5]);
/// assert!(div_(&b, &a).is_err());
/// ```
pub fn div_(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    binary(DIV_, self_, Rhs::Tensor(other), Some(self_), Kind::Div)
}

/// In-place true division by a number.
///
/// ```
/// use ft_kernels::binary::div_scalar_;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![3.0f64], &[]).unwrap();
/// div_scalar_(&a, Scalar::Float(2.0)).unwrap();
/// assert_eq!(a.to_vec::<f64>().unwrap(), vec![1.5]);
/// ```
pub fn div_scalar_(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    binary(DIV_SCALAR_, self_, Rhs::Scalar(other), Some(self_), Kind::Div)
}

/// `maximum`/`minimum`: promotion, broadcasting, NaN propagation.
fn extremum(op: &str, self_: &Tensor, other: &Tensor, take_max: bool) -> Result<Tensor> {
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Tensor(other)]);
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_, other],
        dtype,
        out: None,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_dtype!(dtype, T => extremum_typed::<T>(o, a, b, take_max))?;
    ew.finish()
}

fn extremum_typed<T: Element>(o: &Tensor, a: &Tensor, b: &Tensor, take_max: bool) -> Result<()> {
    // Only NaN is unordered with itself; it wins over any value.
    let is_nan = |v: T| v.partial_cmp(&v).is_none();
    iter::map2(o, a, b, move |x: T, y: T| {
        if is_nan(x) {
            x
        } else if is_nan(y) {
            y
        } else if (x > y) == take_max {
            x
        } else {
            y
        }
    })
}

/// Elementwise maximum with broadcasting and type promotion; NaN propagates
/// (bool: logical or).
///
/// ```
/// use ft_kernels::binary::maximum;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, f32::NAN, 3.0], &[3]).unwrap();
/// let b = Tensor::from_vec(vec![2i64], &[]).unwrap();
/// let r = maximum(&a, &b).unwrap().to_vec::<f32>().unwrap();
/// assert_eq!((r[0], r[1].is_nan(), r[2]), (2.0, true, 3.0));
/// ```
pub fn maximum(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    extremum("aten::maximum", self_, other, true)
}

/// Elementwise minimum with broadcasting and type promotion; NaN propagates
/// (bool: logical and).
///
/// ```
/// use ft_kernels::binary::minimum;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i32, 5], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3i32, 3], &[2]).unwrap();
/// assert_eq!(minimum(&a, &b).unwrap().to_vec::<i32>().unwrap(), vec![1, 3]);
/// ```
pub fn minimum(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    extremum("aten::minimum", self_, other, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t<T: ft_runtime::Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn promotion_of_results() {
        let i32t = t(vec![1i32, 2], &[2]);
        let u8t = t(vec![1u8, 2], &[2]);
        let i8t = t(vec![1i8, 2], &[2]);
        let f16t = t(vec![f16::from_f32(1.0); 2], &[2]);
        assert_eq!(add(&u8t, &i8t, Scalar::Int(1)).unwrap().dtype(), DType::I16);
        assert_eq!(add(&i32t, &f16t, Scalar::Int(1)).unwrap().dtype(), DType::F16);
        assert_eq!(mul_scalar(&i32t, Scalar::Int(3)).unwrap().dtype(), DType::I32);
        assert_eq!(mul_scalar(&i32t, Scalar::Float(3.0)).unwrap().dtype(), DType::F32);
        let zero_dim_f64 = t(vec![2.0f64], &[]);
        assert_eq!(mul(&f16t, &zero_dim_f64).unwrap().dtype(), DType::F16);
        assert_eq!(mul(&zero_dim_f64, &zero_dim_f64).unwrap().dtype(), DType::F64);
        let b = t(vec![true, false], &[2]);
        assert_eq!(
            add_scalar(&b, Scalar::Int(1), Scalar::Int(1)).unwrap().dtype(),
            DType::I64
        );
        assert_eq!(div(&b, &b).unwrap().dtype(), DType::F32);
    }

    #[test]
    fn bool_arithmetic_is_logical() {
        let a = t(vec![true, true, false, false], &[4]);
        let b = t(vec![true, false, true, false], &[4]);
        assert_eq!(
            add(&a, &b, Scalar::Int(1)).unwrap().to_vec::<bool>().unwrap(),
            vec![true, true, true, false]
        );
        assert_eq!(
            add(&a, &b, Scalar::Bool(false)).unwrap().to_vec::<bool>().unwrap(),
            vec![true, true, false, false]
        );
        assert_eq!(
            mul(&a, &b).unwrap().to_vec::<bool>().unwrap(),
            vec![true, false, false, false]
        );
        assert_eq!(div(&a, &b).unwrap().to_f64_vec()[..2], [1.0, f64::INFINITY]);
    }

    #[test]
    fn integer_arithmetic_wraps() {
        let a = t(vec![i8::MAX, i8::MIN], &[2]);
        let one = t(vec![1i8], &[1]);
        assert_eq!(
            add(&a, &one, Scalar::Int(1)).unwrap().to_vec::<i8>().unwrap(),
            vec![i8::MIN, -127]
        );
        assert_eq!(
            sub(&a, &one, Scalar::Int(1)).unwrap().to_vec::<i8>().unwrap(),
            vec![126, i8::MAX]
        );
        assert_eq!(
            mul_scalar(&a, Scalar::Int(2)).unwrap().to_vec::<i8>().unwrap(),
            vec![-2, 0]
        );
        // alpha is converted to the element type first: 257 -> 1 for int8
        assert_eq!(
            add(&a, &one, Scalar::Int(257)).unwrap().to_vec::<i8>().unwrap(),
            vec![i8::MIN, -127]
        );
    }

    #[test]
    fn reduced_floats_compute_in_f32() {
        let a = t(vec![f16::from_f32(1.0), f16::from_f32(2048.0)], &[2]);
        let b = t(vec![f16::from_f32(0.0004), f16::from_f32(1.0)], &[2]);
        let r = add(&a, &b, Scalar::Int(1)).unwrap().to_vec::<f16>().unwrap();
        assert_eq!(r, vec![f16::from_f32(1.0004), f16::from_f32(2049.0)]);
        // a one-element divisor keeps float32 precision (PyTorch's original scalar value)
        let x = t(vec![bf16::from_f32(3.0)], &[1]);
        let q = div_scalar(&x, Scalar::Float(3.0)).unwrap().to_vec::<bf16>().unwrap();
        assert_eq!(q, vec![bf16::from_f32(1.0)]);
        let m = mul_scalar(&x, Scalar::Float(0.1)).unwrap().to_vec::<bf16>().unwrap();
        assert_eq!(m, vec![bf16::from_f32(3.0 * 0.1f32)]);
    }

    #[test]
    fn broadcasting_and_layouts() {
        let a = t((0..6).map(|i| i as f32).collect(), &[2, 3]);
        let at = a.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let r = add(&at, &at, Scalar::Int(1)).unwrap();
        assert_eq!(r.strides(), &[1, 3], "transposed inputs give a transposed result");
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 6.0, 2.0, 8.0, 4.0, 10.0]);
        let col = t(vec![100.0f32, 200.0, 300.0], &[3, 1]);
        let r = add(&col, &at, Scalar::Int(1)).unwrap();
        assert_eq!(r.sizes(), &[3, 2]);
        assert_eq!(
            r.to_vec::<f32>().unwrap(),
            vec![100.0, 103.0, 201.0, 204.0, 302.0, 305.0]
        );
        let expanded = t(vec![1.0f32, 2.0], &[2]).as_view(&[3, 2], &[0, 1], 0).unwrap();
        let r = mul(&expanded, &at).unwrap();
        assert_eq!(r.strides(), &[1, 3]);
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 6.0, 1.0, 8.0, 2.0, 10.0]);
        let empty = t(Vec::<f32>::new(), &[0, 3]);
        assert_eq!(
            add(&empty, &a.as_view(&[3], &[1], 0).unwrap(), Scalar::Int(1))
                .unwrap()
                .sizes(),
            &[0, 3]
        );
        let z = t(vec![2.0f64], &[]);
        let r = mul(&z, &z).unwrap();
        assert_eq!((r.dim(), r.to_vec::<f64>().unwrap()), (0, vec![4.0]));
        let e = add(&t(vec![1.0f32; 3], &[3]), &t(vec![1.0f32; 4], &[4]), Scalar::Int(1)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(e.op(), "aten::add.Tensor");
    }

    #[test]
    fn alpha_errors() {
        let i = t(vec![1i32], &[1]);
        let e = add(&i, &i, Scalar::Float(1.0)).unwrap_err();
        assert_eq!(
            e.message(),
            "For integral input tensors, argument alpha must not be a floating point number."
        );
        let e = add(&i, &i, Scalar::Bool(true)).unwrap_err();
        assert_eq!(e.message(), "Boolean alpha only supported for Boolean results.");
        let e = sub(&i, &i, Scalar::Bool(true)).unwrap_err();
        assert_eq!(e.message(), "Boolean alpha only supported for Boolean results.");
        let f = t(vec![1.0f32], &[1]);
        assert_eq!(
            sub(&f, &f, Scalar::Float(0.5)).unwrap().to_vec::<f32>().unwrap(),
            vec![0.5]
        );
    }

    #[test]
    fn sub_bool_errors() {
        let b = t(vec![true], &[1]);
        let f = t(vec![1.0f32], &[1]);
        let e = sub(&b, &b, Scalar::Int(1)).unwrap_err();
        assert!(e.message().contains("with two bool tensors"));
        let e = sub(&f, &b, Scalar::Int(1)).unwrap_err();
        assert!(e.message().contains("with a bool tensor is not supported"));
        let e = sub_scalar(&f, Scalar::Bool(true), Scalar::Int(1)).unwrap_err();
        assert!(e.message().contains("with a bool tensor"));
        assert!(sub_scalar_(&b, Scalar::Bool(true), Scalar::Int(1))
            .unwrap_err()
            .message()
            .contains("two bool"));
    }

    #[test]
    fn in_place_rules() {
        let a = t(vec![1i64, 2, 3], &[3]);
        let row2 = t(vec![1i64; 6], &[2, 3]);
        let e = add_(&a, &row2, Scalar::Int(1)).unwrap_err();
        assert_eq!(
            e.message(),
            "output with shape [3] doesn't match the broadcast shape [2, 3]"
        );
        let f = t(vec![0.5f32; 3], &[3]);
        let e = add_(&a, &f, Scalar::Int(1)).unwrap_err();
        assert_eq!(
            e.message(),
            "result type Float can't be cast to the desired output type Long"
        );
        let e = div_scalar_(&a, Scalar::Int(2)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DType);
        // int32 self with an int64 operand: computed in int64, cast back
        let small = t(vec![1i32, 2, 3], &[3]);
        add_(&small, &a, Scalar::Int(10)).unwrap();
        assert_eq!(small.to_vec::<i32>().unwrap(), vec![11, 22, 33]);
        // float32 self with a float64 0-dim operand
        let g = t(vec![1.0f32, 2.0], &[2]);
        mul_(&g, &t(vec![0.5f64], &[])).unwrap();
        assert_eq!(g.to_vec::<f32>().unwrap(), vec![0.5, 1.0]);
    }

    #[test]
    fn in_place_aliasing() {
        let base = t((0..4).map(|i| i as f32).collect(), &[4]);
        add_(&base, &base, Scalar::Int(1)).unwrap();
        assert_eq!(base.to_vec::<f32>().unwrap(), vec![0.0, 2.0, 4.0, 6.0]);
        let same_view = base.as_view(&[4], &[1], 0).unwrap();
        mul_(&base, &same_view).unwrap();
        assert_eq!(base.to_vec::<f32>().unwrap(), vec![0.0, 4.0, 16.0, 36.0]);
        let head = base.as_view(&[3], &[1], 0).unwrap();
        let tail = base.as_view(&[3], &[1], 1).unwrap();
        let e = add_(&head, &tail, Scalar::Int(1)).unwrap_err();
        assert!(e.message().starts_with("unsupported operation: some elements"));
        let m = t(vec![1.0f32; 4], &[2, 2]);
        let mt = m.as_view(&[2, 2], &[1, 2], 0).unwrap();
        assert!(sub_(&m, &mt, Scalar::Int(1)).is_err());
        let expanded = t(vec![1.0f32, 2.0], &[2]).as_view(&[2, 2], &[0, 1], 0).unwrap();
        let e = mul_scalar_(&expanded, Scalar::Int(2)).unwrap_err();
        assert!(e.message().starts_with("unsupported operation: more than one element"));
        // disjoint views of one storage are fine
        let lo = base.as_view(&[2], &[1], 0).unwrap();
        let hi = base.as_view(&[2], &[1], 2).unwrap();
        add_(&lo, &hi, Scalar::Int(1)).unwrap();
        assert_eq!(base.to_vec::<f32>().unwrap(), vec![16.0, 40.0, 16.0, 36.0]);
    }

    #[test]
    fn in_place_on_strided_self() {
        let m = t((0..6).map(|i| i as f64).collect(), &[2, 3]);
        let col = m.as_view(&[2], &[3], 1).unwrap();
        add_scalar_(&col, Scalar::Int(100), Scalar::Int(1)).unwrap();
        assert_eq!(m.to_vec::<f64>().unwrap(), vec![0.0, 101.0, 2.0, 3.0, 104.0, 5.0]);
    }

    #[test]
    fn division_semantics() {
        let a = t(vec![1i32, -1, 0], &[3]);
        let z = t(vec![0i32], &[1]);
        let r = div(&a, &z).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(r[..2], [f32::INFINITY, f32::NEG_INFINITY]);
        assert!(r[2].is_nan());
        let h = t(vec![f16::from_f32(1.0)], &[1]);
        let three = t(vec![f16::from_f32(3.0)], &[1]);
        assert_eq!(
            div(&h, &three).unwrap().to_vec::<f16>().unwrap(),
            vec![f16::from_f32(1.0 / 3.0)]
        );
    }

    #[test]
    fn maximum_minimum_semantics() {
        let a = Tensor::from_vec(vec![1.0f64, f64::NAN, -0.5, 2.0], &[4]).unwrap();
        let b = Tensor::from_vec(vec![0.5f64, 1.0, f64::NAN, 2.0], &[4]).unwrap();
        let mx = maximum(&a, &b).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(mx[0], 1.0);
        assert!(mx[1].is_nan() && mx[2].is_nan());
        let mn = minimum(&a, &b).unwrap().to_vec::<f64>().unwrap();
        assert_eq!((mn[0], mn[3]), (0.5, 2.0));
        let t = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        let f = Tensor::from_vec(vec![false], &[1]).unwrap();
        let r = maximum(&t, &f).unwrap();
        assert_eq!(r.dtype(), DType::Bool);
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![true, false]);
        let i = Tensor::from_vec(vec![-3i8, 4], &[2, 1]).unwrap();
        let u = Tensor::from_vec(vec![2u8, 200], &[2]).unwrap();
        let r = minimum(&i, &u).unwrap();
        assert_eq!(r.dtype(), DType::I16);
        assert_eq!(r.to_vec::<i16>().unwrap(), vec![-3, -3, 2, 4]);
    }
}
