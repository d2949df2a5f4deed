//! Test utilities used by the generated tests: deterministic sample tensors,
//! the typed-vs-boxed comparison, and PyTorch-style `gradcheck` /
//! `gradgradcheck` (central differences, eps 1e-6, atol 1e-5, rtol 1e-3),
//! and the thread-count determinism check every sample runs.

use crate::autograd::provenance::Digest;
use crate::dispatch::Value;
use crate::parallel;
use crate::{grad, tls, DType, Error, Result, Storage, Tensor};

/// An operator call on sample tensors through the typed API (dynamically
/// dispatched, so each generated test does not instantiate the checks anew).
pub type TypedCall = dyn Fn(&[Tensor]) -> Result<Vec<Tensor>> + Sync;
/// The same call through the by-name boxed API.
pub type BoxedCall = dyn Fn(&[Tensor]) -> Result<Vec<Value>>;

/// An operator call returning non-tensor values (`sym_size.int` gives an
/// int, `_local_scalar_dense` a Scalar), boxed as [`Value`]s.
pub type ValueCall = dyn Fn(&[Tensor]) -> Result<Vec<Value>>;

/// Which extra checks a sample gets.
#[derive(Debug, Clone, Copy)]
pub struct SampleChecks {
    /// Compare analytical and numerical Jacobians.
    pub gradcheck: bool,
    /// Also check the Jacobian of the backward pass.
    pub gradgradcheck: bool,
    /// Positions of floating inputs the op does not differentiate (its
    /// `non_differentiable` and written `Tensor(a!)` arguments): they are
    /// never leaves, and the gradient checks hold them at their sample value.
    pub frozen: &'static [usize],
}

/// Serialises every test that draws from the process-global default
/// generator (tests run as parallel threads of one process).
static DEFAULT_GENERATOR_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the default-generator test lock and seeds the default generator
/// with `seed`; the generator stays reserved until the guard is dropped.
/// Every test drawing from the default generator must hold it. Not
/// reentrant: do not call it again while holding the guard.
///
/// ```
/// let _rng = frankentorch::testing::seeded(3);
/// assert_eq!(frankentorch::default_generator().initial_seed(), 3);
/// ```
pub fn seeded(seed: u64) -> std::sync::MutexGuard<'static, ()> {
    let guard = DEFAULT_GENERATOR_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    crate::manual_seed(seed);
    guard
}

/// Runs `f` with the default generator seeded with `seed` and reserved for
/// this thread (see [`seeded`]).
///
/// ```
/// use frankentorch::ops;
/// let a = frankentorch::testing::with_seed(0, || ops::rand(&[3])).unwrap();
/// let b = frankentorch::testing::with_seed(0, || ops::rand(&[3])).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
/// ```
pub fn with_seed<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    let _guard = seeded(seed);
    f()
}

/// The deterministic value of element `i` of sample tensor number `seed`,
/// in [-2, 2) (or [0.5, 2.5) for the `positive` domain).
///
/// ```
/// assert_eq!(frankentorch::testing::sample_value(0, 0, false), frankentorch::testing::sample_value(0, 0, false));
/// assert!(frankentorch::testing::sample_value(5, 1, true) >= 0.5);
/// ```
pub fn sample_value(i: usize, seed: usize, positive: bool) -> f64 {
    let k = (i
        .wrapping_mul(7919)
        .wrapping_add(seed.wrapping_mul(104_729))
        .wrapping_add(1))
        % 1000;
    let frac = k as f64 / 1000.0 + 0.0005;
    if positive {
        0.5 + 2.0 * frac
    } else {
        -2.0 + 4.0 * frac
    }
}

fn dtype_of(name: &str) -> Option<DType> {
    Some(match name {
        "bool" => DType::Bool,
        "u8" => DType::U8,
        "i8" => DType::I8,
        "i16" => DType::I16,
        "i32" => DType::I32,
        "i64" => DType::I64,
        "f16" => DType::F16,
        "bf16" => DType::BF16,
        "f32" => DType::F32,
        "f64" => DType::F64,
        _ => return None,
    })
}

/// The value domain of a sample tensor.
#[derive(Clone, Copy, PartialEq)]
enum Domain {
    Default,
    Positive,
    Range(i64, i64),
}

fn values_tensor(n: usize, dtype: DType, seed: usize, domain: Domain) -> Tensor {
    let vals: Vec<f64> = (0..n)
        .map(|i| match (domain, dtype) {
            (Domain::Range(lo, hi), _) => (lo + ((i * 3 + seed) as i64).rem_euclid(hi - lo)) as f64,
            (_, DType::Bool) => ((i + seed) % 2) as f64,
            (d, DType::U8) => ((i * 3 + seed) % 5) as f64 + if d == Domain::Positive { 1.0 } else { 0.0 },
            (d, t) if t.is_integral(false) => {
                let x = ((i * 3 + seed) % 7) as f64 - 3.0;
                if d == Domain::Positive {
                    x.abs() + 1.0
                } else {
                    x
                }
            }
            (d, _) => sample_value(i, seed, d == Domain::Positive),
        })
        .collect();
    let t = Tensor::from_vec(vals, &[n]).expect("sizes match");
    crate::autograd_helpers::to_dtype(&t, dtype).expect("casts between V1 dtypes succeed")
}

/// Builds the sample tensor described by `spec`, exactly as
/// `tools/oracle/FORMAT.md` §2–3 specifies: `dtype[sizes]` followed by at
/// most one layout flag (`t`: the last two dims stored swapped; `step`: every
/// other element of a doubled last dim; `offset`: starts 3 elements into its
/// storage; `expand`: dim 0 broadcast from size 1) and at most one domain
/// flag (`positive`, `range(LO,HI)`). `seed` is the tensor's position among
/// the sample's tensor arguments.
///
/// ```
/// let t = frankentorch::testing::sample_tensor("f64[3,4]:t", 0);
/// assert_eq!(t.sizes(), &[3, 4]);
/// assert!(!t.is_contiguous());
/// let e = frankentorch::testing::sample_tensor("i64[3,2]:expand:range(0,4)", 1);
/// assert_eq!(e.strides(), &[0, 1]);
/// ```
///
/// # Panics
/// On a malformed spec (codegen validates every spec in the schema).
pub fn sample_tensor(spec: &str, seed: usize) -> Tensor {
    let mut parts = spec.split(':');
    let head = parts.next().unwrap_or_default();
    let open = head.find('[').expect("spec has a shape");
    let dtype = dtype_of(&head[..open]).expect("known dtype");
    let sizes: Vec<usize> = head[open + 1..head.len() - 1]
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().expect("size"))
        .collect();
    let mut layout = "";
    let mut domain = Domain::Default;
    for flag in parts {
        if flag == "positive" {
            domain = Domain::Positive;
        } else if let Some(inner) = flag.strip_prefix("range(").and_then(|f| f.strip_suffix(')')) {
            let (lo, hi) = inner.split_once(',').expect("range(LO,HI)");
            domain = Domain::Range(lo.trim().parse().expect("LO"), hi.trim().parse().expect("HI"));
        } else {
            layout = flag;
        }
    }
    let n: usize = sizes.iter().product();
    let nd = sizes.len();
    let contiguous = |s: &[usize]| ft_runtime::shape::contiguous_strides(s).to_vec();
    let (alloc, strides, offset): (usize, Vec<usize>, usize) = match layout {
        "t" if nd >= 2 => {
            let mut stored = sizes.clone();
            stored.swap(nd - 1, nd - 2);
            let mut st = contiguous(&stored);
            st.swap(nd - 1, nd - 2);
            (n, st, 0)
        }
        "step" if nd >= 1 => {
            let mut wide = sizes.clone();
            wide[nd - 1] *= 2;
            let mut st = contiguous(&wide);
            st[nd - 1] = 2;
            (wide.iter().product(), st, 0)
        }
        "expand" if nd >= 1 => {
            let mut stored = sizes.clone();
            stored[0] = 1;
            let mut st = contiguous(&stored);
            st[0] = 0;
            (stored.iter().product(), st, 0)
        }
        "offset" => (n + 3, contiguous(&sizes), 3),
        _ => (n, contiguous(&sizes), 0),
    };
    let data = values_tensor(alloc, dtype, seed, domain);
    let bytes = data.storage().to_bytes();
    Tensor::from_storage(Storage::from_bytes(&bytes), &sizes, &strides, offset, dtype).expect("sample layout fits")
}

/// The `out=` tensor of a generated out-variant sample: zeros with the
/// shape and dtype of the functional op's result.
pub fn out_like(result: &Tensor) -> Tensor {
    Tensor::zeros_contiguous(result.sizes(), result.dtype())
}

/// The `out` tensor for an output an `output_mask` left undefined: an empty
/// f32 tensor (PyTorch refuses to write an undefined result into it).
pub fn out_like_opt(result: Option<&Tensor>) -> Tensor {
    result.map_or_else(|| Tensor::zeros_contiguous(&[0], DType::F32), out_like)
}

/// The tensors an `out=` call returns: one, or a tuple of them.
pub trait OutTensors {
    /// The returned tensors in order.
    fn tensors(&self) -> Vec<&Tensor>;
}

impl OutTensors for Tensor {
    fn tensors(&self) -> Vec<&Tensor> {
        vec![self]
    }
}

impl OutTensors for (Tensor, Tensor) {
    fn tensors(&self) -> Vec<&Tensor> {
        vec![&self.0, &self.1]
    }
}

impl OutTensors for (Tensor, Tensor, Tensor) {
    fn tensors(&self) -> Vec<&Tensor> {
        vec![&self.0, &self.1, &self.2]
    }
}

impl OutTensors for (Tensor, Tensor, Tensor, Tensor) {
    fn tensors(&self) -> Vec<&Tensor> {
        vec![&self.0, &self.1, &self.2, &self.3]
    }
}

/// Passes an `out=` call's result through, checking that it returns its
/// `out` tensors themselves, in order.
///
/// # Panics
/// When the op returned other tensors than `outs`.
pub fn returns_out<R: OutTensors>(result: Result<R>, outs: &[Tensor]) -> Result<R> {
    let r = result?;
    let returned = r.tensors();
    assert!(
        returned.len() == outs.len() && returned.iter().zip(outs).all(|(a, b)| a.is_same(b)),
        "an out= variant must return its out tensors"
    );
    Ok(r)
}

/// The upstream gradient FORMAT.md §3 gives output `k` of shape `sizes` and dtype `dtype`.
pub fn upstream_gradient(k: usize, sizes: &[usize], dtype: DType) -> Tensor {
    let n: usize = sizes.iter().product();
    let flat = values_tensor(n, DType::F64, 100 + k, Domain::Default);
    let shaped = Tensor::from_vec(flat.to_f64_vec(), sizes).expect("sizes match");
    crate::autograd_helpers::to_dtype(&shaped, dtype).expect("casts between V1 dtypes succeed")
}

fn same_values(a: &Tensor, b: &Tensor) -> bool {
    let (x, y) = (a.to_f64_vec(), b.to_f64_vec());
    x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p == q || (p.is_nan() && q.is_nan()))
}

/// Runs one generated sample: `typed` and `boxed` (the by-name call) must
/// agree on success/failure, dtype, shape and values; then the requested
/// gradient checks run on the typed form.
///
/// # Panics
/// When a check fails, with the op name and the first difference.
pub fn check_sample(op: &str, specs: &[&str], typed: &TypedCall, boxed: &BoxedCall, checks: SampleChecks) {
    let make = || sample_inputs(specs);
    let (t1, t2) = (make(), make());
    match (typed(&t1), boxed(&t2)) {
        (Ok(a), Ok(b)) => {
            // A `Tensor[]` return is one boxed value holding every tensor.
            let b: Vec<Tensor> = b
                .into_iter()
                .enumerate()
                .flat_map(|(i, v)| match v {
                    Value::Tensor(t) => vec![t],
                    Value::TensorList(ts) => ts,
                    other => panic!("{op}: boxed output {i} is not a tensor: {other:?}"),
                })
                .collect();
            assert_eq!(a.len(), b.len(), "{op}: typed and boxed calls return different counts");
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(
                    x.dtype(),
                    y.dtype(),
                    "{op}: output {i} dtype differs between typed and boxed calls"
                );
                assert_eq!(
                    x.sizes(),
                    y.sizes(),
                    "{op}: output {i} shape differs between typed and boxed calls"
                );
                assert!(
                    same_values(x, y),
                    "{op}: output {i} values differ between typed and boxed calls"
                );
            }
        }
        (Err(a), Err(b)) => assert_eq!(
            a.kind(),
            b.kind(),
            "{op}: typed and boxed calls fail differently: {a} / {b}"
        ),
        (a, b) => panic!(
            "{op}: typed and boxed calls disagree: {:?} vs {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
    if checks.gradcheck {
        let inputs = make();
        // Frozen inputs are rebuilt from their spec on every call, so neither
        // perturbation nor an in-place write by the op carries over.
        let f = |t: &[Tensor]| -> Result<Vec<Tensor>> {
            let mut args = t.to_vec();
            for &i in checks.frozen {
                args[i] = sample_tensor(specs[i], i);
            }
            typed(&args)
        };
        if let Err(e) = gradcheck(f, &inputs) {
            panic!("{op}: gradcheck failed: {e}");
        }
        if checks.gradgradcheck {
            if let Err(e) = gradgradcheck(f, &inputs) {
                panic!("{op}: gradgradcheck failed: {e}");
            }
        }
    }
    check_thread_determinism(op, specs, typed, checks.frozen);
}

/// Sample tensor `i` for every spec (each call builds fresh tensors).
fn sample_inputs(specs: &[&str]) -> Vec<Tensor> {
    specs.iter().enumerate().map(|(i, s)| sample_tensor(s, i)).collect()
}

/// The thread counts [`check_thread_determinism`] compares.
pub const DETERMINISM_THREADS: [usize; 3] = [1, 2, 4];

/// What one forward and backward pass of a sample produced: digests of the
/// outputs, then of the gradients of every floating (non-frozen) input.
type PassDigests = Result<Vec<Option<Digest>>>;

fn forward_backward_digests(specs: &[&str], typed: &TypedCall, frozen: &[usize]) -> PassDigests {
    let inputs = sample_inputs(specs);
    let mut wrt = Vec::new();
    for (i, t) in inputs.iter().enumerate() {
        if t.dtype().is_floating_point() && !frozen.contains(&i) {
            t.requires_grad_(true)?;
            wrt.push(t.clone());
        }
    }
    let outputs = typed(&inputs)?;
    let mut digests: Vec<Option<Digest>> = outputs.iter().map(|o| Some(Digest::of(o))).collect();
    let (roots, upstream): (Vec<Tensor>, Vec<Option<Tensor>>) = outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| o.requires_grad())
        .map(|(k, o)| (o.clone(), Some(upstream_gradient(k, o.sizes(), o.dtype()))))
        .unzip();
    if !roots.is_empty() && !wrt.is_empty() {
        let grads = crate::grad(&roots, &wrt, &upstream, None, false, true)?;
        digests.extend(grads.iter().map(|g| g.as_ref().map(Digest::of)));
    }
    Ok(digests)
}

/// The Deterministic Autograd Contract for one sample: the forward outputs
/// and the gradients of every floating input are bit-identical when the
/// sample runs in thread pools of 1, 2 and 4 threads (a failing sample must
/// fail the same way on every pool).
///
/// # Panics
/// Naming the op, the thread count and the first output or gradient that differs.
///
/// ```
/// use frankentorch::prelude::*;
/// frankentorch::testing::check_thread_determinism("aten::mm", &["f32[3,4]", "f32[4,2]"], &|t: &[Tensor]| Ok(vec![t[0].mm(&t[1])?]), &[]);
/// ```
pub fn check_thread_determinism(op: &str, specs: &[&str], typed: &TypedCall, frozen: &[usize]) {
    let run = |threads| parallel::with_threads(threads, || forward_backward_digests(specs, typed, frozen));
    let base = run(DETERMINISM_THREADS[0]);
    for &threads in &DETERMINISM_THREADS[1..] {
        match (&base, run(threads)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    a.len(),
                    b.len(),
                    "{op}: {threads} threads give another number of results"
                );
                if let Some(k) = a.iter().zip(&b).position(|(x, y)| x != y) {
                    panic!(
                        "{op}: result {k} (outputs, then input gradients) differs between 1 and {threads} threads: {:?} vs {:?}",
                        a[k], b[k]
                    );
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{op}: fails differently on {threads} threads"),
            (a, b) => panic!(
                "{op}: succeeds on one pool and fails on the other (1 thread: {:?}, {threads} threads: {:?})",
                a.as_ref().map(|_| ()),
                b.map(|_| ())
            ),
        }
    }
}

/// A non-tensor result as (kind, value): `("int", 3.0)`, `("float", 2.5)`,
/// `("bool", 1.0)`; a `Scalar` counts as the kind it holds, as a Python
/// number does. `None` for tensors and other values.
///
/// ```
/// use frankentorch::{dispatch::Value, Scalar};
/// use frankentorch::testing::plain_value;
/// assert_eq!(plain_value(&Value::Scalar(Scalar::Int(3))), plain_value(&Value::Int(3)));
/// assert_eq!(plain_value(&Value::Bool(true)), Some(("bool", 1.0)));
/// ```
pub fn plain_value(v: &Value) -> Option<(&'static str, f64)> {
    use crate::Scalar;
    Some(match v {
        Value::Int(i) | Value::Scalar(Scalar::Int(i)) => ("int", *i as f64),
        Value::Float(f) | Value::Scalar(Scalar::Float(f)) => ("float", *f),
        Value::Bool(b) | Value::Scalar(Scalar::Bool(b)) => ("bool", f64::from(u8::from(*b))),
        _ => return None,
    })
}

/// True when two boxed results agree: tensors in dtype, shape and values,
/// plain values in kind and value (NaN equals NaN), `None` with `None`.
fn same_result(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::None, Value::None) => true,
        (Value::Tensor(a), Value::Tensor(b)) => a.dtype() == b.dtype() && a.sizes() == b.sizes() && same_values(a, b),
        _ => match (plain_value(x), plain_value(y)) {
            (Some(p), Some(q)) => p.0 == q.0 && (p.1 == q.1 || (p.1.is_nan() && q.1.is_nan())),
            _ => false,
        },
    }
}

/// Runs one generated sample of an op returning non-tensor values (or
/// optional tensors, `Value::None` when undefined): `typed` and `boxed` must
/// agree on success/failure and on every result (see `same_result`).
///
/// # Panics
/// When a check fails, with the op name and the first difference.
pub fn check_value_sample(op: &str, specs: &[&str], typed: &ValueCall, boxed: &BoxedCall) {
    let make = || sample_inputs(specs);
    match (typed(&make()), boxed(&make())) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len(), "{op}: typed and boxed calls return different counts");
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!(
                    same_result(x, y),
                    "{op}: output {i} differs between typed and boxed calls: {x:?} vs {y:?}"
                );
            }
        }
        (Err(a), Err(b)) => assert_eq!(
            a.kind(),
            b.kind(),
            "{op}: typed and boxed calls fail differently: {a} / {b}"
        ),
        (a, b) => panic!(
            "{op}: typed and boxed calls disagree: {:?} vs {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
}

const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

fn leaves(inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    inputs
        .iter()
        .map(|t| {
            let l = t.detach();
            if l.dtype().is_floating_point() {
                l.requires_grad_(true)?;
            }
            Ok(l)
        })
        .collect()
}

fn replace_value(t: &Tensor, k: usize, v: f64) -> Result<Tensor> {
    let mut vals = t.to_f64_vec();
    vals[k] = v;
    let c = Tensor::from_vec(vals, t.sizes())?;
    crate::autograd_helpers::to_dtype(&c, t.dtype())
}

/// PyTorch's `gradcheck` in float64 for `f` at `inputs` (every floating
/// input is differentiated; outputs that do not require grad are skipped).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = frankentorch::testing::sample_tensor("f64[3]", 0);
/// frankentorch::testing::gradcheck(|t: &[Tensor]| Ok(vec![t[0].exp()?]), &[x]).unwrap();
/// ```
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>>, inputs: &[Tensor]) -> Result<()> {
    let xs = leaves(inputs)?;
    let outs = f(&xs)?;
    let diff: Vec<usize> = (0..xs.len()).filter(|&i| xs[i].requires_grad()).collect();
    for (o, out) in outs.iter().enumerate() {
        // Finite differences are only meaningful at float64 precision.
        if !out.requires_grad() || out.dtype() != DType::F64 {
            continue;
        }
        let n_out = out.numel();
        // analytical[i][e * n_out + k] = d out[k] / d xs[i][e]
        let mut analytical: Vec<Vec<f64>> = xs.iter().map(|x| vec![0.0f64; x.numel() * n_out]).collect();
        for k in 0..n_out {
            let mut onehot = vec![0.0f64; n_out];
            onehot[k] = 1.0;
            let go = crate::autograd_helpers::to_dtype(&Tensor::from_vec(onehot, out.sizes())?, out.dtype())?;
            let dins: Vec<Tensor> = diff.iter().map(|&i| xs[i].clone()).collect();
            let g = grad(std::slice::from_ref(out), &dins, &[Some(go)], Some(true), false, true)?;
            for (j, &i) in diff.iter().enumerate() {
                if let Some(g) = &g[j] {
                    for (e, v) in g.to_f64_vec().into_iter().enumerate() {
                        analytical[i][e * n_out + k] = v;
                    }
                }
            }
        }
        for &i in &diff {
            let base_values = xs[i].to_f64_vec();
            for (e, &base) in base_values.iter().enumerate() {
                let eval = |v: f64| -> Result<Vec<f64>> {
                    let _ng = tls::no_grad();
                    let mut args: Vec<Tensor> = xs.iter().map(|x| x.detach()).collect();
                    args[i] = replace_value(&xs[i], e, v)?;
                    Ok(f(&args)?[o].to_f64_vec())
                };
                let (plus, minus) = (eval(base + EPS)?, eval(base - EPS)?);
                for k in 0..n_out {
                    let numerical = (plus[k] - minus[k]) / (2.0 * EPS);
                    let a = analytical[i][e * n_out + k];
                    if (a - numerical).abs() > ATOL + RTOL * numerical.abs() || a.is_nan() != numerical.is_nan() {
                        return Err(Error::autograd(
                            "gradcheck",
                            format!(
                                "Jacobian mismatch for output {o} with respect to input {i}: element ({e}, {k}) numerical {numerical} vs analytical {a}"
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// PyTorch's `gradgradcheck`: gradcheck of the backward pass (with
/// `create_graph`) with respect to the inputs and a fixed grad_output.
pub fn gradgradcheck(f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>>, inputs: &[Tensor]) -> Result<()> {
    let probe = f(&leaves(inputs)?)?;
    let grad_outs: Vec<Tensor> = probe
        .iter()
        .enumerate()
        .filter(|(_, o)| o.requires_grad() && o.dtype() == DType::F64)
        .map(|(i, o)| {
            let v = values_tensor(o.numel(), DType::F64, 100 + i, Domain::Default);
            crate::ops::view(&v, &crate::autograd_helpers::sizes_of(o))
        })
        .collect::<Result<_>>()?;
    let n_in = inputs.len();
    let backward_fn = |all: &[Tensor]| -> Result<Vec<Tensor>> {
        let (xs, gos) = all.split_at(n_in);
        // The numerical pass calls this under no_grad with plain tensors: the
        // inner backward still needs a recorded graph, so make leaves of them.
        let _grad_on = tls::enable_grad();
        let xs: Vec<Tensor> = xs
            .iter()
            .map(|x| {
                if x.requires_grad() || !x.dtype().is_floating_point() {
                    Ok(x.clone())
                } else {
                    leaves(std::slice::from_ref(x)).map(|mut v| v.remove(0))
                }
            })
            .collect::<Result<_>>()?;
        let xs = xs.as_slice();
        let outs = f(xs)?;
        let outs: Vec<Tensor> = outs
            .into_iter()
            .filter(|o| o.requires_grad() && o.dtype() == DType::F64)
            .collect();
        let diff: Vec<Tensor> = xs.iter().filter(|x| x.requires_grad()).cloned().collect();
        let gos: Vec<Option<Tensor>> = gos.iter().cloned().map(Some).collect();
        let gs = grad(&outs, &diff, &gos, Some(true), true, true)?;
        Ok(gs.into_iter().flatten().collect())
    };
    let mut all: Vec<Tensor> = inputs.to_vec();
    all.extend(grad_outs);
    gradcheck(backward_fn, &all)
}
