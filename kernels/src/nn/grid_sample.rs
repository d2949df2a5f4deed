//! `grid_sampler_2d` and its backward: sampling `[N, C, H, W]` images at
//! the normalized (x, y) locations of a `[N, Ho, Wo, 2]` grid.
//!
//! Each output location becomes a list of *taps*: an input pixel, its
//! interpolation weight and the weight's derivatives with respect to the
//! unnormalized source coordinates. The forward pass sums weighted pixels;
//! the backward pass scatters the output gradient to the pixels (input
//! gradient) and contracts it with the derivatives (grid gradient).
//! Everything is computed in f64 and rounded once to the input's dtype.

use super::fmt;
use crate::iter::to_dtype;
use ft_runtime::{DType, Error, Result, Tensor};

const OP: &str = "aten::grid_sampler_2d";
const BW: &str = "aten::grid_sampler_2d_backward";

/// Interpolation modes.
const BILINEAR: i64 = 0;
const NEAREST: i64 = 1;
const BICUBIC: i64 = 2;
/// Padding modes.
const BORDER: i64 = 1;
const REFLECTION: i64 = 2;
/// The bicubic convolution constant PyTorch uses.
const A: f64 = -0.75;

/// One input pixel read by one output location.
#[derive(Clone, Copy)]
struct Tap {
    /// `y * W + x` within the input plane.
    off: usize,
    /// Interpolation weight.
    w: f64,
    /// d w / d (source x) and d w / d (source y).
    dx: f64,
    dy: f64,
}

/// The taps of one output location and the factors turning derivatives with
/// respect to source coordinates into derivatives with respect to the grid.
struct Sample {
    taps: Vec<Tap>,
    mult: (f64, f64),
}

/// Sampling options.
#[derive(Clone, Copy)]
struct Opts {
    mode: i64,
    padding: i64,
    align: bool,
}

/// Normalized [-1, 1] coordinate to pixel space; returns (value, d value / d coord).
fn unnormalize(coord: f64, size: usize, align: bool) -> (f64, f64) {
    let s = size as f64;
    if align {
        ((coord + 1.0) / 2.0 * (s - 1.0), (s - 1.0) / 2.0)
    } else {
        (((coord + 1.0) * s - 1.0) / 2.0, s / 2.0)
    }
}

/// Clamps to `[0, size - 1]`; the gradient is 0 where clamped.
fn clip(v: f64, size: usize) -> (f64, f64) {
    let max = size as f64 - 1.0;
    if v <= 0.0 {
        (0.0, 0.0)
    } else if v >= max {
        (max, 0.0)
    } else {
        (v, 1.0)
    }
}

/// Reflects `v` into `[twice_low / 2, twice_high / 2]`; returns (value, gradient sign).
fn reflect(v: f64, twice_low: f64, twice_high: f64) -> (f64, f64) {
    if twice_low == twice_high {
        return (0.0, 0.0);
    }
    let min = twice_low / 2.0;
    let span = (twice_high - twice_low) / 2.0;
    let (d, sign) = if v - min < 0.0 { (min - v, -1.0) } else { (v - min, 1.0) };
    let extra = d % span;
    let flips = (d / span).floor();
    if flips % 2.0 == 0.0 {
        (extra + min, sign)
    } else {
        (span - extra + min, -sign)
    }
}

/// Applies the padding mode to a pixel coordinate; returns (value, gradient).
fn pad_coord(v: f64, size: usize, o: Opts) -> (f64, f64) {
    match o.padding {
        BORDER => clip(v, size),
        REFLECTION => {
            let s = size as f64;
            let (r, gr) = if o.align {
                reflect(v, 0.0, 2.0 * (s - 1.0))
            } else {
                reflect(v, -1.0, 2.0 * s - 1.0)
            };
            let (c, gc) = clip(r, size);
            (c, gr * gc)
        }
        _ => (v, 1.0),
    }
}

/// The plane offset of pixel (x, y), if inside a `w` x `h` plane.
fn inside(x: i64, y: i64, w: usize, h: usize) -> Option<usize> {
    (x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h).then(|| y as usize * w + x as usize)
}

/// The four cubic convolution weights at fraction `t` and their derivatives.
fn cubic(t: f64) -> ([f64; 4], [f64; 4]) {
    let c1 = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    let d1 = |x: f64| 3.0 * (A + 2.0) * x * x - 2.0 * (A + 3.0) * x;
    let d2 = |x: f64| 3.0 * A * x * x - 10.0 * A * x + 8.0 * A;
    (
        [c2(t + 1.0), c1(t), c1(1.0 - t), c2(2.0 - t)],
        [d2(t + 1.0), d1(t), -d1(1.0 - t), -d2(2.0 - t)],
    )
}

/// The taps of the grid point (gx, gy) in a `w` x `h` plane.
fn sample_at(gx: f64, gy: f64, w: usize, h: usize, o: Opts) -> Sample {
    let (ux, mx) = unnormalize(gx, w, o.align);
    let (uy, my) = unnormalize(gy, h, o.align);
    let mut taps = Vec::new();
    if o.mode == BICUBIC {
        // Padding applies to each tap's coordinate and is not differentiated.
        let (x0, y0) = (ux.floor(), uy.floor());
        let ((cx, dcx), (cy, dcy)) = (cubic(ux - x0), cubic(uy - y0));
        for j in 0..4 {
            for i in 0..4 {
                let px = pad_coord(x0 - 1.0 + i as f64, w, o).0 as i64;
                let py = pad_coord(y0 - 1.0 + j as f64, h, o).0 as i64;
                if let Some(off) = inside(px, py, w, h) {
                    taps.push(Tap {
                        off,
                        w: cx[i] * cy[j],
                        dx: dcx[i] * cy[j],
                        dy: cx[i] * dcy[j],
                    });
                }
            }
        }
        return Sample { taps, mult: (mx, my) };
    }
    let ((ix, gpx), (iy, gpy)) = (pad_coord(ux, w, o), pad_coord(uy, h, o));
    let mult = (mx * gpx, my * gpy);
    if o.mode == NEAREST {
        let (nx, ny) = (ix.round_ties_even() as i64, iy.round_ties_even() as i64);
        if let Some(off) = inside(nx, ny, w, h) {
            taps.push(Tap {
                off,
                w: 1.0,
                dx: 0.0,
                dy: 0.0,
            });
        }
        return Sample { taps, mult };
    }
    let (x0, y0) = (ix.floor(), iy.floor());
    let (tx, ty) = (ix - x0, iy - y0);
    let corners = [
        (0, 0, (1.0 - tx) * (1.0 - ty), -(1.0 - ty), -(1.0 - tx)),
        (1, 0, tx * (1.0 - ty), 1.0 - ty, -tx),
        (0, 1, (1.0 - tx) * ty, -ty, 1.0 - tx),
        (1, 1, tx * ty, ty, tx),
    ];
    for (ox, oy, wt, dx, dy) in corners {
        if let Some(off) = inside(x0 as i64 + ox, y0 as i64 + oy, w, h) {
            taps.push(Tap { off, w: wt, dx, dy });
        }
    }
    Sample { taps, mult }
}

/// Checked geometry: (N, C, H, W, Ho, Wo).
fn geometry(op: &str, input: &Tensor, grid: &Tensor, o: Opts) -> Result<[usize; 6]> {
    if input.dim() != 4 || grid.dim() != 4 {
        return Err(Error::shape(
            op,
            format!(
                "grid_sampler(): expected 4D input and grid, but got input with sizes {} and grid with sizes {}",
                fmt(input.sizes()),
                fmt(grid.sizes())
            ),
        ));
    }
    let (s, g) = (input.sizes(), grid.sizes());
    if g[3] != 2 {
        return Err(Error::shape(
            op,
            format!(
                "grid_sampler(): expected grid to have size 2 in last dimension, but got grid with sizes {}",
                fmt(g)
            ),
        ));
    }
    if g[0] != s[0] {
        return Err(Error::shape(
            op,
            format!(
                "grid_sampler(): expected grid and input to have same batch size, but got input with sizes {} and grid with sizes {}",
                fmt(s),
                fmt(g)
            ),
        ));
    }
    if s[2] == 0 || s[3] == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes {}",
                fmt(s)
            ),
        ));
    }
    if !(BILINEAR..=BICUBIC).contains(&o.mode) || !(0..=REFLECTION).contains(&o.padding) {
        return Err(Error::invalid(
            op,
            format!(
                "grid_sampler(): unknown interpolation mode {} or padding mode {}",
                o.mode, o.padding
            ),
        ));
    }
    if grid.dtype() != input.dtype() {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                input.dtype().scalar_type_name(),
                grid.dtype().scalar_type_name()
            ),
        ));
    }
    if !input.dtype().is_floating_point() {
        return Err(super::not_implemented(
            op,
            "grid_sampler_2d_cpu_kernel_impl",
            input.dtype(),
        ));
    }
    if matches!(input.dtype(), DType::F16 | DType::BF16) {
        return Err(Error::not_supported(
            op,
            format!(
                "grid_sampler_2d in {} is not supported: PyTorch computes it step by step in reduced precision, which FrankenTorch does not reproduce; convert to float32",
                input.dtype().scalar_type_name()
            ),
        ));
    }
    Ok([s[0], s[1], s[2], s[3], g[1], g[2]])
}

/// The taps of every output location of sample `n`, row-major over (Ho, Wo).
fn samples_of(grid: &[f64], n: usize, geo: [usize; 6], o: Opts) -> Vec<Sample> {
    let [_, _, h, w, ho, wo] = geo;
    (0..ho * wo)
        .map(|p| {
            let at = (n * ho * wo + p) * 2;
            sample_at(grid[at], grid[at + 1], w, h, o)
        })
        .collect()
}

/// `aten::grid_sampler_2d`: samples `input` `[N, C, H, W]` at the grid
/// locations `grid` `[N, Ho, Wo, 2]` (x, y in [-1, 1]) with bilinear (0),
/// nearest (1, ties to even) or bicubic (2) interpolation and zeros (0),
/// border (1) or reflection (2) padding; the result is `[N, C, Ho, Wo]`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0], &[1, 1, 2, 2]).unwrap();
/// let g = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 1, 1, 2]).unwrap();
/// let y = ft_kernels::nn::grid_sample::grid_sampler_2d(&x, &g, 0, 0, false).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![1.5]);
/// ```
pub fn grid_sampler_2d(
    input: &Tensor,
    grid: &Tensor,
    interpolation_mode: i64,
    padding_mode: i64,
    align_corners: bool,
) -> Result<Tensor> {
    let o = Opts {
        mode: interpolation_mode,
        padding: padding_mode,
        align: align_corners,
    };
    let geo = geometry(OP, input, grid, o)?;
    let [n, c, h, w, ho, wo] = geo;
    let (x, g) = (input.to_f64_vec(), grid.to_f64_vec());
    let mut out = vec![0.0f64; n * c * ho * wo];
    for b in 0..n {
        let samples = samples_of(&g, b, geo, o);
        for ch in 0..c {
            let plane = &x[(b * c + ch) * h * w..(b * c + ch + 1) * h * w];
            let dst = &mut out[(b * c + ch) * ho * wo..(b * c + ch + 1) * ho * wo];
            for (d, s) in dst.iter_mut().zip(&samples) {
                *d = s.taps.iter().map(|t| plane[t.off] * t.w).sum();
            }
        }
    }
    to_dtype(&Tensor::from_vec(out, &[n, c, ho, wo])?, input.dtype())
}

/// `aten::grid_sampler_2d_backward`: the gradients of [`grid_sampler_2d`]
/// with respect to `input` and `grid` for the output gradient
/// `grad_output` `[N, C, Ho, Wo]`; an unrequested one (by `output_mask`) is
/// an empty tensor. Nearest interpolation has a zero grid gradient.
pub fn grid_sampler_2d_backward(
    grad_output: &Tensor,
    input: &Tensor,
    grid: &Tensor,
    interpolation_mode: i64,
    padding_mode: i64,
    align_corners: bool,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor)> {
    let o = Opts {
        mode: interpolation_mode,
        padding: padding_mode,
        align: align_corners,
    };
    let geo = geometry(BW, input, grid, o)?;
    let [n, c, h, w, ho, wo] = geo;
    if grad_output.sizes() != [n, c, ho, wo] {
        return Err(Error::shape(
            BW,
            format!(
                "grad_output has sizes {}, expected {}",
                fmt(grad_output.sizes()),
                fmt(&[n, c, ho, wo])
            ),
        ));
    }
    let (x, g, go) = (input.to_f64_vec(), grid.to_f64_vec(), grad_output.to_f64_vec());
    let mut gin = vec![0.0f64; x.len()];
    let mut ggrid = vec![0.0f64; g.len()];
    for b in 0..n {
        let samples = samples_of(&g, b, geo, o);
        for ch in 0..c {
            let base = (b * c + ch) * h * w;
            let gplane = &go[(b * c + ch) * ho * wo..(b * c + ch + 1) * ho * wo];
            for (p, (s, &gv)) in samples.iter().zip(gplane).enumerate() {
                let (mut sx, mut sy) = (0.0, 0.0);
                for t in &s.taps {
                    gin[base + t.off] += gv * t.w;
                    sx += gv * x[base + t.off] * t.dx;
                    sy += gv * x[base + t.off] * t.dy;
                }
                let at = (b * ho * wo + p) * 2;
                ggrid[at] += sx * s.mult.0;
                ggrid[at + 1] += sy * s.mult.1;
            }
        }
    }
    let dtype = input.dtype();
    let pick = |on: bool, v: Vec<f64>, sizes: &[usize]| -> Result<Tensor> {
        if on {
            to_dtype(&Tensor::from_vec(v, sizes)?, dtype)
        } else {
            Ok(Tensor::zeros_contiguous(&[0], dtype))
        }
    };
    Ok((
        pick(output_mask.first().copied().unwrap_or(true), gin, input.sizes())?,
        pick(output_mask.get(1).copied().unwrap_or(true), ggrid, grid.sizes())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s).unwrap()
    }

    #[test]
    fn nearest_rounds_half_to_even() {
        let x = t(&(0..12).map(f64::from).collect::<Vec<_>>(), &[1, 1, 3, 4]);
        let g = t(&[0.0, 0.0, -0.5, 0.0, 0.5, 0.0, 0.25, 0.0], &[1, 1, 4, 2]);
        let y = grid_sampler_2d(&x, &g, 1, 0, false).unwrap();
        assert_eq!(y.to_vec::<f64>().unwrap(), vec![6.0, 4.0, 6.0, 6.0]);
    }

    #[test]
    fn bilinear_grid_gradient_matches_finite_differences() {
        let x = t(&[0.3, -1.2, 2.0, 0.7, 1.1, -0.4], &[1, 1, 2, 3]);
        let gv = [0.13, -0.41, 0.77, 0.2];
        for (mode, padding) in [(0, 0), (0, 1), (0, 2), (2, 0), (2, 2)] {
            let f = |gv: &[f64]| -> f64 {
                let y = grid_sampler_2d(&x, &t(gv, &[1, 1, 2, 2]), mode, padding, false).unwrap();
                y.to_vec::<f64>().unwrap().iter().sum()
            };
            let ones = t(&[1.0, 1.0], &[1, 1, 1, 2]);
            let (_, gg) =
                grid_sampler_2d_backward(&ones, &x, &t(&gv, &[1, 1, 2, 2]), mode, padding, false, &[true, true])
                    .unwrap();
            let gg = gg.to_vec::<f64>().unwrap();
            for k in 0..4 {
                let (mut p, mut m) = (gv, gv);
                p[k] += 1e-6;
                m[k] -= 1e-6;
                let num = (f(&p) - f(&m)) / 2e-6;
                assert!(
                    (num - gg[k]).abs() < 1e-5,
                    "mode {mode} padding {padding} [{k}]: {num} vs {}",
                    gg[k]
                );
            }
        }
    }

    #[test]
    fn reduced_precision_is_refused() {
        for dtype in [DType::F16, DType::BF16] {
            let x = Tensor::zeros_contiguous(&[1, 1, 3, 4], dtype);
            let g = Tensor::zeros_contiguous(&[1, 2, 2, 2], dtype);
            let e = grid_sampler_2d(&x, &g, 0, 0, false).unwrap_err();
            assert_eq!(e.kind(), ft_runtime::ErrorKind::NotSupported);
        }
    }

    #[test]
    fn shape_and_dtype_errors() {
        let x = Tensor::zeros_contiguous(&[1, 1, 3, 4], DType::F64);
        assert!(grid_sampler_2d(&x, &Tensor::zeros_contiguous(&[1, 2, 2, 3], DType::F64), 0, 0, false).is_err());
        assert!(grid_sampler_2d(&x, &Tensor::zeros_contiguous(&[2, 2, 2, 2], DType::F64), 0, 0, false).is_err());
        assert!(grid_sampler_2d(&x, &Tensor::zeros_contiguous(&[1, 2, 2, 2], DType::F32), 0, 0, false).is_err());
        assert!(grid_sampler_2d(&x, &Tensor::zeros_contiguous(&[1, 2, 2, 2], DType::F64), 3, 0, false).is_err());
    }
}
