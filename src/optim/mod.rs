//! `torch.optim` for Rust: optimizers over plain parameter tensors, with
//! PyTorch's update formulas (the single-tensor CPU path, in torch's order of
//! floating-point operations), option checks, parameter groups and
//! `state_dict` layout; and [`lr_scheduler`].
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::optim::{Adam, AdamOpts, Optimizer};
//! let w = Tensor::from_vec(vec![3.0f32, -2.0], &[2]).unwrap();
//! w.requires_grad_(true).unwrap();
//! let mut opt = Adam::new(vec![w.clone()], AdamOpts { lr: 0.1, ..Default::default() }).unwrap();
//! for _ in 0..100 {
//!     opt.zero_grad(true).unwrap();
//!     backward(&w.mul(&w).unwrap().sum().unwrap()).unwrap();
//!     opt.step().unwrap();
//! }
//! assert!(w.to_vec::<f32>().unwrap().iter().all(|v| v.abs() < 0.5));
//! ```
//!
//! Options torch offers for other devices or for autograd through the
//! update (`foreach`, `fused`, `capturable`, `differentiable`) are not
//! offered; their keys still appear in `param_groups` with torch's default
//! values so state dicts have torch's layout.

mod adagrad;
mod adam;
mod adamax;
pub mod lr_scheduler;
mod nadam;
mod optimizer;
mod radam;
mod rmsprop;
mod sgd;

pub use adagrad::{Adagrad, AdagradOpts};
pub use adam::{Adam, AdamOpts, AdamW, AdamWOpts};
pub use adamax::{Adamax, AdamaxOpts};
pub use nadam::{NAdam, NAdamOpts};
pub(crate) use optimizer::py_float as optimizer_py_float;
pub use optimizer::{Optimizer, OptimizerCore, ParamGroup, Params};
pub use radam::{RAdam, RAdamOpts};
pub use rmsprop::{RMSprop, RmspropOpts};
pub use sgd::{SgdOpts, SGD};
