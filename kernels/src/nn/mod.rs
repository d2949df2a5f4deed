//! Neural-network operators: padding, pooling, upsampling, embedding,
//! im2col/col2im and convolution.
//!
//! Every kernel here works on *planes*: the leading (batch and channel) dims
//! of its input are flattened into a plane count and the trailing spatial
//! dims are widened to three (`[d, h, w]`, leading ones filled with size 1),
//! so one 3-D routine serves the 1-D, 2-D and 3-D variants. Inputs are read
//! once into a row-major buffer ([`read_vec`]); floating arithmetic is done in
//! the op-math type ([`Real`]: f32 for float16/bfloat16/float32, f64 for
//! float64) and rounded once into the output.

pub mod conv;
pub mod ctc;
pub mod distance;
pub mod embedding;
pub mod embedding_bag;
pub mod fold;
pub mod grid_sample;
pub mod loss;
pub mod maxpool;
pub mod norm;
pub mod pad;
pub mod pool;
pub mod upsample;

use ft_runtime::shape;
use ft_runtime::{DType, Element, Error, Result, StorageAccess, Tensor};
use std::ops::{Add, AddAssign, Div, Mul, Sub};

/// Floating op-math arithmetic (f32 or f64) used by the nn kernels.
///
/// ```
/// use ft_kernels::nn::Real;
/// assert_eq!(<f32 as Real>::of(0.5) * 2.0, 1.0);
/// assert_eq!(Real::to_f64(2.5f64), 2.5);
/// ```
pub trait Real:
    Copy
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + AddAssign
{
    /// Zero.
    const ZERO: Self;
    /// Converts from f64 (rounding for f32).
    fn of(v: f64) -> Self;
    /// Converts to f64 (exact).
    fn to_f64(self) -> f64;
    /// Converts a count (exact for counts below 2^24 in f32).
    fn of_usize(v: usize) -> Self;
    /// True for NaN.
    fn nan(self) -> bool;
}

macro_rules! real {
    ($($t:ty),*) => {$(
        impl Real for $t {
            const ZERO: Self = 0.0;
            #[inline(always)]
            fn of(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn of_usize(v: usize) -> Self {
                v as $t
            }
            #[inline(always)]
            fn nan(self) -> bool {
                self.is_nan()
            }
        }
    )*};
}
real!(f32, f64);

/// The elements of `t` in row-major order (a plain copy when `t` is contiguous).
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2]).unwrap();
/// assert_eq!(ft_kernels::nn::read_vec::<i32>(&t).unwrap(), vec![1, 2, 3, 4]);
/// ```
pub fn read_vec<T: Element>(t: &Tensor) -> Result<Vec<T>> {
    if t.is_contiguous() && T::DTYPE == t.dtype() && T::DTYPE != DType::Bool {
        let access = StorageAccess::lock(&[t.storage()], &[]);
        let base = access.base_ptr(t.storage()) as *const T;
        // SAFETY: the storage is read-locked by `access`; a contiguous tensor's
        // elements are the `numel` consecutive elements from its offset, which
        // were bounds-checked when the tensor was made; storages are aligned
        // for every element type, and T matches the dtype (no invalid values).
        let run = unsafe { std::slice::from_raw_parts(base.add(t.storage_offset()), t.numel()) };
        return Ok(run.to_vec());
    }
    t.to_vec::<T>()
}

/// A new zero-filled contiguous tensor of shape `sizes`, filled in place by
/// `fill` (which gets its elements as a mutable row-major slice); this skips
/// the copy [`tensor_of`] makes.
pub(crate) fn new_filled<T: Element>(op: &str, sizes: &[usize], fill: impl FnOnce(&mut [T])) -> Result<Tensor> {
    let t = crate::iter::empty_contiguous(op, sizes, T::DTYPE)?;
    {
        let access = StorageAccess::lock(&[], &[t.storage()]);
        let base = access.base_ptr_mut(t.storage()) as *mut T;
        // SAFETY: `t` is a fresh contiguous tensor of `numel` zeroed elements
        // (zero bytes are a valid value of every element type), its storage is
        // write-locked by `access` and aligned for T, and no other reference
        // to it exists while the slice lives.
        let data = unsafe { std::slice::from_raw_parts_mut(base, t.numel()) };
        fill(data);
    }
    Ok(t)
}

/// A contiguous tensor of shape `sizes` holding `data`.
pub(crate) fn tensor_of<T: Element>(data: Vec<T>, sizes: &[usize]) -> Result<Tensor> {
    Tensor::from_vec(data, sizes)
}

/// Spatial sizes widened to three dims (`[3, 4]` becomes `[1, 3, 4]`).
pub(crate) fn widen3(spatial: &[usize]) -> [usize; 3] {
    let mut out = [1usize; 3];
    out[3 - spatial.len()..].copy_from_slice(spatial);
    out
}

/// Splits `sizes` into (planes, spatial) where the last `k` dims are spatial.
pub(crate) fn split_planes(sizes: &[usize], k: usize) -> (usize, &[usize]) {
    let lead = sizes.len() - k;
    (shape::numel(&sizes[..lead]), &sizes[lead..])
}

/// Formats sizes like PyTorch prints them in messages (`[2, 3]`).
pub(crate) fn fmt(sizes: &[usize]) -> String {
    shape::fmt_sizes(sizes)
}

/// The dtype error PyTorch raises when a kernel has no implementation for a dtype.
pub(crate) fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// Expands a 1-element or `n`-element int list to `n` entries (PyTorch's
/// `int[2]` argument convention), naming `what` in the error.
pub(crate) fn expand_param(op: &str, what: &str, v: &[i64], n: usize) -> Result<Vec<i64>> {
    match v.len() {
        1 => Ok(vec![v[0]; n]),
        l if l == n => Ok(v.to_vec()),
        _ => Err(Error::invalid(
            op,
            format!("{what} must either be a single int, or a tuple of {n} ints"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_vec_of_strided_and_contiguous() {
        let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        assert_eq!(read_vec::<f32>(&t).unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let tt = t.as_view(&[3, 2], &[1, 3], 0).unwrap();
        assert_eq!(read_vec::<f32>(&tt).unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert!(read_vec::<f64>(&t).is_err());
    }

    #[test]
    fn widen_split_and_params() {
        assert_eq!(widen3(&[4]), [1, 1, 4]);
        assert_eq!(widen3(&[2, 3, 4]), [2, 3, 4]);
        assert_eq!(split_planes(&[2, 3, 4, 5], 2), (6, &[4usize, 5][..]));
        assert_eq!(expand_param("op", "stride", &[2], 3).unwrap(), vec![2, 2, 2]);
        assert!(expand_param("op", "stride", &[2, 2], 3).is_err());
    }
}
