//! The sidecar's binary layout: the header, the block geometry it
//! implies, and each block's checksummed table (see the module docs of
//! [`super`] for the byte-level contract).

use super::{fail, OP};
use crate::Result;

/// The first 8 bytes of every sidecar.
pub(crate) const MAGIC: [u8; 8] = *b"FTRQSCAR";
/// The format version this code writes and reads.
pub(crate) const VERSION: u32 = 1;
/// The header's size in bytes.
pub(crate) const HEADER_LEN: usize = 64;
/// Repair symbols stored per block on top of the damage budget, so a
/// block that lost exactly its budget still decodes with two symbols to
/// spare (RaptorQ fails with probability below 1e-6 then, against about
/// 1e-2 with none to spare).
pub(crate) const SAFETY_SYMBOLS: u32 = 2;
/// The largest source block RaptorQ (RFC 6330) encodes.
pub(crate) const MAX_BLOCK_SYMBOLS: u32 = 56_403;
/// The largest overhead accepted: 10 repair symbols per source symbol.
pub(crate) const MAX_OVERHEAD_PPM: u32 = 10_000_000;

/// The sidecar header: what was protected and how it was split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) file_len: u64,
    pub(crate) file_hash: u64,
    pub(crate) symbol_size: u32,
    pub(crate) block_symbols: u32,
    pub(crate) overhead_ppm: u32,
    pub(crate) safety_symbols: u32,
    pub(crate) block_count: u64,
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// CRC-32 (IEEE, as zip and gzip use it) of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

impl Header {
    /// A header for a file of `file_len` bytes; `block_count` follows.
    pub(crate) fn new(file_len: u64, symbol_size: u32, block_symbols: u32, overhead_ppm: u32) -> Header {
        let mut h = Header {
            file_len,
            file_hash: 0,
            symbol_size,
            block_symbols,
            overhead_ppm,
            safety_symbols: SAFETY_SYMBOLS,
            block_count: 0,
        };
        h.block_count = h.total_symbols().div_ceil(u64::from(block_symbols));
        h
    }

    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(&MAGIC);
        put_u32(&mut out, VERSION);
        put_u32(&mut out, HEADER_LEN as u32);
        put_u64(&mut out, self.file_len);
        put_u64(&mut out, self.file_hash);
        put_u32(&mut out, self.symbol_size);
        put_u32(&mut out, self.block_symbols);
        put_u32(&mut out, self.overhead_ppm);
        put_u32(&mut out, self.safety_symbols);
        put_u64(&mut out, self.block_count);
        put_u32(&mut out, 0);
        let crc = crc32(&out);
        put_u32(&mut out, crc);
        out
    }

    /// Parses and checks a header: any damage is an error (a sidecar
    /// whose header cannot be trusted cannot be used at all).
    pub(crate) fn parse(bytes: &[u8], what: &str) -> Result<Header> {
        if bytes.len() < HEADER_LEN {
            return Err(fail(format!(
                "{what} is {} bytes long, shorter than the {HEADER_LEN}-byte sidecar header",
                bytes.len()
            )));
        }
        if bytes[..8] != MAGIC {
            return Err(fail(format!(
                "{what} is not a FrankenTorch sidecar (its first bytes are not \"FTRQSCAR\")"
            )));
        }
        let stored_crc = get_u32(bytes, 60);
        let crc = crc32(&bytes[..60]);
        if stored_crc != crc {
            return Err(fail(format!(
                "{what}: the sidecar header is damaged (its CRC-32 is {crc:#010x}, {stored_crc:#010x} was recorded); the sidecar cannot be trusted, protect the file again from a good copy"
            )));
        }
        let version = get_u32(bytes, 8);
        if version != VERSION {
            return Err(crate::Error::not_supported(
                OP,
                format!("{what}: sidecar format version {version}; this FrankenTorch reads version {VERSION}"),
            ));
        }
        let header_len = get_u32(bytes, 12);
        let h = Header {
            file_len: get_u64(bytes, 16),
            file_hash: get_u64(bytes, 24),
            symbol_size: get_u32(bytes, 32),
            block_symbols: get_u32(bytes, 36),
            overhead_ppm: get_u32(bytes, 40),
            safety_symbols: get_u32(bytes, 44),
            block_count: get_u64(bytes, 48),
        };
        let expected_blocks = if h.symbol_size == 0 || h.block_symbols == 0 {
            None
        } else {
            Some(h.total_symbols().div_ceil(u64::from(h.block_symbols)))
        };
        let sane = header_len as usize == HEADER_LEN
            && (1..=u32::from(u16::MAX)).contains(&h.symbol_size)
            && (1..=MAX_BLOCK_SYMBOLS).contains(&h.block_symbols)
            && h.overhead_ppm <= MAX_OVERHEAD_PPM
            && h.safety_symbols <= 64
            && expected_blocks == Some(h.block_count)
            && h.sidecar_len().is_some();
        if !sane {
            return Err(fail(format!(
                "{what}: the sidecar header has inconsistent fields ({h:?})"
            )));
        }
        Ok(h)
    }

    fn total_symbols(&self) -> u64 {
        self.file_len.div_ceil(u64::from(self.symbol_size))
    }

    /// Source symbols in block `b`.
    pub(crate) fn source_symbols(&self, b: u64) -> u32 {
        let before = b * u64::from(self.block_symbols);
        (self.total_symbols() - before).min(u64::from(self.block_symbols)) as u32
    }

    /// Damaged symbols (source or repair) block `b` tolerates.
    pub(crate) fn budget(&self, b: u64) -> u32 {
        let k = u64::from(self.source_symbols(b));
        (k * u64::from(self.overhead_ppm)).div_ceil(1_000_000).max(1) as u32
    }

    /// Repair symbols stored for block `b`.
    pub(crate) fn repair_symbols(&self, b: u64) -> u32 {
        self.budget(b) + self.safety_symbols
    }

    /// The file offset where block `b` starts.
    pub(crate) fn block_start(&self, b: u64) -> u64 {
        b * u64::from(self.block_symbols) * u64::from(self.symbol_size)
    }

    /// The file bytes in block `b` (the last symbol may be partial).
    pub(crate) fn block_len(&self, b: u64) -> usize {
        let full = u64::from(self.source_symbols(b)) * u64::from(self.symbol_size);
        full.min(self.file_len - self.block_start(b)) as usize
    }

    /// Bytes of block `b`'s table (index, counts, first repair ESI,
    /// checksums, the table's own CRC).
    pub(crate) fn table_len(&self, b: u64) -> u64 {
        20 + 4 * u64::from(self.source_symbols(b)) + 4 * u64::from(self.repair_symbols(b)) + 4
    }

    /// Bytes of block `b`'s section (table, then repair symbols).
    fn section_len(&self, b: u64) -> Option<u64> {
        u64::from(self.repair_symbols(b))
            .checked_mul(u64::from(self.symbol_size))?
            .checked_add(self.table_len(b))
    }

    /// Where block `b`'s section starts in the sidecar (all blocks but the
    /// last have the same size).
    pub(crate) fn section_start(&self, b: u64) -> u64 {
        HEADER_LEN as u64 + b * self.section_len(0).unwrap_or(0)
    }

    /// The sidecar's total size, `None` if it overflows.
    pub(crate) fn sidecar_len(&self) -> Option<u64> {
        if self.block_count == 0 {
            return Some(HEADER_LEN as u64);
        }
        let last = self.block_count - 1;
        self.section_len(0)?
            .checked_mul(last)?
            .checked_add(self.section_len(last)?)?
            .checked_add(HEADER_LEN as u64)
    }
}

/// One block's table: the checksums of its source and repair symbols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) first_repair_esi: u32,
    pub(crate) source_crcs: Vec<u32>,
    pub(crate) repair_crcs: Vec<u32>,
}

impl Table {
    pub(crate) fn to_bytes(&self, block: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + 4 * (self.source_crcs.len() + self.repair_crcs.len()));
        put_u64(&mut out, block);
        put_u32(&mut out, self.source_crcs.len() as u32);
        put_u32(&mut out, self.repair_crcs.len() as u32);
        put_u32(&mut out, self.first_repair_esi);
        for &c in self.source_crcs.iter().chain(&self.repair_crcs) {
            put_u32(&mut out, c);
        }
        let crc = crc32(&out);
        put_u32(&mut out, crc);
        out
    }

    /// Block `b`'s table from its bytes, `None` when they are missing,
    /// fail their CRC, or disagree with the header (never trusted then).
    pub(crate) fn parse(h: &Header, b: u64, bytes: Option<&[u8]>) -> Option<Table> {
        let bytes = bytes?;
        let n = bytes.len();
        if n < 24 || crc32(&bytes[..n - 4]) != get_u32(bytes, n - 4) {
            return None;
        }
        let k = h.source_symbols(b);
        let r = h.repair_symbols(b);
        let esi = get_u32(bytes, 16);
        let agrees = get_u64(bytes, 0) == b && get_u32(bytes, 8) == k && get_u32(bytes, 12) == r && esi == k;
        if !agrees || n as u64 != h.table_len(b) {
            return None;
        }
        let crcs: Vec<u32> = (0..(k + r) as usize).map(|i| get_u32(bytes, 20 + 4 * i)).collect();
        Some(Table {
            first_repair_esi: esi,
            source_crcs: crcs[..k as usize].to_vec(),
            repair_crcs: crcs[k as usize..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_of_a_file_that_is_not_a_multiple_of_the_symbol_size() {
        let h = Header::new(10_000, 1000, 4, 50_000);
        assert_eq!(h.block_count, 3); // 10 symbols in blocks of 4, 4, 2
        assert_eq!([h.source_symbols(0), h.source_symbols(2)], [4, 2]);
        assert_eq!([h.budget(0), h.repair_symbols(0)], [1, 3]);
        assert_eq!(h.block_len(2), 2000);
        assert_eq!(h.section_start(1), 64 + h.table_len(0) + 3 * 1000);
        let parsed = Header::parse(&h.to_bytes(), "x").unwrap();
        assert_eq!(parsed, h);
        assert_eq!(Header::new(0, 1000, 4, 50_000).block_count, 0);
    }

    #[test]
    fn a_damaged_table_is_discarded() {
        let h = Header::new(10, 4, 8, 50_000);
        let t = Table {
            first_repair_esi: 3,
            source_crcs: vec![1, 2, 3],
            repair_crcs: vec![4, 5, 6],
        };
        let bytes = t.to_bytes(0);
        assert_eq!(Table::parse(&h, 0, Some(&bytes)), Some(t));
        let mut bad = bytes.clone();
        bad[21] ^= 1;
        assert_eq!(Table::parse(&h, 0, Some(&bad)), None);
        assert_eq!(Table::parse(&h, 0, Some(&bytes[..10])), None);
    }
}
