//! `torch.nn.init`: in-place initialisers with torch's fans, gains and random
//! draws, so that after the same `manual_seed` they write the same values.
//!
//! Every function works without recording gradients (torch wraps them in
//! `no_grad`) and returns the tensor it filled. `generator: None` draws from
//! the default generator.

use crate::{ops, Error, Generator, IndexOp, Result, Tensor, TensorOps};

/// A nonlinearity for [`calculate_gain`] and the Kaiming initialisers.
///
/// ```
/// use frankentorch::nn::init::Nonlinearity;
/// assert_eq!(Nonlinearity::from_name("leaky_relu").unwrap(), Nonlinearity::LeakyRelu);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `'linear'` (gain 1).
    Linear,
    /// `'conv1d'` (gain 1).
    Conv1d,
    /// `'conv2d'` (gain 1).
    Conv2d,
    /// `'conv3d'` (gain 1).
    Conv3d,
    /// `'conv_transpose1d'` (gain 1).
    ConvTranspose1d,
    /// `'conv_transpose2d'` (gain 1).
    ConvTranspose2d,
    /// `'conv_transpose3d'` (gain 1).
    ConvTranspose3d,
    /// `'sigmoid'` (gain 1).
    Sigmoid,
    /// `'tanh'` (gain 5/3).
    Tanh,
    /// `'relu'` (gain √2).
    Relu,
    /// `'leaky_relu'` (gain √(2 / (1 + slope²)), slope 0.01 by default).
    LeakyRelu,
    /// `'selu'` (gain 3/4).
    Selu,
}

impl Nonlinearity {
    /// The nonlinearity torch names `name`; other names are torch's
    /// `ValueError: Unsupported nonlinearity …`.
    pub fn from_name(name: &str) -> Result<Nonlinearity> {
        use Nonlinearity::*;
        Ok(match name {
            "linear" => Linear,
            "conv1d" => Conv1d,
            "conv2d" => Conv2d,
            "conv3d" => Conv3d,
            "conv_transpose1d" => ConvTranspose1d,
            "conv_transpose2d" => ConvTranspose2d,
            "conv_transpose3d" => ConvTranspose3d,
            "sigmoid" => Sigmoid,
            "tanh" => Tanh,
            "relu" => Relu,
            "leaky_relu" => LeakyRelu,
            "selu" => Selu,
            other => {
                return Err(Error::invalid(
                    "nn.init.calculate_gain",
                    format!("Unsupported nonlinearity {other}"),
                ))
            }
        })
    }
}

/// `calculate_gain(nonlinearity, param)`: the recommended gain; `param` is
/// leaky ReLU's negative slope (`None` = 0.01) and ignored otherwise.
///
/// ```
/// use frankentorch::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Tanh, None), 5.0 / 3.0);
/// assert_eq!(calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> f64 {
    use Nonlinearity::*;
    match nonlinearity {
        Linear | Conv1d | Conv2d | Conv3d | ConvTranspose1d | ConvTranspose2d | ConvTranspose3d | Sigmoid => 1.0,
        Tanh => 5.0 / 3.0,
        Relu => 2f64.sqrt(),
        LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Selu => 3.0 / 4.0,
    }
}

/// `_calculate_fan_in_and_fan_out(tensor)`: `(size(1) · receptive field,
/// size(0) · receptive field)` for tensors of at least 2 dimensions.
///
/// ```
/// use frankentorch::nn::init::calculate_fan_in_and_fan_out;
/// use frankentorch::prelude::*;
/// let w = ops::empty(&[8, 3, 5, 5]).unwrap();
/// assert_eq!(calculate_fan_in_and_fan_out(&w).unwrap(), (75, 200));
/// ```
pub fn calculate_fan_in_and_fan_out(tensor: &Tensor) -> Result<(usize, usize)> {
    if tensor.dim() < 2 {
        return Err(Error::invalid(
            "nn.init",
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
        ));
    }
    let receptive: usize = tensor.sizes()[2..].iter().product();
    Ok((tensor.sizes()[1] * receptive, tensor.sizes()[0] * receptive))
}

/// Which fan the Kaiming initialisers scale by.
///
/// ```
/// use frankentorch::nn::init::FanMode;
/// assert_eq!(FanMode::default(), FanMode::FanIn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FanMode {
    /// `'fan_in'`: preserves the forward pass's variance.
    #[default]
    FanIn,
    /// `'fan_out'`: preserves the backward pass's variance.
    FanOut,
}

fn correct_fan(tensor: &Tensor, mode: FanMode) -> Result<usize> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(tensor)?;
    Ok(match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    })
}

/// `uniform_(tensor, a, b, generator)`: values drawn from U(a, b).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::uniform_(&ops::empty(&[3]).unwrap(), -1.0, 1.0, None).unwrap();
/// assert!(t.to_vec::<f32>().unwrap().iter().all(|v| (-1.0..1.0).contains(v)));
/// ```
pub fn uniform_(tensor: &Tensor, a: f64, b: f64, generator: Option<&Generator>) -> Result<Tensor> {
    let _guard = crate::tls::no_grad();
    tensor.uniform_full_(a, b, generator)
}

/// `normal_(tensor, mean, std, generator)`: values drawn from N(mean, std²).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::normal_(&ops::empty(&[3]).unwrap(), 0.0, 1.0, None).unwrap();
/// assert_eq!(t.sizes(), &[3]);
/// ```
pub fn normal_(tensor: &Tensor, mean: f64, std: f64, generator: Option<&Generator>) -> Result<Tensor> {
    let _guard = crate::tls::no_grad();
    tensor.normal_full_(mean, std, generator)
}

/// `constant_(tensor, val)`.
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::constant_(&ops::empty(&[2]).unwrap(), 0.5).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn constant_(tensor: &Tensor, val: f64) -> Result<Tensor> {
    let _guard = crate::tls::no_grad();
    tensor.fill_(val)
}

/// `ones_(tensor)`.
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// assert_eq!(init::ones_(&ops::empty(&[2]).unwrap()).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
/// ```
pub fn ones_(tensor: &Tensor) -> Result<Tensor> {
    constant_(tensor, 1.0)
}

/// `zeros_(tensor)`.
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// assert_eq!(init::zeros_(&ops::empty(&[2]).unwrap()).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 0.0]);
/// ```
pub fn zeros_(tensor: &Tensor) -> Result<Tensor> {
    let _guard = crate::tls::no_grad();
    tensor.zero_()
}

/// `eye_(tensor)`: the identity matrix (2-D tensors only).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::eye_(&ops::empty(&[2, 3]).unwrap()).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
/// ```
pub fn eye_(tensor: &Tensor) -> Result<Tensor> {
    if tensor.dim() != 2 {
        return Err(Error::invalid(
            "nn.init.eye_",
            "Only tensors with 2 dimensions are supported",
        ));
    }
    let _guard = crate::tls::no_grad();
    let (n, m) = (tensor.sizes()[0] as i64, tensor.sizes()[1] as i64);
    tensor.copy_(&ops::eye_m(n, m)?, false)
}

/// `dirac_(tensor, groups)`: the Dirac delta for 3-, 4- and 5-D convolution
/// weights (identity of the inputs, per group).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::dirac_(&ops::empty(&[2, 2, 3]).unwrap(), 1).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![0., 1., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0.]);
/// ```
pub fn dirac_(tensor: &Tensor, groups: usize) -> Result<Tensor> {
    let dims = tensor.dim();
    if !(3..=5).contains(&dims) {
        return Err(Error::invalid(
            "nn.init.dirac_",
            "Only tensors with 3, 4, or 5 dimensions are supported",
        ));
    }
    let sizes = tensor.sizes().to_vec();
    if groups == 0 || !sizes[0].is_multiple_of(groups) {
        return Err(Error::invalid("nn.init.dirac_", "dim 0 must be divisible by groups"));
    }
    let _guard = crate::tls::no_grad();
    tensor.zero_()?;
    let per_group = sizes[0] / groups;
    let min_dim = per_group.min(sizes[1]);
    for g in 0..groups {
        for d in 0..min_dim {
            let mut at = tensor.i((g * per_group + d) as i64)?.i(d as i64)?;
            for &s in &sizes[2..] {
                at = at.i((s / 2) as i64)?;
            }
            at.fill_(1.0)?;
        }
    }
    Ok(tensor.clone())
}

/// `xavier_uniform_(tensor, gain, generator)`: U(−a, a) with
/// a = gain · √(6 / (fan_in + fan_out)).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::xavier_uniform_(&ops::empty(&[3, 5]).unwrap(), 1.0, None).unwrap();
/// assert!(t.to_vec::<f32>().unwrap().iter().all(|v| v.abs() <= (6.0f32 / 8.0).sqrt()));
/// ```
pub fn xavier_uniform_(tensor: &Tensor, gain: f64, generator: Option<&Generator>) -> Result<Tensor> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(tensor)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    let a = 3f64.sqrt() * std;
    uniform_(tensor, -a, a, generator)
}

/// `xavier_normal_(tensor, gain, generator)`: N(0, std²) with
/// std = gain · √(2 / (fan_in + fan_out)).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::xavier_normal_(&ops::empty(&[3, 5]).unwrap(), 1.0, None).unwrap();
/// assert_eq!(t.sizes(), &[3, 5]);
/// ```
pub fn xavier_normal_(tensor: &Tensor, gain: f64, generator: Option<&Generator>) -> Result<Tensor> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(tensor)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal_(tensor, 0.0, std, generator)
}

/// Options of the Kaiming initialisers (torch's defaults: `a=0`,
/// `mode='fan_in'`, `nonlinearity='leaky_relu'`).
///
/// ```
/// use frankentorch::nn::init::{KaimingOpts, Nonlinearity};
/// assert_eq!(KaimingOpts::default().nonlinearity, Nonlinearity::LeakyRelu);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KaimingOpts<'g> {
    /// The negative slope of the rectifier after this layer (leaky ReLU only).
    pub a: f64,
    /// Which fan to scale by.
    pub mode: FanMode,
    /// The nonlinearity after this layer.
    pub nonlinearity: Nonlinearity,
    /// The generator to draw from (`None`: the default generator).
    pub generator: Option<&'g Generator>,
}

impl Default for KaimingOpts<'_> {
    fn default() -> Self {
        KaimingOpts {
            a: 0.0,
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::LeakyRelu,
            generator: None,
        }
    }
}

/// The Kaiming standard deviation, or `None` for a tensor with a zero-sized
/// dimension (which torch leaves untouched with a warning).
fn kaiming_std(tensor: &Tensor, opts: &KaimingOpts) -> Result<Option<f64>> {
    if tensor.sizes().contains(&0) {
        return Ok(None);
    }
    let fan = correct_fan(tensor, opts.mode)?;
    let gain = calculate_gain(opts.nonlinearity, Some(opts.a));
    Ok(Some(gain / (fan as f64).sqrt()))
}

/// `kaiming_uniform_(tensor, a, mode, nonlinearity, generator)`: U(−b, b)
/// with b = gain · √(3 / fan).
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::kaiming_uniform_(&ops::empty(&[4, 3]).unwrap(), Default::default()).unwrap();
/// assert_eq!(t.sizes(), &[4, 3]);
/// ```
pub fn kaiming_uniform_(tensor: &Tensor, opts: KaimingOpts) -> Result<Tensor> {
    let Some(std) = kaiming_std(tensor, &opts)? else {
        return Ok(tensor.clone());
    };
    let bound = 3f64.sqrt() * std;
    uniform_(tensor, -bound, bound, opts.generator)
}

/// `kaiming_normal_(tensor, a, mode, nonlinearity, generator)`: N(0, std²)
/// with std = gain / √fan.
///
/// ```
/// use frankentorch::nn::init;
/// use frankentorch::prelude::*;
/// let t = init::kaiming_normal_(&ops::empty(&[4, 3]).unwrap(), Default::default()).unwrap();
/// assert_eq!(t.sizes(), &[4, 3]);
/// ```
pub fn kaiming_normal_(tensor: &Tensor, opts: KaimingOpts) -> Result<Tensor> {
    let Some(std) = kaiming_std(tensor, &opts)? else {
        return Ok(tensor.clone());
    };
    normal_(tensor, 0.0, std, opts.generator)
}
