//! Hand-written functions that backward formulas call (declared as
//! `[[helper]]` in `schema/derivatives.toml`). Each is built from recorded
//! operators, so formulas using them can be differentiated again.

use crate::ops;
use crate::{DType, Error, Result, Scalar, Tensor};

/// Sizes of `t` as i64, the form formulas pass around.
///
/// ```
/// let t = frankentorch::Tensor::zeros_contiguous(&[2, 3], frankentorch::DType::F32);
/// assert_eq!(frankentorch::autograd_helpers::sizes_of(&t), vec![2, 3]);
/// ```
pub fn sizes_of(t: &Tensor) -> Vec<i64> {
    t.sizes().iter().map(|&s| s as i64).collect()
}

/// The strides of `t` as `i64` (for formulas that save a tensor's geometry).
///
/// ```
/// let t = frankentorch::Tensor::zeros_contiguous(&[2, 3], frankentorch::DType::F32);
/// assert_eq!(frankentorch::autograd_helpers::strides_of(&t), vec![3, 1]);
/// ```
pub fn strides_of(t: &Tensor) -> Vec<i64> {
    t.strides().iter().map(|&s| s as i64).collect()
}

/// Gradient `i` of a multi-output node, or zeros shaped like forward output
/// `i` when no gradient reached it (PyTorch materializes undefined gradients
/// the same way before calling formulas that read them).
pub fn grad_or_zeros(
    ctx: &ft_runtime::autograd::BackwardCtx<'_>,
    grads: &[Option<Tensor>],
    i: usize,
) -> Result<Tensor> {
    if let Some(Some(g)) = grads.get(i) {
        return Ok(g.clone());
    }
    let meta = ctx.node.input_meta(i).ok_or_else(|| {
        Error::autograd(
            "autograd",
            format!("{} has no output {i} to take a gradient for", ctx.node.name()),
        )
    })?;
    let sizes: Vec<i64> = meta.sizes.iter().map(|&s| s as i64).collect();
    ops::zeros_full(&sizes, Some(meta.dtype), None, Some(meta.device), None)
}

/// Gradient of a reduction that picked one element per slice along `dim`
/// (`max.dim`, `min.dim`, `sort`-like ops): `grad` goes to the position
/// `indices` names, zeros elsewhere. Built as a one-hot mask times `grad`, so
/// it is differentiable in `grad`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::value_selecting_reduction_backward(&g, 1, &i, &[2, 3], false).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 0.0, 1.0, 2.0, 0.0, 0.0]);
/// ```
pub fn value_selecting_reduction_backward(
    grad: &Tensor,
    dim: i64,
    indices: &Tensor,
    sizes: &[i64],
    keepdim: bool,
) -> Result<Tensor> {
    if sizes.is_empty() {
        return Ok(grad.clone());
    }
    let d = ft_runtime::shape::wrap_dim("value_selecting_reduction_backward", dim, sizes.len())?;
    let (g, idx) = if keepdim {
        (grad.clone(), indices.clone())
    } else {
        (ops::unsqueeze(grad, d as i64)?, ops::unsqueeze(indices, d as i64)?)
    };
    let mut along = vec![1i64; sizes.len()];
    along[d] = sizes[d];
    let positions = ops::view(&ops::arange(sizes[d])?, &along)?;
    let one_hot = to_dtype(&ops::eq(&positions, &idx)?, grad.dtype())?;
    ops::mul(&one_hot, &g)
}

/// `grad * alpha`, skipping the multiply when `alpha == 1`.
pub fn maybe_multiply(grad: &Tensor, alpha: Scalar) -> Result<Tensor> {
    if alpha.equals(1.0) {
        Ok(grad.clone())
    } else {
        ops::mul_scalar(grad, alpha)
    }
}

/// Sums `grad` down to `size` (undoing a broadcast): leading dims are summed
/// away, dims where `size` is 1 are summed with keepdim.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = ops::ones(&[2, 3, 4]).unwrap();
/// let s = frankentorch::autograd_helpers::sum_to(&g, &[3, 1]).unwrap();
/// assert_eq!(s.sizes(), &[3, 1]);
/// assert_eq!(s.to_vec::<f32>().unwrap(), vec![8.0; 3]);
/// ```
pub fn sum_to(grad: &Tensor, size: &[i64]) -> Result<Tensor> {
    let gsizes = grad.sizes();
    if size.len() > gsizes.len() {
        return Err(Error::shape(
            "sum_to",
            format!("cannot sum a gradient of shape {gsizes:?} to {size:?}"),
        ));
    }
    let lead = gsizes.len() - size.len();
    let mut dims: Vec<i64> = (0..lead as i64).collect();
    for (i, &s) in size.iter().enumerate() {
        let g = gsizes[lead + i] as i64;
        if s == 1 && g != 1 {
            dims.push((lead + i) as i64);
        } else if s != g {
            return Err(Error::shape(
                "sum_to",
                format!("cannot sum a gradient of shape {gsizes:?} to {size:?}"),
            ));
        }
    }
    if dims.is_empty() {
        return Ok(grad.clone());
    }
    let summed = ops::sum_dim(grad, Some(&dims), true)?;
    if lead == 0 {
        return Ok(summed);
    }
    ops::view(&summed, size)
}

/// Gradient of `sum.dim_IntList`: unsqueeze the reduced dims (unless
/// keepdim) and expand back to `sizes`.
pub fn sum_backward(grad: &Tensor, sizes: &[i64], dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let ndim = sizes.len();
    let all: Vec<i64> = (0..ndim as i64).collect();
    let dims = match dims {
        Some(d) if !d.is_empty() => d,
        _ => &all,
    };
    let mut g = grad.clone();
    if !keepdim && ndim > 0 {
        let mut wrapped = ft_runtime::shape::wrap_dims("sum_backward", dims, ndim)?;
        wrapped.sort_unstable();
        for d in wrapped {
            g = ops::unsqueeze(&g, d as i64)?;
        }
    }
    ops::expand(&g, sizes)
}

/// Gradient of `mean.dim`: `sum_backward` divided by the number of reduced elements.
pub fn mean_backward(grad: &Tensor, sizes: &[i64], dims: Option<&[i64]>, numel: i64, keepdim: bool) -> Result<Tensor> {
    let count: i64 = match dims {
        Some(d) if !d.is_empty() => {
            let wrapped = ft_runtime::shape::wrap_dims("mean_backward", d, sizes.len())?;
            wrapped.iter().map(|&i| sizes.get(i).copied().unwrap_or(1)).product()
        }
        _ => numel,
    };
    let g = sum_backward(grad, sizes, dims, keepdim)?;
    ops::div_scalar(&g, Scalar::Int(count))
}

/// Gradient of `permute`: permutes back with the inverse order.
pub fn permute_backwards(grad: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let n = dims.len();
    let wrapped = ft_runtime::shape::wrap_dims("permute_backwards", dims, n)?;
    let mut inverse = vec![0i64; n];
    for (i, &d) in wrapped.iter().enumerate() {
        inverse[d] = i as i64;
    }
    ops::permute(grad, &inverse)
}

/// Gradient of `squeeze`: views the gradient back to the input's sizes.
pub fn unsqueeze_to(grad: &Tensor, sizes: &[i64]) -> Result<Tensor> {
    ops::reshape(grad, sizes)
}

/// Gradient of `squeeze.dim`: unsqueezes `dim` if the input had size 1 there.
pub fn unsqueeze_to_dim(grad: &Tensor, dim: i64, sizes: &[i64]) -> Result<Tensor> {
    if sizes.is_empty() {
        return Ok(grad.clone());
    }
    let d = ft_runtime::shape::wrap_dim("unsqueeze_to", dim, sizes.len())?;
    if sizes[d] == 1 {
        ops::unsqueeze(grad, d as i64)
    } else {
        Ok(grad.clone())
    }
}

/// `self.to(dtype)`: a cast, or `self` itself when the dtype already matches.
pub fn to_dtype(t: &Tensor, dtype: DType) -> Result<Tensor> {
    if t.dtype() == dtype {
        return Ok(t.clone());
    }
    ops::_to_copy_full(t, Some(dtype), None, None, None, false, None)
}

/// The gradient `maximum`/`minimum` pass to one operand: `grad` where
/// `self` wins over `other` (or either is NaN), `grad / 2` where they tie and
/// `0` where `self < other` — PyTorch's
/// `where(self == other, grad / 2, grad).masked_fill_(self < other, 0)`.
/// `maximum` calls it as `(grad, self, other)` for `self`; `minimum` swaps
/// the operands.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![4.0f64, 4.0, 4.0], &[3]).unwrap();
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let b = Tensor::from_vec(vec![2.0f64], &[]).unwrap();
/// let r = frankentorch::autograd_helpers::max_split_backward(&g, &a, &b).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 2.0, 4.0]);
/// ```
pub fn max_split_backward(grad: &Tensor, self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    let dtype = grad.dtype();
    let loses = to_dtype(&ops::lt(self_, other)?, dtype)?;
    let ties = to_dtype(&ops::eq(self_, other)?, dtype)?;
    // 1 - loses - ties / 2: 1 where self wins, 1/2 on a tie, 0 where it loses.
    let drop = ops::add_full(&loses, &ties, 0.5)?;
    let keep = ops::add_scalar(&ops::neg(&drop)?, 1, 1)?;
    ops::mul(grad, &keep)
}

/// `self * self * self`, rounded once for float16/bfloat16 (computed in
/// float32, as PyTorch's `pow(self, 3)` does in its compute type).
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![2.0f64, -0.5], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::pow3(&t).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![8.0, -0.125]);
/// ```
pub fn pow3(self_: &Tensor) -> Result<Tensor> {
    let dtype = self_.dtype();
    let wide = match dtype {
        DType::F16 | DType::BF16 => to_dtype(self_, DType::F32)?,
        _ => self_.clone(),
    };
    let cube = ops::mul(&ops::mul(&wide, &wide)?, &wide)?;
    to_dtype(&cube, dtype)
}

/// `erf`'s gradient, `2/sqrt(pi) * exp(-self^2) * grad` (PyTorch's order of
/// operations, which matters for float16/bfloat16 rounding).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::erf_backward(&g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![std::f64::consts::FRAC_2_SQRT_PI]);
/// ```
pub fn erf_backward(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    let e = ops::exp(&ops::neg(&ops::mul(self_, self_)?)?)?;
    ops::mul(&ops::mul_scalar(&e, std::f64::consts::FRAC_2_SQRT_PI)?, grad)
}

/// `log2`'s gradient, `grad / (self * ln 2)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::log2_backward(&g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0 / std::f64::consts::LN_2]);
/// ```
pub fn log2_backward(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    ops::div(grad, &ops::mul_scalar(self_, std::f64::consts::LN_2)?)
}

/// `log10`'s gradient, `grad / (self * ln 10)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::log10_backward(&g, &x).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0 / std::f64::consts::LN_10]);
/// ```
pub fn log10_backward(grad: &Tensor, self_: &Tensor) -> Result<Tensor> {
    ops::div(grad, &ops::mul_scalar(self_, std::f64::consts::LN_10)?)
}

// ---- reduce-view family ----

/// Wrapped, sorted reduced dims of a `ndim`-dim input (`None` or empty: all).
fn reduced_dims(op: &str, dims: Option<&[i64]>, ndim: usize) -> Result<Vec<usize>> {
    let mut d = match dims {
        Some(d) if !d.is_empty() => ft_runtime::shape::wrap_dims(op, d, ndim)?,
        _ => (0..ndim).collect(),
    };
    d.retain(|&x| x < ndim);
    d.sort_unstable();
    Ok(d)
}

/// Re-inserts the reduced dims of a `keepdim = false` reduction as size 1,
/// so `t` broadcasts against the input again.
fn restore_reduced_dims(t: &Tensor, dims: &[usize], keepdim: bool) -> Result<Tensor> {
    let mut r = t.clone();
    if !keepdim {
        for &d in dims {
            r = ops::unsqueeze(&r, d as i64)?;
        }
    }
    Ok(r)
}

/// Gradient of `max()`/`min()`: `grad` split evenly among the elements equal
/// to the result (the NaN elements when the result is NaN).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0], &[3]).unwrap();
/// let v = ops::max(&x).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::autograd_helpers::evenly_distribute_backward(&g, &x, &v).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 0.5, 0.5]);
/// ```
pub fn evenly_distribute_backward(grad: &Tensor, input: &Tensor, value: &Tensor) -> Result<Tensor> {
    let is_nan = value.to_f64_vec().first().is_some_and(|v| v.is_nan());
    let mask = if is_nan {
        ops::ne(input, input)?
    } else {
        ops::eq(input, value)?
    };
    let mask = to_dtype(&mask, grad.dtype())?;
    let count = ops::sum(&mask)?;
    ops::mul(&ops::div(grad, &count)?, &mask)
}

/// Gradient of `amax`/`amin`: `grad` split evenly among the elements equal
/// to the extremum of their reduced slice.
pub fn amax_amin_backward(
    grad: &Tensor,
    self_: &Tensor,
    result: &Tensor,
    dim: &[i64],
    keepdim: bool,
) -> Result<Tensor> {
    let dims = reduced_dims("amax_amin_backward", Some(dim), self_.dim())?;
    let g = restore_reduced_dims(grad, &dims, keepdim)?;
    let r = restore_reduced_dims(result, &dims, keepdim)?;
    let mask = to_dtype(&ops::eq(self_, &r)?, grad.dtype())?;
    let di: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    let count = ops::sum_dim(&mask, Some(&di), true)?;
    ops::mul(&ops::div(&g, &count)?, &mask)
}

/// Whether any element of `t` is zero.
fn has_zero(t: &Tensor) -> bool {
    t.to_f64_vec().contains(&0.0)
}

/// For each element along the last dim, the product of all the others
/// (exclusive products from both sides, so zeros are handled exactly).
fn product_of_others_last(x: &Tensor) -> Result<Tensor> {
    let left = ops::cumprod(&ops::constant_pad_nd(x, &[1, -1], 1)?, -1)?;
    let shifted = ops::constant_pad_nd(x, &[-1, 1], 1)?;
    let right = ops::flip(&ops::cumprod(&ops::flip(&shifted, &[-1])?, -1)?, &[-1])?;
    ops::mul(&left, &right)
}

/// Gradient of `prod()`: `grad * result / self` without zeros; otherwise the
/// product of the other elements (PyTorch's zero-safe `prod_backward`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2.0f64, 0.0, 3.0], &[3]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = frankentorch::autograd_helpers::prod_backward(&g, &x, &ops::prod(&x).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 6.0, 0.0]);
/// ```
pub fn prod_backward(grad: &Tensor, self_: &Tensor, result: &Tensor) -> Result<Tensor> {
    let sizes = sizes_of(self_);
    if self_.numel() == 0 {
        return ops::expand(grad, &sizes);
    }
    if !has_zero(self_) {
        return ops::div(&ops::mul(&ops::expand(grad, &sizes)?, result)?, self_);
    }
    let flat = ops::reshape(self_, &[-1])?;
    let others = ops::reshape(&product_of_others_last(&flat)?, &sizes)?;
    ops::mul(grad, &others)
}

/// Gradient of `prod.dim_int`, zero-safe like [`prod_backward`].
pub fn prod_dim_backward(grad: &Tensor, self_: &Tensor, result: &Tensor, dim: i64, keepdim: bool) -> Result<Tensor> {
    if self_.dim() == 0 {
        return Ok(grad.clone());
    }
    let d = ft_runtime::shape::wrap_dim("prod_backward", dim, self_.dim())?;
    let g = restore_reduced_dims(grad, &[d], keepdim)?;
    if self_.numel() == 0 {
        return ops::expand(&g, &sizes_of(self_));
    }
    if !has_zero(self_) {
        let r = restore_reduced_dims(result, &[d], keepdim)?;
        return ops::div(&ops::mul(&g, &r)?, self_);
    }
    let last = self_.dim() as i64 - 1;
    let moved = ops::transpose(self_, d as i64, last)?;
    let others = ops::transpose(&product_of_others_last(&moved)?, d as i64, last)?;
    ops::mul(&g, &others)
}

/// Gradient of `var.correction`: `2 / (N - correction) * grad * (self - mean)`.
pub fn var_backward(
    grad: &Tensor,
    self_: &Tensor,
    dim: Option<&[i64]>,
    correction: Option<Scalar>,
    keepdim: bool,
) -> Result<Tensor> {
    let c = correction.map_or(1.0, |s| s.to_f64());
    let dims = reduced_dims("var_backward", dim, self_.dim())?;
    let n: usize = dims.iter().map(|&d| self_.sizes()[d]).product();
    let g = restore_reduced_dims(grad, &dims, keepdim)?;
    let di: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    let centered = ops::sub(self_, &ops::mean_dim(self_, Some(&di), true)?)?;
    ops::mul(&ops::mul_scalar(&g, 2.0 / (n as f64 - c))?, &centered)
}

/// Gradient of `var.dim`: [`var_backward`] with correction 1 (unbiased) or 0.
pub fn var_unbiased_backward(
    grad: &Tensor,
    self_: &Tensor,
    dim: Option<&[i64]>,
    unbiased: bool,
    keepdim: bool,
) -> Result<Tensor> {
    var_backward(grad, self_, dim, Some(Scalar::Int(i64::from(unbiased))), keepdim)
}

/// Gradient of `cumsum`: sums from the end, `flip(cumsum(flip(grad)))`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let r = frankentorch::autograd_helpers::reverse_cumsum(&g, 0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![6.0, 5.0, 3.0]);
/// ```
pub fn reverse_cumsum(grad: &Tensor, dim: i64) -> Result<Tensor> {
    if grad.dim() == 0 {
        return Ok(grad.clone());
    }
    ops::flip(&ops::cumsum(&ops::flip(grad, &[dim])?, dim)?, &[dim])
}

/// Gradient of `cumprod`: `reverse_cumsum(grad * result) / self` without
/// zeros; otherwise, exactly, `sum_{j >= k} grad_j * prod_{i <= j, i != k} self_i`.
pub fn cumprod_backward(grad: &Tensor, self_: &Tensor, dim: i64, result: &Tensor) -> Result<Tensor> {
    if self_.dim() == 0 || self_.numel() == 0 {
        return Ok(grad.clone());
    }
    if !has_zero(self_) {
        return ops::div(&reverse_cumsum(&ops::mul(grad, result)?, dim)?, self_);
    }
    let d = ft_runtime::shape::wrap_dim("cumprod_backward", dim, self_.dim())? as i64;
    let last = self_.dim() as i64 - 1;
    let x = ops::transpose(self_, d, last)?;
    let g = ops::transpose(grad, d, last)?;
    let n = x.sizes()[x.dim() - 1] as i64;
    let idx = ops::arange(n)?;
    let eye = to_dtype(&ops::eq(&ops::unsqueeze(&idx, 1)?, &idx)?, self_.dtype())?;
    // xk[.., k, i] = x_i, with x_k replaced by 1.
    let xk = ops::add(
        &ops::mul(&ops::unsqueeze(&x, -2)?, &ops::add_scalar(&ops::neg(&eye)?, 1, 1)?)?,
        &eye,
    )?;
    // p[.., k, j] = prod_{i <= j, i != k} x_i, kept for j >= k.
    let p = ops::mul(&ops::cumprod(&xk, -1)?, &ops::triu(&ops::ones_like(&eye)?, 0)?)?;
    let gi = ops::sum_dim(&ops::mul(&ops::unsqueeze(&g, -2)?, &p)?, Some(&[-1]), false)?;
    ops::transpose(&gi, d, last)
}

/// Gradient of `_softmax_backward_data` with respect to `output`:
/// `grad_output * grad - sum(output * grad_output) * grad - grad_output * sum(output * grad)`
/// (PyTorch's order of operations, which matters for float16/bfloat16).
pub fn softmax_double_backward(grad: &Tensor, grad_output: &Tensor, dim: i64, output: &Tensor) -> Result<Tensor> {
    let s1 = ops::sum_dim(&ops::mul(output, grad_output)?, Some(&[dim]), true)?;
    let s2 = ops::sum_dim(&ops::mul(output, grad)?, Some(&[dim]), true)?;
    let t = ops::sub(&ops::mul(grad_output, grad)?, &ops::mul(&s1, grad)?)?;
    ops::sub(&t, &ops::mul(grad_output, &s2)?)
}

/// Gradient of `_log_softmax_backward_data` with respect to `grad_output`:
/// `grad - sum(grad * exp(output), dim)`.
pub fn log_softmax_backward_data_grad(grad: &Tensor, output: &Tensor, dim: i64) -> Result<Tensor> {
    let s = ops::sum_dim(&ops::mul(grad, &ops::exp(output)?)?, Some(&[dim]), true)?;
    ops::sub(grad, &s)
}

/// Gradient of `_log_softmax_backward_data` with respect to `output`:
/// `-grad * exp(output) * sum(grad_output, dim)`.
pub fn log_softmax_double_backward(grad: &Tensor, grad_output: &Tensor, dim: i64, output: &Tensor) -> Result<Tensor> {
    let s = ops::sum_dim(grad_output, Some(&[dim]), true)?;
    ops::neg(&ops::mul(&ops::mul(grad, &ops::exp(output)?)?, &s)?)
}

/// Sizes, strides and storage offset of a strided view.
struct Geometry {
    sizes: Vec<i64>,
    strides: Vec<i64>,
    offset: i64,
}

impl Geometry {
    /// One past the largest storage offset reached (the offset itself when empty).
    fn extent(&self) -> i64 {
        if self.sizes.contains(&0) {
            return self.offset;
        }
        self.offset
            + self
                .sizes
                .iter()
                .zip(&self.strides)
                .map(|(s, st)| (s - 1) * st)
                .sum::<i64>()
            + 1
    }

    /// Whether no two elements share a storage position.
    fn non_overlapping(&self) -> bool {
        let mut dims: Vec<(i64, i64)> = self
            .sizes
            .iter()
            .zip(&self.strides)
            .filter(|(&s, _)| s > 1)
            .map(|(&s, &st)| (st, s))
            .collect();
        if self.sizes.contains(&0) {
            return true;
        }
        dims.sort_unstable();
        let mut reach = 0i64;
        for (st, s) in dims {
            if st <= reach {
                return false;
            }
            reach += (s - 1) * st;
        }
        true
    }
}

fn not_supported_overlap(op: &str, what: &str) -> Error {
    Error::not_supported(
        op,
        format!("the derivative of {op} is only implemented for non-overlapping {what} geometry"),
    )
}

/// Gradient of `as_strided`: scatters `grad` into a zero buffer standing
/// for the input's storage at the output's positions, then reads it at the
/// input's positions. The input must not overlap itself; output overlap is
/// supported for stride-0 (expanded) dims, whose gradient is summed first.
pub fn as_strided_backward(
    grad: &Tensor,
    input_sizes: &[i64],
    input_strides: &[i64],
    input_offset: i64,
    size: &[i64],
    stride: &[i64],
    storage_offset: Option<i64>,
) -> Result<Tensor> {
    const OP: &str = "aten::as_strided";
    let input = Geometry {
        sizes: input_sizes.to_vec(),
        strides: input_strides.to_vec(),
        offset: input_offset,
    };
    if !input.non_overlapping() {
        return Err(not_supported_overlap(OP, "input"));
    }
    let expanded: Vec<i64> = (0..size.len())
        .filter(|&d| stride[d] == 0 && size[d] > 1)
        .map(|d| d as i64)
        .collect();
    let g = if expanded.is_empty() {
        grad.clone()
    } else {
        ops::sum_dim(grad, Some(&expanded), true)?
    };
    let output = Geometry {
        sizes: sizes_of(&g),
        strides: stride.to_vec(),
        offset: storage_offset.unwrap_or(input.offset),
    };
    if !output.non_overlapping() {
        return Err(not_supported_overlap(OP, "output"));
    }
    let n = input.extent().max(output.extent());
    let buf = ops::zeros_full(&[n], Some(grad.dtype()), None, None, None)?;
    let filled = ops::as_strided_scatter(&buf, &g, &output.sizes, &output.strides, Some(output.offset))?;
    ops::as_strided(&filled, &input.sizes, &input.strides, Some(input.offset))
}

/// The checks shared by the `as_strided_scatter` gradients: a contiguous
/// `self` (so the result's layout is known) and a non-overlapping view.
fn check_scatter_geometry(self_: &Tensor, size: &[i64], stride: &[i64]) -> Result<()> {
    const OP: &str = "aten::as_strided_scatter";
    let view = Geometry {
        sizes: size.to_vec(),
        strides: stride.to_vec(),
        offset: 0,
    };
    if !self_.is_contiguous() {
        return Err(not_supported_overlap(OP, "contiguous self"));
    }
    if !view.non_overlapping() {
        return Err(not_supported_overlap(OP, "view"));
    }
    Ok(())
}

/// Gradient of `as_strided_scatter` for `self`: `grad` with the scattered view zeroed.
pub fn as_strided_scatter_self_backward(
    grad: &Tensor,
    self_: &Tensor,
    src: &Tensor,
    size: &[i64],
    stride: &[i64],
    storage_offset: Option<i64>,
) -> Result<Tensor> {
    check_scatter_geometry(self_, size, stride)?;
    let g = ops::clone_full(grad, Some(crate::MemoryFormat::Contiguous))?;
    ops::as_strided_scatter(
        &g,
        &ops::zeros_like(src)?,
        size,
        stride,
        Some(storage_offset.unwrap_or(0)),
    )
}

/// Gradient of `as_strided_scatter` for `src`: `grad` read through the scattered view.
pub fn as_strided_scatter_src_backward(
    grad: &Tensor,
    self_: &Tensor,
    size: &[i64],
    stride: &[i64],
    storage_offset: Option<i64>,
) -> Result<Tensor> {
    check_scatter_geometry(self_, size, stride)?;
    let g = ops::clone_full(grad, Some(crate::MemoryFormat::Contiguous))?;
    ops::as_strided(&g, size, stride, Some(storage_offset.unwrap_or(0)))
}

/// Gradient of `slice.Tensor`: `slice_backward` with absent bounds filled in.
pub fn slice_backward_wrapper(
    grad: &Tensor,
    input_sizes: &[i64],
    dim: i64,
    start: Option<i64>,
    end: Option<i64>,
    step: i64,
) -> Result<Tensor> {
    ops::slice_backward(
        grad,
        input_sizes,
        dim,
        start.unwrap_or(0),
        end.unwrap_or(i64::MAX),
        step,
    )
}

/// Gradient of `repeat`: views the gradient as (repeat, size) pairs per dim
/// and sums the repeat dims away.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]).unwrap();
/// let r = frankentorch::autograd_helpers::repeat_backward(&g, &[2], &[2]).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![4.0, 6.0]);
/// ```
pub fn repeat_backward(grad: &Tensor, repeats: &[i64], input_sizes: &[i64]) -> Result<Tensor> {
    let lead = repeats.len() - input_sizes.len();
    let mut split = Vec::with_capacity(2 * repeats.len());
    let mut sum_dims = Vec::with_capacity(repeats.len());
    for (i, &r) in repeats.iter().enumerate() {
        let s = if i < lead { 1 } else { input_sizes[i - lead] };
        sum_dims.push(split.len() as i64);
        split.push(r);
        split.push(s);
    }
    if split.is_empty() {
        return Ok(grad.clone());
    }
    let summed = ops::sum_dim(&ops::reshape(grad, &split)?, Some(&sum_dims), false)?;
    ops::reshape(&summed, input_sizes)
}

/// Gradient of `constant_pad_nd`: pads the gradient with the negated pads (cropping it back).
pub fn constant_pad_nd_backward(grad: &Tensor, pad: &[i64]) -> Result<Tensor> {
    let neg: Vec<i64> = pad.iter().map(|&p| -p).collect();
    ops::constant_pad_nd(grad, &neg, 0)
}

// ---- index family ----

/// A zero tensor of `sizes` with `like`'s dtype.
fn zeros_of(sizes: &[i64], like: &Tensor) -> Result<Tensor> {
    ops::zeros_full(sizes, Some(like.dtype()), None, None, None)
}

/// Gradient of `index_select`: `grad`'s slices summed back into a zero
/// tensor of `sizes` at the positions `index` names along `dim` (PyTorch's
/// `zeros(sizes).index_add_(dim, index, grad)`, here as a `scatter_add` of the
/// index broadcast along the other dims).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let i = Tensor::from_vec(vec![1i64, 1, 0], &[3]).unwrap();
/// let r = frankentorch::autograd_helpers::index_select_backward(&g, &[2], 0, &i).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 3.0]);
/// ```
pub fn index_select_backward(grad: &Tensor, sizes: &[i64], dim: i64, index: &Tensor) -> Result<Tensor> {
    let zeros = zeros_of(sizes, grad)?;
    if sizes.is_empty() {
        return ops::scatter_add(&zeros, dim, &ops::reshape(index, &[])?, grad);
    }
    let d = ft_runtime::shape::wrap_dim("index_select_backward", dim, sizes.len())?;
    let mut shape = vec![1i64; sizes.len()];
    shape[d] = index.numel() as i64;
    let expanded = ops::expand(&ops::reshape(index, &shape)?, &sizes_of(grad))?;
    ops::scatter_add(&zeros, dim, &expanded, grad)
}

/// Gradient of `gather`: `grad` added into a zero tensor of `sizes` at the
/// positions `index` names along `dim` (PyTorch's `gather_backward`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::gather_backward(&g, &[3], 0, &i).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 0.0, 0.0]);
/// ```
pub fn gather_backward(grad: &Tensor, sizes: &[i64], dim: i64, index: &Tensor) -> Result<Tensor> {
    ops::scatter_add(&zeros_of(sizes, grad)?, dim, index, grad)
}

/// `mask` (bool) as 0/1 in `like`'s dtype.
fn as_float(mask: &Tensor, like: &Tensor) -> Result<Tensor> {
    to_dtype(mask, like.dtype())
}

/// `a` where `mask` else `b`, for finite `a` and `b` (`mask` is 0/1 in their dtype).
fn blend(mask: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    // b + mask * (a - b)
    ops::add(b, &ops::mul(mask, &ops::sub(a, b)?)?)
}

/// The gradients of `scatter_reduce.two` for (`self`, `src`), PyTorch's
/// `scatter_reduce_backward`: "sum" passes `grad` through; "mean" divides by
/// the contribution count; "prod" divides the product by each factor (with
/// the single-zero case handled by recomputing without that factor);
/// "amax"/"amin" share `grad` evenly among the elements equal to the result.
/// Without `include_self`, scattered-to positions give `self` no gradient.
#[allow(clippy::too_many_arguments)]
fn scatter_reduce_grads(
    grad: &Tensor,
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    reduce: &str,
    include_self: bool,
    result: &Tensor,
) -> Result<(Tensor, Tensor)> {
    let (grad_self, grad_src) = match reduce {
        "sum" => (grad.clone(), ops::gather(grad, dim, index)?),
        "mean" => {
            let start = if include_self {
                ops::ones_like(grad)?
            } else {
                ops::zeros_like(grad)?
            };
            let n = ops::scatter_add(&start, dim, index, &ops::ones_like(src)?)?;
            let n = ops::add(&n, &as_float(&ops::eq_scalar(&n, 0)?, &n)?)?;
            let g = ops::div(grad, &n)?;
            let gs = ops::gather(&g, dim, index)?;
            (g, gs)
        }
        "prod" => prod_grads(grad, self_, dim, index, src, include_self, result)?,
        "amax" | "amin" => {
            let value = ops::gather(result, dim, index)?;
            let self_is = as_float(&ops::eq(self_, result)?, grad)?;
            let src_is = as_float(&ops::eq(src, &value)?, grad)?;
            let n = ops::scatter_add(&self_is, dim, index, &src_is)?;
            let g = ops::div(grad, &n)?;
            (
                ops::mul(&self_is, &g)?,
                ops::mul(&src_is, &ops::gather(&g, dim, index)?)?,
            )
        }
        other => {
            return Err(Error::invalid(
                "aten::scatter_reduce.two",
                format!("Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got {other}."),
            ))
        }
    };
    let grad_self = if include_self {
        grad_self
    } else {
        ops::scatter_value(&grad_self, dim, index, 0)?
    };
    Ok((grad_self, grad_src))
}

/// The "prod" case of [`scatter_reduce_grads`].
fn prod_grads(
    grad: &Tensor,
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    include_self: bool,
    result: &Tensor,
) -> Result<(Tensor, Tensor)> {
    // self: grad * prod(others) = grad * (result with self's zeros replaced by 1) / masked self
    let masked_self = ops::add(self_, &as_float(&ops::eq_scalar(self_, 0)?, self_)?)?;
    let masked_self_result = ops::scatter_reduce_full(&masked_self, dim, index, src, "prod", include_self)?;
    let grad_self = ops::div(&ops::mul(grad, &masked_self_result)?, &masked_self)?;
    // src: a single zero factor in its group is recomputed without it.
    let src_zero = as_float(&ops::eq_scalar(src, 0)?, src)?;
    let zeros_per_group = ops::gather(
        &ops::scatter_add(&ops::zeros_like(self_)?, dim, index, &src_zero)?,
        dim,
        index,
    )?;
    let single_zero = ops::mul(&src_zero, &as_float(&ops::eq_scalar(&zeros_per_group, 1)?, src)?)?;
    let masked_src = ops::add(src, &single_zero)?;
    let masked_src_result = ops::scatter_reduce_full(self_, dim, index, &masked_src, "prod", include_self)?;
    let with_zero = ops::gather(&ops::mul(grad, &masked_src_result)?, dim, index)?;
    let without = ops::div(
        &ops::gather(&ops::mul(grad, result)?, dim, index)?,
        &ops::add(src, &src_zero)?,
    )?;
    Ok((grad_self, blend(&single_zero, &with_zero, &without)?))
}

/// The `self` gradient of `scatter_reduce.two` (see [`scatter_reduce_grads`]).
#[allow(clippy::too_many_arguments)]
pub fn scatter_reduce_backward_self(
    grad: &Tensor,
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    reduce: &str,
    include_self: bool,
    result: &Tensor,
) -> Result<Tensor> {
    Ok(scatter_reduce_grads(grad, self_, dim, index, src, reduce, include_self, result)?.0)
}

/// The `src` gradient of `scatter_reduce.two` (see [`scatter_reduce_grads`]).
#[allow(clippy::too_many_arguments)]
pub fn scatter_reduce_backward_src(
    grad: &Tensor,
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    reduce: &str,
    include_self: bool,
    result: &Tensor,
) -> Result<Tensor> {
    Ok(scatter_reduce_grads(grad, self_, dim, index, src, reduce, include_self, result)?.1)
}

/// Gradient of `index.Tensor`: `grad` added into a zero tensor of `sizes`
/// at the indexed positions (PyTorch's `index_backward`, an accumulating
/// `index_put`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let i = Tensor::from_vec(vec![1i64, 1], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::index_backward(&g, &[3], &[Some(i)]).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 3.0, 0.0]);
/// ```
pub fn index_backward(grad: &Tensor, sizes: &[i64], indices: &[Option<Tensor>]) -> Result<Tensor> {
    ops::index_put(&zeros_of(sizes, grad)?, indices, grad, true)
}

/// The `self` gradient of `index_put`: `grad` itself when accumulating,
/// otherwise `grad` with the overwritten positions zeroed.
pub fn index_put_backward_self(
    grad: &Tensor,
    indices: &[Option<Tensor>],
    values_sizes: &[i64],
    accumulate: bool,
) -> Result<Tensor> {
    if accumulate {
        return Ok(grad.clone());
    }
    ops::index_put(grad, indices, &zeros_of(values_sizes, grad)?, false)
}

/// The `source` gradient of `masked_scatter`: the elements of `grad` where
/// `mask` is true, in row-major order, padded with zeros to `sizes`
/// (PyTorch's `masked_scatter_backward`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let m = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
/// let r = frankentorch::autograd_helpers::masked_scatter_backward(&g, &m, &[2, 2]).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0, 3.0, 0.0, 0.0]);
/// ```
pub fn masked_scatter_backward(grad: &Tensor, mask: &Tensor, sizes: &[i64]) -> Result<Tensor> {
    let flat_mask = ops::reshape(&ops::expand(mask, &sizes_of(grad))?, &[-1])?;
    let selected = ops::index(&ops::reshape(grad, &[-1])?, &[Some(flat_mask)])?;
    let numel: i64 = sizes.iter().product();
    let count = selected.numel() as i64;
    let flat = if count == numel {
        selected
    } else {
        let positions = ops::arange(count)?;
        ops::scatter(&zeros_of(&[numel], grad)?, 0, &positions, &selected)?
    };
    ops::reshape(&flat, sizes)
}

/// Gradient of `cat` for each input: the slice of `grad` along `dim` that
/// input filled (an empty gradient for the 1-D empty inputs `cat` skips).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let a = Tensor::from_vec(vec![0.0f64; 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let gs = frankentorch::autograd_helpers::cat_tensors_backward(&g, &[a, b], 0).unwrap();
/// assert_eq!(gs[1].to_vec::<f64>().unwrap(), vec![3.0]);
/// ```
pub fn cat_tensors_backward(grad: &Tensor, tensors: &[Tensor], dim: i64) -> Result<Vec<Tensor>> {
    let skipped = |t: &Tensor| t.sizes() == [0];
    let Some(first) = tensors.iter().find(|t| !skipped(t)) else {
        return tensors.iter().map(|_| zeros_of(&[0], grad)).collect();
    };
    let d = ft_runtime::shape::wrap_dim("aten::cat", dim, first.dim())?;
    let sizes: Vec<i64> = tensors
        .iter()
        .filter(|t| !skipped(t))
        .map(|t| t.sizes()[d] as i64)
        .collect();
    let mut pieces = ops::split_with_sizes(grad, &sizes, d as i64)?.into_iter();
    tensors
        .iter()
        .map(|t| match skipped(t) {
            true => zeros_of(&[0], grad),
            false => pieces
                .next()
                .ok_or_else(|| Error::shape("aten::cat", "gradient has too few slices")),
        })
        .collect()
}

/// Gradient of ops that pick values along `dim` without reducing it
/// (`sort`, `topk`): `grad` scattered back to the positions in `indices`
/// within a zero tensor of `sizes` (PyTorch's
/// `value_selecting_reduction_backward` with `keepdim = true`, a `scatter`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::values_backward(&g, 0, &i, &[3]).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 0.0, 1.0]);
/// ```
pub fn values_backward(grad: &Tensor, dim: i64, indices: &Tensor, sizes: &[i64]) -> Result<Tensor> {
    ops::scatter(&zeros_of(sizes, grad)?, dim, indices, grad)
}

pub use crate::pointwise_helpers::*;

/// The gradient of `_adaptive_avg_pool{k}d_backward` with respect to its
/// `grad_output` (of sizes `sizes`): `grad` adaptively pooled to the last `k`
/// of those sizes (the backward op is linear in `grad_output`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 2, 2]).unwrap();
/// let r = frankentorch::autograd_helpers::adaptive_avg_pool_double_backward(&g, &[1, 1, 1], 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.5]);
/// ```
pub fn adaptive_avg_pool_double_backward(grad: &Tensor, sizes: &[i64], k: i64) -> Result<Tensor> {
    let op = "adaptive_avg_pool_double_backward";
    if k < 0 || sizes.len() < k as usize {
        return Err(Error::invalid(
            op,
            format!("cannot take the last {k} of sizes {sizes:?}"),
        ));
    }
    let out = &sizes[sizes.len() - k as usize..];
    match k {
        2 => ops::_adaptive_avg_pool2d(grad, out),
        3 => ops::_adaptive_avg_pool3d(grad, out),
        _ => Err(Error::invalid(
            op,
            format!("adaptive pooling has 2 or 3 spatial dims, not {k}"),
        )),
    }
}

/// The gradient of `embedding` with respect to `weight` (of sizes
/// `weight_sizes`): `embedding_dense_backward`, or an error for `sparse`
/// gradients (FrankenTorch has no sparse tensors).
pub fn embedding_backward(
    grad: &Tensor,
    indices: &Tensor,
    weight_sizes: &[i64],
    padding_idx: i64,
    scale_grad_by_freq: bool,
    sparse: bool,
) -> Result<Tensor> {
    if sparse {
        return Err(Error::not_supported(
            "aten::embedding_backward",
            "sparse gradients (sparse=True) need sparse tensors, which FrankenTorch does not have",
        ));
    }
    let rows = weight_sizes.first().copied().unwrap_or(0);
    ops::embedding_dense_backward(grad, indices, rows, padding_idx, scale_grad_by_freq)
}

/// The gradient of `embedding_dense_backward` with respect to its
/// `grad_output`: the rows of `grad` picked by `indices`, zero where the
/// index is `padding_idx` (like PyTorch, `scale_grad_by_freq` is not applied).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3, 1]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::embedding_dense_double_backward(&g, &i, 0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 0.0]);
/// ```
pub fn embedding_dense_double_backward(grad: &Tensor, indices: &Tensor, padding_idx: i64) -> Result<Tensor> {
    let rows = ops::embedding(grad, indices, -1, false, false)?;
    let keep = to_dtype(&ops::ne_scalar(indices, padding_idx)?, grad.dtype())?;
    ops::mul(&rows, &ops::unsqueeze(&keep, -1)?)
}

/// The gradient of `im2col` with respect to an input of sizes `input_sizes`:
/// `col2im` of `grad` to the input's last two sizes.
pub fn im2col_backward(
    grad: &Tensor,
    input_sizes: &[i64],
    kernel_size: &[i64],
    dilation: &[i64],
    padding: &[i64],
    stride: &[i64],
) -> Result<Tensor> {
    if input_sizes.len() < 2 {
        return Err(Error::invalid(
            "im2col_backward",
            format!("input sizes {input_sizes:?} have no 2 spatial dims"),
        ));
    }
    let spatial = &input_sizes[input_sizes.len() - 2..];
    ops::col2im(grad, spatial, kernel_size, dilation, padding, stride)
}

/// `convolution`'s gradients (input, weight, bias), for the entries of
/// `output_mask` that are set, computed by the `convolution_backward` kernel.
///
/// Not differentiable again: `aten::convolution_backward` is not a declared
/// op yet (its `bool[3] output_mask` cannot be written in schema samples),
/// so its result has no history and double backward through a convolution
/// is not available.
#[allow(clippy::too_many_arguments)]
pub fn convolution_backward_no_bias_sizes(
    grad: &Tensor,
    input: &Tensor,
    weight: &Tensor,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    ft_kernels::nn::conv::convolution_backward(
        grad,
        input,
        weight,
        None,
        stride,
        padding,
        dilation,
        transposed,
        output_padding,
        groups,
        output_mask,
    )
}

/// The gradient of `max_pool{k}d_with_indices_backward` with respect to its
/// `grad_output`: `grad` (shaped like the pooled input) read at `indices`
/// (positions within each input plane of the last `k` dims), shaped like
/// `indices`.
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 2, 2]).unwrap();
/// let i = Tensor::from_vec(vec![3i64], &[1, 1, 1]).unwrap();
/// let r = frankentorch::autograd_helpers::max_pool_double_backward(&g, &i, 2).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![4.0]);
/// ```
pub fn max_pool_double_backward(grad: &Tensor, indices: &Tensor, k: i64) -> Result<Tensor> {
    let op = "max_pool_double_backward";
    let k = k as usize;
    if grad.dim() < k || indices.dim() != grad.dim() {
        return Err(Error::shape(
            op,
            "grad and indices must have the same number of dims (at least k)",
        ));
    }
    let lead = grad.dim() - k;
    let planes: usize = grad.sizes()[..lead].iter().product();
    let plane_in: usize = grad.sizes()[lead..].iter().product();
    let plane_out: usize = indices.sizes()[lead..].iter().product();
    let flat_idx = ops::reshape(indices, &[planes as i64, plane_out as i64])?;
    let starts = ops::mul_scalar(
        &ops::arange_full(planes as i64, Some(DType::I64), None, None, None)?,
        plane_in as i64,
    )?;
    let global = ops::add(&flat_idx, &ops::view(&starts, &[planes as i64, 1])?)?;
    let rows = ops::reshape(grad, &[(planes * plane_in) as i64, 1])?;
    let picked = ops::embedding(&rows, &global, -1, false, false)?;
    ops::reshape(&picked, &sizes_of(indices))
}

/// `native_layer_norm`'s gradients (input, weight, bias) from the saved mean
/// and rstd, by the `native_layer_norm_backward` kernel. Not differentiable
/// again (that op's `bool[3] output_mask` cannot be written in schema
/// samples yet, so it is not a declared op).
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward_of(
    grad: &Tensor,
    input: &Tensor,
    normalized_shape: &[i64],
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    ft_kernels::nn::norm::native_layer_norm_backward(
        grad,
        input,
        normalized_shape,
        mean,
        rstd,
        weight,
        None,
        output_mask,
    )
}

/// `native_group_norm`'s gradients (input, weight, bias) by the
/// `native_group_norm_backward` kernel, plus, as in PyTorch, the input
/// gradient flowing through its `mean` and `rstd` results (upstream
/// gradients `grad_mean`, `grad_rstd`). Not differentiable again.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_backward_of(
    grad: &Tensor,
    grad_mean: &Tensor,
    grad_rstd: &Tensor,
    input: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    n: i64,
    c: i64,
    hxw: i64,
    group: i64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    use ft_kernels::nn::norm;
    let (gi, gw, gb) =
        norm::native_group_norm_backward(grad, input, mean, rstd, weight, n, c, hxw, group, output_mask)?;
    if !output_mask.first().copied().unwrap_or(true) {
        return Ok((gi, gw, gb));
    }
    let through_stats = norm::group_norm_stats_backward(grad_mean, grad_rstd, input, mean, rstd, n, c, hxw, group)?;
    Ok((ft_kernels::binary::add(&gi, &through_stats, Scalar::Int(1))?, gw, gb))
}

/// Batch norm's gradients (input, weight, bias) in training mode, from the
/// saved batch mean and inverse std (not differentiable again).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train_backward_of(
    grad: &Tensor,
    input: &Tensor,
    weight: Option<&Tensor>,
    save_mean: &Tensor,
    save_invstd: &Tensor,
    eps: f64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    ft_kernels::nn::norm::batch_norm_backward(
        grad,
        input,
        weight,
        None,
        None,
        Some(save_mean),
        Some(save_invstd),
        true,
        eps,
        output_mask,
    )
}

/// The gradient of `native_dropout` with respect to its input, as PyTorch's
/// formula writes it: `native_dropout_backward(grad, mask, scale)` where the
/// scale is `1 / (1 - p)` (0 when p = 1) if `train` is `Some(true)` and 1
/// otherwise (PyTorch's formula uses 1 for `train = None` although the
/// forward pass scales by `1 / (1 - p)` then).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let m = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let r = frankentorch::autograd_helpers::native_dropout_grad(&g, &m, 0.5, Some(true)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 0.0]);
/// ```
pub fn native_dropout_grad(grad: &Tensor, mask: &Tensor, p: f64, train: Option<bool>) -> Result<Tensor> {
    let scale = match train {
        Some(true) if p == 1.0 => 0.0,
        Some(true) => 1.0 / (1.0 - p),
        _ => 1.0,
    };
    crate::ops::native_dropout_backward(grad, mask, scale)
}

/// `t` with zeros where `mask` holds (PyTorch's `masked_fill_(mask, 0)` in its formulas).
fn zero_where(t: &Tensor, mask: &Tensor) -> Result<Tensor> {
    ops::masked_fill(t, mask, 0.0)
}

/// Gradient of `std.correction`: [`var_backward`] of `grad / (2 * result)`,
/// taking 0 where the standard deviation is 0 (PyTorch's subgradient there).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2.0f64, 2.0, 2.0], &[3]).unwrap();
/// let r = ops::std(&x, None).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let dx = frankentorch::autograd_helpers::std_backward(&r, &g, &x, None, None, false).unwrap();
/// assert_eq!(dx.to_vec::<f64>().unwrap(), vec![0.0; 3]);
/// ```
pub fn std_backward(
    result: &Tensor,
    grad: &Tensor,
    self_: &Tensor,
    dim: Option<&[i64]>,
    correction: Option<Scalar>,
    keepdim: bool,
) -> Result<Tensor> {
    let scaled = ops::div(grad, &ops::mul_scalar(result, 2.0)?)?;
    let g = zero_where(&scaled, &ops::eq_scalar(result, 0.0)?)?;
    var_backward(&g, self_, dim, correction, keepdim)
}

/// Gradient of the `p`-norm over `dim` (empty: all dims), with PyTorch's
/// subgradient 0 where the norm (or, for `p < 1`, the element) is 0; the
/// infinity norms split the gradient evenly among the elements of largest
/// (smallest) magnitude.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let n = ops::norm(&x, None, &[0], false).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let dx = frankentorch::autograd_helpers::norm_backward(&g, &x, None, &n, &[0], false).unwrap();
/// assert_eq!(dx.to_vec::<f64>().unwrap(), vec![0.0, 0.0]);
/// ```
pub fn norm_backward(
    grad: &Tensor,
    self_: &Tensor,
    p: Option<Scalar>,
    result: &Tensor,
    dim: &[i64],
    keepdim: bool,
) -> Result<Tensor> {
    let p = p.map_or(2.0, |s| s.to_f64());
    let dims = reduced_dims("norm_backward", Some(dim), self_.dim())?;
    let g = restore_reduced_dims(grad, &dims, keepdim)?;
    let norm = restore_reduced_dims(result, &dims, keepdim)?;
    let norm_is_zero = ops::eq_scalar(&norm, 0.0)?;
    if p == 0.0 {
        return ops::zeros_like(self_);
    }
    if p == 1.0 {
        return ops::mul(&ops::sign(self_)?, &g);
    }
    if p == 2.0 {
        return ops::mul(&g, &zero_where(&ops::div(self_, &norm)?, &norm_is_zero)?);
    }
    if p.is_infinite() {
        let at_norm = to_dtype(&ops::eq(&ops::abs(self_)?, &norm)?, self_.dtype())?;
        let di: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        let count = ops::sum_dim(&at_norm, Some(&di), true)?;
        let share = ops::mul(&ops::sign(self_)?, &at_norm)?;
        return ops::mul(&share, &ops::div(&g, &count)?);
    }
    let abs = ops::abs(self_)?;
    if p < 1.0 {
        let scaled = zero_where(&ops::pow_tensor_scalar(&abs, p - 1.0)?, &ops::eq_scalar(self_, 0.0)?)?;
        let self_part = ops::mul(&ops::sign(self_)?, &scaled)?;
        return ops::mul(&self_part, &ops::mul(&g, &ops::pow_tensor_scalar(&norm, 1.0 - p)?)?);
    }
    let self_part = if p < 2.0 {
        ops::mul(&ops::sign(self_)?, &ops::pow_tensor_scalar(&abs, p - 1.0)?)?
    } else {
        ops::mul(self_, &ops::pow_tensor_scalar(&abs, p - 2.0)?)?
    };
    let scale = zero_where(&ops::div(&g, &ops::pow_tensor_scalar(&norm, p - 1.0)?)?, &norm_is_zero)?;
    ops::mul(&self_part, &scale)
}

/// Gradient of `norm.Scalar` (the `p`-norm of all elements): [`norm_backward`] over every dim.
pub fn norm_backward_all(grad: &Tensor, self_: &Tensor, p: Scalar, result: &Tensor) -> Result<Tensor> {
    norm_backward(grad, self_, Some(p), result, &[], false)
}

/// `grad * (1 - weight)` with `1 - weight` computed as a number (the gradient
/// of `lerp.Scalar` with respect to `self`).
///
/// ```
/// use frankentorch::prelude::*;
/// let g = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let r = frankentorch::autograd_helpers::one_minus_times(&g, Scalar::Float(0.25)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.5]);
/// ```
pub fn one_minus_times(grad: &Tensor, weight: Scalar) -> Result<Tensor> {
    ops::mul_scalar(grad, 1.0 - weight.to_f64())
}

/// Batch norm's gradients (input, weight, bias) in evaluation mode, where the
/// running statistics are constants: `grad * weight * invstd`,
/// `sum(grad * (input - running_mean) * invstd)` and `sum(grad)` per channel,
/// with `invstd = 1 / sqrt(running_var + eps)` (not differentiable again).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[2, 1]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2, 1]).unwrap();
/// let m = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let v = Tensor::from_vec(vec![4.0f64], &[1]).unwrap();
/// let (gi, gw, gb) =
///     frankentorch::autograd_helpers::batch_norm_eval_backward_of(&g, &x, None, &m, &v, 0.0, &[true, true, true]).unwrap();
/// assert_eq!(gi.to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
/// assert_eq!((gw.to_vec::<f64>().unwrap(), gb.to_vec::<f64>().unwrap()), (vec![1.0], vec![2.0]));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_eval_backward_of(
    grad: &Tensor,
    input: &Tensor,
    weight: Option<&Tensor>,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    ft_kernels::nn::norm::batch_norm_backward(
        grad,
        input,
        weight,
        Some(running_mean),
        Some(running_var),
        None,
        None,
        false,
        eps,
        output_mask,
    )
}

/// `_native_batch_norm_legit`'s gradients (input, weight, bias): from the
/// saved batch statistics in `training`, otherwise from the running
/// statistics (see [`batch_norm_eval_backward_of`]). Not differentiable again.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward_of(
    grad: &Tensor,
    input: &Tensor,
    weight: Option<&Tensor>,
    running_mean: &Tensor,
    running_var: &Tensor,
    save_mean: &Tensor,
    save_invstd: &Tensor,
    training: bool,
    eps: f64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    if training {
        batch_norm_train_backward_of(grad, input, weight, save_mean, save_invstd, eps, output_mask)
    } else {
        batch_norm_eval_backward_of(grad, input, weight, running_mean, running_var, eps, output_mask)
    }
}

/// The gradient of `_embedding_bag` with respect to its weight (of sizes
/// `weight_sizes`), from the output gradient and the forward's `max_indices`
/// (dense only: `sparse` is an error). Not differentiable again.
#[allow(clippy::too_many_arguments)]
pub fn embedding_bag_backward_of(
    grad: &Tensor,
    indices: &Tensor,
    offsets: &Tensor,
    max_indices: &Tensor,
    weight_sizes: &[i64],
    scale_grad_by_freq: bool,
    mode: i64,
    sparse: bool,
    per_sample_weights: Option<&Tensor>,
    include_last_offset: bool,
    padding_idx: i64,
) -> Result<Tensor> {
    let rows = weight_sizes.first().copied().unwrap_or(0).max(0) as usize;
    ft_kernels::nn::embedding_bag::embedding_bag_weight_backward(
        grad,
        indices,
        offsets,
        max_indices,
        rows,
        scale_grad_by_freq,
        mode,
        sparse,
        per_sample_weights,
        include_last_offset,
        padding_idx,
    )
}

/// The gradient of `_embedding_bag` (sum mode) with respect to its
/// `per_sample_weights`: each index's bag gradient dotted with its weight
/// row. Not differentiable again.
pub fn embedding_bag_per_sample_weights_backward_of(
    grad: &Tensor,
    weight: &Tensor,
    indices: &Tensor,
    offsets: &Tensor,
    mode: i64,
    include_last_offset: bool,
    padding_idx: i64,
) -> Result<Tensor> {
    ft_kernels::nn::embedding_bag::embedding_bag_per_sample_weights_backward(
        grad,
        weight,
        indices,
        offsets,
        mode,
        include_last_offset,
        padding_idx,
    )
}

/// `grid_sampler_2d`'s gradients (input, grid) for the entries of
/// `output_mask` that are set, by the `grid_sampler_2d_backward` kernel. Not
/// differentiable again.
pub fn grid_sampler_2d_backward_of(
    grad: &Tensor,
    input: &Tensor,
    grid: &Tensor,
    interpolation_mode: i64,
    padding_mode: i64,
    align_corners: bool,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor)> {
    ft_kernels::nn::grid_sample::grid_sampler_2d_backward(
        grad,
        input,
        grid,
        interpolation_mode,
        padding_mode,
        align_corners,
        output_mask,
    )
}

pub use crate::activation_helpers::*;

/// Backward-formula helpers of the loss family.
pub use crate::composite_loss::{
    bce_double_backward, bce_double_backward_grad_output, bce_double_backward_target, bce_logits_backward,
    bce_logits_target_backward, bce_target_backward, huber_double_backward, scaled_by_reduction,
    smooth_l1_double_backward,
};
