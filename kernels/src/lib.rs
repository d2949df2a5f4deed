//! FrankenTorch CPU kernels.
//!
//! Every function here computes one operator overload on CPU tensors and is
//! registered for the `CPU` dispatch key by the generated dispatcher entries
//! (see `schema/ops.toml`). Kernels never record autograd history and never
//! bump version counters: the generated Autograd and ADInplaceOrView kernels
//! do that around them.

pub mod activation;
pub mod advanced;
pub mod binary;
pub mod bitwise;
pub mod compare;
pub mod copy;
pub mod cpu;
pub mod distributions;
pub mod factory;
pub mod fill;
pub mod fold;
pub mod gated_activation;
pub mod gemm;
pub mod index;
pub mod iter;
pub mod join;
pub mod lanes;
pub mod lerp;
pub mod linalg;
pub mod masked_backward;
pub mod metadata;
pub mod nn;
pub mod piecewise_activation;
pub mod pointwise;
pub mod pow;
pub mod random;
mod random_avx;
pub mod reduce;
pub mod reductions;
pub mod scan;
pub mod select_dim;
pub mod shape_ops;
pub mod simd;
pub mod smooth_activation;
pub mod softmax_lastdim;
pub mod sort;
pub mod structured;
pub mod ternary;
pub mod unary;
pub mod view;
