//! Saving and loading tensors: the [`safetensors`] format, RaptorQ
//! [`sidecar`]s that detect and repair damage in any checkpoint file, and
//! the [`LoadOpts`] every loader takes.
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::serialize::safetensors;
//! # fn main() -> frankentorch::Result<()> {
//! let bytes = safetensors::save(&[("w", ops::ones(&[2, 2])?)], None)?;
//! assert_eq!(safetensors::load(&bytes)?["w"].sizes(), &[2, 2]);
//! # Ok(()) }
//! ```

mod load_opts;
pub mod safetensors;
pub mod sidecar;

pub(crate) use load_opts::write_atomic;
pub use load_opts::{read_bytes, LoadOpts, SidecarPolicy};
