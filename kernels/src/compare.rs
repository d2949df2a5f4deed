//! Elementwise comparisons (`eq`, `ne`, `lt`, `le`, `gt`, `ge`), each with a
//! tensor and a scalar overload.
//!
//! The operands are broadcast and converted to their promoted dtype
//! (PyTorch's `result_type`, a scalar counting as a wrapped number and being
//! converted, with wrapping, to that dtype); the result is always bool.
//! A NaN compares unequal to everything, so only `ne` is true for it.

use crate::iter::{self, Elementwise, Spec};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{dispatch_dtype, DType, Element, Result, Scalar, Tensor};

/// Which comparison a call performs.
#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    #[inline(always)]
    fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

fn compare(op: &str, self_: &Tensor, other: &Tensor, other_op: Operand<'_>, cmp: Cmp) -> Result<Tensor> {
    let dtype = result_type(&[Operand::Tensor(self_), other_op]);
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_, other],
        dtype,
        out: None,
    })?;
    let layout = ew.output();
    let out = iter::empty_strided(op, layout.sizes(), layout.strides(), DType::Bool)?;
    let (a, b) = (ew.input(0), ew.input(1));
    dispatch_dtype!(dtype, T => compare_typed::<T>(&out, a, b, cmp))?;
    Ok(out)
}

fn compare_typed<T: Element>(out: &Tensor, a: &Tensor, b: &Tensor, cmp: Cmp) -> Result<()> {
    iter::map2(out, a, b, move |x: T, y: T| cmp.apply(x, y))
}

fn compare_tensor(op: &str, self_: &Tensor, other: &Tensor, cmp: Cmp) -> Result<Tensor> {
    compare(op, self_, other, Operand::Tensor(other), cmp)
}

fn compare_scalar(op: &str, self_: &Tensor, other: Scalar, cmp: Cmp) -> Result<Tensor> {
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Scalar(other)]);
    let other_t = Tensor::scalar_tensor(other, dtype);
    compare(op, self_, &other_t, Operand::Scalar(other), cmp)
}

/// `self == other` elementwise, broadcasting; the result is bool.
///
/// ```
/// use ft_kernels::compare::eq;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2.0f32], &[]).unwrap();
/// assert_eq!(eq(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn eq(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::eq.Tensor", self_, other, Cmp::Eq)
}

/// `self == other` for a number `other`.
///
/// ```
/// use ft_kernels::compare::eq_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1u8, 2], &[2]).unwrap();
/// assert_eq!(eq_scalar(&a, Scalar::Float(1.5)).unwrap().to_vec::<bool>().unwrap(), vec![false, false]);
/// ```
pub fn eq_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::eq.Scalar", self_, other, Cmp::Eq)
}

/// `self != other` elementwise, broadcasting (true where either is NaN).
///
/// ```
/// use ft_kernels::compare::ne;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![f64::NAN, 1.0], &[2]).unwrap();
/// assert_eq!(ne(&a, &a).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn ne(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::ne.Tensor", self_, other, Cmp::Ne)
}

/// `self != other` for a number `other`.
///
/// ```
/// use ft_kernels::compare::ne_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// assert_eq!(ne_scalar(&a, Scalar::Int(1)).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn ne_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::ne.Scalar", self_, other, Cmp::Ne)
}

/// `self < other` elementwise, broadcasting.
///
/// ```
/// use ft_kernels::compare::lt;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
/// let b = Tensor::from_vec(vec![2i32], &[1]).unwrap();
/// assert_eq!(lt(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false]);
/// ```
pub fn lt(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::lt.Tensor", self_, other, Cmp::Lt)
}

/// `self < other` for a number `other` (converted to the promoted dtype, so
/// `-1` compares as `255` against a uint8 tensor, as in PyTorch).
///
/// ```
/// use ft_kernels::compare::lt_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1u8, 2], &[2]).unwrap();
/// assert_eq!(lt_scalar(&a, Scalar::Int(-1)).unwrap().to_vec::<bool>().unwrap(), vec![true, true]);
/// ```
pub fn lt_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::lt.Scalar", self_, other, Cmp::Lt)
}

/// `self <= other` elementwise, broadcasting.
///
/// ```
/// use ft_kernels::compare::le;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// assert_eq!(le(&a, &a).unwrap().to_vec::<bool>().unwrap(), vec![true, true]);
/// ```
pub fn le(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::le.Tensor", self_, other, Cmp::Le)
}

/// `self <= other` for a number `other`.
///
/// ```
/// use ft_kernels::compare::le_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// assert_eq!(le_scalar(&a, Scalar::Float(1.5)).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn le_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::le.Scalar", self_, other, Cmp::Le)
}

/// `self > other` elementwise, broadcasting.
///
/// ```
/// use ft_kernels::compare::gt;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![false], &[]).unwrap();
/// assert_eq!(gt(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn gt(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::gt.Tensor", self_, other, Cmp::Gt)
}

/// `self > other` for a number `other`.
///
/// ```
/// use ft_kernels::compare::gt_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![-1i16, 0, 1], &[3]).unwrap();
/// assert_eq!(gt_scalar(&a, Scalar::Int(0)).unwrap().to_vec::<bool>().unwrap(), vec![false, false, true]);
/// ```
pub fn gt_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::gt.Scalar", self_, other, Cmp::Gt)
}

/// `self >= other` elementwise, broadcasting.
///
/// ```
/// use ft_kernels::compare::ge;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i64, 3], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2i64, 3], &[2]).unwrap();
/// assert_eq!(ge(&a, &b).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn ge(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    compare_tensor("aten::ge.Tensor", self_, other, Cmp::Ge)
}

/// `self >= other` for a number `other`.
///
/// ```
/// use ft_kernels::compare::ge_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let a = Tensor::from_vec(vec![f32::NAN, 2.0], &[2]).unwrap();
/// assert_eq!(ge_scalar(&a, Scalar::Int(2)).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn ge_scalar(self_: &Tensor, other: Scalar) -> Result<Tensor> {
    compare_scalar("aten::ge.Scalar", self_, other, Cmp::Ge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::half::f16;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn results_are_bool_and_broadcast() {
        let a = t(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]);
        let b = t(vec![2.5f64, 2.0, 6.0], &[3]);
        let r = le(&a, &b).unwrap();
        assert_eq!(r.dtype(), DType::Bool);
        assert_eq!(r.sizes(), &[2, 3]);
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![true, true, true, false, false, true]);
    }

    #[test]
    fn nan_and_scalars() {
        let a = t(vec![f16::from_f32(f32::NAN), f16::from_f32(0.5)], &[2]);
        assert_eq!(
            eq_scalar(&a, Scalar::Float(0.5)).unwrap().to_vec::<bool>().unwrap(),
            vec![false, true]
        );
        assert_eq!(
            ne_scalar(&a, Scalar::Float(0.5)).unwrap().to_vec::<bool>().unwrap(),
            vec![true, false]
        );
        for f in [lt_scalar, le_scalar, gt_scalar, ge_scalar] {
            assert!(!f(&a, Scalar::Int(0)).unwrap().to_vec::<bool>().unwrap()[0]);
        }
        // a bool tensor against an int scalar compares in int64
        let b = t(vec![true], &[1]);
        assert!(!eq_scalar(&b, Scalar::Int(2)).unwrap().to_vec::<bool>().unwrap()[0]);
        let e = t(Vec::<f32>::new(), &[0, 2]);
        assert_eq!(gt(&e, &t(vec![1.0f32, 2.0], &[2])).unwrap().sizes(), &[0, 2]);
        assert!(gt(&t(vec![1.0f32; 3], &[3]), &t(vec![1.0f32; 2], &[2])).is_err());
    }
}
