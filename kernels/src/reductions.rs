//! Reductions without a cascade sum: extrema (`amax`, `amin`, `max`, `min`),
//! logical (`any`, `all`), index (`argmax`, `argmin`), `prod` and `var`.
//! Each supplies a per-element step to [`crate::fold::fold`].

use crate::fold::{fold, EmptyDims, Reduction};
use crate::iter;
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Scalar, Tensor};

/// `v` is NaN (only floats compare unequal to themselves).
#[inline]
fn is_nan<T: PartialEq>(v: T) -> bool {
    #[allow(clippy::eq_op)]
    let nan = v != v;
    nan
}

/// Whether `v` replaces `best` as the running maximum (`want_max`) or
/// minimum: NaN wins over everything, earlier elements win ties.
#[inline]
fn beats<T: PartialOrd + Copy>(v: T, best: T, want_max: bool) -> bool {
    if is_nan(best) {
        return false;
    }
    if is_nan(v) {
        return true;
    }
    if want_max {
        v > best
    } else {
        v < best
    }
}

fn extremum_typed<T: Element>(x: &Tensor, red: &Reduction, want_max: bool) -> Result<Tensor> {
    let vals = fold(x, red, None::<T>, |acc: &mut Option<T>, v: T, _| match *acc {
        Some(best) if !beats(v, best, want_max) => {}
        _ => *acc = Some(v),
    })?;
    let vals: Vec<T> = vals.into_iter().map(|v| v.unwrap_or_default()).collect();
    Tensor::from_vec(vals, &red.out_sizes)
}

/// Shared body of `amax`, `amin`, `max` and `min`.
fn extremum(op: &str, name: &str, x: &Tensor, dims: Option<&[i64]>, keepdim: bool, want_max: bool) -> Result<Tensor> {
    let red = Reduction::new(op, x, dims, keepdim, EmptyDims::All)?;
    if dims.is_none_or(|d| d.is_empty()) && x.numel() == 0 {
        return Err(Error::index(
            op,
            format!("{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
        ));
    }
    red.require_nonempty(op, name, x)?;
    dispatch_dtype!(x.dtype(), T => extremum_typed::<T>(x, &red, want_max))
}

/// `aten::amax`: the maximum over `dim` (empty: every dim); NaN propagates.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 5.0, 2.0, 7.0], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::amax(&t, &[1], false).unwrap().to_vec::<f32>().unwrap(), vec![5.0, 7.0]);
/// assert_eq!(ft_kernels::reductions::amax(&t, &[], false).unwrap().to_vec::<f32>().unwrap(), vec![7.0]);
/// ```
pub fn amax(self_: &Tensor, dim: &[i64], keepdim: bool) -> Result<Tensor> {
    let red = Reduction::new("aten::amax", self_, Some(dim), keepdim, EmptyDims::All)?;
    red.require_nonempty("aten::amax", "amax", self_)?;
    dispatch_dtype!(self_.dtype(), T => extremum_typed::<T>(self_, &red, true))
}

/// `aten::amin`: the minimum over `dim` (empty: every dim); NaN propagates.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i8, 5, 2, -7], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::amin(&t, &[0], true).unwrap().to_vec::<i8>().unwrap(), vec![1, -7]);
/// ```
pub fn amin(self_: &Tensor, dim: &[i64], keepdim: bool) -> Result<Tensor> {
    let red = Reduction::new("aten::amin", self_, Some(dim), keepdim, EmptyDims::All)?;
    red.require_nonempty("aten::amin", "amin", self_)?;
    dispatch_dtype!(self_.dtype(), T => extremum_typed::<T>(self_, &red, false))
}

/// `aten::max`: the maximum of all elements (a 0-dim tensor); an empty input is an error.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0], &[3]).unwrap();
/// assert!(ft_kernels::reductions::max(&t).unwrap().to_vec::<f64>().unwrap()[0].is_nan());
/// ```
pub fn max(self_: &Tensor) -> Result<Tensor> {
    extremum("aten::max", "max", self_, None, false, true)
}

/// `aten::min`: the minimum of all elements (a 0-dim tensor); an empty input is an error.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![4u8, 2, 9], &[3]).unwrap();
/// assert_eq!(ft_kernels::reductions::min(&t).unwrap().to_vec::<u8>().unwrap(), vec![2]);
/// ```
pub fn min(self_: &Tensor) -> Result<Tensor> {
    extremum("aten::min", "min", self_, None, false, false)
}

// ---------------------------------------------------------------------------
// any / all
// ---------------------------------------------------------------------------

/// Shared body of `any` and `all`: uint8 inputs give uint8, all others bool.
fn logical(
    op: &str,
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    empty: EmptyDims,
    is_any: bool,
) -> Result<Tensor> {
    let red = Reduction::new(op, x, dims, keepdim, empty)?;
    let vals = dispatch_dtype!(x.dtype(), T => fold(x, &red, !is_any, |acc: &mut bool, v: T, _| {
        if is_any { *acc |= v.to_bool() } else { *acc &= v.to_bool() }
    })?);
    if x.dtype() == DType::U8 {
        Tensor::from_vec(vals.into_iter().map(u8::from).collect::<Vec<u8>>(), &red.out_sizes)
    } else {
        Tensor::from_vec(vals, &red.out_sizes)
    }
}

/// `aten::any`: whether any element is nonzero (uint8 for uint8 input, else bool).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0.0f32, 0.5], &[2]).unwrap();
/// assert_eq!(ft_kernels::reductions::any(&t).unwrap().to_vec::<bool>().unwrap(), vec![true]);
/// ```
pub fn any(self_: &Tensor) -> Result<Tensor> {
    logical("aten::any", self_, None, false, EmptyDims::All, true)
}

/// `aten::any.dim`: whether any element along `dim` is nonzero.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32, 0, 0, 3], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::any_dim(&t, 1, false).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn any_dim(self_: &Tensor, dim: i64, keepdim: bool) -> Result<Tensor> {
    logical("aten::any.dim", self_, Some(&[dim]), keepdim, EmptyDims::All, true)
}

/// `aten::any.dims`: whether any element over `dim` is nonzero (`None`: all
/// dims; `[]`: no dim, so each element is tested alone).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0i32, 2], &[2]).unwrap();
/// assert_eq!(ft_kernels::reductions::any_dims(&t, Some(&[]), false).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn any_dims(self_: &Tensor, dim: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    logical("aten::any.dims", self_, dim, keepdim, EmptyDims::NoneReduced, true)
}

/// `aten::all`: whether every element is nonzero (uint8 for uint8 input, else bool).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// assert_eq!(ft_kernels::reductions::all(&t).unwrap().to_vec::<bool>().unwrap(), vec![false]);
/// ```
pub fn all(self_: &Tensor) -> Result<Tensor> {
    logical("aten::all", self_, None, false, EmptyDims::All, false)
}

/// `aten::all.dim`: whether every element along `dim` is nonzero.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 0, 2, 3], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::all_dim(&t, 1, false).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn all_dim(self_: &Tensor, dim: i64, keepdim: bool) -> Result<Tensor> {
    logical("aten::all.dim", self_, Some(&[dim]), keepdim, EmptyDims::All, false)
}

// ---------------------------------------------------------------------------
// argmax / argmin
// ---------------------------------------------------------------------------

fn arg_typed<T: Element>(x: &Tensor, red: &Reduction, want_max: bool) -> Result<Vec<i64>> {
    let best = fold(
        x,
        red,
        None::<(T, usize)>,
        |acc: &mut Option<(T, usize)>, v: T, j| match *acc {
            Some((b, _)) if !beats(v, b, want_max) => {}
            _ => *acc = Some((v, j)),
        },
    )?;
    Ok(best.into_iter().map(|b| b.map_or(0, |(_, j)| j as i64)).collect())
}

/// Shared body of `argmax` and `argmin`.
fn arg_extremum(op: &str, name: &str, x: &Tensor, dim: Option<i64>, keepdim: bool, want_max: bool) -> Result<Tensor> {
    if x.dtype() == DType::Bool {
        return Err(Error::dtype(op, format!("{name}(): does not support bool input")));
    }
    let red = match dim {
        Some(d) => Reduction::new(op, x, Some(&[d]), keepdim, EmptyDims::All)?,
        None => {
            if x.numel() == 0 {
                return Err(Error::index(
                    op,
                    format!("{name}(): Expected reduction dim to be specified for input.numel() == 0."),
                ));
            }
            Reduction::from_mask(x, vec![true; x.dim()], keepdim)
        }
    };
    red.require_nonempty(op, name, x)?;
    let idx = dispatch_dtype!(x.dtype(), T => arg_typed::<T>(x, &red, want_max)?);
    Tensor::from_vec(idx, &red.out_sizes)
}

/// `aten::argmax`: the index of the first maximum along `dim` (`None`: of
/// the flattened input); NaN counts as the maximum.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 5.0, 5.0, 7.0], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::argmax(&t, Some(1), false).unwrap().to_vec::<i64>().unwrap(), vec![1, 1]);
/// assert_eq!(ft_kernels::reductions::argmax(&t, None, false).unwrap().to_vec::<i64>().unwrap(), vec![3]);
/// ```
pub fn argmax(self_: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
    arg_extremum("aten::argmax", "argmax", self_, dim, keepdim, true)
}

/// `aten::argmin`: the index of the first minimum along `dim` (`None`: of
/// the flattened input); NaN counts as the minimum.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![3i32, 1, 1], &[3]).unwrap();
/// assert_eq!(ft_kernels::reductions::argmin(&t, None, false).unwrap().to_vec::<i64>().unwrap(), vec![1]);
/// ```
pub fn argmin(self_: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
    arg_extremum("aten::argmin", "argmin", self_, dim, keepdim, false)
}

// ---------------------------------------------------------------------------
// prod
// ---------------------------------------------------------------------------

/// The dtype `prod`/`cumsum`/`cumprod` compute in: `dtype`, else int64 for
/// bool and integers, else the input's.
pub(crate) fn integral_to_long(x: &Tensor, dtype: Option<DType>) -> DType {
    dtype.unwrap_or(if x.dtype().is_integral(true) {
        DType::I64
    } else {
        x.dtype()
    })
}

fn prod_typed<T: Element>(x: &Tensor, red: &Reduction) -> Result<Tensor> {
    let vals: Vec<T> = if T::DTYPE.is_floating_point() {
        let p = fold(x, red, 1.0f64, |acc: &mut f64, v: T, _| *acc *= v.to_f64())?;
        p.into_iter().map(T::from_f64).collect()
    } else if T::DTYPE == DType::Bool {
        fold(x, red, true, |acc: &mut bool, v: T, _| *acc &= v.to_bool())?
            .into_iter()
            .map(T::from_bool)
            .collect()
    } else {
        let p = fold(x, red, 1i64, |acc: &mut i64, v: T, _| {
            *acc = acc.wrapping_mul(v.to_i64())
        })?;
        p.into_iter().map(T::from_i64).collect()
    };
    Tensor::from_vec(vals, &red.out_sizes)
}

fn prod_impl(op: &str, x: &Tensor, dim: Option<i64>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let red = match dim {
        Some(d) => Reduction::new(op, x, Some(&[d]), keepdim, EmptyDims::All)?,
        None => Reduction::from_mask(x, vec![true; x.dim()], false),
    };
    let out_dtype = integral_to_long(x, dtype);
    let src = iter::to_dtype(x, out_dtype)?;
    dispatch_dtype!(out_dtype, T => prod_typed::<T>(&src, &red))
}

/// `aten::prod`: the product of all elements; bool and integer inputs
/// multiply in int64 unless `dtype` is given (the input is cast first).
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![2i32, 3, 4], &[3]).unwrap();
/// let p = ft_kernels::reductions::prod(&t, None).unwrap();
/// assert_eq!((p.dtype(), p.to_vec::<i64>().unwrap()), (DType::I64, vec![24]));
/// ```
pub fn prod(self_: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    prod_impl("aten::prod", self_, None, false, dtype)
}

/// `aten::prod.dim_int`: the product along `dim`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::reductions::prod_dim_int(&t, 0, false, None).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 8.0]);
/// ```
pub fn prod_dim_int(self_: &Tensor, dim: i64, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    prod_impl("aten::prod.dim_int", self_, Some(dim), keepdim, dtype)
}

// ---------------------------------------------------------------------------
// var
// ---------------------------------------------------------------------------

/// Welford's running (count, mean, sum of squared deviations), in f64.
#[derive(Clone, Copy, Default)]
struct Welford {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn push(&mut self, v: f64) {
        self.n += 1.0;
        let delta = v - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (v - self.mean);
    }

    /// `m2 / max(0, n - correction)`, as PyTorch divides.
    fn var(&self, correction: f64) -> f64 {
        self.m2 / (self.n - correction).max(0.0)
    }
}

fn var_typed<T: Element>(x: &Tensor, red: &Reduction, correction: f64) -> Result<Tensor> {
    let acc = fold(x, red, Welford::default(), |w: &mut Welford, v: T, _| {
        w.push(v.to_f64())
    })?;
    let vals: Vec<T> = acc
        .into_iter()
        .map(|w| {
            if w.n == 0.0 {
                T::from_f64(f64::NAN)
            } else {
                T::from_f64(w.var(correction))
            }
        })
        .collect();
    Tensor::from_vec(vals, &red.out_sizes)
}

/// Shared body of `var.correction` and `var.dim`.
pub(crate) fn var_impl(op: &str, x: &Tensor, dim: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
    if !x.dtype().is_floating_point() {
        return Err(Error::dtype(
            op,
            "std and var only support floating point and complex dtypes",
        ));
    }
    let red = Reduction::new(op, x, dim, keepdim, EmptyDims::All)?;
    iter::dispatch_float!(x.dtype(), T => var_typed::<T>(x, &red, correction), _ => unreachable!("checked floating"))
}

/// `aten::var.correction`: the variance over `dim` (`None` or empty: all
/// dims), dividing by `N - correction` (default 1) clamped at 0.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]).unwrap();
/// let v = ft_kernels::reductions::var_correction(&t, None, None, false).unwrap();
/// assert!((v.to_vec::<f64>().unwrap()[0] - 5.0 / 3.0).abs() < 1e-12);
/// let p = ft_kernels::reductions::var_correction(&t, None, Some(0.into()), false).unwrap();
/// assert_eq!(p.to_vec::<f64>().unwrap(), vec![1.25]);
/// ```
pub fn var_correction(
    self_: &Tensor,
    dim: Option<&[i64]>,
    correction: Option<Scalar>,
    keepdim: bool,
) -> Result<Tensor> {
    let c = correction.map_or(1.0, |s| s.to_f64());
    var_impl("aten::var.correction", self_, dim, c, keepdim)
}

/// `aten::var.dim`: the variance over `dim`, unbiased (divide by `N - 1`) or not.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 3.0], &[2]).unwrap();
/// assert_eq!(ft_kernels::reductions::var_dim(&t, Some(&[0]), false, false).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
/// ```
pub fn var_dim(self_: &Tensor, dim: Option<&[i64]>, unbiased: bool, keepdim: bool) -> Result<Tensor> {
    var_impl("aten::var.dim", self_, dim, if unbiased { 1.0 } else { 0.0 }, keepdim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn extrema_propagate_nan_and_reject_empty() {
        let t = Tensor::from_vec(vec![1.0f32, f32::NAN, 3.0, 0.0], &[2, 2]).unwrap();
        let m = amax(&t, &[1], false).unwrap().to_vec::<f32>().unwrap();
        assert!(m[0].is_nan() && m[1] == 3.0);
        let e = Tensor::zeros_contiguous(&[0, 3], DType::F32);
        assert_eq!(amax(&e, &[0], false).unwrap_err().kind(), ErrorKind::IndexOutOfRange);
        assert_eq!(amax(&e, &[1], false).unwrap().sizes(), &[0]);
        assert_eq!(max(&e).unwrap_err().kind(), ErrorKind::IndexOutOfRange);
    }

    #[test]
    fn argmax_first_tie_and_nan() {
        let t = Tensor::from_vec(vec![2.0f64, 2.0, f64::NAN, f64::NAN], &[4]).unwrap();
        assert_eq!(argmax(&t, None, false).unwrap().to_vec::<i64>().unwrap(), vec![2]);
        assert_eq!(argmin(&t, Some(0), true).unwrap().sizes(), &[1]);
        let b = Tensor::from_vec(vec![true], &[1]).unwrap();
        assert_eq!(argmax(&b, None, false).unwrap_err().kind(), ErrorKind::DType);
    }

    #[test]
    fn prod_and_var() {
        let b = Tensor::from_vec(vec![true, true], &[2]).unwrap();
        assert_eq!(prod(&b, None).unwrap().to_vec::<i64>().unwrap(), vec![1]);
        let e = Tensor::zeros_contiguous(&[0], DType::F32);
        assert_eq!(prod(&e, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
        assert!(var_correction(&e, None, None, false).unwrap().to_vec::<f32>().unwrap()[0].is_nan());
        let one = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
        assert!(var_correction(&one, None, None, false)
            .unwrap()
            .to_vec::<f64>()
            .unwrap()[0]
            .is_nan());
        let i = Tensor::from_vec(vec![1i32], &[1]).unwrap();
        assert_eq!(var_dim(&i, None, true, false).unwrap_err().kind(), ErrorKind::DType);
    }
}
