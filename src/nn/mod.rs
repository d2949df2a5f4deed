//! Neural-network building blocks, shaped like `torch.nn`.
//!
//! [`functional`] is `torch.nn.functional`: stateless functions over tensors;
//! [`utils`] is `torch.nn.utils` (gradient clipping, parameter vectors).

pub mod functional;
pub mod utils;
