//! Activation functions and their backward kernels: `elu`, `gelu`
//! (exact and tanh-approximated), `hardtanh` and `leaky_relu`.
//!
//! All but `hardtanh` are defined on floating dtypes only. Values are
//! computed in float64 from the elements and rounded through float32 for
//! float32/float16/bfloat16 (PyTorch computes those in float32 "opmath").
//! The backward kernels promote their two tensors like a binary op.

use crate::iter::{self, dispatch_float, Elementwise, Spec};
use crate::pointwise::not_implemented;
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{DType, Element, Error, Result, Scalar, Tensor};
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, SQRT_2};

/// `v` rounded as PyTorch would produce it in `T`: through float32 for
/// every type narrower than float64.
#[inline(always)]
pub(crate) fn from_opmath<T: Element>(v: f64) -> T {
    if T::DTYPE == DType::F64 {
        T::from_f64(v)
    } else {
        T::from_f64(v as f32 as f64)
    }
}

/// Applies `f` to every element of a floating `self_`, keeping its dtype.
pub(crate) fn float_map(
    op: &str,
    kernel: &str,
    self_: &Tensor,
    f: impl Fn(f64) -> f64 + Sync + Send,
) -> Result<Tensor> {
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(op, kernel, dtype));
    }
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_float!(dtype, T => iter::map1(o, a, |x: T| from_opmath::<T>(f(x.to_f64())))?,
        _ => return Err(not_implemented(op, kernel, dtype)));
    ew.finish()
}

/// `f(grad, x)` over two tensors promoted together (floating results only),
/// with `x`'s layout leading as in PyTorch's backward kernels.
pub(crate) fn float_map2(
    op: &str,
    kernel: &str,
    grad: &Tensor,
    x: &Tensor,
    f: impl Fn(f64, f64) -> f64 + Sync + Send,
) -> Result<Tensor> {
    iter::broadcast_all(op, &[grad, x], None)?;
    let dtype = result_type(&[Operand::Tensor(grad), Operand::Tensor(x)]);
    if !dtype.is_floating_point() {
        return Err(not_implemented(op, kernel, dtype));
    }
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[grad, x],
        dtype,
        out: None,
    })?;
    let (o, g, a) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_float!(dtype, T => iter::map2(o, g, a, |g: T, x: T| from_opmath::<T>(f(g.to_f64(), x.to_f64())))?,
        _ => return Err(not_implemented(op, kernel, dtype)));
    ew.finish()
}

/// ELU: `scale * x` for `x > 0`, else `alpha * scale * (exp(x * input_scale) - 1)`.
///
/// ```
/// use ft_kernels::activation::elu;
/// use ft_runtime::{Tensor, Scalar};
/// let x = Tensor::from_vec(vec![-1.0f64, 2.0], &[2]).unwrap();
/// let r = elu(&x, Scalar::Int(2), Scalar::Int(3), Scalar::Float(0.5)).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] - 6.0 * ((-0.5f64).exp() - 1.0)).abs() < 1e-15);
/// assert_eq!(r[1], 6.0);
/// ```
pub fn elu(self_: &Tensor, alpha: Scalar, scale: Scalar, input_scale: Scalar) -> Result<Tensor> {
    let (neg, pos, inp) = (alpha.to_f64() * scale.to_f64(), scale.to_f64(), input_scale.to_f64());
    float_map("aten::elu", "elu_cpu", self_, move |x| {
        if x <= 0.0 {
            (x * inp).exp_m1() * neg
        } else {
            x * pos
        }
    })
}

/// ELU's gradient from its input (`is_result = false`) or its output
/// (`is_result = true`, which needs `alpha >= 0`).
///
/// ```
/// use ft_kernels::activation::elu_backward;
/// use ft_runtime::{Tensor, Scalar};
/// let g = Tensor::from_vec(vec![1.0f64, 1.0, 1.0], &[3]).unwrap();
/// let y = Tensor::from_vec(vec![-1.0f64, 0.0, 2.0], &[3]).unwrap();
/// let one = Scalar::Int(1);
/// let r = elu_backward(&g, one, one, one, true, &y).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 1.0, 1.0]);
/// ```
pub fn elu_backward(
    grad_output: &Tensor,
    alpha: Scalar,
    scale: Scalar,
    input_scale: Scalar,
    is_result: bool,
    self_or_result: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "aten::elu_backward";
    if is_result && alpha.to_f64() < 0.0 {
        return Err(Error::invalid(
            OP,
            "In-place elu backward calculation is triggered with a negative slope which is not supported. This is caused by calling in-place forward function with a negative slope, please call out-of-place version instead.",
        ));
    }
    let (neg, pos, inp) = (alpha.to_f64() * scale.to_f64(), scale.to_f64(), input_scale.to_f64());
    float_map2(OP, "elu_backward_cpu", grad_output, self_or_result, move |g, x| {
        if x > 0.0 {
            g * pos
        } else if is_result {
            g * inp * (x + neg)
        } else {
            g * inp * neg * (x * inp).exp()
        }
    })
}

/// The two forms of GELU.
#[derive(Clone, Copy)]
enum Gelu {
    /// `x * Phi(x)` with the exact normal CDF.
    Exact,
    /// The tanh approximation.
    Tanh,
}

fn gelu_kind(op: &str, approximate: &str) -> Result<Gelu> {
    match approximate {
        "none" => Ok(Gelu::Exact),
        "tanh" => Ok(Gelu::Tanh),
        _ => Err(Error::invalid(op, "approximate argument must be either none or tanh.")),
    }
}

/// `sqrt(2 / pi)`, the tanh approximation's scale.
const BETA: f64 = SQRT_2 * FRAC_2_SQRT_PI * 0.5;
/// The tanh approximation's cubic coefficient.
const KAPPA: f64 = 0.044715;

/// GELU: `x * Phi(x)` (`approximate = "none"`) or
/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (`"tanh"`).
///
/// ```
/// use ft_kernels::activation::gelu;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let r = gelu(&x, "none").unwrap().to_vec::<f64>().unwrap();
/// assert!((r[1] - 0.8413447460685429).abs() < 1e-15);
/// assert!(gelu(&x, "erf").is_err());
/// ```
pub fn gelu(self_: &Tensor, approximate: &str) -> Result<Tensor> {
    const OP: &str = "aten::gelu";
    let kind = gelu_kind(OP, approximate)?;
    float_map(OP, "GeluKernelImpl", self_, move |x| match kind {
        Gelu::Exact => x * 0.5 * (1.0 + iter::erf_f64(x * FRAC_1_SQRT_2)),
        Gelu::Tanh => 0.5 * x * (1.0 + (BETA * (x + KAPPA * x * x * x)).tanh()),
    })
}

/// GELU's gradient `grad_output * gelu'(self)`.
///
/// ```
/// use ft_kernels::activation::gelu_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(gelu_backward(&g, &x, "tanh").unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn gelu_backward(grad_output: &Tensor, self_: &Tensor, approximate: &str) -> Result<Tensor> {
    const OP: &str = "aten::gelu_backward";
    let kind = gelu_kind(OP, approximate)?;
    float_map2(
        OP,
        "GeluBackwardKernelImpl",
        grad_output,
        self_,
        move |g, x| match kind {
            Gelu::Exact => {
                let cdf = 0.5 * (1.0 + iter::erf_f64(x * FRAC_1_SQRT_2));
                let pdf = (-0.5 * x * x).exp() * (FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * 0.5);
                g * (cdf + x * pdf)
            }
            Gelu::Tanh => {
                let t = (BETA * (x + KAPPA * x * x * x)).tanh();
                let left = 0.5 * (1.0 + t);
                let right = 0.5 * x * (1.0 - t * t) * BETA * (1.0 + 3.0 * KAPPA * x * x);
                g * (left + right)
            }
        },
    )
}

/// `clamp(self, min_val, max_val)`; integral tensors truncate the bounds to
/// integers first and keep their dtype; bool is an error.
///
/// ```
/// use ft_kernels::activation::hardtanh;
/// use ft_runtime::{Tensor, Scalar};
/// let x = Tensor::from_vec(vec![1u8, 2, 3], &[3]).unwrap();
/// let r = hardtanh(&x, Scalar::Float(1.5), Scalar::Float(2.5)).unwrap();
/// assert_eq!(r.to_vec::<u8>().unwrap(), vec![1, 2, 2]);
/// ```
pub fn hardtanh(self_: &Tensor, min_val: Scalar, max_val: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::hardtanh";
    let dtype = self_.dtype();
    if dtype == DType::Bool {
        return Err(Error::dtype(OP, "Bool inputs not supported for hardtanh"));
    }
    let (lo, hi) = if dtype.is_floating_point() {
        (min_val, max_val)
    } else {
        (Scalar::Int(min_val.to_i64()), Scalar::Int(max_val.to_i64()))
    };
    crate::ternary::clamp(self_, Some(lo), Some(hi)).map_err(|e| e.with_op(OP))
}

/// Hardtanh's gradient: `grad_output` where `min_val < self < max_val`, else 0.
///
/// ```
/// use ft_kernels::activation::hardtanh_backward;
/// use ft_runtime::{Tensor, Scalar};
/// let g = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let x = Tensor::from_vec(vec![-1.0f32, 0.5, 1.0], &[3]).unwrap();
/// let r = hardtanh_backward(&g, &x, Scalar::Int(-1), Scalar::Int(1)).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 2.0, 0.0]);
/// ```
pub fn hardtanh_backward(grad_output: &Tensor, self_: &Tensor, min_val: Scalar, max_val: Scalar) -> Result<Tensor> {
    let (lo, hi) = (min_val.to_f64(), max_val.to_f64());
    float_map2(
        "aten::hardtanh_backward",
        "hardtanh_backward_cpu",
        grad_output,
        self_,
        move |g, x| if x <= lo || x >= hi { 0.0 } else { g },
    )
}

/// Leaky ReLU: `x` for `x > 0`, else `negative_slope * x`.
///
/// ```
/// use ft_kernels::activation::leaky_relu;
/// use ft_runtime::{Tensor, Scalar};
/// let x = Tensor::from_vec(vec![-1.0f32, 0.0, 2.0], &[3]).unwrap();
/// assert_eq!(leaky_relu(&x, Scalar::Int(2)).unwrap().to_vec::<f32>().unwrap(), vec![-2.0, 0.0, 2.0]);
/// ```
pub fn leaky_relu(self_: &Tensor, negative_slope: Scalar) -> Result<Tensor> {
    let s = negative_slope.to_f64();
    float_map("aten::leaky_relu", "leaky_relu_cpu", self_, move |x| {
        if x > 0.0 {
            x
        } else {
            x * s
        }
    })
}

/// Leaky ReLU's gradient: `grad_output` where `self > 0`, else
/// `grad_output * negative_slope` (a negative slope with `self_is_result`
/// is an error).
///
/// ```
/// use ft_kernels::activation::leaky_relu_backward;
/// use ft_runtime::{Tensor, Scalar};
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![-1.0f64, 2.0], &[2]).unwrap();
/// let r = leaky_relu_backward(&g, &x, Scalar::Float(0.1), false).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.1, 1.0]);
/// ```
pub fn leaky_relu_backward(
    grad_output: &Tensor,
    self_: &Tensor,
    negative_slope: Scalar,
    self_is_result: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::leaky_relu_backward";
    let s = negative_slope.to_f64();
    if self_is_result && s < 0.0 {
        return Err(Error::invalid(
            OP,
            "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. This is caused by calling in-place forward function with a negative slope, please call out-of-place version instead.",
        ));
    }
    float_map2(OP, "leaky_relu_backward_cpu", grad_output, self_, move |g, x| {
        if x > 0.0 {
            g
        } else {
            g * s
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn integer_inputs_are_rejected() {
        let i = t(vec![1i64, -2], &[2]);
        assert_eq!(
            elu(&i, Scalar::Int(1), Scalar::Int(1), Scalar::Int(1))
                .unwrap_err()
                .kind(),
            ErrorKind::DType
        );
        assert!(gelu(&i, "none").is_err());
        assert!(leaky_relu(&i, Scalar::Float(0.01)).is_err());
        assert!(hardtanh_backward(&i, &i, Scalar::Int(-1), Scalar::Int(1)).is_err());
        assert_eq!(
            hardtanh(&i, Scalar::Int(-1), Scalar::Int(0))
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            vec![0, -1]
        );
        assert!(hardtanh(&t(vec![true], &[1]), Scalar::Int(0), Scalar::Int(1)).is_err());
    }

    #[test]
    fn in_place_negative_slopes_are_errors() {
        let x = t(vec![1.0f32], &[1]);
        assert!(leaky_relu_backward(&x, &x, Scalar::Float(-0.1), true).is_err());
        let one = Scalar::Int(1);
        assert!(elu_backward(&x, Scalar::Int(-1), one, one, true, &x).is_err());
        assert!(elu_backward(&x, Scalar::Int(-1), one, one, false, &x).is_ok());
    }

    #[test]
    fn gelu_backward_matches_finite_differences() {
        let xs = [-1.5f64, -0.3, 0.7, 2.0];
        for approx in ["none", "tanh"] {
            let x = t(xs.to_vec(), &[4]);
            let g = gelu_backward(&t(vec![1.0f64; 4], &[4]), &x, approx)
                .unwrap()
                .to_vec::<f64>()
                .unwrap();
            for (i, &v) in xs.iter().enumerate() {
                let f = |d: f64| gelu(&t(vec![v + d], &[1]), approx).unwrap().to_vec::<f64>().unwrap()[0];
                let num = (f(1e-6) - f(-1e-6)) / 2e-6;
                assert!((num - g[i]).abs() < 1e-7, "{approx} at {v}: {num} vs {}", g[i]);
            }
        }
    }
}
