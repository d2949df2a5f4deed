//! # FrankenTorch
//!
//! PyTorch's core, reimplemented in memory-safe Rust: strided tensors with
//! views, broadcasting and type promotion, a dispatcher, and an autograd
//! engine. Operators are declared in `schema/ops.toml`; their API, dispatch
//! entries and backward nodes are generated into `generated/`.
//!
//! ```
//! use frankentorch::prelude::*;
//! # fn main() -> frankentorch::Result<()> {
//! let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3])?;
//! x.requires_grad_(true)?;
//! let y = x.mul(&x)?.sum()?;
//! backward(&y)?;
//! assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![2.0, 4.0, 6.0]);
//! # Ok(()) }
//! ```

// Lets `#[derive(Module)]`'s `::frankentorch::…` paths resolve inside this crate too.
extern crate self as frankentorch;

mod activation_helpers;
pub mod autograd_helpers;
mod boxed;
pub mod composite;
pub mod composite_activation;
pub mod composite_dropout;
pub mod composite_einsum;
pub mod composite_index;
pub mod composite_linalg;
pub mod composite_loss;
pub mod composite_nn;
pub mod composite_pointwise;
pub mod composite_reduce;
pub mod composite_rnn;
pub mod composite_upsample;
pub mod datasets;
mod grad_arith;
mod hardened;
pub mod indexing;
pub mod mode;
pub mod nn;
pub mod optim;
mod pointwise_helpers;
pub mod serialize;
pub mod state_value;
pub mod testing;
pub mod utils;
pub mod variants;

#[path = "../generated/autograd.rs"]
#[doc(hidden)]
// PyTorch's argument names are kept as written (`native_group_norm`'s `N`,
// `C`, `HxW`).
#[allow(non_snake_case)]
pub mod generated_autograd;
#[path = "../generated/methods.rs"]
#[doc(hidden)]
pub mod generated_methods;
#[path = "../generated/ops.rs"]
#[doc(hidden)]
// PyTorch's argument names are kept as written (`native_group_norm`'s `N`, `C`, `HxW`).
#[allow(non_snake_case)]
pub mod generated_ops;
#[path = "../generated/variants.rs"]
#[doc(hidden)]
pub mod generated_variants;

/// Generated code (from `schema/`): operators, dispatch entries, backward nodes.
pub mod generated {
    pub use crate::generated_autograd as autograd;
    pub use crate::generated_methods as methods;
    pub use crate::generated_ops as ops;
    pub use crate::generated_variants as variants;
}

/// Every operator as a function (`ops::add(&a, &b)`), plus by-name calls.
pub mod ops {
    pub use crate::boxed::{call, schemas};
    pub use crate::generated::ops::*;
}

pub use ft_runtime::random::{default_generator, manual_seed, Generator};
pub use ft_runtime::{
    alloc, autograd, dispatch, parallel, promote_types, shape, tls, DType, Device, Element, Error, ErrorKind, Layout,
    MemoryFormat, Result, Scalar, Storage, Tensor,
};
pub use generated::methods::TensorOps;
pub use grad_arith::{backward, backward_full, grad};
pub use indexing::IndexOp;

/// Everything a typical program needs: `use frankentorch::prelude::*`.
pub mod prelude {
    pub use crate::indexing::{s, Ellipsis, IndexOp, NewAxis, RangeStep, TensorIndex};
    pub use crate::nn::{Forward, Module};
    pub use crate::ops;
    pub use crate::tls::{enable_grad, no_grad};
    pub use crate::{backward, grad, manual_seed, DType, Device, Error, Result, Scalar, Tensor, TensorOps};
}

/// The README's example, compiled and run as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
