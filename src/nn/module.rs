//! `torch.nn.Module` for Rust: the [`Module`] trait (parameters, buffers,
//! children, train/eval, zero_grad, dtype conversion, state dicts), the
//! [`Forward`] trait for single-tensor layers, and the field adapters the
//! `#[derive(Module)]` macro uses.

use super::state_dict::{self, IncompatibleKeys, StateDict};
use crate::{DType, Error, Result, Tensor, TensorOps};

use std::collections::HashSet;

/// Makes a tensor a parameter: a detached leaf that requires grad, sharing
/// `data`'s storage (`torch.nn.Parameter(data)`).
///
/// ```
/// use frankentorch::prelude::*;
/// let w = frankentorch::nn::parameter(ops::zeros(&[2, 3]).unwrap()).unwrap();
/// assert!(w.requires_grad() && w.is_leaf());
/// ```
pub fn parameter(data: Tensor) -> Result<Tensor> {
    let p = data.detach();
    p.requires_grad_(true)?;
    Ok(p)
}

/// Views `self` as a `dyn Module` (implemented for every sized module, so the
/// provided methods of [`Module`] can pass `self` on).
///
/// ```
/// use frankentorch::nn::{AsDynModule, Identity, Module};
/// let m = Identity::new();
/// assert_eq!(m.as_dyn().type_name(), "Identity");
/// ```
pub trait AsDynModule {
    /// `self` as a trait object.
    fn as_dyn(&self) -> &dyn Module;
    /// `self` as a mutable trait object.
    fn as_dyn_mut(&mut self) -> &mut dyn Module;
}

impl<T: Module> AsDynModule for T {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
    fn as_dyn_mut(&mut self) -> &mut dyn Module {
        self
    }
}

/// A field that holds a parameter or buffer: `Tensor`, or `Option<Tensor>`
/// where `None` is a registered-but-absent tensor (`bias=False`).
///
/// ```
/// use frankentorch::nn::TensorField;
/// let none: Option<frankentorch::Tensor> = None;
/// assert!(TensorField::get(&none).is_none());
/// ```
pub trait TensorField {
    /// The tensor, if present.
    fn get(&self) -> Option<&Tensor>;
    /// The tensor, if present, for replacement.
    fn get_mut(&mut self) -> Option<&mut Tensor>;
}

impl TensorField for Tensor {
    fn get(&self) -> Option<&Tensor> {
        Some(self)
    }
    fn get_mut(&mut self) -> Option<&mut Tensor> {
        Some(self)
    }
}

impl TensorField for Option<Tensor> {
    fn get(&self) -> Option<&Tensor> {
        self.as_ref()
    }
    fn get_mut(&mut self) -> Option<&mut Tensor> {
        self.as_mut()
    }
}

/// PyTorch's `nn.Module` contract.
///
/// A module reports, in registration order, its own parameters and buffers
/// (absent ones as `None`, which every listing skips, as torch skips `None`
/// entries) and its named children; everything else is provided. Implement
/// it with `#[derive(Module)]`:
///
/// ```
/// use frankentorch::nn::{self, Forward, Module};
/// use frankentorch::prelude::*;
///
/// #[derive(Module)]
/// struct Mlp {
///     #[module]
///     fc1: nn::Linear,
///     #[module]
///     fc2: nn::Linear,
///     #[buffer(persistent = false)]
///     scale: Tensor,
///     #[training]
///     training: bool,
/// }
///
/// # fn main() -> frankentorch::Result<()> {
/// manual_seed(0);
/// let mut m = Mlp {
///     fc1: nn::Linear::new(4, 8, Default::default())?,
///     fc2: nn::Linear::new(8, 2, Default::default())?,
///     scale: ops::ones(&[1])?,
///     training: true,
/// };
/// let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
/// m.eval();
/// assert!(!m.fc1.training());
/// assert_eq!(m.state_dict().len(), 4); // `scale` is not persistent
/// # Ok(()) }
/// ```
///
/// Misuse of the derive is a compile error with a message, e.g. a struct
/// without a `#[training]` flag:
///
/// ```compile_fail
/// #[derive(frankentorch::nn::Module)]
/// struct NoFlag {
///     #[param]
///     w: frankentorch::Tensor,
/// }
/// ```
///
/// two kinds on one field, a non-`bool` flag, an unknown `#[buffer]` option,
/// or a tuple struct:
///
/// ```compile_fail
/// #[derive(frankentorch::nn::Module)]
/// struct Twice {
///     #[param]
///     #[buffer]
///     w: frankentorch::Tensor,
///     #[training]
///     training: bool,
/// }
/// ```
///
/// ```compile_fail
/// #[derive(frankentorch::nn::Module)]
/// struct Flag {
///     #[training]
///     training: u8,
/// }
/// ```
///
/// ```compile_fail
/// #[derive(frankentorch::nn::Module)]
/// struct Opt {
///     #[buffer(keep = true)]
///     b: frankentorch::Tensor,
///     #[training]
///     training: bool,
/// }
/// ```
///
/// ```compile_fail
/// #[derive(frankentorch::nn::Module)]
/// struct Tuple(#[param] frankentorch::Tensor);
/// ```
pub trait Module: AsDynModule {
    /// The class name torch would print (`"Linear"`), used in messages.
    fn type_name(&self) -> &str;
    /// This module's own training flag (`self.training`).
    fn training(&self) -> bool;
    /// Sets this module's own training flag only (see [`Module::train`]).
    fn set_training(&mut self, mode: bool);
    /// Calls `f(name, tensor)` for each own parameter, in registration order.
    fn visit_parameters<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>));
    /// Calls `f(name, tensor, persistent)` for each own buffer, in registration order.
    fn visit_buffers<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>, bool));
    /// Calls `f(name, child)` for each direct child, in registration order.
    fn visit_children<'a>(&'a self, f: &mut dyn FnMut(&str, &'a dyn Module));
    /// Calls `f(name, tensor)` for each present own parameter, then each
    /// present own buffer, allowing the handle to be replaced.
    fn visit_tensors_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor));
    /// Calls `f(name, child)` for each direct child, mutably.
    fn visit_children_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn Module));

    /// `named_parameters()`: every parameter of this module and its
    /// descendants with its dotted name, each tensor once (torch's
    /// `remove_duplicate=True`: a shared tensor keeps its first name).
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![];
        let mut seen = HashSet::new();
        walk(self.as_dyn(), "", &mut |prefix, m| {
            m.visit_parameters(&mut |name, t| {
                if let Some(t) = t {
                    if seen.insert(t.id()) {
                        out.push((format!("{prefix}{name}"), t.clone()));
                    }
                }
            })
        });
        out
    }

    /// `parameters()`: the tensors of [`Module::named_parameters`].
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// `named_buffers()`: every buffer (persistent or not) with its dotted
    /// name, each tensor once.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![];
        let mut seen = HashSet::new();
        walk(self.as_dyn(), "", &mut |prefix, m| {
            m.visit_buffers(&mut |name, t, _| {
                if let Some(t) = t {
                    if seen.insert(t.id()) {
                        out.push((format!("{prefix}{name}"), t.clone()));
                    }
                }
            })
        });
        out
    }

    /// `buffers()`: the tensors of [`Module::named_buffers`].
    fn buffers(&self) -> Vec<Tensor> {
        self.named_buffers().into_iter().map(|(_, t)| t).collect()
    }

    /// `named_children()`: the direct children with their names.
    fn named_children(&self) -> Vec<(String, &dyn Module)> {
        let mut out = vec![];
        self.visit_children(&mut |name, m| out.push((name.to_string(), m)));
        out
    }

    /// `children()`: the direct children.
    fn children(&self) -> Vec<&dyn Module> {
        self.named_children().into_iter().map(|(_, m)| m).collect()
    }

    /// `named_modules()`: this module (named `""`) and every descendant,
    /// depth-first in registration order, with dotted names.
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        fn rec<'a>(m: &'a dyn Module, name: String, out: &mut Vec<(String, &'a dyn Module)>) {
            out.push((name.clone(), m));
            m.visit_children(&mut |child, c| {
                let full = if name.is_empty() {
                    child.to_string()
                } else {
                    format!("{name}.{child}")
                };
                rec(c, full, out);
            });
        }
        let mut out = vec![];
        rec(self.as_dyn(), String::new(), &mut out);
        out
    }

    /// `modules()`: the modules of [`Module::named_modules`].
    fn modules(&self) -> Vec<&dyn Module> {
        self.named_modules().into_iter().map(|(_, m)| m).collect()
    }

    /// `train(mode)`: sets the training flag of this module and every descendant.
    fn train(&mut self, mode: bool) {
        self.set_training(mode);
        self.visit_children_mut(&mut |_, c| c.train(mode));
    }

    /// `eval()`: `train(false)`.
    fn eval(&mut self) {
        self.train(false);
    }

    /// `zero_grad()`: sets every parameter's gradient to `None` (torch's
    /// default `set_to_none=True`).
    fn zero_grad(&self) -> Result<()> {
        self.zero_grad_with(true)
    }

    /// `zero_grad(set_to_none)`: with `false`, existing gradients are
    /// detached from any graph and filled with zeros in place instead.
    fn zero_grad_with(&self, set_to_none: bool) -> Result<()> {
        for p in self.parameters() {
            let Some(g) = p.grad() else { continue };
            if set_to_none {
                p.set_grad(None)?;
            } else {
                let g = if g.grad_fn().is_some() {
                    let d = g.detach();
                    p.set_grad(Some(d.clone()))?;
                    d
                } else {
                    g.requires_grad_(false)?;
                    g
                };
                g.zero_()?;
            }
        }
        Ok(())
    }

    /// `requires_grad_(flag)`: sets `requires_grad` on every parameter.
    fn requires_grad_(&self, requires_grad: bool) -> Result<()> {
        for p in self.parameters() {
            p.requires_grad_(requires_grad)?;
        }
        Ok(())
    }

    /// `to(dtype)`: converts every floating-point parameter and buffer (and
    /// the parameters' gradients) to `dtype`, which must be a floating-point
    /// dtype; integer buffers (`num_batches_tracked`) keep theirs. The
    /// converted parameters are new leaf handles (torch keeps the same
    /// `Parameter` object); tensors shared between modules stay shared.
    fn to_dtype(&mut self, dtype: DType) -> Result<()> {
        if !dtype.is_floating_point() {
            return Err(Error::dtype(
                "nn.Module.to",
                format!(
                    "nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={}",
                    dtype.name()
                ),
            ));
        }
        let mut converted: std::collections::HashMap<usize, Tensor> = Default::default();
        let mut failure: Option<Error> = None;
        convert_tree(self.as_dyn_mut(), dtype, &mut converted, &mut failure);
        failure.map_or(Ok(()), Err)
    }

    /// `state_dict()`: for this module then each child recursively, its
    /// present parameters then its present persistent buffers, under dotted
    /// names; values are detached handles sharing storage with the module.
    /// Shared tensors appear under every name, as in torch.
    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        walk(self.as_dyn(), "", &mut |prefix, m| {
            m.visit_parameters(&mut |name, t| {
                if let Some(t) = t {
                    sd.insert(format!("{prefix}{name}"), t.detach());
                }
            });
            m.visit_buffers(&mut |name, t, persistent| {
                if let (Some(t), true) = (t, persistent) {
                    sd.insert(format!("{prefix}{name}"), t.detach());
                }
            });
        });
        sd
    }

    /// `load_state_dict(state_dict, strict)`: copies each entry into the
    /// tensor of the same name, in place and without recording gradients.
    /// Returns the missing and unexpected keys (unexpected ones are only
    /// collected when `strict`, as in torch); with `strict`, missing or
    /// unexpected keys are an error, and a shape mismatch always is, with
    /// torch's message (`Error(s) in loading state_dict for Linear: …`).
    fn load_state_dict(&self, state_dict: &StateDict, strict: bool) -> Result<IncompatibleKeys> {
        state_dict::load(self.as_dyn(), state_dict, strict)
    }

    /// `apply(fn)`: calls `f` on every descendant (children first, depth
    /// first) and then on this module.
    fn apply(&mut self, f: &mut dyn FnMut(&mut dyn Module)) {
        self.visit_children_mut(&mut |_, c| c.apply(f));
        f(self.as_dyn_mut());
    }
}

/// Calls `f(prefix, module)` for `m` and then each descendant, depth-first in
/// registration order; `prefix` is the module's dotted name plus `.` (empty
/// for the root).
pub(crate) fn walk<'a>(m: &'a dyn Module, prefix: &str, f: &mut dyn FnMut(&str, &'a dyn Module)) {
    f(prefix, m);
    m.visit_children(&mut |name, c| walk(c, &format!("{prefix}{name}."), f));
}

/// Converts every floating tensor of the tree to `dtype`, reusing one result
/// per original tensor so that shared tensors stay shared.
fn convert_tree(
    m: &mut dyn Module,
    dtype: DType,
    converted: &mut std::collections::HashMap<usize, Tensor>,
    failure: &mut Option<Error>,
) {
    m.visit_tensors_mut(&mut |_, t| {
        if failure.is_some() || !t.dtype().is_floating_point() || t.dtype() == dtype {
            return;
        }
        if let Some(done) = converted.get(&t.id()) {
            *t = done.clone();
            return;
        }
        match convert_tensor(t, dtype) {
            Ok(new) => {
                converted.insert(t.id(), new.clone());
                *t = new;
            }
            Err(e) => *failure = Some(e),
        }
    });
    m.visit_children_mut(&mut |_, c| convert_tree(c, dtype, converted, failure));
}

/// `t.to(dtype)` as a fresh leaf with `t`'s requires_grad and converted grad.
fn convert_tensor(t: &Tensor, dtype: DType) -> Result<Tensor> {
    let _guard = crate::tls::no_grad();
    let cast = |x: &Tensor| crate::ops::_to_copy_full(x, Some(dtype), None, None, None, false, None);
    let new = cast(&t.detach())?;
    if t.requires_grad() {
        new.requires_grad_(true)?;
    }
    if let Some(g) = t.grad() {
        new.set_grad(Some(cast(&g)?))?;
    }
    Ok(new)
}

/// A module usable inside [`crate::nn::Sequential`]: one tensor in, one out.
///
/// ```
/// use frankentorch::nn::{Forward, ReLU};
/// use frankentorch::prelude::*;
/// let y = ReLU::new().forward(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]).unwrap()).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub trait Forward {
    /// `module(input)`.
    fn forward(&self, input: &Tensor) -> Result<Tensor>;
}

/// A [`Module`] that is also [`Forward`]: what containers of layers hold
/// (`Box<dyn Layer>`). Implemented for every such type.
///
/// ```
/// use frankentorch::nn::{Layer, ReLU, Tanh};
/// let layers: Vec<Box<dyn Layer>> = vec![Box::new(ReLU::new()), Box::new(Tanh::new())];
/// assert_eq!(layers[1].type_name(), "Tanh");
/// ```
pub trait Layer: Module + Forward {}

impl<T: Module + Forward> Layer for T {}

impl<M: Module + ?Sized> Module for Box<M> {
    fn type_name(&self) -> &str {
        (**self).type_name()
    }
    fn training(&self) -> bool {
        (**self).training()
    }
    fn set_training(&mut self, mode: bool) {
        (**self).set_training(mode)
    }
    fn visit_parameters<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>)) {
        (**self).visit_parameters(f)
    }
    fn visit_buffers<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>, bool)) {
        (**self).visit_buffers(f)
    }
    fn visit_children<'a>(&'a self, f: &mut dyn FnMut(&str, &'a dyn Module)) {
        (**self).visit_children(f)
    }
    fn visit_tensors_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor)) {
        (**self).visit_tensors_mut(f)
    }
    fn visit_children_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        (**self).visit_children_mut(f)
    }
}

impl<L: Forward + ?Sized> Forward for Box<L> {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        (**self).forward(input)
    }
}
