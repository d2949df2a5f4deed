//! Autograd behaviour through the generated operators, checked against
//! PyTorch's documented results and messages.

use frankentorch::autograd::{apply_function, Function, FunctionCtx};
use frankentorch::prelude::*;
use frankentorch::{backward_full, ErrorKind};
use std::sync::{Arc, Mutex};

fn leaf(values: &[f64], sizes: &[usize]) -> Tensor {
    let t = Tensor::from_vec(values.to_vec(), sizes).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

#[test]
fn square_sum_backward_gives_two_x() {
    let x = leaf(&[1.0, -2.0, 3.5], &[3]);
    let y = x.mul(&x).unwrap().sum().unwrap();
    backward(&y).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![2.0, -4.0, 7.0]);
    assert_eq!(y.grad_fn().unwrap().name(), "SumBackward0");
}

#[test]
fn gradients_accumulate_across_backward_calls() {
    let x = leaf(&[1.0, 2.0], &[2]);
    for _ in 0..2 {
        backward(&x.mul(&x).unwrap().sum().unwrap()).unwrap();
    }
    assert_eq!(values(&x.grad().unwrap()), vec![4.0, 8.0]);
}

#[test]
fn double_backward_through_create_graph() {
    let x = leaf(&[2.0, -1.0], &[2]);
    let y = x.mul(&x).unwrap().mul(&x).unwrap().sum().unwrap(); // sum x³
    let g = grad(&[y], std::slice::from_ref(&x), &[], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(values(&g), vec![12.0, 3.0]); // 3x²
    assert!(g.requires_grad(), "create_graph makes the gradient differentiable");
    let gg = grad(&[g.sum().unwrap()], &[x], &[], None, false, false).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(values(&gg), vec![12.0, -6.0]); // 6x
}

#[test]
fn second_backward_without_retain_graph_errors_like_pytorch() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.exp().unwrap().sum().unwrap();
    backward(&y).unwrap();
    let err = backward(&y).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Autograd);
    assert!(err.message().starts_with(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)."
    ));
    let z = x.exp().unwrap().sum().unwrap();
    backward_full(std::slice::from_ref(&z), &[], Some(true), false, None).unwrap();
    backward(&z).expect("retain_graph keeps saved tensors for a second pass");
}

#[test]
fn inplace_change_of_a_saved_tensor_names_the_versions() {
    let x = leaf(&[0.5, 1.0, 1.5], &[3]);
    let y = x.exp().unwrap(); // ExpBackward0 saves its result
    y.mul_(&Tensor::from_vec(vec![2.0f64], &[]).unwrap()).unwrap();
    assert_eq!(y.version(), 1);
    let err = backward(&y.sum().unwrap()).unwrap_err();
    assert_eq!(
        err.message(),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.DoubleTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );
}

#[test]
fn inplace_on_a_leaf_that_requires_grad_is_refused() {
    let x = leaf(&[1.0], &[1]);
    let err = x.add_(&x).unwrap_err();
    assert_eq!(
        err.message(),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    assert_eq!(x.version(), 0, "a refused in-place op changes nothing");
    let _g = no_grad();
    x.add_(&x).expect("allowed under no_grad");
    assert_eq!(values(&x), vec![2.0]);
}

#[test]
fn inplace_op_records_history_and_correct_gradient() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul_scalar(3).unwrap();
    y.mul_(&x).unwrap(); // y = 3x * x
    assert_eq!(y.grad_fn().unwrap().name(), "MulBackward0");
    backward(&y.sum().unwrap()).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![6.0, 12.0]); // d(3x²)/dx
}

#[test]
fn broadcast_gradients_are_reduced_to_input_shapes() {
    let a = leaf(&[1.0, 2.0, 3.0], &[3, 1]);
    let b = leaf(&[1.0, 1.0, 1.0, 1.0], &[4]);
    backward(&a.add_full(&b, 2.0).unwrap().sum().unwrap()).unwrap();
    assert_eq!(a.grad().unwrap().sizes(), &[3, 1]);
    assert_eq!(values(&a.grad().unwrap()), vec![4.0; 3]);
    assert_eq!(values(&b.grad().unwrap()), vec![6.0; 4]); // alpha * 3 rows
}

#[test]
fn hooks_fire_in_pytorch_order() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul_scalar(2).unwrap();
    let z = y.exp().unwrap().sum().unwrap();
    y.retain_grad().unwrap();
    let node = y.grad_fn().unwrap();
    let l = log.clone();
    y.register_hook(move |g| {
        l.lock().unwrap().push("tensor hook".into());
        Ok(Some(g.mul_scalar(10)?))
    })
    .unwrap();
    let l = log.clone();
    node.register_prehook(Arc::new(move |_grads| {
        l.lock().unwrap().push("node pre-hook".into());
        Ok(None)
    }));
    let l = log.clone();
    node.register_hook(Arc::new(move |_inputs, _outputs| {
        l.lock().unwrap().push("node post-hook".into());
        Ok(None)
    }));
    let l = log.clone();
    x.register_hook(move |_| {
        l.lock().unwrap().push("leaf hook".into());
        Ok(None)
    })
    .unwrap();
    let l = log.clone();
    x.register_post_accumulate_grad_hook(move |p| {
        l.lock()
            .unwrap()
            .push(format!("post-accumulate (grad set: {})", p.grad().is_some()));
        Ok(())
    })
    .unwrap();
    backward(&z).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "tensor hook",
            "node pre-hook",
            "node post-hook",
            "leaf hook",
            "post-accumulate (grad set: true)"
        ]
    );
    let e: Vec<f64> = [2.0f64, 4.0].iter().map(|v| v.exp()).collect();
    // retain_grad runs after tensor hooks, so it sees the hooked gradient.
    assert_eq!(values(&y.grad().unwrap()), vec![e[0] * 10.0, e[1] * 10.0]);
    assert_eq!(values(&x.grad().unwrap()), vec![e[0] * 20.0, e[1] * 20.0]);
}

/// Doubles in forward but (deliberately) claims a derivative of 3, so the
/// test can tell that this backward ran.
struct TimesTwoClaimsThree;

impl Function for TimesTwoClaimsThree {
    fn name(&self) -> String {
        "TimesTwoClaimsThreeBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&inputs[0]]);
        Ok(vec![inputs[0].mul_scalar(2)?])
    }
    fn backward(&self, ctx: &FunctionCtx, grads: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        let x = ctx.saved_tensors()?.remove(0);
        let g = grads[0].clone().unwrap();
        // 3 * grad * x / x keeps the result differentiable w.r.t. x.
        Ok(vec![Some(g.mul_scalar(3)?.mul(&x)?.div(&x)?)])
    }
}

#[test]
fn custom_function_backward_is_used() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = apply_function(TimesTwoClaimsThree, std::slice::from_ref(&x))
        .unwrap()
        .remove(0);
    assert_eq!(values(&y), vec![2.0, 4.0]);
    assert_eq!(y.grad_fn().unwrap().name(), "TimesTwoClaimsThreeBackward");
    backward(&y.sum().unwrap()).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![3.0, 3.0]);
    // works with create_graph too
    let x2 = leaf(&[1.0], &[1]);
    let y2 = apply_function(TimesTwoClaimsThree, std::slice::from_ref(&x2))
        .unwrap()
        .remove(0);
    let g = grad(&[y2.sum().unwrap()], &[x2], &[], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    assert!(g.requires_grad());
}

#[test]
fn no_grad_records_nothing() {
    let x = leaf(&[1.0], &[1]);
    let y = {
        let _g = no_grad();
        x.exp().unwrap()
    };
    assert!(!y.requires_grad() && y.grad_fn().is_none());
}

// Expected values below come from PyTorch 2.15 running the same programs.

#[test]
fn inplace_on_a_view_rewrites_the_base_history() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let base = x.deep_clone().unwrap();
    let v = base.t().unwrap();
    v.mul_(&v.detach().add_scalar(1, 1).unwrap()).unwrap();
    assert_eq!(base.grad_fn().unwrap().name(), "torch::autograd::CopySlices");
    assert_eq!(v.grad_fn().unwrap().name(), "AsStridedBackward0");
    assert_eq!(base.version(), 1);
    backward(&base.mul(&base).unwrap().sum().unwrap()).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![8.0, 36.0, 96.0, 200.0, 360.0, 588.0]);
}

#[test]
fn gradients_flow_through_the_view_and_the_other_input_after_copyslices() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let w = leaf(&[2.0, 3.0, 4.0], &[3]);
    let base = x.deep_clone().unwrap();
    let v = base.unsqueeze(0).unwrap();
    v.mul_(&w).unwrap();
    backward(&v.mul(&v).unwrap().sum().unwrap()).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![8.0, 36.0, 96.0, 32.0, 90.0, 192.0]);
    assert_eq!(values(&w.grad().unwrap()), vec![68.0, 174.0, 360.0]);
}

#[test]
fn inplace_on_a_view_of_a_leaf_is_refused_like_pytorch() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let v = x.view(&[2, 2]).unwrap();
    let err = v.mul_(&v.deep_clone().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Autograd);
    assert!(
        err.to_string().contains("a view of a leaf Variable that requires grad"),
        "{err}"
    );
    assert_eq!(x.version(), 0);
}

#[test]
fn display_matches_pytorch_repr() {
    let x = leaf(&[1.0, 2.0], &[1, 2]);
    let x32 = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]).unwrap();
    x32.requires_grad_(true).unwrap();
    let y = x32.add(&x32).unwrap();
    assert_eq!(y.to_string(), "tensor([[2., 4.]], grad_fn=<AddBackward0>)");
    assert_eq!(
        x.to_string(),
        "tensor([[1., 2.]], dtype=torch.float64, requires_grad=True)"
    );
    assert_eq!(ops::arange(5).unwrap().to_string(), "tensor([0, 1, 2, 3, 4])");
}

#[test]
fn tensors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
    let t = ops::ones(&[4]).unwrap();
    let handle = {
        let t = t.clone();
        std::thread::spawn(move || t.sum().unwrap().item().unwrap())
    };
    assert_eq!(handle.join().unwrap(), Scalar::Float(4.0));
}

#[test]
fn in_place_forms_of_composite_ops_record_through_views() {
    // PyTorch 2.15: y = x*x; y[1:].addcmul_(t1[1:], x[1:], value=0.5);
    // y.masked_fill_(m, 7); (y*y).sum().backward()
    let x = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let t1 = leaf(&[2.0, 3.0, 4.0, 5.0], &[4]);
    let y = x.mul(&x).unwrap();
    let tail = |t: &Tensor| frankentorch::ops::slice(t, 0, Some(1), None, 1).unwrap();
    frankentorch::ops::addcmul_full_(&tail(&y), &tail(&t1), &tail(&x), 0.5).unwrap();
    let mask = Tensor::from_vec(vec![true, false, false, true], &[4]).unwrap();
    y.masked_fill_(&mask, 7.0).unwrap();
    assert_eq!(values(&y), vec![7.0, 7.0, 15.0, 7.0]);
    assert_eq!(y.version(), 2);
    backward(&y.mul(&y).unwrap().sum().unwrap()).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![0.0, 77.0, 240.0, 0.0]);
    assert_eq!(values(&t1.grad().unwrap()), vec![0.0, 14.0, 45.0, 0.0]);
}
