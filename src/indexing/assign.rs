//! Writing through a subscript (`x[items] = values`, and the accumulating
//! `index_put_(..., accumulate=True)`): the basic items are applied as a
//! view; then `copy_` (basic only) or `index_put_` writes into it, so version
//! counters and autograd see an ordinary in-place operator.

use super::apply::{slice_basic, OP};
use super::spec::TensorIndex;
use crate::ops;
use crate::{shape, Error, Result, Scalar, Tensor, TensorOps};

/// `values` with its leading size-1 dims removed (PyTorch's setitem drops
/// them so `x[0] = v[None]` works).
fn strip_leading_ones(values: &Tensor) -> Result<Tensor> {
    let mut v = values.clone();
    while v.dim() > 0 && v.sizes()[0] == 1 {
        v = ops::select(&v, 0, 0)?;
    }
    Ok(v)
}

/// Checks that `values` broadcasts to the `target` shape (the indexed part).
fn check_broadcast(target: &[usize], values: &Tensor) -> Result<()> {
    let fits = values.dim() <= target.len()
        && values
            .sizes()
            .iter()
            .rev()
            .zip(target.iter().rev())
            .all(|(&v, &t)| v == 1 || v == t);
    if fits {
        return Ok(());
    }
    Err(Error::shape(
        OP,
        format!(
            "shape mismatch: value tensor of shape {} cannot be broadcast to indexing result of shape {}",
            shape::fmt_sizes(values.sizes()),
            shape::fmt_sizes(target)
        ),
    ))
}

/// `x[items] = values` (or `+=` with `accumulate`): writes into `x` in place
/// and returns `x`. As in PyTorch, a basic subscript casts `values` to `x`'s
/// dtype (`copy_`), an advanced one requires equal dtypes (`index_put_`).
pub(crate) fn put(x: &Tensor, items: &[TensorIndex], values: &Tensor, accumulate: bool) -> Result<Tensor> {
    let values = strip_leading_ones(values)?;
    let sliced = slice_basic(x, items)?;
    if sliced.has_advanced() {
        ops::index_put_(&sliced.view, &sliced.indices, &values, accumulate)?;
    } else {
        check_broadcast(sliced.view.sizes(), &values)?;
        if accumulate {
            sliced.view.add_(&values)?;
        } else {
            ops::copy_(&sliced.view, &values, false)?;
        }
    }
    Ok(x.clone())
}

/// `x[items] = value` for a Python number: the value becomes a 0-dim tensor
/// of `x`'s dtype and is written as [`put`] does.
pub(crate) fn fill(x: &Tensor, items: &[TensorIndex], value: Scalar) -> Result<Tensor> {
    let v = Tensor::scalar_tensor(value, x.dtype());
    put(x, items, &v, false)
}
