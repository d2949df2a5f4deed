//! What [`super::write`], [`super::verify`], [`super::repair`] and
//! [`super::read_verified`] report.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// What [`super::write`] wrote.
///
/// ```
/// use frankentorch::serialize::sidecar::{self, SidecarOpts};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_summary.bin");
/// std::fs::write(&path, vec![7u8; 10_000]).unwrap();
/// let s = sidecar::write(&path, &SidecarOpts::default())?;
/// assert_eq!((s.file_len, s.blocks, s.source_symbols), (10_000, 1, 3));
/// assert_eq!(s.repair_symbols, 3); // a budget of 1, plus 2 safety symbols
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(&s.sidecar_path).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidecarSummary {
    /// The sidecar written (`<file>.ftrq`).
    pub sidecar_path: PathBuf,
    /// The protected file's length in bytes.
    pub file_len: u64,
    /// Its XXH64 hash (seed 0).
    pub file_hash: u64,
    /// Bytes per symbol.
    pub symbol_size: usize,
    /// Source blocks.
    pub blocks: u64,
    /// Source symbols over all blocks.
    pub source_symbols: u64,
    /// Repair symbols stored over all blocks.
    pub repair_symbols: u64,
    /// The sidecar's size in bytes.
    pub sidecar_len: u64,
}

/// Damage found in one source block of the protected file.
///
/// ```
/// use frankentorch::serialize::sidecar::BlockDamage;
/// let d = BlockDamage {
///     block: 0,
///     byte_range: 0..4096,
///     damaged_symbols: vec![1],
///     damaged_ranges: vec![1024..2048],
///     damaged_repair_symbols: 0,
///     budget: 2,
///     repairable: true,
/// };
/// assert!(d.to_string().contains("bytes 1024..2048"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockDamage {
    /// The block's index.
    pub block: u64,
    /// The block's bytes in the file.
    pub byte_range: Range<u64>,
    /// Damaged (or missing) source symbols, as indices within the block.
    pub damaged_symbols: Vec<u32>,
    /// The damaged symbols as file byte ranges (adjacent ones merged).
    pub damaged_ranges: Vec<Range<u64>>,
    /// Repair symbols of this block whose checksum failed in the sidecar.
    pub damaged_repair_symbols: u32,
    /// Damaged symbols (source plus repair) the block tolerates.
    pub budget: u32,
    /// Whether the block decodes back to bytes that pass every checksum.
    pub repairable: bool,
}

impl BlockDamage {
    /// Damaged source plus repair symbols, the number held against the budget.
    ///
    /// ```
    /// use frankentorch::serialize::sidecar::BlockDamage;
    /// let d = BlockDamage { block: 3, byte_range: 0..8, damaged_symbols: vec![0, 1],
    ///     damaged_ranges: vec![0..8], damaged_repair_symbols: 1, budget: 2, repairable: false };
    /// assert_eq!(d.lost(), 3);
    /// ```
    pub fn lost(&self) -> u32 {
        self.damaged_symbols.len() as u32 + self.damaged_repair_symbols
    }
}

impl fmt::Display for BlockDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ranges: Vec<String> = self
            .damaged_ranges
            .iter()
            .map(|r| format!("{}..{}", r.start, r.end))
            .collect();
        write!(
            f,
            "block {} (bytes {}..{}): {} damaged source symbol(s) at bytes {}, {} damaged repair symbol(s), budget {}: {}",
            self.block,
            self.byte_range.start,
            self.byte_range.end,
            self.damaged_symbols.len(),
            ranges.join(", "),
            self.damaged_repair_symbols,
            self.budget,
            if self.repairable { "repairable" } else { "NOT repairable" }
        )
    }
}

/// Damaged parts of the sidecar itself (discarded, never trusted).
///
/// ```
/// use frankentorch::serialize::sidecar::SidecarDamage;
/// let d = SidecarDamage { block: 2, table: true, repair_symbols: vec![] };
/// assert!(d.to_string().contains("block 2"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidecarDamage {
    /// The block whose sidecar section is damaged.
    pub block: u64,
    /// The block's checksum table is damaged or missing: the block's file
    /// bytes are then checked only by the whole-file hash.
    pub table: bool,
    /// Indices of repair symbols whose checksum failed (or that are missing).
    pub repair_symbols: Vec<u32>,
}

impl fmt::Display for SidecarDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table {
            write!(f, "sidecar block {}: checksum table damaged or missing", self.block)
        } else {
            write!(
                f,
                "sidecar block {}: {} repair symbol(s) damaged or missing {:?}",
                self.block,
                self.repair_symbols.len(),
                self.repair_symbols
            )
        }
    }
}

/// What [`super::verify`] found.
///
/// ```
/// use frankentorch::serialize::sidecar::{self, SidecarOpts};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_verify_report.bin");
/// std::fs::write(&path, b"hello").unwrap();
/// sidecar::write(&path, &SidecarOpts::default())?;
/// let r = sidecar::verify(&path)?;
/// assert!(r.is_clean() && r.is_repairable() && r.sidecar_intact());
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The file checked.
    pub path: PathBuf,
    /// Its length when protected.
    pub recorded_len: u64,
    /// Its length now.
    pub actual_len: u64,
    /// Source blocks.
    pub blocks: u64,
    /// Blocks with damaged or missing source symbols.
    pub damaged: Vec<BlockDamage>,
    /// Damaged parts of the sidecar (discarded).
    pub sidecar_damage: Vec<SidecarDamage>,
    /// Bytes in the sidecar after its last section (ignored).
    pub sidecar_extra_bytes: u64,
    /// Whether the repaired bytes (the file itself when undamaged) match
    /// the recorded whole-file hash.
    pub hash_ok: bool,
    /// Why the file cannot be repaired (empty when it can).
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// The file is exactly as protected.
    ///
    /// ```
    /// # use frankentorch::serialize::sidecar::VerifyReport;
    /// let r = VerifyReport { path: "f".into(), recorded_len: 3, actual_len: 4, blocks: 1,
    ///     damaged: vec![], sidecar_damage: vec![], sidecar_extra_bytes: 0, hash_ok: true, problems: vec![] };
    /// assert!(!r.is_clean()); // one byte was appended
    /// ```
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty() && self.recorded_len == self.actual_len && self.hash_ok
    }

    /// [`super::repair`] would restore the exact protected bytes.
    ///
    /// ```
    /// # use frankentorch::serialize::sidecar::VerifyReport;
    /// let r = VerifyReport { path: "f".into(), recorded_len: 3, actual_len: 4, blocks: 1,
    ///     damaged: vec![], sidecar_damage: vec![], sidecar_extra_bytes: 0, hash_ok: true, problems: vec![] };
    /// assert!(r.is_repairable());
    /// ```
    pub fn is_repairable(&self) -> bool {
        self.problems.is_empty() && self.hash_ok
    }

    /// No part of the sidecar was damaged.
    ///
    /// ```
    /// # use frankentorch::serialize::sidecar::VerifyReport;
    /// let r = VerifyReport { path: "f".into(), recorded_len: 3, actual_len: 3, blocks: 1,
    ///     damaged: vec![], sidecar_damage: vec![], sidecar_extra_bytes: 5, hash_ok: true, problems: vec![] };
    /// assert!(!r.sidecar_intact());
    /// ```
    pub fn sidecar_intact(&self) -> bool {
        self.sidecar_damage.is_empty() && self.sidecar_extra_bytes == 0
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_clean() {
            "clean"
        } else if self.is_repairable() {
            "DAMAGED, repairable"
        } else {
            "DAMAGED, NOT repairable"
        };
        writeln!(f, "{}: {state}", self.path.display())?;
        writeln!(
            f,
            "  length: {} bytes recorded, {} bytes now; {} block(s)",
            self.recorded_len, self.actual_len, self.blocks
        )?;
        if self.actual_len > self.recorded_len {
            writeln!(f, "  {} extra byte(s) at the end", self.actual_len - self.recorded_len)?;
        } else if self.actual_len < self.recorded_len {
            writeln!(
                f,
                "  {} byte(s) missing at the end",
                self.recorded_len - self.actual_len
            )?;
        }
        for d in &self.damaged {
            writeln!(f, "  {d}")?;
        }
        for d in &self.sidecar_damage {
            writeln!(f, "  {d}")?;
        }
        if self.sidecar_extra_bytes > 0 {
            writeln!(f, "  sidecar: {} extra byte(s) at the end", self.sidecar_extra_bytes)?;
        }
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        Ok(())
    }
}

/// What [`super::repair`] or [`super::read_verified`] restored.
///
/// ```
/// use frankentorch::serialize::sidecar::{self, SidecarOpts};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_repair_report.bin");
/// std::fs::write(&path, vec![1u8; 3000]).unwrap();
/// sidecar::write(&path, &SidecarOpts { symbol_size: 1000, overhead: 0.5, ..SidecarOpts::default() })?;
/// std::fs::write(&path, [vec![1u8; 1500], vec![9u8; 1500]].concat()).unwrap();
/// let r = sidecar::repair(&path)?;
/// assert!(r.rewritten && r.repaired[0].damaged_symbols == vec![1, 2]);
/// assert_eq!(std::fs::read(&path).unwrap(), vec![1u8; 3000]);
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairReport {
    /// The file.
    pub path: PathBuf,
    /// Blocks that were damaged and are restored.
    pub repaired: Vec<BlockDamage>,
    /// Extra bytes dropped from the end.
    pub dropped_bytes: u64,
    /// Missing bytes restored at the end.
    pub restored_tail_bytes: u64,
    /// Damaged parts of the sidecar that were found (and discarded).
    pub sidecar_damage: Vec<SidecarDamage>,
    /// The file on disk was rewritten ([`super::repair`] only).
    pub rewritten: bool,
    /// The sidecar was damaged and was written again ([`super::repair`] only).
    pub sidecar_rewritten: bool,
}

impl RepairReport {
    /// Whether anything in the file differed from what was protected.
    ///
    /// ```
    /// # use frankentorch::serialize::sidecar::RepairReport;
    /// let r = RepairReport { path: "f".into(), repaired: vec![], dropped_bytes: 2, restored_tail_bytes: 0,
    ///     sidecar_damage: vec![], rewritten: true, sidecar_rewritten: false };
    /// assert!(r.file_was_damaged());
    /// ```
    pub fn file_was_damaged(&self) -> bool {
        !self.repaired.is_empty() || self.dropped_bytes > 0 || self.restored_tail_bytes > 0
    }
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file_was_damaged() {
            writeln!(f, "{}: clean, nothing to repair", self.path.display())?;
        } else {
            writeln!(
                f,
                "{}: {}",
                self.path.display(),
                if self.rewritten {
                    "repaired"
                } else {
                    "restored in memory"
                }
            )?;
        }
        for d in &self.repaired {
            writeln!(f, "  {d}")?;
        }
        if self.dropped_bytes > 0 {
            writeln!(f, "  dropped {} extra byte(s) at the end", self.dropped_bytes)?;
        }
        if self.restored_tail_bytes > 0 {
            writeln!(f, "  restored {} missing byte(s) at the end", self.restored_tail_bytes)?;
        }
        for d in &self.sidecar_damage {
            writeln!(f, "  {d}")?;
        }
        if self.sidecar_rewritten {
            writeln!(f, "  the sidecar was written again")?;
        }
        Ok(())
    }
}
