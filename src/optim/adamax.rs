//! `torch.optim.Adamax` (Adam with the infinity norm; torch's single-tensor update).

use super::optimizer::{
    bump_step, check_betas, check_nonneg, int_default, params_with_grad, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Result, TensorOps};

/// Options of [`Adamax`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamaxOpts {
    /// Learning rate (default 2e-3).
    pub lr: f64,
    /// Running-average coefficients (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty (default 0).
    pub weight_decay: f64,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for AdamaxOpts {
    fn default() -> Self {
        AdamaxOpts {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// `torch.optim.Adamax`. Per-parameter state: `step`, `exp_avg`, `exp_inf`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Adamax, AdamaxOpts, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = Adamax::new(vec![w.clone()], AdamaxOpts { lr: 0.1, ..Default::default() }).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap(); // first step moves by about lr
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adamax {
    core: OptimizerCore,
}

const NAME: &str = "optim.Adamax";

impl Adamax {
    /// `torch.optim.Adamax(params, lr, betas, eps, weight_decay, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: AdamaxOpts) -> Result<Adamax> {
        check_nonneg(NAME, "learning rate", o.lr)?;
        check_nonneg(NAME, "epsilon value", o.eps)?;
        check_betas(NAME, o.betas)?;
        check_nonneg(NAME, "weight_decay value", o.weight_decay)?;
        let mut d = StateDict::new();
        d.insert("lr", o.lr);
        d.insert("betas", o.betas);
        d.insert("eps", o.eps);
        d.insert("weight_decay", int_default(o.weight_decay));
        d.insert("foreach", StateValue::None);
        d.insert("maximize", o.maximize);
        d.insert("differentiable", false);
        d.insert("capturable", false);
        Ok(Adamax {
            core: OptimizerCore::new(NAME, params.into(), d)?,
        })
    }
}

impl Optimizer for Adamax {
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
            let (beta1, beta2) = o.pair_of(NAME, "betas")?;
            let eps = o.f64_of(NAME, "eps")?;
            let weight_decay = o.f64_of(NAME, "weight_decay")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                let state = self.core.state_mut(&p);
                if state.is_empty() {
                    state.insert("step", scalar_f32(0.0)?);
                    state.insert("exp_avg", ops::zeros_like(&p)?);
                    state.insert("exp_inf", ops::zeros_like(&p)?);
                }
                let exp_avg = state.tensor_of(NAME, "exp_avg")?;
                let exp_inf = state.tensor_of(NAME, "exp_inf")?;
                let step = bump_step(&state.tensor_of(NAME, "step")?)?;
                let mut grad = grad;
                if weight_decay != 0.0 {
                    grad = grad.add_full(&p, weight_decay)?;
                }
                exp_avg.lerp_(&grad, 1.0 - beta1)?;
                let decayed = exp_inf.mul_scalar_(beta2)?;
                let norm = grad.abs()?.add_scalar_(eps, 1.0)?;
                exp_inf.copy_(&decayed.maximum(&norm)?, false)?;
                let bias_correction = 1.0 - beta1.powf(step);
                let clr = lr / bias_correction;
                p.addcdiv_full_(&exp_avg, &exp_inf, -clr)?;
            }
        }
        Ok(())
    }
}
