//! "Every dim but one": the one iteration shared by the indexing, scatter,
//! sort and selection kernels.
//!
//! These kernels work on row-major element buffers ([`Dense`]) read out of
//! their (possibly strided) inputs once, and address them with explicit
//! strides. [`for_each_offsets`] walks a shape and hands out the offset of
//! each position in several operands at once; [`for_each_lane`] walks every
//! position of all dims but one (a "lane" along `dim`), which is what
//! `index_select`, `gather`, `scatter*` and `sort` loop over.

use ft_runtime::shape::{self, DimVec};
use ft_runtime::{Element, Error, Result, Tensor};

/// A tensor's elements in row-major order together with its sizes and the
/// contiguous strides that address `data`.
///
/// A 0-dim tensor is read as one dim of size 1 (PyTorch's
/// `ensure_nonempty_dim` for indexing along a dim).
///
/// ```
/// use ft_kernels::lanes::Dense;
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
/// let d = Dense::<i32>::read(&t).unwrap();
/// assert_eq!(d.strides.as_slice(), &[3, 1]);
/// assert_eq!(Dense::<i32>::read(&Tensor::from_vec(vec![7i32], &[]).unwrap()).unwrap().sizes.as_slice(), &[1]);
/// ```
pub struct Dense<T> {
    /// The elements, row-major.
    pub data: Vec<T>,
    /// Sizes (at least one dim).
    pub sizes: DimVec,
    /// Contiguous strides of `sizes`.
    pub strides: DimVec,
}

impl<T: Element> Dense<T> {
    /// Reads `t` (any layout) into a row-major buffer; `T` must match its dtype.
    pub fn read(t: &Tensor) -> Result<Dense<T>> {
        Ok(Dense::from_vec(t.to_vec::<T>()?, &nonempty_sizes(t.sizes())))
    }

    /// Wraps row-major `data` of shape `sizes` (0-dim read as `[1]`).
    pub fn from_vec(data: Vec<T>, sizes: &[usize]) -> Dense<T> {
        let sizes = nonempty_sizes(sizes);
        let strides = shape::contiguous_strides(&sizes);
        Dense { data, sizes, strides }
    }

    /// A contiguous tensor of shape `sizes` holding the buffer.
    pub fn into_tensor(self, sizes: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(self.data, sizes)
    }
}

/// `sizes`, or `[1]` for a 0-dim shape.
///
/// ```
/// use ft_kernels::lanes::nonempty_sizes;
/// assert_eq!(nonempty_sizes(&[]).as_slice(), &[1]);
/// assert_eq!(nonempty_sizes(&[2, 0]).as_slice(), &[2, 0]);
/// ```
pub fn nonempty_sizes(sizes: &[usize]) -> DimVec {
    if sizes.is_empty() {
        DimVec::from_slice(&[1])
    } else {
        DimVec::from_slice(sizes)
    }
}

/// Calls `f(offsets)` for every position of `shape` in row-major order, where
/// `offsets[k]` is the position's offset under `strides[k]` (each as long as
/// `shape`). Nothing is called for an empty shape; a 0-dim shape is one position.
///
/// ```
/// use ft_kernels::lanes::for_each_offsets;
/// let mut seen = vec![];
/// // a 2x2 walk over a row-major and a transposed operand
/// for_each_offsets(&[2, 2], [&[2, 1], &[1, 2]], |[a, b]| seen.push((a, b)));
/// assert_eq!(seen, vec![(0, 0), (1, 2), (2, 1), (3, 3)]);
/// ```
pub fn for_each_offsets<const N: usize>(shape: &[usize], strides: [&[usize]; N], mut f: impl FnMut([usize; N])) {
    if shape.contains(&0) {
        return;
    }
    let nd = shape.len();
    let mut idx: DimVec = shape::filled(0, nd);
    let mut off = [0usize; N];
    loop {
        f(off);
        let mut d = nd;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            for k in 0..N {
                off[k] += strides[k][d];
            }
            if idx[d] < shape[d] {
                break;
            }
            for k in 0..N {
                off[k] -= strides[k][d] * shape[d];
            }
            idx[d] = 0;
        }
    }
}

/// Calls `f(bases)` once per lane of `shape` along `dim`: for every position
/// of the other dims (row-major), `bases[k]` is the offset of the lane's
/// first element in operand `k` (strides as in [`for_each_offsets`]). Lanes
/// are visited even when `shape[dim]` is 0; none when another dim is 0.
///
/// ```
/// use ft_kernels::lanes::for_each_lane;
/// let mut rows = vec![];
/// // lanes along dim 1 of a 2x3 row-major buffer start at 0 and 3
/// for_each_lane(&[2, 3], 1, [&[3, 1]], |[base]| rows.push(base));
/// assert_eq!(rows, vec![0, 3]);
/// let mut cols = vec![];
/// for_each_lane(&[2, 3], 0, [&[3, 1]], |[base]| cols.push(base));
/// assert_eq!(cols, vec![0, 1, 2]);
/// ```
pub fn for_each_lane<const N: usize>(shape: &[usize], dim: usize, strides: [&[usize]; N], f: impl FnMut([usize; N])) {
    let others = |v: &[usize]| -> DimVec {
        v.iter()
            .enumerate()
            .filter(|&(d, _)| d != dim)
            .map(|(_, &x)| x)
            .collect()
    };
    let outer_shape = others(shape);
    let outer: [DimVec; N] = std::array::from_fn(|k| others(strides[k]));
    let refs: [&[usize]; N] = std::array::from_fn(|k| outer[k].as_slice());
    for_each_offsets(&outer_shape, refs, f);
}

/// Reads an index tensor (int64 or int32) as `i64` values in row-major order;
/// any other dtype is a [`ErrorKind::DType`](ft_runtime::ErrorKind) error with `message`.
///
/// ```
/// use ft_kernels::lanes::index_values;
/// use ft_runtime::Tensor;
/// let i = Tensor::from_vec(vec![2i32, -1], &[2]).unwrap();
/// assert_eq!(index_values("op", &i, "bad").unwrap(), vec![2, -1]);
/// assert!(index_values("op", &Tensor::from_vec(vec![1.0f32], &[1]).unwrap(), "bad").is_err());
/// ```
pub fn index_values(op: &str, index: &Tensor, message: &str) -> Result<Vec<i64>> {
    match index.dtype() {
        ft_runtime::DType::I64 => index.to_vec::<i64>(),
        ft_runtime::DType::I32 => Ok(index.to_vec::<i32>()?.into_iter().map(i64::from).collect()),
        _ => Err(Error::dtype(op, message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_on_zero_dim_and_empty() {
        let mut n = 0;
        for_each_offsets(&[], [&[]], |_| n += 1);
        assert_eq!(n, 1);
        for_each_offsets(&[2, 0], [&[0, 1]], |_| n += 1);
        assert_eq!(n, 1);
    }

    #[test]
    fn lanes_with_empty_lane_dim_still_visit() {
        let mut n = 0;
        for_each_lane(&[3, 0], 1, [&[0, 1]], |_| n += 1);
        assert_eq!(n, 3);
        for_each_lane(&[0, 4], 1, [&[4, 1]], |_| n += 1);
        assert_eq!(n, 3);
    }

    #[test]
    fn lanes_of_3d_middle_dim() {
        let mut bases = vec![];
        for_each_lane(&[2, 3, 2], 1, [&[6, 2, 1], &[1, 2, 6]], |b| bases.push(b));
        assert_eq!(bases, vec![[0, 0], [1, 6], [6, 1], [7, 7]]);
    }
}
