//! Anomaly detection (PyTorch's `torch.autograd.detect_anomaly` /
//! `set_detect_anomaly`) and the recording sites of graph nodes.
//!
//! While anomaly mode is on, every node records where in the program its
//! forward op was called (a [`RecordSite`]); with `check_nan`, a backward
//! function that returns NaN fails with an error naming the node, its forward
//! op and that site. Hardened mode ([`crate::mode`]) makes the same check for
//! any non-finite value (NaN or ±inf) and records sites too.
//!
//! The flag is per thread (PyTorch's is process-wide): backward runs on the
//! thread that calls it, and tests running side by side stay independent.
//!
//! ```
//! use ft_runtime::autograd::anomaly;
//! {
//!     let _g = anomaly::detect_anomaly(true);
//!     assert!(anomaly::is_anomaly_enabled() && anomaly::is_anomaly_check_nan_enabled());
//! }
//! assert!(!anomaly::is_anomaly_enabled());
//! ```

use crate::tensor::Tensor;
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

#[derive(Clone, Copy)]
struct AnomalyState {
    enabled: bool,
    check_nan: bool,
}

thread_local! {
    static ANOMALY: Cell<AnomalyState> = const { Cell::new(AnomalyState { enabled: false, check_nan: true }) };
    static SITE_RECORDERS: Cell<usize> = const { Cell::new(0) };
}

/// True while anomaly mode is on for this thread.
pub fn is_anomaly_enabled() -> bool {
    ANOMALY.with(|a| a.get().enabled)
}

/// True when anomaly mode also checks backward results for NaN.
pub fn is_anomaly_check_nan_enabled() -> bool {
    ANOMALY.with(|a| {
        let s = a.get();
        s.enabled && s.check_nan
    })
}

/// Turns anomaly mode on or off for this thread (`torch.autograd.set_detect_anomaly(mode, check_nan)`);
/// returns the previous `(mode, check_nan)`.
///
/// ```
/// use ft_runtime::autograd::anomaly;
/// let prev = anomaly::set_detect_anomaly(true, false);
/// assert!(anomaly::is_anomaly_enabled() && !anomaly::is_anomaly_check_nan_enabled());
/// anomaly::set_detect_anomaly(prev.0, prev.1);
/// ```
pub fn set_detect_anomaly(mode: bool, check_nan: bool) -> (bool, bool) {
    ANOMALY.with(|a| {
        let prev = a.replace(AnomalyState {
            enabled: mode,
            check_nan,
        });
        (prev.enabled, prev.check_nan)
    })
}

/// Anomaly mode on this thread until the guard drops (`with torch.autograd.detect_anomaly(check_nan):`).
pub fn detect_anomaly(check_nan: bool) -> AnomalyGuard {
    let prev = set_detect_anomaly(true, check_nan);
    AnomalyGuard {
        prev,
        _not_send: PhantomData,
    }
}

/// Restores the previous anomaly mode on drop; made by [`detect_anomaly`].
#[must_use = "anomaly mode ends when the guard is dropped"]
pub struct AnomalyGuard {
    prev: (bool, bool),
    _not_send: PhantomData<*const ()>,
}

impl Drop for AnomalyGuard {
    fn drop(&mut self) {
        set_detect_anomaly(self.prev.0, self.prev.1);
    }
}

/// Records the [`RecordSite`] of every node created on this thread until the
/// guard drops, without anomaly mode's NaN check (used by provenance ledgers).
///
/// ```
/// use ft_runtime::autograd::anomaly;
/// let g = anomaly::record_sites();
/// assert!(anomaly::sites_recorded());
/// drop(g);
/// assert!(!anomaly::sites_recorded());
/// ```
pub fn record_sites() -> SiteGuard {
    SITE_RECORDERS.with(|c| c.set(c.get() + 1));
    SiteGuard { _not_send: PhantomData }
}

/// Ends one [`record_sites`] scope on drop.
#[must_use = "sites are recorded until the guard is dropped"]
pub struct SiteGuard {
    _not_send: PhantomData<*const ()>,
}

impl Drop for SiteGuard {
    fn drop(&mut self) {
        SITE_RECORDERS.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// True when nodes created now record their site: anomaly mode, hardened
/// mode or a [`record_sites`] scope.
pub fn sites_recorded() -> bool {
    is_anomaly_enabled() || crate::mode::is_hardened() || SITE_RECORDERS.with(|c| c.get() > 0)
}

/// Where a node's forward op was called: the stack captured when the node was
/// recorded (symbols are resolved only when asked for).
pub struct RecordSite {
    backtrace: Backtrace,
    location: OnceLock<Option<String>>,
}

/// Crates whose frames are the library's own (or the standard library's),
/// skipped when looking for the caller's frame.
const INTERNAL_CRATES: [&str; 6] = ["ft_runtime", "ft_kernels", "frankentorch", "std", "core", "alloc"];

impl RecordSite {
    /// Captures the current stack.
    pub fn capture() -> RecordSite {
        RecordSite {
            backtrace: Backtrace::force_capture(),
            location: OnceLock::new(),
        }
    }

    /// The first frame outside FrankenTorch and the standard library, as
    /// `function at file:line:column` (None when symbols are unavailable).
    pub fn location(&self) -> Option<&str> {
        self.location
            .get_or_init(|| caller_frame(&self.backtrace.to_string()))
            .as_deref()
    }

    /// The whole captured stack.
    pub fn backtrace(&self) -> &Backtrace {
        &self.backtrace
    }
}

impl fmt::Debug for RecordSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordSite({})", self.location().unwrap_or("unknown"))
    }
}

/// Picks the caller's frame out of a rendered backtrace (`  N: symbol` lines,
/// each optionally followed by `at file:line:col`).
fn caller_frame(rendered: &str) -> Option<String> {
    let mut lines = rendered.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        let Some((index, symbol)) = line.split_once(": ") else {
            continue;
        };
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let at = match lines.peek() {
            Some(next) if next.starts_with("at ") => lines.next().map(|l| l[3..].to_string()),
            _ => None,
        };
        if is_internal(symbol) {
            continue;
        }
        return Some(match at {
            Some(at) => format!("{symbol} at {at}"),
            None => symbol.to_string(),
        });
    }
    None
}

fn is_internal(symbol: &str) -> bool {
    let s = symbol.trim_start_matches(['<', '&', '*']).trim_start_matches("dyn ");
    let crate_name = s.split("::").next().unwrap_or(s);
    INTERNAL_CRATES.contains(&crate_name) || s.starts_with("__rust") || s.starts_with("_start") || s == "main"
}

/// The first non-finite value of `t` (NaN when `nan_only`), for the backward
/// checks; integer and bool tensors have none.
pub(crate) fn first_non_finite(t: &Tensor, nan_only: bool) -> Option<f64> {
    if !t.dtype().is_floating_point() {
        return None;
    }
    t.to_f64_vec()
        .into_iter()
        .find(|v| if nan_only { v.is_nan() } else { !v.is_finite() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_frame_skips_library_and_std_frames() {
        let rendered = "   0: std::backtrace::Backtrace::force_capture\n             at /rustc/x/library/std/src/backtrace.rs:312:13\n   1: ft_runtime::autograd::node::Node::new\n   2: <frankentorch::nn::Linear as frankentorch::nn::Forward>::forward\n             at ./src/nn/modules/linear.rs:90:9\n   3: my_app::train_step\n             at ./src/main.rs:12:5\n   4: main\n";
        assert_eq!(
            caller_frame(rendered).as_deref(),
            Some("my_app::train_step at ./src/main.rs:12:5")
        );
        assert_eq!(caller_frame("   0: std::rt::lang_start\n"), None);
    }
}
