//! Schema validation errors name the file, the entry and the problem.

use ft_codegen::model::build;

const KERNEL_OP: &str = r#"
[[op]]
signature = "neg(Tensor self) -> Tensor"
kernels = { CPU = "unary::neg" }
samples = [{ self = "f64[3]" }, { self = "f64[2,3]:t" }, { self = "f64[]" }]
"#;

fn neg_with(extra: &str) -> String {
    format!("[[op]]\nsignature = \"neg(Tensor self) -> Tensor\"\nkernels = {{ CPU = \"unary::neg\" }}\ndifferentiable = false\n{extra}\n")
}

fn errors(ops: &str, derivs: &str) -> Vec<String> {
    match build(ops, derivs) {
        Ok(_) => vec![],
        Err(es) => es.iter().map(|e| e.to_string()).collect(),
    }
}

fn assert_error(ops: &str, derivs: &str, expected: &str) {
    let es = errors(ops, derivs);
    assert!(
        es.iter().any(|e| e.contains(expected)),
        "expected an error containing {expected:?}, got {es:?}"
    );
}

#[test]
fn valid_schema_builds() {
    assert!(errors(KERNEL_OP, "[[derivative]]\nof = \"neg\"\nself = \"-grad\"\n").is_empty());
}

#[test]
fn unknown_type() {
    assert_error(
        "[[op]]\nsignature = \"f(Tensr self) -> Tensor\"\nkernels = { CPU = \"k\" }\n",
        "",
        "schema/ops.toml: f(Tensr self) -> Tensor: unknown type `Tensr`",
    );
}

#[test]
fn unknown_dispatch_key() {
    assert_error(
        "[[op]]\nsignature = \"f(Tensor self) -> Tensor\"\nkernels = { CUDAX = \"k\" }\ndifferentiable = false\n",
        "",
        "schema/ops.toml: f: unknown dispatch key `CUDAX`",
    );
}

#[test]
fn formula_naming_an_unknown_input() {
    assert_error(
        KERNEL_OP,
        "[[derivative]]\nof = \"neg\"\nself = \"grad * other\"\n",
        "schema/derivatives.toml: neg: formula names unknown input `other`",
    );
}

#[test]
fn formula_calling_an_unknown_function() {
    assert_error(
        KERNEL_OP,
        "[[derivative]]\nof = \"neg\"\nself = \"frobnicate(grad)\"\n",
        "formula calls unknown function `frobnicate`",
    );
}

#[test]
fn derivative_for_an_unknown_op() {
    assert_error(
        KERNEL_OP,
        "[[derivative]]\nof = \"nope\"\nself = \"grad\"\n",
        "schema/derivatives.toml: nope: derivative for an op that is not declared",
    );
}

#[test]
fn differentiable_op_needs_formula_or_mark() {
    assert_error(
        KERNEL_OP,
        "",
        "schema/ops.toml: neg: differentiable op with neither a formula",
    );
    let marked = format!("{KERNEL_OP}differentiable = false\n");
    assert!(errors(&marked, "").is_empty());
}

#[test]
fn formula_for_an_unknown_input_key() {
    assert_error(
        KERNEL_OP,
        "[[derivative]]\nof = \"neg\"\nself = \"-grad\"\nother = \"grad\"\n",
        "formula for unknown input `other`",
    );
}

#[test]
fn malformed_formula() {
    assert_error(
        KERNEL_OP,
        "[[derivative]]\nof = \"neg\"\nself = \"grad *\"\n",
        "schema/derivatives.toml: neg: formula `grad *`",
    );
}

#[test]
fn duplicate_overload_and_bad_default() {
    let twice = format!("{KERNEL_OP}differentiable = false\n{KERNEL_OP}differentiable = false\n");
    assert_error(&twice, "", "overload declared twice");
    assert_error(
        "[[op]]\nsignature = \"f(Tensor self, int k=abc) -> Tensor\"\nkernels = { CPU = \"k\" }\ndifferentiable = false\n",
        "",
        "default `abc` does not fit",
    );
}

#[test]
fn coverage_rules() {
    assert_error(
        &neg_with("samples = [{ self = \"f64[3]\" }, { self = \"f64[]:t\" }]"),
        "",
        "layout flag needs at least 2 dims",
    );
    assert_error(
        &neg_with("samples = [{ self = \"f64[3]\" }, { self = \"f64[2,3]:t\" }]"),
        "",
        "neg: needs at least 3 samples, has 2",
    );
    assert_error(
        &neg_with("samples = [{ self = \"f64[3]\" }, { self = \"f64[2]\" }, { self = \"f64[]\" }]"),
        "",
        "neg: needs a sample with a non-contiguous input",
    );
    assert_error(
        &neg_with("samples = [{ self = \"f64[3]\" }, { self = \"f64[2,3]:t\" }, { self = \"f64[1]\" }]"),
        "",
        "neg: needs a sample with a 0-dim or size-0 input",
    );
    let exempt = neg_with("edge_case_exempt = \"needs 2-D\"\nsamples = [{ self = \"f64[3]\" }, { self = \"f64[2,3]:t\" }, { self = \"f64[1]\" }]");
    assert!(errors(&exempt, "").is_empty());
    assert_error(
        &neg_with("dtypes = [\"f32\", \"i64\"]\nsamples = [{ self = \"f32[3]\" }, { self = \"f64[2,3]:t\" }, { self = \"f64[]\" }]"),
        "",
        "neg: claims dtype `i64` but no sample uses it",
    );
    let starred = neg_with(
        "dtypes = [\"f32\", \"i64\"]\nsamples = [{ self = \"*[3]\" }, { self = \"f64[2,3]:t\" }, { self = \"f64[]\" }]",
    );
    let model = build(&starred, "").unwrap();
    assert_eq!(
        model.ops[0].expanded.len(),
        4,
        "`*` expands to one sample per claimed dtype"
    );
    assert_error(
        &neg_with("samples = [{ self = \"f64[3]\", error = \"Oops\" }]"),
        "",
        "`error` must be one of",
    );
}

/// Ops with several outputs, list inputs and optional inputs: formulas may
/// read `grads[i]`, `grads`, named results and `grad_input_mask`, and one
/// formula may serve several inputs through a tuple.
#[test]
fn multi_output_and_list_formulas_render() {
    let ops = r#"
[[op]]
signature = "pair(Tensor self, Tensor other) -> (Tensor a, Tensor b)"
kernels = { CPU = "k::pair" }
samples = [{ self = "f64[3]", other = "f64[3]" }, { self = "f64[2,3]:t", other = "f64[2,3]" }, { self = "f64[]", other = "f64[]" }]

[[op]]
signature = "pair_backward(Tensor ga, Tensor gb, Tensor self, Tensor? other, bool[2] output_mask) -> (Tensor, Tensor)"
kernels = { CPU = "k::pair_backward" }
differentiable = false
samples = [{ ga = "f64[3]", gb = "f64[3]", self = "f64[3]", other = "f64[3]", output_mask = [true, true] }, { ga = "f64[2,3]:t", gb = "f64[2,3]", self = "f64[2,3]", other = "none", output_mask = [true, false] }, { ga = "f64[]", gb = "f64[]", self = "f64[]", other = "f64[]", output_mask = [true, true] }]

[[op]]
signature = "glue(Tensor[] tensors, Tensor? weight=None) -> Tensor[]"
kernels = { CPU = "k::glue" }
samples = [{ tensors = ["f64[3]", "f64[2]"] }, { tensors = ["f64[2,3]:t"], weight = "f64[3]" }, { tensors = ["f64[]", "none"] }]
"#;
    let derivs = r#"
[[helper]]
signature = "glue_backward(Tensor[] grads, Tensor[] tensors) -> Tensor[]"

[[helper]]
signature = "scale(Tensor g, Tensor w) -> Tensor"

[[derivative]]
of = "pair"
"self, other" = "pair_backward(grads[0], grads[1], self, other, grad_input_mask)"

[[derivative]]
of = "glue"
tensors = "glue_backward(grads, tensors)"
weight = "scale(grads[1], weight)"
"#;
    let model = match build(ops, derivs) {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    let files = ft_codegen::render::render(&model).expect("renders");
    let autograd = &files
        .iter()
        .find(|(p, _)| p == "generated/autograd.rs")
        .expect("autograd file")
        .1;
    for needle in [
        "let grad_1 = crate::autograd_helpers::grad_or_zeros(ctx, grads, 1)?;",
        "&[needs_self_, needs_other]",
        "out[1] = Some(r.1);",
        "let grads_all = (0..grads.len())",
        "let s_weight = s_tensors + self.tensors_len;",
        "out[s_tensors + k] = Some(g);",
        "diff_inputs.extend(tensors.iter().map(Some));",
        "diff_inputs.push(weight);",
        "for t in &result {",
        "set_history(&result.0, &node);",
        "set_history(&result.1, &node);",
        "weight.as_ref().ok_or_else(",
    ] {
        assert!(
            autograd.contains(needle),
            "generated autograd lacks {needle:?}:\n{autograd}"
        );
    }
}

#[test]
fn a_list_input_cannot_share_a_tuple_formula() {
    assert_error(
        "[[op]]\nsignature = \"g(Tensor[] ts, Tensor w) -> Tensor\"\nkernels = { CPU = \"k\" }\nsamples = [{ ts = [\"f64[3]\"], w = \"f64[3]\" }, { ts = [\"f64[2,3]:t\"], w = \"f64[]\" }, { ts = [\"f64[]\"], w = \"f64[]\" }]\n",
        "[[derivative]]\nof = \"g\"\n\"ts, w\" = \"grad\"\n",
        "a list input needs a formula of its own",
    );
}

/// Ops may return plain values (`int`/`SymInt`, `float`, `bool`, `Scalar`):
/// the typed API returns the Rust value, the boxed call the matching `Value`,
/// the generated test compares values, and such ops must be non-differentiable.
#[test]
fn non_tensor_returns_render() {
    let ops = r#"
[[op]]
signature = "numel_of(Tensor self) -> SymInt"
kernels = { CompositeExplicitAutograd = "k::numel_of" }
differentiable = false
samples = [{ self = "f64[3]" }, { self = "f64[2,3]:t" }, { self = "f64[]" }]

[[op]]
signature = "first(Tensor self) -> Scalar"
kernels = { CPU = "k::first" }
differentiable = false
samples = [{ self = "f64[3]" }, { self = "f64[2,3]:t" }, { self = "f64[]" }]
"#;
    let model = match build(ops, "") {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    let files = ft_codegen::render::render(&model).expect("renders");
    let file = |name: &str| files.iter().find(|(p, _)| p == name).expect("file").1.clone();
    let generated = file("generated/ops.rs");
    for needle in [
        "pub fn numel_of(self_: &Tensor) -> Result<i64>",
        "pub fn first(self_: &Tensor) -> Result<Scalar>",
        "returns: &[Ret { name: \"\", ty: ArgType::Int }]",
        "returns: &[Ret { name: \"\", ty: ArgType::Scalar }]",
        "Ok(vec![Value::Int(r)])",
        "Ok(vec![Value::Scalar(r)])",
        "Some(Value::Int(v)) => v",
    ] {
        assert!(generated.contains(needle), "generated ops lack {needle:?}");
    }
    let tests = file("tests/generated/ops.rs");
    for needle in [
        "-> Result<Vec<Value>>",
        "check_value_sample(\"aten::first\"",
        "oracle::check_values(\"numel_of\"",
    ] {
        assert!(tests.contains(needle), "generated tests lack {needle:?}");
    }
}

#[test]
fn non_tensor_returns_are_not_differentiable() {
    assert_error(
        "[[op]]\nsignature = \"numel_of(Tensor self) -> SymInt\"\nkernels = { CPU = \"k\" }\n",
        "",
        "numel_of: an op returning a non-Tensor value needs `differentiable = false`",
    );
    assert_error(
        "[[op]]\nsignature = \"f(Tensor self) -> int[]\"\nkernels = { CPU = \"k\" }\ndifferentiable = false\n",
        "",
        "returns must be Tensor, Tensor[], int, SymInt, float, bool or Scalar",
    );
}

/// A written non-self argument (`Tensor(a!) stats`, like batch norm's running
/// statistics) read by a formula is saved after the op wrote it, its version
/// counter is not bumped (PyTorch bumps only the written tensors an op
/// returns), and the generated tests hold it constant (`frozen`).
#[test]
fn written_argument_is_saved_after_the_op_and_frozen_in_tests() {
    let ops = r#"
[[op]]
signature = "norm_update(Tensor self, Tensor(a!) stats, float momentum) -> Tensor"
kernels = { CPU = "k::norm_update" }
samples = [{ self = "f64[3]", stats = "f64[3]", momentum = 0.1 }, { self = "f64[2,3]:t", stats = "f64[3]", momentum = 0.1 }, { self = "f64[]", stats = "f64[]", momentum = 0.1 }]
"#;
    let derivs = r#"
[[helper]]
signature = "scale(Tensor g, Tensor w) -> Tensor"

[[derivative]]
of = "norm_update"
self = "scale(grad, stats)"
non_differentiable = ["stats"]
"#;
    let model = match build(ops, derivs) {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    let files = ft_codegen::render::render(&model).expect("renders");
    let file = |name: &str| files.iter().find(|(p, _)| p == name).map(|f| f.1.clone()).expect(name);
    let autograd = file("generated/autograd.rs");
    assert!(
        autograd.contains("stats_: SavedVariable::new(stats, false)"),
        "stats must be saved after the forward call:\n{autograd}"
    );
    assert!(!file("generated/ops.rs").contains("stats.version_counter().bump();"));
    let tests = file("tests/generated/ops.rs");
    assert!(
        tests.contains("frozen: &[1]"),
        "stats must be frozen in the generated tests:\n{tests}"
    );
}

fn render_files(ops: &str, derivs: &str) -> Vec<(String, String)> {
    let model = match build(ops, derivs) {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    ft_codegen::render::render(&model).expect("renders")
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files.iter().find(|(p, _)| p == name).expect("file").1
}

fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "generated code lacks {n:?}");
    }
}

/// `float[]` / `float[]?` arguments; `"none"` for an optional non-tensor
/// argument; non-finite floats as `f64::` constants; bool-list sample values;
/// torch's capitalised argument names as snake_case Rust identifiers.
#[test]
fn float_lists_none_values_bool_lists_and_identifiers_render() {
    let ops = r#"
[[op]]
signature = "resize_like(Tensor input, SymInt[]? output_size, float[]? scale_factors, float[] weights, float? cap, Scalar fill=inf) -> Tensor"
kernels = { CompositeImplicitAutograd = "crate::k::resize_like" }
samples = [{ input = "f64[3]", output_size = "none", scale_factors = [1.5, 2], weights = [], cap = -inf }, { input = "f64[2,3]:t", output_size = [4], scale_factors = "none", weights = [1.0], cap = nan }, { input = "f64[]", output_size = [1], scale_factors = "none", weights = [0.5], cap = "none" }]

[[op]]
signature = "grouped(Tensor input, SymInt N, SymInt HxW, bool[3] output_mask) -> (Tensor, Tensor, Tensor)"
kernels = { CPU = "k::grouped" }
differentiable = false
samples = [{ input = "f64[3]", N = 1, HxW = 3, output_mask = [true, false, true] }, { input = "f64[2,3]:t", N = 2, HxW = 3, output_mask = [false, false, false] }, { input = "f64[]", N = 1, HxW = 1, output_mask = [true, true, true] }]
"#;
    let files = render_files(ops, "");
    let generated = file(&files, "generated/ops.rs");
    assert_contains(
        generated,
        &[
            "scale_factors: Option<&[f64]>",
            "weights: &[f64]",
            "ty: ArgType::OptFloatList",
            "let scale_factors = u.opt_float_list()?;",
            "default: Some(DefaultValue::Scalar(Scalar::Float(f64::INFINITY)))",
            "n: i64, hx_w: i64",
            "Arg { name: \"HxW\"",
            // an output whose mask entry is false is None
            "-> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)>",
            "r.1.map_or(Value::None, Value::Tensor)",
            "Some(Value::None) => None",
        ],
    );
    let tests = file(&files, "tests/generated/ops.rs");
    assert_contains(
        tests,
        &[
            "Some(&[1.5, 2.0][..])",
            "Value::FloatList(vec![1.5, 2.0])",
            "Some(f64::NEG_INFINITY)",
            "Value::Float(f64::NAN)",
            "Value::FloatList(vec![0.5]), Value::None",
            "Value::BoolList(vec![true, false, true])",
            "Value::Int(1), Value::Int(3), Value::BoolList(vec![true, false, true])",
            "check_value_sample(\"aten::grouped\"",
        ],
    );
}

#[test]
fn masked_outputs_are_not_differentiable() {
    assert_error(
        "[[op]]\nsignature = \"g(Tensor x, bool[2] output_mask) -> (Tensor, Tensor)\"\nkernels = { CPU = \"k\" }\n",
        "",
        "g: an op with an `output_mask` returns optional tensors and needs `differentiable = false`",
    );
}

/// An op whose only tensors are a list dispatches to its CPU kernel when the
/// list is empty (so `cat(&[])` reports PyTorch's error, not a missing
/// kernel); the boxed wrapper's parameter does not shadow an op named `stack`.
#[test]
fn empty_tensor_lists_dispatch_and_stack_is_callable() {
    let ops = r#"
[[op]]
signature = "stack(Tensor[] tensors, int dim=0) -> Tensor"
kernels = { CPU = "k::stack" }
differentiable = false
samples = [{ tensors = ["f64[3]"] }, { tensors = ["f64[2,3]:t"] }, { tensors = [], error = "InvalidArgument" }, { tensors = ["f64[]"] }]
"#;
    let files = render_files(ops, "");
    let generated = file(&files, "generated/ops.rs");
    assert_contains(
        generated,
        &[
            "pub fn stack(tensors: &[Tensor], dim: i64) -> Result<Tensor>",
            "if ts.is_empty() { dispatch::keyset_for_factory(Device::Cpu) } else { dispatch::keyset_of(&ts) }",
            "fn call_boxed(&self, bound: Stack)",
        ],
    );
    assert_contains(
        file(&files, "tests/generated/ops.rs"),
        &["ops::stack(&[], 0)", "Value::TensorList(vec![])"],
    );
}

/// Irregular variant names: `inplace = "Scalar"` declares `pow_.Scalar` (the
/// in-place `pow.Tensor_Scalar`, reusing its formula); `out_name` names the
/// written argument; a `Tensor?[]` input is checked element-wise for grad.
#[test]
fn irregular_variants_render() {
    let ops = r#"
[[op]]
signature = "pow.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor"
kernels = { CPU = "k::pow" }
inplace = "Scalar"
out = "Tensor_Scalar_out"
samples = [{ self = "f64[3]", exponent = 2 }, { self = "f64[2,3]:t", exponent = 2 }, { self = "f64[]", exponent = 2 }]

[[op]]
signature = "pool_backward(Tensor grad_output, Tensor self, Tensor?[] indices) -> Tensor"
kernels = { CPU = "k::pool_backward" }
differentiable = false
out = "grad_input"
out_name = "grad_input"
samples = [{ grad_output = "f64[3]", self = "f64[3]", indices = ["none"] }, { grad_output = "f64[2,3]:t", self = "f64[2,3]", indices = ["i64[2]"] }, { grad_output = "f64[]", self = "f64[]", indices = [] }]
"#;
    let derivs = "[[derivative]]\nof = \"pow.Tensor_Scalar\"\nself = \"grad\"\n";
    let model = match build(ops, derivs) {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    let names: Vec<&str> = model.ops.iter().map(|o| o.qualified.as_str()).collect();
    assert_eq!(
        names,
        [
            "pow.Tensor_Scalar",
            "pow_.Scalar",
            "pow.Tensor_Scalar_out",
            "pool_backward",
            "pool_backward.grad_input"
        ]
    );
    let files = ft_codegen::render::render(&model).expect("renders");
    assert_contains(
        file(&files, "generated/autograd.rs"),
        &[
            "pub(crate) fn pow_scalar_inplace_autograd(",
            "rebase_history(&result, &node)?;",
            "indices.iter().flatten().any(|t| t.requires_grad())",
        ],
    );
    assert_contains(
        file(&files, "generated/variants.rs"),
        &[
            "grad_input: &Tensor",
            "write_out(\"aten::pool_backward.grad_input\", grad_input,",
        ],
    );
    assert_contains(
        file(&files, "tests/generated/ops.rs"),
        &["(\"grad_input\".to_string(), Value::Tensor(outs[0].clone()))"],
    );
}

/// A multi-output op's `out=` variant names one written argument per
/// return: the derived signature returns them as a tuple of written aliases,
/// the kernel writes every result with `write_outs`, and the generated test
/// passes zeros like each functional result. A name count that does not
/// match the returns is refused.
#[test]
fn multi_output_out_variants_render() {
    let ops = r#"
[[op]]
signature = "max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)"
kernels = { CPU = "k::max_dim" }
differentiable = false
out = "dim_max"
out_name = ["max", "max_values"]
samples = [{ self = "f64[3]", dim = 0 }, { self = "f64[2,3]:t", dim = 1 }, { self = "f64[]", dim = 0 }]
"#;
    let model = match build(ops, "") {
        Ok(m) => m,
        Err(es) => panic!("{es:?}"),
    };
    let out = model
        .ops
        .iter()
        .find(|o| o.qualified == "max.dim_max")
        .expect("derived");
    assert_eq!(
        out.signature_text,
        "max.dim_max(Tensor self, int dim, bool keepdim=False, *, Tensor(a!) max, Tensor(b!) max_values) -> (Tensor(a!) values, Tensor(b!) indices)"
    );
    let files = ft_codegen::render::render(&model).expect("renders");
    assert_contains(
        file(&files, "generated/variants.rs"),
        &[
            "crate::variants::write_outs(",
            "Some(&result.0), Some(&result.1)",
            "Ok((max.clone(), max_values.clone()))",
        ],
    );
    assert_contains(
        file(&files, "tests/generated/ops.rs"),
        &["frankentorch::testing::out_like(&like.1)", "returns_out("],
    );
    let wrong = ops.replace(r#"["max", "max_values"]"#, r#""max""#);
    let errors = build(&wrong, "").expect_err("one name for two returns is refused");
    assert!(
        format!("{errors:?}").contains("`out_name` gives 1 name(s) but the op returns 2"),
        "{errors:?}"
    );
}

/// `not_implemented = true` records PyTorch's `NotImplemented` node: edges to
/// the differentiable inputs, a `name()` of `torch::autograd::NotImplemented`,
/// an `apply` that fails, and no gradcheck in the generated tests.
#[test]
fn not_implemented_derivatives_record_a_failing_node() {
    let ops = r#"
[[op]]
signature = "copy(Tensor self, Tensor src, bool non_blocking=False) -> Tensor"
kernels = { CompositeExplicitAutograd = "k::copy" }
samples = [{ self = "f64[3]", src = "f64[3]" }, { self = "f64[2,3]:t", src = "f64[3]" }, { self = "f64[]", src = "f64[]" }]
"#;
    let derivs = "[[derivative]]\nof = \"copy\"\nnot_implemented = true\n";
    let files = render_files(ops, derivs);
    assert_contains(
        file(&files, "generated/autograd.rs"),
        &[
            "pub struct CopyNotImplemented",
            "\"torch::autograd::NotImplemented\".to_string()",
            "derivative for aten::copy is not implemented",
        ],
    );
    assert_contains(file(&files, "tests/generated/ops.rs"), &["gradcheck: false"]);
    let with_formula = format!("{derivs}self = \"grad\"\n");
    let errors = build(ops, &with_formula).expect_err("formulas beside not_implemented are refused");
    assert!(format!("{errors:?}").contains("takes no formulas"), "{errors:?}");
}
