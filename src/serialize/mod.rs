//! Saving and loading tensors: PyTorch's `.pt` checkpoints ([`pt`], over a
//! [`zip`] container and a restricted [`pickle`] machine, holding
//! [`Value`]s), the [`safetensors`] format, RaptorQ [`sidecar`]s that
//! detect and repair damage in any checkpoint file, and the [`LoadOpts`]
//! every loader takes.
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::serialize::{pt, safetensors, Value};
//! # fn main() -> frankentorch::Result<()> {
//! let bytes = safetensors::save(&[("w", ops::ones(&[2, 2])?)], None)?;
//! assert_eq!(safetensors::load(&bytes)?["w"].sizes(), &[2, 2]);
//! let ckpt = pt::save_to_bytes(&Value::Tensor(ops::ones(&[3])?))?;
//! assert_eq!(pt::load_from_bytes(&ckpt)?.as_tensor().unwrap().sizes(), &[3]);
//! # Ok(()) }
//! ```

mod load_opts;
mod object;
pub mod pickle;
pub mod pt;
pub mod safetensors;
pub mod sidecar;
pub mod zip;

pub use load_opts::{read_bytes, LoadOpts, SidecarPolicy};
pub(crate) use load_opts::{require_sidecar, write_atomic};
pub use object::Value;
