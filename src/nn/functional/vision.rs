//! `F::pad`, `F::interpolate`, `F::pixel_shuffle`/`F::pixel_unshuffle`,
//! `F::unfold`/`F::fold`.

use crate::ops;
use crate::{Error, ErrorKind, Result, Tensor};

/// The `mode` of [`pad`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PadMode {
    /// `"constant"` (the default): fill with `value`.
    #[default]
    Constant,
    /// `"reflect"`: mirror around the edge (the edge is not repeated).
    Reflect,
    /// `"replicate"`: repeat the edge.
    Replicate,
    /// `"circular"`: wrap around.
    Circular,
}

impl PadMode {
    /// Python's name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            PadMode::Constant => "constant",
            PadMode::Reflect => "reflect",
            PadMode::Replicate => "replicate",
            PadMode::Circular => "circular",
        }
    }
}

/// Options of [`pad`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct PadOpts {
    /// Default [`PadMode::Constant`].
    pub mode: PadMode,
    /// Default `None` (0 for constant padding; other modes take none).
    pub value: Option<f64>,
}

/// `F.pad`: pads trailing dims; `pad` lists (before, after) pairs, last dim
/// first (negative values crop).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[1, 3]).unwrap();
/// let y = F::pad(&x, &[1, 1], F::PadOpts { mode: F::PadMode::Reflect, value: None }).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![2.0, 1.0, 2.0, 3.0, 2.0]);
/// ```
pub fn pad(input: &Tensor, pad: &[i64], opts: PadOpts) -> Result<Tensor> {
    ops::pad_with_mode(input, pad, opts.mode.name(), opts.value)
}

/// The `mode` of [`interpolate`] (the 2-D modes FrankenTorch has).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InterpolateMode {
    /// `"nearest"` (the default).
    #[default]
    Nearest,
    /// `"bilinear"`.
    Bilinear,
}

/// Options of [`interpolate`] (Python's defaults). Exactly one of `size`
/// and `scale_factor` must be given.
#[derive(Clone, Copy, Debug, Default)]
pub struct InterpolateOpts {
    /// Output spatial size.
    pub size: Option<[i64; 2]>,
    /// Per-dim scale (output size `floor(input size * scale)`).
    pub scale_factor: Option<[f64; 2]>,
    /// Default [`InterpolateMode::Nearest`].
    pub mode: InterpolateMode,
    /// Default `None` (false for bilinear; must stay `None` for nearest).
    pub align_corners: Option<bool>,
    /// Default `None`: when true, compute the output size from
    /// `scale_factor` and pass only the size on.
    pub recompute_scale_factor: Option<bool>,
    /// Default false (true is not supported).
    pub antialias: bool,
}

/// `F.interpolate` of a 4-D `[N, C, H, W]` input: nearest or bilinear
/// (with `align_corners`) resampling to `size` or by `scale_factor`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 1, 2, 3]).unwrap();
/// let y = F::interpolate(&x, F::InterpolateOpts { scale_factor: Some([2.0, 1.5]), ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 4, 4]);
/// ```
pub fn interpolate(input: &Tensor, opts: InterpolateOpts) -> Result<Tensor> {
    const OP: &str = "F.interpolate";
    let bilinear = opts.mode == InterpolateMode::Bilinear;
    if !bilinear && opts.align_corners.is_some() {
        return Err(Error::invalid(
            OP,
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear",
        ));
    }
    let (mut size, mut scales) = match (opts.size, opts.scale_factor) {
        (Some(_), Some(_)) => return Err(Error::invalid(OP, "only one of size or scale_factor should be defined")),
        (None, None) => return Err(Error::invalid(OP, "either size or scale_factor should be defined")),
        (s, f) => (s, f),
    };
    if opts.recompute_scale_factor == Some(true) {
        if size.is_some() {
            return Err(Error::invalid(
                OP,
                "recompute_scale_factor is not meaningful with an explicit size.",
            ));
        }
        if let (Some(f), 4) = (scales, input.dim()) {
            let s = input.sizes();
            size = Some([(s[2] as f64 * f[0]).floor() as i64, (s[3] as f64 * f[1]).floor() as i64]);
            scales = None;
        }
    }
    if opts.antialias {
        return Err(Error::new(
            ErrorKind::NotSupported,
            OP,
            "antialias=True is not supported",
        ));
    }
    if input.dim() != 4 {
        return Err(Error::new(
            ErrorKind::NotSupported,
            OP,
            format!(
                "only 4-D input is supported (nearest and bilinear modes), got {}D",
                input.dim()
            ),
        ));
    }
    let (size, scales) = (size.as_ref().map(|s| &s[..]), scales.as_ref().map(|f| &f[..]));
    if bilinear {
        ops::upsample_bilinear2d_vec(input, size, opts.align_corners.unwrap_or(false), scales)
    } else {
        ops::upsample_nearest2d_vec(input, size, scales)
    }
}

/// `F.pixel_shuffle`: `[*, C*r*r, H, W]` to `[*, C, H*r, W*r]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 8, 2, 3]).unwrap();
/// assert_eq!(F::pixel_shuffle(&x, 2).unwrap().sizes(), &[1, 2, 4, 6]);
/// ```
pub fn pixel_shuffle(input: &Tensor, upscale_factor: i64) -> Result<Tensor> {
    ops::pixel_shuffle(input, upscale_factor)
}

/// `F.pixel_unshuffle`: `[*, C, H*r, W*r]` to `[*, C*r*r, H, W]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 4, 6]).unwrap();
/// assert_eq!(F::pixel_unshuffle(&x, 2).unwrap().sizes(), &[1, 8, 2, 3]);
/// ```
pub fn pixel_unshuffle(input: &Tensor, downscale_factor: i64) -> Result<Tensor> {
    ops::pixel_unshuffle(input, downscale_factor)
}

/// Options of [`unfold`] and [`fold`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct FoldOpts {
    /// Default `[1, 1]`.
    pub dilation: [i64; 2],
    /// Default `[0, 0]`.
    pub padding: [i64; 2],
    /// Default `[1, 1]`.
    pub stride: [i64; 2],
}

impl Default for FoldOpts {
    fn default() -> Self {
        FoldOpts {
            dilation: [1, 1],
            padding: [0, 0],
            stride: [1, 1],
        }
    }
}

/// `F.unfold` (im2col): the sliding `kernel_size` blocks of a
/// `[N, C, H, W]` (or `[C, H, W]`) input as columns `[N, C*kH*kW, L]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[1, 2, 3, 4]).unwrap();
/// assert_eq!(F::unfold(&x, [2, 2], Default::default()).unwrap().sizes(), &[1, 8, 6]);
/// ```
pub fn unfold(input: &Tensor, kernel_size: [i64; 2], opts: FoldOpts) -> Result<Tensor> {
    ops::im2col(input, &kernel_size, &opts.dilation, &opts.padding, &opts.stride)
}

/// `F.fold` (col2im): sums columns `[N, C*kH*kW, L]` back into an
/// `output_size` image, the adjoint of [`unfold`].
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let cols = ops::ones(&[1, 8, 6]).unwrap();
/// assert_eq!(F::fold(&cols, [3, 4], [2, 2], Default::default()).unwrap().sizes(), &[1, 2, 3, 4]);
/// ```
pub fn fold(input: &Tensor, output_size: [i64; 2], kernel_size: [i64; 2], opts: FoldOpts) -> Result<Tensor> {
    ops::col2im(
        input,
        &output_size,
        &kernel_size,
        &opts.dilation,
        &opts.padding,
        &opts.stride,
    )
}
