//! PyTorch's `.pt` checkpoints: [`save`] writes what `torch.save` writes
//! (the zip format), [`load`] reads that and the legacy pre-1.6 format the
//! way `torch.load(weights_only=True)` does, failing closed on anything a
//! state dict does not contain (see [`pickle::reader`](super::pickle::reader)).
//!
//! Tensors load as CPU tensors viewing one [`Storage`](crate::Storage) per
//! storage of the file (views stay views, with their strides and offsets);
//! storages saved from CUDA load onto the CPU, as with
//! `map_location='cpu'`.
//!
//! ```
//! use frankentorch::nn::{Linear, LinearConfig, Module};
//! use frankentorch::serialize::pt;
//! # fn main() -> frankentorch::Result<()> {
//! let a = Linear::new(3, 2, LinearConfig::default())?;
//! let bytes = pt::save_to_bytes(&(&a.state_dict()).into())?;
//! let b = Linear::new(3, 2, LinearConfig::default())?;
//! b.load_state_dict(&pt::load_from_bytes(&bytes)?.try_into()?, true)?;
//! assert_eq!(a.weight.to_vec::<f32>()?, b.weight.to_vec::<f32>()?);
//! # Ok(()) }
//! ```

mod archive;
mod legacy;

use super::{read_bytes, LoadOpts, Value};
use crate::nn::StateDict;
use crate::{Error, Result};
use std::path::Path;

pub use archive::SaveOpts;

/// Saves `value` to `path` as `torch.save(value, path)` does; the archive's
/// root folder is the file name without its extension (torch's choice).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::{pt, Value};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_pt_doc_save.pt");
/// pt::save(&Value::Tensor(ops::ones(&[2])?), &path)?;
/// assert_eq!(pt::load(&path)?.as_tensor().unwrap().sizes(), &[2]);
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn save(value: &Value, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("archive");
    let opts = SaveOpts {
        archive_name: name.to_string(),
        ..SaveOpts::default()
    };
    let bytes = archive::save(value, &opts)?;
    std::fs::write(path, bytes).map_err(|e| Error::invalid("torch.save", format!("{}: {e}", path.display())))
}

/// The bytes `torch.save(value, io.BytesIO())` writes (root folder `archive`).
///
/// ```
/// use frankentorch::serialize::{pt, Value};
/// let bytes = pt::save_to_bytes(&Value::Int(7)).unwrap();
/// assert_eq!(&bytes[..4], b"PK\x03\x04");
/// assert!(matches!(pt::load_from_bytes(&bytes).unwrap(), Value::Int(7)));
/// ```
pub fn save_to_bytes(value: &Value) -> Result<Vec<u8>> {
    archive::save(value, &SaveOpts::default())
}

/// [`save_to_bytes`] with options (root folder name, zip64 limits).
///
/// ```
/// use frankentorch::serialize::{pt, Value};
/// let opts = pt::SaveOpts { archive_name: "model".into(), ..Default::default() };
/// let bytes = pt::save_to_bytes_with(&Value::None, &opts).unwrap();
/// assert_eq!(&bytes[30..44], b"model/data.pkl");
/// ```
pub fn save_to_bytes_with(value: &Value, opts: &SaveOpts) -> Result<Vec<u8>> {
    archive::save(value, opts)
}

/// Loads a checkpoint file (zip or legacy format) with the default
/// [`LoadOpts`] (in hardened mode, only through a verified sidecar).
pub fn load(path: impl AsRef<Path>) -> Result<Value> {
    load_with(path, &LoadOpts::default())
}

/// Loads a checkpoint file under `opts` (its RaptorQ sidecar is checked,
/// and damage repaired in memory, as the [`SidecarPolicy`](super::SidecarPolicy) says).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::{pt, sidecar, LoadOpts, SidecarPolicy, Value};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_pt_doc_load_with.pt");
/// pt::save(&Value::Tensor(ops::ones(&[4])?), &path)?;
/// let require = LoadOpts { sidecar: SidecarPolicy::Require };
/// assert!(pt::load_with(&path, &require).is_err()); // no sidecar yet
/// sidecar::write(&path, &Default::default())?;
/// assert!(pt::load_with(&path, &require)?.as_tensor().is_some());
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
/// # Ok(()) }
/// ```
pub fn load_with(path: impl AsRef<Path>, opts: &LoadOpts) -> Result<Value> {
    let (bytes, _report) = read_bytes(path.as_ref(), opts)?;
    load_from_bytes(&bytes)
}

/// Loads a checkpoint held in memory (zip or legacy format).
///
/// ```
/// use frankentorch::serialize::pt;
/// let e = pt::load_from_bytes(b"garbage").unwrap_err();
/// assert!(e.to_string().starts_with("torch.load:"));
/// ```
pub fn load_from_bytes(bytes: &[u8]) -> Result<Value> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        archive::load(bytes)
    } else if bytes.starts_with(b"\x80") {
        legacy::load(bytes)
    } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        Err(Error::not_supported(
            "torch.load",
            "the tar checkpoint format (torch < 0.4) is not supported",
        ))
    } else {
        Err(Error::invalid(
            "torch.load",
            "not a checkpoint: neither a zip archive nor a legacy pickle (invalid load key)",
        ))
    }
}

/// Saves a module's state dict (`torch.save(model.state_dict(), path)`).
///
/// ```
/// use frankentorch::nn::{Linear, LinearConfig, Module};
/// use frankentorch::serialize::pt;
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_pt_doc_sd.pt");
/// let lin = Linear::new(2, 2, LinearConfig::default())?;
/// pt::save_state_dict(&lin.state_dict(), &path)?;
/// assert_eq!(pt::load_state_dict(&path)?.keys(), ["weight", "bias"]);
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn save_state_dict(sd: &StateDict, path: impl AsRef<Path>) -> Result<()> {
    save(&Value::from(sd), path)
}

/// Loads a file holding a state dict (a dict of name → tensor).
pub fn load_state_dict(path: impl AsRef<Path>) -> Result<StateDict> {
    load(path)?.try_into()
}

/// Swaps each `itemsize`-byte element of `bytes` (big-endian files).
pub(crate) fn swap_bytes(bytes: &mut [u8], itemsize: usize) {
    if itemsize > 1 {
        for chunk in bytes.chunks_exact_mut(itemsize) {
            chunk.reverse();
        }
    }
}
