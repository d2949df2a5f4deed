//! CompositeImplicitAutograd kernels of the pointwise family: `clamp_min`,
//! `clamp_max`, `floor_divide`, `addcmul`, `addcdiv` and `masked_fill`,
//! defined by calling other operators (autograd flows through them).
//!
//! float16/bfloat16 arithmetic is done in float32 and cast back once, as
//! PyTorch's fused kernels do, so the composites round like them.

use crate::autograd_helpers::to_dtype;
use crate::ops;
use crate::{DType, Error, Result, Scalar, Tensor};
use ft_runtime::promotion::{result_type, Operand};

/// Renames errors raised by the operators a composite calls to the composite.
fn named<T>(op: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| if e.op().starts_with("aten::") { e.with_op(op) } else { e })
}

/// The dtype arithmetic runs in: float32 for float16/bfloat16, else `dtype`.
fn compute_dtype(dtype: DType) -> DType {
    match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    }
}

/// "`kernel` not implemented for 'Long'", PyTorch's missing-dtype error.
fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// `aten::clamp_min`: `clamp(self, min, None)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1i64, 5], &[2]).unwrap();
/// assert_eq!(ops::clamp_min(&t, 2).unwrap().to_vec::<i64>().unwrap(), vec![2, 5]);
/// ```
pub fn clamp_min(self_: &Tensor, min: Scalar) -> Result<Tensor> {
    named("aten::clamp_min", ops::clamp(self_, Some(min), None))
}

/// `aten::clamp_max`: `clamp(self, None, max)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1.0f32, 5.0], &[2]).unwrap();
/// assert_eq!(ops::clamp_max(&t, 2).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
/// ```
pub fn clamp_max(self_: &Tensor, max: Scalar) -> Result<Tensor> {
    named("aten::clamp_max", ops::clamp(self_, None, Some(max)))
}

/// `aten::floor_divide`: `div(self, other, rounding_mode="floor")`.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![7i32, -7], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![2i32], &[1]).unwrap();
/// assert_eq!(ops::floor_divide(&a, &b).unwrap().to_vec::<i32>().unwrap(), vec![3, -4]);
/// ```
pub fn floor_divide(self_: &Tensor, other: &Tensor) -> Result<Tensor> {
    named("aten::floor_divide", ops::div_tensor_mode(self_, other, Some("floor")))
}

/// The promoted dtype of `addcmul`/`addcdiv`, and the three operands cast
/// to the dtype the arithmetic runs in.
fn addc_operands(self_: &Tensor, t1: &Tensor, t2: &Tensor) -> Result<(DType, [Tensor; 3])> {
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Tensor(t1), Operand::Tensor(t2)]);
    let ct = compute_dtype(dtype);
    Ok((dtype, [to_dtype(self_, ct)?, to_dtype(t1, ct)?, to_dtype(t2, ct)?]))
}

/// `value` as the element type of `dtype` converts it (integers truncate).
fn value_for(dtype: DType, value: Scalar) -> Scalar {
    if dtype.is_floating_point() {
        value
    } else {
        Scalar::Int(value.to_i64())
    }
}

/// `aten::addcmul`: `self + value * tensor1 * tensor2`, broadcasting all
/// three and promoting their dtypes (bool is an error; with integers
/// `value` is truncated to an integer).
///
/// ```
/// use frankentorch::prelude::*;
/// let s = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let a = Tensor::from_vec(vec![2.0f64, 3.0], &[2]).unwrap();
/// let r = ops::addcmul_full(&s, &a, &a, 0.5).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 5.5]);
/// ```
pub fn addcmul(self_: &Tensor, tensor1: &Tensor, tensor2: &Tensor, value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::addcmul";
    let (dtype, [s, a, b]) = addc_operands(self_, tensor1, tensor2)?;
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "addcmul_cpu_out", dtype));
    }
    let r = named(
        OP,
        (|| {
            let scaled = ops::mul_scalar(&a, value_for(dtype, value))?;
            ops::add(&s, &ops::mul(&scaled, &b)?)
        })(),
    )?;
    to_dtype(&r, dtype)
}

/// `aten::addcdiv`: `self + value * tensor1 / tensor2`, broadcasting and
/// promoting; two integral `tensor1`/`tensor2` are an error.
///
/// ```
/// use frankentorch::prelude::*;
/// let s = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// let a = Tensor::from_vec(vec![3.0f32], &[1]).unwrap();
/// let b = Tensor::from_vec(vec![2.0f32], &[1]).unwrap();
/// assert_eq!(ops::addcdiv_full(&s, &a, &b, 2).unwrap().to_vec::<f32>().unwrap(), vec![4.0]);
/// ```
pub fn addcdiv(self_: &Tensor, tensor1: &Tensor, tensor2: &Tensor, value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::addcdiv";
    if tensor1.dtype().is_integral(true) && tensor2.dtype().is_integral(true) {
        return Err(Error::invalid(
            OP,
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes.",
        ));
    }
    let (dtype, [s, a, b]) = addc_operands(self_, tensor1, tensor2)?;
    let r = named(
        OP,
        (|| {
            let scaled = ops::mul_scalar(&a, value_for(dtype, value))?;
            ops::add(&s, &ops::div(&scaled, &b)?)
        })(),
    )?;
    to_dtype(&r, dtype)
}

/// PyTorch's requirement that a mask be bool.
fn check_mask(op: &str, mask: &Tensor) -> Result<()> {
    if mask.dtype() != DType::Bool {
        return Err(Error::dtype(
            op,
            format!(
                "masked_fill_ only supports boolean masks, but got mask with dtype {}",
                mask.dtype().scalar_type_name()
            ),
        ));
    }
    Ok(())
}

/// `where(mask, value, self)` made contiguous (PyTorch fills a contiguous
/// clone of `self` broadcast with `mask`).
fn fill_where(op: &str, self_: &Tensor, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
    named(
        op,
        ops::where_self(mask, value, self_).and_then(|r| ops::contiguous(&r)),
    )
}

/// `aten::masked_fill.Scalar`: `self` with `value` where `mask` is true,
/// broadcasting `self` and the bool `mask`; the dtype stays `self`'s.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
/// let m = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
/// assert_eq!(ops::masked_fill(&t, &m, 2.5).unwrap().to_vec::<i64>().unwrap(), vec![2, 2, 2]);
/// ```
pub fn masked_fill_scalar(self_: &Tensor, mask: &Tensor, value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::masked_fill.Scalar";
    check_mask(OP, mask)?;
    ft_kernels::copy::check_scalar_fits(OP, value, self_.dtype())?;
    let v = Tensor::scalar_tensor(value, self_.dtype());
    fill_where(OP, self_, mask, &v)
}

/// `aten::masked_fill.Tensor`: `masked_fill` with a 0-dim tensor `value`
/// (cast to `self`'s dtype; it receives the sum of the masked gradient).
///
/// ```
/// use frankentorch::prelude::*;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let m = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let v = Tensor::from_vec(vec![5.0f64], &[]).unwrap();
/// assert_eq!(ops::masked_fill_tensor(&t, &m, &v).unwrap().to_vec::<f32>().unwrap(), vec![5.0, 2.0]);
/// ```
pub fn masked_fill_tensor(self_: &Tensor, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::masked_fill.Tensor";
    check_mask(OP, mask)?;
    if value.dim() != 0 {
        return Err(Error::invalid(
            OP,
            format!(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
                value.dim()
            ),
        ));
    }
    let v = to_dtype(value, self_.dtype())?;
    fill_where(OP, self_, mask, &v)
}
