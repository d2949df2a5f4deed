//! Helpers for scenario fixtures (`tests/fixtures/scenarios/<topic>.toml`)
//! whose tensors are inline tables `{ name?, dtype, shape, values }`:
//! loading a fixture, reading fields, rebuilding tensors and comparing
//! results exactly or within `assert_close`'s default tolerances. A float32
//! value may be stored as its shortest float32 decimal; it is rounded back
//! to float32 before comparing.

#![allow(dead_code)]

use frankentorch::prelude::*;
use frankentorch::ErrorKind;

/// Reads and parses `tests/fixtures/scenarios/<topic>.toml`.
pub fn fixture(topic: &str) -> toml::Table {
    let path = format!("{}/tests/fixtures/scenarios/{topic}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; regenerate with tools/oracle/scenarios/{topic}.py"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: not valid TOML: {e}"))
}

/// A string field.
pub fn str_of<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("fixture entry lacks string {key}"))
}

/// An array-of-tables field (empty when absent).
pub fn tables<'a>(t: &'a toml::Table, key: &str) -> Vec<&'a toml::Table> {
    t.get(key)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_table()).collect())
        .unwrap_or_default()
}

/// An array of strings field (empty when absent).
pub fn strings<'a>(t: &'a toml::Table, key: &str) -> Vec<&'a str> {
    t.get(key)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default()
}

/// An array of booleans field.
pub fn bools(t: &toml::Table, key: &str) -> Vec<bool> {
    t.get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("fixture entry lacks {key}"))
        .iter()
        .map(|x| x.as_bool().expect("a boolean"))
        .collect()
}

/// An array of numbers field, as f64.
pub fn numbers(t: &toml::Table, key: &str) -> Vec<f64> {
    t.get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("fixture entry lacks {key}"))
        .iter()
        .map(|x| match x {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Boolean(b) => *b as u8 as f64,
            other => panic!("unexpected value {other}"),
        })
        .collect()
}

/// A sub-table field.
pub fn table<'a>(t: &'a toml::Table, key: &str) -> &'a toml::Table {
    t.get(key)
        .and_then(|v| v.as_table())
        .unwrap_or_else(|| panic!("fixture entry lacks table {key}"))
}

/// Rebuilds a recorded tensor (contiguous, values rounded to its dtype).
pub fn build(t: &toml::Table) -> Tensor {
    let dtype = DType::from_name(str_of(t, "dtype")).expect("known dtype");
    let shape: Vec<usize> = numbers(t, "shape").into_iter().map(|s| s as usize).collect();
    let flat = Tensor::from_vec(numbers(t, "values"), &shape).unwrap();
    ops::_to_copy_full(&flat, Some(dtype), None, None, None, false, None).unwrap()
}

/// Compares dtype, shape and values with a record: bit-exact (after
/// rounding the recorded value to the tensor's dtype) when `exact`, else
/// within `assert_close`'s default tolerances; NaN equals NaN.
pub fn compare(what: &str, ours: &Tensor, rec: &toml::Table, exact: bool) {
    assert_eq!(
        ours.dtype().name(),
        str_of(rec, "dtype"),
        "{what}: dtype differs from PyTorch"
    );
    let shape: Vec<usize> = numbers(rec, "shape").into_iter().map(|s| s as usize).collect();
    assert_eq!(ours.sizes(), shape.as_slice(), "{what}: shape differs from PyTorch");
    let (rtol, atol) = match ours.dtype() {
        DType::F32 => (1.3e-6, 1e-5),
        DType::F16 => (1e-3, 1e-5),
        DType::BF16 => (1.6e-2, 1e-5),
        _ => (1e-7, 1e-7),
    };
    for (i, (g, e)) in ours.to_f64_vec().iter().zip(numbers(rec, "values")).enumerate() {
        let e = if ours.dtype() == DType::F32 { e as f32 as f64 } else { e };
        let ok = if g.is_nan() || e.is_nan() {
            g.is_nan() && e.is_nan()
        } else if exact {
            *g == e
        } else {
            *g == e || (g - e).abs() <= atol + rtol * e.abs()
        };
        assert!(ok, "{what}: element {i} is {g}, PyTorch gives {e}");
    }
}

/// The `ErrorKind` a fixture names (`kind = "ShapeMismatch"`).
pub fn error_kind(name: &str) -> ErrorKind {
    match name {
        "IndexOutOfRange" => ErrorKind::IndexOutOfRange,
        "InvalidArgument" => ErrorKind::InvalidArgument,
        "ShapeMismatch" => ErrorKind::ShapeMismatch,
        "DimOutOfRange" => ErrorKind::DimOutOfRange,
        "DType" => ErrorKind::DType,
        "NotSupported" => ErrorKind::NotSupported,
        "Autograd" => ErrorKind::Autograd,
        other => panic!("unknown error kind {other}"),
    }
}

/// Checks that `result` failed as the record `{ kind, message, expect }`
/// says: the same kind, and our message containing `expect`.
pub fn check_error<T>(what: &str, result: Result<T>, rec: &toml::Table) {
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

/// Runs every check, collecting panics, and fails listing them all.
pub fn run_all<T>(what: &str, items: &[T], check: impl Fn(&T)) {
    let mut failures = vec![];
    for item in items {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(item))) {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(msg.unwrap_or_default());
        }
    }
    assert!(
        failures.is_empty(),
        "{} {what} case(s) differ from PyTorch:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
