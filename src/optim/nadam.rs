//! `torch.optim.NAdam` (Adam with Nesterov momentum; torch's single-tensor update).

use super::optimizer::{
    bump_step, check_betas, check_nonneg, int_default, params_with_grad, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Result, TensorOps};

/// Options of [`NAdam`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NAdamOpts {
    /// Learning rate (default 2e-3).
    pub lr: f64,
    /// Running-average coefficients (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0).
    pub weight_decay: f64,
    /// Momentum decay (default 4e-3).
    pub momentum_decay: f64,
    /// Decay the weights directly, as AdamW (default false).
    pub decoupled_weight_decay: bool,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for NAdamOpts {
    fn default() -> Self {
        NAdamOpts {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// `torch.optim.NAdam`. Per-parameter state: `step`, `mu_product` (float32
/// 0-dim tensors), `exp_avg`, `exp_avg_sq`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{NAdam, NAdamOpts, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = NAdam::new(vec![w.clone()], NAdamOpts::default()).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap();
/// assert!(w.to_vec::<f32>().unwrap()[0] < 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct NAdam {
    core: OptimizerCore,
}

const NAME: &str = "optim.NAdam";

impl NAdam {
    /// `torch.optim.NAdam(params, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: NAdamOpts) -> Result<NAdam> {
        check_nonneg(NAME, "learning rate", o.lr)?;
        check_nonneg(NAME, "epsilon value", o.eps)?;
        check_betas(NAME, o.betas)?;
        check_nonneg(NAME, "weight_decay value", o.weight_decay)?;
        check_nonneg(NAME, "momentum_decay value", o.momentum_decay)?;
        let mut d = StateDict::new();
        d.insert("lr", o.lr);
        d.insert("betas", o.betas);
        d.insert("eps", o.eps);
        d.insert("weight_decay", int_default(o.weight_decay));
        d.insert("momentum_decay", o.momentum_decay);
        d.insert("decoupled_weight_decay", o.decoupled_weight_decay);
        d.insert("maximize", o.maximize);
        d.insert("foreach", StateValue::None);
        d.insert("capturable", false);
        d.insert("differentiable", false);
        Ok(NAdam {
            core: OptimizerCore::new(NAME, params.into(), d)?,
        })
    }
}

impl Optimizer for NAdam {
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
            let momentum_decay = o.f64_of(NAME, "momentum_decay")?;
            let decoupled = o.bool_of(NAME, "decoupled_weight_decay")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                let state = self.core.state_mut(&p);
                if state.is_empty() {
                    state.insert("step", scalar_f32(0.0)?);
                    state.insert("mu_product", scalar_f32(1.0)?);
                    state.insert("exp_avg", ops::zeros_like(&p)?);
                    state.insert("exp_avg_sq", ops::zeros_like(&p)?);
                }
                let exp_avg = state.tensor_of(NAME, "exp_avg")?;
                let exp_avg_sq = state.tensor_of(NAME, "exp_avg_sq")?;
                let mu_product = state.tensor_of(NAME, "mu_product")?;
                let step = bump_step(&state.tensor_of(NAME, "step")?)?;
                let bias_correction2 = 1.0 - beta2.powf(step);
                let mut grad = grad;
                if weight_decay != 0.0 {
                    if decoupled {
                        p.mul_scalar_(1.0 - lr * weight_decay)?;
                    } else {
                        grad = grad.add_full(&p, weight_decay)?;
                    }
                }
                let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(step * momentum_decay));
                let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((step + 1.0) * momentum_decay));
                mu_product.mul_scalar_(mu)?;
                exp_avg.lerp_(&grad, 1.0 - beta1)?;
                exp_avg_sq
                    .mul_scalar_(beta2)?
                    .addcmul_full_(&grad, &grad, 1.0 - beta2)?;
                let denom = exp_avg_sq.div_scalar(bias_correction2)?.sqrt()?;
                let mu_product_v = mu_product.to_f64_vec()[0];
                let mu_product_next = mu_product_v * mu_next;
                denom.add_scalar_(eps, 1.0)?;
                p.addcdiv_full_(&grad, &denom, -lr * (1.0 - mu) / (1.0 - mu_product_v))?;
                p.addcdiv_full_(&exp_avg, &denom, (-lr * mu_next) / (1.0 - mu_product_next))?;
            }
        }
        Ok(())
    }
}
