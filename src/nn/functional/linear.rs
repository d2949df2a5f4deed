//! `F::linear` (one aten op).

use crate::ops;
use crate::{Result, Tensor};

/// Options of [`linear`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct LinearOpts<'a> {
    /// Added to every output row (default none).
    pub bias: Option<&'a Tensor>,
}

/// `F.linear`: `input @ weight.T + bias`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[2, 3]).unwrap();
/// let w = ops::ones(&[4, 3]).unwrap();
/// let y = F::linear(&x, &w, Default::default()).unwrap();
/// assert_eq!(y.sizes(), &[2, 4]);
/// ```
pub fn linear(input: &Tensor, weight: &Tensor, opts: LinearOpts) -> Result<Tensor> {
    ops::linear(input, weight, opts.bias)
}

/// Options of [`bilinear`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct BilinearOpts<'a> {
    /// Added to every output (default none).
    pub bias: Option<&'a Tensor>,
}

/// `F.bilinear`: `y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x1 = ops::ones(&[2, 3]).unwrap();
/// let x2 = ops::ones(&[2, 4]).unwrap();
/// let w = ops::ones(&[5, 3, 4]).unwrap();
/// assert_eq!(F::bilinear(&x1, &x2, &w, Default::default()).unwrap().sizes(), &[2, 5]);
/// ```
pub fn bilinear(input1: &Tensor, input2: &Tensor, weight: &Tensor, opts: BilinearOpts) -> Result<Tensor> {
    ops::bilinear(input1, input2, weight, opts.bias)
}
