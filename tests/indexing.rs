//! The indexing API (`frankentorch::indexing`) against PyTorch: every case
//! of `tests/fixtures/scenarios/indexing.toml` (written by
//! `tools/oracle/scenarios/indexing.py`) is run here with its Rust spelling,
//! listed below under the same name as the Python expression it mirrors.
//! A case missing on either side fails the test.

use frankentorch::prelude::*;
use frankentorch::ErrorKind;
use std::collections::{BTreeSet, HashMap};

/// The named input tensors of one case.
struct In(HashMap<String, Tensor>);

impl In {
    /// The input called `name`.
    fn t(&self, name: &str) -> &Tensor {
        self.0.get(name).unwrap_or_else(|| panic!("no input named {name}"))
    }
}

type Case = fn(&In) -> Result<Tensor>;

/// The Rust spelling of every scenario (the Python one is in the fixture).
fn cases() -> Vec<(&'static str, Case)> {
    vec![
        // integers
        ("int_first", |v| v.t("x").i(2)),
        ("int_neg", |v| v.t("x").i(-1)),
        ("int_pair", |v| v.t("x").i((1, -2))),
        ("int_all_dims", |v| v.t("x").i((4, 5, 6))),
        // slices
        ("slice_range", |v| v.t("x").i(1..4)),
        ("slice_step", |v| v.t("x").i((1..5).step(2))),
        ("slice_open_start", |v| v.t("x").i(..3)),
        ("slice_open_end", |v| v.t("x").i(2..)),
        ("slice_full", |v| v.t("x").i(..)),
        ("slice_neg_bounds", |v| v.t("x").i(-3..-1)),
        ("slice_clamped", |v| v.t("x").i((1..100, -100..2))),
        ("slice_steps_only", |v| v.t("x").i(((..).step(3), .., s(None, None, 2)))),
        ("slice_inclusive", |v| v.t("x").i((.., 1..=3))),
        #[allow(clippy::reversed_empty_ranges)]
        ("slice_empty", |v| v.t("x").i(4..2)),
        ("slice_of_transpose", |v| v.t("y").t()?.i((1..5, (..).step(2)))),
        // new axes, ellipsis
        ("newaxis_front", |v| v.t("x").i(NewAxis)),
        ("newaxis_middle", |v| v.t("x").i((.., NewAxis, 1))),
        ("newaxis_end_twice", |v| v.t("x").i((Ellipsis, NewAxis, NewAxis))),
        ("ellipsis_only", |v| v.t("x").i(Ellipsis)),
        ("ellipsis_start", |v| v.t("x").i((Ellipsis, 2))),
        ("ellipsis_middle", |v| v.t("x").i((1, Ellipsis, 3))),
        ("ellipsis_end", |v| v.t("x").i((0, 1..3, Ellipsis))),
        ("ellipsis_twice", |v| v.t("x").i((Ellipsis, 0, Ellipsis))),
        ("basic_mix", |v| v.t("x").i(((1..4).step(2), NewAxis, Ellipsis, -1))),
        ("empty_subscript", |v| v.t("x").i(())),
        ("slice_step_beyond_size", |v| {
            v.t("x").i(((..).step(10), 5.., (..).step(4)))
        }),
        ("i32_input", |v| v.t("x").i(((1..).step(2), Ellipsis, (1..4).step(2)))),
        ("bf16_input_mask", |v| v.t("x").i((v.t("m"), 1))),
        ("zero_dim_input_newaxis", |v| v.t("z").i(NewAxis)),
        ("empty_input", |v| v.t("e").i((.., 1))),
        ("f16_input", |v| v.t("h").i((.., 1..))),
        // index tensors
        ("tensor_1d", |v| v.t("x").i(v.t("i"))),
        ("tensor_negative", |v| v.t("x").i(v.t("i"))),
        ("tensor_2d", |v| v.t("x").i(v.t("i"))),
        ("tensor_i32", |v| v.t("x").i(v.t("i"))),
        ("tensor_broadcast_pair", |v| v.t("x").i((v.t("i"), v.t("j")))),
        ("tensor_after_slice", |v| v.t("x").i((.., v.t("i")))),
        ("tensor_separated", |v| v.t("x").i((v.t("i"), .., v.t("j")))),
        ("tensor_adjacent_pair", |v| v.t("x").i((.., v.t("i"), v.t("j")))),
        ("tensor_with_int_and_slice", |v| v.t("x").i((v.t("i"), 2..4, -1))),
        ("tensor_after_newaxis", |v| v.t("x").i((NewAxis, v.t("i")))),
        ("list_pair_separated", |v| v.t("x").i(([0, 1], .., [2, 3]))),
        ("list_mask", |v| v.t("x").i([true, false, true, false, true])),
        ("tensor_on_bool_input", |v| v.t("b").i((1.., v.t("i")))),
        ("zero_dim_int_tensor", |v| v.t("x").i(v.t("t"))),
        // masks, bools
        ("mask_1d", |v| v.t("x").i(v.t("m"))),
        ("mask_2d", |v| v.t("x").i(v.t("m"))),
        ("mask_full", |v| v.t("x").i(v.t("m"))),
        ("mask_all_false", |v| v.t("x").i(v.t("m"))),
        ("mask_u8", |v| v.t("x").i(v.t("m"))),
        ("mask_then_slice", |v| v.t("x").i((v.t("m"), 0..2))),
        ("mask_after_slice", |v| v.t("x").i((.., v.t("m")))),
        ("mask_and_tensor", |v| v.t("x").i((v.t("m"), .., v.t("j")))),
        ("bool_true", |v| v.t("x").i(true)),
        ("bool_false", |v| v.t("x").i(false)),
        ("bool_with_others", |v| v.t("x").i((0, true, 1..3))),
        ("zero_dim_bool_tensor", |v| v.t("x").i(v.t("t"))),
        // assignment
        ("set_int_scalar", |v| v.t("x").i_fill(1, 7)),
        ("set_slice_broadcast", |v| v.t("x").i_set((.., 1..3), v.t("v"))),
        ("set_mask_scalar", |v| v.t("x").i_fill(v.t("m"), 0)),
        ("set_tensor_rows", |v| v.t("x").i_set(v.t("i"), v.t("v"))),
        ("set_tensor_broadcast_row", |v| v.t("x").i_set(v.t("i"), v.t("v"))),
        ("set_dtype_cast", |v| v.t("x").i_set(1, v.t("v"))),
        ("set_leading_ones", |v| v.t("x").i_set(0, v.t("v"))),
        ("set_tensor_after_slice", |v| v.t("x").i_fill((.., v.t("i")), 5)),
        ("set_separated", |v| {
            let values = v.t("v").i((.., NewAxis))?;
            v.t("x").i_set((v.t("i"), .., v.t("j")), &values)
        }),
        ("set_bool_true", |v| v.t("x").i_fill(true, 3)),
        ("set_int_input_float_value", |v| v.t("x").i_fill(v.t("m"), 2.7)),
        ("set_through_view", |v| {
            let w = v.t("x").i((1.., (..).step(2)))?;
            w.i_fill(0, -1)
        }),
        ("set_ellipsis_newaxis", |v| {
            v.t("x").i_set((Ellipsis, NewAxis, 2), v.t("v"))
        }),
        ("set_ellipsis_broadcast", |v| v.t("x").i_set(Ellipsis, v.t("v"))),
        ("set_bool_false", |v| v.t("x").i_fill(false, 3)),
        ("set_zero_dim_input", |v| v.t("z").i_fill((), -2)),
        ("set_zero_dim_int_tensor", |v| v.t("x").i_set(v.t("t"), v.t("v"))),
        ("set_bool_input_mask", |v| v.t("b").i_fill(v.t("m"), true)),
        ("set_i32_mixed", |v| v.t("x").i_set((1.., v.t("i")), v.t("v"))),
        ("accumulate_duplicates", |v| v.t("x").i_add(v.t("i"), v.t("v"))),
        ("accumulate_pairs", |v| v.t("x").i_add((v.t("i"), v.t("j")), v.t("v"))),
        ("accumulate_mask", |v| {
            let half = Tensor::scalar_tensor(Scalar::from(0.5), DType::F64);
            v.t("x").i_add(v.t("m"), &half)
        }),
        ("iadd_basic_view", |v| v.t("x").i_add(1..3, v.t("v"))),
        // errors
        ("err_int_out_of_range", |v| v.t("x").i(5)),
        ("err_int_out_of_range_last_dim", |v| v.t("x").i((.., .., -8))),
        ("err_too_many_indices", |v| v.t("x").i((0, 0, 0, 0))),
        ("err_zero_dim_int", |v| v.t("z").i(0)),
        ("err_step_zero", |v| v.t("x").i((..).step(0))),
        ("err_step_negative", |v| v.t("x").i(s(None, None, -1))),
        ("err_mask_shape", |v| v.t("x").i(v.t("m"))),
        ("err_tensor_out_of_range", |v| v.t("x").i(v.t("i"))),
        ("err_tensor_dtype", |v| v.t("x").i(v.t("f"))),
        ("err_tensor_shapes", |v| v.t("x").i((v.t("i"), v.t("j")))),
        ("err_set_value_shape", |v| v.t("x").i_set(v.t("i"), v.t("v"))),
        ("err_set_dtype_mismatch", |v| v.t("x").i_set(v.t("i"), v.t("v"))),
        ("err_set_basic_value_shape", |v| v.t("x").i_set(1, v.t("v"))),
        // gradients of result.sum()
        ("grad_basic", |v| v.t("x").i((1.., NewAxis, -1))),
        ("grad_tensor_duplicates", |v| v.t("x").i(v.t("i"))),
        ("grad_mask", |v| v.t("x").i(v.t("m"))),
        ("grad_separated", |v| v.t("x").i((v.t("i"), (..).step(2), v.t("j")))),
        // assignment into a computed tensor, then gradients of y.sum()
        ("set_grad_index_put", |v| {
            let y = v.t("x").mul_scalar(2)?;
            y.i_set(v.t("i"), v.t("v"))
        }),
        ("set_grad_accumulate", |v| {
            let y = v.t("x").mul_scalar(2)?;
            y.i_add(v.t("i"), v.t("v"))
        }),
        ("set_grad_basic_view", |v| {
            v.t("x").mul_scalar(2)?.i_set((1.., 0), v.t("v"))
        }),
        ("set_grad_mixed", |v| {
            v.t("x").mul_scalar(2)?.i_set((1.., v.t("i")), v.t("v"))
        }),
        ("err_set_leaf_requiring_grad", |v| v.t("x").i_fill(0, 1)),
        ("set_grad_mask_fill", |v| v.t("x").mul_scalar(2)?.i_fill(v.t("m"), 0)),
    ]
}

fn fixture() -> toml::Table {
    let path = format!("{}/tests/fixtures/scenarios/indexing.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; regenerate with tools/oracle/scenarios/indexing.py"));
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

fn ints(t: &toml::Table, key: &str) -> Vec<i64> {
    let a = t
        .get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("fixture entry lacks {key}"));
    a.iter().map(|x| x.as_integer().expect("integer")).collect()
}

fn values(t: &toml::Table) -> Vec<f64> {
    let a = t.get("values").and_then(|v| v.as_array()).expect("values");
    a.iter()
        .map(|x| match x {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Boolean(b) => *b as u8 as f64,
            other => panic!("unexpected value {other}"),
        })
        .collect()
}

/// Rebuilds a recorded tensor (contiguous) from its dtype, shape and values.
fn build(t: &toml::Table) -> Tensor {
    let dtype = DType::from_name(str_of(t, "dtype")).expect("known dtype");
    let shape: Vec<usize> = ints(t, "shape").into_iter().map(|s| s as usize).collect();
    let flat = Tensor::from_vec(values(t), &shape).unwrap();
    ops::_to_copy_full(&flat, Some(dtype), None, None, None, false, None).unwrap()
}

/// Checks dtype, shape and exact values of `ours` against a recorded tensor.
fn compare(what: &str, ours: &Tensor, rec: &toml::Table) {
    assert_eq!(
        ours.dtype().name(),
        str_of(rec, "dtype"),
        "{what}: dtype differs from PyTorch"
    );
    let shape: Vec<usize> = ints(rec, "shape").into_iter().map(|s| s as usize).collect();
    assert_eq!(ours.sizes(), shape.as_slice(), "{what}: shape differs from PyTorch");
    let (got, want) = (ours.to_f64_vec(), values(rec));
    assert_eq!(got, want, "{what}: values differ from PyTorch");
}

/// Checks strides (of dims longer than 1), storage sharing and offset.
fn compare_layout(what: &str, ours: &Tensor, rec: &toml::Table, inputs: &In) {
    let strides = ints(rec, "strides");
    for (d, (&size, &st)) in ours.sizes().iter().zip(ours.strides()).enumerate() {
        if size > 1 {
            assert_eq!(st as i64, strides[d], "{what}: stride of dim {d} differs from PyTorch");
        }
    }
    let ours_alias = inputs
        .0
        .iter()
        .find(|(_, t)| t.storage().is_same(ours.storage()))
        .map_or("", |(n, _)| n.as_str());
    let alias = str_of(rec, "aliases");
    assert_eq!(
        ours_alias, alias,
        "{what}: storage sharing differs from PyTorch (input it views)"
    );
    if !alias.is_empty() {
        let offset = rec
            .get("storage_offset")
            .and_then(|o| o.as_integer())
            .expect("storage_offset");
        assert_eq!(
            ours.storage_offset() as i64,
            offset,
            "{what}: storage offset differs from PyTorch"
        );
    }
}

fn error_kind(name: &str) -> ErrorKind {
    match name {
        "IndexOutOfRange" => ErrorKind::IndexOutOfRange,
        "InvalidArgument" => ErrorKind::InvalidArgument,
        "ShapeMismatch" => ErrorKind::ShapeMismatch,
        "DimOutOfRange" => ErrorKind::DimOutOfRange,
        "DType" => ErrorKind::DType,
        "Autograd" => ErrorKind::Autograd,
        other => panic!("unknown error kind {other}"),
    }
}

fn check_error(what: &str, result: Result<Tensor>, rec: &toml::Table) {
    let e = match result {
        Ok(_) => panic!(
            "{what}: PyTorch raised {} but our call succeeded",
            str_of(rec, "message")
        ),
        Err(e) => e,
    };
    assert_eq!(
        e.kind(),
        error_kind(str_of(rec, "kind")),
        "{what}: wrong error kind: {e}"
    );
    let expect = str_of(rec, "expect");
    assert!(
        e.to_string().contains(expect),
        "{what}: our message {e} lacks {expect:?}"
    );
}

fn check_case(case: &toml::Table, run: Case) {
    let name = str_of(case, "name");
    let kind = str_of(case, "kind");
    let what = format!("case {name} (Python: {})", str_of(case, "python"));
    let inputs = In(tables(case, "input")
        .into_iter()
        .map(|t| (str_of(t, "name").to_string(), build(t)))
        .collect());
    let with_grad = kind == "grad" || kind == "set_grad";
    if with_grad {
        for t in inputs.0.values().filter(|t| t.dtype().is_floating_point()) {
            t.requires_grad_(true).unwrap();
        }
    }
    let result = run(&inputs);
    if let Some(err) = case.get("error").and_then(|e| e.as_table()) {
        return check_error(&what, result, err);
    }
    let result = result.unwrap_or_else(|e| panic!("{what}: PyTorch succeeded but we fail: {e}"));
    if let Some(rec) = case.get("result").and_then(|r| r.as_table()) {
        compare(&what, &result, rec);
        compare_layout(&what, &result, rec, &inputs);
    }
    for rec in tables(case, "after") {
        let n = str_of(rec, "name");
        compare(&format!("{what}: input {n} after assignment"), inputs.t(n), rec);
    }
    if with_grad {
        backward(&ops::sum(&result).unwrap()).unwrap();
        let recorded = tables(case, "grad");
        assert!(!recorded.is_empty(), "{what}: fixture has no gradients");
        for rec in recorded {
            let n = str_of(rec, "name");
            let g = inputs
                .t(n)
                .grad()
                .unwrap_or_else(|| panic!("{what}: no gradient for {n}"));
            compare(&format!("{what}: gradient of {n}"), &g, rec);
        }
    }
}

#[test]
fn indexing_matches_pytorch() {
    let table = fixture();
    let recorded = tables(&table, "case");
    let ours: HashMap<&str, Case> = cases().into_iter().collect();
    assert_eq!(ours.len(), cases().len(), "duplicate case names in tests/indexing.rs");
    let names: BTreeSet<&str> = recorded.iter().map(|c| str_of(c, "name")).collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !ours.contains_key(*n)).collect();
    assert!(missing.is_empty(), "fixture cases without a Rust spelling: {missing:?}");
    let extra: Vec<&&str> = ours.keys().filter(|n| !names.contains(*n)).collect();
    assert!(
        extra.is_empty(),
        "Rust cases not in the fixture (regenerate it): {extra:?}"
    );
    assert!(recorded.len() >= 40, "the acceptance asks for at least 40 cases");
    for case in recorded {
        check_case(case, ours[str_of(case, "name")]);
    }
}

#[test]
fn basic_assignment_bumps_the_version_of_the_base() {
    let x = ops::zeros(&[3, 4]).unwrap();
    let before = x.version();
    x.i_fill((1.., 0), 2.0).unwrap();
    assert!(x.version() > before);
    assert_eq!(x.i((.., 0)).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 2.0, 2.0]);
}

#[test]
fn runtime_built_index_lists_match_tuples() {
    let x = ops::arange(24).unwrap().view(&[2, 3, 4]).unwrap();
    let items = vec![TensorIndex::Int(1), TensorIndex::Ellipsis, (1..).step(2)];
    let a = x.i(items.as_slice()).unwrap();
    let b = x.i((1, Ellipsis, (1..).step(2))).unwrap();
    assert_eq!(a.sizes(), b.sizes());
    assert_eq!(a.to_vec::<i64>().unwrap(), b.to_vec::<i64>().unwrap());
}
