//! Backward-formula helpers of the activation family (declared as
//! `[[helper]]` in `schema/derivatives.toml`, re-exported by
//! [`crate::autograd_helpers`]). Each is built from recorded operators, so
//! the gradients they compute can be differentiated again.

use crate::ops;
use crate::{Result, Scalar, Tensor};

/// A 0-dim zero of `like`'s dtype (a constant: it records nothing).
fn zero_of(like: &Tensor) -> Tensor {
    Tensor::scalar_tensor(Scalar::Int(0), like.dtype())
}

/// `1 - t`.
fn one_minus(t: &Tensor) -> Result<Tensor> {
    ops::add_scalar(&ops::neg(t)?, 1, 1)
}

/// `where(self >= 0, 0, value)`: `value` on the negative inputs (PyTorch's
/// PReLU double-backward formulas split at `self >= 0`, while its kernels
/// split at `self > 0`).
fn on_negative(self_: &Tensor, value: &Tensor) -> Result<Tensor> {
    ops::where_self(&ops::ge_scalar(self_, 0)?, &zero_of(value), value)
}

/// Gradient of `celu` for `self`: `elu_backward(grad, alpha, 1, 1 / alpha, false, self)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::celu_grad(&g, Scalar::Int(2), &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0, 1.0]);
/// ```
pub fn celu_grad(grad: &Tensor, alpha: Scalar, self_: &Tensor) -> Result<Tensor> {
    ops::elu_backward(grad, alpha, 1, Scalar::Float(1.0 / alpha.to_f64()), false, self_)
}

/// Gradient of `silu` for `self`: the `silu_backward` kernel when no graph
/// is being built (first-order backward), else the same value composed of
/// recorded ops, `grad * s * (1 + self * (1 - s))` with `s = sigmoid(self)`,
/// so it can be differentiated again (as PyTorch switches on grad mode).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(frankentorch::autograd_helpers::silu_grad(&g, &x).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn silu_grad(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    if !ft_runtime::tls::is_grad_enabled() {
        return ops::silu_backward(grad, self_);
    }
    let s = ops::sigmoid(self_)?;
    let inner = ops::add_scalar(&ops::mul(self_, &one_minus(&s)?)?, 1, 1)?;
    ops::mul(&ops::mul(grad, &s)?, &inner)
}

/// Gradient of `mish` for `self`: the `mish_backward` kernel when no graph
/// is being built, else `grad * (t + self * sigmoid(self) * (1 - t^2))` with
/// `t = tanh(softplus(self))`, composed of recorded ops.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::mish_grad(&g, &x).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] - 2.0f64.ln().tanh()).abs() < 1e-15);
/// ```
pub fn mish_grad(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    if !ft_runtime::tls::is_grad_enabled() {
        return ops::mish_backward(grad, self_);
    }
    let t = ops::tanh(&ops::softplus(self_, 1, 20)?)?;
    let s = ops::sigmoid(self_)?;
    let d = ops::add(&t, &ops::mul(&ops::mul(self_, &s)?, &one_minus(&ops::mul(&t, &t)?)?)?)?;
    ops::mul(grad, &d)
}

/// Gradient of `softplus_backward` for `self` (with `grad` already
/// multiplied by `grad_output`): `grad * beta * s * (1 - s)` with
/// `s = sigmoid(beta * self)`, zero where `beta * self >= threshold` (as in
/// PyTorch: 0 at the switch point itself).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 5.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::softplus_double_backward(&g, &x, Scalar::Int(2), Scalar::Int(3)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 0.0]);
/// ```
pub fn softplus_double_backward(grad: &Tensor, self_: &Tensor, beta: Scalar, threshold: Scalar) -> Result<Tensor> {
    let x = ops::mul_scalar(self_, beta)?;
    let d = ops::mul_scalar(&ops::sigmoid_backward(grad, &ops::sigmoid(&x)?)?, beta)?;
    ops::where_self(&ops::lt_scalar(&x, threshold)?, &d, &zero_of(&d))
}

/// Gradient of `log_sigmoid_backward` for `self` (with `grad` already
/// multiplied by `grad_output`): `-grad * s * (1 - s)` with `s = sigmoid(self)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![4.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::log_sigmoid_double_backward(&g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-1.0]);
/// ```
pub fn log_sigmoid_double_backward(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    ops::neg(&ops::sigmoid_backward(grad, &ops::sigmoid(self_)?)?)
}

/// Gradient of `hardswish_backward` for `self`: `grad * grad_output / 3`
/// where `-3 < self < 3`, else 0.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![3.0f64, 3.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 4.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::hardswish_double_backward(&g, &g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 0.0]);
/// ```
pub fn hardswish_double_backward(grad: &Tensor, grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    let inside = ops::logical_and(&ops::gt_scalar(self_, -3)?, &ops::lt_scalar(self_, 3)?)?;
    let d = ops::div_scalar(&ops::mul(grad, grad_output)?, 3)?;
    ops::where_self(&inside, &d, &zero_of(&d))
}

/// The halves `(a, b)` of `t` along `dim` (even-sized).
fn glu_halves(t: &Tensor, dim: i64) -> Result<(Tensor, Tensor, i64)> {
    let d = if dim < 0 { dim + t.dim() as i64 } else { dim };
    let h = (t.sizes()[d as usize] / 2) as i64;
    Ok((
        ops::slice(t, d, Some(0), Some(h), 1)?,
        ops::slice(t, d, Some(h), Some(2 * h), 1)?,
        d,
    ))
}

/// Gradient of `glu_backward` for `grad_output`: with `grad = [ga, gb]`
/// split like `self = [a, b]` and `s = sigmoid(b)`,
/// `ga * s + gb * a * s * (1 - s)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![2.0f64, 0.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::glu_double_backward_grad_output(&g, &x, 0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5]);
/// ```
pub fn glu_double_backward_grad_output(grad: &Tensor, self_: &Tensor, dim: i64) -> Result<Tensor> {
    let (a, b, d) = glu_halves(self_, dim)?;
    let (ga, gb, _) = glu_halves(grad, d)?;
    let s = ops::sigmoid(&b)?;
    let ds = ops::sigmoid_backward(&a, &s)?;
    ops::add(&ops::mul(&ga, &s)?, &ops::mul(&gb, &ds)?)
}

/// Gradient of `glu_backward` for `self`: with `grad = [ga, gb]`,
/// `go = grad_output`, `self = [a, b]`, `s = sigmoid(b)`, `s' = s (1 - s)`:
/// `[gb * go * s', (ga + gb * a * (1 - 2 s)) * go * s']`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let go = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![2.0f64, 0.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::glu_double_backward(&g, &go, &x, 0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.25, 0.0]);
/// ```
pub fn glu_double_backward(grad: &Tensor, grad_output: &Tensor, self_: &Tensor, dim: i64) -> Result<Tensor> {
    let (a, b, d) = glu_halves(self_, dim)?;
    let (ga, gb, _) = glu_halves(grad, d)?;
    let s = ops::sigmoid(&b)?;
    let go_ds = ops::sigmoid_backward(grad_output, &s)?;
    let first = ops::mul(&gb, &go_ds)?;
    let one_minus_2s = ops::add_scalar(&ops::mul_scalar(&s, -2)?, 1, 1)?;
    let second = ops::mul(&ops::add(&ga, &ops::mul(&gb, &ops::mul(&a, &one_minus_2s)?)?)?, &go_ds)?;
    ops::cat(&[first, second], d)
}

/// Gradient of `_prelu_kernel_backward` for `grad_output`, from the
/// gradients `g0`, `g1` of its two outputs: `g0` where `self >= 0`, else
/// `g0 * weight + g1 * self`.
///
/// ```
/// use frankentorch::prelude::*;
/// let one = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// let w = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::prelu_double_backward_grad_output(&one, &one, &x, &w).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-1.5, 1.0]);
/// ```
pub fn prelu_double_backward_grad_output(g0: &Tensor, g1: &Tensor, self_: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let neg = ops::add(&ops::mul(g0, weight)?, &ops::mul(g1, self_)?)?;
    ops::where_self(&ops::ge_scalar(self_, 0)?, g0, &neg)
}

/// Gradient of `_prelu_kernel_backward` for `self` or `weight`:
/// `grad_output * g` on the negative inputs, 0 elsewhere (`g` is the
/// gradient of the weight's output for `self`, of the input's for `weight`).
///
/// ```
/// use frankentorch::prelude::*;
/// let go = Tensor::from_vec(vec![2.0f64, 2.0], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.5f64, 1.5], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::prelu_double_backward_operand(&go, &g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 0.0]);
/// ```
pub fn prelu_double_backward_operand(grad_output: &Tensor, g: &Tensor, self_: &Tensor) -> Result<Tensor> {
    on_negative(self_, &ops::mul(grad_output, g)?)
}
