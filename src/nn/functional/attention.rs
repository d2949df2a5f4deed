//! `F::scaled_dot_product_attention` (one aten op).

use crate::ops;
use crate::{Result, Tensor};

/// Options of [`scaled_dot_product_attention`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct ScaledDotProductAttentionOpts<'a> {
    /// Default none; boolean (true = attend) or additive float mask,
    /// broadcast to `[..., L, S]`.
    pub attn_mask: Option<&'a Tensor>,
    /// Default 0: dropout probability of the attention weights (drawn from
    /// the default generator).
    pub dropout_p: f64,
    /// Default false: a lower-triangular (causal) mask.
    pub is_causal: bool,
    /// Default `None`: `1 / sqrt(E)`.
    pub scale: Option<f64>,
    /// Default false: repeat key/value heads to match the query's heads.
    pub enable_gqa: bool,
}

/// `F.scaled_dot_product_attention`: `softmax(q k^T * scale + mask) v`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let q = ops::ones_full(&[1, 3, 4], Some(DType::F64), None, None, None).unwrap();
/// let opts = F::ScaledDotProductAttentionOpts { is_causal: true, ..Default::default() };
/// assert_eq!(F::scaled_dot_product_attention(&q, &q, &q, opts).unwrap().sizes(), &[1, 3, 4]);
/// ```
pub fn scaled_dot_product_attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    opts: ScaledDotProductAttentionOpts,
) -> Result<Tensor> {
    let o = opts;
    ops::scaled_dot_product_attention_full(
        query,
        key,
        value,
        o.attn_mask,
        o.dropout_p,
        o.is_causal,
        o.scale,
        o.enable_gqa,
    )
}
