//! The scheduler trait and the state every epoch-based scheduler shares
//! (torch's `LRScheduler` base class).

use crate::optim::Optimizer;
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result};

/// A learning-rate scheduler (`torch.optim.lr_scheduler.LRScheduler`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{ExponentialLR, LRScheduler};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = ExponentialLR::new(&mut opt, 0.5, -1).unwrap();
/// s.step(&mut opt).unwrap();
/// assert_eq!(s.get_last_lr(), vec![0.5]);
/// assert_eq!(s.last_epoch(), 1);
/// assert_eq!(s.state_dict().get("last_epoch").unwrap().as_i64(), Some(1));
/// ```
pub trait LRScheduler {
    /// Advances one epoch and writes the new `lr` into every group (`scheduler.step()`).
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()>;
    /// The learning rates of the last step (`get_last_lr()`).
    fn get_last_lr(&self) -> Vec<f64>;
    /// The epoch counter (`last_epoch`).
    fn last_epoch(&self) -> i64;
    /// `scheduler.state_dict()`: the scheduler's attributes under torch's names
    /// (closures are not saved, as in torch).
    fn state_dict(&self) -> StateDict;
    /// `scheduler.load_state_dict(sd)`: restores the attributes present in `sd`.
    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()>;
    /// torch's `_initial_step()`: resets the step count and takes the first step
    /// (used by constructors and [`SequentialLR`](super::SequentialLR)).
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()>;
    /// torch's `_update_lr(epoch)`: jumps to `epoch` (closed form where torch has one).
    fn update_lr_to(&mut self, opt: &mut dyn Optimizer, epoch: i64) -> Result<()>;
    /// Decrements `last_epoch` (recursively for composite schedulers;
    /// torch's `SequentialLR.recursive_undo`).
    fn undo_epoch(&mut self);
}

/// A number given once for all groups or once per group (torch's
/// `float | list[float]` arguments such as `max_lr` and `min_lr`).
///
/// ```
/// use frankentorch::optim::lr_scheduler::PerGroup;
/// assert_eq!(PerGroup::from(0.1).values("max_lr", "x", 2).unwrap(), vec![0.1, 0.1]);
/// assert!(PerGroup::from(vec![0.1]).values("max_lr", "x", 2).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PerGroup {
    /// One value for every group.
    All(f64),
    /// One value per group, in group order.
    Each(Vec<f64>),
}

impl From<f64> for PerGroup {
    fn from(v: f64) -> Self {
        PerGroup::All(v)
    }
}
impl From<Vec<f64>> for PerGroup {
    fn from(v: Vec<f64>) -> Self {
        PerGroup::Each(v)
    }
}

impl PerGroup {
    /// The value of each of `n` groups (torch's `_format_param` and its error).
    pub fn values(&self, name: &str, who: &str, n: usize) -> Result<Vec<f64>> {
        match self {
            PerGroup::All(v) => Ok(vec![*v; n]),
            PerGroup::Each(v) if v.len() == n => Ok(v.clone()),
            PerGroup::Each(v) => Err(Error::invalid(
                who,
                format!(
                    "{name} must have the same length as optimizer.param_groups. {name} has {} values, param_groups has {n}.",
                    v.len()
                ),
            )),
        }
    }
}

/// The attributes torch's `LRScheduler.__init__` and `step()` keep.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::SchedulerBase;
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 0.3, ..Default::default() }).unwrap();
/// let b = SchedulerBase::new("lr_scheduler.Custom", &mut opt, -1).unwrap();
/// assert_eq!(b.base_lrs, vec![0.3]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerBase {
    /// The groups' `initial_lr`.
    pub base_lrs: Vec<f64>,
    /// The epoch counter.
    pub last_epoch: i64,
    /// Number of `step()` calls since the initial step.
    pub step_count: i64,
    /// True only inside the initial step.
    pub is_initial: bool,
    /// True only while `step()` computes the new rates.
    pub get_lr_called_within_step: bool,
    /// The groups' learning rates after the last step.
    pub last_lr: Vec<f64>,
}

impl SchedulerBase {
    /// torch's `LRScheduler.__init__` up to the initial step: sets each group's
    /// `initial_lr` (a fresh start, `last_epoch == -1`) or requires it (resuming).
    pub fn new(who: &str, opt: &mut dyn Optimizer, last_epoch: i64) -> Result<SchedulerBase> {
        if last_epoch == -1 {
            for g in opt.param_groups_mut() {
                let lr = g.lr()?;
                g.options_mut().set_default("initial_lr", lr);
            }
        } else {
            for (i, g) in opt.param_groups().iter().enumerate() {
                if g.get("initial_lr").is_none() {
                    return Err(Error::invalid(
                        who,
                        format!(
                            "param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with last_epoch >= 0."
                        ),
                    ));
                }
            }
        }
        let base_lrs = opt
            .param_groups()
            .iter()
            .map(|g| g.options().f64_of(who, "initial_lr"))
            .collect::<Result<_>>()?;
        Ok(SchedulerBase {
            base_lrs,
            last_epoch,
            step_count: 0,
            is_initial: false,
            get_lr_called_within_step: false,
            last_lr: vec![],
        })
    }

    /// Writes the base attributes in torch's `__dict__` order.
    pub fn write(&self, sd: &mut StateDict) {
        sd.insert("base_lrs", self.base_lrs.clone());
        sd.insert("last_epoch", self.last_epoch);
        sd.insert("_step_count", self.step_count);
        sd.insert("_is_initial", self.is_initial);
        sd.insert("_get_lr_called_within_step", self.get_lr_called_within_step);
        sd.insert("_last_lr", self.last_lr.clone());
    }

    /// Restores the base attributes present in `sd` (`__dict__.update`).
    pub fn read(&mut self, who: &str, sd: &StateDict) -> Result<()> {
        if sd.contains_key("base_lrs") {
            self.base_lrs = floats_of(who, sd, "base_lrs")?;
        }
        if sd.contains_key("last_epoch") {
            self.last_epoch = sd.i64_of(who, "last_epoch")?;
        }
        if sd.contains_key("_step_count") {
            self.step_count = sd.i64_of(who, "_step_count")?;
        }
        if sd.contains_key("_is_initial") {
            self.is_initial = sd.bool_of(who, "_is_initial")?;
        }
        if sd.contains_key("_get_lr_called_within_step") {
            self.get_lr_called_within_step = sd.bool_of(who, "_get_lr_called_within_step")?;
        }
        if sd.contains_key("_last_lr") {
            self.last_lr = floats_of(who, sd, "_last_lr")?;
        }
        Ok(())
    }
}

/// A list of numbers stored under `key`.
pub(crate) fn floats_of(who: &str, sd: &StateDict, key: &str) -> Result<Vec<f64>> {
    let v = sd.require(who, key)?;
    v.as_seq()
        .and_then(|s| s.iter().map(StateValue::as_f64).collect::<Option<Vec<_>>>())
        .ok_or_else(|| Error::invalid(who, format!("'{key}' must be a list of numbers")))
}

/// Every group's `lr` (torch's `_param_groups_val_list(optimizer, "lr")`).
pub(crate) fn group_lrs(opt: &dyn Optimizer) -> Result<Vec<f64>> {
    opt.param_groups().iter().map(|g| g.lr()).collect()
}

/// Writes `values` as the groups' `lr`.
pub(crate) fn set_group_lrs(who: &str, opt: &mut dyn Optimizer, values: &[f64]) -> Result<()> {
    if values.len() != opt.param_groups().len() {
        return Err(Error::invalid(
            who,
            format!(
                "the scheduler computed {} learning rates for {} param groups",
                values.len(),
                opt.param_groups().len()
            ),
        ));
    }
    for (g, lr) in opt.param_groups_mut().iter_mut().zip(values) {
        g.set_lr(*lr);
    }
    Ok(())
}

/// An epoch-based scheduler's rule: torch's `get_lr()` (recursive form) and
/// `_get_closed_form_lr()`, plus its own attributes for the state dict.
pub(crate) trait Rule {
    const NAME: &'static str;
    fn base(&self) -> &SchedulerBase;
    fn base_mut(&mut self) -> &mut SchedulerBase;
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>>;
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        None
    }
    /// Attributes torch sets before `super().__init__` (written first).
    fn write_before(&self, _sd: &mut StateDict) {}
    /// Attributes torch sets after `super().__init__` (written last).
    fn write_after(&self, _sd: &mut StateDict) {}
    fn read_own(&mut self, _sd: &StateDict) -> Result<()> {
        Ok(())
    }
}

/// torch's `_update_lr(epoch)`.
pub(crate) fn rule_update_lr<R: Rule>(r: &mut R, opt: &mut dyn Optimizer, epoch: Option<i64>) -> Result<()> {
    r.base_mut().get_lr_called_within_step = true;
    let values = match epoch {
        None => {
            r.base_mut().last_epoch += 1;
            r.get_lr(opt)
        }
        Some(e) => {
            r.base_mut().last_epoch = e;
            match r.closed_form_lr() {
                Some(v) => Ok(v),
                None => r.get_lr(opt),
            }
        }
    };
    r.base_mut().get_lr_called_within_step = false;
    set_group_lrs(R::NAME, opt, &values?)?;
    r.base_mut().last_lr = group_lrs(opt)?;
    Ok(())
}

/// torch's `LRScheduler.step()` (without an epoch).
pub(crate) fn rule_step<R: Rule>(r: &mut R, opt: &mut dyn Optimizer) -> Result<()> {
    r.base_mut().step_count += 1;
    rule_update_lr(r, opt, None)
}

/// torch's `_initial_step()`: step count 0, one step in "initial" mode.
pub(crate) fn rule_initial_step<R: Rule>(r: &mut R, opt: &mut dyn Optimizer) -> Result<()> {
    r.base_mut().step_count = 0;
    r.base_mut().is_initial = true;
    let out = rule_step(r, opt);
    r.base_mut().is_initial = false;
    out
}

pub(crate) fn rule_state_dict<R: Rule>(r: &R) -> StateDict {
    let mut sd = StateDict::new();
    r.write_before(&mut sd);
    r.base().write(&mut sd);
    r.write_after(&mut sd);
    sd
}

/// Implements [`LRScheduler`] for a [`Rule`] type.
macro_rules! rule_scheduler {
    ($t:ty) => {
        impl $crate::optim::lr_scheduler::LRScheduler for $t {
            fn step(&mut self, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::rule_step(self, opt)
            }
            fn get_last_lr(&self) -> Vec<f64> {
                <$t as $crate::optim::lr_scheduler::base::Rule>::base(self)
                    .last_lr
                    .clone()
            }
            fn last_epoch(&self) -> i64 {
                <$t as $crate::optim::lr_scheduler::base::Rule>::base(self).last_epoch
            }
            fn state_dict(&self) -> $crate::state_value::StateDict {
                $crate::optim::lr_scheduler::base::rule_state_dict(self)
            }
            fn load_state_dict(&mut self, sd: &$crate::state_value::StateDict) -> $crate::Result<()> {
                use $crate::optim::lr_scheduler::base::Rule;
                self.base_mut().read(<$t as Rule>::NAME, sd)?;
                self.read_own(sd)
            }
            fn initial_step(&mut self, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::rule_initial_step(self, opt)
            }
            fn update_lr_to(&mut self, opt: &mut dyn $crate::optim::Optimizer, epoch: i64) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::rule_update_lr(self, opt, Some(epoch))
            }
            fn undo_epoch(&mut self) {
                use $crate::optim::lr_scheduler::base::Rule;
                self.base_mut().last_epoch -= 1;
            }
        }
    };
}
pub(crate) use rule_scheduler;

/// Reads an optional number attribute into `slot` (`__dict__.update`).
pub(crate) fn read_f64(who: &str, sd: &StateDict, key: &str, slot: &mut f64) -> Result<()> {
    if sd.contains_key(key) {
        *slot = sd.f64_of(who, key)?;
    }
    Ok(())
}

/// Reads an optional int attribute into `slot`.
pub(crate) fn read_i64(who: &str, sd: &StateDict, key: &str, slot: &mut i64) -> Result<()> {
    if sd.contains_key(key) {
        *slot = sd.i64_of(who, key)?;
    }
    Ok(())
}
