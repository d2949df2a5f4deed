//! Backward-formula helpers of the pointwise family (declared as
//! `[[helper]]` in `schema/derivatives.toml`, re-exported by
//! [`crate::autograd_helpers`]). Each is built from recorded operators, so
//! the gradients they compute can be differentiated again.

use crate::ops;
use crate::{DType, Result, Scalar, Tensor};
use ft_runtime::promotion::{result_type, Operand};

/// A 0-dim zero of `grad`'s dtype (the `zeros({}, grad.options())` of
/// PyTorch's formulas); a constant, so it records nothing.
fn zero_of(grad: &Tensor) -> Tensor {
    Tensor::scalar_tensor(Scalar::Int(0), grad.dtype())
}

/// `self.div(other, rounding_mode="trunc")`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![-7.0f64], &[1]).unwrap();
/// let b = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// assert_eq!(frankentorch::autograd_helpers::div_trunc(&a, &b).unwrap().to_vec::<f64>().unwrap(), vec![-3.0]);
/// ```
pub fn div_trunc(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    ops::div_tensor_mode(self_, other, Some("trunc"))
}

/// `self.div(other, rounding_mode="floor")`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![-7.0f64], &[1]).unwrap();
/// let b = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// assert_eq!(frankentorch::autograd_helpers::div_floor(&a, &b).unwrap().to_vec::<f64>().unwrap(), vec![-4.0]);
/// ```
pub fn div_floor(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    ops::div_tensor_mode(self_, other, Some("floor"))
}

/// Gradient of `pow.Tensor_Scalar` for `self`: `grad * (e * self^(e-1))`,
/// zeros for a zero (non-bool) exponent.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![3.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::pow_backward(&g, &x, Scalar::Int(2)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![6.0]);
/// ```
pub fn pow_backward(grad: &Tensor, self_: &Tensor, exponent: Scalar) -> Result<Tensor> {
    if !exponent.is_bool() && exponent.equals(0.0) {
        return ops::zeros_like(self_);
    }
    let e = exponent.to_f64();
    let p = ops::pow_tensor_scalar(self_, Scalar::Float(e - 1.0))?;
    ops::mul(grad, &ops::mul_scalar(&p, Scalar::Float(e))?)
}

/// Gradient of `pow.Tensor_Tensor` for `self`:
/// `where(exponent == 0, 0, grad * (exponent * self^(exponent-1)))`.
pub fn pow_backward_self(grad: &Tensor, self_: &Tensor, exponent: &Tensor) -> Result<Tensor> {
    let is_zero = ops::eq_scalar(exponent, Scalar::Float(0.0))?;
    let p = ops::pow(self_, &ops::sub_scalar(exponent, Scalar::Int(1), Scalar::Int(1))?)?;
    let g = ops::mul(grad, &ops::mul(exponent, &p)?)?;
    ops::where_self(&is_zero, &zero_of(grad), &g)
}

/// Gradient of `pow.Tensor_Tensor` for `exponent`:
/// `grad * where(self == 0 and exponent >= 0, 0, result * log(self))`.
pub fn pow_backward_exponent(grad: &Tensor, self_: &Tensor, exponent: &Tensor, result: &Tensor) -> Result<Tensor> {
    // bool * bool is logical and.
    let cond = ops::mul(
        &ops::eq_scalar(self_, Scalar::Int(0))?,
        &ops::ge_scalar(exponent, Scalar::Int(0))?,
    )?;
    let promoted = result_type(&[Operand::Tensor(self_), Operand::Tensor(exponent)]);
    let base = crate::autograd_helpers::to_dtype(self_, promoted)?;
    let val = ops::mul(result, &ops::log(&base)?)?;
    ops::mul(grad, &ops::where_self(&cond, &zero_of(grad), &val)?)
}

/// Gradient of `pow.Scalar` for `exponent`: `grad * result * ln(base)`,
/// with zeros where a zero base meets a non-negative exponent.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let e = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::pow_scalar_backward_exponent(&g, Scalar::Float(2.0), &e, &e).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![std::f64::consts::LN_2]);
/// ```
pub fn pow_scalar_backward_exponent(grad: &Tensor, base: Scalar, exponent: &Tensor, result: &Tensor) -> Result<Tensor> {
    let val = ops::mul_scalar(result, Scalar::Float(base.to_f64().ln()))?;
    let val = if !base.is_bool() && base.equals(0.0) {
        ops::where_self(&ops::ge_scalar(exponent, Scalar::Int(0))?, &zero_of(grad), &val)?
    } else {
        val
    };
    ops::mul(grad, &val)
}

/// Gradient of `div.Tensor_mode` for `self`: `grad / other` for true
/// division, zeros (of `self`'s dtype) when rounding.
pub fn div_mode_self_backward(
    grad: &Tensor,
    other: &Tensor,
    self_dtype: DType,
    rounding_mode: Option<&str>,
) -> Result<Tensor> {
    match rounding_mode {
        Some(_) => ops::zeros_like_full(grad, Some(self_dtype), None, None, None, None),
        None => ops::div(grad, other),
    }
}

/// Gradient of `div.Scalar_mode` for `self` (see [`div_mode_self_backward`]).
pub fn div_mode_scalar_self_backward(
    grad: &Tensor,
    other: Scalar,
    self_dtype: DType,
    rounding_mode: Option<&str>,
) -> Result<Tensor> {
    match rounding_mode {
        Some(_) => ops::zeros_like_full(grad, Some(self_dtype), None, None, None, None),
        None => ops::div_scalar(grad, other),
    }
}

/// Gradient of `div.Tensor_mode` for `other`: `-grad * ((self / other) / other)`
/// for true division, zeros (of `other`'s dtype) when rounding.
pub fn div_mode_other_backward(
    grad: &Tensor,
    self_: &Tensor,
    other: &Tensor,
    rounding_mode: Option<&str>,
) -> Result<Tensor> {
    match rounding_mode {
        Some(_) => ops::zeros_like_full(grad, Some(other.dtype()), None, None, None, None),
        None => ops::mul(&ops::neg(grad)?, &ops::div(&ops::div(self_, other)?, other)?),
    }
}

/// `where(condition, grad, 0)` (or `where(condition, 0, grad)` when
/// `keep_where_true` is false): the gradients of `where`'s two branches.
///
/// ```
/// use frankentorch::prelude::*;
/// let c = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::where_grad(&c, &g, false).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn where_grad(condition: &Tensor, grad: &Tensor, keep_where_true: bool) -> Result<Tensor> {
    let zero = zero_of(grad);
    if keep_where_true {
        ops::where_self(condition, grad, &zero)
    } else {
        ops::where_self(condition, &zero, grad)
    }
}

/// Gradient of `clamp` for `self`: `grad` where `min <= self <= max` (the
/// bounds that are given), 0 elsewhere.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0, 1.0], &[3]).unwrap();
/// let x = Tensor::from_vec(vec![-2.0f64, 0.0, 2.0], &[3]).unwrap();
/// let r = frankentorch::autograd_helpers::clamp_backward(&g, &x, Some(Scalar::Int(-1)), Some(Scalar::Int(1))).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 1.0, 0.0]);
/// ```
pub fn clamp_backward(grad: &Tensor, self_: &Tensor, min: Option<Scalar>, max: Option<Scalar>) -> Result<Tensor> {
    let mask = match (min, max) {
        (Some(lo), Some(hi)) => ops::mul(&ops::ge_scalar(self_, lo)?, &ops::le_scalar(self_, hi)?)?,
        (Some(lo), None) => ops::ge_scalar(self_, lo)?,
        (None, Some(hi)) => ops::le_scalar(self_, hi)?,
        (None, None) => return Ok(grad.clone()),
    };
    ops::where_self(&mask, grad, &zero_of(grad))
}

/// The mask of elements where `clamp.Tensor` passes `self` through:
/// `min <= self <= max` for the bounds that are given.
fn clamp_pass_mask(self_: &Tensor, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Option<Tensor>> {
    Ok(match (min, max) {
        (Some(lo), Some(hi)) => Some(ops::mul(&ops::ge(self_, lo)?, &ops::le(self_, hi)?)?),
        (Some(lo), None) => Some(ops::ge(self_, lo)?),
        (None, Some(hi)) => Some(ops::le(self_, hi)?),
        (None, None) => None,
    })
}

/// Gradient of `clamp.Tensor` for `self`: `grad` where it was passed
/// through, 0 where a bound was taken.
pub fn clamp_tensor_backward_self(
    grad: &Tensor,
    self_: &Tensor,
    min: Option<&Tensor>,
    max: Option<&Tensor>,
) -> Result<Tensor> {
    match clamp_pass_mask(self_, min, max)? {
        Some(mask) => ops::where_self(&mask, grad, &zero_of(grad)),
        None => Ok(grad.clone()),
    }
}

/// Gradient of `clamp.Tensor` for `min`: `grad` where `self < min` (and,
/// with both bounds, `min < max`, else `max` wins), 0 elsewhere.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 2.0], &[2]).unwrap();
/// let lo = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::clamp_tensor_backward_min(&g, &x, Some(&lo), None).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0, 0.0]);
/// ```
pub fn clamp_tensor_backward_min(
    grad: &Tensor,
    self_: &Tensor,
    min: Option<&Tensor>,
    max: Option<&Tensor>,
) -> Result<Tensor> {
    let Some(lo) = min else { return ops::zeros_like(grad) };
    let below = ops::lt(self_, lo)?;
    let mask = match max {
        Some(hi) => ops::mul(&below, &ops::lt(lo, hi)?)?,
        None => below,
    };
    ops::where_self(&mask, grad, &zero_of(grad))
}

/// Gradient of `clamp.Tensor` for `max`: `grad` where `self > max` (or,
/// with both bounds, `max < min`), 0 elsewhere.
pub fn clamp_tensor_backward_max(
    grad: &Tensor,
    self_: &Tensor,
    min: Option<&Tensor>,
    max: Option<&Tensor>,
) -> Result<Tensor> {
    let Some(hi) = max else { return ops::zeros_like(grad) };
    let above = ops::gt(self_, hi)?;
    // bool + bool is logical or.
    let mask = match min {
        Some(lo) => ops::add(&above, &ops::lt(hi, lo)?)?,
        None => above,
    };
    ops::where_self(&mask, grad, &zero_of(grad))
}

/// `grad_output`-weighted second derivative of ELU, the gradient of
/// `elu_backward` with respect to `self_or_result`:
/// `grad * grad_output * input_scale` where the output is negative
/// (`is_result`), else `elu_backward(grad * grad_output * input_scale, …)`
/// on the negative inputs.
pub fn elu_double_backward(
    grad: &Tensor,
    grad_output: &Tensor,
    alpha: Scalar,
    scale: Scalar,
    input_scale: Scalar,
    is_result: bool,
    self_or_result: &Tensor,
) -> Result<Tensor> {
    // PyTorch masks with `self_or_result < 0`: at exactly 0 the second
    // derivative is 0 (gelu/elu scenario fixtures check the point).
    let negative = crate::autograd_helpers::to_dtype(&ops::lt_scalar(self_or_result, Scalar::Int(0))?, grad.dtype())?;
    let g = ops::mul_scalar(&ops::mul(grad, grad_output)?, input_scale)?;
    let d = if is_result {
        g
    } else {
        ops::elu_backward(&g, alpha, scale, input_scale, false, self_or_result)?
    };
    ops::mul(&d, &negative)
}

/// `grad * grad_output * gelu''(self)`, the gradient of `gelu_backward`
/// with respect to `self`, built from recorded ops.
///
/// ```
/// use frankentorch::prelude::*;
/// let one = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::gelu_double_backward(&one, &one, &x, "none").unwrap();
/// // gelu''(0) = 2 / sqrt(2 pi)
/// assert!((r.to_vec::<f64>().unwrap()[0] - 2.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15);
/// ```
pub fn gelu_double_backward(grad: &Tensor, grad_output: &Tensor, self_: &Tensor, approximate: &str) -> Result<Tensor> {
    let x = self_;
    let x2 = ops::mul(x, x)?;
    let second = if approximate == "tanh" {
        let beta = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
        let kappa = 0.044715;
        let u = ops::mul_scalar(&ops::add(x, &ops::mul_scalar(&ops::mul(&x2, x)?, kappa)?)?, beta)?;
        let t = ops::tanh(&u)?;
        let sech2 = ops::add_scalar(&ops::neg(&ops::mul(&t, &t)?)?, 1, 1)?;
        let du = ops::mul_scalar(&ops::add_scalar(&ops::mul_scalar(&x2, 3.0 * kappa)?, 1, 1)?, beta)?;
        let ddu = ops::mul_scalar(x, 6.0 * beta * kappa)?;
        let inner = ops::sub(&ddu, &ops::mul_scalar(&ops::mul(&t, &ops::mul(&du, &du)?)?, 2)?)?;
        let bracket = ops::add(&du, &ops::mul_scalar(&ops::mul(x, &inner)?, 0.5)?)?;
        ops::mul(&sech2, &bracket)?
    } else {
        let inv_sqrt_2pi = 0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2;
        let pdf = ops::mul_scalar(&ops::exp(&ops::mul_scalar(&x2, -0.5)?)?, inv_sqrt_2pi)?;
        ops::mul(&pdf, &ops::add_scalar(&ops::neg(&x2)?, 2, 1)?)?
    };
    ops::mul(&ops::mul(grad, grad_output)?, &second)
}
