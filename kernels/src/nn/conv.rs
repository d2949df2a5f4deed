//! N-d convolution (1-D, 2-D, 3-D; strided, padded, dilated, grouped and
//! transposed) and its backward op, by im2col/col2im and matrix products.
//!
//! Both directions are one bilinear map between an *image side* and a
//! *matrix side*: a convolution's input is the image side and its output the
//! matrix side; a transposed convolution swaps them. With the weight viewed
//! as the matrix `W` of shape `[M, C/groups * K]` (true for both weight
//! layouts) and `U = im2col(image)`, per group:
//!
//! - matrix side = `W · U` (convolution forward, transposed input-gradient)
//! - image side = `col2im(Wᵀ · matrix side)` (transposed forward, input-gradient)
//! - weight gradient = `matrix side · Uᵀ`
//!
//! float16/bfloat16 are computed in float32 and rounded once.

use super::fold::{block_count, col2im_add, im2col_into, Fold};
use super::{fmt, new_filled, not_implemented, read_vec, tensor_of};
use crate::iter::{to_dtype, Arith};
use crate::linalg::mm;
use ft_runtime::half::f16;
use ft_runtime::{DType, Element, Error, Result, Tensor};

/// Validated geometry of one convolution call.
struct Conv {
    transposed: bool,
    groups: usize,
    n: usize,
    /// Image-side channels (all groups).
    c_img: usize,
    /// Matrix-side channels (all groups).
    m: usize,
    /// Per-group fold: `channels = c_img / groups`, image = image-side spatial,
    /// blocks = matrix-side spatial.
    fold: Fold,
    input_sizes: Vec<usize>,
    output_sizes: Vec<usize>,
    /// The caller's dtype: for float16, results of the column products and
    /// of each col2im add are rounded to it, as PyTorch's float16 kernel does
    /// (its bfloat16 kernel rounds once, like ours for every other dtype).
    elem: DType,
}

/// The arguments shared by `convolution` and `convolution_backward`.
struct ConvArgs<'a> {
    op: &'a str,
    stride: &'a [i64],
    padding: &'a [i64],
    dilation: &'a [i64],
    transposed: bool,
    output_padding: &'a [i64],
    groups: i64,
}

/// Expands a 1-element list to `k` entries or checks it has `k`.
fn expand(op: &str, what: &str, v: &[i64], k: usize) -> Result<Vec<i64>> {
    match v.len() {
        1 => Ok(vec![v[0]; k]),
        l if l == k => Ok(v.to_vec()),
        _ => Err(Error::invalid(
            op,
            format!(
                "expected {what} to be a single integer value or a list of {k} values to match the convolution dimensions, but got {what}={v:?}"
            ),
        )),
    }
}

/// A `k`-entry list widened to three dims with `fill` in front.
fn widen(v: &[i64], fill: usize) -> [usize; 3] {
    let mut out = [fill; 3];
    let k = v.len();
    for (o, &x) in out[3 - k..].iter_mut().zip(v) {
        *o = x as usize;
    }
    out
}

impl ConvArgs<'_> {
    /// PyTorch's convolution shape checks, then the geometry.
    fn geometry(&self, input: &Tensor, weight: &Tensor) -> Result<Conv> {
        let op = self.op;
        let (is, ws) = (input.sizes(), weight.sizes());
        if ws.len() < 3 || ws.len() > 5 {
            return Err(Error::shape(
                op,
                format!("weight should have 3, 4 or 5 dimensions, but got {}", fmt(ws)),
            ));
        }
        if is.len() != ws.len() {
            return Err(Error::shape(
                op,
                format!(
                    "Expected {}-dimensional input for {}-dimensional weight {}, but got {}-dimensional input of size {} instead",
                    ws.len(),
                    ws.len(),
                    fmt(ws),
                    is.len(),
                    fmt(is)
                ),
            ));
        }
        let k = ws.len() - 2;
        let stride = expand(op, "stride", self.stride, k)?;
        let padding = expand(op, "padding", self.padding, k)?;
        let dilation = expand(op, "dilation", self.dilation, k)?;
        let out_pad = expand(op, "output_padding", self.output_padding, k)?;
        if stride.iter().any(|&s| s <= 0) {
            return Err(Error::invalid(op, "non-positive stride is not supported"));
        }
        if padding.iter().any(|&p| p < 0) {
            return Err(Error::invalid(op, "negative padding is not supported"));
        }
        if dilation.iter().any(|&d| d <= 0) {
            return Err(Error::invalid(op, "non-positive dilation is not supported"));
        }
        if self.groups <= 0 {
            return Err(Error::invalid(op, "non-positive groups is not supported"));
        }
        let groups = self.groups as usize;
        if self.transposed {
            if out_pad.iter().any(|&p| p < 0) {
                return Err(Error::invalid(op, "negative output_padding is not supported"));
            }
            let ok = (0..k).all(|i| out_pad[i] < stride[i] || out_pad[i] < dilation[i]);
            if !ok {
                return Err(Error::invalid(
                    op,
                    format!(
                        "output padding must be smaller than either stride or dilation, but got output_padding={out_pad:?}, stride={stride:?}, dilation={dilation:?}"
                    ),
                ));
            }
        }
        let kernel = &ws[2..];
        let in_spatial = &is[2..];
        let (n, c_in) = (is[0], is[1]);
        let (c_img, m, out_channels, expected_in) = if self.transposed {
            (ws[1] * groups, ws[0], ws[1] * groups, ws[0])
        } else {
            (ws[1] * groups, ws[0], ws[0], ws[1] * groups)
        };
        if !self.transposed && ws[0] % groups != 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {} instead",
                    fmt(ws)
                ),
            ));
        }
        if c_in != expected_in || (self.transposed && ws[0] % groups != 0) {
            let which = if self.transposed {
                "transposed=1".to_string()
            } else {
                format!("groups={groups}")
            };
            return Err(Error::shape(
                op,
                format!(
                    "Given {which}, weight of size {}, expected input{} to have {expected_in} channels, but got {c_in} channels instead",
                    fmt(ws),
                    fmt(is)
                ),
            ));
        }
        let out_spatial: Vec<i64> = (0..k)
            .map(|i| {
                let span = dilation[i] * (kernel[i] as i64 - 1) + 1;
                if self.transposed {
                    (in_spatial[i] as i64 - 1) * stride[i] - 2 * padding[i] + span + out_pad[i]
                } else {
                    block_count(
                        in_spatial[i],
                        kernel[i],
                        stride[i] as usize,
                        padding[i] as usize,
                        dilation[i] as usize,
                    )
                }
            })
            .collect();
        if out_spatial.iter().any(|&o| o < 1) {
            let padded: Vec<String> = (0..k)
                .map(|i| (in_spatial[i] as i64 + 2 * padding[i]).to_string())
                .collect();
            let ks: Vec<String> = (0..k)
                .map(|i| (dilation[i] * (kernel[i] as i64 - 1) + 1).to_string())
                .collect();
            return Err(Error::invalid(
                op,
                format!(
                    "Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size can't be greater than actual input size",
                    padded.join(" x "),
                    ks.join(" x ")
                ),
            ));
        }
        let out_spatial: Vec<usize> = out_spatial.iter().map(|&o| o as usize).collect();
        let mut output_sizes = vec![n, out_channels];
        output_sizes.extend_from_slice(&out_spatial);
        let (img_spatial, mat_spatial) = if self.transposed {
            (out_spatial.as_slice(), in_spatial)
        } else {
            (in_spatial, out_spatial.as_slice())
        };
        let ki: Vec<i64> = kernel.iter().map(|&v| v as i64).collect();
        let fold = Fold {
            channels: c_img / groups,
            image: super::widen3(img_spatial),
            kernel: widen(&ki, 1),
            stride: widen(&stride, 1),
            pad: widen(&padding, 0),
            dil: widen(&dilation, 1),
            blocks: super::widen3(mat_spatial),
        };
        Ok(Conv {
            transposed: self.transposed,
            groups,
            n,
            c_img,
            m,
            fold,
            input_sizes: is.to_vec(),
            output_sizes,
            elem: input.dtype(),
        })
    }
}

/// Element types convolution computes in (the op-math type of the dtype).
trait ConvElem: Element + Arith {}
impl<T: Element + Arith> ConvElem for T {}

impl Conv {
    /// `v` rounded to float16 when that is the caller's dtype.
    #[inline(always)]
    fn round<T: Element>(&self, v: T) -> T {
        match self.elem {
            DType::F16 => T::from_f64(f16::from_f64(v.to_f64()).to_f64()),
            _ => v,
        }
    }

    fn mg(&self) -> usize {
        self.m / self.groups
    }
    fn l(&self) -> usize {
        self.fold.cols()
    }
    fn img_plane(&self) -> usize {
        self.fold.image.iter().product()
    }

    /// The group-`g` rows of the weight matrix `[M, Cg*K]` as a tensor view.
    fn weight_rows(&self, w: &Tensor, g: usize) -> Result<Tensor> {
        let rk = self.fold.rows();
        w.as_view(&[self.mg(), rk], &[rk, 1], w.storage_offset() + g * self.mg() * rk)
    }

    /// `U` of group `g`: `[Cg*K, N*L]` columns of every image.
    fn unfold<T: ConvElem>(&self, img: &[T], g: usize) -> Result<Tensor> {
        let (l, ln) = (self.l(), self.l() * self.n);
        let cg = self.fold.channels;
        new_filled::<T>("aten::convolution", &[self.fold.rows(), ln], |cols| {
            for b in 0..self.n {
                let start = (b * self.c_img + g * cg) * self.img_plane();
                im2col_into(&img[start..], &self.fold, cols, ln, b * l);
            }
        })
    }

    /// The group-`g` channels of a matrix-side buffer `[N, M, L]` as `[Mg, N*L]`.
    fn gather_matrix<T: ConvElem>(&self, mat: &[T], g: usize) -> Result<Tensor> {
        let (l, mg) = (self.l(), self.mg());
        let mut out = Vec::with_capacity(mg * self.n * l);
        for o in 0..mg {
            for b in 0..self.n {
                let start = (b * self.m + g * mg + o) * l;
                out.extend_from_slice(&mat[start..start + l]);
            }
        }
        tensor_of(out, &[mg, self.n * l])
    }

    /// Writes a group's `[Mg, N*L]` product into the matrix-side buffer `[N, M, L]`.
    fn scatter_matrix<T: ConvElem>(&self, r: &[T], g: usize, mat: &mut [T]) {
        let (l, mg) = (self.l(), self.mg());
        for o in 0..mg {
            for b in 0..self.n {
                let dst = (b * self.m + g * mg + o) * l;
                mat[dst..dst + l].copy_from_slice(&r[(o * self.n + b) * l..(o * self.n + b + 1) * l]);
            }
        }
    }

    /// Matrix side from image side: `W · U` per group, as `[N, M, L]`.
    fn matrix_from_image<T: ConvElem>(&self, img: &[T], w: &Tensor) -> Result<Vec<T>> {
        let mut mat = vec![T::ZERO; self.n * self.m * self.l()];
        for g in 0..self.groups {
            let r = mm(&self.weight_rows(w, g)?, &self.unfold(img, g)?)?;
            self.scatter_matrix(&read_vec::<T>(&r)?, g, &mut mat);
        }
        Ok(mat)
    }

    /// Image side from matrix side: `col2im(Wᵀ · X)` per group, as `[N, C, *S]`.
    fn image_from_matrix<T: ConvElem>(&self, mat: &[T], w: &Tensor) -> Result<Vec<T>> {
        let mut img = vec![T::ZERO; self.n * self.c_img * self.img_plane()];
        let (ln, cg) = (self.l() * self.n, self.fold.channels);
        for g in 0..self.groups {
            let wg = self.weight_rows(w, g)?;
            let wt = wg.as_view(
                &[self.fold.rows(), self.mg()],
                &[1, self.fold.rows()],
                wg.storage_offset(),
            )?;
            let mut cols = read_vec::<T>(&mm(&wt, &self.gather_matrix(mat, g)?)?)?;
            let reduced = self.elem == DType::F16;
            if reduced {
                cols.iter_mut().for_each(|v| *v = self.round(*v));
            }
            for b in 0..self.n {
                let start = (b * self.c_img + g * cg) * self.img_plane();
                let dst = &mut img[start..start + cg * self.img_plane()];
                if reduced {
                    col2im_add(&cols, &self.fold, ln, b * self.l(), dst, |a: T, v: T| {
                        self.round(a.add(v))
                    });
                } else {
                    col2im_add(&cols, &self.fold, ln, b * self.l(), dst, |a: T, v: T| a.add(v));
                }
            }
        }
        Ok(img)
    }

    /// Weight gradient `X · Uᵀ` per group, as the weight matrix `[M, Cg*K]`.
    fn weight_grad<T: ConvElem>(&self, mat: &[T], img: &[T]) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.m * self.fold.rows());
        let ln = self.l() * self.n;
        for g in 0..self.groups {
            let u = self.unfold(img, g)?;
            let ut = u.as_view(&[ln, self.fold.rows()], &[1, ln], 0)?;
            let r = mm(&self.gather_matrix(mat, g)?, &ut)?;
            out.extend(read_vec::<T>(&r)?);
        }
        Ok(out)
    }

    /// Per output channel, the sum of `grad` over the batch and spatial dims.
    fn bias_grad<T: ConvElem>(&self, grad: &[T]) -> Vec<T> {
        let channels = self.output_sizes[1];
        let plane: usize = self.output_sizes[2..].iter().product();
        let mut out = vec![T::ZERO; channels];
        for b in 0..self.n {
            for (c, acc) in out.iter_mut().enumerate() {
                let start = (b * channels + c) * plane;
                for &v in &grad[start..start + plane] {
                    *acc = acc.add(v);
                }
            }
        }
        out
    }
}

/// The dtype convolution computes in: float32 for float16/bfloat16.
fn compute_dtype(d: DType) -> DType {
    match d {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    }
}

/// Runs `$body` with `$T` bound to a compute element type (no bool, no reduced floats).
macro_rules! dispatch_conv {
    ($dtype:expr, $T:ident => $body:expr) => {{
        match $dtype {
            DType::U8 => {
                type $T = u8;
                $body
            }
            DType::I8 => {
                type $T = i8;
                $body
            }
            DType::I16 => {
                type $T = i16;
                $body
            }
            DType::I32 => {
                type $T = i32;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            DType::F32 => {
                type $T = f32;
                $body
            }
            _ => {
                type $T = f64;
                $body
            }
        }
    }};
}

/// Checks that `t` has `dtype` (PyTorch's "expected scalar type" error).
fn same_dtype(op: &str, t: &Tensor, dtype: DType) -> Result<()> {
    if t.dtype() != dtype {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                dtype.scalar_type_name(),
                t.dtype().scalar_type_name()
            ),
        ));
    }
    Ok(())
}

/// Contiguous copy of `t` in the compute dtype.
fn compute_copy(t: &Tensor, cd: DType) -> Result<Tensor> {
    let c = to_dtype(t, cd)?;
    if c.is_contiguous() {
        return Ok(c);
    }
    dispatch_conv!(cd, T => tensor_of(read_vec::<T>(&c)?, c.sizes()))
}

/// `aten::convolution`: the N-d (1-D to 3-D) convolution of `input`
/// `[N, C, *S]` with `weight` (`[O, C/groups, *K]`, or `[C, O/groups, *K]`
/// when `transposed`), plus `bias` per output channel. `stride`, `padding`,
/// `dilation` and `output_padding` take one value or one per spatial dim.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[1, 1, 4]).unwrap();
/// let w = Tensor::from_vec(vec![1.0f32, -1.0], &[1, 1, 2]).unwrap();
/// let y = ft_kernels::nn::conv::convolution(&x, &w, None, &[1], &[0], &[1], false, &[0], 1).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![-1.0, -1.0, -1.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn convolution(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::convolution";
    let args = ConvArgs {
        op: OP,
        stride,
        padding,
        dilation,
        transposed,
        output_padding,
        groups,
    };
    let cv = args.geometry(input, weight)?;
    let dtype = input.dtype();
    same_dtype(OP, weight, dtype)?;
    if let Some(b) = bias {
        let oc = cv.output_sizes[1];
        if b.dim() != 1 || b.sizes()[0] != oc {
            return Err(Error::shape(
                OP,
                format!(
                    "Given weight of size {}, expected bias to be 1-dimensional with {oc} elements, but got bias of size {} instead",
                    fmt(weight.sizes()),
                    fmt(b.sizes())
                ),
            ));
        }
        same_dtype(OP, b, dtype)?;
    }
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "slow_conv2d_cpu", dtype));
    }
    let cd = compute_dtype(dtype);
    let (x, w) = (compute_copy(input, cd)?, compute_copy(weight, cd)?);
    let bias = bias.map(|b| compute_copy(b, cd)).transpose()?;
    let out = dispatch_conv!(cd, T => {
        let xv = read_vec::<T>(&x)?;
        let mut y = if cv.transposed {
            cv.image_from_matrix(&xv, &w)?
        } else {
            cv.matrix_from_image(&xv, &w)?
        };
        if let Some(b) = &bias {
            add_bias(&mut y, &read_vec::<T>(b)?, &cv.output_sizes);
        }
        tensor_of(y, &cv.output_sizes)?
    });
    to_dtype(&out, dtype)
}

/// Adds `bias[c]` to every element of channel `c` of a `[N, C, ...]` buffer.
fn add_bias<T: ConvElem>(y: &mut [T], bias: &[T], sizes: &[usize]) {
    let plane: usize = sizes[2..].iter().product();
    if plane == 0 {
        return;
    }
    for (i, chunk) in y.chunks_mut(plane).enumerate() {
        let b = bias[i % sizes[1]];
        for v in chunk {
            *v = v.add(b);
        }
    }
}

/// `aten::convolution_backward`: the gradients of `convolution` with respect
/// to (input, weight, bias), each computed when its `output_mask` entry is
/// set; an unrequested gradient is returned as an empty (0-element) tensor
/// (PyTorch returns an undefined tensor). `bias_sizes`, when given, must be
/// `[out_channels]`.
#[allow(clippy::too_many_arguments)]
pub fn convolution_backward(
    grad_output: &Tensor,
    input: &Tensor,
    weight: &Tensor,
    bias_sizes: Option<&[i64]>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::convolution_backward";
    let args = ConvArgs {
        op: OP,
        stride,
        padding,
        dilation,
        transposed,
        output_padding,
        groups,
    };
    let cv = args.geometry(input, weight)?;
    if output_mask.len() != 3 {
        return Err(Error::invalid(
            OP,
            format!("output_mask must have 3 entries, got {}", output_mask.len()),
        ));
    }
    if grad_output.sizes() != cv.output_sizes.as_slice() {
        return Err(Error::shape(
            OP,
            format!(
                "grad_output has shape {} but the convolution output has shape {}",
                fmt(grad_output.sizes()),
                fmt(&cv.output_sizes)
            ),
        ));
    }
    if let Some(bs) = bias_sizes {
        if bs != [cv.output_sizes[1] as i64] {
            return Err(Error::shape(
                OP,
                format!(
                    "bias_sizes {bs:?} do not match the {} output channels",
                    cv.output_sizes[1]
                ),
            ));
        }
    }
    let dtype = input.dtype();
    same_dtype(OP, weight, dtype)?;
    same_dtype(OP, grad_output, dtype)?;
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "slow_conv2d_cpu", dtype));
    }
    let cd = compute_dtype(dtype);
    let (x, w, go) = (
        compute_copy(input, cd)?,
        compute_copy(weight, cd)?,
        compute_copy(grad_output, cd)?,
    );
    let empty = || Tensor::zeros_contiguous(&[0], dtype);
    let (gi, gw, gb) = dispatch_conv!(cd, T => {
        let (xv, gv) = (read_vec::<T>(&x)?, read_vec::<T>(&go)?);
        // image side / matrix side of the input and of the gradient
        let (img, mat) = if cv.transposed { (&gv, &xv) } else { (&xv, &gv) };
        let gi = if output_mask[0] {
            let v = if cv.transposed { cv.matrix_from_image(&gv, &w)? } else { cv.image_from_matrix(&gv, &w)? };
            to_dtype(&tensor_of(v, &cv.input_sizes)?, dtype)?
        } else {
            empty()
        };
        let gw = if output_mask[1] {
            to_dtype(&tensor_of(cv.weight_grad(mat, img)?, weight.sizes())?, dtype)?
        } else {
            empty()
        };
        let gb = if output_mask[2] {
            to_dtype(&tensor_of(cv.bias_grad(&gv), &[cv.output_sizes[1]])?, dtype)?
        } else {
            empty()
        };
        (gi, gw, gb)
    });
    Ok((gi, gw, gb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    /// Direct 2-D convolution (groups, stride, padding, dilation) in f64.
    #[allow(clippy::too_many_arguments)]
    fn naive2d(
        x: &[f64],
        w: &[f64],
        n: usize,
        c: usize,
        h: usize,
        wd: usize,
        o: usize,
        k: [usize; 2],
        s: usize,
        p: usize,
        d: usize,
        groups: usize,
    ) -> (Vec<f64>, [usize; 2]) {
        let oh = (h + 2 * p - d * (k[0] - 1) - 1) / s + 1;
        let ow = (wd + 2 * p - d * (k[1] - 1) - 1) / s + 1;
        let (cg, og) = (c / groups, o / groups);
        let mut y = vec![0.0; n * o * oh * ow];
        for b in 0..n {
            for oc in 0..o {
                let g = oc / og;
                for i in 0..oh {
                    for j in 0..ow {
                        let mut acc = 0.0;
                        for ci in 0..cg {
                            for a in 0..k[0] {
                                for e in 0..k[1] {
                                    let (yy, xx) =
                                        ((i * s + a * d) as i64 - p as i64, (j * s + e * d) as i64 - p as i64);
                                    if yy < 0 || xx < 0 || yy >= h as i64 || xx >= wd as i64 {
                                        continue;
                                    }
                                    let xi = ((b * c + g * cg + ci) * h + yy as usize) * wd + xx as usize;
                                    let wi = ((oc * cg + ci) * k[0] + a) * k[1] + e;
                                    acc += x[xi] * w[wi];
                                }
                            }
                        }
                        y[((b * o + oc) * oh + i) * ow + j] = acc;
                    }
                }
            }
        }
        (y, [oh, ow])
    }

    fn vals(n: usize, seed: f64) -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * 0.731).sin()).collect()
    }

    #[test]
    fn conv2d_matches_direct_sum() {
        let (n, c, h, wd, o, k, s, p, d, groups) = (2, 4, 6, 5, 6, [3, 2], 2, 1, 2, 2);
        let x = vals(n * c * h * wd, 1.0);
        let w = vals(o * (c / groups) * k[0] * k[1], 2.0);
        let (want, [oh, ow]) = naive2d(&x, &w, n, c, h, wd, o, k, s, p, d, groups);
        let xt = Tensor::from_vec(x, &[n, c, h, wd]).unwrap();
        let wt = Tensor::from_vec(w, &[o, c / groups, k[0], k[1]]).unwrap();
        let y = convolution(
            &xt,
            &wt,
            None,
            &[s as i64],
            &[p as i64],
            &[d as i64],
            false,
            &[0],
            groups as i64,
        )
        .unwrap();
        assert_eq!(y.sizes(), &[n, o, oh, ow]);
        for (a, b) in y.to_vec::<f64>().unwrap().iter().zip(&want) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn transposed_is_adjoint_of_conv() {
        // <conv(x, w), y> == <x, conv_transpose(y, w)>
        let (n, c, h, wd, o) = (2, 4, 5, 6, 2);
        let x = Tensor::from_vec(vals(n * c * h * wd, 3.0), &[n, c, h, wd]).unwrap();
        let w = Tensor::from_vec(vals(o * 2 * 3 * 3, 4.0), &[o, 2, 3, 3]).unwrap();
        let y = convolution(&x, &w, None, &[2], &[1], &[1], false, &[0], 2).unwrap();
        let r = Tensor::from_vec(vals(y.numel(), 5.0), y.sizes()).unwrap();
        let op = [(h as i64 + 2 - 3) % 2, (wd as i64 + 2 - 3) % 2];
        let xt = convolution(&r, &w, None, &[2], &[1], &[1], true, &op, 2).unwrap();
        assert_eq!(xt.sizes(), x.sizes());
        let dot = |a: &Tensor, b: &Tensor| -> f64 {
            a.to_vec::<f64>()
                .unwrap()
                .iter()
                .zip(b.to_vec::<f64>().unwrap())
                .map(|(p, q)| p * q)
                .sum()
        };
        assert!((dot(&y, &r) - dot(&x, &xt)).abs() < 1e-10);
        let (gi, _, _) = convolution_backward(
            &r,
            &x,
            &w,
            None,
            &[2],
            &[1],
            &[1],
            false,
            &[0],
            2,
            &[true, false, false],
        )
        .unwrap();
        assert_eq!(gi.to_vec::<f64>().unwrap(), xt.to_vec::<f64>().unwrap());
    }

    #[test]
    fn conv_errors() {
        let x = Tensor::zeros_contiguous(&[2, 3, 5, 5], DType::F32);
        let w = Tensor::zeros_contiguous(&[4, 3, 3, 3], DType::F32);
        let kind = |r: Result<Tensor>| r.unwrap_err().kind();
        let x3 = Tensor::zeros_contiguous(&[3, 5, 5], DType::F32);
        assert_eq!(
            kind(convolution(&x3, &w, None, &[1], &[0], &[1], false, &[0], 1)),
            ErrorKind::ShapeMismatch
        );
        assert_eq!(
            kind(convolution(&x, &w, None, &[1, 1, 1], &[0], &[1], false, &[0], 1)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(convolution(&x, &w, None, &[1], &[0], &[1], false, &[0], 2)),
            ErrorKind::ShapeMismatch
        );
        assert_eq!(
            kind(convolution(&x, &w, None, &[0], &[0], &[1], false, &[0], 1)),
            ErrorKind::InvalidArgument
        );
        let big = Tensor::zeros_contiguous(&[4, 3, 6, 6], DType::F32);
        assert_eq!(
            kind(convolution(&x, &big, None, &[1], &[0], &[1], false, &[0], 1)),
            ErrorKind::InvalidArgument
        );
        let b3 = Tensor::zeros_contiguous(&[3], DType::F32);
        assert_eq!(
            kind(convolution(&x, &w, Some(&b3), &[1], &[0], &[1], false, &[0], 1)),
            ErrorKind::ShapeMismatch
        );
        let wd = Tensor::zeros_contiguous(&[4, 3, 3, 3], DType::F64);
        assert_eq!(
            kind(convolution(&x, &wd, None, &[1], &[0], &[1], false, &[0], 1)),
            ErrorKind::DType
        );
        let wt = Tensor::zeros_contiguous(&[3, 2, 3, 3], DType::F32);
        assert_eq!(
            kind(convolution(&x, &wt, None, &[2], &[1], &[1], true, &[2], 1)),
            ErrorKind::InvalidArgument
        );
    }
}
