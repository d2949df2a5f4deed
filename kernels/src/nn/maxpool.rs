//! Max pooling with indices (`max_pool2d_with_indices`,
//! `max_pool3d_with_indices`) and their backward ops.
//!
//! Each window (dilated, clipped to the input) keeps its first largest
//! element; a NaN always wins (the last NaN of a window), as in PyTorch's
//! CPU kernels. Indices are positions within the input's spatial plane.

use super::{fmt, not_implemented, read_vec, split_planes, tensor_of, widen3};
use crate::iter::{dispatch_float, OpMath};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Tensor};

/// The arguments of a max-pooling call.
struct MaxArgs<'a> {
    op: &'a str,
    kernel: &'a str,
    k: usize,
    kernel_size: &'a [i64],
    stride: &'a [i64],
    padding: &'a [i64],
    dilation: &'a [i64],
    ceil_mode: bool,
}

/// The validated geometry of a max-pooling call (widened to 3-D).
struct MaxGeom {
    planes: usize,
    in3: [usize; 3],
    out3: [usize; 3],
    k3: [i64; 3],
    s3: [i64; 3],
    p3: [i64; 3],
    d3: [i64; 3],
    out_sizes: Vec<usize>,
}

/// PyTorch's `pooling_output_shape` with dilation.
fn pooled_size(input: i64, k: i64, pad: i64, stride: i64, dil: i64, ceil: bool) -> i64 {
    let num = input + 2 * pad - dil * (k - 1) - 1 + if ceil { stride - 1 } else { 0 };
    let mut out = num.div_euclid(stride) + 1;
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    out
}

/// A 1- or `k`-entry list expanded to `k` entries.
fn expand(op: &str, what: &str, v: &[i64], k: usize) -> Result<Vec<i64>> {
    match v.len() {
        1 => Ok(vec![v[0]; k]),
        l if l == k => Ok(v.to_vec()),
        _ => Err(Error::invalid(
            op,
            format!("max_pool{k}d: {what} must either be a single int, or a tuple of {k} ints"),
        )),
    }
}

impl MaxArgs<'_> {
    fn geometry(&self, input: &Tensor) -> Result<MaxGeom> {
        let (op, k) = (self.op, self.k);
        let kernel = expand(op, "kernel_size", self.kernel_size, k)?;
        let stride = if self.stride.is_empty() {
            kernel.clone()
        } else {
            expand(op, "stride", self.stride, k)?
        };
        let pad = expand(op, "padding", self.padding, k)?;
        let dil = expand(op, "dilation", self.dilation, k)?;
        if kernel.iter().any(|&v| v <= 0) {
            return Err(Error::invalid(
                op,
                format!("kernel size should be greater than zero, but got {kernel:?}"),
            ));
        }
        if stride.iter().any(|&v| v <= 0) {
            return Err(Error::invalid(
                op,
                format!("stride should be greater than zero, but got {stride:?}"),
            ));
        }
        if dil.iter().any(|&v| v <= 0) {
            return Err(Error::invalid(
                op,
                format!("dilation should be greater than zero, but got {dil:?}"),
            ));
        }
        for (&p, &kk) in pad.iter().zip(&kernel) {
            if p < 0 || p > kk / 2 {
                return Err(Error::invalid(
                    op,
                    format!("pad should be at most half of effective kernel size, but got pad={p}, kernel_size={kk} and dilation=1"),
                ));
            }
        }
        let sizes = input.sizes();
        let dim = sizes.len();
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
        let spatial = &sizes[dim - k..];
        let outs: Vec<i64> = (0..k)
            .map(|i| pooled_size(spatial[i] as i64, kernel[i], pad[i], stride[i], dil[i], self.ceil_mode))
            .collect();
        if outs.iter().any(|&o| o < 1) {
            return Err(Error::invalid(
                op,
                format!(
                    "Given input size: {}. Calculated output size: {outs:?}. Output size is too small",
                    fmt(sizes)
                ),
            ));
        }
        let out_spatial: Vec<usize> = outs.iter().map(|&o| o as usize).collect();
        let mut out_sizes = sizes[..dim - k].to_vec();
        out_sizes.extend_from_slice(&out_spatial);
        let w = |v: &[i64], fill: i64| {
            let mut a = [fill; 3];
            a[3 - k..].copy_from_slice(v);
            a
        };
        Ok(MaxGeom {
            planes: split_planes(sizes, k).0,
            in3: widen3(spatial),
            out3: widen3(&out_spatial),
            k3: w(&kernel, 1),
            s3: w(&stride, 1),
            p3: w(&pad, 0),
            d3: w(&dil, 1),
            out_sizes,
        })
    }
}

impl MaxGeom {
    /// The in-input positions of window `o` along widened dim `d`.
    fn taps(&self, d: usize, o: usize) -> Vec<usize> {
        let n = self.in3[d] as i64;
        let start = o as i64 * self.s3[d] - self.p3[d];
        (0..self.k3[d])
            .map(|j| start + j * self.d3[d])
            .filter(|&i| i >= 0 && i < n)
            .map(|i| i as usize)
            .collect()
    }

    fn all_taps(&self) -> [Vec<Vec<usize>>; 3] {
        [0, 1, 2].map(|d| (0..self.out3[d]).map(|o| self.taps(d, o)).collect())
    }

    fn plane_in(&self) -> usize {
        self.in3.iter().product()
    }
}

/// Max pooling of row-major planes: (values, plane indices).
fn max_forward<T: Element>(x: &[T], g: &MaxGeom) -> (Vec<T>, Vec<i64>) {
    let [_, ih, iw] = g.in3;
    let taps = g.all_taps();
    let total = g.planes * g.out3.iter().product::<usize>();
    let (mut vals, mut idx) = (Vec::with_capacity(total), Vec::with_capacity(total));
    let lowest = T::from_f64(f64::NEG_INFINITY);
    for p in 0..g.planes {
        let plane = &x[p * g.plane_in()..(p + 1) * g.plane_in()];
        for td in &taps[0] {
            for th in &taps[1] {
                for tw in &taps[2] {
                    let first = (td.first().copied().unwrap_or(0) * ih + th.first().copied().unwrap_or(0)) * iw
                        + tw.first().copied().unwrap_or(0);
                    let (mut best, mut at) = (lowest, first as i64);
                    for &d in td {
                        for &h in th {
                            let row = (d * ih + h) * iw;
                            for &w in tw {
                                let v = plane[row + w];
                                #[allow(clippy::eq_op)]
                                let nan = v != v;
                                if v > best || nan {
                                    best = v;
                                    at = (row + w) as i64;
                                }
                            }
                        }
                    }
                    vals.push(best);
                    idx.push(at);
                }
            }
        }
    }
    (vals, idx)
}

/// Adds each output gradient to the input position its index names, in the
/// element type (rounding each add, as PyTorch does).
fn max_backward<T: OpMath>(op: &str, go: &[T], idx: &[i64], g: &MaxGeom) -> Result<Vec<T>> {
    let plane_in = g.plane_in();
    let per_out: usize = g.out3.iter().product();
    let mut gin = vec![T::default(); g.planes * plane_in];
    for (j, (&v, &i)) in go.iter().zip(idx).enumerate() {
        if i < 0 || i as usize >= plane_in {
            return Err(Error::index(
                op,
                format!("index {i} is out of range for an input plane of {plane_in} elements"),
            ));
        }
        let dst = &mut gin[(j / per_out) * plane_in + i as usize];
        *dst = T::narrow(crate::iter::Arith::add(dst.widen(), v.widen()));
    }
    Ok(gin)
}

fn forward(a: MaxArgs<'_>, self_: &Tensor) -> Result<(Tensor, Tensor)> {
    let g = a.geometry(self_)?;
    if self_.dtype() == DType::Bool {
        return Err(not_implemented(a.op, a.kernel, DType::Bool));
    }
    let (vals, idx) = dispatch_dtype!(self_.dtype(), T => {
        let (v, i) = max_forward::<T>(&read_vec::<T>(self_)?, &g);
        (tensor_of(v, &g.out_sizes)?, i)
    });
    Ok((vals, tensor_of(idx, &g.out_sizes)?))
}

fn backward(a: MaxArgs<'_>, grad_output: &Tensor, self_: &Tensor, indices: &Tensor) -> Result<Tensor> {
    let g = a.geometry(self_)?;
    for (what, t) in [("grad_output", grad_output), ("indices", indices)] {
        if t.sizes() != g.out_sizes.as_slice() {
            return Err(Error::shape(
                a.op,
                format!(
                    "{what} has shape {} but the pooled output has shape {}",
                    fmt(t.sizes()),
                    fmt(&g.out_sizes)
                ),
            ));
        }
    }
    if indices.dtype() != DType::I64 {
        return Err(Error::dtype(
            a.op,
            format!("indices must be int64, got {}", indices.dtype()),
        ));
    }
    if grad_output.dtype() != self_.dtype() {
        return Err(Error::dtype(
            a.op,
            format!(
                "expected scalar type {} but found {}",
                self_.dtype().scalar_type_name(),
                grad_output.dtype().scalar_type_name()
            ),
        ));
    }
    let idx = read_vec::<i64>(indices)?;
    dispatch_float!(self_.dtype(), T => tensor_of(max_backward::<T>(a.op, &read_vec::<T>(grad_output)?, &idx, &g)?, self_.sizes()),
        _ => Err(not_implemented(a.op, a.kernel, self_.dtype())))
}

/// `aten::max_pool2d_with_indices`: the maximum of each (dilated)
/// `kernel_size` window of the last two dims, and its index in the input
/// plane (`h * W + w`). `stride` defaults to the kernel size; `padding` pads
/// with -infinity.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 2.0], &[1, 2, 2]).unwrap();
/// let (v, i) = ft_kernels::nn::maxpool::max_pool2d_with_indices(&x, &[2], &[], &[0], &[1], false).unwrap();
/// assert_eq!((v.to_vec::<f32>().unwrap(), i.to_vec::<i64>().unwrap()), (vec![5.0], vec![1]));
/// ```
pub fn max_pool2d_with_indices(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<(Tensor, Tensor)> {
    let a = MaxArgs {
        op: "aten::max_pool2d_with_indices",
        kernel: "max_pool2d",
        k: 2,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
    };
    forward(a, self_)
}

/// `aten::max_pool2d_with_indices_backward`: routes each output gradient to
/// the input element its index names (summing where windows overlap).
#[allow(clippy::too_many_arguments)]
pub fn max_pool2d_with_indices_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
    indices: &Tensor,
) -> Result<Tensor> {
    let a = MaxArgs {
        op: "aten::max_pool2d_with_indices_backward",
        kernel: "max_pool2d_with_indices_backward",
        k: 2,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
    };
    backward(a, grad_output, self_, indices)
}

/// `aten::max_pool3d_with_indices`: [`max_pool2d_with_indices`] over the
/// last three dims (indices are `(d * H + h) * W + w`).
pub fn max_pool3d_with_indices(
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<(Tensor, Tensor)> {
    let a = MaxArgs {
        op: "aten::max_pool3d_with_indices",
        kernel: "max_pool3d",
        k: 3,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
    };
    forward(a, self_)
}

/// `aten::max_pool3d_with_indices_backward`: the gradient of `max_pool3d_with_indices`.
#[allow(clippy::too_many_arguments)]
pub fn max_pool3d_with_indices_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    kernel_size: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
    indices: &Tensor,
) -> Result<Tensor> {
    let a = MaxArgs {
        op: "aten::max_pool3d_with_indices_backward",
        kernel: "max_pool3d_with_indices_backward",
        k: 3,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
    };
    backward(a, grad_output, self_, indices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn nan_wins_and_ties_keep_first() {
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, f64::NAN], &[1, 2, 2]).unwrap();
        let (v, i) = max_pool2d_with_indices(&x, &[2], &[], &[0], &[1], false).unwrap();
        assert!(v.to_vec::<f64>().unwrap()[0].is_nan());
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![3]);
        let y = Tensor::from_vec(vec![1i32; 4], &[1, 2, 2]).unwrap();
        let (_, j) = max_pool2d_with_indices(&y, &[2], &[], &[0], &[1], false).unwrap();
        assert_eq!(j.to_vec::<i64>().unwrap(), vec![0]);
    }

    #[test]
    fn padded_dilated_windows_and_backward() {
        let x = Tensor::from_vec((0..25).map(|v| ((v * 7) % 11) as f64).collect::<Vec<_>>(), &[1, 5, 5]).unwrap();
        let (v, i) = max_pool2d_with_indices(&x, &[3], &[2], &[1], &[2], true).unwrap();
        assert_eq!(v.sizes(), &[1, 2, 2]);
        let xs = x.to_vec::<f64>().unwrap();
        for (val, idx) in v.to_vec::<f64>().unwrap().iter().zip(i.to_vec::<i64>().unwrap()) {
            assert_eq!(*val, xs[idx as usize]);
        }
        let go = Tensor::from_vec(vec![1.0f64; 4], &[1, 2, 2]).unwrap();
        let g = max_pool2d_with_indices_backward(&go, &x, &[3], &[2], &[1], &[2], true, &i).unwrap();
        assert_eq!(g.to_vec::<f64>().unwrap().iter().sum::<f64>(), 4.0);
    }

    #[test]
    fn maxpool_errors() {
        let kind = |r: Result<(Tensor, Tensor)>| r.unwrap_err().kind();
        let x = Tensor::zeros_contiguous(&[1, 2, 5, 5], DType::F32);
        assert_eq!(
            kind(max_pool2d_with_indices(&x, &[3], &[2], &[2], &[1], false)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(max_pool2d_with_indices(&x, &[6], &[], &[0], &[1], false)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(max_pool2d_with_indices(&x, &[2], &[], &[0], &[0], false)),
            ErrorKind::InvalidArgument
        );
        let m = Tensor::zeros_contiguous(&[5, 5], DType::F32);
        assert_eq!(
            kind(max_pool2d_with_indices(&m, &[2], &[], &[0], &[1], false)),
            ErrorKind::ShapeMismatch
        );
        let b = Tensor::zeros_contiguous(&[1, 2, 4, 4], DType::Bool);
        assert_eq!(
            kind(max_pool2d_with_indices(&b, &[2], &[], &[0], &[1], false)),
            ErrorKind::DType
        );
    }
}
