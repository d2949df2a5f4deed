//! The safetensors format, on the `safetensors` crate: [`save`] /
//! [`save_file`] write it, [`load`] / [`load_file`] / [`deserialize`] read
//! it, failing closed on anything malformed, and [`SafeTensorsMmap`] maps a
//! large file and materialises only the tensors asked for.
//!
//! A file is an 8-byte little-endian header length `N`, `N` bytes of JSON
//! (`{"__metadata__": {..}, "name": {"dtype": "F32", "shape": [2, 3],
//! "data_offsets": [begin, end]}, ..}`, padded with spaces to a multiple of
//! 8 bytes), then the tensors' little-endian, row-major bytes, whose offsets
//! are relative to the end of the header.
//!
//! The crate lays files out (tensors ordered by dtype alignment, largest
//! first, then by name; compact JSON padded with spaces) and validates
//! their layout when reading. FrankenTorch adds stricter header checks
//! (duplicate names, unknown fields, BOOL bytes other than 0/1) and writes
//! several `__metadata__` entries sorted by key (the crate writes them in
//! hash order, which varies between runs). Files written here are byte for
//! byte those Python's `safetensors.torch.save` writes for the same tensors
//! (with at most one metadata entry: Python orders several in hash order).
//!
//! [`load_file_with`] / [`deserialize_file_with`] can check (and repair in
//! memory) the file through its RaptorQ sidecar first; see
//! [`crate::serialize::LoadOpts`].

mod header;
mod mmap;

pub use mmap::{SafeTensorsMmap, TensorInfo};

use crate::serialize::{read_bytes, LoadOpts};
use crate::{ops, Error, ErrorKind, Result, Storage, Tensor};
use header::METADATA_KEY;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A parsed safetensors file: the tensors in file order and the optional
/// `__metadata__` strings.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors;
/// # fn main() -> frankentorch::Result<()> {
/// let bytes = safetensors::save(&[("w", ops::ones(&[2])?)], None)?;
/// let file = safetensors::deserialize(&bytes)?;
/// assert_eq!(file.tensors[0].0, "w");
/// assert!(file.metadata.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SafeTensorsFile {
    /// `(name, tensor)` in the order of their data in the file.
    pub tensors: Vec<(String, Tensor)>,
    /// The `__metadata__` entries, if the header has them.
    pub metadata: Option<BTreeMap<String, String>>,
}

fn op_err(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error::new(kind, "safetensors", message)
}

fn invalid(message: impl Into<String>) -> Error {
    op_err(ErrorKind::InvalidArgument, message)
}

/// A tensor's little-endian row-major bytes, as the crate's writer wants.
struct Prepared {
    dtype: ::safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl ::safetensors::View for Prepared {
    fn dtype(&self) -> ::safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// A tensor's elements as little-endian row-major bytes.
fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>> {
    let t = ops::contiguous(&t.detach())?;
    let item = t.dtype().itemsize();
    let start = t.storage_offset() * item;
    let mut bytes = t.storage().to_bytes()[start..start + t.numel() * item].to_vec();
    if cfg!(target_endian = "big") {
        bytes.chunks_mut(item).for_each(<[u8]>::reverse);
    }
    Ok(bytes)
}

/// Adds `"__metadata__":{..}` (keys sorted) at the front of the header of
/// `file`, a file the crate wrote without metadata.
fn with_metadata(file: Vec<u8>, meta: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut n = [0u8; 8];
    n.copy_from_slice(&file[..8]);
    let n = u64::from_le_bytes(n) as usize;
    let old = std::str::from_utf8(&file[8..8 + n])
        .map_err(|e| invalid(format!("the writer produced a non-UTF-8 header: {e}")))?
        .trim_end_matches(' ');
    let body = &old[1..old.len() - 1]; // between the braces
    let meta_json = serde_json::to_string(meta).map_err(|e| invalid(format!("cannot write __metadata__: {e}")))?;
    let sep = if body.is_empty() { "" } else { "," };
    let mut header = format!("{{\"{METADATA_KEY}\":{meta_json}{sep}{body}}}").into_bytes();
    header.resize(header.len().div_ceil(8) * 8, b' ');
    if header.len() > 100_000_000 {
        return Err(invalid("the header is larger than the limit of 100000000 bytes"));
    }
    let mut out = Vec::with_capacity(8 + header.len() + file.len() - 8 - n);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&file[8 + n..]);
    Ok(out)
}

/// Serialises tensors (any layout; copied contiguous) and optional
/// metadata into safetensors bytes. Names must be unique and must not be
/// `__metadata__`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors;
/// # fn main() -> frankentorch::Result<()> {
/// let t = Tensor::from_vec(vec![1.0f32, 2.0], &[2])?;
/// let bytes = safetensors::save(&[("t", t)], None)?;
/// assert_eq!(&bytes[..8], &56u64.to_le_bytes()); // 54 bytes of JSON, 2 spaces
/// assert_eq!(&bytes[8..62], br#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#);
/// # Ok(()) }
/// ```
pub fn save<S: AsRef<str>>(tensors: &[(S, Tensor)], metadata: Option<&BTreeMap<String, String>>) -> Result<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut prepared = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let name = name.as_ref();
        if name == METADATA_KEY {
            return Err(invalid("a tensor cannot be named __metadata__"));
        }
        if !seen.insert(name) {
            return Err(invalid(format!("duplicate tensor name {name:?}")));
        }
        let p = Prepared {
            dtype: header::dtype_to_format(t.dtype()),
            shape: t.sizes().to_vec(),
            data: tensor_bytes(t)?,
        };
        prepared.push((name.to_string(), p));
    }
    let file = ::safetensors::serialize(prepared, None).map_err(|e| invalid(format!("cannot serialise: {e}")))?;
    match metadata {
        Some(meta) => with_metadata(file, meta),
        None => Ok(file),
    }
}

/// [`save`] to a file (`safetensors.torch.save_file`). The bytes go to a
/// temporary file renamed over `path`, so a file that is memory-mapped
/// ([`SafeTensorsMmap`]) is replaced, never modified in place.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors;
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_save_file.safetensors");
/// safetensors::save_file(&[("x", ops::zeros(&[3])?)], None, &path)?;
/// assert_eq!(safetensors::load_file(&path)?["x"].sizes(), &[3]);
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn save_file<S: AsRef<str>>(
    tensors: &[(S, Tensor)],
    metadata: Option<&BTreeMap<String, String>>,
    path: impl AsRef<Path>,
) -> Result<()> {
    let bytes = save(tensors, metadata)?;
    crate::serialize::write_atomic(path.as_ref(), &bytes).map_err(|e| e.with_op("safetensors"))
}

/// A tensor from its validated bytes.
fn build_tensor(name: &str, dtype: crate::DType, shape: &[usize], bytes: &[u8]) -> Result<Tensor> {
    if dtype == crate::DType::Bool {
        if let Some(i) = bytes.iter().position(|&b| b > 1) {
            return Err(invalid(format!(
                "tensor {name:?}: BOOL element {i} is byte {}, not 0 or 1",
                bytes[i]
            )));
        }
    }
    let mut owned = bytes.to_vec();
    if cfg!(target_endian = "big") {
        owned.chunks_mut(dtype.itemsize()).for_each(<[u8]>::reverse);
    }
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1].max(1);
    }
    Tensor::from_storage(Storage::from_bytes(&owned), shape, &strides, 0, dtype)
}

/// The strict header of `bytes`, validated against the data by the crate.
fn checked_header(bytes: &[u8]) -> Result<header::Header> {
    let h = header::parse(bytes)?;
    let data_len = bytes.len() - 8 - h.len;
    ::safetensors::SafeTensors::read_metadata(bytes).map_err(|e| header::layout_error(e, &h, data_len))?;
    Ok(h)
}

/// Parses safetensors bytes. Fails (never panics) on: fewer than 8 bytes;
/// a header length past the end of the data or over 100 MB; a header that
/// is not UTF-8, not JSON, not an object, or has duplicate names; a tensor
/// entry with missing, extra or ill-typed fields; an unknown dtype
/// (`InvalidArgument`) or a format dtype FrankenTorch lacks (`U16`, `F8_*`,
/// …: `NotSupported`); offsets that overlap, leave gaps, are out of order
/// (`end < begin`) or out of range; a byte count different from
/// `shape × itemsize` (or a size product that overflows); bytes after the
/// last tensor; BOOL bytes other than 0 and 1.
///
/// ```
/// use frankentorch::serialize::safetensors;
/// assert!(safetensors::deserialize(b"\x02\0\0\0\0\0\0\0{}").is_ok());
/// let err = safetensors::deserialize(b"\xff\0\0\0\0\0\0\0{}").unwrap_err();
/// assert!(err.to_string().contains("header length"));
/// ```
pub fn deserialize(bytes: &[u8]) -> Result<SafeTensorsFile> {
    let h = checked_header(bytes)?;
    let data = &bytes[8 + h.len..];
    let tensors = h
        .entries
        .iter()
        .map(|e| {
            Ok((
                e.name.clone(),
                build_tensor(&e.name, e.dtype, &e.shape, &data[e.begin..e.end])?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SafeTensorsFile {
        tensors,
        metadata: h.metadata,
    })
}

/// The tensors of safetensors bytes by name (`safetensors.torch.load`);
/// see [`deserialize`] for what is rejected.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors;
/// # fn main() -> frankentorch::Result<()> {
/// let bytes = safetensors::save(&[("a", ops::arange(3)?)], None)?;
/// assert_eq!(safetensors::load(&bytes)?["a"].to_vec::<i64>()?, vec![0, 1, 2]);
/// # Ok(()) }
/// ```
pub fn load(bytes: &[u8]) -> Result<BTreeMap<String, Tensor>> {
    Ok(deserialize(bytes)?.tensors.into_iter().collect())
}

/// [`load`] from a file (`safetensors.torch.load_file`); an unreadable
/// file is an error naming the path. The sidecar is ignored; see
/// [`load_file_with`].
///
/// ```
/// use frankentorch::serialize::safetensors;
/// let e = safetensors::load_file("/nonexistent/model.safetensors").unwrap_err();
/// assert!(e.to_string().contains("/nonexistent/model.safetensors"));
/// ```
pub fn load_file(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>> {
    load_file_with(path, &LoadOpts::default())
}

/// [`load_file`] with options: with `SidecarPolicy::IfPresent` or
/// `Require`, the bytes are checked (and repaired in memory when damaged)
/// through the file's RaptorQ sidecar before parsing.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::{safetensors, sidecar, LoadOpts, SidecarPolicy};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_load_file_with.safetensors");
/// safetensors::save_file(&[("x", ops::ones(&[1000])?)], None, &path)?;
/// sidecar::write(&path, &Default::default())?;
/// let mut bytes = std::fs::read(&path).unwrap();
/// bytes[500] ^= 0x40; // damage inside the data
/// std::fs::write(&path, &bytes).unwrap();
/// let opts = LoadOpts { sidecar: SidecarPolicy::Require };
/// assert_eq!(safetensors::load_file_with(&path, &opts)?["x"].to_vec::<f32>()?, vec![1.0; 1000]);
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
/// # Ok(()) }
/// ```
pub fn load_file_with(path: impl AsRef<Path>, opts: &LoadOpts) -> Result<BTreeMap<String, Tensor>> {
    Ok(deserialize_file_with(path, opts)?.tensors.into_iter().collect())
}

/// [`deserialize`] from a file (tensors and metadata).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors;
/// use std::collections::BTreeMap;
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_deserialize_file.safetensors");
/// let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
/// safetensors::save_file(&[("x", ops::ones(&[1])?)], Some(&meta), &path)?;
/// assert_eq!(safetensors::deserialize_file(&path)?.metadata, Some(meta));
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn deserialize_file(path: impl AsRef<Path>) -> Result<SafeTensorsFile> {
    deserialize_file_with(path, &LoadOpts::default())
}

/// [`deserialize_file`] with options (see [`load_file_with`]).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::{safetensors, LoadOpts, SidecarPolicy};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_deserialize_file_with.safetensors");
/// safetensors::save_file(&[("x", ops::ones(&[1])?)], None, &path)?;
/// let opts = LoadOpts { sidecar: SidecarPolicy::Require };
/// let e = safetensors::deserialize_file_with(&path, &opts).unwrap_err();
/// assert!(e.message().contains("sidecar"));
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn deserialize_file_with(path: impl AsRef<Path>, opts: &LoadOpts) -> Result<SafeTensorsFile> {
    let path = path.as_ref();
    let (bytes, _) = read_bytes(path, opts).map_err(|e| {
        if e.op() == crate::serialize::sidecar::OP {
            e
        } else {
            e.with_op("safetensors")
        }
    })?;
    deserialize(&bytes).map_err(|e| Error::new(e.kind(), e.op(), format!("{}: {}", path.display(), e.message())))
}
