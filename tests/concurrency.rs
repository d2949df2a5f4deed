//! Concurrency of the autograd engine, each case a bounded stress loop:
//! independent backward passes on separate graphs from several threads, one
//! graph shared by two threads (retain_graph), concurrent accumulation into
//! one leaf, and reentrant backward (a custom Function whose backward runs a
//! backward of its own), also from several threads at once.
//!
//! Safe Rust rules out data races outside `unsafe` blocks (tensors are
//! Send + Sync, all shared engine state sits behind locks); these tests check
//! the behaviour under contention: no deadlock, and bit-identical results to
//! a single-threaded reference. The `unsafe` storage access underneath is
//! checked by running this file under ThreadSanitizer (nightly compiler,
//! std rebuilt with the sanitizer; see `docs/thread_sanitizer.md`).

use frankentorch::autograd::{apply_function, Function, FunctionCtx};
use frankentorch::prelude::*;
use frankentorch::Tensor;
use std::sync::{Arc, Barrier};
use std::thread;

const THREADS: usize = 4;
const ROUNDS: usize = 40;

fn leaf(values: Vec<f64>, sizes: &[usize]) -> Tensor {
    let t = Tensor::from_vec(values, sizes).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

/// A small MLP-shaped graph: tanh(x @ w1) @ w2, squared and summed.
fn loss(x: &Tensor, w1: &Tensor, w2: &Tensor) -> Tensor {
    let h = x.mm(w1).unwrap().tanh().unwrap();
    h.mm(w2).unwrap().pow_tensor_scalar(2).unwrap().sum().unwrap()
}

fn params(seed: usize) -> (Tensor, Tensor, Tensor) {
    let vals = |n: usize, k: usize| {
        (0..n)
            .map(|i| (((i * 7 + k * 13 + seed) % 17) as f64 - 8.0) / 10.0)
            .collect()
    };
    (
        Tensor::from_vec(vals(12, 1), &[3, 4]).unwrap(),
        leaf(vals(20, 2), &[4, 5]),
        leaf(vals(10, 3), &[5, 2]),
    )
}

fn grads_of(seed: usize) -> Vec<Vec<u64>> {
    let (x, w1, w2) = params(seed);
    let g = grad(&[loss(&x, &w1, &w2)], &[w1, w2], &[], None, false, false).unwrap();
    g.iter()
        .map(|t| t.as_ref().unwrap().to_f64_vec().iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn independent_graphs_on_several_threads_match_one_thread() {
    let reference: Vec<_> = (0..THREADS).map(grads_of).collect();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|seed| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                (0..ROUNDS).map(|_| grads_of(seed)).collect::<Vec<_>>()
            })
        })
        .collect();
    for (seed, h) in handles.into_iter().enumerate() {
        for got in h.join().unwrap() {
            assert_eq!(got, reference[seed], "thread {seed}");
        }
    }
}

#[test]
fn a_graph_shared_by_two_threads_gives_the_same_gradients() {
    let (x, w1, w2) = params(5);
    let y = loss(&x, &w1, &w2);
    let reference = grad(
        std::slice::from_ref(&y),
        &[w1.clone(), w2.clone()],
        &[],
        Some(true),
        false,
        false,
    )
    .unwrap();
    let reference: Vec<Vec<f64>> = reference.iter().map(|g| g.as_ref().unwrap().to_f64_vec()).collect();
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (y, w1, w2, barrier) = (y.clone(), w1.clone(), w2.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                (0..ROUNDS)
                    .map(|_| {
                        let g = grad(
                            std::slice::from_ref(&y),
                            &[w1.clone(), w2.clone()],
                            &[],
                            Some(true),
                            false,
                            false,
                        )
                        .unwrap();
                        g.iter().map(|g| g.as_ref().unwrap().to_f64_vec()).collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for got in h.join().unwrap() {
            assert_eq!(got, reference);
        }
    }
}

#[test]
fn concurrent_backward_into_one_leaf_accumulates_every_pass() {
    // Gradients are small integers, so the sum is exact in any order.
    let w = leaf(vec![1.0, 2.0, 3.0], &[3]);
    let y = w
        .mul(&Tensor::from_vec(vec![1.0f64, -2.0, 4.0], &[3]).unwrap())
        .unwrap()
        .sum()
        .unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (y, barrier) = (y.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..ROUNDS {
                    frankentorch::backward_full(std::slice::from_ref(&y), &[], Some(true), false, None).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let n = (THREADS * ROUNDS) as f64;
    assert_eq!(w.grad().unwrap().to_vec::<f64>().unwrap(), vec![n, -2.0 * n, 4.0 * n]);
}

/// y = x³, whose backward computes 3x² by running a backward of its own on
/// an inner graph (reentrant backward).
struct CubeByInnerBackward;

impl Function for CubeByInnerBackward {
    fn name(&self) -> String {
        "CubeByInnerBackwardBackward".into()
    }
    fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&x[0]]);
        Ok(vec![x[0].pow_tensor_scalar(3)?])
    }
    fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        let x = ctx.saved_tensors()?.remove(0).detach();
        let inner = {
            let _grad = enable_grad();
            x.requires_grad_(true)?;
            let y = x.pow_tensor_scalar(3)?.sum()?;
            grad(&[y], std::slice::from_ref(&x), &[], None, false, false)?
        };
        let d = inner[0].clone().expect("x is used");
        Ok(vec![Some(d.mul(g[0].as_ref().expect("one output"))?)])
    }
}

fn reentrant_gradient(values: Vec<f64>) -> Vec<f64> {
    let x = leaf(values, &[3]);
    let y = apply_function(CubeByInnerBackward, std::slice::from_ref(&x))
        .unwrap()
        .remove(0);
    let z = y
        .mul(&Tensor::scalar_tensor(2.0.into(), DType::F64))
        .unwrap()
        .sum()
        .unwrap();
    backward(&z).unwrap();
    x.grad().unwrap().to_vec::<f64>().unwrap()
}

#[test]
fn reentrant_backward_works_and_stays_deterministic_under_threads() {
    assert_eq!(reentrant_gradient(vec![1.0, -2.0, 0.5]), vec![6.0, 24.0, 1.5]);
    let reference = reentrant_gradient(vec![0.3, 1.7, -0.9]);
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            thread::spawn(|| {
                (0..ROUNDS)
                    .map(|_| reentrant_gradient(vec![0.3, 1.7, -0.9]))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for got in h.join().unwrap() {
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                reference.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
