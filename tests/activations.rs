//! The activation functions of `nn::functional` against PyTorch: every case
//! of `tests/fixtures/scenarios/activations.toml` (written by
//! `tools/oracle/scenarios/activations.py`) is run here through `F::`, under
//! the same name as the Python call it mirrors. A case missing on either
//! side fails the test. Checked: the result (dtype, shape, strides, values),
//! the error kind where PyTorch raises, first-order gradients, and, for
//! float64 cases, second-order gradients (or that they fail where PyTorch's
//! fail).

#[path = "support/oracle.rs"]
#[allow(dead_code)]
mod oracle;

use frankentorch::nn::functional as F;
use frankentorch::prelude::*;
use frankentorch::testing::{sample_tensor, upstream_gradient};
use frankentorch::ErrorKind;
use std::collections::{BTreeSet, HashMap};

/// One case's Rust spelling, given its inputs (for an in-place case the
/// first input is already the clone to write into).
type Case = fn(&[Tensor]) -> Result<Tensor>;

fn sm(dim: i64) -> F::SoftmaxOpts {
    F::SoftmaxOpts {
        dim: Some(dim),
        dtype: None,
    }
}

fn sm_dtype(dim: i64, dtype: DType) -> F::SoftmaxOpts {
    F::SoftmaxOpts {
        dim: Some(dim),
        dtype: Some(dtype),
    }
}

fn ht(min_val: f64, max_val: f64) -> F::HardtanhOpts {
    F::HardtanhOpts { min_val, max_val }
}

/// The Rust spelling of every scenario (the Python one is in the fixture).
fn cases() -> Vec<(&'static str, Case)> {
    vec![
        // rectifiers
        ("relu", |t| F::relu(&t[0])),
        ("relu_transposed_f32", |t| F::relu(&t[0])),
        ("relu_int", |t| F::relu(&t[0])),
        ("relu_empty", |t| F::relu(&t[0])),
        ("relu_inplace", |t| F::relu_(&t[0])),
        ("relu_bool", |t| F::relu(&t[0])),
        ("relu6", |t| F::relu6(&t[0])),
        ("relu6_int", |t| F::relu6(&t[0])),
        ("relu6_inplace", |t| F::relu6_(&t[0])),
        ("relu6_bool", |t| F::relu6(&t[0])),
        ("leaky_relu", |t| F::leaky_relu(&t[0], Default::default())),
        ("leaky_relu_slope", |t| {
            F::leaky_relu(&t[0], F::LeakyReluOpts { negative_slope: 0.2 })
        }),
        ("leaky_relu_f16", |t| {
            F::leaky_relu(&t[0], F::LeakyReluOpts { negative_slope: 0.3 })
        }),
        ("leaky_relu_inplace", |t| {
            F::leaky_relu_(&t[0], F::LeakyReluOpts { negative_slope: 0.1 })
        }),
        ("leaky_relu_int", |t| F::leaky_relu(&t[0], Default::default())),
        ("threshold", |t| F::threshold(&t[0], 0.5, -1.0)),
        ("threshold_int", |t| F::threshold(&t[0], 1.0, 9.0)),
        ("threshold_zero_dim", |t| F::threshold(&t[0], 0.0, 2.0)),
        ("threshold_inplace", |t| F::threshold_(&t[0], 0.0, 0.5)),
        ("threshold_bool", |t| F::threshold(&t[0], 0.0, 1.0)),
        ("hardtanh", |t| F::hardtanh(&t[0], Default::default())),
        ("hardtanh_bounds", |t| F::hardtanh(&t[0], ht(-0.5, 0.75))),
        ("hardtanh_int", |t| F::hardtanh(&t[0], ht(-1.0, 2.0))),
        ("hardtanh_inplace", |t| F::hardtanh_(&t[0], ht(0.0, 2.0))),
        ("hardtanh_bad_bounds", |t| F::hardtanh(&t[0], ht(1.0, 0.0))),
        ("prelu_one_slope", |t| F::prelu(&t[0], &t[1])),
        ("prelu_per_channel", |t| F::prelu(&t[0], &t[1])),
        ("prelu_per_channel_transposed", |t| F::prelu(&t[0], &t[1])),
        ("prelu_1d_input", |t| F::prelu(&t[0], &t[1])),
        ("prelu_zero_dim_weight", |t| F::prelu(&t[0], &t[1])),
        ("prelu_wrong_slope_count", |t| F::prelu(&t[0], &t[1])),
        ("prelu_1d_input_many_slopes", |t| F::prelu(&t[0], &t[1])),
        ("prelu_2d_weight", |t| F::prelu(&t[0], &t[1])),
        // exponential
        ("elu", |t| F::elu(&t[0], Default::default())),
        ("elu_alpha", |t| F::elu(&t[0], F::EluOpts { alpha: 0.5 })),
        ("elu_inplace", |t| F::elu_(&t[0], F::EluOpts { alpha: 2.0 })),
        ("elu_int", |t| F::elu(&t[0], Default::default())),
        ("selu", |t| F::selu(&t[0])),
        ("selu_bf16", |t| F::selu(&t[0])),
        ("selu_inplace", |t| F::selu_(&t[0])),
        ("celu", |t| F::celu(&t[0], Default::default())),
        ("celu_alpha", |t| F::celu(&t[0], F::CeluOpts { alpha: 2.5 })),
        ("celu_inplace", |t| F::celu_(&t[0], F::CeluOpts { alpha: 0.5 })),
        ("celu_zero_alpha", |t| F::celu(&t[0], F::CeluOpts { alpha: 0.0 })),
        ("gelu", |t| F::gelu(&t[0], Default::default())),
        ("gelu_none", |t| {
            F::gelu(
                &t[0],
                F::GeluOpts {
                    approximate: F::Approximate::None,
                },
            )
        }),
        ("gelu_tanh", |t| {
            F::gelu(
                &t[0],
                F::GeluOpts {
                    approximate: F::Approximate::Tanh,
                },
            )
        }),
        ("gelu_tanh_f16", |t| {
            F::gelu(
                &t[0],
                F::GeluOpts {
                    approximate: F::Approximate::Tanh,
                },
            )
        }),
        // logistic
        ("sigmoid", |t| F::sigmoid(&t[0])),
        ("sigmoid_f32_step", |t| F::sigmoid(&t[0])),
        ("tanh", |t| F::tanh(&t[0])),
        ("tanh_zero_dim", |t| F::tanh(&t[0])),
        ("silu", |t| F::silu(&t[0])),
        ("silu_f16", |t| F::silu(&t[0])),
        ("silu_inplace", |t| F::silu_(&t[0])),
        ("mish", |t| F::mish(&t[0])),
        ("mish_f32_step", |t| F::mish(&t[0])),
        ("mish_inplace", |t| F::mish_(&t[0])),
        ("softplus", |t| F::softplus(&t[0], Default::default())),
        ("softplus_beta_threshold", |t| {
            F::softplus(
                &t[0],
                F::SoftplusOpts {
                    beta: 2.0,
                    threshold: 1.0,
                },
            )
        }),
        ("softplus_beta", |t| {
            F::softplus(
                &t[0],
                F::SoftplusOpts {
                    beta: 0.5,
                    ..Default::default()
                },
            )
        }),
        ("softplus_threshold", |t| {
            F::softplus(
                &t[0],
                F::SoftplusOpts {
                    threshold: 2.5,
                    ..Default::default()
                },
            )
        }),
        ("logsigmoid", |t| F::logsigmoid(&t[0])),
        ("logsigmoid_f32_offset", |t| F::logsigmoid(&t[0])),
        ("logsigmoid_int", |t| F::logsigmoid(&t[0])),
        ("hardsigmoid", |t| F::hardsigmoid(&t[0])),
        ("hardsigmoid_f32_t", |t| F::hardsigmoid(&t[0])),
        ("hardsigmoid_inplace", |t| F::hardsigmoid_(&t[0])),
        ("hardswish", |t| F::hardswish(&t[0])),
        ("hardswish_bf16", |t| F::hardswish(&t[0])),
        ("hardswish_inplace", |t| F::hardswish_(&t[0])),
        ("glu", |t| F::glu(&t[0], Default::default())),
        ("glu_dim0_transposed", |t| F::glu(&t[0], F::GluOpts { dim: 0 })),
        ("glu_dim1_3d", |t| F::glu(&t[0], F::GluOpts { dim: 1 })),
        ("glu_odd", |t| F::glu(&t[0], Default::default())),
        ("glu_scalar", |t| F::glu(&t[0], Default::default())),
        ("glu_dim_out_of_range", |t| F::glu(&t[0], F::GluOpts { dim: 2 })),
        // composed in Python
        ("softsign", |t| F::softsign(&t[0])),
        ("softsign_f32_t", |t| F::softsign(&t[0])),
        ("softsign_int", |t| F::softsign(&t[0])),
        ("tanhshrink", |t| F::tanhshrink(&t[0])),
        ("tanhshrink_f32_step", |t| F::tanhshrink(&t[0])),
        ("softmax", |t| F::softmax(&t[0], sm(-1))),
        ("softmax_implicit_dim_1d", |t| F::softmax(&t[0], Default::default())),
        ("softmax_implicit_dim_2d", |t| F::softmax(&t[0], Default::default())),
        ("softmax_dtype", |t| F::softmax(&t[0], sm_dtype(0, DType::F32))),
        ("softmax_bad_dim", |t| F::softmax(&t[0], sm(2))),
        ("log_softmax", |t| F::log_softmax(&t[0], sm(0))),
        ("log_softmax_implicit_dim_4d", |t| {
            F::log_softmax(&t[0], Default::default())
        }),
        ("log_softmax_dtype", |t| F::log_softmax(&t[0], sm_dtype(1, DType::F64))),
        ("softmin", |t| F::softmin(&t[0], sm(1))),
        ("softmin_implicit_dim_3d", |t| F::softmin(&t[0], Default::default())),
        ("softmin_dtype", |t| F::softmin(&t[0], sm_dtype(0, DType::F64))),
        ("softmin_int_needs_dtype", |t| F::softmin(&t[0], sm(1))),
        // at the kinks
        ("relu_at_zero", |t| F::relu(&t[0])),
        ("relu6_at_zero", |t| F::relu6(&t[0])),
        ("leaky_relu_at_zero", |t| {
            F::leaky_relu(&t[0], F::LeakyReluOpts { negative_slope: 0.2 })
        }),
        ("threshold_at_zero", |t| F::threshold(&t[0], 0.0, 5.0)),
        ("hardtanh_at_min", |t| F::hardtanh(&t[0], ht(0.0, 2.0))),
        ("elu_at_zero", |t| F::elu(&t[0], F::EluOpts { alpha: 1.5 })),
        ("celu_at_zero", |t| F::celu(&t[0], F::CeluOpts { alpha: 0.5 })),
        ("selu_at_zero", |t| F::selu(&t[0])),
        ("gelu_at_zero", |t| F::gelu(&t[0], Default::default())),
        ("gelu_tanh_at_zero", |t| {
            F::gelu(
                &t[0],
                F::GeluOpts {
                    approximate: F::Approximate::Tanh,
                },
            )
        }),
        ("silu_at_zero", |t| F::silu(&t[0])),
        ("softplus_at_zero", |t| {
            F::softplus(
                &t[0],
                F::SoftplusOpts {
                    beta: 2.0,
                    threshold: 0.0,
                },
            )
        }),
        ("prelu_at_zero", |t| F::prelu(&t[0], &t[1])),
        ("hardswish_at_zero", |t| F::hardswish(&t[0])),
    ]
}

fn fixture() -> toml::Table {
    let path = format!(
        "{}/tests/fixtures/scenarios/activations.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; regenerate with tools/oracle/scenarios/activations.py"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: not valid TOML: {e}"))
}

fn str_of<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("fixture entry lacks {key}"))
}

fn tables<'a>(t: &'a toml::Table, key: &str) -> Vec<&'a toml::Table> {
    t.get(key)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_table()).collect())
        .unwrap_or_default()
}

fn index_of(t: &toml::Table) -> usize {
    t.get("input").and_then(|v| v.as_integer()).expect("input index") as usize
}

/// An input as the script builds it: the oracle's spec with seed `i`, then
/// the optional integer scale (`*4`, `*0`).
fn build(spec: &str, i: usize) -> Tensor {
    match spec.split_once('*') {
        Some((base, scale)) => {
            let k: i64 = scale.parse().expect("integer scale");
            ops::mul_scalar(&sample_tensor(base, i), k).unwrap()
        }
        None => sample_tensor(spec, i),
    }
}

fn error_kind(name: &str) -> ErrorKind {
    match name {
        "InvalidArgument" => ErrorKind::InvalidArgument,
        "ShapeMismatch" => ErrorKind::ShapeMismatch,
        "DimOutOfRange" => ErrorKind::DimOutOfRange,
        "DType" => ErrorKind::DType,
        other => panic!("unknown error kind {other}"),
    }
}

/// Runs the case on `inputs`: for an in-place case, on a clone of the first
/// input, checking that the call returns that clone.
fn run(what: &str, case: Case, inputs: &[Tensor], inplace: bool) -> Result<Tensor> {
    if !inplace {
        return case(inputs);
    }
    let mut args = inputs.to_vec();
    args[0] = ops::clone(&inputs[0])?;
    let result = case(&args)?;
    assert!(
        result.is_same(&args[0]),
        "{what}: the in-place call must return its input"
    );
    Ok(result)
}

fn check_strides(what: &str, ours: &Tensor, rec: &toml::Table) {
    let strides: Vec<i64> = rec
        .get("strides")
        .and_then(|s| s.as_array())
        .expect("strides")
        .iter()
        .map(|v| v.as_integer().expect("stride"))
        .collect();
    for (d, (&size, &st)) in ours.sizes().iter().zip(ours.strides()).enumerate() {
        if size > 1 {
            assert_eq!(st as i64, strides[d], "{what}: stride of dim {d} differs from PyTorch");
        }
    }
}

/// The gradients of `result` (upstream: the oracle's gradient of output 0)
/// for `leaves`, building a graph when `create_graph`.
fn first_grads(what: &str, result: &Tensor, leaves: &[Tensor], create_graph: bool) -> Vec<Tensor> {
    let up = upstream_gradient(0, result.sizes(), result.dtype());
    grad(
        std::slice::from_ref(result),
        leaves,
        &[Some(up)],
        None,
        create_graph,
        true,
    )
    .unwrap_or_else(|e| panic!("{what}: backward failed: {e}"))
    .into_iter()
    .zip(leaves)
    .map(|(g, t)| g.unwrap_or_else(|| ops::zeros_like(t).unwrap()))
    .collect()
}

/// `d/d(leaves) sum_i <grads_i, v_i>` with `v_i` the oracle's upstream
/// gradient of index `1 + i`.
fn second_grads(result: &Tensor, leaves: &[Tensor]) -> Result<Vec<Tensor>> {
    let up = upstream_gradient(0, result.sizes(), result.dtype());
    let firsts = grad(std::slice::from_ref(result), leaves, &[Some(up)], None, true, true)?;
    let mut total: Option<Tensor> = None;
    for (i, g) in firsts.iter().enumerate() {
        let g = g.clone().unwrap_or(ops::zeros_like(&leaves[i])?);
        let v = upstream_gradient(1 + i, g.sizes(), g.dtype());
        let term = ops::sum(&ops::mul(&g, &v)?)?;
        total = Some(match total {
            Some(t) => ops::add(&t, &term)?,
            None => term,
        });
    }
    let total = total.expect("at least one leaf");
    let seconds = grad(&[total], leaves, &[None], None, false, true)?;
    Ok(seconds
        .into_iter()
        .zip(leaves)
        .map(|(g, t)| g.unwrap_or_else(|| ops::zeros_like(t).unwrap()))
        .collect())
}

fn check_case(case: &toml::Table, rust: Case) {
    let what = format!("case {} (Python: {})", str_of(case, "name"), str_of(case, "python"));
    let specs: Vec<&str> = case
        .get("inputs")
        .and_then(|v| v.as_array())
        .expect("inputs")
        .iter()
        .map(|s| s.as_str().expect("spec"))
        .collect();
    let inplace = case.get("inplace").and_then(|v| v.as_bool()).unwrap_or(false);
    let inputs: Vec<Tensor> = specs.iter().enumerate().map(|(i, s)| build(s, i)).collect();
    let result = run(&what, rust, &inputs, inplace);
    if let Some(err) = case.get("error").and_then(|e| e.as_table()) {
        let e = result
            .err()
            .unwrap_or_else(|| panic!("{what}: PyTorch raised {} but we succeed", str_of(err, "message")));
        assert_eq!(
            e.kind(),
            error_kind(str_of(err, "kind")),
            "{what}: wrong error kind: {e}"
        );
        return;
    }
    let result = result.unwrap_or_else(|e| panic!("{what}: PyTorch succeeded but we fail: {e}"));
    let rec = case.get("result").and_then(|r| r.as_table()).expect("result");
    oracle::compare(&what, &result, rec);
    check_strides(&what, &result, rec);
    let recorded = tables(case, "grad");
    if recorded.is_empty() {
        return;
    }
    let leaves: Vec<Tensor> = inputs
        .iter()
        .filter(|t| t.dtype().is_floating_point())
        .cloned()
        .collect();
    let positions: Vec<usize> = (0..inputs.len())
        .filter(|&i| inputs[i].dtype().is_floating_point())
        .collect();
    for t in &leaves {
        t.requires_grad_(true).unwrap();
    }
    let result = run(&what, rust, &inputs, inplace).unwrap();
    let grads = first_grads(&what, &result, &leaves, false);
    for rec in &recorded {
        let k = positions
            .iter()
            .position(|&p| p == index_of(rec))
            .expect("a floating input");
        oracle::compare(&format!("{what}: gradient of input {}", index_of(rec)), &grads[k], rec);
    }
    check_second_order(&what, case, rust, &inputs, &leaves, &positions, inplace);
}

fn check_second_order(
    what: &str,
    case: &toml::Table,
    rust: Case,
    inputs: &[Tensor],
    leaves: &[Tensor],
    positions: &[usize],
    inplace: bool,
) {
    let result = run(what, rust, inputs, inplace).unwrap();
    if let Some(err) = case.get("double_error").and_then(|e| e.as_table()) {
        assert!(
            second_grads(&result, leaves).is_err(),
            "{what}: PyTorch's double backward fails ({}) but ours succeeds",
            str_of(err, "message")
        );
        return;
    }
    let recorded = tables(case, "grad2");
    if recorded.is_empty() {
        return;
    }
    let seconds = second_grads(&result, leaves).unwrap_or_else(|e| panic!("{what}: double backward failed: {e}"));
    for rec in recorded {
        let k = positions
            .iter()
            .position(|&p| p == index_of(rec))
            .expect("a floating input");
        oracle::compare(
            &format!("{what}: second-order gradient of input {}", index_of(rec)),
            &seconds[k],
            rec,
        );
    }
}

#[test]
fn activations_match_pytorch() {
    let table = fixture();
    let recorded = tables(&table, "case");
    let ours: HashMap<&str, Case> = cases().into_iter().collect();
    assert_eq!(
        ours.len(),
        cases().len(),
        "duplicate case names in tests/activations.rs"
    );
    let names: BTreeSet<&str> = recorded.iter().map(|c| str_of(c, "name")).collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !ours.contains_key(*n)).collect();
    assert!(missing.is_empty(), "fixture cases without a Rust spelling: {missing:?}");
    let extra: Vec<&&str> = ours.keys().filter(|n| !names.contains(*n)).collect();
    assert!(
        extra.is_empty(),
        "Rust cases not in the fixture (regenerate it): {extra:?}"
    );
    for case in recorded {
        check_case(case, ours[str_of(case, "name")]);
    }
}

#[test]
fn in_place_forms_bump_the_version_and_keep_the_storage() {
    let x = Tensor::from_vec(vec![-1.0f64, 2.0, 5.0], &[3]).unwrap();
    let before = x.version();
    let y = F::hardswish_(&x).unwrap();
    assert!(y.is_same(&x));
    assert!(x.version() > before);
    assert_eq!(x.to_vec::<f64>().unwrap(), vec![-1.0 / 3.0, 2.0 * 5.0 / 6.0, 5.0]);
}

/// A function of several tensors returning several, as gradcheck takes it.
type Multi = fn(&[Tensor]) -> Result<Vec<Tensor>>;

#[test]
fn gradgradcheck_holds_for_the_composed_functions() {
    let x = sample_tensor("f64[3,4]", 0);
    let w = sample_tensor("f64[4]", 1);
    let fs: Vec<(&str, Multi)> = vec![
        ("softsign", |t| Ok(vec![F::softsign(&t[0])?])),
        ("tanhshrink", |t| Ok(vec![F::tanhshrink(&t[0])?])),
        ("softmin", |t| Ok(vec![F::softmin(&t[0], sm(1))?])),
        ("silu", |t| Ok(vec![F::silu(&t[0])?])),
        ("mish", |t| Ok(vec![F::mish(&t[0])?])),
        ("selu", |t| Ok(vec![F::selu(&t[0])?])),
        ("logsigmoid", |t| Ok(vec![F::logsigmoid(&t[0])?])),
        ("glu", |t| Ok(vec![F::glu(&t[0], Default::default())?])),
    ];
    for (name, f) in fs {
        let inputs = [x.clone()];
        frankentorch::testing::gradcheck(f, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        frankentorch::testing::gradgradcheck(f, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let prelu: Multi = |t| Ok(vec![F::prelu(&t[0], &t[1])?]);
    let inputs = [x, w];
    frankentorch::testing::gradcheck(prelu, &inputs).unwrap();
    frankentorch::testing::gradgradcheck(prelu, &inputs).unwrap();
}

#[test]
fn in_place_negative_slope_backward_is_the_functional_gradient() {
    // PyTorch raises here (its in-place formulas read the result); ours
    // differentiates the saved input like the functional form (FEATURE_PARITY.md).
    let x = Tensor::from_vec(vec![-2.0f64, 3.0], &[2]).unwrap();
    x.requires_grad_(true).unwrap();
    let y = ops::clone(&x).unwrap();
    F::leaky_relu_(&y, F::LeakyReluOpts { negative_slope: -0.5 }).unwrap();
    let z = ops::clone(&x).unwrap();
    F::elu_(&z, F::EluOpts { alpha: -1.0 }).unwrap();
    backward(&ops::add(&ops::sum(&y).unwrap(), &ops::sum(&z).unwrap()).unwrap()).unwrap();
    let g = x.grad().unwrap().to_vec::<f64>().unwrap();
    assert!((g[0] - (-0.5 - (-2.0f64).exp())).abs() < 1e-15, "{g:?}");
    assert_eq!(g[1], 2.0);
}
