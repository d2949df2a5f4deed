//! `torch.optim.Adam` and `torch.optim.AdamW` (Adam with decoupled weight
//! decay), torch's single-tensor update.

use super::optimizer::{
    bump_step, check_betas, check_nonneg, int_default, params_with_grad, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Result, TensorOps};

/// Options of [`Adam`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamOpts {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Running-average coefficients of the gradient and its square (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): L2 penalty, or decoupled when `decoupled_weight_decay`.
    pub weight_decay: f64,
    /// The AMSGrad variant (default false).
    pub amsgrad: bool,
    /// Maximize the objective (default false).
    pub maximize: bool,
    /// Decay the weights directly (AdamW) instead of adding to the gradient (default false).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamOpts {
    fn default() -> Self {
        AdamOpts {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

/// Options of [`AdamW`]: torch's defaults (`weight_decay=1e-2`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWOpts {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Running-average coefficients (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay (default 1e-2).
    pub weight_decay: f64,
    /// The AMSGrad variant (default false).
    pub amsgrad: bool,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for AdamWOpts {
    fn default() -> Self {
        AdamWOpts {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

/// `torch.optim.Adam`. Per-parameter state: `step` (float32 0-dim tensor),
/// `exp_avg`, `exp_avg_sq`, and `max_exp_avg_sq` with `amsgrad`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Adam, AdamOpts, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = Adam::new(vec![w.clone()], AdamOpts { lr: 0.1, ..Default::default() }).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap(); // the first Adam step moves by lr
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.9).abs() < 1e-6);
/// let bad = Adam::new(vec![w], AdamOpts { betas: (1.0, 0.999), ..Default::default() });
/// assert!(bad.unwrap_err().to_string().contains("Invalid beta parameter at index 0: 1.0"));
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    core: OptimizerCore,
}

/// `torch.optim.AdamW`: [`Adam`] with `decoupled_weight_decay=True` and `weight_decay=1e-2`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{AdamW, AdamWOpts, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let opt = AdamW::new(vec![w], AdamWOpts::default()).unwrap();
/// assert_eq!(opt.param_groups()[0].get("decoupled_weight_decay").unwrap().as_bool(), Some(true));
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    core: OptimizerCore,
}

fn adam_core(name: &'static str, params: Params, o: AdamOpts) -> Result<OptimizerCore> {
    check_nonneg(name, "learning rate", o.lr)?;
    check_nonneg(name, "epsilon value", o.eps)?;
    check_betas(name, o.betas)?;
    check_nonneg(name, "weight_decay value", o.weight_decay)?;
    let mut d = StateDict::new();
    d.insert("lr", o.lr);
    d.insert("betas", o.betas);
    d.insert("eps", o.eps);
    d.insert("weight_decay", int_default(o.weight_decay));
    d.insert("amsgrad", o.amsgrad);
    d.insert("maximize", o.maximize);
    d.insert("foreach", StateValue::None);
    d.insert("capturable", false);
    d.insert("differentiable", false);
    d.insert("fused", StateValue::None);
    d.insert("decoupled_weight_decay", o.decoupled_weight_decay);
    OptimizerCore::new(name, params, d)
}

impl Adam {
    /// `torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad, maximize=…, decoupled_weight_decay=…)`.
    pub fn new(params: impl Into<Params>, opts: AdamOpts) -> Result<Adam> {
        Ok(Adam {
            core: adam_core("optim.Adam", params.into(), opts)?,
        })
    }
}

impl AdamW {
    /// `torch.optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: AdamWOpts) -> Result<AdamW> {
        let opts = AdamOpts {
            lr: o.lr,
            betas: o.betas,
            eps: o.eps,
            weight_decay: o.weight_decay,
            amsgrad: o.amsgrad,
            maximize: o.maximize,
            decoupled_weight_decay: true,
        };
        Ok(AdamW {
            core: adam_core("optim.AdamW", params.into(), opts)?,
        })
    }
}

/// One Adam step over every group (torch's `_single_tensor_adam`).
fn adam_step(core: &mut OptimizerCore) -> Result<()> {
    let name = core.name();
    let _g = crate::tls::no_grad();
    for gi in 0..core.param_groups().len() {
        let group = core.param_groups()[gi].clone();
        core.check_unsupported(&group)?;
        let o = group.options();
        let lr = o.f64_of(name, "lr")?;
        let (beta1, beta2) = o.pair_of(name, "betas")?;
        let eps = o.f64_of(name, "eps")?;
        let weight_decay = o.f64_of(name, "weight_decay")?;
        let amsgrad = o.bool_of(name, "amsgrad")?;
        let maximize = o.bool_of(name, "maximize")?;
        let decoupled = o.bool_of(name, "decoupled_weight_decay")?;
        for (p, grad) in params_with_grad(&group, maximize)? {
            let state = core.state_mut(&p);
            if state.is_empty() {
                state.insert("step", scalar_f32(0.0)?);
                state.insert("exp_avg", ops::zeros_like(&p)?);
                state.insert("exp_avg_sq", ops::zeros_like(&p)?);
                if amsgrad {
                    state.insert("max_exp_avg_sq", ops::zeros_like(&p)?);
                }
            }
            let exp_avg = state.tensor_of(name, "exp_avg")?;
            let exp_avg_sq = state.tensor_of(name, "exp_avg_sq")?;
            let step = bump_step(&state.tensor_of(name, "step")?)?;
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
            let step_size = lr / bias_correction1;
            let bias_correction2_sqrt = bias_correction2.powf(0.5);
            let denom = if amsgrad {
                let max = state.tensor_of(name, "max_exp_avg_sq")?;
                max.copy_(&max.maximum(&exp_avg_sq)?, false)?;
                max.sqrt()?.div_scalar(bias_correction2_sqrt)?.add_scalar_(eps, 1.0)?
            } else {
                exp_avg_sq
                    .sqrt()?
                    .div_scalar(bias_correction2_sqrt)?
                    .add_scalar_(eps, 1.0)?
            };
            p.addcdiv_full_(&exp_avg, &denom, -step_size)?;
        }
    }
    Ok(())
}

impl Optimizer for Adam {
    fn core(&self) -> &OptimizerCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut OptimizerCore {
        &mut self.core
    }
    fn step(&mut self) -> Result<()> {
        adam_step(&mut self.core)
    }
}

impl Optimizer for AdamW {
    fn core(&self) -> &OptimizerCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut OptimizerCore {
        &mut self.core
    }
    fn step(&mut self) -> Result<()> {
        adam_step(&mut self.core)
    }
}
