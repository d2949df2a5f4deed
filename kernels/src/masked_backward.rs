//! The backward operators with an `output_mask` (`convolution_backward`,
//! `native_layer_norm_backward`, `native_group_norm_backward`) as PyTorch
//! exposes them: an output whose mask entry is false is undefined (`None`).
//! The gradients are computed by the `nn` kernels the forward formulas use.

use crate::nn::{conv, norm};
use ft_runtime::{Result, Tensor};

/// Three optional gradients, in output order.
pub type MaskedGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// Keeps output `i` of `grads` only where `output_mask[i]` is set.
fn masked(output_mask: &[bool], grads: (Tensor, Tensor, Tensor)) -> MaskedGrads {
    let keep = |i: usize, t: Tensor| output_mask.get(i).copied().unwrap_or(false).then_some(t);
    (keep(0, grads.0), keep(1, grads.1), keep(2, grads.2))
}

/// `aten::convolution_backward`: the gradients of `convolution` with respect
/// to its input, weight and bias, each only where `output_mask` asks for it.
#[allow(clippy::too_many_arguments)]
pub fn convolution_backward(
    grad_output: &Tensor,
    input: &Tensor,
    weight: &Tensor,
    bias_sizes: Option<&[i64]>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
    output_mask: &[bool],
) -> Result<MaskedGrads> {
    // PyTorch's CPU convolution computes input and weight gradients for
    // floating dtypes only (the bias gradient is a plain sum).
    let dtype = input.dtype();
    if !dtype.is_floating_point() && output_mask.iter().take(2).any(|&m| m) {
        return Err(crate::nn::not_implemented(
            "aten::convolution_backward",
            "slow_conv2d_cpu_grad_input",
            dtype,
        ));
    }
    let grads = conv::convolution_backward(
        grad_output,
        input,
        weight,
        bias_sizes,
        stride,
        padding,
        dilation,
        transposed,
        output_padding,
        groups,
        output_mask,
    )?;
    Ok(masked(output_mask, grads))
}

/// `aten::native_layer_norm_backward`: the gradients of `native_layer_norm`
/// with respect to its input, weight and bias, given its saved `mean` and
/// `rstd`, each only where `output_mask` asks for it.
#[allow(clippy::too_many_arguments)]
pub fn native_layer_norm_backward(
    grad_out: &Tensor,
    input: &Tensor,
    normalized_shape: &[i64],
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    output_mask: &[bool],
) -> Result<MaskedGrads> {
    let grads =
        norm::native_layer_norm_backward(grad_out, input, normalized_shape, mean, rstd, weight, bias, output_mask)?;
    Ok(masked(output_mask, grads))
}

/// `aten::native_group_norm_backward`: the gradients of `native_group_norm`
/// with respect to its input, weight and bias, given its saved `mean` and
/// `rstd`, each only where `output_mask` asks for it.
#[allow(clippy::too_many_arguments)]
pub fn native_group_norm_backward(
    grad_out: &Tensor,
    input: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    n: i64,
    c: i64,
    hx_w: i64,
    group: i64,
    output_mask: &[bool],
) -> Result<MaskedGrads> {
    let grads = norm::native_group_norm_backward(grad_out, input, mean, rstd, weight, n, c, hx_w, group, output_mask)?;
    Ok(masked(output_mask, grads))
}
