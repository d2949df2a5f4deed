//! Bitwise (`bitwise_and/or/xor/not`) and logical (`logical_and/or/xor/not`)
//! elementwise ops.
//!
//! Bitwise ops keep PyTorch's promoted dtype and are defined on bool and
//! integers only (on bool they are logical). Logical ops take any dtype,
//! read each element as `x != 0` (NaN is true) and return bool.

use crate::iter::{self, Elementwise, Spec};
use crate::pointwise::{not_implemented, Other};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{DType, Element, Result, Scalar, Tensor};
use std::ops::{BitAnd, BitOr, BitXor, Not};

/// Element types with bitwise operators (bool and the integers).
trait Bits: Element + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self> + Not<Output = Self> {}
impl<T: Element + BitAnd<Output = T> + BitOr<Output = T> + BitXor<Output = T> + Not<Output = T>> Bits for T {}

/// Runs `$body` with `$T` bound to the element type of a bool or integral
/// `$dtype`, or evaluates `$other` for a floating one.
macro_rules! dispatch_bits {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            DType::Bool => {
                type $T = bool;
                $body
            }
            DType::U8 => {
                type $T = u8;
                $body
            }
            DType::I8 => {
                type $T = i8;
                $body
            }
            DType::I16 => {
                type $T = i16;
                $body
            }
            DType::I32 => {
                type $T = i32;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            _ => $other,
        }
    }};
}

/// Which binary bitwise operator a call applies.
#[derive(Clone, Copy)]
enum BitOp {
    And,
    Or,
    Xor,
}

impl BitOp {
    #[inline(always)]
    fn apply<T: Bits>(self, a: T, b: T) -> T {
        match self {
            BitOp::And => a & b,
            BitOp::Or => a | b,
            BitOp::Xor => a ^ b,
        }
    }

    fn kernel(self) -> &'static str {
        match self {
            BitOp::And => "bitwise_and_cpu",
            BitOp::Or => "bitwise_or_cpu",
            BitOp::Xor => "bitwise_xor_cpu",
        }
    }
}

fn bitwise(op: &str, self_: &Tensor, other: Other<'_>, bit: BitOp) -> Result<Tensor> {
    let dtype = result_type(&[Operand::Tensor(self_), other.operand()]);
    if dtype.is_floating_point() {
        return Err(not_implemented(op, bit.kernel(), dtype));
    }
    let other_t = other.to_tensor(dtype);
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_, &other_t],
        dtype,
        out: None,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_bits!(dtype, T => iter::map2(o, a, b, move |x: T, y: T| bit.apply(x, y))?,
        _ => return Err(not_implemented(op, bit.kernel(), dtype)));
    ew.finish()
}

/// `self & other` elementwise (logical and on bool), broadcasting.
///
/// ```
/// use ft_kernels::bitwise::bitwise_and;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![6u8, 5], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3u8], &[1]).unwrap();
/// assert_eq!(bitwise_and(&a, &b).unwrap().to_vec::<u8>().unwrap(), vec![2, 1]);
/// ```
pub fn bitwise_and(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    bitwise("aten::bitwise_and.Tensor", self_, Other::Tensor(other), BitOp::And)
}

/// `self & other` for a number `other`.
///
/// ```
/// use ft_kernels::bitwise::bitwise_and_scalar;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let r = bitwise_and_scalar(&b, Scalar::Int(3)).unwrap();
/// assert_eq!((r.dtype(), r.to_vec::<i64>().unwrap()), (DType::I64, vec![1, 0]));
/// ```
pub fn bitwise_and_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    bitwise("aten::bitwise_and.Scalar", self_, Other::Scalar(other), BitOp::And)
}

/// `self | other` elementwise (logical or on bool), broadcasting.
///
/// ```
/// use ft_kernels::bitwise::bitwise_or;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![4i32, 1], &[2]).unwrap();
/// assert_eq!(bitwise_or(&a, &a.clone()).unwrap().to_vec::<i32>().unwrap(), vec![4, 1]);
/// ```
pub fn bitwise_or(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    bitwise("aten::bitwise_or.Tensor", self_, Other::Tensor(other), BitOp::Or)
}

/// `self | other` for a number `other`.
///
/// ```
/// use ft_kernels::bitwise::bitwise_or_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![4i16], &[1]).unwrap();
/// assert_eq!(bitwise_or_scalar(&a, Scalar::Int(3)).unwrap().to_vec::<i16>().unwrap(), vec![7]);
/// ```
pub fn bitwise_or_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    bitwise("aten::bitwise_or.Scalar", self_, Other::Scalar(other), BitOp::Or)
}

/// `self ^ other` elementwise (logical xor on bool), broadcasting.
///
/// ```
/// use ft_kernels::bitwise::bitwise_xor;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1u8, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![-1i8], &[1]).unwrap();
/// let r = bitwise_xor(&a, &b).unwrap();
/// assert_eq!((r.dtype(), r.to_vec::<i16>().unwrap()), (DType::I16, vec![-2, -3]));
/// ```
pub fn bitwise_xor(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    bitwise("aten::bitwise_xor.Tensor", self_, Other::Tensor(other), BitOp::Xor)
}

/// `self ^ other` for a number `other`.
///
/// ```
/// use ft_kernels::bitwise::bitwise_xor_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![5i64], &[1]).unwrap();
/// assert_eq!(bitwise_xor_scalar(&a, Scalar::Int(1)).unwrap().to_vec::<i64>().unwrap(), vec![4]);
/// assert!(bitwise_xor_scalar(&a, Scalar::Float(1.0)).is_err());
/// ```
pub fn bitwise_xor_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    bitwise("aten::bitwise_xor.Scalar", self_, Other::Scalar(other), BitOp::Xor)
}

/// `~self`: bitwise not of integers, logical not of bool.
///
/// ```
/// use ft_kernels::bitwise::bitwise_not;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![0i8, 5], &[2]).unwrap();
/// assert_eq!(bitwise_not(&a).unwrap().to_vec::<i8>().unwrap(), vec![-1, -6]);
/// let b = Tensor::from_vec(vec![true], &[1]).unwrap();
/// assert_eq!(bitwise_not(&b).unwrap().to_vec::<bool>().unwrap(), vec![false]);
/// ```
pub fn bitwise_not(self_: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::bitwise_not";
    let dtype = self_.dtype();
    if dtype.is_floating_point() {
        return Err(not_implemented(OP, "bitwise_not_cpu", dtype));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_bits!(dtype, T => iter::map1(o, a, |x: T| !x)?,
        _ => return Err(not_implemented(OP, "bitwise_not_cpu", dtype)));
    ew.finish()
}

/// The operands read as bool (`x != 0`), laid out and broadcast as
/// PyTorch's iterator would; the result is a bool tensor.
fn logical(op: &str, inputs: &[&Tensor], f: impl Fn(bool, bool) -> bool + Sync + Send + Copy) -> Result<Tensor> {
    let ew = Elementwise::new(Spec {
        op,
        inputs,
        dtype: DType::Bool,
        out: None,
    })?;
    let o = ew.output();
    match inputs.len() {
        1 => iter::map1(o, ew.input(0), |x: bool| f(x, false))?,
        _ => iter::map2(o, ew.input(0), ew.input(1), f)?,
    }
    ew.finish()
}

/// `self and other` elementwise, nonzero meaning true; the result is bool.
///
/// ```
/// use ft_kernels::bitwise::logical_and;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 0.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![f32::NAN, 1.0], &[2]).unwrap();
/// assert_eq!(logical_and(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn logical_and(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    logical("aten::logical_and", &[self_, other], |a, b| a && b)
}

/// `self or other` elementwise; the result is bool.
///
/// ```
/// use ft_kernels::bitwise::logical_or;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![0i64, 0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0u8, 7], &[2]).unwrap();
/// assert_eq!(logical_or(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn logical_or(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    logical("aten::logical_or", &[self_, other], |a, b| a || b)
}

/// `self xor other` elementwise; the result is bool.
///
/// ```
/// use ft_kernels::bitwise::logical_xor;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2i32], &[1]).unwrap();
/// assert_eq!(logical_xor(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn logical_xor(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    logical("aten::logical_xor", &[self_, other], |a, b| a != b)
}

/// `not self` elementwise (true where `self` is zero); the result is bool.
///
/// ```
/// use ft_kernels::bitwise::logical_not;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![0.0f32, -0.5], &[2]).unwrap();
/// assert_eq!(logical_not(&a).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn logical_not(self_: &Tensor) -> Result<Tensor> {
    logical("aten::logical_not", &[self_], |a, _| !a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn floats_are_rejected_by_bitwise_ops() {
        let f = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
        let i = Tensor::from_vec(vec![1i64], &[1]).unwrap();
        let e = bitwise_and(&i, &f).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DType);
        assert_eq!(e.message(), "\"bitwise_and_cpu\" not implemented for 'Float'");
        assert!(bitwise_not(&f).is_err());
        assert!(bitwise_or_scalar(&i, Scalar::Float(2.0)).is_err());
        let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        let r = bitwise_xor_scalar(&b, Scalar::Bool(true)).unwrap();
        assert_eq!(
            (r.dtype(), r.to_vec::<bool>().unwrap()),
            (DType::Bool, vec![false, true])
        );
    }

    #[test]
    fn logical_ops_broadcast_and_keep_layout() {
        let a = Tensor::from_vec(vec![0i32, 1, 2, 0, 0, 3], &[2, 3]).unwrap();
        let at = a.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let r = logical_not(&at).unwrap();
        assert_eq!(r.strides(), &[1, 3]);
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![true, true, false, true, false, false]);
        let col = Tensor::from_vec(vec![true, false, true], &[3, 1]).unwrap();
        assert_eq!(logical_and(&at, &col).unwrap().sizes(), &[3, 2]);
    }
}
