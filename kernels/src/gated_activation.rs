//! Activations with a second operand and their backward kernels: `glu`
//! (one half of the input gates the other) and `_prelu_kernel` (a learned
//! slope for the negative part).
//!
//! Floating dtypes only; like PyTorch these kernels do not promote: all
//! tensors must share one dtype. Values are computed in float64 and rounded
//! through float32 for the narrower types (see [`crate::activation`]).

use crate::activation::from_opmath;
use crate::iter::{self, dispatch_float, empty_contiguous, empty_strided, output_strides, Elementwise, Spec};
use crate::pointwise::not_implemented;
use crate::view::slice;
use ft_runtime::shape::wrap_dim;
use ft_runtime::{DType, Element, Error, Result, Tensor};

/// The logistic function `1 / (1 + exp(-x))`.
#[inline]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Checks that every tensor has `dtype` (these kernels do not promote).
fn same_dtype(op: &str, dtype: DType, tensors: &[&Tensor]) -> Result<()> {
    match tensors.iter().find(|t| t.dtype() != dtype) {
        Some(t) => Err(Error::dtype(
            op,
            format!(
                "Found dtype {} but expected {}",
                t.dtype().scalar_type_name(),
                dtype.scalar_type_name()
            ),
        )),
        None => Ok(()),
    }
}

/// The two halves of `self` along `dim` (which must have an even size).
fn halves(op: &str, self_: &Tensor, dim: i64) -> Result<(Tensor, Tensor, usize)> {
    if self_.dim() == 0 {
        return Err(Error::invalid(op, "glu does not support 0-dimensional tensors"));
    }
    let d = wrap_dim(op, dim, self_.dim())?;
    let n = self_.sizes()[d];
    if !n.is_multiple_of(2) {
        return Err(Error::invalid(
            op,
            format!("Halving dimension must be even, but dimension {d} is size {n}"),
        ));
    }
    let h = (n / 2) as i64;
    let a = slice(self_, d as i64, Some(0), Some(h), 1)?;
    let b = slice(self_, d as i64, Some(h), Some(2 * h), 1)?;
    Ok((a, b, d))
}

/// GLU: `a * sigmoid(b)`, where `a` and `b` are the first and second halves
/// of `self` along `dim`.
///
/// ```
/// use ft_kernels::gated_activation::glu;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![2.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(glu(&x, -1).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// assert!(glu(&Tensor::from_vec(vec![1.0f64; 3], &[3]).unwrap(), 0).is_err());
/// ```
pub fn glu(self_: &Tensor, dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::glu";
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(OP, "glu_cpu", dtype));
    }
    let (a, b, _) = halves(OP, self_, dim)?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[&a, &b],
        dtype,
        out: None,
    })?;
    let (o, a, b) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_float!(dtype, T => iter::map2(o, a, b, |a: T, b: T| from_opmath::<T>(a.to_f64() * sigmoid(b.to_f64())))?,
        _ => return Err(not_implemented(OP, "glu_cpu", dtype)));
    ew.finish()
}

/// GLU's gradient, shaped like `self` (contiguous): `grad_output * sigmoid(b)`
/// for the first half and `grad_output * a * sigmoid(b) * (1 - sigmoid(b))`
/// for the second. `grad_output` broadcasts to a half's shape.
///
/// ```
/// use ft_kernels::gated_activation::glu_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![2.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(glu_backward(&g, &x, 0).unwrap().to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn glu_backward(grad_output: &Tensor, self_: &Tensor, dim: i64) -> Result<Tensor> {
    const OP: &str = "aten::glu_backward";
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(OP, "glu_backward_cpu", dtype));
    }
    same_dtype(OP, dtype, &[grad_output])?;
    let (a, b, d) = halves(OP, self_, dim)?;
    iter::broadcast_all(OP, &[&a, grad_output], Some(&a))?;
    let out = empty_contiguous(OP, self_.sizes(), dtype)?;
    let h = a.sizes()[d] as i64;
    let (oa, ob) = (
        slice(&out, d as i64, Some(0), Some(h), 1)?,
        slice(&out, d as i64, Some(h), Some(2 * h), 1)?,
    );
    dispatch_float!(dtype, T => {
        iter::map2(&oa, &b, grad_output, |b: T, g: T| from_opmath::<T>(g.to_f64() * sigmoid(b.to_f64())))?;
        iter::map3(&ob, &a, &b, grad_output, |a: T, b: T, g: T| {
            let s = sigmoid(b.to_f64());
            from_opmath::<T>(g.to_f64() * a.to_f64() * s * (1.0 - s))
        })?;
    }, _ => return Err(not_implemented(OP, "glu_backward_cpu", dtype)));
    Ok(out)
}

/// PReLU's elementwise kernel: `self` where positive, else `weight * self`,
/// with `weight` broadcast against `self` (same dtype).
///
/// ```
/// use ft_kernels::gated_activation::_prelu_kernel;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-2.0f32, 3.0], &[2]).unwrap();
/// let w = Tensor::from_vec(vec![0.25f32], &[1]).unwrap();
/// assert_eq!(_prelu_kernel(&x, &w).unwrap().to_vec::<f32>().unwrap(), vec![-0.5, 3.0]);
/// ```
pub fn _prelu_kernel(self_: &Tensor, weight: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::_prelu_kernel";
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(OP, "prelu_cpu", dtype));
    }
    same_dtype(OP, dtype, &[weight])?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_, weight],
        dtype,
        out: None,
    })?;
    let (o, x, w) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_float!(dtype, T => iter::map2(o, x, w, |x: T, w: T| {
            let (x, w) = (x.to_f64(), w.to_f64());
            from_opmath::<T>(if x > 0.0 { x } else { w * x })
        })?,
        _ => return Err(not_implemented(OP, "prelu_cpu", dtype)));
    ew.finish()
}

/// PReLU's gradients, both shaped like the broadcast of the three tensors
/// (the engine sums `weight`'s down to its shape): `grad_output` (or
/// `weight * grad_output` where `self` is not positive) for `self`, and
/// `self * grad_output` where `self` is not positive (else 0) for `weight`.
///
/// ```
/// use ft_kernels::gated_activation::_prelu_kernel_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// let w = Tensor::from_vec(vec![0.25f64], &[1]).unwrap();
/// let (gx, gw) = _prelu_kernel_backward(&g, &x, &w).unwrap();
/// assert_eq!(gx.to_vec::<f64>().unwrap(), vec![0.25, 1.0]);
/// assert_eq!(gw.to_vec::<f64>().unwrap(), vec![-2.0, 0.0]);
/// ```
pub fn _prelu_kernel_backward(grad_output: &Tensor, self_: &Tensor, weight: &Tensor) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::_prelu_kernel_backward";
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(OP, "prelu_backward_cpu", dtype));
    }
    same_dtype(OP, dtype, &[weight, grad_output])?;
    // PyTorch's operand order: (self, weight, grad_output).
    let inputs = [self_, weight, grad_output];
    let shape = iter::broadcast_all(OP, &inputs, None)?;
    let strides = output_strides(&shape, &inputs);
    let grad_self = empty_strided(OP, &shape, &strides, dtype)?;
    let grad_weight = empty_strided(OP, &shape, &strides, dtype)?;
    dispatch_float!(dtype, T => {
        iter::map3(&grad_self, self_, weight, grad_output, |x: T, w: T, g: T| {
            let (x, w, g) = (x.to_f64(), w.to_f64(), g.to_f64());
            from_opmath::<T>(if x > 0.0 { g } else { w * g })
        })?;
        iter::map3(&grad_weight, self_, weight, grad_output, |x: T, _w: T, g: T| {
            let (x, g) = (x.to_f64(), g.to_f64());
            from_opmath::<T>(if x > 0.0 { 0.0 } else { x * g })
        })?;
    }, _ => return Err(not_implemented(OP, "prelu_backward_cpu", dtype)));
    Ok((grad_self, grad_weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn glu_rejects_scalars_odd_halves_and_integers() {
        assert!(glu(&t(vec![1.0f64], &[]), 0).is_err());
        assert_eq!(
            glu(&t(vec![1.0f64; 6], &[2, 3]), 1).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            glu(&t(vec![1.0f64; 4], &[2, 2]), 2).unwrap_err().kind(),
            ErrorKind::DimOutOfRange
        );
        assert_eq!(glu(&t(vec![1i64; 4], &[2, 2]), 1).unwrap_err().kind(), ErrorKind::DType);
    }

    #[test]
    fn glu_backward_matches_finite_differences() {
        let xs = vec![0.3f64, -1.2, 0.8, 2.0];
        let g = glu_backward(&t(vec![1.0f64, 1.0], &[2]), &t(xs.clone(), &[4]), 0)
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        for i in 0..4 {
            let f = |d: f64| {
                let mut v = xs.clone();
                v[i] += d;
                glu(&t(v, &[4]), 0)
                    .unwrap()
                    .to_vec::<f64>()
                    .unwrap()
                    .iter()
                    .sum::<f64>()
            };
            let num = (f(1e-6) - f(-1e-6)) / 2e-6;
            assert!((num - g[i]).abs() < 1e-8, "element {i}: {num} vs {}", g[i]);
        }
    }

    #[test]
    fn prelu_kernels_refuse_mixed_dtypes() {
        let x = t(vec![1.0f64], &[1]);
        let w = t(vec![1.0f32], &[1]);
        assert_eq!(_prelu_kernel(&x, &w).unwrap_err().kind(), ErrorKind::DType);
        assert!(_prelu_kernel_backward(&x, &x, &w).is_err());
        assert!(glu_backward(&w, &t(vec![1.0f64, 2.0], &[2]), 0).is_err());
    }
}
