//! Indexing along one dim: `index_select`, `gather`, and the `scatter`
//! family (`scatter.src`, `scatter.value`, `scatter_add`,
//! `scatter_reduce.two`).
//!
//! Every kernel reads its operands into row-major buffers
//! ([`Dense`]), walks the lanes along `dim` with [`for_each_lane`] and
//! returns a new contiguous tensor, as PyTorch's CPU kernels do. Index
//! values outside `[0, size)` are [`ErrorKind::IndexOutOfRange`] errors
//! (negative indices are not wrapped by these ops, as in PyTorch).
//!
//! [`ErrorKind::IndexOutOfRange`]: ft_runtime::ErrorKind::IndexOutOfRange

use crate::iter::{Arith, OpMath};
use crate::lanes::{for_each_lane, index_values, nonempty_sizes, Dense};
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Scalar, Tensor};

/// `index` as a row-major buffer of `i64` (0-dim read as `[1]`).
fn read_index(op: &str, index: &Tensor, what: &str) -> Result<Dense<i64>> {
    let values = index_values(op, index, &format!("{what}(): Expected dtype int32/int64 for index"))?;
    Ok(Dense::from_vec(values, index.sizes()))
}

/// Checks `0 <= i < size` and returns `i` as an offset multiplier.
fn checked(op: &str, i: i64, dim: usize, size: usize) -> Result<usize> {
    if i < 0 || i as u64 >= size as u64 {
        return Err(Error::index(
            op,
            format!("index {i} is out of bounds for dimension {dim} with size {size}"),
        ));
    }
    Ok(i as usize)
}

// ---------------------------------------------------------------------------
// index_select
// ---------------------------------------------------------------------------

/// `aten::index_select`: the slices of `self_` along `dim` at the positions
/// in the 1-D (or 0-dim) int64/int32 `index`, in a new contiguous tensor.
///
/// ```
/// use ft_kernels::index::index_select;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let r = index_select(&x, 0, &i).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![5.0, 6.0, 1.0, 2.0]);
/// let bad = Tensor::from_vec(vec![3i64], &[1]).unwrap();
/// assert!(index_select(&x, 0, &bad).is_err());
/// ```
pub fn index_select(self_: &Tensor, dim: i64, index: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::index_select";
    let d = shape::wrap_dim(OP, dim, self_.dim().max(1))?;
    if index.dim() > 1 {
        return Err(Error::invalid(OP, "index_select(): Index is supposed to be a vector"));
    }
    let idx = index_values(OP, index, "index_select(): Expected dtype int32 or int64 for index")?;
    let src_sizes = nonempty_sizes(self_.sizes());
    if self_.dim() == 0 && idx.len() != 1 {
        return Err(Error::invalid(
            OP,
            format!(
                "index_select(): Index to scalar can have only 1 value, got {} value(s)",
                idx.len()
            ),
        ));
    }
    if src_sizes[d] == 0 && !idx.is_empty() {
        return Err(Error::index(
            OP,
            "index_select(): self indexing axis dim should be positive",
        ));
    }
    if let Some(&bad) = idx.iter().find(|&&i| i < 0 || i as u64 >= src_sizes[d] as u64) {
        return Err(Error::index(
            OP,
            format!("index out of range in self (index {bad}, size {})", src_sizes[d]),
        ));
    }
    let mut out_sizes = src_sizes.clone();
    out_sizes[d] = idx.len();
    let result_sizes: DimVec = if self_.dim() == 0 {
        DimVec::new()
    } else {
        out_sizes.clone()
    };
    dispatch_dtype!(self_.dtype(), T => {
        let src = Dense::<T>::read(self_)?;
        let mut out = Dense::from_vec(vec![T::default(); shape::numel(&out_sizes)], &out_sizes);
        let (ss, os) = (src.strides[d], out.strides[d]);
        for_each_lane(&out_sizes, d, [&src.strides, &out.strides], |[sb, ob]| {
            for (k, &i) in idx.iter().enumerate() {
                out.data[ob + k * os] = src.data[sb + i as usize * ss];
            }
        });
        out.into_tensor(&result_sizes)
    })
}

// ---------------------------------------------------------------------------
// gather
// ---------------------------------------------------------------------------

/// Fails unless `index` has as many dims as `self_` (0-dim counting as 1).
fn check_same_dims(op: &str, self_: &Tensor, index: &Tensor, what: &str) -> Result<()> {
    if self_.dim().max(1) != index.dim().max(1) {
        return Err(Error::invalid(
            op,
            format!("Index tensor must have the same number of dimensions as {what} tensor"),
        ));
    }
    Ok(())
}

/// `aten::gather`: `out[i][j][k] = self[index[i][j][k]][j][k]` (for `dim`
/// 0, and likewise for other dims). `index` (int64/int32) has the dims of
/// `self_` and is no larger than it in every dim but `dim`; the result has
/// `index`'s shape. `sparse_grad` only affects PyTorch's backward layout and
/// is accepted and ignored.
///
/// ```
/// use ft_kernels::index::gather;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// let i = Tensor::from_vec(vec![1i64, 1, 0, 0], &[2, 2]).unwrap();
/// assert_eq!(gather(&x, 1, &i, false).unwrap().to_vec::<i32>().unwrap(), vec![2, 2, 3, 3]);
/// ```
pub fn gather(self_: &Tensor, dim: i64, index: &Tensor, sparse_grad: bool) -> Result<Tensor> {
    const OP: &str = "aten::gather";
    let _ = sparse_grad;
    let d = shape::wrap_dim(OP, dim, self_.dim().max(1))?;
    let idx = read_index(OP, index, "gather")?;
    check_same_dims(OP, self_, index, "input")?;
    let src_sizes = nonempty_sizes(self_.sizes());
    if index.numel() > 0 {
        check_no_larger(OP, &idx.sizes, &src_sizes, d, "self", None)?;
    }
    dispatch_dtype!(self_.dtype(), T => {
        let src = Dense::<T>::read(self_)?;
        let mut out = Dense::from_vec(vec![T::default(); idx.data.len()], &idx.sizes);
        let (is, ss, os, n) = (idx.strides[d], src.strides[d], out.strides[d], idx.sizes[d]);
        let mut status = Ok(());
        for_each_lane(&idx.sizes, d, [&idx.strides, &src.strides, &out.strides], |[ib, sb, ob]| {
            for k in 0..n {
                match checked(OP, idx.data[ib + k * is], d, src_sizes[d]) {
                    Ok(i) => out.data[ob + k * os] = src.data[sb + i * ss],
                    Err(e) => status = Err(e),
                }
            }
        });
        status?;
        out.into_tensor(index.sizes())
    })
}

/// PyTorch's gather/scatter shape check: `index` no larger than `self_sizes`
/// in every dim but `dim` and (when given) no larger than `src` in every dim.
fn check_no_larger(
    op: &str,
    index: &[usize],
    self_sizes: &[usize],
    dim: usize,
    what: &str,
    src: Option<&[usize]>,
) -> Result<()> {
    let self_bad = (0..index.len()).find(|&k| k != dim && index[k] > self_sizes[k]);
    let src_bad = src.and_then(|s| (0..index.len()).find(|&k| index[k] > s[k]));
    match (self_bad, src, src_bad) {
        (None, _, None) => Ok(()),
        (Some(k), None, _) | (None, None, Some(k)) => Err(Error::shape(
            op,
            format!(
                "Size does not match at dimension {k} expected index {} to be no larger than {what} {} apart from dimension {dim}",
                shape::fmt_sizes(index),
                shape::fmt_sizes(self_sizes)
            ),
        )),
        (_, Some(s), _) => Err(Error::shape(
            op,
            format!(
                "Expected index {} to be no larger than self {} apart from dimension {dim} and to be no larger size than src {}",
                shape::fmt_sizes(index),
                shape::fmt_sizes(self_sizes),
                shape::fmt_sizes(s)
            ),
        )),
    }
}

// ---------------------------------------------------------------------------
// scatter family
// ---------------------------------------------------------------------------

/// How a `scatter` combines a source element into the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// Overwrite (`scatter`).
    Assign,
    /// Add (`scatter_add`, `"sum"`).
    Sum,
    /// Multiply (`"prod"`).
    Prod,
    /// Average of the contributions (`"mean"`; integers use floor division).
    Mean,
    /// Maximum, NaN propagating (`"amax"`).
    Amax,
    /// Minimum, NaN propagating (`"amin"`).
    Amin,
}

impl Reduce {
    /// Parses a `scatter_reduce` reduction name (PyTorch also accepts "max" and "min" for "amax" and "amin").
    ///
    /// ```
    /// use ft_kernels::index::Reduce;
    /// assert_eq!(Reduce::parse("aten::scatter_reduce.two", "amax").unwrap(), Reduce::Amax);
    /// assert!(Reduce::parse("aten::scatter_reduce.two", "add").is_err());
    /// ```
    pub fn parse(op: &str, name: &str) -> Result<Reduce> {
        Ok(match name {
            "sum" => Reduce::Sum,
            "prod" => Reduce::Prod,
            "mean" => Reduce::Mean,
            "amax" | "max" => Reduce::Amax,
            "amin" | "min" => Reduce::Amin,
            _ => {
                return Err(Error::invalid(
                    op,
                    format!("reduce argument must be either sum, prod, mean, amax or amin, got {name}"),
                ))
            }
        })
    }

    /// Combines the accumulated `acc` with a new contribution `x`.
    fn combine<A: Arith>(self, acc: A, x: A) -> A {
        let nan = |v: A| v.partial_cmp(&v).is_none();
        match self {
            Reduce::Assign => x,
            Reduce::Sum | Reduce::Mean => acc.add(x),
            Reduce::Prod => acc.mul(x),
            Reduce::Amax | Reduce::Amin if nan(acc) => acc,
            Reduce::Amax | Reduce::Amin if nan(x) => x,
            Reduce::Amax => {
                if x > acc {
                    x
                } else {
                    acc
                }
            }
            Reduce::Amin => {
                if x < acc {
                    x
                } else {
                    acc
                }
            }
        }
    }
}

/// Where scattered values come from.
enum Source<'a> {
    /// A tensor of the destination's dtype, addressed like `index`.
    Tensor(&'a Tensor),
    /// One value for every position.
    Value(Scalar),
}

/// Checks and runs a scatter of `src` into a copy of `self_` at `index`
/// along `dim`, combining with `reduce`.
#[allow(clippy::too_many_arguments)]
fn scatter_impl(
    op: &str,
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: Source<'_>,
    reduce: Reduce,
    include_self: bool,
    rounding: Rounding,
) -> Result<Tensor> {
    let name = op.trim_start_matches("aten::").split('.').next().unwrap_or(op);
    let d = shape::wrap_dim(op, dim, self_.dim().max(1))?;
    let idx = read_index(op, index, name)?;
    if let Source::Tensor(s) = src {
        if s.dtype() != self_.dtype() {
            return Err(Error::dtype(
                op,
                format!("{name}(): Expected self.dtype to be equal to src.dtype"),
            ));
        }
        check_same_dims(op, s, index, "src")?;
    }
    check_same_dims(op, self_, index, "self")?;
    if reduce == Reduce::Mean && self_.dtype() == DType::Bool {
        return Err(Error::dtype(
            op,
            "scatter_reduce(): the \"mean\" reduction is not supported for bool",
        ));
    }
    let self_sizes = nonempty_sizes(self_.sizes());
    if index.numel() > 0 {
        let src_sizes = match src {
            Source::Tensor(s) => Some(nonempty_sizes(s.sizes())),
            Source::Value(_) => None,
        };
        check_no_larger(op, &idx.sizes, &self_sizes, d, "self", src_sizes.as_deref())?;
    }
    dispatch_dtype!(self_.dtype(), T => {
        let mut out = Dense::<T>::read(self_)?;
        let src = match src {
            Source::Tensor(s) => Dense::<T>::read(s)?,
            Source::Value(v) => Dense::from_vec(vec![v.to_elem::<T>()], &shape::filled(1, idx.sizes.len())),
        };
        let src_strides: DimVec = if src.data.len() == 1 && src.sizes.iter().all(|&s| s == 1) {
            shape::filled(0, idx.sizes.len())
        } else {
            src.strides.clone()
        };
        scatter_typed(op, &mut out, d, &idx, &src.data, &src_strides, reduce, include_self, rounding)?;
        out.into_tensor(self_.sizes())
    })
}

/// How a scatter accumulates float16/bfloat16 values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    /// Round to the element type after every combination (`scatter_add`).
    EachStep,
    /// Accumulate in float32 and round once at the end (`scatter_reduce`).
    Once,
}

/// The typed scatter loop over the lanes of `idx` along `dim`.
#[allow(clippy::too_many_arguments)]
fn scatter_typed<T: OpMath>(
    op: &str,
    out: &mut Dense<T>,
    dim: usize,
    idx: &Dense<i64>,
    src: &[T],
    src_strides: &[usize],
    reduce: Reduce,
    include_self: bool,
    rounding: Rounding,
) -> Result<()>
where
    T::Acc: Element,
{
    let size = out.sizes[dim];
    let (is, ss, os, n) = (idx.strides[dim], src_strides[dim], out.strides[dim], idx.sizes[dim]);
    let mut acc: Vec<T::Acc> = out.data.iter().map(|v| v.widen()).collect();
    // Contributions received so far (for include_self = false, and mean counts).
    let track = !include_self || reduce == Reduce::Mean;
    let mut counts: Vec<u32> = if track { vec![0; out.data.len()] } else { Vec::new() };
    let mut status = Ok(());
    for_each_lane(
        &idx.sizes,
        dim,
        [&idx.strides, src_strides, &out.strides],
        |[ib, sb, ob]| {
            for k in 0..n {
                let i = match checked(op, idx.data[ib + k * is], dim, size) {
                    Ok(i) => i,
                    Err(e) => {
                        status = Err(e);
                        continue;
                    }
                };
                let (o, x) = (ob + i * os, src[sb + k * ss].widen());
                let first = track && !include_self && counts[o] == 0;
                let v = if reduce == Reduce::Assign || first {
                    x
                } else {
                    reduce.combine(acc[o], x)
                };
                acc[o] = match rounding {
                    Rounding::EachStep => T::narrow(v).widen(),
                    Rounding::Once => v,
                };
                if track {
                    counts[o] += 1;
                }
            }
        },
    );
    status?;
    if reduce == Reduce::Mean {
        for (v, &c) in acc.iter_mut().zip(&counts) {
            let c = c as i64 + include_self as i64;
            if c > 1 || (c == 1 && !include_self) {
                *v = divide(*v, c);
            }
        }
    }
    for (o, a) in out.data.iter_mut().zip(acc) {
        *o = T::narrow(a);
    }
    Ok(())
}

/// `v / c`: true division for floats, floor division for integers.
fn divide<T: Element>(v: T, c: i64) -> T {
    if T::DTYPE.is_floating_point() {
        T::from_f64(v.to_f64() / c as f64)
    } else {
        T::from_i64(v.to_i64().div_euclid(c))
    }
}

/// `aten::scatter.src`: a copy of `self_` where, for every position of
/// `index`, `out[index[i][j]][j] = src[i][j]` (for `dim` 0). `src` has
/// `self_`'s dtype; `index` is no larger than `src`, nor than `self_` apart
/// from `dim`. With duplicate indices the last write (row-major) wins.
///
/// ```
/// use ft_kernels::index::scatter_src;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64; 3], &[3]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let s = Tensor::from_vec(vec![5.0f64, 6.0], &[2]).unwrap();
/// assert_eq!(scatter_src(&x, 0, &i, &s).unwrap().to_vec::<f64>().unwrap(), vec![6.0, 0.0, 5.0]);
/// ```
pub fn scatter_src(self_: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    scatter_impl(
        "aten::scatter.src",
        self_,
        dim,
        index,
        Source::Tensor(src),
        Reduce::Assign,
        true,
        Rounding::EachStep,
    )
}

/// `aten::scatter.value`: like [`scatter_src`] with every source element
/// equal to `value` (converted to `self_`'s dtype).
///
/// ```
/// use ft_kernels::index::scatter_value;
/// use ft_runtime::{Tensor, Scalar};
/// let x = Tensor::from_vec(vec![0i64; 3], &[3]).unwrap();
/// let i = Tensor::from_vec(vec![1i64], &[1]).unwrap();
/// assert_eq!(scatter_value(&x, 0, &i, Scalar::Int(7)).unwrap().to_vec::<i64>().unwrap(), vec![0, 7, 0]);
/// ```
pub fn scatter_value(self_: &Tensor, dim: i64, index: &Tensor, value: Scalar) -> Result<Tensor> {
    scatter_impl(
        "aten::scatter.value",
        self_,
        dim,
        index,
        Source::Value(value),
        Reduce::Assign,
        true,
        Rounding::EachStep,
    )
}

/// `aten::scatter_add`: a copy of `self_` with `src` elements added at the
/// positions `index` gives along `dim` (duplicates accumulate; bool adds are
/// logical or; float16/bfloat16 round after each addition, as PyTorch's CPU
/// kernel does, where `scatter_reduce` accumulates in float32).
///
/// ```
/// use ft_kernels::index::scatter_add;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32; 3], &[3]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 0, 2], &[3]).unwrap();
/// let s = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(scatter_add(&x, 0, &i, &s).unwrap().to_vec::<f32>().unwrap(), vec![4.0, 1.0, 4.0]);
/// ```
pub fn scatter_add(self_: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    scatter_impl(
        "aten::scatter_add",
        self_,
        dim,
        index,
        Source::Tensor(src),
        Reduce::Sum,
        true,
        Rounding::EachStep,
    )
}

/// `aten::scatter_reduce.two`: a copy of `self_` where each position named
/// by `index` along `dim` becomes the `reduce` ("sum", "prod", "mean",
/// "amax", "amin") of the `src` elements sent to it, together with its own
/// value when `include_self`. Positions that receive nothing keep `self_`'s
/// value. "mean" divides by the number of contributions (floor division for
/// integers; not available for bool).
///
/// ```
/// use ft_kernels::index::scatter_reduce;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![10.0f64, 20.0], &[2]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 0, 0], &[3]).unwrap();
/// let s = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// let r = scatter_reduce(&x, 0, &i, &s, "mean", false).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 20.0]);
/// let r = scatter_reduce(&x, 0, &i, &s, "amax", true).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![10.0, 20.0]);
/// ```
pub fn scatter_reduce(
    self_: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    reduce: &str,
    include_self: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::scatter_reduce.two";
    let r = Reduce::parse(OP, reduce)?;
    scatter_impl(
        OP,
        self_,
        dim,
        index,
        Source::Tensor(src),
        r,
        include_self,
        Rounding::Once,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t64(v: &[f64], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s).unwrap()
    }
    fn i64t(v: &[i64], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s).unwrap()
    }

    #[test]
    fn gather_dim1_and_bounds() {
        let x = t64(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let i = i64t(&[2, 0, 1, 1], &[2, 2]);
        assert_eq!(
            gather(&x, 1, &i, false).unwrap().to_vec::<f64>().unwrap(),
            vec![3., 1., 5., 5.]
        );
        let bad = i64t(&[3], &[1, 1]);
        assert_eq!(
            gather(&x, 1, &bad, false).unwrap_err().kind(),
            ErrorKind::IndexOutOfRange
        );
        let neg = i64t(&[-1], &[1, 1]);
        assert_eq!(
            gather(&x, 1, &neg, false).unwrap_err().kind(),
            ErrorKind::IndexOutOfRange
        );
    }

    #[test]
    fn index_select_on_transposed_and_scalar() {
        let x = t64(&[1., 2., 3., 4., 5., 6.], &[2, 3])
            .as_view(&[3, 2], &[1, 3], 0)
            .unwrap();
        let r = index_select(&x, 1, &i64t(&[1], &[1])).unwrap();
        assert_eq!(r.to_vec::<f64>().unwrap(), vec![4., 5., 6.]);
        let s = t64(&[7.], &[]);
        assert_eq!(index_select(&s, 0, &i64t(&[0], &[])).unwrap().sizes(), &[] as &[usize]);
    }

    #[test]
    fn scatter_reduce_int_mean_floors() {
        let x = i64t(&[-3, 4], &[2]);
        let r = scatter_reduce(&x, 0, &i64t(&[0], &[1]), &i64t(&[-4], &[1]), "mean", true).unwrap();
        assert_eq!(r.to_vec::<i64>().unwrap(), vec![-4, 4]);
    }

    #[test]
    fn scatter_reduce_prod_and_amin_without_self() {
        let x = t64(&[10., 20.], &[2]);
        let i = i64t(&[1, 1, 1], &[3]);
        let s = t64(&[2., 3., f64::NAN], &[3]);
        let r = scatter_reduce(&x, 0, &i, &s, "amin", false)
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        assert_eq!(r[0], 10.);
        assert!(r[1].is_nan());
        let s = t64(&[2., 3., 4.], &[3]);
        let r = scatter_reduce(&x, 0, &i, &s, "prod", false).unwrap();
        assert_eq!(r.to_vec::<f64>().unwrap(), vec![10., 24.]);
    }

    #[test]
    fn scatter_checks_shapes_and_dtypes() {
        let x = t64(&[0.; 4], &[2, 2]);
        let i = i64t(&[0, 1], &[1, 2]);
        let small = t64(&[1.], &[1, 1]);
        assert_eq!(
            scatter_src(&x, 0, &i, &small).unwrap_err().kind(),
            ErrorKind::ShapeMismatch
        );
        let f32src = Tensor::from_vec(vec![1.0f32; 4], &[2, 2]).unwrap();
        assert_eq!(scatter_src(&x, 0, &i, &f32src).unwrap_err().kind(), ErrorKind::DType);
        let r = scatter_value(&x, 0, &i, Scalar::Float(2.0)).unwrap();
        assert_eq!(r.to_vec::<f64>().unwrap(), vec![2., 0., 0., 2.]);
    }
}
