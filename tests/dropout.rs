//! The dropout functions of `nn::functional` against PyTorch: every case of
//! tests/fixtures/scenarios/dropout.toml (written by
//! tools/oracle/scenarios/dropout.py from `torch.nn.functional`) is replayed
//! through `F::` with the same seed; outputs must be bit-identical (the masks
//! are drawn exactly as torch draws them) and so must the gradients of
//! `(out * w).sum()` for float64 inputs. Error cases must fail with the
//! recorded kind.

use frankentorch::nn::functional as F;
use frankentorch::testing::seeded;
use frankentorch::{backward, ops, DType, ErrorKind, Result, Tensor};

fn fixture() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenarios/dropout.toml");
    let text = std::fs::read_to_string(path).expect("dropout.toml exists");
    text.parse().expect("dropout.toml parses")
}

fn ints(v: &toml::Value) -> Vec<usize> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_integer().expect("an int") as usize)
        .collect()
}

fn floats(v: &toml::Value) -> Vec<f64> {
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

/// The script's input: element k is `(k % 7) - 3 + 0.25`, optionally stored
/// transposed in its last two dims.
fn make_input(shape: &[usize], dtype: DType, transposed: bool) -> Tensor {
    let n: usize = shape.iter().product();
    let vals: Vec<f64> = (0..n).map(|k| (k % 7) as f64 - 3.0 + 0.25).collect();
    let t = if transposed {
        let mut stored = shape.to_vec();
        let d = stored.len();
        stored.swap(d - 1, d - 2);
        let base = Tensor::from_vec(vals, &stored).unwrap();
        ops::transpose(&base, -1, -2).unwrap()
    } else {
        Tensor::from_vec(vals, shape).unwrap()
    };
    if dtype == DType::F64 {
        t
    } else {
        frankentorch::autograd_helpers::to_dtype(&t, dtype).unwrap()
    }
}

/// The fixture's weights `1 + k/10`.
fn weights(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|k| 1.0 + k as f64 / 10.0).collect(), shape).unwrap()
}

/// Runs `F::<fn>` with the case's options.
fn call(case: &toml::Table, x: &Tensor) -> Result<Tensor> {
    let f = case["fn"].as_str().unwrap();
    let inplace = case.get("inplace").and_then(|v| v.as_bool()).unwrap_or(false);
    let p = case
        .get("p")
        .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap());
    let training = case.get("training").and_then(|v| v.as_bool());
    if f.contains("alpha") {
        let d = F::AlphaDropoutOpts::default();
        let o = F::AlphaDropoutOpts {
            p: p.unwrap_or(d.p),
            training: training.unwrap_or(d.training),
        };
        return match (f, inplace) {
            ("alpha_dropout", false) => F::alpha_dropout(x, o),
            ("alpha_dropout", true) => F::alpha_dropout_(x, o),
            ("feature_alpha_dropout", false) => F::feature_alpha_dropout(x, o),
            ("feature_alpha_dropout", true) => F::feature_alpha_dropout_(x, o),
            _ => panic!("unknown function {f}"),
        };
    }
    let d = F::DropoutOpts::default();
    let o = F::DropoutOpts {
        p: p.unwrap_or(d.p),
        training: training.unwrap_or(d.training),
    };
    match (f, inplace) {
        ("dropout", false) => F::dropout(x, o),
        ("dropout", true) => F::dropout_(x, o),
        ("dropout1d", false) => F::dropout1d(x, o),
        ("dropout1d", true) => F::dropout1d_(x, o),
        ("dropout2d", false) => F::dropout2d(x, o),
        ("dropout2d", true) => F::dropout2d_(x, o),
        ("dropout3d", false) => F::dropout3d(x, o),
        ("dropout3d", true) => F::dropout3d_(x, o),
        _ => panic!("unknown function {f}"),
    }
}

fn check_values(what: &str, got: &Tensor, rec: &toml::Table) {
    assert_eq!(got.dtype().name(), rec["dtype"].as_str().unwrap(), "{what}: dtype");
    assert_eq!(got.sizes(), ints(&rec["shape"]).as_slice(), "{what}: shape");
    let want = floats(&rec["values"]);
    let have = got.to_f64_vec();
    for (i, (h, w)) in have.iter().zip(&want).enumerate() {
        assert_eq!(h.to_bits(), w.to_bits(), "{what}: element {i} is {h}, torch has {w}");
    }
    assert_eq!(have.len(), want.len(), "{what}: length");
}

fn run_case(case: &toml::Table) {
    let name = case["name"].as_str().unwrap();
    let dtype = DType::from_name(case["dtype"].as_str().unwrap()).unwrap();
    let shape = ints(&case["shape"]);
    let x = make_input(&shape, dtype, case["t"].as_bool().unwrap());
    let grad = dtype == DType::F64;
    if grad {
        x.requires_grad_(true).unwrap();
    }
    let inplace = case.get("inplace").and_then(|v| v.as_bool()).unwrap_or(false);
    let arg = if inplace && grad {
        ops::clone(&x).unwrap()
    } else {
        x.clone()
    };
    let out = {
        let _rng = seeded(case["seed"].as_integer().unwrap() as u64);
        call(case, &arg)
    };
    if let Some(err) = case.get("error").and_then(|e| e.as_table()) {
        let e = out.expect_err(&format!("{name}: torch raised, we did not"));
        let kind = err["kind"].as_str().unwrap();
        assert_eq!(format!("{:?}", e.kind()), kind, "{name}: error kind ({e})");
        let msg = err["message"].as_str().unwrap();
        assert!(e.to_string().contains(msg), "{name}: message {e} lacks torch's {msg:?}");
        return;
    }
    let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
    let res = case["result"].as_table().unwrap();
    check_values(name, &out, res);
    assert_eq!(
        out.is_same(&arg),
        res["is_input"].as_bool().unwrap(),
        "{name}: returns its input?"
    );
    if let Some(g) = case.get("grad").and_then(|g| g.as_table()) {
        let loss = ops::sum(&ops::mul(&out, &weights(&shape)).unwrap()).unwrap();
        backward(&loss).unwrap();
        check_values(&format!("{name} (grad)"), &x.grad().expect("a gradient"), g);
    }
}

#[test]
fn dropout_functions_match_torch() {
    let fx = fixture();
    let cases = fx["case"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    for case in cases {
        run_case(case.as_table().unwrap());
    }
}

#[test]
fn error_kinds_are_invalid_argument() {
    let x = Tensor::from_vec(vec![1.0f64; 3], &[3]).unwrap();
    let e = F::dropout(&x, F::DropoutOpts { p: 1.5, training: true }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}
