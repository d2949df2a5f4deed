//! Writes a zip archive as torch's `PyTorchStreamWriter` does: stored
//! records, zeroed times, a data descriptor after each record, 64-byte
//! aligned data, and a zip64 end-of-central-directory record always present.

use super::*;
use crate::{Error, Result};
use std::collections::HashSet;
use std::io::Write;

/// Sizes and offsets at or past this need zip64 fields (miniz's `MZ_UINT32_MAX`).
const U32_LIMIT: u64 = 0xFFFF_FFFF;
/// Entry counts at or past this need the zip64 end record's counts.
const U16_LIMIT: u64 = 0xFFFF;

struct Central {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
    flags: u16,
}

/// A streaming zip writer producing torch's layout.
///
/// ```
/// use frankentorch::serialize::zip::{ZipArchive, ZipWriter};
/// # fn main() -> frankentorch::Result<()> {
/// let mut w = ZipWriter::new(Vec::new());
/// w.add("a/byteorder", b"little")?;
/// w.add("a/data/0", &[1, 2, 3, 4])?;
/// let bytes = w.finish()?;
/// let zip = ZipArchive::parse(&bytes)?;
/// let start = zip.entries()[1].data_start;
/// assert_eq!(start % 64, 0); // record data is 64-byte aligned
/// # Ok(()) }
/// ```
pub struct ZipWriter<W: Write> {
    out: W,
    pos: u64,
    entries: Vec<Central>,
    names: HashSet<String>,
    size_limit: u64,
    count_limit: u64,
}

fn io_err(e: std::io::Error) -> Error {
    Error::invalid("torch.save", format!("write failed: {e}"))
}

impl<W: Write> ZipWriter<W> {
    /// A writer emitting into `out`.
    pub fn new(out: W) -> ZipWriter<W> {
        ZipWriter::with_limits(out, U32_LIMIT, U16_LIMIT)
    }

    /// A writer switching to zip64 fields at smaller sizes/offsets and entry
    /// counts than the format's (for testing the zip64 path with small files).
    ///
    /// ```
    /// use frankentorch::serialize::zip::{ZipArchive, ZipWriter};
    /// # fn main() -> frankentorch::Result<()> {
    /// let mut w = ZipWriter::with_limits(Vec::new(), 16, 1);
    /// w.add("a/data/0", &[7u8; 40])?;
    /// let bytes = w.finish()?;
    /// assert_eq!(ZipArchive::parse(&bytes)?.read("a/data/0")?.unwrap().len(), 40);
    /// # Ok(()) }
    /// ```
    pub fn with_limits(out: W, size_limit: u64, count_limit: u64) -> ZipWriter<W> {
        ZipWriter {
            out,
            pos: 0,
            entries: vec![],
            names: HashSet::new(),
            size_limit: size_limit.min(U32_LIMIT),
            count_limit: count_limit.min(U16_LIMIT),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(io_err)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Appends a stored record `name` holding `data`.
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<()> {
        if name.len() > usize::from(u16::MAX) {
            return Err(Error::invalid("torch.save", "record name longer than 65535 bytes"));
        }
        if !self.names.insert(name.to_string()) {
            return Err(Error::invalid("torch.save", format!("duplicate record '{name}'")));
        }
        let offset = self.pos;
        let size = data.len() as u64;
        let big_size = size >= self.size_limit;
        let big_offset = offset >= self.size_limit;
        let mut zip64 = Vec::new();
        if big_size {
            zip64.extend_from_slice(&size.to_le_bytes());
            zip64.extend_from_slice(&size.to_le_bytes());
        }
        if big_offset {
            zip64.extend_from_slice(&offset.to_le_bytes());
        }
        let zip64_len = if zip64.is_empty() { 0 } else { 4 + zip64.len() as u64 };
        let start = offset + LOCAL_HEADER_LEN + name.len() as u64 + zip64_len + 4;
        let pad = (RECORD_ALIGNMENT - start % RECORD_ALIGNMENT) % RECORD_ALIGNMENT;
        let extra_len = zip64_len + 4 + pad;
        let crc = crc32fast::hash(data);
        // An empty record has no data descriptor (its zero CRC and sizes are final).
        let flags = if data.is_empty() { FLAGS & !0x0008 } else { FLAGS };

        let mut h = Vec::with_capacity((LOCAL_HEADER_LEN + extra_len) as usize + name.len());
        h.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // version needed
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        h.extend_from_slice(&[0; 4]); // time, date
        h.extend_from_slice(&0u32.to_le_bytes()); // crc (in the descriptor)
        let local_size: u32 = if big_size { u32::MAX } else { 0 };
        h.extend_from_slice(&local_size.to_le_bytes());
        h.extend_from_slice(&local_size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(extra_len as u16).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        if !zip64.is_empty() {
            h.extend_from_slice(&ZIP64_EXTRA_ID.to_le_bytes());
            h.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
            h.extend_from_slice(&zip64);
        }
        h.extend_from_slice(b"FB");
        h.extend_from_slice(&(pad as u16).to_le_bytes());
        h.resize(h.len() + pad as usize, b'Z');
        self.put(&h)?;
        self.put(data)?;
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&DESCRIPTOR_SIG.to_le_bytes());
        d.extend_from_slice(&crc.to_le_bytes());
        if big_size {
            d.extend_from_slice(&size.to_le_bytes());
            d.extend_from_slice(&size.to_le_bytes());
        } else {
            d.extend_from_slice(&(size as u32).to_le_bytes());
            d.extend_from_slice(&(size as u32).to_le_bytes());
        }
        if !data.is_empty() {
            self.put(&d)?;
        }
        self.entries.push(Central {
            name: name.to_string(),
            crc,
            size,
            offset,
            flags,
        });
        Ok(())
    }

    /// Writes the central directory and end records; returns the output.
    pub fn finish(mut self) -> Result<W> {
        let cd_offset = self.pos;
        let limit = self.size_limit;
        let mut cd = Vec::new();
        for e in &self.entries {
            let mut zip64 = Vec::new();
            if e.size >= limit {
                zip64.extend_from_slice(&e.size.to_le_bytes());
                zip64.extend_from_slice(&e.size.to_le_bytes());
            }
            if e.offset >= limit {
                zip64.extend_from_slice(&e.offset.to_le_bytes());
            }
            let version: u16 = if zip64.is_empty() { 0 } else { 45 };
            cd.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
            cd.extend_from_slice(&version.to_le_bytes()); // made by
            cd.extend_from_slice(&version.to_le_bytes()); // needed
            cd.extend_from_slice(&e.flags.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&[0; 4]);
            cd.extend_from_slice(&e.crc.to_le_bytes());
            let size32 = if e.size >= limit { u32::MAX } else { e.size as u32 };
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            let extra_len: u16 = if zip64.is_empty() { 0 } else { 4 + zip64.len() as u16 };
            cd.extend_from_slice(&extra_len.to_le_bytes());
            cd.extend_from_slice(&[0; 6]); // comment len, disk, internal attrs
            cd.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            let off32 = if e.offset >= limit { u32::MAX } else { e.offset as u32 };
            cd.extend_from_slice(&off32.to_le_bytes());
            cd.extend_from_slice(e.name.as_bytes());
            if !zip64.is_empty() {
                cd.extend_from_slice(&ZIP64_EXTRA_ID.to_le_bytes());
                cd.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
                cd.extend_from_slice(&zip64);
            }
        }
        let cd_size = cd.len() as u64;
        let n = self.entries.len() as u64;
        let eocd64_offset = cd_offset + cd_size;
        let mut end = Vec::new();
        end.extend_from_slice(&ZIP64_EOCD_SIG.to_le_bytes());
        end.extend_from_slice(&(ZIP64_EOCD_LEN - 12).to_le_bytes());
        end.extend_from_slice(&0x031eu16.to_le_bytes()); // made by (as miniz)
        end.extend_from_slice(&45u16.to_le_bytes()); // needed: zip64
        end.extend_from_slice(&[0; 8]); // disk numbers
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&cd_size.to_le_bytes());
        end.extend_from_slice(&cd_offset.to_le_bytes());
        end.extend_from_slice(&ZIP64_LOCATOR_SIG.to_le_bytes());
        end.extend_from_slice(&0u32.to_le_bytes());
        end.extend_from_slice(&eocd64_offset.to_le_bytes());
        end.extend_from_slice(&1u32.to_le_bytes());
        end.extend_from_slice(&EOCD_SIG.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        let n16 = if n >= self.count_limit { u16::MAX } else { n as u16 };
        end.extend_from_slice(&n16.to_le_bytes());
        end.extend_from_slice(&n16.to_le_bytes());
        let cd_size32 = if cd_size >= limit { u32::MAX } else { cd_size as u32 };
        let cd_off32 = if cd_offset >= limit { u32::MAX } else { cd_offset as u32 };
        end.extend_from_slice(&cd_size32.to_le_bytes());
        end.extend_from_slice(&cd_off32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&cd)?;
        self.put(&end)?;
        self.out.flush().map_err(io_err)?;
        Ok(self.out)
    }
}
