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
    check_same_shape(op, self_, result)?;
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
    check_out_shape(op, out, result)?;
    write(op, out, inputs, result)
}

/// `out` must already have the result's shape (FrankenTorch does not resize).
fn check_out_shape(op: &str, out: &Tensor, result: &Tensor) -> Result<()> {
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
    Ok(())
}

/// Writes the results of a multi-output op into its `out` tensors
/// (`max.dim_max`, `sort.values`, `native_layer_norm.out`). PyTorch's rule
/// for these is stricter than for one output: each `out` must have its
/// result's dtype exactly, and a result an `output_mask` left undefined
/// (`None`) cannot be written at all. Every `out` is checked (shape as in
/// [`write_out`], overlap) before any is written, so a refused call changes
/// nothing.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3.0f32, 1.0, 2.0], &[3]).unwrap();
/// let (v, i) = frankentorch::ops::sort(&x, 0, false).unwrap();
/// let (vo, io) = (Tensor::zeros_contiguous(&[3], DType::F32), Tensor::zeros_contiguous(&[3], DType::I64));
/// frankentorch::variants::write_outs("aten::sort.values", &[&vo, &io], &[&x], &[Some(&v), Some(&i)]).unwrap();
/// assert_eq!(vo.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0]);
/// let wrong = Tensor::zeros_contiguous(&[3], DType::F64);
/// assert!(frankentorch::variants::write_outs("aten::sort.values", &[&wrong, &io], &[&x], &[Some(&v), Some(&i)]).is_err());
/// ```
pub fn write_outs(op: &str, outs: &[&Tensor], inputs: &[&Tensor], results: &[Option<&Tensor>]) -> Result<()> {
    for (out, result) in outs.iter().zip(results) {
        let Some(result) = result else {
            return Err(Error::invalid(
                op,
                format!(
                    "Expected out tensor to have dtype nullptr (uninitialized), but got {} instead: output_mask left this result undefined, so it cannot be written",
                    out.dtype().scalar_type_name()
                ),
            ));
        };
        if result.dtype() != out.dtype() {
            return Err(Error::dtype(
                op,
                format!(
                    "Expected out tensor to have dtype {}, but got {} instead",
                    result.dtype().scalar_type_name(),
                    out.dtype().scalar_type_name()
                ),
            ));
        }
        check_out_shape(op, out, result)?;
        let others = outs.iter().filter(|o| !o.is_same(out));
        let mut all_inputs: Vec<&Tensor> = inputs.to_vec();
        all_inputs.extend(others);
        check_write(op, out, &all_inputs, result)?;
    }
    for (out, result) in outs.iter().zip(results.iter().flatten()) {
        copy::copy_(out, result, false)?;
    }
    Ok(())
}

/// PyTorch's rule for in-place and `out=` calls given an explicit `dtype=`:
/// the written tensor must already have that dtype (no cast).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// assert!(frankentorch::variants::check_explicit_dtype("aten::cumsum_", &a, Some(DType::F32)).is_ok());
/// assert!(frankentorch::variants::check_explicit_dtype("aten::cumsum_", &a, Some(DType::F64)).is_err());
/// ```
pub fn check_explicit_dtype(op: &str, written: &Tensor, dtype: Option<crate::DType>) -> Result<()> {
    match dtype {
        Some(d) if d != written.dtype() => Err(Error::dtype(
            op,
            format!(
                "the written tensor has dtype {} but dtype={} was requested; they must match",
                written.dtype().scalar_type_name(),
                d.scalar_type_name()
            ),
        )),
        _ => Ok(()),
    }
}

/// The tensor a composite in-place op computes from: `self_` itself, or,
/// when autograd records the op, a recorded clone of it, so the functional
/// op's graph saves the clone rather than `self_`, whose version the write
/// is about to bump (PyTorch's `original_self`).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// assert!(frankentorch::variants::inplace_source(&a, &[&a]).unwrap().is_same(&a));
/// ```
pub fn inplace_source(self_: &Tensor, inputs: &[&Tensor]) -> Result<Tensor> {
    if crate::tls::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
        crate::ops::clone(self_)
    } else {
        Ok(self_.clone())
    }
}

/// The write step of an in-place variant of a composite op: the checks of
/// [`write_inplace`], then a recorded `copy_` into `self_` (so autograd sees
/// the write, including through views, and refuses it on a leaf).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let r = Tensor::from_vec(vec![5.0f32, 6.0], &[2]).unwrap();
/// frankentorch::variants::copy_into_self("aten::masked_fill_.Scalar", &a, &[&a], &r).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![5.0, 6.0]);
/// assert_eq!(a.version(), 1);
/// ```
pub fn copy_into_self(op: &str, self_: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<Tensor> {
    check_same_shape(op, self_, result)?;
    check_write(op, self_, inputs, result)?;
    crate::ops::copy_(self_, result, false)
}

fn check_same_shape(op: &str, self_: &Tensor, result: &Tensor) -> Result<()> {
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
    Ok(())
}

fn write(op: &str, dst: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<Tensor> {
    check_write(op, dst, inputs, result)?;
    copy::copy_(dst, result, false)
}

fn check_write(op: &str, dst: &Tensor, inputs: &[&Tensor], result: &Tensor) -> Result<()> {
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
    Ok(())
}
