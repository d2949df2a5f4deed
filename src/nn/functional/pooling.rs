//! Pooling: `F::max_pool1d`/`F::max_pool2d` (and their `_with_indices`
//! forms, Python's `return_indices=True`), `F::avg_pool1d`/`F::avg_pool2d`,
//! `F::adaptive_avg_pool1d`/`F::adaptive_avg_pool2d`.

use crate::ops;
use crate::{Result, Tensor};

/// `stride=None` means "the kernel size": the aten ops take an empty list.
fn stride_or_kernel<const N: usize>(stride: &Option<[i64; N]>) -> &[i64] {
    match stride {
        Some(s) => s,
        None => &[],
    }
}

/// Options of [`max_pool1d`] and [`max_pool1d_with_indices`].
#[derive(Clone, Copy, Debug)]
pub struct MaxPool1dOpts {
    /// Default `None` (= `kernel_size`).
    pub stride: Option<[i64; 1]>,
    /// Default `[0]` (implicit `-inf` padding).
    pub padding: [i64; 1],
    /// Default `[1]`.
    pub dilation: [i64; 1],
    /// Default false.
    pub ceil_mode: bool,
}

/// Options of [`max_pool2d`] and [`max_pool2d_with_indices`].
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2dOpts {
    /// Default `None` (= `kernel_size`).
    pub stride: Option<[i64; 2]>,
    /// Default `[0, 0]` (implicit `-inf` padding).
    pub padding: [i64; 2],
    /// Default `[1, 1]`.
    pub dilation: [i64; 2],
    /// Default false.
    pub ceil_mode: bool,
}

impl Default for MaxPool1dOpts {
    fn default() -> Self {
        MaxPool1dOpts {
            stride: None,
            padding: [0],
            dilation: [1],
            ceil_mode: false,
        }
    }
}

impl Default for MaxPool2dOpts {
    fn default() -> Self {
        MaxPool2dOpts {
            stride: None,
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }
}

/// `F.max_pool1d`: maximum of each window along the last dim of `[N, C, L]`
/// (or `[C, L]`) input.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// let y = F::max_pool1d(&x, [2], Default::default()).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0, 2.0]);
/// ```
pub fn max_pool1d(input: &Tensor, kernel_size: [i64; 1], opts: MaxPool1dOpts) -> Result<Tensor> {
    let d = opts.dilation;
    ops::max_pool1d(
        input,
        &kernel_size,
        stride_or_kernel(&opts.stride),
        &opts.padding,
        &d,
        opts.ceil_mode,
    )
}

/// `F.max_pool1d(..., return_indices=True)` (also `F.max_pool1d_with_indices`):
/// the maxima and their positions along the last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// let (_, i) = F::max_pool1d_with_indices(&x, [2], Default::default()).unwrap();
/// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 2]);
/// ```
pub fn max_pool1d_with_indices(input: &Tensor, kernel_size: [i64; 1], opts: MaxPool1dOpts) -> Result<(Tensor, Tensor)> {
    let d = opts.dilation;
    ops::max_pool1d_with_indices(
        input,
        &kernel_size,
        stride_or_kernel(&opts.stride),
        &opts.padding,
        &d,
        opts.ceil_mode,
    )
}

/// `F.max_pool2d`: maximum of each window of the last two dims of
/// `[N, C, H, W]` (or `[C, H, W]`) input.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 1, 4, 4]).unwrap();
/// let y = F::max_pool2d(&x, [2, 2], F::MaxPool2dOpts { stride: Some([1, 1]), ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 3, 3]);
/// ```
pub fn max_pool2d(input: &Tensor, kernel_size: [i64; 2], opts: MaxPool2dOpts) -> Result<Tensor> {
    let d = opts.dilation;
    ops::max_pool2d(
        input,
        &kernel_size,
        stride_or_kernel(&opts.stride),
        &opts.padding,
        &d,
        opts.ceil_mode,
    )
}

/// `F.max_pool2d(..., return_indices=True)` (also `F.max_pool2d_with_indices`):
/// the maxima and their flat positions `h * W + w` in the input plane.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::arange_full(16, Some(DType::F32), None, None, None).unwrap().view(&[1, 4, 4]).unwrap();
/// let (_, i) = F::max_pool2d_with_indices(&x, [2, 2], Default::default()).unwrap();
/// assert_eq!(i.to_vec::<i64>().unwrap(), vec![5, 7, 13, 15]);
/// ```
pub fn max_pool2d_with_indices(input: &Tensor, kernel_size: [i64; 2], opts: MaxPool2dOpts) -> Result<(Tensor, Tensor)> {
    let d = opts.dilation;
    ops::max_pool2d_with_indices(
        input,
        &kernel_size,
        stride_or_kernel(&opts.stride),
        &opts.padding,
        &d,
        opts.ceil_mode,
    )
}

/// Options of [`avg_pool1d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct AvgPool1dOpts {
    /// Default `None` (= `kernel_size`).
    pub stride: Option<[i64; 1]>,
    /// Default `[0]` (zero padding).
    pub padding: [i64; 1],
    /// Default false.
    pub ceil_mode: bool,
    /// Default true: padded zeros count in the divisor.
    pub count_include_pad: bool,
}

impl Default for AvgPool1dOpts {
    fn default() -> Self {
        AvgPool1dOpts {
            stride: None,
            padding: [0],
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

/// `F.avg_pool1d`: mean of each window along the last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0], &[1, 4]).unwrap();
/// assert_eq!(F::avg_pool1d(&x, [2], Default::default()).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 1.0]);
/// ```
pub fn avg_pool1d(input: &Tensor, kernel_size: [i64; 1], opts: AvgPool1dOpts) -> Result<Tensor> {
    let o = opts;
    ops::avg_pool1d(
        input,
        &kernel_size,
        stride_or_kernel(&o.stride),
        &o.padding,
        o.ceil_mode,
        o.count_include_pad,
    )
}

/// Options of [`avg_pool2d`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2dOpts {
    /// Default `None` (= `kernel_size`).
    pub stride: Option<[i64; 2]>,
    /// Default `[0, 0]` (zero padding).
    pub padding: [i64; 2],
    /// Default false.
    pub ceil_mode: bool,
    /// Default true: padded zeros count in the divisor.
    pub count_include_pad: bool,
    /// Default `None`; when given, the divisor of every window.
    pub divisor_override: Option<i64>,
}

impl Default for AvgPool2dOpts {
    fn default() -> Self {
        AvgPool2dOpts {
            stride: None,
            padding: [0, 0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
}

/// `F.avg_pool2d`: mean of each window of the last two dims.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 1, 4, 4]).unwrap();
/// let y = F::avg_pool2d(&x, [2, 2], F::AvgPool2dOpts { divisor_override: Some(2), ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![2.0; 4]);
/// ```
pub fn avg_pool2d(input: &Tensor, kernel_size: [i64; 2], opts: AvgPool2dOpts) -> Result<Tensor> {
    let o = opts;
    ops::avg_pool2d(
        input,
        &kernel_size,
        stride_or_kernel(&o.stride),
        &o.padding,
        o.ceil_mode,
        o.count_include_pad,
        o.divisor_override,
    )
}

/// `F.adaptive_avg_pool1d`: mean over `output_size` adaptive windows along
/// the last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[2, 3, 7]).unwrap();
/// assert_eq!(F::adaptive_avg_pool1d(&x, [3]).unwrap().sizes(), &[2, 3, 3]);
/// ```
pub fn adaptive_avg_pool1d(input: &Tensor, output_size: [i64; 1]) -> Result<Tensor> {
    ops::adaptive_avg_pool1d(input, &output_size)
}

/// `F.adaptive_avg_pool2d`: mean over `output_size` adaptive windows of the
/// last two dims (Python's `None` entries, "keep the input size", are not
/// supported: give the size).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[2, 3, 7, 5]).unwrap();
/// assert_eq!(F::adaptive_avg_pool2d(&x, [1, 1]).unwrap().sizes(), &[2, 3, 1, 1]);
/// ```
pub fn adaptive_avg_pool2d(input: &Tensor, output_size: [i64; 2]) -> Result<Tensor> {
    crate::composite_nn::adaptive_avg_pool2d(input, &output_size)
}

/// `F.adaptive_max_pool2d`: maximum over `output_size` adaptive windows of
/// the last two dims.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[2, 3, 7, 5]).unwrap();
/// assert_eq!(F::adaptive_max_pool2d(&x, [2, 3]).unwrap().sizes(), &[2, 3, 2, 3]);
/// ```
pub fn adaptive_max_pool2d(input: &Tensor, output_size: [i64; 2]) -> Result<Tensor> {
    ops::adaptive_max_pool2d(input, &output_size).map(|(v, _)| v)
}

/// `F.adaptive_max_pool2d(..., return_indices=True)` (also
/// `F.adaptive_max_pool2d_with_indices`): the maxima and their flat
/// positions `h * W + w` in the input plane.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f32, 5.0, 2.0, 0.0], &[1, 2, 2]).unwrap();
/// let (v, i) = F::adaptive_max_pool2d_with_indices(&x, [1, 1]).unwrap();
/// assert_eq!((v.to_vec::<f32>().unwrap(), i.to_vec::<i64>().unwrap()), (vec![5.0], vec![1]));
/// ```
pub fn adaptive_max_pool2d_with_indices(input: &Tensor, output_size: [i64; 2]) -> Result<(Tensor, Tensor)> {
    ops::adaptive_max_pool2d(input, &output_size)
}
