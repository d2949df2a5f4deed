//! Custom autograd functions (PyTorch's `torch.autograd.Function`): a forward
//! computed without recording, and a hand-written backward that the engine
//! runs as the node of the outputs.

use super::meta::{collect_next_edges, compute_requires_grad, set_history};
use super::node::{BackwardCtx, BackwardFn, Grads, InputMeta, Node};
use super::saved::SavedVariable;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::tls;
use std::sync::{Arc, OnceLock};

/// A differentiable operation with a hand-written backward, applied with
/// [`apply_function`]. `forward` runs with grad mode off; `backward` runs in
/// the engine's grad mode (on with `create_graph`, so operations recorded there
/// make double backward work) and returns one gradient per forward input
/// (`None` for inputs that need none).
///
/// ```
/// use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
/// /// y = x + 1, elementwise.
/// struct AddOne;
/// impl Function for AddOne {
///     fn name(&self) -> String { "AddOneBackward".into() }
///     fn forward(&self, _ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
///         let v: Vec<f64> = x[0].to_vec::<f64>()?.iter().map(|a| a + 1.0).collect();
///         Ok(vec![Tensor::from_vec(v, x[0].sizes())?])
///     }
///     fn backward(&self, _ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
///         Ok(vec![g[0].clone()])
///     }
/// }
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2])?;
/// x.requires_grad_(true)?;
/// let y = apply_function(AddOne, &[x])?.remove(0);
/// assert_eq!(y.grad_fn().unwrap().name(), "AddOneBackward");
/// assert_eq!(y.to_vec::<f64>()?, vec![2.0, 3.0]);
/// # Ok::<(), ft_runtime::Error>(())
/// ```
pub trait Function: Send + Sync + 'static {
    /// The node name, e.g. `MySquareBackward` (PyTorch uses the class name + `Backward`).
    fn name(&self) -> String;
    /// Computes the outputs from `inputs` (grad mode is off here).
    fn forward(&self, ctx: &mut FunctionCtx, inputs: &[Tensor]) -> Result<Vec<Tensor>>;
    /// Computes one gradient per forward input from one gradient per output.
    /// Missing output gradients arrive as zeros unless
    /// [`FunctionCtx::set_materialize_grads`] turned that off.
    fn backward(&self, ctx: &FunctionCtx, grad_outputs: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>>;
}

/// What `forward` leaves for `backward` (PyTorch's `ctx`).
///
/// ```
/// use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
/// struct Probe;
/// impl Function for Probe {
///     fn name(&self) -> String { "ProbeBackward".into() }
///     fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
///         assert!(ctx.needs_input_grad(0) && !ctx.needs_input_grad(1));
///         ctx.save_for_backward(&[&x[0]]);
///         Ok(vec![x[0].detach()])
///     }
///     fn backward(&self, _ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
///         Ok(vec![g[0].clone(), None])
///     }
/// }
/// let a = Tensor::from_vec(vec![1.0f64], &[1])?;
/// a.requires_grad_(true)?;
/// let b = Tensor::from_vec(vec![1.0f64], &[1])?;
/// apply_function(Probe, &[a, b])?;
/// # Ok::<(), ft_runtime::Error>(())
/// ```
pub struct FunctionCtx {
    needs_input_grad: Vec<bool>,
    to_save: Vec<Tensor>,
    /// Filled once the node exists (saved outputs must know their grad_fn);
    /// shared with the node so `release_variables` can free it.
    saved: Arc<OnceLock<Vec<SavedVariable>>>,
    non_differentiable: Vec<Tensor>,
    materialize_grads: bool,
}

impl FunctionCtx {
    /// Saves tensors for backward (inputs, outputs or intermediates), replacing
    /// any saved before (PyTorch's `ctx.save_for_backward`). They are checked
    /// against in-place modification when [`FunctionCtx::saved_tensors`]
    /// unpacks them.
    ///
    /// ```
    /// # use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
    /// # struct Keep;
    /// # impl Function for Keep {
    /// #     fn name(&self) -> String { "KeepBackward".into() }
    /// fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
    ///     ctx.save_for_backward(&[&x[0]]);
    ///     assert!(ctx.saved_tensors()?[0].is_same(&x[0]));
    ///     Ok(vec![x[0].detach()])
    /// }
    /// #     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> { Ok(g.to_vec()) }
    /// # }
    /// # apply_function(Keep, &[Tensor::from_vec(vec![1.0f64], &[1])?])?;
    /// # Ok::<(), ft_runtime::Error>(())
    /// ```
    pub fn save_for_backward(&mut self, tensors: &[&Tensor]) {
        self.to_save = tensors.iter().map(|t| (*t).clone()).collect();
    }

    /// The saved tensors, in the order given to
    /// [`FunctionCtx::save_for_backward`]. Fails with PyTorch's messages when
    /// the graph was freed by an earlier backward or a saved tensor was
    /// modified in place since it was saved. A saved output comes back with
    /// its grad_fn, so backward can differentiate through it.
    ///
    /// ```
    /// # use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
    /// # struct Keep;
    /// # impl Function for Keep {
    /// #     fn name(&self) -> String { "KeepBackward".into() }
    /// #     fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
    /// #         ctx.save_for_backward(&[&x[0]]);
    /// #         Ok(vec![x[0].detach()])
    /// #     }
    /// fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
    ///     let x = ctx.saved_tensors()?.remove(0); // an error after the graph was freed
    ///     assert_eq!(x.sizes(), g[0].as_ref().unwrap().sizes());
    ///     Ok(g.to_vec())
    /// }
    /// # }
    /// # apply_function(Keep, &[Tensor::from_vec(vec![1.0f64], &[1])?])?;
    /// # Ok::<(), ft_runtime::Error>(())
    /// ```
    pub fn saved_tensors(&self) -> Result<Vec<Tensor>> {
        match self.saved.get() {
            Some(saved) => saved.iter().map(|s| s.unpack(None)).collect(),
            None => Ok(self.to_save.clone()),
        }
    }

    /// Whether forward input `i` requires grad (PyTorch's `ctx.needs_input_grad[i]`).
    ///
    /// ```
    /// # use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
    /// # struct P;
    /// # impl Function for P {
    /// #     fn name(&self) -> String { "PBackward".into() }
    /// fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
    ///     assert!(!ctx.needs_input_grad(0) && !ctx.needs_input_grad(7));
    ///     Ok(vec![x[0].detach()])
    /// }
    /// #     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> { Ok(g.to_vec()) }
    /// # }
    /// # apply_function(P, &[Tensor::from_vec(vec![1.0f64], &[1])?])?;
    /// # Ok::<(), ft_runtime::Error>(())
    /// ```
    pub fn needs_input_grad(&self, i: usize) -> bool {
        self.needs_input_grad.get(i).copied().unwrap_or(false)
    }

    /// Marks an output of forward as not differentiable: it gets no grad_fn
    /// and does not require grad (PyTorch's `ctx.mark_non_differentiable`).
    ///
    /// ```
    /// # use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
    /// struct WithIndex;
    /// impl Function for WithIndex {
    ///     fn name(&self) -> String { "WithIndexBackward".into() }
    ///     fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
    ///         let idx = Tensor::from_vec(vec![0.0f64], &[1])?;
    ///         ctx.mark_non_differentiable(&idx);
    ///         Ok(vec![Tensor::from_vec(x[0].to_vec::<f64>()?, x[0].sizes())?, idx])
    ///     }
    ///     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
    ///         Ok(vec![g[0].clone()])
    ///     }
    /// }
    /// let x = Tensor::from_vec(vec![1.0f64], &[1])?;
    /// x.requires_grad_(true)?;
    /// let out = apply_function(WithIndex, &[x])?;
    /// assert!(out[0].requires_grad() && !out[1].requires_grad());
    /// # Ok::<(), ft_runtime::Error>(())
    /// ```
    pub fn mark_non_differentiable(&mut self, t: &Tensor) {
        self.non_differentiable.push(t.clone());
    }

    /// With `false`, missing output gradients reach `backward` as `None`
    /// instead of zeros (PyTorch's `ctx.set_materialize_grads`).
    ///
    /// ```
    /// # use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor};
    /// # struct P;
    /// # impl Function for P {
    /// #     fn name(&self) -> String { "PBackward".into() }
    /// fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
    ///     ctx.set_materialize_grads(false);
    ///     Ok(vec![x[0].detach()])
    /// }
    /// #     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> { Ok(g.to_vec()) }
    /// # }
    /// # apply_function(P, &[Tensor::from_vec(vec![1.0f64], &[1])?])?;
    /// # Ok::<(), ft_runtime::Error>(())
    /// ```
    pub fn set_materialize_grads(&mut self, value: bool) {
        self.materialize_grads = value;
    }
}

/// The node of a custom function's outputs.
struct FunctionNode<F: Function> {
    function: F,
    ctx: FunctionCtx,
    num_inputs: usize,
}

impl<F: Function> BackwardFn for FunctionNode<F> {
    fn name(&self) -> String {
        self.function.name()
    }

    fn apply(&self, ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        let grads: Grads = if self.ctx.materialize_grads {
            grads
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    g.clone().or_else(|| {
                        ctx.node
                            .input_meta(i)
                            .map(|m| Tensor::zeros_contiguous(&m.sizes, m.dtype))
                    })
                })
                .collect()
        } else {
            grads.to_vec()
        };
        let mut out = self.function.backward(&self.ctx, &grads)?;
        let n = self.num_inputs;
        if out.len() > n && out[n..].iter().all(Option::is_none) {
            out.truncate(n);
        }
        if out.len() != n {
            let name = self.function.name();
            return Err(Error::autograd(
                name.clone(),
                format!(
                    "function {name} returned an incorrect number of gradients (expected {n}, got {})",
                    out.len()
                ),
            ));
        }
        Ok(out)
    }

    fn release_variables(&self) {
        if let Some(saved) = self.ctx.saved.get() {
            saved.iter().for_each(SavedVariable::release);
        }
    }
}

/// Runs `f` on `inputs` and, when grad mode is on and some input requires
/// grad, records a node whose backward is `f.backward` (PyTorch's
/// `Function.apply`). Outputs that are inputs returned unchanged come back as
/// new aliases carrying the history; non-floating outputs and those marked
/// non-differentiable get none.
///
/// ```
/// use ft_runtime::{autograd::{Function, FunctionCtx, apply_function}, Result, Tensor, tls};
/// struct Ident;
/// impl Function for Ident {
///     fn name(&self) -> String { "IdentBackward".into() }
///     fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> { Ok(vec![x[0].clone()]) }
///     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> { Ok(g.to_vec()) }
/// }
/// let x = Tensor::from_vec(vec![1.0f64], &[1])?;
/// x.requires_grad_(true)?;
/// let y = apply_function(Ident, &[x.clone()])?.remove(0);
/// assert!(!y.is_same(&x) && y.grad_fn().is_some() && x.is_leaf());
/// let _g = tls::no_grad();
/// assert!(apply_function(Ident, &[x])?[0].grad_fn().is_none());
/// # Ok::<(), ft_runtime::Error>(())
/// ```
pub fn apply_function<F: Function>(f: F, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let is_executable = compute_requires_grad(&refs);
    let mut ctx = FunctionCtx {
        needs_input_grad: inputs.iter().map(|t| is_executable && t.requires_grad()).collect(),
        to_save: Vec::new(),
        saved: Arc::new(OnceLock::new()),
        non_differentiable: Vec::new(),
        materialize_grads: true,
    };
    let raw = {
        let _no_grad = tls::no_grad();
        f.forward(&mut ctx, inputs)?
    };
    // Take the strong references out of ctx before it moves into the node, so
    // the node does not keep its own outputs alive.
    let to_save = std::mem::take(&mut ctx.to_save);
    let non_differentiable = std::mem::take(&mut ctx.non_differentiable);
    let saved_slot = ctx.saved.clone();
    let node = is_executable.then(|| {
        Node::new(
            FunctionNode {
                function: f,
                ctx,
                num_inputs: inputs.len(),
            },
            collect_next_edges(&refs),
        )
    });

    let mut outputs = Vec::with_capacity(raw.len());
    for o in raw {
        let is_input = inputs.iter().any(|x| x.is_same(&o));
        let differentiable =
            node.is_some() && o.dtype().is_floating_point() && !non_differentiable.iter().any(|t| t.is_same(&o));
        // Never attach history to (or strip it from) a tensor the caller owns.
        let out = if is_input || (!differentiable && o.requires_grad()) {
            o.detach()
        } else {
            o
        };
        if let Some(node) = &node {
            if differentiable {
                set_history(&out, node);
            } else {
                node.add_input_meta(InputMeta::of(&out));
            }
        }
        outputs.push(out);
    }
    if let Some(node) = &node {
        let saved = to_save
            .iter()
            .map(|t| {
                let is_output = t.grad_fn().is_some_and(|g| Arc::ptr_eq(&g, node));
                SavedVariable::new(t, is_output)
            })
            .collect();
        let _ = saved_slot.set(saved);
    }
    Ok(outputs)
}

#[cfg(test)]
impl FunctionCtx {
    /// A bare ctx, for calling another function's forward directly in tests.
    pub(crate) fn for_test() -> FunctionCtx {
        FunctionCtx {
            needs_input_grad: Vec::new(),
            to_save: Vec::new(),
            saved: Arc::default(),
            non_differentiable: Vec::new(),
            materialize_grads: true,
        }
    }
}
