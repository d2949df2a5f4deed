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
