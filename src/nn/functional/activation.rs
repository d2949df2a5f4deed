//! Activation functions of `torch.nn.functional`: `F::relu`, `F::gelu`,
//! `F::softmax`, `F::prelu`, …, and their in-place `F::x_` forms.
//!
//! Each is the aten op PyTorch's function calls (`F::silu` is
//! `aten::silu`), or the same composition of ops where PyTorch composes in
//! Python (`F::softsign`, `F::tanhshrink`, `F::softmin`), so gradients flow
//! through the ops called.

use crate::ops;
use crate::{DType, Error, Result, Tensor};

// ---------------------------------------------------------------- options

/// Options of [`leaky_relu`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReluOpts {
    /// Slope of the negative part (`0.01`).
    pub negative_slope: f64,
}

impl Default for LeakyReluOpts {
    fn default() -> Self {
        LeakyReluOpts { negative_slope: 0.01 }
    }
}

/// Options of [`elu`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EluOpts {
    /// Scale of the negative part (`1.0`).
    pub alpha: f64,
}

impl Default for EluOpts {
    fn default() -> Self {
        EluOpts { alpha: 1.0 }
    }
}

/// Options of [`celu`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CeluOpts {
    /// Scale of the negative part (`1.0`); 0 is an error.
    pub alpha: f64,
}

impl Default for CeluOpts {
    fn default() -> Self {
        CeluOpts { alpha: 1.0 }
    }
}

/// GELU's `approximate=` argument: `'none'` or `'tanh'`.
///
/// ```
/// use frankentorch::nn::functional::Approximate;
/// assert_eq!(Approximate::default().as_str(), "none");
/// assert_eq!(Approximate::Tanh.as_str(), "tanh");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Approximate {
    /// The exact `x * Phi(x)` (`'none'`, PyTorch's default).
    #[default]
    None,
    /// The tanh approximation (`'tanh'`).
    Tanh,
}

impl Approximate {
    /// Python's spelling: `"none"` or `"tanh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Approximate::None => "none",
            Approximate::Tanh => "tanh",
        }
    }
}

/// Options of [`gelu`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeluOpts {
    /// Exact or tanh-approximated (`'none'`).
    pub approximate: Approximate,
}

/// Options of [`softplus`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftplusOpts {
    /// Sharpness `beta` (`1`).
    pub beta: f64,
    /// Above `beta * x > threshold` the function is the identity (`20`).
    pub threshold: f64,
}

impl Default for SoftplusOpts {
    fn default() -> Self {
        SoftplusOpts {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

/// Options of [`hardtanh`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardtanhOpts {
    /// Lower bound (`-1.0`).
    pub min_val: f64,
    /// Upper bound (`1.0`); below `min_val` is an error.
    pub max_val: f64,
}

impl Default for HardtanhOpts {
    fn default() -> Self {
        HardtanhOpts {
            min_val: -1.0,
            max_val: 1.0,
        }
    }
}

/// Options of [`softmax`], [`log_softmax`] and [`softmin`] (Python's
/// defaults): the dim (`None`: PyTorch's deprecated implicit choice, dim 0
/// for 0-, 1- and 3-dim inputs, else dim 1) and the dtype to convert to first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxOpts {
    /// The dim to normalize along (`None`).
    pub dim: Option<i64>,
    /// Converts the input to this dtype first (`None`).
    pub dtype: Option<DType>,
}

/// Options of [`softmin`]: the same as [`SoftmaxOpts`].
pub type SoftminOpts = SoftmaxOpts;
/// Options of [`log_softmax`]: the same as [`SoftmaxOpts`].
pub type LogSoftmaxOpts = SoftmaxOpts;

/// Options of [`glu`] (Python's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GluOpts {
    /// The dim split in halves (`-1`).
    pub dim: i64,
}

impl Default for GluOpts {
    fn default() -> Self {
        GluOpts { dim: -1 }
    }
}

// ------------------------------------------------------ rectifier family

/// `F.relu`: `max(input, 0)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f32, 2.0], &[2]).unwrap();
/// assert_eq!(F::relu(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn relu(input: &Tensor) -> Result<Tensor> {
    ops::relu(input)
}

/// `F.relu(inplace=True)`: writes `max(input, 0)` into `input`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f32, 2.0], &[2]).unwrap();
/// F::relu_(&x).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn relu_(input: &Tensor) -> Result<Tensor> {
    ops::relu_(input)
}

/// `F.relu6`: `min(max(input, 0), 6)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f32, 7.0], &[2]).unwrap();
/// assert_eq!(F::relu6(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 6.0]);
/// ```
pub fn relu6(input: &Tensor) -> Result<Tensor> {
    ops::relu6(input)
}

/// `F.relu6(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![8i64, -3], &[2]).unwrap();
/// F::relu6_(&x).unwrap();
/// assert_eq!(x.to_vec::<i64>().unwrap(), vec![6, 0]);
/// ```
pub fn relu6_(input: &Tensor) -> Result<Tensor> {
    ops::relu6_(input)
}

/// `F.leaky_relu`: `input` where positive, else `negative_slope * input`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// let y = F::leaky_relu(&x, F::LeakyReluOpts { negative_slope: 0.5 }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 3.0]);
/// ```
pub fn leaky_relu(input: &Tensor, opts: LeakyReluOpts) -> Result<Tensor> {
    ops::leaky_relu(input, opts.negative_slope)
}

/// `F.leaky_relu(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
/// F::leaky_relu_(&x, Default::default()).unwrap();
/// assert_eq!(x.to_vec::<f64>().unwrap(), vec![-0.02, 3.0]);
/// ```
pub fn leaky_relu_(input: &Tensor, opts: LeakyReluOpts) -> Result<Tensor> {
    ops::leaky_relu_(input, opts.negative_slope)
}

/// `F.threshold`: `value` where `input <= threshold`, else `input`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f32, 2.0], &[2]).unwrap();
/// assert_eq!(F::threshold(&x, 1.0, -9.0).unwrap().to_vec::<f32>().unwrap(), vec![-9.0, 2.0]);
/// ```
pub fn threshold(input: &Tensor, threshold: f64, value: f64) -> Result<Tensor> {
    ops::threshold_activation(input, threshold, value)
}

/// `F.threshold(inplace=True)` (`F.threshold_`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.5f32, 2.0], &[2]).unwrap();
/// F::threshold_(&x, 1.0, 0.0).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn threshold_(input: &Tensor, threshold: f64, value: f64) -> Result<Tensor> {
    ops::threshold_activation_(input, threshold, value)
}

/// `F.hardtanh`: `input` clamped to `[min_val, max_val]`; `min_val > max_val`
/// is an error (Python's `ValueError`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-3.0f32, 0.5, 3.0], &[3]).unwrap();
/// assert_eq!(F::hardtanh(&x, Default::default()).unwrap().to_vec::<f32>().unwrap(), vec![-1.0, 0.5, 1.0]);
/// assert!(F::hardtanh(&x, F::HardtanhOpts { min_val: 1.0, max_val: 0.0 }).is_err());
/// ```
pub fn hardtanh(input: &Tensor, opts: HardtanhOpts) -> Result<Tensor> {
    check_bounds(opts)?;
    ops::hardtanh(input, opts.min_val, opts.max_val)
}

/// `F.hardtanh(inplace=True)` (`F.hardtanh_`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-3.0f32, 3.0], &[2]).unwrap();
/// F::hardtanh_(&x, F::HardtanhOpts { min_val: 0.0, max_val: 2.0 }).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn hardtanh_(input: &Tensor, opts: HardtanhOpts) -> Result<Tensor> {
    check_bounds(opts)?;
    ops::hardtanh_(input, opts.min_val, opts.max_val)
}

fn check_bounds(opts: HardtanhOpts) -> Result<()> {
    if opts.min_val > opts.max_val {
        return Err(Error::invalid("F.hardtanh", "min_val cannot be greater than max_val"));
    }
    Ok(())
}

/// `F.prelu`: `input` where positive, else `weight * input`, with one slope
/// or one per channel (`input.size(1)`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-2.0f32, 3.0], &[2]).unwrap();
/// let w = Tensor::from_vec(vec![0.25f32], &[1]).unwrap();
/// assert_eq!(F::prelu(&x, &w).unwrap().to_vec::<f32>().unwrap(), vec![-0.5, 3.0]);
/// ```
pub fn prelu(input: &Tensor, weight: &Tensor) -> Result<Tensor> {
    ops::prelu(input, weight)
}

// ------------------------------------------------- exponential family

/// `F.elu`: `input` where positive, else `alpha * (exp(input) - 1)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 2.0], &[2]).unwrap();
/// assert_eq!(F::elu(&x, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn elu(input: &Tensor, opts: EluOpts) -> Result<Tensor> {
    ops::elu(input, opts.alpha, 1, 1)
}

/// `F.elu(inplace=True)` (`F.elu_`).
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 2.0], &[2]).unwrap();
/// F::elu_(&x, F::EluOpts { alpha: 2.0 }).unwrap();
/// assert_eq!(x.to_vec::<f64>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn elu_(input: &Tensor, opts: EluOpts) -> Result<Tensor> {
    ops::elu_(input, opts.alpha, 1, 1)
}

/// `F.selu`: `scale * elu(input, alpha)` with SELU's fixed constants.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(F::selu(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn selu(input: &Tensor) -> Result<Tensor> {
    ops::selu(input)
}

/// `F.selu(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// F::selu_(&x).unwrap();
/// assert!((x.to_vec::<f64>().unwrap()[0] - 1.0507009873554805).abs() < 1e-15);
/// ```
pub fn selu_(input: &Tensor) -> Result<Tensor> {
    ops::selu_(input)
}

/// `F.celu`: `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3.0f64], &[1]).unwrap();
/// assert_eq!(F::celu(&x, F::CeluOpts { alpha: 2.0 }).unwrap().to_vec::<f64>().unwrap(), vec![3.0]);
/// assert!(F::celu(&x, F::CeluOpts { alpha: 0.0 }).is_err());
/// ```
pub fn celu(input: &Tensor, opts: CeluOpts) -> Result<Tensor> {
    ops::celu(input, opts.alpha)
}

/// `F.celu(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3.0f64], &[1]).unwrap();
/// F::celu_(&x, Default::default()).unwrap();
/// assert_eq!(x.to_vec::<f64>().unwrap(), vec![3.0]);
/// ```
pub fn celu_(input: &Tensor, opts: CeluOpts) -> Result<Tensor> {
    ops::celu_(input, opts.alpha)
}

/// `F.gelu`: `x * Phi(x)`, or its tanh approximation.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let opts = F::GeluOpts { approximate: F::Approximate::Tanh };
/// assert_eq!(F::gelu(&x, opts).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn gelu(input: &Tensor, opts: GeluOpts) -> Result<Tensor> {
    ops::gelu_full(input, opts.approximate.as_str())
}

// ------------------------------------------------------ logistic family

/// `F.sigmoid`: `1 / (1 + exp(-input))`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// assert_eq!(F::sigmoid(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn sigmoid(input: &Tensor) -> Result<Tensor> {
    ops::sigmoid(input)
}

/// `F.tanh`: the hyperbolic tangent.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// assert_eq!(F::tanh(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn tanh(input: &Tensor) -> Result<Tensor> {
    ops::tanh(input)
}

/// `F.silu`: `input * sigmoid(input)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// assert_eq!(F::silu(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn silu(input: &Tensor) -> Result<Tensor> {
    ops::silu(input)
}

/// `F.silu(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// F::silu_(&x).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn silu_(input: &Tensor) -> Result<Tensor> {
    ops::silu_(input)
}

/// `F.mish`: `input * tanh(softplus(input))`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// assert_eq!(F::mish(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn mish(input: &Tensor) -> Result<Tensor> {
    ops::mish(input)
}

/// `F.mish(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// F::mish_(&x).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn mish_(input: &Tensor) -> Result<Tensor> {
    ops::mish_(input)
}

/// `F.softplus`: `log(1 + exp(beta * input)) / beta`, the identity where
/// `beta * input > threshold`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 30.0], &[2]).unwrap();
/// let y = F::softplus(&x, Default::default()).unwrap().to_vec::<f64>().unwrap();
/// assert_eq!(y, vec![std::f64::consts::LN_2, 30.0]);
/// ```
pub fn softplus(input: &Tensor, opts: SoftplusOpts) -> Result<Tensor> {
    ops::softplus(input, opts.beta, opts.threshold)
}

/// `F.logsigmoid`: `log(sigmoid(input))`, computed stably.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1000.0f64], &[1]).unwrap();
/// assert_eq!(F::logsigmoid(&x).unwrap().to_vec::<f64>().unwrap(), vec![-1000.0]);
/// ```
pub fn logsigmoid(input: &Tensor) -> Result<Tensor> {
    ops::log_sigmoid(input)
}

/// `F.hardsigmoid`: `min(max(input + 3, 0), 6) / 6`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-4.0f32, 0.0, 4.0], &[3]).unwrap();
/// assert_eq!(F::hardsigmoid(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 0.5, 1.0]);
/// ```
pub fn hardsigmoid(input: &Tensor) -> Result<Tensor> {
    ops::hardsigmoid(input)
}

/// `F.hardsigmoid(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// F::hardsigmoid_(&x).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn hardsigmoid_(input: &Tensor) -> Result<Tensor> {
    ops::hardsigmoid_(input)
}

/// `F.hardswish`: `input * hardsigmoid(input)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-4.0f32, 1.5, 4.0], &[3]).unwrap();
/// assert_eq!(F::hardswish(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1.125, 4.0]);
/// ```
pub fn hardswish(input: &Tensor) -> Result<Tensor> {
    ops::hardswish(input)
}

/// `F.hardswish(inplace=True)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![4.0f32], &[1]).unwrap();
/// F::hardswish_(&x).unwrap();
/// assert_eq!(x.to_vec::<f32>().unwrap(), vec![4.0]);
/// ```
pub fn hardswish_(input: &Tensor) -> Result<Tensor> {
    ops::hardswish_(input)
}

/// `F.glu`: `a * sigmoid(b)` with `a`, `b` the halves of `input` along
/// `dim`; a 0-dim input is an error.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(F::glu(&x, Default::default()).unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
/// ```
pub fn glu(input: &Tensor, opts: GluOpts) -> Result<Tensor> {
    if input.dim() == 0 {
        return Err(Error::invalid(
            "F.glu",
            "glu does not support scalars because halving size must be even",
        ));
    }
    ops::glu(input, opts.dim)
}

// ------------------------------------------------------ Python-composed

/// `F.softsign`: `input / (|input| + 1)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-3.0f64, 1.0], &[2]).unwrap();
/// assert_eq!(F::softsign(&x).unwrap().to_vec::<f64>().unwrap(), vec![-0.75, 0.5]);
/// ```
pub fn softsign(input: &Tensor) -> Result<Tensor> {
    ops::div(input, &ops::add_scalar(&ops::abs(input)?, 1, 1)?)
}

/// `F.tanhshrink`: `input - tanh(input)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(F::tanhshrink(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
pub fn tanhshrink(input: &Tensor) -> Result<Tensor> {
    ops::sub(input, &ops::tanh(input)?)
}

/// PyTorch's implicit softmax dim (deprecated in Python): 0 for 0-, 1- and
/// 3-dim inputs, else 1.
fn softmax_dim(input: &Tensor, dim: Option<i64>) -> i64 {
    dim.unwrap_or(match input.dim() {
        0 | 1 | 3 => 0,
        _ => 1,
    })
}

/// `F.softmax`: `exp(x) / sum(exp(x))` along `dim`, after converting to
/// `dtype` if given.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let y = F::softmax(&x, F::SoftmaxOpts { dim: Some(0), ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmax(input: &Tensor, opts: SoftmaxOpts) -> Result<Tensor> {
    ops::softmax(input, softmax_dim(input, opts.dim), opts.dtype)
}

/// `F.log_softmax`: `log(softmax(input))`, computed stably.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let y = F::log_softmax(&x, F::LogSoftmaxOpts { dim: Some(-1), ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-std::f64::consts::LN_2; 2]);
/// ```
pub fn log_softmax(input: &Tensor, opts: LogSoftmaxOpts) -> Result<Tensor> {
    ops::log_softmax(input, softmax_dim(input, opts.dim), opts.dtype)
}

/// `F.softmin`: `softmax(-input)`.
///
/// ```
/// use frankentorch::nn::functional as F;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 1000.0], &[2]).unwrap();
/// let y = F::softmin(&x, F::SoftminOpts { dim: Some(0), ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![1.0, 0.0]);
/// ```
pub fn softmin(input: &Tensor, opts: SoftminOpts) -> Result<Tensor> {
    ops::softmax(&ops::neg(input)?, softmax_dim(input, opts.dim), opts.dtype)
}
