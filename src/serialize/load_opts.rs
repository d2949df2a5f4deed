//! How loaders of any checkpoint format read a file: [`LoadOpts`] with its
//! [`SidecarPolicy`], and [`read_bytes`] that applies it.

use super::sidecar::{self, RepairReport};
use crate::{Error, Result};
use std::path::Path;

/// What a loader does with the file's RaptorQ sidecar (`<file>.ftrq`).
/// In hardened mode ([`crate::mode::hardened`]) every policy acts as
/// `Require`: a checkpoint loads only through a verified sidecar.
///
/// ```
/// use frankentorch::serialize::SidecarPolicy;
/// assert_eq!(SidecarPolicy::default(), SidecarPolicy::Ignore);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SidecarPolicy {
    /// Read the file as it is (torch's and the `safetensors` package's
    /// behaviour).
    #[default]
    Ignore,
    /// When a sidecar exists, check the file against it and repair
    /// damage in memory (refusing damage beyond its budget).
    IfPresent,
    /// Like `IfPresent`, and a missing sidecar is an error.
    Require,
}

/// Options shared by the checkpoint loaders (safetensors today, `.pt`
/// alike).
///
/// ```
/// use frankentorch::serialize::{LoadOpts, SidecarPolicy};
/// let opts = LoadOpts { sidecar: SidecarPolicy::IfPresent };
/// assert_ne!(opts, LoadOpts::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOpts {
    /// What to do with the file's sidecar.
    pub sidecar: SidecarPolicy,
}

impl LoadOpts {
    /// The policy loaders apply: `sidecar`, or `Require` in hardened mode
    /// (which expects every checkpoint to come with a sidecar).
    ///
    /// ```
    /// use frankentorch::serialize::{LoadOpts, SidecarPolicy};
    /// let _h = frankentorch::mode::hardened();
    /// assert_eq!(LoadOpts::default().effective_policy(), SidecarPolicy::Require);
    /// ```
    pub fn effective_policy(&self) -> SidecarPolicy {
        match crate::mode::is_hardened() {
            true => SidecarPolicy::Require,
            false => self.sidecar,
        }
    }
}

/// Fails unless `path` has a sidecar file (the `Require` policy).
pub(crate) fn require_sidecar(path: &Path, opts: &LoadOpts) -> Result<()> {
    let sc = sidecar::sidecar_path(path);
    if sc.exists() {
        return Ok(());
    }
    let who = match opts.sidecar {
        SidecarPolicy::Require => "SidecarPolicy::Require",
        _ => "hardened mode",
    };
    Err(Error::invalid(
        sidecar::OP,
        format!(
            "{} has no sidecar ({} is missing) and {who} requires a verified one",
            path.display(),
            sc.display()
        ),
    ))
}

/// The bytes of a checkpoint file under `opts`: read as they are, or
/// checked and restored through the sidecar (with the report of what was
/// repaired, `None` when no sidecar was used).
///
/// ```
/// use frankentorch::serialize::{read_bytes, sidecar, LoadOpts, SidecarPolicy};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_read_bytes.bin");
/// std::fs::write(&path, b"abc").unwrap();
/// let if_present = LoadOpts { sidecar: SidecarPolicy::IfPresent };
/// assert!(read_bytes(&path, &if_present)?.1.is_none()); // no sidecar yet
/// sidecar::write(&path, &Default::default())?;
/// std::fs::write(&path, b"abd").unwrap();
/// let (bytes, report) = read_bytes(&path, &if_present)?;
/// assert_eq!((bytes.as_slice(), report.unwrap().repaired.len()), (&b"abc"[..], 1));
/// # std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
/// # Ok(()) }
/// ```
pub fn read_bytes(path: impl AsRef<Path>, opts: &LoadOpts) -> Result<(Vec<u8>, Option<RepairReport>)> {
    let path = path.as_ref();
    let use_sidecar = match opts.effective_policy() {
        SidecarPolicy::Ignore => false,
        SidecarPolicy::IfPresent => sidecar::sidecar_path(path).exists(),
        SidecarPolicy::Require => {
            require_sidecar(path, opts)?;
            true
        }
    };
    if use_sidecar {
        let (bytes, report) = sidecar::read_verified(path)?;
        return Ok((bytes, Some(report)));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::invalid("ckpt.read", format!("cannot read {}: {e}", path.display())))?;
    Ok((bytes, None))
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory renamed over it, so readers (and memory maps) of the old file
/// never see a partial or modified file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp_name = path.as_os_str().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp_name);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        Error::invalid("ckpt.write", format!("cannot write {}: {e}", path.display()))
    })
}
