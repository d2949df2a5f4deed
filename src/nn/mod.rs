//! Neural-network building blocks, shaped like `torch.nn`.
//!
//! [`functional`] is `torch.nn.functional`: stateless functions over tensors.

pub mod functional;
