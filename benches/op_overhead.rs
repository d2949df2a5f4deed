//! Per-op overhead: `add` of two 1-element f32 tensors through the typed API
//! and the dispatcher, without and with graph recording.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use frankentorch::prelude::*;

fn op_overhead(c: &mut Criterion) {
    let x = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
    let y = Tensor::from_vec(vec![2.0f32], &[1]).unwrap();
    c.bench_function("op_overhead_add_1elem", |b| {
        b.iter(|| black_box(ops::add(black_box(&x), black_box(&y)).unwrap()))
    });
    let xg = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
    let yg = Tensor::from_vec(vec![2.0f32], &[1]).unwrap();
    xg.requires_grad_(true).unwrap();
    yg.requires_grad_(true).unwrap();
    c.bench_function("op_overhead_grad_add_1elem", |b| {
        b.iter(|| black_box(ops::add(black_box(&xg), black_box(&yg)).unwrap()))
    });
}

criterion_group!(benches, op_overhead);
criterion_main!(benches);
