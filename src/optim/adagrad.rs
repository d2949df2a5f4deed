//! `torch.optim.Adagrad` (torch's single-tensor update, dense gradients).

use super::optimizer::{
    bump_step, check_nonneg, int_default, params_with_grad, py_float, scalar_f32, Optimizer, OptimizerCore, Params,
};
use crate::state_value::{StateDict, StateValue};
use crate::{ops, Error, Result, Tensor, TensorOps};

/// Options of [`Adagrad`] with torch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradOpts {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay per step (default 0).
    pub lr_decay: f64,
    /// L2 penalty (default 0).
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sums (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator (default 1e-10).
    pub eps: f64,
    /// Maximize the objective (default false).
    pub maximize: bool,
}

impl Default for AdagradOpts {
    fn default() -> Self {
        AdagradOpts {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// `torch.optim.Adagrad`. Per-parameter state (made at construction, as in
/// torch): `step`, `sum`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Adagrad, AdagradOpts, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = Adagrad::new(vec![w.clone()], AdagradOpts { lr: 0.5, ..Default::default() }).unwrap();
/// backward(&w.sum().unwrap()).unwrap();
/// opt.step().unwrap(); // sum = 1: w -= 0.5 * 1 / 1
/// assert!((w.to_vec::<f32>().unwrap()[0] - 0.5).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    core: OptimizerCore,
}

const NAME: &str = "optim.Adagrad";

fn init_state(core: &mut OptimizerCore, p: &Tensor, init: f64) -> Result<()> {
    let state = core.state_mut(p);
    state.insert("step", scalar_f32(0.0)?);
    state.insert("sum", ops::full_like(p, init)?);
    Ok(())
}

impl Adagrad {
    /// `torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize=…)`.
    pub fn new(params: impl Into<Params>, o: AdagradOpts) -> Result<Adagrad> {
        check_nonneg(NAME, "learning rate", o.lr)?;
        check_nonneg(NAME, "lr_decay value", o.lr_decay)?;
        check_nonneg(NAME, "weight_decay value", o.weight_decay)?;
        if o.initial_accumulator_value < 0.0 {
            return Err(Error::invalid(
                NAME,
                format!(
                    "Invalid initial_accumulator_value value: {}",
                    py_float(o.initial_accumulator_value)
                ),
            ));
        }
        check_nonneg(NAME, "epsilon value", o.eps)?;
        let mut d = StateDict::new();
        d.insert("lr", o.lr);
        d.insert("lr_decay", int_default(o.lr_decay));
        d.insert("eps", o.eps);
        d.insert("weight_decay", int_default(o.weight_decay));
        d.insert("initial_accumulator_value", int_default(o.initial_accumulator_value));
        d.insert("foreach", StateValue::None);
        d.insert("maximize", o.maximize);
        d.insert("differentiable", false);
        d.insert("fused", StateValue::None);
        let mut core = OptimizerCore::new(NAME, params.into(), d)?;
        let _g = crate::tls::no_grad();
        for gi in 0..core.param_groups().len() {
            let group = core.param_groups()[gi].clone();
            let init = group.options().f64_of(NAME, "initial_accumulator_value")?;
            for p in &group.params {
                init_state(&mut core, p, init)?;
            }
        }
        Ok(Adagrad { core })
    }
}

impl Optimizer for Adagrad {
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
            let lr_decay = o.f64_of(NAME, "lr_decay")?;
            let eps = o.f64_of(NAME, "eps")?;
            let weight_decay = o.f64_of(NAME, "weight_decay")?;
            let maximize = o.bool_of(NAME, "maximize")?;
            let init = o.f64_of(NAME, "initial_accumulator_value")?;
            for (p, grad) in params_with_grad(&group, maximize)? {
                if !matches!(self.core.state(&p), Some(s) if !s.is_empty()) {
                    // A group added after construction: torch only fills state in
                    // `__init__`; starting it here keeps such a group usable.
                    init_state(&mut self.core, &p, init)?;
                }
                let state = self.core.state_mut(&p);
                let sum = state.tensor_of(NAME, "sum")?;
                let step = bump_step(&state.tensor_of(NAME, "step")?)?;
                let mut grad = grad;
                if weight_decay != 0.0 {
                    grad = grad.add_full(&p, weight_decay)?;
                }
                let clr = lr / (1.0 + (step - 1.0) * lr_decay);
                sum.addcmul_full_(&grad, &grad, 1.0)?;
                let std = sum.sqrt()?.add_scalar_(eps, 1.0)?;
                p.addcdiv_full_(&grad, &std, -clr)?;
            }
        }
        Ok(())
    }
}
