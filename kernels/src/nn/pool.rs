//! Average pooling (`avg_pool2d`, `avg_pool3d`), adaptive average pooling
//! (`_adaptive_avg_pool2d`, `_adaptive_avg_pool3d`) and their backward ops.
//!
//! Windows follow PyTorch's CPU kernels exactly: a window is clipped to the
//! padded input for the `count_include_pad` divisor and then to the input for
//! the sum; forward sums in the op-math type and divides once; backward ops
//! keep their running sums in the element type, as PyTorch does.

use super::{expand_param, fmt, not_implemented, read_vec, split_planes, tensor_of, widen3};
use ft_runtime::half::{bf16, f16};
use ft_runtime::{DType, Element, Error, Result, Tensor};
use std::ops::Add;

/// An element type average pooling accepts, with its accumulation type.
trait PoolElem: Element {
    /// Accumulation type (f32 for float16/bfloat16/float32, f64, i64).
    type Acc: Copy + Add<Output = Self::Acc>;
    /// Zero of the accumulation type.
    const ZERO: Self::Acc;
    /// Converts to the accumulation type.
    fn widen(self) -> Self::Acc;
    /// Rounds back to the element type.
    fn narrow(a: Self::Acc) -> Self;
    /// Divides by a count (truncating for integers).
    fn div(a: Self::Acc, n: i64) -> Self::Acc;
}

macro_rules! pool_float {
    ($($t:ty => $acc:ty, $w:expr, $n:expr);*) => {$(
        impl PoolElem for $t {
            type Acc = $acc;
            const ZERO: $acc = 0.0;
            #[inline(always)]
            fn widen(self) -> $acc {
                $w(self)
            }
            #[inline(always)]
            fn narrow(a: $acc) -> Self {
                $n(a)
            }
            #[inline(always)]
            fn div(a: $acc, n: i64) -> $acc {
                a / n as $acc
            }
        }
    )*};
}
pool_float! {
    f16 => f32, |x: f16| x.to_f32(), f16::from_f32;
    bf16 => f32, |x: bf16| x.to_f32(), bf16::from_f32;
    f32 => f32, |x: f32| x, |a: f32| a;
    f64 => f64, |x: f64| x, |a: f64| a
}

/// Wrapping integer addition for the int64 accumulator.
#[derive(Clone, Copy)]
struct Wrap(i64);

impl Add for Wrap {
    type Output = Wrap;
    fn add(self, o: Wrap) -> Wrap {
        Wrap(self.0.wrapping_add(o.0))
    }
}

impl PoolElem for i64 {
    type Acc = Wrap;
    const ZERO: Wrap = Wrap(0);
    fn widen(self) -> Wrap {
        Wrap(self)
    }
    fn narrow(a: Wrap) -> Self {
        a.0
    }
    fn div(a: Wrap, n: i64) -> Wrap {
        Wrap(a.0.wrapping_div(n))
    }
}

/// Runs `$body` with `$T` bound to the element type, for the dtypes in `$allowed`.
macro_rules! dispatch_pool {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            DType::F16 => {
                type $T = f16;
                $body
            }
            DType::BF16 => {
                type $T = bf16;
                $body
            }
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            _ => $other,
        }
    }};
}

/// PyTorch's `pooling_output_shape` (dilation 1): floor or ceil mode, where a
/// last window starting in the right padding is dropped.
fn pooled_size(input: i64, k: i64, pad: i64, stride: i64, ceil: bool) -> i64 {
    let num = input + 2 * pad - (k - 1) - 1 + if ceil { stride - 1 } else { 0 };
    let mut out = num.div_euclid(stride) + 1;
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    out
}

/// The validated geometry of an average-pooling call.
struct AvgGeom {
    planes: usize,
    in3: [usize; 3],
    out3: [usize; 3],
    k3: [i64; 3],
    s3: [i64; 3],
    p3: [i64; 3],
    count_include_pad: bool,
    divisor: Option<i64>,
    out_sizes: Vec<usize>,
}

/// The arguments of `avg_pool{2,3}d` and their backward ops.
struct AvgArgs<'a> {
    op: &'a str,
    k: usize,
    kernel_size: &'a [i64],
    stride: &'a [i64],
    padding: &'a [i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
}

impl AvgArgs<'_> {
    /// Checks the arguments against `input` like PyTorch and computes the geometry.
    fn geometry(&self, input: &Tensor) -> Result<AvgGeom> {
        let (op, k) = (self.op, self.k);
        let kernel = expand_param(op, "kernel_size", self.kernel_size, k).map_err(|_| {
            Error::invalid(
                op,
                format!("kernel_size must either be a single int, or a tuple of {k} ints"),
            )
        })?;
        let stride = if self.stride.is_empty() {
            kernel.clone()
        } else {
            expand_param(op, "stride", self.stride, k).map_err(|_| {
                Error::invalid(
                    op,
                    format!("stride must either be omitted, a single int, or a tuple of {k} ints"),
                )
            })?
        };
        let pad = expand_param(op, "padding", self.padding, k).map_err(|_| {
            Error::invalid(
                op,
                format!("padding must either be a single int, or a tuple of {k} ints"),
            )
        })?;
        if self.divisor_override == Some(0) {
            return Err(Error::invalid(op, "divisor must be not zero"));
        }
        let sizes = input.sizes();
        let dim = sizes.len();
        if dim < k + 1 {
            return Err(Error::dim_out_of_range(op, -(k as i64 + 1), dim));
        }
        if (dim != k + 1 && dim != k + 2) || sizes[dim - k - 1..].contains(&0) {
            return Err(Error::shape(
                op,
                format!(
                    "Expected {}D or {}D (batch mode) tensor with optional 0 dim batch size for input, but got:{}",
                    k + 1,
                    k + 2,
                    fmt(sizes)
                ),
            ));
        }
        if kernel.iter().any(|&v| v <= 0) {
            return Err(Error::invalid(
                op,
                format!("kernel size should be greater than zero, but got {kernel:?}"),
            ));
        }
        if stride.iter().any(|&v| v <= 0) {
            return Err(Error::invalid(op, "stride should not be zero"));
        }
        if let Some(&p) = pad.iter().find(|&&p| p < 0) {
            return Err(Error::invalid(
                op,
                format!("pad must be non-negative, but got pad: {p}"),
            ));
        }
        for (&p, &kk) in pad.iter().zip(&kernel) {
            if p > kk / 2 {
                return Err(Error::invalid(
                    op,
                    format!("pad should be at most half of effective kernel size, but got pad={p}, kernel_size={kk} and dilation=1"),
                ));
            }
        }
        let spatial = &sizes[dim - k..];
        let outs: Vec<i64> = (0..k)
            .map(|i| pooled_size(spatial[i] as i64, kernel[i], pad[i], stride[i], self.ceil_mode))
            .collect();
        if outs.iter().any(|&o| o < 1) {
            let show = |v: Vec<String>| v.join("x");
            return Err(Error::invalid(
                op,
                format!(
                    "Given input size: ({}x{}). Calculated output size: ({}x{}). Output size is too small",
                    sizes[dim - k - 1],
                    show(spatial.iter().map(|s| s.to_string()).collect()),
                    sizes[dim - k - 1],
                    show(outs.iter().map(|s| s.to_string()).collect())
                ),
            ));
        }
        let out_spatial: Vec<usize> = outs.iter().map(|&o| o as usize).collect();
        let mut out_sizes = sizes[..dim - k].to_vec();
        out_sizes.extend_from_slice(&out_spatial);
        let widen_i = |v: &[i64], fill: i64| {
            let mut w = [fill; 3];
            w[3 - k..].copy_from_slice(v);
            w
        };
        Ok(AvgGeom {
            planes: split_planes(sizes, k).0,
            in3: widen3(spatial),
            out3: widen3(&out_spatial),
            k3: widen_i(&kernel, 1),
            s3: widen_i(&stride, 1),
            p3: widen_i(&pad, 0),
            count_include_pad: self.count_include_pad,
            divisor: self.divisor_override,
            out_sizes,
        })
    }
}

/// One pooling window along a dim: the clipped input range and its divisor factors.
#[derive(Clone, Copy)]
struct Window {
    start: usize,
    end: usize,
    /// Length clipped only to the padded input (for `count_include_pad`).
    padded: i64,
}

impl AvgGeom {
    /// The window of output position `o` along widened dim `d`.
    fn window(&self, d: usize, o: usize) -> Window {
        let (k, s, p, n) = (self.k3[d], self.s3[d], self.p3[d], self.in3[d] as i64);
        let start = o as i64 * s - p;
        let end = (start + k).min(n + p);
        let padded = end - start;
        Window {
            start: start.max(0) as usize,
            end: end.min(n).max(0) as usize,
            padded,
        }
    }

    /// Per widened dim, the window of every output position.
    fn windows(&self) -> [Vec<Window>; 3] {
        [0, 1, 2].map(|d| (0..self.out3[d]).map(|o| self.window(d, o)).collect())
    }

    /// The divisor of one window, or `None` when the window is empty.
    fn divisor(&self, w: [Window; 3]) -> Option<i64> {
        if w.iter().any(|w| w.start >= w.end) {
            return None;
        }
        Some(self.divisor.unwrap_or_else(|| {
            if self.count_include_pad {
                w.iter().map(|w| w.padded).product()
            } else {
                w.iter().map(|w| (w.end - w.start) as i64).product()
            }
        }))
    }
}

/// Average pooling of row-major planes.
fn avg_forward<T: PoolElem>(x: &[T], g: &AvgGeom) -> Vec<T> {
    let [_, ih, iw] = g.in3;
    let plane_in: usize = g.in3.iter().product();
    let win = g.windows();
    let mut out = Vec::with_capacity(g.planes * g.out3.iter().product::<usize>());
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for wd in &win[0] {
            for wh in &win[1] {
                for ww in &win[2] {
                    let Some(div) = g.divisor([*wd, *wh, *ww]) else {
                        out.push(T::narrow(T::ZERO));
                        continue;
                    };
                    let mut sum = T::ZERO;
                    for d in wd.start..wd.end {
                        for h in wh.start..wh.end {
                            let row = &plane[(d * ih + h) * iw..];
                            for &v in &row[ww.start..ww.end] {
                                sum = sum + v.widen();
                            }
                        }
                    }
                    out.push(T::narrow(T::div(sum, div)));
                }
            }
        }
    }
    out
}

/// The adjoint of [`avg_forward`]: each output's gradient divided by its
/// divisor (rounded to the element type) is added to its window.
fn avg_backward<T: PoolElem>(go: &[T], g: &AvgGeom) -> Vec<T> {
    let [_, ih, iw] = g.in3;
    let plane_in: usize = g.in3.iter().product();
    let win = g.windows();
    let mut gin = vec![T::narrow(T::ZERO); g.planes * plane_in];
    let mut src = go.iter();
    for p in 0..g.planes {
        let plane = &mut gin[p * plane_in..(p + 1) * plane_in];
        for wd in &win[0] {
            for wh in &win[1] {
                for ww in &win[2] {
                    let v = *src.next().expect("grad_output has the pooled shape");
                    let Some(div) = g.divisor([*wd, *wh, *ww]) else {
                        continue;
                    };
                    let delta = T::narrow(T::div(v.widen(), div)).widen();
                    for d in wd.start..wd.end {
                        for h in wh.start..wh.end {
                            let row = &mut plane[(d * ih + h) * iw..];
                            for e in &mut row[ww.start..ww.end] {
                                *e = T::narrow(e.widen() + delta);
                            }
                        }
                    }
                }
            }
        }
    }
    gin
}

/// Checks that `grad_output` has `expected` sizes and `like`'s dtype.
fn check_grad(op: &str, grad_output: &Tensor, expected: &[usize], like: &Tensor) -> Result<()> {
    if grad_output.sizes() != expected {
        return Err(Error::shape(
            op,
            format!(
                "grad_output has shape {} but the pooled input has shape {}",
                fmt(grad_output.sizes()),
                fmt(expected)
            ),
        ));
    }
    if grad_output.dtype() != like.dtype() {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                like.dtype().scalar_type_name(),
                grad_output.dtype().scalar_type_name()
            ),
        ));
    }
    Ok(())
}

/// Whether avg_pool{k}d has a kernel for `dtype` (3-D has no reduced floats).
fn avg_dtype_ok(k: usize, dtype: DType) -> bool {
    matches!(dtype, DType::I64 | DType::F32 | DType::F64) || (k == 2 && matches!(dtype, DType::F16 | DType::BF16))
}

fn avg_pool_nd(args: AvgArgs<'_>, self_: &Tensor, kernel: &str) -> Result<Tensor> {
    let g = args.geometry(self_)?;
    if !avg_dtype_ok(args.k, self_.dtype()) {
        return Err(not_implemented(args.op, kernel, self_.dtype()));
    }
    dispatch_pool!(self_.dtype(), T => tensor_of(avg_forward::<T>(&read_vec::<T>(self_)?, &g), &g.out_sizes),
        _ => Err(not_implemented(args.op, kernel, self_.dtype())))
}

fn avg_pool_nd_backward(args: AvgArgs<'_>, grad_output: &Tensor, self_: &Tensor, kernel: &str) -> Result<Tensor> {
    let g = args.geometry(self_)?;
    check_grad(args.op, grad_output, &g.out_sizes, self_)?;
    if !avg_dtype_ok(args.k, self_.dtype()) {
        return Err(not_implemented(args.op, kernel, self_.dtype()));
    }
    dispatch_pool!(self_.dtype(), T => tensor_of(avg_backward::<T>(&read_vec::<T>(grad_output)?, &g), self_.sizes()),
        _ => Err(not_implemented(args.op, kernel, self_.dtype())))
}

/// `aten::avg_pool2d`: the mean of each `kernel_size` window of the last two
/// dims, moved by `stride` (default: the kernel size) over the input padded
/// by `padding` zeros.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..16).map(|v| v as f32).collect::<Vec<_>>(), &[1, 4, 4]).unwrap();
/// let y = ft_kernels::nn::pool::avg_pool2d(&x, &[2, 2], &[], &[0], false, true, None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![2.5, 4.5, 10.5, 12.5]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn avg_pool2d(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> Result<Tensor> {
    let args = AvgArgs {
        op: "aten::avg_pool2d",
        k: 2,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    };
    avg_pool_nd(args, self_, "avg_pool2d")
}

/// `aten::avg_pool2d_backward`: the gradient of `avg_pool2d` with respect to `self_`.
#[allow(clippy::too_many_arguments)]
pub fn avg_pool2d_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> Result<Tensor> {
    let args = AvgArgs {
        op: "aten::avg_pool2d_backward",
        k: 2,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    };
    avg_pool_nd_backward(args, grad_output, self_, "avg_pool2d_backward_out_frame")
}

/// `aten::avg_pool3d`: [`avg_pool2d`] over the last three dims.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..8).map(|v| v as f64).collect::<Vec<_>>(), &[1, 2, 2, 2]).unwrap();
/// let y = ft_kernels::nn::pool::avg_pool3d(&x, &[2], &[], &[0], false, true, None).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![3.5]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn avg_pool3d(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> Result<Tensor> {
    let args = AvgArgs {
        op: "aten::avg_pool3d",
        k: 3,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    };
    avg_pool_nd(args, self_, "avg_pool3d_out_frame")
}

/// `aten::avg_pool3d_backward`: the gradient of `avg_pool3d` with respect to `self_`.
#[allow(clippy::too_many_arguments)]
pub fn avg_pool3d_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> Result<Tensor> {
    let args = AvgArgs {
        op: "aten::avg_pool3d_backward",
        k: 3,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    };
    avg_pool_nd_backward(args, grad_output, self_, "avg_pool3d_backward_out_frame")
}

// ---------------------------------------------------------------------------
// Adaptive average pooling
// ---------------------------------------------------------------------------

/// The input range `[floor(o*n/m), ceil((o+1)*n/m))` pooled into output `o` of `m`.
fn adaptive_range(o: usize, n: usize, m: usize) -> (usize, usize) {
    (o * n / m, ((o + 1) * n).div_ceil(m))
}

/// Validated geometry of an adaptive pooling call.
struct AdaptiveGeom {
    planes: usize,
    in3: [usize; 3],
    out3: [usize; 3],
    out_sizes: Vec<usize>,
}

impl AdaptiveGeom {
    /// Per widened dim, the input range of every output position.
    fn ranges(&self) -> [Vec<(usize, usize)>; 3] {
        [0, 1, 2].map(|d| {
            (0..self.out3[d])
                .map(|o| adaptive_range(o, self.in3[d], self.out3[d]))
                .collect()
        })
    }
}

fn adaptive_geometry(op: &str, name: &str, k: usize, input: &Tensor, output_size: &[i64]) -> Result<AdaptiveGeom> {
    if output_size.len() != k {
        return Err(Error::invalid(op, format!("{name}: output_size must be {k}")));
    }
    if output_size.iter().any(|&o| o < 0) {
        return Err(Error::invalid(
            op,
            format!("{name}: elements of output_size must be greater than or equal to 0 but received {output_size:?}"),
        ));
    }
    let sizes = input.sizes();
    let dim = sizes.len();
    if dim != k + 1 && dim != k + 2 {
        return Err(Error::shape(
            op,
            format!(
                "{name}(): Expected {}D or {}D tensor, but got {}",
                k + 1,
                k + 2,
                fmt(sizes)
            ),
        ));
    }
    if let Some(i) = (dim - k - 1..dim).find(|&i| i > 0 && sizes[i] == 0 || i == 0 && dim == k + 1 && sizes[0] == 0) {
        return Err(Error::shape(
            op,
            format!(
                "{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {} with dimension {i} being empty",
                fmt(sizes)
            ),
        ));
    }
    let out_spatial: Vec<usize> = output_size.iter().map(|&o| o as usize).collect();
    let mut out_sizes = sizes[..dim - k].to_vec();
    out_sizes.extend_from_slice(&out_spatial);
    Ok(AdaptiveGeom {
        planes: split_planes(sizes, k).0,
        in3: widen3(&sizes[dim - k..]),
        out3: widen3(&out_spatial),
        out_sizes,
    })
}

/// Adaptive average pooling of row-major planes: each output is its range's
/// sum divided by each range length in turn (depth, height, width). With
/// `elem_math` every add and division is rounded to the element type (how
/// PyTorch's 3-D kernel computes float16/bfloat16); otherwise the sum is
/// kept in the op-math type (its 2-D kernel).
fn adaptive_forward<T: PoolElem>(x: &[T], g: &AdaptiveGeom, elem_math: bool) -> Vec<T> {
    let round = |a: T::Acc| if elem_math { T::narrow(a).widen() } else { a };
    let [_, ih, iw] = g.in3;
    let plane_in: usize = g.in3.iter().product();
    let r = g.ranges();
    let mut out = Vec::with_capacity(g.planes * g.out3.iter().product::<usize>());
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for &(d0, d1) in &r[0] {
            for &(h0, h1) in &r[1] {
                for &(w0, w1) in &r[2] {
                    let mut sum = T::ZERO;
                    for d in d0..d1 {
                        for h in h0..h1 {
                            for &v in &plane[(d * ih + h) * iw + w0..(d * ih + h) * iw + w1] {
                                sum = round(sum + v.widen());
                            }
                        }
                    }
                    let mut a = sum;
                    for len in [d1 - d0, h1 - h0, w1 - w0] {
                        if len != 1 {
                            a = round(T::div(a, len as i64));
                        }
                    }
                    out.push(T::narrow(a));
                }
            }
        }
    }
    out
}

/// The adjoint of [`adaptive_forward`], with PyTorch's element-type rounding
/// of each divided gradient and running sum.
fn adaptive_backward<T: PoolElem>(go: &[T], g: &AdaptiveGeom) -> Vec<T> {
    let [_, ih, iw] = g.in3;
    let plane_in: usize = g.in3.iter().product();
    let r = g.ranges();
    let mut gin = vec![T::narrow(T::ZERO); g.planes * plane_in];
    let mut src = go.iter();
    for p in 0..g.planes {
        let plane = &mut gin[p * plane_in..(p + 1) * plane_in];
        for &(d0, d1) in &r[0] {
            for &(h0, h1) in &r[1] {
                for &(w0, w1) in &r[2] {
                    let mut delta = *src.next().expect("grad_output has the pooled shape");
                    for len in [d1 - d0, h1 - h0, w1 - w0] {
                        if len != 1 {
                            delta = T::narrow(T::div(delta.widen(), len as i64));
                        }
                    }
                    let dv = delta.widen();
                    for d in d0..d1 {
                        for h in h0..h1 {
                            for e in &mut plane[(d * ih + h) * iw + w0..(d * ih + h) * iw + w1] {
                                *e = T::narrow(e.widen() + dv);
                            }
                        }
                    }
                }
            }
        }
    }
    gin
}

fn adaptive_nd(op: &str, name: &str, k: usize, self_: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    let g = adaptive_geometry(op, name, k, self_, output_size)?;
    if self_.dtype() == DType::I64 {
        return Err(not_implemented(op, name, self_.dtype()));
    }
    dispatch_pool!(self_.dtype(), T => tensor_of(adaptive_forward::<T>(&read_vec::<T>(self_)?, &g, k == 3), &g.out_sizes),
        _ => Err(not_implemented(op, name, self_.dtype())))
}

fn adaptive_nd_backward(op: &str, name: &str, k: usize, grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    let gs = grad_output.sizes();
    if gs.len() != self_.dim() || gs.len() < k {
        return Err(Error::shape(
            op,
            format!(
                "grad_output has shape {} but the input has shape {}",
                fmt(gs),
                fmt(self_.sizes())
            ),
        ));
    }
    let first = if gs.len() == k + 2 { 1 } else { 0 };
    if let Some(i) = (first..gs.len()).find(|&i| gs[i] == 0) {
        return Err(Error::shape(
            op,
            format!(
                "{name}(): Expected grad_output to have non-zero size for non-batch dimensions, but grad_output has sizes {} with dimension {i} being empty",
                fmt(gs)
            ),
        ));
    }
    let out: Vec<i64> = gs[gs.len() - k..].iter().map(|&s| s as i64).collect();
    let g = adaptive_geometry(op, name, k, self_, &out)?;
    check_grad(op, grad_output, &g.out_sizes, self_)?;
    if self_.dtype() == DType::I64 {
        return Err(not_implemented(op, name, self_.dtype()));
    }
    dispatch_pool!(self_.dtype(), T => tensor_of(adaptive_backward::<T>(&read_vec::<T>(grad_output)?, &g), self_.sizes()),
        _ => Err(not_implemented(op, name, self_.dtype())))
}

/// `aten::_adaptive_avg_pool2d`: averages the last two dims down to
/// `output_size`, output `o` of `m` pooling inputs `floor(o*n/m)..ceil((o+1)*n/m)`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..6).map(|v| v as f32).collect::<Vec<_>>(), &[1, 2, 3]).unwrap();
/// let y = ft_kernels::nn::pool::_adaptive_avg_pool2d(&x, &[1, 2]).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![2.0, 3.0]);
/// ```
pub fn _adaptive_avg_pool2d(self_: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    adaptive_nd(
        "aten::_adaptive_avg_pool2d",
        "adaptive_avg_pool2d",
        2,
        self_,
        output_size,
    )
}

/// `aten::_adaptive_avg_pool2d_backward`: the gradient of `_adaptive_avg_pool2d`
/// with respect to `self_` (the output size is read from `grad_output`).
pub fn _adaptive_avg_pool2d_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    adaptive_nd_backward(
        "aten::_adaptive_avg_pool2d_backward",
        "adaptive_avg_pool2d_backward",
        2,
        grad_output,
        self_,
    )
}

/// `aten::_adaptive_avg_pool3d`: [`_adaptive_avg_pool2d`] over the last three dims.
pub fn _adaptive_avg_pool3d(self_: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    adaptive_nd(
        "aten::_adaptive_avg_pool3d",
        "adaptive_avg_pool3d",
        3,
        self_,
        output_size,
    )
}

/// `aten::_adaptive_avg_pool3d_backward`: the gradient of `_adaptive_avg_pool3d`.
pub fn _adaptive_avg_pool3d_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    adaptive_nd_backward(
        "aten::_adaptive_avg_pool3d_backward",
        "adaptive_avg_pool3d_backward",
        3,
        grad_output,
        self_,
    )
}

// ---------------------------------------------------------------------------
// Adaptive max pooling
// ---------------------------------------------------------------------------

/// Runs `$body` with `$T` bound to the floating element type.
macro_rules! dispatch_pool_float {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            DType::F16 => {
                type $T = f16;
                $body
            }
            DType::BF16 => {
                type $T = bf16;
                $body
            }
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    }};
}

/// Adaptive max pooling of row-major 2-D planes: each output is the maximum
/// of its adaptive window (NaN wins, the first maximum is kept) and its
/// index `h * W + w` in the input plane.
fn adaptive_max_forward<T: PoolElem>(x: &[T], g: &AdaptiveGeom) -> (Vec<T>, Vec<i64>)
where
    T::Acc: PartialOrd,
{
    let [_, ih, iw] = g.in3;
    let plane_in = ih * iw;
    let r = g.ranges();
    let n = g.planes * g.out3[1] * g.out3[2];
    let (mut out, mut idx) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for &(h0, h1) in &r[1] {
            for &(w0, w1) in &r[2] {
                let mut best = h0 * iw + w0;
                for h in h0..h1 {
                    for w in w0..w1 {
                        let (v, m) = (plane[h * iw + w].widen(), plane[best].widen());
                        #[allow(clippy::eq_op)]
                        let nan = v != v;
                        if v > m || nan {
                            best = h * iw + w;
                        }
                        if nan {
                            break;
                        }
                    }
                    #[allow(clippy::eq_op)]
                    if plane[best].widen() != plane[best].widen() {
                        break;
                    }
                }
                out.push(plane[best]);
                idx.push(best as i64);
            }
        }
    }
    (out, idx)
}

/// `aten::adaptive_max_pool2d`: the maximum of each adaptive window of the
/// last two dims (output `o` of `m` covers inputs `floor(o*n/m)..ceil((o+1)*n/m)`)
/// and its index `h * W + w` in the input plane.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 5.0, 2.0, 0.0, 3.0, 4.0], &[1, 2, 3]).unwrap();
/// let (v, i) = ft_kernels::nn::pool::adaptive_max_pool2d(&x, &[1, 2]).unwrap();
/// assert_eq!((v.to_vec::<f32>().unwrap(), i.to_vec::<i64>().unwrap()), (vec![5.0, 5.0], vec![1, 1]));
/// ```
pub fn adaptive_max_pool2d(self_: &Tensor, output_size: &[i64]) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::adaptive_max_pool2d";
    let g = adaptive_geometry(OP, "adaptive_max_pool2d", 2, self_, output_size)?;
    dispatch_pool_float!(self_.dtype(), T => {
        let (v, i) = adaptive_max_forward::<T>(&read_vec::<T>(self_)?, &g);
        Ok((tensor_of(v, &g.out_sizes)?, tensor_of(i, &g.out_sizes)?))
    }, _ => Err(not_implemented(OP, "adaptive_max_pool2d", self_.dtype())))
}

/// `aten::adaptive_max_pool2d_backward`: `grad_output` added into a zero
/// tensor shaped like `self_` at each window's recorded maximum (`indices`).
pub fn adaptive_max_pool2d_backward(grad_output: &Tensor, self_: &Tensor, indices: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::adaptive_max_pool2d_backward";
    if grad_output.sizes() != indices.sizes() || grad_output.dim() != self_.dim() || self_.dim() < 3 {
        return Err(Error::shape(
            OP,
            format!(
                "expected grad_output {} to have the shape of indices {} and the rank of self {}",
                fmt(grad_output.sizes()),
                fmt(indices.sizes()),
                fmt(self_.sizes())
            ),
        ));
    }
    if indices.dtype() != DType::I64 {
        return Err(Error::dtype(OP, "expected indices to be int64"));
    }
    if grad_output.dtype() != self_.dtype() {
        return Err(Error::dtype(OP, "expected grad_output and self to have the same dtype"));
    }
    let d = self_.dim();
    let plane_in = self_.sizes()[d - 2] * self_.sizes()[d - 1];
    let plane_out = grad_output.sizes()[d - 2] * grad_output.sizes()[d - 1];
    let idx = read_vec::<i64>(indices)?;
    if idx.iter().any(|&i| i < 0 || i as usize >= plane_in.max(1)) {
        return Err(Error::index(OP, "index out of range of the input plane"));
    }
    dispatch_pool_float!(self_.dtype(), T => {
        let go = read_vec::<T>(grad_output)?;
        let mut gin = vec![T::narrow(<T as PoolElem>::ZERO); self_.numel()];
        for (k, (&g, &i)) in go.iter().zip(&idx).enumerate() {
            let at = (k / plane_out.max(1)) * plane_in + i as usize;
            gin[at] = T::narrow(gin[at].widen() + g.widen());
        }
        tensor_of(gin, self_.sizes())
    }, _ => Err(not_implemented(OP, "adaptive_max_pool2d_backward", self_.dtype())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn output_sizes() {
        assert_eq!(pooled_size(5, 2, 0, 2, false), 2);
        assert_eq!(pooled_size(5, 2, 0, 2, true), 3);
        assert_eq!(pooled_size(5, 2, 1, 2, true), 3);
        assert_eq!(adaptive_range(1, 5, 3), (1, 4));
        assert_eq!(adaptive_range(2, 5, 3), (3, 5));
    }

    #[test]
    fn avg_pool_padding_divisors() {
        let x = Tensor::from_vec(vec![1.0f64; 9], &[1, 3, 3]).unwrap();
        let inc = avg_pool2d(&x, &[2], &[2], &[1], false, true, None).unwrap();
        assert_eq!(inc.to_vec::<f64>().unwrap(), vec![0.25, 0.5, 0.5, 1.0]);
        let exc = avg_pool2d(&x, &[2], &[2], &[1], false, false, None).unwrap();
        assert_eq!(exc.to_vec::<f64>().unwrap(), vec![1.0; 4]);
        let ovr = avg_pool2d(&x, &[2], &[2], &[1], false, false, Some(2)).unwrap();
        assert_eq!(ovr.to_vec::<f64>().unwrap(), vec![0.5, 1.0, 1.0, 2.0]);
        let i = Tensor::from_vec(vec![-7i64, 3, 1, 1], &[1, 2, 2]).unwrap();
        assert_eq!(
            avg_pool2d(&i, &[2], &[], &[0], false, true, None)
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            vec![0]
        );
    }

    #[test]
    fn backward_is_adjoint() {
        let x = Tensor::from_vec(vec![0.0f64; 25], &[1, 5, 5]).unwrap();
        let go = Tensor::from_vec(vec![1.0f64; 9], &[1, 3, 3]).unwrap();
        let g = avg_pool2d_backward(&go, &x, &[3], &[2], &[1], false, true, None).unwrap();
        let total: f64 = g.to_vec::<f64>().unwrap().iter().sum();
        // each output spreads 1/9 over the in-bounds cells of its window:
        // clipped window lengths per dim are 2, 3, 2
        assert!((total - 49.0 / 9.0).abs() < 1e-12, "{total}");
        let ga = _adaptive_avg_pool2d_backward(&go, &x).unwrap();
        let s: f64 = ga.to_vec::<f64>().unwrap().iter().sum();
        assert!((s - 9.0).abs() < 1e-12);
    }

    #[test]
    fn pool_errors() {
        let x = Tensor::zeros_contiguous(&[2, 3, 5, 5], DType::F32);
        let kind = |r: Result<Tensor>| r.unwrap_err().kind();
        assert_eq!(
            kind(avg_pool2d(&x, &[2, 2, 2], &[], &[0], false, true, None)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(avg_pool2d(&x, &[3], &[2], &[2], false, true, None)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(avg_pool2d(&x, &[6], &[], &[0], false, true, None)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(avg_pool2d(&x, &[2], &[], &[0], false, true, Some(0))),
            ErrorKind::InvalidArgument
        );
        let m = Tensor::zeros_contiguous(&[5, 5], DType::F32);
        assert_eq!(
            kind(avg_pool2d(&m, &[2], &[], &[0], false, true, None)),
            ErrorKind::DimOutOfRange
        );
        let i = Tensor::zeros_contiguous(&[3, 5, 5], DType::I32);
        assert_eq!(
            kind(avg_pool2d(&i, &[2], &[], &[0], false, true, None)),
            ErrorKind::DType
        );
        let h = Tensor::zeros_contiguous(&[1, 2, 2, 2], DType::F16);
        assert_eq!(
            kind(avg_pool3d(&h, &[2], &[], &[0], false, true, None)),
            ErrorKind::DType
        );
        assert_eq!(kind(_adaptive_avg_pool2d(&x, &[3])), ErrorKind::InvalidArgument);
        let e = Tensor::zeros_contiguous(&[3, 0, 4], DType::F32);
        assert_eq!(kind(_adaptive_avg_pool2d(&e, &[2, 2])), ErrorKind::ShapeMismatch);
        let l = Tensor::zeros_contiguous(&[3, 4, 4], DType::I64);
        assert_eq!(kind(_adaptive_avg_pool2d(&l, &[2, 2])), ErrorKind::DType);
    }
}
