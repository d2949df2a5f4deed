//! Dispatch keys and key sets, in PyTorch's relative priority order.

use crate::device::Device;
use std::fmt;

/// A runtime dispatch key. The discriminant is the priority: a higher key runs
/// first. Gaps leave room for more backends and layers (Meta, CUDA, Hardened…)
/// without renumbering.
///
/// ```
/// use ft_runtime::dispatch::DispatchKey;
/// assert!(DispatchKey::AutogradCPU > DispatchKey::ADInplaceOrView);
/// assert!(DispatchKey::ADInplaceOrView > DispatchKey::CPU);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DispatchKey {
    /// Dense CPU kernels.
    CPU = 0,
    /// Picks a backend for factory functions from their device argument.
    BackendSelect = 8,
    /// Bumps version counters of in-place ops and records view metadata.
    ADInplaceOrView = 16,
    /// Records autograd graph nodes for CPU tensors.
    AutogradCPU = 17,
    /// Hardened mode's checks (included on threads in hardened mode, see
    /// `mode`): runs before everything else and redispatches below itself.
    Hardened = 20,
}

/// Number of slots in a per-op kernel table (one past the highest key).
pub const NUM_DISPATCH_KEYS: usize = 24;

impl DispatchKey {
    /// Every runtime key, lowest priority first.
    pub const ALL: [DispatchKey; 5] = [
        DispatchKey::CPU,
        DispatchKey::BackendSelect,
        DispatchKey::ADInplaceOrView,
        DispatchKey::AutogradCPU,
        DispatchKey::Hardened,
    ];

    /// Index of this key in a kernel table.
    pub const fn index(self) -> usize {
        self as usize
    }
    /// The key with table index `i`, if any.
    pub fn from_index(i: usize) -> Option<DispatchKey> {
        Self::ALL.iter().copied().find(|k| k.index() == i)
    }
    /// True for backend keys (where data is computed).
    pub fn is_backend(self) -> bool {
        matches!(self, DispatchKey::CPU)
    }
    /// True for autograd keys.
    pub fn is_autograd(self) -> bool {
        matches!(self, DispatchKey::AutogradCPU)
    }
    /// The backend key of a device.
    pub fn backend_for(device: Device) -> DispatchKey {
        match device {
            Device::Cpu => DispatchKey::CPU,
        }
    }
    /// The autograd key matching a backend key (AutogradCPU for the CPU;
    /// each new backend adds its own autograd key here).
    pub fn autograd_for(backend: DispatchKey) -> DispatchKey {
        debug_assert!(backend.is_backend(), "{backend} is not a backend key");
        DispatchKey::AutogradCPU
    }
}

impl fmt::Display for DispatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A key used when registering a kernel: a runtime key or an alias that
/// expands to several runtime keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelKey {
    /// One runtime key.
    Key(DispatchKey),
    /// Works for every backend and autograd key by calling other ops
    /// (autograd flows through those ops).
    CompositeImplicitAutograd,
    /// Works for every backend key; autograd needs its own formula.
    CompositeExplicitAutograd,
    /// Every autograd key.
    Autograd,
}

impl KernelKey {
    /// Parses a schema key name (`CPU`, `Autograd`, `CompositeImplicitAutograd`, ...).
    pub fn parse(name: &str) -> Option<KernelKey> {
        Some(match name {
            "CPU" => KernelKey::Key(DispatchKey::CPU),
            "BackendSelect" => KernelKey::Key(DispatchKey::BackendSelect),
            "ADInplaceOrView" => KernelKey::Key(DispatchKey::ADInplaceOrView),
            "AutogradCPU" => KernelKey::Key(DispatchKey::AutogradCPU),
            "Autograd" => KernelKey::Autograd,
            "CompositeImplicitAutograd" => KernelKey::CompositeImplicitAutograd,
            "CompositeExplicitAutograd" => KernelKey::CompositeExplicitAutograd,
            _ => return None,
        })
    }
}

/// A set of runtime dispatch keys (a 64-bit mask).
///
/// ```
/// use ft_runtime::dispatch::{DispatchKey, DispatchKeySet};
/// let ks = DispatchKeySet::for_tensor_on(ft_runtime::Device::Cpu);
/// assert_eq!(ks.highest(), Some(DispatchKey::AutogradCPU));
/// assert_eq!(ks.below(DispatchKey::AutogradCPU).highest(), Some(DispatchKey::ADInplaceOrView));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DispatchKeySet(pub u64);

impl DispatchKeySet {
    /// The empty set.
    pub const EMPTY: DispatchKeySet = DispatchKeySet(0);

    /// A set with one key.
    pub const fn of(key: DispatchKey) -> DispatchKeySet {
        DispatchKeySet(1 << key.index())
    }
    /// The keys every tensor on `device` carries: backend, ADInplaceOrView and autograd.
    pub fn for_tensor_on(device: Device) -> DispatchKeySet {
        let backend = DispatchKey::backend_for(device);
        DispatchKeySet::of(backend)
            .add(DispatchKey::ADInplaceOrView)
            .add(DispatchKey::autograd_for(backend))
    }
    /// The keys of a factory call targeting `device` (backend select plus the tensor keys).
    pub fn for_factory_on(device: Device) -> DispatchKeySet {
        DispatchKeySet::for_tensor_on(device).add(DispatchKey::BackendSelect)
    }
    /// Every autograd key.
    pub fn autograd() -> DispatchKeySet {
        DispatchKeySet::of(DispatchKey::AutogradCPU)
    }
    /// This set plus `key`.
    pub const fn add(self, key: DispatchKey) -> DispatchKeySet {
        DispatchKeySet(self.0 | (1 << key.index()))
    }
    /// This set without `key`.
    pub const fn remove(self, key: DispatchKey) -> DispatchKeySet {
        DispatchKeySet(self.0 & !(1 << key.index()))
    }
    /// Union.
    pub const fn union(self, other: DispatchKeySet) -> DispatchKeySet {
        DispatchKeySet(self.0 | other.0)
    }
    /// Set difference.
    pub const fn minus(self, other: DispatchKeySet) -> DispatchKeySet {
        DispatchKeySet(self.0 & !other.0)
    }
    /// True if `key` is in the set.
    pub const fn has(self, key: DispatchKey) -> bool {
        self.0 & (1 << key.index()) != 0
    }
    /// True if empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The keys of strictly lower priority than `key` (for redispatch).
    pub const fn below(self, key: DispatchKey) -> DispatchKeySet {
        DispatchKeySet(self.0 & ((1u64 << key.index()) - 1))
    }
    /// The highest-priority key, if any.
    pub fn highest(self) -> Option<DispatchKey> {
        if self.0 == 0 {
            return None;
        }
        DispatchKey::from_index(63 - self.0.leading_zeros() as usize)
    }
    /// The keys in the set, highest first.
    pub fn iter(self) -> impl Iterator<Item = DispatchKey> {
        DispatchKey::ALL.into_iter().rev().filter(move |k| self.has(*k))
    }
}

impl fmt::Display for DispatchKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.iter().map(|k| k.to_string()).collect();
        write!(f, "DispatchKeySet({})", names.join(", "))
    }
}
