//! Elementwise unary math (`neg`, `exp`, `log`, `sin`, `cos`, `relu`, `sigmoid`,
//! `tanh`) and the backward kernels of the activations
//! (`threshold_backward`, `sigmoid_backward`, `tanh_backward`).
//!
//! Float functions of integral or bool inputs return the default float dtype
//! (PyTorch's int-to-float promotion); float inputs keep their dtype, with
//! float16/bfloat16 computed in float32.

use crate::copy::check_scalar_fits;
use crate::iter::{self, dispatch_float, Arith, Elementwise, FloatMath, OpMath, Spec};
use ft_runtime::promotion::{result_type, Operand};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// A float function applied in the compute type.
trait FloatFn {
    fn apply<F: FloatMath>(x: F) -> F;
}

struct Exp;
impl FloatFn for Exp {
    fn apply<F: FloatMath>(x: F) -> F {
        x.exp()
    }
}

struct Log;
impl FloatFn for Log {
    fn apply<F: FloatMath>(x: F) -> F {
        x.ln()
    }
}

struct Sin;
impl FloatFn for Sin {
    fn apply<F: FloatMath>(x: F) -> F {
        x.sin()
    }
}

struct Cos;
impl FloatFn for Cos {
    fn apply<F: FloatMath>(x: F) -> F {
        x.cos()
    }
}

struct Tanh;
impl FloatFn for Tanh {
    fn apply<F: FloatMath>(x: F) -> F {
        x.tanh()
    }
}

struct Sigmoid;
impl FloatFn for Sigmoid {
    fn apply<F: FloatMath>(x: F) -> F {
        F::ONE.div(F::ONE.add(x.neg().exp()))
    }
}

/// "`name` not implemented for 'Long'", PyTorch's missing-dtype message.
fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// Applies `K` elementwise; integral and bool inputs compute in float32.
fn float_unary<K: FloatFn>(op: &str, self_: &Tensor) -> Result<Tensor> {
    let dtype = if self_.dtype().is_floating_point() {
        self_.dtype()
    } else {
        DEFAULT_DTYPE
    };
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_float!(dtype, T => iter::map1(o, a, |x: T| T::narrow(K::apply(x.widen())))?,
        _ => return Err(not_implemented(op, op, dtype)));
    ew.finish()
}

/// `-self`; integers wrap, bool is an error.
///
/// ```
/// use ft_kernels::unary::neg;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![1i8, -128], &[2]).unwrap();
/// assert_eq!(neg(&a).unwrap().to_vec::<i8>().unwrap(), vec![-1, -128]);
/// assert!(neg(&Tensor::from_vec(vec![true], &[1]).unwrap()).is_err());
/// ```
pub fn neg(self_: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::neg";
    if self_.dtype() == DType::Bool {
        return Err(Error::dtype(
            OP,
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
        ));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype: self_.dtype(),
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_dtype!(o.dtype(), T => iter::map1(o, a, |x: T| T::narrow(x.widen().neg())))?;
    ew.finish()
}

/// `e^self`.
///
/// ```
/// use ft_kernels::unary::exp;
/// use ft_runtime::{Tensor, DType};
/// let r = exp(&Tensor::from_vec(vec![0i64, 1], &[2]).unwrap()).unwrap();
/// assert_eq!(r.dtype(), DType::F32);
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 1.0f32.exp()]);
/// ```
pub fn exp(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Exp>("aten::exp", self_)
}

/// Natural logarithm (`log(0) = -inf`, negative inputs give NaN).
///
/// ```
/// use ft_kernels::unary::log;
/// use ft_runtime::Tensor;
/// let r = log(&Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, f64::NEG_INFINITY]);
/// ```
pub fn log(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Log>("aten::log", self_)
}

/// Sine.
///
/// ```
/// use ft_kernels::unary::sin;
/// use ft_runtime::Tensor;
/// let r = sin(&Tensor::from_vec(vec![0.0f32], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn sin(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Sin>("aten::sin", self_)
}

/// Cosine.
///
/// ```
/// use ft_kernels::unary::cos;
/// use ft_runtime::{Tensor, DType};
/// let r = cos(&Tensor::from_vec(vec![0i32], &[1]).unwrap()).unwrap();
/// assert_eq!((r.dtype(), r.to_vec::<f32>().unwrap()), (DType::F32, vec![1.0]));
/// ```
pub fn cos(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Cos>("aten::cos", self_)
}

/// Hyperbolic tangent.
///
/// ```
/// use ft_kernels::unary::tanh;
/// use ft_runtime::Tensor;
/// let r = tanh(&Tensor::from_vec(vec![0.0f64, 100.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 1.0]);
/// ```
pub fn tanh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Tanh>("aten::tanh", self_)
}

/// Logistic sigmoid `1 / (1 + e^-x)`.
///
/// ```
/// use ft_kernels::unary::sigmoid;
/// use ft_runtime::Tensor;
/// let r = sigmoid(&Tensor::from_vec(vec![0.0f32], &[]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn sigmoid(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Sigmoid>("aten::sigmoid", self_)
}

/// `max(self, 0)` keeping the dtype (NaN propagates); bool is an error.
///
/// ```
/// use ft_kernels::unary::relu;
/// use ft_runtime::Tensor;
/// let r = relu(&Tensor::from_vec(vec![-2i32, 3], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![0, 3]);
/// ```
pub fn relu(self_: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::relu";
    if self_.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "Boolean inputs not supported for relu"));
    }
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype: self_.dtype(),
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_dtype!(o.dtype(), T => relu_typed::<T>(o, a))?;
    ew.finish()
}

fn relu_typed<T: Element>(o: &Tensor, a: &Tensor) -> Result<()> {
    let zero = T::from_bool(false);
    iter::map1(o, a, move |x: T| if x < zero { zero } else { x })
}

/// ReLU's gradient: `0` where `self <= threshold`, else `grad_output`
/// (broadcasting; the dtype is the promotion of the two tensors).
///
/// ```
/// use ft_kernels::unary::threshold_backward;
/// use ft_runtime::{Tensor, Scalar};
/// let g = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
/// let x = Tensor::from_vec(vec![-1.0f32, 0.0, 5.0], &[3]).unwrap();
/// let r = threshold_backward(&g, &x, Scalar::Int(0)).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![0.0, 0.0, 3.0]);
/// ```
pub fn threshold_backward(grad_output: &Tensor, self_: &Tensor, threshold: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::threshold_backward";
    // PyTorch's operand order is (self, grad): self's layout leads.
    let inputs = [self_, grad_output];
    iter::broadcast_all(OP, &inputs, None)?;
    let dtype = result_type(&[Operand::Tensor(self_), Operand::Tensor(grad_output)]);
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "threshold_cpu", dtype));
    }
    check_scalar_fits(OP, threshold, dtype.opmath())?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &inputs,
        dtype,
        out: None,
    })?;
    let (o, x, g) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_dtype!(dtype, T => threshold_typed::<T>(o, x, g, threshold))?;
    ew.finish()
}

fn threshold_typed<T: OpMath>(o: &Tensor, x: &Tensor, g: &Tensor, threshold: Scalar) -> Result<()> {
    let t = T::acc_from_scalar(threshold);
    let zero = T::from_bool(false);
    iter::map2(o, x, g, move |x: T, g: T| if x.widen() <= t { zero } else { g })
}

/// The promoted dtype of a float-only backward kernel, after the shape check.
fn float_backward_dtype(op: &str, kernel: &str, a: &Tensor, b: &Tensor) -> Result<DType> {
    iter::broadcast_all(op, &[a, b], None)?;
    let dtype = result_type(&[Operand::Tensor(a), Operand::Tensor(b)]);
    if !dtype.is_floating_point() {
        return Err(not_implemented(op, kernel, dtype));
    }
    Ok(dtype)
}

/// Sigmoid's gradient from its output `y`: `grad_output * (1 - y) * y`.
///
/// ```
/// use ft_kernels::unary::sigmoid_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
/// let y = Tensor::from_vec(vec![0.25f64], &[1]).unwrap();
/// assert_eq!(sigmoid_backward(&g, &y).unwrap().to_vec::<f64>().unwrap(), vec![0.375]);
/// ```
pub fn sigmoid_backward(grad_output: &Tensor, output: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::sigmoid_backward";
    let dtype = float_backward_dtype(OP, "sigmoid_backward_cpu", grad_output, output)?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[grad_output, output],
        dtype,
        out: None,
    })?;
    let (o, g, y) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_float!(dtype, T => iter::map2(o, g, y, |g: T, y: T| {
        let (g, y) = (g.widen(), y.widen());
        T::narrow(g.mul(Arith::sub(Arith::ONE, y)).mul(y))
    })?, _ => return Err(not_implemented(OP, "sigmoid_backward_cpu", dtype)));
    ew.finish()
}

/// Tanh's gradient from its output `y`: `grad_output * (1 - y * y)`.
///
/// ```
/// use ft_kernels::unary::tanh_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![2.0f32], &[1]).unwrap();
/// let y = Tensor::from_vec(vec![0.5f32], &[1]).unwrap();
/// assert_eq!(tanh_backward(&g, &y).unwrap().to_vec::<f32>().unwrap(), vec![1.5]);
/// ```
pub fn tanh_backward(grad_output: &Tensor, output: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::tanh_backward";
    let dtype = float_backward_dtype(OP, "tanh_backward_cpu", grad_output, output)?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[grad_output, output],
        dtype,
        out: None,
    })?;
    let (o, g, y) = (ew.output(), ew.input(0), ew.input(1));
    dispatch_float!(dtype, T => iter::map2(o, g, y, |g: T, y: T| {
        let (g, y) = (g.widen(), y.widen());
        T::narrow(g.mul(Arith::sub(Arith::ONE, y.mul(y))))
    })?, _ => return Err(not_implemented(OP, "tanh_backward_cpu", dtype)));
    ew.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::half::{bf16, f16};
    use ft_runtime::ErrorKind;

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn float_ops_promote_integers_and_keep_floats() {
        for op in [exp, log, sin, cos, tanh, sigmoid] {
            assert_eq!(op(&t(vec![1i32, 2], &[2])).unwrap().dtype(), DType::F32);
            assert_eq!(op(&t(vec![true, false], &[2])).unwrap().dtype(), DType::F32);
            assert_eq!(op(&t(vec![1.0f64], &[1])).unwrap().dtype(), DType::F64);
            assert_eq!(op(&t(vec![f16::from_f32(1.0)], &[1])).unwrap().dtype(), DType::F16);
            assert_eq!(op(&t(vec![bf16::from_f32(1.0)], &[])).unwrap().dim(), 0);
            assert_eq!(op(&t(Vec::<f32>::new(), &[0, 2])).unwrap().sizes(), &[0, 2]);
        }
    }

    #[test]
    fn float_ops_values() {
        let x = t(vec![0.5f64, -1.0, 2.0], &[3]);
        assert_eq!(
            exp(&x).unwrap().to_vec::<f64>().unwrap(),
            vec![0.5f64.exp(), (-1.0f64).exp(), 2.0f64.exp()]
        );
        assert_eq!(
            sin(&x).unwrap().to_vec::<f64>().unwrap(),
            vec![0.5f64.sin(), (-1.0f64).sin(), 2.0f64.sin()]
        );
        assert!(log(&x).unwrap().to_vec::<f64>().unwrap()[1].is_nan());
        let s = sigmoid(&x).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(s[0], 1.0 / (1.0 + (-0.5f64).exp()));
        let h = exp(&t(vec![f16::from_f32(1.0)], &[1]))
            .unwrap()
            .to_vec::<f16>()
            .unwrap();
        assert_eq!(h, vec![f16::from_f32(1.0f32.exp())]);
    }

    #[test]
    fn unary_output_layout_follows_input() {
        let m = t((0..6).map(|i| i as f32).collect(), &[2, 3]);
        let mt = m.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let r = neg(&mt).unwrap();
        assert_eq!(r.strides(), &[1, 3]);
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![-0.0, -3.0, -1.0, -4.0, -2.0, -5.0]);
        let sliced = m.as_view(&[2, 2], &[3, 2], 0).unwrap();
        let r = exp(&sliced).unwrap();
        assert_eq!(r.strides(), &[2, 1]);
        let expanded = t(vec![1i64, 2], &[2]).as_view(&[3, 2], &[0, 1], 0).unwrap();
        let r = relu(&expanded).unwrap();
        assert_eq!(r.strides(), &[2, 1]);
        assert_eq!(r.to_vec::<i64>().unwrap(), vec![1, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn neg_and_relu_rules() {
        let e = neg(&t(vec![true], &[1])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DType);
        assert!(e.message().starts_with("Negation, the `-` operator, on a bool tensor"));
        assert_eq!(
            neg(&t(vec![1u8, 2], &[2])).unwrap().to_vec::<u8>().unwrap(),
            vec![255, 254]
        );
        let e = relu(&t(vec![true], &[1])).unwrap_err();
        assert_eq!(e.message(), "Boolean inputs not supported for relu");
        let r = relu(&t(vec![-1.0f32, f32::NAN, -0.0, 2.0], &[4]))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(r[0], 0.0);
        assert!(r[1].is_nan());
        assert!(r[2] == 0.0 && r[2].is_sign_negative());
        assert_eq!(r[3], 2.0);
        let h = relu(&t(vec![f16::from_f32(-3.0), f16::from_f32(3.0)], &[2])).unwrap();
        assert_eq!(h.to_vec::<f16>().unwrap(), vec![f16::from_f32(0.0), f16::from_f32(3.0)]);
    }

    #[test]
    fn threshold_backward_rules() {
        let g = t(vec![1.0f32, 2.0], &[2]);
        let x = t(vec![f64::NAN, 0.5], &[2, 1]);
        let r = threshold_backward(&g, &x, Scalar::Float(0.5)).unwrap();
        assert_eq!(r.dtype(), DType::F64);
        assert_eq!(r.sizes(), &[2, 2]);
        assert_eq!(
            r.to_vec::<f64>().unwrap(),
            vec![1.0, 2.0, 0.0, 0.0],
            "NaN passes the gradient"
        );
        let gi = t(vec![5i64, 6], &[2]);
        let xi = t(vec![-1i64, 1], &[2]);
        assert_eq!(
            threshold_backward(&gi, &xi, Scalar::Int(0))
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            vec![0, 6]
        );
        let b = t(vec![true], &[1]);
        let e = threshold_backward(&b, &b, Scalar::Int(0)).unwrap_err();
        assert_eq!(e.message(), "\"threshold_cpu\" not implemented for 'Bool'");
        let i8t = t(vec![1i8], &[1]);
        assert!(threshold_backward(&i8t, &i8t, Scalar::Int(300)).is_err());
        let e = threshold_backward(&g, &t(vec![1.0f32; 3], &[3]), Scalar::Int(0)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
    }

    #[test]
    fn sigmoid_and_tanh_backward() {
        let g = t(vec![f16::from_f32(1.0), f16::from_f32(2.0)], &[2]);
        let y = t(vec![f16::from_f32(0.5)], &[]);
        let r = sigmoid_backward(&g, &y).unwrap();
        assert_eq!(r.dtype(), DType::F16);
        assert_eq!(
            r.to_vec::<f16>().unwrap(),
            vec![f16::from_f32(0.25), f16::from_f32(0.5)]
        );
        let r = tanh_backward(&g, &y).unwrap();
        assert_eq!(
            r.to_vec::<f16>().unwrap(),
            vec![f16::from_f32(0.75), f16::from_f32(1.5)]
        );
        let gi = t(vec![1i64], &[1]);
        let e = sigmoid_backward(&gi, &gi).unwrap_err();
        assert_eq!(e.message(), "\"sigmoid_backward_cpu\" not implemented for 'Long'");
        let e = tanh_backward(&gi, &gi).unwrap_err();
        assert_eq!(e.message(), "\"tanh_backward_cpu\" not implemented for 'Long'");
        let mixed = tanh_backward(&gi, &t(vec![0.5f32], &[1])).unwrap();
        assert_eq!(mixed.to_vec::<f32>().unwrap(), vec![0.75]);
    }
}
