//! [`SafeTensorsMmap`]: a memory-mapped safetensors file whose header is
//! read at open and whose tensors are materialised one by one on demand.

use super::{build_tensor, checked_header, invalid};
use crate::serialize::{sidecar, LoadOpts, SidecarPolicy};
use crate::{DType, Result, Tensor};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A tensor's header entry in a [`SafeTensorsMmap`].
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_tensor_info.safetensors");
/// safetensors::save_file(&[("w", ops::zeros(&[2, 3])?)], None, &path)?;
/// let f = SafeTensorsMmap::open(&path)?;
/// let info = f.info("w").unwrap();
/// assert_eq!((info.dtype, info.shape.as_slice(), info.data_offsets), (DType::F32, &[2, 3][..], (0, 24)));
/// # drop(f); std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name.
    pub name: String,
    /// Its dtype.
    pub dtype: DType,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its bytes, relative to the end of the header.
    pub data_offsets: (usize, usize),
}

/// A safetensors file mapped into memory (`safetensors.safe_open`):
/// [`SafeTensorsMmap::open`] parses and validates the header without
/// reading the tensors' data; [`SafeTensorsMmap::tensor`] and
/// [`SafeTensorsMmap::load_only`] copy just the tensors asked for out of
/// the mapping (the pages the OS reads are those of these tensors).
///
/// The file must not be modified while it is open (see
/// [`SafeTensorsMmap::open`]).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
/// # fn main() -> frankentorch::Result<()> {
/// let path = std::env::temp_dir().join("ft_doc_mmap.safetensors");
/// safetensors::save_file(&[("a", ops::ones(&[2])?), ("b", ops::arange(4)?)], None, &path)?;
/// let f = SafeTensorsMmap::open(&path)?;
/// assert_eq!(f.names(), vec!["b", "a"]); // file order: int64 first
/// let some = f.load_only(&["a"])?;
/// assert_eq!(some["a"].to_vec::<f32>()?, vec![1.0, 1.0]);
/// assert!(f.tensor("c").is_err());
/// # drop(f); std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SafeTensorsMmap {
    path: PathBuf,
    map: memmap2::Mmap,
    data_start: usize,
    infos: Vec<TensorInfo>,
    metadata: Option<BTreeMap<String, String>>,
}

impl SafeTensorsMmap {
    /// Maps `path` and parses its header with every check of
    /// [`super::deserialize`] except the BOOL byte check (done per tensor
    /// when it is materialised).
    ///
    /// Safety of the mapping: the tensors' bytes are read straight from the
    /// file's pages, so the file must not be truncated or written while
    /// this value lives (by this or another process); doing so makes the
    /// reads undefined (typically a SIGBUS). FrankenTorch's own writers
    /// ([`super::save_file`], `sidecar::repair`) never modify a file in
    /// place: they write a new file and rename it over the old path, which
    /// leaves an existing mapping on the old, unchanged file.
    ///
    /// ```
    /// use frankentorch::serialize::safetensors::SafeTensorsMmap;
    /// let e = SafeTensorsMmap::open("/nonexistent.safetensors").unwrap_err();
    /// assert!(e.message().contains("/nonexistent.safetensors"));
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<SafeTensorsMmap> {
        SafeTensorsMmap::open_with(path, &LoadOpts::default())
    }

    /// Maps the file without any sidecar check.
    fn map_file(path: &Path) -> Result<SafeTensorsMmap> {
        let file = std::fs::File::open(path).map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes change (or
        // the process faults) if the file is modified while mapped. The map
        // is read-only and private to this value; the documented contract
        // of `open` is that the file is not modified while it is open, and
        // FrankenTorch's writers replace files by rename instead of writing
        // them in place. All reads go through bounds-checked slices of the
        // map validated against the header.
        let map =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| invalid(format!("cannot map {}: {e}", path.display())))?;
        let h = checked_header(&map)
            .map_err(|e| crate::Error::new(e.kind(), e.op(), format!("{}: {}", path.display(), e.message())))?;
        let infos = h
            .entries
            .into_iter()
            .map(|e| TensorInfo {
                name: e.name,
                dtype: e.dtype,
                shape: e.shape,
                data_offsets: (e.begin, e.end),
            })
            .collect();
        Ok(SafeTensorsMmap {
            path: path.to_path_buf(),
            map,
            data_start: 8 + h.len,
            infos,
            metadata: h.metadata,
        })
    }

    /// [`SafeTensorsMmap::open`] after checking the file against its
    /// sidecar (`SidecarPolicy::IfPresent` or `Require`). A mapped file
    /// cannot be repaired in memory: damage is an error asking for
    /// `sidecar::repair` (or `frankentorch-ckpt repair`).
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// use frankentorch::serialize::{safetensors::{self, SafeTensorsMmap}, sidecar, LoadOpts, SidecarPolicy};
    /// # fn main() -> frankentorch::Result<()> {
    /// let path = std::env::temp_dir().join("ft_doc_mmap_with.safetensors");
    /// safetensors::save_file(&[("a", ops::ones(&[2])?)], None, &path)?;
    /// sidecar::write(&path, &Default::default())?;
    /// let f = SafeTensorsMmap::open_with(&path, &LoadOpts { sidecar: SidecarPolicy::Require })?;
    /// assert_eq!(f.names(), vec!["a"]);
    /// # drop(f); std::fs::remove_file(&path).ok(); std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
    /// # Ok(()) }
    /// ```
    pub fn open_with(path: impl AsRef<Path>, opts: &LoadOpts) -> Result<SafeTensorsMmap> {
        let path = path.as_ref();
        let check = match opts.effective_policy() {
            SidecarPolicy::Ignore => false,
            SidecarPolicy::IfPresent => sidecar::sidecar_path(path).exists(),
            SidecarPolicy::Require => {
                crate::serialize::require_sidecar(path, opts)?;
                true
            }
        };
        if check {
            let report = sidecar::verify(path)?;
            if !report.is_clean() {
                return Err(invalid(format!(
                    "{} is damaged and cannot be memory-mapped; repair it first (sidecar::repair or `frankentorch-ckpt repair`): {}",
                    path.display(),
                    report.to_string().trim_end()
                )));
            }
        }
        SafeTensorsMmap::map_file(path)
    }

    /// The tensors' names in file order.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_names.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[1])?)], None, &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.names(), vec!["x"]);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.infos.iter().map(|i| i.name.as_str()).collect()
    }

    /// Every tensor's header entry, in file order.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_infos.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[4])?)], None, &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.infos()[0].data_offsets, (0, 16));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn infos(&self) -> &[TensorInfo] {
        &self.infos
    }

    /// The header entry of `name`, if there is one.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_info.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[4])?)], None, &path)?;
    /// assert!(SafeTensorsMmap::open(&path)?.info("y").is_none());
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.infos.iter().find(|i| i.name == name)
    }

    /// The `__metadata__` entries, if the header has them.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # use std::collections::BTreeMap;
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_meta.safetensors");
    /// let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    /// safetensors::save_file(&[("x", ops::ones(&[1])?)], Some(&meta), &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.metadata(), Some(&meta));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn metadata(&self) -> Option<&BTreeMap<String, String>> {
        self.metadata.as_ref()
    }

    /// The file's total size in bytes (header included).
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_len.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[1])?)], None, &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.file_len() as u64, std::fs::metadata(&path).unwrap().len());
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn file_len(&self) -> usize {
        self.map.len()
    }

    /// Materialises one tensor (copied out of the mapping); an unknown
    /// name is an error.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_tensor.safetensors");
    /// safetensors::save_file(&[("x", ops::arange(3)?)], None, &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.tensor("x")?.to_vec::<i64>()?, vec![0, 1, 2]);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let info = self.info(name).ok_or_else(|| {
            invalid(format!(
                "{} does not contain a tensor named {name:?}",
                self.path.display()
            ))
        })?;
        let (b, e) = info.data_offsets;
        let bytes = &self.map[self.data_start + b..self.data_start + e];
        build_tensor(name, info.dtype, &info.shape, bytes)
    }

    /// Materialises the named tensors only (each name once; an unknown
    /// name is an error).
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_load_only.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[1])?), ("y", ops::ones(&[2])?)], None, &path)?;
    /// let f = SafeTensorsMmap::open(&path)?;
    /// assert_eq!(f.load_only(&["y"])?.keys().collect::<Vec<_>>(), vec!["y"]);
    /// # drop(f); std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn load_only(&self, names: &[&str]) -> Result<BTreeMap<String, Tensor>> {
        names.iter().map(|&n| Ok((n.to_string(), self.tensor(n)?))).collect()
    }

    /// Materialises every tensor.
    ///
    /// ```
    /// # use frankentorch::prelude::*;
    /// # use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
    /// # fn main() -> frankentorch::Result<()> {
    /// # let path = std::env::temp_dir().join("ft_doc_mmap_load_all.safetensors");
    /// safetensors::save_file(&[("x", ops::ones(&[1])?), ("y", ops::ones(&[2])?)], None, &path)?;
    /// assert_eq!(SafeTensorsMmap::open(&path)?.load_all()?.len(), 2);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(()) }
    /// ```
    pub fn load_all(&self) -> Result<BTreeMap<String, Tensor>> {
        self.infos
            .iter()
            .map(|i| Ok((i.name.clone(), self.tensor(&i.name)?)))
            .collect()
    }
}
