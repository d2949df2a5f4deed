//! The zip container of torch's checkpoints: every record stored
//! uncompressed, its data starting on a 64-byte boundary (padding carried in
//! a local-header extra field `FB`), zip64 fields when sizes or offsets pass
//! 4 GiB or there are more than 65535 entries.
//!
//! [`ZipWriter`] writes archives laid out as torch's (miniz-based) writer
//! does; [`ZipArchive`] reads them and fails closed on anything else
//! (compressed or encrypted entries, duplicate names, offsets or sizes past
//! the end of the file, header mismatches, bad CRCs).
//!
//! ```
//! use frankentorch::serialize::zip::{ZipArchive, ZipWriter};
//! # fn main() -> frankentorch::Result<()> {
//! let mut w = ZipWriter::new(Vec::new());
//! w.add("archive/data.pkl", b"hello")?;
//! let bytes = w.finish()?;
//! let zip = ZipArchive::parse(&bytes)?;
//! assert_eq!(zip.read("archive/data.pkl")?, Some(&b"hello"[..]));
//! # Ok(()) }
//! ```

mod reader;
mod writer;

pub use reader::{ZipArchive, ZipEntry};
pub use writer::ZipWriter;

/// Alignment of every record's data, as torch writes it (`.storage_alignment`).
pub const RECORD_ALIGNMENT: u64 = 64;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const LOCAL_HEADER_LEN: u64 = 30;
const CENTRAL_HEADER_LEN: u64 = 46;
const EOCD_LEN: u64 = 22;
const ZIP64_EOCD_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EXTRA_ID: u16 = 0x0001;
/// General purpose flags torch writes: sizes in a data descriptor (bit 3), UTF-8 names (bit 11).
const FLAGS: u16 = 0x0808;
