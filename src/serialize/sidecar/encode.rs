//! Writing a sidecar: each block's checksums and RaptorQ repair symbols,
//! streamed one block at a time (memory stays at one block plus its
//! repair symbols, 4 MiB with the defaults).

use super::format::{crc32, Header, Table, HEADER_LEN};
use super::report::SidecarSummary;
use super::{fail, io_err, sidecar_path, SidecarOpts};
use crate::Result;
use ft_runtime::hash::Xxh64;
use raptorq::{ObjectTransmissionInformation, SourceBlockEncoder};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The sidecar's temporary name while it is written.
fn temp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Encodes `file` with `opts` into `<file>.ftrq`, written under a
/// temporary name and renamed once complete.
pub(crate) fn encode(file: &Path, opts: &SidecarOpts) -> Result<SidecarSummary> {
    let (symbol_size, block_symbols, ppm) = opts.validated()?;
    let mut f = File::open(file).map_err(|e| io_err("open", file, &e))?;
    let file_len = f.metadata().map_err(|e| io_err("stat", file, &e))?.len();
    let mut header = Header::new(file_len, symbol_size, block_symbols, ppm);
    let out_path = sidecar_path(file);
    let tmp = temp_path(&out_path);
    let result = write_blocks(&mut f, file, &mut header, &tmp);
    let result = result
        .and_then(|()| std::fs::rename(&tmp, &out_path).map_err(|e| io_err("rename the sidecar into", &out_path, &e)));
    if let Err(e) = result {
        std::fs::remove_file(&tmp).ok();
        return Err(e);
    }
    let mut source_symbols = 0;
    let mut repair_symbols = 0;
    for b in 0..header.block_count {
        source_symbols += u64::from(header.source_symbols(b));
        repair_symbols += u64::from(header.repair_symbols(b));
    }
    Ok(SidecarSummary {
        sidecar_path: out_path,
        file_len,
        file_hash: header.file_hash,
        symbol_size: symbol_size as usize,
        blocks: header.block_count,
        source_symbols,
        repair_symbols,
        sidecar_len: header.sidecar_len().unwrap_or(0),
    })
}

fn write_blocks(f: &mut File, file: &Path, header: &mut Header, tmp: &Path) -> Result<()> {
    let mut out = std::io::BufWriter::new(File::create(tmp).map_err(|e| io_err("create", tmp, &e))?);
    let werr = |e: std::io::Error| io_err("write", tmp, &e);
    out.write_all(&[0u8; HEADER_LEN]).map_err(werr)?;
    let t = header.symbol_size as usize;
    let mut hasher = Xxh64::new();
    for b in 0..header.block_count {
        let k = header.source_symbols(b);
        let len = header.block_len(b);
        let mut buf = vec![0u8; k as usize * t];
        f.read_exact(&mut buf[..len]).map_err(|e| {
            fail(format!(
                "{} changed while its sidecar was written (reading block {b}: {e})",
                file.display()
            ))
        })?;
        hasher.update(&buf[..len]);
        let oti = ObjectTransmissionInformation::new(buf.len() as u64, t as u16, 1, 1, 1);
        let encoder = SourceBlockEncoder::new(0, &oti, &buf);
        let repairs = encoder.repair_packets(0, header.repair_symbols(b));
        let table = Table {
            first_repair_esi: k,
            source_crcs: buf.chunks_exact(t).map(crc32).collect(),
            repair_crcs: repairs.iter().map(|p| crc32(p.data())).collect(),
        };
        if repairs.first().map(|p| p.payload_id().encoding_symbol_id()) != Some(table.first_repair_esi) {
            return Err(fail(format!(
                "block {b}: the RaptorQ encoder numbered its repair symbols unexpectedly"
            )));
        }
        out.write_all(&table.to_bytes(b)).map_err(werr)?;
        for p in &repairs {
            out.write_all(p.data()).map_err(werr)?;
        }
    }
    header.file_hash = hasher.finish();
    let mut out = out.into_inner().map_err(|e| werr(e.into_error()))?;
    out.seek(SeekFrom::Start(0)).map_err(werr)?;
    out.write_all(&header.to_bytes()).map_err(werr)?;
    out.sync_all().map_err(werr)
}
