//! Timing of training steps split into phases, as `torch_bench.py`'s
//! `train_phases`: zero_grad / forward + loss / backward / optimizer step.

use crate::timing::median;
use frankentorch::nn::functional as F;
use frankentorch::optim::Optimizer;
use frankentorch::prelude::*;
use std::time::Instant;

/// Per-step samples (seconds) of each phase.
#[derive(Default)]
pub struct Phases {
    /// Whole step.
    pub step: Vec<f64>,
    /// Forward and loss.
    pub fwd: Vec<f64>,
    /// `backward(&loss)`.
    pub bwd: Vec<f64>,
    /// `optimizer.step()`.
    pub opt: Vec<f64>,
}

impl Phases {
    /// Median of a phase's samples in milliseconds.
    pub fn median_ms(samples: &[f64]) -> f64 {
        median(&mut samples.to_vec()) * 1e3
    }
}

/// Runs `warmup + steps` training steps of `forward` (the model) with
/// cross-entropy against `y`, recording the phases of the last `steps`.
pub fn train_phases(
    forward: &dyn Fn(&Tensor) -> Result<Tensor>,
    opt: &mut dyn Optimizer,
    x: &Tensor,
    y: &Tensor,
    steps: usize,
    warmup: usize,
) -> Result<Phases> {
    let mut ph = Phases::default();
    for i in 0..warmup + steps {
        let t0 = Instant::now();
        opt.zero_grad(true)?;
        let t1 = Instant::now();
        let loss = F::cross_entropy(&forward(x)?, y, Default::default())?;
        let t2 = Instant::now();
        backward(&loss)?;
        let t3 = Instant::now();
        opt.step()?;
        let t4 = Instant::now();
        if i >= warmup {
            ph.step.push((t4 - t0).as_secs_f64());
            ph.fwd.push((t2 - t1).as_secs_f64());
            ph.bwd.push((t3 - t2).as_secs_f64());
            ph.opt.push((t4 - t3).as_secs_f64());
        }
    }
    Ok(ph)
}
