//! `torch.nn.functional` for Rust: `use frankentorch::nn::functional as F;`.
//!
//! # Conventions (one rule for every function here)
//!
//! - One function per `torch.nn.functional` function, with the same name.
//! - Python's required arguments are positional Rust arguments, in Python's
//!   order (`F::cross_entropy(&input, &target, …)`).
//! - Python's arguments that have defaults live in one options struct per
//!   function, named after it in UpperCamelCase with an `Opts` suffix
//!   (`CrossEntropyOpts`), passed by value as the last argument. Its public
//!   fields carry Python's names and its `Default` is Python's defaults, so a
//!   call reads like the Python one:
//!   `F::cross_entropy(&x, &t, F::CrossEntropyOpts { label_smoothing: 0.1, ..Default::default() })`.
//!   A function whose Python signature has no defaulted arguments has no
//!   options struct.
//! - Python's "int or tuple" arguments are fixed-size arrays (`[i64; 2]`);
//!   `reduction='mean'` is [`Reduction`]; optional tensors are
//!   `Option<&Tensor>` fields.
//! - `inplace=True` is a separate function with a trailing underscore
//!   (`F::relu_`), as PyTorch's in-place ops are.
//! - Each function returns `Result`; bad arguments are an [`crate::Error`]
//!   naming the function (`"F.conv2d"`) or the aten op it called.
//!
//! Functions that are single aten ops call the generated op; functions that
//! PyTorch composes in Python are composed here the same way, so gradients
//! flow through the ops they call.

mod activation;
mod attention;
mod conv;
mod distance;
mod dropout;
mod linear;
mod loss;
mod multi_head_attention;
mod normalization;
mod pooling;
mod reduction;
mod sparse;
mod vision;

pub use activation::*;
pub use attention::*;
pub use conv::*;
pub use distance::*;
pub use dropout::*;
pub use linear::*;
pub use loss::*;
pub use multi_head_attention::*;
pub use normalization::*;
pub use pooling::*;
pub use reduction::Reduction;
pub use sparse::*;
pub use vision::*;
