//! Per-op overhead: `add` of two 1-element f32 tensors through the typed API
//! and the dispatcher, without and with graph recording; and the cost of the
//! autograd trust features on a 16-op chain's backward: plain, recording a
//! provenance ledger, and with recording sites captured in the forward pass
//! (anomaly-style), and hardened mode's dispatch layer on one op.

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

/// `x * w0 * w1 * … * w15`, summed.
fn chain(x: &Tensor, ws: &[Tensor]) -> Tensor {
    ws.iter().fold(x.clone(), |acc, w| acc.mul(w).unwrap()).sum().unwrap()
}

fn trust_features(c: &mut Criterion) {
    use frankentorch::autograd::{anomaly, provenance::LedgerRecorder};
    let x = Tensor::from_vec(vec![1.0f32; 64], &[64]).unwrap();
    let ws: Vec<Tensor> = (0..16)
        .map(|_| {
            let w = Tensor::from_vec(vec![1.0f32; 64], &[64]).unwrap();
            w.requires_grad_(true).unwrap();
            w
        })
        .collect();
    c.bench_function("chain16_forward_backward", |b| {
        b.iter(|| backward(&chain(&x, &ws)).unwrap())
    });
    c.bench_function("chain16_forward_backward_ledger", |b| {
        b.iter(|| {
            let rec = LedgerRecorder::start(&[]);
            backward(&chain(&x, &ws)).unwrap();
            black_box(rec.finish())
        })
    });
    c.bench_function("chain16_forward_backward_sites", |b| {
        b.iter(|| {
            let _sites = anomaly::record_sites();
            backward(&chain(&x, &ws)).unwrap()
        })
    });
    let y = Tensor::from_vec(vec![2.0f32], &[1]).unwrap();
    let z = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
    c.bench_function("op_overhead_add_1elem_hardened", |b| {
        let _h = frankentorch::mode::hardened();
        b.iter(|| black_box(ops::add(black_box(&z), black_box(&y)).unwrap()))
    });
}

criterion_group!(benches, op_overhead, trust_features);
criterion_main!(benches);
