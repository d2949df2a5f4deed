//! `torch.optim.RAdam` (rectified Adam; torch's single-tensor update).

use super::optimizer::{
    bump_step, check_betas, check_nonneg, int_default, params_with_grad, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Result, TensorOps};

/// Options of [`RAdam`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RAdamOpts {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Running-average coefficients (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0).
    pub weight_decay: f64,
    /// Decay the weights directly, as AdamW (default false).
    pub decoupled_weight_decay: bool,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for RAdamOpts {
    fn default() -> Self {
        RAdamOpts {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// `torch.optim.RAdam`. Per-parameter state: `step`, `exp_avg`, `exp_avg_sq`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, RAdam, RAdamOpts};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = RAdam::new(vec![w.clone()], RAdamOpts { lr: 0.1, ..Default::default() }).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap(); // early steps are un-rectified: w -= lr * exp_avg / bias_correction1
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RAdam {
    core: OptimizerCore,
}

const NAME: &str = "optim.RAdam";

impl RAdam {
    /// `torch.optim.RAdam(params, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: RAdamOpts) -> Result<RAdam> {
        check_nonneg(NAME, "learning rate", o.lr)?;
        check_nonneg(NAME, "epsilon value", o.eps)?;
        check_betas(NAME, o.betas)?;
        check_nonneg(NAME, "weight_decay value", o.weight_decay)?;
        let mut d = StateDict::new();
        d.insert("lr", o.lr);
        d.insert("betas", o.betas);
        d.insert("eps", o.eps);
        d.insert("weight_decay", int_default(o.weight_decay));
        d.insert("maximize", o.maximize);
        d.insert("foreach", StateValue::None);
        d.insert("capturable", false);
        d.insert("decoupled_weight_decay", o.decoupled_weight_decay);
        d.insert("differentiable", false);
        Ok(RAdam {
            core: OptimizerCore::new(NAME, params.into(), d)?,
        })
    }
}

impl Optimizer for RAdam {
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
            let decoupled = o.bool_of(NAME, "decoupled_weight_decay")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                let state = self.core.state_mut(&p);
                if state.is_empty() {
                    state.insert("step", scalar_f32(0.0)?);
                    state.insert("exp_avg", ops::zeros_like(&p)?);
                    state.insert("exp_avg_sq", ops::zeros_like(&p)?);
                }
                let exp_avg = state.tensor_of(NAME, "exp_avg")?;
                let exp_avg_sq = state.tensor_of(NAME, "exp_avg_sq")?;
                let step = bump_step(&state.tensor_of(NAME, "step")?)?;
                let mut grad = grad;
                if weight_decay != 0.0 {
                    if decoupled {
                        p.mul_scalar_(1.0 - lr * weight_decay)?;
                    } else {
                        grad = grad.add_full(&p, weight_decay)?;
                    }
                }
                exp_avg.lerp_(&grad, 1.0 - beta1)?;
                exp_avg_sq
                    .mul_scalar_(beta2)?
                    .addcmul_full_(&grad, &grad, 1.0 - beta2)?;
                let bias_correction1 = 1.0 - beta1.powf(step);
                let bias_correction2 = 1.0 - beta2.powf(step);
                let bias_corrected_exp_avg = exp_avg.div_scalar(bias_correction1)?;
                let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
                let rho_t = rho_inf - 2.0 * step * beta2.powf(step) / bias_correction2;
                if rho_t > 5.0 {
                    let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                        .powf(0.5);
                    let sqrt = exp_avg_sq.sqrt()?.add_scalar_(eps, 1.0)?;
                    // Python's `float / tensor` is `tensor.reciprocal() * float`.
                    let adaptive_lr = sqrt.reciprocal()?.mul_scalar(bias_correction2.powf(0.5))?;
                    let update = bias_corrected_exp_avg
                        .mul_scalar(lr)?
                        .mul(&adaptive_lr)?
                        .mul_scalar(rect)?;
                    p.add_full_(&update, -1.0)?;
                } else {
                    p.add_full_(&bias_corrected_exp_avg.mul_scalar(lr)?, -1.0)?;
                }
            }
        }
        Ok(())
    }
}
