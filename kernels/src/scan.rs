//! Operators that transform each 1-D lane along a dim: the scans `cumsum`
//! and `cumprod`, and the softmax family with its backward kernels. All run
//! through [`crate::fold::map_lanes`]; floating lanes are computed in f64 and
//! rounded once to the result dtype.

use crate::fold::{map_lanes, map_lanes2};
use crate::iter::{self, Arith, FloatMath, OpMath};
use crate::reductions::integral_to_long;
use ft_runtime::shape;
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Tensor};

/// "`kernel` not implemented for 'Long'", PyTorch's missing-dtype message.
fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// A running sum (`is_sum`) or product over the lane, in f64 for floats and
/// wrapping i64 otherwise.
fn scan_typed<T: Element>(x: &Tensor, dim: usize, is_sum: bool) -> Result<Tensor> {
    if T::DTYPE.is_floating_point() {
        map_lanes(x, dim, |a: &[T], o: &mut [T]| {
            let mut acc = if is_sum { 0.0 } else { 1.0 };
            for (v, r) in a.iter().zip(o) {
                acc = if is_sum { acc + v.to_f64() } else { acc * v.to_f64() };
                *r = T::from_f64(acc);
            }
        })
    } else {
        map_lanes(x, dim, |a: &[T], o: &mut [T]| {
            let mut acc: i64 = if is_sum { 0 } else { 1 };
            for (v, r) in a.iter().zip(o) {
                acc = if is_sum {
                    acc.wrapping_add(v.to_i64())
                } else {
                    acc.wrapping_mul(v.to_i64())
                };
                *r = T::from_i64(acc);
            }
        })
    }
}

fn scan(op: &str, x: &Tensor, dim: i64, dtype: Option<DType>, is_sum: bool) -> Result<Tensor> {
    let d = shape::wrap_dim(op, dim, x.dim())?;
    let out_dtype = integral_to_long(x, dtype);
    let src = iter::to_dtype(x, out_dtype)?;
    dispatch_dtype!(out_dtype, T => scan_typed::<T>(&src, d, is_sum))
}

/// `aten::cumsum`: running sums along `dim`; bool and integer inputs sum in
/// int64 unless `dtype` is given (the input is cast to it first).
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1i8, 2, 3], &[3]).unwrap();
/// let c = ft_kernels::scan::cumsum(&t, 0, None).unwrap();
/// assert_eq!((c.dtype(), c.to_vec::<i64>().unwrap()), (DType::I64, vec![1, 3, 6]));
/// ```
pub fn cumsum(self_: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    scan("aten::cumsum", self_, dim, dtype, true)
}

/// `aten::cumprod`: running products along `dim`, with `cumsum`'s dtype rules.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let c = ft_kernels::scan::cumprod(&t, -1, None).unwrap();
/// assert_eq!(c.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 12.0]);
/// ```
pub fn cumprod(self_: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    scan("aten::cumprod", self_, dim, dtype, false)
}

// ---------------------------------------------------------------------------
// softmax family
// ---------------------------------------------------------------------------

/// Softmax (or log-softmax) of one lane, in the compute type `A`. `round`
/// rounds the lane's log-sum to the element type, as PyTorch's kernel
/// stores it (it matters for float16/bfloat16 log-softmax).
fn softmax_lane<A: FloatMath>(a: &[A], o: &mut [A], log: bool, round: impl Fn(A) -> A) {
    let mut m = a.first().copied().unwrap_or(A::ZERO);
    for &v in a {
        #[allow(clippy::eq_op)]
        let v_nan = v != v;
        if v_nan || v > m {
            m = v;
        }
    }
    // An infinite maximum would make every `v - m` NaN or -inf: shift by 0.
    #[allow(clippy::eq_op)]
    let shift = if m.sub(m) == A::ZERO || m != m { m } else { A::ZERO };
    let mut sum = A::ZERO;
    for &v in a {
        sum = sum.add(v.sub(shift).exp());
    }
    let log_sum = round(sum.ln());
    for (&v, r) in a.iter().zip(o) {
        *r = if log {
            v.sub(shift).sub(log_sum)
        } else {
            v.sub(shift).exp().div(sum)
        };
    }
}

fn softmax_typed<T: OpMath>(x: &Tensor, dim: usize, log: bool) -> Result<Tensor>
where
    T::Acc: FloatMath,
{
    let mut wa = Vec::new();
    let mut wo = Vec::new();
    map_lanes(x, dim, |a: &[T], o: &mut [T]| {
        wa.clear();
        wa.extend(a.iter().map(|v| v.widen()));
        wo.resize(a.len(), T::Acc::ZERO);
        softmax_lane(&wa, &mut wo, log, |v| T::narrow(v).widen());
        for (r, &v) in o.iter_mut().zip(&wo) {
            *r = T::narrow(v);
        }
    })
}

fn softmax_impl(op: &str, kernel: &str, x: &Tensor, dim: i64, half_to_float: bool, log: bool) -> Result<Tensor> {
    if half_to_float {
        return Err(Error::not_supported(
            op,
            "softmax with half to float conversion is not supported on CPU",
        ));
    }
    let d = shape::wrap_dim(op, dim, x.dim())?;
    if x.dtype() == DType::F32 && x.is_contiguous() && x.numel() > 0 && d + 1 == x.dim().max(1) {
        return crate::softmax_lastdim::softmax_lastdim(op, x, log);
    }
    iter::dispatch_float!(x.dtype(), T => softmax_typed::<T>(x, d, log),
        _ => Err(not_implemented(op, kernel, x.dtype())))
}

/// `aten::_softmax`: `exp(x - max) / sum(exp(x - max))` along `dim`.
/// `half_to_float` is rejected on CPU, as PyTorch does.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(ft_kernels::scan::softmax(&t, 0, false).unwrap().to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
/// assert!(ft_kernels::scan::softmax(&t, 0, true).is_err());
/// ```
pub fn softmax(self_: &Tensor, dim: i64, half_to_float: bool) -> Result<Tensor> {
    softmax_impl(
        "aten::_softmax",
        "softmax_lastdim_kernel_impl",
        self_,
        dim,
        half_to_float,
        false,
    )
}

/// `aten::_log_softmax`: `x - max - log(sum(exp(x - max)))` along `dim`.
///
/// ```
/// use ft_runtime::Tensor;
/// let t = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let r = ft_kernels::scan::log_softmax(&t, 0, false).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] + std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn log_softmax(self_: &Tensor, dim: i64, half_to_float: bool) -> Result<Tensor> {
    softmax_impl(
        "aten::_log_softmax",
        "log_softmax_lastdim_kernel_impl",
        self_,
        dim,
        half_to_float,
        true,
    )
}

/// Checks the dtypes of a softmax backward kernel like PyTorch's CPU kernel:
/// `grad_output` and `output` agree; the result has their dtype whatever
/// `input_dtype` is, except that a float32 gradient of a float16 input (the
/// half-to-float case, unsupported on CPU) is an error.
fn backward_dtype(op: &str, kernel: &str, grad: &Tensor, output: &Tensor, input_dtype: DType) -> Result<DType> {
    let g = grad.dtype();
    if g == DType::F32 && input_dtype == DType::F16 {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                g.scalar_type_name(),
                input_dtype.scalar_type_name()
            ),
        ));
    }
    if output.dtype() != g {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                g.scalar_type_name(),
                output.dtype().scalar_type_name()
            ),
        ));
    }
    if !g.is_floating_point() {
        return Err(not_implemented(op, kernel, g));
    }
    if grad.sizes() != output.sizes() {
        return Err(Error::shape(
            op,
            format!(
                "grad_output of shape {} and output of shape {} must match",
                shape::fmt_sizes(grad.sizes()),
                shape::fmt_sizes(output.sizes())
            ),
        ));
    }
    Ok(g)
}

/// A backward lane function: `f(grad, output, result)` in the compute type.
type BackwardLane<A> = fn(&[A], &[A], &mut [A]);

fn backward_typed<T: OpMath>(grad: &Tensor, output: &Tensor, dim: usize, f: BackwardLane<T::Acc>) -> Result<Tensor> {
    let (mut g, mut o, mut r) = (Vec::new(), Vec::new(), Vec::new());
    map_lanes2(grad, output, dim, |ga: &[T], oa: &[T], res: &mut [T]| {
        g.clear();
        g.extend(ga.iter().map(|v| v.widen()));
        o.clear();
        o.extend(oa.iter().map(|v| v.widen()));
        r.resize(ga.len(), T::Acc::ZERO);
        f(&g, &o, &mut r);
        for (d, &v) in res.iter_mut().zip(&r) {
            *d = T::narrow(v);
        }
    })
}

/// `output * (grad - sum(grad * output))` on one lane.
fn softmax_backward_lane<A: FloatMath>(g: &[A], o: &[A], r: &mut [A]) {
    let dot = g.iter().zip(o).fold(A::ZERO, |acc, (&a, &b)| acc.add(a.mul(b)));
    for ((d, &gv), &ov) in r.iter_mut().zip(g).zip(o) {
        *d = ov.mul(gv.sub(dot));
    }
}

/// `grad - exp(output) * sum(grad)` on one lane.
fn log_softmax_backward_lane<A: FloatMath>(g: &[A], o: &[A], r: &mut [A]) {
    let sum = g.iter().fold(A::ZERO, |acc, &v| acc.add(v));
    for ((d, &gv), &ov) in r.iter_mut().zip(g).zip(o) {
        *d = gv.sub(ov.exp().mul(sum));
    }
}

/// Which backward lane function to run.
#[derive(Clone, Copy)]
enum Backward {
    Softmax,
    LogSoftmax,
}

fn backward_dispatch<T: OpMath>(grad: &Tensor, output: &Tensor, dim: usize, which: Backward) -> Result<Tensor>
where
    T::Acc: FloatMath,
{
    let f: BackwardLane<T::Acc> = match which {
        Backward::Softmax => softmax_backward_lane::<T::Acc>,
        Backward::LogSoftmax => log_softmax_backward_lane::<T::Acc>,
    };
    backward_typed::<T>(grad, output, dim, f)
}

fn backward_impl(
    op: &str,
    kernel: &str,
    grad: &Tensor,
    output: &Tensor,
    dim: i64,
    input_dtype: DType,
    which: Backward,
) -> Result<Tensor> {
    let dtype = backward_dtype(op, kernel, grad, output, input_dtype)?;
    let d = shape::wrap_dim(op, dim, grad.dim())?;
    iter::dispatch_float!(dtype, T => backward_dispatch::<T>(grad, output, d, which), _ => Err(not_implemented(op, kernel, dtype)))
}

/// `aten::_softmax_backward_data`: the gradient of `_softmax` given its
/// output, `output * (grad_output - sum(grad_output * output, dim))`.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let g = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let o = Tensor::from_vec(vec![0.5f64, 0.5], &[2]).unwrap();
/// let r = ft_kernels::scan::softmax_backward_data(&g, &o, 0, DType::F64).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.25, -0.25]);
/// ```
pub fn softmax_backward_data(grad_output: &Tensor, output: &Tensor, dim: i64, input_dtype: DType) -> Result<Tensor> {
    backward_impl(
        "aten::_softmax_backward_data",
        "softmax_backward_lastdim_kernel_impl",
        grad_output,
        output,
        dim,
        input_dtype,
        Backward::Softmax,
    )
}

/// `aten::_log_softmax_backward_data`: the gradient of `_log_softmax` given
/// its output, `grad_output - exp(output) * sum(grad_output, dim)`.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let g = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let o = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[2]).unwrap();
/// let r = ft_kernels::scan::log_softmax_backward_data(&g, &o, 0, DType::F64).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, -0.5]);
/// ```
pub fn log_softmax_backward_data(
    grad_output: &Tensor,
    output: &Tensor,
    dim: i64,
    input_dtype: DType,
) -> Result<Tensor> {
    backward_impl(
        "aten::_log_softmax_backward_data",
        "log_softmax_backward_lastdim_kernel_impl",
        grad_output,
        output,
        dim,
        input_dtype,
        Backward::LogSoftmax,
    )
}
