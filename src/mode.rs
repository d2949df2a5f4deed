//! Strict and hardened modes (see [`ft_runtime::mode`]): strict is PyTorch's
//! behaviour and the default; hardened adds fail-closed checks — non-finite
//! gradients are an error naming the node and where its forward op was
//! called, in-place writes into overlapping memory are refused, index
//! arguments are bounds-checked before anything is written, and checkpoint
//! loads require a verified sidecar when one is expected.
//!
//! ```
//! use frankentorch::prelude::*;
//! let x = ops::arange(4.0).unwrap();
//! let shifted = ops::slice(&x, 0, Some(1), None, 1).unwrap();
//! let before = ops::slice(&x, 0, None, Some(3), 1).unwrap();
//! {
//!     let _h = frankentorch::mode::hardened();
//!     assert!(frankentorch::mode::is_hardened());
//!     assert!(ops::mul_out(&before, &ops::full_like(&before, 2.0).unwrap(), &shifted).is_err());
//! }
//! assert!(!frankentorch::mode::is_hardened());
//! ```

pub use ft_runtime::mode::{current, is_hardened, Mode, ModeGuard};

/// Runs this thread in `mode` until the guard drops.
pub fn set_mode(mode: Mode) -> ModeGuard {
    crate::hardened::install();
    ft_runtime::mode::set_mode(mode)
}

/// Hardened mode on this thread until the guard drops.
pub fn hardened() -> ModeGuard {
    set_mode(Mode::Hardened)
}

/// Strict mode (PyTorch's behaviour) on this thread until the guard drops.
pub fn strict() -> ModeGuard {
    set_mode(Mode::Strict)
}
