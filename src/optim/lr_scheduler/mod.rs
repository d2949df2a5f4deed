//! `torch.optim.lr_scheduler` for Rust: learning-rate schedules that change
//! the `lr` of an optimizer's parameter groups, computed as torch computes
//! them in `step()` (the recursive "chainable" forms, and the closed forms
//! where torch uses them), with torch's `last_epoch`, `initial_lr`,
//! `get_last_lr()` and `state_dict()` layout.
//!
//! A scheduler does not hold its optimizer (Rust's borrow rules would then
//! forbid stepping the optimizer); the optimizer is passed to the
//! constructor and to each `step`, as in:
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::optim::{Optimizer, SgdOpts, SGD};
//! use frankentorch::optim::lr_scheduler::{LRScheduler, StepLR, StepLROpts};
//! let w = ops::zeros(&[1]).unwrap();
//! w.requires_grad_(true).unwrap();
//! let mut opt = SGD::new(vec![w], SgdOpts { lr: 1.0, ..Default::default() }).unwrap();
//! let mut sched = StepLR::new(&mut opt, 2, StepLROpts { gamma: 0.5, ..Default::default() }).unwrap();
//! let mut lrs = vec![];
//! for _ in 0..5 {
//!     opt.step().unwrap();
//!     sched.step(&mut opt).unwrap();
//!     lrs.push(sched.get_last_lr()[0]);
//! }
//! assert_eq!(lrs, vec![1.0, 0.5, 0.5, 0.25, 0.25]);
//! ```

mod base;
mod composite;
mod cosine;
mod lambda;
mod one_cycle;
mod plateau;
mod step;

pub use base::{LRScheduler, PerGroup, SchedulerBase};
pub use composite::{ChainedScheduler, SequentialLR};
pub use cosine::{
    CosineAnnealingLR, CosineAnnealingLROpts, CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsOpts,
};
pub use lambda::LambdaLR;
pub use one_cycle::{AnnealStrategy, OneCycleLR, OneCycleLROpts};
pub use plateau::{PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauOpts, ThresholdMode};
pub use step::{
    ConstantLR, ConstantLROpts, ExponentialLR, LinearLR, LinearLROpts, MultiStepLR, MultiStepLROpts, StepLR, StepLROpts,
};
