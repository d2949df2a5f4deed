//! The CPU block cache behind every [`Storage`](crate::Storage): freed blocks
//! are kept in size-bucketed free lists and handed out again, so a fresh
//! output stops paying page faults (glibc returns blocks above its mmap
//! threshold to the OS on free, and writing freshly mapped memory runs at a
//! tenth of memory bandwidth).
//!
//! - Sizes are rounded up to a bucket ([`bucket_size`]): multiples of 64
//!   bytes up to 1 KiB, then each power of two split in 4, so a block serves
//!   requests up to 25% smaller than itself.
//! - Blocks below [`SMALL_BLOCK`] bypass the cache: the system allocator's
//!   per-thread caches already serve them without a lock, and the
//!   one-element tensors of per-op overhead stay lock-free.
//! - Blocks of at least [`HUGE_BLOCK`] (2 MiB) are mapped 2 MiB-aligned and
//!   asked to use transparent huge pages (`madvise(MADV_HUGEPAGE)`, Linux;
//!   other systems get an aligned heap block; `FT_ALLOC_HUGE_PAGES=0` turns
//!   this off).
//! - On glibc, the first use sets malloc's mmap and trim thresholds to the
//!   values glibc reaches by itself when it sees large frees (see
//!   `tune_malloc`), since those frees now stop here.
//! - The cache holds at most [`cache_limit`] bytes (default: the lower of 25%
//!   of RAM and 4 GiB; `FT_ALLOC_CACHE_BYTES` or [`set_cache_limit`] change
//!   it, 0 disables caching). When over the bound, the least recently freed
//!   blocks are released first. [`empty_cache`] releases every cached block.
//! - Every block handed out is initialised memory: fresh blocks are zeroed
//!   (by the OS for mappings, by `alloc_zeroed` otherwise); a reused block
//!   holds the bytes its previous owner left, and is zeroed again when the
//!   caller asks for zeros ([`Fill::Zero`]). Debug builds fill blocks for
//!   overwrite ([`Fill::Any`]) with [`POISON`] instead, so tests catch an
//!   output a kernel does not write entirely.
//!
//! ```
//! use ft_runtime::alloc;
//! let before = alloc::stats();
//! drop(ft_runtime::Storage::zeroed(1 << 20));
//! let s = ft_runtime::Storage::zeroed(1 << 20); // served from the cache
//! assert!(alloc::stats().hits + alloc::stats().misses > before.hits + before.misses);
//! drop(s);
//! ```

use std::alloc::{self as sys, Layout};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Alignment of every block (torch's storage alignment in checkpoints).
pub const ALIGNMENT: usize = 64;
/// Blocks smaller than this go straight to the system allocator.
pub const SMALL_BLOCK: usize = 16 << 10;
/// Blocks at least this large are 2 MiB-aligned and use transparent huge pages.
pub const HUGE_BLOCK: usize = 2 << 20;
/// Upper end of the default cache bound.
const DEFAULT_LIMIT_MAX: usize = 4 << 30;

/// What a new block must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// All bytes zero.
    Zero,
    /// Initialised but unspecified bytes (zeros if fresh, the previous
    /// owner's data if reused): for outputs the caller overwrites entirely.
    Any,
}

/// The size of the block that serves a request of `nbytes` (> 0).
///
/// ```
/// use ft_runtime::alloc::bucket_size;
/// assert_eq!(bucket_size(1), 64);
/// assert_eq!(bucket_size(1000), 1024);
/// assert_eq!(bucket_size(1025), 1280); // 1 KiB + 1/4 KiB steps
/// assert_eq!(bucket_size(64 << 20), 64 << 20);
/// ```
pub fn bucket_size(nbytes: usize) -> usize {
    let step = if nbytes <= 1024 {
        ALIGNMENT
    } else {
        // 2^k <= nbytes - 1 < 2^(k+1): steps of 2^(k-2) give 4 buckets per octave.
        let k = usize::BITS - 1 - (nbytes - 1).leading_zeros();
        1usize << (k - 2)
    };
    nbytes.div_ceil(step).saturating_mul(step)
}

/// Allocator counters (all sizes in bytes, rounded up to buckets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Bytes of blocks held by live storages.
    pub in_use_bytes: usize,
    /// Bytes of freed blocks kept for reuse.
    pub cached_bytes: usize,
    /// Highest `in_use_bytes` seen (since start or [`reset_peak`]).
    pub peak_in_use_bytes: usize,
    /// Requests served from the cache.
    pub hits: u64,
    /// Cacheable requests that needed a new block.
    pub misses: u64,
}

/// A snapshot of the allocator's counters.
///
/// ```
/// let s = ft_runtime::alloc::stats();
/// assert!(s.peak_in_use_bytes >= s.in_use_bytes);
/// ```
pub fn stats() -> AllocStats {
    let cached_bytes = cache().cached_bytes;
    AllocStats {
        in_use_bytes: IN_USE.load(Relaxed),
        cached_bytes,
        peak_in_use_bytes: PEAK.load(Relaxed),
        hits: HITS.load(Relaxed),
        misses: MISSES.load(Relaxed),
    }
}

/// Sets the peak to the bytes in use now.
///
/// ```
/// ft_runtime::alloc::reset_peak();
/// ```
pub fn reset_peak() {
    PEAK.store(IN_USE.load(Relaxed), Relaxed);
}

/// Releases every cached block to the system (like `torch.cuda.empty_cache`).
///
/// ```
/// drop(ft_runtime::Storage::zeroed(1 << 20));
/// ft_runtime::alloc::empty_cache();
/// ```
pub fn empty_cache() {
    let blocks = cache().evict_to(0);
    blocks.into_iter().for_each(|(p, size)| free_block(p, size));
}

/// The cache bound in bytes.
///
/// ```
/// assert!(ft_runtime::alloc::cache_limit() <= 4 << 30);
/// ```
pub fn cache_limit() -> usize {
    cache().limit
}

/// Sets the cache bound (0 disables caching), releasing the least recently
/// freed blocks until the cache fits; returns the previous bound.
///
/// ```
/// use ft_runtime::alloc;
/// let old = alloc::set_cache_limit(0);
/// alloc::set_cache_limit(old);
/// ```
pub fn set_cache_limit(bytes: usize) -> usize {
    let (old, evicted) = {
        let mut c = cache();
        let old = std::mem::replace(&mut c.limit, bytes);
        (old, c.evict_to(bytes))
    };
    evicted.into_iter().for_each(|(p, size)| free_block(p, size));
    old
}

/// A block of `bucket_size(nbytes)` bytes, initialised as `fill` asks,
/// aligned to [`ALIGNMENT`] (2 MiB for huge blocks). `nbytes` must be > 0;
/// give the block back with [`release`] and the same `nbytes`.
///
/// ```
/// use ft_runtime::alloc::{allocate, release, Fill};
/// let p = allocate(100, Fill::Zero);
/// // SAFETY: the block has at least 100 initialised bytes.
/// assert_eq!(unsafe { *p.as_ptr().add(99) }, 0);
/// // SAFETY: allocated above with the same size, not used after.
/// unsafe { release(p, 100) };
/// ```
pub fn allocate(nbytes: usize, fill: Fill) -> NonNull<u8> {
    assert!(nbytes > 0, "alloc::allocate: zero-byte block");
    let size = bucket_size(nbytes);
    count_in_use(size);
    let (p, zeroed) = if size < SMALL_BLOCK {
        (heap_alloc_zeroed(size), true)
    } else {
        let reused = cache().take(size);
        match reused {
            Some(p) => {
                HITS.fetch_add(1, Relaxed);
                (p, false)
            }
            None => {
                MISSES.fetch_add(1, Relaxed);
                (fresh_block(size), true)
            }
        }
    };
    let byte = match fill {
        Fill::Zero if !zeroed => Some(0),
        // Debug builds (and so every test run) poison blocks for overwrite,
        // so a kernel that leaves part of such an output unwritten shows
        // NaNs / -1s in tests instead of passing on a lucky zero block.
        Fill::Any if cfg!(debug_assertions) => Some(POISON),
        _ => None,
    };
    if let Some(byte) = byte {
        // SAFETY: the block spans `size` writable bytes and is owned by the caller now.
        unsafe { p.as_ptr().write_bytes(byte, size) };
    }
    p
}

/// The byte debug builds fill [`Fill::Any`] blocks with (NaN in every float
/// type, -1 in every signed integer type).
pub const POISON: u8 = 0xFF;

/// Gives back a block from [`allocate`]: it is cached for reuse, or freed
/// when it is small or the cache would exceed its bound.
///
/// # Safety
/// `p` must come from `allocate(nbytes, _)` with this `nbytes`, and must not
/// be used after this call.
pub unsafe fn release(p: NonNull<u8>, nbytes: usize) {
    let size = bucket_size(nbytes);
    IN_USE.fetch_sub(size, Relaxed);
    if size < SMALL_BLOCK {
        // SAFETY: small blocks come from heap_alloc_zeroed with this layout (caller's contract).
        unsafe { sys::dealloc(p.as_ptr(), heap_layout(size)) };
        return;
    }
    let evicted = cache().put(p, size);
    evicted.into_iter().for_each(|(p, size)| free_block(p, size));
}

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

fn count_in_use(size: usize) {
    let now = IN_USE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(now, Relaxed);
}

/// Address of a cached block (only moved between the cache and its owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BlockPtr(NonNull<u8>);
// SAFETY: a cached block is plain memory owned by the cache; the pointer is
// only handed to one owner at a time under the cache's mutex.
unsafe impl Send for BlockPtr {}

/// The free lists. A block freed earlier has a smaller stamp.
#[derive(Default)]
struct Cache {
    limit: usize,
    cached_bytes: usize,
    next_stamp: u64,
    /// Per bucket size: (stamp, block), oldest first.
    free: HashMap<usize, VecDeque<(u64, BlockPtr)>>,
    /// Every cached block by stamp: the eviction order.
    by_age: BTreeMap<u64, usize>,
}

impl Cache {
    /// The most recently freed block of `size` (likely still in cache).
    fn take(&mut self, size: usize) -> Option<NonNull<u8>> {
        let (stamp, p) = self.free.get_mut(&size)?.pop_back()?;
        self.by_age.remove(&stamp);
        self.cached_bytes -= size;
        Some(p.0)
    }

    /// Caches a block; returns the blocks to free (it, when it cannot fit,
    /// or the least recently freed ones the bound pushes out).
    fn put(&mut self, p: NonNull<u8>, size: usize) -> Vec<(NonNull<u8>, usize)> {
        if size > self.limit {
            return vec![(p, size)];
        }
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        self.free.entry(size).or_default().push_back((stamp, BlockPtr(p)));
        self.by_age.insert(stamp, size);
        self.cached_bytes += size;
        self.evict_to(self.limit)
    }

    /// Removes least recently freed blocks until at most `bound` bytes stay.
    fn evict_to(&mut self, bound: usize) -> Vec<(NonNull<u8>, usize)> {
        let mut out = Vec::new();
        while self.cached_bytes > bound {
            let Some((stamp, size)) = self.by_age.pop_first() else {
                break;
            };
            let list = self.free.get_mut(&size).expect("aged block has a free list");
            let (s, p) = list.pop_front().expect("aged block is in its free list");
            debug_assert_eq!(s, stamp, "a bucket's oldest block is the oldest of its size");
            if list.is_empty() {
                self.free.remove(&size);
            }
            self.cached_bytes -= size;
            out.push((p.0, size));
        }
        out
    }
}

fn cache() -> MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            tune_malloc();
            Mutex::new(Cache {
                limit: limit_from_env(std::env::var("FT_ALLOC_CACHE_BYTES").ok().as_deref()),
                ..Default::default()
            })
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Keeps glibc's heap serving the kernels' own large temporaries (`Vec`s).
///
/// glibc maps every request above its mmap threshold afresh and unmaps it on
/// free (page faults on each use); it raises that threshold (up to 32 MiB,
/// with the trim threshold at twice that) once it sees a large mapped block
/// freed. Large blocks now live in this cache and never reach glibc's
/// `free`, so the threshold would stay at its 128 KiB start and a kernel's
/// 1 MiB scratch `Vec` would fault on every call (measured: 2.5x the page
/// faults of the MLP step). Setting the values glibc itself converges to
/// restores its steady state. Variables the user set
/// (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) win.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let user_set = |name: &str| std::env::var_os(name).is_some();
        if !user_set("MALLOC_MMAP_THRESHOLD_") {
            // SAFETY: mallopt only changes glibc's tuning parameters.
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) };
        }
        if !user_set("MALLOC_TRIM_THRESHOLD_") {
            // SAFETY: as above.
            unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20) };
        }
    }
}

/// `FT_ALLOC_CACHE_BYTES` when it parses, else the default bound.
fn limit_from_env(value: Option<&str>) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(default_limit)
}

/// The lower of 25% of RAM and 4 GiB.
fn default_limit() -> usize {
    physical_memory().map_or(DEFAULT_LIMIT_MAX, |ram| (ram / 4).min(DEFAULT_LIMIT_MAX))
}

#[cfg(unix)]
fn physical_memory() -> Option<usize> {
    // SAFETY: sysconf only reads system configuration.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages > 0 && page > 0).then(|| (pages as usize).saturating_mul(page as usize))
}

#[cfg(not(unix))]
fn physical_memory() -> Option<usize> {
    None
}

fn heap_layout(size: usize) -> Layout {
    Layout::from_size_align(size, ALIGNMENT).expect("block size overflows isize")
}

fn heap_alloc_zeroed(size: usize) -> NonNull<u8> {
    let layout = heap_layout(size);
    // SAFETY: size > 0.
    let p = unsafe { sys::alloc_zeroed(layout) };
    NonNull::new(p).unwrap_or_else(|| sys::handle_alloc_error(layout))
}

/// True when blocks of at least [`HUGE_BLOCK`] are mapped 2 MiB-aligned with
/// transparent huge pages: unless `FT_ALLOC_HUGE_PAGES=0` (read once, so a
/// block is always freed the way it was allocated).
///
/// ```
/// let on = ft_runtime::alloc::huge_pages();
/// assert_eq!(on, ft_runtime::alloc::huge_pages());
/// ```
pub fn huge_pages() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("FT_ALLOC_HUGE_PAGES").map_or(true, |v| v.trim() != "0"))
}

/// A new zeroed block of `size` (a bucket size >= SMALL_BLOCK).
fn fresh_block(size: usize) -> NonNull<u8> {
    if size >= HUGE_BLOCK && huge_pages() {
        huge::map(size)
    } else {
        heap_alloc_zeroed(size)
    }
}

/// Returns a block of `size` (a bucket size >= SMALL_BLOCK) to the system.
fn free_block(p: NonNull<u8>, size: usize) {
    if size >= HUGE_BLOCK && huge_pages() {
        // SAFETY: with huge pages on, huge blocks come from huge::map(size) and are no longer used.
        unsafe { huge::unmap(p, size) }
    } else {
        // SAFETY: other cacheable blocks come from heap_alloc_zeroed(size)
        // (huge_pages() never changes within a process).
        unsafe { sys::dealloc(p.as_ptr(), heap_layout(size)) }
    }
}

/// 2 MiB-aligned blocks backed by transparent huge pages.
#[cfg(target_os = "linux")]
mod huge {
    use super::HUGE_BLOCK;
    use std::ptr::NonNull;

    /// Maps `size` zeroed bytes (a multiple of the page size) at a 2 MiB boundary.
    pub(super) fn map(size: usize) -> NonNull<u8> {
        let len = size + HUGE_BLOCK;
        // SAFETY: an anonymous private mapping at an address the kernel picks.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            std::alloc::handle_alloc_error(super::heap_layout(size));
        }
        let start = base as usize;
        let aligned = start.next_multiple_of(HUGE_BLOCK);
        let (head, tail) = (aligned - start, start + len - (aligned + size));
        // SAFETY: head and tail are whole pages of the mapping just made and
        // outside the block we keep (mmap returns page-aligned addresses and
        // size is a page multiple). madvise only advises; failure is harmless.
        unsafe {
            if head > 0 {
                libc::munmap(base, head);
            }
            if tail > 0 {
                libc::munmap((aligned + size) as *mut libc::c_void, tail);
            }
            libc::madvise(aligned as *mut libc::c_void, size, libc::MADV_HUGEPAGE);
        }
        NonNull::new(aligned as *mut u8).expect("mapping is not at address 0")
    }

    /// Unmaps a block from [`map`].
    ///
    /// # Safety
    /// `p` and `size` come from `map(size)`; the block is not used after.
    pub(super) unsafe fn unmap(p: NonNull<u8>, size: usize) {
        // SAFETY: the caller's contract: exactly the range `map` kept.
        unsafe { libc::munmap(p.as_ptr().cast(), size) };
    }
}

/// Elsewhere: 2 MiB-aligned zeroed heap blocks.
#[cfg(not(target_os = "linux"))]
mod huge {
    use super::HUGE_BLOCK;
    use std::alloc::{self as sys, Layout};
    use std::ptr::NonNull;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, HUGE_BLOCK).expect("block size overflows isize")
    }

    pub(super) fn map(size: usize) -> NonNull<u8> {
        // SAFETY: size > 0.
        let p = unsafe { sys::alloc_zeroed(layout(size)) };
        NonNull::new(p).unwrap_or_else(|| sys::handle_alloc_error(layout(size)))
    }

    /// # Safety
    /// `p` and `size` come from `map(size)`; the block is not used after.
    pub(super) unsafe fn unmap(p: NonNull<u8>, size: usize) {
        // SAFETY: the caller's contract.
        unsafe { sys::dealloc(p.as_ptr(), layout(size)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: usize) -> NonNull<u8> {
        NonNull::new((n * 4096) as *mut u8).unwrap()
    }

    fn cache_with(limit: usize) -> Cache {
        Cache {
            limit,
            ..Default::default()
        }
    }

    #[test]
    fn buckets_round_up_by_quarter_octaves() {
        assert_eq!(bucket_size(64), 64);
        assert_eq!(bucket_size(65), 128);
        assert_eq!(bucket_size(1024), 1024);
        // 1 KiB .. 2 KiB in steps of 256.
        assert_eq!(bucket_size(1281), 1536);
        assert_eq!(bucket_size(2048), 2048);
        assert_eq!(bucket_size(2049), 2560);
        for n in [17 << 10, 3 << 20, (64 << 20) + 1, 123_456_789] {
            let b = bucket_size(n);
            assert!(b >= n && (b - n) * 4 <= n, "{n} -> {b}");
            assert_eq!(b % ALIGNMENT, 0);
            assert_eq!(bucket_size(b), b, "a bucket size is its own bucket");
        }
        // Sizes of at least 2 MiB round to page multiples (mmap lengths).
        assert_eq!(bucket_size((2 << 20) + 1) % 4096, 0);
    }

    #[test]
    fn take_prefers_the_most_recently_freed_block() {
        let mut c = cache_with(1 << 30);
        assert!(c.put(block(1), 32 << 10).is_empty());
        assert!(c.put(block(2), 32 << 10).is_empty());
        assert_eq!(c.take(32 << 10), Some(block(2)));
        assert_eq!(c.take(64 << 10), None);
        assert_eq!(c.cached_bytes, 32 << 10);
    }

    #[test]
    fn eviction_releases_least_recently_freed_first() {
        let kb = 1 << 10;
        let mut c = cache_with(100 * kb);
        assert!(c.put(block(1), 32 * kb).is_empty());
        assert!(c.put(block(2), 48 * kb).is_empty());
        assert!(c.put(block(3), 16 * kb).is_empty());
        // 96 KiB cached; 32 more exceed 100: the oldest (block 1) goes.
        assert_eq!(c.put(block(4), 32 * kb), vec![(block(1), 32 * kb)]);
        assert_eq!(c.cached_bytes, 96 * kb);
        // Then block 2 (48) and block 3 (16) for a 64 KiB block.
        let out = c.put(block(5), 64 * kb);
        assert_eq!(out, vec![(block(2), 48 * kb), (block(3), 16 * kb)]);
        assert_eq!(c.cached_bytes, 96 * kb);
        assert!(c.cached_bytes <= c.limit);
    }

    #[test]
    fn blocks_above_the_bound_are_not_cached() {
        let mut c = cache_with(16 << 10);
        assert_eq!(c.put(block(1), 32 << 10), vec![(block(1), 32 << 10)]);
        assert_eq!(c.cached_bytes, 0);
        let mut off = cache_with(0);
        assert_eq!(off.put(block(2), 16 << 10), vec![(block(2), 16 << 10)]);
    }

    #[test]
    fn evict_to_zero_empties_every_list() {
        let mut c = cache_with(1 << 30);
        c.put(block(1), 32 << 10);
        c.put(block(2), 64 << 10);
        assert_eq!(c.evict_to(0).len(), 2);
        assert_eq!(c.cached_bytes, 0);
        assert!(c.free.is_empty() && c.by_age.is_empty());
    }

    #[test]
    fn env_limit_parses_or_defaults() {
        assert_eq!(limit_from_env(Some("0")), 0);
        assert_eq!(limit_from_env(Some(" 1048576 ")), 1 << 20);
        assert_eq!(limit_from_env(Some("lots")), default_limit());
        assert!(default_limit() <= DEFAULT_LIMIT_MAX && default_limit() > 0);
    }

    #[test]
    fn reused_blocks_are_zeroed_on_request_and_keep_data_otherwise() {
        // A size no other test in this binary uses, so this test's block is
        // the most recently freed one of its bucket.
        let n = (5 << 20) + 12_345;
        let p = allocate(n, Fill::Zero);
        // SAFETY: the block has n initialised bytes, owned here.
        unsafe {
            assert!((0..n).step_by(4099).all(|i| *p.as_ptr().add(i) == 0));
            p.as_ptr().write_bytes(0xAB, n);
            release(p, n);
        }
        let q = allocate(n, Fill::Any);
        // SAFETY: as above. With the cache on, q is normally the block just
        // released (still holding 0xAB).
        unsafe {
            q.as_ptr().write_bytes(0xCD, n);
            release(q, n);
        }
        let r = allocate(n, Fill::Zero);
        if cache_limit() > 0 {
            assert_eq!(r, q, "the most recently freed block of a bucket is reused");
        }
        // SAFETY: as above.
        unsafe {
            assert!((0..n).all(|i| *r.as_ptr().add(i) == 0), "a reused block is zeroed");
            release(r, n);
        }
    }

    #[test]
    fn huge_blocks_are_2mib_aligned() {
        let n = 3 << 20;
        let p = allocate(n, Fill::Any);
        assert_eq!(p.as_ptr() as usize % HUGE_BLOCK, 0);
        // SAFETY: allocated above with n, not used after.
        unsafe { release(p, n) };
        let small = allocate(100, Fill::Zero);
        assert_eq!(small.as_ptr() as usize % ALIGNMENT, 0);
        // SAFETY: as above.
        unsafe { release(small, 100) };
    }
}
