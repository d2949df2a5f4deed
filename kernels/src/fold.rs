//! The general reduction and scan mechanism behind every reduction other than
//! the cascade sums of [`crate::reduce`]: `amax`, `amin`, `any`, `all`,
//! `argmax`, `argmin`, `prod`, `var`, `max`, `min` fold each output's reduced
//! elements with [`fold`]; `cumsum`, `cumprod`, `softmax` and `log_softmax`
//! transform each 1-D lane along a dim with [`map_lanes`].
//!
//! Both walk the input's values in row-major order after one contiguous copy,
//! so an op only supplies its per-element step (or per-lane function), never
//! its own iteration code.

use ft_runtime::shape::{self, DimVec};
use ft_runtime::tensor::for_each_offset;
use ft_runtime::{Element, Error, Result, Tensor};

/// Which dims a reduction covers, and the output shape it produces.
///
/// ```
/// use ft_kernels::fold::{Reduction, EmptyDims};
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3, 4], DType::F32);
/// let r = Reduction::new("op", &t, Some(&[1, -1]), false, EmptyDims::All).unwrap();
/// assert_eq!((r.mask.as_slice(), r.out_sizes.as_slice(), r.count), (&[false, true, true][..], &[2usize][..], 12));
/// ```
#[derive(Debug, Clone)]
pub struct Reduction {
    /// `mask[d]` is true when dim `d` is reduced.
    pub mask: Vec<bool>,
    /// Sizes of the result (reduced dims dropped, or kept as 1 with keepdim).
    pub out_sizes: DimVec,
    /// Number of input elements folded into each output element.
    pub count: usize,
}

/// What an empty (or absent) dim list means for a reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyDims {
    /// `[]` reduces every dim (`amax`, `var`, `sum`).
    All,
    /// `[]` reduces no dim (`any.dims`); `None` still reduces every dim.
    NoneReduced,
}

impl Reduction {
    /// Wraps `dims` (negative dims count from the end; repeats are an error)
    /// and computes the reduced mask and output sizes.
    pub fn new(op: &str, x: &Tensor, dims: Option<&[i64]>, keepdim: bool, empty: EmptyDims) -> Result<Reduction> {
        let nd = x.dim();
        let mut mask = vec![true; nd];
        match dims {
            Some(d) if d.is_empty() && empty == EmptyDims::NoneReduced => mask.fill(false),
            Some(d) if !d.is_empty() => {
                mask.fill(false);
                for w in shape::wrap_dims(op, d, nd)? {
                    if w < nd {
                        mask[w] = true;
                    }
                }
            }
            _ => {}
        }
        Ok(Reduction::from_mask(x, mask, keepdim))
    }

    /// A reduction over exactly the dims marked in `mask`.
    pub fn from_mask(x: &Tensor, mask: Vec<bool>, keepdim: bool) -> Reduction {
        let mut out_sizes = DimVec::new();
        let mut count = 1usize;
        for (&s, &m) in x.sizes().iter().zip(&mask) {
            if m {
                count *= s;
                if keepdim {
                    out_sizes.push(1);
                }
            } else {
                out_sizes.push(s);
            }
        }
        Reduction { mask, out_sizes, count }
    }

    /// Number of output elements.
    pub fn out_numel(&self) -> usize {
        self.out_sizes.iter().product()
    }

    /// PyTorch's check for reductions without an identity (`amax`, `argmax`):
    /// no reduced dim of an empty input may have size 0.
    pub fn require_nonempty(&self, op: &str, name: &str, x: &Tensor) -> Result<()> {
        if x.numel() != 0 {
            return Ok(());
        }
        match self.zero_reduced_dim(x) {
            Some(d) => Err(Error::index(
                op,
                format!("{name}(): Expected reduction dim {d} to have non-zero size."),
            )),
            None => Ok(()),
        }
    }

    fn zero_reduced_dim(&self, x: &Tensor) -> Option<usize> {
        (0..x.dim()).find(|&d| self.mask[d] && x.sizes()[d] == 0)
    }
}

/// Folds the reduced elements of every output element: `step(acc, value, j)`
/// is called for each input element in row-major order of the reduced dims,
/// `j` being its row-major index among them. Returns one accumulator per
/// output element, in row-major output order.
///
/// ```
/// use ft_kernels::fold::{fold, Reduction, EmptyDims};
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 5, 2, 7, 0, 3], &[2, 3]).unwrap();
/// let r = Reduction::new("op", &t, Some(&[1]), false, EmptyDims::All).unwrap();
/// let maxes = fold(&t, &r, i32::MIN, |acc: &mut i32, v: i32, _| *acc = (*acc).max(v)).unwrap();
/// assert_eq!(maxes, vec![5, 7]);
/// ```
pub fn fold<T: Element, A: Clone>(
    x: &Tensor,
    red: &Reduction,
    init: A,
    mut step: impl FnMut(&mut A, T, usize),
) -> Result<Vec<A>> {
    let values = x.to_vec::<T>()?;
    let strides = shape::contiguous_strides(x.sizes());
    let (mut kept_s, mut kept_st, mut red_s, mut red_st) = (DimVec::new(), DimVec::new(), DimVec::new(), DimVec::new());
    for d in 0..x.dim() {
        if red.mask[d] {
            red_s.push(x.sizes()[d]);
            red_st.push(strides[d]);
        } else {
            kept_s.push(x.sizes()[d]);
            kept_st.push(strides[d]);
        }
    }
    let mut out = Vec::with_capacity(red.out_numel());
    if red.out_numel() == 0 {
        return Ok(out);
    }
    let empty_input = values.is_empty();
    for_each_offset(&kept_s, &kept_st, 0, |base| {
        let mut acc = init.clone();
        if !empty_input {
            let mut j = 0usize;
            for_each_offset(&red_s, &red_st, base, |off| {
                step(&mut acc, values[off], j);
                j += 1;
            });
        }
        out.push(acc);
    });
    Ok(out)
}

/// Start offsets (row-major, contiguous) of every lane along `dim` of a
/// tensor of `sizes`, with the lane length and stride.
fn lanes(sizes: &[usize], dim: usize) -> (Vec<usize>, usize, usize) {
    if sizes.is_empty() {
        return (vec![0], 1, 1);
    }
    let strides = shape::contiguous_strides(sizes);
    let mut outer: DimVec = sizes.into();
    outer[dim] = 1;
    let mut bases = Vec::new();
    if !sizes.contains(&0) {
        for_each_offset(&outer, &strides, 0, |b| bases.push(b));
    }
    (bases, sizes[dim], strides[dim])
}

/// Applies `f(input_lane, output_lane)` to every 1-D lane of `x` along `dim`
/// and returns the contiguous result of `x`'s sizes. Lanes are copied into
/// contiguous buffers, so `f` sees plain slices of equal length.
///
/// ```
/// use ft_kernels::fold::map_lanes;
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
/// let r = map_lanes(&t, 0, |a: &[i64], o: &mut [i64]| {
///     let mut s = 0;
///     for (x, y) in a.iter().zip(o) { s += x; *y = s; }
/// }).unwrap();
/// assert_eq!(r.to_vec::<i64>().unwrap(), vec![1, 2, 4, 6]);
/// ```
pub fn map_lanes<T: Element, O: Element>(x: &Tensor, dim: usize, mut f: impl FnMut(&[T], &mut [O])) -> Result<Tensor> {
    map_lanes2(x, x, dim, |a: &[T], _: &[T], o: &mut [O]| f(a, o))
}

/// [`map_lanes`] over two tensors of the same sizes: `f(a_lane, b_lane, out_lane)`.
///
/// ```
/// use ft_kernels::fold::map_lanes2;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let r = map_lanes2(&a, &a, 0, |x: &[f64], y: &[f64], o: &mut [f64]| {
///     for i in 0..2 { o[i] = x[i] * y[i]; }
/// }).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0, 4.0]);
/// ```
pub fn map_lanes2<T: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    dim: usize,
    mut f: impl FnMut(&[T], &[T], &mut [O]),
) -> Result<Tensor> {
    let va = a.to_vec::<T>()?;
    let vb = if b.is_same(a) { va.clone() } else { b.to_vec::<T>()? };
    let mut out = vec![O::default(); va.len()];
    let (bases, len, stride) = lanes(a.sizes(), dim);
    let (mut la, mut lb, mut lo) = (
        vec![T::default(); len],
        vec![T::default(); len],
        vec![O::default(); len],
    );
    for base in bases {
        for i in 0..len {
            la[i] = va[base + i * stride];
            lb[i] = vb[base + i * stride];
        }
        f(&la, &lb, &mut lo);
        for (i, &v) in lo.iter().enumerate() {
            out[base + i * stride] = v;
        }
    }
    Tensor::from_vec(out, a.sizes())
}
