//! Connectionist Temporal Classification: `_ctc_loss` (the forward
//! recursion over the blank-extended target, returning the negative log
//! likelihood and the log-alpha table) and `_ctc_loss_backward` (the
//! backward recursion and the gradient with respect to the log-probabilities).
//!
//! `log_probs` is `[T, N, C]`; `targets` is either padded (`[N, S]`, row `b`
//! holding `target_lengths[b]` labels) or the concatenation of all targets
//! (1-D). The extended target of length `2 L + 1` interleaves blanks with the
//! labels. Values are computed in f64 and rounded once into the input dtype
//! (float32 or float64, the dtypes PyTorch's CPU kernel takes).

use super::fmt;
use crate::iter::to_dtype;
use ft_runtime::{DType, Error, Result, Tensor};

const OP: &str = "aten::_ctc_loss";
const OP_BACKWARD: &str = "aten::_ctc_loss_backward";

/// `log(exp(a) + exp(b) + exp(c))` with PyTorch's guard for all `-inf`.
fn log_sum3(a: f64, b: f64, c: f64) -> f64 {
    let mut m = a.max(b).max(c);
    if m == f64::NEG_INFINITY {
        m = 0.0;
    }
    ((a - m).exp() + (b - m).exp() + (c - m).exp()).ln() + m
}

/// `log(exp(a) + exp(b))`.
fn log_add(a: f64, b: f64) -> f64 {
    log_sum3(a, b, f64::NEG_INFINITY)
}

/// The validated shape of a CTC call and each sample's target labels.
struct Ctc {
    t_max: usize,
    n: usize,
    c: usize,
    input_lengths: Vec<usize>,
    targets: Vec<Vec<usize>>,
    max_target: usize,
}

impl Ctc {
    /// The label at position `s` of sample `b`'s extended target.
    fn label(&self, b: usize, s: usize, blank: usize) -> usize {
        if s.is_multiple_of(2) {
            blank
        } else {
            self.targets[b][s / 2]
        }
    }

    /// Width of the log-alpha table: `2 * max target length + 1`.
    fn width(&self) -> usize {
        2 * self.max_target + 1
    }
}

fn lengths(op: &str, what: &str, v: &[i64], n: usize) -> Result<Vec<usize>> {
    if v.len() != n {
        return Err(Error::shape(op, format!("{what} must be of size batch_size")));
    }
    v.iter()
        .map(|&l| usize::try_from(l).map_err(|_| Error::invalid(op, format!("{what} must be non-negative, got {l}"))))
        .collect()
}

/// Checks every argument as PyTorch's CPU kernel does and reads the targets.
fn geometry(
    op: &str,
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &[i64],
    target_lengths: &[i64],
    blank: i64,
) -> Result<Ctc> {
    if !matches!(log_probs.dtype(), DType::F32 | DType::F64) {
        return Err(Error::dtype(
            op,
            format!(
                "\"ctc_loss_cpu\" not implemented for '{}'",
                log_probs.dtype().scalar_type_name()
            ),
        ));
    }
    if log_probs.dim() != 3 {
        return Err(Error::shape(
            op,
            format!("Expected 3-dimensional tensor, but got {}-dimensional tensor for argument #1 'log_probs' (while checking arguments for ctc_loss_cpu)", log_probs.dim()),
        ));
    }
    let (t_max, n, c) = (log_probs.sizes()[0], log_probs.sizes()[1], log_probs.sizes()[2]);
    if blank < 0 || blank as usize >= c {
        return Err(Error::invalid(op, "blank must be in label range"));
    }
    let input_lengths = lengths(op, "input_lengths", input_lengths, n)?;
    let tl = lengths(op, "target_lengths", target_lengths, n)?;
    let tg: Vec<i64> = match targets.dtype() {
        DType::I64 => targets.to_vec::<i64>()?,
        DType::I32 => targets.to_vec::<i32>()?.into_iter().map(i64::from).collect(),
        d => {
            return Err(Error::dtype(
                op,
                format!("Expected targets to be Long or Int, but got {}", d.scalar_type_name()),
            ))
        }
    };
    let rows = split_targets(op, targets, &tg, &tl)?;
    for &il in &input_lengths {
        if il > t_max {
            return Err(Error::shape(
                op,
                format!("Expected input_lengths to have value at most {t_max}, but got value {il} (while checking arguments for ctc_loss_cpu)"),
            ));
        }
    }
    let targets = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|l| {
                    if l < 0 || l as usize >= c {
                        Err(Error::index(
                            op,
                            format!("target label {l} is out of range for {c} classes"),
                        ))
                    } else {
                        Ok(l as usize)
                    }
                })
                .collect::<Result<Vec<usize>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let max_target = tl.iter().copied().max().unwrap_or(0);
    Ok(Ctc {
        t_max,
        n,
        c,
        input_lengths,
        targets,
        max_target,
    })
}

/// Each sample's labels from padded (`[N, S]`) or concatenated (1-D) targets.
fn split_targets(op: &str, targets: &Tensor, tg: &[i64], tl: &[usize]) -> Result<Vec<Vec<i64>>> {
    if targets.dim() == 1 {
        let total: usize = tl.iter().sum();
        if tg.len() < total {
            return Err(Error::shape(
                op,
                format!("Expected tensor to have size at least {total} at dimension 0, but got size {} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)", tg.len()),
            ));
        }
        let mut start = 0;
        return Ok(tl
            .iter()
            .map(|&l| {
                let row = tg[start..start + l].to_vec();
                start += l;
                row
            })
            .collect());
    }
    if targets.dim() != 2 || targets.sizes()[0] != tl.len() {
        return Err(Error::shape(
            op,
            format!(
                "Expected targets of shape [batch_size, max_target_length] or 1-D, got {}",
                fmt(targets.sizes())
            ),
        ));
    }
    let s = targets.sizes()[1];
    let max = tl.iter().copied().max().unwrap_or(0);
    if max > s {
        return Err(Error::shape(
            op,
            format!("Expected tensor to have size at least {max} at dimension 1, but got size {s} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)"),
        ));
    }
    Ok(tl
        .iter()
        .enumerate()
        .map(|(b, &l)| tg[b * s..b * s + l].to_vec())
        .collect())
}

/// The log-alpha table of sample `b` (`[T, width]`, `-inf` outside the
/// recursion) and its negative log likelihood.
fn alpha(g: &Ctc, lp: &[f64], b: usize, blank: usize) -> (Vec<f64>, f64) {
    let w = g.width();
    let mut a = vec![f64::NEG_INFINITY; g.t_max * w];
    let (il, l) = (g.input_lengths[b], g.targets[b].len());
    let at = |t: usize, c: usize| lp[(t * g.n + b) * g.c + c];
    if il == 0 {
        return (a, if l == 0 { 0.0 } else { f64::INFINITY });
    }
    a[0] = at(0, blank);
    if l > 0 {
        a[1] = at(0, g.label(b, 1, blank));
    }
    for t in 1..il {
        for s in 0..=2 * l {
            let cur = g.label(b, s, blank);
            let a1 = a[(t - 1) * w + s];
            let a2 = if s > 0 {
                a[(t - 1) * w + s - 1]
            } else {
                f64::NEG_INFINITY
            };
            let a3 = if s > 1 && s % 2 == 1 && g.label(b, s - 2, blank) != cur {
                a[(t - 1) * w + s - 2]
            } else {
                f64::NEG_INFINITY
            };
            a[t * w + s] = log_sum3(a1, a2, a3) + at(t, cur);
        }
    }
    let last = (il - 1) * w;
    let ll = if l > 0 {
        log_add(a[last + 2 * l], a[last + 2 * l - 1])
    } else {
        a[last]
    };
    (a, -ll)
}

/// `aten::_ctc_loss`: per-sample negative log likelihoods `[N]` and the
/// log-alpha table `[N, T, 2 * max_target_length + 1]` (`-inf` outside the
/// recursion; PyTorch leaves those entries uninitialized); an impossible
/// alignment gives `inf`. `zero_infinity` only affects the backward, as in
/// PyTorch (`ctc_loss` zeroes infinite losses itself).
///
/// ```
/// use ft_runtime::Tensor;
/// // one step, two classes with probability 1/2 each, target [1]
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let (nll, _) = ft_kernels::nn::ctc::_ctc_loss(&lp, &tg, &[1], &[1], 0, false).unwrap();
/// assert!((nll.to_vec::<f64>().unwrap()[0] - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn _ctc_loss(
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &[i64],
    target_lengths: &[i64],
    blank: i64,
    zero_infinity: bool,
) -> Result<(Tensor, Tensor)> {
    let _ = zero_infinity;
    if log_probs.numel() == 0 {
        return Err(Error::invalid(OP, "log_probs tensor must not be empty"));
    }
    let g = geometry(OP, log_probs, targets, input_lengths, target_lengths, blank)?;
    let lp = log_probs.to_f64_vec();
    let mut nll = Vec::with_capacity(g.n);
    let mut table = Vec::with_capacity(g.n * g.t_max * g.width());
    for b in 0..g.n {
        let (a, v) = alpha(&g, &lp, b, blank as usize);
        nll.push(v);
        table.extend(a);
    }
    let dtype = log_probs.dtype();
    Ok((
        to_dtype(&Tensor::from_vec(nll, &[g.n])?, dtype)?,
        to_dtype(&Tensor::from_vec(table, &[g.n, g.t_max, g.width()])?, dtype)?,
    ))
}

/// The gradient of sample `b`'s loss with respect to its log-probabilities,
/// times `scale`, written into `out` (`[T, N, C]` row-major).
#[allow(clippy::too_many_arguments)]
fn sample_grad(g: &Ctc, lp: &[f64], a: &[f64], nll: f64, b: usize, blank: usize, scale: f64, out: &mut [f64]) {
    let w = g.width();
    let (il, l) = (g.input_lengths[b], g.targets[b].len());
    let at = |t: usize, c: usize| lp[(t * g.n + b) * g.c + c];
    if il == 0 {
        return;
    }
    let mut beta = vec![f64::NEG_INFINITY; g.t_max * w];
    let mut acc = vec![f64::NEG_INFINITY; il * g.c];
    let last = il - 1;
    beta[last * w + 2 * l] = at(last, blank);
    if l > 0 {
        beta[last * w + 2 * l - 1] = at(last, g.label(b, 2 * l - 1, blank));
    }
    for s in 0..=2 * l {
        let cur = g.label(b, s, blank);
        acc[last * g.c + cur] = log_add(acc[last * g.c + cur], a[last * w + s] + beta[last * w + s]);
    }
    for t in (0..last).rev() {
        for s in (0..=2 * l).rev() {
            let cur = g.label(b, s, blank);
            let b1 = beta[(t + 1) * w + s];
            let b2 = if s < 2 * l {
                beta[(t + 1) * w + s + 1]
            } else {
                f64::NEG_INFINITY
            };
            let b3 = if s % 2 == 1 && s + 2 < 2 * l + 1 && g.label(b, s + 2, blank) != cur {
                beta[(t + 1) * w + s + 2]
            } else {
                f64::NEG_INFINITY
            };
            beta[t * w + s] = log_sum3(b1, b2, b3) + at(t, cur);
            acc[t * g.c + cur] = log_add(acc[t * g.c + cur], a[t * w + s] + beta[t * w + s]);
        }
    }
    for t in 0..il {
        for c in 0..g.c {
            let p = at(t, c);
            out[(t * g.n + b) * g.c + c] = (p.exp() - (acc[t * g.c + c] + nll - p).exp()) * scale;
        }
    }
}

/// `aten::_ctc_loss_backward`: the gradient of `_ctc_loss`'s per-sample
/// losses (weighted by `grad`, `[N]`) with respect to `log_probs`, from the
/// forward's `neg_log_likelihood` and `log_alpha`; zero past each input
/// length and (with `zero_infinity`) for impossible alignments, which
/// otherwise give NaN as in PyTorch.
///
/// ```
/// use ft_runtime::Tensor;
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let (nll, la) = ft_kernels::nn::ctc::_ctc_loss(&lp, &tg, &[1], &[1], 0, false).unwrap();
/// let one = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let g = ft_kernels::nn::ctc::_ctc_loss_backward(&one, &lp, &tg, &[1], &[1], &nll, &la, 0, false).unwrap();
/// let v = g.to_vec::<f64>().unwrap();
/// assert!((v[0] - 0.5).abs() < 1e-12 && (v[1] + 0.5).abs() < 1e-12);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn _ctc_loss_backward(
    grad: &Tensor,
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &[i64],
    target_lengths: &[i64],
    neg_log_likelihood: &Tensor,
    log_alpha: &Tensor,
    blank: i64,
    zero_infinity: bool,
) -> Result<Tensor> {
    let g = geometry(OP_BACKWARD, log_probs, targets, input_lengths, target_lengths, blank)?;
    if neg_log_likelihood.numel() != g.n || log_alpha.sizes() != [g.n, g.t_max, g.width()] {
        return Err(Error::shape(
            OP_BACKWARD,
            format!(
                "neg_log_likelihood must have {} elements and log_alpha shape {}, got {} and {}",
                g.n,
                fmt(&[g.n, g.t_max, g.width()]),
                fmt(neg_log_likelihood.sizes()),
                fmt(log_alpha.sizes())
            ),
        ));
    }
    let scales = grad.to_f64_vec();
    if scales.len() != g.n && scales.len() != 1 {
        return Err(Error::shape(
            OP_BACKWARD,
            format!("grad must have {} elements, got {}", g.n, fmt(grad.sizes())),
        ));
    }
    let (lp, nll, table) = (
        log_probs.to_f64_vec(),
        neg_log_likelihood.to_f64_vec(),
        log_alpha.to_f64_vec(),
    );
    let mut out = vec![0.0; g.t_max * g.n * g.c];
    let per = g.t_max * g.width();
    for b in 0..g.n {
        if zero_infinity && nll[b] == f64::INFINITY {
            continue;
        }
        let scale = scales[if scales.len() == 1 { 0 } else { b }];
        sample_grad(
            &g,
            &lp,
            &table[b * per..(b + 1) * per],
            nll[b],
            b,
            blank as usize,
            scale,
            &mut out,
        );
    }
    to_dtype(&Tensor::from_vec(out, &[g.t_max, g.n, g.c])?, log_probs.dtype())
}
