//! Engine and custom-function tests. The operator library lives in another
//! crate, so this module installs a small f64 `GradArith` whose recording
//! operations are themselves custom functions (so create_graph works), and
//! builds graphs from custom functions written with plain loops.

use super::{backward, grad};
use crate::autograd::{apply_function, install_arith, Function, FunctionCtx, GradArith, Grads, Node, ReferenceArith};
use crate::dtype::DType;
use crate::error::Result;
use crate::storage::StorageAccess;
use crate::tensor::Tensor;
use crate::tls;
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------- helpers

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

fn tensor(v: &[f64], sizes: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), sizes).unwrap()
}

fn leaf(v: &[f64], sizes: &[usize]) -> Tensor {
    let t = tensor(v, sizes);
    t.requires_grad_(true).unwrap();
    t
}

/// Flat index in `small` of element `flat` of `big`, `small` broadcasting to `big`.
fn broadcast_src(mut flat: usize, big: &[usize], small: &[usize]) -> usize {
    let offset = big.len() - small.len();
    let mut src = 0;
    let mut stride = 1;
    for d in (0..big.len()).rev() {
        let i = flat % big[d];
        flat /= big[d];
        if d >= offset {
            let s = small[d - offset];
            if s != 1 {
                src += i * stride;
            }
            stride *= s;
        }
    }
    src
}

fn expand_vec(data: &[f64], from: &[usize], to: &[usize]) -> Vec<f64> {
    (0..to.iter().product::<usize>())
        .map(|i| data[broadcast_src(i, to, from)])
        .collect()
}

fn sum_to_vec(data: &[f64], from: &[usize], to: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; to.iter().product()];
    for (i, v) in data.iter().enumerate() {
        out[broadcast_src(i, from, to)] += v;
    }
    out
}

fn apply1<F: Function>(f: F, inputs: &[&Tensor]) -> Result<Tensor> {
    let inputs: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    Ok(apply_function(f, &inputs)?.remove(0))
}

fn zip_map(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64) -> Result<Tensor> {
    assert_eq!(a.sizes(), b.sizes(), "test kernels need equal shapes");
    Tensor::from_vec(vals(a).iter().zip(vals(b)).map(|(x, y)| f(*x, y)).collect(), a.sizes())
}

fn g0(g: &[Option<Tensor>]) -> &Tensor {
    g[0].as_ref().expect("materialized grad")
}

// ---------------------------------------------------------------- test functions

struct AddF;
impl Function for AddF {
    fn name(&self) -> String {
        "AddBackward".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![zip_map(&x[0], &x[1], |a, b| a + b)?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(vec![g[0].clone(), g[0].clone()])
    }
}

struct MulF;
impl Function for MulF {
    fn name(&self) -> String {
        "MulBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&x[0], &x[1]]);
        Ok(vec![zip_map(&x[0], &x[1], |a, b| a * b)?])
    }
    fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        let s = ctx.saved_tensors()?;
        Ok(vec![Some(mul(g0(g), &s[1])?), Some(mul(g0(g), &s[0])?)])
    }
}

struct ScaleF(f64);
impl Function for ScaleF {
    fn name(&self) -> String {
        "ScaleBackward".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(
            vals(&x[0]).iter().map(|v| v * self.0).collect(),
            x[0].sizes(),
        )?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(vec![Some(scale(g0(g), self.0)?)])
    }
}

struct SquareF;
impl Function for SquareF {
    fn name(&self) -> String {
        "SquareBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&x[0]]);
        Ok(vec![zip_map(&x[0], &x[0], |a, b| a * b)?])
    }
    fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        let x = ctx.saved_tensors()?.remove(0);
        Ok(vec![Some(mul(&scale(&x, 2.0)?, g0(g))?)])
    }
}

/// exp, saving its output (a saved output must not keep its own node alive).
struct ExpF;
impl Function for ExpF {
    fn name(&self) -> String {
        "ExpBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        let out = Tensor::from_vec(vals(&x[0]).iter().map(|v| v.exp()).collect(), x[0].sizes())?;
        ctx.save_for_backward(&[&out]);
        Ok(vec![out])
    }
    fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        let out = ctx.saved_tensors()?.remove(0);
        Ok(vec![Some(mul(&out, g0(g))?)])
    }
}

/// Sum of all elements; backward expands the gradient back.
struct SumAll(Vec<usize>);
impl Function for SumAll {
    fn name(&self) -> String {
        "SumBackward0".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(vec![vals(&x[0]).iter().sum::<f64>()], &[])?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(vec![Some(apply1(
            ExpandF {
                from: vec![],
                to: self.0.clone(),
            },
            &[g0(g)],
        )?)])
    }
}

/// Broadcast `from` -> `to`; backward sums back.
struct ExpandF {
    from: Vec<usize>,
    to: Vec<usize>,
}
impl Function for ExpandF {
    fn name(&self) -> String {
        "ExpandBackward".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(
            expand_vec(&vals(&x[0]), &self.from, &self.to),
            &self.to,
        )?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(vec![Some(apply1(
            SumToF {
                from: self.to.clone(),
                to: self.from.clone(),
            },
            &[g0(g)],
        )?)])
    }
}

/// Sum a broadcast `from` down to `to`; backward expands back.
struct SumToF {
    from: Vec<usize>,
    to: Vec<usize>,
}
impl Function for SumToF {
    fn name(&self) -> String {
        "SumToBackward".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(
            sum_to_vec(&vals(&x[0]), &self.from, &self.to),
            &self.to,
        )?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(vec![Some(apply1(
            ExpandF {
                from: self.to.clone(),
                to: self.from.clone(),
            },
            &[g0(g)],
        )?)])
    }
}

struct CloneF;
impl Function for CloneF {
    fn name(&self) -> String {
        "CloneBackward".into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(vals(&x[0]), x[0].sizes())?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        Ok(g.to_vec())
    }
}

/// A function with a backward given as a closure (for malformed backwards).
type BackwardClosure = Box<dyn Fn(&[Option<Tensor>]) -> Result<Grads> + Send + Sync>;

struct Custom {
    name: &'static str,
    bwd: BackwardClosure,
}
impl Function for Custom {
    fn name(&self) -> String {
        self.name.into()
    }
    fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![Tensor::from_vec(vals(&x[0]), x[0].sizes())?])
    }
    fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        (self.bwd)(g)
    }
}

fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    apply1(AddF, &[a, b])
}
fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    apply1(MulF, &[a, b])
}
fn scale(a: &Tensor, c: f64) -> Result<Tensor> {
    apply1(ScaleF(c), &[a])
}
fn square(a: &Tensor) -> Tensor {
    apply1(SquareF, &[a]).unwrap()
}
fn sum(a: &Tensor) -> Tensor {
    apply1(SumAll(a.sizes().to_vec()), &[a]).unwrap()
}

// ---------------------------------------------------------------- test arithmetic

struct TestArith;
impl GradArith for TestArith {
    fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        add(a, b)
    }
    fn add_(&self, acc: &Tensor, g: &Tensor) -> Result<()> {
        assert!(acc.is_contiguous() && acc.dtype() == DType::F64);
        let gv = vals(g);
        {
            let access = StorageAccess::lock(&[], &[acc.storage()]);
            let base = access.base_ptr_mut(acc.storage()) as *mut f64;
            for (i, v) in gv.iter().enumerate() {
                // SAFETY: acc is contiguous with numel == gv.len() elements from
                // its offset, inside its storage, which is locked for writing.
                unsafe { *base.add(acc.storage_offset() + i) += v }
            }
        }
        acc.version_counter().bump();
        Ok(())
    }
    fn sum_to(&self, g: &Tensor, sizes: &[usize]) -> Result<Tensor> {
        apply1(
            SumToF {
                from: g.sizes().to_vec(),
                to: sizes.to_vec(),
            },
            &[g],
        )
    }
    fn to_dtype(&self, g: &Tensor, dtype: DType) -> Result<Tensor> {
        ReferenceArith.to_dtype(g, dtype)
    }
    fn ones_like(&self, t: &Tensor) -> Result<Tensor> {
        self.to_dtype(&tensor(&vec![1.0; t.numel()], t.sizes()), t.dtype())
    }
    fn clone_like(&self, g: &Tensor, _like: &Tensor) -> Result<Tensor> {
        apply1(CloneF, &[g])
    }
    fn copy_(&self, dst: &Tensor, src: &Tensor) -> Result<()> {
        ReferenceArith.copy_(dst, src)
    }
}

fn setup() {
    install_arith(&TestArith);
}

type Log = Arc<Mutex<Vec<String>>>;

fn log_prehook(node: &Arc<Node>, log: &Log, label: &str) {
    let (log, label) = (log.clone(), label.to_string());
    node.register_prehook(Arc::new(move |_g: &[Option<Tensor>]| {
        log.lock().unwrap().push(label.clone());
        Ok(None)
    }));
}

fn accumulator_of(node: &Arc<Node>, i: usize) -> Arc<Node> {
    node.next_edges()[i].node.clone().unwrap()
}

const FREED: &str = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

// ---------------------------------------------------------------- tests

#[test]
fn diamond_runs_shared_node_once_with_summed_grad() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let a = square(&x);
    let b = scale(&a, 2.0).unwrap();
    let c = scale(&a, 3.0).unwrap();
    let s = sum(&add(&b, &c).unwrap());
    let seen: Arc<Mutex<Vec<Vec<f64>>>> = Arc::default();
    let seen2 = seen.clone();
    a.grad_fn()
        .unwrap()
        .register_prehook(Arc::new(move |g: &[Option<Tensor>]| {
            seen2.lock().unwrap().push(vals(g[0].as_ref().unwrap()));
            Ok(None)
        }));
    backward(&[s], &[], None, false, None).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![vec![5.0, 5.0]]);
    assert_eq!(vals(&x.grad().unwrap()), vec![10.0, 20.0]);
}

#[test]
fn ready_nodes_run_by_descending_sequence_number() {
    setup();
    let x1 = leaf(&[1.0], &[1]);
    let x2 = leaf(&[1.0], &[1]);
    let p = scale(&x1, 2.0).unwrap();
    let q = scale(&x2, 3.0).unwrap();
    let s = add(&p, &q).unwrap();
    assert!(q.grad_fn().unwrap().sequence_nr() > p.grad_fn().unwrap().sequence_nr());
    let log: Log = Arc::default();
    log_prehook(&s.grad_fn().unwrap(), &log, "add");
    log_prehook(&p.grad_fn().unwrap(), &log, "p");
    log_prehook(&q.grad_fn().unwrap(), &log, "q");
    log_prehook(&accumulator_of(&p.grad_fn().unwrap(), 0), &log, "acc x1");
    log_prehook(&accumulator_of(&q.grad_fn().unwrap(), 0), &log, "acc x2");
    backward(&[s], &[], None, false, None).unwrap();
    // AccumulateGrad (sequence_nr u64::MAX) runs as soon as it is ready.
    assert_eq!(*log.lock().unwrap(), vec!["add", "q", "acc x2", "p", "acc x1"]);
    assert_eq!(vals(&x1.grad().unwrap()), vec![2.0]);
    assert_eq!(vals(&x2.grad().unwrap()), vec![3.0]);
}

#[test]
fn gradients_into_one_input_are_summed_in_arrival_order() {
    setup();
    // Arrival order at x's buffer is c3, c2, c1 (later nodes first), so the
    // sum is ((-1e16 + 1e16) + 1) = 1; any other order rounds the 1 away.
    let x = leaf(&[1.0], &[1]);
    let c1 = scale(&x, 1.0).unwrap();
    let c2 = scale(&x, 1e16).unwrap();
    let c3 = scale(&x, -1e16).unwrap();
    let s = add(&add(&c1, &c2).unwrap(), &c3).unwrap();
    backward(&[s], &[], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![1.0]);
}

#[test]
fn multiple_roots_wait_for_each_other() {
    setup();
    let x = leaf(&[1.0, 1.0], &[2]);
    let y1 = scale(&x, 2.0).unwrap();
    let y2 = scale(&y1, 3.0).unwrap();
    let log: Log = Arc::default();
    log_prehook(&y1.grad_fn().unwrap(), &log, "y1");
    let ones = tensor(&[1.0, 1.0], &[2]);
    backward(&[y1, y2], &[Some(ones.clone()), Some(ones)], None, false, None).unwrap();
    assert_eq!(*log.lock().unwrap(), vec!["y1"]);
    assert_eq!(vals(&x.grad().unwrap()), vec![8.0, 8.0]);
}

#[test]
fn second_backward_without_retain_graph_fails() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let s = sum(&square(&x));
    backward(std::slice::from_ref(&s), &[], Some(true), false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 4.0]);
    backward(std::slice::from_ref(&s), &[], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![4.0, 8.0], "accumulated in place");
    let e = backward(&[s], &[], None, false, None).unwrap_err();
    assert_eq!(e.message(), FREED);
}

#[test]
fn modified_saved_tensor_reports_versions() {
    setup();
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let s = sum(&square(&x));
    x.version_counter().bump();
    let e = backward(&[s], &[], None, false, None).unwrap_err();
    assert_eq!(
        e.message(),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.DoubleTensor [3]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );

    let y = apply1(ExpF, &[&x]).unwrap();
    let s = sum(&y);
    y.version_counter().bump();
    let e = backward(&[s], &[], None, false, None).unwrap_err();
    assert!(
        e.message().contains(
            "[torch.DoubleTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 instead."
        ),
        "{}",
        e.message()
    );
}

#[test]
fn saved_output_does_not_keep_its_node_alive() {
    setup();
    let x = leaf(&[0.0], &[1]);
    let y = apply1(ExpF, &[&x]).unwrap();
    let weak = Arc::downgrade(&y.grad_fn().unwrap());
    let s = sum(&y);
    backward(std::slice::from_ref(&s), &[], Some(true), false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![1.0]);
    drop((s, y));
    assert!(weak.upgrade().is_none(), "no reference cycle through the saved output");
}

#[test]
fn hooks_run_in_pytorch_order() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = square(&x);
    let s = sum(&y);
    let log: Log = Arc::default();
    let l = log.clone();
    y.register_hook(move |g| {
        l.lock().unwrap().push("tensor hook 1".into());
        Ok(Some(scale(g, 2.0)?))
    })
    .unwrap();
    y.retain_grad().unwrap();
    let l = log.clone();
    y.register_hook(move |g| {
        l.lock().unwrap().push("tensor hook 2".into());
        Ok(Some(add(g, &tensor(&[1.0, 1.0], &[2]))?))
    })
    .unwrap();
    let node = y.grad_fn().unwrap();
    let (l, yw) = (log.clone(), y.downgrade());
    node.register_prehook(Arc::new(move |g: &[Option<Tensor>]| {
        let retained = yw.upgrade().unwrap().grad().map(|t| vals(&t));
        l.lock().unwrap().push(format!("pre-hook, y.grad = {retained:?}"));
        Ok(Some(vec![Some(scale(g[0].as_ref().unwrap(), 10.0)?)]))
    }));
    let l = log.clone();
    node.register_hook(Arc::new(
        move |grad_inputs: &[Option<Tensor>], grad_outputs: &[Option<Tensor>]| {
            l.lock().unwrap().push(format!(
                "post-hook in={:?} out={:?}",
                vals(grad_inputs[0].as_ref().unwrap()),
                vals(grad_outputs[0].as_ref().unwrap())
            ));
            Ok(Some(vec![Some(scale(grad_inputs[0].as_ref().unwrap(), 0.5)?)]))
        },
    ));
    backward(&[s], &[], None, false, None).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "tensor hook 1",
            "tensor hook 2",
            "pre-hook, y.grad = Some([3.0, 3.0])",
            "post-hook in=[60.0, 120.0] out=[30.0, 30.0]",
        ]
    );
    // retain_grad sees tensor hooks (even one registered after it) but not the node pre-hook.
    assert_eq!(vals(&y.grad().unwrap()), vec![3.0, 3.0]);
    assert_eq!(
        vals(&x.grad().unwrap()),
        vec![30.0, 60.0],
        "post-hook replaced grad_inputs"
    );
}

#[test]
fn hook_returning_wrong_count_is_an_error() {
    setup();
    let x = leaf(&[1.0], &[1]);
    let y = square(&x);
    y.grad_fn()
        .unwrap()
        .register_prehook(Arc::new(|_g: &[Option<Tensor>]| Ok(Some(vec![None, None]))));
    let e = backward(&[y], &[], None, false, None).unwrap_err();
    assert_eq!(
        e.message(),
        "hook has returned an incorrect number of values (got 2, but expected 1)"
    );
}

#[test]
fn grad_returns_gradients_without_accumulating() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let z = leaf(&[5.0], &[1]);
    let y = square(&x);
    let s = sum(&y);
    let e = grad(
        std::slice::from_ref(&s),
        &[x.clone(), z.clone()],
        &[],
        Some(true),
        false,
        false,
    )
    .unwrap_err();
    assert_eq!(
        e.message(),
        "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
    );
    let g = grad(
        std::slice::from_ref(&s),
        &[x.clone(), z.clone()],
        &[],
        Some(true),
        false,
        true,
    )
    .unwrap();
    assert_eq!(vals(g[0].as_ref().unwrap()), vec![2.0, 4.0]);
    assert!(g[1].is_none());
    assert!(x.grad().is_none() && z.grad().is_none(), "AccumulateGrad did not run");

    // A non-leaf input: its node only runs its tensor hooks (which shape the result).
    let log: Log = Arc::default();
    log_prehook(&y.grad_fn().unwrap(), &log, "square node");
    y.register_hook(|g| Ok(Some(scale(g, 3.0)?))).unwrap();
    let g = grad(
        std::slice::from_ref(&s),
        std::slice::from_ref(&y),
        &[],
        Some(true),
        false,
        false,
    )
    .unwrap();
    assert_eq!(vals(g[0].as_ref().unwrap()), vec![3.0, 3.0]);
    assert!(log.lock().unwrap().is_empty(), "the captured node itself did not run");

    // Leaf hooks run on a captured leaf.
    x.register_hook(|g| Ok(Some(scale(g, 10.0)?))).unwrap();
    let g = grad(
        std::slice::from_ref(&s),
        std::slice::from_ref(&x),
        &[],
        Some(true),
        false,
        false,
    )
    .unwrap();
    assert_eq!(vals(g[0].as_ref().unwrap()), vec![60.0, 120.0]);
    assert!(x.grad().is_none());

    let c = tensor(&[1.0], &[1]);
    let e = grad(std::slice::from_ref(&s), &[c], &[], Some(true), false, false).unwrap_err();
    assert_eq!(e.message(), "One of the differentiated Tensors does not require grad");
    let e = grad(&[s], &[], &[], None, false, false).unwrap_err();
    assert_eq!(e.message(), "grad requires non-empty inputs.");
}

#[test]
fn backward_with_inputs_accumulates_only_there() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let w = leaf(&[3.0, 4.0], &[2]);
    let h = mul(&x, &w).unwrap();
    let s = sum(&square(&h));
    backward(
        std::slice::from_ref(&s),
        &[],
        Some(true),
        false,
        Some(std::slice::from_ref(&x)),
    )
    .unwrap();
    // d/dx sum((xw)^2) = 2 x w^2
    assert_eq!(vals(&x.grad().unwrap()), vec![18.0, 64.0]);
    assert!(w.grad().is_none());

    let log: Log = Arc::default();
    log_prehook(&h.grad_fn().unwrap(), &log, "mul node");
    x.set_grad(None).unwrap();
    backward(
        std::slice::from_ref(&s),
        &[],
        Some(true),
        false,
        Some(std::slice::from_ref(&h)),
    )
    .unwrap();
    assert_eq!(vals(&h.grad().unwrap()), vec![6.0, 16.0]);
    assert!(h.retains_grad());
    assert!(x.grad().is_none() && w.grad().is_none());
    assert_eq!(*log.lock().unwrap(), vec!["mul node"], "a non-leaf input's node runs");

    let e = backward(&[s], &[], None, false, Some(&[])).unwrap_err();
    assert_eq!(e.message(), "`inputs` argument to `backward()` cannot be empty.");
}

/// Square whose backward differentiates an inner graph with a nested backward
/// and a nested grad (reentrant backward).
struct ReentrantSquare;
impl Function for ReentrantSquare {
    fn name(&self) -> String {
        "ReentrantSquareBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&x[0]]);
        SquareF.forward(&mut FunctionCtx::for_test(), x)
    }
    fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
        let x = ctx.saved_tensors()?.remove(0).detach();
        x.requires_grad_(true)?;
        let inner = {
            let _g = tls::enable_grad();
            sum(&square(&x))
        };
        let via_grad = grad(
            std::slice::from_ref(&inner),
            std::slice::from_ref(&x),
            &[],
            Some(true),
            false,
            false,
        )?
        .remove(0)
        .unwrap();
        backward(&[inner], &[], None, false, None)?;
        assert_eq!(vals(&via_grad), vals(&x.grad().unwrap()));
        Ok(vec![Some(mul(&via_grad, g0(g))?)])
    }
}

#[test]
fn reentrant_backward_inside_a_backward() {
    setup();
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let y = apply1(ReentrantSquare, &[&x]).unwrap();
    let s = sum(&scale(&y, 2.0).unwrap());
    backward(&[s], &[], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![4.0, 8.0, 12.0]);
}

#[test]
fn root_gradient_checks() {
    setup();
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let y = square(&x);
    let e = backward(std::slice::from_ref(&y), &[], None, false, None).unwrap_err();
    assert_eq!(e.message(), "grad can be implicitly created only for scalar outputs");
    let e = backward(
        std::slice::from_ref(&y),
        &[Some(tensor(&[1.0, 1.0], &[2]))],
        None,
        false,
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3])."
    );
    let c = tensor(&[1.0], &[1]);
    let e = backward(&[y.clone(), c], &[], None, false, None).unwrap_err();
    assert_eq!(e.message(), "grad can be implicitly created only for scalar outputs");
    let e = backward(&[tensor(&[1.0], &[1])], &[], None, false, None).unwrap_err();
    assert_eq!(
        e.message(),
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    let e = backward(&[y], &[None, None], None, false, None).unwrap_err();
    assert_eq!(e.message(), "got 1 tensors and 2 gradients");
}

#[test]
fn root_grad_of_other_dtype_is_cast() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = square(&x);
    let g = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
    backward(&[y], &[Some(g)], None, false, None).unwrap();
    assert_eq!(x.grad().unwrap().dtype(), DType::F64);
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 4.0]);
}

fn custom(
    name: &'static str,
    x: &Tensor,
    bwd: impl Fn(&[Option<Tensor>]) -> Result<Grads> + Send + Sync + 'static,
) -> Tensor {
    apply1(
        Custom {
            name,
            bwd: Box::new(bwd),
        },
        &[x],
    )
    .unwrap()
}

#[test]
fn backward_outputs_are_validated() {
    setup();
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let y = custom("BadShapeBackward", &x, |_| Ok(vec![Some(tensor(&[1.0, 1.0], &[2]))]));
    let e = backward(&[y], &[Some(tensor(&[1.0; 3], &[3]))], None, false, None).unwrap_err();
    assert_eq!(
        e.message(),
        "Function BadShapeBackward returned an invalid gradient at index 0 - got [2] but expected shape compatible with [3]"
    );

    // A broadcast gradient is summed to the input's shape; another dtype is cast.
    let y = custom("BroadcastBackward", &x, |_| {
        Ok(vec![Some(Tensor::from_vec(
            vec![1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0],
            &[2, 3],
        )?)])
    });
    backward(&[y], &[Some(tensor(&[1.0; 3], &[3]))], None, false, None).unwrap();
    let g = x.grad().unwrap();
    assert_eq!((g.dtype(), vals(&g)), (DType::F64, vec![11.0, 22.0, 33.0]));

    let y = custom("BadCountBackward", &x, |g| Ok(vec![g[0].clone(), g[0].clone()]));
    let e = backward(&[y], &[Some(tensor(&[1.0; 3], &[3]))], None, false, None).unwrap_err();
    assert_eq!(
        e.message(),
        "function BadCountBackward returned an incorrect number of gradients (expected 1, got 2)"
    );

    // Trailing None gradients beyond the inputs are dropped, as in PyTorch.
    let y = custom("ExtraNoneBackward", &x, |g| Ok(vec![g[0].clone(), None]));
    backward(&[y], &[Some(tensor(&[1.0; 3], &[3]))], None, false, None).unwrap();
}

#[test]
fn create_graph_gives_differentiable_gradients() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = mul(&square(&x), &x).unwrap(); // x^3
    let g = grad(&[sum(&y)], std::slice::from_ref(&x), &[], None, true, false)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(vals(&g), vec![3.0, 12.0]);
    assert!(g.requires_grad() && g.grad_fn().is_some());
    let gg = grad(&[sum(&g)], std::slice::from_ref(&x), &[], None, false, false)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(vals(&gg), vec![6.0, 12.0]);
    assert!(tls::is_grad_enabled());

    // backward with create_graph: .grad itself has a graph.
    let y = mul(&square(&x), &x).unwrap();
    backward(&[sum(&y)], &[], None, true, None).unwrap();
    let xg = x.grad().unwrap();
    assert!(xg.requires_grad());
    x.set_grad(None).unwrap();
    backward(&[sum(&xg)], &[], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![6.0, 12.0]);
}

#[test]
fn grad_mode_is_restored_after_an_error() {
    setup();
    let x = leaf(&[1.0], &[1]);
    let y = custom("FailingBackward", &x, |_| Err(crate::Error::invalid("test", "boom")));
    {
        let _g = tls::no_grad();
        let e = backward(std::slice::from_ref(&y), &[], Some(true), true, None).unwrap_err();
        assert_eq!(e.message(), "boom");
        assert!(!tls::is_grad_enabled());
    }
    let e = backward(&[y], &[], Some(true), false, None).unwrap_err();
    assert_eq!(e.message(), "boom");
    assert!(tls::is_grad_enabled());
}

#[test]
fn custom_function_outputs_and_ctx() {
    setup();
    struct TwoOut;
    impl Function for TwoOut {
        fn name(&self) -> String {
            "TwoOutBackward".into()
        }
        fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
            assert!(!tls::is_grad_enabled(), "forward runs under no_grad");
            assert!(ctx.needs_input_grad(0) && !ctx.needs_input_grad(1));
            let idx = Tensor::from_vec(vec![0i64], &[1])?;
            let marked = Tensor::from_vec(vals(&x[0]), x[0].sizes())?;
            ctx.mark_non_differentiable(&marked);
            Ok(vec![x[0].clone(), idx, marked, scale(&x[0], 2.0)?])
        }
        fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Grads> {
            assert_eq!(g.len(), 4);
            // Missing grads are materialized as zeros of the output's shape.
            assert_eq!(vals(g[1].as_ref().unwrap()), vec![0.0]);
            assert_eq!(vals(g[2].as_ref().unwrap()), vec![0.0, 0.0]);
            let g0 = g[0].as_ref().unwrap();
            let g3 = g[3].as_ref().unwrap();
            Ok(vec![Some(add(g0, &scale(g3, 2.0)?)?), None])
        }
    }
    let x = leaf(&[1.0, 2.0], &[2]);
    let c = tensor(&[0.0], &[1]);
    let out = apply_function(TwoOut, &[x.clone(), c]).unwrap();
    assert!(!out[0].is_same(&x) && x.is_leaf(), "a returned input becomes an alias");
    assert_eq!(out[0].output_nr(), 0);
    assert!(!out[1].requires_grad() && !out[2].requires_grad());
    assert_eq!(out[3].output_nr(), 3);
    let s = add(&sum(&out[0]), &sum(&out[3])).unwrap();
    backward(&[s], &[], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![3.0, 3.0]);
}

/// A hand-built node (as generated code builds them) that records what the
/// engine says is needed and passes the gradient through to every input.
struct RecordNeeds(Arc<Mutex<Vec<Vec<bool>>>>);
impl crate::autograd::BackwardFn for RecordNeeds {
    fn name(&self) -> String {
        "RecordNeedsBackward0".into()
    }
    fn apply(&self, ctx: &crate::autograd::BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        self.0.lock().unwrap().push(ctx.needs_input_grad.to_vec());
        Ok(ctx
            .needs_input_grad
            .iter()
            .map(|&n| if n { grads[0].clone() } else { None })
            .collect())
    }
}

#[test]
fn needs_input_grad_follows_requested_inputs() {
    setup();
    let x = leaf(&[1.0], &[1]);
    let w = leaf(&[2.0], &[1]);
    let c = tensor(&[3.0], &[1]);
    let log: Arc<Mutex<Vec<Vec<bool>>>> = Arc::default();
    let node = Node::new(
        RecordNeeds(log.clone()),
        crate::autograd::collect_next_edges(&[&x, &c, &w]),
    );
    let y = tensor(&[0.0], &[1]);
    crate::autograd::set_history(&y, &node);
    grad(
        std::slice::from_ref(&y),
        std::slice::from_ref(&x),
        &[],
        Some(true),
        false,
        false,
    )
    .unwrap();
    backward(
        std::slice::from_ref(&y),
        &[],
        Some(true),
        false,
        Some(std::slice::from_ref(&w)),
    )
    .unwrap();
    backward(std::slice::from_ref(&y), &[], None, false, None).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            vec![true, false, false],
            vec![false, false, true],
            vec![true, false, true]
        ]
    );
    assert_eq!(vals(&x.grad().unwrap()), vec![1.0]);
    assert_eq!(vals(&w.grad().unwrap()), vec![2.0]);
}

#[test]
fn double_backward_through_a_saved_output() {
    setup();
    let x = leaf(&[0.0, 1.0], &[2]);
    let y = apply1(ExpF, &[&x]).unwrap();
    let g = grad(&[sum(&y)], std::slice::from_ref(&x), &[], None, true, false)
        .unwrap()
        .remove(0)
        .unwrap();
    let e = [1.0f64, 1.0f64.exp()];
    assert_eq!(vals(&g), e);
    let gg = grad(&[sum(&g)], std::slice::from_ref(&x), &[], None, false, false)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(vals(&gg), e);
}

#[test]
fn leaf_as_root() {
    setup();
    let x = leaf(&[1.0, 2.0], &[2]);
    x.register_hook(|g| Ok(Some(scale(g, 2.0)?))).unwrap();
    let ones = tensor(&[1.0, 1.0], &[2]);
    // grad(x, x): only the leaf's hooks run; nothing is accumulated.
    let g = grad(
        std::slice::from_ref(&x),
        std::slice::from_ref(&x),
        &[Some(ones.clone())],
        None,
        false,
        false,
    )
    .unwrap();
    assert_eq!(vals(g[0].as_ref().unwrap()), vec![2.0, 2.0]);
    assert!(x.grad().is_none());
    backward(std::slice::from_ref(&x), &[Some(ones)], None, false, None).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 2.0]);
}
