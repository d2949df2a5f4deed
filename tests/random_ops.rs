//! Sampling operators against PyTorch: for seeds 0, 1, 42, 2024 the default
//! generator (`manual_seed(seed)`) and an explicit one
//! (`Generator::new(seed + 1000)`) serve one long, alternating sequence of
//! calls (normal_, uniform_, exponential_, bernoulli_ and bernoulli, random_
//! with and without bounds, randint across its 2^28 switch, multinomial with
//! and without replacement, randn_like / rand_like of non-contiguous tensors,
//! normal with tensor means; sizes 1 to 100000, every dtype each op takes);
//! every value must equal torch's bit for bit. Generator states saved and
//! restored mid-stream replay torch's values too.
//!
//! Fixture: tests/fixtures/scenarios/random_ops.toml, written by
//! tools/oracle/scenarios/random_ops.py (whose `run` table this file mirrors).

use frankentorch::testing::seeded;
use frankentorch::{ops, DType, Generator, Result, Tensor};

#[path = "support/streams.rs"]
mod streams;
use streams::{check_call, floats, str_of};

fn fixture() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenarios/random_ops.toml");
    let text = std::fs::read_to_string(path).expect("random_ops.toml exists");
    text.parse().expect("random_ops.toml parses")
}

fn empty(n: i64, dtype: DType) -> Tensor {
    ops::empty_full(&[n], Some(dtype), None, None, None, None).unwrap()
}

/// `(k * 37 % 101 + 0.5) / 102`, the script's probabilities.
fn probs(n: i64, dtype: DType) -> Tensor {
    let v: Vec<f64> = (0..n)
        .map(|k| ((k * 37) % 101) as f64 + 0.5)
        .map(|x| x / 102.0)
        .collect();
    frankentorch::autograd_helpers::to_dtype(&Tensor::from_vec(v, &[n as usize]).unwrap(), dtype).unwrap()
}

/// `1 + (k * 37 % 101)`, the script's multinomial weights.
fn weights(n: i64, dtype: DType) -> Tensor {
    let v: Vec<f64> = (0..n).map(|k| 1.0 + ((k * 37) % 101) as f64).collect();
    frankentorch::autograd_helpers::to_dtype(&Tensor::from_vec(v, &[n as usize]).unwrap(), dtype).unwrap()
}

/// The transpose of a contiguous `(2, n)` zero tensor.
fn transposed(n: i64, dtype: DType) -> Tensor {
    let z = ops::zeros_full(&[2, n], Some(dtype), None, None, None).unwrap();
    ops::transpose(&z, 0, 1).unwrap()
}

/// The call the script's `run(op, dtype, n, g)` makes.
fn run(op: &str, dtype: DType, n: i64, g: Option<&Generator>) -> Result<Tensor> {
    match op {
        "normal_" => ops::normal_full_(&empty(n, dtype), 0.5, 2.5, g),
        "uniform_" => ops::uniform_full_(&empty(n, dtype), -2.0, 3.0, g),
        "exponential_" => ops::exponential_full_(&empty(n, dtype), 1.5, g),
        "bernoulli_" => ops::bernoulli_full_(&empty(n, dtype), 0.3, g),
        "bernoulli_tensor" => ops::bernoulli_full(&probs(n, dtype), g),
        "random_" => ops::random_full_(&empty(n, dtype), g),
        "random_to" => {
            let to = if dtype == DType::Bool { 2 } else { 100 };
            ops::random_to_full_(&empty(n, dtype), to, g)
        }
        "random_from_none" => {
            let from = if matches!(dtype, DType::I64 | DType::I32 | DType::F64) {
                -7
            } else {
                1
            };
            ops::random_from_full_(&empty(n, dtype), from, None, g)
        }
        "randint_small" => ops::randint_low_generator_full(-1000, 1000, &[n], g, Some(dtype), None, None, None),
        "randint_wide" => ops::randint_low_generator_full(-(1 << 40), 1 << 40, &[n], g, Some(dtype), None, None, None),
        "multinomial" => ops::multinomial_full(&weights(n, dtype), n.min(5), false, g),
        "multinomial_one" => ops::multinomial_full(&weights(n, dtype), 1, false, g),
        "multinomial_replacement" => ops::multinomial_full(&weights(n, dtype), 2 * n, true, g),
        "randn_like_t" => ops::randn_like_generator(&transposed(n, dtype), g),
        "rand_like_t" => ops::rand_like_generator(&transposed(n, dtype), g),
        "normal_tensor_float" => ops::normal_tensor_float_full(&weights(n, dtype), 0.5, g),
        other => panic!("unknown fixture op {other}"),
    }
}

fn check_stream(seed: u64) {
    let fx = fixture();
    let stream = fx["stream"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_table())
        .find(|s| s["seed"].as_integer() == Some(seed as i64))
        .expect("stream for seed");
    let _rng = seeded(seed);
    let g = Generator::new(seed + 1000);
    let calls = stream["call"].as_array().unwrap();
    assert!(calls.len() > 300, "the stream covers every op, dtype and size");
    for (k, call) in calls.iter().enumerate() {
        let call = call.as_table().unwrap();
        let (op, n) = (str_of(call, "op"), call["n"].as_integer().unwrap());
        let dtype = DType::from_name(str_of(call, "dtype")).unwrap();
        let use_gen = call["gen"].as_bool().unwrap();
        let got = run(op, dtype, n, use_gen.then_some(&g))
            .unwrap_or_else(|e| panic!("seed {seed} call {k} {op}({n}, {dtype:?}) failed: {e}"));
        let what = format!("seed {seed} call {k} {op}({n}, {dtype:?}, generator: {use_gen})");
        check_call(&what, &got, call);
    }
}

#[test]
fn stream_seed_0() {
    check_stream(0);
}

#[test]
fn stream_seed_1() {
    check_stream(1);
}

#[test]
fn stream_seed_42() {
    check_stream(42);
}

#[test]
fn stream_seed_2024() {
    check_stream(2024);
}

#[test]
fn generator_state_replays_mid_stream() {
    let fx = fixture();
    let state = fx["state"].as_table().unwrap();
    let g = Generator::new(77);
    ops::normal_full_(&empty(5, DType::F64), 0.0, 1.0, Some(&g)).unwrap(); // caches a normal
    let saved = g.get_state();
    let a = ops::normal_full_(&empty(40, DType::F32), 0.0, 1.0, Some(&g)).unwrap();
    let b = ops::randint_generator(10, &[20], Some(&g)).unwrap();
    assert_eq!(a.to_f64_vec(), floats(&state["replay_normal"]));
    assert_eq!(b.to_f64_vec(), floats(&state["replay_randint"]));
    g.set_state(&saved).unwrap();
    let a2 = ops::normal_full_(&empty(40, DType::F32), 0.0, 1.0, Some(&g)).unwrap();
    let b2 = ops::randint_generator(10, &[20], Some(&g)).unwrap();
    assert_eq!(a2.to_f64_vec(), a.to_f64_vec());
    assert_eq!(b2.to_f64_vec(), b.to_f64_vec());
}

#[test]
fn default_state_handed_to_a_new_generator() {
    let fx = fixture();
    let state = fx["state"].as_table().unwrap();
    let h = Generator::new(0);
    {
        let _rng = seeded(5);
        ops::rand(&[3]).unwrap();
        h.set_state(&frankentorch::default_generator().get_state()).unwrap();
    }
    let c = ops::exponential_full_(&empty(7, DType::F64), 1.0, Some(&h)).unwrap();
    assert_eq!(c.to_f64_vec(), floats(&state["handed_exponential"]));
}

#[test]
fn explicit_generator_leaves_the_default_alone() {
    let _rng = seeded(9);
    let before = frankentorch::default_generator().get_state().to_vec::<u8>().unwrap();
    let g = Generator::new(9);
    ops::rand_generator(&[50], Some(&g)).unwrap();
    ops::multinomial_full(&weights(10, DType::F32), 3, false, Some(&g)).unwrap();
    let after = frankentorch::default_generator().get_state().to_vec::<u8>().unwrap();
    assert_eq!(before, after);
}

#[test]
fn bad_arguments_fail_like_torch() {
    use frankentorch::ErrorKind;
    let kind = |r: Result<Tensor>| r.unwrap_err().kind();
    assert_eq!(kind(ops::randint_low(5, 5, &[3])), ErrorKind::InvalidArgument);
    let w = Tensor::from_vec(vec![1.0f64, -1.0], &[2]).unwrap();
    assert_eq!(kind(ops::multinomial(&w, 1, false)), ErrorKind::InvalidArgument);
    let w = Tensor::from_vec(vec![1.0f64, f64::INFINITY], &[2]).unwrap();
    assert_eq!(kind(ops::multinomial(&w, 1, true)), ErrorKind::InvalidArgument);
    let w = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
    assert_eq!(kind(ops::multinomial(&w, 1, true)), ErrorKind::InvalidArgument);
    let w = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
    assert_eq!(kind(ops::multinomial(&w, 3, false)), ErrorKind::InvalidArgument);
    let x = empty(3, DType::F32);
    assert_eq!(kind(ops::bernoulli_(&x, 1.5)), ErrorKind::InvalidArgument);
    assert_eq!(kind(ops::normal_(&x, 0.0, -1.0)), ErrorKind::InvalidArgument);
    let e = ops::normal_tensor_float(&x, -1.0).unwrap_err();
    assert!(e.to_string().contains("normal expects std >= 0.0"), "{e}");
}
