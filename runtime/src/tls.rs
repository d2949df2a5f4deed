//! Thread-local dispatch state: included/excluded keys and grad mode, with
//! RAII guards that restore the previous state on drop.

use crate::dispatch::{DispatchKey, DispatchKeySet};
use std::cell::Cell;
use std::marker::PhantomData;

#[derive(Clone, Copy)]
struct LocalState {
    included: DispatchKeySet,
    excluded: DispatchKeySet,
    grad_enabled: bool,
}

thread_local! {
    static STATE: Cell<LocalState> = const {
        Cell::new(LocalState { included: DispatchKeySet::EMPTY, excluded: DispatchKeySet::EMPTY, grad_enabled: true })
    };
}

fn get() -> LocalState {
    STATE.with(|s| s.get())
}
fn set(st: LocalState) {
    STATE.with(|s| s.set(st))
}

/// This thread's `(included, excluded)` key sets.
pub(crate) fn key_sets() -> (DispatchKeySet, DispatchKeySet) {
    let st = get();
    (st.included, st.excluded)
}

/// Replaces this thread's `(included, excluded)` key sets.
pub(crate) fn set_key_sets(included: DispatchKeySet, excluded: DispatchKeySet) {
    let mut st = get();
    st.included = included;
    st.excluded = excluded;
    set(st);
}

/// Applies this thread's include and exclude sets to the keys of a call.
pub fn apply(ks: DispatchKeySet) -> DispatchKeySet {
    let st = get();
    ks.union(st.included).minus(st.excluded)
}

/// True unless a [`no_grad`] guard is active on this thread.
pub fn is_grad_enabled() -> bool {
    get().grad_enabled
}

/// Sets grad mode on this thread and returns the previous value.
pub fn set_grad_enabled(enabled: bool) -> bool {
    let mut st = get();
    let prev = st.grad_enabled;
    st.grad_enabled = enabled;
    set(st);
    prev
}

/// Restores grad mode on drop. Made by [`no_grad`], [`enable_grad`] and [`GradModeGuard::new`].
#[must_use = "grad mode is restored when the guard is dropped"]
pub struct GradModeGuard {
    prev: bool,
    _not_send: PhantomData<*const ()>,
}

impl GradModeGuard {
    /// Sets grad mode to `enabled` until the guard drops.
    pub fn new(enabled: bool) -> GradModeGuard {
        GradModeGuard {
            prev: set_grad_enabled(enabled),
            _not_send: PhantomData,
        }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}

/// Turns off graph recording on this thread until the guard drops (`torch.no_grad()`).
///
/// ```
/// use ft_runtime::tls;
/// {
///     let _g = tls::no_grad();
///     assert!(!tls::is_grad_enabled());
/// }
/// assert!(tls::is_grad_enabled());
/// ```
pub fn no_grad() -> GradModeGuard {
    GradModeGuard::new(false)
}

/// Turns graph recording on until the guard drops (`torch.enable_grad()`).
pub fn enable_grad() -> GradModeGuard {
    GradModeGuard::new(true)
}

/// Excludes keys from dispatch on this thread until dropped.
#[must_use = "the keys are re-included when the guard is dropped"]
pub struct ExcludeKeysGuard {
    prev: DispatchKeySet,
    _not_send: PhantomData<*const ()>,
}

impl ExcludeKeysGuard {
    /// Excludes `keys` until the guard drops.
    pub fn new(keys: DispatchKeySet) -> ExcludeKeysGuard {
        let mut st = get();
        let prev = st.excluded;
        st.excluded = st.excluded.union(keys);
        set(st);
        ExcludeKeysGuard {
            prev,
            _not_send: PhantomData,
        }
    }
}

impl Drop for ExcludeKeysGuard {
    fn drop(&mut self) {
        let mut st = get();
        st.excluded = self.prev;
        set(st);
    }
}

/// Includes keys in every dispatch on this thread until dropped.
#[must_use = "the keys are removed again when the guard is dropped"]
pub struct IncludeKeysGuard {
    prev: DispatchKeySet,
    _not_send: PhantomData<*const ()>,
}

impl IncludeKeysGuard {
    /// Includes `keys` until the guard drops.
    pub fn new(keys: DispatchKeySet) -> IncludeKeysGuard {
        let mut st = get();
        let prev = st.included;
        st.included = st.included.union(keys);
        set(st);
        IncludeKeysGuard {
            prev,
            _not_send: PhantomData,
        }
    }
}

impl Drop for IncludeKeysGuard {
    fn drop(&mut self) {
        let mut st = get();
        st.included = self.prev;
        set(st);
    }
}

/// Skips the autograd layer for calls made while the guard lives (PyTorch's
/// `AutoDispatchBelowAutograd`), used by autograd kernels around their redispatch.
///
/// ```
/// use ft_runtime::{tls, dispatch::{DispatchKey, DispatchKeySet}};
/// let ks = DispatchKeySet::for_tensor_on(ft_runtime::Device::Cpu);
/// let _g = tls::below_autograd();
/// assert_eq!(tls::apply(ks).highest(), Some(DispatchKey::ADInplaceOrView));
/// ```
pub fn below_autograd() -> ExcludeKeysGuard {
    ExcludeKeysGuard::new(DispatchKeySet::autograd())
}

/// Skips the autograd and ADInplaceOrView layers (PyTorch's `AutoDispatchBelowADInplaceOrView`).
pub fn below_ad_inplace_or_view() -> ExcludeKeysGuard {
    ExcludeKeysGuard::new(DispatchKeySet::autograd().add(DispatchKey::ADInplaceOrView))
}
