//! Turns `[[derivative]]` entries into backward nodes: type-checks each
//! formula against the signatures of ops and helpers, translates it to Rust,
//! and infers what the node must save (a whole tensor, only its sizes or
//! dtype, or a plain value).

use crate::files::DerivativeEntry;
use crate::formula::Expr;
use crate::model::{
    derivative_for, derivs_err, node_base_name, parse_formula, AutogradMode, FieldModel, HelperModel, NodeModel,
    OpModel, SchemaError,
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
    value: bool,
}

struct Ctx<'a> {
    entry: &'a str,
    sig: &'a Signature,
    ops: &'a [OpModel],
    helpers: &'a BTreeMap<String, HelperModel>,
    usage: BTreeMap<String, Usage>,
    uses_result: bool,
    called: BTreeSet<String>,
    helper_differentiable: bool,
}

fn ty_of_arg(t: &Type) -> Option<Ty> {
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
        match n {
            "grad" => {
                return Ok(Code {
                    code: "grad".into(),
                    ty: Ty::Tensor,
                    place: true,
                })
            }
            "result" => {
                self.uses_result = true;
                return Ok(Code {
                    code: "result".into(),
                    ty: Ty::Tensor,
                    place: true,
                });
            }
            _ => {}
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

    fn meta_method(&mut self, recv: &Expr, m: &str) -> Result<Option<Code>, SchemaError> {
        let (ty, suffix) = match m {
            "sizes" | "sym_sizes" => (Ty::IntList, "sizes"),
            "scalar_type" => (Ty::DType, "scalar_type"),
            "dim" => (Ty::Int, "dim"),
            "numel" | "sym_numel" => (Ty::Int, "numel"),
            _ => return Ok(None),
        };
        if let Expr::Name(n) = recv {
            if self.arg_type(n).is_some_and(|t| ty_of_arg(t) == Some(Ty::Tensor)) {
                let u = self.usage.entry(n.clone()).or_default();
                match suffix {
                    "sizes" => u.sizes = true,
                    "scalar_type" => u.scalar_type = true,
                    "dim" => u.dim = true,
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
            return Ok(code(format!("{path}({})?", rendered.join(", ")), Ty::Tensor));
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
            Expr::Grads(_) => {
                Err(self.fail("grads[i] for i > 0 needs multi-output support, which is not implemented yet"))
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
        let (ca, cb) = (self.tr(a)?, self.tr(b)?);
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
        let n = counters.entry(base.clone()).or_default();
        let name = format!("{base}Backward{n}");
        *n += 1;
        match build_node(&name, op, entry, &snapshot, helpers) {
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
    if op.sig.returns.len() != 1 || op.sig.returns[0].ty.list.is_some() {
        return Err(derivs_err(
            q,
            "formulas for ops with several or list outputs are not supported yet",
        ));
    }
    let mut formulas_text: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &entry.formulas {
        let text = v
            .as_str()
            .ok_or_else(|| derivs_err(q, format!("formula for `{k}` must be a string")))?;
        for input in k.split(',').map(str::trim) {
            formulas_text.insert(input.to_string(), text.to_string());
        }
    }
    let mut ctx = Ctx {
        entry: q,
        sig: &op.sig,
        ops,
        helpers,
        usage: BTreeMap::new(),
        uses_result: false,
        called: BTreeSet::new(),
        helper_differentiable: true,
    };
    for k in formulas_text.keys().chain(entry.non_differentiable.iter()) {
        match ctx.arg_type(k) {
            Some(t) if t.base == BaseType::Tensor && t.list.is_none() && !t.is_optional() => {}
            Some(_) => return Err(derivs_err(q, format!("`{k}` is not a differentiable Tensor input"))),
            None => return Err(derivs_err(q, format!("formula for unknown input `{k}`"))),
        }
    }
    let mut inputs = Vec::new();
    let mut formulas = Vec::new();
    for a in &op.sig.args {
        if a.ty.base != BaseType::Tensor {
            continue;
        }
        if entry.non_differentiable.contains(&a.name) {
            continue;
        }
        let text = formulas_text.get(&a.name).ok_or_else(|| {
            derivs_err(
                q,
                format!(
                    "input `{}` has no formula; add one or list it in non_differentiable",
                    a.name
                ),
            )
        })?;
        if a.ty.list.is_some() || a.ty.is_optional() {
            return Err(derivs_err(
                q,
                format!(
                    "differentiable input `{}` must be a plain Tensor (lists and optionals are not supported yet)",
                    a.name
                ),
            ));
        }
        let rust = if let Some(rest) = text.trim().strip_prefix("not_implemented(") {
            let what = rest.trim_end_matches(')').trim_matches('"');
            format!(
                "return Err(Error::not_supported(\"autograd\", \"the derivative for '{what}' is not implemented.\"))"
            )
        } else {
            let expr = parse_formula(q, text)?;
            let c = ctx.tr(&expr)?;
            if c.ty != Ty::Tensor {
                return Err(derivs_err(q, format!("formula `{text}` does not produce a tensor")));
            }
            if c.place {
                format!("{}.clone()", c.code)
            } else {
                c.code
            }
        };
        inputs.push(a.name.clone());
        formulas.push(rust);
    }
    let (fields, prelude, release) = saved_fields(&ctx, name);
    let node = NodeModel {
        name: name.to_string(),
        of: q.clone(),
        fields,
        prelude,
        formulas,
        inputs,
        release,
        twice_differentiable: ctx.helper_differentiable,
        num_outputs: op.sig.returns.len(),
        output_differentiability: entry
            .output_differentiability
            .clone()
            .unwrap_or_else(|| vec![true; op.sig.returns.len()]),
    };
    Ok((node, ctx.called))
}

/// Saved fields: `init` is a template over the autograd kernel's variables,
/// with `{inplace_self}` standing for the pre-op copy of self in in-place ops.
fn saved_fields(ctx: &Ctx<'_>, node_name: &str) -> (Vec<FieldModel>, Vec<String>, Vec<String>) {
    let (mut fields, mut prelude, mut release) = (Vec::new(), Vec::new(), Vec::new());
    for (name, u) in &ctx.usage {
        let ident = crate::types::rust_ident(name);
        let f = field_of(name);
        let ty = ctx.arg_type(name).cloned();
        let is_tensor = ty.as_ref().is_some_and(|t| ty_of_arg(t) == Some(Ty::Tensor));
        if ty.as_ref().is_some_and(|t| ty_of_arg(t) == Some(Ty::OptTensor)) {
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
                fields.push(FieldModel {
                    name: f.clone(),
                    ty: "SavedVariable".into(),
                    init,
                    before_forward: true,
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
    if ctx.uses_result {
        fields.push(FieldModel {
            name: "result_".into(),
            ty: "SavedVariable".into(),
            init: format!("SavedVariable::for_output(&result, 0, \"{node_name}\")"),
            before_forward: false,
        });
        prelude.push("let result = self.result_.unpack(Some(ctx.node))?;".into());
        release.push("self.result_.release();".into());
    }
    (fields, prelude, release)
}
