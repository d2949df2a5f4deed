//! Reference-counted, 64-byte aligned byte buffers shared by tensors and their views.
//!
//! # Soundness of aliasing writes
//!
//! Tensors are `Send + Sync`, and many tensors (views) may share one storage.
//! Element data is only ever touched through raw pointers obtained while a
//! [`StorageAccess`] guard is alive. The guard holds, for every distinct storage
//! a kernel reads or writes, that storage's reader-writer lock: a shared lock if
//! the kernel only reads it, an exclusive lock if it writes it. Locks are taken
//! in ascending address order, so two kernels locking overlapping sets cannot
//! deadlock, and a storage that is both read and written by one kernel (for
//! example `a.add_(a)`) is locked once, exclusively. Hence while a kernel writes
//! a storage no other thread reads or writes it, and no data race is reachable
//! from safe code. Within one kernel, reads and writes of overlapping memory go
//! through raw pointers only (never through overlapping `&`/`&mut` references),
//! which Rust permits. Kernels never call other operators while holding a guard,
//! so a thread never waits on a lock it holds.

use crate::alloc::{self, Fill};
use crate::device::Device;
use smallvec::SmallVec;
use std::ptr::NonNull;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Alignment of every allocation, matching torch's storage alignment in checkpoints.
pub const STORAGE_ALIGNMENT: usize = alloc::ALIGNMENT;

struct StorageImpl {
    ptr: NonNull<u8>,
    nbytes: usize,
    device: Device,
    lock: RwLock<()>,
}

// SAFETY: the buffer is owned by StorageImpl and only accessed through raw
// pointers while the storage's lock is held as described in the module docs.
unsafe impl Send for StorageImpl {}
// SAFETY: as above; shared references only expose the pointer value and the lock.
unsafe impl Sync for StorageImpl {}

impl Drop for StorageImpl {
    fn drop(&mut self) {
        if self.nbytes > 0 {
            // SAFETY: allocated in `Storage::new` by `alloc::allocate(self.nbytes, _)`;
            // the last handle is going away, so nothing uses the block after.
            unsafe { alloc::release(self.ptr, self.nbytes) }
        }
    }
}

/// A shared byte buffer. Cloning a `Storage` shares it (like `torch.UntypedStorage`).
///
/// ```
/// use ft_runtime::Storage;
/// let s = Storage::zeroed(16);
/// assert_eq!(s.nbytes(), 16);
/// assert_eq!(s.clone().data_addr(), s.data_addr());
/// ```
#[derive(Clone)]
pub struct Storage(Arc<StorageImpl>);

impl Storage {
    /// Allocates `nbytes` zero bytes on the CPU (zeroing keeps `zeros` and
    /// partially written outputs free of stale data).
    pub fn zeroed(nbytes: usize) -> Storage {
        Storage::new(nbytes, Fill::Zero)
    }

    /// Allocates `nbytes` initialised bytes of unspecified value (zeros, or
    /// data a freed storage left in a reused block), for outputs a kernel
    /// overwrites entirely: it skips the memset that [`Storage::zeroed`]
    /// needs for a reused block. Like `torch.empty`, never read before writing.
    ///
    /// ```
    /// use ft_runtime::Storage;
    /// let s = Storage::for_overwrite(1 << 20);
    /// assert_eq!(s.nbytes(), 1 << 20);
    /// ```
    pub fn for_overwrite(nbytes: usize) -> Storage {
        Storage::new(nbytes, Fill::Any)
    }

    fn new(nbytes: usize, fill: Fill) -> Storage {
        let ptr = if nbytes == 0 {
            // A dangling but aligned pointer: never dereferenced for 0 bytes.
            NonNull::new(STORAGE_ALIGNMENT as *mut u8).expect("non-null")
        } else {
            alloc::allocate(nbytes, fill)
        };
        Storage(Arc::new(StorageImpl {
            ptr,
            nbytes,
            device: Device::Cpu,
            lock: RwLock::new(()),
        }))
    }

    /// Copies `bytes` into a new storage.
    pub fn from_bytes(bytes: &[u8]) -> Storage {
        let s = Storage::for_overwrite(bytes.len());
        if !bytes.is_empty() {
            // SAFETY: fresh allocation of bytes.len() bytes, not shared yet.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), s.0.ptr.as_ptr(), bytes.len()) }
        }
        s
    }

    /// Size in bytes.
    pub fn nbytes(&self) -> usize {
        self.0.nbytes
    }
    /// The device the bytes live on.
    pub fn device(&self) -> Device {
        self.0.device
    }
    /// Address of the first byte, for identity and aliasing checks only.
    pub fn data_addr(&self) -> usize {
        self.0.ptr.as_ptr() as usize
    }
    /// True when both handles share one buffer.
    pub fn is_same(&self, other: &Storage) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// Number of handles sharing this buffer (tensors and views).
    pub fn use_count(&self) -> usize {
        Arc::strong_count(&self.0)
    }
    /// Copies all bytes out under a shared lock.
    pub fn to_bytes(&self) -> Vec<u8> {
        let access = StorageAccess::lock(&[self], &[]);
        let mut v = vec![0u8; self.nbytes()];
        if !v.is_empty() {
            // SAFETY: the shared lock is held; the range is within the allocation.
            unsafe { std::ptr::copy_nonoverlapping(access.base_ptr(self), v.as_mut_ptr(), v.len()) }
        }
        v
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({} bytes @ {:#x})", self.nbytes(), self.data_addr())
    }
}

enum Held<'a> {
    Read(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Write(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
}

/// Locks held on a set of storages for the duration of one kernel.
///
/// ```
/// use ft_runtime::{Storage, StorageAccess};
/// let a = Storage::zeroed(8);
/// let access = StorageAccess::lock(&[&a], &[&a]); // read and write: one exclusive lock
/// assert!(access.can_write(&a));
/// ```
pub struct StorageAccess<'a> {
    held: SmallVec<[(usize, bool, Held<'a>); 4]>,
}

impl<'a> StorageAccess<'a> {
    /// Locks `reads` shared and `writes` exclusive, deduplicating storages that
    /// appear more than once and ordering by address (see the module docs).
    pub fn lock(reads: &[&'a Storage], writes: &[&'a Storage]) -> StorageAccess<'a> {
        let mut wanted: SmallVec<[(usize, bool, &'a Storage); 4]> = SmallVec::new();
        for (list, write) in [(reads, false), (writes, true)] {
            for s in list {
                let addr = Arc::as_ptr(&s.0) as usize;
                match wanted.iter_mut().find(|w| w.0 == addr) {
                    Some(w) => w.1 |= write,
                    None => wanted.push((addr, write, s)),
                }
            }
        }
        wanted.sort_by_key(|w| w.0);
        let held = wanted
            .into_iter()
            .map(|(addr, write, s)| {
                let guard = if write {
                    Held::Write(s.0.lock.write().unwrap_or_else(|e| e.into_inner()))
                } else {
                    Held::Read(s.0.lock.read().unwrap_or_else(|e| e.into_inner()))
                };
                (addr, write, guard)
            })
            .collect();
        StorageAccess { held }
    }

    fn find(&self, s: &Storage) -> Option<bool> {
        let addr = Arc::as_ptr(&s.0) as usize;
        self.held.iter().find(|h| h.0 == addr).map(|h| h.1)
    }

    /// True when `s` is locked by this guard for writing.
    pub fn can_write(&self, s: &Storage) -> bool {
        self.find(s) == Some(true)
    }

    /// Base pointer of a storage this guard has locked (read or write).
    ///
    /// # Panics
    /// If `s` is not locked by this guard: that is a bug in a kernel, not user input.
    pub fn base_ptr(&self, s: &Storage) -> *const u8 {
        assert!(
            self.find(s).is_some(),
            "kernel bug: storage read without holding its lock"
        );
        s.0.ptr.as_ptr()
    }

    /// Mutable base pointer of a storage this guard has locked for writing.
    ///
    /// # Panics
    /// If `s` is not write-locked by this guard: a kernel bug.
    pub fn base_ptr_mut(&self, s: &Storage) -> *mut u8 {
        assert!(
            self.can_write(s),
            "kernel bug: storage written without holding its exclusive lock"
        );
        s.0.ptr.as_ptr()
    }
}
