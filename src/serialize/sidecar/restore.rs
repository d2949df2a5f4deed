//! The scan that checks a file against its sidecar block by block and
//! decodes damaged blocks; `verify`, `repair` and `read_verified` run it
//! with different sinks for the restored bytes.

use super::format::{crc32, Header, Table, HEADER_LEN};
use super::report::{BlockDamage, SidecarDamage, VerifyReport};
use super::{fail, io_err, sidecar_path};
use crate::Result;
use ft_runtime::hash::Xxh64;
use raptorq::{EncodingPacket, ObjectTransmissionInformation, PayloadId, SourceBlockDecoder};
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

/// The most blocks a header may declare (with the default 4 MiB blocks,
/// 64 TiB); more is treated as a damaged header.
const MAX_BLOCKS: u64 = 1 << 24;

/// A sidecar read into memory with its header checked.
pub(crate) struct Sidecar {
    pub(crate) header: Header,
    bytes: Vec<u8>,
}

impl Sidecar {
    /// Reads `<file>.ftrq`; a missing sidecar or a damaged header is an error.
    pub(crate) fn read(file: &Path) -> Result<Sidecar> {
        let path = sidecar_path(file);
        let bytes = std::fs::read(&path).map_err(|e| io_err("read the sidecar", &path, &e))?;
        let header = Header::parse(&bytes, &path.display().to_string())?;
        if header.block_count > MAX_BLOCKS {
            return Err(fail(format!(
                "{}: the sidecar header declares {} blocks, more than the {MAX_BLOCKS} accepted",
                path.display(),
                header.block_count
            )));
        }
        Ok(Sidecar { header, bytes })
    }

    fn slice(&self, start: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.bytes.get(start..end)
    }

    fn table(&self, b: u64) -> Option<Table> {
        let h = &self.header;
        Table::parse(h, b, self.slice(h.section_start(b), h.table_len(b)))
    }

    /// Block `b`'s repair symbols, `None` for each one that is missing or
    /// fails its checksum.
    fn repair_symbols(&self, b: u64, table: &Table) -> Vec<Option<&[u8]>> {
        let h = &self.header;
        let t = u64::from(h.symbol_size);
        let first = h.section_start(b) + h.table_len(b);
        table
            .repair_crcs
            .iter()
            .enumerate()
            .map(|(j, &crc)| self.slice(first + j as u64 * t, t).filter(|s| crc32(s) == crc))
            .collect()
    }

    fn extra_bytes(&self) -> u64 {
        let expected = self.header.sidecar_len().unwrap_or(HEADER_LEN as u64);
        (self.bytes.len() as u64).saturating_sub(expected)
    }
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn read_full(file: &mut File, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err("read", path, &e)),
        }
    }
    Ok(filled)
}

/// Adjacent symbol indices merged into file byte ranges.
fn merged_ranges(h: &Header, b: u64, symbols: &[u32]) -> Vec<Range<u64>> {
    let t = u64::from(h.symbol_size);
    let start = h.block_start(b);
    let end = start + h.block_len(b) as u64;
    let mut out: Vec<Range<u64>> = Vec::new();
    for &i in symbols {
        let r = start + u64::from(i) * t..(start + (u64::from(i) + 1) * t).min(end);
        match out.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => out.push(r),
        }
    }
    out
}

/// Decodes block `b` from its intact source and repair symbols; the
/// restored block, or why it cannot be.
fn decode(
    h: &Header,
    b: u64,
    buf: &[u8],
    damaged: &[u32],
    table: &Table,
    repairs: &[Option<&[u8]>],
) -> std::result::Result<Vec<u8>, String> {
    let t = h.symbol_size as usize;
    let k = h.source_symbols(b);
    let oti = ObjectTransmissionInformation::new(buf.len() as u64, h.symbol_size as u16, 1, 1, 1);
    let mut decoder = SourceBlockDecoder::new(0, &oti, buf.len() as u64);
    let mut packets = Vec::new();
    let mut next_damaged = damaged.iter().peekable();
    for i in 0..k {
        if next_damaged.peek() == Some(&&i) {
            next_damaged.next();
            continue;
        }
        let s = &buf[i as usize * t..(i as usize + 1) * t];
        packets.push(EncodingPacket::new(PayloadId::new(0, i), s.to_vec()));
    }
    for (j, s) in repairs.iter().enumerate() {
        if let Some(s) = s {
            let esi = table.first_repair_esi + j as u32;
            packets.push(EncodingPacket::new(PayloadId::new(0, esi), s.to_vec()));
        }
    }
    let out = decoder
        .decode(packets)
        .ok_or_else(|| format!("block {b}: RaptorQ decoding failed"))?;
    if out.len() != buf.len() {
        return Err(format!(
            "block {b}: the decoder returned {} bytes, not {}",
            out.len(),
            buf.len()
        ));
    }
    for &i in damaged {
        let s = &out[i as usize * t..(i as usize + 1) * t];
        if crc32(s) != table.source_crcs[i as usize] {
            return Err(format!("block {b}: decoded symbol {i} fails its checksum"));
        }
    }
    Ok(out)
}

/// Checks `file` against `sc` block by block, decoding damaged blocks,
/// and hands the restored bytes (in order, exactly `recorded_len` of
/// them) to `emit`. The report's `problems` say what cannot be restored;
/// `emit` has then received bytes that must be discarded.
pub(crate) fn scan(file: &Path, sc: &Sidecar, emit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<VerifyReport> {
    let h = &sc.header;
    let mut f = File::open(file).map_err(|e| io_err("open", file, &e))?;
    let actual_len = f.metadata().map_err(|e| io_err("stat", file, &e))?.len();
    let t = h.symbol_size as usize;
    let mut hasher = Xxh64::new();
    let mut report = VerifyReport {
        path: file.to_path_buf(),
        recorded_len: h.file_len,
        actual_len,
        blocks: h.block_count,
        damaged: Vec::new(),
        sidecar_damage: Vec::new(),
        sidecar_extra_bytes: sc.extra_bytes(),
        hash_ok: false,
        problems: Vec::new(),
    };
    let mut unchecked = Vec::new();
    for b in 0..h.block_count {
        let k = h.source_symbols(b);
        let len = h.block_len(b);
        let mut buf = vec![0u8; k as usize * t];
        let avail = read_full(&mut f, &mut buf[..len], file)?;
        let Some(table) = sc.table(b) else {
            report.sidecar_damage.push(SidecarDamage {
                block: b,
                table: true,
                repair_symbols: Vec::new(),
            });
            unchecked.push(b);
            emit(&buf[..len])?;
            hasher.update(&buf[..len]);
            continue;
        };
        let repairs = sc.repair_symbols(b, &table);
        let bad_repairs: Vec<u32> = (0..repairs.len() as u32)
            .filter(|&j| repairs[j as usize].is_none())
            .collect();
        if !bad_repairs.is_empty() {
            report.sidecar_damage.push(SidecarDamage {
                block: b,
                table: false,
                repair_symbols: bad_repairs.clone(),
            });
        }
        // A symbol not wholly present (the file was cut short) or failing
        // its checksum is an erasure.
        let damaged: Vec<u32> = (0..k)
            .filter(|&i| {
                let s = i as usize * t;
                (s + t).min(len) > avail || crc32(&buf[s..s + t]) != table.source_crcs[i as usize]
            })
            .collect();
        if !damaged.is_empty() {
            let budget = h.budget(b);
            let lost = damaged.len() as u32 + bad_repairs.len() as u32;
            let outcome = if lost > budget {
                Err(format!(
                    "block {b} (bytes {}..{}) has {lost} damaged symbols ({} source, {} repair), more than its budget of {budget}",
                    h.block_start(b),
                    h.block_start(b) + len as u64,
                    damaged.len(),
                    bad_repairs.len()
                ))
            } else {
                decode(h, b, &buf, &damaged, &table, &repairs)
            };
            let repairable = match outcome {
                Ok(restored) => {
                    buf = restored;
                    true
                }
                Err(why) => {
                    report.problems.push(why);
                    false
                }
            };
            report.damaged.push(BlockDamage {
                block: b,
                byte_range: h.block_start(b)..h.block_start(b) + len as u64,
                damaged_ranges: merged_ranges(h, b, &damaged),
                damaged_symbols: damaged,
                damaged_repair_symbols: bad_repairs.len() as u32,
                budget,
                repairable,
            });
        }
        emit(&buf[..len])?;
        hasher.update(&buf[..len]);
    }
    report.hash_ok = hasher.finish() == h.file_hash;
    if !report.hash_ok && report.problems.is_empty() {
        report.problems.push(if unchecked.is_empty() {
            "the restored bytes do not match the recorded whole-file hash".to_string()
        } else {
            format!(
                "the bytes do not match the recorded whole-file hash, and block(s) {unchecked:?} cannot be checked or repaired because their sidecar tables are damaged"
            )
        });
    }
    Ok(report)
}
