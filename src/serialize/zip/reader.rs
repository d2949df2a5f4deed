//! Reads a zip archive held in memory, failing closed: only stored,
//! unencrypted entries; unique names; every offset and size checked against
//! the file before use; central directory and local headers must agree; data
//! ranges must not overlap; CRC-32 checked on every read.

use super::*;
use crate::{Error, Result};
use std::collections::HashMap;

/// One record of a [`ZipArchive`].
///
/// ```
/// use frankentorch::serialize::zip::{ZipArchive, ZipWriter};
/// # fn main() -> frankentorch::Result<()> {
/// let mut w = ZipWriter::new(Vec::new());
/// w.add("x/version", b"3\n")?;
/// let bytes = w.finish()?;
/// let zip = ZipArchive::parse(&bytes)?;
/// let e = &zip.entries()[0];
/// assert_eq!((e.name.as_str(), e.size), ("x/version", 2));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipEntry {
    /// The record's name (`archive/data.pkl`).
    pub name: String,
    /// Offset of its first data byte in the file.
    pub data_start: usize,
    /// Its size in bytes.
    pub size: usize,
    /// Its CRC-32 as the central directory states it.
    pub crc: u32,
}

/// A parsed zip archive borrowing the file's bytes.
///
/// ```
/// use frankentorch::serialize::zip::ZipArchive;
/// let err = ZipArchive::parse(b"not a zip").unwrap_err();
/// assert!(err.to_string().contains("end of central directory"));
/// ```
#[derive(Debug)]
pub struct ZipArchive<'a> {
    data: &'a [u8],
    entries: Vec<ZipEntry>,
    index: HashMap<String, usize>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("torch.load", message)
}

/// A little-endian reader over a slice whose every read is bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn at(bytes: &'a [u8], pos: u64, what: &'static str) -> Result<Cursor<'a>> {
        let pos = usize::try_from(pos).ok().filter(|&p| p <= bytes.len());
        let pos = pos.ok_or_else(|| bad(format!("truncated zip archive: {what} starts past the end of the file")))?;
        Ok(Cursor { bytes, pos, what })
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| {
            bad(format!(
                "truncated zip archive: {} runs past the end of the file",
                self.what
            ))
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// Where the central directory is and how many entries it holds.
struct Directory {
    entries: u64,
    size: u64,
    offset: u64,
    /// The first byte after the central directory that belongs to the end records.
    end: u64,
}

fn find_directory(data: &[u8]) -> Result<Directory> {
    let len = data.len() as u64;
    let missing = || bad("not a zip archive (no end of central directory record); truncated file?");
    if len < EOCD_LEN {
        return Err(missing());
    }
    // The end record sits at the very end, followed only by its comment (at most 65535 bytes).
    let lowest = len.saturating_sub(EOCD_LEN + u64::from(u16::MAX));
    let mut pos = len - EOCD_LEN;
    let eocd = loop {
        let mut c = Cursor::at(data, pos, "end of central directory")?;
        if c.u32()? == EOCD_SIG {
            c.take(16)?;
            if pos + EOCD_LEN + u64::from(c.u16()?) == len {
                break pos;
            }
        }
        if pos == lowest {
            return Err(missing());
        }
        pos -= 1;
    };
    let mut c = Cursor::at(data, eocd + 4, "end of central directory")?;
    let (disk, cd_disk) = (c.u16()?, c.u16()?);
    let (n_disk, n) = (c.u16()?, c.u16()?);
    let (size, offset) = (c.u32()?, c.u32()?);
    if disk != 0 || cd_disk != 0 || n_disk != n {
        return Err(bad("multi-disk zip archives are not supported"));
    }
    let mut dir = Directory {
        entries: u64::from(n),
        size: u64::from(size),
        offset: u64::from(offset),
        end: eocd,
    };
    if eocd >= ZIP64_LOCATOR_LEN {
        let loc = eocd - ZIP64_LOCATOR_LEN;
        let mut c = Cursor::at(data, loc, "zip64 locator")?;
        if c.u32()? == ZIP64_LOCATOR_SIG {
            c.u32()?;
            let rec = c.u64()?;
            if rec.checked_add(ZIP64_EOCD_LEN).is_none_or(|e| e > loc) {
                return Err(bad("zip64 end of central directory record out of bounds"));
            }
            let mut r = Cursor::at(data, rec, "zip64 end of central directory")?;
            if r.u32()? != ZIP64_EOCD_SIG {
                return Err(bad(
                    "zip64 locator does not point at a zip64 end of central directory record",
                ));
            }
            r.take(12)?;
            let (disk, cd_disk) = (r.u32()?, r.u32()?);
            let (n_disk, n) = (r.u64()?, r.u64()?);
            if disk != 0 || cd_disk != 0 || n_disk != n {
                return Err(bad("multi-disk zip archives are not supported"));
            }
            dir = Directory {
                entries: n,
                size: r.u64()?,
                offset: r.u64()?,
                end: rec,
            };
        }
    }
    if dir.offset.checked_add(dir.size).is_none_or(|e| e > dir.end) {
        return Err(bad("central directory out of bounds"));
    }
    if dir.entries.checked_mul(CENTRAL_HEADER_LEN).is_none_or(|s| s > dir.size) {
        return Err(bad(format!(
            "central directory of {} bytes cannot hold {} entries",
            dir.size, dir.entries
        )));
    }
    Ok(dir)
}

/// The zip64 extra field's values, for the 32-bit fields that are saturated.
fn zip64_fields(extra: &[u8], size: &mut u64, comp: &mut u64, offset: Option<&mut u64>) -> Result<()> {
    let mut c = Cursor {
        bytes: extra,
        pos: 0,
        what: "extra field",
    };
    while c.pos + 4 <= extra.len() {
        let id = c.u16()?;
        let len = usize::from(c.u16()?);
        let body = c.take(len)?;
        if id != ZIP64_EXTRA_ID {
            continue;
        }
        let mut z = Cursor {
            bytes: body,
            pos: 0,
            what: "zip64 extra field",
        };
        if *size == u64::from(u32::MAX) {
            *size = z.u64()?;
        }
        if *comp == u64::from(u32::MAX) {
            *comp = z.u64()?;
        }
        if let Some(off) = offset {
            if *off == u64::from(u32::MAX) {
                *off = z.u64()?;
            }
        }
        return Ok(());
    }
    Ok(())
}

impl<'a> ZipArchive<'a> {
    /// Parses the central directory and checks every entry's local header.
    pub fn parse(data: &'a [u8]) -> Result<ZipArchive<'a>> {
        let dir = find_directory(data)?;
        let mut c = Cursor::at(data, dir.offset, "central directory")?;
        let cd_end = dir.offset + dir.size;
        let mut entries = Vec::new();
        let mut index = HashMap::new();
        for _ in 0..dir.entries {
            if c.u32()? != CENTRAL_SIG {
                return Err(bad("corrupt central directory (bad entry signature)"));
            }
            c.take(4)?; // versions
            let flags = c.u16()?;
            let method = c.u16()?;
            c.take(4)?; // time, date
            let crc = c.u32()?;
            let mut comp = u64::from(c.u32()?);
            let mut size = u64::from(c.u32()?);
            let name_len = usize::from(c.u16()?);
            let extra_len = usize::from(c.u16()?);
            let comment_len = usize::from(c.u16()?);
            c.take(8)?; // disk, internal and external attributes
            let mut offset = u64::from(c.u32()?);
            let name = c.take(name_len)?;
            let extra = c.take(extra_len)?;
            c.take(comment_len)?;
            if c.pos as u64 > cd_end {
                return Err(bad("central directory entry runs past the directory"));
            }
            let name = std::str::from_utf8(name)
                .map_err(|_| bad("record name is not valid UTF-8"))?
                .to_string();
            zip64_fields(extra, &mut size, &mut comp, Some(&mut offset))?;
            if flags & 1 != 0 {
                return Err(bad(format!("record '{name}' is encrypted")));
            }
            if method != 0 {
                return Err(bad(format!(
                    "record '{name}' is compressed (method {method}); only stored (uncompressed) records are accepted"
                )));
            }
            if comp != size {
                return Err(bad(format!(
                    "record '{name}' is stored but its compressed size {comp} differs from its size {size}"
                )));
            }
            if index.insert(name.clone(), entries.len()).is_some() {
                return Err(bad(format!("duplicate record '{name}' in zip archive")));
            }
            let data_start = check_local(data, &name, offset, method, crc, size, flags)?;
            let data_end = data_start
                .checked_add(size)
                .filter(|&e| e <= dir.offset)
                .ok_or_else(|| bad(format!("record '{name}' of {size} bytes runs past the end of the file")))?;
            entries.push((
                offset,
                data_end,
                ZipEntry {
                    name,
                    data_start: data_start as usize,
                    size: (data_end - data_start) as usize,
                    crc,
                },
            ));
        }
        let mut spans: Vec<(u64, u64)> = entries.iter().map(|(o, e, _)| (*o, *e)).collect();
        spans.sort_unstable();
        if spans.windows(2).any(|w| w[0].1 > w[1].0) {
            return Err(bad("zip records overlap"));
        }
        Ok(ZipArchive {
            data,
            entries: entries.into_iter().map(|(_, _, e)| e).collect(),
            index,
        })
    }

    /// The records in central-directory order.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// The bytes of record `name` (CRC-checked), or `None` if absent.
    pub fn read(&self, name: &str) -> Result<Option<&'a [u8]>> {
        let Some(e) = self.index.get(name).and_then(|&i| self.entries.get(i)) else {
            return Ok(None);
        };
        let bytes = self
            .data
            .get(e.data_start..e.data_start + e.size)
            .ok_or_else(|| bad(format!("record '{name}' out of bounds")))?;
        if crc32fast::hash(bytes) != e.crc {
            return Err(bad(format!("CRC-32 mismatch in record '{name}' (corrupt file)")));
        }
        Ok(Some(bytes))
    }
}

/// Checks the local header of an entry against its central directory
/// record; returns the offset of its data.
fn check_local(data: &[u8], name: &str, offset: u64, method: u16, crc: u32, size: u64, flags: u16) -> Result<u64> {
    let mut c = Cursor::at(data, offset, "local header")?;
    if c.u32()? != LOCAL_SIG {
        return Err(bad(format!("record '{name}': no local header at offset {offset}")));
    }
    c.u16()?;
    let local_flags = c.u16()?;
    let local_method = c.u16()?;
    c.take(4)?;
    let local_crc = c.u32()?;
    let mut comp = u64::from(c.u32()?);
    let mut local_size = u64::from(c.u32()?);
    let name_len = usize::from(c.u16()?);
    let extra_len = usize::from(c.u16()?);
    let local_name = c.take(name_len)?;
    let extra = c.take(extra_len)?;
    let mismatch = |what: &str| {
        bad(format!(
            "record '{name}': local header and central directory disagree on {what}"
        ))
    };
    if local_name != name.as_bytes() {
        return Err(mismatch("the name"));
    }
    if local_method != method || (local_flags ^ flags) & 0x0009 != 0 {
        return Err(mismatch("method or flags"));
    }
    if local_flags & 0x0008 == 0 {
        zip64_fields(extra, &mut local_size, &mut comp, None)?;
        if local_crc != crc || local_size != size || comp != size {
            return Err(mismatch("CRC or sizes"));
        }
    }
    Ok(c.pos as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serialize::zip::ZipWriter;

    fn sample() -> Vec<u8> {
        let mut w = ZipWriter::new(Vec::new());
        w.add("a/one", b"first record").unwrap();
        w.add("a/two", b"second").unwrap();
        w.finish().unwrap()
    }

    fn central(bytes: &[u8], n: usize) -> usize {
        let sig = CENTRAL_SIG.to_le_bytes();
        (0..bytes.len() - 4).filter(|&i| bytes[i..i + 4] == sig).nth(n).unwrap()
    }

    fn err(bytes: &[u8]) -> String {
        ZipArchive::parse(bytes).unwrap_err().to_string()
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let bytes = sample();
        let zip = ZipArchive::parse(&bytes).unwrap();
        assert_eq!(zip.read("a/two").unwrap(), Some(&b"second"[..]));
        assert_eq!(zip.read("a/three").unwrap(), None);
        assert!(zip.entries().iter().all(|e| e.data_start % 64 == 0));
    }

    #[test]
    fn local_header_must_match_the_directory() {
        let mut bytes = sample();
        bytes[30 + 2] = b'X'; // the local name of a/one
        assert!(err(&bytes).contains("disagree on the name"));
    }

    #[test]
    fn compressed_records_are_refused() {
        let mut bytes = sample();
        let cd = central(&bytes, 1);
        bytes[cd + 10] = 8;
        assert!(err(&bytes).contains("record 'a/two' is compressed (method 8)"));
    }

    #[test]
    fn overlapping_records_are_refused() {
        let mut bytes = sample();
        let cd = central(&bytes, 0);
        bytes[cd + 20..cd + 28].copy_from_slice(&[100, 0, 0, 0, 100, 0, 0, 0]);
        bytes[cd + 16..cd + 20].copy_from_slice(&[0; 4]);
        assert!(err(&bytes).contains("zip records overlap"));
    }

    #[test]
    fn entry_counts_are_bounded_by_the_directory_size() {
        let mut bytes = sample();
        let n = bytes.len();
        // The zip64 end record's entry counts (two u64s 24 bytes after its start).
        let rec = n - 22 - 20 - 56;
        bytes[rec + 24..rec + 40].copy_from_slice(&[0xff; 16]);
        assert!(err(&bytes).contains("cannot hold"));
    }

    #[test]
    fn crc_is_checked_on_read() {
        let mut bytes = sample();
        let zip = ZipArchive::parse(&bytes).unwrap();
        let start = zip.entries()[1].data_start;
        bytes[start] ^= 1;
        let zip = ZipArchive::parse(&bytes).unwrap();
        assert!(zip
            .read("a/two")
            .unwrap_err()
            .to_string()
            .contains("CRC-32 mismatch in record 'a/two'"));
    }
}
