//! `LambdaLR`: the base rate times a user function of the epoch.

use super::base::{rule_scheduler, Rule, SchedulerBase};
use crate::optim::Optimizer;
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result};

/// A learning-rate multiplier as a function of the epoch.
pub type LrLambda = Box<dyn Fn(i64) -> f64 + Send + Sync>;

/// `LambdaLR`: each group's rate is `initial_lr * lr_lambda(epoch)`.
/// Closures are not saved in the state dict (torch saves `None` for plain
/// functions, too).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{LRScheduler, LambdaLR};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = LambdaLR::new(&mut opt, vec![Box::new(|e| 0.5f64.powi(e as i32))], -1).unwrap();
/// s.step(&mut opt).unwrap();
/// assert_eq!(s.get_last_lr(), vec![0.5]);
/// ```
pub struct LambdaLR {
    lr_lambdas: Vec<LrLambda>,
    base: SchedulerBase,
}

impl std::fmt::Debug for LambdaLR {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaLR")
            .field("lr_lambdas", &self.lr_lambdas.len())
            .field("base", &self.base)
            .finish()
    }
}

impl LambdaLR {
    /// `LambdaLR(optimizer, lr_lambda, last_epoch=-1)`: one closure for every
    /// group, or one per group.
    pub fn new(opt: &mut dyn Optimizer, lr_lambdas: Vec<LrLambda>, last_epoch: i64) -> Result<LambdaLR> {
        let n = opt.param_groups().len();
        let lr_lambdas = match lr_lambdas.len() {
            1 if n > 1 => {
                let f = std::sync::Arc::new(lr_lambdas.into_iter().next().expect("one closure"));
                (0..n)
                    .map(|_| {
                        let f = f.clone();
                        Box::new(move |e| f(e)) as LrLambda
                    })
                    .collect()
            }
            k if k == n => lr_lambdas,
            k => {
                return Err(Error::invalid(
                    Self::NAME,
                    format!("Expected {n} lr_lambdas, but got {k}"),
                ));
            }
        };
        let base = SchedulerBase::new(Self::NAME, opt, last_epoch)?;
        let mut s = LambdaLR { lr_lambdas, base };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for LambdaLR {
    const NAME: &'static str = "lr_scheduler.LambdaLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, _opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let e = self.base.last_epoch;
        Ok(self
            .lr_lambdas
            .iter()
            .zip(&self.base.base_lrs)
            .map(|(f, b)| b * f(e))
            .collect())
    }
    fn write_after(&self, sd: &mut StateDict) {
        sd.insert(
            "lr_lambdas",
            StateValue::List(vec![StateValue::None; self.lr_lambdas.len()]),
        );
    }
}
rule_scheduler!(LambdaLR);
