//! Very deep graphs (long chains of recorded ops) can be built, run
//! backward, and dropped without exhausting the stack.

use frankentorch::prelude::*;

#[test]
fn deep_chain_backward_and_drop() {
    let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
    x.requires_grad_(true).unwrap();
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.add_scalar(1, 1).unwrap();
    }
    backward(&y.sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
    drop(y);
}

#[test]
fn deep_chain_dropped_without_backward() {
    let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
    x.requires_grad_(true).unwrap();
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.mul_scalar(1).unwrap();
    }
    drop(y);
}

#[test]
fn deep_chain_with_saved_inputs_backward_and_drop() {
    let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
    x.requires_grad_(true).unwrap();
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y.mul(&x).unwrap(); // MulBackward0 saves both inputs
    }
    let unused = y.exp().unwrap(); // another branch, dropped without backward
    backward(&y.sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f64>().unwrap(), vec![100_001.0]); // d(x^(n+1))/dx at 1
    drop(unused);
    drop(y);
}
