//! The checks FrankenTorch adds on top of the `safetensors` crate's
//! reader, and the translation of the crate's errors into messages that
//! name the tensor and the numbers involved.
//!
//! The crate validates the layout (offsets in order and contiguous, byte
//! counts matching shapes, the data fully covered); it accepts duplicate
//! names (the last wins), unknown fields in a tensor entry and text it
//! cannot attribute. This pre-pass rejects those, and reports unknown
//! dtypes and dtypes FrankenTorch lacks precisely.

use super::{invalid, op_err};
use crate::{DType, ErrorKind, Result};
use ::safetensors::{Dtype, SafeTensorError};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The largest header accepted (the crate's limit).
const MAX_HEADER_SIZE: u64 = 100_000_000;
pub(super) const METADATA_KEY: &str = "__metadata__";

/// Our dtype of a format dtype, `None` for those FrankenTorch lacks.
pub(super) fn dtype_from_format(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::BOOL => DType::Bool,
        Dtype::U8 => DType::U8,
        Dtype::I8 => DType::I8,
        Dtype::I16 => DType::I16,
        Dtype::I32 => DType::I32,
        Dtype::I64 => DType::I64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

/// The format dtype of ours.
pub(super) fn dtype_to_format(d: DType) -> Dtype {
    match d {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
    }
}

/// One tensor's header entry.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) dtype: DType,
    pub(super) shape: Vec<usize>,
    pub(super) begin: usize,
    pub(super) end: usize,
}

/// A header that passed the strict checks.
pub(super) struct Header {
    /// The JSON's length in bytes (after the 8-byte length).
    pub(super) len: usize,
    pub(super) entries: Vec<Entry>,
    pub(super) metadata: Option<BTreeMap<String, String>>,
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

fn parse_usize(v: &Value, what: &str, name: &str) -> Result<usize> {
    v.as_u64().and_then(|x| usize::try_from(x).ok()).ok_or_else(|| {
        invalid(format!(
            "tensor {name:?}: {what} must hold non-negative integers, got {v}"
        ))
    })
}

/// The dtype of a format name: ours, a format dtype we lack
/// (`NotSupported`), or a name the format does not have (`InvalidArgument`).
fn parse_dtype(code: &str, name: &str) -> Result<DType> {
    let format: Dtype = serde_json::from_value(Value::String(code.to_string()))
        .map_err(|_| invalid(format!("tensor {name:?} has an unknown dtype {code:?}")))?;
    dtype_from_format(format).ok_or_else(|| {
        op_err(
            ErrorKind::NotSupported,
            format!("tensor {name:?} has dtype {code}, which FrankenTorch does not have"),
        )
    })
}

fn parse_entry(name: String, v: &Value) -> Result<Entry> {
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
    let dtype = parse_dtype(code, &name)?;
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
    Ok(Entry {
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

/// The header's length from the first 8 bytes, checked against the data.
fn header_len(bytes: &[u8]) -> Result<usize> {
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
    Ok(n as usize)
}

/// Parses the header of a whole file's bytes with the strict rules.
pub(super) fn parse(bytes: &[u8]) -> Result<Header> {
    let n = header_len(bytes)?;
    let text = std::str::from_utf8(&bytes[8..8 + n]).map_err(|e| invalid(format!("the header is not UTF-8: {e}")))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = <Entries as serde::Deserialize>::deserialize(&mut de)
        .map_err(|e| invalid(format!("the header is not a valid JSON object: {e}")))?;
    de.end()
        .map_err(|e| invalid(format!("the header has text after its JSON object: {e}")))?;
    let mut metadata = None;
    let mut out = Vec::new();
    for (name, v) in entries.0 {
        if name == METADATA_KEY {
            metadata = Some(parse_metadata(&v)?);
        } else {
            out.push(parse_entry(name, &v)?);
        }
    }
    out.sort_by_key(|e| (e.begin, e.end));
    Ok(Header {
        len: n,
        entries: out,
        metadata,
    })
}

fn shape_bytes(e: &Entry) -> Option<usize> {
    e.shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?
        .checked_mul(e.dtype.itemsize())
}

/// The crate's layout error, with the tensor and numbers it concerns.
pub(super) fn layout_error(e: SafeTensorError, h: &Header, data_len: usize) -> crate::Error {
    let find = |name: &str| h.entries.iter().find(|e| e.name == name);
    match e {
        SafeTensorError::InvalidOffset(name) => match find(&name) {
            Some(t) => invalid(format!(
                "tensor {name:?}: data_offsets [{}, {}] do not start where the previous tensor ends: offsets overlap, leave a gap or are reversed",
                t.begin, t.end
            )),
            None => invalid(format!("tensor {name:?}: invalid data_offsets")),
        },
        SafeTensorError::ValidationOverflow => match h.entries.iter().find(|e| shape_bytes(e).is_none()) {
            Some(t) => invalid(format!("tensor {:?}: shape {:?} overflows", t.name, t.shape)),
            None => invalid("a tensor's shape overflows"),
        },
        SafeTensorError::TensorInvalidInfo => {
            match h.entries.iter().find(|e| shape_bytes(e) != Some(e.end.wrapping_sub(e.begin))) {
                Some(t) => invalid(format!(
                    "tensor {:?}: {} bytes of data, but shape {:?} of {} needs {}",
                    t.name,
                    t.end.wrapping_sub(t.begin),
                    t.shape,
                    dtype_to_format(t.dtype),
                    shape_bytes(t).unwrap_or(0)
                )),
                None => invalid("a tensor's byte count does not match its shape"),
            }
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            let covered = h.entries.last().map_or(0, |e| e.end);
            match h.entries.last() {
                Some(t) if covered > data_len => invalid(format!(
                    "tensor {:?}: data_offsets [{}, {}] run past the end of the data ({data_len} bytes)",
                    t.name, t.begin, t.end
                )),
                _ => invalid(format!(
                    "{} bytes of data follow the last tensor (the tensors cover {covered} of {data_len} bytes)",
                    data_len.saturating_sub(covered)
                )),
            }
        }
        other => invalid(format!("invalid file: {other}")),
    }
}
