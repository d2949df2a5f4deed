//! Composite kernels of the indexing family: operators built from `cat`,
//! `split_with_sizes`, `index.Tensor`, `gather`, `scatter_add`, `nonzero`,
//! `sort` and views. All are CompositeImplicitAutograd (autograd flows
//! through the operators they call) except `index_add`, which is
//! CompositeExplicitAutograd with its own formula so that `index_add_` can
//! be generated from it.

use crate::ops;
use crate::{DType, Error, Result, Scalar, Tensor};
use ft_runtime::shape;

/// Sizes of `t` as i64.
pub(crate) fn sizes_i64(t: &Tensor) -> Vec<i64> {
    t.sizes().iter().map(|&s| s as i64).collect()
}

/// `aten::stack`: the tensors (all of one shape) joined along a new dim `dim`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = ops::ones(&[2, 3]).unwrap();
/// assert_eq!(ops::stack(&[a.clone(), a], 1).unwrap().sizes(), &[2, 2, 3]);
/// ```
pub fn stack(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::stack";
    let Some(first) = tensors.first() else {
        return Err(Error::invalid(OP, "stack expects a non-empty TensorList"));
    };
    let d = shape::wrap_dim(OP, dim, first.dim() + 1)?;
    if let Some(i) = tensors.iter().position(|t| t.sizes() != first.sizes()) {
        return Err(Error::shape(
            OP,
            format!(
                "stack expects each tensor to be equal size, but got {} at entry 0 and {} at entry {i}",
                shape::fmt_sizes(first.sizes()),
                shape::fmt_sizes(tensors[i].sizes())
            ),
        ));
    }
    let parts = tensors
        .iter()
        .map(|t| ops::unsqueeze(t, d as i64))
        .collect::<Result<Vec<_>>>()?;
    ops::cat(&parts, d as i64)
}

/// Checks that `self_` has dims to split and returns `dim` wrapped.
fn split_dim(op: &str, self_: &Tensor, dim: i64) -> Result<usize> {
    if self_.dim() == 0 {
        return Err(Error::invalid(op, "split expects at least a 1-dimensional tensor"));
    }
    shape::wrap_dim(op, dim, self_.dim())
}

/// `aten::split.Tensor`: views of `self_` cut along `dim` into pieces of
/// `split_size` (the last one smaller if the size does not divide evenly).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[5, 2]).unwrap();
/// let sizes: Vec<usize> = ops::split(&x, 2, 0).unwrap().iter().map(|p| p.sizes()[0]).collect();
/// assert_eq!(sizes, vec![2, 2, 1]);
/// ```
pub fn split(self_: &Tensor, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
    const OP: &str = "aten::split.Tensor";
    let d = split_dim(OP, self_, dim)?;
    let n = self_.sizes()[d] as i64;
    if split_size < 0 {
        return Err(Error::invalid(
            OP,
            format!("split expects split_size be non-negative, but got split_size={split_size}"),
        ));
    }
    if split_size == 0 && n != 0 {
        return Err(Error::invalid(
            OP,
            format!("split_size can only be 0 if dimension size is 0, but got dimension size of {n}"),
        ));
    }
    let pieces = if split_size == 0 {
        1
    } else {
        ((n + split_size - 1) / split_size).max(1)
    };
    let sizes: Vec<i64> = (0..pieces).map(|i| split_size.min(n - i * split_size)).collect();
    ops::split_with_sizes(self_, &sizes, d as i64)
}

/// `aten::chunk`: `self_` split along `dim` into `chunks` pieces of
/// `ceil(size / chunks)` (fewer pieces when the size runs out).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[5]).unwrap();
/// assert_eq!(ops::chunk(&x, 3, 0).unwrap().len(), 3);
/// assert_eq!(ops::chunk(&x, 4, 0).unwrap().len(), 3); // pieces of 2, 2, 1
/// ```
pub fn chunk(self_: &Tensor, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
    const OP: &str = "aten::chunk";
    if self_.dim() == 0 {
        return Err(Error::invalid(OP, "chunk expects at least a 1-dimensional tensor"));
    }
    if chunks <= 0 {
        return Err(Error::invalid(
            OP,
            format!("chunk expects `chunks` to be greater than 0, got: {chunks}"),
        ));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    let n = self_.sizes()[d] as i64;
    let split_size = (n + chunks - 1) / chunks;
    if split_size == 0 && n == 0 {
        return ops::split_with_sizes(self_, &vec![0; chunks as usize], d as i64);
    }
    split(self_, split_size, d as i64)
}

/// `aten::unbind.int`: the slices of `self_` along `dim`, each without that dim.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[2, 3]).unwrap();
/// let rows = ops::unbind(&x, 0).unwrap();
/// assert_eq!((rows.len(), rows[0].sizes()), (2, &[3usize][..]));
/// ```
pub fn unbind(self_: &Tensor, dim: i64) -> Result<Vec<Tensor>> {
    const OP: &str = "aten::unbind.int";
    if self_.dim() == 0 {
        return Err(Error::new(
            crate::ErrorKind::DimOutOfRange,
            OP,
            "Dimension specified as 0 but tensor has no dimensions",
        ));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    let ones = vec![1i64; self_.sizes()[d]];
    ops::split_with_sizes(self_, &ones, d as i64)?
        .iter()
        .map(|p| ops::squeeze_dim(p, d as i64))
        .collect()
}

/// `self_` and the bool `mask` broadcast together and flattened (row-major).
fn broadcast_flat(op: &str, self_: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor)> {
    let b = shape::broadcast_shapes(op, self_.sizes(), mask.sizes())?;
    let b: Vec<i64> = b.iter().map(|&s| s as i64).collect();
    let flat = |t: &Tensor| ops::reshape(&ops::expand(t, &b)?, &[-1]);
    Ok((flat(self_)?, flat(mask)?))
}

/// `aten::masked_select`: the elements of `self_` (broadcast with the bool
/// `mask`) where `mask` is true, as a 1-D tensor in row-major order.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let m = Tensor::from_vec(vec![false, true], &[2]).unwrap();
/// assert_eq!(ops::masked_select(&x, &m).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 4.0]);
/// ```
pub fn masked_select(self_: &Tensor, mask: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::masked_select";
    if mask.dtype() != DType::Bool {
        return Err(Error::dtype(
            OP,
            format!(
                "masked_select: expected BoolTensor for mask, got {}",
                mask.dtype().tensor_type_name()
            ),
        ));
    }
    let (x, m) = broadcast_flat(OP, self_, mask)?;
    ops::index(&x, &[Some(m)])
}

/// `aten::index_add`: a copy of `self_` with `alpha * source` added along
/// `dim` at the positions in the 1-D int64/int32 `index` (duplicates
/// accumulate); `source` has `self_`'s shape except `index.numel()` at `dim`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::zeros(&[3]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 0, 2], &[3]).unwrap();
/// let s = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(ops::index_add(&x, 0, &i, &s).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 0.0, 3.0]);
/// ```
pub fn index_add(self_: &Tensor, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::index_add";
    let d = shape::wrap_dim(OP, dim, self_.dim().max(1))?;
    if index.dim() > 1 {
        return Err(Error::invalid(OP, "index_add_(): Index is supposed to be a vector"));
    }
    if !matches!(index.dtype(), DType::I64 | DType::I32) {
        return Err(Error::dtype(OP, "index_add_(): Expected dtype int32/int64 for index"));
    }
    if source.dtype() != self_.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "index_add_(): self ({}) and source ({}) must have the same scalar type",
                self_.dtype().scalar_type_name(),
                source.dtype().scalar_type_name()
            ),
        ));
    }
    let (ss, sr) = (lanes_sizes(self_), lanes_sizes(source));
    let same_rest = ss.len() == sr.len() && (0..ss.len()).all(|k| k == d || ss[k] == sr[k]);
    if !same_rest || sr[d] != index.numel() {
        return Err(Error::shape(
            OP,
            "source tensor shape must match self tensor shape, excluding the specified dimension",
        ));
    }
    let scaled = crate::autograd_helpers::maybe_multiply(source, alpha)?;
    // An accumulating index_put along `dim` into a contiguous copy
    // (float16/bfloat16 round after every addition there, as PyTorch's index_add does).
    let (base, values) = if self_.dim() == 0 {
        (ops::reshape(self_, &[1])?, ops::reshape(&scaled, &[1])?)
    } else {
        (ops::contiguous(self_)?, scaled)
    };
    let mut indices: Vec<Option<Tensor>> = vec![None; d];
    indices.push(Some(ops::reshape(index, &[-1])?));
    let r = ops::index_put(&base, &indices, &values, true).map_err(|e| e.with_op(OP))?;
    ops::reshape(&r, &sizes_i64(self_))
}

/// Sizes with a 0-dim tensor read as `[1]`.
fn lanes_sizes(t: &Tensor) -> Vec<usize> {
    if t.dim() == 0 {
        vec![1]
    } else {
        t.sizes().to_vec()
    }
}

/// `aten::take_along_dim`: `gather` along `dim` after broadcasting `self_`
/// and the int64 `indices` in every other dim (indices along `dim` are taken
/// modulo its size, as PyTorch 2.15 does); with no `dim`, indexes the
/// flattened `self_` with the flattened `indices` (out of range is an error).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![10.0f64, 30.0, 20.0, 40.0], &[2, 2]).unwrap();
/// let i = Tensor::from_vec(vec![1i64, 0], &[1, 2]).unwrap();
/// assert_eq!(ops::take_along_dim(&x, &i, Some(0)).unwrap().to_vec::<f64>().unwrap(), vec![20.0, 30.0]);
/// ```
pub fn take_along_dim(self_: &Tensor, indices: &Tensor, dim: Option<i64>) -> Result<Tensor> {
    const OP: &str = "aten::take_along_dim";
    if indices.dtype() != DType::I64 {
        return Err(Error::dtype(
            OP,
            format!(
                "torch.take_along_dim(): dtype of indices should be Long but got {}",
                indices.dtype().scalar_type_name()
            ),
        ));
    }
    let Some(dim) = dim else {
        return ops::gather(&ops::reshape(self_, &[-1])?, 0, &ops::reshape(indices, &[-1])?);
    };
    if self_.dim() != indices.dim() {
        return Err(Error::invalid(
            OP,
            format!(
                "torch.take_along_dim(): input and indices should have the same number of dimensions, but got {} dimensions for input, and {} dimensions for indices",
                self_.dim(),
                indices.dim()
            ),
        ));
    }
    if self_.dim() == 0 {
        return Err(Error::new(
            crate::ErrorKind::DimOutOfRange,
            OP,
            format!("Dimension specified as {dim} but tensor has no dimensions"),
        ));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    let mut self_sizes = self_.sizes().to_vec();
    self_sizes[d] = indices.sizes()[d];
    let b = shape::broadcast_shapes(OP, &self_sizes, indices.sizes())?;
    let mut bi: Vec<i64> = b.iter().map(|&s| s as i64).collect();
    let idx = ops::expand(&wrap_indices(indices, self_.sizes()[d])?, &bi)?;
    bi[d] = self_.sizes()[d] as i64;
    ops::gather(&ops::expand(self_, &bi)?, d as i64, &idx)
}

/// `indices` taken modulo `size` (Python's `%`), as PyTorch's
/// `take_along_dim` does along a dim; unchanged when `size` is 0.
fn wrap_indices(indices: &Tensor, size: usize) -> Result<Tensor> {
    if size == 0 {
        return Ok(indices.clone());
    }
    let wrapped: Vec<i64> = indices
        .to_vec::<i64>()?
        .iter()
        .map(|v| v.rem_euclid(size as i64))
        .collect();
    Tensor::from_vec(wrapped, indices.sizes())
}

/// `aten::meshgrid`: [`meshgrid_indexing`] with "ij" indexing.
///
/// ```
/// use frankentorch::prelude::*;
/// let (a, b) = (ops::ones(&[2]).unwrap(), ops::ones(&[3]).unwrap());
/// assert_eq!(ops::meshgrid(&[a, b]).unwrap()[1].sizes(), &[2, 3]);
/// ```
pub fn meshgrid(tensors: &[Tensor]) -> Result<Vec<Tensor>> {
    meshgrid_impl("aten::meshgrid", tensors, "ij")
}

/// `aten::meshgrid.indexing`: grids spanned by 0-D/1-D tensors of one dtype:
/// output `i` repeats tensor `i` along its own dim of the grid. "ij" gives
/// the grid the inputs' order; "xy" swaps the first two grid dims
/// (Cartesian indexing). The outputs are expanded views.
///
/// ```
/// use frankentorch::prelude::*;
/// let (x, y) = (ops::ones(&[2]).unwrap(), ops::ones(&[3]).unwrap());
/// let g = ops::meshgrid_indexing(&[x, y], "xy").unwrap();
/// assert_eq!((g[0].sizes(), g[0].strides()), (&[3usize, 2][..], &[0usize, 1][..]));
/// ```
pub fn meshgrid_indexing(tensors: &[Tensor], indexing: &str) -> Result<Vec<Tensor>> {
    meshgrid_impl("aten::meshgrid.indexing", tensors, indexing)
}

fn meshgrid_impl(op: &str, tensors: &[Tensor], indexing: &str) -> Result<Vec<Tensor>> {
    if indexing != "ij" && indexing != "xy" {
        return Err(Error::invalid(
            op,
            format!("torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}"),
        ));
    }
    if let Some(t) = tensors.iter().find(|t| t.dim() > 1) {
        return Err(Error::invalid(
            op,
            format!(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {}D",
                t.dim()
            ),
        ));
    }
    if tensors.iter().any(|t| t.dtype() != tensors[0].dtype()) {
        return Err(Error::dtype(
            op,
            "torch.meshgrid: expects all tensors to have the same dtype",
        ));
    }
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    if indexing == "xy" && tensors.len() >= 2 {
        order.swap(0, 1);
    }
    let grid: Vec<i64> = order.iter().map(|&i| tensors[i].numel() as i64).collect();
    let mut out = vec![None; tensors.len()];
    for (pos, &i) in order.iter().enumerate() {
        let mut view = vec![1i64; grid.len()];
        view[pos] = -1;
        out[i] = Some(ops::expand(&ops::view(&tensors[i], &view)?, &grid)?);
    }
    Ok(out.into_iter().flatten().collect())
}

/// `aten::where` with only a condition: the coordinates of the non-zero
/// elements of `condition`, one int64 tensor per dim (`nonzero` unbound
/// along its columns; a 0-dim condition counts as 1-D).
///
/// ```
/// use frankentorch::prelude::*;
/// let c = Tensor::from_vec(vec![false, true, true, false], &[2, 2]).unwrap();
/// let w = ops::where_condition(&c).unwrap();
/// assert_eq!(w[0].to_vec::<i64>().unwrap(), vec![0, 1]);
/// assert_eq!(w[1].to_vec::<i64>().unwrap(), vec![1, 0]);
/// ```
pub fn where_condition(condition: &Tensor) -> Result<Vec<Tensor>> {
    let c = if condition.dim() == 0 {
        ops::unsqueeze(condition, 0)?
    } else {
        condition.clone()
    };
    unbind(&ops::nonzero(&c)?, 1)
}

/// `aten::argsort`: the positions that sort `self_` along `dim` (the
/// `indices` of a stable [`sort`](crate::ops::sort)).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3i32, 1, 2], &[3]).unwrap();
/// assert_eq!(ops::argsort(&x, -1, false).unwrap().to_vec::<i64>().unwrap(), vec![1, 2, 0]);
/// ```
pub fn argsort(self_: &Tensor, dim: i64, descending: bool) -> Result<Tensor> {
    Ok(ops::sort(self_, dim, descending)
        .map_err(|e| e.with_op("aten::argsort"))?
        .1)
}

/// `aten::argsort.stable`: [`argsort`] (the sort is always stable).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2i64, 1, 2], &[3]).unwrap();
/// assert_eq!(ops::argsort_stable(&x, true).unwrap().to_vec::<i64>().unwrap(), vec![1, 0, 2]);
/// ```
pub fn argsort_stable(self_: &Tensor, stable: bool, dim: i64, descending: bool) -> Result<Tensor> {
    let _ = stable;
    Ok(ops::sort(self_, dim, descending)
        .map_err(|e| e.with_op("aten::argsort.stable"))?
        .1)
}
