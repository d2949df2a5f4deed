//! `torch.optim.SGD`: stochastic gradient descent with momentum, dampening,
//! Nesterov momentum, weight decay and `maximize` (torch's single-tensor update).

use super::optimizer::{check_nonneg, int_default, params_with_grad, Optimizer, OptimizerCore, Params};
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result, TensorOps};

/// Options of [`SGD`] with torch's defaults (`lr=1e-3`, everything else off).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdOpts {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Dampening for momentum (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false).
    pub nesterov: bool,
    /// Maximize the objective instead of minimizing (default false).
    pub maximize: bool,
}

impl Default for SgdOpts {
    fn default() -> Self {
        SgdOpts {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

/// `torch.optim.SGD`. Per-parameter state: `momentum_buffer` (when momentum != 0).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w.clone()], SgdOpts { lr: 0.1, momentum: 0.9, ..Default::default() }).unwrap();
/// for _ in 0..2 {
///     opt.zero_grad(true).unwrap();
///     backward(&w.sum().unwrap()).unwrap(); // grad = 1
///     opt.step().unwrap();
/// }
/// // buf: 1, then 1.9; w: 1 - 0.1 - 0.19
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.71).abs() < 1e-6);
/// assert!(SGD::new(vec![w], SgdOpts { lr: -1.0, ..Default::default() }).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct SGD {
    core: OptimizerCore,
}

const NAME: &str = "optim.SGD";

impl SGD {
    /// `torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, maximize=…)`.
    pub fn new(params: impl Into<Params>, opts: SgdOpts) -> Result<SGD> {
        check_nonneg(NAME, "learning rate", opts.lr)?;
        if opts.momentum < 0.0 {
            return Err(Error::invalid(
                NAME,
                format!("Invalid momentum value: {}", super::optimizer::py_float(opts.momentum)),
            ));
        }
        if opts.weight_decay < 0.0 {
            return Err(Error::invalid(
                NAME,
                format!(
                    "Invalid weight_decay value: {}",
                    super::optimizer::py_float(opts.weight_decay)
                ),
            ));
        }
        let mut d = StateDict::new();
        d.insert("lr", opts.lr);
        d.insert("momentum", int_default(opts.momentum));
        d.insert("dampening", int_default(opts.dampening));
        d.insert("weight_decay", int_default(opts.weight_decay));
        d.insert("nesterov", opts.nesterov);
        d.insert("maximize", opts.maximize);
        d.insert("foreach", StateValue::None);
        d.insert("differentiable", false);
        d.insert("fused", StateValue::None);
        if opts.nesterov && (opts.momentum <= 0.0 || opts.dampening != 0.0) {
            return Err(Error::invalid(
                NAME,
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        Ok(SGD {
            core: OptimizerCore::new(NAME, params.into(), d)?,
        })
    }
}

impl Optimizer for SGD {
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
            let dampening = o.f64_of(NAME, "dampening")?;
            let weight_decay = o.f64_of(NAME, "weight_decay")?;
            let nesterov = o.bool_of(NAME, "nesterov")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                let mut grad = grad;
                if weight_decay != 0.0 {
                    grad = grad.add_full(&p, weight_decay)?;
                }
                if momentum != 0.0 {
                    let state = self.core.state_mut(&p);
                    let buf = match state.get("momentum_buffer").and_then(|b| b.as_tensor()) {
                        None => crate::ops::clone(&grad.detach())?,
                        Some(buf) => {
                            buf.mul_scalar_(momentum)?.add_full_(&grad, 1.0 - dampening)?;
                            buf.clone()
                        }
                    };
                    state.insert("momentum_buffer", buf.clone());
                    grad = if nesterov { grad.add_full(&buf, momentum)? } else { buf };
                }
                p.add_full_(&grad, -lr)?;
            }
        }
        Ok(())
    }
}
