//! Loss functions: `F::cross_entropy`, `F::nll_loss`, `F::mse_loss`, ….
//!
//! Python's deprecated `size_average` and `reduce` arguments are not
//! offered; use `reduction`.

use super::Reduction;
use crate::ops;
use crate::{Error, Result, Tensor};

/// Options of [`cross_entropy`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct CrossEntropyOpts<'a> {
    /// Per-class rescaling weight, shape `[C]`.
    pub weight: Option<&'a Tensor>,
    /// A class-index target value that contributes neither loss nor gradient.
    pub ignore_index: i64,
    /// How the per-sample losses are reduced.
    pub reduction: Reduction,
    /// Amount in `[0, 1]` of the uniform distribution mixed into the target.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyOpts<'_> {
    fn default() -> Self {
        CrossEntropyOpts {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

/// `F.cross_entropy`: the cross entropy between logits `input` (`[N, C]`,
/// `[N, C, d1, ...]` or `[C]`) and `target`, either class indices (int64,
/// `[N, d1, ...]`) or class probabilities (floating, `input`'s shape).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.0f64, 0.0, 0.0, 0.0], &[2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![0i64, 1], &[2]).unwrap();
/// let l = F::cross_entropy(&x, &t, F::CrossEntropyOpts::default()).unwrap();
/// assert!((l.to_vec::<f64>().unwrap()[0] - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn cross_entropy(input: &Tensor, target: &Tensor, opts: CrossEntropyOpts) -> Result<Tensor> {
    ops::cross_entropy_loss(
        input,
        target,
        opts.weight,
        opts.reduction.to_aten(),
        opts.ignore_index,
        opts.label_smoothing,
    )
}

/// Options of [`nll_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct NllLossOpts<'a> {
    /// Per-class rescaling weight, shape `[C]`.
    pub weight: Option<&'a Tensor>,
    /// A target value that contributes neither loss nor gradient.
    pub ignore_index: i64,
    /// How the per-sample losses are reduced (mean divides by the total
    /// weight of the counted targets).
    pub reduction: Reduction,
}

impl Default for NllLossOpts<'_> {
    fn default() -> Self {
        NllLossOpts {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
        }
    }
}

/// `F.nll_loss`: the negative log-likelihood of class-index `target`
/// (`[N, d1, ...]`) under log-probabilities `input` (`[N, C, d1, ...]` or `[C]`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// let l = F::nll_loss(&x, &t, F::NllLossOpts::default()).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![2.5]);
/// ```
pub fn nll_loss(input: &Tensor, target: &Tensor, opts: NllLossOpts) -> Result<Tensor> {
    ops::nll_loss_nd(input, target, opts.weight, opts.reduction.to_aten(), opts.ignore_index)
}

/// `input` and `target` broadcast to one shape, as Python's pointwise losses do first.
fn broadcast_pair(op: &str, input: &Tensor, target: &Tensor) -> Result<(Tensor, Tensor)> {
    let shape = ft_runtime::shape::broadcast_shapes(op, input.sizes(), target.sizes())?;
    let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    Ok((ops::expand(input, &s)?, ops::expand(target, &s)?))
}

/// Python's check that an elementwise `weight` has `input`'s shape.
fn check_same_size(op: &str, weight: &Tensor, input: &Tensor) -> Result<()> {
    if weight.sizes() != input.sizes() {
        return Err(Error::invalid(op, "Weights and input must have the same size."));
    }
    Ok(())
}

/// Python's weighted elementwise loss: `errors * weight`, reduced with a mean
/// that divides by `sum(weight)` (mse/l1) or by the element count (huber).
fn weighted_reduce(errors: &Tensor, weight: &Tensor, reduction: Reduction, mean_by_weight: bool) -> Result<Tensor> {
    let w = ops::mul(errors, weight)?;
    match reduction {
        Reduction::None => Ok(w),
        Reduction::Sum => ops::sum(&w),
        Reduction::Mean if mean_by_weight => ops::div(&ops::sum(&w)?, &ops::sum(weight)?),
        Reduction::Mean => ops::mean(&w),
    }
}

/// Options of [`mse_loss`] and [`l1_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct MseLossOpts<'a> {
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    /// Elementwise weight of `input`'s shape; mean then divides by its sum.
    pub weight: Option<&'a Tensor>,
}

/// Options of [`l1_loss`] (the same fields as [`MseLossOpts`]).
pub type L1LossOpts<'a> = MseLossOpts<'a>;

/// `F.mse_loss`: the squared error `(input - target)^2` (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(F::mse_loss(&a, &b, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn mse_loss(input: &Tensor, target: &Tensor, opts: MseLossOpts) -> Result<Tensor> {
    let (x, t) = broadcast_pair("F.mse_loss", input, target)?;
    match opts.weight {
        None => ops::mse_loss(&x, &t, opts.reduction.to_aten()),
        Some(w) => {
            check_same_size("F.mse_loss", w, input)?;
            let d = ops::sub(&x, &t)?;
            weighted_reduce(&ops::mul(&d, &d)?, w, opts.reduction, true)
        }
    }
}

/// `F.l1_loss`: the absolute error `|input - target|` (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![1.0f64, -3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(F::l1_loss(&a, &b, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![2.0]);
/// ```
pub fn l1_loss(input: &Tensor, target: &Tensor, opts: L1LossOpts) -> Result<Tensor> {
    let (x, t) = broadcast_pair("F.l1_loss", input, target)?;
    match opts.weight {
        None => ops::l1_loss(&x, &t, opts.reduction.to_aten()),
        Some(w) => {
            check_same_size("F.l1_loss", w, input)?;
            weighted_reduce(&ops::abs(&ops::sub(&x, &t)?)?, w, opts.reduction, true)
        }
    }
}

/// Options of [`smooth_l1_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1LossOpts {
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear (`>= 0`; 0 is plain L1).
    pub beta: f64,
}

impl Default for SmoothL1LossOpts {
    fn default() -> Self {
        SmoothL1LossOpts {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

/// `F.smooth_l1_loss`: quadratic below `beta`, linear above (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let l = F::smooth_l1_loss(&a, &b, F::SmoothL1LossOpts { reduction: F::Reduction::Sum, ..Default::default() }).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![2.625]);
/// ```
pub fn smooth_l1_loss(input: &Tensor, target: &Tensor, opts: SmoothL1LossOpts) -> Result<Tensor> {
    let (x, t) = broadcast_pair("F.smooth_l1_loss", input, target)?;
    if opts.beta == 0.0 {
        return ops::l1_loss(&x, &t, opts.reduction.to_aten());
    }
    ops::smooth_l1_loss(&x, &t, opts.reduction.to_aten(), opts.beta)
}

/// Options of [`huber_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct HuberLossOpts<'a> {
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear (`> 0`).
    pub delta: f64,
    /// Elementwise weight of `input`'s shape (mean still divides by the element count).
    pub weight: Option<&'a Tensor>,
}

impl Default for HuberLossOpts<'_> {
    fn default() -> Self {
        HuberLossOpts {
            reduction: Reduction::Mean,
            delta: 1.0,
            weight: None,
        }
    }
}

/// `F.huber_loss`: `0.5 z^2` below `delta`, `delta (z - delta / 2)` above (broadcast), reduced.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let l = F::huber_loss(&a, &b, F::HuberLossOpts { delta: 2.0, ..Default::default() }).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![2.0625]);
/// ```
pub fn huber_loss(input: &Tensor, target: &Tensor, opts: HuberLossOpts) -> Result<Tensor> {
    let (x, t) = broadcast_pair("F.huber_loss", input, target)?;
    match opts.weight {
        None => ops::huber_loss(&x, &t, opts.reduction.to_aten(), opts.delta),
        Some(w) => {
            check_same_size("F.huber_loss", w, input)?;
            let unweighted = ops::huber_loss(&x, &t, Reduction::None.to_aten(), opts.delta)?;
            weighted_reduce(&unweighted, w, opts.reduction, false)
        }
    }
}

/// Options of [`binary_cross_entropy`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryCrossEntropyOpts<'a> {
    /// Elementwise rescaling weight, broadcast to `target`'s shape.
    pub weight: Option<&'a Tensor>,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
}

/// `F.binary_cross_entropy`: the binary cross entropy of probabilities
/// `input` against `target` (same shape, both in [0, 1]).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.5f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let l = F::binary_cross_entropy(&x, &t, Default::default()).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy(input: &Tensor, target: &Tensor, opts: BinaryCrossEntropyOpts) -> Result<Tensor> {
    const OP: &str = "F.binary_cross_entropy";
    if target.sizes() != input.sizes() {
        return Err(Error::invalid(
            OP,
            format!(
                "Using a target size ({}) that is different to the input size ({}) is deprecated. Please ensure they have the same size.",
                fmt(target.sizes()),
                fmt(input.sizes())
            ),
        ));
    }
    let weight = match opts.weight {
        Some(w) => {
            let shape = ft_runtime::shape::broadcast_shapes(OP, target.sizes(), w.sizes())?;
            let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            Some(ops::expand(w, &s)?)
        }
        None => None,
    };
    ops::binary_cross_entropy(input, target, weight.as_ref(), opts.reduction.to_aten())
}

/// Options of [`binary_cross_entropy_with_logits`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryCrossEntropyWithLogitsOpts<'a> {
    /// Elementwise rescaling weight, broadcast to `target`'s shape.
    pub weight: Option<&'a Tensor>,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    /// Weight of the positive examples, broadcast along the class (last) dim.
    pub pos_weight: Option<&'a Tensor>,
}

/// `F.binary_cross_entropy_with_logits`: binary cross entropy of
/// `sigmoid(input)` against `target` (same shape), computed stably.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let l = F::binary_cross_entropy_with_logits(&x, &t, Default::default()).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    opts: BinaryCrossEntropyWithLogitsOpts,
) -> Result<Tensor> {
    if target.sizes() != input.sizes() {
        return Err(Error::invalid(
            "F.binary_cross_entropy_with_logits",
            format!(
                "Target size ({}) must be the same as input size ({})",
                fmt(target.sizes()),
                fmt(input.sizes())
            ),
        ));
    }
    ops::binary_cross_entropy_with_logits(input, target, opts.weight, opts.pos_weight, opts.reduction.to_aten())
}

/// The `reduction=` of [`kl_div`]: [`Reduction`]'s three plus `'batchmean'`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KlDivReduction {
    /// One value per element (`'none'`).
    None,
    /// Sum divided by the batch size `input.size(0)` (`'batchmean'`).
    BatchMean,
    /// Mean over all elements (`'mean'`, Python's default).
    #[default]
    Mean,
    /// Sum over all elements (`'sum'`).
    Sum,
}

/// Options of [`kl_div`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct KlDivOpts {
    /// How the pointwise divergences are reduced.
    pub reduction: KlDivReduction,
    /// `target` holds log-probabilities too.
    pub log_target: bool,
}

/// `F.kl_div`: the KL divergence of `target` from log-probabilities `input`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64, 1.0], &[1, 2]).unwrap();
/// let opts = F::KlDivOpts { reduction: F::KlDivReduction::BatchMean, ..Default::default() };
/// assert_eq!(F::kl_div(&x, &t, opts).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn kl_div(input: &Tensor, target: &Tensor, opts: KlDivOpts) -> Result<Tensor> {
    let code = match opts.reduction {
        KlDivReduction::None => Reduction::None,
        KlDivReduction::Mean => Reduction::Mean,
        KlDivReduction::Sum | KlDivReduction::BatchMean => Reduction::Sum,
    };
    let reduced = ops::kl_div_full(input, target, code.to_aten(), opts.log_target)?;
    if opts.reduction == KlDivReduction::BatchMean && input.dim() != 0 {
        return ops::div_scalar(&reduced, input.sizes()[0] as f64);
    }
    Ok(reduced)
}

/// Options of [`margin_ranking_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct MarginRankingLossOpts {
    /// The required margin between the ranked inputs.
    pub margin: f64,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
}

/// `F.margin_ranking_loss`: `max(0, -target (input1 - input2) + margin)`;
/// the three tensors must have the same rank.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let l = F::margin_ranking_loss(&a, &b, &y, Default::default()).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![0.5]);
/// ```
pub fn margin_ranking_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    opts: MarginRankingLossOpts,
) -> Result<Tensor> {
    if input1.dim() != input2.dim() || input1.dim() != target.dim() {
        return Err(Error::shape(
            "F.margin_ranking_loss",
            format!(
                "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: {}, input2: {}, target: {} ",
                fmt(input1.sizes()),
                fmt(input2.sizes()),
                fmt(target.sizes())
            ),
        ));
    }
    ops::margin_ranking_loss(input1, input2, target, opts.margin, opts.reduction.to_aten())
}

/// Options of [`hinge_embedding_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct HingeEmbeddingLossOpts {
    /// The margin applied to the `target == -1` elements.
    pub margin: f64,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
}

impl Default for HingeEmbeddingLossOpts {
    fn default() -> Self {
        HingeEmbeddingLossOpts {
            margin: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

/// `F.hinge_embedding_loss`: `input` where `target == 1`, `max(0, margin - input)` where `target == -1`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.25f64, 0.25], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f64, -1.0], &[2]).unwrap();
/// let l = F::hinge_embedding_loss(&x, &y, Default::default()).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![0.5]);
/// ```
pub fn hinge_embedding_loss(input: &Tensor, target: &Tensor, opts: HingeEmbeddingLossOpts) -> Result<Tensor> {
    ops::hinge_embedding_loss(input, target, opts.margin, opts.reduction.to_aten())
}

/// Options of [`cosine_embedding_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct CosineEmbeddingLossOpts {
    /// The cosine above which `target == -1` pairs are penalised.
    pub margin: f64,
    /// How the per-pair losses are reduced.
    pub reduction: Reduction,
}

/// `F.cosine_embedding_loss`: `1 - cos` for `target == 1` pairs, `max(0, cos - margin)` for `target == -1`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![1.0f64, 0.0], &[1, 2]).unwrap();
/// let b = Tensor::from_vec(vec![1.0f64, 0.0], &[1, 2]).unwrap();
/// let y = Tensor::from_vec(vec![-1i64], &[1]).unwrap();
/// let l = F::cosine_embedding_loss(&a, &b, &y, Default::default()).unwrap();
/// assert!((l.to_vec::<f64>().unwrap()[0] - 1.0).abs() < 1e-9);
/// ```
pub fn cosine_embedding_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    opts: CosineEmbeddingLossOpts,
) -> Result<Tensor> {
    ops::cosine_embedding_loss(input1, input2, target, opts.margin, opts.reduction.to_aten())
}

/// Options of [`triplet_margin_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct TripletMarginLossOpts {
    /// Required gap between the positive and negative distances (`> 0`).
    pub margin: f64,
    /// The norm degree of the pairwise distance.
    pub p: f64,
    /// Added to the differences before taking norms.
    pub eps: f64,
    /// Use `min(d(anchor, negative), d(positive, negative))` as the negative distance.
    pub swap: bool,
    /// How the per-triplet losses are reduced.
    pub reduction: Reduction,
}

impl Default for TripletMarginLossOpts {
    fn default() -> Self {
        TripletMarginLossOpts {
            margin: 1.0,
            p: 2.0,
            eps: 1e-6,
            swap: false,
            reduction: Reduction::Mean,
        }
    }
}

/// `F.triplet_margin_loss`: `max(0, margin + d(anchor, positive) - d(anchor, negative))`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let a = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// let p = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let n = Tensor::from_vec(vec![0.0f64, 1.0], &[1, 2]).unwrap();
/// let opts = F::TripletMarginLossOpts { eps: 0.0, ..Default::default() };
/// assert_eq!(F::triplet_margin_loss(&a, &p, &n, opts).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn triplet_margin_loss(
    anchor: &Tensor,
    positive: &Tensor,
    negative: &Tensor,
    opts: TripletMarginLossOpts,
) -> Result<Tensor> {
    if opts.margin <= 0.0 {
        return Err(Error::invalid(
            "F.triplet_margin_loss",
            format!("margin must be greater than 0, got {}", opts.margin),
        ));
    }
    ops::triplet_margin_loss(
        anchor,
        positive,
        negative,
        opts.margin,
        opts.p,
        opts.eps,
        opts.swap,
        opts.reduction.to_aten(),
    )
}

/// Options of [`poisson_nll_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct PoissonNllLossOpts {
    /// `input` is the log of the rate (`exp(input) - target input`).
    pub log_input: bool,
    /// Add Stirling's approximation of `log(target!)`.
    pub full: bool,
    /// Added to `input` before the log when `log_input` is false.
    pub eps: f64,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
}

impl Default for PoissonNllLossOpts {
    fn default() -> Self {
        PoissonNllLossOpts {
            log_input: true,
            full: false,
            eps: 1e-8,
            reduction: Reduction::Mean,
        }
    }
}

/// `F.poisson_nll_loss`: the negative log-likelihood of `target` under a Poisson distribution.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let t = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// assert_eq!(F::poisson_nll_loss(&x, &t, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn poisson_nll_loss(input: &Tensor, target: &Tensor, opts: PoissonNllLossOpts) -> Result<Tensor> {
    ops::poisson_nll_loss(
        input,
        target,
        opts.log_input,
        opts.full,
        opts.eps,
        opts.reduction.to_aten(),
    )
}

/// The `var` argument of [`gaussian_nll_loss`]: a tensor or one number.
#[derive(Clone, Copy, Debug)]
pub enum Var<'a> {
    /// Per-element (or broadcastable, see [`gaussian_nll_loss`]) variances.
    Tensor(&'a Tensor),
    /// One variance for every element.
    Float(f64),
}

/// Options of [`gaussian_nll_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct GaussianNllLossOpts {
    /// Add the constant `0.5 log(2 pi)`.
    pub full: bool,
    /// Lower clamp of the variance (the clamp is not differentiated).
    pub eps: f64,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
}

impl Default for GaussianNllLossOpts {
    fn default() -> Self {
        GaussianNllLossOpts {
            full: false,
            eps: 1e-6,
            reduction: Reduction::Mean,
        }
    }
}

/// `var` shaped against `input` as Python does: equal shapes, one trailing
/// dim short (unsqueezed), or the same rank with exactly one mismatched dim of size 1.
fn shaped_var(op: &str, input: &Tensor, var: &Tensor) -> Result<Tensor> {
    let (i, v) = (input.sizes(), var.sizes());
    if i == v {
        return Ok(var.clone());
    }
    if !i.is_empty() && &i[..i.len() - 1] == v {
        return ops::unsqueeze(var, -1);
    }
    let mismatched: usize = if i.len() == v.len() {
        i.iter().zip(v).filter(|(a, b)| a != b).map(|(_, &b)| b).sum()
    } else {
        0
    };
    if i.len() == v.len() && mismatched == 1 {
        return Ok(var.clone());
    }
    Err(Error::invalid(op, "var is of incorrect size"))
}

/// `F.gaussian_nll_loss`: `0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps))`
/// (plus `0.5 log(2 pi)` when `full`), reduced. Composed here as in Python;
/// the clamp of `var` is not differentiated, as in PyTorch.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let l = F::gaussian_nll_loss(&x, &t, F::Var::Float(1.0), Default::default()).unwrap();
/// assert_eq!(l.to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn gaussian_nll_loss(input: &Tensor, target: &Tensor, var: Var, opts: GaussianNllLossOpts) -> Result<Tensor> {
    const OP: &str = "F.gaussian_nll_loss";
    let var = match var {
        Var::Float(v) if v < 0.0 => return Err(Error::invalid(OP, "var has negative entry/entries")),
        Var::Float(v) => ops::mul_scalar(&ops::ones_like(input)?, v)?,
        Var::Tensor(v) => {
            if v.to_f64_vec().iter().any(|&x| x < 0.0) {
                return Err(Error::invalid(OP, "var has negative entry/entries"));
            }
            shaped_var(OP, input, v)?
        }
    };
    // clamp without gradient: var + (clamped - var).detach()
    let lifted = ops::sub(&ops::clamp_min(&var.detach(), opts.eps)?, &var.detach())?;
    let var = ops::add(&var, &lifted)?;
    let d = ops::sub(input, target)?;
    let quad = ops::div(&ops::mul(&d, &d)?, &var)?;
    let mut loss = ops::mul_scalar(&ops::add(&ops::log(&var)?, &quad)?, 0.5)?;
    if opts.full {
        loss = ops::add_scalar(&loss, 0.5 * (2.0 * std::f64::consts::PI).ln(), 1)?;
    }
    match opts.reduction {
        Reduction::None => Ok(loss),
        Reduction::Mean => ops::mean(&loss),
        Reduction::Sum => ops::sum(&loss),
    }
}

fn fmt(sizes: &[usize]) -> String {
    ft_runtime::shape::fmt_sizes(sizes)
}

/// Options of [`ctc_loss`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct CtcLossOpts {
    /// The blank label.
    pub blank: i64,
    /// How the per-sample losses are reduced (mean divides each by its target length first).
    pub reduction: Reduction,
    /// Replace infinite losses (impossible alignments) and their gradients by zero.
    pub zero_infinity: bool,
}

/// `F.ctc_loss`: the Connectionist Temporal Classification loss of
/// `log_probs` (`[T, N, C]` or `[T, C]`) against `targets` (padded `[N, S]`
/// or concatenated 1-D), with integer tensors of input and target lengths.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let one = Tensor::from_vec(vec![1i64], &[1]).unwrap();
/// let l = F::ctc_loss(&lp, &tg, &one, &one, Default::default()).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn ctc_loss(
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &Tensor,
    target_lengths: &Tensor,
    opts: CtcLossOpts,
) -> Result<Tensor> {
    ops::ctc_loss_tensor(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        opts.blank,
        opts.reduction.to_aten(),
        opts.zero_infinity,
    )
}
