//! `nn.Linear`, `nn.Bilinear`, `nn.Identity`.

use super::empty_param;
use crate::nn::functional as F;
use crate::nn::{init, Forward, Module};
use crate::{DType, Result, Tensor};

/// Options of [`Linear`] (torch's defaults: `bias=True`, float32).
///
/// ```
/// assert!(frankentorch::nn::LinearConfig::default().bias);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LinearConfig {
    /// Whether the layer has a bias (default true).
    pub bias: bool,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for LinearConfig {
    fn default() -> Self {
        LinearConfig {
            bias: true,
            dtype: None,
        }
    }
}

/// `nn.Linear(in_features, out_features, bias=True)`: `y = x Wᵀ + b`, with
/// `weight` `[out, in]` drawn by `kaiming_uniform_(a=√5)` and `bias` `[out]`
/// from U(−1/√in, 1/√in), in that order.
///
/// ```
/// use frankentorch::nn::{Forward, Linear, Module};
/// use frankentorch::prelude::*;
/// manual_seed(0);
/// let fc = Linear::new(3, 2, Default::default()).unwrap();
/// assert_eq!(fc.weight.sizes(), &[2, 3]);
/// let y = fc.forward(&ops::ones(&[4, 3]).unwrap()).unwrap();
/// assert_eq!(y.sizes(), &[4, 2]);
/// ```
#[derive(Module)]
pub struct Linear {
    /// `[out_features, in_features]`.
    #[param]
    pub weight: Tensor,
    /// `[out_features]`, or `None` with `bias=False`.
    #[param]
    pub bias: Option<Tensor>,
    /// Input size.
    pub in_features: usize,
    /// Output size.
    pub out_features: usize,
    #[training]
    training: bool,
}

/// `1/√fan_in` of `weight` (0 when the fan is 0), torch's bias bound.
fn bias_bound(weight: &Tensor) -> Result<f64> {
    let (fan_in, _) = init::calculate_fan_in_and_fan_out(weight)?;
    Ok(if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 })
}

/// torch's `_ConvNd`/`Linear` `reset_parameters`: Kaiming-uniform weight with
/// a = √5, then the bias from U(−1/√fan_in, 1/√fan_in).
pub(crate) fn reset_kaiming(weight: &Tensor, bias: Option<&Tensor>) -> Result<()> {
    init::kaiming_uniform_(
        weight,
        init::KaimingOpts {
            a: 5f64.sqrt(),
            ..Default::default()
        },
    )?;
    if let Some(b) = bias {
        let bound = bias_bound(weight)?;
        init::uniform_(b, -bound, bound, None)?;
    }
    Ok(())
}

impl Linear {
    /// A linear layer initialised as torch's.
    pub fn new(in_features: usize, out_features: usize, config: LinearConfig) -> Result<Linear> {
        let weight = empty_param(&[out_features, in_features], config.dtype)?;
        let bias = if config.bias {
            Some(empty_param(&[out_features], config.dtype)?)
        } else {
            None
        };
        let layer = Linear {
            weight,
            bias,
            in_features,
            out_features,
            training: true,
        };
        layer.reset_parameters()?;
        Ok(layer)
    }

    /// Re-draws the parameters as the constructor does.
    pub fn reset_parameters(&self) -> Result<()> {
        reset_kaiming(&self.weight, self.bias.as_ref())
    }
}

impl Forward for Linear {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::linear(
            input,
            &self.weight,
            F::LinearOpts {
                bias: self.bias.as_ref(),
            },
        )
    }
}

/// `nn.Bilinear(in1_features, in2_features, out_features, bias=True)`:
/// `y = x1ᵀ A x2 + b`; `weight` `[out, in1, in2]` and `bias` `[out]` both
/// from U(−1/√in1, 1/√in1).
///
/// ```
/// use frankentorch::nn::Bilinear;
/// use frankentorch::prelude::*;
/// let m = Bilinear::new(2, 3, 4, Default::default()).unwrap();
/// let y = m.forward(&ops::ones(&[5, 2]).unwrap(), &ops::ones(&[5, 3]).unwrap()).unwrap();
/// assert_eq!(y.sizes(), &[5, 4]);
/// ```
#[derive(Module)]
pub struct Bilinear {
    /// `[out_features, in1_features, in2_features]`.
    #[param]
    pub weight: Tensor,
    /// `[out_features]`, or `None` with `bias=False`.
    #[param]
    pub bias: Option<Tensor>,
    #[training]
    training: bool,
}

impl Bilinear {
    /// A bilinear layer initialised as torch's.
    pub fn new(
        in1_features: usize,
        in2_features: usize,
        out_features: usize,
        config: LinearConfig,
    ) -> Result<Bilinear> {
        let weight = empty_param(&[out_features, in1_features, in2_features], config.dtype)?;
        let bias = if config.bias {
            Some(empty_param(&[out_features], config.dtype)?)
        } else {
            None
        };
        let layer = Bilinear {
            weight,
            bias,
            training: true,
        };
        layer.reset_parameters()?;
        Ok(layer)
    }

    /// Re-draws the parameters as the constructor does.
    pub fn reset_parameters(&self) -> Result<()> {
        let bound = 1.0 / (self.weight.sizes()[1] as f64).sqrt();
        init::uniform_(&self.weight, -bound, bound, None)?;
        if let Some(b) = &self.bias {
            init::uniform_(b, -bound, bound, None)?;
        }
        Ok(())
    }

    /// `module(input1, input2)`.
    pub fn forward(&self, input1: &Tensor, input2: &Tensor) -> Result<Tensor> {
        F::bilinear(
            input1,
            input2,
            &self.weight,
            F::BilinearOpts {
                bias: self.bias.as_ref(),
            },
        )
    }
}

/// `nn.Identity()`: returns its input.
///
/// ```
/// use frankentorch::nn::{Forward, Identity};
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[2]).unwrap();
/// assert!(Identity::new().forward(&x).unwrap().is_same(&x));
/// ```
#[derive(Module)]
pub struct Identity {
    #[training]
    training: bool,
}

impl Identity {
    /// The identity layer.
    pub fn new() -> Identity {
        Identity { training: true }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity::new()
    }
}

impl Forward for Identity {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        Ok(input.clone())
    }
}
