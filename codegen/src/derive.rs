//! Turns `[[derivative]]` entries into backward nodes: type-checks each
//! formula against the signatures of ops and helpers, translates it to Rust,
//! and infers what the node must save (a whole tensor, only its sizes or
//! dtype, or a plain value).

use crate::files::DerivativeEntry;
use crate::formula::Expr;
use crate::model::{
    derivative_for, derivs_err, node_base_name, parse_formula, AutogradMode, FieldModel, FormulaModel, HelperModel,
    InputKind, InputModel, NodeModel, OpModel, SchemaError,
};
use crate::signature::{BaseType, Signature, Type};
use crate::types::default_expr;
use std::collections::{BTreeMap, BTreeSet};

/// Value kinds a formula expression can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Tensor,
    Scalar,
    Int,
    Float,
    Bool,
    IntList,
    OptIntList,
    DType,
    OptDType,
    OptScalar,
    OptInt,
    OptFloat,
    OptBool,
    Str,
    OptStr,
    BoolList,
    /// An optional tensor input that is not differentiated (`Tensor? weight`).
    OptTensor,
    /// `Tensor[]` (an input list, `grads`, or a list-returning call).
    TensorList,
    /// `Tensor?[]`.
    OptTensorList,
    /// The tuple returned by a call to an op with several outputs.
    TensorTuple(u8),
}

struct Code {
    code: String,
    ty: Ty,
    /// A plain variable (must be cloned to be moved).
    place: bool,
}

fn code(code: String, ty: Ty) -> Code {
    Code { code, ty, place: false }
}

/// What a node saves about one input.
#[derive(Default, Clone)]
struct Usage {
    full: bool,
    sizes: bool,
    scalar_type: bool,
    dim: bool,
    numel: bool,
    strides: bool,
    storage_offset: bool,
    value: bool,
}

struct Ctx<'a> {
    entry: &'a str,
    sig: &'a Signature,
    ops: &'a [OpModel],
    helpers: &'a BTreeMap<String, HelperModel>,
    usage: BTreeMap<String, Usage>,
    called: BTreeSet<String>,
    helper_differentiable: bool,
    /// Output gradients read (`grad` is 0).
    grads_used: BTreeSet<usize>,
    /// `grads` (all output gradients) is read.
    all_grads: bool,
    /// Forward outputs read by formulas.
    results_used: BTreeSet<usize>,
    /// `grad_input_mask` of the formula being translated.
    mask: String,
}

fn ty_of_arg(t: &Type) -> Option<Ty> {
    if t.base == BaseType::Tensor && t.list.is_some() && !t.is_optional() {
        return Some(if t.elem_optional {
            Ty::OptTensorList
        } else {
            Ty::TensorList
        });
    }
    Some(match (t.base, t.list, t.is_optional()) {
        (BaseType::Tensor, None, false) => Ty::Tensor,
        (BaseType::Scalar, None, false) => Ty::Scalar,
        (BaseType::Int, None, false) => Ty::Int,
        (BaseType::Float, None, false) => Ty::Float,
        (BaseType::Bool, None, false) => Ty::Bool,
        (BaseType::Int, Some(_), false) => Ty::IntList,
        (BaseType::Int, Some(_), true) => Ty::OptIntList,
        (BaseType::ScalarType, None, false) => Ty::DType,
        (BaseType::ScalarType, None, true) => Ty::OptDType,
        (BaseType::Scalar, None, true) => Ty::OptScalar,
        (BaseType::Int, None, true) => Ty::OptInt,
        (BaseType::Float, None, true) => Ty::OptFloat,
        (BaseType::Bool, None, true) => Ty::OptBool,
        (BaseType::Str, None, false) => Ty::Str,
        (BaseType::Str, None, true) => Ty::OptStr,
        (BaseType::Bool, Some(_), false) => Ty::BoolList,
        (BaseType::Tensor, None, true) => Ty::OptTensor,
        _ => return None,
    })
}

fn field_of(name: &str) -> String {
    format!("{}_", crate::types::rust_ident(name).trim_end_matches('_'))
}

/// An optional input used where a tensor is required: present whenever its
/// gradient is needed, so absence is an internal error, not a panic.
fn unwrap_present(c: &str) -> String {
    format!("{c}.ok_or_else(|| Error::autograd(\"autograd\", \"a formula needs an optional input that is absent\"))?")
}

/// Converts an argument of kind `have` to the parameter type `want`, or None.
fn convert(arg: &Code, want: &Type) -> Option<String> {
    let c = &arg.code;
    let borrowed = if arg.place { format!("&{c}") } else { format!("&({c})") };
    Some(match (want.base, want.list, want.is_optional(), arg.ty) {
        (BaseType::Tensor, None, false, Ty::Tensor) => borrowed,
        (BaseType::Tensor, None, true, Ty::Tensor) => format!("Some({borrowed})"),
        (BaseType::Scalar, None, false, Ty::Scalar) => c.clone(),
        (BaseType::Scalar, None, false, Ty::Int) => format!("Scalar::Int({c})"),
        (BaseType::Scalar, None, false, Ty::Float) => format!("Scalar::Float({c})"),
        (BaseType::Scalar, None, false, Ty::Bool) => format!("Scalar::Bool({c})"),
        (BaseType::Int, None, false, Ty::Int) => c.clone(),
        (BaseType::Int, None, true, Ty::Int) => format!("Some({c})"),
        (BaseType::Float, None, false, Ty::Float) => c.clone(),
        (BaseType::Float, None, false, Ty::Int) => format!("(({c}) as f64)"),
        (BaseType::Bool, None, false, Ty::Bool) => c.clone(),
        (BaseType::Int, Some(_), false, Ty::IntList) => format!("&{c}"),
        (BaseType::Int, Some(_), true, Ty::IntList) => format!("Some(&{c}[..])"),
        (BaseType::Int, Some(_), true, Ty::OptIntList) => c.clone(),
        (BaseType::ScalarType, None, false, Ty::DType) => c.clone(),
        (BaseType::ScalarType, None, true, Ty::DType) => format!("Some({c})"),
        (BaseType::ScalarType, None, true, Ty::OptDType) => c.clone(),
        (BaseType::Scalar, None, true, Ty::OptScalar) => c.clone(),
        (BaseType::Scalar, None, true, Ty::Scalar) => format!("Some({c})"),
        (BaseType::Int, None, true, Ty::OptInt) => c.clone(),
        (BaseType::Float, None, true, Ty::OptFloat) => c.clone(),
        (BaseType::Float, None, true, Ty::Float) => format!("Some({c})"),
        (BaseType::Bool, None, true, Ty::OptBool) => c.clone(),
        (BaseType::Bool, None, true, Ty::Bool) => format!("Some({c})"),
        (BaseType::Str, None, false, Ty::Str) => format!("&{c}"),
        (BaseType::Str, None, true, Ty::OptStr) => format!("{c}.as_deref()"),
        (BaseType::Bool, Some(_), false, Ty::BoolList) => format!("&{c}"),
        (BaseType::Tensor, None, true, Ty::OptTensor) => c.clone(),
        (BaseType::Tensor, None, false, Ty::OptTensor) => unwrap_present(c),
        (BaseType::Tensor, Some(_), false, Ty::TensorList) if !want.elem_optional => borrowed,
        (BaseType::Tensor, Some(_), false, Ty::OptTensorList) if want.elem_optional => borrowed,
        _ => return None,
    })
}

impl Ctx<'_> {
    fn fail(&self, m: impl Into<String>) -> SchemaError {
        derivs_err(self.entry, m)
    }

    fn arg_type(&self, name: &str) -> Option<&Type> {
        self.sig.args.iter().find(|a| a.name == name).map(|a| &a.ty)
    }

    fn name(&mut self, n: &str) -> Result<Code, SchemaError> {
        let place = |code: String, ty: Ty| Code { code, ty, place: true };
        match n {
            "grad" => {
                self.grads_used.insert(0);
                return Ok(place("grad".into(), Ty::Tensor));
            }
            "grads" => {
                self.all_grads = true;
                return Ok(place("grads_all".into(), Ty::TensorList));
            }
            "grad_input_mask" => return Ok(code(self.mask.clone(), Ty::BoolList)),
            _ => {}
        }
        if let Some(i) = self.result_index(n)? {
            if self.sig.returns[i].ty.list.is_some() {
                return Err(self.fail(format!("formulas cannot read the list output `{n}` yet")));
            }
            self.results_used.insert(i);
            return Ok(place(result_var(i, self.sig.returns.len()), Ty::Tensor));
        }
        let ty = self
            .arg_type(n)
            .ok_or_else(|| self.fail(format!("formula names unknown input `{n}`")))?
            .clone();
        let kind =
            ty_of_arg(&ty).ok_or_else(|| self.fail(format!("input `{n}` has a type formulas cannot use yet")))?;
        let u = self.usage.entry(n.to_string()).or_default();
        if kind == Ty::OptTensor {
            u.full = true;
            return Ok(code(format!("{}.as_ref()", crate::types::rust_ident(n)), Ty::OptTensor));
        }
        if matches!(kind, Ty::TensorList | Ty::OptTensorList) {
            u.full = true;
            return Ok(Code {
                code: crate::types::rust_ident(n),
                ty: kind,
                place: true,
            });
        }
        if kind == Ty::Tensor {
            u.full = true;
            Ok(Code {
                code: crate::types::rust_ident(n),
                ty: Ty::Tensor,
                place: true,
            })
        } else {
            u.value = true;
            let f = format!("self.{}", field_of(n));
            Ok(match kind {
                Ty::OptIntList => code(format!("{f}.as_deref()"), kind),
                _ => Code {
                    code: f,
                    ty: kind,
                    place: true,
                },
            })
        }
    }

    /// The forward output a name refers to: `result` for a single output,
    /// `resultN` or the declared return name otherwise.
    fn result_index(&self, n: &str) -> Result<Option<usize>, SchemaError> {
        let rets = &self.sig.returns;
        if self.arg_type(n).is_some() {
            return Ok(None);
        }
        if n == "result" {
            return if rets.len() == 1 {
                Ok(Some(0))
            } else {
                Err(self.fail("`result` is ambiguous for an op with several outputs; use result0, result1, ... or the return names"))
            };
        }
        if let Some(i) = n.strip_prefix("result").and_then(|d| d.parse::<usize>().ok()) {
            return Ok((i < rets.len()).then_some(i));
        }
        Ok(rets.iter().position(|r| r.name == n))
    }

    fn meta_method(&mut self, recv: &Expr, m: &str) -> Result<Option<Code>, SchemaError> {
        let (ty, suffix) = match m {
            "sizes" | "sym_sizes" => (Ty::IntList, "sizes"),
            "scalar_type" => (Ty::DType, "scalar_type"),
            "dim" => (Ty::Int, "dim"),
            "numel" | "sym_numel" => (Ty::Int, "numel"),
            "strides" | "sym_strides" => (Ty::IntList, "strides"),
            "storage_offset" | "sym_storage_offset" => (Ty::Int, "storage_offset"),
            _ => return Ok(None),
        };
        if let Expr::Name(n) = recv {
            if self.arg_type(n).is_some_and(|t| ty_of_arg(t) == Some(Ty::Tensor)) {
                let u = self.usage.entry(n.clone()).or_default();
                match suffix {
                    "sizes" => u.sizes = true,
                    "scalar_type" => u.scalar_type = true,
                    "dim" => u.dim = true,
                    "strides" => u.strides = true,
                    "storage_offset" => u.storage_offset = true,
                    _ => u.numel = true,
                }
                return Ok(Some(Code {
                    code: format!("self.{}{suffix}", field_of(n)),
                    ty,
                    place: true,
                }));
            }
        }
        let r = self.tr(recv)?;
        if r.ty != Ty::Tensor {
            return Err(self.fail(format!("`.{m}()` needs a tensor")));
        }
        let c = &r.code;
        Ok(Some(code(
            match suffix {
                "sizes" => format!("crate::autograd_helpers::sizes_of(&{c})"),
                "scalar_type" => format!("{c}.dtype()"),
                "dim" => format!("({c}.dim() as i64)"),
                "strides" => format!("crate::autograd_helpers::strides_of(&{c})"),
                "storage_offset" => format!("({c}.storage_offset() as i64)"),
                _ => format!("({c}.numel() as i64)"),
            },
            ty,
        )))
    }

    fn call(&mut self, name: &str, args: Vec<Code>) -> Result<Code, SchemaError> {
        let kinds: Vec<Ty> = args.iter().map(|a| a.ty).collect();
        let mut candidates: Vec<(String, &Signature, bool, Option<String>)> = Vec::new();
        if let Some(h) = self.helpers.get(name) {
            candidates.push((
                format!("crate::autograd_helpers::{}", h.sig.name),
                &h.sig,
                h.differentiable,
                None,
            ));
        }
        for op in self.ops.iter().filter(|o| o.sig.name == name) {
            candidates.push((
                format!("crate::ops::{}", op.full_name()),
                &op.sig,
                true,
                Some(op.qualified.clone()),
            ));
        }
        if candidates.is_empty() {
            return Err(self.fail(format!("formula calls unknown function `{name}`")));
        }
        'cand: for (path, sig, diff, qualified) in candidates {
            if args.len() > sig.args.len() {
                continue;
            }
            let mut rendered = Vec::new();
            for (i, p) in sig.args.iter().enumerate() {
                if let Some(a) = args.get(i) {
                    match convert(a, &p.ty) {
                        Some(c) => rendered.push(c),
                        None => continue 'cand,
                    }
                } else {
                    match p.default.as_ref().and_then(|d| default_expr(&p.ty, d, true).ok()) {
                        Some(d) => rendered.push(d),
                        None => continue 'cand,
                    }
                }
            }
            if let Some(q) = qualified {
                self.called.insert(q);
            } else if !diff {
                self.helper_differentiable = false;
            }
            let ty = match sig.returns.as_slice() {
                [one] if one.ty.list.is_some() => Ty::TensorList,
                [one] if one.ty.base == BaseType::Int => Ty::Int,
                [one] if one.ty.base == BaseType::Float => Ty::Float,
                [one] if one.ty.base == BaseType::Bool => Ty::Bool,
                [one] if one.ty.base == BaseType::Scalar => Ty::Scalar,
                [_] => Ty::Tensor,
                many => Ty::TensorTuple(many.len() as u8),
            };
            return Ok(code(format!("{path}({})?", rendered.join(", ")), ty));
        }
        Err(self.fail(format!("no overload of `{name}` accepts arguments of kinds {kinds:?}")))
    }

    fn numeric(&self, c: &Code) -> String {
        match c.ty {
            Ty::Int => format!("(({}) as f64)", c.code),
            Ty::Float => c.code.clone(),
            _ => format!("{}.to_f64()", c.code),
        }
    }

    fn tr(&mut self, e: &Expr) -> Result<Code, SchemaError> {
        match e {
            Expr::Name(n) => self.name(n),
            Expr::Int(i) => Ok(code(format!("{i}i64"), Ty::Int)),
            Expr::Float(f) => Ok(code(format!("{f:?}f64"), Ty::Float)),
            Expr::Bool(b) => Ok(code(b.to_string(), Ty::Bool)),
            Expr::Grads(0) => self.name("grad"),
            Expr::Grads(i) => {
                self.grads_used.insert(*i);
                Ok(Code {
                    code: format!("grad_{i}"),
                    ty: Ty::Tensor,
                    place: true,
                })
            }
            Expr::Neg(x) => {
                let x = self.tr(x)?;
                match x.ty {
                    Ty::Tensor => self.call("neg", vec![x]),
                    Ty::Int | Ty::Float => Ok(code(format!("-{}", x.code), x.ty)),
                    Ty::Scalar => Ok(code(format!("Scalar::Float(-{}.to_f64())", x.code), Ty::Scalar)),
                    _ => Err(self.fail("cannot negate a non-number")),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Call(name, args) => {
                let args = args.iter().map(|a| self.tr(a)).collect::<Result<Vec<_>, _>>()?;
                self.call(name, args)
            }
            Expr::Method(recv, m, args) => {
                if args.is_empty() {
                    if let Some(c) = self.meta_method(recv, m)? {
                        return Ok(c);
                    }
                }
                let mut all = vec![self.tr(recv)?];
                for a in args {
                    all.push(self.tr(a)?);
                }
                self.call(m, all)
            }
        }
    }

    fn binary(&mut self, op: char, a: &Expr, b: &Expr) -> Result<Code, SchemaError> {
        let present = |c: Code| match c.ty {
            Ty::OptTensor => code(unwrap_present(&c.code), Ty::Tensor),
            _ => c,
        };
        let (ca, cb) = (present(self.tr(a)?), present(self.tr(b)?));
        let name = match op {
            '+' => "add",
            '-' => "sub",
            '*' => "mul",
            _ => "div",
        };
        let is_num = |t: Ty| matches!(t, Ty::Int | Ty::Float | Ty::Scalar | Ty::Bool);
        match (ca.ty, cb.ty) {
            (Ty::Tensor, Ty::Tensor) => self.call(name, vec![ca, cb]),
            (Ty::Tensor, t) if is_num(t) => self.call(name, vec![ca, cb]),
            (t, Ty::Tensor) if is_num(t) => match op {
                '+' | '*' => self.call(name, vec![cb, ca]),
                '-' => {
                    let diff = self.call("sub", vec![cb, ca])?;
                    self.call("neg", vec![diff])
                }
                _ => Err(self.fail("a number divided by a tensor is not supported in formulas; use reciprocal")),
            },
            (Ty::Int, Ty::Int) => Ok(code(format!("({} {op} {})", ca.code, cb.code), Ty::Int)),
            (x, y) if is_num(x) && is_num(y) => Ok(code(
                format!("Scalar::Float({} {op} {})", self.numeric(&ca), self.numeric(&cb)),
                Ty::Scalar,
            )),
            _ => Err(self.fail(format!("operator `{op}` cannot combine {:?} and {:?}", ca.ty, cb.ty))),
        }
    }
}

/// Builds every node and marks which ops record them.
pub fn build_nodes(
    ops: &mut [OpModel],
    entries: &[DerivativeEntry],
    helpers: &BTreeMap<String, HelperModel>,
    errors: &mut Vec<SchemaError>,
) -> Vec<NodeModel> {
    let mut nodes: Vec<NodeModel> = Vec::new();
    let mut counters: BTreeMap<String, usize> = BTreeMap::new();
    let mut called_by_node: Vec<BTreeSet<String>> = Vec::new();
    let mut node_of_entry: BTreeMap<String, usize> = BTreeMap::new();
    let snapshot: Vec<OpModel> = ops.to_vec();
    for entry in entries {
        let Some(op) = snapshot.iter().find(|o| o.qualified == entry.of) else {
            errors.push(derivs_err(
                &entry.of,
                "derivative for an op that is not declared in schema/ops.toml",
            ));
            continue;
        };
        let base = node_base_name(&op.sig.name);
        let built = if entry.not_implemented {
            not_implemented_node(&format!("{base}NotImplemented"), op, entry)
        } else {
            let n = counters.entry(base.clone()).or_default();
            let name = format!("{base}Backward{n}");
            *n += 1;
            build_node(&name, op, entry, &snapshot, helpers)
        };
        match built {
            Ok((node, called)) => {
                node_of_entry.insert(entry.of.clone(), nodes.len());
                nodes.push(node);
                called_by_node.push(called);
            }
            Err(e) => errors.push(e),
        }
    }
    for op in ops.iter_mut() {
        if let Some(d) = derivative_for(op, entries) {
            if let Some(&i) = node_of_entry.get(&d.of) {
                if op.autograd == AutogradMode::Composite {
                    errors.push(derivs_err(
                        &op.qualified,
                        "a CompositeImplicitAutograd op must not have a derivative formula",
                    ));
                }
                op.autograd = AutogradMode::Formula(i);
            }
        }
    }
    let differentiable: BTreeSet<String> = ops
        .iter()
        .filter(|o| o.autograd != AutogradMode::Fallthrough)
        .map(|o| o.qualified.clone())
        .collect();
    for (node, called) in nodes.iter_mut().zip(called_by_node) {
        node.twice_differentiable &= called.iter().all(|q| differentiable.contains(q));
    }
    nodes
}

fn build_node(
    name: &str,
    op: &OpModel,
    entry: &DerivativeEntry,
    ops: &[OpModel],
    helpers: &BTreeMap<String, HelperModel>,
) -> Result<(NodeModel, BTreeSet<String>), SchemaError> {
    let q = &entry.of;
    let mut groups: Vec<(Vec<String>, String)> = Vec::new();
    for (k, v) in &entry.formulas {
        let text = v
            .as_str()
            .ok_or_else(|| derivs_err(q, format!("formula for `{k}` must be a string")))?;
        groups.push((k.split(',').map(|n| n.trim().to_string()).collect(), text.to_string()));
    }
    let mut ctx = Ctx {
        entry: q,
        sig: &op.sig,
        ops,
        helpers,
        usage: BTreeMap::new(),
        called: BTreeSet::new(),
        helper_differentiable: true,
        grads_used: BTreeSet::new(),
        all_grads: false,
        results_used: BTreeSet::new(),
        mask: String::new(),
    };
    let inputs = differentiable_inputs(op, entry, &groups)?;
    let slot_of = |n: &str| inputs.iter().position(|i| i.name == n);
    let mut formulas = Vec::new();
    for (targets, text) in &groups {
        let idx: Vec<usize> = targets.iter().filter_map(|t| slot_of(t)).collect();
        ctx.mask = format!(
            "[{}]",
            targets
                .iter()
                .map(|t| format!("needs_{}", crate::types::rust_ident(t)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rust = if let Some(rest) = text.trim().strip_prefix("not_implemented(") {
            let what = rest.trim_end_matches(')').trim_matches('"');
            format!(
                "return Err(Error::not_supported(\"autograd\", \"the derivative for '{what}' is not implemented.\"))"
            )
        } else {
            let expr = parse_formula(q, text)?;
            let c = ctx.tr(&expr)?;
            let want = match (targets.len(), inputs[idx[0]].kind) {
                (1, InputKind::List) => Ty::TensorList,
                (1, _) => Ty::Tensor,
                (n, _) => Ty::TensorTuple(n as u8),
            };
            if c.ty != want {
                return Err(derivs_err(
                    q,
                    format!("formula `{text}` gives {:?} but its inputs need {want:?}", c.ty),
                ));
            }
            if c.place {
                format!("{}.clone()", c.code)
            } else {
                c.code
            }
        };
        formulas.push(FormulaModel { targets: idx, rust });
    }
    formulas.sort_by_key(|f| f.targets.iter().min().copied());
    let (fields, prelude, release) = saved_fields(&ctx, name, &inputs, &entry.output_differentiability);
    let node = NodeModel {
        name: name.to_string(),
        display_name: None,
        not_implemented: false,
        of: q.clone(),
        fields,
        prelude,
        formulas,
        inputs,
        grads_used: ctx.grads_used.iter().copied().collect(),
        all_grads: ctx.all_grads,
        release,
        twice_differentiable: ctx.helper_differentiable,
        num_outputs: op.sig.returns.len(),
        output_differentiability: entry
            .output_differentiability
            .clone()
            .unwrap_or_else(|| vec![true; op.sig.returns.len()]),
    };
    if node.output_differentiability.len() != node.num_outputs {
        return Err(derivs_err(q, "output_differentiability needs one entry per output"));
    }
    Ok((node, ctx.called))
}

/// The node of a `not_implemented` derivative: edges to every differentiable
/// input, nothing saved, and an `apply` that fails like PyTorch's
/// `NotImplemented` node.
fn not_implemented_node(
    name: &str,
    op: &OpModel,
    entry: &DerivativeEntry,
) -> Result<(NodeModel, BTreeSet<String>), SchemaError> {
    let q = &entry.of;
    if !entry.formulas.is_empty() || entry.output_differentiability.is_some() {
        return Err(derivs_err(
            q,
            "`not_implemented = true` takes no formulas and no output_differentiability",
        ));
    }
    let groups: Vec<(Vec<String>, String)> = op
        .sig
        .args
        .iter()
        .filter(|a| a.ty.base == BaseType::Tensor && !entry.non_differentiable.contains(&a.name))
        .map(|a| (vec![a.name.clone()], String::new()))
        .collect();
    let inputs = differentiable_inputs(op, entry, &groups)?;
    let node = NodeModel {
        name: name.to_string(),
        display_name: Some("torch::autograd::NotImplemented".into()),
        not_implemented: true,
        of: q.clone(),
        fields: Vec::new(),
        prelude: Vec::new(),
        formulas: Vec::new(),
        inputs,
        grads_used: Vec::new(),
        all_grads: false,
        release: Vec::new(),
        twice_differentiable: false,
        num_outputs: op.sig.returns.len(),
        output_differentiability: vec![true; op.sig.returns.len()],
    };
    Ok((node, BTreeSet::new()))
}

/// The op's differentiable tensor inputs, checking that every one has
/// exactly one formula and that formulas only name differentiable inputs.
fn differentiable_inputs(
    op: &OpModel,
    entry: &DerivativeEntry,
    groups: &[(Vec<String>, String)],
) -> Result<Vec<InputModel>, SchemaError> {
    let q = &entry.of;
    let arg = |n: &str| op.sig.args.iter().find(|a| a.name == n);
    let named: Vec<&String> = groups.iter().flat_map(|(t, _)| t).collect();
    for k in named.iter().copied().chain(entry.non_differentiable.iter()) {
        match arg(k) {
            Some(a) if a.ty.base == BaseType::Tensor => {}
            Some(_) => return Err(derivs_err(q, format!("`{k}` is not a Tensor input"))),
            None => return Err(derivs_err(q, format!("formula for unknown input `{k}`"))),
        }
        if named.iter().filter(|n| **n == k).count() > 1 {
            return Err(derivs_err(q, format!("input `{k}` has more than one formula")));
        }
    }
    let mut inputs = Vec::new();
    for a in op.sig.args.iter().filter(|a| a.ty.base == BaseType::Tensor) {
        if entry.non_differentiable.contains(&a.name) {
            continue;
        }
        if !named.contains(&&a.name) {
            return Err(derivs_err(
                q,
                format!(
                    "input `{}` has no formula; add one or list it in non_differentiable",
                    a.name
                ),
            ));
        }
        let kind = match (a.ty.list.is_some(), a.ty.elem_optional, a.ty.is_optional()) {
            (false, _, false) => InputKind::Plain,
            (false, _, true) => InputKind::Optional,
            (true, false, false) => InputKind::List,
            _ => {
                return Err(derivs_err(
                    q,
                    format!(
                        "input `{}` (Tensor?[] or optional list) cannot be differentiable",
                        a.name
                    ),
                ))
            }
        };
        inputs.push(InputModel {
            name: a.name.clone(),
            ident: crate::types::rust_ident(&a.name),
            kind,
        });
    }
    for (targets, _) in groups {
        if targets.len() > 1
            && targets
                .iter()
                .any(|t| inputs.iter().any(|i| &i.name == t && i.kind == InputKind::List))
        {
            return Err(derivs_err(q, "a list input needs a formula of its own"));
        }
    }
    Ok(inputs)
}

/// The kernel variable holding forward output `i` of `n`.
fn result_var(i: usize, n: usize) -> String {
    if n == 1 {
        "result".into()
    } else {
        format!("result{i}")
    }
}

/// Saved fields: `init` is a template over the autograd kernel's variables,
/// with `{inplace_self}` standing for the pre-op copy of self in in-place ops.
fn saved_fields(
    ctx: &Ctx<'_>,
    node_name: &str,
    inputs: &[InputModel],
    output_differentiability: &Option<Vec<bool>>,
) -> (Vec<FieldModel>, Vec<String>, Vec<String>) {
    let (mut fields, mut prelude, mut release) = (Vec::new(), Vec::new(), Vec::new());
    for i in inputs.iter().filter(|i| i.kind == InputKind::List) {
        fields.push(FieldModel {
            name: format!("{}len", field_of(&i.name)),
            ty: "usize".into(),
            init: format!("{}.len()", i.ident),
            before_forward: true,
        });
    }
    for (name, u) in &ctx.usage {
        let ident = crate::types::rust_ident(name);
        let f = field_of(name);
        let ty = ctx.arg_type(name).cloned();
        let kind = ty.as_ref().and_then(ty_of_arg);
        let is_tensor = kind == Some(Ty::Tensor);
        if matches!(kind, Some(Ty::TensorList | Ty::OptTensorList)) {
            let optional = kind == Some(Ty::OptTensorList);
            let (fty, init, unpack) = if optional {
                (
                    "Vec<Option<SavedVariable>>",
                    format!("{ident}.iter().map(|t| t.as_ref().map(|t| SavedVariable::new(t, false))).collect()"),
                    "s.as_ref().map(|s| s.unpack(Some(ctx.node))).transpose()",
                )
            } else {
                (
                    "Vec<SavedVariable>",
                    format!("{ident}.iter().map(|t| SavedVariable::new(t, false)).collect()"),
                    "s.unpack(Some(ctx.node))",
                )
            };
            fields.push(FieldModel {
                name: f.clone(),
                ty: fty.into(),
                init,
                before_forward: true,
            });
            prelude.push(format!(
                "let {ident} = self.{f}.iter().map(|s| {unpack}).collect::<Result<Vec<_>>>()?;"
            ));
            release.push(if optional {
                format!("self.{f}.iter().flatten().for_each(SavedVariable::release);")
            } else {
                format!("self.{f}.iter().for_each(SavedVariable::release);")
            });
        } else if kind == Some(Ty::OptTensor) {
            fields.push(FieldModel {
                name: f.clone(),
                ty: "Option<SavedVariable>".into(),
                init: format!("{ident}.map(|t| SavedVariable::new(t, false))"),
                before_forward: true,
            });
            prelude.push(format!(
                "let {ident} = match &self.{f} {{ Some(s) => Some(s.unpack(Some(ctx.node))?), None => None }};"
            ));
            release.push(format!("if let Some(s) = &self.{f} {{ s.release(); }}"));
        } else if is_tensor {
            if u.full {
                let init = if name == "self" {
                    "SavedVariable::new({self_for_save}, false)".to_string()
                } else {
                    format!("SavedVariable::new({ident}, false)")
                };
                // A written non-self argument (batch norm's `Tensor(a!)
                // running_mean`) is saved after the op wrote it, so the saved
                // version is the one the write produced.
                let written = name != "self" && ty.as_ref().and_then(|t| t.alias.as_ref()).is_some_and(|al| al.write);
                fields.push(FieldModel {
                    name: f.clone(),
                    ty: "SavedVariable".into(),
                    init,
                    before_forward: !written,
                });
                prelude.push(format!("let {ident} = self.{f}.unpack(Some(ctx.node))?;"));
                release.push(format!("self.{f}.release();"));
            }
            let meta = [
                (
                    u.sizes,
                    "sizes",
                    "Vec<i64>",
                    format!("crate::autograd_helpers::sizes_of({ident})"),
                ),
                (u.scalar_type, "scalar_type", "DType", format!("{ident}.dtype()")),
                (u.dim, "dim", "i64", format!("({ident}.dim() as i64)")),
                (u.numel, "numel", "i64", format!("({ident}.numel() as i64)")),
                (
                    u.strides,
                    "strides",
                    "Vec<i64>",
                    format!("crate::autograd_helpers::strides_of({ident})"),
                ),
                (
                    u.storage_offset,
                    "storage_offset",
                    "i64",
                    format!("({ident}.storage_offset() as i64)"),
                ),
            ];
            for (used, suffix, t, init) in meta {
                if used {
                    fields.push(FieldModel {
                        name: format!("{f}{suffix}"),
                        ty: t.into(),
                        init,
                        before_forward: true,
                    });
                }
            }
        } else if let Some(t) = ty {
            let rt = crate::types::rust_type(&t).expect("validated");
            fields.push(FieldModel {
                name: f,
                ty: rt.owned.clone(),
                init: crate::types::fill(rt.to_owned, &ident),
                before_forward: true,
            });
        }
    }
    let n = ctx.sig.returns.len();
    for &i in &ctx.results_used {
        let var = result_var(i, n);
        let value = if n == 1 {
            "result".to_string()
        } else {
            format!("result.{i}")
        };
        let diff = output_differentiability.as_ref().map_or(vec![true; n], Clone::clone);
        let init = if diff.get(i).copied().unwrap_or(true) {
            // Its output_nr counts the differentiable outputs before it.
            let nr = diff.iter().take(i).filter(|d| **d).count();
            format!("SavedVariable::for_output(&{value}, {nr}, \"{node_name}\")")
        } else {
            format!("SavedVariable::new(&{value}, false)")
        };
        fields.push(FieldModel {
            name: format!("{var}_"),
            ty: "SavedVariable".into(),
            init,
            before_forward: false,
        });
        prelude.push(format!("let {var} = self.{var}_.unpack(Some(ctx.node))?;"));
        release.push(format!("self.{var}_.release();"));
    }
    (fields, prelude, release)
}
