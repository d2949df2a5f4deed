//! Hardened mode's dispatch layer: one boxed kernel at the `Hardened` key,
//! run before every operator on a thread in hardened mode (see [`crate::mode`]),
//! checks the call and then redispatches below itself, so kernels stay
//! unchanged.
//!
//! Checks, for every argument the schema marks as written (`Tensor(a!)`):
//! - no two of its elements share memory (internal overlap);
//! - its memory does not overlap any other tensor argument, except the very
//!   same view passed to a pointwise op (`x.add_(x)` is safe);
//! - index arguments of the indexed writes (`index_put_`, `scatter_*`,
//!   `index_add_`, their out= forms) address elements inside the written
//!   tensor, checked before anything is written (PyTorch's CPU kernels stop
//!   at the first bad index after writing the earlier ones).
//!
//! ```
//! use frankentorch::prelude::*;
//! let x = ops::arange(6.0).unwrap();
//! let _h = frankentorch::mode::hardened();
//! let e = ops::index_put_(&x, &[Some(Tensor::from_vec(vec![0i64, 9], &[2]).unwrap())], &ops::ones(&[2]).unwrap(), false).unwrap_err();
//! assert!(e.message().contains("index 9 is out of bounds for dimension 0 with size 6"));
//! assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
//! ```

use crate::dispatch::{register_fallback, BoxedOp, DispatchKey, DispatchKeySet, OpSchema, Stack, Value};
use crate::generated::ops::OPERATORS;
use crate::{tls, DType, Error, ErrorKind, Result, Tensor};
use ft_runtime::autograd::accumulate::is_non_overlapping_and_dense;
use std::collections::HashMap;
use std::sync::{Arc, Once, OnceLock};

/// Registers the hardened layer's kernel (idempotent; [`crate::mode`] calls it).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| register_fallback(DispatchKey::Hardened, Arc::new(hardened_kernel)));
}

/// The boxed op of each schema, by the schema's address.
fn boxed_op(schema: &'static OpSchema) -> Result<&'static dyn BoxedOp> {
    static BY_SCHEMA: OnceLock<HashMap<usize, &'static dyn BoxedOp>> = OnceLock::new();
    let map = BY_SCHEMA.get_or_init(|| {
        OPERATORS
            .iter()
            .map(|op| (op.schema() as *const OpSchema as usize, *op))
            .collect()
    });
    map.get(&(schema as *const OpSchema as usize)).copied().ok_or_else(|| {
        Error::new(
            ErrorKind::MissingKernel,
            schema.qualified_name(),
            "hardened mode: the operator is not in the registry and cannot be redispatched",
        )
    })
}

fn hardened_kernel(schema: &'static OpSchema, _ks: DispatchKeySet, stack: &mut Stack) -> Result<()> {
    check_writes(schema, stack)?;
    check_indices(schema, stack)?;
    let _below = tls::ExcludeKeysGuard::new(DispatchKeySet::of(DispatchKey::Hardened));
    *stack = boxed_op(schema)?.call_boxed(std::mem::take(stack))?;
    Ok(())
}

fn refuse(schema: &OpSchema, message: String) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        schema.qualified_name(),
        format!("hardened mode: {message}"),
    )
}

/// The tensors of one stack value (lists flattened).
fn tensors_of(v: &Value) -> Vec<&Tensor> {
    match v {
        Value::Tensor(t) => vec![t],
        Value::TensorList(ts) => ts.iter().collect(),
        Value::OptTensorList(ts) => ts.iter().flatten().collect(),
        _ => Vec::new(),
    }
}

/// Byte intervals `[start, end)` of a tensor's elements in its storage, sorted.
fn element_bytes(t: &Tensor) -> Vec<(usize, usize)> {
    let size = t.dtype().itemsize();
    let mut out = Vec::with_capacity(t.numel());
    ft_runtime::tensor::for_each_offset(t.sizes(), t.strides(), t.storage_offset(), |off| {
        out.push((off * size, off * size + size))
    });
    out.sort_unstable();
    out
}

/// The byte range spanned by a non-empty tensor.
fn span(t: &Tensor) -> Option<(usize, usize)> {
    if t.numel() == 0 {
        return None;
    }
    let size = t.dtype().itemsize();
    let last: usize = t.sizes().iter().zip(t.strides()).map(|(&n, &s)| (n - 1) * s).sum();
    let start = t.storage_offset() * size;
    Some((start, start + (last + 1) * size))
}

/// True if two sorted interval lists intersect.
fn intervals_meet(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].1 <= b[j].0 {
            i += 1;
        } else if b[j].1 <= a[i].0 {
            j += 1;
        } else {
            return true;
        }
    }
    false
}

fn has_internal_overlap(t: &Tensor) -> bool {
    // The common case (any dense layout) needs no element walk.
    if is_non_overlapping_and_dense(t) {
        return false;
    }
    let bytes = element_bytes(t);
    bytes.windows(2).any(|w| w[1].0 < w[0].1)
}

fn overlaps(a: &Tensor, b: &Tensor) -> bool {
    if !a.storage().is_same(b.storage()) {
        return false;
    }
    match (span(a), span(b)) {
        // A dense tensor's elements fill its span, so meeting spans share bytes.
        (Some(x), Some(y)) if x.0 < y.1 && y.0 < x.1 => {
            (is_non_overlapping_and_dense(a) && is_non_overlapping_and_dense(b))
                || intervals_meet(&element_bytes(a), &element_bytes(b))
        }
        _ => false,
    }
}

fn same_view(a: &Tensor, b: &Tensor) -> bool {
    a.storage().is_same(b.storage())
        && a.storage_offset() == b.storage_offset()
        && a.sizes() == b.sizes()
        && a.strides() == b.strides()
        && a.dtype() == b.dtype()
}

/// Written arguments: no internal overlap, no overlap with other arguments
/// (the same view of a pointwise op excepted).
fn check_writes(schema: &'static OpSchema, stack: &Stack) -> Result<()> {
    let pointwise = schema.tags.contains(&"pointwise");
    for (wi, warg) in schema.args.iter().enumerate() {
        if !warg.is_write {
            continue;
        }
        let Some(Value::Tensor(w)) = stack.get(wi) else {
            continue;
        };
        if has_internal_overlap(w) {
            return Err(refuse(
                schema,
                format!(
                    "more than one element of the written-to tensor '{}' refers to a single memory location; clone() it first",
                    warg.name
                ),
            ));
        }
        for (ai, arg) in schema.args.iter().enumerate() {
            if ai == wi {
                continue;
            }
            let Some(v) = stack.get(ai) else { continue };
            for t in tensors_of(v) {
                if !overlaps(w, t) || (pointwise && !arg.is_write && same_view(w, t)) {
                    continue;
                }
                return Err(refuse(
                    schema,
                    format!(
                        "the written-to tensor '{}' shares memory with the argument '{}'; clone() one of them first",
                        warg.name, arg.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The integer values of an index tensor.
fn index_values(t: &Tensor) -> Vec<i64> {
    match t.dtype() {
        DType::I64 | DType::I32 | DType::I16 | DType::I8 | DType::U8 => {
            t.to_f64_vec().into_iter().map(|v| v as i64).collect()
        }
        _ => Vec::new(),
    }
}

fn arg<'s>(schema: &OpSchema, stack: &'s Stack, name: &str) -> Option<&'s Value> {
    schema
        .args
        .iter()
        .position(|a| a.name == name)
        .and_then(|i| stack.get(i))
}

/// How an indexed write's index argument addresses the written tensor.
enum IndexRule {
    /// `indices` (Tensor?[]): the k-th entry indexes the next dims of `self`;
    /// negative values count from the end.
    AdvancedIndexing,
    /// `index` along `dim`, non-negative (scatter family, index_add).
    AlongDim,
}

fn index_rule(schema: &OpSchema) -> Option<IndexRule> {
    let base = schema.name.trim_start_matches("aten::").trim_end_matches('_');
    match base {
        "index_put" => Some(IndexRule::AdvancedIndexing),
        "scatter" | "scatter_add" | "scatter_reduce" | "index_add" => Some(IndexRule::AlongDim),
        _ => None,
    }
}

fn out_of_bounds(schema: &OpSchema, index: i64, dim: usize, size: usize) -> Error {
    Error::new(
        ErrorKind::IndexOutOfRange,
        schema.qualified_name(),
        format!("hardened mode: index {index} is out of bounds for dimension {dim} with size {size} (checked before writing)"),
    )
}

/// Index arguments of indexed writes address elements of `self`.
fn check_indices(schema: &'static OpSchema, stack: &Stack) -> Result<()> {
    if !schema.args.iter().any(|a| a.is_write) {
        return Ok(());
    }
    let Some(rule) = index_rule(schema) else { return Ok(()) };
    let Some(Value::Tensor(target)) = arg(schema, stack, "self") else {
        return Ok(());
    };
    let sizes = target.sizes();
    match rule {
        IndexRule::AdvancedIndexing => {
            let Some(Value::OptTensorList(indices)) = arg(schema, stack, "indices") else {
                return Ok(());
            };
            let mut dim = 0;
            for index in indices {
                match index {
                    None => dim += 1,
                    Some(t) if matches!(t.dtype(), DType::Bool | DType::U8) && t.dim() > 0 => dim += t.dim(),
                    Some(t) => {
                        if let Some(&size) = sizes.get(dim) {
                            if let Some(&bad) = index_values(t)
                                .iter()
                                .find(|&&v| v < -(size as i64) || v >= size as i64)
                            {
                                return Err(out_of_bounds(schema, bad, dim, size));
                            }
                        }
                        dim += 1;
                    }
                }
            }
        }
        IndexRule::AlongDim => {
            let (Some(Value::Int(dim)), Some(Value::Tensor(index))) =
                (arg(schema, stack, "dim"), arg(schema, stack, "index"))
            else {
                return Ok(());
            };
            let rank = sizes.len().max(1) as i64;
            if *dim < -rank || *dim >= rank {
                return Ok(());
            }
            let d = dim.rem_euclid(rank) as usize;
            let size = sizes.get(d).copied().unwrap_or(1);
            if let Some(&bad) = index_values(index).iter().find(|&&v| v < 0 || v >= size as i64) {
                return Err(out_of_bounds(schema, bad, d, size));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_lists_meet_only_when_bytes_are_shared() {
        assert!(!intervals_meet(&[(0, 4), (8, 12)], &[(4, 8), (12, 16)]));
        assert!(intervals_meet(&[(0, 4), (8, 12)], &[(10, 14)]));
    }
}
