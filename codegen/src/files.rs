//! The on-disk schema files, as serde structs.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `schema/ops.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsFile {
    /// Operator overloads, in declaration order.
    #[serde(rename = "op", default)]
    pub ops: Vec<OpEntry>,
}

/// One `[[op]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpEntry {
    /// Function schema, e.g. `add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor`.
    pub signature: String,
    /// `function` and/or `method` (default: function).
    #[serde(default)]
    pub variants: Vec<String>,
    /// Kernel path per dispatch key (paths are relative to `ft_kernels::`
    /// unless they start with `crate::`).
    #[serde(default)]
    pub kernels: BTreeMap<String, String>,
    /// Tags (`core`, `pointwise`, `reduction`, `view`...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Name of the Rust function (default: derived from name and overload).
    pub rust_name: Option<String>,
    /// Name of the Tensor method when it must differ from `rust_name`.
    pub method_name: Option<String>,
    /// `false` marks an op PyTorch does not differentiate.
    pub differentiable: Option<bool>,
    /// Sample inputs: argument name -> value (tensor specs are strings like `f64[3,4]`).
    #[serde(default)]
    pub samples: Vec<BTreeMap<String, toml::Value>>,
    /// Short description for the generated doc comment.
    pub doc: Option<String>,
    /// Dtypes the op claims (`f32`, `i64`, ...); `*` in a sample's tensor
    /// spec expands to one sample per claimed dtype.
    #[serde(default)]
    pub dtypes: Vec<String>,
    /// Why the op has no 0-dim or size-0 sample (it accepts neither).
    pub edge_case_exempt: Option<String>,
    /// Deliberate deviations from PyTorch, each pinned by a test.
    #[serde(default)]
    pub drift: Vec<DriftEntry>,
    /// Generate the in-place variant (`abs_`) from this functional op:
    /// `true` keeps the functional op's overload name, a string names the
    /// in-place overload (`pow_.Scalar` is the in-place `pow.Tensor_Scalar`).
    #[serde(default)]
    pub inplace: Inplace,
    /// Generate the `out=` variant with this overload name (`"out"`,
    /// `"Scalar_out"`: PyTorch's names are irregular, so they are spelled out).
    pub out: Option<String>,
    /// Names of the written arguments of the `out=` variant: one name
    /// (default `out`; PyTorch also has e.g. `grad_input`), or one per
    /// return of a multi-output op (`["values", "indices"]`).
    pub out_name: Option<OutName>,
    /// `"functional"`: the `out=` variant's fixtures record the functional
    /// op's result where PyTorch's out kernel disagrees with it (a PyTorch
    /// bug we do not reproduce; the op carries an `[[op.drift]]` entry).
    pub out_oracle: Option<String>,
}

/// The `out_name` field of an `[[op]]`: one name or one per return.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OutName {
    /// `out_name = "grad_input"`.
    One(String),
    /// `out_name = ["values", "indices"]`.
    Many(Vec<String>),
}

impl OutName {
    /// The names as a list.
    pub fn names(&self) -> Vec<String> {
        match self {
            OutName::One(n) => vec![n.clone()],
            OutName::Many(v) => v.clone(),
        }
    }
}

/// The `inplace` field of an `[[op]]`: a flag, or the in-place overload name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Inplace {
    /// `inplace = true` / `false`.
    Flag(bool),
    /// `inplace = "Scalar"`: the in-place op's overload name.
    Overload(String),
}

impl Default for Inplace {
    fn default() -> Self {
        Inplace::Flag(false)
    }
}

impl Inplace {
    /// True when an in-place variant is asked for.
    pub fn wanted(&self) -> bool {
        !matches!(self, Inplace::Flag(false))
    }
    /// The in-place overload name, given the functional one.
    pub fn overload<'a>(&'a self, functional: &'a str) -> &'a str {
        match self {
            Inplace::Overload(o) => o,
            Inplace::Flag(_) => functional,
        }
    }
}

/// One deliberate deviation from PyTorch (`[[op.drift]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftEntry {
    /// What FrankenTorch does differently.
    pub behavior: String,
    /// Why.
    pub why: String,
    /// Name of a test function that pins the deviating behaviour.
    pub test: String,
}

/// `schema/derivatives.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivativesFile {
    /// Hand-written helper functions formulas may call (in `src/autograd_helpers.rs`).
    #[serde(rename = "helper", default)]
    pub helpers: Vec<HelperEntry>,
    /// Backward formulas.
    #[serde(rename = "derivative", default)]
    pub derivatives: Vec<DerivativeEntry>,
}

/// One `[[helper]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperEntry {
    /// Signature in schema syntax.
    pub signature: String,
    /// Whether its result can be differentiated again (for gradgradcheck).
    #[serde(default = "yes")]
    pub differentiable: bool,
}

fn yes() -> bool {
    true
}

/// One `[[derivative]]`.
#[derive(Debug, Deserialize)]
pub struct DerivativeEntry {
    /// `name.overload` of the op.
    pub of: String,
    /// Inputs that never receive a gradient.
    #[serde(default)]
    pub non_differentiable: Vec<String>,
    /// Which outputs are differentiable (default: all).
    pub output_differentiability: Option<Vec<bool>>,
    /// PyTorch records a `NotImplemented` node for the op: the result
    /// requires grad, and backward through it is an error (`copy`,
    /// `floor_divide`). No formulas go with it.
    #[serde(default)]
    pub not_implemented: bool,
    /// Input name -> formula.
    #[serde(flatten)]
    pub formulas: BTreeMap<String, toml::Value>,
}
