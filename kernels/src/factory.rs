//! Tensor factories: `zeros`, `ones`, `full`, `empty`, `arange` and the
//! `*_like` variants.
//!
//! Storage is always zero-initialised, so `empty` returns zeros (PyTorch
//! leaves it uninitialised; any value is allowed there).

use crate::copy::{check_scalar_fits, fill_checked};
use crate::iter;
use ft_runtime::shape::{self, DimVec};
use ft_runtime::{DType, Device, Element, Error, Layout, MemoryFormat, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// Rejects tensor options FrankenTorch does not support (pinned memory; all
/// layouts and devices that exist are supported).
pub(crate) fn check_options(
    op: &str,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<()> {
    match layout {
        None | Some(Layout::Strided) => {}
    }
    match device {
        None | Some(Device::Cpu) => {}
    }
    if pin_memory == Some(true) {
        return Err(Error::not_supported(
            op,
            "pin_memory=True is not supported: FrankenTorch has no accelerator to pin host memory for",
        ));
    }
    Ok(())
}

/// The strides of a new tensor shaped like `t` under `memory_format`
/// (`None` means `Preserve`, the default of `*_like`, `clone` and `to`).
pub(crate) fn like_strides(t: &Tensor, memory_format: Option<MemoryFormat>) -> DimVec {
    match memory_format.unwrap_or(MemoryFormat::Preserve) {
        MemoryFormat::Preserve => iter::preserve_strides(t),
        MemoryFormat::Contiguous => shape::contiguous_strides(t.sizes()),
    }
}

/// Converts a size list, rejecting negative dims with PyTorch's message.
fn to_sizes(op: &str, size: &[i64]) -> Result<DimVec> {
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
    size.iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::invalid(op, "size does not fit in memory")))
        .collect()
}

/// How a factory initialises its result.
#[derive(Clone, Copy)]
enum Init {
    /// All zeros (`zeros`, `zeros_like`).
    Zeros,
    /// Filled with a value (`ones`, `full`, ...): written entirely, so the
    /// storage needs no zeroing first.
    Value(Scalar),
}

impl Init {
    fn value(self) -> Option<Scalar> {
        match self {
            Init::Value(v) => Some(v),
            Init::Zeros => None,
        }
    }

    /// A new tensor of `sizes` (row-major when `strides` is `None`)
    /// initialised as `self` says.
    fn tensor(self, op: &str, sizes: &[usize], strides: Option<&[usize]>, dtype: DType) -> Result<Tensor> {
        let out = match (self, strides) {
            (Init::Zeros, None) => iter::empty_contiguous(op, sizes, dtype)?,
            (Init::Zeros, Some(st)) => iter::empty_strided(op, sizes, st, dtype)?,
            (Init::Value(_), None) => iter::empty_contiguous_for_overwrite(op, sizes, dtype)?,
            (Init::Value(_), Some(st)) => iter::empty_strided_for_overwrite(op, sizes, st, dtype)?,
        };
        if let Init::Value(v) = self {
            fill_checked(op, &out, v)?;
        }
        Ok(out)
    }
}

/// A new contiguous tensor initialised as `init` says.
fn new_tensor(
    op: &str,
    size: &[i64],
    dtype: DType,
    init: Init,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    check_options(op, layout, device, pin_memory)?;
    let sizes = to_sizes(op, size)?;
    if let Some(v) = init.value() {
        check_scalar_fits(op, v, dtype)?;
    }
    init.tensor(op, &sizes, None, dtype)
}

/// A tensor of zeros (default dtype float32).
///
/// ```
/// use ft_kernels::factory::zeros;
/// use ft_runtime::DType;
/// let t = zeros(&[2, 3], None, None, None, None).unwrap();
/// assert_eq!((t.sizes(), t.dtype()), (&[2usize, 3][..], DType::F32));
/// assert!(zeros(&[-1, 2], None, None, None, None).is_err());
/// ```
pub fn zeros(
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    new_tensor(
        "aten::zeros",
        size,
        dtype.unwrap_or(DEFAULT_DTYPE),
        Init::Zeros,
        layout,
        device,
        pin_memory,
    )
}

/// A tensor of ones (default dtype float32).
///
/// ```
/// use ft_kernels::factory::ones;
/// use ft_runtime::DType;
/// let t = ones(&[2], Some(DType::Bool), None, None, None).unwrap();
/// assert_eq!(t.to_vec::<bool>().unwrap(), vec![true, true]);
/// ```
pub fn ones(
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    new_tensor(
        "aten::ones",
        size,
        dtype.unwrap_or(DEFAULT_DTYPE),
        Init::Value(Scalar::Int(1)),
        layout,
        device,
        pin_memory,
    )
}

/// The dtype `full` infers from its fill value: bool, int64 or the default float.
fn infer_dtype(value: Scalar) -> DType {
    match value {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => DEFAULT_DTYPE,
    }
}

/// A tensor filled with `fill_value`; without `dtype` the dtype follows the
/// value (bool, int64, float32).
///
/// ```
/// use ft_kernels::factory::full;
/// use ft_runtime::{Scalar, DType};
/// let t = full(&[2], Scalar::Int(7), None, None, None, None).unwrap();
/// assert_eq!(t.dtype(), DType::I64);
/// assert_eq!(t.to_vec::<i64>().unwrap(), vec![7, 7]);
/// assert!(full(&[1], Scalar::Int(1000), Some(DType::I8), None, None, None).is_err());
/// ```
pub fn full(
    size: &[i64],
    fill_value: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    let dtype = dtype.unwrap_or_else(|| infer_dtype(fill_value));
    new_tensor(
        "aten::full",
        size,
        dtype,
        Init::Value(fill_value),
        layout,
        device,
        pin_memory,
    )
}

/// A new contiguous tensor (zero-filled here). `Preserve` is not a valid
/// memory format for a tensor with no input.
///
/// ```
/// use ft_kernels::factory::empty;
/// use ft_runtime::{DType, MemoryFormat};
/// let t = empty(&[0, 4], Some(DType::I32), None, None, None, None).unwrap();
/// assert_eq!(t.strides(), &[4, 1]);
/// assert!(empty(&[2], None, None, None, None, Some(MemoryFormat::Preserve)).is_err());
/// ```
pub fn empty(
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    const OP: &str = "aten::empty.memory_format";
    if memory_format == Some(MemoryFormat::Preserve) {
        return Err(Error::invalid(OP, "unsupported memory format Preserve"));
    }
    new_tensor(
        OP,
        size,
        dtype.unwrap_or(DEFAULT_DTYPE),
        // Zero-filled, unlike torch.empty: a recorded drift (tests/drift.rs).
        Init::Zeros,
        layout,
        device,
        pin_memory,
    )
}

/// `[0, end)` with step 1: int64 for an int `end`, float32 for a float one.
///
/// ```
/// use ft_kernels::factory::arange;
/// use ft_runtime::{Scalar, DType};
/// let t = arange(Scalar::Int(4), None, None, None, None).unwrap();
/// assert_eq!((t.dtype(), t.to_vec::<i64>().unwrap()), (DType::I64, vec![0, 1, 2, 3]));
/// ```
pub fn arange(
    end: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    arange_impl(
        "aten::arange",
        Scalar::Int(0),
        end,
        Scalar::Int(1),
        dtype,
        layout,
        device,
        pin_memory,
    )
}

/// `[start, end)` with step 1.
///
/// ```
/// use ft_kernels::factory::arange_start;
/// use ft_runtime::{Scalar, DType};
/// let t = arange_start(Scalar::Float(0.5), Scalar::Int(3), None, None, None, None).unwrap();
/// assert_eq!((t.dtype(), t.to_vec::<f32>().unwrap()), (DType::F32, vec![0.5, 1.5, 2.5]));
/// ```
pub fn arange_start(
    start: Scalar,
    end: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    arange_impl(
        "aten::arange.start",
        start,
        end,
        Scalar::Int(1),
        dtype,
        layout,
        device,
        pin_memory,
    )
}

/// `start, start + step, ...` up to (excluding) `end`; the length is
/// `ceil((end - start) / step)`.
///
/// ```
/// use ft_kernels::factory::arange_start_step;
/// use ft_runtime::{Scalar, DType};
/// let t = arange_start_step(Scalar::Int(10), Scalar::Int(0), Scalar::Int(-3), Some(DType::I16), None, None, None).unwrap();
/// assert_eq!(t.to_vec::<i16>().unwrap(), vec![10, 7, 4, 1]);
/// assert!(arange_start_step(Scalar::Int(0), Scalar::Int(5), Scalar::Int(0), None, None, None, None).is_err());
/// ```
pub fn arange_start_step(
    start: Scalar,
    end: Scalar,
    step: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    arange_impl(
        "aten::arange.start_step",
        start,
        end,
        step,
        dtype,
        layout,
        device,
        pin_memory,
    )
}

#[allow(clippy::too_many_arguments)]
fn arange_impl(
    op: &str,
    start: Scalar,
    end: Scalar,
    step: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    check_options(op, layout, device, pin_memory)?;
    let any_float = [start, end, step].iter().any(|s| s.is_floating_point());
    let dtype = dtype.unwrap_or(if any_float { DEFAULT_DTYPE } else { DType::I64 });
    let range = Range { op, start, end, step };
    match dtype {
        DType::Bool => Err(Error::dtype(op, "\"arange_cpu\" not implemented for 'Bool'")),
        DType::U8 => range.integral::<u8>(),
        DType::I8 => range.integral::<i8>(),
        DType::I16 => range.integral::<i16>(),
        DType::I32 => range.integral::<i32>(),
        DType::I64 => range.integral::<i64>(),
        DType::F16 => range.floating::<ft_runtime::half::f16>(true),
        DType::BF16 => range.floating::<ft_runtime::half::bf16>(true),
        DType::F32 => range.floating::<f32>(false),
        DType::F64 => range.floating::<f64>(false),
    }
}

/// The arguments of one `arange` call.
struct Range<'a> {
    op: &'a str,
    start: Scalar,
    end: Scalar,
    step: Scalar,
}

/// PyTorch's formatting of a double in the "unsupported range" message.
fn fmt_bound(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        v.to_string()
    }
}

impl Range<'_> {
    fn check_step<N: PartialOrd + Default>(&self, step: N) -> Result<()> {
        let sign = step.partial_cmp(&N::default());
        if !matches!(sign, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Less)) {
            return Err(Error::invalid(self.op, "step must be nonzero"));
        }
        Ok(())
    }

    fn check_bounds<N: PartialOrd + Default>(&self, start: N, end: N, step: N) -> Result<()> {
        let zero = N::default();
        if !((step > zero && end >= start) || (step < zero && end <= start)) {
            return Err(Error::invalid(
                self.op,
                "upper bound and larger bound inconsistent with step sign",
            ));
        }
        Ok(())
    }

    /// The element count from a size computed in f64.
    fn count(&self, size: f64) -> Result<usize> {
        if !(size >= 0.0 && size <= i64::MAX as f64) {
            return Err(Error::invalid(self.op, "invalid size, possible overflow?"));
        }
        Ok(size as usize)
    }

    /// Integral dtypes accumulate in int64 (the bounds convert with overflow checks).
    fn integral<T: Element>(&self) -> Result<Tensor> {
        let acc = |s: Scalar| check_scalar_fits(self.op, s, DType::I64).map(|_| s.to_i64());
        let (xs, xe, xstep) = (acc(self.start)?, acc(self.end)?, acc(self.step)?);
        self.check_step(xstep)?;
        self.check_bounds(xs, xe, xstep)?;
        let size = if T::DTYPE == DType::I64 {
            let sign = xstep.signum() as i128;
            ((xe as i128 - xs as i128 + xstep as i128 - sign) / xstep as i128) as f64
        } else {
            ((self.end.to_f64() - self.start.to_f64()) / self.step.to_f64()).ceil()
        };
        let n = self.count(size)?;
        let out = iter::empty_contiguous(self.op, &[n], T::DTYPE)?;
        iter::fill_indexed(&out, |i| T::from_i64(xs.wrapping_add(xstep.wrapping_mul(i as i64))))?;
        Ok(out)
    }

    /// Float dtypes accumulate in f64, float16/bfloat16 in f32 (`acc32`).
    fn floating<T: Element>(&self, acc32: bool) -> Result<Tensor> {
        let acc = |s: Scalar| -> Result<f64> {
            if acc32 {
                check_scalar_fits(self.op, s, DType::F32)?;
                Ok(s.to_elem::<f32>() as f64)
            } else {
                Ok(s.to_f64())
            }
        };
        let (xs, xe, xstep) = (acc(self.start)?, acc(self.end)?, acc(self.step)?);
        self.check_step(xstep)?;
        if !(xs.is_finite() && xe.is_finite()) {
            return Err(Error::invalid(
                self.op,
                format!("unsupported range: {} -> {}", fmt_bound(xs), fmt_bound(xe)),
            ));
        }
        self.check_bounds(xs, xe, xstep)?;
        let n = self.count(((self.end.to_f64() - self.start.to_f64()) / self.step.to_f64()).ceil())?;
        let out = iter::empty_contiguous(self.op, &[n], T::DTYPE)?;
        if acc32 {
            let (s, st) = (xs as f32, xstep as f32);
            iter::fill_indexed(&out, |i| T::from_f64((s + st * i as f32) as f64))?;
        } else {
            iter::fill_indexed(&out, |i| T::from_f64(xs + xstep * i as f64))?;
        }
        Ok(out)
    }
}

/// A new tensor shaped like `self_` (dtype and strides per the arguments,
/// see [`crate::copy::clone`]), initialised as `init` says.
#[allow(clippy::too_many_arguments)]
fn like(
    op: &str,
    self_: &Tensor,
    init: Init,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    check_options(op, layout, device, pin_memory)?;
    let dtype = dtype.unwrap_or(self_.dtype());
    if let Some(v) = init.value() {
        check_scalar_fits(op, v, dtype)?;
    }
    let strides = like_strides(self_, memory_format);
    init.tensor(op, self_.sizes(), Some(&strides), dtype)
}

/// Zeros shaped like `self_`, with its dtype and (under `Preserve`) layout.
///
/// ```
/// use ft_kernels::factory::zeros_like;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2, 3], DType::I16).as_view(&[3, 2], &[1, 3], 0).unwrap();
/// let z = zeros_like(&t, None, None, None, None, None).unwrap();
/// assert_eq!((z.dtype(), z.strides()), (DType::I16, &[1usize, 3][..]));
/// ```
pub fn zeros_like(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    like(
        "aten::zeros_like",
        self_,
        Init::Zeros,
        dtype,
        layout,
        device,
        pin_memory,
        memory_format,
    )
}

/// Ones shaped like `self_`.
///
/// ```
/// use ft_kernels::factory::ones_like;
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::zeros_contiguous(&[2], DType::F64);
/// assert_eq!(ones_like(&t, Some(DType::U8), None, None, None, None).unwrap().to_vec::<u8>().unwrap(), vec![1, 1]);
/// ```
pub fn ones_like(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    like(
        "aten::ones_like",
        self_,
        Init::Value(Scalar::Int(1)),
        dtype,
        layout,
        device,
        pin_memory,
        memory_format,
    )
}

/// An uninitialised (here zero-filled) tensor shaped like `self_`.
///
/// ```
/// use ft_kernels::factory::empty_like;
/// use ft_runtime::{Tensor, DType, MemoryFormat};
/// let t = Tensor::zeros_contiguous(&[2, 3], DType::F32).as_view(&[3, 2], &[1, 3], 0).unwrap();
/// let e = empty_like(&t, None, None, None, None, Some(MemoryFormat::Contiguous)).unwrap();
/// assert_eq!(e.strides(), &[2, 1]);
/// ```
pub fn empty_like(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    like(
        "aten::empty_like",
        self_,
        // Zero-filled, unlike torch.empty: a recorded drift (tests/drift.rs).
        Init::Zeros,
        dtype,
        layout,
        device,
        pin_memory,
        memory_format,
    )
}

/// A tensor shaped like `self_` filled with `fill_value` (dtype defaults to
/// `self_`'s, not the value's).
///
/// ```
/// use ft_kernels::factory::full_like;
/// use ft_runtime::{Tensor, Scalar, DType};
/// let t = Tensor::zeros_contiguous(&[2], DType::I32);
/// let f = full_like(&t, Scalar::Float(2.5), None, None, None, None, None).unwrap();
/// assert_eq!(f.to_vec::<i32>().unwrap(), vec![2, 2]);
/// ```
pub fn full_like(
    self_: &Tensor,
    fill_value: Scalar,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    like(
        "aten::full_like",
        self_,
        Init::Value(fill_value),
        dtype,
        layout,
        device,
        pin_memory,
        memory_format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::half::{bf16, f16};
    use ft_runtime::ErrorKind;

    #[test]
    fn factories_shapes_and_dtypes() {
        let z = zeros(&[], None, None, None, None).unwrap();
        assert_eq!((z.dim(), z.to_vec::<f32>().unwrap()), (0, vec![0.0]));
        let o = ones(&[2, 0], Some(DType::I64), None, None, None).unwrap();
        assert_eq!((o.sizes(), o.strides()), (&[2usize, 0][..], &[1usize, 1][..]));
        for d in DType::ALL {
            let t = ones(&[3], Some(d), None, None, None).unwrap();
            assert_eq!((t.dtype(), t.to_f64_vec()), (d, vec![1.0; 3]));
        }
        assert_eq!(
            full(&[1], Scalar::Bool(true), None, None, None, None).unwrap().dtype(),
            DType::Bool
        );
        assert_eq!(
            full(&[1], Scalar::Float(1.0), None, None, None, None).unwrap().dtype(),
            DType::F32
        );
        let h = full(&[1], Scalar::Float(0.1), Some(DType::BF16), None, None, None).unwrap();
        assert_eq!(h.to_vec::<bf16>().unwrap(), vec![bf16::from_f32(0.1)]);
    }

    #[test]
    fn factory_errors() {
        let e = zeros(&[-1, 2], None, None, None, None).unwrap_err();
        assert_eq!(
            e.message(),
            "Trying to create tensor with negative dimension -1: [-1, 2]"
        );
        let e = ones(&[2], None, None, None, Some(true)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported);
        assert!(zeros(&[2], None, Some(Layout::Strided), Some(Device::Cpu), Some(false)).is_ok());
        let e = full(&[2], Scalar::Int(256), Some(DType::U8), None, None, None).unwrap_err();
        assert_eq!(e.message(), "value cannot be converted to type uint8 without overflow");
        assert!(zeros(&[i64::MAX, i64::MAX], None, None, None, None).is_err());
        assert!(empty(&[1 << 62], Some(DType::I64), None, None, None, None).is_err());
    }

    #[test]
    fn arange_dtypes_and_values() {
        let t = arange_start_step(
            Scalar::Int(0),
            Scalar::Float(1.0),
            Scalar::Float(0.25),
            None,
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            (t.dtype(), t.to_vec::<f32>().unwrap()),
            (DType::F32, vec![0.0, 0.25, 0.5, 0.75])
        );
        let t = arange_start_step(Scalar::Int(1), Scalar::Int(10), Scalar::Int(4), None, None, None, None).unwrap();
        assert_eq!(t.to_vec::<i64>().unwrap(), vec![1, 5, 9]);
        let t = arange_start_step(
            Scalar::Int(0),
            Scalar::Int(-5),
            Scalar::Int(-2),
            Some(DType::F64),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(t.to_vec::<f64>().unwrap(), vec![0.0, -2.0, -4.0]);
        let t = arange(Scalar::Int(3), Some(DType::F16), None, None, None).unwrap();
        assert_eq!(
            t.to_vec::<f16>().unwrap(),
            vec![f16::from_f32(0.0), f16::from_f32(1.0), f16::from_f32(2.0)]
        );
        let t = arange(Scalar::Float(2.5), Some(DType::I32), None, None, None).unwrap();
        assert_eq!(t.to_vec::<i32>().unwrap(), vec![0, 1, 2]);
        let t = arange(Scalar::Int(0), None, None, None, None).unwrap();
        assert_eq!(t.sizes(), &[0]);
        let t = arange_start(Scalar::Int(250), Scalar::Int(258), Some(DType::U8), None, None, None).unwrap();
        assert_eq!(t.to_vec::<u8>().unwrap(), vec![250, 251, 252, 253, 254, 255, 0, 1]);
        let t = arange_start_step(
            Scalar::Float(0.0),
            Scalar::Float(1.0),
            Scalar::Float(0.1),
            Some(DType::F64),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(t.numel(), 10);
        assert_eq!(t.to_vec::<f64>().unwrap()[3], 0.1 * 3.0);
    }

    #[test]
    fn arange_errors() {
        let s = |v: i64| Scalar::Int(v);
        let e = arange_start_step(s(0), s(5), s(0), None, None, None, None).unwrap_err();
        assert_eq!(e.message(), "step must be nonzero");
        let e = arange_start_step(s(0), s(5), s(-1), None, None, None, None).unwrap_err();
        assert_eq!(e.message(), "upper bound and larger bound inconsistent with step sign");
        let e = arange_start_step(s(0), s(5), Scalar::Float(0.5), Some(DType::I64), None, None, None).unwrap_err();
        assert_eq!(e.message(), "step must be nonzero");
        let e = arange(Scalar::Float(f64::INFINITY), None, None, None, None).unwrap_err();
        assert_eq!(e.message(), "unsupported range: 0 -> inf");
        assert!(arange(Scalar::Float(f64::NAN), Some(DType::I64), None, None, None).is_err());
        let e = arange(s(3), Some(DType::Bool), None, None, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DType);
        assert!(arange(s(3), None, None, None, Some(true)).is_err());
        assert!(arange(Scalar::Float(1e300), Some(DType::F64), None, None, None).is_err());
    }

    #[test]
    fn like_factories() {
        let base = Tensor::zeros_contiguous(&[4, 6], DType::F64);
        let sliced = base.as_view(&[6, 2], &[1, 12], 0).unwrap();
        assert_eq!(
            empty_like(&sliced, None, None, None, None, None).unwrap().strides(),
            &[1, 6]
        );
        let z = zeros_like(
            &sliced,
            Some(DType::I8),
            None,
            None,
            None,
            Some(MemoryFormat::Contiguous),
        )
        .unwrap();
        assert_eq!((z.dtype(), z.strides()), (DType::I8, &[2usize, 1][..]));
        let f = full_like(&sliced, Scalar::Float(-1.5), None, None, None, None, None).unwrap();
        assert_eq!(f.to_vec::<f64>().unwrap(), vec![-1.5; 12]);
        let e = full_like(&z, Scalar::Int(200), None, None, None, None, None).unwrap_err();
        assert_eq!(e.message(), "value cannot be converted to type int8 without overflow");
        let o = ones_like(
            &Tensor::zeros_contiguous(&[], DType::Bool),
            None,
            None,
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(o.to_vec::<bool>().unwrap(), vec![true]);
        assert!(zeros_like(&z, None, None, None, Some(true), None).is_err());
    }
}
