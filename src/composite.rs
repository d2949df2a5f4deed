//! CompositeImplicitAutograd kernels: operators defined by calling other
//! operators, so autograd flows through the operators they call.

use crate::ops;
use crate::{Error, MemoryFormat, Result, Tensor};

/// Gives an error raised by an inner operator the name of the composite
/// operator `op` (`.map_err(renamed("aten::conv2d"))`).
pub(crate) fn renamed(op: &'static str) -> impl Fn(Error) -> Error {
    move |e: Error| e.with_op(op)
}

/// `aten::matmul`: dot (1-D·1-D), matrix-vector, vector-matrix, matrix-matrix,
/// and batched products with broadcast batch dimensions.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = ops::ones(&[2, 1, 3, 4]).unwrap();
/// let b = ops::ones(&[5, 4, 2]).unwrap();
/// assert_eq!(ops::matmul(&a, &b).unwrap().sizes(), &[2, 5, 3, 2]);
/// ```
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::matmul";
    let (da, db) = (a.dim(), b.dim());
    if da == 0 || db == 0 {
        return Err(Error::invalid(
            OP,
            format!("both arguments to matmul need to be at least 1D, but they are {da}D and {db}D"),
        ));
    }
    let r = match (da, db) {
        (1, 1) => {
            if a.sizes()[0] != b.sizes()[0] {
                return Err(Error::shape(
                    OP,
                    format!(
                        "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but got {} and {} elements respectively",
                        a.sizes()[0],
                        b.sizes()[0],
                        a.sizes()[0],
                        b.sizes()[0]
                    ),
                ));
            }
            ops::sum(&ops::mul(a, b)?)
        }
        (2, 1) => ops::squeeze_dim(&ops::mm(a, &ops::unsqueeze(b, 1)?)?, 1),
        (1, 2) => ops::squeeze_dim(&ops::mm(&ops::unsqueeze(a, 0)?, b)?, 0),
        (2, 2) => ops::mm(a, b),
        (_, 1 | 2) if da >= 3 => {
            // Fold a's batch dims into its rows: one mm.
            let (n, m) = (a.sizes()[da - 2] as i64, a.sizes()[da - 1] as i64);
            let rows: i64 = a.sizes()[..da - 1].iter().product::<usize>() as i64;
            let b2 = if db == 1 { ops::unsqueeze(b, 1)? } else { b.clone() };
            let out = ops::mm(&ops::reshape(a, &[rows, m])?, &b2)?;
            let mut shape: Vec<i64> = a.sizes()[..da - 2].iter().map(|&s| s as i64).collect();
            shape.push(n);
            if db == 2 {
                shape.push(b.sizes()[1] as i64);
            }
            ops::view(&out, &shape)
        }
        _ => batched(a, b),
    };
    r.map_err(|e| {
        if e.op().starts_with("aten::mm") || e.op().starts_with("aten::bmm") {
            e.with_op(OP)
        } else {
            e
        }
    })
}

fn batched(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let a2 = if a.dim() == 1 { ops::unsqueeze(a, 0)? } else { a.clone() };
    let b2 = if b.dim() == 1 { ops::unsqueeze(b, 1)? } else { b.clone() };
    let (da, db) = (a2.dim(), b2.dim());
    let (n, m) = (a2.sizes()[da - 2], a2.sizes()[da - 1]);
    let (m2, p) = (b2.sizes()[db - 2], b2.sizes()[db - 1]);
    let batch = ft_runtime::shape::broadcast_shapes("aten::matmul", &a2.sizes()[..da - 2], &b2.sizes()[..db - 2])?;
    let bsz: usize = batch.iter().product();
    let as_i64 = |v: &[usize]| v.iter().map(|&s| s as i64).collect::<Vec<i64>>();
    let mut ea = as_i64(&batch);
    ea.extend([n as i64, m as i64]);
    let mut eb = as_i64(&batch);
    eb.extend([m2 as i64, p as i64]);
    let a3 = ops::reshape(&ops::expand(&a2, &ea)?, &[bsz as i64, n as i64, m as i64])?;
    let b3 = ops::reshape(&ops::expand(&b2, &eb)?, &[bsz as i64, m2 as i64, p as i64])?;
    let out = ops::bmm(&a3, &b3)?;
    let mut shape = as_i64(&batch);
    if a.dim() > 1 {
        shape.push(n as i64);
    }
    if b.dim() > 1 {
        shape.push(p as i64);
    }
    ops::view(&out, &shape)
}

/// `aten::reshape`: a view when the strides allow it, otherwise a copy.
///
/// ```
/// use frankentorch::prelude::*;
/// let t = ops::zeros(&[3, 4]).unwrap();
/// let r = ops::reshape(&t, &[4, -1]).unwrap();
/// assert!(r.storage().is_same(t.storage())); // contiguous: a view
/// ```
pub fn reshape(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let sizes = ft_runtime::shape::infer_size("aten::reshape", shape, t.numel())?;
    if ft_runtime::shape::view_strides(t.sizes(), t.strides(), &sizes).is_some() {
        return ops::view(t, shape);
    }
    ops::view(&ops::clone_full(t, Some(MemoryFormat::Contiguous))?, shape)
}

/// `aten::t`: transposes a 2-D tensor; 0-D and 1-D tensors are returned as views of themselves.
pub fn t(t: &Tensor) -> Result<Tensor> {
    match t.dim() {
        0 | 1 => ops::transpose(t, 0, 0),
        2 => ops::transpose(t, 0, 1),
        n => Err(Error::invalid(
            "aten::t",
            format!("t() expects a tensor with <= 2 dimensions, but self is {n}D"),
        )),
    }
}

/// `aten::contiguous`: `self` when already contiguous, else a contiguous copy.
pub fn contiguous(t: &Tensor, memory_format: Option<MemoryFormat>) -> Result<Tensor> {
    if matches!(memory_format, Some(MemoryFormat::Preserve)) {
        return Err(Error::invalid(
            "aten::contiguous",
            "preserve memory format is unsupported by the contiguous operator",
        ));
    }
    if t.is_contiguous() {
        return Ok(t.clone());
    }
    ops::clone_full(t, Some(MemoryFormat::Contiguous))
}

/// `beta * self + alpha * (mat1 @ mat2)` (PyTorch's `addmm`, the kernel of
/// its CompositeExplicitAutograd entry). `self` broadcasts to the product's
/// shape; with `beta == 0` its values are ignored (NaN in it does not
/// propagate), as in PyTorch.
///
/// ```
/// use frankentorch::prelude::*;
/// let bias = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let r = ops::addmm(&bias, &a, &a).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![8.0, 12.0, 16.0, 24.0]);
/// ```
pub fn addmm(
    self_: &Tensor,
    mat1: &Tensor,
    mat2: &Tensor,
    beta: crate::Scalar,
    alpha: crate::Scalar,
) -> Result<Tensor> {
    const OP: &str = "aten::addmm";
    for (name, m) in [("mat1", mat1), ("mat2", mat2)] {
        if m.dim() != 2 {
            return Err(Error::invalid(
                OP,
                format!("{name} must be a matrix, got {}-D tensor", m.dim()),
            ));
        }
    }
    if self_.dtype() != mat1.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "self and mat2 must have the same dtype, but got {} and {}",
                self_.dtype().scalar_type_name(),
                mat1.dtype().scalar_type_name()
            ),
        ));
    }
    let product = ops::mm(mat1, mat2)?;
    let sizes = crate::autograd_helpers::sizes_of(&product);
    let base = ops::expand(self_, &sizes)?;
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

/// PyTorch's functional `copy`: a tensor with `self`'s dtype, sizes and strides
/// holding the values of `src`, broadcast and cast.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::zeros_contiguous(&[2, 2], DType::I32);
/// let src = Tensor::from_vec(vec![1.5f64, -2.5], &[2]).unwrap();
/// assert_eq!(ops::copy(&a, &src, false).unwrap().to_vec::<i32>().unwrap(), vec![1, -2, 1, -2]);
/// ```
pub fn copy(self_: &Tensor, src: &Tensor, non_blocking: bool) -> Result<Tensor> {
    // PyTorch allocates the result with `self`'s exact strides, even when
    // they leave gaps (a clone would compact them).
    let out = Tensor::zeros_strided(self_.sizes(), self_.strides(), self_.dtype());
    ops::copy_(&out, src, non_blocking)
}
