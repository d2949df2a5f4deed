//! Saving and loading tensors: the [`safetensors`] format.
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::serialize::safetensors;
//! # fn main() -> frankentorch::Result<()> {
//! let bytes = safetensors::save(&[("w", ops::ones(&[2, 2])?)], None)?;
//! assert_eq!(safetensors::load(&bytes)?["w"].sizes(), &[2, 2]);
//! # Ok(()) }
//! ```

pub mod safetensors;
