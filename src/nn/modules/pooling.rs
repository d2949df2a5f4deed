//! `nn.MaxPool2d`, `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d`.

use crate::nn::functional as F;
use crate::nn::{Forward, Module};
use crate::{Result, Tensor};

/// `nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1,
/// ceil_mode=False)`; the options are [`F::MaxPool2dOpts`].
///
/// ```
/// use frankentorch::nn::{Forward, MaxPool2d};
/// use frankentorch::prelude::*;
/// let p = MaxPool2d::new([2, 2], Default::default());
/// assert_eq!(p.forward(&ops::ones(&[1, 1, 4, 4]).unwrap()).unwrap().sizes(), &[1, 1, 2, 2]);
/// ```
#[derive(Module)]
pub struct MaxPool2d {
    /// Window size.
    pub kernel_size: [i64; 2],
    /// Stride, padding, dilation, ceil mode.
    pub opts: F::MaxPool2dOpts,
    #[training]
    training: bool,
}

impl MaxPool2d {
    /// The pooling layer.
    pub fn new(kernel_size: [i64; 2], opts: F::MaxPool2dOpts) -> MaxPool2d {
        MaxPool2d {
            kernel_size,
            opts,
            training: true,
        }
    }

    /// The output and the flat indices of the maxima (`return_indices=True`).
    pub fn forward_with_indices(&self, input: &Tensor) -> Result<(Tensor, Tensor)> {
        F::max_pool2d_with_indices(input, self.kernel_size, self.opts)
    }
}

impl Forward for MaxPool2d {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::max_pool2d(input, self.kernel_size, self.opts)
    }
}

/// `nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
/// count_include_pad=True, divisor_override=None)`; the options are
/// [`F::AvgPool2dOpts`].
///
/// ```
/// use frankentorch::nn::{AvgPool2d, Forward};
/// use frankentorch::prelude::*;
/// let p = AvgPool2d::new([2, 2], Default::default());
/// assert_eq!(p.forward(&ops::ones(&[1, 1, 4, 4]).unwrap()).unwrap().to_vec::<f32>().unwrap(), vec![1.0; 4]);
/// ```
#[derive(Module)]
pub struct AvgPool2d {
    /// Window size.
    pub kernel_size: [i64; 2],
    /// Stride, padding, ceil mode, count_include_pad, divisor_override.
    pub opts: F::AvgPool2dOpts,
    #[training]
    training: bool,
}

impl AvgPool2d {
    /// The pooling layer.
    pub fn new(kernel_size: [i64; 2], opts: F::AvgPool2dOpts) -> AvgPool2d {
        AvgPool2d {
            kernel_size,
            opts,
            training: true,
        }
    }
}

impl Forward for AvgPool2d {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::avg_pool2d(input, self.kernel_size, self.opts)
    }
}

/// `nn.AdaptiveAvgPool2d(output_size)`.
///
/// ```
/// use frankentorch::nn::{AdaptiveAvgPool2d, Forward};
/// use frankentorch::prelude::*;
/// let p = AdaptiveAvgPool2d::new([1, 1]);
/// assert_eq!(p.forward(&ops::ones(&[2, 3, 5, 5]).unwrap()).unwrap().sizes(), &[2, 3, 1, 1]);
/// ```
#[derive(Module)]
pub struct AdaptiveAvgPool2d {
    /// Output height and width.
    pub output_size: [i64; 2],
    #[training]
    training: bool,
}

impl AdaptiveAvgPool2d {
    /// The pooling layer.
    pub fn new(output_size: [i64; 2]) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d {
            output_size,
            training: true,
        }
    }
}

impl Forward for AdaptiveAvgPool2d {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::adaptive_avg_pool2d(input, self.output_size)
    }
}
