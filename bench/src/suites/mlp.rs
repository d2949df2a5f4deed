//! `mlp_*`: 784-1024-1024-10 MLP with ReLU, batch 256, cross-entropy,
//! Adam(lr 1e-3); 30 timed steps after 5 warm-up steps.

use crate::timing::{emit, info, sp, spread, time_default};
use crate::train::{train_phases, Phases};
use frankentorch::nn::{Linear, LinearConfig, ReLU, Sequential};
use frankentorch::optim::{Adam, AdamOpts};
use frankentorch::prelude::*;

/// Runs the suite.
pub fn run() -> Result<()> {
    let lin = |i, o| Linear::new(i, o, LinearConfig::default());
    let model = Sequential::new()
        .append(lin(784, 1024)?)
        .append(ReLU::new())
        .append(lin(1024, 1024)?)
        .append(ReLU::new())
        .append(lin(1024, 10)?);
    let mut opt = Adam::new(
        model.parameters(),
        AdamOpts {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let x = ops::randn(&[256, 784])?;
    let y = ops::randint(10, &[256])?;
    let ph = train_phases(&|x| model.forward(x), &mut opt, &x, &y, 30, 5)?;
    let (fwd, bwd) = (Phases::median_ms(&ph.fwd), Phases::median_ms(&ph.bwd));
    emit(
        "mlp_step_ms",
        Phases::median_ms(&ph.step),
        "ms",
        &[sp(spread(&ph.step))],
    );
    emit(
        "mlp_forward_ms",
        fwd,
        "ms",
        &[("note", "forward+loss, grad mode on".into())],
    );
    emit("mlp_backward_ms", bwd, "ms", &[]);
    emit("mlp_optim_ms", Phases::median_ms(&ph.opt), "ms", &[info()]);
    emit("mlp_bwd_fwd_ratio", bwd / fwd, "x", &[]);
    let _no_grad = no_grad();
    let (t, s) = time_default(|| drop(model.forward(&x).expect("forward")));
    emit("mlp_forward_nograd_ms", t * 1e3, "ms", &[sp(s), info()]);
    Ok(())
}
