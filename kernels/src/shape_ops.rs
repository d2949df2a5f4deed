//! Copying shape operators and the scatter/backward kernels of the views.
//!
//! Two mechanisms cover them all:
//! - [`gather`]: each output element (by multi-index) is read from a source
//!   position or filled with a constant (`flip`, `repeat`, `constant_pad_nd`,
//!   `tril`, `triu`);
//! - [`scatter_into`]: a copy of a base tensor (or zeros) in which a view,
//!   built by the same view kernel as the forward op, is overwritten with
//!   `src` (`select_scatter`, `slice_scatter`, `diagonal_scatter`,
//!   `as_strided_scatter`, `select_backward`, `slice_backward`,
//!   `diagonal_backward`).

use crate::iter;
use crate::view;
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{dispatch_dtype, Element, Error, Result, Scalar, Tensor};

/// Where an output element comes from.
enum Source {
    /// Row-major index into the (contiguous copy of the) input.
    At(usize),
    /// The fill value.
    Fill,
}

/// Builds a tensor of `sizes` whose element at multi-index `i` is
/// `input[at(i)]` or `fill`. The result is contiguous, or laid out like
/// `like` when given (PyTorch's `empty_like` for layout-preserving ops).
fn gather(
    x: &Tensor,
    sizes: &[usize],
    like: Option<&Tensor>,
    fill: Scalar,
    at: impl Fn(&[usize]) -> Source,
) -> Result<Tensor> {
    dispatch_dtype!(x.dtype(), T => gather_typed::<T>(x, sizes, like, fill.to_elem::<T>(), at))
}

fn gather_typed<T: Element>(
    x: &Tensor,
    sizes: &[usize],
    like: Option<&Tensor>,
    fill: T,
    at: impl Fn(&[usize]) -> Source,
) -> Result<Tensor> {
    let src = x.to_vec::<T>()?;
    let n = shape::numel(sizes);
    let mut vals = Vec::with_capacity(n);
    let mut idx = vec![0usize; sizes.len()];
    for _ in 0..n {
        vals.push(match at(&idx) {
            Source::At(j) => src[j],
            Source::Fill => fill,
        });
        for d in (0..sizes.len()).rev() {
            idx[d] += 1;
            if idx[d] < sizes[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    let strides = match like {
        Some(t) => iter::preserve_strides(t),
        None => shape::contiguous_strides(sizes),
    };
    let out = iter::empty_strided("gather", sizes, &strides, T::DTYPE)?;
    let mut it = vals.into_iter();
    iter::fill_indexed(&out, |_| it.next().unwrap_or(fill))?;
    Ok(out)
}

/// Row-major linear index of `idx` in a tensor of `sizes`.
fn linear(idx: impl Iterator<Item = usize>, sizes: &[usize]) -> usize {
    idx.zip(sizes).fold(0, |acc, (i, &s)| acc * s + i)
}

/// `aten::flip`: reverses the order of elements along each of `dims`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::shape_ops::flip(&t, &[1]).unwrap().to_vec::<i32>().unwrap(), vec![2, 1, 4, 3]);
/// ```
pub fn flip(self_: &Tensor, dims: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::flip";
    let wrapped = shape::wrap_dims(OP, dims, self_.dim())?;
    let sizes = self_.sizes().to_vec();
    let mut rev = vec![false; sizes.len()];
    for d in wrapped.into_iter().filter(|&d| d < sizes.len()) {
        rev[d] = true;
    }
    let s2 = sizes.clone();
    gather(self_, &sizes, Some(self_), Scalar::Int(0), |i| {
        let src = i
            .iter()
            .enumerate()
            .map(|(d, &v)| if rev[d] { s2[d] - 1 - v } else { v });
        Source::At(linear(src, &s2))
    })
}

/// `aten::repeat`: tiles the input `repeats[d]` times along each dim
/// (`repeats` may be longer than the input's dims; new dims lead).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::repeat(&t, &[2, 2]).unwrap();
/// assert_eq!(r.sizes(), &[2, 4]);
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 1, 2, 1, 2]);
/// ```
pub fn repeat(self_: &Tensor, repeats: &[i64]) -> Result<Tensor> {
    const OP: &str = "aten::repeat";
    if repeats.len() < self_.dim() {
        return Err(Error::invalid(
            OP,
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor",
        ));
    }
    if let Some(&r) = repeats.iter().find(|&&r| r < 0) {
        return Err(Error::invalid(
            OP,
            format!("Trying to create tensor with negative dimension {r}: {repeats:?}"),
        ));
    }
    let lead = repeats.len() - self_.dim();
    let mut padded = vec![1usize; lead];
    padded.extend_from_slice(self_.sizes());
    let sizes: DimVec = padded.iter().zip(repeats).map(|(&s, &r)| s * r as usize).collect();
    let src_sizes = self_.sizes().to_vec();
    gather(self_, &sizes, None, Scalar::Int(0), |i| {
        let src = i[lead..].iter().zip(&src_sizes).map(|(&v, &s)| v % s);
        Source::At(linear(src, &src_sizes))
    })
}

/// `aten::constant_pad_nd`: pads with `value`; `pad` lists (before, after)
/// pairs starting from the last dim. Negative pads crop.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
/// let p = ft_kernels::shape_ops::constant_pad_nd(&t, &[1, -1], 9.into()).unwrap();
/// assert_eq!(p.to_vec::<i64>().unwrap(), vec![9, 1, 2]);
/// ```
pub fn constant_pad_nd(self_: &Tensor, pad: &[i64], value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::constant_pad_nd";
    let nd = self_.dim();
    if !pad.len().is_multiple_of(2) {
        return Err(Error::invalid(
            OP,
            format!("Length of pad must be even but instead it equals {}", pad.len()),
        ));
    }
    if pad.len() / 2 > nd {
        return Err(Error::invalid(
            OP,
            format!(
                "Length of pad should be no more than twice the number of dimensions of the input. Pad length is {} while the input has {nd} dimensions.",
                pad.len()
            ),
        ));
    }
    let mut before = Vec::with_capacity(nd);
    let mut sizes = DimVec::new();
    for (d, &size) in self_.sizes().iter().enumerate() {
        let k = nd - 1 - d;
        let (l, r) = if 2 * k < pad.len() {
            (pad[2 * k], pad[2 * k + 1])
        } else {
            (0, 0)
        };
        let s = size as i64;
        let new = s + l + r;
        if new < 0 {
            return Err(Error::invalid(
                OP,
                format!(
                    "The input size {s}, plus negative padding {l} and {r} resulted in a negative output size, which is invalid. Check dimension {d} of your input."
                ),
            ));
        }
        before.push(l);
        sizes.push(new as usize);
    }
    let src_sizes = self_.sizes().to_vec();
    gather(self_, &sizes, None, value, |i| {
        let mut j = 0usize;
        for d in 0..i.len() {
            let v = i[d] as i64 - before[d];
            if v < 0 || v >= src_sizes[d] as i64 {
                return Source::Fill;
            }
            j = j * src_sizes[d] + v as usize;
        }
        Source::At(j)
    })
}

/// Shared body of `tril` and `triu`: keeps element `(.., r, c)` when
/// `c - r <= diagonal` (lower) or `c - r >= diagonal` (upper), zero elsewhere.
fn triangle(op: &str, x: &Tensor, diagonal: i64, lower: bool) -> Result<Tensor> {
    let nd = x.dim();
    if nd < 2 {
        return Err(Error::invalid(
            op,
            format!(
                "{}: input tensor must have at least 2 dimensions",
                if lower { "tril" } else { "triu" }
            ),
        ));
    }
    let sizes = x.sizes().to_vec();
    let s2 = sizes.clone();
    gather(x, &sizes, None, Scalar::Int(0), |i| {
        let delta = i[nd - 1] as i64 - i[nd - 2] as i64;
        let keep = if lower { delta <= diagonal } else { delta >= diagonal };
        if keep {
            Source::At(linear(i.iter().copied(), &s2))
        } else {
            Source::Fill
        }
    })
}

/// `aten::tril`: the lower triangle of the last two dims (elements with
/// `col - row <= diagonal`), zeros elsewhere.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::shape_ops::tril(&t, 0).unwrap().to_vec::<i32>().unwrap(), vec![1, 0, 3, 4]);
/// ```
pub fn tril(self_: &Tensor, diagonal: i64) -> Result<Tensor> {
    triangle("aten::tril", self_, diagonal, true)
}

/// `aten::triu`: the upper triangle of the last two dims (elements with
/// `col - row >= diagonal`), zeros elsewhere.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::shape_ops::triu(&t, 1).unwrap().to_vec::<i32>().unwrap(), vec![0, 2, 0, 0]);
/// ```
pub fn triu(self_: &Tensor, diagonal: i64) -> Result<Tensor> {
    triangle("aten::triu", self_, diagonal, false)
}

// ---------------------------------------------------------------------------
// scatters and view backwards
// ---------------------------------------------------------------------------

/// What a scatter starts from.
enum Base<'a> {
    /// A copy of this tensor, laid out like it.
    CopyOf(&'a Tensor),
    /// Contiguous zeros of these sizes (and `src`'s dtype).
    Zeros(&'a [i64]),
}

/// A copy of `base` in which the view `region(copy)` holds `src` (whose
/// shape must equal the view's; its values are cast to the result dtype).
fn scatter_into(op: &str, base: Base<'_>, src: &Tensor, region: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let out = match base {
        Base::CopyOf(t) => {
            let out = iter::empty_strided(op, t.sizes(), &iter::preserve_strides(t), t.dtype())?;
            iter::cast_copy(&out, t)?;
            out
        }
        Base::Zeros(sizes) => {
            if let Some(&s) = sizes.iter().find(|&&s| s < 0) {
                return Err(Error::invalid(
                    op,
                    format!("Trying to create tensor with negative dimension {s}: {sizes:?}"),
                ));
            }
            let sizes: DimVec = sizes.iter().map(|&s| s as usize).collect();
            iter::empty_contiguous(op, &sizes, src.dtype())?
        }
    };
    let view = region(&out).map_err(|e| e.with_op(op))?;
    if view.sizes() != src.sizes() {
        return Err(Error::shape(
            op,
            format!(
                "expected src to have a size equal to the slice of self. src size = {}, slice size = {}",
                shape::fmt_sizes(src.sizes()),
                shape::fmt_sizes(view.sizes())
            ),
        ));
    }
    iter::cast_copy(&view, src)?;
    Ok(out)
}

/// `aten::select_scatter`: a copy of `self` whose slice at `index` along
/// `dim` is `src`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32; 4], &[2, 2]).unwrap();
/// let s = Tensor::from_vec(vec![5i32, 6], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::select_scatter(&t, &s, 1, 0).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![5, 0, 6, 0]);
/// ```
pub fn select_scatter(self_: &Tensor, src: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    scatter_into("aten::select_scatter", Base::CopyOf(self_), src, |t| {
        view::select(t, dim, index)
    })
}

/// `aten::slice_scatter`: a copy of `self` whose `slice(dim, start, end, step)` is `src`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32; 4], &[4]).unwrap();
/// let s = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::slice_scatter(&t, &s, 0, Some(1), None, 2).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![0, 1, 0, 2]);
/// ```
pub fn slice_scatter(
    self_: &Tensor,
    src: &Tensor,
    dim: i64,
    start: Option<i64>,
    end: Option<i64>,
    step: i64,
) -> Result<Tensor> {
    scatter_into("aten::slice_scatter", Base::CopyOf(self_), src, |t| {
        view::slice(t, dim, start, end, step)
    })
}

/// `aten::diagonal_scatter`: a copy of `self` whose `diagonal(offset, dim1, dim2)` is `src`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32; 4], &[2, 2]).unwrap();
/// let s = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::diagonal_scatter(&t, &s, 0, 0, 1).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 0, 0, 2]);
/// ```
pub fn diagonal_scatter(self_: &Tensor, src: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    scatter_into("aten::diagonal_scatter", Base::CopyOf(self_), src, |t| {
        view::diagonal(t, offset, dim1, dim2)
    })
}

/// `aten::as_strided_scatter`: a copy of `self` whose
/// `as_strided(size, stride, storage_offset)` is `src` (the view is taken on
/// the copy, whose storage offset is 0).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32; 4], &[4]).unwrap();
/// let s = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::as_strided_scatter(&t, &s, &[2], &[2], Some(1)).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![0, 1, 0, 2]);
/// ```
pub fn as_strided_scatter(
    self_: &Tensor,
    src: &Tensor,
    size: &[i64],
    stride: &[i64],
    storage_offset: Option<i64>,
) -> Result<Tensor> {
    scatter_into("aten::as_strided_scatter", Base::CopyOf(self_), src, |t| {
        view::as_strided(t, size, stride, storage_offset)
    })
}

/// `aten::select_backward`: zeros of `input_sizes` with `grad_output` at
/// `index` along `dim` (the gradient of `select`).
///
/// ```
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::select_backward(&g, &[2, 2], 0, 1).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 0.0, 1.0, 2.0]);
/// ```
pub fn select_backward(grad_output: &Tensor, input_sizes: &[i64], dim: i64, index: i64) -> Result<Tensor> {
    scatter_into("aten::select_backward", Base::Zeros(input_sizes), grad_output, |t| {
        view::select(t, dim, index)
    })
}

/// `aten::slice_backward`: zeros of `input_sizes` with `grad_output` in
/// `slice(dim, start, end, step)` (the gradient of `slice`).
///
/// ```
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// let r = ft_kernels::shape_ops::slice_backward(&g, &[3], 0, 2, 3, 1).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 0.0, 1.0]);
/// ```
pub fn slice_backward(
    grad_output: &Tensor,
    input_sizes: &[i64],
    dim: i64,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Tensor> {
    scatter_into("aten::slice_backward", Base::Zeros(input_sizes), grad_output, |t| {
        view::slice(t, dim, Some(start), Some(end), step)
    })
}

/// `aten::diagonal_backward`: zeros of `input_sizes` with `grad_output` on
/// the diagonal (the gradient of `diagonal`).
///
/// ```
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let r = ft_kernels::shape_ops::diagonal_backward(&g, &[2, 2], 0, 0, 1).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 0.0, 2.0]);
/// ```
pub fn diagonal_backward(
    grad_output: &Tensor,
    input_sizes: &[i64],
    offset: i64,
    dim1: i64,
    dim2: i64,
) -> Result<Tensor> {
    scatter_into("aten::diagonal_backward", Base::Zeros(input_sizes), grad_output, |t| {
        view::diagonal(t, offset, dim1, dim2)
    })
}
