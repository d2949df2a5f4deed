//! `nn.Conv1d`, `nn.Conv2d`, `nn.ConvTranspose2d`.

use super::empty_param;
use super::linear::reset_kaiming;
use crate::nn::functional as F;
use crate::nn::{Forward, Module};
use crate::{DType, Error, Result, Tensor};

/// The `padding_mode` of a convolution.
///
/// ```
/// assert_eq!(frankentorch::nn::PaddingMode::default().name(), "zeros");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaddingMode {
    /// `'zeros'` (the default): the convolution's own zero padding.
    #[default]
    Zeros,
    /// `'reflect'`.
    Reflect,
    /// `'replicate'`.
    Replicate,
    /// `'circular'`.
    Circular,
}

impl PaddingMode {
    /// Python's name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Replicate => "replicate",
            PaddingMode::Circular => "circular",
        }
    }

    fn pad_mode(self) -> F::PadMode {
        match self {
            PaddingMode::Zeros => F::PadMode::Constant,
            PaddingMode::Reflect => F::PadMode::Reflect,
            PaddingMode::Replicate => F::PadMode::Replicate,
            PaddingMode::Circular => F::PadMode::Circular,
        }
    }
}

/// Options of a convolution layer with `N` spatial dims (torch's defaults:
/// stride 1, padding 0, dilation 1, groups 1, bias, `'zeros'` padding mode).
///
/// ```
/// let c = frankentorch::nn::ConvConfig::<2>::default();
/// assert_eq!((c.stride, c.groups, c.bias), ([1, 1], 1, true));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ConvConfig<const N: usize> {
    /// Default 1 per dim.
    pub stride: [i64; N],
    /// Default 0 per dim; also `Same` / `Valid`.
    pub padding: F::ConvPadding<N>,
    /// Default 1 per dim.
    pub dilation: [i64; N],
    /// Default 1.
    pub groups: i64,
    /// Default true.
    pub bias: bool,
    /// Default zeros.
    pub padding_mode: PaddingMode,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl<const N: usize> Default for ConvConfig<N> {
    fn default() -> Self {
        ConvConfig {
            stride: [1; N],
            padding: F::ConvPadding::default(),
            dilation: [1; N],
            groups: 1,
            bias: true,
            padding_mode: PaddingMode::Zeros,
            dtype: None,
        }
    }
}

/// torch's `_ConvNd.__init__` checks; `what` names the layer.
fn check_conv<const N: usize>(
    what: &str,
    in_channels: usize,
    out_channels: usize,
    stride: &[i64; N],
    padding: &F::ConvPadding<N>,
    groups: i64,
) -> Result<usize> {
    if groups <= 0 {
        return Err(Error::invalid(what, "groups must be a positive integer"));
    }
    let g = groups as usize;
    if !in_channels.is_multiple_of(g) {
        return Err(Error::invalid(what, "in_channels must be divisible by groups"));
    }
    if !out_channels.is_multiple_of(g) {
        return Err(Error::invalid(what, "out_channels must be divisible by groups"));
    }
    if *padding == F::ConvPadding::Same && stride.iter().any(|&s| s != 1) {
        return Err(Error::invalid(
            what,
            "padding='same' is not supported for strided convolutions",
        ));
    }
    Ok(g)
}

/// `_reversed_padding_repeated_twice`: the F.pad amounts (last dim first)
/// equivalent to the convolution's padding.
fn reversed_padding<const N: usize>(padding: &F::ConvPadding<N>, dilation: &[i64; N], kernel: &[i64; N]) -> Vec<i64> {
    let mut out = vec![];
    for d in (0..N).rev() {
        match padding {
            F::ConvPadding::Explicit(p) => out.extend([p[d], p[d]]),
            F::ConvPadding::Valid => out.extend([0, 0]),
            F::ConvPadding::Same => {
                let total = dilation[d] * (kernel[d] - 1);
                let left = total / 2;
                out.extend([left, total - left]);
            }
        }
    }
    out
}

macro_rules! conv_layer {
    ($name:ident, $n:literal, $fun:ident, $opts:ident, $py:literal, $xin:literal, $yout:literal) => {
        #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size, …)`: weight `[out, in/groups, *kernel]` drawn by")]
        /// `kaiming_uniform_(a=√5)`, then bias `[out]` from U(−1/√fan_in, 1/√fan_in).
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::{Forward, ", stringify!($name), "};")]
        /// use frankentorch::prelude::*;
        #[doc = concat!("let c = ", stringify!($name), "::new(2, 4, [3; ", $n, "], Default::default()).unwrap();")]
        #[doc = concat!("let y = c.forward(&ops::ones(&", $xin, ").unwrap()).unwrap();")]
        #[doc = concat!("assert_eq!(y.sizes(), &", $yout, ");")]
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// `[out_channels, in_channels / groups, *kernel_size]`.
            #[param]
            pub weight: Tensor,
            /// `[out_channels]`, or `None` with `bias=False`.
            #[param]
            pub bias: Option<Tensor>,
            /// Input channels.
            pub in_channels: usize,
            /// Output channels.
            pub out_channels: usize,
            /// Kernel size.
            pub kernel_size: [i64; $n],
            /// The options it was built with.
            pub config: ConvConfig<$n>,
            #[training]
            training: bool,
        }

        impl $name {
            /// A convolution initialised as torch's.
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: [i64; $n], config: ConvConfig<$n>) -> Result<$name> {
                let g = check_conv($py, in_channels, out_channels, &config.stride, &config.padding, config.groups)?;
                let mut shape = vec![out_channels, in_channels / g];
                shape.extend(kernel_size.iter().map(|&k| k.max(0) as usize));
                let weight = empty_param(&shape, config.dtype)?;
                let bias = if config.bias { Some(empty_param(&[out_channels], config.dtype)?) } else { None };
                let layer = $name { weight, bias, in_channels, out_channels, kernel_size, config, training: true };
                layer.reset_parameters()?;
                Ok(layer)
            }

            /// Re-draws the parameters as the constructor does.
            pub fn reset_parameters(&self) -> Result<()> {
                reset_kaiming(&self.weight, self.bias.as_ref())
            }
        }

        impl Forward for $name {
            fn forward(&self, input: &Tensor) -> Result<Tensor> {
                let c = &self.config;
                let (input, padding) = if c.padding_mode == PaddingMode::Zeros {
                    (input.clone(), c.padding)
                } else {
                    let pad = reversed_padding(&c.padding, &c.dilation, &self.kernel_size);
                    let padded = F::pad(input, &pad, F::PadOpts { mode: c.padding_mode.pad_mode(), value: None })?;
                    (padded, F::ConvPadding::Explicit([0; $n]))
                };
                F::$fun(
                    &input,
                    &self.weight,
                    F::$opts { bias: self.bias.as_ref(), stride: c.stride, padding, dilation: c.dilation, groups: c.groups },
                )
            }
        }
    };
}

conv_layer!(Conv1d, 1, conv1d, Conv1dOpts, "nn.Conv1d", "[1, 2, 5]", "[1, 4, 3]");
conv_layer!(
    Conv2d,
    2,
    conv2d,
    Conv2dOpts,
    "nn.Conv2d",
    "[1, 2, 5, 5]",
    "[1, 4, 3, 3]"
);

/// Options of [`ConvTranspose2d`] (torch's defaults: stride 1, padding 0,
/// output_padding 0, groups 1, bias, dilation 1).
///
/// ```
/// assert_eq!(frankentorch::nn::ConvTranspose2dConfig::default().output_padding, [0, 0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ConvTranspose2dConfig {
    /// Default `[1, 1]`.
    pub stride: [i64; 2],
    /// Default `[0, 0]`.
    pub padding: [i64; 2],
    /// Default `[0, 0]`.
    pub output_padding: [i64; 2],
    /// Default 1.
    pub groups: i64,
    /// Default true.
    pub bias: bool,
    /// Default `[1, 1]`.
    pub dilation: [i64; 2],
    /// Only `Zeros` is supported, as in torch.
    pub padding_mode: PaddingMode,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for ConvTranspose2dConfig {
    fn default() -> Self {
        ConvTranspose2dConfig {
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            groups: 1,
            bias: true,
            dilation: [1, 1],
            padding_mode: PaddingMode::Zeros,
            dtype: None,
        }
    }
}

/// `nn.ConvTranspose2d(in_channels, out_channels, kernel_size, …)`: weight
/// `[in, out/groups, kh, kw]` drawn by `kaiming_uniform_(a=√5)`, then bias
/// `[out]` from U(−1/√fan_in, 1/√fan_in) (fan_in from the weight's dim 1).
///
/// ```
/// use frankentorch::nn::{ConvTranspose2d, Forward};
/// use frankentorch::prelude::*;
/// let c = ConvTranspose2d::new(2, 3, [2, 2], Default::default()).unwrap();
/// assert_eq!(c.forward(&ops::ones(&[1, 2, 4, 4]).unwrap()).unwrap().sizes(), &[1, 3, 5, 5]);
/// ```
#[derive(Module)]
pub struct ConvTranspose2d {
    /// `[in_channels, out_channels / groups, kh, kw]`.
    #[param]
    pub weight: Tensor,
    /// `[out_channels]`, or `None` with `bias=False`.
    #[param]
    pub bias: Option<Tensor>,
    /// The options it was built with.
    pub config: ConvTranspose2dConfig,
    #[training]
    training: bool,
}

impl ConvTranspose2d {
    /// A transposed convolution initialised as torch's.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: [i64; 2],
        config: ConvTranspose2dConfig,
    ) -> Result<ConvTranspose2d> {
        const WHAT: &str = "nn.ConvTranspose2d";
        if config.padding_mode != PaddingMode::Zeros {
            return Err(Error::invalid(
                WHAT,
                "Only \"zeros\" padding mode is supported for ConvTranspose2d",
            ));
        }
        let g = check_conv(
            WHAT,
            in_channels,
            out_channels,
            &config.stride,
            &F::ConvPadding::Explicit(config.padding),
            config.groups,
        )?;
        let shape = [
            in_channels,
            out_channels / g,
            kernel_size[0].max(0) as usize,
            kernel_size[1].max(0) as usize,
        ];
        let weight = empty_param(&shape, config.dtype)?;
        let bias = if config.bias {
            Some(empty_param(&[out_channels], config.dtype)?)
        } else {
            None
        };
        let layer = ConvTranspose2d {
            weight,
            bias,
            config,
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

impl Forward for ConvTranspose2d {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        F::conv_transpose2d(
            input,
            &self.weight,
            F::ConvTranspose2dOpts {
                bias: self.bias.as_ref(),
                stride: c.stride,
                padding: c.padding,
                output_padding: c.output_padding,
                groups: c.groups,
                dilation: c.dilation,
            },
        )
    }
}
