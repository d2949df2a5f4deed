//! Helpers shared by the optimizer and LR-scheduler scenario tests
//! (tests/optim.rs, tests/lr_scheduler.rs): the fixtures' MLP 64-32-10 and
//! batches (stored in optim.toml by tools/oracle/scenarios/optim_common.py),
//! the training loss, and comparisons of losses, parameters and state dicts
//! with torch's records.

#![allow(dead_code)]

use frankentorch::nn::functional as F;
use frankentorch::prelude::*;
use frankentorch::state_value::{DictKey, StateValue};

/// Steps per run and the step after which state dicts are saved.
pub const STEPS: usize = 50;
pub const RESUME_AT: usize = 25;

/// Relative tolerance of losses (per step) and of parameters (L2 norm of the
/// difference over the L2 norm of torch's tensor).
pub const RTOL: f64 = 1e-5;

/// A scenario fixture, parsed.
pub fn fixture(name: &str) -> toml::Table {
    let path = format!("{}/tests/fixtures/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; regenerate with tools/oracle/scenarios/{name}.py"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A TOML array of numbers.
pub fn floats(v: &toml::Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| {
            x.as_float()
                .or_else(|| x.as_integer().map(|i| i as f64))
                .expect("a number")
        })
        .collect()
}

/// The MLP's initial weights and the 8 batches.
pub struct Data {
    pub params: Vec<Vec<f32>>,
    pub xs: Vec<Tensor>,
    pub ys: Vec<Tensor>,
}

pub const SHAPES: [&[usize]; 4] = [&[32, 64], &[32], &[10, 32], &[10]];
pub const NAMES: [&str; 4] = ["w1", "b1", "w2", "b2"];

impl Data {
    pub fn load() -> Data {
        let fx = fixture("optim");
        let d = fx["data"].as_table().expect("[data]");
        let params = NAMES
            .iter()
            .map(|n| floats(&d[*n]).into_iter().map(|v| v as f32).collect())
            .collect();
        let x: Vec<f32> = floats(&d["x"]).into_iter().map(|v| v as f32).collect();
        let y: Vec<i64> = d["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        let xs = (0..8)
            .map(|b| Tensor::from_vec(x[b * 16 * 64..(b + 1) * 16 * 64].to_vec(), &[16, 64]).unwrap())
            .collect();
        let ys = (0..8)
            .map(|b| Tensor::from_vec(y[b * 16..(b + 1) * 16].to_vec(), &[16]).unwrap())
            .collect();
        Data { params, xs, ys }
    }

    /// Fresh leaf parameters holding `values` (the initial weights by default).
    pub fn fresh(&self, values: Option<&[Vec<f32>]>) -> Vec<Tensor> {
        let values = values.unwrap_or(&self.params);
        values
            .iter()
            .zip(SHAPES)
            .map(|(v, s)| {
                let t = Tensor::from_vec(v.clone(), s).unwrap();
                t.requires_grad_(true).unwrap();
                t
            })
            .collect()
    }

    /// The training loss at `step`: cross_entropy(linear(tanh(linear(x, w1, b1)), w2, b2), y).
    pub fn loss(&self, p: &[Tensor], step: usize) -> Tensor {
        let (x, y) = (&self.xs[step % 8], &self.ys[step % 8]);
        let h = F::linear(x, &p[0], F::LinearOpts { bias: Some(&p[1]) })
            .unwrap()
            .tanh()
            .unwrap();
        let logits = F::linear(&h, &p[2], F::LinearOpts { bias: Some(&p[3]) }).unwrap();
        F::cross_entropy(&logits, y, Default::default()).unwrap()
    }
}

/// The current values of parameters.
pub fn snapshot(p: &[Tensor]) -> Vec<Vec<f32>> {
    p.iter().map(|t| t.to_vec::<f32>().unwrap()).collect()
}

/// Compares one loss with torch's.
pub fn check_loss(what: &str, ours: f64, torch: f64) {
    assert!(
        (ours - torch).abs() <= RTOL * torch.abs(),
        "{what}: loss {ours}, torch {torch} (rtol {RTOL})"
    );
}

/// Compares final parameters with the run's `final_<name>` records:
/// ||ours - torch||_2 <= RTOL * ||torch||_2 per tensor.
pub fn check_params(what: &str, p: &[Tensor], run: &toml::Table) {
    for (t, n) in p.iter().zip(NAMES) {
        let want = floats(&run[&format!("final_{n}")]);
        let got = t.to_f64_vec();
        assert_eq!(got.len(), want.len(), "{what}: {n} size");
        let diff: f64 = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = want.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!(
            diff <= RTOL * norm,
            "{what}: final {n} differs from torch by {diff} (norm {norm}, rtol {RTOL})"
        );
    }
}

fn tag(rec: &toml::Value) -> &str {
    rec.get("t").and_then(|t| t.as_str()).expect("tagged value")
}

fn key_matches(ours: &DictKey, rec: &toml::Value) -> bool {
    match (ours, tag(rec)) {
        (DictKey::Int(i), "int") => rec["v"].as_integer() == Some(*i),
        (DictKey::Str(s), "str") => rec["v"].as_str() == Some(s.as_str()),
        _ => false,
    }
}

fn close(a: f64, b: f64, rtol: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= rtol * b.abs().max(1e-30) + 1e-12
}

/// Compares a state-dict value with torch's encoded one (optim_common.enc):
/// same Python types, keys in the same order, numbers within `rtol`,
/// tensors by dtype, shape, sum and first values.
pub fn check_state(what: &str, ours: &StateValue, rec: &toml::Value, rtol: f64) {
    match (ours, tag(rec)) {
        (StateValue::None, "none") => {}
        (StateValue::Bool(b), "bool") => assert_eq!(Some(*b), rec["v"].as_bool(), "{what}"),
        (StateValue::Int(i), "int") => assert_eq!(Some(*i), rec["v"].as_integer(), "{what}"),
        (StateValue::Float(f), "float") => {
            let want = rec["v"].as_float().expect("float");
            assert!(close(*f, want, rtol), "{what}: {f} vs torch {want}");
        }
        (StateValue::Str(s), "str") => assert_eq!(Some(s.as_str()), rec["v"].as_str(), "{what}"),
        (StateValue::List(v), "list") | (StateValue::Tuple(v), "tuple") => {
            let want = rec["v"].as_array().unwrap();
            assert_eq!(v.len(), want.len(), "{what}: length");
            for (i, (a, b)) in v.iter().zip(want).enumerate() {
                check_state(&format!("{what}[{i}]"), a, b, rtol);
            }
        }
        (StateValue::Dict(d), "dict") => {
            let keys = rec["k"].as_array().unwrap();
            let values = rec["v"].as_array().unwrap();
            let ours_keys: Vec<String> = d.keys().map(|k| k.to_string()).collect();
            assert_eq!(d.len(), keys.len(), "{what}: keys {ours_keys:?} vs torch {keys:?}");
            for (((k, v), rk), rv) in d.iter().zip(keys).zip(values) {
                assert!(
                    key_matches(k, rk),
                    "{what}: key {k} where torch has {rk} (ours {ours_keys:?})"
                );
                check_state(&format!("{what}[{k}]"), v, rv, rtol);
            }
        }
        (StateValue::Tensor(t), "tensor") => {
            assert_eq!(t.dtype().name(), rec["dtype"].as_str().unwrap(), "{what}: dtype");
            let shape: Vec<usize> = floats(&rec["shape"]).into_iter().map(|s| s as usize).collect();
            assert_eq!(t.sizes(), shape.as_slice(), "{what}: shape");
            let v = t.to_f64_vec();
            let sum: f64 = v.iter().sum();
            let abs: f64 = v.iter().map(|x| x.abs()).sum();
            let want_sum = rec["sum"].as_float().unwrap();
            assert!(
                (sum - want_sum).abs() <= 1e-4 * abs.max(1e-12),
                "{what}: sum {sum} vs torch {want_sum}"
            );
            // Elements are compared relative to the larger of their own size and
            // the tensor's mean magnitude: a tiny element (a gradient sum that
            // nearly cancels) carries the absolute error of its larger terms,
            // which any change of float32 summation order or of fused
            // multiply-adds (as between BLAS libraries) moves by ~1e-4 of itself.
            let mean_abs = abs / v.len().max(1) as f64;
            for (i, h) in floats(&rec["head"]).iter().enumerate() {
                assert!(
                    close(v[i], *h, 1e-4) || (v[i] - h).abs() <= 1e-4 * mean_abs,
                    "{what}: element {i} {} vs torch {h}",
                    v[i]
                );
            }
        }
        (o, t) => panic!("{what}: ours is a {} where torch has a {t}", o.type_name()),
    }
}

/// A fixture option value as a state value (a TOML array becomes a tuple, as betas).
pub fn option_value(v: &toml::Value) -> StateValue {
    match v {
        toml::Value::Float(f) => StateValue::Float(*f),
        toml::Value::Integer(i) => StateValue::Int(*i),
        toml::Value::Boolean(b) => StateValue::Bool(*b),
        toml::Value::String(s) => StateValue::Str(s.clone()),
        toml::Value::Array(a) => StateValue::Tuple(a.iter().map(option_value).collect()),
        other => panic!("unexpected option {other}"),
    }
}
