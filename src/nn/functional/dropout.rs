//! Dropout functions (`F.dropout`, `F.dropout1d`, `F.dropout2d`,
//! `F.dropout3d`, `F.alpha_dropout`, `F.feature_alpha_dropout`) and their
//! `inplace=True` forms. Each checks `p` as Python does, then calls the
//! aten op (`aten::dropout`, `aten::feature_dropout`, …), whose noise is
//! drawn from the default generator exactly as PyTorch draws it: seed with
//! [`crate::manual_seed`] to reproduce torch's masks.

use crate::{ops, Error, Result, Tensor};

/// Python's check: `p` must lie in [0, 1] (a `ValueError` in torch).
fn check_p(name: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("dropout probability has to be between 0 and 1, but got {p:?}"),
        ))
    }
}

/// Options of [`dropout`] and [`dropout_`] (Python's defaults: `p=0.5`, `training=True`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutOpts {
    /// Probability of zeroing an element.
    pub p: f64,
    /// Apply dropout (otherwise the input is returned as is).
    pub training: bool,
}

impl Default for DropoutOpts {
    fn default() -> Self {
        DropoutOpts { p: 0.5, training: true }
    }
}

/// Zeroes each element with probability `p` and scales the others by
/// `1 / (1 - p)` (`F.dropout`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// frankentorch::manual_seed(0);
/// let x = Tensor::from_vec(vec![1.0f32; 6], &[2, 3]).unwrap();
/// let y = F::dropout(&x, F::DropoutOpts { p: 0.5, ..Default::default() }).unwrap();
/// assert!(y.to_vec::<f32>().unwrap().iter().all(|&v| v == 0.0 || v == 2.0));
/// ```
pub fn dropout(input: &Tensor, opts: DropoutOpts) -> Result<Tensor> {
    check_p("F.dropout", opts.p)?;
    ops::dropout(input, opts.p, opts.training)
}

/// [`dropout`] in place (`F.dropout(..., inplace=True)`); returns `input`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64; 4], &[4]).unwrap();
/// F::dropout_(&x, F::DropoutOpts { p: 1.0, ..Default::default() }).unwrap();
/// assert_eq!(x.to_vec::<f64>().unwrap(), vec![0.0; 4]);
/// ```
pub fn dropout_(input: &Tensor, opts: DropoutOpts) -> Result<Tensor> {
    check_p("F.dropout", opts.p)?;
    ops::dropout_(input, opts.p, opts.training)
}

/// Options of the channel-wise dropouts [`dropout1d`], [`dropout2d`],
/// [`dropout3d`] (Python's defaults: `p=0.5`, `training=True`).
pub type DropoutNdOpts = DropoutOpts;

/// Options of [`dropout1d`] / [`dropout1d_`].
pub type Dropout1dOpts = DropoutNdOpts;
/// Options of [`dropout2d`] / [`dropout2d_`].
pub type Dropout2dOpts = DropoutNdOpts;
/// Options of [`dropout3d`] / [`dropout3d_`].
pub type Dropout3dOpts = DropoutNdOpts;

/// Channel dropout through `feature_dropout`, adding a batch dim first when
/// the input has none (`batched` false), as Python does.
fn feature_nd(input: &Tensor, opts: DropoutNdOpts, batched: bool, inplace: bool) -> Result<Tensor> {
    let x = if batched {
        input.clone()
    } else {
        ops::unsqueeze(input, 0)?
    };
    let r = if inplace {
        ops::feature_dropout_(&x, opts.p, opts.training)?
    } else {
        ops::feature_dropout(&x, opts.p, opts.training)?
    };
    match (batched, inplace) {
        (true, _) => Ok(r),
        (false, true) => Ok(input.clone()),
        (false, false) => ops::squeeze_dim(&r, 0),
    }
}

fn dropout1d_impl(input: &Tensor, opts: Dropout1dOpts, inplace: bool) -> Result<Tensor> {
    check_p("F.dropout1d", opts.p)?;
    let d = input.dim();
    if d != 2 && d != 3 {
        return Err(Error::invalid(
            "F.dropout1d",
            format!(
                "dropout1d: Expected 2D or 3D input, but received a {d}D input. Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
            ),
        ));
    }
    feature_nd(input, opts, d == 3, inplace)
}

/// Zeroes whole channels of a `(N, C, L)` or `(C, L)` input with
/// probability `p`, scaling the rest (`F.dropout1d`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64; 6], &[2, 3]).unwrap();
/// let y = F::dropout1d(&x, F::Dropout1dOpts { training: false, ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![1.0; 6]);
/// ```
pub fn dropout1d(input: &Tensor, opts: Dropout1dOpts) -> Result<Tensor> {
    dropout1d_impl(input, opts, false)
}

/// [`dropout1d`] in place; returns `input`.
pub fn dropout1d_(input: &Tensor, opts: Dropout1dOpts) -> Result<Tensor> {
    dropout1d_impl(input, opts, true)
}

/// Zeroes whole channels `input[n, c]` with probability `p`, scaling the
/// rest (`F.dropout2d`; like torch, a 3-D input is treated as `(N, C, L)`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// frankentorch::manual_seed(1);
/// let x = Tensor::from_vec(vec![1.0f32; 16], &[1, 4, 2, 2]).unwrap();
/// let y = F::dropout2d(&x, Default::default()).unwrap().to_vec::<f32>().unwrap();
/// // Each channel of 4 values is all kept (2.0) or all dropped (0.0).
/// assert!(y.chunks(4).all(|c| c.iter().all(|&v| v == c[0])));
/// ```
pub fn dropout2d(input: &Tensor, opts: Dropout2dOpts) -> Result<Tensor> {
    check_p("F.dropout2d", opts.p)?;
    feature_nd(input, opts, true, false)
}

/// [`dropout2d`] in place; returns `input`.
pub fn dropout2d_(input: &Tensor, opts: Dropout2dOpts) -> Result<Tensor> {
    check_p("F.dropout2d", opts.p)?;
    feature_nd(input, opts, true, true)
}

/// Zeroes whole channels of a `(N, C, D, H, W)` or `(C, D, H, W)` input
/// (`F.dropout3d`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64; 8], &[2, 1, 2, 2]).unwrap();
/// let y = F::dropout3d(&x, F::Dropout3dOpts { p: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(y.sizes(), &[2, 1, 2, 2]);
/// ```
pub fn dropout3d(input: &Tensor, opts: Dropout3dOpts) -> Result<Tensor> {
    check_p("F.dropout3d", opts.p)?;
    feature_nd(input, opts, input.dim() == 5, false)
}

/// [`dropout3d`] in place; returns `input`.
pub fn dropout3d_(input: &Tensor, opts: Dropout3dOpts) -> Result<Tensor> {
    check_p("F.dropout3d", opts.p)?;
    feature_nd(input, opts, input.dim() == 5, true)
}

/// Options of [`alpha_dropout`] and [`feature_alpha_dropout`] (Python's
/// defaults: `p=0.5`, `training=False`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlphaDropoutOpts {
    /// Probability of dropping an element (or channel).
    pub p: f64,
    /// Apply dropout (Python's default is `False` for these two).
    pub training: bool,
}

impl Default for AlphaDropoutOpts {
    fn default() -> Self {
        AlphaDropoutOpts {
            p: 0.5,
            training: false,
        }
    }
}

/// Options of [`feature_alpha_dropout`] / [`feature_alpha_dropout_`].
pub type FeatureAlphaDropoutOpts = AlphaDropoutOpts;

/// Dropout preserving SELU's self-normalisation (`F.alpha_dropout`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// frankentorch::manual_seed(0);
/// let x = Tensor::from_vec(vec![0.0f64; 100], &[100]).unwrap();
/// let y = F::alpha_dropout(&x, F::AlphaDropoutOpts { p: 0.2, training: true }).unwrap();
/// assert_eq!(y.numel(), 100);
/// ```
pub fn alpha_dropout(input: &Tensor, opts: AlphaDropoutOpts) -> Result<Tensor> {
    check_p("F.alpha_dropout", opts.p)?;
    ops::alpha_dropout(input, opts.p, opts.training)
}

/// [`alpha_dropout`] in place; returns `input`.
pub fn alpha_dropout_(input: &Tensor, opts: AlphaDropoutOpts) -> Result<Tensor> {
    check_p("F.alpha_dropout", opts.p)?;
    ops::alpha_dropout_(input, opts.p, opts.training)
}

/// Alpha dropout of whole channels (`F.feature_alpha_dropout`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32; 6], &[2, 3]).unwrap();
/// let y = F::feature_alpha_dropout(&x, Default::default()).unwrap(); // not training
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0; 6]);
/// ```
pub fn feature_alpha_dropout(input: &Tensor, opts: FeatureAlphaDropoutOpts) -> Result<Tensor> {
    check_p("F.feature_alpha_dropout", opts.p)?;
    ops::feature_alpha_dropout(input, opts.p, opts.training)
}

/// [`feature_alpha_dropout`] in place; returns `input`.
pub fn feature_alpha_dropout_(input: &Tensor, opts: FeatureAlphaDropoutOpts) -> Result<Tensor> {
    check_p("F.feature_alpha_dropout", opts.p)?;
    ops::feature_alpha_dropout_(input, opts.p, opts.training)
}
