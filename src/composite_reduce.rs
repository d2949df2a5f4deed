//! Kernels of the reduce-view family defined by calling other operators:
//! softmax with a dtype, logsumexp, var_mean, std_mean, roll, tile, flatten
//! and unflatten are CompositeImplicitAutograd (autograd flows through the
//! operators they call); std and norm are CompositeExplicitAutograd, with
//! PyTorch's own backward formulas (a zero gradient where the result is 0).

use crate::autograd_helpers::{sizes_of, to_dtype};
use crate::ops;
use crate::{DType, Error, Result, Scalar, Tensor};

/// `self` converted to `dtype` when one is given.
fn maybe_cast(t: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    match dtype {
        Some(d) => to_dtype(t, d),
        None => Ok(t.clone()),
    }
}

/// `aten::softmax.int`: `_softmax` along `dim`, after converting to `dtype` if given.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1i32, 1], &[2]).unwrap();
/// let s = ops::softmax(&t, 0, Some(DType::F64)).unwrap();
/// assert_eq!(s.to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmax(self_: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    ops::_softmax(&maybe_cast(self_, dtype)?, dim, false).map_err(|e| e.with_op("aten::softmax.int"))
}

/// `aten::log_softmax.int`: `_log_softmax` along `dim`, after converting to `dtype` if given.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let s = ops::log_softmax(&t, -1, None).unwrap();
/// assert!((s.to_vec::<f64>().unwrap()[0] + std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn log_softmax(self_: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    ops::_log_softmax(&maybe_cast(self_, dtype)?, dim, false).map_err(|e| e.with_op("aten::log_softmax.int"))
}

/// `aten::logsumexp`: `log(sum(exp(self), dim))`, computed stably as
/// `m + log(sum(exp(self - m)))` with `m` the (finite) maximum, a constant
/// for autograd. Bool and integer inputs are converted to float32.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1000.0f64, 1000.0], &[2]).unwrap();
/// let r = ops::logsumexp(&t, &[0], false).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((r - 1000.0 - std::f64::consts::LN_2).abs() < 1e-12);
/// ```
pub fn logsumexp(self_: &Tensor, dim: &[i64], keepdim: bool) -> Result<Tensor> {
    const OP: &str = "aten::logsumexp";
    if dim.is_empty() && self_.dim() > 0 {
        return Err(Error::shape(
            OP,
            format!(
                "output with shape [] doesn't match the broadcast shape {:?}",
                vec![1; self_.dim()]
            ),
        ));
    }
    let x = if self_.dtype().is_floating_point() {
        self_.clone()
    } else {
        to_dtype(self_, DType::F32)?
    };
    if x.numel() == 0 {
        return ops::log(&ops::sum_dim(&ops::exp(&x)?, Some(dim), keepdim)?);
    }
    let maxes = ops::amax(&x.detach(), dim, true)?;
    let safe: Vec<f64> = maxes
        .to_f64_vec()
        .into_iter()
        .map(|m| if m.is_finite() { m } else { 0.0 })
        .collect();
    let shift = to_dtype(&Tensor::from_vec(safe, maxes.sizes())?, x.dtype())?;
    let sum = ops::sum_dim(&ops::exp(&ops::sub(&x, &shift)?)?, Some(dim), keepdim)?;
    let shift = if keepdim {
        shift
    } else {
        ops::reshape(&shift, &sizes_of(&sum))?
    };
    ops::add(&ops::log(&sum)?, &shift)
}

/// `aten::std.correction`: the square root of `var.correction`.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// assert_eq!(ops::std(&t, None).unwrap().to_vec::<f64>().unwrap(), vec![2.0f64.sqrt()]);
/// ```
pub fn std(self_: &Tensor, dim: Option<&[i64]>, correction: Option<Scalar>, keepdim: bool) -> Result<Tensor> {
    let v = ops::var_full(self_, dim, correction, keepdim).map_err(|e| e.with_op("aten::std.correction"))?;
    ops::sqrt(&v)
}

/// Mean over the same dims as `var.correction` (`None` or empty: all).
fn mean_like_var(self_: &Tensor, dim: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    ops::mean_dim(self_, dim.filter(|d| !d.is_empty()), keepdim)
}

/// `aten::var_mean.correction`: `var.correction` and the mean over the same dims.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let (v, m) = ops::var_mean(&t, None).unwrap();
/// assert_eq!((v.to_vec::<f64>().unwrap(), m.to_vec::<f64>().unwrap()), (vec![2.0], vec![2.0]));
/// ```
pub fn var_mean(
    self_: &Tensor,
    dim: Option<&[i64]>,
    correction: Option<Scalar>,
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    let v = ops::var_full(self_, dim, correction, keepdim).map_err(|e| e.with_op("aten::var_mean.correction"))?;
    Ok((v, mean_like_var(self_, dim, keepdim)?))
}

/// `aten::std_mean.correction`: `std.correction` and the mean over the same dims.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let (s, m) = ops::std_mean(&t, None).unwrap();
/// assert_eq!(m.to_vec::<f64>().unwrap(), vec![2.0]);
/// ```
pub fn std_mean(
    self_: &Tensor,
    dim: Option<&[i64]>,
    correction: Option<Scalar>,
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    let s = std(self_, dim, correction, keepdim).map_err(|e| e.with_op("aten::std_mean.correction"))?;
    Ok((s, mean_like_var(self_, dim, keepdim)?))
}

/// The vector `p`-norm over `dims` (empty: all): `p = 2` by default, `0`
/// counts nonzeros, `±inf` take the largest/smallest magnitude, other `p`
/// compute `sum(|x|^p)^(1/p)`.
fn norm_impl(op: &str, x: &Tensor, p: f64, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    if !x.dtype().is_floating_point() {
        return Err(Error::dtype(
            op,
            format!(
                "norm(): input dtype should be either floating point or complex. Got {} instead.",
                x.dtype().scalar_type_name()
            ),
        ));
    }
    let d = Some(dims);
    if p == 2.0 {
        return ops::sqrt(&ops::sum_dim(&ops::mul(x, x)?, d, keepdim)?);
    }
    let a = ops::abs(x)?;
    if p == 1.0 {
        return ops::sum_dim(&a, d, keepdim);
    }
    if p == f64::INFINITY {
        return ops::amax(&a, dims, keepdim);
    }
    if p == f64::NEG_INFINITY {
        return ops::amin(&a, dims, keepdim);
    }
    if p == 0.0 {
        return ops::sum_dim(&to_dtype(&ops::ne_scalar(x, 0)?, x.dtype())?, d, keepdim);
    }
    // |x|^p = exp(p * log|x|); the sum's 1/p power likewise.
    let powered = ops::exp(&ops::mul_scalar(&ops::log(&a)?, p)?)?;
    let s = ops::sum_dim(&powered, d, keepdim)?;
    ops::exp(&ops::mul_scalar(&ops::log(&s)?, 1.0 / p)?)
}

/// `aten::norm.ScalarOpt_dim`: the `p`-norm (default 2) over `dim` (empty: all dims).
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![3.0f64, 4.0], &[2]).unwrap();
/// assert_eq!(ops::norm(&t, None, &[0], false).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn norm(self_: &Tensor, p: Option<Scalar>, dim: &[i64], keepdim: bool) -> Result<Tensor> {
    let p = p.map_or(2.0, |s| s.to_f64());
    norm_impl("aten::norm.ScalarOpt_dim", self_, p, dim, keepdim)
}

/// `aten::norm.Scalar`: the `p`-norm of all elements.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![3.0f64, -4.0], &[2]).unwrap();
/// assert_eq!(ops::norm_scalar(&t, 1).unwrap().to_vec::<f64>().unwrap(), vec![7.0]);
/// ```
pub fn norm_scalar(self_: &Tensor, p: Scalar) -> Result<Tensor> {
    norm_impl("aten::norm.Scalar", self_, p.to_f64(), &[], false)
}

/// Rolls `x` by `shift` along `dim` into a new contiguous tensor.
fn roll_one(x: &Tensor, shift: i64, dim: i64) -> Result<Tensor> {
    let d = ft_runtime::shape::wrap_dim("aten::roll", dim, x.dim())?;
    if x.dim() == 0 {
        return Err(ft_runtime::Error::index(
            "aten::roll",
            format!("Dimension specified as {dim} but tensor has no dimensions"),
        ));
    }
    let n = x.sizes()[d] as i64;
    let zeros = ops::zeros_full(&sizes_of(x), Some(x.dtype()), None, None, None)?;
    if n == 0 {
        return ops::slice_scatter(&zeros, x, dim, None, None, 1);
    }
    let s = shift.rem_euclid(n);
    let tail = ops::slice(x, dim, Some(n - s), Some(n), 1)?;
    let head = ops::slice(x, dim, Some(0), Some(n - s), 1)?;
    let out = ops::slice_scatter(&zeros, &tail, dim, Some(0), Some(s), 1)?;
    ops::slice_scatter(&out, &head, dim, Some(s), Some(n), 1)
}

/// `aten::roll`: shifts elements along each of `dims` by the matching
/// `shifts` entry, wrapping around; without `dims`, rolls the flattened
/// tensor and restores its shape.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
/// assert_eq!(ops::roll(&t, &[1], &[1]).unwrap().to_vec::<i64>().unwrap(), vec![3, 1, 2, 6, 4, 5]);
/// assert_eq!(ops::roll(&t, &[1], &[]).unwrap().to_vec::<i64>().unwrap(), vec![6, 1, 2, 3, 4, 5]);
/// ```
pub fn roll(self_: &Tensor, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::roll";
    if dims.is_empty() && shifts.len() == 1 {
        let flat = ops::reshape(self_, &[-1])?;
        return ops::view(&roll_one(&flat, shifts[0], 0)?, &sizes_of(self_));
    }
    if shifts.len() != dims.len() || shifts.is_empty() {
        return Err(Error::invalid(
            OP,
            format!(
                "shifts and dimensions must align. shifts: {}, dims:{}",
                shifts.len(),
                dims.len()
            ),
        ));
    }
    let mut out = self_.clone();
    for (&s, &d) in shifts.iter().zip(dims) {
        out = roll_one(&out, s, d)?;
    }
    Ok(out)
}

/// `aten::tile`: `repeat` with `dims` padded with leading 1s to the input's rank.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
/// assert_eq!(ops::tile(&t, &[2]).unwrap().sizes(), &[2, 4]);
/// ```
pub fn tile(self_: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let mut reps = vec![1i64; self_.dim().saturating_sub(dims.len())];
    reps.extend_from_slice(dims);
    ops::repeat(self_, &reps).map_err(|e| e.with_op("aten::tile"))
}

/// `aten::flatten.using_ints`: merges dims `start_dim..=end_dim` into one
/// (a view when the strides allow it); a 0-dim input becomes 1-D.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = ops::zeros(&[2, 3, 4]).unwrap();
/// assert_eq!(ops::flatten(&t, 1, -1).unwrap().sizes(), &[2, 12]);
/// ```
pub fn flatten(self_: &Tensor, start_dim: i64, end_dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::flatten.using_ints";
    let nd = self_.dim();
    let s = ft_runtime::shape::wrap_dim(OP, start_dim, nd)?;
    let e = ft_runtime::shape::wrap_dim(OP, end_dim, nd)?;
    if s > e {
        return Err(Error::invalid(
            OP,
            "flatten() has invalid args: start_dim cannot come after end_dim",
        ));
    }
    if nd == 0 {
        return ops::reshape(self_, &[1]);
    }
    if s == e {
        return Ok(self_.clone());
    }
    let sizes = sizes_of(self_);
    let mut shape: Vec<i64> = sizes[..s].to_vec();
    shape.push(sizes[s..=e].iter().product());
    shape.extend_from_slice(&sizes[e + 1..]);
    ops::reshape(self_, &shape)
}

/// `aten::unflatten.int`: splits `dim` into `sizes` (one entry may be -1).
///
/// ```
/// use frankentorch::prelude::*;
/// let t = ops::zeros(&[2, 12]).unwrap();
/// assert_eq!(ops::unflatten(&t, 1, &[3, -1]).unwrap().sizes(), &[2, 3, 4]);
/// ```
pub fn unflatten(self_: &Tensor, dim: i64, sizes: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::unflatten.int";
    let d = ft_runtime::shape::wrap_dim(OP, dim, self_.dim())?;
    if sizes.is_empty() {
        return Err(Error::invalid(OP, "unflatten: sizes must be non-empty"));
    }
    if self_.dim() == 0 {
        return Err(Error::dim_out_of_range(OP, dim, 0));
    }
    let n = self_.sizes()[d];
    let split = ft_runtime::shape::infer_size(OP, sizes, n).map_err(|_| {
        Error::shape(
            OP,
            format!(
                "unflatten: Provided sizes {sizes:?} don't multiply up to the size of dim {dim} ({n}) in the input tensor"
            ),
        )
    })?;
    let all = sizes_of(self_);
    let mut shape: Vec<i64> = all[..d].to_vec();
    shape.extend(split.iter().map(|&s| s as i64));
    shape.extend_from_slice(&all[d + 1..]);
    ops::reshape(self_, &shape)
}
