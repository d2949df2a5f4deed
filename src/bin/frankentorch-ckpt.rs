//! `frankentorch-ckpt`: inspect, protect, verify, repair and convert
//! checkpoint files.
//!
//! ```text
//! frankentorch-ckpt inspect FILE
//! frankentorch-ckpt protect FILE [--overhead 0.05] [--symbol-size 4096] [--block-symbols 1024]
//! frankentorch-ckpt verify FILE
//! frankentorch-ckpt repair FILE
//! frankentorch-ckpt convert SRC DST
//! ```
//!
//! Exit status: 0 on success (and for `verify`, a clean file and
//! sidecar), 1 when `verify` finds damage or `repair` refuses, 2 for
//! usage errors and failures. Formats are detected from a file's first
//! bytes (see [`detect`]); output formats from the extension.

use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
use frankentorch::serialize::{pt, sidecar, LoadOpts, SidecarPolicy, Value};
use frankentorch::{Error, Tensor};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "\
frankentorch-ckpt: inspect, protect, verify, repair and convert checkpoints

USAGE:
    frankentorch-ckpt inspect FILE
        List the tensors (name, dtype, shape, bytes), the total size and the
        safetensors metadata.
    frankentorch-ckpt protect FILE [--overhead F] [--symbol-size N] [--block-symbols N]
        Write the RaptorQ sidecar FILE.ftrq (defaults: overhead 0.05, i.e. 5% of
        each block's symbols may be damaged; 4096-byte symbols; 1024 symbols per
        block).
    frankentorch-ckpt verify FILE
        Check FILE against FILE.ftrq. Exit 0 when file and sidecar are intact,
        1 with a report when anything is damaged.
    frankentorch-ckpt repair FILE
        Repair FILE from FILE.ftrq (the file is replaced only once the repaired
        bytes pass every checksum) and print what was repaired.
    frankentorch-ckpt convert SRC DST
        Convert SRC to DST, the output format chosen by DST's extension
        (.safetensors). SRC is checked through its sidecar when it has one.
    frankentorch-ckpt --help
        Print this help.

EXIT STATUS:
    0 success, 1 damage found (verify) or repair refused, 2 usage error or failure.
";

/// A failure: the message and the exit status.
struct Failure(String, u8);

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure(e.to_string(), 2)
    }
}

fn usage_error(msg: impl Into<String>) -> Failure {
    Failure(format!("{}\nRun `frankentorch-ckpt --help` for usage.", msg.into()), 2)
}

/// The checkpoint formats, told apart by a file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `torch.save`: a zip archive (`PK\x03\x04`) or a legacy pickle (`\x80`).
    Pt,
    /// Anything else is read as safetensors.
    Safetensors,
}

/// The format of `path` from its first bytes: a safetensors header (an
/// 8-byte length that fits the file, then `{`) is safetensors; otherwise a
/// zip archive (`PK\x03\x04`) or a pickle (`\x80`) is `.pt`; anything
/// else is read as safetensors (whose reader then says what is wrong). The
/// safetensors test comes first because a header length whose low byte
/// is 0x80 also starts with `\x80`.
fn detect(path: &Path) -> Result<Format, Failure> {
    let io = |e: std::io::Error| Failure(format!("cannot read {}: {e}", path.display()), 2);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(9);
    f.by_ref().take(9).read_to_end(&mut head).map_err(io)?;
    if head.len() == 9 && head[8] == b'{' {
        let n = u64::from_le_bytes(head[..8].try_into().unwrap_or([0xff; 8]));
        if n.checked_add(8).is_some_and(|end| end <= len) {
            return Ok(Format::Safetensors);
        }
    }
    Ok(match head.as_slice() {
        [b'P', b'K', 3, 4, ..] | [0x80, ..] => Format::Pt,
        _ => Format::Safetensors,
    })
}

/// The output format of `path` from its extension.
fn format_for_output(path: &Path) -> Result<Format, Failure> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => Ok(Format::Safetensors),
        Some("pt" | "pth" | "bin") => Ok(Format::Pt),
        _ => Err(usage_error(format!(
            "cannot tell the output format of {} from its extension (use .safetensors or .pt)",
            path.display()
        ))),
    }
}

/// A checkpoint's tensors in file order and its string metadata.
struct Checkpoint {
    tensors: Vec<(String, Tensor)>,
    metadata: Option<BTreeMap<String, String>>,
}

/// Loads a checkpoint of any supported format (through its sidecar when
/// it has one).
fn load(path: &Path) -> Result<Checkpoint, Failure> {
    let opts = LoadOpts {
        sidecar: SidecarPolicy::IfPresent,
    };
    match detect(path)? {
        Format::Safetensors => {
            let f = safetensors::deserialize_file_with(path, &opts)?;
            Ok(Checkpoint {
                tensors: f.tensors,
                metadata: f.metadata,
            })
        }
        Format::Pt => {
            let value = pt::load_with(path, &opts)?;
            let tensors = value.tensors().into_iter().map(|(n, t)| (n, t.clone())).collect();
            Ok(Checkpoint {
                tensors,
                metadata: None,
            })
        }
    }
}

/// Saves a checkpoint in the format of `path`'s extension.
fn save(path: &Path, ckpt: &Checkpoint) -> Result<(), Failure> {
    match format_for_output(path)? {
        Format::Safetensors => Ok(safetensors::save_file(&ckpt.tensors, ckpt.metadata.as_ref(), path)?),
        Format::Pt => {
            // A flat state dict, as `torch.save(model.state_dict())` writes;
            // safetensors metadata has no place in a .pt file.
            let items = ckpt
                .tensors
                .iter()
                .map(|(n, t)| (Value::Str(n.clone()), Value::Tensor(t.clone())))
                .collect();
            Ok(pt::save(&Value::ordered_dict(items), path)?)
        }
    }
}

fn shape_str(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

fn inspect(path: &Path) -> Result<(), Failure> {
    match detect(path)? {
        Format::Safetensors => {
            let f = SafeTensorsMmap::open(path)?;
            println!("{}: safetensors, {} bytes", path.display(), f.file_len());
            if let Some(meta) = f.metadata() {
                println!("metadata:");
                for (k, v) in meta {
                    println!("  {k}: {v}");
                }
            }
            println!("tensors: {}", f.infos().len());
            let mut total = 0usize;
            let mut elements = 0usize;
            for i in f.infos() {
                let bytes = i.data_offsets.1 - i.data_offsets.0;
                total += bytes;
                elements += i.shape.iter().product::<usize>();
                println!(
                    "  {}  {}  {}  {} bytes",
                    i.name,
                    i.dtype.name(),
                    shape_str(&i.shape),
                    bytes
                );
            }
            println!("total: {elements} elements, {total} bytes of tensor data");
        }
        Format::Pt => {
            let ckpt = load(path)?;
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!("{}: PyTorch checkpoint, {size} bytes", path.display());
            println!("tensors: {}", ckpt.tensors.len());
            let (mut total, mut elements) = (0usize, 0usize);
            for (name, t) in &ckpt.tensors {
                let bytes = t.numel() * t.dtype().itemsize();
                total += bytes;
                elements += t.numel();
                println!("  {name}  {}  {}  {bytes} bytes", t.dtype(), shape_str(t.sizes()));
            }
            println!("total: {elements} elements, {total} bytes of tensor data");
        }
    }
    let sc = sidecar::sidecar_path(path);
    if sc.exists() {
        println!("sidecar: {}", sc.display());
    }
    Ok(())
}

fn parse_value<T: std::str::FromStr>(flag: &str, v: Option<&String>) -> Result<T, Failure> {
    let v = v.ok_or_else(|| usage_error(format!("{flag} needs a value")))?;
    v.parse()
        .map_err(|_| usage_error(format!("invalid value {v:?} for {flag}")))
}

fn protect(path: &Path, flags: &[String]) -> Result<(), Failure> {
    let mut opts = sidecar::SidecarOpts::default();
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--overhead" => opts.overhead = parse_value(flag, it.next())?,
            "--symbol-size" => opts.symbol_size = parse_value(flag, it.next())?,
            "--block-symbols" => opts.block_symbols = parse_value(flag, it.next())?,
            other => return Err(usage_error(format!("unknown option {other:?} for protect"))),
        }
    }
    let s = sidecar::write(path, &opts)?;
    println!(
        "protected {}: {} bytes in {} block(s) of {}-byte symbols; {} source and {} repair symbols; sidecar {} ({} bytes)",
        path.display(),
        s.file_len,
        s.blocks,
        s.symbol_size,
        s.source_symbols,
        s.repair_symbols,
        s.sidecar_path.display(),
        s.sidecar_len
    );
    Ok(())
}

fn verify(path: &Path) -> Result<(), Failure> {
    let r = sidecar::verify(path)?;
    print!("{r}");
    if r.is_clean() && r.sidecar_intact() {
        Ok(())
    } else {
        let what = if r.is_clean() {
            "the file is intact but its sidecar is damaged; run `frankentorch-ckpt repair` to rewrite it"
        } else if r.is_repairable() {
            "damaged; run `frankentorch-ckpt repair` to repair it"
        } else {
            "damaged beyond what the sidecar can repair"
        };
        Err(Failure(format!("{}: {what}", path.display()), 1))
    }
}

fn repair(path: &Path) -> Result<(), Failure> {
    match sidecar::repair(path) {
        Ok(r) => {
            print!("{r}");
            Ok(())
        }
        Err(e) => Err(Failure(e.to_string(), 1)),
    }
}

fn convert(src: &Path, dst: &Path) -> Result<(), Failure> {
    format_for_output(dst)?;
    let ckpt = load(src)?;
    save(dst, &ckpt)?;
    println!(
        "converted {} -> {} ({} tensors)",
        src.display(),
        dst.display(),
        ckpt.tensors.len()
    );
    Ok(())
}

fn run(args: &[String]) -> Result<(), Failure> {
    let file = |i: usize| -> Result<&Path, Failure> {
        args.get(i)
            .map(Path::new)
            .ok_or_else(|| usage_error(format!("{} needs a FILE argument", args[0])))
    };
    let no_more = |n: usize| -> Result<(), Failure> {
        match args.get(n) {
            Some(extra) => Err(usage_error(format!("unexpected argument {extra:?} for {}", args[0]))),
            None => Ok(()),
        }
    };
    match args.first().map(String::as_str) {
        None => Err(usage_error("no command given")),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some("inspect") => {
            no_more(2)?;
            inspect(file(1)?)
        }
        Some("protect") => protect(file(1)?, &args[2..]),
        Some("verify") => {
            no_more(2)?;
            verify(file(1)?)
        }
        Some("repair") => {
            no_more(2)?;
            repair(file(1)?)
        }
        Some("convert") => {
            no_more(3)?;
            let src = file(1)?;
            let dst = args
                .get(2)
                .map(Path::new)
                .ok_or_else(|| usage_error("convert needs SRC and DST"))?;
            convert(src, dst)
        }
        Some(other) => Err(usage_error(format!("unknown command {other:?}"))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg, code)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
