//! `nn.TransformerEncoderLayer`: self-attention and a feed-forward block,
//! each with a residual connection and a layer norm.

use super::{Dropout, LayerNorm, LayerNormConfig, Linear, LinearConfig, MultiheadAttention, MultiheadAttentionConfig};
use crate::nn::functional as F;
use crate::nn::{Forward, Module};
use crate::{ops, DType, Error, Result, Tensor};

/// The feed-forward activation of a [`TransformerEncoderLayer`]
/// (torch's `activation="relu"`, `"gelu"` or a callable).
///
/// ```
/// use frankentorch::nn::TransformerActivation;
/// assert!(matches!(TransformerActivation::from_name("gelu"), Ok(TransformerActivation::Gelu)));
/// assert!(TransformerActivation::from_name("tanh").is_err());
/// ```
#[derive(Clone, Copy, Debug)]
pub enum TransformerActivation {
    /// `F.relu` (the default).
    Relu,
    /// `F.gelu` (exact).
    Gelu,
    /// Any function of the hidden activations.
    Custom(fn(&Tensor) -> Result<Tensor>),
}

impl TransformerActivation {
    /// torch's `_get_activation_fn`: `"relu"` or `"gelu"`.
    pub fn from_name(name: &str) -> Result<TransformerActivation> {
        match name {
            "relu" => Ok(TransformerActivation::Relu),
            "gelu" => Ok(TransformerActivation::Gelu),
            _ => Err(Error::invalid(
                "nn.TransformerEncoderLayer",
                format!("activation should be relu/gelu, not {name}"),
            )),
        }
    }

    fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            TransformerActivation::Relu => F::relu(x),
            TransformerActivation::Gelu => F::gelu(x, Default::default()),
            TransformerActivation::Custom(f) => f(x),
        }
    }
}

/// Options of [`TransformerEncoderLayer`] (torch's defaults).
///
/// ```
/// let c = frankentorch::nn::TransformerEncoderLayerConfig::default();
/// assert_eq!((c.dim_feedforward, c.dropout, c.layer_norm_eps), (2048, 0.1, 1e-5));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TransformerEncoderLayerConfig {
    /// Width of the feed-forward block (default 2048).
    pub dim_feedforward: usize,
    /// Dropout on the attention weights, after attention and in the
    /// feed-forward block (default 0.1).
    pub dropout: f64,
    /// Feed-forward activation (default relu).
    pub activation: TransformerActivation,
    /// eps of both layer norms (default 1e-5).
    pub layer_norm_eps: f64,
    /// Inputs and outputs are `[batch, seq, feature]` (default false).
    pub batch_first: bool,
    /// Layer norm before each block instead of after the residual sum
    /// (default false).
    pub norm_first: bool,
    /// Biases in the linear layers and layer norms (default true).
    pub bias: bool,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for TransformerEncoderLayerConfig {
    fn default() -> Self {
        TransformerEncoderLayerConfig {
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: TransformerActivation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
            dtype: None,
        }
    }
}

/// Options of [`TransformerEncoderLayer::forward_with`] (torch's keyword
/// defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct TransformerEncoderLayerForwardOpts<'a> {
    /// `[S, S]` or `[N * nhead, S, S]` attention mask (bool: true = not
    /// allowed, or additive float).
    pub src_mask: Option<&'a Tensor>,
    /// `[N, S]` keys to ignore (bool: true = ignore, or additive float).
    pub src_key_padding_mask: Option<&'a Tensor>,
    /// `src_mask` is the causal mask (default false).
    pub is_causal: bool,
}

/// `nn.TransformerEncoderLayer(d_model, nhead, …)`: children `self_attn`,
/// `linear1`, `dropout`, `linear2`, `norm1`, `norm2`, `dropout1`,
/// `dropout2`, built in torch's order so a seed gives torch's weights.
///
/// Forward is torch's general path; torch's fused inference fast path
/// (`_transformer_encoder_layer_fwd`, eval mode without grad) computes the
/// same function and is not reproduced.
///
/// ```
/// use frankentorch::nn::{Forward, Module, TransformerEncoderLayer, TransformerEncoderLayerConfig};
/// use frankentorch::prelude::*;
/// let c = TransformerEncoderLayerConfig { dim_feedforward: 8, ..Default::default() };
/// let layer = TransformerEncoderLayer::new(4, 2, c).unwrap();
/// assert_eq!(layer.state_dict().len(), 12);
/// let x = ops::ones(&[3, 2, 4]).unwrap();
/// assert_eq!(layer.forward(&x).unwrap().sizes(), &[3, 2, 4]);
/// ```
#[derive(Module)]
pub struct TransformerEncoderLayer {
    /// Self-attention over the sequence.
    #[module]
    pub self_attn: MultiheadAttention,
    /// `d_model -> dim_feedforward`.
    #[module]
    pub linear1: Linear,
    /// Dropout after the activation.
    #[module]
    pub dropout: Dropout,
    /// `dim_feedforward -> d_model`.
    #[module]
    pub linear2: Linear,
    /// Norm of the attention block.
    #[module]
    pub norm1: LayerNorm,
    /// Norm of the feed-forward block.
    #[module]
    pub norm2: LayerNorm,
    /// Dropout of the attention block's output.
    #[module]
    pub dropout1: Dropout,
    /// Dropout of the feed-forward block's output.
    #[module]
    pub dropout2: Dropout,
    /// Layer norm before each block (pre-norm) instead of after.
    pub norm_first: bool,
    /// The feed-forward activation.
    pub activation: TransformerActivation,
    #[training]
    training: bool,
}

impl TransformerEncoderLayer {
    /// A layer initialised as torch's (same draws, same order).
    pub fn new(d_model: usize, nhead: usize, config: TransformerEncoderLayerConfig) -> Result<TransformerEncoderLayer> {
        let c = config;
        let self_attn = MultiheadAttention::new(
            d_model,
            nhead,
            MultiheadAttentionConfig {
                dropout: c.dropout,
                bias: c.bias,
                batch_first: c.batch_first,
                dtype: c.dtype,
                ..Default::default()
            },
        )?;
        let linear = LinearConfig {
            bias: c.bias,
            dtype: c.dtype,
        };
        let linear1 = Linear::new(d_model, c.dim_feedforward, linear)?;
        let dropout = Dropout::new(c.dropout)?;
        let linear2 = Linear::new(c.dim_feedforward, d_model, linear)?;
        let norm = LayerNormConfig {
            eps: c.layer_norm_eps,
            bias: c.bias,
            dtype: c.dtype,
            ..Default::default()
        };
        Ok(TransformerEncoderLayer {
            self_attn,
            linear1,
            dropout,
            linear2,
            norm1: LayerNorm::new(&[d_model], norm)?,
            norm2: LayerNorm::new(&[d_model], norm)?,
            dropout1: Dropout::new(c.dropout)?,
            dropout2: Dropout::new(c.dropout)?,
            norm_first: c.norm_first,
            activation: c.activation,
            training: true,
        })
    }

    /// `forward(src, src_mask, src_key_padding_mask, is_causal)`: `src` is
    /// `[S, N, E]` (`[N, S, E]` with `batch_first`, or unbatched `[S, E]`).
    pub fn forward_with(&self, src: &Tensor, opts: TransformerEncoderLayerForwardOpts) -> Result<Tensor> {
        const OP: &str = "nn.TransformerEncoderLayer";
        let padding = F::canonical_mask(OP, opts.src_key_padding_mask, "src_key_padding_mask", src.dtype())?;
        let mask = F::canonical_mask(OP, opts.src_mask, "src_mask", src.dtype())?;
        let attend = |x: &Tensor| -> Result<Tensor> {
            let attn = self.self_attn.forward(
                x,
                x,
                x,
                super::MultiheadAttentionForwardOpts {
                    key_padding_mask: padding.as_ref(),
                    need_weights: false,
                    attn_mask: mask.as_ref(),
                    is_causal: opts.is_causal,
                    ..Default::default()
                },
            )?;
            self.dropout1.forward(&attn.0)
        };
        let feed_forward = |x: &Tensor| -> Result<Tensor> {
            let hidden = self.activation.apply(&self.linear1.forward(x)?)?;
            let out = self.linear2.forward(&self.dropout.forward(&hidden)?)?;
            self.dropout2.forward(&out)
        };
        if self.norm_first {
            let x = ops::add(src, &attend(&self.norm1.forward(src)?)?)?;
            ops::add(&x, &feed_forward(&self.norm2.forward(&x)?)?)
        } else {
            let x = self.norm1.forward(&ops::add(src, &attend(src)?)?)?;
            self.norm2.forward(&ops::add(&x, &feed_forward(&x)?)?)
        }
    }
}

impl Forward for TransformerEncoderLayer {
    /// `forward(src)` without masks.
    fn forward(&self, src: &Tensor) -> Result<Tensor> {
        self.forward_with(src, Default::default())
    }
}
