//! Normalization: `native_layer_norm`, `native_group_norm`, and batch norm
//! (`_native_batch_norm_legit*`), with their backward kernels.
//!
//! All three normalize *groups* of elements: a group is a set of `rows`
//! contiguous runs of `len` elements (layer norm: one run per row; group
//! norm: the runs of one sample's channels in a group; batch norm: one run
//! per sample and channel, strided over the batch). Statistics are biased
//! (divide by the group size) and computed in the op-math type; each element
//! gets the affine parameters of its channel.

use super::{fmt, read_vec, tensor_of, Real};
use crate::iter::{dispatch_float, OpMath};
use ft_runtime::{DType, Error, Result, Tensor};

/// Where the elements of one normalization group live in a contiguous buffer.
#[derive(Clone, Copy)]
struct Group {
    /// Offset of the first run.
    start: usize,
    /// Number of runs.
    runs: usize,
    /// Distance between consecutive runs.
    step: usize,
    /// Elements per run.
    len: usize,
}

impl Group {
    fn count(&self) -> usize {
        self.runs * self.len
    }
    /// Calls `f(run_index, offset)` for every run.
    fn for_runs(&self, mut f: impl FnMut(usize, usize)) {
        for r in 0..self.runs {
            f(r, self.start + r * self.step);
        }
    }
}

/// How groups, channels and the affine parameters map onto a buffer.
trait Layout {
    fn groups(&self) -> usize;
    fn group(&self, g: usize) -> Group;
    /// The parameter (weight/bias) index of element `j` of run `r` of group `g`.
    fn param(&self, g: usize, r: usize, j: usize) -> usize;
    /// Number of parameters.
    fn params(&self) -> usize;
}

/// Layer norm: `m` rows of `n` elements, one parameter per row position.
struct RowLayout {
    m: usize,
    n: usize,
}

impl Layout for RowLayout {
    fn groups(&self) -> usize {
        self.m
    }
    fn group(&self, g: usize) -> Group {
        Group {
            start: g * self.n,
            runs: 1,
            step: 0,
            len: self.n,
        }
    }
    fn param(&self, _: usize, _: usize, j: usize) -> usize {
        j
    }
    fn params(&self) -> usize {
        self.n
    }
}

/// Group norm: `n` samples of `c` channels of `hw` elements in `g` groups.
struct GroupLayout {
    n: usize,
    c: usize,
    hw: usize,
    g: usize,
}

impl Layout for GroupLayout {
    fn groups(&self) -> usize {
        self.n * self.g
    }
    fn group(&self, i: usize) -> Group {
        let cg = self.c / self.g;
        Group {
            start: i * cg * self.hw,
            runs: 1,
            step: 0,
            len: cg * self.hw,
        }
    }
    fn param(&self, i: usize, _: usize, j: usize) -> usize {
        (i % self.g) * (self.c / self.g) + j / self.hw
    }
    fn params(&self) -> usize {
        self.c
    }
}

/// Batch norm: `n` samples of `c` channels of `hw` elements; group = channel.
struct ChannelLayout {
    n: usize,
    c: usize,
    hw: usize,
}

impl Layout for ChannelLayout {
    fn groups(&self) -> usize {
        self.c
    }
    fn group(&self, ch: usize) -> Group {
        Group {
            start: ch * self.hw,
            runs: self.n,
            step: self.c * self.hw,
            len: self.hw,
        }
    }
    fn param(&self, ch: usize, _: usize, _: usize) -> usize {
        ch
    }
    fn params(&self) -> usize {
        self.c
    }
}

/// Biased mean and variance of one group, in two passes.
fn moments<A: Real>(x: &[A], grp: Group) -> (A, A) {
    let cnt = A::of_usize(grp.count().max(1));
    let mut sum = A::ZERO;
    grp.for_runs(|_, o| x[o..o + grp.len].iter().for_each(|&v| sum += v));
    let mean = sum / cnt;
    let mut sq = A::ZERO;
    grp.for_runs(|_, o| {
        x[o..o + grp.len].iter().for_each(|&v| {
            let d = v - mean;
            sq += d * d;
        })
    });
    (mean, sq / cnt)
}

/// `1 / sqrt(var + eps)`.
fn inv_std<A: Real>(var: A, eps: f64) -> A {
    let v = if var < A::ZERO { A::ZERO } else { var };
    A::of(1.0 / (v.to_f64() + eps).sqrt())
}

/// Per-group statistics to normalize with: computed from the data, or given.
enum Stats<A> {
    /// Compute biased mean/variance per group.
    Batch { eps: f64 },
    /// Use these (mean, inverse std) per group.
    Given(Vec<(A, A)>),
}

/// Normalizes every group and applies the affine parameters; returns the
/// output and the (mean, inverse std) used per group.
fn normalize<A: Real, L: Layout>(
    x: &[A],
    lay: &L,
    w: Option<&[A]>,
    b: Option<&[A]>,
    stats: Stats<A>,
) -> (Vec<A>, Vec<(A, A)>) {
    let mut y = vec![A::ZERO; x.len()];
    let used: Vec<(A, A)> = match stats {
        Stats::Batch { eps } => (0..lay.groups())
            .map(|g| {
                let (m, v) = moments(x, lay.group(g));
                (m, inv_std(v, eps))
            })
            .collect(),
        Stats::Given(s) => s,
    };
    for (g, &(mean, rstd)) in used.iter().enumerate() {
        let grp = lay.group(g);
        grp.for_runs(|r, o| {
            for j in 0..grp.len {
                let p = lay.param(g, r, j);
                let mut v = (x[o + j] - mean) * rstd;
                if let Some(w) = w {
                    v = v * w[p];
                }
                if let Some(b) = b {
                    v += b[p];
                }
                y[o + j] = v;
            }
        });
    }
    (y, used)
}

/// Gradients of [`normalize`] with respect to (input, weight, bias).
/// `batch_stats` says whether the statistics depended on the input.
fn normalize_backward<A: Real, L: Layout>(
    dy: &[A],
    x: &[A],
    lay: &L,
    w: Option<&[A]>,
    stats: &[(A, A)],
    batch_stats: bool,
) -> (Vec<A>, Vec<A>, Vec<A>) {
    let mut dx = vec![A::ZERO; x.len()];
    let (mut dw, mut db) = (vec![A::ZERO; lay.params()], vec![A::ZERO; lay.params()]);
    for (g, &(mean, rstd)) in stats.iter().enumerate() {
        let grp = lay.group(g);
        let (mut s1, mut s2) = (A::ZERO, A::ZERO);
        grp.for_runs(|r, o| {
            for j in 0..grp.len {
                let p = lay.param(g, r, j);
                let xhat = (x[o + j] - mean) * rstd;
                let d = dy[o + j];
                dw[p] += d * xhat;
                db[p] += d;
                let dxhat = w.map_or(d, |w| d * w[p]);
                s1 += dxhat;
                s2 += dxhat * xhat;
            }
        });
        let cnt = A::of_usize(grp.count().max(1));
        let (m1, m2) = (s1 / cnt, s2 / cnt);
        grp.for_runs(|r, o| {
            for j in 0..grp.len {
                let p = lay.param(g, r, j);
                let xhat = (x[o + j] - mean) * rstd;
                let dxhat = w.map_or(dy[o + j], |w| dy[o + j] * w[p]);
                dx[o + j] = if batch_stats {
                    rstd * (dxhat - m1 - xhat * m2)
                } else {
                    rstd * dxhat
                };
            }
        });
    }
    (dx, dw, db)
}

/// Reads a tensor into the op-math type of its element type `T`.
fn widen_vec<T: OpMath>(t: &Tensor) -> Result<Vec<T::Acc>> {
    Ok(read_vec::<T>(t)?.into_iter().map(T::widen).collect())
}

/// A tensor of `T` rounded from op-math values.
fn narrow_tensor<T: OpMath>(v: Vec<T::Acc>, sizes: &[usize]) -> Result<Tensor> {
    tensor_of(v.into_iter().map(T::narrow).collect::<Vec<T>>(), sizes)
}

/// Checks an optional parameter's dtype and shape.
fn check_param(
    op: &str,
    what: &str,
    p: Option<&Tensor>,
    dtype: DType,
    sizes: &[usize],
    msg: impl Fn(&Tensor) -> String,
) -> Result<()> {
    if let Some(p) = p {
        if p.dtype() != dtype {
            return Err(Error::dtype(
                op,
                format!(
                    "expected {what} to have scalar type {} but got {}",
                    dtype.scalar_type_name(),
                    p.dtype().scalar_type_name()
                ),
            ));
        }
        if p.sizes() != sizes {
            return Err(Error::shape(op, msg(p)));
        }
    }
    Ok(())
}

fn float_only(op: &str, dtype: DType) -> Result<()> {
    if dtype.is_floating_point() {
        Ok(())
    } else {
        Err(super::not_implemented(op, op.trim_start_matches("aten::"), dtype))
    }
}

/// The empty tensor returned for an unrequested gradient.
fn empty(dtype: DType) -> Tensor {
    Tensor::zeros_contiguous(&[0], dtype)
}

// ---------------------------------------------------------------------------
// Layer norm
// ---------------------------------------------------------------------------

/// Checks layer norm arguments; returns (rows, row length, stats shape).
fn layer_geometry(op: &str, input: &Tensor, normalized_shape: &[i64]) -> Result<(usize, usize, Vec<usize>)> {
    if normalized_shape.is_empty() {
        return Err(Error::invalid(
            op,
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []",
        ));
    }
    let is = input.sizes();
    let k = normalized_shape.len();
    let fits = is.len() >= k
        && is[is.len() - k..]
            .iter()
            .zip(normalized_shape)
            .all(|(&a, &b)| a as i64 == b);
    if !fits {
        return Err(Error::shape(
            op,
            format!(
                "Given normalized_shape={normalized_shape:?}, expected input with shape [*, {}], but got input of size{}",
                normalized_shape.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
                fmt(is)
            ),
        ));
    }
    let axis = is.len() - k;
    let m: usize = is[..axis].iter().product();
    let n: usize = is[axis..].iter().product();
    let mut stat = is[..axis].to_vec();
    stat.extend(std::iter::repeat_n(1, k));
    Ok((m, n, stat))
}

/// `aten::native_layer_norm`: normalizes each slice over the trailing
/// `normalized_shape` dims to zero mean and unit (biased) variance, then
/// scales by `weight` and shifts by `bias`. Returns (output, mean, rstd),
/// the statistics shaped like the input with the normalized dims set to 1.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]).unwrap();
/// let (y, mean, rstd) = ft_kernels::nn::norm::native_layer_norm(&x, &[2], None, None, 0.0).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// assert_eq!((mean.to_vec::<f64>().unwrap(), rstd.to_vec::<f64>().unwrap()), (vec![2.0], vec![1.0]));
/// ```
pub fn native_layer_norm(
    input: &Tensor,
    normalized_shape: &[i64],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::native_layer_norm";
    let (m, n, stat) = layer_geometry(OP, input, normalized_shape)?;
    let ns: Vec<usize> = normalized_shape.iter().map(|&v| v as usize).collect();
    for (what, p) in [("weight", weight), ("bias", bias)] {
        check_param(OP, what, p, input.dtype(), &ns, |p| {
            format!(
                "Expected {what} to be of same shape as normalized_shape, but got {what} of shape {} and normalized_shape = {normalized_shape:?}",
                fmt(p.sizes())
            )
        })?;
    }
    float_only(OP, input.dtype())?;
    dispatch_float!(input.dtype(), T => {
        let x = widen_vec::<T>(input)?;
        let w = weight.map(widen_vec::<T>).transpose()?;
        let b = bias.map(widen_vec::<T>).transpose()?;
        let (y, used) = normalize(&x, &RowLayout { m, n }, w.as_deref(), b.as_deref(), Stats::Batch { eps });
        let (mean, rstd): (Vec<_>, Vec<_>) = used.into_iter().unzip();
        Ok((narrow_tensor::<T>(y, input.sizes())?, narrow_tensor::<T>(mean, &stat)?, narrow_tensor::<T>(rstd, &stat)?))
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

/// `aten::native_layer_norm_backward`: gradients of `native_layer_norm` with
/// respect to (input, weight, bias) from the saved `mean` and `rstd`, each
/// when its `output_mask` entry is set (otherwise an empty tensor).
#[allow(clippy::too_many_arguments)]
pub fn native_layer_norm_backward(
    grad_out: &Tensor,
    input: &Tensor,
    normalized_shape: &[i64],
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::native_layer_norm_backward";
    let _ = bias;
    let (m, n, _) = layer_geometry(OP, input, normalized_shape)?;
    check_same(OP, grad_out, input)?;
    check_stats(OP, &[mean, rstd], m, input.dtype())?;
    float_only(OP, input.dtype())?;
    let ns: Vec<usize> = normalized_shape.iter().map(|&v| v as usize).collect();
    dispatch_float!(input.dtype(), T => {
        let stats: Vec<_> = widen_vec::<T>(mean)?.into_iter().zip(widen_vec::<T>(rstd)?).collect();
        let w = weight.map(widen_vec::<T>).transpose()?;
        let (dx, dw, db) = normalize_backward(&widen_vec::<T>(grad_out)?, &widen_vec::<T>(input)?, &RowLayout { m, n }, w.as_deref(), &stats, true);
        masked::<T>(output_mask, input.dtype(), [(dx, input.sizes()), (dw, &ns), (db, &ns)])
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

/// Builds the three gradient tensors, empty where the mask is not set.
fn masked<T: OpMath>(
    mask: &[bool],
    dtype: DType,
    parts: [(Vec<T::Acc>, &[usize]); 3],
) -> Result<(Tensor, Tensor, Tensor)> {
    let [a, b, c] = parts;
    let one = |on: bool, (v, s): (Vec<T::Acc>, &[usize])| if on { narrow_tensor::<T>(v, s) } else { Ok(empty(dtype)) };
    Ok((
        one(mask.first().copied().unwrap_or(true), a)?,
        one(mask.get(1).copied().unwrap_or(true), b)?,
        one(mask.get(2).copied().unwrap_or(true), c)?,
    ))
}

/// Checks that `grad` matches `input` in shape and dtype.
fn check_same(op: &str, grad: &Tensor, input: &Tensor) -> Result<()> {
    if grad.sizes() != input.sizes() {
        return Err(Error::shape(
            op,
            format!(
                "grad_out has shape {} but input has shape {}",
                fmt(grad.sizes()),
                fmt(input.sizes())
            ),
        ));
    }
    if grad.dtype() != input.dtype() {
        return Err(Error::dtype(
            op,
            format!("grad_out has dtype {} but input has {}", grad.dtype(), input.dtype()),
        ));
    }
    Ok(())
}

/// Checks saved statistics: `count` elements each, of `dtype`.
fn check_stats(op: &str, stats: &[&Tensor], count: usize, dtype: DType) -> Result<()> {
    for s in stats {
        if s.numel() != count || s.dtype() != dtype {
            return Err(Error::shape(
                op,
                format!(
                    "expected saved statistics of {count} {dtype} elements, got shape {} ({})",
                    fmt(s.sizes()),
                    s.dtype()
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Group norm
// ---------------------------------------------------------------------------

fn group_layout(op: &str, input: &Tensor, n: i64, c: i64, hxw: i64, group: i64) -> Result<GroupLayout> {
    if n < 0
        || c < 0
        || hxw < 0
        || (n as usize).saturating_mul(c as usize).saturating_mul(hxw as usize) != input.numel()
    {
        return Err(Error::shape(
            op,
            format!(
                "Expected X.numel() == N * C * HxW, but got {} and N={n}, C={c}, HxW={hxw}",
                input.numel()
            ),
        ));
    }
    if group <= 0 || c % group != 0 {
        return Err(Error::invalid(
            op,
            format!(
                "Expected number of channels in input to be divisible by num_groups, but got input of shape {} and num_groups={group}",
                fmt(input.sizes())
            ),
        ));
    }
    Ok(GroupLayout {
        n: n as usize,
        c: c as usize,
        hw: hxw as usize,
        g: group as usize,
    })
}

/// `aten::native_group_norm`: normalizes each group of `C / group` channels
/// of each sample (`N` samples of `C` channels of `HxW` elements), then
/// applies per-channel `weight` and `bias`. Returns (output, mean, rstd)
/// with statistics of shape `[N, group]`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 4.0, 6.0], &[1, 2, 2]).unwrap();
/// let (y, _, _) = ft_kernels::nn::norm::native_group_norm(&x, None, None, 1, 2, 2, 2, 0.0).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn native_group_norm(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    n: i64,
    c: i64,
    hxw: i64,
    group: i64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::native_group_norm";
    let lay = group_layout(OP, input, n, c, hxw, group)?;
    for (what, p) in [("weight", weight), ("bias", bias)] {
        check_param(OP, what, p, input.dtype(), &[lay.c], |p| {
            format!(
                "Expected {what} to be a vector of size equal to the number of channels in input, but got {what} of shape {} and input of shape {}",
                fmt(p.sizes()),
                fmt(input.sizes())
            )
        })?;
    }
    float_only(OP, input.dtype())?;
    dispatch_float!(input.dtype(), T => {
        let x = widen_vec::<T>(input)?;
        let w = weight.map(widen_vec::<T>).transpose()?;
        let b = bias.map(widen_vec::<T>).transpose()?;
        let (y, used) = normalize(&x, &lay, w.as_deref(), b.as_deref(), Stats::Batch { eps });
        let (mean, rstd): (Vec<_>, Vec<_>) = used.into_iter().unzip();
        let stat = [lay.n, lay.g];
        Ok((narrow_tensor::<T>(y, input.sizes())?, narrow_tensor::<T>(mean, &stat)?, narrow_tensor::<T>(rstd, &stat)?))
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

/// `aten::native_group_norm_backward`: gradients of `native_group_norm` with
/// respect to (input, weight, bias) from the saved `mean` and `rstd`.
#[allow(clippy::too_many_arguments)]
pub fn native_group_norm_backward(
    grad_out: &Tensor,
    input: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    n: i64,
    c: i64,
    hxw: i64,
    group: i64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::native_group_norm_backward";
    let lay = group_layout(OP, input, n, c, hxw, group)?;
    check_same(OP, grad_out, input)?;
    check_stats(OP, &[mean, rstd], lay.n * lay.g, input.dtype())?;
    float_only(OP, input.dtype())?;
    dispatch_float!(input.dtype(), T => {
        let stats: Vec<_> = widen_vec::<T>(mean)?.into_iter().zip(widen_vec::<T>(rstd)?).collect();
        let w = weight.map(widen_vec::<T>).transpose()?;
        let (dx, dw, db) = normalize_backward(&widen_vec::<T>(grad_out)?, &widen_vec::<T>(input)?, &lay, w.as_deref(), &stats, true);
        masked::<T>(output_mask, input.dtype(), [(dx, input.sizes()), (dw, &[lay.c]), (db, &[lay.c])])
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

/// The part of `native_group_norm`'s input gradient that flows through its
/// `mean` and `rstd` results, given their upstream gradients `dmean` and
/// `drstd` (`[N, group]`): `dmean / M - drstd * rstd^3 * (x - mean) / M` for
/// a group of M elements.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_stats_backward(
    dmean: &Tensor,
    drstd: &Tensor,
    input: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    n: i64,
    c: i64,
    hxw: i64,
    group: i64,
) -> Result<Tensor> {
    const OP: &str = "aten::native_group_norm_backward";
    let lay = group_layout(OP, input, n, c, hxw, group)?;
    check_stats(OP, &[mean, rstd, dmean, drstd], lay.n * lay.g, input.dtype())?;
    float_only(OP, input.dtype())?;
    dispatch_float!(input.dtype(), T => {
        let x = widen_vec::<T>(input)?;
        let (m, r) = (widen_vec::<T>(mean)?, widen_vec::<T>(rstd)?);
        let (dm, dr) = (widen_vec::<T>(dmean)?, widen_vec::<T>(drstd)?);
        let mut dx = vec![<<T as OpMath>::Acc as Real>::ZERO; x.len()];
        for g in 0..lay.groups() {
            let grp = lay.group(g);
            let cnt = <<T as OpMath>::Acc as Real>::of_usize(grp.count().max(1));
            let k = dr[g] * r[g] * r[g] * r[g] / cnt;
            let base = dm[g] / cnt;
            grp.for_runs(|_, o| {
                for j in o..o + grp.len {
                    dx[j] = base - k * (x[j] - m[g]);
                }
            });
        }
        narrow_tensor::<T>(dx, input.sizes())
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

// ---------------------------------------------------------------------------
// Batch norm
// ---------------------------------------------------------------------------

fn channel_layout(op: &str, input: &Tensor) -> Result<ChannelLayout> {
    let s = input.sizes();
    if s.len() < 2 {
        return Err(Error::dim_out_of_range(op, 1, s.len()));
    }
    Ok(ChannelLayout {
        n: s[0],
        c: s[1],
        hw: s[2..].iter().product(),
    })
}

/// One channel's (mean, biased variance), before rounding to the dtype.
type Moments = (f64, f64);

/// Batch norm forward with batch statistics (`training`) or the given
/// running statistics; returns (output, save_mean, save_invstd) and, in
/// training, each channel's (mean, biased variance) before rounding.
#[allow(clippy::too_many_arguments)]
fn batch_norm_forward(
    op: &str,
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running: Option<(&Tensor, &Tensor)>,
    training: bool,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor, Vec<Moments>)> {
    let lay = channel_layout(op, input)?;
    for (what, p) in [("weight", weight), ("bias", bias)] {
        check_param(op, what, p, input.dtype(), &[lay.c], |p| {
            format!(
                "Expected {what} to have {} elements, but got shape {}",
                lay.c,
                fmt(p.sizes())
            )
        })?;
    }
    if let Some((rm, rv)) = running {
        for (what, t) in [("running_mean", rm), ("running_var", rv)] {
            if t.sizes() != [lay.c] {
                return Err(Error::shape(
                    op,
                    format!(
                        "Expected {what} to have {} elements, but got shape {}",
                        lay.c,
                        fmt(t.sizes())
                    ),
                ));
            }
        }
    }
    if training && input.numel() == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "input tensor must have at least one element, but got input_sizes = {}",
                fmt(input.sizes())
            ),
        ));
    }
    float_only(op, input.dtype())?;
    let dtype = input.dtype();
    dispatch_float!(dtype, T => {
        let x = widen_vec::<T>(input)?;
        let w = weight.map(widen_vec::<T>).transpose()?;
        let b = bias.map(widen_vec::<T>).transpose()?;
        if training {
            let moms: Vec<Moments> = (0..lay.c).map(|ch| {
                let (m, v) = moments(&x, lay.group(ch));
                (m.to_f64(), v.to_f64())
            }).collect();
            let (y, used) = normalize(&x, &lay, w.as_deref(), b.as_deref(), Stats::Batch { eps });
            let (mean, invstd): (Vec<_>, Vec<_>) = used.into_iter().unzip();
            Ok((narrow_tensor::<T>(y, input.sizes())?, narrow_tensor::<T>(mean, &[lay.c])?, narrow_tensor::<T>(invstd, &[lay.c])?, moms))
        } else {
            let (rm, rv) = running.ok_or_else(|| Error::invalid(op, "running_mean must be defined in evaluation mode"))?;
            let given: Vec<_> = running_stats::<T>(rm, rv, eps)?;
            let (y, _) = normalize(&x, &lay, w.as_deref(), b.as_deref(), Stats::Given(given));
            Ok((narrow_tensor::<T>(y, input.sizes())?, empty(dtype), empty(dtype), Vec::new()))
        }
    }, _ => Err(super::not_implemented(op, "batch_norm", dtype)))
}

/// (mean, 1/sqrt(var + eps)) per channel from running statistics of any float dtype.
fn running_stats<T: OpMath>(rm: &Tensor, rv: &Tensor, eps: f64) -> Result<Vec<(T::Acc, T::Acc)>>
where
    T::Acc: Real,
{
    let (m, v) = (rm.to_f64_vec(), rv.to_f64_vec());
    Ok(m.into_iter()
        .zip(v)
        .map(|(m, v)| (<T::Acc as Real>::of(m), inv_std(<T::Acc as Real>::of(v), eps)))
        .collect())
}

/// `aten::_native_batch_norm_legit.no_stats`: batch norm without running
/// statistics. With `training`, each channel (dim 1) is normalized over the
/// batch and spatial dims; returns (output, save_mean, save_invstd).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[2, 1]).unwrap();
/// let (y, m, s) = ft_kernels::nn::norm::_native_batch_norm_legit_no_stats(&x, None, None, true, 0.1, 0.0).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// assert_eq!((m.to_vec::<f64>().unwrap(), s.to_vec::<f64>().unwrap()), (vec![2.0], vec![1.0]));
/// ```
pub fn _native_batch_norm_legit_no_stats(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::_native_batch_norm_legit.no_stats";
    let _ = momentum;
    if !training {
        return Err(Error::invalid(OP, "running_mean must be defined in evaluation mode"));
    }
    let (y, m, s, _) = batch_norm_forward(OP, input, weight, bias, None, true, eps)?;
    Ok((y, m, s))
}

/// `aten::_native_batch_norm_legit_no_training`: batch norm in evaluation
/// mode with the given running statistics; the saved statistics returned are
/// empty tensors, as in PyTorch.
pub fn _native_batch_norm_legit_no_training(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: &Tensor,
    running_var: &Tensor,
    momentum: f64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::_native_batch_norm_legit_no_training";
    let _ = momentum;
    let (y, m, s, _) = batch_norm_forward(OP, input, weight, bias, Some((running_mean, running_var)), false, eps)?;
    Ok((y, m, s))
}

/// `aten::_native_batch_norm_legit`: batch norm with running statistics.
/// With `training`, each channel (dim 1) is normalized with its batch
/// statistics and the running statistics are updated in place:
/// `running_mean = (1 - momentum) * running_mean + momentum * mean` and
/// `running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)`
/// (the unbiased batch variance over the `n` elements of a channel). Without
/// `training` it is [`_native_batch_norm_legit_no_training`]. Returns
/// (output, save_mean, save_invstd).
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[2, 1]).unwrap();
/// let (rm, rv) = (Tensor::from_vec(vec![0.0f64], &[1]).unwrap(), Tensor::from_vec(vec![1.0f64], &[1]).unwrap());
/// let (y, _, _) = ft_kernels::nn::norm::_native_batch_norm_legit(&x, None, None, &rm, &rv, true, 0.5, 0.0).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// assert_eq!((rm.to_vec::<f64>().unwrap(), rv.to_vec::<f64>().unwrap()), (vec![1.0], vec![1.5]));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn _native_batch_norm_legit(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: &Tensor,
    running_var: &Tensor,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::_native_batch_norm_legit";
    for (what, t) in [("running_mean", running_mean), ("running_var", running_var)] {
        if t.dtype() != input.dtype() {
            return Err(Error::dtype(
                OP,
                format!(
                    "expected {what} to have scalar type {} but got {} (mixed-dtype batch norm is not supported)",
                    input.dtype().scalar_type_name(),
                    t.dtype().scalar_type_name()
                ),
            ));
        }
    }
    let running = Some((running_mean, running_var));
    let (y, mean, invstd, moms) = batch_norm_forward(OP, input, weight, bias, running, training, eps)?;
    if training {
        let n = (input.numel() / input.sizes()[1].max(1)) as f64;
        let batch_mean: Vec<f64> = moms.iter().map(|m| m.0).collect();
        let unbiased: Vec<f64> = moms.iter().map(|m| m.1 * n / (n - 1.0)).collect();
        update_running(running_mean, &batch_mean, momentum)?;
        update_running(running_var, &unbiased, momentum)?;
    }
    Ok((y, mean, invstd))
}

/// `stat = (1 - momentum) * stat + momentum * batch`, written into `stat`.
fn update_running(stat: &Tensor, batch: &[f64], momentum: f64) -> Result<()> {
    let new: Vec<f64> = stat
        .to_f64_vec()
        .into_iter()
        .zip(batch)
        .map(|(r, b)| (1.0 - momentum) * r + momentum * b)
        .collect();
    crate::copy::copy_(stat, &Tensor::from_vec(new, stat.sizes())?, false)?;
    Ok(())
}

/// The gradients of batch norm with respect to (input, weight, bias): with
/// `training` from the saved batch statistics, otherwise from the running
/// statistics (which do not depend on the input).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    grad_out: &Tensor,
    input: &Tensor,
    weight: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    save_mean: Option<&Tensor>,
    save_invstd: Option<&Tensor>,
    training: bool,
    eps: f64,
    output_mask: &[bool],
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "aten::native_batch_norm_backward";
    let lay = channel_layout(OP, input)?;
    check_same(OP, grad_out, input)?;
    float_only(OP, input.dtype())?;
    dispatch_float!(input.dtype(), T => {
        let stats: Vec<_> = match (training, save_mean, save_invstd, running_mean, running_var) {
            (true, Some(m), Some(s), _, _) => {
                check_stats(OP, &[m, s], lay.c, input.dtype())?;
                widen_vec::<T>(m)?.into_iter().zip(widen_vec::<T>(s)?).collect()
            }
            (false, _, _, Some(rm), Some(rv)) => running_stats::<T>(rm, rv, eps)?,
            _ => return Err(Error::invalid(OP, "batch norm backward needs the saved (training) or running (evaluation) statistics")),
        };
        let w = weight.map(widen_vec::<T>).transpose()?;
        let (dx, dw, db) = normalize_backward(&widen_vec::<T>(grad_out)?, &widen_vec::<T>(input)?, &lay, w.as_deref(), &stats, training);
        masked::<T>(output_mask, input.dtype(), [(dx, input.sizes()), (dw, &[lay.c]), (db, &[lay.c])])
    }, _ => Err(super::not_implemented(OP, "norm", input.dtype())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s).unwrap()
    }

    #[test]
    fn layer_norm_backward_matches_finite_differences() {
        let x: Vec<f64> = (0..12).map(|i| ((i * 7) % 5) as f64 * 0.3 + i as f64 * 0.01).collect();
        let w: Vec<f64> = vec![0.5, -1.0, 2.0, 1.5];
        let dy: Vec<f64> = (0..12).map(|i| (i as f64 * 0.37).sin()).collect();
        let loss = |x: &[f64]| -> f64 {
            let (y, _, _) = native_layer_norm(&t(x, &[3, 4]), &[4], Some(&t(&w, &[4])), None, 1e-5).unwrap();
            y.to_vec::<f64>().unwrap().iter().zip(&dy).map(|(a, b)| a * b).sum()
        };
        let (_, mean, rstd) = native_layer_norm(&t(&x, &[3, 4]), &[4], Some(&t(&w, &[4])), None, 1e-5).unwrap();
        let (dx, dw, db) = native_layer_norm_backward(
            &t(&dy, &[3, 4]),
            &t(&x, &[3, 4]),
            &[4],
            &mean,
            &rstd,
            Some(&t(&w, &[4])),
            None,
            &[true, true, true],
        )
        .unwrap();
        let dx = dx.to_vec::<f64>().unwrap();
        for i in 0..12 {
            let (mut p, mut m) = (x.clone(), x.clone());
            p[i] += 1e-6;
            m[i] -= 1e-6;
            let num = (loss(&p) - loss(&m)) / 2e-6;
            assert!((num - dx[i]).abs() < 1e-5, "{i}: {num} vs {}", dx[i]);
        }
        assert_eq!(dw.sizes(), &[4]);
        let s: f64 = (0..3).map(|r| dy[r * 4 + 1]).sum();
        assert!((db.to_vec::<f64>().unwrap()[1] - s).abs() < 1e-12);
    }

    #[test]
    fn batch_norm_eval_uses_running_stats() {
        let x = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let (y, m, _) = _native_batch_norm_legit_no_training(
            &x,
            None,
            None,
            &t(&[1.0, 0.0], &[2]),
            &t(&[4.0, 1.0], &[2]),
            0.1,
            0.0,
        )
        .unwrap();
        assert_eq!(y.to_vec::<f64>().unwrap(), vec![0.0, 2.0, 1.0, 4.0]);
        assert_eq!(m.numel(), 0);
    }

    #[test]
    fn group_norm_errors() {
        let x = Tensor::zeros_contiguous(&[2, 4, 3], DType::F32);
        assert!(native_group_norm(&x, None, None, 2, 4, 3, 3, 1e-5).is_err());
        assert!(native_group_norm(&x, None, None, 2, 4, 4, 2, 1e-5).is_err());
        let w = Tensor::zeros_contiguous(&[3], DType::F32);
        assert!(native_group_norm(&x, Some(&w), None, 2, 4, 3, 2, 1e-5).is_err());
        let i = Tensor::zeros_contiguous(&[2, 4, 3], DType::I64);
        assert!(native_group_norm(&i, None, None, 2, 4, 3, 2, 1e-5).is_err());
    }
}
