//! The per-operator kernel table and the dispatch loop.
//!
//! Each operator overload is one `static Op<F>` (generated), where `F` is the
//! typed kernel signature: the typed API is the fast path and never boxes.
//! Registrations may name alias keys; the table resolves them per runtime key
//! once, on first use. Keys with a per-key *boxed fallback* (one kernel for
//! every op, see [`register_fallback`]) reach it through the op's boxing adapter.

use super::key::{DispatchKey, DispatchKeySet, KernelKey, NUM_DISPATCH_KEYS};
use super::schema::OpSchema;
use super::value::Stack;
use crate::error::{Error, ErrorKind, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// One kernel for every operator at one key, called with the op's schema, the
/// dispatch keys and the arguments as a stack; it replaces them with the results.
pub type BoxedFallback = Arc<dyn Fn(&'static OpSchema, DispatchKeySet, &mut Stack) -> Result<()> + Send + Sync>;

/// A registered kernel: a typed function, or "skip this key".
#[derive(Clone, Copy)]
pub enum Kernel<F> {
    /// Call this function.
    Fn(F),
    /// Never called: the key is masked out for this op.
    Fallthrough,
}

#[derive(Clone, Copy)]
enum Slot<F> {
    Kernel(F),
    Fallthrough,
    Missing,
}

/// What dispatch found for a key set.
pub enum Resolved<F> {
    /// A typed kernel at this key.
    Kernel(DispatchKey, F),
    /// The key's boxed fallback.
    Boxed(DispatchKey, BoxedFallback),
}

/// An operator overload's dispatch entry.
pub struct Op<F: Copy + Send + Sync + 'static> {
    schema: &'static OpSchema,
    registrations: &'static [(KernelKey, Kernel<F>)],
    table: OnceLock<[Slot<F>; NUM_DISPATCH_KEYS]>,
}

/// Keys that are skipped for every op unless it registers a kernel there.
const BUILTIN_FALLTHROUGH: [DispatchKey; 2] = [DispatchKey::BackendSelect, DispatchKey::ADInplaceOrView];

impl<F: Copy + Send + Sync + 'static> Op<F> {
    /// A dispatch entry with its schema and static registrations.
    pub const fn new(schema: &'static OpSchema, registrations: &'static [(KernelKey, Kernel<F>)]) -> Op<F> {
        Op {
            schema,
            registrations,
            table: OnceLock::new(),
        }
    }

    /// The operator's schema.
    pub fn schema(&self) -> &'static OpSchema {
        self.schema
    }

    fn registered(&self, key: KernelKey) -> Option<Kernel<F>> {
        self.registrations.iter().find(|r| r.0 == key).map(|r| r.1)
    }

    /// The kernel a runtime key resolves to, following PyTorch's alias rules.
    fn resolve_key(&self, key: DispatchKey) -> Slot<F> {
        let to_slot = |k: Kernel<F>| match k {
            Kernel::Fn(f) => Slot::Kernel(f),
            Kernel::Fallthrough => Slot::Fallthrough,
        };
        if let Some(k) = self.registered(KernelKey::Key(key)) {
            return to_slot(k);
        }
        let implicit = self.registered(KernelKey::CompositeImplicitAutograd);
        if key.is_backend() {
            if let Some(k) = self.registered(KernelKey::CompositeExplicitAutograd).or(implicit) {
                return to_slot(k);
            }
        } else if key.is_autograd() {
            if let Some(k) = self.registered(KernelKey::Autograd) {
                return to_slot(k);
            }
            let has_backend = DispatchKey::ALL
                .iter()
                .any(|b| b.is_backend() && self.registered(KernelKey::Key(*b)).is_some())
                || self.registered(KernelKey::CompositeExplicitAutograd).is_some();
            if let (Some(k), false) = (implicit, has_backend) {
                return to_slot(k);
            }
        }
        if BUILTIN_FALLTHROUGH.contains(&key) {
            return Slot::Fallthrough;
        }
        Slot::Missing
    }

    fn table(&self) -> &[Slot<F>; NUM_DISPATCH_KEYS] {
        self.table.get_or_init(|| {
            let mut t = [Slot::Missing; NUM_DISPATCH_KEYS];
            for k in DispatchKey::ALL {
                t[k.index()] = self.resolve_key(k);
            }
            t
        })
    }

    /// Finds the kernel for the highest key of `ks`, skipping fallthroughs.
    #[inline]
    pub fn resolve(&self, ks: DispatchKeySet) -> Result<Resolved<F>> {
        let table = self.table();
        let mut ks = ks;
        while let Some(key) = ks.highest() {
            match table[key.index()] {
                Slot::Kernel(f) => return Ok(Resolved::Kernel(key, f)),
                Slot::Fallthrough => ks = ks.remove(key),
                Slot::Missing => {
                    return match fallback(key) {
                        Some(fb) => Ok(Resolved::Boxed(key, fb)),
                        None => Err(self.missing(key)),
                    }
                }
            }
        }
        Err(Error::new(
            ErrorKind::MissingKernel,
            self.schema.qualified_name(),
            "no dispatch key left to run: the call has no tensor or device to select a backend",
        ))
    }

    fn missing(&self, key: DispatchKey) -> Error {
        let available: Vec<String> = DispatchKey::ALL
            .iter()
            .filter(|k| matches!(self.table()[k.index()], Slot::Kernel(_)))
            .map(|k| k.to_string())
            .collect();
        let name = self.schema.qualified_name();
        Error::new(
            ErrorKind::MissingKernel,
            name.clone(),
            format!(
                "Could not run '{name}' with arguments from the '{key}' backend. '{name}' is only available for these backends: [{}].",
                available.join(", ")
            ),
        )
    }

    /// True if a typed kernel (not a fallthrough or fallback) serves `key`.
    pub fn has_kernel(&self, key: DispatchKey) -> bool {
        matches!(self.table()[key.index()], Slot::Kernel(_))
    }
}

static FALLBACK_MASK: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: RwLock<Vec<(DispatchKey, BoxedFallback)>> = RwLock::new(Vec::new());

/// Registers one boxed kernel used for `key` by every op without a kernel of
/// its own there (PyTorch's `m.fallback`). Replaces an earlier fallback.
///
/// ```
/// use ft_runtime::dispatch::{register_fallback, remove_fallback, DispatchKey};
/// register_fallback(DispatchKey::CPU, std::sync::Arc::new(|_schema, _ks, _stack| Ok(())));
/// remove_fallback(DispatchKey::CPU);
/// ```
pub fn register_fallback(key: DispatchKey, fallback: BoxedFallback) {
    let mut list = FALLBACKS.write().unwrap_or_else(|e| e.into_inner());
    list.retain(|(k, _)| *k != key);
    list.push((key, fallback));
    FALLBACK_MASK.fetch_or(1 << key.index(), Ordering::AcqRel);
}

/// Removes the boxed fallback of `key`.
pub fn remove_fallback(key: DispatchKey) {
    let mut list = FALLBACKS.write().unwrap_or_else(|e| e.into_inner());
    list.retain(|(k, _)| *k != key);
    FALLBACK_MASK.fetch_and(!(1 << key.index()), Ordering::AcqRel);
}

fn fallback(key: DispatchKey) -> Option<BoxedFallback> {
    if FALLBACK_MASK.load(Ordering::Acquire) & (1 << key.index()) == 0 {
        return None;
    }
    let list = FALLBACKS.read().unwrap_or_else(|e| e.into_inner());
    list.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::{DispatchKey as K, Value};

    type UnaryFn = fn(DispatchKeySet, i64) -> Result<i64>;
    static SCHEMA: OpSchema = OpSchema {
        name: "test::double",
        overload: "",
        signature: "double(int x) -> int",
        args: &[],
        returns: &[],
        tags: &[],
    };

    fn cpu(_ks: DispatchKeySet, x: i64) -> Result<i64> {
        Ok(2 * x)
    }
    fn composite(_ks: DispatchKeySet, x: i64) -> Result<i64> {
        Ok(20 * x)
    }
    static CPU_ONLY: Op<UnaryFn> = Op::new(&SCHEMA, &[(KernelKey::Key(K::CPU), Kernel::Fn(cpu))]);
    static WITH_FALLTHROUGH: Op<UnaryFn> = Op::new(
        &SCHEMA,
        &[
            (KernelKey::Key(K::CPU), Kernel::Fn(cpu)),
            (KernelKey::Autograd, Kernel::Fallthrough),
        ],
    );
    static IMPLICIT: Op<UnaryFn> = Op::new(
        &SCHEMA,
        &[(KernelKey::CompositeImplicitAutograd, Kernel::Fn(composite))],
    );

    fn run(op: &Op<UnaryFn>, ks: DispatchKeySet) -> Result<(K, i64)> {
        match op.resolve(ks)? {
            Resolved::Kernel(k, f) => Ok((k, f(ks, 1)?)),
            Resolved::Boxed(k, fb) => {
                let mut stack = vec![Value::Int(1)];
                fb(&SCHEMA, ks, &mut stack)?;
                match stack.first() {
                    Some(Value::Int(v)) => Ok((k, *v)),
                    _ => Err(Error::schema("test::double", "fallback returned no int")),
                }
            }
        }
    }

    #[test]
    fn highest_key_with_a_kernel_runs_and_fallthrough_is_skipped() {
        let ks = DispatchKeySet::for_tensor_on(crate::Device::Cpu);
        assert_eq!(run(&WITH_FALLTHROUGH, ks).unwrap(), (K::CPU, 2));
        assert_eq!(
            run(&IMPLICIT, ks).unwrap(),
            (K::AutogradCPU, 20),
            "composite serves the autograd key"
        );
        assert_eq!(
            run(&IMPLICIT, ks.below(K::AutogradCPU)).unwrap(),
            (K::CPU, 20),
            "and the backend key"
        );
    }

    #[test]
    fn missing_kernel_names_op_and_key() {
        let ks = DispatchKeySet::for_tensor_on(crate::Device::Cpu);
        let e = run(&CPU_ONLY, ks).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingKernel);
        assert_eq!(
            e.to_string(),
            "test::double: Could not run 'test::double' with arguments from the 'AutogradCPU' backend. 'test::double' is only available for these backends: [CPU]."
        );
    }

    #[test]
    fn boxed_fallback_serves_keys_without_a_kernel() {
        let ks = DispatchKeySet::of(K::BackendSelect).add(K::CPU);
        // BackendSelect is a built-in fallthrough, so CPU runs.
        assert_eq!(run(&CPU_ONLY, ks).unwrap(), (K::CPU, 2));
        register_fallback(
            K::AutogradCPU,
            Arc::new(|schema, _ks, stack| {
                assert_eq!(schema.name, "test::double");
                stack[0] = Value::Int(-7);
                Ok(())
            }),
        );
        let ks = DispatchKeySet::for_tensor_on(crate::Device::Cpu);
        assert_eq!(run(&CPU_ONLY, ks).unwrap(), (K::AutogradCPU, -7));
        remove_fallback(K::AutogradCPU);
        assert!(CPU_ONLY.resolve(ks).is_err());
    }
}
