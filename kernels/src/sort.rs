//! Ordering along one dim: `sort` and `topk`.
//!
//! Both walk the lanes along `dim` ([`for_each_lane`]) and order each lane
//! with one stable comparison in which NaN is larger than every number (so
//! ascending puts NaNs last, descending first) and `-0.0 == 0.0`.

use crate::iter::{cast_copy, empty_strided, preserve_strides};
use crate::lanes::{for_each_lane, nonempty_sizes, Dense};
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Tensor};
use std::cmp::Ordering;

/// PyTorch's sort order: NaN above every number, NaNs equal to each other.
///
/// ```
/// use ft_kernels::sort::nan_last_cmp;
/// use std::cmp::Ordering;
/// assert_eq!(nan_last_cmp(&f64::NAN, &1.0), Ordering::Greater);
/// assert_eq!(nan_last_cmp(&-0.0f32, &0.0), Ordering::Equal);
/// assert_eq!(nan_last_cmp(&false, &true), Ordering::Less);
/// ```
pub fn nan_last_cmp<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match (a.partial_cmp(a).is_none(), b.partial_cmp(b).is_none()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The stable order of `lane` (positions), ascending or descending.
fn lane_order<T: Element>(lane: &[T], descending: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lane.len()).collect();
    if descending {
        order.sort_by(|&i, &j| nan_last_cmp(&lane[j], &lane[i]));
    } else {
        order.sort_by(|&i, &j| nan_last_cmp(&lane[i], &lane[j]));
    }
    order
}

/// Orders every lane of `src` along `dim` and keeps the first `k` of each:
/// row-major values and int64 indices of shape `src.sizes` with `dim` set to `k`.
fn ordered_lanes<T: Element>(src: &Dense<T>, dim: usize, k: usize, descending: bool) -> (Vec<T>, Vec<i64>, DimVec) {
    let mut sizes = src.sizes.clone();
    sizes[dim] = k;
    let out_strides = shape::contiguous_strides(&sizes);
    let n = shape::numel(&sizes);
    let (mut values, mut indices) = (vec![T::default(); n], vec![0i64; n]);
    let (len, ss, os) = (src.sizes[dim], src.strides[dim], out_strides[dim]);
    let mut lane = Vec::with_capacity(len);
    for_each_lane(&src.sizes, dim, [&src.strides, &out_strides], |[sb, ob]| {
        lane.clear();
        lane.extend((0..len).map(|i| src.data[sb + i * ss]));
        for (r, &i) in lane_order(&lane, descending).iter().take(k).enumerate() {
            values[ob + r * os] = lane[i];
            indices[ob + r * os] = i as i64;
        }
    });
    (values, indices, sizes)
}

/// `values`/`indices` as tensors of `sizes` laid out with `strides`.
fn store(op: &str, values: Tensor, indices: Tensor, sizes: &[usize], strides: &[usize]) -> Result<(Tensor, Tensor)> {
    if strides == shape::contiguous_strides(sizes).as_slice() {
        return Ok((values, indices));
    }
    let v = empty_strided(op, sizes, strides, values.dtype())?;
    let i = empty_strided(op, sizes, strides, DType::I64)?;
    cast_copy(&v, &values)?;
    cast_copy(&i, &indices)?;
    Ok((v, i))
}

/// `aten::sort`: `(values, indices)` of `self_` sorted along `dim`, stably
/// (equal elements keep their order, also when `descending`); NaN sorts
/// above every number. Both results keep `self_`'s layout.
///
/// ```
/// use ft_kernels::sort::sort;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![2.0f32, f32::NAN, -1.0, 2.0], &[4]).unwrap();
/// let (v, i) = sort(&x, -1, true).unwrap();
/// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 0, 3, 2]);
/// assert!(v.to_vec::<f32>().unwrap()[0].is_nan());
/// ```
pub fn sort(self_: &Tensor, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::sort";
    let d = shape::wrap_dim(OP, dim, self_.dim().max(1))?;
    let (values, indices) = dispatch_dtype!(self_.dtype(), T => {
        let src = Dense::<T>::read(self_)?;
        let len = src.sizes[d];
        let (v, i, _) = ordered_lanes(&src, d, len, descending);
        (Tensor::from_vec(v, self_.sizes())?, Tensor::from_vec(i, self_.sizes())?)
    });
    store(OP, values, indices, self_.sizes(), &preserve_strides(self_))
}

/// `aten::topk`: `(values, indices)` of the `k` largest (or, with
/// `largest = false`, smallest) elements of each lane along `dim`, in order
/// (NaN counts as the largest value). Results are contiguous. Values always
/// come out ordered, also for `sorted = false` (PyTorch then leaves the
/// order unspecified); among equal values the earlier index comes first,
/// where PyTorch's selection algorithm may pick another of the ties.
///
/// ```
/// use ft_kernels::sort::topk;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1i32, 9, 4, 7], &[4]).unwrap();
/// let (v, i) = topk(&x, 2, -1, true, true).unwrap();
/// assert_eq!((v.to_vec::<i32>().unwrap(), i.to_vec::<i64>().unwrap()), (vec![9, 7], vec![1, 3]));
/// assert!(topk(&x, 5, 0, true, true).is_err());
/// ```
pub fn topk(self_: &Tensor, k: i64, dim: i64, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::topk";
    let _ = sorted;
    if self_.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "\"topk_cpu\" not implemented for 'Bool'"));
    }
    let d = shape::wrap_dim(OP, dim, self_.dim().max(1))?;
    let len = nonempty_sizes(self_.sizes())[d];
    if k < 0 || k as u64 > len as u64 {
        return Err(Error::index(OP, "selected index k out of range"));
    }
    let k = k as usize;
    if self_.dim() == 0 {
        // A scalar is its own single lane; PyTorch keeps the 0-dim shape even for k = 0.
        let copy = dispatch_dtype!(self_.dtype(), T => Tensor::from_vec(self_.to_vec::<T>()?, &[])?);
        return Ok((copy, Tensor::from_vec(vec![0i64], &[])?));
    }
    dispatch_dtype!(self_.dtype(), T => {
        let src = Dense::<T>::read(self_)?;
        let (v, i, sizes) = ordered_lanes(&src, d, k, largest);
        Ok((Tensor::from_vec(v, &sizes)?, Tensor::from_vec(i, &sizes)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_is_stable_both_ways() {
        let x = Tensor::from_vec(vec![1i64, 0, 1, 0], &[4]).unwrap();
        assert_eq!(sort(&x, 0, false).unwrap().1.to_vec::<i64>().unwrap(), vec![1, 3, 0, 2]);
        assert_eq!(sort(&x, 0, true).unwrap().1.to_vec::<i64>().unwrap(), vec![0, 2, 1, 3]);
    }

    #[test]
    fn sort_keeps_transposed_layout() {
        let x = Tensor::from_vec((0..6).map(|v| (5 - v) as f64).collect::<Vec<_>>(), &[2, 3]).unwrap();
        let t = x.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let (v, _) = sort(&t, 0, false).unwrap();
        assert_eq!(v.strides(), &[1, 3]);
        assert_eq!(v.to_vec::<f64>().unwrap(), vec![3., 0., 4., 1., 5., 2.]);
    }

    #[test]
    fn topk_smallest_along_dim0_and_scalar() {
        let x = Tensor::from_vec(vec![3.0f32, 1.0, 2.0, 0.0], &[2, 2]).unwrap();
        let (v, i) = topk(&x, 1, 0, false, true).unwrap();
        assert_eq!(
            (v.to_vec::<f32>().unwrap(), i.to_vec::<i64>().unwrap()),
            (vec![2.0, 0.0], vec![1, 1])
        );
        let s = Tensor::from_vec(vec![5.0f64], &[]).unwrap();
        assert_eq!(topk(&s, 0, 0, true, true).unwrap().0.sizes(), &[] as &[usize]);
    }
}
