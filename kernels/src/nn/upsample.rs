//! 2-D upsampling: nearest-neighbour and bilinear, with their backward ops.
//!
//! Source positions follow PyTorch's CPU index math exactly: nearest uses a
//! float32 scale (`1/scale` when a scale is given, else `in/out`) and
//! `floor(dst * scale)`, with exact shortcuts for equal and doubled sizes;
//! bilinear computes the source coordinate in the op-math type
//! (`scale * (dst + 0.5) - 0.5`, clamped at 0, or `dst * (in-1)/(out-1)`
//! with `align_corners`) and blends the two neighbours of each dim.

use super::{fmt, not_implemented, read_vec, tensor_of, Real};
use crate::iter::{dispatch_float, OpMath};
use ft_runtime::{DType, Element, Error, Result, Tensor};

/// Validated sizes of an upsampling call: `[n, c, in_h, in_w]` to `[out_h, out_w]`.
struct Geom {
    planes: usize,
    input: [usize; 2],
    output: [usize; 2],
    out_sizes: [usize; 4],
}

/// PyTorch's `upsample_2d_common_check`.
fn geometry(op: &str, input_size: &[i64], output_size: &[i64]) -> Result<Geom> {
    if output_size.len() != 2 {
        return Err(Error::invalid(
            op,
            format!(
                "It is expected output_size equals to 2, but got size {}",
                output_size.len()
            ),
        ));
    }
    if input_size.len() != 4 {
        return Err(Error::invalid(
            op,
            format!(
                "It is expected input_size equals to 4, but got size {}",
                input_size.len()
            ),
        ));
    }
    let (ih, iw, oh, ow) = (input_size[2], input_size[3], output_size[0], output_size[1]);
    if ih <= 0 || iw <= 0 || oh <= 0 || ow <= 0 {
        return Err(Error::invalid(
            op,
            format!(
                "Input and output sizes should be greater than 0, but got input (H: {ih}, W: {iw}) output (H: {oh}, W: {ow})"
            ),
        ));
    }
    if input_size[0] < 0 || input_size[1] < 0 {
        return Err(Error::invalid(op, format!("invalid input_size {input_size:?}")));
    }
    let (n, c) = (input_size[0] as usize, input_size[1] as usize);
    Ok(Geom {
        planes: n * c,
        input: [ih as usize, iw as usize],
        output: [oh as usize, ow as usize],
        out_sizes: [n, c, oh as usize, ow as usize],
    })
}

/// Checks a forward input (4-D, non-empty except the batch) and computes the geometry.
fn forward_geometry(op: &str, input: &Tensor, output_size: &[i64]) -> Result<Geom> {
    let sizes: Vec<i64> = input.sizes().iter().map(|&s| s as i64).collect();
    let g = geometry(op, &sizes, output_size)?;
    if input.sizes()[1..].contains(&0) {
        return Err(Error::shape(
            op,
            format!(
                "Non-empty 4D data tensor expected but got a tensor with sizes {}",
                fmt(input.sizes())
            ),
        ));
    }
    Ok(g)
}

/// Checks a backward op's `grad_output` against the output shape.
fn backward_geometry(op: &str, grad_output: &Tensor, output_size: &[i64], input_size: &[i64]) -> Result<Geom> {
    let g = geometry(op, input_size, output_size)?;
    if grad_output.sizes() != g.out_sizes {
        return Err(Error::shape(
            op,
            format!(
                "Expected grad_output to have the same shape as output {}, but got {}",
                fmt(&g.out_sizes),
                fmt(grad_output.sizes())
            ),
        ));
    }
    Ok(g)
}

/// The input position nearest-neighbour upsampling reads for output `o`.
fn nearest_source(o: usize, input: usize, output: usize, scale: Option<f64>) -> usize {
    if output == input {
        return o;
    }
    if output == 2 * input {
        return o >> 1;
    }
    let s = match scale {
        Some(v) if v > 0.0 => (1.0 / v) as f32,
        _ => input as f32 / output as f32,
    };
    ((o as f32 * s).floor() as usize).min(input - 1)
}

/// For one dim: both neighbours and their weights for each output position.
struct Linear<A> {
    i0: Vec<usize>,
    i1: Vec<usize>,
    l0: Vec<A>,
    l1: Vec<A>,
}

/// PyTorch's `area_pixel_compute_scale` followed by
/// `area_pixel_compute_source_index` and the linear neighbour weights.
fn linear_weights<A: Real>(input: usize, output: usize, align_corners: bool, scale: Option<f64>) -> Linear<A> {
    let ratio = if align_corners {
        if output > 1 {
            A::of_usize(input - 1) / A::of_usize(output - 1)
        } else {
            A::ZERO
        }
    } else {
        match scale {
            Some(v) if v > 0.0 => A::of(1.0 / v),
            _ => A::of_usize(input) / A::of_usize(output),
        }
    };
    let mut w = Linear {
        i0: Vec::with_capacity(output),
        i1: Vec::with_capacity(output),
        l0: Vec::with_capacity(output),
        l1: Vec::with_capacity(output),
    };
    for o in 0..output {
        let src = if align_corners {
            ratio * A::of_usize(o)
        } else {
            let s = ratio * (A::of_usize(o) + A::of(0.5)) - A::of(0.5);
            if s < A::ZERO {
                A::ZERO
            } else {
                s
            }
        };
        let i0 = (src.to_f64() as usize).min(input - 1);
        let i1 = i0 + usize::from(i0 < input - 1);
        let mut l1 = src - A::of_usize(i0);
        if l1 < A::ZERO {
            l1 = A::ZERO;
        }
        if l1 > A::of(1.0) {
            l1 = A::of(1.0);
        }
        w.i0.push(i0);
        w.i1.push(i1);
        w.l0.push(A::of(1.0) - l1);
        w.l1.push(l1);
    }
    w
}

fn nearest_maps(g: &Geom, scales: [Option<f64>; 2]) -> [Vec<usize>; 2] {
    [0, 1].map(|d| {
        (0..g.output[d])
            .map(|o| nearest_source(o, g.input[d], g.output[d], scales[d]))
            .collect()
    })
}

fn nearest_forward<T: Element>(x: &[T], g: &Geom, scales: [Option<f64>; 2]) -> Vec<T> {
    let [mh, mw] = nearest_maps(g, scales);
    let plane_in = g.input[0] * g.input[1];
    let mut out = Vec::with_capacity(g.planes * g.output[0] * g.output[1]);
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for &h in &mh {
            let row = &plane[h * g.input[1]..(h + 1) * g.input[1]];
            out.extend(mw.iter().map(|&w| row[w]));
        }
    }
    out
}

fn nearest_backward<T: OpMath>(go: &[T], g: &Geom, scales: [Option<f64>; 2]) -> Vec<T>
where
    T::Acc: Real,
{
    let [mh, mw] = nearest_maps(g, scales);
    let plane_in = g.input[0] * g.input[1];
    let mut acc = vec![<T::Acc as Real>::ZERO; g.planes * plane_in];
    let mut src = go.iter();
    for p in 0..g.planes {
        let plane = &mut acc[p * plane_in..(p + 1) * plane_in];
        for &h in &mh {
            let row = &mut plane[h * g.input[1]..(h + 1) * g.input[1]];
            for &w in &mw {
                row[w] += src.next().expect("grad_output has the output shape").widen();
            }
        }
    }
    acc.into_iter().map(T::narrow).collect()
}

fn bilinear_forward<T: OpMath>(x: &[T], g: &Geom, align_corners: bool, scales: [Option<f64>; 2]) -> Vec<T>
where
    T::Acc: Real,
{
    let wh = linear_weights::<T::Acc>(g.input[0], g.output[0], align_corners, scales[0]);
    let ww = linear_weights::<T::Acc>(g.input[1], g.output[1], align_corners, scales[1]);
    let (iw, plane_in) = (g.input[1], g.input[0] * g.input[1]);
    let mut out = Vec::with_capacity(g.planes * g.output[0] * g.output[1]);
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for oh in 0..g.output[0] {
            let r0 = &plane[wh.i0[oh] * iw..];
            let r1 = &plane[wh.i1[oh] * iw..];
            for ow in 0..g.output[1] {
                let (a, b) = (ww.i0[ow], ww.i1[ow]);
                let t0 = r0[a].widen() * ww.l0[ow] + r0[b].widen() * ww.l1[ow];
                let t1 = r1[a].widen() * ww.l0[ow] + r1[b].widen() * ww.l1[ow];
                out.push(T::narrow(t0 * wh.l0[oh] + t1 * wh.l1[oh]));
            }
        }
    }
    out
}

fn bilinear_backward<T: OpMath>(go: &[T], g: &Geom, align_corners: bool, scales: [Option<f64>; 2]) -> Vec<T>
where
    T::Acc: Real,
{
    let wh = linear_weights::<T::Acc>(g.input[0], g.output[0], align_corners, scales[0]);
    let ww = linear_weights::<T::Acc>(g.input[1], g.output[1], align_corners, scales[1]);
    let (iw, plane_in) = (g.input[1], g.input[0] * g.input[1]);
    let mut acc = vec![<T::Acc as Real>::ZERO; g.planes * plane_in];
    let mut src = go.iter();
    for p in 0..g.planes {
        let plane = &mut acc[p * plane_in..(p + 1) * plane_in];
        for oh in 0..g.output[0] {
            let (h0, h1) = (wh.i0[oh] * iw, wh.i1[oh] * iw);
            for ow in 0..g.output[1] {
                let v = src.next().expect("grad_output has the output shape").widen();
                let (a, b) = (ww.i0[ow], ww.i1[ow]);
                let (v0, v1) = (v * wh.l0[oh], v * wh.l1[oh]);
                plane[h0 + a] += v0 * ww.l0[ow];
                plane[h0 + b] += v0 * ww.l1[ow];
                plane[h1 + a] += v1 * ww.l0[ow];
                plane[h1 + b] += v1 * ww.l1[ow];
            }
        }
    }
    acc.into_iter().map(T::narrow).collect()
}

/// `aten::upsample_nearest2d`: resizes the last two dims of a 4-D `self_` to
/// `output_size`, each output copying the nearest input at or before its
/// scaled position (`scales_h`/`scales_w`, when given and positive, set the
/// scale instead of the size ratio).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 1, 1, 2]).unwrap();
/// let y = ft_kernels::nn::upsample::upsample_nearest2d(&x, &[1, 4], None, None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0, 1.0, 2.0, 2.0]);
/// ```
pub fn upsample_nearest2d(
    self_: &Tensor,
    output_size: &[i64],
    scales_h: Option<f64>,
    scales_w: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "aten::upsample_nearest2d";
    let g = forward_geometry(OP, self_, output_size)?;
    let scales = [scales_h, scales_w];
    match self_.dtype() {
        DType::U8 => tensor_of(nearest_forward::<u8>(&read_vec(self_)?, &g, scales), &g.out_sizes),
        d => dispatch_float!(d, T => tensor_of(nearest_forward::<T>(&read_vec(self_)?, &g, scales), &g.out_sizes),
            _ => Err(not_implemented(OP, "upsample_nearest2d_channels_last", d))),
    }
}

/// `aten::upsample_nearest2d_backward`: the gradient of `upsample_nearest2d`
/// with respect to its input of sizes `input_size`.
pub fn upsample_nearest2d_backward(
    grad_output: &Tensor,
    output_size: &[i64],
    input_size: &[i64],
    scales_h: Option<f64>,
    scales_w: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "aten::upsample_nearest2d_backward";
    let g = backward_geometry(OP, grad_output, output_size, input_size)?;
    let shape: Vec<usize> = input_size.iter().map(|&s| s as usize).collect();
    dispatch_float!(grad_output.dtype(), T => tensor_of(nearest_backward::<T>(&read_vec(grad_output)?, &g, [scales_h, scales_w]), &shape),
        _ => Err(not_implemented(OP, "upsample_nearest2d_backward", grad_output.dtype())))
}

/// `aten::upsample_bilinear2d`: resizes the last two dims of a 4-D `self_` to
/// `output_size` by bilinear interpolation (`align_corners` maps the corner
/// pixels onto each other; otherwise pixel centres are aligned).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64, 1.0], &[1, 1, 1, 2]).unwrap();
/// let y = ft_kernels::nn::upsample::upsample_bilinear2d(&x, &[1, 3], true, None, None).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![0.0, 0.5, 1.0]);
/// ```
pub fn upsample_bilinear2d(
    self_: &Tensor,
    output_size: &[i64],
    align_corners: bool,
    scales_h: Option<f64>,
    scales_w: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "aten::upsample_bilinear2d";
    let g = forward_geometry(OP, self_, output_size)?;
    dispatch_float!(self_.dtype(), T => tensor_of(bilinear_forward::<T>(&read_vec(self_)?, &g, align_corners, [scales_h, scales_w]), &g.out_sizes),
        _ => Err(not_implemented(OP, "upsample_bilinear2d_channels_last", self_.dtype())))
}

/// `aten::upsample_bilinear2d_backward`: the gradient of `upsample_bilinear2d`
/// with respect to its input of sizes `input_size`.
pub fn upsample_bilinear2d_backward(
    grad_output: &Tensor,
    output_size: &[i64],
    input_size: &[i64],
    align_corners: bool,
    scales_h: Option<f64>,
    scales_w: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "aten::upsample_bilinear2d_backward";
    let g = backward_geometry(OP, grad_output, output_size, input_size)?;
    let shape: Vec<usize> = input_size.iter().map(|&s| s as usize).collect();
    dispatch_float!(grad_output.dtype(), T => tensor_of(bilinear_backward::<T>(&read_vec(grad_output)?, &g, align_corners, [scales_h, scales_w]), &shape),
        _ => Err(not_implemented(OP, "upsample_bilinear2d_backward", grad_output.dtype())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn nearest_sources() {
        let m: Vec<usize> = (0..5).map(|o| nearest_source(o, 3, 5, None)).collect();
        assert_eq!(m, vec![0, 0, 1, 1, 2]);
        let s: Vec<usize> = (0..4).map(|o| nearest_source(o, 3, 4, Some(2.0))).collect();
        assert_eq!(s, vec![0, 0, 1, 1]);
        assert_eq!(nearest_source(5, 3, 6, None), 2);
    }

    #[test]
    fn linear_weights_half_pixel() {
        let w = linear_weights::<f64>(2, 4, false, None);
        assert_eq!(w.i0, vec![0, 0, 0, 1]);
        assert_eq!(w.i1, vec![1, 1, 1, 1]);
        // past the last pixel both neighbours are the last one, so the weights still sum to 1
        assert_eq!(w.l1, vec![0.0, 0.25, 0.75, 0.25]);
    }

    #[test]
    fn bilinear_backward_conserves_mass() {
        let go = Tensor::from_vec(vec![1.0f64; 2 * 5 * 7], &[1, 2, 5, 7]).unwrap();
        for ac in [false, true] {
            let g = upsample_bilinear2d_backward(&go, &[5, 7], &[1, 2, 3, 4], ac, None, None).unwrap();
            let s: f64 = g.to_vec::<f64>().unwrap().iter().sum();
            assert!((s - 70.0).abs() < 1e-9);
        }
    }

    #[test]
    fn upsample_errors() {
        let x = Tensor::zeros_contiguous(&[2, 3, 4, 5], DType::F32);
        let kind = |r: Result<Tensor>| r.unwrap_err().kind();
        assert_eq!(
            kind(upsample_nearest2d(&x, &[0, 3], None, None)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(upsample_nearest2d(&x, &[7], None, None)),
            ErrorKind::InvalidArgument
        );
        let e = Tensor::zeros_contiguous(&[2, 0, 4, 5], DType::F32);
        assert_eq!(
            kind(upsample_nearest2d(&e, &[7, 3], None, None)),
            ErrorKind::ShapeMismatch
        );
        let l = Tensor::zeros_contiguous(&[2, 3, 4, 5], DType::I64);
        assert_eq!(kind(upsample_nearest2d(&l, &[7, 3], None, None)), ErrorKind::DType);
        let g = Tensor::zeros_contiguous(&[2, 3, 7, 4], DType::F32);
        assert_eq!(
            kind(upsample_nearest2d_backward(&g, &[7, 3], &[2, 3, 4, 5], None, None)),
            ErrorKind::ShapeMismatch
        );
    }
}
