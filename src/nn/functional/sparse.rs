//! `F::embedding` (with `padding_idx` and `max_norm`) and `F::one_hot`.

use crate::ops;
use crate::{Error, Result, Tensor};

/// Options of [`embedding`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingOpts {
    /// Default `None`; the row whose gradient stays zero (negative counts
    /// from the end).
    pub padding_idx: Option<i64>,
    /// Default `None`; when given, the rows looked up are first renormalised
    /// in place in `weight` to at most this `norm_type`-norm.
    pub max_norm: Option<f64>,
    /// Default 2.
    pub norm_type: f64,
    /// Default false: scale gradients by the inverse frequency of each index.
    pub scale_grad_by_freq: bool,
    /// Default false; sparse gradients are not supported (an error).
    pub sparse: bool,
}

impl Default for EmbeddingOpts {
    fn default() -> Self {
        EmbeddingOpts {
            padding_idx: None,
            max_norm: None,
            norm_type: 2.0,
            scale_grad_by_freq: false,
            sparse: false,
        }
    }
}

/// `F.embedding`: the rows of `weight` picked by the integer `input`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let w = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let y = F::embedding(&i, &w, Default::default()).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![4.0, 5.0, 0.0, 1.0]);
/// ```
pub fn embedding(input: &Tensor, weight: &Tensor, opts: EmbeddingOpts) -> Result<Tensor> {
    const OP: &str = "F.embedding";
    let rows = weight.sizes().first().copied().unwrap_or(0) as i64;
    let padding_idx = match opts.padding_idx {
        Some(p) if p >= rows || p < -rows => {
            return Err(Error::invalid(OP, "Padding_idx must be within num_embeddings"));
        }
        Some(p) if p < 0 => rows + p,
        Some(p) => p,
        None => -1,
    };
    if opts.sparse {
        return Err(Error::new(
            crate::ErrorKind::NotSupported,
            OP,
            "sparse gradients are not supported",
        ));
    }
    if let Some(max_norm) = opts.max_norm {
        let idx = ops::contiguous(input)?;
        let _guard = crate::tls::no_grad();
        ops::embedding_renorm_(weight, &idx, max_norm, opts.norm_type)?;
    }
    ops::embedding(weight, input, padding_idx, opts.scale_grad_by_freq, false)
}

/// Options of [`one_hot`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct OneHotOpts {
    /// Default -1: one more than the largest index.
    pub num_classes: i64,
}

impl Default for OneHotOpts {
    fn default() -> Self {
        OneHotOpts { num_classes: -1 }
    }
}

/// `F.one_hot`: int64 one-hot vectors of the int64 `tensor` in a new last dim.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let i = Tensor::from_vec(vec![1i64, 0], &[2]).unwrap();
/// let y = F::one_hot(&i, F::OneHotOpts { num_classes: 3 }).unwrap();
/// assert_eq!(y.to_vec::<i64>().unwrap(), vec![0, 1, 0, 1, 0, 0]);
/// ```
pub fn one_hot(tensor: &Tensor, opts: OneHotOpts) -> Result<Tensor> {
    ops::one_hot(tensor, opts.num_classes)
}
