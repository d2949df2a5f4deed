//! Loss operators defined by calling other operators.
//!
//! `cross_entropy_loss`, `nll_loss`, `nll_loss2d` and `nll_loss_nd` are
//! CompositeImplicitAutograd as in PyTorch: they reshape and dispatch to
//! `log_softmax`, `nll_loss_forward` and `nll_loss2d_forward`, and autograd
//! flows through those.

use crate::autograd_helpers::to_dtype;
use crate::ops;
use crate::{DType, Error, Result, Tensor};

/// Mean reduction code of the aten loss ops.
const MEAN: i64 = 1;
/// Sum reduction code of the aten loss ops.
const SUM: i64 = 2;

fn i64s(sizes: &[usize]) -> Vec<i64> {
    sizes.iter().map(|&s| s as i64).collect()
}

/// `aten::nll_loss`: the output of `nll_loss_forward` (1-D or 2-D input).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// assert_eq!(ops::nll_loss(&x, &t, None, 2, -100).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn nll_loss(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<Tensor> {
    Ok(ops::nll_loss_forward(self_, target, weight, reduction, ignore_index)?.0)
}

/// `aten::nll_loss2d`: the output of `nll_loss2d_forward` (`[N, C, H, W]` input).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0], &[1, 2, 1, 1]).unwrap();
/// let t = Tensor::from_vec(vec![0i64], &[1, 1, 1]).unwrap();
/// assert_eq!(ops::nll_loss2d(&x, &t, None, 1, -100).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn nll_loss2d(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<Tensor> {
    Ok(ops::nll_loss2d_forward(self_, target, weight, reduction, ignore_index)?.0)
}

/// `aten::nll_loss_nd`: `nll_loss` for inputs of any rank `[N, C, d1, ...]`
/// (or `[C]`): 1-D and 2-D inputs go to `nll_loss`, 4-D to `nll_loss2d`,
/// others are reshaped to `[N, C, 1, d1*...]` for `nll_loss2d` (and the
/// unreduced result back to `[N, d1, ...]`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[1, 2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64, 0], &[1, 2]).unwrap();
/// let l = ops::nll_loss_nd(&x, &t, None, 0, -100).unwrap();
/// assert_eq!((l.sizes().to_vec(), l.to_vec::<f64>().unwrap()), (vec![1, 2], vec![3.0, 2.0]));
/// ```
pub fn nll_loss_nd(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::nll_loss_nd";
    let d = self_.dim();
    if d < 1 {
        return Err(Error::invalid(OP, format!("Expected 1 or more dimensions (got {d})")));
    }
    if d != 1 && (target.dim() == 0 || self_.sizes()[0] != target.sizes()[0]) {
        let tb = target.sizes().first().copied().unwrap_or(1);
        return Err(Error::invalid(
            OP,
            format!(
                "Expected input batch_size ({}) to match target batch_size ({tb}).",
                self_.sizes()[0]
            ),
        ));
    }
    match d {
        1 | 2 => ops::nll_loss(self_, target, weight, reduction, ignore_index),
        4 => ops::nll_loss2d(self_, target, weight, reduction, ignore_index),
        _ => nll_loss_flattened(self_, target, weight, reduction, ignore_index),
    }
}

/// `nll_loss_nd` for 3-D and 5+-D inputs, through `nll_loss2d` on `[N, C, 1, rest]`.
fn nll_loss_flattened(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::nll_loss_nd";
    let s = self_.sizes();
    let (n, c) = (s[0] as i64, s[1] as i64);
    let mut out_size = vec![s[0]];
    out_size.extend_from_slice(&s[2..]);
    if target.sizes() != out_size.as_slice() {
        return Err(Error::shape(
            OP,
            format!(
                "Expected target size {}, got {}",
                ft_runtime::shape::fmt_sizes(&out_size),
                ft_runtime::shape::fmt_sizes(target.sizes())
            ),
        ));
    }
    let (x, t) = if self_.numel() > 0 {
        (ops::reshape(self_, &[n, c, 1, -1])?, ops::reshape(target, &[n, 1, -1])?)
    } else {
        (ops::reshape(self_, &[n, c, 0, 0])?, ops::reshape(target, &[n, 0, 0])?)
    };
    let out = ops::nll_loss2d(&x, &t, weight, reduction, ignore_index)?;
    if reduction == 0 {
        ops::reshape(&out, &i64s(&out_size))
    } else {
        Ok(out)
    }
}

/// `weight` shaped to broadcast along the class dim of an input of rank `dim`.
fn weight_along_classes(weight: &Tensor, dim: usize, classes: usize) -> Result<Tensor> {
    let mut shape = vec![1i64; dim];
    shape[if dim == 1 { 0 } else { 1 }] = classes as i64;
    ops::reshape(weight, &shape)
}

fn check_weight(op: &str, weight: Option<&Tensor>, classes: usize) -> Result<()> {
    if let Some(w) = weight {
        if w.dim() != 1 || w.numel() != classes {
            return Err(Error::shape(
                op,
                format!(
                    "cross_entropy: weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {}",
                    ft_runtime::shape::fmt_sizes(w.sizes())
                ),
            ));
        }
    }
    Ok(())
}

/// Applies a reduction code to unreduced per-sample losses; `count` is the
/// mean's divisor.
fn reduce_by(loss: &Tensor, reduction: i64, count: Option<&Tensor>) -> Result<Tensor> {
    match (reduction, count) {
        (MEAN, Some(c)) => ops::div(&ops::sum(loss)?, c),
        (MEAN, None) => ops::mean(loss),
        (SUM, _) => ops::sum(loss),
        _ => Ok(loss.clone()),
    }
}

/// `aten::cross_entropy_loss`: `nll_loss_nd(log_softmax(self, class_dim))`
/// for class-index targets; for a floating `target` of `self`'s shape (class
/// probabilities) `-sum(weight * target * log_softmax(self))` over classes,
/// whose mean divides by the number of samples. `label_smoothing` (when > 0)
/// mixes the target with the uniform distribution.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64], &[1]).unwrap();
/// let l = ops::cross_entropy_loss(&x, &t, None, 1, -100, 0.0).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn cross_entropy_loss(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    label_smoothing: f64,
) -> Result<Tensor> {
    const OP: &str = "aten::cross_entropy_loss";
    if label_smoothing > 1.0 || label_smoothing.is_nan() {
        return Err(Error::invalid(
            OP,
            format!("label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"),
        ));
    }
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let class_dim = if self_.dim() == 1 { 0 } else { 1 };
    if self_.sizes() == target.sizes() {
        return cross_entropy_probs(self_, target, weight, reduction, ignore_index, label_smoothing);
    }
    let logp = ops::log_softmax(self_, class_dim, None)?;
    if label_smoothing > 0.0 {
        return cross_entropy_smoothed(&logp, target, weight, reduction, ignore_index, label_smoothing);
    }
    ops::nll_loss_nd(&logp, target, weight, reduction, ignore_index)
}

/// The class-probability path of `cross_entropy_loss`.
fn cross_entropy_probs(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    label_smoothing: f64,
) -> Result<Tensor> {
    const OP: &str = "aten::cross_entropy_loss";
    if !target.dtype().is_floating_point() {
        return Err(Error::dtype(
            OP,
            format!(
                "Expected floating point type for target with class probabilities, got {}",
                target.dtype().scalar_type_name()
            ),
        ));
    }
    if ignore_index >= 0 {
        return Err(Error::invalid(
            OP,
            "ignore_index is not supported for floating point target",
        ));
    }
    let class_dim: i64 = if self_.dim() == 1 { 0 } else { 1 };
    let classes = self_.sizes()[ft_runtime::shape::wrap_dim(OP, class_dim, self_.dim())?];
    check_weight(OP, weight, classes)?;
    let logp = ops::log_softmax(self_, class_dim, None)?;
    let target = if label_smoothing > 0.0 {
        ops::add_scalar(
            &ops::mul_scalar(target, 1.0 - label_smoothing)?,
            label_smoothing / classes as f64,
            1,
        )?
    } else {
        target.clone()
    };
    let mut prod = ops::mul(&logp, &target)?;
    if let Some(w) = weight {
        prod = ops::mul(&prod, &weight_along_classes(w, self_.dim(), classes)?)?;
    }
    let per_sample = ops::neg(&ops::sum_dim(&prod, Some(&[class_dim]), false)?)?;
    if reduction == MEAN {
        let samples = self_.numel().checked_div(classes).unwrap_or(0) as f64;
        return ops::div_scalar(&ops::sum(&per_sample)?, samples);
    }
    reduce_by(&per_sample, reduction, None)
}

/// The label-smoothing path of `cross_entropy_loss` for class-index targets.
fn cross_entropy_smoothed(
    logp: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    label_smoothing: f64,
) -> Result<Tensor> {
    const OP: &str = "aten::cross_entropy_loss";
    let class_dim: i64 = if logp.dim() == 1 { 0 } else { 1 };
    let classes = logp.sizes()[ft_runtime::shape::wrap_dim(OP, class_dim, logp.dim())?];
    let nll = ops::nll_loss_nd(logp, target, weight, reduction, ignore_index)?;
    check_weight(OP, weight, classes)?;
    let ignored = ops::eq_scalar(target, ignore_index)?;
    let summed = match weight {
        Some(w) => ops::sum_dim(
            &ops::mul(logp, &weight_along_classes(w, logp.dim(), classes)?)?,
            Some(&[class_dim]),
            false,
        )?,
        None => ops::sum_dim(logp, Some(&[class_dim]), false)?,
    };
    let smooth = ops::masked_fill(&ops::neg(&summed)?, &ignored, 0.0)?;
    let kept = ops::logical_not(&ignored)?;
    let smooth = match (reduction, weight) {
        (MEAN, Some(w)) => {
            let picked = to_dtype(&ops::masked_select(target, &kept)?, DType::I64)?;
            let wsum = ops::sum(&ops::gather(w, 0, &picked)?)?;
            ops::div(&ops::sum(&smooth)?, &wsum)?
        }
        (MEAN, None) => {
            let count = to_dtype(&ops::sum(&kept)?, smooth.dtype())?;
            ops::div(&ops::sum(&smooth)?, &count)?
        }
        _ => reduce_by(&smooth, reduction, None)?,
    };
    ops::add(
        &ops::mul_scalar(&nll, 1.0 - label_smoothing)?,
        &ops::mul_scalar(&smooth, label_smoothing / classes as f64)?,
    )
}

/// The op-math dtype of a floating dtype: float32 for float16/bfloat16.
fn opmath(t: &Tensor) -> Result<Tensor> {
    match t.dtype() {
        DType::F16 | DType::BF16 => to_dtype(t, DType::F32),
        _ => Ok(t.clone()),
    }
}

/// Refuses non-floating loss inputs with PyTorch's "not implemented" message.
fn check_floating(op: &str, kernel: &str, ts: &[&Tensor]) -> Result<DType> {
    let mut dtype = ts[0].dtype();
    for t in ts {
        dtype = ft_runtime::dtype::promote_types(dtype, t.dtype());
    }
    if !dtype.is_floating_point() {
        return Err(Error::dtype(
            op,
            format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
        ));
    }
    Ok(dtype)
}

/// `1 / numel` for mean reduction, 1 otherwise: the scale of a loss gradient.
fn mean_scale(t: &Tensor, reduction: i64) -> f64 {
    if reduction == MEAN {
        1.0 / t.numel() as f64
    } else {
        1.0
    }
}

/// `aten::mse_loss`: `(self - target)^2` (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ops::mse_loss(&a, &b, 1).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn mse_loss(self_: &Tensor, target: &Tensor, reduction: i64) -> Result<Tensor> {
    const OP: &str = "aten::mse_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let dtype = check_floating(OP, "mse_cpu", &[self_, target])?;
    // PyTorch rounds the difference to the element type, squares in op-math
    // and rounds once more; the reduction then runs over the rounded losses.
    let d = opmath(&ops::sub(self_, target).map_err(|e| e.with_op(OP))?)?;
    reduce_by(&to_dtype(&ops::mul(&d, &d)?, dtype)?, reduction, None)
}

/// `aten::mse_loss_backward`: `2 * (self - target) * grad_output`, divided
/// by the element count for mean.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// assert_eq!(ops::mse_loss_backward(&g, &a, &b, 1).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 3.0]);
/// ```
pub fn mse_loss_backward(grad_output: &Tensor, self_: &Tensor, target: &Tensor, reduction: i64) -> Result<Tensor> {
    const OP: &str = "aten::mse_loss_backward";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let dtype = check_floating(OP, "mse_backward_cpu_out", &[grad_output, self_, target])?;
    let d = ops::sub(&opmath(self_)?, &opmath(target)?).map_err(|e| e.with_op(OP))?;
    let scaled = ops::mul_scalar(&opmath(grad_output)?, 2.0 * mean_scale(self_, reduction))?;
    to_dtype(&ops::mul(&scaled, &d).map_err(|e| e.with_op(OP))?, dtype)
}

/// `aten::l1_loss`: `|self - target|` (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, -3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ops::l1_loss(&a, &b, 2).unwrap().to_vec::<f64>().unwrap(), vec![4.0]);
/// ```
pub fn l1_loss(self_: &Tensor, target: &Tensor, reduction: i64) -> Result<Tensor> {
    const OP: &str = "aten::l1_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_floating(OP, "abs_cpu", &[self_, target])?;
    reduce_by(&ops::abs(&ops::sub(self_, target)?)?, reduction, None)
}

/// Checks `beta >= 0` (smooth L1) or `delta > 0` (Huber).
fn check_threshold(op: &str, name: &str, v: f64, zero_ok: bool) -> Result<()> {
    if v < 0.0 || (!zero_ok && v == 0.0) || v.is_nan() {
        let what = if zero_ok { "negative" } else { "non-positive" };
        return Err(Error::invalid(
            op,
            format!("{} does not support {what} values for {name}.", &op[6..]),
        ));
    }
    Ok(())
}

/// `aten::smooth_l1_loss`: `0.5 z^2 / beta` where `z = |self - target| < beta`,
/// `z - beta / 2` elsewhere (plain L1 for `beta = 0`), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ops::smooth_l1_loss(&a, &b, 0, 1.0).unwrap().to_vec::<f64>().unwrap(), vec![0.125, 2.5]);
/// ```
pub fn smooth_l1_loss(self_: &Tensor, target: &Tensor, reduction: i64, beta: f64) -> Result<Tensor> {
    const OP: &str = "aten::smooth_l1_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_threshold(OP, "beta", beta, true)?;
    check_floating(OP, "smooth_l1_cpu", &[self_, target])?;
    // Each step rounds to the element type, as PyTorch's vectorized kernel does.
    let z = ops::abs(&ops::sub(self_, target).map_err(|e| e.with_op(OP))?)?;
    if beta == 0.0 {
        return reduce_by(&z, reduction, None);
    }
    let quad = ops::div_scalar(&ops::mul(&ops::mul_scalar(&z, 0.5)?, &z)?, beta)?;
    let lin = ops::sub_scalar(&z, 0.5 * beta, 1)?;
    let loss = ops::where_self(&ops::lt_scalar(&z, beta)?, &quad, &lin)?;
    reduce_by(&loss, reduction, None)
}

/// `aten::smooth_l1_loss_backward`: `grad_output * clamp((self - target) / beta, -1, 1)`
/// (the sign for `beta = 0`), divided by the element count for mean.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = ops::smooth_l1_loss_backward(&g, &a, &b, 2, 1.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 1.0]);
/// ```
pub fn smooth_l1_loss_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    reduction: i64,
    beta: f64,
) -> Result<Tensor> {
    const OP: &str = "aten::smooth_l1_loss_backward";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let dtype = check_floating(OP, "smooth_l1_backward_cpu_out", &[grad_output, self_, target])?;
    let x = ops::sub(&opmath(self_)?, &opmath(target)?).map_err(|e| e.with_op(OP))?;
    let slope = if beta == 0.0 {
        ops::sign(&x)?
    } else {
        ops::clamp(&ops::div_scalar(&x, beta)?, Some((-1.0).into()), Some(1.0.into()))?
    };
    let g = ops::mul_scalar(&opmath(grad_output)?, mean_scale(self_, reduction))?;
    to_dtype(&ops::mul(&g, &slope).map_err(|e| e.with_op(OP))?, dtype)
}

/// `aten::huber_loss`: `0.5 z^2` where `z = |self - target| < delta`,
/// `delta * (z - delta / 2)` elsewhere, reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ops::huber_loss(&a, &b, 0, 2.0).unwrap().to_vec::<f64>().unwrap(), vec![0.125, 4.0]);
/// ```
pub fn huber_loss(self_: &Tensor, target: &Tensor, reduction: i64, delta: f64) -> Result<Tensor> {
    const OP: &str = "aten::huber_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_threshold(OP, "delta", delta, false)?;
    let dtype = check_floating(OP, "huber_cpu", &[self_, target])?;
    let z = ops::abs(&ops::sub(&opmath(self_)?, &opmath(target)?).map_err(|e| e.with_op(OP))?)?;
    let quad = ops::mul_scalar(&ops::mul(&z, &z)?, 0.5)?;
    let lin = ops::mul_scalar(&ops::sub_scalar(&z, 0.5 * delta, 1)?, delta)?;
    let loss = ops::where_self(&ops::lt_scalar(&z, delta)?, &quad, &lin)?;
    reduce_by(&to_dtype(&loss, dtype)?, reduction, None)
}

/// `aten::huber_loss_backward`: `grad_output * clamp(self - target, -delta, delta)`,
/// divided by the element count for mean.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = ops::huber_loss_backward(&g, &a, &b, 2, 2.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 2.0]);
/// ```
pub fn huber_loss_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    reduction: i64,
    delta: f64,
) -> Result<Tensor> {
    const OP: &str = "aten::huber_loss_backward";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let dtype = check_floating(OP, "huber_backward_cpu_out", &[grad_output, self_, target])?;
    let x = ops::sub(&opmath(self_)?, &opmath(target)?).map_err(|e| e.with_op(OP))?;
    let slope = ops::clamp(&x, Some((-delta).into()), Some(delta.into()))?;
    let g = ops::mul_scalar(&opmath(grad_output)?, mean_scale(self_, reduction))?;
    to_dtype(&ops::mul(&g, &slope).map_err(|e| e.with_op(OP))?, dtype)
}

/// Checks that every element of `t` lies in [0, 1] (NaN fails, as in PyTorch).
fn check_unit_interval(op: &str, what: &str, t: &Tensor) -> Result<()> {
    if t.to_f64_vec().iter().any(|&v| !(0.0..=1.0).contains(&v)) {
        return Err(Error::invalid(
            op,
            format!("all elements of {what} should be between 0 and 1"),
        ));
    }
    Ok(())
}

/// Checks the shapes and dtypes of a binary cross entropy call: `target`
/// and `weight` broadcast to `self`'s shape and share its dtype.
fn check_bce_args(op: &str, self_: &Tensor, target: &Tensor, weight: Option<&Tensor>) -> Result<()> {
    if !self_.dtype().is_floating_point() {
        return Err(Error::dtype(
            op,
            format!(
                "\"binary_cross_entropy\" not implemented for '{}'",
                self_.dtype().scalar_type_name()
            ),
        ));
    }
    for t in std::iter::once(target).chain(weight) {
        if t.dtype() != self_.dtype() {
            return Err(Error::dtype(
                op,
                format!(
                    "Found dtype {} but expected {}",
                    t.dtype().scalar_type_name(),
                    self_.dtype().scalar_type_name()
                ),
            ));
        }
        expect_broadcast_to(op, t, self_.sizes())?;
    }
    Ok(())
}

/// Refuses `t` unless it broadcasts to exactly `sizes` (the output's shape).
fn expect_broadcast_to(op: &str, t: &Tensor, sizes: &[usize]) -> Result<()> {
    let b = ft_runtime::shape::broadcast_shapes(op, t.sizes(), sizes)?;
    if b.as_slice() != sizes {
        return Err(Error::shape(
            op,
            format!(
                "output with shape {} doesn't match the broadcast shape {}",
                ft_runtime::shape::fmt_sizes(sizes),
                ft_runtime::shape::fmt_sizes(&b)
            ),
        ));
    }
    Ok(())
}

/// `max(log(x), -100)`, the clamped log of binary cross entropy.
fn clamped_log(x: &Tensor) -> Result<Tensor> {
    ops::clamp_min(&ops::log(x)?, -100.0)
}

/// `aten::binary_cross_entropy`: `-weight * (t log(x) + (1 - t) log(1 - x))`
/// with both logs clamped at -100; `self` and `target` must lie in [0, 1].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let l = ops::binary_cross_entropy(&x, &t, None, 1).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::binary_cross_entropy";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_bce_args(OP, self_, target, weight)?;
    check_unit_interval(OP, "input", self_)?;
    check_unit_interval(OP, "target", target)?;
    let (x, t) = (opmath(self_)?, opmath(target)?);
    // (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100), rounded once
    let neg_part = ops::mul(
        &ops::sub_scalar(&t, 1.0, 1)?,
        &ops::clamp_min(&ops::log1p(&ops::neg(&x)?)?, -100.0)?,
    )?;
    let loss = ops::sub(&neg_part, &ops::mul(&t, &clamped_log(&x)?)?)?;
    let mut loss = to_dtype(&loss, self_.dtype())?;
    if let Some(w) = weight {
        loss = ops::mul(&loss, w)?;
    }
    reduce_by(&loss, reduction, None)
}

/// `aten::binary_cross_entropy_backward`: `grad_output * weight * (x - t) /
/// max(x (1 - x), 1e-12)`, divided by the element count for mean.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = ops::binary_cross_entropy_backward(&g, &x, &t, None, 1).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-2.0]);
/// ```
pub fn binary_cross_entropy_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::binary_cross_entropy_backward";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_bce_args(OP, self_, target, weight)?;
    expect_broadcast_to(OP, grad_output, self_.sizes())?;
    let (x, t) = (opmath(self_)?, opmath(target)?);
    let one_minus_x = ops::sub_scalar(&ops::neg(&x)?, -1.0, 1)?;
    let denom = ops::clamp_min(&ops::mul(&x, &one_minus_x)?, 1e-12)?;
    let mut g = ops::div(&ops::mul(&ops::sub(&x, &t)?, &opmath(grad_output)?)?, &denom)?;
    if let Some(w) = weight {
        g = ops::mul(&g, &opmath(w)?)?;
    }
    to_dtype(&ops::mul_scalar(&g, mean_scale(self_, reduction))?, self_.dtype())
}

/// `log(sigmoid(x))` computed stably: `min(x, 0) - log1p(exp(-|x|))`.
fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    let m = ops::clamp(x, None, Some(0.0.into()))?;
    ops::sub(&m, &ops::log1p(&ops::exp(&ops::neg(&ops::abs(x)?)?)?)?)
}

/// `aten::binary_cross_entropy_with_logits`: binary cross entropy of
/// `sigmoid(self)`, computed stably as `(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)`,
/// times `weight`, reduced. The result has `target`'s shape.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let l = ops::binary_cross_entropy_with_logits(&x, &t, None, None, 1).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy_with_logits(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::binary_cross_entropy_with_logits";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let mut all = vec![self_, target];
    all.extend(weight);
    all.extend(pos_weight);
    check_floating(OP, "binary_cross_entropy_with_logits", &all)?;
    for t in [Some(self_), weight, pos_weight].into_iter().flatten() {
        expect_broadcast_to(OP, t, target.sizes())?;
    }
    let (x, t) = (self_, target);
    let one_minus_t = ops::sub_scalar(&ops::neg(t)?, -1.0, 1)?;
    let ls = to_dtype(&log_sigmoid(&opmath(x)?)?, x.dtype())?;
    let weighted_ls = match pos_weight {
        Some(pw) => ops::mul(
            &ops::add_scalar(&ops::mul(&ops::sub_scalar(pw, 1.0, 1)?, t)?, 1.0, 1)?,
            &ls,
        )?,
        None => ls,
    };
    let mut loss = ops::sub(&ops::mul(&one_minus_t, x)?, &weighted_ls)?;
    if let Some(w) = weight {
        loss = ops::mul(&loss, w)?;
    }
    reduce_by(&loss, reduction, None)
}

/// `aten::kl_div`: the pointwise KL divergence `target * (log(target) - self)`
/// (`exp(target) * (target - self)` with `log_target`), reduced; `self` holds
/// log-probabilities. Where `target` is 0 the term is 0 (`xlogy`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ops::kl_div_full(&x, &t, 0, false).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 0.0]);
/// ```
pub fn kl_div(self_: &Tensor, target: &Tensor, reduction: i64, log_target: bool) -> Result<Tensor> {
    const OP: &str = "aten::kl_div";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_floating(OP, "kl_div", &[self_, target])?;
    let loss = if log_target {
        ops::mul(&ops::exp(target)?, &ops::sub(target, self_)?)?
    } else {
        let zero = ops::eq_scalar(target, 0.0)?;
        let safe = ops::masked_fill(target, &zero, 1.0)?;
        let xlogy = ops::masked_fill(&ops::mul(target, &ops::log(&safe)?)?, &zero, 0.0)?;
        ops::sub(&xlogy, &ops::mul(target, self_)?)?
    };
    reduce_by(&loss, reduction, None)
}

// ---- backward-formula helpers (declared as [[helper]] in derivatives.toml) ----

/// `grad * factor`, divided by `input.numel()` for mean reduction: the
/// second derivative of `mse_loss` (factor 2).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let r = frankentorch::composite_loss::scaled_by_reduction(&g, &g, 1, 2.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0, 1.0]);
/// ```
pub fn scaled_by_reduction(grad: &Tensor, input: &Tensor, reduction: i64, factor: f64) -> Result<Tensor> {
    ops::mul_scalar(grad, factor * mean_scale(input, reduction))
}

/// Second derivative of `smooth_l1_loss` with respect to `self`:
/// `grad / beta` where `|self - target| < beta`, 0 elsewhere (and for `beta = 0`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let r = frankentorch::composite_loss::smooth_l1_double_backward(&x, &x, &t, 2, 1.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 0.0]);
/// ```
pub fn smooth_l1_double_backward(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    reduction: i64,
    beta: f64,
) -> Result<Tensor> {
    let inside = ops::lt_scalar(&ops::abs(&ops::sub(self_, target)?)?, beta)?;
    let scale = if beta == 0.0 {
        0.0
    } else {
        mean_scale(self_, reduction) / beta
    };
    ops::mul(&ops::mul_scalar(grad, scale)?, &to_dtype(&inside, grad.dtype())?)
}

/// Second derivative of `huber_loss` with respect to `self`: `grad` where
/// `|self - target| < delta`, 0 elsewhere.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let r = frankentorch::composite_loss::huber_double_backward(&x, &x, &t, 2, 1.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 0.0]);
/// ```
pub fn huber_double_backward(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    reduction: i64,
    delta: f64,
) -> Result<Tensor> {
    let inside = ops::le_scalar(&ops::abs(&ops::sub(self_, target)?)?, delta)?;
    let g = ops::mul_scalar(grad, mean_scale(self_, reduction))?;
    ops::mul(&g, &to_dtype(&inside, grad.dtype())?)
}

/// `t * weight` (when given) scaled for the reduction of an input like `self_`.
fn weighted(t: &Tensor, weight: Option<&Tensor>, self_: &Tensor, reduction: i64) -> Result<Tensor> {
    let t = match weight {
        Some(w) => ops::mul(t, w)?,
        None => t.clone(),
    };
    ops::mul_scalar(&t, mean_scale(self_, reduction))
}

/// Gradient of `binary_cross_entropy` with respect to `target`:
/// `-grad * weight * logit(self)`, scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::composite_loss::bce_target_backward(&g, &x, &x, None, 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn bce_target_backward(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let _ = target;
    let one_minus_x = ops::sub_scalar(&ops::neg(self_)?, -1.0, 1)?;
    let logit = ops::sub(&ops::log(self_)?, &ops::log(&one_minus_x)?)?;
    weighted(&ops::neg(&ops::mul(grad, &logit)?)?, weight, self_, reduction)
}

/// `max(x (1 - x), 1e-12)`, the clamped denominator of the bce gradients.
fn bce_denominator(x: &Tensor) -> Result<Tensor> {
    let one_minus_x = ops::sub_scalar(&ops::neg(x)?, -1.0, 1)?;
    ops::clamp_min(&ops::mul(x, &one_minus_x)?, 1e-12)
}

/// `(x + 1e-12) (1 - x + 1e-12)`, the denominator PyTorch's bce double
/// backward formulas use (not clamped, unlike the first derivative's).
fn bce_padded_denominator(x: &Tensor) -> Result<Tensor> {
    let a = ops::add_scalar(x, 1e-12, 1)?;
    let b = ops::sub_scalar(&ops::neg(x)?, -1.0 - 1e-12, 1)?;
    ops::mul(&a, &b)
}

/// Derivative of `binary_cross_entropy_backward` with respect to
/// `grad_output`: `grad * weight * (x - t) / ((x + 1e-12)(1 - x + 1e-12))`,
/// scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let r = frankentorch::composite_loss::bce_double_backward_grad_output(&g, &x, &t, None, 2).unwrap();
/// assert!((r.to_vec::<f64>().unwrap()[0] + 2.0).abs() < 1e-9);
/// ```
pub fn bce_double_backward_grad_output(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let g = ops::div(
        &ops::mul(grad, &ops::sub(self_, target)?)?,
        &bce_padded_denominator(self_)?,
    )?;
    weighted(&g, weight, self_, reduction)
}

/// Derivative of `binary_cross_entropy_backward` with respect to `self`:
/// `grad * grad_output * weight * (x^2 - 2 x t + t) / ((x + 1e-12)(1 - x + 1e-12))^2`,
/// scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::composite_loss::bce_double_backward(&g, &g, &x, &t, None, 2).unwrap();
/// assert!((r.to_vec::<f64>().unwrap()[0] - 4.0).abs() < 1e-9);
/// ```
pub fn bce_double_backward(
    grad_output: &Tensor,
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let x = self_;
    let num = ops::add(
        &ops::sub(&ops::mul(x, x)?, &ops::mul_scalar(&ops::mul(x, target)?, 2.0)?)?,
        target,
    )?;
    let d = bce_padded_denominator(x)?;
    let g = ops::div(&ops::mul(&ops::mul(grad_output, grad)?, &num)?, &ops::mul(&d, &d)?)?;
    weighted(&g, weight, self_, reduction)
}

/// Derivative of `binary_cross_entropy_backward` with respect to `target`:
/// `-grad * grad_output * weight / max(x (1 - x), 1e-12)`, scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::composite_loss::bce_double_backward_target(&g, &g, &x, &x, None, 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-4.0]);
/// ```
pub fn bce_double_backward_target(
    grad: &Tensor,
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let _ = target;
    let g = ops::div(&ops::neg(&ops::mul(grad, grad_output)?)?, &bce_denominator(self_)?)?;
    weighted(&g, weight, self_, reduction)
}

/// Gradient of `binary_cross_entropy_with_logits` with respect to `self`:
/// `grad * weight * ((pos_weight t + 1 - t) sigmoid(x) - pos_weight t)`
/// (`sigmoid(x) - t` without `pos_weight`), scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::composite_loss::bce_logits_backward(&g, &x, &t, None, None, 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-0.5]);
/// ```
pub fn bce_logits_backward(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let s = ops::sigmoid(self_)?;
    let d = match pos_weight {
        Some(pw) => {
            let pt = ops::mul(pw, target)?;
            let coef = ops::sub(&ops::add_scalar(&pt, 1.0, 1)?, target)?;
            ops::sub(&ops::mul(&coef, &s)?, &pt)?
        }
        None => ops::sub(&s, target)?,
    };
    let g = weighted(&ops::mul(grad, &d)?, weight, self_, reduction)?;
    // the loss has target's shape; mean divides by its element count
    rescale_mean(&g, self_, target, reduction)
}

/// Gradient of `binary_cross_entropy_with_logits` with respect to `target`:
/// `-grad * weight * (x + (pos_weight - 1) log_sigmoid(x))` (`-x` without
/// `pos_weight`), scaled for the reduction.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::composite_loss::bce_logits_target_backward(&g, &x, &x, None, None, 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-2.0]);
/// ```
pub fn bce_logits_target_backward(
    grad: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: i64,
) -> Result<Tensor> {
    let d = match pos_weight {
        Some(pw) => ops::add(self_, &ops::mul(&ops::sub_scalar(pw, 1.0, 1)?, &log_sigmoid(self_)?)?)?,
        None => self_.clone(),
    };
    let g = weighted(&ops::neg(&ops::mul(grad, &d)?)?, weight, self_, reduction)?;
    rescale_mean(&g, self_, target, reduction)
}

/// Corrects a mean-scaled gradient that divided by `self_`'s element count to
/// divide by `target`'s (the loss's shape) instead.
fn rescale_mean(g: &Tensor, self_: &Tensor, target: &Tensor, reduction: i64) -> Result<Tensor> {
    if reduction == MEAN && self_.numel() != target.numel() && target.numel() > 0 {
        return ops::mul_scalar(g, self_.numel() as f64 / target.numel() as f64);
    }
    Ok(g.clone())
}

// ---- losses PyTorch composes in aten (CompositeImplicitAutograd) ----

/// `aten::margin_ranking_loss`: `max(0, -target * (input1 - input2) + margin)`, reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let l = ops::margin_ranking_loss(&a, &b, &y, 0.5, 0).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![0.0, 1.5]);
/// ```
pub fn margin_ranking_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    margin: f64,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::margin_ranking_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let d = ops::sub(input1, input2).map_err(|e| e.with_op(OP))?;
    let m = ops::add_scalar(&ops::neg(&ops::mul(target, &d).map_err(|e| e.with_op(OP))?)?, margin, 1)?;
    reduce_by(&ops::clamp_min(&m, 0.0)?, reduction, None)
}

/// `aten::hinge_embedding_loss`: `self` where `target == 1`, `max(0, margin - self)`
/// where `target == -1` (both terms where the target is neither), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.25f64, 0.25], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f64, -1.0], &[2]).unwrap();
/// let l = ops::hinge_embedding_loss(&x, &y, 1.0, 0).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![0.25, 0.75]);
/// ```
pub fn hinge_embedding_loss(self_: &Tensor, target: &Tensor, margin: f64, reduction: i64) -> Result<Tensor> {
    const OP: &str = "aten::hinge_embedding_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let zeros = ops::zeros_like(self_)?;
    let clamped = ops::clamp_min(&ops::add_scalar(&ops::neg(self_)?, margin, 1)?, 0.0)?;
    let from_margin = ops::where_self(&ops::ne_scalar(target, 1.0)?, &clamped, &zeros).map_err(|e| e.with_op(OP))?;
    let from_self = ops::where_self(&ops::ne_scalar(target, -1.0)?, self_, &zeros).map_err(|e| e.with_op(OP))?;
    reduce_by(&ops::add(&from_margin, &from_self)?, reduction, None)
}

/// Checks the ranks of a cosine embedding call (PyTorch's messages).
fn check_cosine_ranks(op: &str, input1: &Tensor, input2: &Tensor, target: &Tensor) -> Result<()> {
    let sizes = || {
        format!(
            "{} and {}",
            ft_runtime::shape::fmt_sizes(input1.sizes()),
            ft_runtime::shape::fmt_sizes(input2.sizes())
        )
    };
    match target.dim() {
        0 if input1.dim() != 1 || input2.dim() != 1 => Err(Error::shape(
            op,
            format!(
                "0D target tensor expects 1D input tensors, but found inputs with sizes {}.",
                sizes()
            ),
        )),
        1 if input1.dim() != 2 || input2.dim() != 2 => Err(Error::shape(
            op,
            format!(
                "1D target tensor expects 2D input tensors, but found inputs with sizes {}.",
                sizes()
            ),
        )),
        d if d > 1 => Err(Error::shape(
            op,
            "0D or 1D target tensor expected, multi-target not supported",
        )),
        _ => Ok(()),
    }
}

/// `aten::cosine_embedding_loss`: `1 - cos(input1, input2)` where `target == 1`,
/// `max(0, cos - margin)` where `target == -1`, with the cosine taken along
/// the last dim (squared norms padded by 1e-12), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 1.0], &[1, 2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let l = ops::cosine_embedding_loss(&a, &b, &y, 0.0, 1).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn cosine_embedding_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    margin: f64,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::cosine_embedding_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    check_cosine_ranks(OP, input1, input2, target)?;
    let dim = [target.dim() as i64];
    let prod = ops::sum_dim(&ops::mul(input1, input2).map_err(|e| e.with_op(OP))?, Some(&dim), false)?;
    let mag1 = ops::add_scalar(&ops::sum_dim(&ops::mul(input1, input1)?, Some(&dim), false)?, 1e-12, 1)?;
    let mag2 = ops::add_scalar(&ops::sum_dim(&ops::mul(input2, input2)?, Some(&dim), false)?, 1e-12, 1)?;
    let cos = ops::div(&prod, &ops::sqrt(&ops::mul(&mag1, &mag2)?)?)?;
    let zeros = ops::zeros_like(&cos)?;
    let pos = ops::sub_scalar(&ops::neg(&cos)?, -1.0, 1)?;
    let neg = ops::clamp_min(&ops::sub_scalar(&cos, margin, 1)?, 0.0)?;
    let out_pos = ops::where_self(&ops::eq_scalar(target, 1.0)?, &pos, &zeros).map_err(|e| e.with_op(OP))?;
    let out_neg = ops::where_self(&ops::eq_scalar(target, -1.0)?, &neg, &zeros).map_err(|e| e.with_op(OP))?;
    reduce_by(&ops::add(&out_pos, &out_neg)?, reduction, None)
}

/// PyTorch's `pairwise_distance`: the p-norm of `x1 - x2 + eps` along the
/// last dim of the broadcast operands.
fn pairwise_distance(x1: &Tensor, x2: &Tensor, p: f64, eps: f64) -> Result<Tensor> {
    let d = ops::add_scalar(&ops::sub(x1, x2)?, eps, 1)?;
    let last = (x1.dim().max(x2.dim()) as i64 - 1).max(0);
    if d.dim() == 0 {
        return ops::norm(&d, Some(p.into()), &[], false);
    }
    ops::norm(&d, Some(p.into()), &[last], false)
}

/// `aten::triplet_margin_loss`: `max(0, margin + d(anchor, positive) - d(anchor, negative))`
/// with `d` the pairwise p-norm distance (plus `eps`); with `swap`, the
/// negative distance is the smaller of `d(anchor, negative)` and `d(positive, negative)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// let p = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let n = Tensor::from_vec(vec![0.0f64, 1.0], &[1, 2]).unwrap();
/// let l = ops::triplet_margin_loss(&a, &p, &n, 1.0, 2.0, 0.0, false, 1).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn triplet_margin_loss(
    anchor: &Tensor,
    positive: &Tensor,
    negative: &Tensor,
    margin: f64,
    p: f64,
    eps: f64,
    swap: bool,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::triplet_margin_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let (a, pd, n) = (anchor.dim(), positive.dim(), negative.dim());
    if a != pd || a != n {
        return Err(Error::shape(
            OP,
            format!("The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: anchor {a}D, positive {pd}D, and negative {n}D inputs"),
        ));
    }
    let d_pos = pairwise_distance(anchor, positive, p, eps).map_err(|e| e.with_op(OP))?;
    let mut d_neg = pairwise_distance(anchor, negative, p, eps).map_err(|e| e.with_op(OP))?;
    if swap {
        let d_swap = pairwise_distance(positive, negative, p, eps).map_err(|e| e.with_op(OP))?;
        d_neg = ops::minimum(&d_neg, &d_swap)?;
    }
    let m = ops::add_scalar(&ops::sub(&d_pos, &d_neg)?, margin, 1)?;
    reduce_by(&ops::clamp_min(&m, 0.0)?, reduction, None)
}

/// `aten::poisson_nll_loss`: `exp(input) - target * input` (`log_input`) or
/// `input - target * log(input + eps)`, plus Stirling's approximation
/// `t log t - t + 0.5 log(2 pi t)` where `target > 1` when `full`, reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let l = ops::poisson_nll_loss(&x, &t, true, false, 1e-8, 0).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn poisson_nll_loss(
    input: &Tensor,
    target: &Tensor,
    log_input: bool,
    full: bool,
    eps: f64,
    reduction: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::poisson_nll_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let mut loss = if log_input {
        ops::sub(&ops::exp(input)?, &ops::mul(target, input).map_err(|e| e.with_op(OP))?)?
    } else {
        let l = ops::log(&ops::add_scalar(input, eps, 1)?)?;
        ops::sub(input, &ops::mul(target, &l).map_err(|e| e.with_op(OP))?)?
    };
    if full {
        let t = target;
        let two_pi_t = ops::mul_scalar(t, 2.0 * std::f64::consts::PI)?;
        let stirling = ops::add(
            &ops::sub(&ops::mul(t, &ops::log(t)?)?, t)?,
            &ops::mul_scalar(&ops::log(&two_pi_t)?, 0.5)?,
        )?;
        let small = ops::le_scalar(t, 1.0)?;
        loss = ops::add(&loss, &ops::masked_fill(&stirling, &small, 0.0)?)?;
    }
    reduce_by(&loss, reduction, None)
}

/// `aten::ctc_loss.IntList`: the CTC loss of `log_probs` (`[T, N, C]`, or
/// `[T, C]` unbatched) against `targets` (padded `[N, S]` or concatenated
/// 1-D): `_ctc_loss`'s per-sample losses, infinite ones zeroed with
/// `zero_infinity`; mean divides each by its target length (at least 1)
/// before averaging.
///
/// ```
/// use frankentorch::prelude::*;
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let l = ops::ctc_loss(&lp, &tg, &[1], &[1], 0, 2, false).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn ctc_loss(
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &[i64],
    target_lengths: &[i64],
    blank: i64,
    reduction: i64,
    zero_infinity: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::ctc_loss";
    ft_kernels::nn::loss::check_reduction(OP, reduction)?;
    let batched = log_probs.dim() == 3;
    let (lp, tg) = if batched {
        (log_probs.clone(), targets.clone())
    } else {
        (ops::unsqueeze(log_probs, 1)?, ops::unsqueeze(targets, 0)?)
    };
    let mut res = ops::_ctc_loss(&lp, &tg, input_lengths, target_lengths, blank, zero_infinity)?.0;
    if zero_infinity {
        let inf = ops::eq_scalar(&res, f64::INFINITY)?;
        res = ops::where_self(&inf, &ops::zeros_like(&res)?, &res)?;
    }
    match reduction {
        MEAN => {
            let lens: Vec<f64> = target_lengths.iter().map(|&l| l.max(1) as f64).collect();
            let lens = to_dtype(&Tensor::from_vec(lens, &[target_lengths.len()])?, res.dtype())?;
            ops::mean(&ops::div(&res, &lens)?)
        }
        SUM => ops::sum(&res),
        _ if batched => Ok(res),
        _ => ops::squeeze_dim(&res, 0),
    }
}

/// Integer lengths from a 1-D (or 0-dim) integral tensor.
fn lengths_of(op: &str, what: &str, t: &Tensor) -> Result<Vec<i64>> {
    if !t.dtype().is_integral(false) {
        return Err(Error::dtype(op, format!("{what} must be integral")));
    }
    to_dtype(t, DType::I64)?.to_vec::<i64>()
}

/// `aten::ctc_loss.Tensor`: `ctc_loss.IntList` with the lengths given as integer tensors.
///
/// ```
/// use frankentorch::prelude::*;
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let one = Tensor::from_vec(vec![1i64], &[1]).unwrap();
/// let l = ops::ctc_loss_tensor(&lp, &tg, &one, &one, 0, 2, false).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn ctc_loss_tensor(
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &Tensor,
    target_lengths: &Tensor,
    blank: i64,
    reduction: i64,
    zero_infinity: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::ctc_loss.Tensor";
    let il = lengths_of(OP, "input_lengths", input_lengths)?;
    let tl = lengths_of(OP, "target_lengths", target_lengths)?;
    ctc_loss(log_probs, targets, &il, &tl, blank, reduction, zero_infinity)
}
