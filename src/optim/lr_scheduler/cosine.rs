//! Cosine schedules: `CosineAnnealingLR` and `CosineAnnealingWarmRestarts`.

use super::base::{group_lrs, read_f64, read_i64, rule_scheduler, set_group_lrs, Rule, SchedulerBase};
use super::LRScheduler;
use crate::optim::Optimizer;
use crate::state_value::StateDict;
use crate::{Error, Result};
use std::f64::consts::PI;

/// Options of [`CosineAnnealingLR`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLROpts {
    /// The lowest rate (default 0).
    pub eta_min: f64,
    /// The epoch to resume from (default -1).
    pub last_epoch: i64,
}
impl Default for CosineAnnealingLROpts {
    fn default() -> Self {
        CosineAnnealingLROpts {
            eta_min: 0.0,
            last_epoch: -1,
        }
    }
}

/// `CosineAnnealingLR`: cosine from the base rate down to `eta_min` over
/// `T_max` epochs (torch's recursive form, so changes to `lr` made by others
/// carry through, as in torch).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{CosineAnnealingLR, LRScheduler};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = CosineAnnealingLR::new(&mut opt, 2, Default::default()).unwrap();
/// s.step(&mut opt).unwrap();
/// assert!((s.get_last_lr()[0] - 0.5).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: i64,
    eta_min: f64,
    base: SchedulerBase,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)`.
    pub fn new(opt: &mut dyn Optimizer, t_max: i64, o: CosineAnnealingLROpts) -> Result<CosineAnnealingLR> {
        if t_max == 0 {
            // torch divides by T_max (ZeroDivisionError).
            return Err(Error::invalid(Self::NAME, "T_max must not be 0"));
        }
        let base = SchedulerBase::new(Self::NAME, opt, o.last_epoch)?;
        let mut s = CosineAnnealingLR {
            t_max,
            eta_min: o.eta_min,
            base,
        };
        s.initial_step(opt)?;
        Ok(s)
    }
}

impl Rule for CosineAnnealingLR {
    const NAME: &'static str = "lr_scheduler.CosineAnnealingLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let b = &self.base;
        let (e, t) = (b.last_epoch, self.t_max);
        let eta = self.eta_min;
        let lrs = group_lrs(opt)?;
        if b.is_initial {
            return Ok(lrs);
        }
        if b.step_count == 1 && e > 0 {
            return Ok(b
                .base_lrs
                .iter()
                .map(|base| eta + (base - eta) * (1.0 + (e as f64 * PI / t as f64).cos()) / 2.0)
                .collect());
        }
        if (e - 1 - t).rem_euclid(2 * t) == 0 {
            return Ok(lrs
                .iter()
                .zip(&b.base_lrs)
                .map(|(lr, base)| lr + (base - eta) * (1.0 - (PI / t as f64).cos()) / 2.0)
                .collect());
        }
        Ok(lrs
            .iter()
            .map(|lr| {
                (1.0 + (PI * e as f64 / t as f64).cos()) / (1.0 + (PI * (e - 1) as f64 / t as f64).cos()) * (lr - eta)
                    + eta
            })
            .collect())
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let (e, t, eta) = (self.base.last_epoch as f64, self.t_max as f64, self.eta_min);
        Some(
            self.base
                .base_lrs
                .iter()
                .map(|base| eta + (base - eta) * (1.0 + (PI * e / t).cos()) / 2.0)
                .collect(),
        )
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("T_max", self.t_max);
        sd.insert("eta_min", self.eta_min);
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        read_i64(Self::NAME, sd, "T_max", &mut self.t_max)?;
        read_f64(Self::NAME, sd, "eta_min", &mut self.eta_min)
    }
}
rule_scheduler!(CosineAnnealingLR);

/// Options of [`CosineAnnealingWarmRestarts`] (torch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestartsOpts {
    /// Growth factor of the period after each restart (default 1).
    pub t_mult: i64,
    /// The lowest rate (default 0).
    pub eta_min: f64,
    /// The epoch to resume from (default -1).
    pub last_epoch: i64,
}
impl Default for CosineAnnealingWarmRestartsOpts {
    fn default() -> Self {
        CosineAnnealingWarmRestartsOpts {
            t_mult: 1,
            eta_min: 0.0,
            last_epoch: -1,
        }
    }
}

/// `CosineAnnealingWarmRestarts` (SGDR): cosine annealing restarted every
/// `T_i` epochs, with `T_0` first and `T_i *= T_mult` after each restart.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{CosineAnnealingWarmRestarts, LRScheduler};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = CosineAnnealingWarmRestarts::new(&mut opt, 2, Default::default()).unwrap();
/// s.step(&mut opt).unwrap();
/// s.step(&mut opt).unwrap(); // restart
/// assert_eq!(s.get_last_lr(), vec![1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    t_0: i64,
    t_i: i64,
    t_mult: i64,
    eta_min: f64,
    t_cur: i64,
    base: SchedulerBase,
}

const WARM: &str = "lr_scheduler.CosineAnnealingWarmRestarts";

impl CosineAnnealingWarmRestarts {
    /// `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1)`.
    pub fn new(
        opt: &mut dyn Optimizer,
        t_0: i64,
        o: CosineAnnealingWarmRestartsOpts,
    ) -> Result<CosineAnnealingWarmRestarts> {
        if t_0 <= 0 {
            return Err(Error::invalid(
                WARM,
                format!("Expected positive integer T_0, but got {t_0}"),
            ));
        }
        if o.t_mult < 1 {
            return Err(Error::invalid(
                WARM,
                format!("Expected integer T_mult >= 1, but got {}", o.t_mult),
            ));
        }
        let base = SchedulerBase::new(WARM, opt, o.last_epoch)?;
        let mut s = CosineAnnealingWarmRestarts {
            t_0,
            t_i: t_0,
            t_mult: o.t_mult,
            eta_min: o.eta_min,
            t_cur: o.last_epoch,
            base,
        };
        s.initial_step(opt)?;
        Ok(s)
    }

    fn get_lr(&self) -> Vec<f64> {
        let eta = self.eta_min;
        self.base
            .base_lrs
            .iter()
            .map(|b| eta + (b - eta) * (1.0 + (PI * self.t_cur as f64 / self.t_i as f64).cos()) / 2.0)
            .collect()
    }

    /// torch's `step(epoch)` for an integer epoch (the restart arithmetic of SGDR).
    fn step_epoch(&mut self, opt: &mut dyn Optimizer, epoch: Option<i64>) -> Result<()> {
        let epoch = match epoch {
            None if self.base.last_epoch < 0 => Some(0),
            e => e,
        };
        let epoch = match epoch {
            None => {
                self.t_cur += 1;
                if self.t_cur >= self.t_i {
                    self.t_cur %= self.t_i;
                    self.t_i *= self.t_mult;
                }
                self.base.last_epoch + 1
            }
            Some(e) => {
                if e < 0 {
                    return Err(Error::invalid(
                        WARM,
                        format!("Expected non-negative epoch, but got {e}"),
                    ));
                }
                if e >= self.t_0 {
                    if self.t_mult == 1 {
                        self.t_cur = e % self.t_0;
                    } else {
                        return Err(Error::not_supported(
                            WARM,
                            "an explicit epoch with T_mult > 1 (torch's fractional T_cur) is not supported",
                        ));
                    }
                } else {
                    self.t_i = self.t_0;
                    self.t_cur = e;
                }
                e
            }
        };
        self.base.last_epoch = epoch;
        self.base.get_lr_called_within_step = true;
        let lrs = self.get_lr();
        self.base.get_lr_called_within_step = false;
        set_group_lrs(WARM, opt, &lrs)?;
        self.base.last_lr = group_lrs(opt)?;
        Ok(())
    }
}

impl LRScheduler for CosineAnnealingWarmRestarts {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.step_epoch(opt, None)
    }
    fn get_last_lr(&self) -> Vec<f64> {
        self.base.last_lr.clone()
    }
    fn last_epoch(&self) -> i64 {
        self.base.last_epoch
    }
    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert("T_0", self.t_0);
        sd.insert("T_i", self.t_i);
        sd.insert("T_mult", self.t_mult);
        sd.insert("eta_min", self.eta_min);
        sd.insert("T_cur", self.t_cur);
        self.base.write(&mut sd);
        sd
    }
    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        read_i64(WARM, sd, "T_0", &mut self.t_0)?;
        read_i64(WARM, sd, "T_i", &mut self.t_i)?;
        read_i64(WARM, sd, "T_mult", &mut self.t_mult)?;
        read_f64(WARM, sd, "eta_min", &mut self.eta_min)?;
        read_i64(WARM, sd, "T_cur", &mut self.t_cur)?;
        self.base.read(WARM, sd)
    }
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        // torch's step override never counts steps, so `_step_count` stays 0.
        self.base.step_count = 0;
        self.base.is_initial = true;
        let out = self.step_epoch(opt, None);
        self.base.is_initial = false;
        out
    }
    fn update_lr_to(&mut self, opt: &mut dyn Optimizer, epoch: i64) -> Result<()> {
        // torch's `_update_lr(epoch)` has no closed form here: it sets
        // last_epoch and calls get_lr with the current T_cur.
        self.base.last_epoch = epoch;
        self.base.get_lr_called_within_step = true;
        let lrs = self.get_lr();
        self.base.get_lr_called_within_step = false;
        set_group_lrs(WARM, opt, &lrs)?;
        self.base.last_lr = group_lrs(opt)?;
        Ok(())
    }
    fn undo_epoch(&mut self) {
        self.base.last_epoch -= 1;
    }
}
