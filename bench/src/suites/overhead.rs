//! `op_overhead_us` / `op_overhead_grad_us`: `ops::add(&x, &y)` (the typed
//! API through the dispatcher) on 1-element f32 tensors, 100k calls, without
//! and with `requires_grad` inputs (so the second records the graph).

use crate::timing::{emit, sp, time_fn};
use frankentorch::prelude::*;
use std::hint::black_box;

/// Runs the suite.
pub fn run() -> Result<()> {
    let n = 100_000;
    for (rg, name) in [(false, "op_overhead_us"), (true, "op_overhead_grad_us")] {
        let x = ops::randn(&[1])?;
        let y = ops::randn(&[1])?;
        x.requires_grad_(rg)?;
        y.requires_grad_(rg)?;
        let calls = || {
            for _ in 0..n {
                black_box(ops::add(black_box(&x), black_box(&y)).expect("add"));
            }
        };
        let (t, s) = time_fn(calls, 5, 0.0, 1);
        emit(name, t / n as f64 * 1e6, "us", &[sp(s)]);
    }
    Ok(())
}
