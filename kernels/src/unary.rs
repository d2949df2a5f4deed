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

/// A float32 slice kernel: `f(input, output)`.
type F32Slices = fn(&[f32], &mut [f32]);

/// A float function applied in the compute type.
trait FloatFn {
    fn apply<F: FloatMath>(x: F) -> F;
    /// A vectorised float32 slice kernel that replaces `apply` for float32.
    const F32_SLICES: Option<F32Slices> = None;
}

/// Declares one [`FloatFn`] per line: `Name => |x| expression in F`.
macro_rules! float_fns {
    ($($name:ident => |$x:ident| $body:expr;)*) => {
        $(
            struct $name;
            impl FloatFn for $name {
                fn apply<F: FloatMath>($x: F) -> F {
                    $body
                }
            }
        )*
    };
}

/// `e^x`; float32 uses the vectorised [`crate::simd::exp_f32`].
struct Exp;
impl FloatFn for Exp {
    fn apply<F: FloatMath>(x: F) -> F {
        x.exp()
    }
    const F32_SLICES: Option<F32Slices> = Some(crate::simd::exp_f32);
}

float_fns! {
    Log => |x| x.ln();
    Sin => |x| x.sin();
    Cos => |x| x.cos();
    Tanh => |x| x.tanh();
    Sigmoid => |x| F::ONE.div(F::ONE.add(x.neg().exp()));
    Sqrt => |x| x.sqrt();
    Rsqrt => |x| F::ONE.div(x.sqrt());
    Reciprocal => |x| F::ONE.div(x);
    Tan => |x| x.tan();
    Sinh => |x| x.sinh();
    Cosh => |x| x.cosh();
    Asin => |x| x.asin();
    Acos => |x| x.acos();
    Atan => |x| x.atan();
    Asinh => |x| x.asinh();
    Acosh => |x| x.acosh();
    Atanh => |x| x.atanh();
    Erf => |x| x.erf();
    Expm1 => |x| x.expm1();
    Log1p => |x| x.log1p();
    Log2 => |x| x.log2();
    Log10 => |x| x.log10();
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
    if let Some(kernel) = K::F32_SLICES.filter(|_| dtype == DType::F32) {
        iter::map1_slices(o, a, kernel)?;
        return ew.finish();
    }
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

/// Square root (NaN for negative inputs).
///
/// ```
/// use ft_kernels::unary::sqrt;
/// use ft_runtime::Tensor;
/// let r = sqrt(&Tensor::from_vec(vec![4.0f64, 0.25], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 0.5]);
/// ```
pub fn sqrt(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Sqrt>("aten::sqrt", self_)
}

/// `1 / sqrt(self)` (`rsqrt(0) = inf`).
///
/// ```
/// use ft_kernels::unary::rsqrt;
/// use ft_runtime::Tensor;
/// let r = rsqrt(&Tensor::from_vec(vec![4.0f64, 0.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, f64::INFINITY]);
/// ```
pub fn rsqrt(self_: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::rsqrt";
    if !matches!(self_.dtype(), DType::F16 | DType::BF16) {
        return float_unary::<Rsqrt>(OP, self_);
    }
    // PyTorch computes reduced floats as `1 / sqrt(x)` with the square root
    // rounded to the element type first (two roundings).
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype: self_.dtype(),
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    dispatch_float!(self_.dtype(), T => iter::map1(o, a, |x: T| {
        let root = T::narrow(x.widen().sqrt());
        T::narrow(FloatMath::div(Arith::ONE, root.widen()))
    })?, _ => return Err(not_implemented(OP, OP, self_.dtype())));
    ew.finish()
}

/// `1 / self` (integers give float32: `reciprocal(0) = inf`).
///
/// ```
/// use ft_kernels::unary::reciprocal;
/// use ft_runtime::Tensor;
/// let r = reciprocal(&Tensor::from_vec(vec![2.0f64, -0.5], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.5, -2.0]);
/// ```
pub fn reciprocal(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Reciprocal>("aten::reciprocal", self_)
}

/// Tangent.
///
/// ```
/// use ft_kernels::unary::tan;
/// use ft_runtime::Tensor;
/// let r = tan(&Tensor::from_vec(vec![0.0f64], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn tan(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Tan>("aten::tan", self_)
}

/// Hyperbolic sine.
///
/// ```
/// use ft_kernels::unary::sinh;
/// use ft_runtime::Tensor;
/// let r = sinh(&Tensor::from_vec(vec![0.0f64], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn sinh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Sinh>("aten::sinh", self_)
}

/// Hyperbolic cosine.
///
/// ```
/// use ft_kernels::unary::cosh;
/// use ft_runtime::Tensor;
/// let r = cosh(&Tensor::from_vec(vec![0.0f64], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn cosh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Cosh>("aten::cosh", self_)
}

/// Arcsine (NaN outside [-1, 1]).
///
/// ```
/// use ft_kernels::unary::asin;
/// use ft_runtime::Tensor;
/// let r = asin(&Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, std::f64::consts::FRAC_PI_2]);
/// ```
pub fn asin(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Asin>("aten::asin", self_)
}

/// Arccosine (NaN outside [-1, 1]).
///
/// ```
/// use ft_kernels::unary::acos;
/// use ft_runtime::Tensor;
/// let r = acos(&Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, std::f64::consts::FRAC_PI_2]);
/// ```
pub fn acos(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Acos>("aten::acos", self_)
}

/// Arctangent.
///
/// ```
/// use ft_kernels::unary::atan;
/// use ft_runtime::Tensor;
/// let r = atan(&Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, std::f64::consts::FRAC_PI_4]);
/// ```
pub fn atan(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Atan>("aten::atan", self_)
}

/// Inverse hyperbolic sine.
///
/// ```
/// use ft_kernels::unary::asinh;
/// use ft_runtime::Tensor;
/// let r = asinh(&Tensor::from_vec(vec![0.0f64], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn asinh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Asinh>("aten::asinh", self_)
}

/// Inverse hyperbolic cosine (NaN below 1).
///
/// ```
/// use ft_kernels::unary::acosh;
/// use ft_runtime::Tensor;
/// let r = acosh(&Tensor::from_vec(vec![1.0f64], &[1]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn acosh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Acosh>("aten::acosh", self_)
}

/// Inverse hyperbolic tangent (`atanh(1) = inf`, NaN beyond).
///
/// ```
/// use ft_kernels::unary::atanh;
/// use ft_runtime::Tensor;
/// let r = atanh(&Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, f64::INFINITY]);
/// ```
pub fn atanh(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Atanh>("aten::atanh", self_)
}

/// The Gauss error function.
///
/// ```
/// use ft_kernels::unary::erf;
/// use ft_runtime::Tensor;
/// let r = erf(&Tensor::from_vec(vec![0.0f64, 10.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 1.0]);
/// ```
pub fn erf(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Erf>("aten::erf", self_)
}

/// `e^self - 1`, accurate near zero.
///
/// ```
/// use ft_kernels::unary::expm1;
/// use ft_runtime::Tensor;
/// let r = expm1(&Tensor::from_vec(vec![0.0f64, 1e-20], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 1e-20]);
/// ```
pub fn expm1(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Expm1>("aten::expm1", self_)
}

/// `ln(1 + self)`, accurate near zero.
///
/// ```
/// use ft_kernels::unary::log1p;
/// use ft_runtime::Tensor;
/// let r = log1p(&Tensor::from_vec(vec![0.0f64, -1.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, f64::NEG_INFINITY]);
/// ```
pub fn log1p(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Log1p>("aten::log1p", self_)
}

/// Base-2 logarithm.
///
/// ```
/// use ft_kernels::unary::log2;
/// use ft_runtime::Tensor;
/// let r = log2(&Tensor::from_vec(vec![8.0f64, 0.5], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, -1.0]);
/// ```
pub fn log2(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Log2>("aten::log2", self_)
}

/// Base-10 logarithm.
///
/// ```
/// use ft_kernels::unary::log10;
/// use ft_runtime::Tensor;
/// let r = log10(&Tensor::from_vec(vec![100.0f64, 1.0], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0, 0.0]);
/// ```
pub fn log10(self_: &Tensor) -> Result<Tensor> {
    float_unary::<Log10>("aten::log10", self_)
}

/// A unary op that keeps the input dtype: a float function, an integer
/// function (computed in int64 and wrapped back), and the bool behaviour.
trait KeepFn {
    /// The CPU kernel name PyTorch reports for an unsupported bool input.
    const KERNEL: &'static str;
    /// `Some(f)` if bool inputs are supported.
    const BOOL: Option<fn(bool) -> bool>;
    fn float<F: FloatMath>(x: F) -> F;
    fn int(x: i64) -> i64;
}

struct Abs;
impl KeepFn for Abs {
    const KERNEL: &'static str = "abs_cpu";
    const BOOL: Option<fn(bool) -> bool> = None;
    fn float<F: FloatMath>(x: F) -> F {
        x.abs()
    }
    fn int(x: i64) -> i64 {
        x.wrapping_abs()
    }
}

struct Ceil;
impl KeepFn for Ceil {
    const KERNEL: &'static str = "ceil_vml_cpu";
    const BOOL: Option<fn(bool) -> bool> = None;
    fn float<F: FloatMath>(x: F) -> F {
        x.ceil()
    }
    fn int(x: i64) -> i64 {
        x
    }
}

struct Floor;
impl KeepFn for Floor {
    const KERNEL: &'static str = "floor_vml_cpu";
    const BOOL: Option<fn(bool) -> bool> = None;
    fn float<F: FloatMath>(x: F) -> F {
        x.floor()
    }
    fn int(x: i64) -> i64 {
        x
    }
}

struct Round;
impl KeepFn for Round {
    const KERNEL: &'static str = "round_vml_cpu";
    const BOOL: Option<fn(bool) -> bool> = None;
    fn float<F: FloatMath>(x: F) -> F {
        x.round_even()
    }
    fn int(x: i64) -> i64 {
        x
    }
}

struct Trunc;
impl KeepFn for Trunc {
    const KERNEL: &'static str = "trunc_vml_cpu";
    const BOOL: Option<fn(bool) -> bool> = None;
    fn float<F: FloatMath>(x: F) -> F {
        x.trunc()
    }
    fn int(x: i64) -> i64 {
        x
    }
}

struct Sign;
impl KeepFn for Sign {
    const KERNEL: &'static str = "sign_cpu";
    const BOOL: Option<fn(bool) -> bool> = Some(|b| b);
    fn float<F: FloatMath>(x: F) -> F {
        // `(0 < x) - (x < 0)`: zero (of either sign) and NaN give +0.
        if x > F::ZERO {
            F::ONE
        } else if x < F::ZERO {
            F::ONE.neg()
        } else {
            F::ZERO
        }
    }
    fn int(x: i64) -> i64 {
        x.signum()
    }
}

/// Applies `K` keeping the dtype of `self_`.
fn keep_unary<K: KeepFn>(op: &str, self_: &Tensor) -> Result<Tensor> {
    let dtype = self_.dtype();
    if dtype == DType::Bool && K::BOOL.is_none() {
        return Err(not_implemented(op, K::KERNEL, dtype));
    }
    let ew = Elementwise::new(Spec {
        op,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, a) = (ew.output(), ew.input(0));
    match dtype {
        DType::Bool => {
            let f = K::BOOL.ok_or_else(|| not_implemented(op, K::KERNEL, dtype))?;
            iter::map1(o, a, f)?
        }
        _ => dispatch_float!(dtype, T => iter::map1(o, a, |x: T| T::narrow(K::float(x.widen())))?,
            _ => dispatch_dtype!(dtype, T => iter::map1(o, a, |x: T| T::from_i64(K::int(x.to_i64())))?)),
    }
    ew.finish()
}

/// Absolute value keeping the dtype (integers wrap: `abs(-128i8) = -128`);
/// bool is an error.
///
/// ```
/// use ft_kernels::unary::abs;
/// use ft_runtime::Tensor;
/// let r = abs(&Tensor::from_vec(vec![-3i8, -128, 4], &[3]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<i8>().unwrap(), vec![3, -128, 4]);
/// assert!(abs(&Tensor::from_vec(vec![true], &[1]).unwrap()).is_err());
/// ```
pub fn abs(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Abs>("aten::abs", self_)
}

/// Rounds up to an integer; integer inputs are copied, bool is an error.
///
/// ```
/// use ft_kernels::unary::ceil;
/// use ft_runtime::Tensor;
/// let r = ceil(&Tensor::from_vec(vec![-1.5f32, 1.2], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![-1.0, 2.0]);
/// ```
pub fn ceil(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Ceil>("aten::ceil", self_)
}

/// Rounds down to an integer; integer inputs are copied, bool is an error.
///
/// ```
/// use ft_kernels::unary::floor;
/// use ft_runtime::Tensor;
/// let r = floor(&Tensor::from_vec(vec![-1.5f32, 1.7], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![-2.0, 1.0]);
/// ```
pub fn floor(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Floor>("aten::floor", self_)
}

/// Rounds to the nearest integer, ties to even; integer inputs are copied,
/// bool is an error.
///
/// ```
/// use ft_kernels::unary::round;
/// use ft_runtime::Tensor;
/// let r = round(&Tensor::from_vec(vec![0.5f64, 1.5, 2.5, -0.5], &[4]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![0.0, 2.0, 2.0, -0.0]);
/// ```
pub fn round(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Round>("aten::round", self_)
}

/// Rounds toward zero; integer inputs are copied, bool is an error.
///
/// ```
/// use ft_kernels::unary::trunc;
/// use ft_runtime::Tensor;
/// let r = trunc(&Tensor::from_vec(vec![-1.7f64, 1.7], &[2]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// ```
pub fn trunc(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Trunc>("aten::trunc", self_)
}

/// `-1`, `0` or `1` by the sign of each element, keeping the dtype (NaN and
/// `-0.0` give `0`; bool is returned unchanged).
///
/// ```
/// use ft_kernels::unary::sign;
/// use ft_runtime::Tensor;
/// let r = sign(&Tensor::from_vec(vec![-2.5f32, 0.0, 3.0], &[3]).unwrap()).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![-1.0, 0.0, 1.0]);
/// ```
pub fn sign(self_: &Tensor) -> Result<Tensor> {
    keep_unary::<Sign>("aten::sign", self_)
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

    #[test]
    fn keep_dtype_ops_semantics() {
        let x = t(vec![0.5f64, 1.5, 2.5, -0.5, -1.5, -2.5], &[6]);
        assert_eq!(
            round(&x).unwrap().to_vec::<f64>().unwrap(),
            vec![0.0, 2.0, 2.0, -0.0, -2.0, -2.0]
        );
        let s = sign(&t(vec![-0.0f32, f32::NAN, -3.0, 7.0], &[4]))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(s, vec![0.0, 0.0, -1.0, 1.0]);
        assert!(s[0].is_sign_positive() && s[1].is_sign_positive());
        assert_eq!(
            sign(&t(vec![-3i64, 0, 9], &[3])).unwrap().to_vec::<i64>().unwrap(),
            vec![-1, 0, 1]
        );
        assert_eq!(
            sign(&t(vec![true, false], &[2])).unwrap().to_vec::<bool>().unwrap(),
            vec![true, false]
        );
        for op in [abs, ceil, floor, round, trunc] {
            let e = op(&t(vec![true], &[1])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::DType);
            let r = op(&t(vec![3u8, 0], &[2])).unwrap();
            assert_eq!(r.dtype(), DType::U8);
            assert_eq!(r.to_vec::<u8>().unwrap(), vec![3, 0]);
        }
        assert_eq!(
            abs(&t(vec![-128i8, -1], &[2])).unwrap().to_vec::<i8>().unwrap(),
            vec![-128, 1]
        );
        let h = round(&t(vec![f16::from_f32(2.5)], &[])).unwrap();
        assert_eq!(h.to_vec::<f16>().unwrap(), vec![f16::from_f32(2.0)]);
    }

    #[test]
    fn new_float_ops_promote_and_compute() {
        for op in [
            sqrt, rsqrt, reciprocal, tan, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, erf, expm1, log1p, log2,
            log10,
        ] {
            assert_eq!(op(&t(vec![1i32], &[1])).unwrap().dtype(), DType::F32);
            assert_eq!(op(&t(vec![true], &[1])).unwrap().dtype(), DType::F32);
            assert_eq!(op(&t(vec![bf16::from_f32(0.5)], &[])).unwrap().dtype(), DType::BF16);
        }
        assert_eq!(
            reciprocal(&t(vec![0i64], &[1])).unwrap().to_vec::<f32>().unwrap(),
            vec![f32::INFINITY]
        );
        // reduced floats round the square root before dividing, like PyTorch
        let h = rsqrt(&t(vec![bf16::from_f32(2.1875)], &[1])).unwrap();
        assert_eq!(h.to_vec::<bf16>().unwrap(), vec![bf16::from_f32(0.67578125)]);
        assert!(asin(&t(vec![2.0f64], &[1])).unwrap().to_vec::<f64>().unwrap()[0].is_nan());
        let e = erf(&t(vec![0.5f64, -1.5], &[2])).unwrap().to_vec::<f64>().unwrap();
        assert!((e[0] - 0.5204998778130465).abs() < 4e-16, "{}", e[0]);
        assert!((e[1] + 0.9661051464753108).abs() < 4e-16, "{}", e[1]);
    }
}
