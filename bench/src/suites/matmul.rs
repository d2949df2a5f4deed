//! `matmul_nN`: square f32 `a @ b`, GFLOP/s = 2N³/t.

use crate::timing::{emit, sp, time_default};
use frankentorch::prelude::*;

/// Runs the suite.
pub fn run() -> Result<()> {
    for n in [128i64, 512, 1024, 2048] {
        let a = ops::randn(&[n, n])?;
        let b = ops::randn(&[n, n])?;
        let (t, s) = time_default(|| drop(ops::matmul(&a, &b).expect("matmul")));
        let flop = 2.0 * (n as f64).powi(3);
        emit(&format!("matmul_n{n}"), flop / t * 1e-9, "GFLOP/s", &[sp(s)]);
    }
    Ok(())
}
