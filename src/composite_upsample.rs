//! The `.vec` overloads of the 2-D upsampling operators: PyTorch's
//! CompositeImplicitAutograd forms that take either an `output_size` or
//! per-dim `scale_factors`, compute the output size, and call the sized
//! operator (so autograd records `UpsampleNearest2DBackward0` /
//! `UpsampleBilinear2DBackward0`, as in PyTorch).

use crate::ops;
use crate::{Error, Result, Tensor};

/// The spatial output size of an upsampling of `input` (its dims after the
/// first two) from exactly one of `output_size` and `scale_factors` (each
/// output size `floor(input_size * scale)`, computed in double as PyTorch
/// does), plus the per-dim scales to pass on (only when `scale_factors` gave them).
fn output_size_and_scales(
    op: &str,
    input: &Tensor,
    output_size: Option<&[i64]>,
    scale_factors: Option<&[f64]>,
) -> Result<(Vec<i64>, Vec<Option<f64>>)> {
    let spatial = input.dim() as i64 - 2;
    let check_len = |what: &str, len: usize| {
        if len as i64 == spatial {
            Ok(())
        } else {
            Err(Error::invalid(
                op,
                format!("Expected {what} to have {spatial} elements (the spatial dims of the input), but got {len}"),
            ))
        }
    };
    match (output_size, scale_factors) {
        (Some(size), None) => {
            check_len("output_size", size.len())?;
            Ok((size.to_vec(), vec![None; size.len()]))
        }
        (None, Some(scales)) => {
            check_len("scale_factors", scales.len())?;
            let sizes = input.sizes()[2..]
                .iter()
                .zip(scales)
                .map(|(&s, &f)| (s as f64 * f).floor() as i64)
                .collect();
            Ok((sizes, scales.iter().map(|&f| Some(f)).collect()))
        }
        _ => Err(Error::invalid(
            op,
            "Must specify exactly one of output_size and scale_factors",
        )),
    }
}

/// Scale `i`, if given (absent when the input has fewer than two spatial
/// dims: the sized operator then reports the bad output size).
fn scale(scales: &[Option<f64>], i: usize) -> Option<f64> {
    scales.get(i).copied().flatten()
}

/// `aten::upsample_nearest2d.vec`: [`ops::upsample_nearest2d`] with the
/// output size given directly or as `floor(size * scale)` per spatial dim.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[1, 1, 3, 4]).unwrap();
/// let y = ops::upsample_nearest2d_vec(&x, None, Some(&[1.5, 2.0][..])).unwrap();
/// assert_eq!(y.sizes(), &[1, 1, 4, 8]);
/// ```
pub fn upsample_nearest2d_vec(
    input: &Tensor,
    output_size: Option<&[i64]>,
    scale_factors: Option<&[f64]>,
) -> Result<Tensor> {
    let (size, scales) = output_size_and_scales("aten::upsample_nearest2d.vec", input, output_size, scale_factors)?;
    ops::upsample_nearest2d(input, &size, scale(&scales, 0), scale(&scales, 1))
}

/// `aten::upsample_bilinear2d.vec`: [`ops::upsample_bilinear2d`] with the
/// output size given directly or as `floor(size * scale)` per spatial dim.
pub fn upsample_bilinear2d_vec(
    input: &Tensor,
    output_size: Option<&[i64]>,
    align_corners: bool,
    scale_factors: Option<&[f64]>,
) -> Result<Tensor> {
    let (size, scales) = output_size_and_scales("aten::upsample_bilinear2d.vec", input, output_size, scale_factors)?;
    ops::upsample_bilinear2d(input, &size, align_corners, scale(&scales, 0), scale(&scales, 1))
}
