//! Loads and validates the schema files into a model whose fields are the
//! Rust snippets the templates lay out.

use crate::files::{DerivativeEntry, DerivativesFile, OpEntry, OpsFile};
use crate::formula::{self, Expr};
use crate::signature::{self, BaseType, Signature, Type};
use crate::types::{default_expr, fill, rust_ident, rust_type, RustType};
use heck::{ToShoutySnakeCase, ToSnakeCase};
use std::collections::{BTreeMap, BTreeSet};

/// A validation error naming the file, the entry and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// `schema/ops.toml` or `schema/derivatives.toml`.
    pub file: String,
    /// The entry (`add.Tensor`) or `-` for file-level problems.
    pub entry: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.entry, self.message)
    }
}

const OPS: &str = "schema/ops.toml";
const DERIVS: &str = "schema/derivatives.toml";

fn err(file: &str, entry: &str, message: impl Into<String>) -> SchemaError {
    SchemaError {
        file: file.into(),
        entry: entry.into(),
        message: message.into(),
    }
}

/// One argument, with its Rust spellings.
#[derive(Debug, Clone)]
pub struct ArgModel {
    /// Schema name.
    pub name: String,
    /// Rust identifier.
    pub ident: String,
    /// Schema type.
    pub ty: Type,
    /// Rust spellings.
    pub rt: RustType,
    /// Default as a parameter expression.
    pub default_param: Option<String>,
    /// Default as runtime metadata.
    pub default_meta: Option<String>,
    /// After `*`.
    pub kwarg_only: bool,
}

/// How the Autograd key is served for an op.
#[derive(Debug, Clone, PartialEq)]
pub enum AutogradMode {
    /// A generated kernel recording node `nodes[i]`.
    Formula(usize),
    /// Non-differentiable: outputs never require grad; autograd is skipped.
    Fallthrough,
    /// CompositeImplicitAutograd: the composite kernel runs at the autograd key.
    Composite,
}

/// A registered kernel.
#[derive(Debug, Clone)]
pub struct KernelModel {
    /// Rust `KernelKey` expression.
    pub key: String,
    /// Name of the generated wrapper function.
    pub wrapper: String,
    /// Path of the hand-written kernel.
    pub path: String,
}

/// One operator overload.
#[derive(Debug, Clone)]
pub struct OpModel {
    /// Parsed signature.
    pub sig: Signature,
    /// Signature text as written.
    pub signature_text: String,
    /// `add.Tensor`.
    pub qualified: String,
    /// snake_case key unique per overload (`add_tensor`).
    pub key: String,
    /// SHOUTY key (`ADD_TENSOR`).
    pub upper: String,
    /// Public function name.
    pub rust_name: String,
    /// Method name, when a method variant exists.
    pub method_name: Option<String>,
    /// True if kwarg-only defaulted args are omitted by `rust_name` and a `_full` form exists.
    pub has_full: bool,
    /// Arguments.
    pub args: Vec<ArgModel>,
    /// Rust return type.
    pub ret_type: String,
    /// Registered kernels.
    pub kernels: Vec<KernelModel>,
    /// Tags.
    pub tags: Vec<String>,
    /// Doc text.
    pub doc: String,
    /// Autograd handling.
    pub autograd: AutogradMode,
    /// Samples as written.
    pub samples: Vec<BTreeMap<String, toml::Value>>,
    /// Samples after `*` expansion (filled by `build`).
    pub expanded: Vec<crate::samples::Sample>,
    /// Claimed dtypes.
    pub dtypes: Vec<String>,
    /// Reason the op has no 0-dim/size-0 sample, if exempt.
    pub edge_case_exempt: Option<String>,
    /// Deliberate deviations, each pinned by a test.
    pub drift: Vec<crate::files::DriftEntry>,
    /// Set for in-place / out= variants generated from a functional op.
    pub derived: Option<Derived>,
}

/// Which generated variant an op is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// `abs_`: computes the functional op and writes the result into `self`.
    Inplace,
    /// `abs.out`: computes the functional op and writes the result into `out`.
    Out,
}

/// The functional op a generated variant computes with.
#[derive(Debug, Clone)]
pub struct Derived {
    /// In-place or out=.
    pub kind: VariantKind,
    /// The functional op's qualified name.
    pub functional: String,
    /// The functional op's full Rust API name (`add_full`).
    pub functional_full_name: String,
    /// The functional op returns `Option<Tensor>`s (an `output_mask` op).
    pub functional_masked: bool,
}

impl OpModel {
    /// Name of the `_full` (all arguments) API function, or the plain one.
    pub fn full_name(&self) -> String {
        if self.has_full {
            match self.rust_name.strip_suffix('_') {
                Some(base) => format!("{base}_full_"),
                None => format!("{}_full", self.rust_name),
            }
        } else {
            self.rust_name.clone()
        }
    }
    /// Tensor-valued arguments (for the dispatch keyset).
    pub fn tensor_args(&self) -> Vec<&ArgModel> {
        self.args.iter().filter(|a| a.ty.base == BaseType::Tensor).collect()
    }
    /// True for in-place ops.
    pub fn is_inplace(&self) -> bool {
        self.sig.is_inplace()
    }
}

/// A saved field of a node.
#[derive(Debug, Clone)]
pub struct FieldModel {
    /// Field name.
    pub name: String,
    /// Field type.
    pub ty: String,
    /// Expression initialising it inside the autograd kernel.
    pub init: String,
    /// True when `init` must run before the forward call.
    pub before_forward: bool,
}

/// A generated backward node struct.
#[derive(Debug, Clone)]
pub struct NodeModel {
    /// `AddBackward0` (the struct; also what `name()` reports unless
    /// `display_name` says otherwise).
    pub name: String,
    /// What the node's `name()` reports when it is not `name`
    /// (`torch::autograd::NotImplemented`).
    pub display_name: Option<String>,
    /// Backward through the node is an error (PyTorch's `NotImplemented`).
    pub not_implemented: bool,
    /// The op it differentiates (`add.Tensor`).
    pub of: String,
    /// Saved fields.
    pub fields: Vec<FieldModel>,
    /// Statements run at the start of `apply` (unpacking saved values).
    pub prelude: Vec<String>,
    /// The gradient formulas, each computing one or several inputs' gradients.
    pub formulas: Vec<FormulaModel>,
    /// The differentiable inputs, in signature order (a list input spans
    /// one next edge per element).
    pub inputs: Vec<InputModel>,
    /// Indices of the output gradients the formulas read (`grad`, `grads[i]`).
    pub grads_used: Vec<usize>,
    /// True when a formula reads every output gradient (`grads`).
    pub all_grads: bool,
    /// Statements of `release_variables`.
    pub release: Vec<String>,
    /// True if every formula can itself be differentiated.
    pub twice_differentiable: bool,
    /// Number of forward outputs.
    pub num_outputs: usize,
    /// Which outputs get history.
    pub output_differentiability: Vec<bool>,
}

/// How a differentiable input maps to next edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `Tensor`: one edge.
    Plain,
    /// `Tensor?`: one edge, invalid when the tensor is absent.
    Optional,
    /// `Tensor[]`: one edge per element.
    List,
}

/// A differentiable input of a node.
#[derive(Debug, Clone)]
pub struct InputModel {
    /// Schema name.
    pub name: String,
    /// Rust identifier.
    pub ident: String,
    /// Edge layout.
    pub kind: InputKind,
}

/// One formula of a node and the inputs it serves.
#[derive(Debug, Clone)]
pub struct FormulaModel {
    /// Indices into `NodeModel::inputs`.
    pub targets: Vec<usize>,
    /// Rust expression: a `Tensor` (one plain/optional target), a
    /// `Vec<Tensor>` (one list target), or a tuple (several targets); or a
    /// `return Err(..)` statement for `not_implemented`.
    pub rust: String,
}

/// A helper callable from formulas.
#[derive(Debug, Clone)]
pub struct HelperModel {
    /// Signature.
    pub sig: Signature,
    /// Differentiable again.
    pub differentiable: bool,
}

/// Everything the templates need.
#[derive(Debug, Clone)]
pub struct Model {
    /// Ops in declaration order.
    pub ops: Vec<OpModel>,
    /// Backward nodes.
    pub nodes: Vec<NodeModel>,
}

fn parse_variants(e: &OpEntry, q: &str) -> Result<(bool, bool), SchemaError> {
    let mut function = e.variants.is_empty();
    let mut method = false;
    for v in &e.variants {
        match v.as_str() {
            "function" => function = true,
            "method" => method = true,
            other => {
                return Err(err(
                    OPS,
                    q,
                    format!("unknown variant `{other}` (expected function or method)"),
                ))
            }
        }
    }
    Ok((function, method))
}

fn kernel_key_expr(name: &str) -> Option<&'static str> {
    Some(match name {
        "CPU" => "KernelKey::Key(DispatchKey::CPU)",
        "Autograd" => "KernelKey::Autograd",
        "CompositeImplicitAutograd" => "KernelKey::CompositeImplicitAutograd",
        "CompositeExplicitAutograd" => "KernelKey::CompositeExplicitAutograd",
        _ => return None,
    })
}

fn default_rust_name(sig: &Signature, first_of_name: bool) -> String {
    let base = sig.name.trim_end_matches('_');
    let inplace = sig.name.ends_with('_');
    let mut name = if first_of_name || sig.overload.is_empty() {
        base.to_string()
    } else {
        format!("{base}_{}", sig.overload.to_snake_case())
    };
    if inplace {
        name.push('_');
    }
    name
}

fn build_op(e: &OpEntry, seen_names: &mut BTreeSet<String>) -> Result<OpModel, SchemaError> {
    let sig = signature::parse(&e.signature).map_err(|m| err(OPS, &e.signature, m.0))?;
    let q = sig.qualified();
    let (function, method) = parse_variants(e, &q)?;
    if !function {
        return Err(err(
            OPS,
            &q,
            "every op needs the function variant (methods forward to it)",
        ));
    }
    if method
        && sig
            .args
            .first()
            .is_none_or(|a| a.name != "self" || a.ty.base != BaseType::Tensor)
    {
        return Err(err(OPS, &q, "the method variant needs a first argument `Tensor self`"));
    }
    let first_of_name = seen_names.insert(sig.name.clone());
    let rust_name = e
        .rust_name
        .clone()
        .unwrap_or_else(|| default_rust_name(&sig, first_of_name));
    let mut args = Vec::new();
    for a in &sig.args {
        let rt =
            rust_type(&a.ty).ok_or_else(|| err(OPS, &q, format!("argument `{}` has an unsupported type", a.name)))?;
        let default_param = a
            .default
            .as_ref()
            .map(|d| default_expr(&a.ty, d, true))
            .transpose()
            .map_err(|m| err(OPS, &q, m))?;
        let default_meta = a
            .default
            .as_ref()
            .map(|d| default_expr(&a.ty, d, false))
            .transpose()
            .map_err(|m| err(OPS, &q, m))?;
        args.push(ArgModel {
            name: a.name.clone(),
            ident: rust_ident(&a.name),
            ty: a.ty.clone(),
            rt,
            default_param,
            default_meta,
            kwarg_only: a.kwarg_only,
        });
    }
    for r in &sig.returns {
        if crate::types::ret_rust_type(&r.ty).is_none() {
            return Err(err(
                OPS,
                &q,
                "returns must be Tensor, Tensor[], int, SymInt, float, bool or Scalar",
            ));
        }
    }
    if crate::types::masked_outputs(&sig) && e.differentiable != Some(false) {
        return Err(err(
            OPS,
            &q,
            "an op with an `output_mask` returns optional tensors and needs `differentiable = false`",
        ));
    }
    if crate::types::returns_non_tensor(&sig.returns) && e.differentiable != Some(false) {
        return Err(err(
            OPS,
            &q,
            "an op returning a non-Tensor value needs `differentiable = false`",
        ));
    }
    let mut kernels = Vec::new();
    for (k, path) in &e.kernels {
        let key = kernel_key_expr(k).ok_or_else(|| err(OPS, &q, format!("unknown dispatch key `{k}` (known: CPU, Autograd, CompositeImplicitAutograd, CompositeExplicitAutograd)")))?;
        if path.trim().is_empty()
            || !path
                .split("::")
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(err(OPS, &q, format!("kernel path `{path}` is not a Rust path")));
        }
        let path = if path.starts_with("crate::") {
            path.clone()
        } else {
            format!("ft_kernels::{path}")
        };
        let key_name = k.to_snake_case();
        kernels.push(
            KernelModel {
                key: key.into(),
                wrapper: String::new(),
                path,
            }
            .with_wrapper(&key_name),
        );
    }
    if kernels.is_empty() {
        return Err(err(
            OPS,
            &q,
            "no kernels: give at least one of CPU, CompositeImplicitAutograd, CompositeExplicitAutograd",
        ));
    }
    let both_composite =
        e.kernels.contains_key("CompositeImplicitAutograd") && e.kernels.contains_key("CompositeExplicitAutograd");
    if both_composite {
        return Err(err(
            OPS,
            &q,
            "an op cannot have both CompositeImplicitAutograd and CompositeExplicitAutograd kernels",
        ));
    }
    let has_full = args.iter().any(|a| a.kwarg_only && a.default_param.is_some());
    let key = op_key(&sig);
    let upper = key.to_shouty_snake_case();
    let method_name = method.then(|| e.method_name.clone().unwrap_or_else(|| rust_name.clone()));
    let composite = e.kernels.contains_key("CompositeImplicitAutograd");
    let autograd = if composite {
        AutogradMode::Composite
    } else {
        AutogradMode::Fallthrough
    };
    Ok(OpModel {
        ret_type: crate::types::op_return_type(&sig),
        signature_text: e.signature.clone(),
        qualified: q,
        key,
        upper,
        rust_name,
        method_name,
        has_full,
        args,
        kernels,
        tags: e.tags.clone(),
        doc: e.doc.clone().unwrap_or_default(),
        autograd,
        samples: e.samples.clone(),
        expanded: Vec::new(),
        dtypes: e.dtypes.clone(),
        edge_case_exempt: e.edge_case_exempt.clone(),
        drift: e.drift.clone(),
        derived: None,
        sig,
    })
}

/// The snake_case key naming an overload's generated items (`add_tensor`,
/// `add_tensor_inplace` for `add_.Tensor`).
pub fn op_key(sig: &Signature) -> String {
    let key = format!(
        "{}{}",
        sig.name.to_snake_case(),
        if sig.overload.is_empty() {
            String::new()
        } else {
            format!("_{}", sig.overload.to_snake_case())
        }
    );
    if sig.name.ends_with('_') {
        format!("{key}_inplace")
    } else {
        key
    }
}

impl KernelModel {
    fn with_wrapper(mut self, key_name: &str) -> Self {
        self.wrapper = key_name.to_string();
        self
    }
}

/// Loads and validates both files.
pub fn build(ops_text: &str, derivs_text: &str) -> Result<Model, Vec<SchemaError>> {
    let mut ops_file: OpsFile = toml::from_str(ops_text).map_err(|e| vec![err(OPS, "-", e.to_string())])?;
    let der_file: DerivativesFile = toml::from_str(derivs_text).map_err(|e| vec![err(DERIVS, "-", e.to_string())])?;
    let mut errors = Vec::new();
    let mut ops: Vec<OpModel> = Vec::new();
    let mut seen_names = BTreeSet::new();
    let mut entries = Vec::new();
    for e in &ops_file.ops {
        let functional = match build_op(e, &mut seen_names) {
            Ok(op) => op,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let variants = crate::variants::derive_entries(e, &functional.rust_name, functional.method_name.as_deref());
        let derived_from = Derived {
            kind: VariantKind::Inplace,
            functional: functional.qualified.clone(),
            functional_full_name: functional.full_name(),
            functional_masked: crate::types::masked_outputs(&functional.sig),
        };
        entries.push(e.clone());
        ops.push(functional);
        match variants {
            Ok(list) => {
                for (v, kind) in list {
                    // Variants carry explicit names; they must not claim a name first.
                    match build_op(&v, &mut seen_names.clone()) {
                        Ok(mut op) => {
                            op.derived = Some(Derived {
                                kind,
                                ..derived_from.clone()
                            });
                            ops.push(op);
                        }
                        Err(e) => errors.push(e),
                    }
                    entries.push(v);
                }
            }
            Err(m) => errors.push(err(OPS, &e.signature, m)),
        }
    }
    ops_file.ops = entries;
    check_unique(&ops, &mut errors);
    for op in ops.iter_mut() {
        match crate::samples::expand(op, &op.dtypes) {
            Ok(expanded) => {
                // Variants inherit their functional op's (checked) samples.
                let covered = op.derived.is_some()
                    || crate::samples::check_coverage(op, &expanded, &op.dtypes, op.edge_case_exempt.is_some()).is_ok();
                if !covered {
                    let e = crate::samples::check_coverage(op, &expanded, &op.dtypes, op.edge_case_exempt.is_some())
                        .unwrap_err();
                    errors.push(err(OPS, &op.qualified, e));
                }
                op.expanded = expanded;
            }
            Err(e) => errors.push(err(OPS, &op.qualified, e)),
        }
    }
    let mut helpers = BTreeMap::new();
    for h in &der_file.helpers {
        match signature::parse(&h.signature) {
            Ok(sig) => {
                helpers.insert(
                    sig.name.clone(),
                    HelperModel {
                        sig,
                        differentiable: h.differentiable,
                    },
                );
            }
            Err(m) => errors.push(err(DERIVS, &h.signature, m.0)),
        }
    }
    let nodes = crate::derive::build_nodes(&mut ops, &der_file.derivatives, &helpers, &mut errors);
    let differentiable_flags: BTreeMap<String, Option<bool>> = ops_file
        .ops
        .iter()
        .filter_map(|e| {
            signature::parse(&e.signature)
                .ok()
                .map(|s| (s.qualified(), e.differentiable))
        })
        .collect();
    for op in &ops {
        let has_tensor_in = op.args.iter().any(|a| {
            a.ty.base == BaseType::Tensor && a.ty.alias.as_ref().is_none_or(|al| !al.write || op.is_inplace())
        });
        let marked = differentiable_flags.get(&op.qualified).copied().flatten();
        match (&op.autograd, marked) {
            (AutogradMode::Formula(_), Some(false)) => errors.push(err(
                OPS,
                &op.qualified,
                "marked differentiable = false but has a derivative formula",
            )),
            (AutogradMode::Fallthrough, None) if has_tensor_in => errors.push(err(
                OPS,
                &op.qualified,
                "differentiable op with neither a formula in schema/derivatives.toml nor `differentiable = false`",
            )),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(Model { ops, nodes })
    } else {
        Err(errors)
    }
}

fn check_unique(ops: &[OpModel], errors: &mut Vec<SchemaError>) {
    let mut names = BTreeSet::new();
    let mut fns = BTreeSet::new();
    for op in ops {
        if !names.insert(op.qualified.clone()) {
            errors.push(err(OPS, &op.qualified, "overload declared twice"));
        }
        if !fns.insert(op.rust_name.clone()) {
            errors.push(err(
                OPS,
                &op.qualified,
                format!("Rust name `{}` is already used; set rust_name", op.rust_name),
            ));
        }
    }
}

/// The derivative entry an op uses: its own, or (for in-place `foo_.X`) that of `foo.X`.
pub fn derivative_for<'a>(op: &OpModel, entries: &'a [DerivativeEntry]) -> Option<&'a DerivativeEntry> {
    let own = entries.iter().find(|d| d.of == op.qualified);
    own.or_else(|| {
        // A generated in-place variant knows its functional op (`pow_.Scalar`
        // is the in-place `pow.Tensor_Scalar`).
        if let Some(d) = op.derived.as_ref().filter(|d| d.kind == VariantKind::Inplace) {
            return entries.iter().find(|e| e.of == d.functional);
        }
        if op.is_inplace() {
            let base = op.sig.name.trim_end_matches('_');
            let q = if op.sig.overload.is_empty() {
                base.to_string()
            } else {
                format!("{base}.{}", op.sig.overload)
            };
            entries.iter().find(|d| d.of == q)
        } else {
            None
        }
    })
}

/// `CamelCase` of an op's base name for node names.
pub fn node_base_name(op_name: &str) -> String {
    let name = op_name.trim_end_matches('_');
    let name = name.strip_suffix("_forward").unwrap_or(name);
    name.split('_').map(python_title).collect()
}

/// Python's `str.title()` of one name part, which PyTorch's codegen applies:
/// each run of letters starts upper-case (also after a digit: `log1p` gives
/// `Log1P`, `avg_pool2d` gives `AvgPool2D`), the rest is lower-case.
fn python_title(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut after_letter = false;
    for c in part.chars() {
        if c.is_alphabetic() {
            if after_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

/// Parses a formula, mapping errors to a SchemaError for `entry`.
pub fn parse_formula(entry: &str, text: &str) -> Result<Expr, SchemaError> {
    formula::parse(text).map_err(|e| err(DERIVS, entry, format!("formula `{text}`: {}", e.0)))
}

/// Shorthand used by `derive`.
pub fn derivs_err(entry: &str, message: impl Into<String>) -> SchemaError {
    err(DERIVS, entry, message)
}

/// Fills the borrow template of an arg for an owned value `x`.
pub fn borrow_of(a: &ArgModel, x: &str) -> String {
    fill(a.rt.borrow, x)
}

#[cfg(test)]
mod node_name_tests {
    use super::node_base_name;

    #[test]
    fn node_names_follow_pytorch() {
        // grad_fn names PyTorch 2.15 prints for these ops.
        let cases = [
            ("nll_loss_forward", "NllLoss"),
            ("nll_loss2d_forward", "NllLoss2D"),
            ("_cdist_forward", "Cdist"),
            ("log1p", "Log1P"),
            ("max_pool2d_with_indices", "MaxPool2DWithIndices"),
            ("mul_", "Mul"),
            ("_log_softmax", "LogSoftmax"),
            ("expm1", "Expm1"),
            ("threshold_backward", "ThresholdBackward"),
        ];
        for (op, node) in cases {
            assert_eq!(node_base_name(op), node, "{op}");
        }
    }
}
