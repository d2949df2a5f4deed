//! `nn.MultiheadAttention` over `F::multi_head_attention_forward`.

use super::empty_param;
use crate::nn::functional as F;
use crate::nn::{init, Linear, LinearConfig, Module};
use crate::{ops, DType, Error, Result, Tensor};

/// torch's `NonDynamicallyQuantizableLinear`: a [`Linear`] under its own
/// class name (the class of `MultiheadAttention.out_proj`); it derefs to the
/// Linear.
///
/// ```
/// use frankentorch::nn::{Linear, Module, NonDynamicallyQuantizableLinear};
/// let p = NonDynamicallyQuantizableLinear(Linear::new(2, 2, Default::default()).unwrap());
/// assert_eq!((p.type_name(), p.weight.sizes()), ("NonDynamicallyQuantizableLinear", &[2usize, 2][..]));
/// ```
pub struct NonDynamicallyQuantizableLinear(pub Linear);

impl std::ops::Deref for NonDynamicallyQuantizableLinear {
    type Target = Linear;
    fn deref(&self) -> &Linear {
        &self.0
    }
}

impl Module for NonDynamicallyQuantizableLinear {
    fn type_name(&self) -> &str {
        "NonDynamicallyQuantizableLinear"
    }
    fn training(&self) -> bool {
        self.0.training()
    }
    fn set_training(&mut self, mode: bool) {
        self.0.set_training(mode)
    }
    fn visit_parameters<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>)) {
        self.0.visit_parameters(f)
    }
    fn visit_buffers<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>, bool)) {
        self.0.visit_buffers(f)
    }
    fn visit_children<'a>(&'a self, f: &mut dyn FnMut(&str, &'a dyn Module)) {
        self.0.visit_children(f)
    }
    fn visit_tensors_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.0.visit_tensors_mut(f)
    }
    fn visit_children_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        self.0.visit_children_mut(f)
    }
}

/// Options of [`MultiheadAttention`] (torch's defaults).
///
/// ```
/// let c = frankentorch::nn::MultiheadAttentionConfig::default();
/// assert_eq!((c.dropout, c.bias, c.batch_first), (0.0, true, false));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MultiheadAttentionConfig {
    /// Dropout on the attention weights in training (default 0).
    pub dropout: f64,
    /// Input and output projection biases (default true).
    pub bias: bool,
    /// Learned key/value rows appended to the keys and values (default false).
    pub add_bias_kv: bool,
    /// A zero key/value row appended (default false).
    pub add_zero_attn: bool,
    /// Key feature size (default `embed_dim`).
    pub kdim: Option<usize>,
    /// Value feature size (default `embed_dim`).
    pub vdim: Option<usize>,
    /// Inputs and outputs are `[batch, seq, feature]` (default false).
    pub batch_first: bool,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for MultiheadAttentionConfig {
    fn default() -> Self {
        MultiheadAttentionConfig {
            dropout: 0.0,
            bias: true,
            add_bias_kv: false,
            add_zero_attn: false,
            kdim: None,
            vdim: None,
            batch_first: false,
            dtype: None,
        }
    }
}

/// Options of [`MultiheadAttention::forward`] (torch's keyword defaults).
#[derive(Clone, Copy, Debug)]
pub struct MultiheadAttentionForwardOpts<'a> {
    /// Keys to ignore, `[N, S]` (bool: true = ignore, or additive float).
    pub key_padding_mask: Option<&'a Tensor>,
    /// Also return the attention weights (default true).
    pub need_weights: bool,
    /// `[L, S]` or `[N * num_heads, L, S]` (bool: true = not allowed, or additive float).
    pub attn_mask: Option<&'a Tensor>,
    /// Average the returned weights over heads (default true).
    pub average_attn_weights: bool,
    /// `attn_mask` is the causal mask (default false).
    pub is_causal: bool,
}

impl Default for MultiheadAttentionForwardOpts<'_> {
    fn default() -> Self {
        MultiheadAttentionForwardOpts {
            key_padding_mask: None,
            need_weights: true,
            attn_mask: None,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}

/// `nn.MultiheadAttention(embed_dim, num_heads, …)`: packed
/// `in_proj_weight` `[3E, E]` (Xavier-uniform) when keys and values have
/// `embed_dim` features, else `q/k/v_proj_weight`; zero biases; `out_proj`
/// a Linear (drawn at construction, its bias then zeroed); `bias_k`/`bias_v`
/// Xavier-normal.
///
/// ```
/// use frankentorch::nn::{Module, MultiheadAttention};
/// use frankentorch::prelude::*;
/// let mha = MultiheadAttention::new(4, 2, Default::default()).unwrap();
/// let names: Vec<String> = mha.state_dict().keys().iter().map(|k| k.to_string()).collect();
/// assert_eq!(names, ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
/// let x = ops::ones(&[3, 2, 4]).unwrap();
/// let (out, w) = mha.forward(&x, &x, &x, Default::default()).unwrap();
/// assert_eq!((out.sizes(), w.unwrap().sizes()), (&[3, 2, 4][..], &[2, 3, 3][..]));
/// ```
#[derive(Module)]
pub struct MultiheadAttention {
    /// `[3E, E]` when keys and values have `embed_dim` features.
    #[param]
    pub in_proj_weight: Option<Tensor>,
    /// `[E, E]` with separate key/value sizes.
    #[param]
    pub q_proj_weight: Option<Tensor>,
    /// `[E, kdim]` with separate key/value sizes.
    #[param]
    pub k_proj_weight: Option<Tensor>,
    /// `[E, vdim]` with separate key/value sizes.
    #[param]
    pub v_proj_weight: Option<Tensor>,
    /// `[3E]` with `bias`.
    #[param]
    pub in_proj_bias: Option<Tensor>,
    /// `[1, 1, E]` with `add_bias_kv`.
    #[param]
    pub bias_k: Option<Tensor>,
    /// `[1, 1, E]` with `add_bias_kv`.
    #[param]
    pub bias_v: Option<Tensor>,
    /// The output projection `[E, E]`.
    #[module]
    pub out_proj: NonDynamicallyQuantizableLinear,
    /// Model width `E`.
    pub embed_dim: usize,
    /// Number of heads (`E / num_heads` features each).
    pub num_heads: usize,
    config: MultiheadAttentionConfig,
    #[training]
    training: bool,
}

impl MultiheadAttention {
    /// A layer initialised as torch's (same draws, same order).
    pub fn new(embed_dim: usize, num_heads: usize, config: MultiheadAttentionConfig) -> Result<MultiheadAttention> {
        const OP: &str = "nn.MultiheadAttention";
        let c = config;
        if embed_dim == 0 || num_heads == 0 {
            return Err(Error::invalid(
                OP,
                format!(
                    "embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead"
                ),
            ));
        }
        if !embed_dim.is_multiple_of(num_heads) {
            return Err(Error::invalid(OP, "embed_dim must be divisible by num_heads"));
        }
        let (kdim, vdim) = (c.kdim.unwrap_or(embed_dim), c.vdim.unwrap_or(embed_dim));
        let packed = kdim == embed_dim && vdim == embed_dim;
        let param = |shape: &[usize]| empty_param(shape, c.dtype);
        let (in_proj_weight, q, k, v) = if packed {
            (Some(param(&[3 * embed_dim, embed_dim])?), None, None, None)
        } else {
            (
                None,
                Some(param(&[embed_dim, embed_dim])?),
                Some(param(&[embed_dim, kdim])?),
                Some(param(&[embed_dim, vdim])?),
            )
        };
        let in_proj_bias = if c.bias { Some(param(&[3 * embed_dim])?) } else { None };
        let out_proj = NonDynamicallyQuantizableLinear(Linear::new(
            embed_dim,
            embed_dim,
            LinearConfig {
                bias: c.bias,
                dtype: c.dtype,
            },
        )?);
        let (bias_k, bias_v) = if c.add_bias_kv {
            (Some(param(&[1, 1, embed_dim])?), Some(param(&[1, 1, embed_dim])?))
        } else {
            (None, None)
        };
        let layer = MultiheadAttention {
            in_proj_weight,
            q_proj_weight: q,
            k_proj_weight: k,
            v_proj_weight: v,
            in_proj_bias,
            bias_k,
            bias_v,
            out_proj,
            embed_dim,
            num_heads,
            config,
            training: true,
        };
        layer.reset_parameters()?;
        Ok(layer)
    }

    /// torch's `_reset_parameters` (the out projection's weight keeps its
    /// Linear initialisation).
    pub fn reset_parameters(&self) -> Result<()> {
        for w in [
            &self.in_proj_weight,
            &self.q_proj_weight,
            &self.k_proj_weight,
            &self.v_proj_weight,
        ]
        .into_iter()
        .flatten()
        {
            init::xavier_uniform_(w, 1.0, None)?;
        }
        for b in [&self.in_proj_bias, &self.out_proj.bias].into_iter().flatten() {
            init::constant_(b, 0.0)?;
        }
        for b in [&self.bias_k, &self.bias_v].into_iter().flatten() {
            init::xavier_normal_(b, 1.0, None)?;
        }
        Ok(())
    }

    /// `forward(query, key, value, …)`: the attention output (`[L, N, E]`,
    /// `[N, L, E]` with `batch_first`, or unbatched `[L, E]`) and, with
    /// `need_weights`, the attention weights.
    pub fn forward(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        opts: MultiheadAttentionForwardOpts,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let batched = query.dim() == 3;
        let transpose_first = self.config.batch_first && batched;
        // Keep query/key/value identity through the transpose, as torch does.
        let (q, k, v) = if transpose_first {
            let q = ops::transpose(query, 1, 0)?;
            let k = if key.is_same(query) {
                q.clone()
            } else {
                ops::transpose(key, 1, 0)?
            };
            let v = if value.is_same(key) {
                k.clone()
            } else {
                ops::transpose(value, 1, 0)?
            };
            (q, k, v)
        } else {
            (query.clone(), key.clone(), value.clone())
        };
        let separate = self.in_proj_weight.is_none();
        let f_opts = F::MultiHeadAttentionForwardOpts {
            training: self.training,
            key_padding_mask: opts.key_padding_mask,
            need_weights: opts.need_weights,
            attn_mask: opts.attn_mask,
            use_separate_proj_weight: separate,
            q_proj_weight: self.q_proj_weight.as_ref(),
            k_proj_weight: self.k_proj_weight.as_ref(),
            v_proj_weight: self.v_proj_weight.as_ref(),
            average_attn_weights: opts.average_attn_weights,
            is_causal: opts.is_causal,
            ..Default::default()
        };
        let (out, weights) = F::multi_head_attention_forward(
            &q,
            &k,
            &v,
            self.embed_dim as i64,
            self.num_heads as i64,
            self.in_proj_weight.as_ref(),
            self.in_proj_bias.as_ref(),
            self.bias_k.as_ref(),
            self.bias_v.as_ref(),
            self.config.add_zero_attn,
            self.config.dropout,
            &self.out_proj.weight,
            self.out_proj.bias.as_ref(),
            f_opts,
        )?;
        let out = if transpose_first {
            ops::transpose(&out, 1, 0)?
        } else {
            out
        };
        Ok((out, weights))
    }
}
