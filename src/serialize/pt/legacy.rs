//! The legacy checkpoint format (`_use_new_zipfile_serialization=False`):
//! consecutive pickles — the magic number, the protocol version (1001), a
//! sys-info dict, the object (storages as 6-element persistent ids), the
//! list of storage keys — then each storage's raw bytes, preceded by its
//! element count as 8 little-endian bytes.

use crate::serialize::pickle::reader::Unpickler;
use crate::serialize::Value;
use crate::{Error, Result, Storage};
use std::collections::HashMap;

/// The first pickle: `0x1950a86a20f9469cfc6c` as a protocol-2 LONG1.
const MAGIC_PICKLE: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
const PROTOCOL_VERSION: i64 = 1001;

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("torch.load", message)
}

pub(super) fn load(bytes: &[u8]) -> Result<Value> {
    if !bytes.starts_with(MAGIC_PICKLE) {
        return Err(bad("Invalid magic number; corrupt file?"));
    }
    let rest = Unpickler::legacy(bytes.get(MAGIC_PICKLE.len()..).unwrap_or_default());
    let (version, rest) = rest.load_next()?;
    match version.to_value(&mut |_| Err(bad("unexpected storage")))? {
        Value::Int(PROTOCOL_VERSION) => {}
        other => return Err(bad(format!("Invalid protocol version: {other:?}"))),
    }
    let (sys_info, rest) = rest.load_next()?;
    let sys_info = sys_info.to_value(&mut |_| Err(bad("unexpected storage")))?;
    match sys_info.get("little_endian") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            return Err(Error::not_supported(
                "torch.load",
                "big-endian legacy checkpoints are not supported",
            ))
        }
        _ => return Err(bad("legacy checkpoint sys_info lacks 'little_endian'")),
    }
    let (object, rest) = rest.load_next()?;
    let (keys, rest) = rest.load_next()?;
    let keys = match keys.to_value(&mut |_| Err(bad("unexpected storage")))? {
        Value::List(keys) => keys
            .into_iter()
            .map(|k| match k {
                Value::Str(s) => Ok(s),
                other => Err(bad(format!("storage keys must be str, got {}", other.type_name()))),
            })
            .collect::<Result<Vec<_>>>()?,
        other => return Err(bad(format!("storage key list expected, got {}", other.type_name()))),
    };
    let base = MAGIC_PICKLE.len() + rest.position();
    let mut pos = base;
    let mut storages: HashMap<String, Storage> = HashMap::new();
    let refs: HashMap<&str, &crate::serialize::pickle::reader::StorageRef> =
        object.storages().iter().map(|r| (r.key.as_str(), r)).collect();
    for key in keys {
        let r = refs
            .get(key.as_str())
            .ok_or_else(|| bad(format!("storage '{key}' is listed but no tensor uses it")))?;
        let header = bytes
            .get(pos..pos + 8)
            .ok_or_else(|| bad(format!("legacy checkpoint truncated before storage '{key}'")))?;
        let mut n = [0u8; 8];
        n.copy_from_slice(header);
        let count = u64::from_le_bytes(n);
        if count != r.numel {
            return Err(bad(format!(
                "storage '{key}' holds {count} elements but the pickle claims {}",
                r.numel
            )));
        }
        let nbytes = r
            .nbytes()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad(format!("storage '{key}' is too large")))?;
        let start = pos + 8;
        let data = start
            .checked_add(nbytes)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| bad(format!("legacy checkpoint truncated inside storage '{key}'")))?;
        if storages.insert(key.clone(), Storage::from_bytes(data)).is_some() {
            return Err(bad(format!("storage '{key}' is listed twice")));
        }
        pos = start + nbytes;
    }
    object.to_value(&mut |r| {
        storages
            .get(&r.key)
            .cloned()
            .ok_or_else(|| bad(format!("storage '{}' is not in the file", r.key)))
    })
}
