//! Parallel loops whose split is fixed by the problem size, never by the
//! number of threads, so every result is bit-identical on 1 or N threads
//! (the Deterministic Autograd Contract).
//!
//! Work runs on rayon's pool: the global one, or the pool of
//! [`with_threads`]. A loop over `len` items is cut into chunks of `grain`
//! items (the last one shorter); chunks may run in any order and on any
//! thread, but a reduction combines chunk results in chunk order.
//!
//! ```
//! use ft_runtime::parallel;
//! let sum = |threads| parallel::with_threads(threads, || {
//!     parallel::map_reduce_chunks(1000, 64, |r| r.map(|i| (i as f32).sqrt()).sum::<f32>(), |a, b| a + b)
//! });
//! assert_eq!(sum(1).map(f32::to_bits), sum(4).map(f32::to_bits));
//! ```

use rayon::prelude::*;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

/// Threads of the pool the caller runs in (the global pool's size outside
/// [`with_threads`]).
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// A kept pool and its number of threads.
type SizedPool = (usize, Arc<rayon::ThreadPool>);

/// Runs `f` inside a pool of `threads` threads (pools are built once per
/// size and kept), so every parallel loop `f` starts uses that many threads.
///
/// ```
/// assert_eq!(ft_runtime::parallel::with_threads(2, ft_runtime::parallel::num_threads), 2);
/// ```
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    static POOLS: OnceLock<Mutex<Vec<SizedPool>>> = OnceLock::new();
    let threads = threads.max(1);
    let pool = {
        let mut pools = POOLS
            .get_or_init(|| Mutex::new(Vec::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match pools.iter().find(|(n, _)| *n == threads) {
            Some((_, p)) => p.clone(),
            None => {
                let p = Arc::new(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .thread_name(move |i| format!("ft-pool{threads}-{i}"))
                        .build()
                        .expect("a thread pool can be built"),
                );
                pools.push((threads, p.clone()));
                p
            }
        }
    };
    pool.install(f)
}

/// The chunks `[k * grain, min((k + 1) * grain, len))` of a loop over `len`
/// items (a `grain` of 0 counts as 1).
///
/// ```
/// let c: Vec<_> = ft_runtime::parallel::chunks(10, 4).collect();
/// assert_eq!(c, [0..4, 4..8, 8..10]);
/// ```
pub fn chunks(len: usize, grain: usize) -> impl Iterator<Item = Range<usize>> + Clone {
    let grain = grain.max(1);
    (0..len.div_ceil(grain)).map(move |k| k * grain..((k + 1) * grain).min(len))
}

/// Calls `f` on every chunk of `0..len`, in parallel.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let seen = AtomicUsize::new(0);
/// ft_runtime::parallel::for_each_chunk(100, 7, |r| { seen.fetch_add(r.len(), Ordering::Relaxed); });
/// assert_eq!(seen.into_inner(), 100);
/// ```
pub fn for_each_chunk(len: usize, grain: usize, f: impl Fn(Range<usize>) + Sync + Send) {
    let ranges: Vec<Range<usize>> = chunks(len, grain).collect();
    if ranges.len() <= 1 {
        ranges.into_iter().for_each(f);
        return;
    }
    ranges.into_par_iter().for_each(f);
}

/// Maps every chunk of `0..len` in parallel and folds the results with
/// `combine` in chunk order (`None` for an empty loop), so the result does
/// not depend on the number of threads.
pub fn map_reduce_chunks<T: Send>(
    len: usize,
    grain: usize,
    map: impl Fn(Range<usize>) -> T + Sync + Send,
    combine: impl Fn(T, T) -> T,
) -> Option<T> {
    let ranges: Vec<Range<usize>> = chunks(len, grain).collect();
    let parts: Vec<T> = if ranges.len() <= 1 {
        ranges.into_iter().map(map).collect()
    } else {
        ranges.into_par_iter().map(map).collect()
    };
    parts.into_iter().reduce(combine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_depend_on_the_size_only() {
        let record = |threads| {
            with_threads(threads, || {
                let seen = Mutex::new(Vec::new());
                for_each_chunk(1001, 100, |r| seen.lock().unwrap().push(r));
                let mut v = seen.into_inner().unwrap();
                v.sort_by_key(|r| r.start);
                v
            })
        };
        assert_eq!(record(1), record(4));
        assert_eq!(record(1).len(), 11);
    }

    #[test]
    fn reductions_combine_in_chunk_order() {
        let concat = |threads| {
            with_threads(threads, || {
                map_reduce_chunks(50, 8, |r| format!("{}", r.start), |a, b| format!("{a},{b}"))
            })
        };
        assert_eq!(concat(3), Some("0,8,16,24,32,40,48".to_string()));
        assert_eq!(concat(1), concat(3));
        assert_eq!(map_reduce_chunks(0, 8, |r| r.len(), |a, b| a + b), None);
    }
}
