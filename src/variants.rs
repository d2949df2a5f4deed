//! The write step of generated in-place (`abs_`) and `out=` (`abs.out`)
//! variants: the functional op has computed `result`; these check PyTorch's
//! rules and copy it into the written tensor.

use crate::{Error, Result, Tensor};
use ft_kernels::{copy, iter};

/// Writes `result` into `self_` for an in-place op: `self_` keeps its shape
/// (a result that broadcasts to a larger shape is an error) and its dtype
/// (the result's dtype must be castable to it: no float into integer, no
/// number into bool). `self_` must not have overlapping elements, nor
/// partially overlap any of `inputs`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1i64, -2], &[2]).unwrap();
/// let r = frankentorch::ops::abs(&a).unwrap();
/// frankentorch::variants::write_inplace("aten::abs_", &a, &[&a], &r).unwrap();
/// assert_eq!(a.to_vec::<i64>().unwrap(), vec![1, 2]);
/// let f = Tensor::from_vec(vec![0.5f32, 1.5], &[2]).unwrap();
/// assert!(frankentorch::variants::write_inplace("aten::add_.Tensor", &a, &[&a, &f], &f).is_err());
/// ```
pub fn write_inplace(op: &str, self_: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<Tensor> {
    if result.sizes() != self_.sizes() {
        return Err(Error::shape(
            op,
            format!(
                "output with shape {:?} doesn't match the broadcast shape {:?}",
                self_.sizes(),
                result.sizes()
            ),
        ));
    }
    write(op, self_, inputs, result)
}

/// Writes `result` into `out` for an `out=` op under the dtype and overlap
/// rules of [`write_inplace`]. `out` must already have the result's shape:
/// FrankenTorch tensors have fixed geometry, so unlike PyTorch an `out` of
/// another shape (even an empty one) is an error rather than resized
/// (recorded in FEATURE_PARITY.md).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f32, -2.0], &[2]).unwrap();
/// let out = Tensor::zeros_contiguous(&[2], DType::F64);
/// let r = frankentorch::ops::neg(&a).unwrap();
/// frankentorch::variants::write_out("aten::neg.out", &out, &[&a], &r).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![-1.0, 2.0]);
/// ```
pub fn write_out(op: &str, out: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<Tensor> {
    if result.sizes() != out.sizes() {
        return Err(Error::shape(
            op,
            format!(
                "out= tensor has shape {:?} but the result has shape {:?}; FrankenTorch does not resize out= tensors, pass one of the result's shape",
                out.sizes(),
                result.sizes()
            ),
        ));
    }
    write(op, out, inputs, result)
}

fn write(op: &str, dst: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<Tensor> {
    if !ft_runtime::can_cast(result.dtype(), dst.dtype()) {
        return Err(Error::dtype(
            op,
            format!(
                "result type {} can't be cast to the desired output type {}",
                result.dtype().scalar_type_name(),
                dst.dtype().scalar_type_name()
            ),
        ));
    }
    iter::check_no_internal_overlap(op, dst)?;
    for input in inputs {
        if !input.is_same(dst) {
            iter::check_no_partial_overlap(op, dst, input)?;
        }
    }
    copy::copy_(dst, result, false)
}
