//! Compares our operators with PyTorch's recorded outputs and gradients
//! (`tests/fixtures/oracle/*.toml`, written by `tools/oracle/oracle.py`;
//! the format and tolerance policy are in `tools/oracle/FORMAT.md`).

use frankentorch::dispatch::Value;
use frankentorch::testing::{plain_value, sample_tensor, upstream_gradient, TypedCall, ValueCall};
use frankentorch::{grad, DType, ErrorKind, Tensor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn fixture(file: &str) -> Arc<toml::Table> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<toml::Table>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(file.to_string())
        .or_insert_with(|| {
            let path = format!("{}/tests/fixtures/oracle/{file}.toml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}; regenerate fixtures with `bash tools/oracle/regen.sh`"));
            Arc::new(toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: not valid TOML: {e}")))
        })
        .clone()
}

/// `torch.testing.assert_close` default (rtol, atol) for a dtype; None = exact.
fn tolerance(dtype: DType) -> Option<(f64, f64)> {
    match dtype {
        DType::F64 => Some((1e-7, 1e-7)),
        DType::F32 => Some((1.3e-6, 1e-5)),
        DType::F16 => Some((1e-3, 1e-5)),
        DType::BF16 => Some((1.6e-2, 1e-5)),
        _ => None,
    }
}

fn as_f64(v: &toml::Value) -> f64 {
    match v {
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Boolean(b) => *b as u8 as f64,
        other => panic!("unexpected fixture value {other}"),
    }
}

fn ints(v: Option<&toml::Value>) -> Vec<i64> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().map(|x| x.as_integer().expect("int")).collect())
        .unwrap_or_default()
}

/// Compares one tensor with its fixture entry (dtype, shape, and values
/// within the dtype's tolerance); `what` names it in messages.
pub fn compare(what: &str, ours: &Tensor, rec: &toml::Table) {
    let dtype = rec.get("dtype").and_then(|d| d.as_str()).expect("dtype");
    assert_eq!(
        ours.dtype().name(),
        dtype,
        "{what}: dtype is {} but PyTorch gives {dtype}",
        ours.dtype()
    );
    let shape: Vec<usize> = ints(rec.get("shape")).into_iter().map(|s| s as usize).collect();
    assert_eq!(ours.sizes(), shape.as_slice(), "{what}: shape differs from PyTorch");
    let Some(values) = rec.get("values").and_then(|v| v.as_array()) else {
        return;
    };
    let got = ours.to_f64_vec();
    assert_eq!(got.len(), values.len(), "{what}: element count differs from PyTorch");
    let tol = tolerance(ours.dtype());
    for (i, (g, e)) in got.iter().zip(values).enumerate() {
        let e = as_f64(e);
        let ok = match tol {
            None => *g == e,
            Some(_) if g.is_nan() || e.is_nan() => g.is_nan() && e.is_nan(),
            Some(_) if g.is_infinite() || e.is_infinite() => g == &e,
            Some((rtol, atol)) => (g - e).abs() <= atol + rtol * e.abs(),
        };
        assert!(
            ok,
            "{what}: first difference at element {i}: ours {g}, PyTorch {e} (tolerance {tol:?})"
        );
    }
}

/// Sample `index` of a fixture.
fn sample_of<'a>(table: &'a toml::Table, op: &str, index: usize) -> &'a toml::Table {
    table
        .get("sample")
        .and_then(|s| s.as_array())
        .and_then(|a| a.get(index))
        .and_then(|s| s.as_table())
        .unwrap_or_else(|| {
            panic!("aten::{op}: fixture has no sample {index}; regenerate with `bash tools/oracle/regen.sh`")
        })
}

/// Matches our call's `result` with the sample's outcome: when PyTorch
/// raised, we must fail too (with `expected_error`'s kind) and `None` is
/// returned; otherwise our outputs with PyTorch's `[[sample.output]]`
/// entries, equal in number.
fn run_sample<'a, T>(
    here: &str,
    sample: &'a toml::Table,
    expected_error: Option<ErrorKind>,
    result: frankentorch::Result<Vec<T>>,
) -> Option<(Vec<T>, Vec<&'a toml::Table>)> {
    if let Some(raised) = sample.get("error") {
        let e = result
            .err()
            .unwrap_or_else(|| panic!("{here}: PyTorch raised {raised} but our call succeeded"));
        if let Some(kind) = expected_error {
            assert_eq!(e.kind(), kind, "{here}: wrong error kind: {e}");
        }
        return None;
    }
    let outputs = result.unwrap_or_else(|e| panic!("{here}: PyTorch succeeded but our call failed: {e}"));
    let recorded: Vec<&toml::Table> = sample
        .get("output")
        .and_then(|o| o.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_table()).collect())
        .unwrap_or_default();
    assert_eq!(
        outputs.len(),
        recorded.len(),
        "{here}: output count differs from PyTorch"
    );
    Some((outputs, recorded))
}

/// Checks sample `index` of `op` (`add.Tensor`) against its fixture.
/// `specs`/`names` are the sample's tensor arguments; `frozen` the positions
/// of those the op does not differentiate (never made leaves); `typed` calls
/// the op.
pub fn check(
    op: &str,
    index: usize,
    specs: &[&str],
    names: &[&str],
    expected_error: Option<ErrorKind>,
    frozen: &[usize],
    typed: &TypedCall,
) {
    let table = fixture(op);
    let sample = sample_of(&table, op, index);
    let here = format!("aten::{op} sample {index}");
    let inputs: Vec<Tensor> = specs.iter().enumerate().map(|(i, s)| sample_tensor(s, i)).collect();
    let Some((outputs, recorded)) = run_sample(&here, sample, expected_error, typed(&inputs)) else {
        return;
    };
    for (k, (ours, rec)) in outputs.iter().zip(&recorded).enumerate() {
        let what = format!("{here} output {k}");
        compare(&what, ours, rec);
        let aliases = inputs
            .iter()
            .position(|t| t.storage().is_same(ours.storage()))
            .map_or(-1, |i| i as i64);
        let expected_alias = rec.get("aliases").and_then(|a| a.as_integer()).unwrap_or(-1);
        assert_eq!(aliases, expected_alias, "{what}: storage aliasing differs from PyTorch");
        let strides = ints(rec.get("strides"));
        for (d, (&size, &st)) in ours.sizes().iter().zip(ours.strides()).enumerate() {
            if size > 1 {
                assert_eq!(
                    st as i64, strides[d],
                    "{what}: stride of dim {d} is {st}, PyTorch's is {}",
                    strides[d]
                );
            }
        }
        if expected_alias >= 0 {
            let offset = rec.get("storage_offset").and_then(|o| o.as_integer()).unwrap_or(0);
            assert_eq!(
                ours.storage_offset() as i64,
                offset,
                "{what}: storage offset differs from PyTorch"
            );
        }
    }
    check_mutated(&here, sample, &inputs, names);
    check_grads(&here, sample, specs, names, frozen, typed);
}

/// Checks sample `index` of an op returning non-tensor values (`sym_size.int`,
/// `_local_scalar_dense`) or optional tensors (`convolution_backward` with an
/// `output_mask`) against its fixture: each `[[sample.output]]` has `type`
/// ("int", "float" or "bool", the Python type torch returned) and `value`, or
/// `undefined = true` (torch returned None), or is a tensor entry.
pub fn check_values(op: &str, index: usize, specs: &[&str], expected_error: Option<ErrorKind>, typed: &ValueCall) {
    let table = fixture(op);
    let sample = sample_of(&table, op, index);
    let here = format!("aten::{op} sample {index}");
    let inputs: Vec<Tensor> = specs.iter().enumerate().map(|(i, s)| sample_tensor(s, i)).collect();
    let Some((outputs, recorded)) = run_sample(&here, sample, expected_error, typed(&inputs)) else {
        return;
    };
    for (k, (ours, rec)) in outputs.iter().zip(&recorded).enumerate() {
        let what = format!("{here} output {k}");
        if rec.get("undefined").and_then(|u| u.as_bool()) == Some(true) {
            assert!(
                matches!(ours, Value::None),
                "{what}: PyTorch returns None, we return {ours:?}"
            );
            continue;
        }
        if rec.contains_key("dtype") {
            let t = ours
                .as_tensor()
                .unwrap_or_else(|| panic!("{what}: PyTorch returns a tensor, we return {ours:?}"));
            compare(&what, t, rec);
            continue;
        }
        let (kind, value) =
            plain_value(ours).unwrap_or_else(|| panic!("{here} output {k}: not a plain value: {ours:?}"));
        let want_kind = rec.get("type").and_then(|t| t.as_str()).expect("type");
        let want = as_f64(rec.get("value").expect("value"));
        assert_eq!(
            kind, want_kind,
            "{here} output {k}: we return a {kind}, PyTorch a Python {want_kind}"
        );
        assert!(
            value == want || (value.is_nan() && want.is_nan()),
            "{here} output {k}: ours {value}, PyTorch {want}"
        );
    }
}

/// Compares the arguments the op wrote (`Tensor(a!)`, other than `self` of
/// an in-place op and `out`) with their values after PyTorch's call.
fn check_mutated(here: &str, sample: &toml::Table, inputs: &[Tensor], names: &[&str]) {
    let recorded = sample.get("mutated").and_then(|m| m.as_array());
    for rec in recorded.into_iter().flatten().filter_map(|t| t.as_table()) {
        let name = rec.get("input").and_then(|n| n.as_str()).expect("mutated input name");
        let i = names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{here}: fixture records a write to unknown input {name}"));
        compare(&format!("{here} written input {name}"), &inputs[i], rec);
    }
}

fn check_grads(here: &str, sample: &toml::Table, specs: &[&str], names: &[&str], frozen: &[usize], typed: &TypedCall) {
    let recorded: Vec<&toml::Table> = sample
        .get("grad")
        .and_then(|g| g.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_table()).collect())
        .unwrap_or_default();
    let backward_error = sample.get("backward_error").and_then(|e| e.as_str());
    if recorded.is_empty() && backward_error.is_none() {
        return;
    }
    let leaves: Vec<Tensor> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = sample_tensor(s, i);
            if t.dtype().is_floating_point() && !frozen.contains(&i) {
                t.requires_grad_(true).unwrap();
            }
            t
        })
        .collect();
    let outputs = typed(&leaves).unwrap_or_else(|e| panic!("{here}: gradient run failed: {e}"));
    let (mut outs, mut ups) = (Vec::new(), Vec::new());
    for (k, o) in outputs.iter().enumerate() {
        if o.requires_grad() && o.dtype().is_floating_point() {
            outs.push(o.clone());
            ups.push(Some(upstream_gradient(k, o.sizes(), o.dtype())));
        }
    }
    let diff: Vec<(usize, Tensor)> = leaves
        .iter()
        .cloned()
        .enumerate()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    let inputs: Vec<Tensor> = diff.iter().map(|(_, t)| t.clone()).collect();
    if let Some(message) = backward_error {
        // PyTorch's NotImplemented node: the result requires grad, backward fails.
        assert!(
            !outs.is_empty(),
            "{here}: PyTorch records a node ({message}), our result does not require grad"
        );
        match grad(&outs, &inputs, &ups, None, false, true) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Autograd, "{here}: wrong backward error kind: {e}"),
            Ok(_) => panic!("{here}: PyTorch's backward raises \"{message}\", ours succeeds"),
        }
        return;
    }
    let grads =
        grad(&outs, &inputs, &ups, None, false, true).unwrap_or_else(|e| panic!("{here}: backward failed: {e}"));
    for ((i, _), g) in diff.iter().zip(grads) {
        let name = names[*i];
        match (
            recorded
                .iter()
                .find(|r| r.get("input").and_then(|n| n.as_str()) == Some(name)),
            g,
        ) {
            (Some(rec), Some(g)) => compare(&format!("{here} gradient of {name}"), &g, rec),
            (Some(_), None) => panic!("{here}: PyTorch gives a gradient for {name}, we give none"),
            (None, Some(g)) => {
                assert!(
                    g.to_f64_vec().iter().all(|v| *v == 0.0),
                    "{here}: PyTorch gives no gradient for {name}, ours is non-zero"
                )
            }
            (None, None) => {}
        }
    }
}
