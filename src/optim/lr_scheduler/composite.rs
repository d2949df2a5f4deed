//! Schedulers made of schedulers: `SequentialLR` and `ChainedScheduler`.

use super::base::{floats_of, group_lrs, set_group_lrs};
use super::LRScheduler;
use crate::optim::Optimizer;
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result};

fn children_state(children: &[Box<dyn LRScheduler>]) -> StateValue {
    StateValue::List(children.iter().map(|s| StateValue::Dict(s.state_dict())).collect())
}

fn load_children(who: &str, children: &mut [Box<dyn LRScheduler>], sd: &StateDict) -> Result<()> {
    if let Some(v) = sd.get("_schedulers") {
        let saved = v
            .as_seq()
            .ok_or_else(|| Error::invalid(who, "'_schedulers' must be a list"))?;
        if saved.len() != children.len() {
            return Err(Error::invalid(
                who,
                format!(
                    "state dict holds {} schedulers, this one has {}",
                    saved.len(),
                    children.len()
                ),
            ));
        }
        for (c, s) in children.iter_mut().zip(saved) {
            let d = s
                .as_dict()
                .ok_or_else(|| Error::invalid(who, "each saved scheduler must be a dict"))?;
            c.load_state_dict(d)?;
        }
    }
    Ok(())
}

/// `SequentialLR`: runs `schedulers[i]` between `milestones[i-1]` and
/// `milestones[i]`. The schedulers must have been built on the same
/// optimizer (they do not hold it, so this is not checked).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::*;
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let warm = ConstantLR::new(&mut opt, ConstantLROpts { factor: 0.1, total_iters: 2, ..Default::default() }).unwrap();
/// let decay = ExponentialLR::new(&mut opt, 0.5, -1).unwrap();
/// let mut s = SequentialLR::new(&mut opt, vec![Box::new(warm), Box::new(decay)], vec![2], -1).unwrap();
/// let mut lrs = vec![s.get_last_lr()[0]];
/// for _ in 0..3 {
///     s.step(&mut opt).unwrap();
///     lrs.push(s.get_last_lr()[0]);
/// }
/// assert_eq!(lrs, vec![0.1, 0.1, 1.0, 0.5]);
/// ```
pub struct SequentialLR {
    schedulers: Vec<Box<dyn LRScheduler>>,
    milestones: Vec<i64>,
    last_epoch: i64,
    last_lr: Vec<f64>,
}

const SEQ: &str = "lr_scheduler.SequentialLR";
const CHAIN: &str = "lr_scheduler.ChainedScheduler";

impl std::fmt::Debug for SequentialLR {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequentialLR")
            .field("schedulers", &self.schedulers.len())
            .field("milestones", &self.milestones)
            .field("last_epoch", &self.last_epoch)
            .finish()
    }
}

fn bisect_right(a: &[i64], x: i64) -> usize {
    a.iter().take_while(|m| **m <= x).count()
}

impl SequentialLR {
    /// `SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)`.
    pub fn new(
        opt: &mut dyn Optimizer,
        schedulers: Vec<Box<dyn LRScheduler>>,
        milestones: Vec<i64>,
        last_epoch: i64,
    ) -> Result<SequentialLR> {
        if schedulers.is_empty() {
            return Err(Error::invalid(
                SEQ,
                "SequentialLR expects at least one scheduler, but got no scheduler.",
            ));
        }
        if milestones.len() != schedulers.len() - 1 {
            return Err(Error::invalid(
                SEQ,
                format!(
                    "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {} and the number of milestones to be equal to {}",
                    schedulers.len(),
                    milestones.len()
                ),
            ));
        }
        let mut s = SequentialLR {
            schedulers,
            milestones,
            last_epoch: last_epoch + 1,
            last_lr: vec![],
        };
        for g in opt.param_groups_mut() {
            let initial = g.options().f64_of(SEQ, "initial_lr")?;
            g.set_lr(initial);
        }
        for c in s.schedulers.iter_mut() {
            c.undo_epoch();
        }
        let idx = bisect_right(&s.milestones, 0);
        s.schedulers[idx].initial_step(opt)?;
        s.last_lr = s.schedulers[idx].get_last_lr();
        Ok(s)
    }
}

impl LRScheduler for SequentialLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.last_epoch += 1;
        let idx = bisect_right(&self.milestones, self.last_epoch);
        let s = &mut self.schedulers[idx];
        if idx > 0 && self.milestones[idx - 1] == self.last_epoch {
            s.update_lr_to(opt, 0)?;
        } else {
            s.step(opt)?;
        }
        self.last_lr = s.get_last_lr();
        Ok(())
    }
    fn get_last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }
    fn last_epoch(&self) -> i64 {
        self.last_epoch
    }
    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert(
            "_milestones",
            StateValue::List(self.milestones.iter().map(|m| StateValue::Int(*m)).collect()),
        );
        sd.insert("last_epoch", self.last_epoch);
        sd.insert("_last_lr", self.last_lr.clone());
        sd.insert("_schedulers", children_state(&self.schedulers));
        sd
    }
    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        if let Some(v) = sd.get("_milestones") {
            self.milestones = v
                .as_seq()
                .and_then(|s| s.iter().map(StateValue::as_i64).collect::<Option<Vec<_>>>())
                .ok_or_else(|| Error::invalid(SEQ, "'_milestones' must be a list of ints"))?;
        }
        if sd.contains_key("last_epoch") {
            self.last_epoch = sd.i64_of(SEQ, "last_epoch")?;
        }
        if sd.contains_key("_last_lr") {
            self.last_lr = floats_of(SEQ, sd, "_last_lr")?;
        }
        load_children(SEQ, &mut self.schedulers, sd)
    }
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        let idx = bisect_right(&self.milestones, 0);
        self.schedulers[idx].initial_step(opt)?;
        self.last_lr = self.schedulers[idx].get_last_lr();
        Ok(())
    }
    fn update_lr_to(&mut self, opt: &mut dyn Optimizer, epoch: i64) -> Result<()> {
        let idx = bisect_right(&self.milestones, epoch);
        self.schedulers[idx].update_lr_to(opt, epoch)?;
        self.last_lr = self.schedulers[idx].get_last_lr();
        set_group_lrs(SEQ, opt, &self.last_lr)
    }
    fn undo_epoch(&mut self) {
        for c in self.schedulers.iter_mut() {
            c.undo_epoch();
        }
    }
}

/// `ChainedScheduler`: steps every scheduler in turn, so their
/// (multiplicative) effects compose.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::*;
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let a = ExponentialLR::new(&mut opt, 0.5, -1).unwrap();
/// let b = ExponentialLR::new(&mut opt, 0.5, -1).unwrap();
/// let mut s = ChainedScheduler::new(&mut opt, vec![Box::new(a), Box::new(b)]).unwrap();
/// s.step(&mut opt).unwrap();
/// assert_eq!(s.get_last_lr(), vec![0.25]);
/// ```
pub struct ChainedScheduler {
    schedulers: Vec<Box<dyn LRScheduler>>,
    last_lr: Vec<f64>,
}

impl std::fmt::Debug for ChainedScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainedScheduler")
            .field("schedulers", &self.schedulers.len())
            .field("last_lr", &self.last_lr)
            .finish()
    }
}

impl ChainedScheduler {
    /// `ChainedScheduler(schedulers, optimizer=None)`.
    pub fn new(opt: &mut dyn Optimizer, schedulers: Vec<Box<dyn LRScheduler>>) -> Result<ChainedScheduler> {
        if schedulers.is_empty() {
            return Err(Error::invalid(
                CHAIN,
                "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.",
            ));
        }
        Ok(ChainedScheduler {
            schedulers,
            last_lr: group_lrs(opt)?,
        })
    }
}

impl LRScheduler for ChainedScheduler {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.step(opt)?;
        }
        self.last_lr = group_lrs(opt)?;
        Ok(())
    }
    fn get_last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }
    fn last_epoch(&self) -> i64 {
        self.schedulers.last().map_or(0, |s| s.last_epoch())
    }
    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert("_last_lr", self.last_lr.clone());
        sd.insert("_schedulers", children_state(&self.schedulers));
        sd
    }
    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        if sd.contains_key("_last_lr") {
            self.last_lr = floats_of(CHAIN, sd, "_last_lr")?;
        }
        load_children(CHAIN, &mut self.schedulers, sd)
    }
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.initial_step(opt)?;
        }
        self.last_lr = group_lrs(opt)?;
        Ok(())
    }
    fn update_lr_to(&mut self, opt: &mut dyn Optimizer, epoch: i64) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.update_lr_to(opt, epoch)?;
        }
        self.last_lr = group_lrs(opt)?;
        Ok(())
    }
    fn undo_epoch(&mut self) {
        for s in self.schedulers.iter_mut() {
            s.undo_epoch();
        }
    }
}
