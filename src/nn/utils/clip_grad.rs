//! Gradient clipping: [`clip_grad_norm_`] and [`clip_grad_value_`], computed
//! with the same operations in the same order as `torch.nn.utils`.

use crate::{ops, tls, DType, Error, Result, Scalar, Tensor};

/// `clip_grad_norm_`'s keyword arguments with PyTorch's defaults
/// (`norm_type=2.0, error_if_nonfinite=False`).
///
/// ```
/// use frankentorch::nn::utils::ClipGradNormOpts;
/// let o = ClipGradNormOpts { norm_type: f64::INFINITY, ..Default::default() };
/// assert!(!o.error_if_nonfinite);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipGradNormOpts {
    /// The order of the norm (`inf` for the largest absolute value).
    pub norm_type: f64,
    /// Fail when the total norm is NaN or infinite instead of scaling by it.
    pub error_if_nonfinite: bool,
}

impl Default for ClipGradNormOpts {
    fn default() -> Self {
        ClipGradNormOpts {
            norm_type: 2.0,
            error_if_nonfinite: false,
        }
    }
}

/// Python's `repr` of a float, as PyTorch's messages print `norm_type`.
fn py_float(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if v.is_nan() {
        "nan".to_string()
    } else {
        format!("{v:?}")
    }
}

/// The norm of the norms of `tensors` (`torch.nn.utils.get_total_norm`):
/// each tensor's vector norm of order `norm_type`, tensors grouped by dtype
/// in order of first appearance, then the norm of their stack. No tensors
/// give `tensor(0.)`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::utils::get_total_norm;
/// # fn main() -> frankentorch::Result<()> {
/// let a = Tensor::from_vec(vec![3.0f64], &[1])?;
/// let b = Tensor::from_vec(vec![4.0f64], &[1])?;
/// assert_eq!(get_total_norm(&[a, b], 2.0, false)?.item()?.to_f64(), 5.0);
/// # Ok(()) }
/// ```
pub fn get_total_norm(tensors: &[Tensor], norm_type: f64, error_if_nonfinite: bool) -> Result<Tensor> {
    const OP: &str = "clip_grad_norm_";
    let _no_grad = tls::no_grad();
    if tensors.is_empty() {
        return Tensor::from_vec(vec![0.0f32], &[]);
    }
    // _group_tensors_by_device_and_dtype: groups in order of first appearance.
    let mut groups: Vec<(DType, Vec<&Tensor>)> = Vec::new();
    for t in tensors {
        match groups.iter_mut().find(|(d, _)| *d == t.dtype()) {
            Some((_, g)) => g.push(t),
            None => groups.push((t.dtype(), vec![t])),
        }
    }
    let mut norms = Vec::with_capacity(tensors.len());
    for (_, group) in &groups {
        for t in group {
            norms.push(ops::norm_scalar(t, Scalar::Float(norm_type)).map_err(|e| e.with_op(OP))?);
        }
    }
    let stacked = ops::stack(&norms, 0).map_err(|e| e.with_op(OP))?;
    let total = ops::norm_scalar(&stacked, Scalar::Float(norm_type)).map_err(|e| e.with_op(OP))?;
    if error_if_nonfinite {
        let v = total.to_f64_vec()[0];
        if !v.is_finite() {
            return Err(Error::invalid(
                OP,
                format!(
                    "The total norm of order {} for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`",
                    py_float(norm_type)
                ),
            ));
        }
    }
    Ok(total)
}

/// Scales the gradients of `parameters` in place so that their total norm
/// is at most `max_norm` (`torch.nn.utils.clip_grad_norm_`), and returns
/// the total norm before clipping.
///
/// As PyTorch: parameters without a gradient are skipped; the total norm is
/// [`get_total_norm`] of the gradients; each gradient is multiplied in place
/// by `clamp(reciprocal(total + 1e-6) * max_norm, max=1)` (Python's
/// `max_norm / tensor` is `tensor.reciprocal() * max_norm`), also when no
/// clipping is needed (the factor is then exactly 1).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::utils::{clip_grad_norm_, ClipGradNormOpts};
/// # fn main() -> frankentorch::Result<()> {
/// let p = Tensor::from_vec(vec![0.0f64, 0.0], &[2])?;
/// p.requires_grad_(true)?;
/// p.set_grad(Some(Tensor::from_vec(vec![-6.0f64, 8.0], &[2])?))?;
/// let opts = ClipGradNormOpts { norm_type: f64::INFINITY, ..Default::default() };
/// let total = clip_grad_norm_(&[p.clone()], 2.0, opts)?;
/// assert_eq!(total.item()?.to_f64(), 8.0);
/// let g = p.grad().unwrap().to_vec::<f64>()?;
/// assert!((g[1] - 2.0).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub fn clip_grad_norm_(parameters: &[Tensor], max_norm: f64, opts: ClipGradNormOpts) -> Result<Tensor> {
    const OP: &str = "clip_grad_norm_";
    let _no_grad = tls::no_grad();
    let grads: Vec<Tensor> = parameters.iter().filter_map(Tensor::grad).collect();
    let total = get_total_norm(&grads, opts.norm_type, opts.error_if_nonfinite)?;
    if grads.is_empty() {
        return Ok(total);
    }
    let coef = ops::mul_scalar(&ops::reciprocal(&ops::add_scalar(&total, 1e-6, 1)?)?, max_norm)?;
    let coef = ops::clamp(&coef, None, Some(Scalar::Float(1.0))).map_err(|e| e.with_op(OP))?;
    for g in &grads {
        ops::mul_(g, &coef).map_err(|e| e.with_op(OP))?;
    }
    Ok(total)
}

/// Clamps the gradients of `parameters` in place to
/// `[-clip_value, clip_value]` (`torch.nn.utils.clip_grad_value_`, as its
/// `_foreach_clamp_min_` then `_foreach_clamp_max_`); parameters without a
/// gradient are skipped.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::utils::clip_grad_value_;
/// # fn main() -> frankentorch::Result<()> {
/// let p = Tensor::from_vec(vec![0.0f32; 3], &[3])?;
/// p.set_grad(Some(Tensor::from_vec(vec![-3.0f32, 0.5, 9.0], &[3])?))?;
/// clip_grad_value_(&[p.clone()], 1.0)?;
/// assert_eq!(p.grad().unwrap().to_vec::<f32>()?, vec![-1.0, 0.5, 1.0]);
/// # Ok(()) }
/// ```
pub fn clip_grad_value_(parameters: &[Tensor], clip_value: f64) -> Result<()> {
    const OP: &str = "clip_grad_value_";
    let _no_grad = tls::no_grad();
    for g in parameters.iter().filter_map(Tensor::grad) {
        ops::clamp_min_(&g, -clip_value).map_err(|e| e.with_op(OP))?;
        ops::clamp_max_(&g, clip_value).map_err(|e| e.with_op(OP))?;
    }
    Ok(())
}
