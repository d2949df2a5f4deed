//! Joining and splitting along one dim: `cat` copies its inputs into one
//! new tensor; `split_with_sizes` returns views of consecutive pieces.

use crate::iter::{cast_copy, empty_strided};
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{promote_types, Error, Result, Tensor};

/// PyTorch's legacy rule: a 1-D tensor with no elements is skipped by `cat`
/// whatever the other inputs' shapes.
fn is_legacy_empty(t: &Tensor) -> bool {
    t.sizes() == [0]
}

/// Channels-last strides of a 4-D `sizes` (`N, C, H, W` with `C` fastest).
fn channels_last_strides(sizes: &[usize]) -> DimVec {
    let (c, h, w) = (sizes[1].max(1), sizes[2].max(1), sizes[3].max(1));
    DimVec::from_slice(&[h * w * c, 1, w * c, c])
}

/// Whether `t` is a 4-D tensor laid out channels-last (PyTorch's
/// `suggest_memory_format` for dense tensors; size-1 dims are ignored).
fn is_channels_last(t: &Tensor) -> bool {
    if t.dim() != 4 || t.is_contiguous() {
        return false;
    }
    let want = channels_last_strides(t.sizes());
    (0..4).all(|d| t.sizes()[d] < 2 || t.strides()[d] == want[d])
}

/// Checks the inputs of `cat` and returns the wrapped dim, the result sizes
/// and the tensors that take part (legacy empty ones skipped).
fn cat_shape<'a>(op: &str, tensors: &'a [Tensor], dim: i64) -> Result<(usize, DimVec, Vec<&'a Tensor>)> {
    if tensors.is_empty() {
        return Err(Error::invalid(op, "torch.cat(): expected a non-empty list of Tensors"));
    }
    if let Some(i) = tensors.iter().position(|t| t.dim() == 0) {
        return Err(Error::invalid(
            op,
            format!("zero-dimensional tensor (at position {i}) cannot be concatenated"),
        ));
    }
    let parts: Vec<&Tensor> = tensors.iter().filter(|t| !is_legacy_empty(t)).collect();
    let Some(first) = parts.first() else {
        return Ok((0, DimVec::from_slice(&[0]), parts));
    };
    let d = shape::wrap_dim(op, dim, first.dim())?;
    let mut sizes: DimVec = first.sizes().into();
    sizes[d] = 0;
    for (i, t) in tensors.iter().enumerate().filter(|(_, t)| !is_legacy_empty(t)) {
        if t.dim() != first.dim() {
            return Err(Error::shape(
                op,
                format!(
                    "Tensors must have same number of dimensions: got {} and {}",
                    first.dim(),
                    t.dim()
                ),
            ));
        }
        if let Some(k) = (0..t.dim()).find(|&k| k != d && t.sizes()[k] != first.sizes()[k]) {
            return Err(Error::shape(
                op,
                format!(
                    "Sizes of tensors must match except in dimension {d}. Expected size {} but got size {} for tensor number {i} in the list.",
                    first.sizes()[k],
                    t.sizes()[k]
                ),
            ));
        }
        sizes[d] += t.sizes()[d];
    }
    Ok((d, sizes, parts))
}

/// `aten::cat`: the tensors joined along `dim`, converted to their promoted
/// dtype. All inputs need the same number of dims and equal sizes apart from
/// `dim`, except 1-D empty tensors, which are skipped (PyTorch's legacy
/// rule; their dtype still takes part in the promotion). The result is
/// contiguous, or channels-last when every input is.
///
/// ```
/// use ft_kernels::join::cat;
/// use ft_runtime::{Tensor, DType};
/// let a = Tensor::from_vec(vec![1i32, 2], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![0.5f32, 1.5, 2.5, 3.5], &[2, 2]).unwrap();
/// let r = cat(&[a.clone(), b], 0).unwrap();
/// assert_eq!((r.sizes(), r.dtype()), (&[3usize, 2][..], DType::F32));
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 0.5, 1.5, 2.5, 3.5]);
/// let legacy = Tensor::from_vec(Vec::<i64>::new(), &[0]).unwrap();
/// assert_eq!(cat(&[legacy, a], 1).unwrap().sizes(), &[1, 2]);
/// ```
pub fn cat(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::cat";
    let (d, sizes, parts) = cat_shape(OP, tensors, dim)?;
    let dtype = tensors
        .iter()
        .map(|t| t.dtype())
        .reduce(promote_types)
        .expect("cat_shape rejects an empty list");
    let strides = if !parts.is_empty() && parts.iter().all(|t| is_channels_last(t)) {
        channels_last_strides(&sizes)
    } else {
        shape::contiguous_strides(&sizes)
    };
    let out = empty_strided(OP, &sizes, &strides, dtype)?;
    let mut start = 0usize;
    for t in parts {
        if t.numel() > 0 {
            let piece = out.as_view(t.sizes(), &strides, start * strides[d])?;
            cast_copy(&piece, t)?;
        }
        start += t.sizes()[d];
    }
    Ok(out)
}

/// `aten::split_with_sizes`: views of `self_` cut along `dim` into
/// consecutive pieces of the given (non-negative) sizes, which must add up
/// to `self_.size(dim)`.
///
/// ```
/// use ft_kernels::join::split_with_sizes;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..6).map(|v| v as f64).collect::<Vec<_>>(), &[3, 2]).unwrap();
/// let parts = split_with_sizes(&x, &[1, 2], 0).unwrap();
/// assert_eq!(parts[1].to_vec::<f64>().unwrap(), vec![2.0, 3.0, 4.0, 5.0]);
/// assert_eq!(parts[1].storage_offset(), 2);
/// assert!(split_with_sizes(&x, &[1, 1], 0).is_err());
/// ```
pub fn split_with_sizes(self_: &Tensor, split_sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    const OP: &str = "aten::split_with_sizes";
    if self_.dim() == 0 {
        return Err(Error::invalid(OP, "split expects at least a 1-dimensional tensor"));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim())?;
    let list = || {
        format!(
            "[{}]",
            split_sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        )
    };
    if split_sizes.iter().any(|&s| s < 0) {
        return Err(Error::invalid(
            OP,
            format!(
                "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={}",
                list()
            ),
        ));
    }
    let total = split_sizes.iter().try_fold(0u64, |acc, &s| acc.checked_add(s as u64));
    if total != Some(self_.sizes()[d] as u64) {
        return Err(Error::shape(
            OP,
            format!(
                "split_with_sizes expects split_sizes to sum exactly to {} (input tensor's size at dimension {d}), but got split_sizes={}",
                self_.sizes()[d],
                list()
            ),
        ));
    }
    let mut start = 0usize;
    let mut out = Vec::with_capacity(split_sizes.len());
    for &s in split_sizes {
        let mut sizes: DimVec = self_.sizes().into();
        sizes[d] = s as usize;
        let offset = self_.storage_offset() + start * self_.strides()[d];
        out.push(
            self_
                .as_view(&sizes, self_.strides(), offset)
                .map_err(|e| e.with_op(OP))?,
        );
        start += s as usize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::{DType, ErrorKind};

    #[test]
    fn cat_checks_shapes() {
        let a = Tensor::zeros_contiguous(&[2, 3], DType::F32);
        let b = Tensor::zeros_contiguous(&[2, 4], DType::F32);
        assert_eq!(
            cat(&[a.clone(), b.clone()], 0).unwrap_err().kind(),
            ErrorKind::ShapeMismatch
        );
        assert_eq!(cat(&[a.clone(), b], 1).unwrap().sizes(), &[2, 7]);
        assert_eq!(
            cat(std::slice::from_ref(&a), 2).unwrap_err().kind(),
            ErrorKind::DimOutOfRange
        );
        let s = Tensor::zeros_contiguous(&[], DType::F32);
        assert_eq!(cat(&[a, s], 0).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn cat_of_only_legacy_empties_is_empty() {
        let e = Tensor::zeros_contiguous(&[0], DType::I32);
        let f = Tensor::zeros_contiguous(&[0], DType::F16);
        let r = cat(&[e, f], 0).unwrap();
        assert_eq!((r.sizes(), r.dtype()), (&[0usize][..], DType::F16));
    }

    #[test]
    fn cat_keeps_channels_last() {
        let base = Tensor::zeros_contiguous(&[2, 4, 5, 3], DType::F32);
        let cl = base.as_view(&[2, 3, 4, 5], &[60, 1, 15, 3], 0).unwrap();
        assert_eq!(cat(&[cl.clone(), cl], 1).unwrap().strides(), &[120, 1, 30, 6]);
    }

    #[test]
    fn split_views_share_storage() {
        let x = Tensor::zeros_contiguous(&[2, 5], DType::F64);
        let parts = split_with_sizes(&x, &[2, 0, 3], -1).unwrap();
        assert_eq!(parts[2].sizes(), &[2, 3]);
        assert_eq!(parts[2].storage_offset(), 2);
        assert!(parts.iter().all(|p| p.storage().is_same(x.storage())));
    }
}
