//! Convolutions: `F::conv1d`, `F::conv2d`, `F::conv_transpose1d`,
//! `F::conv_transpose2d` (each one aten op: `aten::conv2d`,
//! `aten::conv2d.padding`, `aten::conv_transpose2d.input` …).

use crate::ops;
use crate::{Result, Tensor};

/// The `padding` of a convolution: explicit per-dim zeros (Python's int or
/// tuple), or the strings `"same"` (output as large as the input; stride 1
/// only) and `"valid"` (no padding).
///
/// ```
/// use frankentorch::nn::functional as F;
/// let p: F::ConvPadding<2> = [1, 2].into();
/// assert_eq!(p, F::ConvPadding::Explicit([1, 2]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPadding<const N: usize> {
    /// Zeros on both sides of each spatial dim.
    Explicit([i64; N]),
    /// `padding="same"`.
    Same,
    /// `padding="valid"`.
    Valid,
}

impl<const N: usize> Default for ConvPadding<N> {
    fn default() -> Self {
        ConvPadding::Explicit([0; N])
    }
}

impl<const N: usize> From<[i64; N]> for ConvPadding<N> {
    fn from(p: [i64; N]) -> Self {
        ConvPadding::Explicit(p)
    }
}

/// Options of [`conv1d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct Conv1dOpts<'a> {
    /// Per-output-channel bias (default none).
    pub bias: Option<&'a Tensor>,
    /// Default `[1]`.
    pub stride: [i64; 1],
    /// Default `[0]`.
    pub padding: ConvPadding<1>,
    /// Default `[1]`.
    pub dilation: [i64; 1],
    /// Default 1.
    pub groups: i64,
}

impl Default for Conv1dOpts<'_> {
    fn default() -> Self {
        Conv1dOpts {
            bias: None,
            stride: [1],
            padding: ConvPadding::default(),
            dilation: [1],
            groups: 1,
        }
    }
}

/// `F.conv1d`: 1-D convolution of `[N, C, L]` (or `[C, L]`) input with
/// weight `[O, C/groups, K]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 5]).unwrap();
/// let w = ops::ones(&[3, 2, 2]).unwrap();
/// let y = F::conv1d(&x, &w, F::Conv1dOpts { padding: F::ConvPadding::Same, ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 3, 5]);
/// ```
pub fn conv1d(input: &Tensor, weight: &Tensor, opts: Conv1dOpts) -> Result<Tensor> {
    let Conv1dOpts {
        bias,
        stride,
        padding,
        dilation,
        groups,
    } = opts;
    match padding {
        ConvPadding::Explicit(p) => ops::conv1d(input, weight, bias, &stride, &p, &dilation, groups),
        ConvPadding::Same => ops::conv1d_padding(input, weight, bias, &stride, "same", &dilation, groups),
        ConvPadding::Valid => ops::conv1d_padding(input, weight, bias, &stride, "valid", &dilation, groups),
    }
}

/// Options of [`conv2d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct Conv2dOpts<'a> {
    /// Per-output-channel bias (default none).
    pub bias: Option<&'a Tensor>,
    /// Default `[1, 1]`.
    pub stride: [i64; 2],
    /// Default `[0, 0]`.
    pub padding: ConvPadding<2>,
    /// Default `[1, 1]`.
    pub dilation: [i64; 2],
    /// Default 1.
    pub groups: i64,
}

impl Default for Conv2dOpts<'_> {
    fn default() -> Self {
        Conv2dOpts {
            bias: None,
            stride: [1, 1],
            padding: ConvPadding::default(),
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// `F.conv2d`: 2-D convolution of `[N, C, H, W]` (or `[C, H, W]`) input with
/// weight `[O, C/groups, kH, kW]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 5, 5]).unwrap();
/// let w = ops::ones(&[3, 2, 3, 3]).unwrap();
/// let y = F::conv2d(&x, &w, F::Conv2dOpts { stride: [2, 2], ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 3, 2, 2]);
/// ```
pub fn conv2d(input: &Tensor, weight: &Tensor, opts: Conv2dOpts) -> Result<Tensor> {
    let Conv2dOpts {
        bias,
        stride,
        padding,
        dilation,
        groups,
    } = opts;
    match padding {
        ConvPadding::Explicit(p) => ops::conv2d(input, weight, bias, &stride, &p, &dilation, groups),
        ConvPadding::Same => ops::conv2d_padding(input, weight, bias, &stride, "same", &dilation, groups),
        ConvPadding::Valid => ops::conv2d_padding(input, weight, bias, &stride, "valid", &dilation, groups),
    }
}

/// Options of [`conv_transpose1d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct ConvTranspose1dOpts<'a> {
    /// Per-output-channel bias (default none).
    pub bias: Option<&'a Tensor>,
    /// Default `[1]`.
    pub stride: [i64; 1],
    /// Default `[0]`.
    pub padding: [i64; 1],
    /// Default `[0]`.
    pub output_padding: [i64; 1],
    /// Default 1.
    pub groups: i64,
    /// Default `[1]`.
    pub dilation: [i64; 1],
}

impl Default for ConvTranspose1dOpts<'_> {
    fn default() -> Self {
        ConvTranspose1dOpts {
            bias: None,
            stride: [1],
            padding: [0],
            output_padding: [0],
            groups: 1,
            dilation: [1],
        }
    }
}

/// `F.conv_transpose1d`: the adjoint of [`conv1d`] (weight
/// `[C, O/groups, K]`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 3]).unwrap();
/// let w = ops::ones(&[2, 1, 2]).unwrap();
/// let y = F::conv_transpose1d(&x, &w, F::ConvTranspose1dOpts { stride: [2], ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 6]);
/// ```
pub fn conv_transpose1d(input: &Tensor, weight: &Tensor, opts: ConvTranspose1dOpts) -> Result<Tensor> {
    let o = opts;
    ops::conv_transpose1d(
        input,
        weight,
        o.bias,
        &o.stride,
        &o.padding,
        &o.output_padding,
        o.groups,
        &o.dilation,
    )
}

/// Options of [`conv_transpose2d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct ConvTranspose2dOpts<'a> {
    /// Per-output-channel bias (default none).
    pub bias: Option<&'a Tensor>,
    /// Default `[1, 1]`.
    pub stride: [i64; 2],
    /// Default `[0, 0]`.
    pub padding: [i64; 2],
    /// Default `[0, 0]`.
    pub output_padding: [i64; 2],
    /// Default 1.
    pub groups: i64,
    /// Default `[1, 1]`.
    pub dilation: [i64; 2],
}

impl Default for ConvTranspose2dOpts<'_> {
    fn default() -> Self {
        ConvTranspose2dOpts {
            bias: None,
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            groups: 1,
            dilation: [1, 1],
        }
    }
}

/// `F.conv_transpose2d`: the adjoint of [`conv2d`] (weight
/// `[C, O/groups, kH, kW]`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 3, 3]).unwrap();
/// let w = ops::ones(&[2, 4, 2, 2]).unwrap();
/// let y = F::conv_transpose2d(&x, &w, F::ConvTranspose2dOpts { stride: [2, 2], ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 4, 6, 6]);
/// ```
pub fn conv_transpose2d(input: &Tensor, weight: &Tensor, opts: ConvTranspose2dOpts) -> Result<Tensor> {
    let o = opts;
    ops::conv_transpose2d(
        input,
        weight,
        o.bias,
        &o.stride,
        &o.padding,
        &o.output_padding,
        o.groups,
        &o.dilation,
    )
}
