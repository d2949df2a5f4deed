//! `sum_16M` (full reduction), `sum_dim1_4096` and `softmax_4096` (last dim
//! of `[4096,4096]`), in ms.

use crate::timing::{emit, round, sp, time_default};
use frankentorch::prelude::*;

/// Runs the suite.
pub fn run() -> Result<()> {
    let a = ops::randn(&[16 * 1024 * 1024])?;
    let (t, s) = time_default(|| drop(ops::sum(&a).expect("sum")));
    let gbs = 4.0 * a.numel() as f64 / t * 1e-9;
    emit("sum_16M", t * 1e3, "ms", &[("gbs", round(gbs, 2).into()), sp(s)]);
    let m = ops::randn(&[4096, 4096])?;
    let (t, s) = time_default(|| drop(ops::sum_dim(&m, Some(&[1]), false).expect("sum")));
    emit("sum_dim1_4096", t * 1e3, "ms", &[sp(s)]);
    let (t, s) = time_default(|| drop(ops::softmax(&m, -1, None).expect("softmax")));
    emit("softmax_4096", t * 1e3, "ms", &[sp(s)]);
    Ok(())
}
