//! Multiplicative schedules: `StepLR`, `MultiStepLR`, `ConstantLR`,
//! `LinearLR`, `ExponentialLR`.

use super::base::{group_lrs, read_f64, read_i64, rule_scheduler, Rule, SchedulerBase};
use crate::optim::Optimizer;
use crate::state_value::{DictKey, StateDict, StateValue};
use crate::{Error, Result};

fn scaled(opt: &dyn Optimizer, by: f64) -> Result<Vec<f64>> {
    Ok(group_lrs(opt)?.into_iter().map(|lr| lr * by).collect())
}

/// Options of [`StepLR`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLROpts {
    /// Decay factor (default 0.1).
    pub gamma: f64,
    /// The epoch to resume from (default -1: a fresh start).
    pub last_epoch: i64,
}
impl Default for StepLROpts {
    fn default() -> Self {
        StepLROpts {
            gamma: 0.1,
            last_epoch: -1,
        }
    }
}

/// `StepLR`: multiplies the rate by `gamma` every `step_size` epochs.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{LRScheduler, StepLR};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = StepLR::new(&mut opt, 1, Default::default()).unwrap();
/// s.step(&mut opt).unwrap();
/// assert!((s.get_last_lr()[0] - 0.1).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: i64,
    gamma: f64,
    base: SchedulerBase,
}

impl StepLR {
    /// `StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)`.
    pub fn new(opt: &mut dyn Optimizer, step_size: i64, o: StepLROpts) -> Result<StepLR> {
        if step_size <= 0 {
            // torch would divide by zero (ZeroDivisionError) on the first step.
            return Err(Error::invalid(
                Self::NAME,
                format!("step_size must be positive, got {step_size}"),
            ));
        }
        let base = SchedulerBase::new(Self::NAME, opt, o.last_epoch)?;
        let mut s = StepLR {
            step_size,
            gamma: o.gamma,
            base,
        };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for StepLR {
    const NAME: &'static str = "lr_scheduler.StepLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let e = self.base.last_epoch;
        if e == 0 || e.rem_euclid(self.step_size) != 0 {
            return group_lrs(opt);
        }
        scaled(opt, self.gamma)
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let k = self.base.last_epoch.div_euclid(self.step_size) as f64;
        Some(self.base.base_lrs.iter().map(|b| b * self.gamma.powf(k)).collect())
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("step_size", self.step_size);
        sd.insert("gamma", self.gamma);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        read_i64(Self::NAME, sd, "step_size", &mut self.step_size)?;
        read_f64(Self::NAME, sd, "gamma", &mut self.gamma)
    }
}
rule_scheduler!(StepLR);

/// Options of [`MultiStepLR`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiStepLROpts {
    /// Decay factor (default 0.1).
    pub gamma: f64,
    /// The epoch to resume from (default -1).
    pub last_epoch: i64,
}
impl Default for MultiStepLROpts {
    fn default() -> Self {
        MultiStepLROpts {
            gamma: 0.1,
            last_epoch: -1,
        }
    }
}

/// `MultiStepLR`: multiplies the rate by `gamma` at each milestone (a
/// milestone listed twice multiplies twice, as torch's `Counter`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{LRScheduler, MultiStepLR, MultiStepLROpts};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = MultiStepLR::new(&mut opt, vec![2, 2], MultiStepLROpts { gamma: 0.5, ..Default::default() }).unwrap();
/// s.step(&mut opt).unwrap();
/// s.step(&mut opt).unwrap();
/// assert_eq!(s.get_last_lr(), vec![0.25]);
/// ```
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    /// (milestone, count) in first-seen order, as `collections.Counter`.
    milestones: Vec<(i64, i64)>,
    gamma: f64,
    base: SchedulerBase,
}

impl MultiStepLR {
    /// `MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)`.
    pub fn new(opt: &mut dyn Optimizer, milestones: Vec<i64>, o: MultiStepLROpts) -> Result<MultiStepLR> {
        let mut counter: Vec<(i64, i64)> = vec![];
        for m in milestones {
            match counter.iter_mut().find(|(k, _)| *k == m) {
                Some(slot) => slot.1 += 1,
                None => counter.push((m, 1)),
            }
        }
        let base = SchedulerBase::new(Self::NAME, opt, o.last_epoch)?;
        let mut s = MultiStepLR {
            milestones: counter,
            gamma: o.gamma,
            base,
        };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for MultiStepLR {
    const NAME: &'static str = "lr_scheduler.MultiStepLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        match self.milestones.iter().find(|(m, _)| *m == self.base.last_epoch) {
            None => group_lrs(opt),
            Some((_, count)) => scaled(opt, self.gamma.powf(*count as f64)),
        }
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let passed: i64 = self
            .milestones
            .iter()
            .filter(|(m, _)| *m <= self.base.last_epoch)
            .map(|(_, c)| c)
            .sum();
        Some(
            self.base
                .base_lrs
                .iter()
                .map(|b| b * self.gamma.powf(passed as f64))
                .collect(),
        )
    }
    fn write_before(&self, sd: &mut StateDict) {
        let mut counter = StateDict::new();
        for (m, c) in &self.milestones {
            counter.insert(*m, *c);
        }
        sd.insert("milestones", counter);
        sd.insert("gamma", self.gamma);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        if let Some(v) = sd.get("milestones") {
            let d = v
                .as_dict()
                .ok_or_else(|| Error::invalid(Self::NAME, "'milestones' must be a dict"))?;
            let mut out = vec![];
            for (k, c) in d.iter() {
                match (k, c) {
                    (DictKey::Int(m), StateValue::Int(c)) => out.push((*m, *c)),
                    _ => return Err(Error::invalid(Self::NAME, "'milestones' must map int to int")),
                }
            }
            self.milestones = out;
        }
        read_f64(Self::NAME, sd, "gamma", &mut self.gamma)
    }
}
rule_scheduler!(MultiStepLR);

/// Options of [`ConstantLR`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantLROpts {
    /// The factor applied until `total_iters` (default 1/3).
    pub factor: f64,
    /// Epochs with the reduced rate (default 5).
    pub total_iters: i64,
    /// The epoch to resume from (default -1).
    pub last_epoch: i64,
}
impl Default for ConstantLROpts {
    fn default() -> Self {
        ConstantLROpts {
            factor: 1.0 / 3.0,
            total_iters: 5,
            last_epoch: -1,
        }
    }
}

/// `ConstantLR`: the rate times `factor` until epoch `total_iters`, then the base rate.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{ConstantLR, ConstantLROpts, LRScheduler};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let s = ConstantLR::new(&mut opt, ConstantLROpts { factor: 0.5, ..Default::default() }).unwrap();
/// assert_eq!(s.get_last_lr(), vec![0.5]);
/// ```
#[derive(Clone, Debug)]
pub struct ConstantLR {
    factor: f64,
    total_iters: i64,
    base: SchedulerBase,
}

impl ConstantLR {
    /// `ConstantLR(optimizer, factor=1/3, total_iters=5, last_epoch=-1)`.
    pub fn new(opt: &mut dyn Optimizer, o: ConstantLROpts) -> Result<ConstantLR> {
        if o.factor > 1.0 || o.factor < 0.0 {
            return Err(Error::invalid(
                Self::NAME,
                "Constant multiplicative factor expected to be between 0 and 1.",
            ));
        }
        let base = SchedulerBase::new(Self::NAME, opt, o.last_epoch)?;
        let mut s = ConstantLR {
            factor: o.factor,
            total_iters: o.total_iters,
            base,
        };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for ConstantLR {
    const NAME: &'static str = "lr_scheduler.ConstantLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        if self.base.last_epoch == 0 {
            return scaled(opt, self.factor);
        }
        if self.base.last_epoch != self.total_iters {
            return group_lrs(opt);
        }
        scaled(opt, 1.0 / self.factor)
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let after = if self.base.last_epoch >= self.total_iters {
            1.0 - self.factor
        } else {
            0.0
        };
        Some(self.base.base_lrs.iter().map(|b| b * (self.factor + after)).collect())
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("factor", self.factor);
        sd.insert("total_iters", self.total_iters);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        read_f64(Self::NAME, sd, "factor", &mut self.factor)?;
        read_i64(Self::NAME, sd, "total_iters", &mut self.total_iters)
    }
}
rule_scheduler!(ConstantLR);

/// Options of [`LinearLR`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLROpts {
    /// Factor at epoch 0 (default 1/3).
    pub start_factor: f64,
    /// Factor from `total_iters` on (default 1).
    pub end_factor: f64,
    /// Epochs of the linear ramp (default 5).
    pub total_iters: i64,
    /// The epoch to resume from (default -1).
    pub last_epoch: i64,
}
impl Default for LinearLROpts {
    fn default() -> Self {
        LinearLROpts {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
            last_epoch: -1,
        }
    }
}

/// `LinearLR`: the factor moves linearly from `start_factor` to `end_factor`
/// over `total_iters` epochs.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{LRScheduler, LinearLR, LinearLROpts};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = LinearLR::new(&mut opt, LinearLROpts { start_factor: 0.5, total_iters: 2, ..Default::default() }).unwrap();
/// s.step(&mut opt).unwrap();
/// assert!((s.get_last_lr()[0] - 0.75).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct LinearLR {
    start_factor: f64,
    end_factor: f64,
    total_iters: i64,
    base: SchedulerBase,
}

impl LinearLR {
    /// `LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)`.
    pub fn new(opt: &mut dyn Optimizer, o: LinearLROpts) -> Result<LinearLR> {
        if o.start_factor > 1.0 || o.start_factor <= 0.0 {
            return Err(Error::invalid(
                Self::NAME,
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.",
            ));
        }
        if o.end_factor > 1.0 || o.end_factor < 0.0 {
            return Err(Error::invalid(
                Self::NAME,
                "Ending multiplicative factor expected to be between 0 and 1.",
            ));
        }
        let base = SchedulerBase::new(Self::NAME, opt, o.last_epoch)?;
        let mut s = LinearLR {
            start_factor: o.start_factor,
            end_factor: o.end_factor,
            total_iters: o.total_iters,
            base,
        };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for LinearLR {
    const NAME: &'static str = "lr_scheduler.LinearLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let e = self.base.last_epoch;
        if e == 0 {
            return scaled(opt, self.start_factor);
        }
        if self.base.is_initial || e > self.total_iters {
            return group_lrs(opt);
        }
        let span = self.end_factor - self.start_factor;
        let by = 1.0 + span / (self.total_iters as f64 * self.start_factor + (e - 1) as f64 * span);
        scaled(opt, by)
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let span = self.end_factor - self.start_factor;
        let done = self.total_iters.min(self.base.last_epoch) as f64;
        Some(
            self.base
                .base_lrs
                .iter()
                .map(|b| b * (self.start_factor + span * done / self.total_iters as f64))
                .collect(),
        )
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("start_factor", self.start_factor);
        sd.insert("end_factor", self.end_factor);
        sd.insert("total_iters", self.total_iters);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        read_f64(Self::NAME, sd, "start_factor", &mut self.start_factor)?;
        read_f64(Self::NAME, sd, "end_factor", &mut self.end_factor)?;
        read_i64(Self::NAME, sd, "total_iters", &mut self.total_iters)
    }
}
rule_scheduler!(LinearLR);

/// `ExponentialLR`: multiplies the rate by `gamma` every epoch.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{ExponentialLR, LRScheduler};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 2.0, ..Default::default() }).unwrap();
/// let mut s = ExponentialLR::new(&mut opt, 0.5, -1).unwrap();
/// s.step(&mut opt).unwrap();
/// assert_eq!(s.get_last_lr(), vec![1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    base: SchedulerBase,
}

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma, last_epoch=-1)` (torch's only default,
    /// `last_epoch=-1`, is passed explicitly).
    pub fn new(opt: &mut dyn Optimizer, gamma: f64, last_epoch: i64) -> Result<ExponentialLR> {
        let base = SchedulerBase::new(Self::NAME, opt, last_epoch)?;
        let mut s = ExponentialLR { gamma, base };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

impl Rule for ExponentialLR {
    const NAME: &'static str = "lr_scheduler.ExponentialLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        if self.base.is_initial {
            return group_lrs(opt);
        }
        scaled(opt, self.gamma)
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let e = self.base.last_epoch as f64;
        Some(self.base.base_lrs.iter().map(|b| b * self.gamma.powf(e)).collect())
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("gamma", self.gamma);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        read_f64(Self::NAME, sd, "gamma", &mut self.gamma)
    }
}
rule_scheduler!(ExponentialLR);
