//! Neural-network building blocks, shaped like `torch.nn`.
//!
//! - [`Module`] (trait and `#[derive(Module)]`) is `nn.Module`: parameters,
//!   buffers, children, train/eval, `zero_grad`, `to_dtype`, state dicts.
//! - [`Forward`] is a single-tensor `forward`; [`Layer`] = `Module + Forward`
//!   is what [`Sequential`] holds.
//! - The layers (`Linear`, `Conv2d`, `BatchNorm2d`, `ReLU`, `CrossEntropyLoss`, …)
//!   live in `modules` and are re-exported here.
//! - [`init`] is `torch.nn.init`; [`functional`] is `torch.nn.functional`;
//!   [`utils`] is `torch.nn.utils` (gradient clipping, parameter vectors).

pub mod functional;
pub mod init;
mod module;
mod modules;
mod state_dict;
pub mod utils;

pub use frankentorch_derive::Module;
pub use module::{parameter, AsDynModule, Forward, Layer, Module, TensorField};
pub use modules::*;
pub use state_dict::{IncompatibleKeys, StateDict};
