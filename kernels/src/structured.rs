//! Factories whose contents follow a pattern: `eye` (ones on the main
//! diagonal) and `linspace` (evenly spaced values).

use crate::copy::fill_checked;
use crate::factory::check_options;
use crate::iter;
use crate::view;
use ft_runtime::half::{bf16, f16};
use ft_runtime::{DType, Device, Element, Error, Layout, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// Checks one `eye` dimension (PyTorch: "n must be greater or equal to 0").
fn eye_dim(op: &str, name: &str, v: i64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::invalid(op, format!("{name} must be greater or equal to 0, got {v}")))
}

/// An `n x m` tensor of zeros with ones on the main diagonal.
fn eye_impl(op: &str, n: i64, m: i64, dtype: Option<DType>) -> Result<Tensor> {
    let (n, m) = (eye_dim(op, "n", n)?, eye_dim(op, "m", m)?);
    let out = iter::empty_contiguous(op, &[n, m], dtype.unwrap_or(DEFAULT_DTYPE))?;
    fill_checked(op, &view::diagonal(&out, 0, 0, 1)?, Scalar::Int(1))?;
    Ok(out)
}

/// `aten::eye`: the `n x n` identity matrix (default dtype float32).
///
/// ```
/// use ft_kernels::structured::eye;
/// use ft_runtime::DType;
/// let t = eye(2, Some(DType::Bool), None, None, None).unwrap();
/// assert_eq!(t.to_vec::<bool>().unwrap(), vec![true, false, false, true]);
/// assert!(eye(-1, None, None, None, None).is_err());
/// ```
pub fn eye(
    n: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    check_options("aten::eye", layout, device, pin_memory)?;
    eye_impl("aten::eye", n, n, dtype)
}

/// `aten::eye.m`: an `n x m` matrix with ones on the main diagonal.
///
/// ```
/// use ft_kernels::structured::eye_m;
/// let t = eye_m(2, 3, None, None, None, None).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
/// ```
pub fn eye_m(
    n: i64,
    m: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    check_options("aten::eye.m", layout, device, pin_memory)?;
    eye_impl("aten::eye.m", n, m, dtype)
}

/// How `linspace` computes in one dtype. PyTorch's CPU kernel (as built for
/// AVX2 and newer CPUs) evaluates `start + step * i` for the first half and
/// `end - step * (steps - 1 - i)` for the second, each as one fused
/// multiply-add; `step` is computed in `f64` for integers, in `f32` for
/// `f16`/`bf16` (rounded once at the end) and in the type itself otherwise.
trait Spaced: Element {
    /// Element `i` of `steps` from `start` to `end`.
    fn values(start: Scalar, end: Scalar, steps: usize) -> Vec<Self>;
}

/// The positions `i` and the multiplier for each: `(from_end, k)`.
fn plan(steps: usize) -> impl Iterator<Item = (bool, usize)> {
    let half = steps / 2;
    (0..steps).map(move |i| if i < half { (false, i) } else { (true, steps - 1 - i) })
}

macro_rules! spaced_int {
    ($($t:ty),*) => {$(
        impl Spaced for $t {
            fn values(start: Scalar, end: Scalar, steps: usize) -> Vec<Self> {
                let (s, e) = (start.to_elem::<$t>() as f64, end.to_elem::<$t>() as f64);
                let step = (e - s) / (steps - 1) as f64;
                plan(steps)
                    .map(|(from_end, k)| {
                        let v = if from_end { (-step).mul_add(k as f64, e) } else { step.mul_add(k as f64, s) };
                        v as $t
                    })
                    .collect()
            }
        }
    )*};
}
spaced_int!(u8, i8, i16, i32, i64);

macro_rules! spaced_float {
    ($($t:ty),*) => {$(
        impl Spaced for $t {
            fn values(start: Scalar, end: Scalar, steps: usize) -> Vec<Self> {
                let (s, e) = (scalar_as::<$t>(start), scalar_as::<$t>(end));
                let step = (e - s) / (steps - 1) as $t;
                plan(steps)
                    .map(|(from_end, k)| if from_end { (-step).mul_add(k as $t, e) } else { step.mul_add(k as $t, s) })
                    .collect()
            }
        }
    )*};
}
spaced_float!(f32, f64);

/// A scalar converted to `f32` or `f64` as C++ does (ints converted directly).
fn scalar_as<T: Element>(v: Scalar) -> T {
    match v {
        Scalar::Float(f) => T::from_f64(f),
        other => other.to_elem::<T>(),
    }
}

macro_rules! spaced_half {
    ($($t:ty),*) => {$(
        impl Spaced for $t {
            fn values(start: Scalar, end: Scalar, steps: usize) -> Vec<Self> {
                // Scalars become the half type through f32 (two roundings, as c10 does).
                let s = <$t>::from_f32(scalar_as::<f32>(start)).to_f32();
                let e = <$t>::from_f32(scalar_as::<f32>(end)).to_f32();
                f32::values(Scalar::Float(s as f64), Scalar::Float(e as f64), steps)
                    .into_iter()
                    .map(<$t>::from_f32)
                    .collect()
            }
        }
    )*};
}
spaced_half!(f16, bf16);

/// `aten::linspace`: `steps` values evenly spaced from `start` to `end`
/// (both included), with PyTorch's arithmetic; default dtype float32.
///
/// ```
/// use ft_kernels::structured::linspace;
/// use ft_runtime::{DType, Scalar};
/// let t = linspace(Scalar::Int(0), Scalar::Int(10), 5, Some(DType::I64), None, None, None).unwrap();
/// assert_eq!(t.to_vec::<i64>().unwrap(), vec![0, 2, 5, 7, 10]);
/// ```
pub fn linspace(
    start: Scalar,
    end: Scalar,
    steps: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::linspace";
    check_options(OP, layout, device, pin_memory)?;
    let steps = usize::try_from(steps).map_err(|_| Error::invalid(OP, "number of steps must be non-negative"))?;
    let dtype = dtype.unwrap_or(DEFAULT_DTYPE);
    fn build<T: Spaced>(start: Scalar, end: Scalar, steps: usize) -> Result<Tensor> {
        let data = match steps {
            0 => Vec::new(),
            1 => vec![start.to_elem::<T>()],
            _ => T::values(start, end, steps),
        };
        Tensor::from_vec(data, &[steps])
    }
    match dtype {
        DType::Bool => Err(Error::dtype(OP, "\"linspace_cpu\" not implemented for 'Bool'")),
        DType::U8 => build::<u8>(start, end, steps),
        DType::I8 => build::<i8>(start, end, steps),
        DType::I16 => build::<i16>(start, end, steps),
        DType::I32 => build::<i32>(start, end, steps),
        DType::I64 => build::<i64>(start, end, steps),
        DType::F16 => build::<f16>(start, end, steps),
        DType::BF16 => build::<bf16>(start, end, steps),
        DType::F32 => build::<f32>(start, end, steps),
        DType::F64 => build::<f64>(start, end, steps),
    }
}
