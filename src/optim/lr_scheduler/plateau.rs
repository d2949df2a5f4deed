//! `ReduceLROnPlateau`: lowers the rate when a metric stops improving.

use super::base::{floats_of, group_lrs, read_f64, read_i64, PerGroup};
use crate::optim::Optimizer;
use crate::state_value::{StateDict, StateValue};
use crate::{Error, Result};

/// Whether the metric should go down (`"min"`, a loss) or up (`"max"`, an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlateauMode {
    /// `"min"` (default).
    #[default]
    Min,
    /// `"max"`.
    Max,
}

/// How `threshold` defines a significant improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ThresholdMode {
    /// `"rel"`: better than `best * (1 ∓ threshold)` (default).
    #[default]
    Rel,
    /// `"abs"`: better than `best ∓ threshold`.
    Abs,
}

/// Options of [`ReduceLROnPlateau`] (torch's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLROnPlateauOpts {
    /// Direction of improvement (default min).
    pub mode: PlateauMode,
    /// Multiplier applied on a plateau (default 0.1; must be < 1).
    pub factor: f64,
    /// Bad epochs tolerated before reducing (default 10).
    pub patience: i64,
    /// Minimal improvement (default 1e-4).
    pub threshold: f64,
    /// Relative or absolute threshold (default rel).
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction (default 0).
    pub cooldown: i64,
    /// Lower bound of the rate, for all groups or per group (default 0).
    pub min_lr: PerGroup,
    /// Reductions smaller than this are skipped (default 1e-8).
    pub eps: f64,
}

impl Default for ReduceLROnPlateauOpts {
    fn default() -> Self {
        ReduceLROnPlateauOpts {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: PerGroup::All(0.0),
            eps: 1e-8,
        }
    }
}

/// `ReduceLROnPlateau`. Stepped with the metric: `step(&mut opt, val_loss)`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{SgdOpts, SGD};
/// use frankentorch::optim::lr_scheduler::{ReduceLROnPlateau, ReduceLROnPlateauOpts};
/// let w = ops::zeros(&[1]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
/// let mut s = ReduceLROnPlateau::new(&mut opt, ReduceLROnPlateauOpts { patience: 1, ..Default::default() }).unwrap();
/// for metric in [1.0, 1.0, 1.0] {
///     s.step(&mut opt, metric).unwrap();
/// }
/// assert!((s.get_last_lr()[0] - 0.1).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    factor: f64,
    default_min_lr: Option<f64>,
    min_lrs: Vec<f64>,
    patience: i64,
    cooldown: i64,
    eps: f64,
    last_epoch: i64,
    last_lr: Vec<f64>,
    mode: PlateauMode,
    threshold: f64,
    threshold_mode: ThresholdMode,
    best: f64,
    cooldown_counter: i64,
    num_bad_epochs: i64,
}

const NAME: &str = "lr_scheduler.ReduceLROnPlateau";

/// torch's default `min_lr=0` is a Python int; keep it one while it is zero.
fn py_min_lr(v: f64) -> StateValue {
    if v == 0.0 {
        StateValue::Int(0)
    } else {
        StateValue::Float(v)
    }
}

impl ReduceLROnPlateau {
    /// `ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, …)`.
    pub fn new(opt: &mut dyn Optimizer, o: ReduceLROnPlateauOpts) -> Result<ReduceLROnPlateau> {
        if o.factor >= 1.0 {
            return Err(Error::invalid(NAME, "Factor should be < 1.0."));
        }
        let n = opt.param_groups().len();
        let (default_min_lr, min_lrs) = match &o.min_lr {
            PerGroup::All(v) => (Some(*v), vec![*v; n]),
            PerGroup::Each(v) if v.len() == n => (None, v.clone()),
            PerGroup::Each(v) => {
                return Err(Error::invalid(NAME, format!("expected {n} min_lrs, got {}", v.len())));
            }
        };
        let best = match o.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Ok(ReduceLROnPlateau {
            factor: o.factor,
            default_min_lr,
            min_lrs,
            patience: o.patience,
            cooldown: o.cooldown,
            eps: o.eps,
            last_epoch: 0,
            last_lr: group_lrs(opt)?,
            mode: o.mode,
            threshold: o.threshold,
            threshold_mode: o.threshold_mode,
            best,
            cooldown_counter: 0,
            num_bad_epochs: 0,
        })
    }

    fn mode_worse(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// `scheduler.step(metrics)`: one epoch with this metric value.
    pub fn step(&mut self, opt: &mut dyn Optimizer, metric: f64) -> Result<()> {
        self.last_epoch += 1;
        if self.is_better(metric, self.best) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            self.reduce_lr(opt)?;
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = group_lrs(opt)?;
        Ok(())
    }

    fn reduce_lr(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        let n = opt.param_groups().len();
        if n != self.min_lrs.len() {
            match self.default_min_lr {
                None => {
                    return Err(Error::invalid(
                        NAME,
                        format!(
                            "The number of param groups in the `optimizer` ({n}) differs from when `ReduceLROnPlateau` was initialized ({}), usually due to a new param group being added to the optimizer. Please modify the `min_lrs` field to match the length of the `optimizer` param groups.",
                            self.min_lrs.len()
                        ),
                    ))
                }
                Some(v) => self.min_lrs = vec![v; n],
            }
        }
        for (g, min_lr) in opt.param_groups_mut().iter_mut().zip(&self.min_lrs) {
            let old = g.lr()?;
            let new = (old * self.factor).max(*min_lr);
            if old - new > self.eps {
                g.set_lr(new);
            }
        }
        Ok(())
    }

    /// The learning rates after the last step (`get_last_lr()`).
    pub fn get_last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }

    /// Epochs stepped so far.
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// `scheduler.state_dict()` in torch's attribute order.
    pub fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert("factor", self.factor);
        sd.insert(
            "default_min_lr",
            self.default_min_lr.map_or(StateValue::None, py_min_lr),
        );
        sd.insert(
            "min_lrs",
            StateValue::List(self.min_lrs.iter().map(|v| py_min_lr(*v)).collect()),
        );
        sd.insert("patience", self.patience);
        sd.insert("cooldown", self.cooldown);
        sd.insert("eps", self.eps);
        sd.insert("last_epoch", self.last_epoch);
        sd.insert("_last_lr", self.last_lr.clone());
        sd.insert("mode_worse", self.mode_worse());
        sd.insert(
            "mode",
            match self.mode {
                PlateauMode::Min => "min",
                PlateauMode::Max => "max",
            },
        );
        sd.insert("threshold", self.threshold);
        sd.insert(
            "threshold_mode",
            match self.threshold_mode {
                ThresholdMode::Rel => "rel",
                ThresholdMode::Abs => "abs",
            },
        );
        sd.insert("best", self.best);
        sd.insert("cooldown_counter", self.cooldown_counter);
        sd.insert("num_bad_epochs", self.num_bad_epochs);
        sd
    }

    /// `scheduler.load_state_dict(sd)`: restores the attributes present (and
    /// checks `mode`/`threshold_mode` as torch's `_init_is_better`).
    pub fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        read_f64(NAME, sd, "factor", &mut self.factor)?;
        if let Some(v) = sd.get("default_min_lr") {
            self.default_min_lr = if v.is_none() {
                None
            } else {
                Some(sd.f64_of(NAME, "default_min_lr")?)
            };
        }
        if sd.contains_key("min_lrs") {
            self.min_lrs = floats_of(NAME, sd, "min_lrs")?;
        }
        read_i64(NAME, sd, "patience", &mut self.patience)?;
        read_i64(NAME, sd, "cooldown", &mut self.cooldown)?;
        read_f64(NAME, sd, "eps", &mut self.eps)?;
        read_i64(NAME, sd, "last_epoch", &mut self.last_epoch)?;
        if sd.contains_key("_last_lr") {
            self.last_lr = floats_of(NAME, sd, "_last_lr")?;
        }
        if let Some(v) = sd.get("mode") {
            self.mode = match v.as_str() {
                Some("min") => PlateauMode::Min,
                Some("max") => PlateauMode::Max,
                _ => return Err(Error::invalid(NAME, format!("mode {v:?} is unknown!"))),
            };
        }
        read_f64(NAME, sd, "threshold", &mut self.threshold)?;
        if let Some(v) = sd.get("threshold_mode") {
            self.threshold_mode = match v.as_str() {
                Some("rel") => ThresholdMode::Rel,
                Some("abs") => ThresholdMode::Abs,
                _ => return Err(Error::invalid(NAME, format!("threshold mode {v:?} is unknown!"))),
            };
        }
        read_f64(NAME, sd, "best", &mut self.best)?;
        read_i64(NAME, sd, "cooldown_counter", &mut self.cooldown_counter)?;
        read_i64(NAME, sd, "num_bad_epochs", &mut self.num_bad_epochs)?;
        Ok(())
    }
}
