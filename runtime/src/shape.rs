//! Pure layout math: contiguity, broadcasting, dim wrapping, view strides.
//! No tensors here, only sizes and strides, so every rule is unit-tested alone.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// Sizes or strides of a tensor, inline up to 6 dims.
pub type DimVec = SmallVec<[usize; 6]>;

/// A `DimVec` of `n` copies of `value` (without SmallVec's per-element extend).
///
/// ```
/// assert_eq!(ft_runtime::shape::filled(7, 3).as_slice(), &[7, 7, 7]);
/// ```
pub fn filled(value: usize, n: usize) -> DimVec {
    if n <= 6 {
        DimVec::from_buf_and_len([value; 6], n)
    } else {
        DimVec::from_vec(vec![value; n])
    }
}

/// Row-major strides for `sizes` (size-0 and size-1 dims follow PyTorch:
/// a dim's stride is the product of the later sizes, each at least 1).
///
/// ```
/// use ft_runtime::shape::contiguous_strides;
/// assert_eq!(contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
/// assert_eq!(contiguous_strides(&[2, 0, 4]).as_slice(), &[4, 4, 1]);
/// ```
pub fn contiguous_strides(sizes: &[usize]) -> DimVec {
    let mut strides: DimVec = filled(1, sizes.len());
    let mut acc = 1usize;
    for i in (0..sizes.len()).rev() {
        strides[i] = acc;
        acc *= sizes[i].max(1);
    }
    strides
}

/// PyTorch's `is_contiguous`: strides of dims with size != 1 match row-major;
/// tensors with no elements are contiguous.
///
/// ```
/// use ft_runtime::shape::is_contiguous;
/// assert!(is_contiguous(&[2, 1, 3], &[3, 99, 1]));
/// assert!(!is_contiguous(&[2, 3], &[1, 2]));
/// ```
pub fn is_contiguous(sizes: &[usize], strides: &[usize]) -> bool {
    if sizes.contains(&0) {
        return true;
    }
    let mut expected = 1usize;
    for i in (0..sizes.len()).rev() {
        if sizes[i] != 1 {
            if strides[i] != expected {
                return false;
            }
            expected *= sizes[i];
        }
    }
    true
}

/// Product of sizes (1 for a 0-dim tensor).
pub fn numel(sizes: &[usize]) -> usize {
    sizes.iter().product()
}

/// Wraps a possibly negative `dim` into `0..ndim` (a 0-dim tensor accepts -1 and 0).
///
/// ```
/// use ft_runtime::shape::wrap_dim;
/// assert_eq!(wrap_dim("op", -1, 3).unwrap(), 2);
/// assert_eq!(wrap_dim("op", 0, 0).unwrap(), 0);
/// assert!(wrap_dim("op", 3, 3).is_err());
/// ```
pub fn wrap_dim(op: &str, dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        return Err(Error::dim_out_of_range(op, dim, ndim));
    }
    Ok(if dim < 0 { (dim + n) as usize } else { dim as usize })
}

/// Wraps a list of dims and rejects repeats (`dim 1 appears multiple times in the list of dims`).
pub fn wrap_dims(op: &str, dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let w = wrap_dim(op, d, ndim)?;
        if out.contains(&w) {
            return Err(Error::invalid(
                op,
                format!("dim {w} appears multiple times in the list of dims"),
            ));
        }
        out.push(w);
    }
    Ok(out)
}

/// Broadcasts two shapes by NumPy/PyTorch rules.
///
/// ```
/// use ft_runtime::shape::broadcast_shapes;
/// assert_eq!(broadcast_shapes("op", &[3, 1], &[4]).unwrap().as_slice(), &[3, 4]);
/// assert!(broadcast_shapes("op", &[3], &[4]).is_err());
/// ```
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Result<DimVec> {
    let n = a.len().max(b.len());
    let mut out: DimVec = filled(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(
                op,
                format!(
                    "The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i}"
                ),
            ));
        };
    }
    Ok(out)
}

/// Strides that make a tensor of `sizes`/`strides` appear with shape `target`
/// (broadcast dims get stride 0), or PyTorch's expand error.
///
/// ```
/// use ft_runtime::shape::expand_strides;
/// assert_eq!(expand_strides("op", &[3, 1], &[1, 1], &[2, 3, 4]).unwrap().as_slice(), &[0, 1, 0]);
/// ```
pub fn expand_strides(op: &str, sizes: &[usize], strides: &[usize], target: &[usize]) -> Result<DimVec> {
    if target.len() < sizes.len() {
        return Err(Error::shape(
            op,
            format!(
                "the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                target.len(),
                sizes.len()
            ),
        ));
    }
    let lead = target.len() - sizes.len();
    let mut out: DimVec = filled(0, target.len());
    for i in 0..target.len() {
        if i < lead {
            continue;
        }
        let (s, st) = (sizes[i - lead], strides[i - lead]);
        out[i] = if s == target[i] {
            st
        } else if s == 1 {
            0
        } else {
            return Err(Error::shape(
                op,
                format!(
                    "The expanded size of the tensor ({}) must match the existing size ({s}) at non-singleton dimension {i}.  Target sizes: {:?}.  Tensor sizes: {:?}",
                    target[i], target, sizes
                ),
            ));
        };
    }
    Ok(out)
}

/// Resolves a view/reshape size list with at most one `-1` against `numel`.
///
/// ```
/// use ft_runtime::shape::infer_size;
/// assert_eq!(infer_size("op", &[-1, 4], 12).unwrap().as_slice(), &[3, 4]);
/// assert!(infer_size("op", &[5], 4).is_err());
/// ```
pub fn infer_size(op: &str, shape: &[i64], numel: usize) -> Result<DimVec> {
    let mut out: DimVec = SmallVec::with_capacity(shape.len());
    let mut infer_at = None;
    let mut known = 1usize;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer_at.is_some() {
                return Err(Error::invalid(op, "only one dimension can be inferred"));
            }
            infer_at = Some(i);
            out.push(1);
        } else if s < 0 {
            return Err(Error::invalid(op, format!("invalid shape dimension {s}")));
        } else {
            known *= s as usize;
            out.push(s as usize);
        }
    }
    let bad = || {
        Error::shape(
            op,
            format!("shape '{}' is invalid for input of size {numel}", fmt_i64s(shape)),
        )
    };
    match infer_at {
        Some(i) => {
            if known == 0 || !numel.is_multiple_of(known) {
                return Err(bad());
            }
            out[i] = numel / known;
        }
        None if known != numel => return Err(bad()),
        None => {}
    }
    Ok(out)
}

/// Strides for viewing (`old_sizes`, `old_strides`) as `new_sizes` without a
/// copy, or `None` when impossible (PyTorch's `computeStride`).
///
/// ```
/// use ft_runtime::shape::view_strides;
/// assert_eq!(view_strides(&[2, 6], &[6, 1], &[3, 4]).unwrap().as_slice(), &[4, 1]);
/// assert!(view_strides(&[3, 2], &[1, 3], &[6]).is_none()); // transposed: needs a copy
/// ```
pub fn view_strides(old_sizes: &[usize], old_strides: &[usize], new_sizes: &[usize]) -> Option<DimVec> {
    let numel: usize = old_sizes.iter().product();
    if numel == 0 {
        return if old_sizes == new_sizes {
            Some(old_strides.iter().copied().collect())
        } else {
            Some(contiguous_strides(new_sizes))
        };
    }
    let mut new_strides: DimVec = filled(0, new_sizes.len());
    if old_sizes.is_empty() {
        return Some(filled(1, new_sizes.len()));
    }
    // Walk old dims from the back, grouping dims that are contiguous with each other
    // into chunks; each chunk must be covered exactly by a run of new dims.
    let mut view_d = new_sizes.len() as isize - 1;
    let mut chunk_base_stride = *old_strides.last().unwrap();
    let mut tensor_numel = 1usize;
    let mut view_numel = 1usize;
    for tensor_d in (0..old_sizes.len()).rev() {
        tensor_numel *= old_sizes[tensor_d];
        let chunk_ends = tensor_d == 0
            || (old_sizes[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
        if chunk_ends {
            while view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d as usize] == 1) {
                new_strides[view_d as usize] = view_numel * chunk_base_stride;
                view_numel *= new_sizes[view_d as usize];
                view_d -= 1;
            }
            if view_numel != tensor_numel {
                return None;
            }
            if tensor_d > 0 {
                chunk_base_stride = old_strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    if view_d != -1 {
        return None;
    }
    Some(new_strides)
}

/// Formats sizes as PyTorch does in messages: `[2, 3]`.
pub fn fmt_sizes(sizes: &[usize]) -> String {
    let parts: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn fmt_i64s(v: &[i64]) -> String {
    let parts: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_of_size_one_dims() {
        assert_eq!(
            view_strides(&[1, 4], &[4, 1], &[4, 1, 1]).unwrap().as_slice(),
            &[1, 1, 1]
        );
        assert_eq!(view_strides(&[], &[], &[1, 1]).unwrap().as_slice(), &[1, 1]);
    }

    #[test]
    fn view_of_sliced_rows() {
        // rows of a [4, 6] taken every other row: [2, 6] with strides [12, 1]
        assert_eq!(
            view_strides(&[2, 6], &[12, 1], &[2, 2, 3]).unwrap().as_slice(),
            &[12, 3, 1]
        );
        assert!(view_strides(&[2, 6], &[12, 1], &[12]).is_none());
    }

    #[test]
    fn broadcast_with_zero() {
        assert_eq!(broadcast_shapes("op", &[0, 1], &[1, 3]).unwrap().as_slice(), &[0, 3]);
        assert_eq!(broadcast_shapes("op", &[], &[2]).unwrap().as_slice(), &[2]);
    }
}
