//! `torch.nn.utils` for Rust: gradient clipping and flattening parameters
//! into one vector. Every function takes the parameters as `&[Tensor]`.
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::nn::utils::{clip_grad_norm_, ClipGradNormOpts};
//! # fn main() -> frankentorch::Result<()> {
//! let w = Tensor::from_vec(vec![3.0f32, 4.0], &[2])?;
//! w.requires_grad_(true)?;
//! backward(&w.mul(&w)?.sum()?.div_scalar(2.0)?)?; // grad = w = [3, 4], norm 5
//! let total = clip_grad_norm_(&[w.clone()], 1.0, ClipGradNormOpts::default())?;
//! assert_eq!(total.item()?.to_f64(), 5.0);
//! # Ok(()) }
//! ```

mod clip_grad;
mod convert_parameters;

pub use clip_grad::{clip_grad_norm_, clip_grad_value_, get_total_norm, ClipGradNormOpts};
pub use convert_parameters::{parameters_to_vector, vector_to_parameters};
