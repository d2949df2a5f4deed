//! Advanced (NumPy-style) indexing: `index.Tensor`, `index_put`, plus
//! `masked_scatter` and `nonzero`.
//!
//! `index.Tensor(self, indices)` takes one optional index tensor per leading
//! dim of `self`:
//!
//! - `None` keeps the dim (a full slice).
//! - An int64/int32 tensor picks positions along its dim (negative values
//!   count from the end).
//! - A bool/uint8 mask of `k` dims stands for the `k` int64 index tensors of
//!   its `nonzero()` positions and consumes `k` dims, whose sizes it must match.
//!
//! The index tensors broadcast together to one shape `B`. If the indexed dims
//! are adjacent, `B` replaces them in place; if a `None` separates them,
//! `B` goes first and the remaining dims follow in order (PyTorch's rule, see
//! [`index_layout`]). Every result element is
//! `self[.., i_1[b], .., i_k[b], ..]` for its position `b` in `B`.

use crate::iter::{cast_copy, empty_strided, layout_perm, preserve_strides, OpMath};
use crate::lanes::for_each_offsets;
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Tensor};

/// Where the dims of an advanced-indexing result come from.
///
/// ```
/// use ft_kernels::advanced::index_layout;
/// // x[:, i, j] with i, j of shape [5] on a [2, 3, 4] tensor: adjacent, in place
/// let l = index_layout("op", &[2, 3, 4], &[None, Some(&[5][..]), Some(&[5][..])]).unwrap();
/// assert_eq!((l.result_sizes.as_slice(), l.first), (&[2, 5][..], 1));
/// // x[i, :, j]: separated by a slice, the index dims go first
/// let l = index_layout("op", &[2, 3, 4], &[Some(&[5][..]), None, Some(&[1, 5][..])]).unwrap();
/// assert_eq!((l.result_sizes.as_slice(), l.first), (&[1, 5, 3][..], 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLayout {
    /// Sizes of the result.
    pub result_sizes: DimVec,
    /// The broadcast shape `B` of the index tensors.
    pub index_sizes: DimVec,
    /// The result dim where `B`'s dims start.
    pub first: usize,
    /// The dims of `self` that are indexed, in order.
    pub indexed: Vec<usize>,
    /// The dims of `self` that are kept, in order (they fill the result
    /// around `B`).
    pub kept: Vec<usize>,
}

/// Computes [`IndexLayout`] for a tensor of `self_sizes` indexed by tensors
/// of the given shapes (one entry per leading dim, after expanding masks
/// into their `nonzero` index tensors; `None` keeps the dim). Fails when
/// there are more entries than dims, no index tensor at all, or shapes that
/// do not broadcast.
pub fn index_layout(op: &str, self_sizes: &[usize], index_sizes: &[Option<&[usize]>]) -> Result<IndexLayout> {
    if index_sizes.len() > self_sizes.len() {
        return Err(too_many(op, self_sizes.len(), index_sizes.len()));
    }
    let indexed: Vec<usize> = (0..index_sizes.len()).filter(|&d| index_sizes[d].is_some()).collect();
    let Some((&lo, &hi)) = indexed.first().zip(indexed.last()) else {
        return Err(Error::invalid(op, "at least one index must be provided"));
    };
    let mut b: DimVec = DimVec::new();
    for s in index_sizes.iter().flatten() {
        b = shape::broadcast_shapes(op, &b, s).map_err(|_| {
            let all: Vec<String> = index_sizes.iter().flatten().map(|s| shape::fmt_sizes(s)).collect();
            Error::shape(
                op,
                format!(
                    "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
                    all.join(", ")
                ),
            )
        })?;
    }
    let kept: Vec<usize> = (0..self_sizes.len()).filter(|d| !indexed.contains(d)).collect();
    let adjacent = hi - lo + 1 == indexed.len();
    let first = if adjacent { lo } else { 0 };
    let mut result_sizes: DimVec = kept.iter().map(|&d| self_sizes[d]).collect();
    result_sizes.insert_many(first, b.iter().copied());
    Ok(IndexLayout {
        result_sizes,
        index_sizes: b,
        first,
        indexed,
        kept,
    })
}

fn too_many(op: &str, ndim: usize, got: usize) -> Error {
    Error::index(
        op,
        format!("too many indices for tensor of dimension {ndim} (got {got})"),
    )
}

/// The indices of an advanced-indexing call, resolved against one tensor:
/// masks expanded, shapes laid out, every value bounds-checked and wrapped.
struct Resolved {
    layout: IndexLayout,
    /// For each position of `B` (row-major), the offset it selects in a
    /// row-major buffer of `self` (sum over indexed dims of index × stride).
    offsets: Vec<usize>,
    /// Per result dim, the row-major stride in `self` (kept dims) or 0.
    self_strides: DimVec,
    /// Per result dim, the row-major stride in `B` (index dims) or 0.
    b_strides: DimVec,
    /// Per result dim, the strides PyTorch's iterator sees in `self` (kept
    /// dims) and in the index tensors (index dims), which decide the result layout.
    layout_strides: Vec<DimVec>,
}

/// One index entry after mask expansion: values (row-major), sizes and the
/// strides PyTorch's iterator sees for it.
struct IndexTensor {
    values: Vec<i64>,
    sizes: DimVec,
    strides: DimVec,
}

/// Expands masks into `nonzero` index vectors and checks index dtypes.
fn expand_masks(op: &str, self_: &Tensor, indices: &[Option<Tensor>]) -> Result<Vec<Option<IndexTensor>>> {
    let ndim = self_.dim();
    let mut out: Vec<Option<IndexTensor>> = Vec::new();
    for t in indices {
        let Some(t) = t else {
            out.push(None);
            continue;
        };
        match t.dtype() {
            DType::I64 | DType::I32 => out.push(Some(IndexTensor {
                values: crate::lanes::index_values(op, t, "")?,
                sizes: t.sizes().into(),
                strides: t.strides().into(),
            })),
            DType::Bool | DType::U8 => {
                let start = out.len();
                if t.dim() == 0 {
                    return Err(Error::invalid(
                        op,
                        "a 0-dim boolean mask cannot index here; unsqueeze it first",
                    ));
                }
                if start + t.dim() > ndim {
                    return Err(too_many(op, ndim, start + t.dim()));
                }
                for (j, &s) in t.sizes().iter().enumerate() {
                    if s != self_.sizes()[start + j] {
                        return Err(Error::index(
                            op,
                            format!(
                                "The shape of the mask {} at index {j} does not match the shape of the indexed tensor {} at index {}",
                                shape::fmt_sizes(t.sizes()),
                                shape::fmt_sizes(self_.sizes()),
                                start + j
                            ),
                        ));
                    }
                }
                let coords = nonzero_coords(t)?;
                let n = coords.len() / t.dim().max(1);
                for j in 0..t.dim() {
                    let values: Vec<i64> = (0..n).map(|r| coords[r * t.dim() + j]).collect();
                    out.push(Some(IndexTensor {
                        values,
                        sizes: DimVec::from_slice(&[n]),
                        strides: DimVec::from_slice(&[t.dim()]),
                    }));
                }
            }
            _ => {
                return Err(Error::dtype(
                    op,
                    "tensors used as indices must be long, int, byte or bool tensors",
                ));
            }
        }
    }
    if out.len() > ndim {
        return Err(too_many(op, ndim, out.len()));
    }
    Ok(out)
}

/// Resolves `indices` against `self_` (see [`Resolved`]).
fn resolve(op: &str, self_: &Tensor, indices: &[Option<Tensor>]) -> Result<Resolved> {
    let entries = expand_masks(op, self_, indices)?;
    let shapes: Vec<Option<&[usize]>> = entries.iter().map(|e| e.as_ref().map(|e| e.sizes.as_slice())).collect();
    let layout = index_layout(op, self_.sizes(), &shapes)?;
    let sizes = self_.sizes();
    let dense = shape::contiguous_strides(sizes);
    let b = &layout.index_sizes;
    let nb = shape::numel(b);
    let mut offsets = vec![0usize; nb];
    for &d in &layout.indexed {
        let e = entries[d].as_ref().expect("indexed dims have an index");
        let st = shape::expand_strides(op, &e.sizes, &shape::contiguous_strides(&e.sizes), b)?;
        let mut k = 0;
        let mut status = Ok(());
        for_each_offsets(b, [&st], |[o]| {
            let v = e.values[o];
            let n = sizes[d] as i64;
            if v < -n || v >= n {
                status = Err(if n == 0 {
                    Error::index(op, "index is out of bounds for dimension with size 0")
                } else {
                    Error::index(
                        op,
                        format!("index {v} is out of bounds for dimension {d} with size {n}"),
                    )
                });
            } else {
                offsets[k] += (if v < 0 { v + n } else { v }) as usize * dense[d];
            }
            k += 1;
        });
        status?;
    }
    let nr = layout.result_sizes.len();
    let nbd = b.len();
    let b_dense = shape::contiguous_strides(b);
    let mut self_strides: DimVec = shape::filled(0, nr);
    let mut b_strides: DimVec = shape::filled(0, nr);
    let mut self_layout: DimVec = shape::filled(0, nr);
    let mut kept = layout.kept.iter();
    for r in 0..nr {
        if r >= layout.first && r < layout.first + nbd {
            b_strides[r] = b_dense[r - layout.first];
        } else {
            let &d = kept.next().expect("one kept dim per remaining result dim");
            self_strides[r] = dense[d];
            self_layout[r] = self_.strides()[d];
        }
    }
    let mut layout_strides = vec![self_layout];
    for &d in &layout.indexed {
        let e = entries[d].as_ref().expect("indexed dims have an index");
        let st = shape::expand_strides(op, &e.sizes, &e.strides, b)?;
        let mut full: DimVec = shape::filled(0, nr);
        full[layout.first..layout.first + nbd].copy_from_slice(&st);
        layout_strides.push(full);
    }
    Ok(Resolved {
        layout,
        offsets,
        self_strides,
        b_strides,
        layout_strides,
    })
}

/// Dense strides for the result in the dim order PyTorch's iterator picks.
fn result_strides(sizes: &[usize], operands: &[DimVec]) -> DimVec {
    let refs: Vec<&[usize]> = operands.iter().map(|s| s.as_slice()).collect();
    let perm = layout_perm(sizes, &refs);
    let mut out: DimVec = shape::filled(0, sizes.len());
    let mut next = 1usize;
    for &d in &perm {
        out[d] = next;
        next = next.saturating_mul(sizes[d]);
    }
    out
}

/// `aten::index.Tensor`: advanced indexing (see the module docs). The result
/// is a new tensor laid out as PyTorch lays it out.
///
/// ```
/// use ft_kernels::advanced::index;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..6).map(|v| v as f32).collect::<Vec<_>>(), &[2, 3]).unwrap();
/// let cols = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let r = index(&x, &[None, Some(cols)]).unwrap(); // x[:, [2, 0]]
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![2.0, 0.0, 5.0, 3.0]);
/// let mask = Tensor::from_vec(vec![false, true], &[2]).unwrap();
/// assert_eq!(index(&x, &[Some(mask)]).unwrap().sizes(), &[1, 3]); // x[mask]
/// ```
pub fn index(self_: &Tensor, indices: &[Option<Tensor>]) -> Result<Tensor> {
    const OP: &str = "aten::index.Tensor";
    let r = resolve(OP, self_, indices)?;
    let sizes = r.layout.result_sizes.clone();
    let out_dense = shape::contiguous_strides(&sizes);
    let flat = dispatch_dtype!(self_.dtype(), T => {
        let src = self_.to_vec::<T>()?;
        let mut out = vec![T::default(); shape::numel(&sizes)];
        for_each_offsets(&sizes, [&r.self_strides, &r.b_strides, &out_dense], |[s, b, o]| {
            out[o] = src[s + r.offsets[b]];
        });
        Tensor::from_vec(out, &sizes)?
    });
    let strides = result_strides(&sizes, &r.layout_strides);
    if strides == out_dense {
        return Ok(flat);
    }
    let out = empty_strided(OP, &sizes, &strides, self_.dtype())?;
    cast_copy(&out, &flat)?;
    Ok(out)
}

/// `aten::index_put`: a copy of `self_` (same layout) with `values`
/// (broadcast to the shape `self_[indices]` has) written at the indexed
/// positions, or added to them when `accumulate`. `values` must have
/// `self_`'s dtype. Without `accumulate`, of duplicate positions the last
/// (row-major) write wins.
///
/// ```
/// use ft_kernels::advanced::index_put;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64; 3], &[3]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 0, 2], &[3]).unwrap();
/// let v = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let r = index_put(&x, &[Some(i.clone())], &v, true).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 0.0, 1.0]);
/// assert_eq!(index_put(&x, &[Some(i)], &v, false).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 0.0, 1.0]);
/// ```
pub fn index_put(self_: &Tensor, indices: &[Option<Tensor>], values: &Tensor, accumulate: bool) -> Result<Tensor> {
    const OP: &str = "aten::index_put";
    if values.dtype() != self_.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "Index put requires the source and destination dtypes match, got {} for the destination and {} for the source.",
                self_.dtype().scalar_type_name(),
                values.dtype().scalar_type_name()
            ),
        ));
    }
    let r = resolve(OP, self_, indices)?;
    let sizes = &r.layout.result_sizes;
    let v_strides = shape::expand_strides(OP, values.sizes(), &shape::contiguous_strides(values.sizes()), sizes)
        .map_err(|_| {
            Error::shape(
                OP,
                format!(
                    "shape mismatch: value tensor of shape {} cannot be broadcast to indexing result of shape {}",
                    shape::fmt_sizes(values.sizes()),
                    shape::fmt_sizes(sizes)
                ),
            )
        })?;
    let flat = dispatch_dtype!(self_.dtype(), T => {
        let mut dst = self_.to_vec::<T>()?;
        let vals = values.to_vec::<T>()?;
        put_typed(&mut dst, &vals, &r, &v_strides, accumulate);
        Tensor::from_vec(dst, self_.sizes())?
    });
    let out = empty_strided(OP, self_.sizes(), &preserve_strides(self_), self_.dtype())?;
    cast_copy(&out, &flat)?;
    Ok(out)
}

/// The typed write (or accumulation, rounding each step) of `index_put`.
fn put_typed<T: OpMath>(dst: &mut [T], vals: &[T], r: &Resolved, v_strides: &[usize], accumulate: bool) {
    use crate::iter::Arith;
    for_each_offsets(
        &r.layout.result_sizes,
        [&r.self_strides, &r.b_strides, v_strides],
        |[s, b, v]| {
            let t = s + r.offsets[b];
            dst[t] = if accumulate {
                T::narrow(dst[t].widen().add(vals[v].widen()))
            } else {
                vals[v]
            };
        },
    );
}

/// Row-major coordinates of the non-zero elements of `t` (`t.dim()` per element).
fn nonzero_coords(t: &Tensor) -> Result<Vec<i64>> {
    let nd = t.dim();
    let flags: Vec<bool> = dispatch_dtype!(t.dtype(), T => t.to_vec::<T>()?.into_iter().map(|v| v.to_bool()).collect());
    let mut coords = Vec::new();
    let strides = shape::contiguous_strides(t.sizes());
    for (j, _) in flags.iter().enumerate().filter(|(_, &f)| f) {
        let mut rem = j;
        for d in 0..nd {
            coords.push((rem / strides[d]) as i64);
            rem %= strides[d];
        }
    }
    Ok(coords)
}

/// `aten::nonzero`: the int64 coordinates of the non-zero elements of
/// `self_` in row-major order, one row of `self_.dim()` values per element
/// (NaN counts as non-zero).
///
/// ```
/// use ft_kernels::advanced::nonzero;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0i32, 3, 5, 0], &[2, 2]).unwrap();
/// let r = nonzero(&x).unwrap();
/// assert_eq!((r.sizes(), r.strides()), (&[2usize, 2][..], &[1usize, 2][..]));
/// assert_eq!(r.to_vec::<i64>().unwrap(), vec![0, 1, 1, 0]);
/// ```
pub fn nonzero(self_: &Tensor) -> Result<Tensor> {
    let nd = self_.dim();
    let coords = nonzero_coords(self_)?;
    let n = match coords.len().checked_div(nd) {
        Some(n) => n,
        None => usize::from(dispatch_dtype!(self_.dtype(), T => self_.to_vec::<T>()?[0].to_bool())),
    };
    // PyTorch's CPU kernel fills the result column by column: strides [1, n].
    let mut by_dim = Vec::with_capacity(coords.len());
    for d in 0..nd {
        by_dim.extend((0..n).map(|r| coords[r * nd + d]));
    }
    let columns = Tensor::from_vec(by_dim, &[nd, n])?;
    Tensor::from_storage(columns.storage().clone(), &[n, nd], &[1, n], 0, DType::I64)
}

/// `aten::masked_scatter`: `self_` broadcast with the bool `mask`, where the
/// positions with `mask` true take the elements of `source` in row-major
/// order (`source` has `self_`'s dtype and at least as many elements as
/// `mask` has true values). The result is contiguous.
///
/// ```
/// use ft_kernels::advanced::masked_scatter;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f32; 4], &[4]).unwrap();
/// let m = Tensor::from_vec(vec![false, true, false, true], &[4]).unwrap();
/// let s = Tensor::from_vec(vec![7.0f32, 8.0, 9.0], &[3]).unwrap();
/// assert_eq!(masked_scatter(&x, &m, &s).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 7.0, 0.0, 8.0]);
/// ```
pub fn masked_scatter(self_: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::masked_scatter";
    if mask.dtype() != DType::Bool {
        return Err(Error::dtype(
            OP,
            format!(
                "masked_scatter_ only supports boolean masks, but got mask with dtype {}",
                mask.dtype().name()
            ),
        ));
    }
    if source.dtype() != self_.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "masked_scatter: expected self and source to have same dtypes but got {} and {}",
                self_.dtype().scalar_type_name(),
                source.dtype().scalar_type_name()
            ),
        ));
    }
    let sizes = shape::broadcast_shapes(OP, self_.sizes(), mask.sizes())?;
    let dense = |t: &Tensor| shape::expand_strides(OP, t.sizes(), &shape::contiguous_strides(t.sizes()), &sizes);
    let (self_st, mask_st) = (dense(self_)?, dense(mask)?);
    let flags = mask.to_vec::<bool>()?;
    let out_dense = shape::contiguous_strides(&sizes);
    dispatch_dtype!(self_.dtype(), T => {
        let base = self_.to_vec::<T>()?;
        let src = source.to_vec::<T>()?;
        let mut out = vec![T::default(); shape::numel(&sizes)];
        let mut next = 0usize;
        for_each_offsets(&sizes, [&self_st, &mask_st, &out_dense], |[s, m, o]| {
            out[o] = if flags[m] {
                next += 1;
                src.get(next - 1).copied().unwrap_or_default()
            } else {
                base[s]
            };
        });
        if next > src.len() {
            return Err(Error::shape(OP, "Number of elements of source < number of ones in mask"));
        }
        Tensor::from_vec(out, &sizes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn arange(n: usize, sizes: &[usize]) -> Tensor {
        Tensor::from_vec((0..n).map(|v| v as f64).collect::<Vec<_>>(), sizes).unwrap()
    }
    fn idx(v: &[i64], s: &[usize]) -> Option<Tensor> {
        Some(Tensor::from_vec(v.to_vec(), s).unwrap())
    }

    #[test]
    fn separated_indices_go_first() {
        let x = arange(24, &[2, 3, 4]);
        let r = index(&x, &[idx(&[0, 1], &[2]), None, idx(&[0, 2], &[2])]).unwrap();
        assert_eq!(r.sizes(), &[2, 3]);
        assert_eq!(r.to_vec::<f64>().unwrap(), vec![0., 4., 8., 14., 18., 22.]);
    }

    #[test]
    fn broadcast_adjacent_indices_stay_in_place() {
        let x = arange(24, &[2, 3, 4]);
        let r = index(&x, &[None, idx(&[0, 2], &[2, 1]), idx(&[0, 2, 3], &[3])]).unwrap();
        assert_eq!(r.sizes(), &[2, 2, 3]);
        assert_eq!(&r.to_vec::<f64>().unwrap()[..6], &[0., 2., 3., 8., 10., 11.]);
    }

    #[test]
    fn negative_and_out_of_range() {
        let x = arange(6, &[2, 3]);
        assert_eq!(
            index(&x, &[idx(&[-1], &[1])]).unwrap().to_vec::<f64>().unwrap(),
            vec![3., 4., 5.]
        );
        assert_eq!(
            index(&x, &[idx(&[2], &[1])]).unwrap_err().kind(),
            ErrorKind::IndexOutOfRange
        );
        assert_eq!(
            index(&x, &[None, None, idx(&[0], &[1])]).unwrap_err().kind(),
            ErrorKind::IndexOutOfRange
        );
        assert_eq!(index(&x, &[None]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn layout_follows_transposed_self() {
        let x = arange(24, &[2, 3, 4]).as_view(&[4, 3, 2], &[1, 4, 12], 0).unwrap();
        let r = index(&x, &[idx(&[0, 1], &[2])]).unwrap();
        assert_eq!(r.strides(), &[6, 1, 3]);
        let r = index(&x, &[None, idx(&[0, 1], &[2])]).unwrap();
        assert_eq!(r.strides(), &[1, 4, 8]);
    }

    #[test]
    fn masks_and_nonzero() {
        let x = arange(6, &[2, 3]);
        let m = Tensor::from_vec(vec![true, false, true, false, false, true], &[2, 3]).unwrap();
        assert_eq!(
            index(&x, &[Some(m.clone())]).unwrap().to_vec::<f64>().unwrap(),
            vec![0., 2., 5.]
        );
        assert_eq!(nonzero(&m).unwrap().to_vec::<i64>().unwrap(), vec![0, 0, 0, 2, 1, 2]);
        let bad = Tensor::from_vec(vec![true; 3], &[3]).unwrap();
        assert_eq!(index(&x, &[Some(bad)]).unwrap_err().kind(), ErrorKind::IndexOutOfRange);
    }

    #[test]
    fn masked_scatter_needs_enough_source() {
        let x = arange(3, &[3]);
        let m = Tensor::from_vec(vec![true, true, false], &[3]).unwrap();
        assert_eq!(
            masked_scatter(&x, &m, &arange(1, &[1])).unwrap_err().kind(),
            ErrorKind::ShapeMismatch
        );
    }
}
