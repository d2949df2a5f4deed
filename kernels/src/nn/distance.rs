//! Pairwise p-norm distances: `_cdist_forward` (between the rows of two
//! batched matrices), `_pdist_forward` (between the rows of one matrix) and
//! their backward ops.
//!
//! `p = 0` counts differing coordinates, `p = inf` takes the largest
//! difference, other `p` give `(sum |d|^p)^(1/p)`. For `p = 2` with more than
//! 25 rows on a side (or `compute_mode = 1`) the Euclidean distance is taken
//! from norms and dot products, `sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))`, as
//! PyTorch does.

use super::{fmt, read_vec, tensor_of, Real};
use ft_runtime::shape;
use ft_runtime::{DType, Element, Error, Result, Tensor};

/// Runs `$body` with `$T` bound to f32 or f64 (the dtypes distances support).
macro_rules! dispatch_real {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        match $dtype {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    }};
}

/// The p-norm of the difference of two rows.
fn distance<A: Real>(a: &[A], b: &[A], p: f64) -> A {
    let diffs = a.iter().zip(b).map(|(&x, &y)| {
        let d = x - y;
        if d < A::ZERO {
            A::ZERO - d
        } else {
            d
        }
    });
    if p == 0.0 {
        diffs.filter(|&d| d != A::ZERO).fold(A::ZERO, |s, _| s + A::of(1.0))
    } else if p == 1.0 {
        diffs.fold(A::ZERO, |s, d| s + d)
    } else if p == 2.0 {
        A::of(diffs.fold(A::ZERO, |s, d| s + d * d).to_f64().sqrt())
    } else if p.is_infinite() {
        diffs.fold(A::ZERO, |m, d| if d > m || d.nan() { d } else { m })
    } else {
        let s = diffs.fold(A::ZERO, |s, d| s + A::of(d.to_f64().powf(p)));
        A::of(s.to_f64().powf(1.0 / p))
    }
}

/// Euclidean distance from squared norms and a dot product.
fn euclid_mm<A: Real>(a: &[A], b: &[A]) -> A {
    let (mut na, mut nb, mut dot) = (A::ZERO, A::ZERO, A::ZERO);
    for (&x, &y) in a.iter().zip(b) {
        na += x * x;
        nb += y * y;
        dot += x * y;
    }
    let v = na + nb - A::of(2.0) * dot;
    A::of(if v < A::ZERO { 0.0 } else { v.to_f64().sqrt() })
}

/// d dist(a, b) / d a_k for one coordinate difference `d`, with PyTorch's
/// rules: 0 for p = 0; sign(d) for p = 1; for p = inf, sign(d) where |d| is
/// the distance; otherwise `sign(d) |d|^(p-1) / dist^(p-1)`, zero where the
/// distance is zero (and where d = 0 for p < 1).
fn partial<A: Real>(d: A, dist: A, p: f64) -> A {
    let sign = if d > A::ZERO {
        A::of(1.0)
    } else if d < A::ZERO {
        A::of(-1.0)
    } else {
        A::ZERO
    };
    let ad = d.to_f64().abs();
    if p == 0.0 {
        A::ZERO
    } else if p == 1.0 {
        sign
    } else if p.is_infinite() {
        if ad == dist.to_f64() {
            sign
        } else {
            A::ZERO
        }
    } else if dist == A::ZERO || (p < 1.0 && d == A::ZERO) {
        A::ZERO
    } else if p == 2.0 {
        d / dist
    } else {
        sign * A::of(ad.powf(p - 1.0) / dist.to_f64().powf(p - 1.0))
    }
}

fn check_p(op: &str, p: f64) -> Result<()> {
    if p < 0.0 || p.is_nan() {
        return Err(Error::invalid(op, "cdist only supports non-negative p values"));
    }
    Ok(())
}

fn check_float(op: &str, what: &str, t: &Tensor) -> Result<()> {
    if !matches!(t.dtype(), DType::F32 | DType::F64) {
        return Err(Error::dtype(
            op,
            format!(
                "cdist only supports floating-point dtypes, {what} got: {}",
                t.dtype().scalar_type_name()
            ),
        ));
    }
    Ok(())
}

/// Validated shapes of a cdist call: broadcast batch, rows of each side, columns.
struct Cdist {
    batch: Vec<usize>,
    r1: usize,
    r2: usize,
    m: usize,
}

fn cdist_geometry(op: &str, x1: &Tensor, x2: &Tensor) -> Result<Cdist> {
    for (what, t) in [("X1", x1), ("X2", x2)] {
        if t.dim() < 2 {
            return Err(Error::shape(
                op,
                format!("cdist only supports at least 2D tensors, {what} got: {}D", t.dim()),
            ));
        }
    }
    let (s1, s2) = (x1.sizes(), x2.sizes());
    let (m1, m2) = (s1[s1.len() - 1], s2[s2.len() - 1]);
    if m1 != m2 {
        return Err(Error::shape(
            op,
            format!("X1 and X2 must have the same number of columns. X1: {m1} X2: {m2}"),
        ));
    }
    let batch = shape::broadcast_shapes(op, &s1[..s1.len() - 2], &s2[..s2.len() - 2])?.to_vec();
    Ok(Cdist {
        batch,
        r1: s1[s1.len() - 2],
        r2: s2[s2.len() - 2],
        m: m1,
    })
}

/// `t` expanded to `batch + [rows, cols]` and read row-major.
fn expanded<T: Element>(op: &str, t: &Tensor, batch: &[usize]) -> Result<Vec<T>> {
    let s = t.sizes();
    let mut target = batch.to_vec();
    target.extend_from_slice(&s[s.len() - 2..]);
    let strides = shape::expand_strides(op, s, t.strides(), &target)?;
    read_vec::<T>(&t.as_view(&target, &strides, t.storage_offset())?)
}

/// `aten::_cdist_forward`: the p-norm distance between every row of `x1`
/// (`[..., P, M]`) and every row of `x2` (`[..., R, M]`), batch dims
/// broadcast: `[..., P, R]`. `compute_mode` 0/None, 1 or 2 chooses when the
/// Euclidean distance uses norms and dot products (see the module docs).
///
/// ```
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![0.0f64, 0.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let b = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
/// let d = ft_kernels::nn::distance::_cdist_forward(&a, &b, 2.0, None).unwrap();
/// assert_eq!(d.to_vec::<f64>().unwrap(), vec![0.0, 5.0]);
/// ```
pub fn _cdist_forward(x1: &Tensor, x2: &Tensor, p: f64, compute_mode: Option<i64>) -> Result<Tensor> {
    const OP: &str = "aten::_cdist_forward";
    check_float(OP, "X1", x1)?;
    check_float(OP, "X2", x2)?;
    check_p(OP, p)?;
    if let Some(m) = compute_mode {
        if !(0..=2).contains(&m) {
            return Err(Error::invalid(OP, format!("possible modes: 0, 1, 2, but was: {m}")));
        }
    }
    if x1.dtype() != x2.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "X1 and X2 must have the same dtype, X1: {} X2: {}",
                x1.dtype(),
                x2.dtype()
            ),
        ));
    }
    let g = cdist_geometry(OP, x1, x2)?;
    let use_mm = p == 2.0
        && match compute_mode.unwrap_or(0) {
            0 => g.r1 > 25 || g.r2 > 25,
            1 => true,
            _ => false,
        };
    let mut out_sizes = g.batch.clone();
    out_sizes.extend([g.r1, g.r2]);
    let nb: usize = g.batch.iter().product();
    dispatch_real!(x1.dtype(), T => {
        let (a, b) = (expanded::<T>(OP, x1, &g.batch)?, expanded::<T>(OP, x2, &g.batch)?);
        let mut out = Vec::with_capacity(nb * g.r1 * g.r2);
        for k in 0..nb {
            for i in 0..g.r1 {
                let ra = &a[(k * g.r1 + i) * g.m..(k * g.r1 + i + 1) * g.m];
                for j in 0..g.r2 {
                    let rb = &b[(k * g.r2 + j) * g.m..(k * g.r2 + j + 1) * g.m];
                    out.push(if use_mm { euclid_mm(ra, rb) } else { distance(ra, rb, p) });
                }
            }
        }
        tensor_of(out, &out_sizes)
    }, _ => Err(Error::dtype(OP, "cdist only supports floating-point dtypes")))
}

/// `aten::_cdist_backward`: the gradient of `_cdist_forward` with respect to
/// `x1`, given the forward result `cdist`; shaped like `x1` broadcast to the
/// batch (the autograd engine sums a broadcast batch back).
pub fn _cdist_backward(grad_output: &Tensor, x1: &Tensor, x2: &Tensor, p: f64, cdist: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::_cdist_backward";
    check_float(OP, "X1", x1)?;
    check_p(OP, p)?;
    let g = cdist_geometry(OP, x1, x2)?;
    let mut out_sizes = g.batch.clone();
    out_sizes.extend([g.r1, g.r2]);
    for (what, t) in [("grad_output", grad_output), ("cdist", cdist)] {
        if t.sizes() != out_sizes.as_slice() || t.dtype() != x1.dtype() {
            return Err(Error::shape(
                OP,
                format!(
                    "{what} has shape {} ({}) but the distances have shape {}",
                    fmt(t.sizes()),
                    t.dtype(),
                    fmt(&out_sizes)
                ),
            ));
        }
    }
    let mut in_sizes = g.batch.clone();
    in_sizes.extend([g.r1, g.m]);
    let nb: usize = g.batch.iter().product();
    dispatch_real!(x1.dtype(), T => {
        let (a, b) = (expanded::<T>(OP, x1, &g.batch)?, expanded::<T>(OP, x2, &g.batch)?);
        let (go, dist) = (read_vec::<T>(grad_output)?, read_vec::<T>(cdist)?);
        let mut out = vec![0 as T; nb * g.r1 * g.m];
        for k in 0..nb {
            for i in 0..g.r1 {
                let ra = &a[(k * g.r1 + i) * g.m..(k * g.r1 + i + 1) * g.m];
                let dst = &mut out[(k * g.r1 + i) * g.m..(k * g.r1 + i + 1) * g.m];
                for j in 0..g.r2 {
                    let rb = &b[(k * g.r2 + j) * g.m..(k * g.r2 + j + 1) * g.m];
                    let at = (k * g.r1 + i) * g.r2 + j;
                    for ((o, &x), &y) in dst.iter_mut().zip(ra).zip(rb) {
                        *o += go[at] * partial(x - y, dist[at], p);
                    }
                }
            }
        }
        tensor_of(out, &in_sizes)
    }, _ => Err(Error::dtype(OP, "cdist only supports floating-point dtypes")))
}

/// Checks a pdist input: a 2-D float32/float64 matrix.
fn pdist_rows(op: &str, t: &Tensor, p: f64) -> Result<(usize, usize)> {
    if t.dim() != 2 {
        return Err(Error::shape(
            op,
            format!("pdist only supports 2D tensors, got: {}D", t.dim()),
        ));
    }
    if !matches!(t.dtype(), DType::F32 | DType::F64) {
        return Err(Error::dtype(
            op,
            format!(
                "pdist only supports floating-point dtypes, got: {}",
                t.dtype().scalar_type_name()
            ),
        ));
    }
    if p < 0.0 || p.is_nan() {
        return Err(Error::invalid(op, "pdist only supports non-negative p values"));
    }
    Ok((t.sizes()[0], t.sizes()[1]))
}

/// `aten::_pdist_forward`: the p-norm distance between every pair of rows
/// `i < j` of the 2-D `self_`, in row-major pair order: `[N * (N - 1) / 2]`.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f32, 1.0, 3.0], &[3, 1]).unwrap();
/// let d = ft_kernels::nn::distance::_pdist_forward(&x, 1.0).unwrap();
/// assert_eq!(d.to_vec::<f32>().unwrap(), vec![1.0, 3.0, 2.0]);
/// ```
pub fn _pdist_forward(self_: &Tensor, p: f64) -> Result<Tensor> {
    const OP: &str = "aten::_pdist_forward";
    let (n, m) = pdist_rows(OP, self_, p)?;
    if !self_.is_contiguous() {
        return Err(Error::invalid(OP, "_pdist_forward requires contiguous input"));
    }
    let pairs = n * n.saturating_sub(1) / 2;
    dispatch_real!(self_.dtype(), T => {
        let x = read_vec::<T>(self_)?;
        let mut out = Vec::with_capacity(pairs);
        for i in 0..n {
            for j in i + 1..n {
                out.push(distance(&x[i * m..(i + 1) * m], &x[j * m..(j + 1) * m], p));
            }
        }
        tensor_of(out, &[pairs])
    }, _ => Err(Error::dtype(OP, "pdist only supports floating-point dtypes")))
}

/// `aten::_pdist_backward`: the gradient of `_pdist_forward` with respect to
/// `self_`, given the forward result `pdist`.
pub fn _pdist_backward(grad_output: &Tensor, self_: &Tensor, p: f64, pdist: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::_pdist_backward";
    let (n, m) = pdist_rows(OP, self_, p)?;
    if !self_.is_contiguous() {
        return Err(Error::invalid(OP, "_pdist_backward requires self to be contiguous"));
    }
    let pairs = n * n.saturating_sub(1) / 2;
    for (what, t) in [("grad_output", grad_output), ("pdist", pdist)] {
        if t.sizes() != [pairs] || t.dtype() != self_.dtype() {
            return Err(Error::shape(
                OP,
                format!(
                    "{what} has shape {} ({}) but {pairs} pair distances were expected",
                    fmt(t.sizes()),
                    t.dtype()
                ),
            ));
        }
    }
    dispatch_real!(self_.dtype(), T => {
        let x = read_vec::<T>(self_)?;
        let (go, dist) = (read_vec::<T>(grad_output)?, read_vec::<T>(pdist)?);
        let mut out = vec![0 as T; n * m];
        let mut at = 0;
        for i in 0..n {
            for j in i + 1..n {
                for k in 0..m {
                    let v = go[at] * partial(x[i * m + k] - x[j * m + k], dist[at], p);
                    out[i * m + k] += v;
                    out[j * m + k] -= v;
                }
                at += 1;
            }
        }
        tensor_of(out, &[n, m])
    }, _ => Err(Error::dtype(OP, "pdist only supports floating-point dtypes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_of_a_difference() {
        let (a, b) = ([1.0f64, -2.0, 0.5], [0.0f64, 2.0, 0.5]);
        assert_eq!(distance(&a, &b, 0.0), 2.0);
        assert_eq!(distance(&a, &b, 1.0), 5.0);
        assert_eq!(distance(&a, &b, f64::INFINITY), 4.0);
        assert!((distance(&a, &b, 2.0) - 17f64.sqrt()).abs() < 1e-15);
        assert!((distance(&a, &b, 3.0) - 65f64.cbrt()).abs() < 1e-12);
        assert!((euclid_mm(&a, &b) - 17f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn pdist_backward_matches_finite_differences() {
        let x: Vec<f64> = vec![0.3, -1.0, 2.0, 0.7, 1.1, -0.4];
        for p in [1.0, 1.5, 2.0, 3.0] {
            let t = Tensor::from_vec(x.clone(), &[3, 2]).unwrap();
            let d = _pdist_forward(&t, p).unwrap();
            let go = Tensor::from_vec(vec![1.0, -0.5, 2.0], &[3]).unwrap();
            let g = _pdist_backward(&go, &t, p, &d).unwrap().to_vec::<f64>().unwrap();
            for k in 0..6 {
                let f = |h: f64| {
                    let mut v = x.clone();
                    v[k] += h;
                    let dd = _pdist_forward(&Tensor::from_vec(v, &[3, 2]).unwrap(), p)
                        .unwrap()
                        .to_vec::<f64>()
                        .unwrap();
                    dd[0] - 0.5 * dd[1] + 2.0 * dd[2]
                };
                let num = (f(1e-6) - f(-1e-6)) / 2e-6;
                assert!((num - g[k]).abs() < 1e-5, "p={p} k={k}: {num} vs {}", g[k]);
            }
        }
    }
}
