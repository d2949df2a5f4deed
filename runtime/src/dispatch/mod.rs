//! The dispatcher: keys, key sets, thread-local state, kernel tables and boxed calls.

mod dispatcher;
mod key;
mod schema;
mod value;

pub use dispatcher::{register_fallback, remove_fallback, BoxedFallback, Kernel, Op, Resolved};
pub use key::{DispatchKey, DispatchKeySet, KernelKey, NUM_DISPATCH_KEYS};
pub use schema::{Arg, ArgType, DefaultValue, OpSchema, Ret};
pub use value::{bind, BoxedOp, Stack, Unboxer, Value};

use crate::tensor::Tensor;

/// The dispatch keys of a call: the union of its tensors' keys, with this
/// thread's include/exclude sets applied.
pub fn keyset_of(tensors: &[&Tensor]) -> DispatchKeySet {
    let mut ks = DispatchKeySet::EMPTY;
    for t in tensors {
        ks = ks.union(DispatchKeySet::for_tensor_on(t.device()));
    }
    crate::tls::apply(ks)
}

/// The dispatch keys of a factory call creating a tensor on `device`.
pub fn keyset_for_factory(device: crate::Device) -> DispatchKeySet {
    crate::tls::apply(DispatchKeySet::for_factory_on(device))
}
