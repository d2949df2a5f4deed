//! Functional fills and the remaining tensor factories of the Core ATen
//! opset: `fill.Scalar`, `scalar_tensor`, `empty_strided`.
//!
//! Storage is always zero-initialised, so `empty_strided` returns zeros
//! (PyTorch leaves it uninitialised; any value is allowed there).

use crate::copy::{check_scalar_fits, fill_checked};
use crate::factory::{check_options, like_strides};
use crate::iter;
use ft_runtime::shape::DimVec;
use ft_runtime::{DType, Device, Error, Layout, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// A new tensor shaped and laid out like `self_` (as `empty_like`), every
/// element `value` converted to `self_`'s dtype (an out-of-range value is
/// an error).
///
/// ```
/// use ft_kernels::fill::fill_scalar;
/// use ft_runtime::{Tensor, Scalar};
/// let t = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let f = fill_scalar(&t, Scalar::Float(2.5)).unwrap();
/// assert_eq!(f.to_vec::<i32>().unwrap(), vec![2, 2]);
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 2]); // self is untouched
/// ```
pub fn fill_scalar(self_: &Tensor, value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::fill.Scalar";
    check_scalar_fits(OP, value, self_.dtype())?;
    let out = iter::empty_strided(OP, self_.sizes(), &like_strides(self_, None), self_.dtype())?;
    fill_checked(OP, &out, value)?;
    Ok(out)
}

/// A 0-dim tensor holding `s`, of `dtype` (default float32, whatever the
/// number's kind).
///
/// ```
/// use ft_kernels::fill::scalar_tensor;
/// use ft_runtime::{Scalar, DType};
/// let t = scalar_tensor(Scalar::Int(2), None, None, None, None).unwrap();
/// assert_eq!((t.dim(), t.dtype(), t.to_vec::<f32>().unwrap()), (0, DType::F32, vec![2.0]));
/// assert!(scalar_tensor(Scalar::Int(300), Some(DType::I8), None, None, None).is_err());
/// ```
pub fn scalar_tensor(
    s: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::scalar_tensor";
    check_options(OP, layout, device, pin_memory)?;
    let dtype = dtype.unwrap_or(DEFAULT_DTYPE);
    check_scalar_fits(OP, s, dtype)?;
    let out = iter::empty_contiguous(OP, &[], dtype)?;
    fill_checked(OP, &out, s)?;
    Ok(out)
}

/// Converts a size or stride list to `usize`, rejecting negative entries
/// with PyTorch's messages.
fn to_usizes(op: &str, size: &[i64], stride: &[i64]) -> Result<(DimVec, DimVec)> {
    if let Some(&bad) = size.iter().find(|&&d| d < 0) {
        let parts: Vec<String> = size.iter().map(|d| d.to_string()).collect();
        return Err(Error::invalid(
            op,
            format!(
                "Trying to create tensor with negative dimension {bad}: [{}]",
                parts.join(", ")
            ),
        ));
    }
    if stride.iter().any(|&s| s < 0) {
        let fmt = |v: &[i64]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
        return Err(Error::invalid(
            op,
            format!(
                "Storage size calculation overflowed with sizes=[{}] and strides=[{}]",
                fmt(size),
                fmt(stride)
            ),
        ));
    }
    Ok((
        size.iter().map(|&d| d as usize).collect(),
        stride.iter().map(|&d| d as usize).collect(),
    ))
}

/// A new tensor with the given sizes and strides (any strides, even
/// overlapping ones), default dtype float32. Uninitialised in PyTorch;
/// zero-filled here.
///
/// ```
/// use ft_kernels::fill::empty_strided;
/// use ft_runtime::DType;
/// let t = empty_strided(&[2, 3], &[1, 2], Some(DType::F64), None, None, None).unwrap();
/// assert_eq!((t.strides(), t.dtype()), (&[1usize, 2][..], DType::F64));
/// assert!(empty_strided(&[2, 3], &[1], None, None, None, None).is_err());
/// ```
pub fn empty_strided(
    size: &[i64],
    stride: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::empty_strided";
    check_options(OP, layout, device, pin_memory)?;
    if size.len() != stride.len() {
        return Err(Error::invalid(
            OP,
            format!(
                "dimensionality of sizes ({}) must match dimensionality of strides ({})",
                size.len(),
                stride.len()
            ),
        ));
    }
    let (sizes, strides) = to_usizes(OP, size, stride)?;
    iter::empty_strided(OP, &sizes, &strides, dtype.unwrap_or(DEFAULT_DTYPE))
}
