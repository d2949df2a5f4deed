//! Smooth activations built on the logistic function and their backward
//! kernels: `silu`, `mish`, `softplus` and `log_sigmoid`.
//!
//! Floating dtypes only. Values are computed in float64 and rounded through
//! float32 for the narrower types, like the other activation kernels (see
//! [`crate::activation`]); the backward kernels promote their tensors like a
//! binary op.

use crate::activation::{float_map, float_map2, from_opmath};
use crate::iter::{self, dispatch_float, empty_contiguous, empty_strided, preserve_strides, Elementwise, Spec};
use crate::pointwise::not_implemented;
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{Element, Error, Result, Scalar, Tensor};

/// The logistic function `1 / (1 + exp(-x))`.
#[inline]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// SiLU (swish): `x * sigmoid(x)`.
///
/// ```
/// use ft_kernels::smooth_activation::silu;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// let r = silu(&x).unwrap().to_vec::<f64>().unwrap();
/// assert_eq!(r[0], 0.0);
/// assert!((r[1] - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
/// ```
pub fn silu(self_: &Tensor) -> Result<Tensor> {
    float_map("aten::silu", "silu_cpu", self_, |x| x / (1.0 + (-x).exp()))
}

/// SiLU's gradient: `grad_output * s * (1 + self * (1 - s))` with `s = sigmoid(self)`.
///
/// ```
/// use ft_kernels::smooth_activation::silu_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(silu_backward(&g, &x).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn silu_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    float_map2(
        "aten::silu_backward",
        "silu_backward_cpu",
        grad_output,
        self_,
        |g, x| {
            let s = sigmoid(x);
            g * s * (1.0 + x * (1.0 - s))
        },
    )
}

/// CELU: `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`, which is
/// `elu(x, alpha, 1, 1 / alpha)`; `alpha = 0` is an error.
///
/// ```
/// use ft_kernels::smooth_activation::celu;
/// use ft_runtime::{Scalar, Tensor};
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// let r = celu(&x, Scalar::Int(2)).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] - 2.0 * ((-1.0f64).exp() - 1.0)).abs() < 1e-15);
/// assert_eq!(r[1], 3.0);
/// assert!(celu(&x, Scalar::Int(0)).is_err());
/// ```
pub fn celu(self_: &Tensor, alpha: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::celu";
    let a = alpha.to_f64();
    if a == 0.0 {
        return Err(Error::invalid(OP, "ZeroDivisionError: alpha cannot be 0 for CELU"));
    }
    crate::activation::elu(self_, alpha, Scalar::Int(1), Scalar::Float(1.0 / a)).map_err(|e| e.with_op(OP))
}

/// `tanh(softplus(x))` with softplus's plain `log1p(exp(x))` form.
#[inline]
fn tanh_softplus(x: f64) -> f64 {
    x.exp().ln_1p().tanh()
}

/// Mish: `x * tanh(log1p(exp(x)))`.
///
/// ```
/// use ft_kernels::smooth_activation::mish;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64, 100.0], &[2]).unwrap();
/// assert_eq!(mish(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 100.0]);
/// ```
pub fn mish(self_: &Tensor) -> Result<Tensor> {
    float_map("aten::mish", "mish_cpu", self_, |x| x * tanh_softplus(x))
}

/// Mish's gradient: `grad_output * (t + self * sigmoid(self) * (1 - t^2))`
/// with `t = tanh(softplus(self))`.
///
/// ```
/// use ft_kernels::smooth_activation::mish_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let r = mish_backward(&g, &x).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] - 2.0f64.ln().tanh()).abs() < 1e-15);
/// ```
pub fn mish_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    float_map2(
        "aten::mish_backward",
        "mish_backward_cpu",
        grad_output,
        self_,
        |g, x| {
            let t = tanh_softplus(x);
            g * (t + x * sigmoid(x) * (1.0 - t * t))
        },
    )
}

/// Softplus: `log1p(exp(beta * x)) / beta`, or `x` itself where
/// `beta * x > threshold`.
///
/// ```
/// use ft_kernels::smooth_activation::softplus;
/// use ft_runtime::{Scalar, Tensor};
/// let x = Tensor::from_vec(vec![0.0f64, 30.0], &[2]).unwrap();
/// let r = softplus(&x, Scalar::Int(2), Scalar::Int(20)).unwrap().to_vec::<f64>().unwrap();
/// assert!((r[0] - 2.0f64.ln() / 2.0).abs() < 1e-15);
/// assert_eq!(r[1], 30.0);
/// ```
pub fn softplus(self_: &Tensor, beta: Scalar, threshold: Scalar) -> Result<Tensor> {
    let (b, th) = (beta.to_f64(), threshold.to_f64());
    float_map("aten::softplus", "softplus_cpu", self_, move |x| {
        if x * b > th {
            x
        } else {
            (x * b).exp().ln_1p() / b
        }
    })
}

/// Softplus's gradient: `grad_output * z / (z + 1)` with `z = exp(beta * self)`,
/// or `grad_output` where `beta * self > threshold`.
///
/// ```
/// use ft_kernels::smooth_activation::softplus_backward;
/// use ft_runtime::{Scalar, Tensor};
/// let g = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 5.0], &[2]).unwrap();
/// let r = softplus_backward(&g, &x, Scalar::Int(1), Scalar::Int(1)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, 1.0]);
/// ```
pub fn softplus_backward(grad_output: &Tensor, self_: &Tensor, beta: Scalar, threshold: Scalar) -> Result<Tensor> {
    let (b, th) = (beta.to_f64(), threshold.to_f64());
    float_map2(
        "aten::softplus_backward",
        "softplus_backward_cpu",
        grad_output,
        self_,
        move |g, x| {
            if x * b > th {
                g
            } else {
                let z = (x * b).exp();
                g * z / (z + 1.0)
            }
        },
    )
}

/// `log(sigmoid(x))` as `min(x, 0) - log1p(exp(-|x|))`, with the buffer
/// `exp(-|x|)` PyTorch's CPU kernel returns beside it (and its backward reads).
///
/// ```
/// use ft_kernels::smooth_activation::log_sigmoid_forward;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let (out, buffer) = log_sigmoid_forward(&x).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![-std::f64::consts::LN_2]);
/// assert_eq!(buffer.to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn log_sigmoid_forward(self_: &Tensor) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::log_sigmoid_forward";
    let buffer = contiguous_map(OP, self_, |x| (-x.abs()).exp())?;
    let output = contiguous_map(OP, self_, |x| x.min(0.0) - (-x.abs()).exp().ln_1p())?;
    Ok((output, buffer))
}

/// `f` over a floating `self_` into a new contiguous tensor (PyTorch's
/// `log_sigmoid_forward` allocates its outputs contiguous whatever the
/// input's layout).
fn contiguous_map(op: &str, self_: &Tensor, f: impl Fn(f64) -> f64 + Sync + Send) -> Result<Tensor> {
    let dtype = self_.dtype();
    if !dtype.is_floating_point() {
        return Err(not_implemented(op, "log_sigmoid_cpu", dtype));
    }
    let out = empty_contiguous(op, self_.sizes(), dtype)?;
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_],
        dtype,
        out: Some(&out),
    })?;
    dispatch_float!(dtype, T => iter::map1(ew.output(), ew.input(0), |x: T| from_opmath::<T>(f(x.to_f64())))?,
        _ => return Err(not_implemented(op, "log_sigmoid_cpu", dtype)));
    ew.finish()
}

/// Log-sigmoid's gradient from the input and the forward's `buffer`
/// (`exp(-|self|)`): `grad_output * (m - sign * buffer / (1 + buffer))`, with
/// `m = 1, sign = 1` for negative inputs and `m = 0, sign = -1` otherwise.
/// The three tensors promote together and broadcast to `grad_output`'s
/// shape; the result is laid out like `grad_output`.
///
/// ```
/// use ft_kernels::smooth_activation::{log_sigmoid_backward, log_sigmoid_forward};
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let (_, buffer) = log_sigmoid_forward(&x).unwrap();
/// let g = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// assert_eq!(log_sigmoid_backward(&g, &x, &buffer).unwrap().to_vec::<f64>().unwrap(), vec![0.5]);
/// ```
pub fn log_sigmoid_backward(grad_output: &Tensor, self_: &Tensor, buffer: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::log_sigmoid_backward";
    // PyTorch's operand order: (self, buffer, grad_output).
    let inputs = [self_, buffer, grad_output];
    iter::broadcast_all(OP, &inputs, None)?;
    let dtype = result_type(&[
        Operand::Tensor(self_),
        Operand::Tensor(buffer),
        Operand::Tensor(grad_output),
    ]);
    if !dtype.is_floating_point() {
        return Err(not_implemented(OP, "log_sigmoid_backward_cpu", dtype));
    }
    // Like PyTorch, the result is laid out as `empty_like(grad_output)`.
    let out = empty_strided(OP, grad_output.sizes(), &preserve_strides(grad_output), dtype)?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &inputs,
        dtype,
        out: Some(&out),
    })?;
    let (o, x, z, g) = (ew.output(), ew.input(0), ew.input(1), ew.input(2));
    dispatch_float!(dtype, T => iter::map3(o, x, z, g, |x: T, z: T, g: T| {
            let (x, z, g) = (x.to_f64(), z.to_f64(), g.to_f64());
            let (m, sign) = if x < 0.0 { (1.0, 1.0) } else { (0.0, -1.0) };
            from_opmath::<T>((m - sign * (z / (1.0 + z))) * g)
        })?,
        _ => return Err(not_implemented(OP, "log_sigmoid_backward_cpu", dtype)));
    ew.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    /// Central differences of `f` at `xs` against `df`.
    fn check_derivative(f: impl Fn(f64) -> f64, df: impl Fn(f64) -> f64) {
        for x in [-3.5f64, -0.7, 0.3, 1.9, 4.0] {
            let num = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6;
            assert!((num - df(x)).abs() < 1e-7, "at {x}: {num} vs {}", df(x));
        }
    }

    fn at(k: impl Fn(&Tensor) -> Result<Tensor>, x: f64) -> f64 {
        k(&t(vec![x], &[1])).unwrap().to_vec::<f64>().unwrap()[0]
    }

    fn grad_at(k: impl Fn(&Tensor, &Tensor) -> Result<Tensor>, x: f64) -> f64 {
        k(&t(vec![1.0f64], &[1]), &t(vec![x], &[1]))
            .unwrap()
            .to_vec::<f64>()
            .unwrap()[0]
    }

    #[test]
    fn backward_kernels_match_finite_differences() {
        check_derivative(|x| at(silu, x), |x| grad_at(silu_backward, x));
        check_derivative(|x| at(mish, x), |x| grad_at(mish_backward, x));
        let (b, th) = (Scalar::Float(1.5), Scalar::Int(20));
        check_derivative(
            |x| at(|s| softplus(s, b, th), x),
            |x| grad_at(|g, s| softplus_backward(g, s, b, th), x),
        );
        let logsig = |s: &Tensor| log_sigmoid_forward(s).map(|r| r.0);
        let logsig_grad = |g: &Tensor, s: &Tensor| log_sigmoid_backward(g, s, &log_sigmoid_forward(s)?.1);
        check_derivative(|x| at(logsig, x), |x| grad_at(logsig_grad, x));
    }

    #[test]
    fn integer_inputs_are_rejected() {
        let i = t(vec![1i64, -2], &[2]);
        assert_eq!(silu(&i).unwrap_err().kind(), ErrorKind::DType);
        assert!(mish(&i).is_err());
        assert!(softplus(&i, Scalar::Int(1), Scalar::Int(20)).is_err());
        assert!(log_sigmoid_forward(&i).is_err());
        assert!(log_sigmoid_backward(&i, &i, &i).is_err());
    }

    #[test]
    fn log_sigmoid_is_stable_for_large_inputs() {
        let x = t(vec![-800.0f64, 800.0], &[2]);
        let (out, _) = log_sigmoid_forward(&x).unwrap();
        assert_eq!(out.to_vec::<f64>().unwrap(), vec![-800.0, 0.0]);
    }
}
