//! The zip checkpoint format (torch ≥ 1.6): records `data.pkl`,
//! `.format_version`, `.storage_alignment`, `byteorder`, `data/<key>`,
//! `version` and `.data/serialization_id` under one root folder.

use super::swap_bytes;
use crate::serialize::pickle::{reader::Unpickler, writer};
use crate::serialize::zip::{ZipArchive, ZipWriter};
use crate::serialize::Value;
use crate::{Error, Result, Storage};

/// Options of [`save_to_bytes_with`](super::save_to_bytes_with).
///
/// ```
/// use frankentorch::serialize::pt::SaveOpts;
/// let o = SaveOpts::default();
/// assert_eq!(o.archive_name, "archive");
/// assert_eq!(o.zip64_size_limit, 0xFFFF_FFFF);
/// ```
#[derive(Clone, Debug)]
pub struct SaveOpts {
    /// The root folder of every record (torch: the file stem, or `archive`).
    pub archive_name: String,
    /// Sizes and offsets at or past this get zip64 fields (the format's
    /// limit by default; smaller only to exercise the zip64 path).
    pub zip64_size_limit: u64,
    /// Entry counts at or past this get zip64 counts (65535 by default).
    pub zip64_count_limit: u64,
}

impl Default for SaveOpts {
    fn default() -> SaveOpts {
        SaveOpts {
            archive_name: "archive".to_string(),
            zip64_size_limit: 0xFFFF_FFFF,
            zip64_count_limit: 0xFFFF,
        }
    }
}

/// 40 decimal digits, as torch's `.data/serialization_id` (random per save).
fn serialization_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut parts = [0u64; 2];
    for (i, p) in parts.iter_mut().enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_usize(i);
        *p = h.finish() % 10_000_000_000_000_000_000;
    }
    format!("{:020}{:020}", parts[0], parts[1])
}

pub(super) fn save(value: &Value, opts: &SaveOpts) -> Result<Vec<u8>> {
    let name = &opts.archive_name;
    if name.is_empty() || name.contains('/') {
        return Err(Error::invalid("torch.save", format!("invalid archive name '{name}'")));
    }
    let (pickle, storages) = writer::dumps(value)?;
    let mut w = ZipWriter::with_limits(Vec::new(), opts.zip64_size_limit, opts.zip64_count_limit);
    w.add(&format!("{name}/data.pkl"), &pickle)?;
    w.add(&format!("{name}/.format_version"), b"1")?;
    w.add(&format!("{name}/.storage_alignment"), b"64")?;
    w.add(&format!("{name}/byteorder"), b"little")?;
    for s in &storages {
        let mut bytes = s.storage.to_bytes();
        if cfg!(target_endian = "big") {
            swap_bytes(&mut bytes, s.dtype.itemsize());
        }
        w.add(&format!("{name}/data/{}", s.key), &bytes)?;
    }
    w.add(&format!("{name}/version"), b"3\n")?;
    w.add(&format!("{name}/.data/serialization_id"), serialization_id().as_bytes())?;
    w.finish()
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("torch.load", message)
}

pub(super) fn load(bytes: &[u8]) -> Result<Value> {
    let zip = ZipArchive::parse(bytes)?;
    let first = zip.entries().first().ok_or_else(|| bad("empty zip archive"))?;
    let root = match first.name.split_once('/') {
        Some((root, _)) => root.to_string(),
        None => return Err(bad(format!("file in archive is not in a subdirectory: {}", first.name))),
    };
    let record = |name: &str| zip.read(&format!("{root}/{name}"));
    if record("constants.pkl")?.is_some() {
        return Err(Error::not_supported(
            "torch.load",
            "TorchScript archives (torch.jit.save) are not supported",
        ));
    }
    let big_endian = match record("byteorder")? {
        None | Some(b"little") => false,
        Some(b"big") => true,
        Some(other) => {
            return Err(bad(format!(
                "Unknown endianness type: {}",
                String::from_utf8_lossy(other)
            )))
        }
    };
    let pickle = record("data.pkl")?.ok_or_else(|| bad(format!("archive has no record '{root}/data.pkl'")))?;
    let pickled = Unpickler::new(pickle).load()?;
    pickled.to_value(&mut |r| {
        let data = record(&format!("data/{}", r.key))?
            .ok_or_else(|| bad(format!("storage record '{root}/data/{}' is missing", r.key)))?;
        if Some(data.len() as u64) != r.nbytes() {
            return Err(bad(format!(
                "storage '{}' has {} bytes but the pickle claims {} elements of {} ({} bytes)",
                r.key,
                data.len(),
                r.numel,
                r.dtype.name(),
                r.nbytes().map_or("too many".to_string(), |n| n.to_string())
            )));
        }
        if big_endian != cfg!(target_endian = "big") {
            let mut owned = data.to_vec();
            swap_bytes(&mut owned, r.dtype.itemsize());
            return Ok(Storage::from_bytes(&owned));
        }
        Ok(Storage::from_bytes(data))
    })
}
