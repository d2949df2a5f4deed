//! `pow` in its three overloads: tensor ** tensor, tensor ** number and
//! number ** tensor.
//!
//! The result dtype is PyTorch's `result_type` of base and exponent.
//! Integers use exact repeated squaring with wrapping (a negative exponent
//! gives `1 / base` truncated toward zero, except `tensor ** negative int`,
//! which is an error as in NumPy). Floats are computed in float64 from the
//! compute-type operands and rounded once; a float16/bfloat16 exponent
//! number is first rounded to that dtype, as PyTorch does.

use crate::copy::check_scalar_fits;
use crate::iter::{self, dispatch_float, Elementwise, OpMath, Spec};
use crate::pointwise::{dispatch_int, not_implemented, FloatExt, IntElem};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{DType, Element, Error, Result, Scalar, Tensor};

/// `out = a ** b` elementwise for tensors already converted to `out`'s dtype.
fn pow_into(op: &str, out: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    let dtype = out.dtype();
    dispatch_float!(dtype,
        T => iter::map2(out, a, b, |x: T, y: T| T::narrow(FloatExt::powf(x.widen(), y.widen()))),
        _ => dispatch_int!(dtype,
            T => iter::map2(out, a, b, |x: T, y: T| x.powi(y)),
            _ => Err(not_implemented(op, "pow", dtype))))
}

/// `self ** exponent` elementwise, broadcasting.
///
/// ```
/// use ft_kernels::pow::pow;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![2i32, -1, 3], &[3]).unwrap();
/// let e = Tensor::from_vec(vec![10i32, -3, -1], &[3]).unwrap();
/// assert_eq!(pow(&a, &e).unwrap().to_vec::<i32>().unwrap(), vec![1024, -1, 0]);
/// let f = Tensor::from_vec(vec![0.5f64], &[]).unwrap();
/// assert_eq!(pow(&Tensor::from_vec(vec![4.0f64], &[1]).unwrap(), &f).unwrap().to_vec::<f64>().unwrap(), vec![2.0]);
/// ```
pub fn pow(self_: &Tensor, exponent: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::pow.Tensor_Tensor";
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Tensor(exponent)]);
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "pow", dtype));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_, exponent],
        dtype,
        out: None,
    })?;
    pow_into(OP, ew.output(), ew.input(0), ew.input(1))?;
    ew.finish()
}

/// `x ** e` in float64 with PyTorch's exact shortcuts for small exponents.
fn pow_f64(x: f64, e: f64) -> f64 {
    match e {
        2.0 => x * x,
        3.0 => x * x * x,
        0.5 => x.sqrt(),
        -0.5 => 1.0 / x.sqrt(),
        -1.0 => 1.0 / x,
        -2.0 => 1.0 / (x * x),
        _ => x.powf(e),
    }
}

/// The general `tensor ** number` loop (exponent neither 0 nor 1).
fn pow_scalar_loop(op: &str, out: &Tensor, a: &Tensor, exponent: Scalar) -> Result<()> {
    let dtype = out.dtype();
    match dtype {
        DType::F32 | DType::F64 => {
            let e = exponent.to_f64();
            dispatch_float!(dtype, T => iter::map1(out, a, move |x: T| T::from_f64(pow_f64(x.to_f64(), e))),
                _ => Err(not_implemented(op, "pow", dtype)))
        }
        DType::F16 | DType::BF16 => {
            check_scalar_fits(op, exponent, dtype)?;
            dispatch_float!(dtype, T => {
                let e = exponent.to_elem::<T>().to_f64();
                iter::map1(out, a, move |x: T| T::from_f64(pow_f64(x.to_f64(), e) as f32 as f64))
            }, _ => Err(not_implemented(op, "pow", dtype)))
        }
        _ => {
            check_scalar_fits(op, exponent, dtype)?;
            dispatch_int!(dtype, T => {
                let e = exponent.to_elem::<T>();
                iter::map1(out, a, move |x: T| x.powi(e))
            }, _ => Err(not_implemented(op, "pow", dtype)))
        }
    }
}

/// `self ** exponent` for a number `exponent`. An integral or bool tensor
/// to a negative integer power is an error; `** 0` fills ones and `** 1`
/// copies (in the promoted dtype).
///
/// ```
/// use ft_kernels::pow::pow_tensor_scalar;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let a = Tensor::from_vec(vec![2i64, 3], &[2]).unwrap();
/// assert_eq!(pow_tensor_scalar(&a, Scalar::Int(3)).unwrap().to_vec::<i64>().unwrap(), vec![8, 27]);
/// assert_eq!(pow_tensor_scalar(&a, Scalar::Float(0.5)).unwrap().dtype(), DType::F32);
/// assert!(pow_tensor_scalar(&a, Scalar::Int(-1)).is_err());
/// ```
pub fn pow_tensor_scalar(self_: &Tensor, exponent: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::pow.Tensor_Scalar";
    if self_.dtype().is_integral(true) && !exponent.is_floating_point() && exponent.to_i64() < 0 {
        return Err(Error::invalid(
            OP,
            "Integers to negative integer powers are not allowed.",
        ));
    }
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Scalar(exponent)]);
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    if exponent.equals(0.0) {
        ft_runtime::dispatch_dtype!(dtype, T => iter::fill(o, T::from_bool(true)))?;
    } else if exponent.equals(1.0) {
        ft_runtime::dispatch_dtype!(dtype, T => iter::map1(o, a, |x: T| x))?;
    } else {
        pow_scalar_loop(OP, o, a, exponent)?;
    }
    ew.finish()
}

/// `self ** exponent` for a number base; the result is contiguous. A base
/// of 1 (not `True`) gives ones without looking at the exponent.
///
/// ```
/// use ft_kernels::pow::pow_scalar;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let e = Tensor::from_vec(vec![1i32, 2, -1], &[3]).unwrap();
/// let r = pow_scalar(Scalar::Int(2), &e).unwrap();
/// assert_eq!((r.dtype(), r.to_vec::<i32>().unwrap()), (DType::I32, vec![2, 4, 0]));
/// assert_eq!(pow_scalar(Scalar::Float(2.0), &e).unwrap().dtype(), DType::F32);
/// ```
pub fn pow_scalar(self_: Scalar, exponent: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::pow.Scalar";
    let dtype = result_type(&[Operand::Scalar(self_), Operand::Tensor(exponent)]);
    let out = iter::empty_contiguous(OP, exponent.sizes(), dtype)?;
    if !self_.is_bool() && self_.equals(1.0) {
        ft_runtime::dispatch_dtype!(dtype, T => iter::fill(&out, T::from_bool(true)))?;
        return Ok(out);
    }
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "pow", dtype));
    }
    let base = Tensor::scalar_tensor(self_, dtype);
    let exp = iter::to_dtype(exponent, dtype)?;
    pow_into(OP, &out, &base, &exp)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::half::bf16;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn bool_rules() {
        let b = t(vec![true, false], &[2]);
        let r = pow_tensor_scalar(&b, Scalar::Bool(false)).unwrap();
        assert_eq!(
            (r.dtype(), r.to_vec::<bool>().unwrap()),
            (DType::Bool, vec![true, true])
        );
        let r = pow_tensor_scalar(&b, Scalar::Int(1)).unwrap();
        assert_eq!((r.dtype(), r.to_vec::<i64>().unwrap()), (DType::I64, vec![1, 0]));
        assert_eq!(pow(&b, &b).unwrap_err().kind(), ft_runtime::ErrorKind::DType);
        assert!(pow_scalar(Scalar::Bool(true), &b).is_err());
        assert_eq!(
            pow_scalar(Scalar::Int(2), &b).unwrap().to_vec::<i64>().unwrap(),
            vec![2, 1]
        );
    }

    #[test]
    fn integer_wrapping_and_checks() {
        let u = t(vec![2u8, 3], &[2]);
        let m1 = t(vec![-1i64], &[]);
        // -1 becomes 255 in uint8
        assert_eq!(pow(&u, &m1).unwrap().to_vec::<u8>().unwrap(), vec![0, 171]);
        let e = pow_tensor_scalar(&u, Scalar::Int(256)).unwrap_err();
        assert_eq!(e.message(), "value cannot be converted to type uint8 without overflow");
        let i8t = t(vec![2i8, 3], &[2]);
        assert_eq!(
            pow_tensor_scalar(&i8t, Scalar::Int(7)).unwrap().to_vec::<i8>().unwrap(),
            vec![-128, -117]
        );
    }

    #[test]
    fn float_shortcuts() {
        let x = t(vec![4.0f32, 0.0], &[2]);
        assert_eq!(
            pow_tensor_scalar(&x, Scalar::Float(0.5))
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![2.0, 0.0]
        );
        assert_eq!(
            pow_tensor_scalar(&x, Scalar::Int(-1)).unwrap().to_vec::<f32>().unwrap(),
            vec![0.25, f32::INFINITY]
        );
        let h = t(vec![bf16::from_f32(1.5)], &[1]);
        assert_eq!(
            pow_tensor_scalar(&h, Scalar::Int(3)).unwrap().to_vec::<bf16>().unwrap(),
            vec![bf16::from_f32(3.375)]
        );
    }
}
