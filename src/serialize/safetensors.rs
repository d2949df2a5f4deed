//! The safetensors format: [`save`] / [`save_file`] write it, [`load`] /
//! [`load_file`] / [`deserialize`] read it, failing closed on anything
//! malformed.
//!
//! A file is an 8-byte little-endian header length `N`, `N` bytes of JSON
//! (`{"__metadata__": {..}, "name": {"dtype": "F32", "shape": [2, 3],
//! "data_offsets": [begin, end]}, ..}`, padded with spaces to a multiple of
//! 8 bytes), then the tensors' little-endian, row-major bytes, whose offsets
//! are relative to the end of the header.
//!
//! The writer lays files out exactly as the reference `safetensors` package
//! (0.8): tensors ordered by dtype alignment (largest first, in its dtype
//! order) then by name, the header as compact JSON with `__metadata__`
//! first, spaces up to a multiple of 8 bytes. Files written here are byte
//! for byte those Python's `safetensors.torch.save` writes for the same
//! tensors (with at most one metadata entry: Python orders several in hash
//! order, here they are sorted).

use crate::{ops, DType, Error, ErrorKind, Result, Storage, Tensor};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The largest header accepted (the reference reader's limit).
const MAX_HEADER_SIZE: u64 = 100_000_000;
const METADATA_KEY: &str = "__metadata__";

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

/// The format's name for a dtype.
fn dtype_code(d: DType) -> &'static str {
    match d {
        DType::Bool => "BOOL",
        DType::U8 => "U8",
        DType::I8 => "I8",
        DType::I16 => "I16",
        DType::I32 => "I32",
        DType::I64 => "I64",
        DType::F16 => "F16",
        DType::BF16 => "BF16",
        DType::F32 => "F32",
        DType::F64 => "F64",
    }
}

/// The dtype of a format name: ours, a format dtype we do not have
/// (`NotSupported`), or an unknown name (`InvalidArgument`).
fn dtype_of(code: &str, name: &str) -> Result<DType> {
    let d = match code {
        "BOOL" => DType::Bool,
        "U8" => DType::U8,
        "I8" => DType::I8,
        "I16" => DType::I16,
        "I32" => DType::I32,
        "I64" => DType::I64,
        "F16" => DType::F16,
        "BF16" => DType::BF16,
        "F32" => DType::F32,
        "F64" => DType::F64,
        "U16" | "U32" | "U64" | "F8_E4M3" | "F8_E5M2" | "F8_E8M0" | "F4" | "F6_E2M3" | "F6_E3M2" | "C64" => {
            return Err(op_err(
                ErrorKind::NotSupported,
                format!("tensor {name:?} has dtype {code}, which FrankenTorch does not have"),
            ));
        }
        other => return Err(invalid(format!("tensor {name:?} has an unknown dtype {other:?}"))),
    };
    Ok(d)
}

/// The rank of a dtype in the reference package's dtype order (ascending
/// alignment); the writer puts higher ranks first.
fn dtype_rank(d: DType) -> u8 {
    match d {
        DType::Bool => 0,
        DType::U8 => 1,
        DType::I8 => 2,
        DType::I16 => 5,
        DType::F16 => 7,
        DType::BF16 => 8,
        DType::I32 => 9,
        DType::F32 => 11,
        DType::F64 => 12,
        DType::I64 => 13,
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

/// JSON text of a string, escaped as serde_json writes it.
fn json_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
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
    for (name, _) in tensors {
        let name = name.as_ref();
        if name == METADATA_KEY {
            return Err(invalid("a tensor cannot be named __metadata__"));
        }
        if !seen.insert(name) {
            return Err(invalid(format!("duplicate tensor name {name:?}")));
        }
    }
    let mut order: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_ref(), t)).collect();
    order.sort_by(|(ln, lt), (rn, rt)| {
        dtype_rank(rt.dtype())
            .cmp(&dtype_rank(lt.dtype()))
            .then_with(|| ln.as_bytes().cmp(rn.as_bytes()))
    });
    let mut entries = Vec::new();
    if let Some(meta) = metadata {
        let body: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
            .collect();
        entries.push(format!("{}:{{{}}}", json_str(METADATA_KEY), body.join(",")));
    }
    let mut data = Vec::new();
    for (name, t) in &order {
        let bytes = tensor_bytes(t)?;
        let begin = data.len();
        data.extend_from_slice(&bytes);
        let shape: Vec<String> = t.sizes().iter().map(usize::to_string).collect();
        entries.push(format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            json_str(name),
            dtype_code(t.dtype()),
            shape.join(","),
            begin,
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", entries.join(",")).into_bytes();
    header.resize(header.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    Ok(out)
}

/// [`save`] to a file (`safetensors.torch.save_file`).
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
    let path = path.as_ref();
    std::fs::write(path, bytes).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))
}

/// The header's top-level entries in order, rejecting duplicate keys (a
/// JSON map would keep only the last).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Entries, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Entries, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                let mut seen = BTreeSet::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// One tensor's header entry.
struct Info {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

fn parse_usize(v: &Value, what: &str, name: &str) -> Result<usize> {
    v.as_u64().and_then(|x| usize::try_from(x).ok()).ok_or_else(|| {
        invalid(format!(
            "tensor {name:?}: {what} must hold non-negative integers, got {v}"
        ))
    })
}

fn parse_info(name: String, v: &Value) -> Result<Info> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(format!("tensor {name:?}: expected an object, got {v}")))?;
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets"))
    {
        return Err(invalid(format!("tensor {name:?}: unexpected field {k:?}")));
    }
    let field = |k: &str| {
        obj.get(k)
            .ok_or_else(|| invalid(format!("tensor {name:?}: missing field {k:?}")))
    };
    let code = field("dtype")?
        .as_str()
        .ok_or_else(|| invalid(format!("tensor {name:?}: dtype must be a string")))?;
    let dtype = dtype_of(code, &name)?;
    let shape = field("shape")?
        .as_array()
        .ok_or_else(|| invalid(format!("tensor {name:?}: shape must be an array")))?
        .iter()
        .map(|d| parse_usize(d, "shape", &name))
        .collect::<Result<Vec<_>>>()?;
    let offsets = field("data_offsets")?
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| invalid(format!("tensor {name:?}: data_offsets must be [begin, end]")))?;
    let begin = parse_usize(&offsets[0], "data_offsets", &name)?;
    let end = parse_usize(&offsets[1], "data_offsets", &name)?;
    Ok(Info {
        name,
        dtype,
        shape,
        begin,
        end,
    })
}

fn parse_metadata(v: &Value) -> Result<BTreeMap<String, String>> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("__metadata__ must be an object of strings"))?;
    obj.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(invalid(format!(
                "__metadata__ value of {k:?} must be a string, got {v}"
            ))),
        })
        .collect()
}

/// A tensor from its validated bytes.
fn build_tensor(info: &Info, bytes: &[u8]) -> Result<Tensor> {
    if info.dtype == DType::Bool {
        if let Some(i) = bytes.iter().position(|&b| b > 1) {
            return Err(invalid(format!(
                "tensor {:?}: BOOL element {i} is byte {}, not 0 or 1",
                info.name, bytes[i]
            )));
        }
    }
    let mut owned = bytes.to_vec();
    if cfg!(target_endian = "big") {
        owned.chunks_mut(info.dtype.itemsize()).for_each(<[u8]>::reverse);
    }
    let mut strides = vec![1usize; info.shape.len()];
    for d in (0..info.shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * info.shape[d + 1].max(1);
    }
    Tensor::from_storage(Storage::from_bytes(&owned), &info.shape, &strides, 0, info.dtype)
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
    if bytes.len() < 8 {
        return Err(invalid(format!(
            "the data is {} bytes long, shorter than the 8-byte header length",
            bytes.len()
        )));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[..8]);
    let n = u64::from_le_bytes(len_bytes);
    if n > MAX_HEADER_SIZE {
        return Err(invalid(format!(
            "header length {n} is larger than the limit of {MAX_HEADER_SIZE} bytes"
        )));
    }
    let rest = bytes.len() - 8;
    if n > rest as u64 {
        return Err(invalid(format!(
            "header length {n} runs past the end of the data ({rest} bytes after the length)"
        )));
    }
    let n = n as usize;
    let text = std::str::from_utf8(&bytes[8..8 + n]).map_err(|e| invalid(format!("the header is not UTF-8: {e}")))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = <Entries as serde::Deserialize>::deserialize(&mut de)
        .map_err(|e| invalid(format!("the header is not a valid JSON object: {e}")))?;
    de.end()
        .map_err(|e| invalid(format!("the header has text after its JSON object: {e}")))?;
    let mut metadata = None;
    let mut infos = Vec::new();
    for (name, v) in entries.0 {
        if name == METADATA_KEY {
            metadata = Some(parse_metadata(&v)?);
        } else {
            infos.push(parse_info(name, &v)?);
        }
    }
    infos.sort_by_key(|i| (i.begin, i.end));
    let data = &bytes[8 + n..];
    let mut expected_begin = 0usize;
    let mut tensors = Vec::with_capacity(infos.len());
    for info in &infos {
        if info.begin != expected_begin || info.end < info.begin {
            return Err(invalid(format!(
                "tensor {:?}: data_offsets [{}, {}] do not start where the previous tensor ends ({expected_begin}): offsets overlap, leave a gap or are reversed",
                info.name, info.begin, info.end
            )));
        }
        if info.end > data.len() {
            return Err(invalid(format!(
                "tensor {:?}: data_offsets [{}, {}] run past the end of the data ({} bytes)",
                info.name,
                info.begin,
                info.end,
                data.len()
            )));
        }
        let nbytes = info
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .and_then(|numel| numel.checked_mul(info.dtype.itemsize()))
            .ok_or_else(|| invalid(format!("tensor {:?}: shape {:?} overflows", info.name, info.shape)))?;
        if info.end - info.begin != nbytes {
            return Err(invalid(format!(
                "tensor {:?}: {} bytes of data, but shape {:?} of {} needs {nbytes}",
                info.name,
                info.end - info.begin,
                info.shape,
                dtype_code(info.dtype)
            )));
        }
        tensors.push((info.name.clone(), build_tensor(info, &data[info.begin..info.end])?));
        expected_begin = info.end;
    }
    if expected_begin != data.len() {
        return Err(invalid(format!(
            "{} bytes of data follow the last tensor (the tensors cover {expected_begin} of {} bytes)",
            data.len() - expected_begin,
            data.len()
        )));
    }
    Ok(SafeTensorsFile { tensors, metadata })
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
/// file is an error naming the path.
///
/// ```
/// use frankentorch::serialize::safetensors;
/// let e = safetensors::load_file("/nonexistent/model.safetensors").unwrap_err();
/// assert!(e.to_string().contains("/nonexistent/model.safetensors"));
/// ```
pub fn load_file(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>> {
    Ok(deserialize_file(path)?.tensors.into_iter().collect())
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
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    deserialize(&bytes).map_err(|e| Error::new(e.kind(), e.op(), format!("{}: {}", path.display(), e.message())))
}
