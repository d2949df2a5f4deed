//! `OneCycleLR`: the 1cycle policy (warm-up to `max_lr`, then annealing far
//! below the start), optionally cycling momentum or Adam's beta1 inversely.

use super::base::{rule_scheduler, PerGroup, Rule, SchedulerBase};
use crate::optim::Optimizer;
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result};
use std::f64::consts::PI;

/// The annealing curve between a phase's start and end values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AnnealStrategy {
    /// Cosine annealing (torch's `"cos"`, the default).
    #[default]
    Cos,
    /// Linear annealing (torch's `"linear"`).
    Linear,
}

impl AnnealStrategy {
    fn name(self) -> &'static str {
        match self {
            AnnealStrategy::Cos => "cos",
            AnnealStrategy::Linear => "linear",
        }
    }
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// Options of [`OneCycleLR`] (torch's defaults). Give `total_steps`, or
/// `epochs` and `steps_per_epoch`.
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleLROpts {
    /// Steps in the cycle (default none).
    pub total_steps: Option<i64>,
    /// Epochs, with `steps_per_epoch` (default none).
    pub epochs: Option<i64>,
    /// Steps per epoch, with `epochs` (default none).
    pub steps_per_epoch: Option<i64>,
    /// Fraction of the cycle spent increasing the rate (default 0.3).
    pub pct_start: f64,
    /// Annealing curve (default cos).
    pub anneal_strategy: AnnealStrategy,
    /// Cycle momentum (or Adam's beta1) inversely to the rate (default true).
    pub cycle_momentum: bool,
    /// Lowest momentum (default 0.85).
    pub base_momentum: PerGroup,
    /// Highest momentum (default 0.95).
    pub max_momentum: PerGroup,
    /// `initial_lr = max_lr / div_factor` (default 25).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (default 1e4).
    pub final_div_factor: f64,
    /// Three phases (up, down to `initial_lr`, down to `min_lr`) instead of two (default false).
    pub three_phase: bool,
    /// The step to resume from (default -1).
    pub last_epoch: i64,
}

impl Default for OneCycleLROpts {
    fn default() -> Self {
        OneCycleLROpts {
            total_steps: None,
            epochs: None,
            steps_per_epoch: None,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: PerGroup::All(0.85),
            max_momentum: PerGroup::All(0.95),
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            last_epoch: -1,
        }
    }
}

#[derive(Clone, Debug)]
struct Phase {
    end_step: StateValue,
    start_lr: &'static str,
    end_lr: &'static str,
    start_momentum: &'static str,
    end_momentum: &'static str,
}

/// `OneCycleLR`. Adds `initial_lr`, `max_lr`, `min_lr` (and with
/// `cycle_momentum`, `max_momentum`, `base_momentum`) to each group.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{LRScheduler, OneCycleLR, OneCycleLROpts};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 0.1, momentum: 0.9, ..Default::default() }).unwrap();
/// let o = OneCycleLROpts { total_steps: Some(10), ..Default::default() };
/// let mut s = OneCycleLR::new(&mut opt, 1.0, o).unwrap();
/// assert!((s.get_last_lr()[0] - 0.04).abs() < 1e-12); // max_lr / div_factor
/// for _ in 0..10 {
///     s.step(&mut opt).unwrap();
/// }
/// assert!(s.step(&mut opt).is_err()); // past total_steps
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    total_steps: i64,
    phases: Vec<Phase>,
    anneal: AnnealStrategy,
    cycle_momentum: bool,
    use_beta1: bool,
    base: SchedulerBase,
}

impl OneCycleLR {
    /// `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, …)`.
    pub fn new(opt: &mut dyn Optimizer, max_lr: impl Into<PerGroup>, o: OneCycleLROpts) -> Result<OneCycleLR> {
        let who = Self::NAME;
        let total_steps = match (o.total_steps, o.epochs, o.steps_per_epoch) {
            (Some(t), _, _) if t <= 0 => {
                return Err(Error::invalid(
                    who,
                    format!("Expected positive integer total_steps, but got {t}"),
                ))
            }
            (Some(t), _, _) => t,
            (None, Some(e), Some(s)) => {
                if e <= 0 {
                    return Err(Error::invalid(
                        who,
                        format!("Expected positive integer epochs, but got {e}"),
                    ));
                }
                if s <= 0 {
                    return Err(Error::invalid(
                        who,
                        format!("Expected positive integer steps_per_epoch, but got {s}"),
                    ));
                }
                e * s
            }
            _ => {
                return Err(Error::invalid(
                    who,
                    "You must define either total_steps OR (epochs AND steps_per_epoch)",
                ))
            }
        };
        let up_end = o.pct_start * total_steps as f64 - 1.0;
        let last = StateValue::Int(total_steps - 1);
        let phase = |end_step, start_lr, end_lr, start_momentum, end_momentum| Phase {
            end_step,
            start_lr,
            end_lr,
            start_momentum,
            end_momentum,
        };
        let phases = if o.three_phase {
            vec![
                phase(
                    StateValue::Float(up_end),
                    "initial_lr",
                    "max_lr",
                    "max_momentum",
                    "base_momentum",
                ),
                phase(
                    StateValue::Float(2.0 * o.pct_start * total_steps as f64 - 2.0),
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        } else {
            vec![
                phase(
                    StateValue::Float(up_end),
                    "initial_lr",
                    "max_lr",
                    "max_momentum",
                    "base_momentum",
                ),
                phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        };
        if !(0.0..=1.0).contains(&o.pct_start) {
            return Err(Error::invalid(
                who,
                format!(
                    "Expected float between 0 and 1 pct_start, but got {}",
                    crate::optim::optimizer_py_float(o.pct_start)
                ),
            ));
        }
        let n = opt.param_groups().len();
        let max_lrs = max_lr.into().values("max_lr", who, n)?;
        if o.last_epoch == -1 {
            for (g, m) in opt.param_groups_mut().iter_mut().zip(&max_lrs) {
                let initial = m / o.div_factor;
                g.insert("initial_lr", initial);
                g.insert("max_lr", *m);
                g.insert("min_lr", initial / o.final_div_factor);
            }
        }
        let mut use_beta1 = false;
        if o.cycle_momentum {
            let d = opt.defaults();
            if !d.contains_key("momentum") && !d.contains_key("betas") {
                return Err(Error::invalid(
                    who,
                    "optimizer must support momentum or beta1 with `cycle_momentum` option enabled",
                ));
            }
            use_beta1 = d.contains_key("betas");
            let maxs = o.max_momentum.values("max_momentum", who, n)?;
            let bases = o.base_momentum.values("base_momentum", who, n)?;
            if o.last_epoch == -1 {
                for ((g, m), b) in opt.param_groups_mut().iter_mut().zip(maxs).zip(bases) {
                    set_momentum(who, g, use_beta1, m)?;
                    g.insert("max_momentum", m);
                    g.insert("base_momentum", b);
                }
            }
        }
        let base = SchedulerBase::new(who, opt, o.last_epoch)?;
        let mut s = OneCycleLR {
            total_steps,
            phases,
            anneal: o.anneal_strategy,
            cycle_momentum: o.cycle_momentum,
            use_beta1,
            base,
        };
        super::LRScheduler::initial_step(&mut s, opt)?;
        Ok(s)
    }
}

/// Writes `m` as the group's momentum, or as beta1 of its `betas`.
fn set_momentum(who: &str, g: &mut crate::optim::ParamGroup, use_beta1: bool, m: f64) -> Result<()> {
    if use_beta1 {
        let (_, b2) = g.options().pair_of(who, "betas")?;
        g.insert("betas", (m, b2));
    } else {
        g.insert("momentum", m);
    }
    Ok(())
}

impl Rule for OneCycleLR {
    const NAME: &'static str = "lr_scheduler.OneCycleLR";
    fn base(&self) -> &SchedulerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut SchedulerBase {
        &mut self.base
    }
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let who = Self::NAME;
        let step_num = self.base.last_epoch;
        if step_num > self.total_steps {
            return Err(Error::invalid(
                who,
                format!(
                    "Tried to step {step_num} times. The specified number of total steps is {}",
                    self.total_steps
                ),
            ));
        }
        let mut lrs = vec![];
        for g in opt.param_groups_mut() {
            let o = g.options();
            let mut start_step = 0.0;
            let mut computed = None;
            for (i, phase) in self.phases.iter().enumerate() {
                let end_step = phase.end_step.as_f64().expect("a number");
                if step_num as f64 <= end_step || i == self.phases.len() - 1 {
                    let pct = (step_num as f64 - start_step) / (end_step - start_step);
                    let lr = self
                        .anneal
                        .anneal(o.f64_of(who, phase.start_lr)?, o.f64_of(who, phase.end_lr)?, pct);
                    let momentum = if self.cycle_momentum {
                        Some(self.anneal.anneal(
                            o.f64_of(who, phase.start_momentum)?,
                            o.f64_of(who, phase.end_momentum)?,
                            pct,
                        ))
                    } else {
                        None
                    };
                    computed = Some((lr, momentum));
                    break;
                }
                start_step = end_step;
            }
            let (lr, momentum) = computed.expect("the last phase always matches");
            lrs.push(lr);
            if let Some(m) = momentum {
                set_momentum(who, g, self.use_beta1, m)?;
            }
        }
        Ok(lrs)
    }
    fn write_before(&self, sd: &mut StateDict) {
        sd.insert("total_steps", self.total_steps);
        let phases = self
            .phases
            .iter()
            .map(|p| {
                let mut d = StateDict::new();
                d.insert("end_step", p.end_step.clone());
                d.insert("start_lr", p.start_lr);
                d.insert("end_lr", p.end_lr);
                d.insert("start_momentum", p.start_momentum);
                d.insert("end_momentum", p.end_momentum);
                StateValue::Dict(d)
            })
            .collect();
        sd.insert("_schedule_phases", StateValue::List(phases));
        sd.insert("_anneal_func_type", self.anneal.name());
        sd.insert("cycle_momentum", self.cycle_momentum);
        if self.cycle_momentum {
            sd.insert("use_beta1", self.use_beta1);
        }
    }
    fn read_own(&mut self, sd: &StateDict) -> Result<()> {
        let who = Self::NAME;
        if sd.contains_key("total_steps") {
            self.total_steps = sd.i64_of(who, "total_steps")?;
        }
        if let Some(v) = sd.get("_anneal_func_type") {
            self.anneal = match v.as_str() {
                Some("cos") => AnnealStrategy::Cos,
                Some("linear") => AnnealStrategy::Linear,
                _ => return Err(Error::invalid(who, format!("Unknown _anneal_func_type: {v:?}"))),
            };
        }
        if sd.contains_key("cycle_momentum") {
            self.cycle_momentum = sd.bool_of(who, "cycle_momentum")?;
        }
        if sd.contains_key("use_beta1") {
            self.use_beta1 = sd.bool_of(who, "use_beta1")?;
        }
        if let Some(v) = sd.get("_schedule_phases") {
            let phases = v
                .as_seq()
                .ok_or_else(|| Error::invalid(who, "'_schedule_phases' must be a list"))?;
            if phases.len() != self.phases.len() {
                return Err(Error::invalid(
                    who,
                    "'_schedule_phases' has a different number of phases",
                ));
            }
            for (p, saved) in self.phases.iter_mut().zip(phases) {
                let d = saved
                    .as_dict()
                    .ok_or_else(|| Error::invalid(who, "each phase must be a dict"))?;
                let end = d.require(who, "end_step")?;
                if end.as_f64().is_none() {
                    return Err(Error::invalid(who, "'end_step' must be a number"));
                }
                p.end_step = end.clone();
            }
        }
        Ok(())
    }
}
rule_scheduler!(OneCycleLR);
