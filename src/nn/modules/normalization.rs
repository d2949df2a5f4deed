//! `nn.BatchNorm1d`, `nn.BatchNorm2d`, `nn.LayerNorm`, `nn.GroupNorm`, `nn.RMSNorm`.

use crate::nn::functional as F;
use crate::nn::{init, Forward, Module};
use crate::{ops, DType, Error, Result, Tensor};

/// A parameter of `shape` filled with `value` (torch: `empty` + `ones_`/`zeros_`).
fn filled_param(shape: &[usize], value: f64, dtype: Option<DType>) -> Result<Tensor> {
    let t = super::empty_param(shape, dtype)?;
    init::constant_(&t, value)?;
    Ok(t)
}

/// A buffer of `shape` filled with `value`.
fn filled_buffer(shape: &[usize], value: f64, dtype: Option<DType>) -> Result<Tensor> {
    let shape: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
    ops::full_full(&shape, value, Some(dtype.unwrap_or(DType::F32)), None, None, None)
}

/// Options of the batch norms (torch's defaults: eps 1e-5, momentum 0.1,
/// affine, tracking running statistics).
///
/// ```
/// assert_eq!(frankentorch::nn::BatchNormConfig::default().momentum, Some(0.1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BatchNormConfig {
    /// Default 1e-5.
    pub eps: f64,
    /// Weight of the batch statistics in the running update (default 0.1);
    /// `None` is a cumulative moving average (1 / num_batches_tracked).
    pub momentum: Option<f64>,
    /// Learnable per-channel `weight` and `bias` (default true).
    pub affine: bool,
    /// Keep `running_mean`, `running_var`, `num_batches_tracked` (default true).
    pub track_running_stats: bool,
    /// The parameters' and running statistics' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
            dtype: None,
        }
    }
}

macro_rules! batch_norm {
    ($name:ident, $check:expr, $example:literal) => {
        #[doc = concat!("`nn.", stringify!($name), "(num_features, …)`: `weight` (ones) and `bias` (zeros) when")]
        /// affine; `running_mean` (zeros), `running_var` (ones) and
        /// `num_batches_tracked` (int64 0) when tracking running statistics.
        /// In training each forward counts the batch and updates the running
        /// statistics in place.
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::{Forward, Module, ", stringify!($name), "};")]
        /// use frankentorch::prelude::*;
        #[doc = concat!("let bn = ", stringify!($name), "::new(3, Default::default()).unwrap();")]
        #[doc = concat!("bn.forward(&ops::ones(&", $example, ").unwrap()).unwrap();")]
        /// assert_eq!(bn.num_batches_tracked.as_ref().unwrap().to_vec::<i64>().unwrap(), vec![1]);
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// `[num_features]` scale, or `None` without `affine`.
            #[param]
            pub weight: Option<Tensor>,
            /// `[num_features]` shift, or `None` without `affine`.
            #[param]
            pub bias: Option<Tensor>,
            /// `[num_features]`, or `None` without running statistics.
            #[buffer]
            pub running_mean: Option<Tensor>,
            /// `[num_features]`, or `None` without running statistics.
            #[buffer]
            pub running_var: Option<Tensor>,
            /// int64 scalar count of training batches, or `None`.
            #[buffer]
            pub num_batches_tracked: Option<Tensor>,
            /// Channel count.
            pub num_features: usize,
            /// The options it was built with.
            pub config: BatchNormConfig,
            #[training]
            training: bool,
        }

        impl $name {
            /// A batch norm layer initialised as torch's.
            pub fn new(num_features: usize, config: BatchNormConfig) -> Result<$name> {
                let (weight, bias) = if config.affine {
                    (
                        Some(filled_param(&[num_features], 1.0, config.dtype)?),
                        Some(filled_param(&[num_features], 0.0, config.dtype)?),
                    )
                } else {
                    (None, None)
                };
                let (running_mean, running_var, num_batches_tracked) = if config.track_running_stats {
                    (
                        Some(filled_buffer(&[num_features], 0.0, config.dtype)?),
                        Some(filled_buffer(&[num_features], 1.0, config.dtype)?),
                        Some(Tensor::from_vec(vec![0i64], &[])?),
                    )
                } else {
                    (None, None, None)
                };
                Ok($name {
                    weight,
                    bias,
                    running_mean,
                    running_var,
                    num_batches_tracked,
                    num_features,
                    config,
                    training: true,
                })
            }

            /// Resets the running statistics (`reset_running_stats`).
            pub fn reset_running_stats(&self) -> Result<()> {
                let _guard = crate::tls::no_grad();
                if let (Some(m), Some(v), Some(n)) = (&self.running_mean, &self.running_var, &self.num_batches_tracked)
                {
                    init::zeros_(m)?;
                    init::ones_(v)?;
                    init::zeros_(n)?;
                }
                Ok(())
            }
        }

        impl Forward for $name {
            fn forward(&self, input: &Tensor) -> Result<Tensor> {
                let check: fn(usize) -> Option<String> = $check;
                if let Some(msg) = check(input.dim()) {
                    return Err(Error::invalid(concat!("nn.", stringify!($name)), msg));
                }
                batch_norm_forward(
                    input,
                    self.training,
                    &self.config,
                    [
                        &self.weight,
                        &self.bias,
                        &self.running_mean,
                        &self.running_var,
                        &self.num_batches_tracked,
                    ],
                )
            }
        }
    };
}

/// `_BatchNorm.forward` with the module's state `[weight, bias,
/// running_mean, running_var, num_batches_tracked]`.
fn batch_norm_forward(
    input: &Tensor,
    training: bool,
    config: &BatchNormConfig,
    state: [&Option<Tensor>; 5],
) -> Result<Tensor> {
    let [weight, bias, running_mean, running_var, tracked] = state;
    let mut factor = config.momentum.unwrap_or(0.0);
    if training && config.track_running_stats {
        if let Some(n) = tracked {
            let _guard = crate::tls::no_grad();
            ops::add_scalar_(n, 1, 1)?;
            factor = match config.momentum {
                Some(m) => m,
                None => 1.0 / n.item()?.to_f64(),
            };
        }
    }
    let bn_training = training || (running_mean.is_none() && running_var.is_none());
    let use_running = !training || config.track_running_stats;
    F::batch_norm(
        input,
        running_mean.as_ref().filter(|_| use_running),
        running_var.as_ref().filter(|_| use_running),
        F::BatchNormOpts {
            weight: weight.as_ref(),
            bias: bias.as_ref(),
            training: bn_training,
            momentum: factor,
            eps: config.eps,
        },
    )
}

batch_norm!(
    BatchNorm1d,
    |d| (d != 2 && d != 3).then(|| format!("expected 2D or 3D input (got {d}D input)")),
    "[4, 3]"
);
batch_norm!(
    BatchNorm2d,
    |d| (d != 4).then(|| format!("expected 4D input (got {d}D input)")),
    "[2, 3, 2, 2]"
);

/// Options of [`LayerNorm`] (torch's defaults: eps 1e-5, elementwise
/// affine, with bias).
///
/// ```
/// assert!(frankentorch::nn::LayerNormConfig::default().bias);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LayerNormConfig {
    /// Default 1e-5.
    pub eps: f64,
    /// Learnable `weight` (and `bias`) of `normalized_shape` (default true).
    pub elementwise_affine: bool,
    /// Whether the affine part has a bias (default true).
    pub bias: bool,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for LayerNormConfig {
    fn default() -> Self {
        LayerNormConfig {
            eps: 1e-5,
            elementwise_affine: true,
            bias: true,
            dtype: None,
        }
    }
}

/// `nn.LayerNorm(normalized_shape, …)`: normalizes over the trailing dims;
/// `weight` ones, `bias` zeros.
///
/// ```
/// use frankentorch::nn::{Forward, LayerNorm};
/// use frankentorch::prelude::*;
/// let ln = LayerNorm::new(&[4], Default::default()).unwrap();
/// assert_eq!(ln.forward(&ops::ones(&[2, 4]).unwrap()).unwrap().sizes(), &[2, 4]);
/// ```
#[derive(Module)]
pub struct LayerNorm {
    /// `normalized_shape` scale, or `None`.
    #[param]
    pub weight: Option<Tensor>,
    /// `normalized_shape` shift, or `None`.
    #[param]
    pub bias: Option<Tensor>,
    /// The trailing shape normalized over.
    pub normalized_shape: Vec<i64>,
    /// Added to the variance.
    pub eps: f64,
    #[training]
    training: bool,
}

impl LayerNorm {
    /// A layer norm initialised as torch's.
    pub fn new(normalized_shape: &[usize], config: LayerNormConfig) -> Result<LayerNorm> {
        let weight = match config.elementwise_affine {
            true => Some(filled_param(normalized_shape, 1.0, config.dtype)?),
            false => None,
        };
        let bias = match config.elementwise_affine && config.bias {
            true => Some(filled_param(normalized_shape, 0.0, config.dtype)?),
            false => None,
        };
        Ok(LayerNorm {
            weight,
            bias,
            normalized_shape: normalized_shape.iter().map(|&s| s as i64).collect(),
            eps: config.eps,
            training: true,
        })
    }
}

impl Forward for LayerNorm {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::layer_norm(
            input,
            &self.normalized_shape,
            F::LayerNormOpts {
                weight: self.weight.as_ref(),
                bias: self.bias.as_ref(),
                eps: self.eps,
            },
        )
    }
}

/// Options of [`GroupNorm`] (torch's defaults: eps 1e-5, affine).
///
/// ```
/// assert!(frankentorch::nn::GroupNormConfig::default().affine);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GroupNormConfig {
    /// Default 1e-5.
    pub eps: f64,
    /// Learnable per-channel `weight` and `bias` (default true).
    pub affine: bool,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for GroupNormConfig {
    fn default() -> Self {
        GroupNormConfig {
            eps: 1e-5,
            affine: true,
            dtype: None,
        }
    }
}

/// `nn.GroupNorm(num_groups, num_channels, …)`: `weight` ones, `bias` zeros.
///
/// ```
/// use frankentorch::nn::{Forward, GroupNorm};
/// use frankentorch::prelude::*;
/// let gn = GroupNorm::new(2, 4, Default::default()).unwrap();
/// assert_eq!(gn.forward(&ops::ones(&[1, 4, 3]).unwrap()).unwrap().sizes(), &[1, 4, 3]);
/// assert!(GroupNorm::new(3, 4, Default::default()).is_err());
/// ```
#[derive(Module)]
pub struct GroupNorm {
    /// `[num_channels]` scale, or `None`.
    #[param]
    pub weight: Option<Tensor>,
    /// `[num_channels]` shift, or `None`.
    #[param]
    pub bias: Option<Tensor>,
    /// Number of channel groups.
    pub num_groups: usize,
    /// Added to the variance.
    pub eps: f64,
    #[training]
    training: bool,
}

impl GroupNorm {
    /// A group norm initialised as torch's.
    pub fn new(num_groups: usize, num_channels: usize, config: GroupNormConfig) -> Result<GroupNorm> {
        if num_groups == 0 || !num_channels.is_multiple_of(num_groups) {
            return Err(Error::invalid(
                "nn.GroupNorm",
                "num_channels must be divisible by num_groups",
            ));
        }
        let (weight, bias) = if config.affine {
            (
                Some(filled_param(&[num_channels], 1.0, config.dtype)?),
                Some(filled_param(&[num_channels], 0.0, config.dtype)?),
            )
        } else {
            (None, None)
        };
        Ok(GroupNorm {
            weight,
            bias,
            num_groups,
            eps: config.eps,
            training: true,
        })
    }
}

impl Forward for GroupNorm {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::group_norm(
            input,
            self.num_groups as i64,
            F::GroupNormOpts {
                weight: self.weight.as_ref(),
                bias: self.bias.as_ref(),
                eps: self.eps,
            },
        )
    }
}

/// Options of [`RMSNorm`] (torch's defaults: `eps=None`, elementwise affine).
///
/// ```
/// assert_eq!(frankentorch::nn::RMSNormConfig::default().eps, None);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RMSNormConfig {
    /// Default `None`: the compute dtype's machine epsilon.
    pub eps: Option<f64>,
    /// Learnable `weight` of `normalized_shape` (default true).
    pub elementwise_affine: bool,
    /// The parameter's dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for RMSNormConfig {
    fn default() -> Self {
        RMSNormConfig {
            eps: None,
            elementwise_affine: true,
            dtype: None,
        }
    }
}

/// `nn.RMSNorm(normalized_shape, …)`: `weight` ones.
///
/// ```
/// use frankentorch::nn::{Forward, RMSNorm};
/// use frankentorch::prelude::*;
/// let n = RMSNorm::new(&[3], Default::default()).unwrap();
/// assert_eq!(n.forward(&ops::ones(&[2, 3]).unwrap()).unwrap().sizes(), &[2, 3]);
/// ```
#[derive(Module)]
pub struct RMSNorm {
    /// `normalized_shape` scale, or `None`.
    #[param]
    pub weight: Option<Tensor>,
    /// The trailing shape normalized over.
    pub normalized_shape: Vec<i64>,
    /// Added to the mean square (`None`: machine epsilon).
    pub eps: Option<f64>,
    #[training]
    training: bool,
}

impl RMSNorm {
    /// An RMS norm initialised as torch's.
    pub fn new(normalized_shape: &[usize], config: RMSNormConfig) -> Result<RMSNorm> {
        let weight = match config.elementwise_affine {
            true => Some(filled_param(normalized_shape, 1.0, config.dtype)?),
            false => None,
        };
        Ok(RMSNorm {
            weight,
            normalized_shape: normalized_shape.iter().map(|&s| s as i64).collect(),
            eps: config.eps,
            training: true,
        })
    }
}

impl Forward for RMSNorm {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        F::rms_norm(
            input,
            &self.normalized_shape,
            F::RmsNormOpts {
                weight: self.weight.as_ref(),
                eps: self.eps,
            },
        )
    }
}
