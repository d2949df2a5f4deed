//! `add/mul/exp/relu_16M`: out-of-place on 16 Mi contiguous f32, GB/s of
//! bytes read + written; `*_prealloc_out` (informational) writes into a kept
//! output through the `out=` variants.

use crate::timing::{emit, info, round, sp, time_default};
use frankentorch::prelude::*;

type Op<'a> = Box<dyn Fn() -> Result<Tensor> + 'a>;

/// Runs the suite.
pub fn run() -> Result<()> {
    let n = 16 * 1024 * 1024;
    let a = ops::randn(&[n])?;
    let b = ops::randn(&[n])?;
    let out = ops::empty(&[n])?;
    let cases: Vec<(&str, Op, Op, usize)> = vec![
        (
            "add_16M",
            Box::new(|| ops::add(&a, &b)),
            Box::new(|| ops::add_out(&a, &b, &out)),
            3,
        ),
        (
            "mul_16M",
            Box::new(|| ops::mul(&a, &b)),
            Box::new(|| ops::mul_out(&a, &b, &out)),
            3,
        ),
        (
            "exp_16M",
            Box::new(|| ops::exp(&a)),
            Box::new(|| ops::exp_out(&a, &out)),
            2,
        ),
        (
            "relu_16M",
            Box::new(|| ops::relu(&a)),
            Box::new(|| ops::clamp_min_out(&a, 0.0, &out)),
            2,
        ),
    ];
    for (name, f, f_out, nbuf) in cases {
        let bytes = (nbuf * 4 * n as usize) as f64;
        let (t, s) = time_default(|| drop(f().expect(name)));
        emit(
            name,
            bytes / t * 1e-9,
            "GB/s",
            &[("ms", round(t * 1e3, 3).into()), sp(s)],
        );
        let (t, s) = time_default(|| drop(f_out().expect(name)));
        emit(
            &format!("{name}_prealloc_out"),
            bytes / t * 1e-9,
            "GB/s",
            &[("ms", round(t * 1e3, 3).into()), sp(s), info()],
        );
    }
    Ok(())
}
