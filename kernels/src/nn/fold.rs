//! Sliding-block unfolding: `im2col` (image to columns) and `col2im`
//! (columns summed back into an image), plus the 3-D routines convolution
//! builds on.
//!
//! A column matrix has one row per (channel, kernel offset) pair and one
//! column per block position: entry `(c*K + k, l)` is the image element that
//! kernel offset `k` of block `l` covers (zero when it falls in the padding).
//! 1-D and 2-D geometries are 3-D ones with leading size-1 dims.

use super::{fmt, new_filled, not_implemented, read_vec, tensor_of};
use crate::iter::OpMath;
use ft_runtime::{DType, Error, Result, Tensor};

/// The geometry of sliding `kernel` blocks over a `channels x image` volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fold {
    pub channels: usize,
    pub image: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub pad: [usize; 3],
    pub dil: [usize; 3],
    pub blocks: [usize; 3],
}

/// Number of block positions along one dim, or a negative count when the
/// dilated kernel does not fit in the padded image.
pub(crate) fn block_count(image: usize, k: usize, stride: usize, pad: usize, dil: usize) -> i64 {
    let span = dil as i64 * (k as i64 - 1) + 1;
    (image as i64 + 2 * pad as i64 - span).div_euclid(stride as i64) + 1
}

impl Fold {
    /// Kernel offsets per channel.
    pub fn kernel_numel(&self) -> usize {
        self.kernel.iter().product()
    }
    /// Rows of the column matrix.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel_numel()
    }
    /// Block positions (columns of the column matrix).
    pub fn cols(&self) -> usize {
        self.blocks.iter().product()
    }
    /// Elements of one image.
    pub fn image_numel(&self) -> usize {
        self.channels * self.image.iter().product::<usize>()
    }

    /// For row offset `k` along dim `d`: the image index block `o` reads, if inside.
    #[inline(always)]
    fn source(&self, d: usize, o: usize, k: usize) -> Option<usize> {
        let i = (o * self.stride[d] + k * self.dil[d]) as i64 - self.pad[d] as i64;
        (i >= 0 && (i as usize) < self.image[d]).then_some(i as usize)
    }

    /// For kernel offset `k` along the last dim: the block positions
    /// `lo..hi` that read inside the image, and the image index of `lo`.
    #[inline(always)]
    fn inner_range(&self, k: usize) -> (usize, usize, usize) {
        let (s, off) = (self.stride[2] as i64, (k * self.dil[2]) as i64 - self.pad[2] as i64);
        let (n, blocks) = (self.image[2] as i64, self.blocks[2] as i64);
        // first o with o*s + off >= 0, and first o with o*s + off >= n
        let lo = if off >= 0 { 0 } else { (-off + s - 1) / s };
        let hi = if n - off <= 0 {
            0
        } else {
            ((n - off + s - 1) / s).min(blocks)
        };
        let lo = lo.min(hi);
        (lo as usize, hi as usize, (lo * s + off).max(0) as usize)
    }

    /// Calls `f(row, l, src, len)` for every run of in-image entries of the
    /// column matrix: row `row`, columns `l..l + len`, reading image offsets
    /// `src, src + stride_w, ...`. Rows come in order, and columns in order
    /// within a row.
    #[inline(always)]
    fn for_each_run(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let [id, ih, iw] = self.image;
        let [bd, bh, bw] = self.blocks;
        let [kd, kh, kw] = self.kernel;
        let mut row = 0;
        for c in 0..self.channels {
            let base = c * id * ih * iw;
            for a in 0..kd {
                for b in 0..kh {
                    for e in 0..kw {
                        let (lo, hi, first) = self.inner_range(e);
                        if lo < hi {
                            for od in 0..bd {
                                let Some(sd) = self.source(0, od, a) else { continue };
                                for oh in 0..bh {
                                    let Some(sh) = self.source(1, oh, b) else { continue };
                                    let src = base + (sd * ih + sh) * iw + first;
                                    f(row, (od * bh + oh) * bw + lo, src, hi - lo);
                                }
                            }
                        }
                        row += 1;
                    }
                }
            }
        }
    }
}

/// Writes the column matrix of `img` into `cols` (row stride `ld`, starting
/// at column `col0`); entries in the padding are left as they are (the caller
/// zero-fills `cols`).
pub(crate) fn im2col_into<T: Copy>(img: &[T], f: &Fold, cols: &mut [T], ld: usize, col0: usize) {
    let sw = f.stride[2];
    f.for_each_run(|r, l, src, len| {
        let dst = &mut cols[r * ld + col0 + l..r * ld + col0 + l + len];
        if sw == 1 {
            dst.copy_from_slice(&img[src..src + len]);
        } else {
            for (k, d) in dst.iter_mut().enumerate() {
                *d = img[src + k * sw];
            }
        }
    });
}

/// Adds the column matrix `cols` (row stride `ld`, from column `col0`) back
/// into `img` with `add`, in PyTorch's order (rows, then columns).
pub(crate) fn col2im_add<T: Copy, A: Copy>(
    cols: &[T],
    f: &Fold,
    ld: usize,
    col0: usize,
    img: &mut [A],
    add: impl Fn(A, T) -> A,
) {
    let sw = f.stride[2];
    f.for_each_run(|r, l, dst, len| {
        let src = &cols[r * ld + col0 + l..r * ld + col0 + l + len];
        for (k, &v) in src.iter().enumerate() {
            let d = &mut img[dst + k * sw];
            *d = add(*d, v);
        }
    });
}

/// Checks a `int[2]` argument's length, as PyTorch's im2col/col2im do.
fn pair(op: &str, what: &str, v: &[i64]) -> Result<[i64; 2]> {
    if v.len() != 2 {
        return Err(Error::invalid(
            op,
            format!("It is expected {what} equals to 2, but got size {}", v.len()),
        ));
    }
    Ok([v[0], v[1]])
}

/// The parameter checks shared by im2col and col2im; returns
/// (kernel, dilation, padding, stride) as usize pairs.
fn params(op: &str, kernel: &[i64], dilation: &[i64], padding: &[i64], stride: &[i64]) -> Result<[[usize; 2]; 4]> {
    let (k, d, p, s) = (
        pair(op, "kernel_size", kernel)?,
        pair(op, "dilation", dilation)?,
        pair(op, "padding", padding)?,
        pair(op, "stride", stride)?,
    );
    let check = |v: [i64; 2], ok: bool, msg: &str| -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(op, format!("{msg}, but got {v:?}")))
        }
    };
    check(k, k.iter().all(|&v| v > 0), "kernel size should be greater than zero")?;
    check(d, d.iter().all(|&v| v > 0), "dilation should be greater than zero")?;
    check(p, p.iter().all(|&v| v >= 0), "padding should be non-negative")?;
    check(s, s.iter().all(|&v| v > 0), "stride should be greater than zero")?;
    let u = |v: [i64; 2]| [v[0] as usize, v[1] as usize];
    Ok([u(k), u(d), u(p), u(s)])
}

/// A 2-D fold geometry (widened to 3-D), or PyTorch's error when no block fits.
fn fold2d(op: &str, channels: usize, image: [usize; 2], prm: [[usize; 2]; 4]) -> Result<Fold> {
    let [k, d, p, s] = prm;
    let blocks = [0, 1].map(|i| block_count(image[i], k[i], s[i], p[i], d[i]));
    if blocks.iter().any(|&b| b < 1) {
        return Err(Error::invalid(
            op,
            format!(
                "Given input with spatial size ({}, {}), kernel_size=({}, {}), dilation=({}, {}), padding=({}, {}), calculated shape of the array of sliding blocks as ({}, {}), but its components must be at least one.",
                image[0], image[1], k[0], k[1], d[0], d[1], p[0], p[1], blocks[0], blocks[1]
            ),
        ));
    }
    Ok(Fold {
        channels,
        image: [1, image[0], image[1]],
        kernel: [1, k[0], k[1]],
        stride: [1, s[0], s[1]],
        pad: [0, p[0], p[1]],
        dil: [1, d[0], d[1]],
        blocks: [1, blocks[0] as usize, blocks[1] as usize],
    })
}

/// Whether im2col/col2im have a kernel for `dtype`.
fn fold_dtype_ok(dtype: DType) -> bool {
    matches!(dtype, DType::Bool | DType::F16 | DType::BF16 | DType::F32 | DType::F64)
}

/// Runs `$body` with `$T` bound to an im2col/col2im element type.
macro_rules! dispatch_fold {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            DType::Bool => {
                type $T = bool;
                $body
            }
            d => crate::iter::dispatch_float!(d, $T => $body, _ => $other),
        }
    }};
}

/// `aten::im2col`: the column matrix of a 3-D or 4-D (batched) image:
/// `[N, C*kh*kw, L]` where L is the number of `kernel_size` blocks.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec((0..9).map(|v| v as f32).collect::<Vec<_>>(), &[1, 1, 3, 3]).unwrap();
/// let c = ft_kernels::nn::fold::im2col(&x, &[2, 2], &[1, 1], &[0, 0], &[1, 1]).unwrap();
/// assert_eq!(c.sizes(), &[1, 4, 4]);
/// assert_eq!(&c.to_vec::<f32>().unwrap()[..4], &[0.0, 1.0, 3.0, 4.0]);
/// ```
pub fn im2col(
    self_: &Tensor,
    kernel_size: &[i64],
    dilation: &[i64],
    padding: &[i64],
    stride: &[i64],
) -> Result<Tensor> {
    const OP: &str = "aten::im2col";
    let prm = params(OP, kernel_size, dilation, padding, stride)?;
    let sizes = self_.sizes();
    if sizes.len() < 3 {
        return Err(Error::dim_out_of_range(OP, 2, sizes.len()));
    }
    let batched = sizes.len() == 4;
    if sizes.len() > 4 || sizes[usize::from(batched)..].contains(&0) {
        return Err(Error::shape(
            OP,
            format!(
                "Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: {}",
                fmt(sizes)
            ),
        ));
    }
    let n = if batched { sizes[0] } else { 1 };
    let d = sizes.len();
    let f = fold2d(OP, sizes[d - 3], [sizes[d - 2], sizes[d - 1]], prm)?;
    let mut out_sizes = if batched { vec![n] } else { vec![] };
    out_sizes.extend([f.rows(), f.cols()]);
    if !fold_dtype_ok(self_.dtype()) {
        return Err(not_implemented(OP, "im2col_cpu", self_.dtype()));
    }
    dispatch_fold!(self_.dtype(), T => {
        let x = read_vec::<T>(self_)?;
        let per = f.rows() * f.cols();
        new_filled::<T>(OP, &out_sizes, |out| {
            for b in 0..n {
                im2col_into(&x[b * f.image_numel()..], &f, &mut out[b * per..(b + 1) * per], f.cols(), 0);
            }
        })
    }, _ => Err(not_implemented(OP, "im2col_cpu", self_.dtype())))
}

/// Sums column values into an image in the element type, rounding each add
/// like PyTorch's col2im (logical or for bool).
fn col2im_typed<T: OpMath>(cols: &[T], f: &Fold, n: usize) -> Vec<T> {
    let per = f.rows() * f.cols();
    let mut img = vec![T::default(); n * f.image_numel()];
    for b in 0..n {
        let dst = &mut img[b * f.image_numel()..(b + 1) * f.image_numel()];
        col2im_add(&cols[b * per..(b + 1) * per], f, f.cols(), 0, dst, |a: T, v: T| {
            T::narrow(crate::iter::Arith::add(a.widen(), v.widen()))
        });
    }
    img
}

/// `aten::col2im`: sums a column matrix `[N, C*kh*kw, L]` (or unbatched
/// `[C*kh*kw, L]`) back into images of spatial size `output_size`; the
/// adjoint of [`im2col`].
///
/// ```
/// use ft_runtime::Tensor;
/// let c = Tensor::from_vec(vec![1.0f64; 16], &[1, 4, 4]).unwrap();
/// let x = ft_kernels::nn::fold::col2im(&c, &[3, 3], &[2, 2], &[1, 1], &[0, 0], &[1, 1]).unwrap();
/// assert_eq!(x.to_vec::<f64>().unwrap(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
/// ```
pub fn col2im(
    self_: &Tensor,
    output_size: &[i64],
    kernel_size: &[i64],
    dilation: &[i64],
    padding: &[i64],
    stride: &[i64],
) -> Result<Tensor> {
    const OP: &str = "aten::col2im";
    let out = pair(OP, "output_size", output_size)?;
    let prm = params(OP, kernel_size, dilation, padding, stride)?;
    let sizes = self_.sizes();
    let batched = sizes.len() == 3;
    if !(sizes.len() == 2 || batched) || sizes[usize::from(batched)..].contains(&0) {
        return Err(Error::shape(
            OP,
            format!(
                "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: {}",
                fmt(sizes)
            ),
        ));
    }
    if out.iter().any(|&o| o <= 0) {
        return Err(Error::invalid(
            OP,
            format!("output_size must be positive, but got {out:?}"),
        ));
    }
    let d = sizes.len();
    let kprod = prm[0][0] * prm[0][1];
    if !sizes[d - 2].is_multiple_of(kprod) {
        return Err(Error::shape(
            OP,
            format!(
                "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={} and kernel_size=({}, {}).",
                sizes[d - 2], prm[0][0], prm[0][1]
            ),
        ));
    }
    let f = fold2d(OP, sizes[d - 2] / kprod, [out[0] as usize, out[1] as usize], prm)?;
    if sizes[d - 1] != f.cols() {
        return Err(Error::shape(
            OP,
            format!(
                "Given output_size=({}, {}), expected size of input's dimension 2 to match the calculated number of sliding blocks {} * {} = {}, but got input.size(2)={}.",
                out[0], out[1], f.blocks[1], f.blocks[2], f.cols(), sizes[d - 1]
            ),
        ));
    }
    let n = if batched { sizes[0] } else { 1 };
    let mut out_sizes = if batched { vec![n] } else { vec![] };
    out_sizes.extend([f.channels, f.image[1], f.image[2]]);
    if !fold_dtype_ok(self_.dtype()) {
        return Err(not_implemented(OP, "col2im_cpu", self_.dtype()));
    }
    dispatch_fold!(self_.dtype(), T => tensor_of(col2im_typed::<T>(&read_vec::<T>(self_)?, &f, n), &out_sizes),
        _ => Err(not_implemented(OP, "col2im_cpu", self_.dtype())))
}

/// The im2col of a contiguous element buffer, for tests and composites.
#[cfg(test)]
fn unfold_vec<T: ft_runtime::Element>(x: &[T], f: &Fold) -> Vec<T> {
    let mut cols = vec![T::default(); f.rows() * f.cols()];
    im2col_into(x, f, &mut cols, f.cols(), 0);
    cols
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn geom() -> Fold {
        fold2d("t", 2, [4, 5], [[2, 3], [2, 1], [1, 0], [1, 2]]).unwrap()
    }

    #[test]
    fn blocks_and_shapes() {
        let f = geom();
        // h: 4 + 2 - 3 = 3 -> 4 blocks; w: (5 - 3) / 2 + 1 = 2 blocks
        assert_eq!(f.blocks, [1, 4, 2]);
        assert_eq!((f.rows(), f.cols()), (12, 8));
        assert_eq!(block_count(4, 5, 1, 0, 1), 0);
    }

    #[test]
    fn col2im_is_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for arbitrary x and c.
        let f = geom();
        let x: Vec<f64> = (0..f.image_numel()).map(|i| (i as f64 * 0.37).sin()).collect();
        let c: Vec<f64> = (0..f.rows() * f.cols()).map(|i| (i as f64 * 0.11).cos()).collect();
        let u = unfold_vec(&x, &f);
        let lhs: f64 = u.iter().zip(&c).map(|(a, b)| a * b).sum();
        let back = col2im_typed::<f64>(&c, &f, 1);
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn fold_errors() {
        let x = Tensor::zeros_contiguous(&[1, 2, 4, 4], DType::F32);
        let kind = |r: Result<Tensor>| r.unwrap_err().kind();
        assert_eq!(
            kind(im2col(&x, &[2], &[1, 1], &[0, 0], &[1, 1])),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(im2col(&x, &[5, 5], &[1, 1], &[0, 0], &[1, 1])),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(im2col(&x, &[2, 2], &[1, 1], &[-1, 0], &[1, 1])),
            ErrorKind::InvalidArgument
        );
        let m = Tensor::zeros_contiguous(&[4, 4], DType::F32);
        assert_eq!(
            kind(im2col(&m, &[2, 2], &[1, 1], &[0, 0], &[1, 1])),
            ErrorKind::DimOutOfRange
        );
        let i = Tensor::zeros_contiguous(&[1, 2, 4, 4], DType::I64);
        assert_eq!(kind(im2col(&i, &[2, 2], &[1, 1], &[0, 0], &[1, 1])), ErrorKind::DType);
        let c = Tensor::zeros_contiguous(&[1, 8, 8], DType::F32);
        assert_eq!(
            kind(col2im(&c, &[4, 4], &[2, 2], &[1, 1], &[0, 0], &[1, 1])),
            ErrorKind::ShapeMismatch
        );
        let c7 = Tensor::zeros_contiguous(&[1, 7, 9], DType::F32);
        assert_eq!(
            kind(col2im(&c7, &[4, 4], &[2, 2], &[1, 1], &[0, 0], &[1, 1])),
            ErrorKind::ShapeMismatch
        );
    }
}
