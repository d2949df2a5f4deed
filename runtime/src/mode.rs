//! Strict and hardened execution modes.
//!
//! Strict (the default) behaves as PyTorch does. Hardened adds fail-closed
//! checks: non-finite values produced in backward are an error naming the
//! node and its forward op's recording site; in-place writes into memory that
//! overlaps an input or itself are refused; index arguments are bounds-checked
//! before any write; checkpoints are loaded only through a verified sidecar
//! when one is expected. The mode is per thread, set with a guard.
//!
//! ```
//! use ft_runtime::mode::{self, Mode};
//! assert_eq!(mode::current(), Mode::Strict);
//! {
//!     let _h = mode::hardened();
//!     assert!(mode::is_hardened());
//! }
//! assert_eq!(mode::current(), Mode::Strict);
//! ```

use crate::dispatch::{DispatchKey, DispatchKeySet};
use crate::tls;
use std::cell::Cell;
use std::marker::PhantomData;

/// How much checking a thread does beyond PyTorch's behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PyTorch's behaviour (the default).
    Strict,
    /// PyTorch's behaviour plus fail-closed checks.
    Hardened,
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Strict) };
}

/// This thread's mode.
pub fn current() -> Mode {
    MODE.with(|m| m.get())
}

/// True when this thread runs in hardened mode.
pub fn is_hardened() -> bool {
    current() == Mode::Hardened
}

/// Runs this thread in `mode` until the guard drops.
pub fn set_mode(mode: Mode) -> ModeGuard {
    let prev = MODE.with(|m| m.replace(mode));
    let prev_keys = tls::key_sets();
    let (included, excluded) = prev_keys;
    let key = DispatchKey::Hardened;
    match mode {
        Mode::Hardened => tls::set_key_sets(included.add(key), excluded.remove(key)),
        Mode::Strict => tls::set_key_sets(included.remove(key), excluded.add(key)),
    }
    ModeGuard {
        prev,
        prev_keys,
        _not_send: PhantomData,
    }
}

/// Hardened mode on this thread until the guard drops.
pub fn hardened() -> ModeGuard {
    set_mode(Mode::Hardened)
}

/// Strict mode on this thread until the guard drops.
pub fn strict() -> ModeGuard {
    set_mode(Mode::Strict)
}

/// Restores the previous mode on drop.
#[must_use = "the previous mode is restored when the guard is dropped"]
pub struct ModeGuard {
    prev: Mode,
    /// This thread's included/excluded dispatch keys before the guard: the
    /// mode includes (hardened) or excludes (strict) the Hardened key.
    prev_keys: (DispatchKeySet, DispatchKeySet),
    _not_send: PhantomData<*const ()>,
}

impl Drop for ModeGuard {
    fn drop(&mut self) {
        MODE.with(|m| m.set(self.prev));
        tls::set_key_sets(self.prev_keys.0, self.prev_keys.1);
    }
}
