//! `add_bcast_4096` (`[4096,4096] + [4096]`) and `add_transposed_4096`
//! (`a.t() + b` with a non-contiguous `a.t()`), in ms.

use crate::timing::{emit, sp, time_default};
use frankentorch::prelude::*;

/// Runs the suite.
pub fn run() -> Result<()> {
    let m = ops::randn(&[4096, 4096])?;
    let v = ops::randn(&[4096])?;
    let b = ops::randn(&[4096, 4096])?;
    let (t, s) = time_default(|| drop(ops::add(&m, &v).expect("add")));
    emit("add_bcast_4096", t * 1e3, "ms", &[sp(s)]);
    let mt = ops::t(&m)?;
    assert!(!mt.is_contiguous(), "a.t() must be a non-contiguous view");
    let (t, s) = time_default(|| drop(ops::add(&mt, &b).expect("add")));
    emit("add_transposed_4096", t * 1e3, "ms", &[sp(s)]);
    Ok(())
}
