//! The layers of `torch.nn` (one family per file), each a
//! [`Module`](super::Module) with torch's constructor options (a `…Config`
//! struct whose `Default` is torch's defaults), parameter and buffer names,
//! shapes and default initialisation (same draws in the same order).

mod activation;
mod attention;
mod container;
mod conv;
mod dropout;
mod linear;
mod loss;
mod normalization;
mod pooling;
mod rnn;
mod shape;
mod sparse;
mod transformer;

pub use activation::*;
pub use attention::*;
pub use container::*;
pub use conv::*;
pub use dropout::*;
pub use linear::*;
pub use loss::*;
pub use normalization::*;
pub use pooling::*;
pub use rnn::*;
pub use shape::*;
pub use sparse::*;
pub use transformer::*;

use crate::{ops, DType, Result, Tensor};

/// An uninitialised (zero-filled) parameter of `shape` and `dtype`
/// (default float32) that requires grad, as `Parameter(torch.empty(shape))`.
pub(crate) fn empty_param(shape: &[usize], dtype: Option<DType>) -> Result<Tensor> {
    let shape: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
    let t = ops::zeros_full(&shape, Some(dtype.unwrap_or(DType::F32)), None, None, None)?;
    super::parameter(t)
}
