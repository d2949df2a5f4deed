//! Generated tests: for every sample of every op, the typed API and the
//! by-name boxed call must agree, and differentiable ops must pass gradcheck
//! (and gradgradcheck when their formulas are differentiable) in float64.

use crate::model::{AutogradMode, Model, OpModel};
use crate::signature::BaseType;
use serde::Serialize;

/// One generated test.
#[derive(Serialize)]
pub struct TestView {
    name: String,
    qualified: String,
    index: usize,
    tensor_names: Vec<String>,
    error: Option<String>,
    specs: Vec<String>,
    typed_call: String,
    to_vec: String,
    positional: Vec<String>,
    kwargs: Vec<(String, String)>,
    gradcheck: bool,
    gradgradcheck: bool,
    /// Positions (in `specs`) of floating inputs the op does not
    /// differentiate (`non_differentiable`, written `Tensor(a!)` arguments):
    /// the checks keep them constant instead of making them leaves.
    frozen: Vec<usize>,
    /// Statements run first in both closures (builds an `out=` tensor).
    setup: String,
    /// A generated variant: samples of its functional op may be refused.
    may_fail: bool,
    /// The op returns non-tensor values (`i64`, `Scalar`...) or optional
    /// tensors (`output_mask` ops): both calls give `Value`s, compared by
    /// kind and value (`Value::None` for an undefined tensor).
    values: bool,
    /// Seed of the default generator for each evaluation (`seed = N`).
    seed: Option<i64>,
}

fn dtype_expr(name: &str) -> Option<&'static str> {
    Some(match name.strip_prefix("torch.").unwrap_or(name) {
        "bool" => "DType::Bool",
        "uint8" => "DType::U8",
        "int8" => "DType::I8",
        "int16" => "DType::I16",
        "int32" => "DType::I32",
        "int64" => "DType::I64",
        "float16" => "DType::F16",
        "bfloat16" => "DType::BF16",
        "float32" => "DType::F32",
        "float64" => "DType::F64",
        _ => return None,
    })
}

/// A float sample value (TOML float or integer) as a Rust literal.
fn float_value(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Float(f) => Some(crate::types::float_lit(*f)),
        toml::Value::Integer(i) => Some(format!("{i}.0")),
        _ => None,
    }
}

fn float_list(v: &toml::Value) -> Option<String> {
    let items = v.as_array()?.iter().map(float_value).collect::<Option<Vec<_>>>()?;
    Some(items.join(", "))
}

fn bool_list(v: &toml::Value) -> Option<String> {
    let items = v
        .as_array()?
        .iter()
        .map(|b| b.as_bool().map(|b| b.to_string()))
        .collect::<Option<Vec<_>>>()?;
    Some(items.join(", "))
}

fn int_list(v: &toml::Value) -> Option<String> {
    let items = v
        .as_array()?
        .iter()
        .map(|i| i.as_integer().map(|i| i.to_string()))
        .collect::<Option<Vec<_>>>()?;
    Some(items.join(", "))
}

/// (typed argument, boxed Value) for one sample value.
fn sample_arg(
    op: &OpModel,
    a: &crate::model::ArgModel,
    v: &toml::Value,
    tensor_index: &mut usize,
) -> Result<(String, String), String> {
    let bad = || format!("sample value {v} does not fit argument `{}`", a.name);
    let opt = a.ty.is_optional();
    let some = |s: String| if opt { format!("Some({s})") } else { s };
    Ok(match (a.ty.base, a.ty.list, v) {
        (BaseType::Tensor, None, toml::Value::String(spec))
            if spec != "none" && spec != crate::variants::OUT_LIKE_RESULT =>
        {
            crate::samples::parse_spec(spec)?;
            let k = *tensor_index;
            *tensor_index += 1;
            (some(format!("&t[{k}]")), format!("Value::Tensor(t[{k}].clone())"))
        }
        (BaseType::Tensor, None, toml::Value::String(r)) if r == crate::variants::OUT_LIKE_RESULT => {
            let k = crate::render::out_arg_names(op)
                .iter()
                .position(|n| *n == a.name)
                .ok_or_else(|| format!("`{}` is not a written argument of an out= variant", a.name))?;
            (format!("&outs[{k}]"), format!("Value::Tensor(outs[{k}].clone())"))
        }
        (BaseType::Tensor, None, toml::Value::String(none)) if none == "none" && opt => {
            ("None".to_string(), "Value::None".to_string())
        }
        (BaseType::Tensor, Some(_), toml::Value::Array(items)) => {
            let (mut typed, mut boxed) = (Vec::new(), Vec::new());
            for item in items {
                let spec = item.as_str().ok_or_else(bad)?;
                if spec == "none" && a.ty.elem_optional {
                    typed.push("None".to_string());
                    boxed.push("None".to_string());
                    continue;
                }
                crate::samples::parse_spec(spec)?;
                let k = *tensor_index;
                *tensor_index += 1;
                if a.ty.elem_optional {
                    typed.push(format!("Some(t[{k}].clone())"));
                    boxed.push(format!("Some(t[{k}].clone())"));
                } else {
                    typed.push(format!("t[{k}].clone()"));
                    boxed.push(format!("t[{k}].clone()"));
                }
            }
            let variant = if a.ty.elem_optional {
                "OptTensorList"
            } else {
                "TensorList"
            };
            (
                format!("&[{}]", typed.join(", ")),
                format!("Value::{variant}(vec![{}])", boxed.join(", ")),
            )
        }
        // An absent optional non-tensor argument (`int?`, `float[]?`...); a
        // `str?` keeps "none" as a string (PyTorch has `reduction='none'`).
        (base, _, toml::Value::String(none))
            if none == "none" && opt && base != BaseType::Tensor && base != BaseType::Str =>
        {
            ("None".to_string(), "Value::None".to_string())
        }
        (BaseType::Scalar, None, toml::Value::Integer(i)) => {
            (some(format!("Scalar::Int({i})")), format!("Value::Int({i})"))
        }
        (BaseType::Scalar, None, toml::Value::Float(f)) => {
            let f = crate::types::float_lit(*f);
            (some(format!("Scalar::Float({f})")), format!("Value::Float({f})"))
        }
        (BaseType::Scalar, None, toml::Value::Boolean(b)) => {
            (some(format!("Scalar::Bool({b})")), format!("Value::Bool({b})"))
        }
        (BaseType::Int, None, toml::Value::Integer(i)) => (some(i.to_string()), format!("Value::Int({i})")),
        (BaseType::Float, None, toml::Value::Float(f)) => {
            let f = crate::types::float_lit(*f);
            (some(f.clone()), format!("Value::Float({f})"))
        }
        (BaseType::Float, None, toml::Value::Integer(i)) => (some(format!("{i}.0")), format!("Value::Int({i})")),
        (BaseType::Bool, None, toml::Value::Boolean(b)) => (some(b.to_string()), format!("Value::Bool({b})")),
        (BaseType::Int, Some(_), toml::Value::Array(_)) => {
            let l = int_list(v).ok_or_else(bad)?;
            let typed = if opt {
                format!("Some(&[{l}][..])")
            } else {
                format!("&[{l}]")
            };
            (typed, format!("Value::IntList(vec![{l}])"))
        }
        (BaseType::Float, Some(_), toml::Value::Array(_)) => {
            let l = float_list(v).ok_or_else(bad)?;
            let typed = if opt {
                format!("Some(&[{l}][..])")
            } else {
                format!("&[{l}]")
            };
            (typed, format!("Value::FloatList(vec![{l}])"))
        }
        (BaseType::Bool, Some(_), toml::Value::Array(_)) => {
            let l = bool_list(v).ok_or_else(bad)?;
            (format!("&[{l}]"), format!("Value::BoolList(vec![{l}])"))
        }
        (BaseType::ScalarType, None, toml::Value::String(s)) => {
            let d = dtype_expr(s).ok_or_else(bad)?;
            (some(d.to_string()), format!("Value::DType({d})"))
        }
        (BaseType::Str, None, toml::Value::String(s)) => {
            (some(format!("{s:?}")), format!("Value::Str({s:?}.to_string())"))
        }
        // A `Generator?` given as a seed: a fresh generator seeded with it.
        (BaseType::Generator, None, toml::Value::Integer(seed)) if *seed >= 0 => (
            format!("Some(&frankentorch::Generator::new({seed}))"),
            format!("Value::Generator(frankentorch::Generator::new({seed}))"),
        ),
        _ => return Err(format!("{}: {}", op.qualified, bad())),
    })
}

fn to_vec_expr(op: &OpModel) -> String {
    if crate::types::masked_outputs(&op.sig) {
        let items: Vec<String> = (0..op.sig.returns.len())
            .map(|i| format!("r.{i}.map_or(Value::None, Value::Tensor)"))
            .collect();
        return format!("vec![{}]", items.join(", "));
    }
    if crate::types::returns_non_tensor(&op.sig.returns) {
        let n = op.sig.returns.len();
        let items: Vec<String> = op
            .sig
            .returns
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v = if n == 1 { "r".to_string() } else { format!("r.{i}") };
                format!("Value::{}({v})", crate::types::ret_value_variant(&r.ty))
            })
            .collect();
        return format!("vec![{}]", items.join(", "));
    }
    match op.sig.returns.len() {
        1 if op.sig.returns[0].ty.list.is_some() => "r".into(),
        1 => "vec![r]".into(),
        n => format!(
            "vec![{}]",
            (0..n).map(|i| format!("r.{i}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Builds one test per sample, or the validation errors of bad samples.
pub fn sample_tests(op: &OpModel, twice: bool) -> Result<Vec<TestView>, String> {
    let mut out = Vec::new();
    for (i, expanded) in op.expanded.iter().enumerate() {
        let sample = &expanded.args;
        for k in sample.keys() {
            if !op.args.iter().any(|a| &a.name == k) {
                return Err(format!("{}: sample {i} names unknown argument `{k}`", op.qualified));
            }
        }
        let (mut typed, mut positional, mut kwargs, mut specs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut tensor_index = 0;
        let mut omitted_before = false;
        let mut tensor_names = Vec::new();
        for a in &op.args {
            match sample.get(&a.name) {
                Some(v) => {
                    if a.ty.base == BaseType::Tensor {
                        match v {
                            toml::Value::String(s) if s != "none" && s != crate::variants::OUT_LIKE_RESULT => {
                                specs.push(s.clone());
                                tensor_names.push(a.name.clone());
                            }
                            toml::Value::Array(items) => {
                                let present = items.iter().enumerate().filter(|(_, s)| s.as_str() != Some("none"));
                                for (j, s) in present {
                                    specs.push(s.as_str().unwrap_or_default().to_string());
                                    tensor_names.push(format!("{}[{j}]", a.name));
                                }
                            }
                            _ => {}
                        }
                    }
                    let (t, b) = sample_arg(op, a, v, &mut tensor_index)?;
                    typed.push(t);
                    // After an omitted argument, later ones must be named (as in Python).
                    if a.kwarg_only || omitted_before {
                        kwargs.push((a.name.clone(), b));
                    } else {
                        positional.push(b);
                    }
                }
                None => {
                    omitted_before = true;
                    let d = a
                        .default_param
                        .clone()
                        .ok_or_else(|| format!("{}: sample {i} lacks required argument `{}`", op.qualified, a.name))?;
                    typed.push(d);
                }
            }
        }
        // Finite differences need float64: every floating input must be f64.
        // An `out=` variant: `out` is a zero tensor shaped like the functional result.
        let mut setup = String::new();
        let mut typed_call = format!("ops::{}({})", op.full_name(), typed.join(", "));
        if let Some(d) = op.derived.as_ref().filter(|d| d.kind == crate::model::VariantKind::Out) {
            let out_names = crate::render::out_arg_names(op);
            let functional_args: Vec<&String> = op
                .args
                .iter()
                .zip(&typed)
                .filter(|(a, _)| !out_names.contains(&a.name.as_str()))
                .map(|(_, t)| t)
                .collect();
            let likes: Vec<String> = match out_names.len() {
                1 => vec!["frankentorch::testing::out_like(&like)".to_string()],
                n if d.functional_masked => (0..n)
                    .map(|i| format!("frankentorch::testing::out_like_opt(like.{i}.as_ref())"))
                    .collect(),
                n => (0..n)
                    .map(|i| format!("frankentorch::testing::out_like(&like.{i})"))
                    .collect(),
            };
            setup = format!(
                "let like = ops::{}({})?; let outs = [{}];",
                d.functional_full_name,
                functional_args
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                likes.join(", ")
            );
            typed_call = format!("frankentorch::testing::returns_out({typed_call}, &outs)");
        }
        let float64 = specs.iter().any(|s| s.starts_with("f64"))
            && !specs
                .iter()
                .any(|s| ["f32", "f16", "bf16"].iter().any(|d| s.starts_with(d)));
        let differentiable = op.autograd != AutogradMode::Fallthrough && !op.is_inplace() && expanded.error.is_none();
        out.push(TestView {
            name: format!("{}_sample_{i}", op.key),
            qualified: op.qualified.clone(),
            index: i,
            tensor_names,
            error: expanded.error.clone(),
            specs,
            typed_call,
            setup,
            may_fail: op.derived.is_some(),
            values: crate::types::returns_non_tensor(&op.sig.returns) || crate::types::masked_outputs(&op.sig),
            seed: expanded.seed,
            to_vec: to_vec_expr(op),
            positional,
            kwargs,
            gradcheck: differentiable && float64,
            gradgradcheck: differentiable && float64 && twice,
            frozen: Vec::new(),
        });
    }
    Ok(out)
}

/// Positions of floating sample tensors that are not differentiable inputs
/// of the op's node (`names` are argument names, `x[j]` for list elements).
fn frozen_positions(names: &[String], specs: &[String], inputs: &[crate::model::InputModel]) -> Vec<usize> {
    let floating = |s: &str| ["f16", "bf16", "f32", "f64"].iter().any(|d| s.starts_with(d));
    names
        .iter()
        .zip(specs)
        .enumerate()
        .filter(|(_, (n, s))| {
            let base = n.split('[').next().unwrap_or(n);
            floating(s) && !inputs.iter().any(|i| i.name == base)
        })
        .map(|(p, _)| p)
        .collect()
}

/// All generated tests, in schema order.
pub fn test_views(model: &Model) -> Vec<TestView> {
    model.ops.iter().flat_map(|op| tests_of(model, op)).collect()
}

/// The generated sample tests of one op.
pub fn tests_of(model: &Model, op: &OpModel) -> Vec<TestView> {
    let twice = match op.autograd {
        AutogradMode::Formula(i) => model.nodes[i].twice_differentiable,
        AutogradMode::Composite => true,
        AutogradMode::Fallthrough => false,
    };
    // Validation already ran in `lib::generate`; errors cannot reach here.
    let mut tests = sample_tests(op, twice).unwrap_or_default();
    if let AutogradMode::Formula(i) = op.autograd {
        let node = &model.nodes[i];
        for t in &mut tests {
            t.frozen = frozen_positions(&t.tensor_names, &t.specs, &node.inputs);
            // Backward through PyTorch's `NotImplemented` node fails: the
            // oracle fixtures check that it does (`backward_error`).
            if node.not_implemented {
                t.gradcheck = false;
                t.gradgradcheck = false;
            }
        }
    }
    tests
}

impl TestView {
    /// Whether this sample runs gradcheck (float64 finite differences).
    pub fn gradcheck(&self) -> bool {
        self.gradcheck
    }
    /// Whether this sample also runs gradgradcheck.
    pub fn gradgradcheck(&self) -> bool {
        self.gradgradcheck
    }
}

/// Property tests derived from tags and alias annotations.
#[derive(Serialize, Default)]
pub struct PropertyViews {
    broadcasting: Vec<BroadcastView>,
    views: Vec<TestView>,
    inplace: Vec<TestView>,
}

/// A binary pointwise op checked for broadcasting.
#[derive(Serialize)]
pub struct BroadcastView {
    name: String,
    call: String,
}

/// Ops for the generated property tests: binary pointwise ops (two tensor
/// arguments, every other argument defaulted) get a broadcasting proptest;
/// view ops and in-place ops get aliasing / version-counter checks per sample.
pub fn property_views(model: &Model) -> PropertyViews {
    let mut out = PropertyViews::default();
    for op in &model.ops {
        let tensors: Vec<_> = op.args.iter().filter(|a| a.ty.base == BaseType::Tensor).collect();
        let others_defaulted = op
            .args
            .iter()
            .filter(|a| a.ty.base != BaseType::Tensor)
            .all(|a| a.default_param.is_some());
        if op.tags.iter().any(|t| t == "pointwise")
            && !op.sig.mutates()
            && tensors.len() == 2
            && tensors.iter().all(|a| a.ty.list.is_none() && !a.ty.is_optional())
            && others_defaulted
        {
            let args: Vec<String> = op
                .args
                .iter()
                .map(|a| {
                    if a.ty.base == BaseType::Tensor {
                        if a.name == tensors[0].name {
                            "&a".to_string()
                        } else {
                            "&b".to_string()
                        }
                    } else {
                        a.default_param.clone().unwrap_or_default()
                    }
                })
                .collect();
            out.broadcasting.push(BroadcastView {
                name: op.key.clone(),
                call: format!("ops::{}({})", op.full_name(), args.join(", ")),
            });
        }
        let twice = false;
        // List-returning views (`split_with_sizes`) have their aliasing
        // checked by the oracle fixtures; these properties take one output.
        let single_output = op.sig.returns.len() == 1 && op.sig.returns[0].ty.list.is_none();
        if op.sig.is_view() && single_output && !op.kernels.iter().any(|k| k.key.contains("CompositeImplicit")) {
            out.views.extend(
                sample_tests(op, twice)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| t.error.is_none()),
            );
        }
        if op.is_inplace() {
            out.inplace.extend(
                sample_tests(op, twice)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| t.error.is_none()),
            );
        }
    }
    out
}
