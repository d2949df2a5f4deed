//! `cnn_step_ms`: conv(1→32, 3)+ReLU, conv(32→64, 3)+ReLU, max_pool 2,
//! flatten, Linear(9216→128)+ReLU, Linear(128→10), cross-entropy,
//! SGD(lr 0.01, momentum 0.9), batch 64 of 1×28×28; 20 timed steps after 3
//! warm-up steps.

use crate::timing::{emit, info, sp, spread};
use crate::train::{train_phases, Phases};
use frankentorch::nn::functional as F;
use frankentorch::nn::{Conv2d, Linear, LinearConfig};
use frankentorch::optim::{SgdOpts, SGD};
use frankentorch::prelude::*;

/// torch_bench.py's `Net`.
struct Net {
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
}

impl Net {
    fn new() -> Result<Net> {
        Ok(Net {
            conv1: Conv2d::new(1, 32, [3, 3], Default::default())?,
            conv2: Conv2d::new(32, 64, [3, 3], Default::default())?,
            fc1: Linear::new(9216, 128, LinearConfig::default())?,
            fc2: Linear::new(128, 10, LinearConfig::default())?,
        })
    }

    fn parameters(&self) -> Vec<Tensor> {
        [
            self.conv1.parameters(),
            self.conv2.parameters(),
            self.fc1.parameters(),
            self.fc2.parameters(),
        ]
        .concat()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = F::relu(&self.conv1.forward(x)?)?;
        let x = F::relu(&self.conv2.forward(&x)?)?;
        let x = F::max_pool2d(&x, [2, 2], Default::default())?;
        let x = ops::flatten(&x, 1, -1)?;
        let x = F::relu(&self.fc1.forward(&x)?)?;
        self.fc2.forward(&x)
    }
}

/// Runs the suite.
pub fn run() -> Result<()> {
    let model = Net::new()?;
    let sgd = SgdOpts {
        lr: 0.01,
        momentum: 0.9,
        ..Default::default()
    };
    let mut opt = SGD::new(model.parameters(), sgd)?;
    let x = ops::randn(&[64, 1, 28, 28])?;
    let y = ops::randint(10, &[64])?;
    let ph = train_phases(&|x| model.forward(x), &mut opt, &x, &y, 20, 3)?;
    emit(
        "cnn_step_ms",
        Phases::median_ms(&ph.step),
        "ms",
        &[sp(spread(&ph.step))],
    );
    emit("cnn_forward_ms", Phases::median_ms(&ph.fwd), "ms", &[info()]);
    emit("cnn_backward_ms", Phases::median_ms(&ph.bwd), "ms", &[info()]);
    Ok(())
}
