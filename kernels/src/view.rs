//! View operators: results share storage (and the version counter) with the
//! input and are built with [`Tensor::as_view`], never by copying.
//!
//! Sizes and strides follow PyTorch exactly (including the strides PyTorch
//! gives to size-1 dims), since they are observable through `stride()`.

use ft_runtime::shape::{self, DimVec};
use ft_runtime::{Error, Result, Tensor};

/// Formats a list of signed sizes the way PyTorch prints `IntArrayRef`: `[2, -1]`.
fn fmt_i64s(v: &[i64]) -> String {
    let parts: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Number of elements described by `sizes`, or `None` on overflow.
fn checked_numel(sizes: &[usize]) -> Option<usize> {
    if sizes.contains(&0) {
        return Some(0);
    }
    sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s))
}

/// Largest storage offset reached by a view, or `None` on overflow
/// (`None` is never returned for views with no elements).
fn checked_last_offset(sizes: &[usize], strides: &[usize], offset: usize) -> Option<usize> {
    if sizes.contains(&0) {
        return Some(offset);
    }
    sizes.iter().zip(strides).try_fold(offset, |acc, (&s, &st)| {
        (s - 1).checked_mul(st).and_then(|x| acc.checked_add(x))
    })
}

/// Creates the view after checking that its element count and extent fit in
/// `usize`, so no arithmetic in the runtime can overflow on hostile sizes.
fn make_view(op: &str, t: &Tensor, sizes: &[usize], strides: &[usize], offset: usize) -> Result<Tensor> {
    let fits = checked_numel(sizes).is_some_and(|n| n <= i64::MAX as usize)
        && checked_last_offset(sizes, strides, offset).is_some_and(|n| n <= i64::MAX as usize);
    if !fits {
        return Err(Error::invalid(
            op,
            format!(
                "Storage size calculation overflowed with sizes={} and strides={}",
                shape::fmt_sizes(sizes),
                shape::fmt_sizes(strides)
            ),
        ));
    }
    t.as_view(sizes, strides, offset).map_err(|e| e.with_op(op))
}

/// Checks a requested size list before `shape::infer_size` multiplies it, and
/// reports PyTorch's "ambiguous -1" error for empty tensors.
fn precheck_view_size(op: &str, size: &[i64], numel: usize) -> Result<()> {
    let mut known = 1usize;
    let mut infers = 0;
    for &s in size {
        if s == -1 {
            infers += 1;
        } else if s >= 0 {
            known = known.checked_mul(s as usize).ok_or_else(|| {
                Error::shape(
                    op,
                    format!("shape '{}' is invalid for input of size {numel}", fmt_i64s(size)),
                )
            })?;
        } else {
            return Ok(()); // infer_size reports the negative dimension
        }
    }
    if infers == 1 && known == 0 && numel == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "cannot reshape tensor of 0 elements into shape {} because the unspecified dimension size -1 can be any value and is ambiguous",
                fmt_i64s(size)
            ),
        ));
    }
    Ok(())
}

/// `aten::view`: the same data with a new shape (one size may be `-1`).
/// Fails when the strides cannot express the new shape without a copy.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec((0..12).map(|v| v as f32).collect(), &[3, 4]).unwrap();
/// let v = ft_kernels::view::view(&t, &[2, -1]).unwrap();
/// assert_eq!(v.sizes(), &[2, 6]);
/// assert_eq!(v.strides(), &[6, 1]);
/// assert!(v.storage().is_same(t.storage()));
/// ```
pub fn view(self_: &Tensor, size: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::view";
    precheck_view_size(OP, size, self_.numel())?;
    let sizes = shape::infer_size(OP, size, self_.numel())?;
    let strides = shape::view_strides(self_.sizes(), self_.strides(), &sizes).ok_or_else(|| {
        Error::shape(
            OP,
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
        )
    })?;
    make_view(OP, self_, &sizes, &strides, self_.storage_offset())
}

/// `aten::as_strided`: a view with explicit sizes, strides and storage offset
/// (`None` keeps the input's offset). The view must lie inside the storage.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i64, 1, 2, 3, 4, 5], &[6]).unwrap();
/// let v = ft_kernels::view::as_strided(&t, &[2, 2], &[1, 2], Some(1)).unwrap();
/// assert_eq!(v.to_vec::<i64>().unwrap(), vec![1, 3, 2, 4]);
/// assert!(ft_kernels::view::as_strided(&t, &[2], &[-1], None).is_err());
/// ```
pub fn as_strided(self_: &Tensor, size: &[i64], stride: &[i64], storage_offset: Option<i64>) -> Result<Tensor> {
    const OP: &str = "aten::as_strided";
    if size.len() != stride.len() {
        return Err(Error::invalid(OP, "mismatch in length of strides and shape"));
    }
    if stride.iter().any(|&s| s < 0) {
        return Err(Error::invalid(
            OP,
            format!(
                "as_strided: Negative strides are not supported at the moment, got strides: {}",
                fmt_i64s(stride)
            ),
        ));
    }
    if let Some(&neg) = size.iter().find(|&&s| s < 0) {
        return Err(Error::invalid(
            OP,
            format!(
                "Trying to create tensor with negative dimension {neg}: {}",
                fmt_i64s(size)
            ),
        ));
    }
    let offset = storage_offset.unwrap_or(self_.storage_offset() as i64);
    if offset < 0 {
        return Err(Error::invalid(OP, format!("Tensor: invalid storage offset {offset}")));
    }
    let sizes: DimVec = size.iter().map(|&s| s as usize).collect();
    let strides: DimVec = stride.iter().map(|&s| s as usize).collect();
    make_view(OP, self_, &sizes, &strides, offset as usize)
}

/// `aten::transpose.int`: swaps two dims (sizes and strides). A 0-dim tensor
/// accepts dims `0` and `-1` and returns an alias.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3, 4], DType::F32);
/// let v = ft_kernels::view::transpose(&t, 0, -1).unwrap();
/// assert_eq!(v.sizes(), &[4, 3, 2]);
/// assert_eq!(v.strides(), &[1, 4, 12]);
/// ```
pub fn transpose(self_: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    const OP: &str = "aten::transpose.int";
    let nd = self_.dim();
    let d0 = shape::wrap_dim(OP, dim0, nd)?;
    let d1 = shape::wrap_dim(OP, dim1, nd)?;
    let mut sizes: DimVec = self_.sizes().into();
    let mut strides: DimVec = self_.strides().into();
    if nd > 0 {
        sizes.swap(d0, d1);
        strides.swap(d0, d1);
    }
    make_view(OP, self_, &sizes, &strides, self_.storage_offset())
}

/// `aten::permute`: reorders all dims; `dims` must name each dim exactly once.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3, 4], DType::F64);
/// let v = ft_kernels::view::permute(&t, &[2, 0, 1]).unwrap();
/// assert_eq!(v.sizes(), &[4, 2, 3]);
/// assert_eq!(v.strides(), &[1, 12, 4]);
/// assert!(ft_kernels::view::permute(&t, &[0, 0, 1]).is_err());
/// ```
pub fn permute(self_: &Tensor, dims: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::permute";
    let nd = self_.dim();
    if dims.len() != nd {
        return Err(Error::invalid(
            OP,
            format!(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {}",
                dims.len()
            ),
        ));
    }
    let mut seen = vec![false; nd];
    let mut sizes = DimVec::with_capacity(nd);
    let mut strides = DimVec::with_capacity(nd);
    for &d in dims {
        let w = shape::wrap_dim(OP, d, nd)?;
        if seen[w] {
            return Err(Error::invalid(OP, "permute(): duplicate dims are not allowed."));
        }
        seen[w] = true;
        sizes.push(self_.sizes()[w]);
        strides.push(self_.strides()[w]);
    }
    make_view(OP, self_, &sizes, &strides, self_.storage_offset())
}

/// Sizes and strides of `expand` (PyTorch's `inferExpandGeometry`): `-1`
/// keeps a size, size-1 dims broadcast with stride 0, and a new leading dim
/// gets stride 0 unless its size is 1 (then it gets `size * stride` of the
/// dim after it).
fn expand_geometry(op: &str, t: &Tensor, size: &[i64]) -> Result<(DimVec, DimVec)> {
    let (tsizes, tstrides) = (t.sizes(), t.strides());
    let nd = size.len();
    let negative = |s: i64| {
        Error::invalid(
            op,
            format!(
                "Trying to create tensor with negative dimension {s}: {}",
                fmt_i64s(size)
            ),
        )
    };
    if tsizes.is_empty() {
        // A 0-dim source: every dim is new and gets stride 0.
        if let Some(&s) = size.iter().find(|&&s| s < 0) {
            return Err(negative(s));
        }
        return Ok((size.iter().map(|&s| s as usize).collect(), DimVec::from_elem(0, nd)));
    }
    let mut sizes = DimVec::from_elem(0, nd);
    let mut strides = DimVec::from_elem(0, nd);
    for i in (0..nd).rev() {
        let existing = (i + tsizes.len()).checked_sub(nd);
        let (cur, mut stride) = match existing {
            Some(d) => (tsizes[d], tstrides[d]),
            None => (1, sizes[i + 1].wrapping_mul(strides[i + 1])),
        };
        let mut target = size[i];
        if target == -1 {
            if existing.is_none() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                    ),
                ));
            }
            target = cur as i64;
        }
        if cur as i64 != target {
            if cur != 1 {
                return Err(Error::shape(
                    op,
                    format!(
                        "The expanded size of the tensor ({target}) must match the existing size ({cur}) at non-singleton dimension {i}.  Target sizes: {}.  Tensor sizes: {}",
                        fmt_i64s(size),
                        shape::fmt_sizes(tsizes)
                    ),
                ));
            }
            if target < 0 {
                return Err(negative(target));
            }
            stride = 0;
        }
        sizes[i] = target as usize;
        strides[i] = stride;
    }
    Ok((sizes, strides))
}

/// `aten::expand`: broadcasts size-1 dims (stride 0) and prepends new dims.
/// `-1` keeps the existing size. `implicit` only matters for tracing and is ignored.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3, 1]).unwrap();
/// let v = ft_kernels::view::expand(&t, &[2, -1, 4], false).unwrap();
/// assert_eq!(v.sizes(), &[2, 3, 4]);
/// assert_eq!(v.strides(), &[0, 1, 0]);
/// ```
pub fn expand(self_: &Tensor, size: &[i64], implicit: bool) -> Result<Tensor> {
    const OP: &str = "aten::expand";
    let _ = implicit;
    if size.len() < self_.dim() {
        return Err(Error::shape(
            OP,
            format!(
                "expand({}{{{}}}, size={}): the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                self_.dtype().tensor_type_name(),
                shape::fmt_sizes(self_.sizes()),
                fmt_i64s(size),
                size.len(),
                self_.dim()
            ),
        ));
    }
    let (sizes, strides) = expand_geometry(OP, self_, size)?;
    make_view(OP, self_, &sizes, &strides, self_.storage_offset())
}

/// `aten::unsqueeze`: inserts a size-1 dim at `dim` (wrapped over `dim() + 1`).
/// Its stride is `size * stride` of the dim it precedes, or 1 at the end.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3], DType::I32);
/// assert_eq!(ft_kernels::view::unsqueeze(&t, 1).unwrap().strides(), &[3, 3, 1]);
/// assert_eq!(ft_kernels::view::unsqueeze(&t, -1).unwrap().strides(), &[3, 1, 1]);
/// ```
pub fn unsqueeze(self_: &Tensor, dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::unsqueeze";
    let nd = self_.dim();
    let d = shape::wrap_dim(OP, dim, nd + 1)?;
    let new_stride = if d >= nd {
        1
    } else {
        self_.sizes()[d].wrapping_mul(self_.strides()[d])
    };
    let mut sizes: DimVec = self_.sizes().into();
    let mut strides: DimVec = self_.strides().into();
    sizes.insert(d, 1);
    strides.insert(d, new_stride);
    make_view(OP, self_, &sizes, &strides, self_.storage_offset())
}

/// A view without the dims for which `drop(dim)` is true and whose size is 1.
fn squeeze_where(op: &str, t: &Tensor, drop: impl Fn(usize) -> bool) -> Result<Tensor> {
    let mut sizes = DimVec::new();
    let mut strides = DimVec::new();
    for (d, (&s, &st)) in t.sizes().iter().zip(t.strides()).enumerate() {
        if !(s == 1 && drop(d)) {
            sizes.push(s);
            strides.push(st);
        }
    }
    make_view(op, t, &sizes, &strides, t.storage_offset())
}

/// `aten::squeeze`: removes every size-1 dim.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[1, 3, 1, 2], DType::F32);
/// let v = ft_kernels::view::squeeze(&t).unwrap();
/// assert_eq!(v.sizes(), &[3, 2]);
/// assert_eq!(v.strides(), &[2, 1]);
/// ```
pub fn squeeze(self_: &Tensor) -> Result<Tensor> {
    squeeze_where("aten::squeeze", self_, |_| true)
}

/// `aten::squeeze.dim`: removes `dim` if its size is 1, else returns an alias.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[1, 3], DType::F32);
/// assert_eq!(ft_kernels::view::squeeze_dim(&t, 0).unwrap().sizes(), &[3]);
/// assert_eq!(ft_kernels::view::squeeze_dim(&t, 1).unwrap().sizes(), &[1, 3]);
/// ```
pub fn squeeze_dim(self_: &Tensor, dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::squeeze.dim";
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    squeeze_where(OP, self_, |i| i == d)
}

/// `aten::squeeze.dims`: removes each listed dim whose size is 1 (dims wrap;
/// repeats are an error).
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[1, 3, 1], DType::F32);
/// assert_eq!(ft_kernels::view::squeeze_dims(&t, &[0, 1, -1]).unwrap().sizes(), &[3]);
/// assert!(ft_kernels::view::squeeze_dims(&t, &[0, -3]).is_err());
/// ```
pub fn squeeze_dims(self_: &Tensor, dim: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::squeeze.dims";
    let dims = shape::wrap_dims(OP, dim, self_.dim())?;
    squeeze_where(OP, self_, |i| dims.contains(&i))
}

/// `aten::alias`: a new view with the same sizes, strides and offset.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2], DType::F32);
/// let a = ft_kernels::view::alias(&t).unwrap();
/// assert!(!a.is_same(&t) && a.storage().is_same(t.storage()));
/// assert!(a.base().unwrap().is_same(&t));
/// ```
pub fn alias(self_: &Tensor) -> Result<Tensor> {
    make_view(
        "aten::alias",
        self_,
        self_.sizes(),
        self_.strides(),
        self_.storage_offset(),
    )
}

/// `aten::select.int`: the slice at `index` (negative counts from the end)
/// along `dim`, which is removed.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[3, 4], DType::F32);
/// let v = ft_kernels::view::select(&t, 0, -1).unwrap();
/// assert_eq!((v.sizes(), v.strides(), v.storage_offset()), (&[4usize][..], &[1usize][..], 8));
/// ```
pub fn select(self_: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    const OP: &str = "aten::select.int";
    if self_.dim() == 0 {
        return Err(Error::index(OP, "select() cannot be applied to a 0-dim tensor."));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    let size = self_.sizes()[d] as i64;
    if index < -size || index >= size {
        return Err(Error::index(
            OP,
            format!(
                "select(): index {index} out of range for tensor of size {} at dimension {d}",
                shape::fmt_sizes(self_.sizes())
            ),
        ));
    }
    let i = if index < 0 { index + size } else { index } as usize;
    let mut sizes: DimVec = self_.sizes().into();
    let mut strides: DimVec = self_.strides().into();
    let offset = self_.storage_offset() + i * strides[d];
    sizes.remove(d);
    strides.remove(d);
    make_view(OP, self_, &sizes, &strides, offset)
}

/// The clamped `(start, length)` of `slice(start, end, step)` over a dim of
/// `size` elements, as PyTorch computes it (negative bounds count from the
/// end; out-of-range bounds clamp).
pub fn slice_bounds(size: usize, start: Option<i64>, end: Option<i64>, step: i64) -> (usize, usize) {
    let n = size as i64;
    let clamp = |v: i64| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(0, n)
    };
    let s = clamp(start.unwrap_or(0));
    let e = clamp(end.unwrap_or(n)).max(s);
    let len = (e - s + step - 1) / step;
    (s as usize, len as usize)
}

/// `aten::slice.Tensor`: elements `start, start + step, ...` before `end`
/// along `dim`; `step` must be positive.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[10], DType::F32);
/// let v = ft_kernels::view::slice(&t, 0, Some(1), Some(-2), 3).unwrap();
/// assert_eq!((v.sizes(), v.strides(), v.storage_offset()), (&[3usize][..], &[3usize][..], 1));
/// ```
pub fn slice(self_: &Tensor, dim: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Result<Tensor> {
    const OP: &str = "aten::slice.Tensor";
    if self_.dim() == 0 {
        return Err(Error::index(OP, "slice() cannot be applied to a 0-dim tensor."));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    if step <= 0 {
        return Err(Error::invalid(OP, "slice step must be positive"));
    }
    let (s, len) = slice_bounds(self_.sizes()[d], start, end, step);
    let mut sizes: DimVec = self_.sizes().into();
    let mut strides: DimVec = self_.strides().into();
    let offset = self_.storage_offset() + s * strides[d];
    sizes[d] = len;
    strides[d] *= step as usize;
    make_view(OP, self_, &sizes, &strides, offset)
}

/// `aten::diagonal`: the diagonal `offset` (above the main one when
/// positive) of the planes spanned by `dim1` and `dim2`, which are removed;
/// the diagonal becomes the last dim.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[3, 4], DType::F32);
/// let v = ft_kernels::view::diagonal(&t, 1, 0, 1).unwrap();
/// assert_eq!((v.sizes(), v.strides(), v.storage_offset()), (&[3usize][..], &[5usize][..], 1));
/// ```
pub fn diagonal(self_: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    const OP: &str = "aten::diagonal";
    let nd = self_.dim();
    let d1 = shape::wrap_dim(OP, dim1, nd)?;
    let d2 = shape::wrap_dim(OP, dim2, nd)?;
    if d1 == d2 {
        return Err(Error::invalid(
            OP,
            format!("diagonal dimensions cannot be identical {dim1}, {dim2}"),
        ));
    }
    if nd < 2 {
        return Err(Error::dim_out_of_range(OP, dim2, nd));
    }
    let (s1, s2) = (self_.sizes()[d1] as i64, self_.sizes()[d2] as i64);
    let (st1, st2) = (self_.strides()[d1], self_.strides()[d2]);
    let len = if offset >= 0 {
        s1.min(s2 - offset).max(0)
    } else {
        (s1 + offset).min(s2).max(0)
    } as usize;
    let mut storage_offset = self_.storage_offset();
    if len > 0 {
        storage_offset += if offset >= 0 {
            offset as usize * st2
        } else {
            offset.unsigned_abs() as usize * st1
        };
    }
    let mut sizes = DimVec::new();
    let mut strides = DimVec::new();
    for d in (0..nd).filter(|&d| d != d1 && d != d2) {
        sizes.push(self_.sizes()[d]);
        strides.push(self_.strides()[d]);
    }
    sizes.push(len);
    strides.push(st1 + st2);
    make_view(OP, self_, &sizes, &strides, storage_offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::{DType, ErrorKind};

    fn arange(n: usize, sizes: &[usize]) -> Tensor {
        Tensor::from_vec((0..n as i64).collect::<Vec<i64>>(), sizes).unwrap()
    }

    fn vals(t: &Tensor) -> Vec<i64> {
        t.to_vec::<i64>().unwrap()
    }

    #[test]
    fn view_shapes_and_strides() {
        let t = arange(24, &[2, 3, 4]);
        let v = view(&t, &[6, -1]).unwrap();
        assert_eq!((v.sizes(), v.strides()), (&[6usize, 4][..], &[4usize, 1][..]));
        assert!(v.storage().is_same(t.storage()) && v.version_counter().is_same(t.version_counter()));
        let s = view(&arange(1, &[]), &[1, 1]).unwrap();
        assert_eq!(s.strides(), &[1, 1]);
        let z = view(&arange(1, &[1]), &[]).unwrap();
        assert_eq!(z.dim(), 0);
        // a transposed tensor can be split but not flattened
        let tt = transpose(&arange(6, &[2, 3]), 0, 1).unwrap();
        assert_eq!(view(&tt, &[3, 2, 1]).unwrap().strides(), &[1, 3, 3]);
        let e = view(&tt, &[6]).unwrap_err();
        assert!(e.message().starts_with("view size is not compatible"), "{e}");
        assert_eq!(e.op(), "aten::view");
    }

    #[test]
    fn view_errors() {
        let t = arange(4, &[4]);
        assert!(view(&t, &[5])
            .unwrap_err()
            .message()
            .contains("invalid for input of size 4"));
        assert!(view(&t, &[-1, -1]).is_err());
        assert!(view(&t, &[-2, -2]).is_err());
        assert!(view(&t, &[i64::MAX, i64::MAX, 0]).is_err());
        let empty = Tensor::zeros_contiguous(&[0, 3], DType::F32);
        let e = view(&empty, &[-1, 0]).unwrap_err();
        assert!(e.message().contains("ambiguous"), "{e}");
        assert!(view(&empty, &[3, 0, -1]).is_err());
        assert_eq!(view(&empty, &[3, 0, 1]).unwrap().sizes(), &[3, 0, 1]);
        assert_eq!(view(&empty, &[0]).unwrap().strides(), &[1]);
    }

    #[test]
    fn as_strided_views() {
        let t = arange(6, &[6]);
        let v = as_strided(&t, &[3, 2], &[1, 3], None).unwrap();
        assert_eq!(vals(&v), vec![0, 3, 1, 4, 2, 5]);
        let off = as_strided(&v, &[2], &[2], Some(1)).unwrap();
        assert_eq!(off.storage_offset(), 1);
        assert_eq!(vals(&off), vec![1, 3]);
        let sliced = as_strided(&t, &[2], &[1], Some(4)).unwrap();
        assert_eq!(as_strided(&sliced, &[1], &[1], None).unwrap().storage_offset(), 4);
        assert!(as_strided(&t, &[2], &[-1], None)
            .unwrap_err()
            .message()
            .contains("Negative strides"));
        assert!(as_strided(&t, &[-2], &[1], None)
            .unwrap_err()
            .message()
            .contains("negative dimension -2"));
        assert!(as_strided(&t, &[2], &[1], Some(-1))
            .unwrap_err()
            .message()
            .contains("invalid storage offset -1"));
        assert!(as_strided(&t, &[2, 1], &[1], None).is_err());
        assert!(as_strided(&t, &[3], &[3], None).is_err(), "out of bounds");
        assert!(as_strided(&t, &[i64::MAX, i64::MAX], &[0, 0], None).is_err());
        assert!(as_strided(&t, &[i64::MAX, 3, 3, 3, 3], &[i64::MAX; 5], None).is_err());
        assert_eq!(as_strided(&t, &[0, 5], &[100, 100], Some(100)).unwrap().numel(), 0);
        assert_eq!(as_strided(&t, &[1 << 40, 2], &[0, 1], None).unwrap().numel(), 1 << 41);
    }

    #[test]
    fn transpose_and_permute() {
        let t = arange(24, &[2, 3, 4]);
        let v = transpose(&t, -1, 1).unwrap();
        assert_eq!((v.sizes(), v.strides()), (&[2usize, 4, 3][..], &[12usize, 1, 4][..]));
        assert_eq!(transpose(&t, 1, 1).unwrap().strides(), t.strides());
        let s = arange(1, &[]);
        assert_eq!(transpose(&s, 0, -1).unwrap().dim(), 0);
        assert_eq!(transpose(&t, 0, 3).unwrap_err().kind(), ErrorKind::DimOutOfRange);
        let p = permute(&t, &[-1, 0, 1]).unwrap();
        assert_eq!((p.sizes(), p.strides()), (&[4usize, 2, 3][..], &[1usize, 12, 4][..]));
        assert_eq!(
            vals(&permute(&arange(6, &[2, 3]), &[1, 0]).unwrap()),
            vec![0, 3, 1, 4, 2, 5]
        );
        let e = permute(&arange(6, &[2, 3]), &[0, 1, 2]).unwrap_err();
        assert!(
            e.message().ends_with("input.dim() = 2 is not equal to len(dims) = 3"),
            "{e}"
        );
        assert_eq!(
            permute(&t, &[0, 1, -2]).unwrap_err().message(),
            "permute(): duplicate dims are not allowed."
        );
        assert_eq!(permute(&t, &[0, 1, 3]).unwrap_err().kind(), ErrorKind::DimOutOfRange);
        assert_eq!(permute(&s, &[]).unwrap().dim(), 0);
    }

    #[test]
    fn expand_strides_match_pytorch() {
        let t = arange(3, &[3]);
        let e = expand(&t, &[2, 3], false).unwrap();
        assert_eq!((e.sizes(), e.strides()), (&[2usize, 3][..], &[0usize, 1][..]));
        assert_eq!(vals(&e), vec![0, 1, 2, 0, 1, 2]);
        // a new leading dim of size 1 gets size*stride of the next dim, as in PyTorch
        assert_eq!(expand(&t, &[1, 3], false).unwrap().strides(), &[3, 1]);
        assert_eq!(expand(&t, &[1, 2, 3], false).unwrap().strides(), &[0, 0, 1]);
        let c = arange(3, &[3, 1]);
        assert_eq!(expand(&c, &[3, 4], true).unwrap().strides(), &[1, 0]);
        assert_eq!(expand(&c, &[-1, -1], false).unwrap().strides(), &[1, 1]);
        let s = arange(1, &[]);
        let se = expand(&s, &[2, 1], false).unwrap();
        assert_eq!((se.sizes(), se.strides()), (&[2usize, 1][..], &[0usize, 0][..]));
        assert_eq!(expand(&t, &[0, 3], false).unwrap().numel(), 0);
        assert_eq!(expand(&arange(0, &[1, 0]), &[4, 0], false).unwrap().sizes(), &[4, 0]);
    }

    #[test]
    fn expand_errors() {
        let t = arange(3, &[3]);
        let e = expand(&t, &[-1, 3], false).unwrap_err();
        assert_eq!(
            e.message(),
            "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"
        );
        let e = expand(&t, &[2, 5], false).unwrap_err();
        assert_eq!(
            e.message(),
            "The expanded size of the tensor (5) must match the existing size (3) at non-singleton dimension 1.  Target sizes: [2, 5].  Tensor sizes: [3]"
        );
        let e = expand(&arange(6, &[2, 3]), &[3], false).unwrap_err();
        assert!(
            e.message()
                .contains("the number of sizes provided (1) must be greater or equal"),
            "{e}"
        );
        assert!(
            e.message().starts_with("expand(torch.LongTensor{[2, 3]}, size=[3])"),
            "{e}"
        );
        assert!(expand(&arange(1, &[1]), &[-3], false).is_err());
        assert!(expand(&arange(1, &[]), &[-1], false).is_err());
        assert!(expand(&arange(1, &[1]), &[i64::MAX, i64::MAX], false).is_err());
    }

    #[test]
    fn unsqueeze_strides() {
        let t = arange(6, &[2, 3]);
        assert_eq!(unsqueeze(&t, 0).unwrap().strides(), &[6, 3, 1]);
        assert_eq!(unsqueeze(&t, 2).unwrap().strides(), &[3, 1, 1]);
        assert_eq!(unsqueeze(&t, -3).unwrap().sizes(), &[1, 2, 3]);
        let tt = transpose(&t, 0, 1).unwrap();
        assert_eq!(unsqueeze(&tt, 1).unwrap().strides(), &[1, 6, 3]);
        let s = unsqueeze(&arange(1, &[]), -1).unwrap();
        assert_eq!((s.sizes(), s.strides()), (&[1usize][..], &[1usize][..]));
        assert_eq!(unsqueeze(&t, 3).unwrap_err().kind(), ErrorKind::DimOutOfRange);
        assert_eq!(unsqueeze(&t, -4).unwrap_err().kind(), ErrorKind::DimOutOfRange);
    }

    #[test]
    fn squeeze_variants() {
        let t = Tensor::zeros_contiguous(&[1, 3, 1, 2], DType::F32);
        assert_eq!(squeeze(&t).unwrap().sizes(), &[3, 2]);
        assert_eq!(squeeze_dim(&t, 2).unwrap().strides(), &[6, 2, 1]);
        assert_eq!(squeeze_dim(&t, 1).unwrap().sizes(), &[1, 3, 1, 2]);
        assert_eq!(squeeze_dim(&t, 4).unwrap_err().kind(), ErrorKind::DimOutOfRange);
        assert_eq!(squeeze_dims(&t, &[0, 1]).unwrap().sizes(), &[3, 1, 2]);
        assert_eq!(squeeze_dims(&t, &[]).unwrap().sizes(), &[1, 3, 1, 2]);
        let e = squeeze_dims(&t, &[2, -2]).unwrap_err();
        assert_eq!(e.message(), "dim 2 appears multiple times in the list of dims");
        let s = Tensor::zeros_contiguous(&[], DType::F32);
        assert_eq!(squeeze(&s).unwrap().dim(), 0);
        assert_eq!(squeeze_dim(&s, -1).unwrap().dim(), 0);
        assert_eq!(squeeze_dims(&s, &[0]).unwrap().dim(), 0);
        assert!(squeeze_dim(&s, 1).is_err());
        let z = Tensor::zeros_contiguous(&[0, 1], DType::F32);
        assert_eq!(squeeze(&z).unwrap().sizes(), &[0]);
    }

    #[test]
    fn alias_is_a_view() {
        let t = arange(6, &[2, 3]);
        let v = transpose(&t, 0, 1).unwrap();
        let a = alias(&v).unwrap();
        assert_eq!(
            (a.sizes(), a.strides(), a.storage_offset()),
            (v.sizes(), v.strides(), 0)
        );
        assert!(a.base().unwrap().is_same(&t));
        assert_eq!(vals(&a), vec![0, 3, 1, 4, 2, 5]);
    }
}
