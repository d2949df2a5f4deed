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

/// c10's `hash_combine` (boost's mixing step) on 64 bits.
fn hash_combine(seed: u64, value: u64) -> u64 {
    seed ^ value
        .wrapping_add(0x9e37_79b9)
        .wrapping_add(seed << 6)
        .wrapping_add(seed >> 2)
}

/// `.data/serialization_id`: 40 decimal digits derived from the records, so
/// equal content gives equal files. The last 20 digits are torch's: the
/// `hash_combine` fold of the CRC-32s of the non-empty records written
/// before it (observed on torch 2.15's files). torch derives the first 20
/// from the content in a way we do not reproduce; ours fold the record
/// sizes the same way.
fn serialization_id(records: &[(u64, u32)]) -> String {
    let (mut sizes, mut crcs) = (0u64, 0u64);
    for &(size, crc) in records.iter().filter(|r| r.0 > 0) {
        sizes = hash_combine(sizes, size);
        crcs = hash_combine(crcs, u64::from(crc));
    }
    format!("{sizes:020}{crcs:020}")
}

pub(super) fn save(value: &Value, opts: &SaveOpts) -> Result<Vec<u8>> {
    let name = &opts.archive_name;
    if name.is_empty() || name.contains('/') {
        return Err(Error::invalid("torch.save", format!("invalid archive name '{name}'")));
    }
    let (pickle, storages) = writer::dumps(value)?;
    let mut w = ZipWriter::with_limits(Vec::new(), opts.zip64_size_limit, opts.zip64_count_limit);
    let mut records: Vec<(u64, u32)> = vec![];
    let mut add = |w: &mut ZipWriter<Vec<u8>>, rec: &str, bytes: &[u8]| {
        records.push((bytes.len() as u64, crc32fast::hash(bytes)));
        w.add(&format!("{name}/{rec}"), bytes)
    };
    add(&mut w, "data.pkl", &pickle)?;
    add(&mut w, ".format_version", b"1")?;
    add(&mut w, ".storage_alignment", b"64")?;
    add(&mut w, "byteorder", b"little")?;
    for s in &storages {
        let mut bytes = s.storage.to_bytes();
        if cfg!(target_endian = "big") {
            swap_bytes(&mut bytes, s.dtype.itemsize());
        }
        add(&mut w, &format!("data/{}", s.key), &bytes)?;
    }
    add(&mut w, "version", b"3\n")?;
    let id = serialization_id(&records);
    w.add(&format!("{name}/.data/serialization_id"), id.as_bytes())?;
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
    // Like torch's reader: `.data/version` or `version` must exist and be a positive integer.
    let version = match record(".data/version")? {
        Some(v) => v,
        None => record("version")?.ok_or_else(|| bad(format!("archive has no '{root}/version' record")))?,
    };
    match std::str::from_utf8(version)
        .ok()
        .map(str::trim)
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(v) if v >= 1 => {}
        _ => return Err(bad("archive's version record is not a positive integer")),
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
