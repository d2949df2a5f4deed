//! Selection kernels: `where` and `clamp` (with number or tensor bounds).
//!
//! Results take PyTorch's `result_type` of the value operands (bounds and
//! branches included); NaN propagates through `clamp` from the input and
//! from tensor bounds, and a NaN number bound makes every element NaN.

use crate::copy::check_scalar_fits;
use crate::iter::{self, Elementwise, Spec};
use crate::pointwise::not_implemented;
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Scalar, Tensor};

/// True only for NaN (the one value unequal to itself).
#[inline(always)]
fn is_nan<T: Element>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

/// `condition ? self : other` elementwise, broadcasting all three; the
/// result dtype is the promotion of `self` and `other`. `condition` must be
/// bool (uint8 is accepted, as PyTorch still does).
///
/// ```
/// use ft_kernels::ternary::where_self;
/// use ft_runtime::{Tensor, DType};
/// let c = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.5f32], &[]).unwrap();
/// let r = where_self(&c, &a, &b).unwrap();
/// assert_eq!((r.dtype(), r.to_vec::<f32>().unwrap()), (DType::F32, vec![1.0, 0.5]));
/// ```
pub fn where_self(condition: &Tensor, self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::where.self";
    if !matches!(condition.dtype(), DType::Bool | DType::U8) {
        return Err(Error::dtype(
            OP,
            format!(
                "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
                condition.dtype().scalar_type_name()
            ),
        ));
    }
    let shape = iter::broadcast_all(OP, &[condition, self_, other], None)?;
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Tensor(other)]);
    let c = iter::to_dtype(condition, DType::Bool)?;
    let a = iter::to_dtype(self_, dtype)?;
    let b = iter::to_dtype(other, dtype)?;
    let strides = iter::output_strides(&shape, &[&c, &a, &b]);
    let out = iter::empty_strided(OP, &shape, &strides, dtype)?;
    dispatch_dtype!(dtype, T => iter::map3(&out, &c, &a, &b, |c: bool, x: T, y: T| if c { x } else { y }))?;
    Ok(out)
}

/// Largest and smallest value of an integral dtype, as i64.
fn int_range(dtype: DType) -> (i64, i64) {
    match dtype {
        DType::U8 => (0, u8::MAX as i64),
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

/// An integral bound: one beyond the dtype's range on the side it cannot
/// act on is dropped; beyond the other side it is an error.
fn int_bound(op: &str, which: &str, bound: Option<Scalar>, dtype: DType) -> Result<Option<i64>> {
    let Some(b) = bound else { return Ok(None) };
    let v = b.to_i64();
    let (lo, hi) = int_range(dtype);
    let (useless, impossible) = if which == "min" {
        (v < lo, v > hi)
    } else {
        (v > hi, v < lo)
    };
    if impossible {
        return Err(Error::invalid(
            op,
            format!(
                "Clamp {which} value {b} is outside the representable range of {}",
                dtype.scalar_type_name()
            ),
        ));
    }
    Ok((!useless).then_some(v))
}

/// `min(max(x, lo), hi)` with either bound optional; NaN `x` stays NaN.
fn clamp_typed<T: Element>(out: &Tensor, a: &Tensor, lo: Option<T>, hi: Option<T>) -> Result<()> {
    iter::map1(out, a, move |x: T| {
        if is_nan(x) {
            return x;
        }
        let mut v = x;
        if let Some(lo) = lo {
            if v < lo {
                v = lo;
            }
        }
        if let Some(hi) = hi {
            if v > hi {
                v = hi;
            }
        }
        v
    })
}

/// Limits each element to `[min, max]` (either may be omitted, not both).
/// The dtype is `self`'s if floating, else the promotion with the bounds.
/// With `min > max` every element becomes `max`.
///
/// ```
/// use ft_kernels::ternary::clamp;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let a = Tensor::from_vec(vec![1i64, 5, 9], &[3]).unwrap();
/// let r = clamp(&a, Some(Scalar::Int(2)), Some(Scalar::Int(6))).unwrap();
/// assert_eq!(r.to_vec::<i64>().unwrap(), vec![2, 5, 6]);
/// assert_eq!(clamp(&a, Some(Scalar::Float(2.5)), None).unwrap().dtype(), DType::F32);
/// assert!(clamp(&a, None, None).is_err());
/// ```
pub fn clamp(self_: &Tensor, min: Option<Scalar>, max: Option<Scalar>) -> Result<Tensor> {
    const OP: &str = "aten::clamp";
    let kernel = match (min, max) {
        (None, None) => {
            return Err(Error::invalid(
                OP,
                "torch.clamp: At least one of 'min' or 'max' must not be None",
            ))
        }
        (Some(_), Some(_)) => "clamp_scalar_cpu",
        (Some(_), None) => "clamp_min_scalar_cpu",
        (None, Some(_)) => "clamp_max_scalar_cpu",
    };
    let dtype = if self_.dtype().is_floating_point() {
        self_.dtype()
    } else {
        let mut ops = vec![Operand::Tensor(self_)];
        ops.extend(min.iter().chain(max.iter()).map(|s| Operand::Scalar(*s)));
        result_type(&ops)
    };
    if dtype == DType::Bool {
        return Err(not_implemented(OP, kernel, dtype));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    if dtype.is_floating_point() {
        let nan_bound = [min, max].iter().flatten().any(|s| s.to_f64().is_nan());
        if nan_bound {
            dispatch_dtype!(dtype, T => iter::fill(o, T::from_f64(f64::NAN)))?;
        } else {
            for s in min.iter().chain(max.iter()) {
                check_scalar_fits(OP, *s, dtype)?;
            }
            dispatch_dtype!(dtype, T => clamp_typed::<T>(o, a, min.map(|s| s.to_elem::<T>()), max.map(|s| s.to_elem::<T>())))?;
        }
    } else {
        let lo = int_bound(OP, "min", min, dtype)?;
        let hi = int_bound(OP, "max", max, dtype)?;
        dispatch_dtype!(dtype, T => clamp_typed::<T>(o, a, lo.map(T::from_i64), hi.map(T::from_i64)))?;
    }
    ew.finish()
}

/// `max(x, lo)` with NaN from either side.
#[inline(always)]
fn nan_max<T: Element>(x: T, lo: T) -> T {
    if is_nan(lo) {
        lo
    } else if is_nan(x) || x >= lo {
        x
    } else {
        lo
    }
}

/// `min(x, hi)` with NaN from either side.
#[inline(always)]
fn nan_min<T: Element>(x: T, hi: T) -> T {
    if is_nan(hi) {
        hi
    } else if is_nan(x) || x <= hi {
        x
    } else {
        hi
    }
}

/// Limits each element to `[min, max]` given as tensors (broadcasting all
/// three; either bound may be omitted, not both). NaN anywhere gives NaN.
///
/// ```
/// use ft_kernels::ternary::clamp_tensor;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let lo = Tensor::from_vec(vec![2.0f32, f32::NAN, 5.0], &[3]).unwrap();
/// let hi = Tensor::from_vec(vec![4.0f32], &[1]).unwrap();
/// let r = clamp_tensor(&a, Some(&lo), Some(&hi)).unwrap().to_vec::<f32>().unwrap();
/// assert_eq!((r[0], r[1].is_nan(), r[2]), (2.0, true, 4.0));
/// ```
pub fn clamp_tensor(self_: &Tensor, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "aten::clamp.Tensor";
    let mut inputs = vec![self_];
    inputs.extend(min.iter().chain(max.iter()).copied());
    if inputs.len() == 1 {
        return Err(Error::invalid(
            OP,
            "torch.clamp: At least one of 'min' or 'max' must not be None",
        ));
    }
    let operands: Vec<Operand<'_>> = inputs.iter().map(|t| Operand::Tensor(t)).collect();
    let dtype = result_type(&operands);
    if dtype == DType::Bool && inputs.len() == 3 {
        return Err(not_implemented(OP, "clamp_cpu", dtype));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &inputs,
        dtype,
        out: None,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    match (min, max) {
        (Some(_), Some(_)) => {
            let c = ew.input(2);
            dispatch_dtype!(dtype, T => iter::map3(o, a, b, c, |x: T, lo: T, hi: T| nan_min(nan_max(x, lo), hi)))?
        }
        (Some(_), None) => dispatch_dtype!(dtype, T => iter::map2(o, a, b, nan_max::<T>))?,
        _ => dispatch_dtype!(dtype, T => iter::map2(o, a, b, nan_min::<T>))?,
    }
    ew.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn integer_bounds_outside_the_dtype() {
        let u = t(vec![0u8, 1, 2, 3, 255], &[5]);
        let r = clamp(&u, Some(Scalar::Int(-1)), None).unwrap();
        assert_eq!(r.to_vec::<u8>().unwrap(), vec![0, 1, 2, 3, 255]);
        let r = clamp(&u, Some(Scalar::Int(1)), Some(Scalar::Int(300))).unwrap();
        assert_eq!(r.to_vec::<u8>().unwrap(), vec![1, 1, 2, 3, 255]);
        let e = clamp(&u, Some(Scalar::Int(300)), None).unwrap_err();
        assert_eq!(
            e.message(),
            "Clamp min value 300 is outside the representable range of Byte"
        );
        let e = clamp(&u, None, Some(Scalar::Int(-1))).unwrap_err();
        assert_eq!(
            e.message(),
            "Clamp max value -1 is outside the representable range of Byte"
        );
    }

    #[test]
    fn float_bounds() {
        let f = t(vec![1.0f32, f32::NAN, 3.0], &[3]);
        let r = clamp(&f, Some(Scalar::Int(0)), Some(Scalar::Float(2.0)))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!((r[0], r[1].is_nan(), r[2]), (1.0, true, 2.0));
        let r = clamp(&f, Some(Scalar::Float(f64::NAN)), None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(r.iter().all(|v| v.is_nan()));
        assert!(clamp(&f, None, Some(Scalar::Float(1e300))).is_err());
        let r = clamp(&f, Some(Scalar::Int(6)), Some(Scalar::Int(3)))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!((r[0], r[2]), (3.0, 3.0));
        let b = t(vec![true], &[1]);
        assert_eq!(
            clamp(&b, Some(Scalar::Bool(true)), None).unwrap_err().kind(),
            ft_runtime::ErrorKind::DType
        );
    }

    #[test]
    fn tensor_bounds() {
        let b = t(vec![true, false], &[2]);
        assert_eq!(clamp_tensor(&b, Some(&b), None).unwrap().dtype(), DType::Bool);
        assert!(clamp_tensor(&b, Some(&b), Some(&b)).is_err());
        let i = t(vec![1i64, 2, 3], &[3]);
        let lo = t(vec![2.5f32], &[1]);
        let r = clamp_tensor(&i, Some(&lo), None).unwrap();
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![2.5, 2.5, 3.0]);
        let col = t(vec![1i64, 2], &[2, 1]);
        assert_eq!(clamp_tensor(&i, Some(&col), None).unwrap().sizes(), &[2, 3]);
    }

    #[test]
    fn where_rules() {
        let c = t(vec![1i64, 0], &[2]);
        let a = t(vec![1.0f32, 2.0], &[2]);
        assert_eq!(where_self(&c, &a, &a).unwrap_err().kind(), ft_runtime::ErrorKind::DType);
        let cu = t(vec![1u8, 0], &[2]);
        assert_eq!(
            where_self(&cu, &a, &t(vec![9.0f32], &[]))
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![1.0, 9.0]
        );
        let col = t(vec![true, false, true], &[3, 1]);
        let r = where_self(&col, &a, &t(vec![0.0f64], &[])).unwrap();
        assert_eq!((r.sizes(), r.dtype()), (&[3usize, 2][..], DType::F32));
    }
}
