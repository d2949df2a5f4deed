//! `F::cosine_similarity`, `F::pairwise_distance` (aten ops) and
//! `F::normalize` (composed in Python, composed here the same way).

use crate::autograd_helpers::sizes_of;
use crate::ops;
use crate::{Result, Tensor};

/// Options of [`cosine_similarity`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct CosineSimilarityOpts {
    /// Default 1.
    pub dim: i64,
    /// Default 1e-8: lower bound of each norm.
    pub eps: f64,
}

impl Default for CosineSimilarityOpts {
    fn default() -> Self {
        CosineSimilarityOpts { dim: 1, eps: 1e-8 }
    }
}

/// `F.cosine_similarity`: the cosine of the angle between `x1` and `x2`
/// along `dim`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 2.0], &[1, 2]).unwrap();
/// assert_eq!(F::cosine_similarity(&a, &b, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn cosine_similarity(x1: &Tensor, x2: &Tensor, opts: CosineSimilarityOpts) -> Result<Tensor> {
    ops::cosine_similarity(x1, x2, opts.dim, opts.eps)
}

/// Options of [`pairwise_distance`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct PairwiseDistanceOpts {
    /// Default 2.
    pub p: f64,
    /// Default 1e-6, added to the difference.
    pub eps: f64,
    /// Default false.
    pub keepdim: bool,
}

impl Default for PairwiseDistanceOpts {
    fn default() -> Self {
        PairwiseDistanceOpts {
            p: 2.0,
            eps: 1e-6,
            keepdim: false,
        }
    }
}

/// `F.pairwise_distance`: `‖x1 - x2 + eps‖_p` over the last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let b = ops::zeros_like(&a).unwrap();
/// let d = F::pairwise_distance(&a, &b, F::PairwiseDistanceOpts { eps: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(d.to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn pairwise_distance(x1: &Tensor, x2: &Tensor, opts: PairwiseDistanceOpts) -> Result<Tensor> {
    ops::pairwise_distance(x1, x2, opts.p, opts.eps, opts.keepdim)
}

/// Options of [`normalize`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct NormalizeOpts {
    /// Default 2.
    pub p: f64,
    /// Default 1.
    pub dim: i64,
    /// Default 1e-12: lower bound of the norm.
    pub eps: f64,
}

impl Default for NormalizeOpts {
    fn default() -> Self {
        NormalizeOpts {
            p: 2.0,
            dim: 1,
            eps: 1e-12,
        }
    }
}

/// `F.normalize`: `input / max(‖input‖_p along dim, eps)`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// assert_eq!(F::normalize(&x, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![0.6, 0.8]);
/// ```
pub fn normalize(input: &Tensor, opts: NormalizeOpts) -> Result<Tensor> {
    let norm = ops::norm(input, Some(opts.p.into()), &[opts.dim], true)?;
    let denom = ops::expand(&ops::clamp_min(&norm, opts.eps)?, &sizes_of(input))?;
    ops::div(input, &denom)
}
