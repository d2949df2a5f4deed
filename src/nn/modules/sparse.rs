//! `nn.Embedding`.

use crate::nn::functional as F;
use crate::nn::{init, parameter, Forward, Module};
use crate::{DType, Error, IndexOp, Result, Tensor, TensorOps};

/// Options of [`Embedding`] (torch's defaults: no padding index, no max
/// norm, norm type 2, no gradient scaling, dense gradients).
///
/// ```
/// assert_eq!(frankentorch::nn::EmbeddingConfig::default().norm_type, 2.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingConfig {
    /// The row whose gradient stays zero and which starts as zeros; negative counts from the end.
    pub padding_idx: Option<i64>,
    /// Rows looked up are renormalised in place to at most this norm.
    pub max_norm: Option<f64>,
    /// The p of the max-norm norm (default 2).
    pub norm_type: f64,
    /// Scale gradients by inverse index frequency (default false).
    pub scale_grad_by_freq: bool,
    /// Sparse gradients (not supported: an error at forward).
    pub sparse: bool,
    /// The weight's dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        EmbeddingConfig {
            padding_idx: None,
            max_norm: None,
            norm_type: 2.0,
            scale_grad_by_freq: false,
            sparse: false,
            dtype: None,
        }
    }
}

/// `nn.Embedding(num_embeddings, embedding_dim, …)`: a lookup table,
/// `weight` `[num_embeddings, embedding_dim]` drawn from N(0, 1), with the
/// `padding_idx` row then zeroed.
///
/// ```
/// use frankentorch::nn::{Embedding, EmbeddingConfig, Forward};
/// use frankentorch::prelude::*;
/// let e = Embedding::new(5, 3, EmbeddingConfig { padding_idx: Some(-1), ..Default::default() }).unwrap();
/// assert_eq!(e.padding_idx, Some(4));
/// let idx = Tensor::from_vec(vec![4i64, 4], &[2]).unwrap();
/// assert_eq!(e.forward(&idx).unwrap().to_vec::<f32>().unwrap(), vec![0.0; 6]);
/// ```
#[derive(Module)]
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    #[param]
    pub weight: Tensor,
    /// The (non-negative) padding row, if any.
    pub padding_idx: Option<i64>,
    /// The options it was built with.
    pub config: EmbeddingConfig,
    #[training]
    training: bool,
}

fn normalize_padding_idx(padding_idx: Option<i64>, num_embeddings: usize) -> Result<Option<i64>> {
    let n = num_embeddings as i64;
    match padding_idx {
        Some(p) if p >= n || p < -n => Err(Error::invalid(
            "nn.Embedding",
            "Padding_idx must be within num_embeddings",
        )),
        Some(p) if p < 0 => Ok(Some(n + p)),
        other => Ok(other),
    }
}

impl Embedding {
    /// An embedding initialised as torch's.
    pub fn new(num_embeddings: usize, embedding_dim: usize, config: EmbeddingConfig) -> Result<Embedding> {
        let padding_idx = normalize_padding_idx(config.padding_idx, num_embeddings)?;
        let weight = super::empty_param(&[num_embeddings, embedding_dim], config.dtype)?;
        let e = Embedding {
            weight,
            padding_idx,
            config,
            training: true,
        };
        e.reset_parameters()?;
        Ok(e)
    }

    /// `Embedding.from_pretrained(embeddings, freeze, …)`: the weight shares
    /// `embeddings`' storage and requires grad unless `freeze`; the padding
    /// row is not zeroed.
    ///
    /// ```
    /// use frankentorch::nn::Embedding;
    /// use frankentorch::prelude::*;
    /// let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let e = Embedding::from_pretrained(&w, true, Default::default()).unwrap();
    /// assert!(!e.weight.requires_grad());
    /// ```
    pub fn from_pretrained(embeddings: &Tensor, freeze: bool, config: EmbeddingConfig) -> Result<Embedding> {
        if embeddings.dim() != 2 {
            return Err(Error::invalid(
                "nn.Embedding.from_pretrained",
                "Embeddings parameter is expected to be 2-dimensional",
            ));
        }
        let padding_idx = normalize_padding_idx(config.padding_idx, embeddings.sizes()[0])?;
        let weight = parameter(embeddings.clone())?;
        weight.requires_grad_(!freeze)?;
        Ok(Embedding {
            weight,
            padding_idx,
            config,
            training: true,
        })
    }

    /// Re-draws the weight from N(0, 1) and zeroes the padding row.
    pub fn reset_parameters(&self) -> Result<()> {
        init::normal_(&self.weight, 0.0, 1.0, None)?;
        if let Some(p) = self.padding_idx {
            let _guard = crate::tls::no_grad();
            self.weight.i(p)?.fill_(0.0)?;
        }
        Ok(())
    }
}

impl Forward for Embedding {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        F::embedding(
            input,
            &self.weight,
            F::EmbeddingOpts {
                padding_idx: self.padding_idx,
                max_norm: c.max_norm,
                norm_type: c.norm_type,
                scale_grad_by_freq: c.scale_grad_by_freq,
                sparse: c.sparse,
            },
        )
    }
}
