//! `F::multi_head_attention_forward`, the function behind
//! `nn.MultiheadAttention`, composed of operators in PyTorch's order:
//! input projections (one packed matmul for self-attention), optional
//! `bias_k`/`bias_v` rows and a zero key, masks merged into one additive
//! float mask, then either explicit attention weights (`need_weights`) or
//! `scaled_dot_product_attention`, and the output projection.

use crate::composite_index::sizes_i64;
use crate::ops;
use crate::{DType, Error, ErrorKind, Result, Tensor};

const OP: &str = "F.multi_head_attention_forward";

/// Options of [`multi_head_attention_forward`] (Python's keyword arguments
/// and defaults).
#[derive(Clone, Copy, Debug)]
pub struct MultiHeadAttentionForwardOpts<'a> {
    /// Default true: apply `dropout_p` (false: no dropout).
    pub training: bool,
    /// Default none: `[N, S]` (or `[S]` unbatched) keys to ignore; bool
    /// (true = ignore) or additive float.
    pub key_padding_mask: Option<&'a Tensor>,
    /// Default true: also return the attention weights.
    pub need_weights: bool,
    /// Default none: `[L, S]` or `[N * num_heads, L, S]`; bool (true = not
    /// allowed) or additive float.
    pub attn_mask: Option<&'a Tensor>,
    /// Default false: separate `q/k/v_proj_weight` instead of `in_proj_weight`.
    pub use_separate_proj_weight: bool,
    /// Default none: query projection when `use_separate_proj_weight`.
    pub q_proj_weight: Option<&'a Tensor>,
    /// Default none: key projection when `use_separate_proj_weight`.
    pub k_proj_weight: Option<&'a Tensor>,
    /// Default none: value projection when `use_separate_proj_weight`.
    pub v_proj_weight: Option<&'a Tensor>,
    /// Default none: precomputed keys `[N * num_heads, S, head_dim]`.
    pub static_k: Option<&'a Tensor>,
    /// Default none: precomputed values `[N * num_heads, S, head_dim]`.
    pub static_v: Option<&'a Tensor>,
    /// Default true: average the returned weights over the heads.
    pub average_attn_weights: bool,
    /// Default false: a hint that `attn_mask` is the causal mask.
    pub is_causal: bool,
}

impl Default for MultiHeadAttentionForwardOpts<'_> {
    fn default() -> Self {
        MultiHeadAttentionForwardOpts {
            training: true,
            key_padding_mask: None,
            need_weights: true,
            attn_mask: None,
            use_separate_proj_weight: false,
            q_proj_weight: None,
            k_proj_weight: None,
            v_proj_weight: None,
            static_k: None,
            static_v: None,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}

fn shape_error(message: String) -> Error {
    Error::shape(OP, message)
}

/// PyTorch's `_mha_shape_check`: whether the call is batched (3-D query).
fn is_batched(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    key_padding_mask: Option<&Tensor>,
    attn_mask: Option<&Tensor>,
    num_heads: i64,
) -> Result<bool> {
    let batched = match query.dim() {
        3 => true,
        2 => false,
        d => {
            return Err(shape_error(format!(
                "query should be unbatched 2D or batched 3D tensor but received {d}-D query tensor"
            )))
        }
    };
    let (want, kind) = if batched {
        (3, "batched (3-D)")
    } else {
        (2, "unbatched (2-D)")
    };
    if key.dim() != want || value.dim() != want {
        return Err(shape_error(format!(
            "For {kind} `query`, expected `key` and `value` to be {want}-D but found {}-D and {}-D tensors respectively",
            key.dim(),
            value.dim()
        )));
    }
    if let Some(m) = key_padding_mask {
        if m.dim() != want - 1 {
            return Err(shape_error(format!(
                "For {kind} `query`, expected `key_padding_mask` to be `None` or {}-D but found {}-D tensor instead",
                want - 1,
                m.dim()
            )));
        }
    }
    if let Some(m) = attn_mask {
        if m.dim() != 2 && m.dim() != 3 {
            return Err(shape_error(format!(
                "For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                m.dim()
            )));
        }
        if !batched && m.dim() == 3 {
            let expected = [num_heads as usize, query.sizes()[0], key.sizes()[0]];
            if m.sizes() != expected {
                return Err(shape_error(format!(
                    "Expected `attn_mask` shape to be {expected:?} but got {:?}",
                    m.sizes()
                )));
            }
        }
    }
    Ok(batched)
}

/// PyTorch's `_canonical_mask`: a bool mask becomes an additive float mask
/// (`-inf` where true) of `dtype`; a float mask is kept; other dtypes are an
/// error of `op`.
pub(crate) fn canonical_mask(op: &str, mask: Option<&Tensor>, name: &str, dtype: DType) -> Result<Option<Tensor>> {
    let Some(m) = mask else { return Ok(None) };
    if m.dtype() == DType::Bool {
        let zeros = ops::zeros_full(&sizes_i64(m), Some(dtype), None, None, None)?;
        return Ok(Some(ops::masked_fill(&zeros, m, f64::NEG_INFINITY)?));
    }
    if !m.dtype().is_floating_point() {
        return Err(Error::new(
            ErrorKind::DType,
            op,
            format!("only bool and floating types of {name} are supported"),
        ));
    }
    Ok(Some(m.clone()))
}

/// `(q, k, v)` projections of the packed `in_proj_weight` (PyTorch's
/// `_in_projection_packed`): one matmul when query, key and value are the
/// same tensor, two when key and value are, else three.
fn in_projection_packed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let e = q.sizes()[q.dim() - 1] as i64;
    let split_last = |proj: &Tensor, parts: i64| -> Result<Vec<Tensor>> {
        let p = ops::unflatten(proj, -1, &[parts, e])?;
        (0..parts).map(|i| ops::contiguous(&ops::select(&p, -2, i)?)).collect()
    };
    if k.is_same(v) {
        if q.is_same(k) {
            let p = split_last(&ops::linear(q, w, b)?, 3)?;
            return Ok((p[0].clone(), p[1].clone(), p[2].clone()));
        }
        let ws = ops::split_with_sizes(w, &[e, 2 * e], 0)?;
        let bs = b.map(|b| ops::split_with_sizes(b, &[e, 2 * e], 0)).transpose()?;
        let q_proj = ops::linear(q, &ws[0], bs.as_ref().map(|b| &b[0]))?;
        let kv = split_last(&ops::linear(k, &ws[1], bs.as_ref().map(|b| &b[1]))?, 2)?;
        return Ok((q_proj, kv[0].clone(), kv[1].clone()));
    }
    let ws = ops::chunk(w, 3, 0)?;
    let bs = b.map(|b| ops::chunk(b, 3, 0)).transpose()?;
    let bias = |i: usize| bs.as_ref().map(|b| &b[i]);
    Ok((
        ops::linear(q, &ws[0], bias(0))?,
        ops::linear(k, &ws[1], bias(1))?,
        ops::linear(v, &ws[2], bias(2))?,
    ))
}

/// PyTorch's `_in_projection`: separate weights, shapes checked.
fn in_projection(
    (q, k, v): (&Tensor, &Tensor, &Tensor),
    (w_q, w_k, w_v): (&Tensor, &Tensor, &Tensor),
    b: Option<&Tensor>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (eq, ek, ev) = (q.sizes()[q.dim() - 1], k.sizes()[k.dim() - 1], v.sizes()[v.dim() - 1]);
    for (name, w, cols) in [("q", w_q, eq), ("k", w_k, ek), ("v", w_v, ev)] {
        if w.sizes() != [eq, cols] {
            return Err(shape_error(format!(
                "expecting {name} weight of shape {:?}, but got {:?}",
                [eq, cols],
                w.sizes()
            )));
        }
    }
    let bs = b.map(|b| ops::chunk(b, 3, 0)).transpose()?;
    let bias = |i: usize| bs.as_ref().map(|b| &b[i]);
    Ok((
        ops::linear(q, w_q, bias(0))?,
        ops::linear(k, w_k, bias(1))?,
        ops::linear(v, w_v, bias(2))?,
    ))
}

/// Appends one padding column to the last dim of an additive mask.
fn pad_mask(mask: Option<Tensor>) -> Result<Option<Tensor>> {
    mask.map(|m| ops::constant_pad_nd(&m, &[0, 1], 0.0)).transpose()
}

/// `F.multi_head_attention_forward(query, key, value, embed_dim_to_check,
/// num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
/// dropout_p, out_proj_weight, out_proj_bias, **opts)`: inputs `[L, N, E]`
/// (or unbatched `[L, E]`); returns the attention output `[L, N, E]` and,
/// with `need_weights`, the weights `[N, L, S]` (per head `[N, H, L, S]`
/// without `average_attn_weights`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = ops::ones(&[3, 2, 4]).unwrap();
/// let (w_in, w_out) = (ops::full(&[12, 4], 0.1).unwrap(), ops::full(&[4, 4], 0.1).unwrap());
/// let (out, weights) = F::multi_head_attention_forward(
///     &x, &x, &x, 4, 2, Some(&w_in), None, None, None, false, 0.0, &w_out, None,
///     Default::default()).unwrap();
/// assert_eq!(out.sizes(), &[3, 2, 4]);
/// assert_eq!(weights.unwrap().sizes(), &[2, 3, 3]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn multi_head_attention_forward(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    embed_dim_to_check: i64,
    num_heads: i64,
    in_proj_weight: Option<&Tensor>,
    in_proj_bias: Option<&Tensor>,
    bias_k: Option<&Tensor>,
    bias_v: Option<&Tensor>,
    add_zero_attn: bool,
    dropout_p: f64,
    out_proj_weight: &Tensor,
    out_proj_bias: Option<&Tensor>,
    opts: MultiHeadAttentionForwardOpts,
) -> Result<(Tensor, Option<Tensor>)> {
    let o = opts;
    let batched = is_batched(query, key, value, o.key_padding_mask, o.attn_mask, num_heads)?;
    let unsqueezed = |t: &Tensor, d: i64| if batched { Ok(t.clone()) } else { ops::unsqueeze(t, d) };
    let (query, key, value) = (unsqueezed(query, 1)?, unsqueezed(key, 1)?, unsqueezed(value, 1)?);
    let key_padding_mask = o.key_padding_mask.map(|m| unsqueezed(m, 0)).transpose()?;
    let (tgt_len, bsz, embed_dim) = (
        query.sizes()[0] as i64,
        query.sizes()[1] as i64,
        query.sizes()[2] as i64,
    );
    let mut key_padding_mask = canonical_mask(OP, key_padding_mask.as_ref(), "key_padding_mask", query.dtype())?;
    let mut is_causal = o.is_causal;
    if is_causal && o.attn_mask.is_none() {
        return Err(Error::invalid(
            OP,
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask.",
        ));
    }
    let mut attn_mask = if is_causal && key_padding_mask.is_none() && !o.need_weights {
        // sdpa builds the causal mask itself.
        None
    } else {
        let m = canonical_mask(OP, o.attn_mask, "attn_mask", query.dtype())?;
        if key_padding_mask.is_some() {
            is_causal = false;
        }
        m
    };
    if embed_dim != embed_dim_to_check {
        return Err(shape_error(format!(
            "was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )));
    }
    if num_heads <= 0 || embed_dim % num_heads != 0 {
        return Err(shape_error(format!(
            "embed_dim {embed_dim} not divisible by num_heads {num_heads}"
        )));
    }
    let head_dim = embed_dim / num_heads;
    if o.use_separate_proj_weight {
        if key.sizes()[..2] != value.sizes()[..2] {
            return Err(shape_error(format!(
                "key's sequence and batch dims {:?} do not match value's {:?}",
                &key.sizes()[..2],
                &value.sizes()[..2]
            )));
        }
    } else if key.sizes() != value.sizes() {
        return Err(shape_error(format!(
            "key shape {:?} does not match value shape {:?}",
            key.sizes(),
            value.sizes()
        )));
    }
    // After the unbatched unsqueeze the three are distinct tensors, as in torch.
    let same_qkv = query_identity(&query, &key, &value);
    let (q, mut k, mut v) = if o.use_separate_proj_weight {
        let missing = |name: &str| Error::invalid(OP, format!("use_separate_proj_weight is True but {name} is None"));
        let w = (
            o.q_proj_weight.ok_or_else(|| missing("q_proj_weight"))?,
            o.k_proj_weight.ok_or_else(|| missing("k_proj_weight"))?,
            o.v_proj_weight.ok_or_else(|| missing("v_proj_weight"))?,
        );
        in_projection((&query, &key, &value), w, in_proj_bias)?
    } else {
        let w = in_proj_weight
            .ok_or_else(|| Error::invalid(OP, "use_separate_proj_weight is False but in_proj_weight is None"))?;
        match same_qkv {
            Identity::All => in_projection_packed(&query, &query, &query, w, in_proj_bias)?,
            Identity::KeyValue => in_projection_packed(&query, &key, &key, w, in_proj_bias)?,
            Identity::None => in_projection_packed(&query, &key, &value, w, in_proj_bias)?,
        }
    };
    if let Some(m) = &attn_mask {
        attn_mask = Some(check_attn_mask(m, tgt_len, bsz * num_heads, key.sizes()[0] as i64)?);
    }
    match (bias_k, bias_v) {
        (Some(bk), Some(bv)) => {
            if o.static_k.is_some() || o.static_v.is_some() {
                return Err(Error::invalid(OP, "bias cannot be added to static key or value."));
            }
            k = ops::cat(&[k, ops::repeat(bk, &[1, bsz, 1])?], 0)?;
            v = ops::cat(&[v, ops::repeat(bv, &[1, bsz, 1])?], 0)?;
            attn_mask = pad_mask(attn_mask)?;
            key_padding_mask = pad_mask(key_padding_mask)?;
        }
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                OP,
                "bias_k and bias_v must both be given or both be None",
            ))
        }
    }
    let heads = |t: &Tensor, len: i64| -> Result<Tensor> {
        ops::transpose(
            &ops::view(&ops::contiguous(t)?, &[len, bsz * num_heads, head_dim])?,
            0,
            1,
        )
    };
    let q = heads(&q, tgt_len)?;
    let k_len = k.sizes()[0] as i64;
    let mut k = match o.static_k {
        Some(s) => check_static("static_k", s, bsz * num_heads, head_dim)?,
        None => heads(&k, k_len)?,
    };
    let v_len = v.sizes()[0] as i64;
    let mut v = match o.static_v {
        Some(s) => check_static("static_v", s, bsz * num_heads, head_dim)?,
        None => heads(&v, v_len)?,
    };
    if add_zero_attn {
        let zeros = ops::zeros_full(&[bsz * num_heads, 1, head_dim], Some(k.dtype()), None, None, None)?;
        k = ops::cat(&[k, zeros.clone()], 1)?;
        v = ops::cat(&[v, zeros], 1)?;
        attn_mask = pad_mask(attn_mask)?;
        key_padding_mask = pad_mask(key_padding_mask)?;
    }
    let src_len = k.sizes()[1] as i64;
    if let Some(kpm) = key_padding_mask {
        if kpm.sizes() != [bsz as usize, src_len as usize] {
            return Err(shape_error(format!(
                "expecting key_padding_mask shape of {:?}, but got {:?}",
                [bsz, src_len],
                kpm.sizes()
            )));
        }
        let kpm = ops::reshape(
            &ops::expand(&ops::view(&kpm, &[bsz, 1, 1, src_len])?, &[-1, num_heads, -1, -1])?,
            &[bsz * num_heads, 1, src_len],
        )?;
        attn_mask = Some(match attn_mask {
            None => kpm,
            Some(m) => ops::add(&m, &kpm)?,
        });
    }
    let dropout_p = if o.training { dropout_p } else { 0.0 };
    let out_proj = |attn: Tensor| -> Result<Tensor> {
        let out = ops::linear(&attn, out_proj_weight, out_proj_bias)?;
        let out = ops::view(&out, &[tgt_len, bsz, out.sizes()[1] as i64])?;
        if batched {
            Ok(out)
        } else {
            ops::squeeze_dim(&out, 1)
        }
    };
    if o.need_weights {
        let q_scaled = ops::mul_scalar(&q, (1.0 / head_dim as f64).sqrt())?;
        let kt = ops::transpose(&k, -2, -1)?;
        let scores = match &attn_mask {
            Some(m) => ops::baddbmm(m, &q_scaled, &kt)?,
            None => ops::bmm(&q_scaled, &kt)?,
        };
        let mut weights = ops::softmax(&scores, -1, None)?;
        if dropout_p > 0.0 {
            weights = ops::dropout(&weights, dropout_p, true)?;
        }
        let attn = ops::bmm(&weights, &v)?;
        let attn = ops::view(
            &ops::contiguous(&ops::transpose(&attn, 0, 1)?)?,
            &[tgt_len * bsz, embed_dim],
        )?;
        let out = out_proj(attn)?;
        let mut weights = ops::view(&weights, &[bsz, num_heads, tgt_len, src_len])?;
        if o.average_attn_weights {
            weights = ops::mean_dim(&weights, Some(&[1]), false)?;
        }
        if !batched {
            weights = ops::squeeze_dim(&weights, 0)?;
        }
        return Ok((out, Some(weights)));
    }
    let attn_mask = match attn_mask {
        Some(m) if m.dim() == 3 && m.sizes()[0] == 1 => Some(ops::unsqueeze(&m, 0)?),
        Some(m) => Some(ops::view(&m, &[bsz, num_heads, -1, src_len])?),
        None => None,
    };
    let q = ops::view(&q, &[bsz, num_heads, tgt_len, head_dim])?;
    let k = ops::view(&k, &[bsz, num_heads, src_len, head_dim])?;
    let v = ops::view(&v, &[bsz, num_heads, src_len, head_dim])?;
    let attn =
        ops::scaled_dot_product_attention_full(&q, &k, &v, attn_mask.as_ref(), dropout_p, is_causal, None, false)?;
    let attn = ops::view(
        &ops::contiguous(&ops::permute(&attn, &[2, 0, 1, 3])?)?,
        &[bsz * tgt_len, embed_dim],
    )?;
    Ok((out_proj(attn)?, None))
}

/// Which of query, key and value are the same tensor (PyTorch tests `is`).
enum Identity {
    All,
    KeyValue,
    None,
}

fn query_identity(q: &Tensor, k: &Tensor, v: &Tensor) -> Identity {
    match (k.is_same(v), q.is_same(k)) {
        (true, true) => Identity::All,
        (true, false) => Identity::KeyValue,
        _ => Identity::None,
    }
}

/// A 2-D `[L, S]` mask becomes `[1, L, S]`; a 3-D one must be
/// `[N * num_heads, L, S]`.
fn check_attn_mask(m: &Tensor, tgt_len: i64, batch_heads: i64, src_len: i64) -> Result<Tensor> {
    let sizes = sizes_i64(m);
    if m.dim() == 2 {
        if sizes != [tgt_len, src_len] {
            return Err(shape_error(format!(
                "The shape of the 2D attn_mask is {sizes:?}, but should be {:?}.",
                [tgt_len, src_len]
            )));
        }
        return ops::unsqueeze(m, 0);
    }
    if sizes != [batch_heads, tgt_len, src_len] {
        return Err(shape_error(format!(
            "The shape of the 3D attn_mask is {sizes:?}, but should be {:?}.",
            [batch_heads, tgt_len, src_len]
        )));
    }
    Ok(m.clone())
}

/// Checks a `static_k` / `static_v` tensor's leading and trailing sizes.
fn check_static(name: &str, s: &Tensor, batch_heads: i64, head_dim: i64) -> Result<Tensor> {
    if s.dim() != 3 || s.sizes()[0] as i64 != batch_heads || s.sizes()[2] as i64 != head_dim {
        return Err(shape_error(format!(
            "expecting {name} of shape [{batch_heads}, S, {head_dim}], but got {:?}",
            s.sizes()
        )));
    }
    Ok(s.clone())
}
