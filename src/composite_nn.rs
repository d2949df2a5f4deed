//! The CompositeImplicitAutograd layer operators of `torch.nn.functional`:
//! `conv1d`/`conv2d` (and their `.padding` string overloads),
//! `conv_transpose1d`/`conv_transpose2d`, the 1-D and 2-D pooling entry
//! points, `batch_norm`, `layer_norm`, `group_norm`, `instance_norm`,
//! `rms_norm`. Each checks its arguments as PyTorch does and calls the
//! operators PyTorch calls (`convolution`, `max_pool2d_with_indices`,
//! `native_batch_norm` …), so autograd flows through them.

use crate::autograd_helpers::to_dtype;
use crate::composite::renamed;
use crate::ops;
use crate::{DType, Error, ErrorKind, Result, Tensor};

/// `[a, b, c]`, PyTorch's spelling of a size list in messages.
fn fmt_sizes(sizes: &[usize]) -> String {
    let parts: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// PyTorch's `batchify`: accepts `spatial + 1` (unbatched) or `spatial + 2`
/// (batched) dims; returns the batched input and whether it was batched.
fn batchify(op: &'static str, input: &Tensor, spatial: usize, name: &str) -> Result<(Tensor, bool)> {
    let d = input.dim();
    if d == spatial + 2 {
        return Ok((input.clone(), true));
    }
    if d != spatial + 1 {
        return Err(Error::shape(
            op,
            format!(
                "Expected {}D (unbatched) or {}D (batched) input to {name}, but got input of size: {}",
                spatial + 1,
                spatial + 2,
                fmt_sizes(input.sizes())
            ),
        ));
    }
    Ok((ops::unsqueeze(input, 0)?, false))
}

/// Undoes [`batchify`] on the result.
fn unbatchify(out: Tensor, batched: bool) -> Result<Tensor> {
    if batched {
        Ok(out)
    } else {
        ops::squeeze_dim(&out, 0)
    }
}

/// PyTorch's check that a bias has the input's dtype (conv entry points).
fn check_bias_dtype(op: &'static str, input: &Tensor, bias: Option<&Tensor>) -> Result<()> {
    match bias {
        Some(b) if b.dtype() != input.dtype() => Err(Error::dtype(
            op,
            format!(
                "Input type ({}) and bias type ({}) should be the same",
                input.dtype(),
                b.dtype()
            ),
        )),
        _ => Ok(()),
    }
}

/// A (possibly unbatched) convolution with numeric padding.
#[allow(clippy::too_many_arguments)]
fn conv_nd(
    op: &'static str,
    spatial: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    check_bias_dtype(op, input, bias)?;
    let name = &op["aten::".len()..];
    let (x, batched) = batchify(op, input, spatial, name)?;
    let out =
        ops::convolution(&x, weight, bias, stride, padding, dilation, false, &[0], groups).map_err(renamed(op))?;
    unbatchify(out, batched)
}

/// `aten::conv1d`: 1-D convolution of `[N, C, L]` (or unbatched `[C, L]`)
/// input through [`ops::convolution`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 2, 5]).unwrap();
/// let w = ops::ones(&[3, 2, 2]).unwrap();
/// assert_eq!(ops::conv1d(&x, &w, None, &[1], &[0], &[1], 1).unwrap().sizes(), &[1, 3, 4]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    conv_nd(
        "aten::conv1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
    )
}

/// `aten::conv2d`: 2-D convolution of `[N, C, H, W]` (or unbatched
/// `[C, H, W]`) input through [`ops::convolution`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 2, 5, 5]).unwrap();
/// let w = ops::ones(&[3, 2, 3, 3]).unwrap();
/// let y = ops::conv2d(&x, &w, None, &[1, 1], &[1, 1], &[1, 1], 1).unwrap();
/// assert_eq!(y.sizes(), &[1, 3, 5, 5]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    conv_nd(
        "aten::conv2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
    )
}

/// `padding="same"`: symmetric padding where the kernel span allows it; an
/// odd total padding puts the extra element at the end of that dim by
/// padding the input with zeros first (as PyTorch's `conv_padding_same`).
#[allow(clippy::too_many_arguments)]
fn conv_same(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    dilation: &[i64],
    groups: i64,
    spatial: usize,
) -> Result<Tensor> {
    if stride.iter().any(|&s| s != 1) {
        return Err(Error::invalid(
            op,
            "padding='same' is not supported for strided convolutions",
        ));
    }
    if weight.dim() != spatial + 2 {
        // Let convolution report the bad weight.
        return ops::convolution(x, weight, bias, stride, &[0], dilation, false, &[0], groups).map_err(renamed(op));
    }
    let mut left = vec![0i64; spatial];
    let mut pad_nd = vec![0i64; 2 * spatial];
    for i in 0..spatial {
        let d = if dilation.len() == 1 { dilation[0] } else { dilation[i] };
        let total = d * (weight.sizes()[2 + i] as i64 - 1);
        left[i] = total / 2;
        let extra = total - 2 * left[i];
        pad_nd[2 * (spatial - 1 - i) + 1] = extra;
    }
    let padded = if pad_nd.iter().any(|&p| p != 0) {
        ops::constant_pad_nd(x, &pad_nd, 0)?
    } else {
        x.clone()
    };
    ops::convolution(&padded, weight, bias, stride, &left, dilation, false, &[0], groups).map_err(renamed(op))
}

/// A convolution with string padding (`"valid"` or `"same"`).
#[allow(clippy::too_many_arguments)]
fn conv_nd_padding(
    op: &'static str,
    spatial: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &str,
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    check_bias_dtype(op, input, bias)?;
    let name = &op["aten::".len()..op.find('.').unwrap_or(op.len())];
    let (x, batched) = batchify(op, input, spatial, name)?;
    let out = match padding {
        "valid" => {
            ops::convolution(&x, weight, bias, stride, &[0], dilation, false, &[0], groups).map_err(renamed(op))?
        }
        "same" => conv_same(op, &x, weight, bias, stride, dilation, groups, spatial)?,
        other => return Err(Error::invalid(op, format!("Invalid padding string: '{other}'"))),
    };
    unbatchify(out, batched)
}

/// `aten::conv1d.padding`: [`conv1d`] with `padding` `"valid"` (none) or
/// `"same"` (output length = input length; stride must be 1).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 1, 5]).unwrap();
/// let w = ops::ones(&[1, 1, 4]).unwrap();
/// assert_eq!(ops::conv1d_padding(&x, &w, None, &[1], "same", &[1], 1).unwrap().sizes(), &[1, 1, 5]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv1d_padding(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &str,
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    conv_nd_padding(
        "aten::conv1d.padding",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
    )
}

/// `aten::conv2d.padding`: [`conv2d`] with `padding` `"valid"` or `"same"`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 1, 5, 4]).unwrap();
/// let w = ops::ones(&[1, 1, 2, 3]).unwrap();
/// let y = ops::conv2d_padding(&x, &w, None, &[1, 1], "same", &[1, 1], 1).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 5, 4]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv2d_padding(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &str,
    dilation: &[i64],
    groups: i64,
) -> Result<Tensor> {
    conv_nd_padding(
        "aten::conv2d.padding",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
    )
}

/// A (possibly unbatched) transposed convolution.
#[allow(clippy::too_many_arguments)]
fn conv_transpose_nd(
    op: &'static str,
    spatial: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
) -> Result<Tensor> {
    check_bias_dtype(op, input, bias)?;
    let dtype = input.dtype();
    if !dtype.is_floating_point() && dtype != DType::I64 {
        let kernel = format!("slow_conv_transpose{spatial}d_out_cpu").replace("1d", "2d");
        return Err(Error::dtype(
            op,
            format!("\"{kernel}\" not implemented for '{}'", dtype.name()),
        ));
    }
    let name = &op["aten::".len()..op.find('.').unwrap_or(op.len())];
    let (x, batched) = batchify(op, input, spatial, name)?;
    let out = ops::convolution(
        &x,
        weight,
        bias,
        stride,
        padding,
        dilation,
        true,
        output_padding,
        groups,
    )
    .map_err(renamed(op))?;
    unbatchify(out, batched)
}

/// `aten::conv_transpose1d`: the adjoint of [`conv1d`] (weight
/// `[C_in, C_out / groups, K]`), through [`ops::convolution`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 2, 3]).unwrap();
/// let w = ops::ones(&[2, 1, 2]).unwrap();
/// let y = ops::conv_transpose1d(&x, &w, None, &[2], &[0], &[0], 1, &[1]).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 6]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
) -> Result<Tensor> {
    conv_transpose_nd(
        "aten::conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )
}

/// `aten::conv_transpose2d.input`: the adjoint of [`conv2d`] (weight
/// `[C_in, C_out / groups, kH, kW]`), through [`ops::convolution`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 2, 3, 3]).unwrap();
/// let w = ops::ones(&[2, 4, 3, 3]).unwrap();
/// let y = ops::conv_transpose2d(&x, &w, None, &[2, 2], &[1, 1], &[1, 1], 1, &[1, 1]).unwrap();
/// assert_eq!(y.sizes(), &[1, 4, 6, 6]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
) -> Result<Tensor> {
    conv_transpose_nd(
        "aten::conv_transpose2d.input",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )
}

/// PyTorch's `checkDimRange(op, self, 2, 4)` of the 1-D pooling ops.
fn check_1d_pool_input(op: &'static str, name: &str, t: &Tensor) -> Result<()> {
    let d = t.dim();
    if (2..4).contains(&d) {
        return Ok(());
    }
    Err(Error::shape(
        op,
        format!(
            "Expected 2 to 3 dimensions, but got {d}-dimensional tensor for argument #1 'self' (while checking arguments for {name})"
        ),
    ))
}

/// PyTorch's `check1d`: an int list argument of a 1-D op has one element.
fn check_1d_arg(op: &'static str, name: &str, arg: &str, v: &[i64]) -> Result<()> {
    if v.len() == 1 {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!("{name}() argument '{arg}' should contain one int (got {})", v.len()),
    ))
}

/// `aten::max_pool1d_with_indices`: [`ops::max_pool2d_with_indices`] over
/// `self.unsqueeze(-2)` with a `1 x k` window; indices are positions along
/// the last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// let (v, i) = ops::max_pool1d_with_indices(&x, &[2], &[], &[0], &[1], false).unwrap();
/// assert_eq!((v.to_vec::<f32>().unwrap(), i.to_vec::<i64>().unwrap()), (vec![3.0, 2.0], vec![1, 2]));
/// ```
pub fn max_pool1d_with_indices(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::max_pool1d_with_indices";
    let stride = if stride.is_empty() { kernel_size } else { stride };
    check_1d_pool_input(OP, "max_pool1d", self_)?;
    check_1d_arg(OP, "max_pool1d", "kernel_size", kernel_size)?;
    check_1d_arg(OP, "max_pool1d", "stride", stride)?;
    check_1d_arg(OP, "max_pool1d", "padding", padding)?;
    check_1d_arg(OP, "max_pool1d", "dilation", dilation)?;
    let x = ops::unsqueeze(self_, -2)?;
    let (out, idx) = ops::max_pool2d_with_indices(
        &x,
        &[1, kernel_size[0]],
        &[1, stride[0]],
        &[0, padding[0]],
        &[1, dilation[0]],
        ceil_mode,
    )
    .map_err(renamed(OP))?;
    Ok((ops::squeeze_dim(&out, -2)?, ops::squeeze_dim(&idx, -2)?))
}

/// `aten::max_pool1d`: the values of [`max_pool1d_with_indices`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// assert_eq!(ops::max_pool1d(&x, &[2], &[1], &[0], &[1], false).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 3.0, 2.0]);
/// ```
pub fn max_pool1d(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<Tensor> {
    if !self_.dtype().is_floating_point() {
        return Err(Error::dtype(
            "aten::max_pool1d",
            format!("\"max_pool1d_impl\" not implemented for '{}'", self_.dtype().name()),
        ));
    }
    max_pool1d_with_indices(self_, kernel_size, stride, padding, dilation, ceil_mode)
        .map(|(v, _)| v)
        .map_err(renamed("aten::max_pool1d"))
}

/// `aten::max_pool2d`: the values of [`ops::max_pool2d_with_indices`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::arange_full(16, Some(DType::F32), None, None, None).unwrap().view(&[1, 4, 4]).unwrap();
/// let y = ops::max_pool2d(&x, &[2, 2], &[], &[0], &[1], false).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![5.0, 7.0, 13.0, 15.0]);
/// ```
pub fn max_pool2d(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<Tensor> {
    ops::max_pool2d_with_indices(self_, kernel_size, stride, padding, dilation, ceil_mode)
        .map(|(v, _)| v)
        .map_err(renamed("aten::max_pool2d"))
}

/// `aten::avg_pool1d`: [`ops::avg_pool2d`] over `self.unsqueeze(-2)` with a
/// `1 x k` window.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// assert_eq!(ops::avg_pool1d(&x, &[2], &[], &[0], false, true).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 1.0]);
/// ```
pub fn avg_pool1d(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::avg_pool1d";
    let stride = if stride.is_empty() { kernel_size } else { stride };
    check_1d_pool_input(OP, "avg_pool1d", self_)?;
    check_1d_arg(OP, "avg_pool1d", "kernel_size", kernel_size)?;
    check_1d_arg(OP, "avg_pool1d", "stride", stride)?;
    check_1d_arg(OP, "avg_pool1d", "padding", padding)?;
    let x = ops::unsqueeze(self_, -2)?;
    let out = ops::avg_pool2d(
        &x,
        &[1, kernel_size[0]],
        &[1, stride[0]],
        &[0, padding[0]],
        ceil_mode,
        count_include_pad,
        None,
    )
    .map_err(renamed(OP))?;
    ops::squeeze_dim(&out, -2)
}

/// PyTorch's `aten::adaptive_avg_pool2d` (CompositeImplicitAutograd): the
/// mean over the last two dims when the output is `1 x 1`, else
/// [`ops::_adaptive_avg_pool2d`]. Not registered as an operator: the
/// generated names of `adaptive_avg_pool2d` and `_adaptive_avg_pool2d`
/// collide in the codegen (see FEATURE_PARITY.md), so it is called directly.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 2, 5, 3]).unwrap();
/// let y = frankentorch::composite_nn::adaptive_avg_pool2d(&x, &[2, 2]).unwrap();
/// assert_eq!(y.sizes(), &[1, 2, 2, 2]);
/// ```
pub fn adaptive_avg_pool2d(self_: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::adaptive_avg_pool2d";
    if output_size.len() != 2 {
        return Err(Error::invalid(OP, "adaptive_avg_pool2d: output_size must be 2"));
    }
    if output_size.iter().any(|&s| s < 0) {
        return Err(Error::invalid(
            OP,
            format!(
                "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{{}, {}}}",
                output_size[0], output_size[1]
            ),
        ));
    }
    if output_size == [1, 1] && self_.dim() >= 2 && self_.dtype().is_floating_point() {
        return ops::mean_dim(self_, Some(&[-1, -2]), true).map_err(renamed(OP));
    }
    ops::_adaptive_avg_pool2d(self_, output_size).map_err(renamed(OP))
}

/// `aten::adaptive_avg_pool1d`: [`adaptive_avg_pool2d`] over
/// `self.unsqueeze(-2)` with output `1 x L`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// assert_eq!(ops::adaptive_avg_pool1d(&x, &[2]).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 1.0]);
/// ```
pub fn adaptive_avg_pool1d(self_: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::adaptive_avg_pool1d";
    check_1d_pool_input(OP, "adaptive_avg_pool1d", self_)?;
    check_1d_arg(OP, "adaptive_avg_pool1d", "output_size", output_size)?;
    let x = ops::unsqueeze(self_, -2)?;
    let out = adaptive_avg_pool2d(&x, &[1, output_size[0]]).map_err(renamed(OP))?;
    ops::squeeze_dim(&out, -2)
}

/// PyTorch's `check_dims_match_num_input_features` of batch norm.
fn check_features(op: &'static str, what: &str, expected: usize, t: Option<&Tensor>) -> Result<()> {
    match t {
        Some(t) if t.numel() != expected => Err(Error::shape(
            op,
            format!("{what} should contain {expected} elements not {}", t.numel()),
        )),
        _ => Ok(()),
    }
}

/// The output of batch norm of an empty input: a copy of it scaled by
/// `weight[0]` and shifted by `bias[0]` (PyTorch keeps the graph connected).
fn batch_norm_empty(input: &Tensor, weight: Option<&Tensor>, bias: Option<&Tensor>) -> Result<Tensor> {
    let mut out = ops::clone(input)?;
    if let Some(w) = weight {
        out = ops::mul(&out, &ops::select(w, 0, 0)?)?;
    }
    if let Some(b) = bias {
        out = ops::add(&out, &ops::select(b, 0, 0)?)?;
    }
    Ok(out)
}

/// `aten::batch_norm`: normalizes each channel (dim 1) with the batch's
/// statistics (`training`, updating `running_mean`/`running_var` in place
/// with `momentum` when given) or the running statistics (evaluation),
/// through `_native_batch_norm_legit` and its `.no_stats` /
/// `_no_training` forms. `cudnn_enabled` is ignored (CPU).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 5.0], &[2, 2]).unwrap();
/// let y = ops::batch_norm(&x, None, None, None, None, true, 0.1, 0.0, false).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, -1.0, 1.0, 1.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
    cudnn_enabled: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::batch_norm";
    let _ = cudnn_enabled;
    if input.dim() < 2 {
        return Err(Error::new(
            ErrorKind::DimOutOfRange,
            OP,
            format!(
                "Dimension out of range (expected to be in range of [-{d}, {e}], but got 1)",
                d = input.dim().max(1),
                e = input.dim().max(1) as i64 - 1
            ),
        ));
    }
    let features = input.sizes()[1];
    if input.numel() == 0 {
        return batch_norm_empty(input, weight, bias);
    }
    for (what, t) in [("running_mean", running_mean), ("running_var", running_var)] {
        if t.is_none() && !training {
            return Err(Error::invalid(OP, format!("{what} must be defined in evaluation mode")));
        }
        check_features(OP, what, features, t)?;
    }
    check_features(OP, "weight", features, weight)?;
    check_features(OP, "bias", features, bias)?;
    let out = match (running_mean, running_var) {
        (Some(m), Some(v)) if training => ops::_native_batch_norm_legit(input, weight, bias, m, v, true, momentum, eps),
        (Some(m), Some(v)) => ops::_native_batch_norm_legit_no_training(input, weight, bias, m, v, momentum, eps),
        (None, None) => ops::_native_batch_norm_legit_no_stats(input, weight, bias, true, momentum, eps),
        _ => {
            return Err(Error::new(
                ErrorKind::NotSupported,
                OP,
                "batch_norm in training with only one of running_mean and running_var is not supported",
            ))
        }
    };
    out.map(|(y, _, _)| y).map_err(renamed(OP))
}

/// `aten::layer_norm`: the output of [`ops::native_layer_norm`]
/// (`cudnn_enable` is ignored).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]).unwrap();
/// let y = ops::layer_norm(&x, &[2], None, None, 0.0, true).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// ```
pub fn layer_norm(
    input: &Tensor,
    normalized_shape: &[i64],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
    cudnn_enable: bool,
) -> Result<Tensor> {
    let _ = cudnn_enable;
    ops::native_layer_norm(input, normalized_shape, weight, bias, eps)
        .map(|(y, _, _)| y)
        .map_err(renamed("aten::layer_norm"))
}

/// Checks a per-channel affine parameter of group norm.
fn check_group_param(op: &'static str, what: &str, t: Option<&Tensor>, input: &Tensor) -> Result<()> {
    let c = input.sizes()[1];
    match t {
        Some(t) if t.dim() != 1 || t.numel() != c => Err(Error::shape(
            op,
            format!(
                "Expected {what} to be a vector of size equal to the number of channels in input, but got {what} of shape {} and input of shape {}",
                fmt_sizes(t.sizes()),
                fmt_sizes(input.sizes())
            ),
        )),
        _ => Ok(()),
    }
}

/// `aten::group_norm`: [`ops::native_group_norm`] with `N`, `C` and `HxW`
/// read from `input` (`cudnn_enabled` is ignored).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 0.0, 4.0], &[1, 4]).unwrap();
/// let y = ops::group_norm(&x, 2, None, None, 0.0, true).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
pub fn group_norm(
    input: &Tensor,
    num_groups: i64,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
    cudnn_enabled: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::group_norm";
    let _ = cudnn_enabled;
    if input.dim() < 2 {
        return Err(Error::new(
            ErrorKind::DimOutOfRange,
            OP,
            format!(
                "Dimension out of range (expected to be in range of [-1, 0], but got 1) for input of {}D",
                input.dim()
            ),
        ));
    }
    let (n, c) = (input.sizes()[0] as i64, input.sizes()[1] as i64);
    if num_groups <= 0 || c % num_groups != 0 {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected number of channels in input to be divisible by num_groups, but got input of shape {} and num_groups={num_groups}",
                fmt_sizes(input.sizes())
            ),
        ));
    }
    check_group_param(OP, "weight", weight, input)?;
    check_group_param(OP, "bias", bias, input)?;
    let hxw: i64 = input.sizes()[2..].iter().product::<usize>() as i64;
    let x = ops::contiguous(input)?;
    ops::native_group_norm(&x, weight, bias, n, c, hxw, num_groups, eps)
        .map(|(y, _, _)| y)
        .map_err(renamed(OP))
}

/// `t.repeat(b)` when present.
fn repeat_if_defined(t: Option<&Tensor>, b: i64) -> Result<Option<Tensor>> {
    t.map(|t| ops::repeat(t, &[b])).transpose()
}

/// `aten::instance_norm`: batch norm of `input` viewed as
/// `[1, N * C, *]` (each instance's channel is its own "channel"), with the
/// affine parameters and running statistics repeated per instance; the
/// running statistics are then written back as the mean over instances.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 0.0, 4.0], &[2, 1, 2]).unwrap();
/// let y = ops::instance_norm(&x, None, None, None, None, true, 0.1, 0.0, false).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn instance_norm(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    use_input_stats: bool,
    momentum: f64,
    eps: f64,
    cudnn_enabled: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::instance_norm";
    if !use_input_stats && (running_mean.is_none() || running_var.is_none()) {
        return Err(Error::invalid(
            OP,
            "Expected running_mean and running_var to be defined when use_input_stats is false",
        ));
    }
    if input.dim() < 2 {
        return Err(Error::new(
            ErrorKind::DimOutOfRange,
            OP,
            format!(
                "Dimension out of range (expected to be in range of [-1, 0], but got 1) for input of {}D",
                input.dim()
            ),
        ));
    }
    let (b, c) = (input.sizes()[0] as i64, input.sizes()[1] as i64);
    let mut shape: Vec<i64> = input.sizes().iter().map(|&s| s as i64).collect();
    shape[1] = b * c;
    shape[0] = 1;
    let weight_ = repeat_if_defined(weight, b)?;
    let bias_ = repeat_if_defined(bias, b)?;
    let mean_ = repeat_if_defined(running_mean, b)?;
    let var_ = repeat_if_defined(running_var, b)?;
    let x = ops::view(&ops::contiguous(input)?, &shape)?;
    let out = batch_norm(
        &x,
        weight_.as_ref(),
        bias_.as_ref(),
        mean_.as_ref(),
        var_.as_ref(),
        use_input_stats,
        momentum,
        eps,
        cudnn_enabled,
    )
    .map_err(renamed(OP))?;
    for (stat, repeated) in [(running_mean, &mean_), (running_var, &var_)] {
        if let (Some(stat), Some(rep)) = (stat, repeated) {
            let m = ops::mean_dim(&ops::view(rep, &[b, c])?, Some(&[0]), false)?;
            let _guard = crate::tls::no_grad();
            ops::copy_(stat, &m, false)?;
        }
    }
    let sizes: Vec<i64> = input.sizes().iter().map(|&s| s as i64).collect();
    ops::view(&out, &sizes)
}

/// PyTorch's layer/rms norm argument checks: `normalized_shape` non-empty,
/// `weight` of that shape, and `input` ending in it.
fn check_normalized_shape(op: &'static str, input: &Tensor, shape: &[i64], weight: Option<&Tensor>) -> Result<()> {
    let list = |v: &[i64]| format!("[{}]", v.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "));
    if shape.is_empty() {
        return Err(Error::invalid(
            op,
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []",
        ));
    }
    if let Some(w) = weight {
        let ws: Vec<i64> = w.sizes().iter().map(|&s| s as i64).collect();
        if ws != shape {
            return Err(Error::shape(
                op,
                format!(
                    "Expected weight to be of same shape as normalized_shape, but got weight of shape {} and normalized_shape = {}",
                    list(&ws),
                    list(shape)
                ),
            ));
        }
    }
    let is: Vec<i64> = input.sizes().iter().map(|&s| s as i64).collect();
    if is.len() < shape.len() || is[is.len() - shape.len()..] != *shape {
        let expected: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
        return Err(Error::shape(
            op,
            format!(
                "Given normalized_shape={}, expected input with shape [*{}], but got input of size{}",
                list(shape),
                expected.join(", "),
                list(&is)
            ),
        ));
    }
    Ok(())
}

/// The machine epsilon of the dtype `rms_norm` computes in (f64 for f64,
/// f32 for the other floating dtypes).
fn opmath_eps(dtype: DType) -> f64 {
    if dtype == DType::F64 {
        f64::EPSILON
    } else {
        f32::EPSILON as f64
    }
}

/// `aten::rms_norm`: `x / sqrt(mean(x², last dims) + eps) * weight`,
/// computed in f32 for f16/bf16 (weight product included) and rounded once; `eps` defaults to the
/// machine epsilon of that compute dtype.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3.0f64, 4.0, 0.0, 5.0], &[2, 2]).unwrap();
/// let y = ops::rms_norm(&x, &[2], None, Some(0.0)).unwrap();
/// let r = (12.5f64).sqrt();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![3.0 / r, 4.0 / r, 0.0, 5.0 / r]);
/// ```
pub fn rms_norm(input: &Tensor, normalized_shape: &[i64], weight: Option<&Tensor>, eps: Option<f64>) -> Result<Tensor> {
    const OP: &str = "aten::rms_norm";
    let dtype = input.dtype();
    if !dtype.is_floating_point() {
        return Err(Error::dtype(
            OP,
            format!("\"rms_norm\" not implemented for '{}'", dtype.name()),
        ));
    }
    check_normalized_shape(OP, input, normalized_shape, weight)?;
    let opmath = if dtype == DType::F64 { DType::F64 } else { DType::F32 };
    let eps = eps.unwrap_or_else(|| opmath_eps(dtype));
    let dims: Vec<i64> = (0..normalized_shape.len() as i64)
        .map(|i| input.dim() as i64 - i - 1)
        .collect();
    let x = to_dtype(&ops::contiguous(input)?, opmath)?;
    let ms = ops::mean_dim(&ops::pow_tensor_scalar(&x, 2)?, Some(&dims), true)?;
    let scale = ops::rsqrt(&ops::add_scalar(&ms, eps, 1)?)?;
    let mut out = ops::mul(&x, &scale)?;
    if let Some(w) = weight {
        out = ops::mul(&out, w)?;
    }
    to_dtype(&out, dtype)
}

/// The value of a one-element tensor as `i64` (for data-dependent shapes).
fn item_i64(t: &Tensor) -> Result<i64> {
    Ok(ops::_local_scalar_dense(t)?.to_f64() as i64)
}

/// `aten::one_hot`: an int64 tensor of `self`'s shape plus a last dim of
/// `num_classes` (`max + 1` when -1) holding 1 at each index.
///
/// ```
/// use frankentorch::prelude::*;
/// let i = Tensor::from_vec(vec![0i64, 2], &[2]).unwrap();
/// assert_eq!(ops::one_hot(&i, -1).unwrap().to_vec::<i64>().unwrap(), vec![1, 0, 0, 0, 0, 1]);
/// ```
pub fn one_hot(self_: &Tensor, num_classes: i64) -> Result<Tensor> {
    const OP: &str = "aten::one_hot";
    if self_.dtype() != DType::I64 {
        return Err(Error::dtype(
            OP,
            "one_hot is only applicable to index tensor of type LongTensor.",
        ));
    }
    let mut shape: Vec<i64> = self_.sizes().iter().map(|&s| s as i64).collect();
    if self_.numel() == 0 {
        if num_classes <= 0 {
            return Err(Error::invalid(
                OP,
                "Can not infer total number of classes from empty tensor.",
            ));
        }
        shape.push(num_classes);
        return ops::zeros_full(&shape, Some(DType::I64), None, None, None);
    }
    if item_i64(&ops::min(self_)?)? < 0 {
        return Err(Error::index(OP, "Class values must be non-negative."));
    }
    let max = item_i64(&ops::max(self_)?)?;
    let classes = if num_classes == -1 {
        max + 1
    } else if num_classes <= max {
        return Err(Error::index(OP, "Class values must be smaller than num_classes."));
    } else {
        num_classes
    };
    shape.push(classes);
    let out = ops::zeros_full(&shape, Some(DType::I64), None, None, None)?;
    ops::scatter_value_(&out, -1, &ops::unsqueeze(self_, -1)?, 1)?;
    Ok(out)
}

/// `aten::_pad_circular`: pads the last `pad.len() / 2` dims by wrapping
/// around (the left pad copies the end of the dim, the right pad its start);
/// negative pads crop.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[1, 1, 3]).unwrap();
/// let y = ops::_pad_circular(&x, &[1, 2]).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0, 1.0, 2.0, 3.0, 1.0, 2.0]);
/// ```
pub fn _pad_circular(self_: &Tensor, pad: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::_pad_circular";
    let k = pad.len() / 2;
    let d = self_.dim();
    if !pad.len().is_multiple_of(2) || (k + 2 != d && k + 1 != d) {
        return Err(Error::invalid(
            OP,
            format!(
                "Invalid padding size, expected 1 or 2 non-padded dimensions, which would be equivalent to padding of length {} or {} respectively but got {}",
                2 * (d as i64 - 1),
                2 * (d as i64 - 2),
                pad.len()
            ),
        ));
    }
    let mut out = self_.clone();
    for i in 0..k {
        let dim = (d - 1 - i) as i64;
        let size = self_.sizes()[d - 1 - i] as i64;
        let (left, right) = (pad[2 * i], pad[2 * i + 1]);
        if left > size || right > size {
            return Err(Error::invalid(
                OP,
                "Padding value causes wrapping around more than once.",
            ));
        }
        if size + left + right < 0 || size + left.min(0) + right.min(0) <= 0 {
            return Err(Error::invalid(
                OP,
                format!("Negative padding value is resulting in an empty dimension {dim}"),
            ));
        }
        // Crop first (negative pads), then wrap the cropped dim.
        let cropped = ops::slice(&out, dim, Some(-left.min(0)), Some(size + right.min(0)), 1)?;
        let n = size + left.min(0) + right.min(0);
        let mut parts = Vec::new();
        if left > 0 {
            parts.push(ops::slice(&cropped, dim, Some(n - left), Some(n), 1)?);
        }
        parts.push(cropped.clone());
        if right > 0 {
            parts.push(ops::slice(&cropped, dim, Some(0), Some(right), 1)?);
        }
        out = if parts.len() == 1 {
            cropped
        } else {
            ops::cat(&parts, dim)?
        };
    }
    if out.storage().is_same(self_.storage()) {
        out = ops::clone(&out)?;
    }
    Ok(out)
}

/// The name of a padding mode in PyTorch's messages.
fn check_pad_mode(op: &'static str, mode: &str) -> Result<()> {
    match mode {
        "constant" | "reflect" | "replicate" | "circular" => Ok(()),
        other => Err(Error::new(
            ErrorKind::NotSupported,
            op,
            format!("Unrecognised padding mode {other}"),
        )),
    }
}

/// `aten::pad`: `constant_pad_nd` for `"constant"`, else the reflection,
/// replication or circular padding op of the padded dims' count (1 to 3
/// trailing dims, input with one or two more dims).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[1, 3]).unwrap();
/// let y = ops::pad_with_mode(&x, &[2, 1], "replicate", None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0, 1.0, 1.0, 2.0, 3.0, 3.0]);
/// ```
pub fn pad(self_: &Tensor, pad: &[i64], mode: &str, value: Option<f64>) -> Result<Tensor> {
    const OP: &str = "aten::pad";
    check_pad_mode(OP, mode)?;
    let d = self_.dim();
    if !pad.len().is_multiple_of(2) {
        return Err(Error::invalid(OP, "Padding length must be divisible by 2"));
    }
    if pad.len() > 2 * d {
        return Err(Error::invalid(
            OP,
            format!(
                "Padding length should be less than or equal to two times the input dimension but got padding length {} and input of dimension {d}",
                pad.len()
            ),
        ));
    }
    if mode == "constant" {
        return ops::constant_pad_nd(self_, pad, value.unwrap_or(0.0)).map_err(renamed(OP));
    }
    if value.is_some_and(|v| v != 0.0) {
        return Err(Error::invalid(
            OP,
            format!("Padding mode \"{mode}\" doesn't take in value argument"),
        ));
    }
    let k = pad.len() / 2;
    if !(1..=3).contains(&k) || (d != k + 1 && d != k + 2) {
        return Err(Error::new(
            ErrorKind::NotSupported,
            OP,
            "Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now",
        ));
    }
    let out = match (mode, k) {
        ("reflect", 1) => ops::reflection_pad1d(self_, pad),
        ("reflect", 2) => ops::reflection_pad2d(self_, pad),
        ("reflect", _) => ops::reflection_pad3d(self_, pad),
        ("replicate", 1) => ops::replication_pad1d(self_, pad),
        ("replicate", 2) => ops::replication_pad2d(self_, pad),
        ("replicate", _) => ops::replication_pad3d(self_, pad),
        _ => ops::_pad_circular(self_, pad),
    };
    out.map_err(renamed(OP))
}

/// `[.., C, H, W]` of a pixel (un)shuffle input, after PyTorch's checks.
fn pixel_dims(op: &'static str, name: &str, what: &str, self_: &Tensor, factor: i64) -> Result<[i64; 3]> {
    let d = self_.dim();
    if d < 3 {
        return Err(Error::shape(
            op,
            format!("{name} expects input to have at least 3 dimensions, but got input with {d} dimension(s)"),
        ));
    }
    if factor <= 0 {
        return Err(Error::invalid(
            op,
            format!("{name} expects a positive {what}, but got {factor}"),
        ));
    }
    let s = self_.sizes();
    Ok([s[d - 3] as i64, s[d - 2] as i64, s[d - 1] as i64])
}

/// The leading (batch) sizes of `t`, all but the last three.
fn batch_sizes(t: &Tensor) -> Vec<i64> {
    t.sizes()[..t.dim() - 3].iter().map(|&s| s as i64).collect()
}

/// `base` followed by `tail`.
fn joined(base: &[i64], tail: &[i64]) -> Vec<i64> {
    base.iter().chain(tail).copied().collect()
}

/// `aten::pixel_shuffle`: `[*, C*r*r, H, W]` to `[*, C, H*r, W*r]`
/// (contiguous), moving each group of `r*r` channels into an `r x r` block.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1i64, 2, 3, 4], &[4, 1, 1]).unwrap();
/// assert_eq!(ops::pixel_shuffle(&x, 2).unwrap().to_vec::<i64>().unwrap(), vec![1, 2, 3, 4]);
/// ```
pub fn pixel_shuffle(self_: &Tensor, upscale_factor: i64) -> Result<Tensor> {
    const OP: &str = "aten::pixel_shuffle";
    let [c, h, w] = pixel_dims(OP, "pixel_shuffle", "upscale_factor", self_, upscale_factor)?;
    let r = upscale_factor;
    if c % (r * r) != 0 {
        return Err(Error::shape(
            OP,
            format!(
                "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {}",
                r * r
            ),
        ));
    }
    let b = batch_sizes(self_);
    let nb = b.len() as i64;
    let x = ops::reshape(self_, &joined(&b, &[c / (r * r), r, r, h, w]))?;
    let mut perm: Vec<i64> = (0..nb).collect();
    perm.extend([nb, nb + 3, nb + 1, nb + 4, nb + 2]);
    let y = ops::contiguous(&ops::permute(&x, &perm)?)?;
    ops::reshape(&y, &joined(&b, &[c / (r * r), h * r, w * r]))
}

/// `aten::pixel_unshuffle`: the inverse of [`pixel_shuffle`],
/// `[*, C, H*r, W*r]` to `[*, C*r*r, H, W]` (contiguous).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1i64, 2, 3, 4], &[1, 2, 2]).unwrap();
/// let y = ops::pixel_unshuffle(&x, 2).unwrap();
/// assert_eq!((y.sizes(), y.to_vec::<i64>().unwrap()), (&[4usize, 1, 1][..], vec![1, 2, 3, 4]));
/// ```
pub fn pixel_unshuffle(self_: &Tensor, downscale_factor: i64) -> Result<Tensor> {
    const OP: &str = "aten::pixel_unshuffle";
    let [c, h, w] = pixel_dims(OP, "pixel_unshuffle", "downscale_factor", self_, downscale_factor)?;
    let r = downscale_factor;
    for (what, size, idx) in [("height", h, -2), ("width", w, -1)] {
        if size % r != 0 {
            return Err(Error::shape(
                OP,
                format!(
                    "pixel_unshuffle expects {what} to be divisible by downscale_factor, but input.size({idx})={size} is not divisible by {r}"
                ),
            ));
        }
    }
    let b = batch_sizes(self_);
    let nb = b.len() as i64;
    let x = ops::reshape(self_, &joined(&b, &[c, h / r, r, w / r, r]))?;
    let mut perm: Vec<i64> = (0..nb).collect();
    perm.extend([nb, nb + 2, nb + 4, nb + 1, nb + 3]);
    let y = ops::contiguous(&ops::permute(&x, &perm)?)?;
    ops::reshape(&y, &joined(&b, &[c * r * r, h / r, w / r]))
}

/// `aten::cosine_similarity`: `sum(x1/‖x1‖ * x2/‖x2‖, dim)` over the
/// broadcast inputs, each norm clamped to at least `eps` (the clamp is not
/// differentiated, as in PyTorch).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![6.0f64, 8.0], &[1, 2]).unwrap();
/// assert_eq!(ops::cosine_similarity(&a, &b, 1, 1e-8).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn cosine_similarity(x1: &Tensor, x2: &Tensor, dim: i64, eps: f64) -> Result<Tensor> {
    const OP: &str = "aten::cosine_similarity";
    let common = crate::promote_types(x1.dtype(), x2.dtype());
    if !common.is_floating_point() {
        return Err(Error::dtype(
            OP,
            format!(
                "expected common dtype to be floating point, yet common dtype is {}",
                common.scalar_type_name()
            ),
        ));
    }
    let shape = crate::shape::broadcast_shapes(OP, x1.sizes(), x2.sizes())?;
    let shape: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
    let (a, b) = (ops::expand(x1, &shape)?, ops::expand(x2, &shape)?);
    let norm_of = |t: &Tensor| -> Result<Tensor> {
        let n = ops::clone(&ops::norm(t, Some(2.into()), &[dim], true)?)?;
        let _guard = crate::tls::no_grad();
        ops::clamp_min_(&n, eps)?;
        Ok(n)
    };
    let (na, nb) = (norm_of(&a)?, norm_of(&b)?);
    let prod = ops::mul(&ops::div(&a, &na)?, &ops::div(&b, &nb)?)?;
    ops::sum_dim(&prod, Some(&[dim]), false)
}

/// `aten::pairwise_distance`: `‖x1 - x2 + eps‖_p` over the last dim of the
/// broadcast inputs.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// assert_eq!(ops::pairwise_distance(&a, &b, 2.0, 0.0, false).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn pairwise_distance(x1: &Tensor, x2: &Tensor, p: f64, eps: f64, keepdim: bool) -> Result<Tensor> {
    let last = x1.dim().max(x2.dim()) as i64 - 1;
    let diff = ops::add_scalar(&ops::sub(x1, x2)?, eps, 1)?;
    ops::norm(&diff, Some(p.into()), &[last], keepdim).map_err(renamed("aten::pairwise_distance"))
}

/// `aten::bilinear`: `y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x1 = ops::ones_full(&[2, 3], Some(DType::F64), None, None, None).unwrap();
/// let x2 = ops::ones_full(&[2, 4], Some(DType::F64), None, None, None).unwrap();
/// let w = ops::ones_full(&[5, 3, 4], Some(DType::F64), None, None, None).unwrap();
/// let y = ops::bilinear(&x1, &x2, &w, None).unwrap();
/// assert_eq!((y.sizes(), y.to_vec::<f64>().unwrap()[0]), (&[2usize, 5][..], 12.0));
/// ```
pub fn bilinear(input1: &Tensor, input2: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "aten::bilinear";
    let (d1, d2) = (input1.dim(), input2.dim());
    if d1 != d2 {
        return Err(Error::shape(
            OP,
            format!("bilinear(): input dimensions do not match: got {d1} and {d2}"),
        ));
    }
    if d1 == 0 || weight.dim() != 3 {
        return Err(Error::shape(
            OP,
            "bilinear(): expected 1-D or more inputs and a 3-D weight",
        ));
    }
    let (s1, s2, ws) = (input1.sizes(), input2.sizes(), weight.sizes());
    for i in 0..d1 - 1 {
        if s1[i] != s2[i] {
            return Err(Error::shape(
                OP,
                format!(
                    "bilinear(): input batch dimensions do not match at dim {i}: got {} and {}",
                    s1[i], s2[i]
                ),
            ));
        }
    }
    for (k, (s, n)) in [(s1[d1 - 1], 1usize), (s2[d2 - 1], 2)].into_iter().enumerate() {
        if s != ws[n] {
            return Err(Error::shape(
                OP,
                format!(
                    "bilinear(): input{} size does not match weight size: got {s} but expected {}",
                    k + 1,
                    ws[n]
                ),
            ));
        }
    }
    if let Some(b) = bias {
        if b.dim() == 0 || b.sizes()[0] != ws[0] {
            return Err(Error::shape(
                OP,
                format!(
                    "bilinear(): bias size does not match weight size: got {} but expected {}",
                    b.sizes().first().copied().unwrap_or(0),
                    ws[0]
                ),
            ));
        }
    }
    let (o, i, j) = (ws[0] as i64, ws[1] as i64, ws[2] as i64);
    // x1 @ W arranged [I, O*J], then contract J with x2.
    let w = ops::reshape(&ops::permute(weight, &[1, 0, 2])?, &[i, o * j])?;
    let t = ops::matmul(input1, &w)?;
    let mut shape: Vec<i64> = s1[..d1 - 1].iter().map(|&s| s as i64).collect();
    shape.extend([o, j]);
    let t = ops::reshape(&t, &shape)?;
    let out = ops::sum_dim(&ops::mul(&t, &ops::unsqueeze(input2, -2)?)?, Some(&[-1]), false)?;
    match bias {
        Some(b) => ops::add(&out, b),
        None => Ok(out),
    }
}

/// A boolean attention mask as an additive one: 0 where true, -inf where false.
fn additive_mask(mask: &Tensor, dtype: DType) -> Result<Tensor> {
    if mask.dtype() != DType::Bool {
        return Ok(mask.clone());
    }
    let zero = ops::scalar_tensor_full(0.0, Some(dtype), None, None, None)?;
    let ninf = ops::scalar_tensor_full(f64::NEG_INFINITY, Some(dtype), None, None, None)?;
    ops::where_self(mask, &zero, &ninf)
}

/// Softmax over the last dim where rows that are entirely `-inf` give 0
/// (PyTorch's `_safe_softmax`); such rows also get a zero gradient (their
/// logits are replaced by zeros before the softmax, so no NaN reaches
/// backward).
fn safe_softmax(x: &Tensor) -> Result<Tensor> {
    let masked = ops::all_dim(&ops::eq_scalar(x, f64::NEG_INFINITY)?, -1, true)?;
    let zero = ops::scalar_tensor_full(0.0, Some(x.dtype()), None, None, None)?;
    let finite = ops::where_self(&masked, &zero, x)?;
    let out = ops::softmax(&finite, -1, None)?;
    ops::where_self(&masked, &zero, &out)
}

/// Repeats each key/value head `groups` times along dim -3 (grouped-query
/// attention): `[.., Hk, S, E]` to `[.., Hk * groups, S, E]`.
fn repeat_heads(t: &Tensor, groups: i64) -> Result<Tensor> {
    let d = t.dim();
    let mut expanded: Vec<i64> = t.sizes().iter().map(|&s| s as i64).collect();
    expanded.insert(d - 2, groups);
    let mut merged: Vec<i64> = t.sizes().iter().map(|&s| s as i64).collect();
    merged[d - 3] *= groups;
    ops::reshape(&ops::expand(&ops::unsqueeze(t, -3)?, &expanded)?, &merged)
}

/// `aten::_scaled_dot_product_attention_math`: the reference attention,
/// `softmax(q k^T * scale + mask) v`, with `q` and `k` each scaled by
/// `sqrt(scale)` before the product (default scale `1/sqrt(E)`), a causal
/// lower-triangular mask for `is_causal`, rows that are fully masked giving
/// zeros, dropout of the weights (`dropout_mask` is not supported), and
/// heads repeated for `enable_gqa`. Returns `(output, attention weights)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let q = ops::ones_full(&[2, 3, 4], Some(DType::F64), None, None, None).unwrap();
/// let (out, w) = ops::_scaled_dot_product_attention_math_full(&q, &q, &q, None, 0.0, true, None, None, false).unwrap();
/// assert_eq!((out.sizes(), w.to_vec::<f64>().unwrap()[1]), (&[2usize, 3, 4][..], 0.0));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn _scaled_dot_product_attention_math(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    dropout_mask: Option<&Tensor>,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::_scaled_dot_product_attention_math";
    if dropout_mask.is_some() {
        return Err(Error::new(
            ErrorKind::NotSupported,
            OP,
            "an explicit dropout_mask is not supported",
        ));
    }
    if query.dim() < 2 || key.dim() < 2 || value.dim() < 2 {
        return Err(Error::shape(OP, "query, key and value must have at least 2 dimensions"));
    }
    let e = query.sizes()[query.dim() - 1] as f64;
    let negative = scale.is_some_and(|s| s < 0.0);
    let factor = scale.map(f64::abs).unwrap_or(1.0 / e.sqrt()).sqrt();
    let q = ops::mul_scalar(query, if negative { -factor } else { factor })?;
    let mut mask = attn_mask.map(|m| additive_mask(m, query.dtype())).transpose()?;
    if is_causal {
        if attn_mask.is_some() {
            return Err(Error::invalid(
                OP,
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True",
            ));
        }
        let (l, s) = (query.sizes()[query.dim() - 2] as i64, key.sizes()[key.dim() - 2] as i64);
        let ones = ops::ones_full(&[l, s], Some(DType::Bool), None, None, None)?;
        mask = Some(additive_mask(&ops::tril(&ones, 0)?, query.dtype())?);
    }
    let (mut k, mut v) = (key.clone(), value.clone());
    if enable_gqa && query.dim() >= 3 && key.dim() >= 3 {
        let (hq, hk) = (query.sizes()[query.dim() - 3] as i64, key.sizes()[key.dim() - 3] as i64);
        if hk != hq && hk > 0 && hq % hk == 0 {
            k = repeat_heads(&k, hq / hk)?;
            v = repeat_heads(&v, hq / hk)?;
        }
    }
    let kt = ops::mul_scalar(&ops::transpose(&k, -2, -1)?, factor)?;
    let mut attn = ops::matmul(&q, &kt).map_err(renamed(OP))?;
    if let Some(m) = mask {
        attn = ops::add(&attn, &m).map_err(renamed(OP))?;
    }
    attn = safe_softmax(&attn)?;
    if dropout_p > 0.0 {
        attn = ops::native_dropout(&attn, dropout_p, Some(true))?.0;
    }
    let out = ops::matmul(&attn, &v).map_err(renamed(OP))?;
    Ok((out, attn))
}

/// `aten::scaled_dot_product_attention`: on CPU, the output of
/// [`_scaled_dot_product_attention_math`] (boolean masks converted to
/// additive ones).
///
/// ```
/// use frankentorch::prelude::*;
/// let q = ops::ones_full(&[2, 3, 4], Some(DType::F64), None, None, None).unwrap();
/// let out = ops::scaled_dot_product_attention(&q, &q, &q, None, 0.0, false).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![1.0; 24]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn scaled_dot_product_attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::scaled_dot_product_attention";
    if query.dtype() != key.dtype() || query.dtype() != value.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "Expected query, key, and value to have the same dtype, but got query.dtype: {} key.dtype: {} and value.dtype: {} instead.",
                query.dtype().scalar_type_name(),
                key.dtype().scalar_type_name(),
                value.dtype().scalar_type_name()
            ),
        ));
    }
    if !query.dtype().is_floating_point() {
        return Err(Error::dtype(
            OP,
            "scaled_dot_product_attention needs floating-point query, key and value",
        ));
    }
    let mask = attn_mask.map(|m| additive_mask(m, query.dtype())).transpose()?;
    _scaled_dot_product_attention_math(
        query,
        key,
        value,
        mask.as_ref(),
        dropout_p,
        is_causal,
        None,
        scale,
        enable_gqa,
    )
    .map(|(o, _)| o)
    .map_err(renamed(OP))
}

/// `aten::embedding_renorm_`: rescales, in place, each row of `self` picked
/// by `indices` whose `norm_type`-norm exceeds `max_norm` to norm
/// `max_norm` (times `max_norm / (norm + 1e-7)`, as PyTorch).
///
/// ```
/// use frankentorch::prelude::*;
/// let w = Tensor::from_vec(vec![3.0f64, 4.0, 0.3, 0.4], &[2, 2]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 1, 0], &[3]).unwrap();
/// ops::embedding_renorm_(&w, &i, 1.0, 2.0).unwrap();
/// let v = w.to_vec::<f64>().unwrap();
/// assert!((v[0] - 0.6).abs() < 1e-7 && v[2] == 0.3);
/// ```
pub fn embedding_renorm_(self_: &Tensor, indices: &Tensor, max_norm: f64, norm_type: f64) -> Result<Tensor> {
    const OP: &str = "aten::embedding_renorm_";
    if self_.dim() != 2 {
        return Err(Error::shape(
            OP,
            format!(
                "Expected 2-dimensional tensor, but got {}-dimensional tensor for argument #1 'self' (while checking arguments for embedding_renorm_)",
                self_.dim()
            ),
        ));
    }
    if indices.dtype() != DType::I64 && indices.dtype() != DType::I32 {
        return Err(Error::dtype(
            OP,
            format!(
                "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, Int; but got {} instead (while checking arguments for embedding_renorm_)",
                indices.dtype().scalar_type_name()
            ),
        ));
    }
    let mut rows: Vec<i64> = indices.to_f64_vec().iter().map(|&v| v as i64).collect();
    rows.sort_unstable();
    rows.dedup();
    let n = self_.sizes()[0] as i64;
    for r in rows {
        if r < -n || r >= n {
            return Err(Error::index(
                OP,
                format!("index {r} is out of bounds for dimension 0 with size {n}"),
            ));
        }
        let row = ops::select(self_, 0, r)?;
        let norm = ops::_local_scalar_dense(&ops::norm(&row, Some(norm_type.into()), &[0], false)?)?.to_f64();
        if norm > max_norm {
            ops::mul_scalar_(&row, max_norm / (norm + 1e-7))?;
        }
    }
    Ok(self_.clone())
}
