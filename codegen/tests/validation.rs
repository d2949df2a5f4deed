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
/// counter is bumped, and the generated tests hold it constant (`frozen`).
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
    assert!(file("generated/ops.rs").contains("stats.version_counter().bump();"));
    let tests = file("tests/generated/ops.rs");
    assert!(
        tests.contains("frozen: &[1]"),
        "stats must be frozen in the generated tests:\n{tests}"
    );
}
