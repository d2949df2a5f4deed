//! Schema validation errors name the file, the entry and the problem.

use ft_codegen::model::build;

const KERNEL_OP: &str = r#"
[[op]]
signature = "neg(Tensor self) -> Tensor"
kernels = { CPU = "unary::neg" }
"#;

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
