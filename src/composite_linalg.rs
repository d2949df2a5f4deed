//! Vector and matrix products defined by calling other operators: `linear`,
//! `outer`, `diag` (CompositeImplicitAutograd: autograd flows through the
//! calls) and the kernels of `dot`, `mv` and `baddbmm` (which have their own
//! formulas, as in PyTorch).

use crate::autograd_helpers::{sizes_of, to_dtype};
use crate::composite::renamed;
use crate::ops;
use crate::{DType, Error, Result, Scalar, Tensor};

/// `aten::linear`: `input @ weight.T + bias`, through `addmm` for 2-D input
/// with a bias and `matmul` (plus an add) otherwise.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones_full(&[2, 3], Some(DType::F64), None, None, None).unwrap();
/// let w = ops::ones_full(&[4, 3], Some(DType::F64), None, None, None).unwrap();
/// let y = ops::linear(&x, &w, None).unwrap();
/// assert_eq!((y.sizes(), y.to_vec::<f64>().unwrap()[0]), (&[2usize, 4][..], 3.0));
/// ```
pub fn linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "aten::linear";
    if input.dim() == 0 || weight.dim() == 0 {
        return Err(Error::invalid(
            OP,
            format!(
                "both arguments to linear need to be at least 1D, but they are {}D and {}D",
                input.dim(),
                weight.dim()
            ),
        ));
    }
    let wt = ops::t(weight).map_err(renamed(OP))?;
    let out = match bias {
        Some(b) if input.dim() == 2 => ops::addmm(b, input, &wt),
        Some(b) => ops::matmul(input, &wt).and_then(|o| ops::add(&o, b)),
        None => ops::matmul(input, &wt),
    };
    out.map_err(renamed(OP))
}

/// Checks that `t` is 1-D, with PyTorch's `outer` message.
fn check_1d(t: &Tensor, name: &str) -> Result<()> {
    if t.dim() != 1 {
        return Err(Error::shape(
            "aten::outer",
            format!("outer: Expected 1-D argument {name}, but got {}-D", t.dim()),
        ));
    }
    Ok(())
}

/// `aten::outer`: `self[i] * vec2[j]`, as `self.reshape(n, 1) * vec2`
/// (with type promotion, like `mul`).
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3i64, 4, 5], &[3]).unwrap();
/// assert_eq!(ops::outer(&a, &b).unwrap().to_vec::<i64>().unwrap(), vec![3, 4, 5, 6, 8, 10]);
/// ```
pub fn outer(self_: &Tensor, vec2: &Tensor) -> Result<Tensor> {
    check_1d(self_, "self")?;
    check_1d(vec2, "vec2")?;
    let column = ops::reshape(self_, &[self_.sizes()[0] as i64, 1])?;
    ops::mul(&column, vec2)
}

/// `aten::diag`: a 1-D `self` becomes a square matrix with `self` on
/// diagonal `diagonal`; a 2-D `self` gives a copy of that diagonal.
///
/// ```
/// use frankentorch::prelude::*;
/// let v = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// let m = ops::diag(&v, 1).unwrap();
/// assert_eq!(m.to_vec::<i32>().unwrap(), vec![0, 1, 0, 0, 0, 2, 0, 0, 0]);
/// assert_eq!(ops::diag(&m, 1).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
/// ```
pub fn diag(self_: &Tensor, diagonal: i64) -> Result<Tensor> {
    match self_.dim() {
        1 => {
            let n = self_.sizes()[0] as i64 + diagonal.abs();
            let zeros = ops::zeros_full(&[n, n], Some(self_.dtype()), None, None, None)?;
            ops::diagonal_scatter(&zeros, self_, diagonal, 0, 1)
        }
        2 => ops::clone(&ops::diagonal(self_, diagonal, 0, 1)?),
        d => Err(Error::shape(
            "aten::diag",
            format!("diag(): Supports 1D or 2D tensors. Got {d}D"),
        )),
    }
}

/// PyTorch's C type name of a dtype, used in dtype-mismatch messages.
fn type_name(d: DType) -> &'static str {
    d.scalar_type_name()
}

/// `aten::dot`: the inner product of two 1-D tensors of the same length and
/// dtype (a 0-dim tensor), accumulated as `mm` accumulates.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(ops::dot(&a, &a).unwrap().to_vec::<f64>().unwrap(), vec![14.0]);
/// ```
pub fn dot(self_: &Tensor, tensor: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::dot";
    if self_.dim() != 1 || tensor.dim() != 1 {
        return Err(Error::shape(
            OP,
            format!(
                "1D tensors expected, but got {}D and {}D tensors",
                self_.dim(),
                tensor.dim()
            ),
        ));
    }
    let (n, m) = (self_.sizes()[0], tensor.sizes()[0]);
    if n != m {
        return Err(Error::shape(
            OP,
            format!(
                "inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number of elements, but got {n} and {m} elements respectively"
            ),
        ));
    }
    if self_.dtype() != tensor.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "dot : expected both vectors to have same dtype, but found {} and {}",
                type_name(self_.dtype()),
                type_name(tensor.dtype())
            ),
        ));
    }
    if self_.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "\"dot\" not implemented for 'Bool'"));
    }
    let product = ops::mm(&ops::unsqueeze(self_, 0)?, &ops::unsqueeze(tensor, 1)?).map_err(renamed(OP))?;
    ops::reshape(&product, &[])
}

/// `aten::mv`: the product of an n x m matrix and an m-vector (an n-vector).
///
/// ```
/// use frankentorch::prelude::*;
/// let m = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
/// let v = Tensor::from_vec(vec![1i64, 1], &[2]).unwrap();
/// assert_eq!(ops::mv(&m, &v).unwrap().to_vec::<i64>().unwrap(), vec![3, 7]);
/// ```
pub fn mv(self_: &Tensor, vec: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::mv";
    if self_.dim() != 2 || vec.dim() != 1 {
        return Err(Error::shape(
            OP,
            format!(
                "vector + matrix @ vector expected, got 1, {}, {}",
                self_.dim(),
                vec.dim()
            ),
        ));
    }
    let (n, m) = (self_.sizes()[0], self_.sizes()[1]);
    if vec.sizes()[0] != m {
        return Err(Error::shape(
            OP,
            format!(
                "size mismatch, got input ({n}), mat ({n}x{m}), vec ({})",
                vec.sizes()[0]
            ),
        ));
    }
    if self_.dtype() != vec.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "addmv input tensors must have the same dtype, but got {}, {}, and {}",
                type_name(self_.dtype()),
                type_name(self_.dtype()),
                type_name(vec.dtype())
            ),
        ));
    }
    if self_.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "\"addmv_impl_cpu\" not implemented for 'Bool'"));
    }
    let product = ops::mm(self_, &ops::unsqueeze(vec, 1)?).map_err(renamed(OP))?;
    ops::squeeze_dim(&product, 1)
}

/// Checks that a `baddbmm` batch is 3-D (PyTorch reads `size(2)` first, so
/// fewer dims raise an index error).
fn check_batch(t: &Tensor, name: &str) -> Result<()> {
    const OP: &str = "aten::baddbmm";
    match t.dim() {
        3 => Ok(()),
        d if d < 3 => Err(Error::dim_out_of_range(OP, 2, d)),
        d => Err(Error::shape(OP, format!("{name} must be a 3D tensor, got {d}D"))),
    }
}

/// `beta * self + alpha * (batch1 @ batch2)` (PyTorch's `baddbmm`): `self`
/// broadcasts to the b x n x p product; with `beta == 0` its values are
/// ignored (NaN in it does not propagate), as in PyTorch.
///
/// ```
/// use frankentorch::prelude::*;
/// let s = ops::ones_full(&[1], Some(DType::F64), None, None, None).unwrap();
/// let a = ops::ones_full(&[2, 1, 3], Some(DType::F64), None, None, None).unwrap();
/// let b = ops::ones_full(&[2, 3, 1], Some(DType::F64), None, None, None).unwrap();
/// let r = ops::baddbmm_full(&s, &a, &b, 0.5, 2.0).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![6.5, 6.5]);
/// ```
pub fn baddbmm(self_: &Tensor, batch1: &Tensor, batch2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::baddbmm";
    check_batch(batch1, "batch1")?;
    check_batch(batch2, "batch2")?;
    if self_.dtype() != batch1.dtype() || self_.dtype() != batch2.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "Input dtypes must be the same, got: input {}, batch1: {}, batch2: {}",
                self_.dtype().name(),
                batch1.dtype().name(),
                batch2.dtype().name()
            ),
        ));
    }
    if matches!(self_.dtype(), DType::F16 | DType::BF16) {
        // Reduced-precision floats compute in f32 and round once, as PyTorch does.
        let up = |t: &Tensor| to_dtype(t, DType::F32);
        let r = baddbmm(&up(self_)?, &up(batch1)?, &up(batch2)?, beta, alpha)?;
        return to_dtype(&r, self_.dtype());
    }
    let product = ops::bmm(batch1, batch2).map_err(renamed(OP))?;
    let base = ops::expand(self_, &sizes_of(&product)).map_err(renamed(OP))?;
    let scaled = if alpha.equals(1.0) {
        product
    } else {
        ops::mul_scalar(&product, alpha)?
    };
    if beta.equals(0.0) {
        return Ok(scaled);
    }
    let base = if beta.equals(1.0) {
        base
    } else {
        ops::mul_scalar(&base, beta)?
    };
    ops::add(&base, &scaled)
}
