//! `torch.optim.RMSprop` (torch's single-tensor update).

use super::optimizer::{
    bump_step, check_nonneg, int_default, params_with_grad, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Result, TensorOps};

/// Options of [`RMSprop`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmspropOpts {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average (default 0.99).
    pub alpha: f64,
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Normalize by the estimated variance of the gradient (default false).
    pub centered: bool,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for RmspropOpts {
    fn default() -> Self {
        RmspropOpts {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// `torch.optim.RMSprop`. Per-parameter state: `step`, `square_avg`,
/// `momentum_buffer` (momentum > 0), `grad_avg` (centered).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, RMSprop, RmspropOpts};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = RMSprop::new(vec![w.clone()], RmspropOpts { alpha: 0.0, ..Default::default() }).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap(); // square_avg = 1, so w moves by lr
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.99).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RMSprop {
    core: OptimizerCore,
}

const NAME: &str = "optim.RMSprop";

impl RMSprop {
    /// `torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: RmspropOpts) -> Result<RMSprop> {
        check_nonneg(NAME, "learning rate", o.lr)?;
        check_nonneg(NAME, "epsilon value", o.eps)?;
        check_nonneg(NAME, "momentum value", o.momentum)?;
        check_nonneg(NAME, "weight_decay value", o.weight_decay)?;
        check_nonneg(NAME, "alpha value", o.alpha)?;
        let mut d = StateDict::new();
        d.insert("lr", o.lr);
        d.insert("momentum", int_default(o.momentum));
        d.insert("alpha", o.alpha);
        d.insert("eps", o.eps);
        d.insert("centered", o.centered);
        d.insert("weight_decay", int_default(o.weight_decay));
        d.insert("capturable", false);
        d.insert("foreach", StateValue::None);
        d.insert("maximize", o.maximize);
        d.insert("differentiable", false);
        Ok(RMSprop {
            core: OptimizerCore::new(NAME, params.into(), d)?,
        })
    }
}

impl Optimizer for RMSprop {
    fn core(&self) -> &OptimizerCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut OptimizerCore {
        &mut self.core
    }
    fn step(&mut self) -> Result<()> {
        let _g = crate::tls::no_grad();
        for gi in 0..self.core.param_groups().len() {
            let group = self.core.param_groups()[gi].clone();
            self.core.check_unsupported(&group)?;
            let o = group.options();
            let lr = o.f64_of(NAME, "lr")?;
            let momentum = o.f64_of(NAME, "momentum")?;
            let alpha = o.f64_of(NAME, "alpha")?;
            let eps = o.f64_of(NAME, "eps")?;
            let centered = o.bool_of(NAME, "centered")?;
            let weight_decay = o.f64_of(NAME, "weight_decay")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                let state = self.core.state_mut(&p);
                if state.is_empty() {
                    state.insert("step", scalar_f32(0.0)?);
                    state.insert("square_avg", ops::zeros_like(&p)?);
                    if momentum > 0.0 {
                        state.insert("momentum_buffer", ops::zeros_like(&p)?);
                    }
                    if centered {
                        state.insert("grad_avg", ops::zeros_like(&p)?);
                    }
                }
                let square_avg = state.tensor_of(NAME, "square_avg")?;
                bump_step(&state.tensor_of(NAME, "step")?)?;
                let mut grad = grad;
                if weight_decay != 0.0 {
                    grad = grad.add_full(&p, weight_decay)?;
                }
                square_avg
                    .mul_scalar_(alpha)?
                    .addcmul_full_(&grad, &grad, 1.0 - alpha)?;
                let avg = if centered {
                    let grad_avg = state.tensor_of(NAME, "grad_avg")?;
                    grad_avg.lerp_(&grad, 1.0 - alpha)?;
                    square_avg.addcmul_full(&grad_avg, &grad_avg, -1.0)?.sqrt_()?
                } else {
                    square_avg.sqrt()?
                };
                let avg = avg.add_scalar_(eps, 1.0)?;
                if momentum > 0.0 {
                    let buf = state.tensor_of(NAME, "momentum_buffer")?;
                    buf.mul_scalar_(momentum)?.addcdiv_(&grad, &avg)?;
                    p.add_full_(&buf, -lr)?;
                } else {
                    p.addcdiv_full_(&grad, &avg, -lr)?;
                }
            }
        }
        Ok(())
    }
}
