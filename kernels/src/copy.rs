//! Copies and fills: `copy_`, `clone`, `_to_copy`, `fill_`, `zero_`, and the
//! checked scalar conversion they share with the factories.

use crate::factory::{check_options, like_strides};
use crate::iter;
use ft_runtime::half::bf16;
use ft_runtime::{dispatch_dtype, DType, Device, Element, Error, Layout, MemoryFormat, Result, Scalar, Tensor};

/// Whether `value` converts to `dtype` without overflow, by c10's rules:
/// nothing overflows bool or float64; NaN and infinities fit floats; NaN
/// never fits an integer; a negative int may wrap into uint8 if its
/// magnitude fits.
fn scalar_fits(value: Scalar, dtype: DType) -> bool {
    let float_max = match dtype {
        DType::Bool | DType::F64 => return true,
        DType::F16 => Some(65504.0),
        DType::BF16 => Some(bf16::MAX.to_f64()),
        DType::F32 => Some(f32::MAX as f64),
        _ => None,
    };
    if let Some(max) = float_max {
        return match value {
            Scalar::Bool(_) => true,
            Scalar::Int(i) => (i as f64).abs() <= max,
            Scalar::Float(f) => !f.is_finite() || f.abs() <= max,
        };
    }
    let (lo, hi): (i128, i128) = match dtype {
        DType::U8 => (0, u8::MAX as i128),
        DType::I8 => (i8::MIN as i128, i8::MAX as i128),
        DType::I16 => (i16::MIN as i128, i16::MAX as i128),
        DType::I32 => (i32::MIN as i128, i32::MAX as i128),
        _ => (i64::MIN as i128, i64::MAX as i128),
    };
    match value {
        Scalar::Bool(_) => true,
        Scalar::Int(i) if dtype == DType::U8 => (i as i128) <= hi && -(i as i128) <= hi,
        Scalar::Int(i) => lo <= i as i128 && i as i128 <= hi,
        Scalar::Float(f) => !f.is_nan() && f >= lo as f64 && f <= hi as f64,
    }
}

/// Fails with PyTorch's overflow error when `value` does not fit `dtype`
/// (named by its Python name, e.g. `int8`).
///
/// ```
/// use ft_kernels::copy::check_scalar_fits;
/// use ft_runtime::{Scalar, DType};
/// assert!(check_scalar_fits("aten::fill_.Scalar", Scalar::Int(-1), DType::U8).is_ok()); // wraps to 255
/// let e = check_scalar_fits("aten::fill_.Scalar", Scalar::Int(300), DType::I8).unwrap_err();
/// assert_eq!(e.message(), "value cannot be converted to type int8 without overflow");
/// assert!(check_scalar_fits("aten::fill_.Scalar", Scalar::Float(1e5), DType::F16).is_err());
/// assert!(check_scalar_fits("aten::fill_.Scalar", Scalar::Float(f64::NAN), DType::F16).is_ok());
/// ```
pub fn check_scalar_fits(op: &str, value: Scalar, dtype: DType) -> Result<()> {
    if scalar_fits(value, dtype) {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("value cannot be converted to type {} without overflow", dtype.name()),
        ))
    }
}

/// `value` as an element of `T` the way c10 converts a scalar (half types
/// go through float32).
pub(crate) fn scalar_to_elem<T: Element>(value: Scalar) -> T {
    if matches!(T::DTYPE, DType::F16 | DType::BF16) {
        T::from_f64(value.to_elem::<f32>() as f64)
    } else {
        value.to_elem::<T>()
    }
}

/// Fills `t` with `value` (checked against `t`'s dtype). No overlap check:
/// filling is idempotent, so expanded tensors may be filled.
pub(crate) fn fill_checked(op: &str, t: &Tensor, value: Scalar) -> Result<()> {
    check_scalar_fits(op, value, t.dtype())?;
    dispatch_dtype!(t.dtype(), T => iter::fill(t, scalar_to_elem::<T>(value)))
}

/// True when `a` and `b` view exactly the same elements the same way.
fn same_data(a: &Tensor, b: &Tensor) -> bool {
    a.storage().is_same(b.storage())
        && a.storage_offset() == b.storage_offset()
        && a.strides() == b.strides()
        && a.sizes() == b.sizes()
        && a.dtype() == b.dtype()
}

/// Copies `src` into `self_`, broadcasting `src` to `self_`'s shape and
/// casting to `self_`'s dtype (float to integer truncates). Returns `self_`.
///
/// ```
/// use ft_kernels::copy::copy_;
/// use ft_runtime::{Tensor, DType};
/// let dst = Tensor::zeros_contiguous(&[2, 2], DType::I32);
/// let src = Tensor::from_vec(vec![1.7f64, -2.7], &[2]).unwrap();
/// copy_(&dst, &src, false).unwrap();
/// assert_eq!(dst.to_vec::<i32>().unwrap(), vec![1, -2, 1, -2]);
/// ```
pub fn copy_(self_: &Tensor, src: &Tensor, non_blocking: bool) -> Result<Tensor> {
    const OP: &str = "aten::copy_";
    let _ = non_blocking; // CPU copies are synchronous
    if self_.is_same(src) || same_data(self_, src) {
        return Ok(self_.clone());
    }
    iter::check_no_internal_overlap(OP, self_)?;
    iter::check_no_partial_overlap(OP, self_, src)?;
    iter::broadcast_all(OP, &[self_, src], Some(self_))?;
    iter::cast_copy(self_, src)?;
    Ok(self_.clone())
}

/// A copy of `self_` with new storage. Under `Preserve` (the default) a
/// dense, non-overlapping tensor keeps its strides and any other keeps its
/// dim order; `Contiguous` gives row-major strides.
///
/// ```
/// use ft_kernels::copy::clone;
/// use ft_runtime::{Tensor, MemoryFormat};
/// let t = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap().as_view(&[2, 2], &[1, 2], 0).unwrap();
/// let c = clone(&t, None).unwrap();
/// assert_eq!(c.strides(), &[1, 2]);
/// assert!(!c.storage().is_same(t.storage()));
/// assert_eq!(clone(&t, Some(MemoryFormat::Contiguous)).unwrap().strides(), &[2, 1]);
/// assert_eq!(c.to_vec::<i64>().unwrap(), vec![1, 3, 2, 4]);
/// ```
pub fn clone(self_: &Tensor, memory_format: Option<MemoryFormat>) -> Result<Tensor> {
    const OP: &str = "aten::clone";
    let out = iter::empty_strided(OP, self_.sizes(), &like_strides(self_, memory_format), self_.dtype())?;
    iter::cast_copy(&out, self_)?;
    Ok(out)
}

/// A copy of `self_`, optionally converted to `dtype` (PyTorch's `_to_copy`,
/// behind `.to()`); strides follow [`clone`]. Only strided CPU tensors
/// without pinned memory are supported.
///
/// ```
/// use ft_kernels::copy::to_copy;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1.5f32, -0.5], &[2]).unwrap();
/// let r = to_copy(&t, Some(DType::I8), None, None, None, false, None).unwrap();
/// assert_eq!(r.to_vec::<i8>().unwrap(), vec![1, 0]);
/// assert!(to_copy(&t, None, None, None, Some(true), false, None).is_err());
/// ```
pub fn to_copy(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    non_blocking: bool,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    const OP: &str = "aten::_to_copy";
    let _ = non_blocking; // CPU copies are synchronous
    check_options(OP, layout, device, pin_memory)?;
    let dtype = dtype.unwrap_or(self_.dtype());
    let out = iter::empty_strided(OP, self_.sizes(), &like_strides(self_, memory_format), dtype)?;
    iter::cast_copy(&out, self_)?;
    Ok(out)
}

/// Writes `value` into every element of `self_`, converted to its dtype;
/// a value that overflows the dtype is an error. Returns `self_`.
///
/// ```
/// use ft_kernels::copy::fill_;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let t = Tensor::zeros_contiguous(&[3], DType::I8);
/// fill_(&t, Scalar::Float(2.9)).unwrap();
/// assert_eq!(t.to_vec::<i8>().unwrap(), vec![2, 2, 2]);
/// assert!(fill_(&t, Scalar::Int(128)).is_err());
/// ```
pub fn fill_(self_: &Tensor, value: Scalar) -> Result<Tensor> {
    fill_checked("aten::fill_.Scalar", self_, value)?;
    Ok(self_.clone())
}

/// Fills `self_` with zeros. Returns `self_`.
///
/// ```
/// use ft_kernels::copy::zero_;
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![true, true], &[2]).unwrap();
/// zero_(&t).unwrap();
/// assert_eq!(t.to_vec::<bool>().unwrap(), vec![false, false]);
/// ```
pub fn zero_(self_: &Tensor) -> Result<Tensor> {
    fill_checked("aten::zero_", self_, Scalar::Int(0))?;
    Ok(self_.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::half::f16;
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn copy_casts_every_pair_of_dtypes() {
        for from in DType::ALL {
            for to in DType::ALL {
                let src = to_copy(&t(vec![0i64, 1, 2], &[3]), Some(from), None, None, None, false, None).unwrap();
                let dst = Tensor::zeros_contiguous(&[3], to);
                copy_(&dst, &src, false).unwrap();
                let expect = if to == DType::Bool || from == DType::Bool {
                    vec![0.0, 1.0, 1.0]
                } else {
                    vec![0.0, 1.0, 2.0]
                };
                assert_eq!(dst.to_f64_vec(), expect, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn copy_broadcasts_and_checks_shapes() {
        let dst = Tensor::zeros_contiguous(&[2, 3], DType::F32);
        copy_(&dst, &t(vec![1.0f64, 2.0, 3.0], &[3]), false).unwrap();
        assert_eq!(dst.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        copy_(&dst, &t(vec![9i64], &[]), false).unwrap();
        assert_eq!(dst.to_vec::<f32>().unwrap(), vec![9.0; 6]);
        let small = Tensor::zeros_contiguous(&[3], DType::F32);
        let e = copy_(&small, &dst, false).unwrap_err();
        assert_eq!(
            e.message(),
            "output with shape [3] doesn't match the broadcast shape [2, 3]"
        );
        let e = copy_(&small, &t(vec![1.0f32; 4], &[4]), false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        let empty = Tensor::zeros_contiguous(&[0, 3], DType::I16);
        copy_(&empty, &t(vec![1i16, 2, 3], &[3]), false).unwrap();
    }

    #[test]
    fn copy_into_strided_destination() {
        let m = Tensor::zeros_contiguous(&[2, 3], DType::I64);
        let col = m.as_view(&[2], &[3], 2).unwrap();
        copy_(&col, &t(vec![7i64, 8], &[2]), false).unwrap();
        assert_eq!(m.to_vec::<i64>().unwrap(), vec![0, 0, 7, 0, 0, 8]);
        let mt = m.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let src = t((0..6).collect::<Vec<i64>>(), &[3, 2]);
        copy_(&mt, &src, false).unwrap();
        assert_eq!(m.to_vec::<i64>().unwrap(), vec![0, 2, 4, 1, 3, 5]);
    }

    #[test]
    fn copy_aliasing_rules() {
        let a = t(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
        assert!(copy_(&a, &a, false).unwrap().is_same(&a));
        copy_(&a, &a.as_view(&[2, 2], &[2, 1], 0).unwrap(), false).unwrap();
        let at = a.as_view(&[2, 2], &[1, 2], 0).unwrap();
        let e = copy_(&a, &at, false).unwrap_err();
        assert!(e.message().starts_with("unsupported operation: some elements"));
        let expanded = t(vec![0.0f32; 2], &[2]).as_view(&[2, 2], &[0, 1], 0).unwrap();
        let e = copy_(&expanded, &a, false).unwrap_err();
        assert!(e.message().starts_with("unsupported operation: more than one element"));
    }

    #[test]
    fn clone_layouts() {
        let base = t((0..24).map(|i| i as f32).collect::<Vec<_>>(), &[4, 6]);
        let sliced = base.as_view(&[4, 3], &[6, 2], 0).unwrap();
        let c = clone(&sliced, None).unwrap();
        assert_eq!(c.strides(), &[3, 1]);
        assert_eq!(c.to_vec::<f32>().unwrap(), sliced.to_vec::<f32>().unwrap());
        let t_sliced = base.as_view(&[6, 2], &[1, 12], 0).unwrap(); // transposed, every other column
        assert_eq!(
            clone(&t_sliced, Some(MemoryFormat::Preserve)).unwrap().strides(),
            &[1, 6]
        );
        let expanded = base.as_view(&[3, 6], &[0, 1], 0).unwrap();
        let c = clone(&expanded, None).unwrap();
        assert_eq!(c.strides(), &[6, 1]);
        assert_eq!(c.to_vec::<f32>().unwrap(), expanded.to_vec::<f32>().unwrap());
        let z = t(vec![f16::from_f32(1.5)], &[]);
        assert_eq!(
            clone(&z, None).unwrap().to_vec::<f16>().unwrap(),
            vec![f16::from_f32(1.5)]
        );
        assert_eq!(clone(&t(Vec::<u8>::new(), &[0]), None).unwrap().sizes(), &[0]);
    }

    #[test]
    fn to_copy_rules() {
        let x = t(vec![-1.0f32, 256.5, f32::NAN], &[3]);
        let u = to_copy(&x, Some(DType::U8), None, None, None, false, None).unwrap();
        assert_eq!(u.to_vec::<u8>().unwrap(), vec![255, 0, 0]);
        let b = to_copy(
            &x,
            Some(DType::Bool),
            Some(Layout::Strided),
            Some(Device::Cpu),
            Some(false),
            true,
            None,
        )
        .unwrap();
        assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, true, true]);
        let e = to_copy(&x, None, None, None, Some(true), false, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported);
        let same = to_copy(&x, None, None, None, None, false, None).unwrap();
        assert!(!same.storage().is_same(x.storage()));
    }

    #[test]
    fn fill_rules() {
        let expanded = t(vec![0i32; 3], &[3]).as_view(&[2, 3], &[0, 1], 0).unwrap();
        fill_(&expanded, Scalar::Int(4)).unwrap(); // idempotent: allowed
        assert_eq!(expanded.to_vec::<i32>().unwrap(), vec![4; 6]);
        let u = Tensor::zeros_contiguous(&[1], DType::U8);
        fill_(&u, Scalar::Int(-1)).unwrap();
        assert_eq!(u.to_vec::<u8>().unwrap(), vec![255]);
        assert!(fill_(&u, Scalar::Int(-256)).is_err());
        assert!(fill_(&u, Scalar::Float(-1.0)).is_err());
        let b = Tensor::zeros_contiguous(&[2], DType::Bool);
        fill_(&b, Scalar::Int(5)).unwrap();
        assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, true]);
        let h = Tensor::zeros_contiguous(&[2], DType::F16);
        let e = fill_(&h, Scalar::Int(70000)).unwrap_err();
        assert_eq!(
            e.message(),
            "value cannot be converted to type float16 without overflow"
        );
        fill_(&h, Scalar::Float(f64::INFINITY)).unwrap();
        assert_eq!(h.to_vec::<f16>().unwrap(), vec![f16::INFINITY; 2]);
        let l = Tensor::zeros_contiguous(&[1], DType::I64);
        assert!(fill_(&l, Scalar::Float(f64::NAN)).is_err());
        assert!(fill_(&l, Scalar::Float(1e19)).is_err());
        let f = Tensor::zeros_contiguous(&[1], DType::F32);
        assert!(fill_(&f, Scalar::Float(1e39)).is_err());
        fill_(&f, Scalar::Float(0.1)).unwrap();
        assert_eq!(f.to_vec::<f32>().unwrap(), vec![0.1f32]);
        let z = t(vec![3.0f64], &[]);
        assert!(zero_(&z).unwrap().is_same(&z));
        assert_eq!(z.to_vec::<f64>().unwrap(), vec![0.0]);
    }
}
