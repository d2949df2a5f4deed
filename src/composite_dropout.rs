//! CompositeImplicitAutograd kernels of the dropout family: `dropout`,
//! `feature_dropout`, `alpha_dropout`, `feature_alpha_dropout` and their
//! in-place forms, composed the way PyTorch's CPU implementation composes
//! them (the fused `native_dropout` is only used on accelerators):
//!
//! - `p = 0`, `train = false` or an empty input: the input itself;
//! - `p = 1`: `input * 0`;
//! - otherwise a noise tensor (like the input, or `[N, C, 1, …]` for the
//!   feature variants) filled with `bernoulli_(1 - p)` from the default
//!   generator, then `input * noise / (1 - p)`; the alpha variants use
//!   `input * a * noise + b` with SELU's saturation constant.
//!
//! Gradients flow through the final `mul` (and `add`), as in PyTorch.

use crate::ops;
use crate::{Error, Result, Tensor};

/// SELU's `alpha * scale`: the value alpha dropout sends dropped units to
/// (negated), as PyTorch writes it.
const ALPHA: f64 = 1.758_099_340_847_376_6;

/// Which member of the family runs.
#[derive(Clone, Copy)]
struct Kind {
    feature: bool,
    alpha: bool,
    inplace: bool,
}

/// Renames errors raised by the operators a composite calls to the composite.
fn named<T>(op: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| if e.op().starts_with("aten::") { e.with_op(op) } else { e })
}

/// A contiguous noise tensor of `input`'s dtype: like `input` (its strides)
/// or, for feature dropout, `[N, C, 1, …]`.
fn make_noise(op: &str, input: &Tensor, feature: bool) -> Result<Tensor> {
    if !feature {
        return ops::empty_like(input);
    }
    if input.dim() < 2 {
        return Err(Error::invalid(
            op,
            "Feature dropout requires at least 2 dimensions in the input",
        ));
    }
    let mut sizes: Vec<i64> = vec![1; input.dim()];
    sizes[0] = input.sizes()[0] as i64;
    sizes[1] = input.sizes()[1] as i64;
    ops::empty_full(&sizes, Some(input.dtype()), None, None, None, None)
}

/// `input * other`, in place when asked.
fn multiply(input: &Tensor, other: &Tensor, inplace: bool) -> Result<Tensor> {
    if inplace {
        ops::mul_(input, other)
    } else {
        ops::mul(input, other)
    }
}

fn dropout_impl(op: &str, input: &Tensor, p: f64, train: bool, kind: Kind) -> Result<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            op,
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ));
    }
    if p == 0.0 || !train || input.numel() == 0 {
        return Ok(input.clone());
    }
    if p == 1.0 {
        let zero = ops::zeros_full(&[], Some(input.dtype()), None, None, None)?;
        return named(op, multiply(input, &zero, kind.inplace));
    }
    let noise = make_noise(op, input, kind.feature)?;
    named(op, ops::bernoulli_(&noise, 1.0 - p))?;
    if !kind.alpha {
        named(op, ops::div_scalar_(&noise, 1.0 - p))?;
        return named(op, multiply(input, &noise, kind.inplace));
    }
    let a = 1.0 / ((ALPHA * ALPHA * p + 1.0) * (1.0 - p)).sqrt();
    let b = named(op, ops::add_scalar(&noise, -1, 1))?;
    named(op, ops::mul_scalar_(&b, ALPHA * a))?;
    named(op, ops::add_scalar_(&b, ALPHA * a * p, 1))?;
    named(op, ops::mul_scalar_(&noise, a))?;
    if !kind.inplace {
        return named(op, ops::add(&named(op, ops::mul(input, &noise))?, &b));
    }
    // PyTorch writes `input.mul_(noise).add_(b)`; computing on a copy and
    // writing back once gives the same values and gradient with a single
    // version bump (the product saves the copy, not the overwritten input).
    let x = named(op, ops::clone(input))?;
    let result = named(op, ops::add(&named(op, ops::mul(&x, &noise))?, &b))?;
    named(op, ops::copy_(input, &result, false))
}

/// `aten::dropout`: zeroes each element with probability `p` and scales the
/// rest by `1 / (1 - p)` when `train`.
///
/// ```
/// use frankentorch::{ops, Tensor};
/// let x = Tensor::from_vec(vec![1.0f64; 4], &[4]).unwrap();
/// assert_eq!(ops::dropout(&x, 0.5, false).unwrap().to_vec::<f64>().unwrap(), vec![1.0; 4]);
/// ```
pub fn dropout(input: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: false,
        alpha: false,
        inplace: false,
    };
    dropout_impl("aten::dropout", input, p, train, kind)
}

/// `aten::dropout_`: [`dropout`] written into `self_`.
pub fn dropout_(self_: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: false,
        alpha: false,
        inplace: true,
    };
    dropout_impl("aten::dropout_", self_, p, train, kind)
}

/// `aten::feature_dropout`: zeroes whole channels (`input[n, c]`) with
/// probability `p`, scaling the rest by `1 / (1 - p)`.
pub fn feature_dropout(input: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: true,
        alpha: false,
        inplace: false,
    };
    dropout_impl("aten::feature_dropout", input, p, train, kind)
}

/// `aten::feature_dropout_`: [`feature_dropout`] written into `self_`.
pub fn feature_dropout_(self_: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: true,
        alpha: false,
        inplace: true,
    };
    dropout_impl("aten::feature_dropout_", self_, p, train, kind)
}

/// `aten::alpha_dropout`: dropout keeping SELU's self-normalisation (dropped
/// units go to SELU's negative saturation value, then an affine correction).
pub fn alpha_dropout(input: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: false,
        alpha: true,
        inplace: false,
    };
    dropout_impl("aten::alpha_dropout", input, p, train, kind)
}

/// `aten::alpha_dropout_`: [`alpha_dropout`] written into `self_`.
pub fn alpha_dropout_(self_: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: false,
        alpha: true,
        inplace: true,
    };
    dropout_impl("aten::alpha_dropout_", self_, p, train, kind)
}

/// `aten::feature_alpha_dropout`: alpha dropout of whole channels.
pub fn feature_alpha_dropout(input: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: true,
        alpha: true,
        inplace: false,
    };
    dropout_impl("aten::feature_alpha_dropout", input, p, train, kind)
}

/// `aten::feature_alpha_dropout_`: [`feature_alpha_dropout`] written into `self_`.
pub fn feature_alpha_dropout_(self_: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    let kind = Kind {
        feature: true,
        alpha: true,
        inplace: true,
    };
    dropout_impl("aten::feature_alpha_dropout_", self_, p, train, kind)
}
