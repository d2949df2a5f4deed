//! The negative log-likelihood loss: `nll_loss_forward` (1-D or 2-D input),
//! `nll_loss2d_forward` (4-D input, 3-D target) and their backward ops.
//!
//! Both shapes are read as `[N, C, S]` (N samples, C classes, S spatial
//! positions; a 1-D input is one sample, a 2-D input has S = 1) with a target
//! of class indices `[N, S]`. Each position contributes
//! `-weight[t] * input[n, t, s]`, or nothing when `t == ignore_index`; mean
//! divides the sum by the total weight of the counted targets (so an
//! all-ignored batch gives NaN, as in PyTorch). Values are computed in f64
//! and rounded once into the input's dtype.

use super::{fmt, read_vec};
use crate::iter::to_dtype;
use ft_runtime::{DType, Error, Result, Tensor};

/// Reduction codes of the aten loss ops (`at::Reduction`).
const NONE: i64 = 0;
const MEAN: i64 = 1;
const SUM: i64 = 2;

/// Refuses a reduction code other than 0 (none), 1 (mean) or 2 (sum).
///
/// ```
/// assert!(ft_kernels::nn::loss::check_reduction("aten::mse_loss", 2).is_ok());
/// assert!(ft_kernels::nn::loss::check_reduction("aten::mse_loss", 3).is_err());
/// ```
pub fn check_reduction(op: &str, reduction: i64) -> Result<()> {
    if !(NONE..=SUM).contains(&reduction) {
        return Err(Error::invalid(
            op,
            format!("{reduction} is not a valid value for reduction (0: none, 1: mean, 2: sum)"),
        ));
    }
    Ok(())
}

/// The geometry of one nll call: samples, classes, positions per sample.
#[derive(Clone, Copy)]
struct Nll {
    n: usize,
    c: usize,
    s: usize,
}

/// Checks that `self` is floating and `weight` (if any) has its dtype and one entry per class.
fn check_input_weight(op: &str, self_: &Tensor, weight: Option<&Tensor>, c: usize) -> Result<Vec<f64>> {
    if !self_.dtype().is_floating_point() {
        return Err(Error::dtype(
            op,
            format!(
                "\"nll_loss\" not implemented for '{}'",
                self_.dtype().scalar_type_name()
            ),
        ));
    }
    let Some(w) = weight else {
        return Ok(vec![1.0; c]);
    };
    if w.dim() != 1 || w.numel() != c {
        return Err(Error::shape(op, weight_msg(op, c, w.sizes())));
    }
    if w.dtype() != self_.dtype() {
        return Err(Error::dtype(
            op,
            format!(
                "expected scalar type {} but found {}",
                self_.dtype().scalar_type_name(),
                w.dtype().scalar_type_name()
            ),
        ));
    }
    Ok(w.to_f64_vec())
}

/// The target's class indices, after checking its dtype (int64, or uint8 when `byte_ok`).
fn target_values(op: &str, target: &Tensor, byte_ok: bool) -> Result<Vec<i64>> {
    match target.dtype() {
        DType::I64 => read_vec::<i64>(target),
        DType::U8 if byte_ok => Ok(read_vec::<u8>(target)?.into_iter().map(i64::from).collect()),
        d => Err(Error::dtype(
            op,
            format!(
                "expected target dtype to be Long{}, but got {}",
                if byte_ok { " or Byte" } else { "" },
                d.scalar_type_name()
            ),
        )),
    }
}

/// Geometry of `nll_loss_forward`/`nll_loss_backward` (PyTorch's checks, in its order).
fn nll_geometry(op: &str, self_: &Tensor, target: &Tensor) -> Result<Nll> {
    if self_.dim() == 0 || self_.dim() > 2 {
        return Err(Error::shape(op, "input tensor should be 1D or 2D"));
    }
    if target.dim() > 1 {
        return Err(Error::shape(
            op,
            "0D or 1D target tensor expected, multi-target not supported",
        ));
    }
    let c = self_.sizes()[self_.dim() - 1];
    if self_.dim() == 1 {
        if target.dim() == 1 && target.sizes()[0] != 1 {
            return Err(Error::shape(
                op,
                format!(
                    "For 1D input, 1D target must have size 1, but got target size: {}",
                    target.sizes()[0]
                ),
            ));
        }
        return Ok(Nll { n: 1, c, s: 1 });
    }
    if target.dim() == 0 || self_.sizes()[0] != target.sizes()[0] {
        return Err(Error::shape(
            op,
            format!(
                "size mismatch (got input: {}, target: {})",
                fmt(self_.sizes()),
                fmt(target.sizes())
            ),
        ));
    }
    Ok(Nll {
        n: self_.sizes()[0],
        c,
        s: 1,
    })
}

/// Geometry of `nll_loss2d_forward`/`nll_loss2d_backward`.
fn nll2d_geometry(op: &str, self_: &Tensor, target: &Tensor) -> Result<Nll> {
    if target.dim() != 3 {
        return Err(Error::shape(
            op,
            format!(
                "only batches of spatial targets supported (3D tensors) but got targets of dimension: {}",
                target.dim()
            ),
        ));
    }
    if self_.dim() != 4 {
        return Err(Error::shape(
            op,
            format!(
                "only batches of spatial inputs supported (4D tensors), but got input of dimension: {}",
                self_.dim()
            ),
        ));
    }
    let (x, t) = (self_.sizes(), target.sizes());
    if x[0] != t[0] || x[2] != t[1] || x[3] != t[2] {
        return Err(Error::shape(
            op,
            format!("size mismatch (got input: {} , target: {}", fmt(x), fmt(t)),
        ));
    }
    Ok(Nll {
        n: x[0],
        c: x[1],
        s: x[2] * x[3],
    })
}

/// Per-position losses (`-w[t] * x[n, t, s]`, 0 where ignored) and the total
/// weight of the counted targets; checks every target against the class count.
fn nll_terms(op: &str, g: Nll, x: &[f64], t: &[i64], w: &[f64], ignore_index: i64) -> Result<(Vec<f64>, f64)> {
    let mut terms = Vec::with_capacity(g.n * g.s);
    let mut total = 0.0;
    for n in 0..g.n {
        for s in 0..g.s {
            let cls = t[n * g.s + s];
            if cls == ignore_index {
                terms.push(0.0);
                continue;
            }
            if cls < 0 || cls as usize >= g.c {
                return Err(Error::index(op, format!("Target {cls} is out of bounds.")));
            }
            let wt = w[cls as usize];
            total += wt;
            terms.push(-wt * x[(n * g.c + cls as usize) * g.s + s]);
        }
    }
    Ok((terms, total))
}

/// Reduces the terms; `per_sample` is the shape of the unreduced output.
fn reduce_terms(terms: Vec<f64>, total: f64, reduction: i64, per_sample: &[usize]) -> Result<Tensor> {
    match reduction {
        NONE => Tensor::from_vec(terms, per_sample),
        MEAN => Tensor::from_vec(vec![terms.iter().sum::<f64>() / total], &[]),
        _ => Tensor::from_vec(vec![terms.iter().sum::<f64>()], &[]),
    }
}

/// Shared forward: returns (output, total_weight) in `self`'s dtype.
#[allow(clippy::too_many_arguments)]
fn forward(
    op: &str,
    g: Nll,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    byte_ok: bool,
    per_sample: &[usize],
) -> Result<(Tensor, Tensor)> {
    check_reduction(op, reduction)?;
    let w = check_input_weight(op, self_, weight, g.c)?;
    let t = target_values(op, target, byte_ok)?;
    let (terms, total) = nll_terms(op, g, &self_.to_f64_vec(), &t, &w, ignore_index)?;
    // PyTorch reports the total weight for mean and sum, and for an
    // unbatched (1-D) input whatever the reduction.
    let reported = if reduction == NONE && self_.dim() != 1 {
        0.0
    } else {
        total
    };
    let out = reduce_terms(terms, total, reduction, per_sample)?;
    let dtype = self_.dtype();
    Ok((
        to_dtype(&out, dtype)?,
        to_dtype(&Tensor::from_vec(vec![reported], &[])?, dtype)?,
    ))
}

/// PyTorch's message for a weight of the wrong size (the 2-D op names the class count).
fn weight_msg(op: &str, c: usize, sizes: &[usize]) -> String {
    if op.contains("2d") {
        "weight tensor should be defined either for all or no classes".to_string()
    } else {
        format!(
            "weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: {}",
            fmt(sizes)
        )
    }
}

/// `aten::nll_loss_forward`: the negative log-likelihood of `target` (class
/// indices, int64 or uint8, `[N]` or 0-dim) under the log-probabilities
/// `self` (`[N, C]` or `[C]`), weighted per class; returns (output, total_weight).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// let (out, tw) = ft_kernels::nn::loss::nll_loss_forward(&x, &t, None, 1, -100).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![2.5]);
/// assert_eq!(tw.to_vec::<f64>().unwrap(), vec![2.0]);
/// ```
pub fn nll_loss_forward(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::nll_loss_forward";
    let g = nll_geometry(OP, self_, target)?;
    let per_sample: Vec<usize> = if self_.dim() == 2 { vec![g.n] } else { vec![] };
    forward(OP, g, self_, target, weight, reduction, ignore_index, true, &per_sample)
}

/// `aten::nll_loss2d_forward`: [`nll_loss_forward`] over every position of a
/// `[N, C, H, W]` input with an int64 `[N, H, W]` target; returns (output, total_weight).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0], &[1, 2, 1, 1]).unwrap();
/// let t = Tensor::from_vec(vec![1i64], &[1, 1, 1]).unwrap();
/// let (out, _) = ft_kernels::nn::loss::nll_loss2d_forward(&x, &t, None, 0, -100).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![2.0]);
/// ```
pub fn nll_loss2d_forward(
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::nll_loss2d_forward";
    let g = nll2d_geometry(OP, self_, target)?;
    let per_sample = target.sizes().to_vec();
    forward(
        OP,
        g,
        self_,
        target,
        weight,
        reduction,
        ignore_index,
        false,
        &per_sample,
    )
}

/// Shared backward: `grad_input[n, t, s] = -w[t] * g(n, s)` (divided by the
/// total weight for mean), zero elsewhere.
#[allow(clippy::too_many_arguments)]
fn backward(
    op: &str,
    g: Nll,
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    total_weight: &Tensor,
    byte_ok: bool,
    per_sample: &[usize],
) -> Result<Tensor> {
    check_reduction(op, reduction)?;
    let w = check_input_weight(op, self_, weight, g.c)?;
    let t = target_values(op, target, byte_ok)?;
    if total_weight.numel() != 1 {
        return Err(Error::shape(
            op,
            format!(
                "expected total_weight to be a single element tensor, got: {} ({} elements)",
                fmt(total_weight.sizes()),
                total_weight.numel()
            ),
        ));
    }
    let unreduced = reduction == NONE && self_.dim() != 1;
    if unreduced && grad_output.sizes() != per_sample {
        return Err(Error::shape(
            op,
            format!(
                "Expected a tensor of size {} for grad_output but got {}",
                fmt(per_sample),
                fmt(grad_output.sizes())
            ),
        ));
    }
    if !unreduced && grad_output.numel() != 1 {
        return Err(Error::shape(
            op,
            format!(
                "Expected a single element grad_output tensor, but got: {}",
                fmt(grad_output.sizes())
            ),
        ));
    }
    let go = grad_output.to_f64_vec();
    let scale = if reduction == MEAN {
        total_weight.to_f64_vec()[0]
    } else {
        1.0
    };
    let mut grad = vec![0.0; g.n * g.c * g.s];
    for n in 0..g.n {
        for s in 0..g.s {
            let cls = t[n * g.s + s];
            if cls == ignore_index {
                continue;
            }
            if cls < 0 || cls as usize >= g.c {
                return Err(Error::index(op, format!("Target {cls} is out of bounds.")));
            }
            let up = if unreduced { go[n * g.s + s] } else { go[0] };
            grad[(n * g.c + cls as usize) * g.s + s] = -w[cls as usize] * up / scale;
        }
    }
    to_dtype(&Tensor::from_vec(grad, self_.sizes())?, self_.dtype())
}

/// `aten::nll_loss_backward`: the gradient of [`nll_loss_forward`] with
/// respect to `self`, given the forward's `total_weight`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[2, 2]).unwrap();
/// let t = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// let tw = Tensor::from_vec(vec![2.0f64], &[]).unwrap();
/// let gi = ft_kernels::nn::loss::nll_loss_backward(&g, &x, &t, None, 1, -100, &tw).unwrap();
/// assert_eq!(gi.to_vec::<f64>().unwrap(), vec![0.0, -0.5, -0.5, 0.0]);
/// ```
pub fn nll_loss_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    total_weight: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "aten::nll_loss_backward";
    let g = nll_geometry(OP, self_, target)?;
    if self_.dim() == 1 && target.dim() == 1 {
        // PyTorch's backward accepts an unbatched input only with a 0-dim target.
        return Err(Error::shape(
            OP,
            format!(
                "size mismatch (got input: {}, target: {})",
                fmt(self_.sizes()),
                fmt(target.sizes())
            ),
        ));
    }
    let per_sample = [g.n];
    backward(
        OP,
        g,
        grad_output,
        self_,
        target,
        weight,
        reduction,
        ignore_index,
        total_weight,
        true,
        &per_sample,
    )
}

/// `aten::nll_loss2d_backward`: the gradient of [`nll_loss2d_forward`] with
/// respect to `self`, given the forward's `total_weight`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0], &[1, 2, 1, 1]).unwrap();
/// let t = Tensor::from_vec(vec![1i64], &[1, 1, 1]).unwrap();
/// let g = Tensor::from_vec(vec![3.0f64], &[1, 1, 1]).unwrap();
/// let tw = Tensor::from_vec(vec![0.0f64], &[]).unwrap();
/// let gi = ft_kernels::nn::loss::nll_loss2d_backward(&g, &x, &t, None, 0, -100, &tw).unwrap();
/// assert_eq!(gi.to_vec::<f64>().unwrap(), vec![0.0, -3.0]);
/// ```
pub fn nll_loss2d_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: i64,
    ignore_index: i64,
    total_weight: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "aten::nll_loss2d_backward";
    let g = nll2d_geometry(OP, self_, target)?;
    let per_sample = target.sizes().to_vec();
    backward(
        OP,
        g,
        grad_output,
        self_,
        target,
        weight,
        reduction,
        ignore_index,
        total_weight,
        false,
        &per_sample,
    )
}
