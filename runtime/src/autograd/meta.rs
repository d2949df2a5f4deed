//! Per-tensor autograd state and the operations generated kernels use to
//! record history: `compute_requires_grad`, `collect_next_edges`,
//! `set_history`, `rebase_history`, `check_inplace`.

use super::node::{next_hook_id, Edge, InputMeta, Node, TensorHook};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::tls;
use std::sync::Arc;

/// Hook run after a leaf's `.grad` was updated (`register_post_accumulate_grad_hook`).
pub type PostAccumulateHook = Arc<dyn Fn(&Tensor) -> Result<()> + Send + Sync>;

/// Autograd state of one tensor object.
#[derive(Default)]
pub struct AutogradMeta {
    /// Accumulated gradient of a leaf, or a retained non-leaf gradient.
    pub grad: Option<Tensor>,
    /// The node that produced this tensor (None for leaves).
    pub grad_fn: Option<Arc<Node>>,
    /// Which output of `grad_fn` this tensor is.
    pub output_nr: usize,
    /// Leaf flag set by `requires_grad_`.
    pub requires_grad: bool,
    /// True after `retain_grad()` on a non-leaf.
    pub retains_grad: bool,
    /// The leaf's AccumulateGrad node (owned by the leaf; the node refers
    /// back weakly, so there is no cycle).
    pub grad_accumulator: Option<Arc<Node>>,
    /// Hooks registered on a leaf (run by AccumulateGrad before accumulating).
    pub hooks: Vec<(u64, TensorHook)>,
    /// Hooks run after the leaf's `.grad` is updated.
    pub post_accumulate_hooks: Vec<(u64, PostAccumulateHook)>,
}

fn with_meta<R>(t: &Tensor, f: impl FnOnce(&mut AutogradMeta) -> R) -> R {
    let mut guard = t.meta_lock();
    let meta = guard.get_or_insert_with(Default::default);
    f(meta)
}

fn read_meta<R>(t: &Tensor, f: impl FnOnce(Option<&AutogradMeta>) -> R) -> R {
    let guard = t.meta_lock();
    f(guard.as_deref())
}

impl Tensor {
    /// The node that created this tensor (PyTorch's `grad_fn`).
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        read_meta(self, |m| m.and_then(|m| m.grad_fn.clone()))
    }
    /// Which output of `grad_fn` this tensor is.
    pub fn output_nr(&self) -> usize {
        read_meta(self, |m| m.map_or(0, |m| m.output_nr))
    }
    /// True for tensors without a `grad_fn` (PyTorch's `is_leaf`).
    pub fn is_leaf(&self) -> bool {
        self.grad_fn().is_none()
    }
    /// The accumulated gradient (PyTorch's `.grad`).
    pub fn grad(&self) -> Option<Tensor> {
        read_meta(self, |m| m.and_then(|m| m.grad.clone()))
    }
    /// Replaces `.grad` (PyTorch's `t.grad = g`; `None` clears it).
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.sizes() != self.sizes() {
                return Err(Error::shape(
                    "Tensor.grad",
                    format!(
                        "assigned grad has data of a different size: {:?} vs {:?}",
                        g.sizes(),
                        self.sizes()
                    ),
                ));
            }
            if g.dtype() != self.dtype() {
                return Err(Error::dtype(
                    "Tensor.grad",
                    "assigned grad has data of a different type",
                ));
            }
        }
        with_meta(self, |m| m.grad = grad);
        Ok(())
    }
    /// True if `retain_grad()` was called on this non-leaf.
    pub fn retains_grad(&self) -> bool {
        read_meta(self, |m| m.is_some_and(|m| m.retains_grad))
    }

    /// Sets the leaf flag (PyTorch's `requires_grad_`). Only floating tensors
    /// can require grad, and only leaves can stop requiring it.
    ///
    /// ```
    /// use ft_runtime::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
    /// x.requires_grad_(true).unwrap();
    /// assert!(x.requires_grad() && x.is_leaf());
    /// let i = Tensor::from_vec(vec![1i64], &[1]).unwrap();
    /// assert!(i.requires_grad_(true).is_err());
    /// ```
    pub fn requires_grad_(&self, requires_grad: bool) -> Result<&Tensor> {
        if requires_grad && !self.dtype().is_floating_point() {
            return Err(Error::autograd(
                "requires_grad_",
                "only Tensors of floating point and complex dtype can require gradients",
            ));
        }
        if !self.is_leaf() {
            if !requires_grad {
                return Err(Error::autograd(
                    "requires_grad_",
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
                ));
            }
            return Ok(self);
        }
        with_meta(self, |m| m.requires_grad = requires_grad);
        self.set_requires_grad_cache(requires_grad);
        Ok(self)
    }

    /// Keeps `.grad` of a non-leaf after backward (PyTorch's `retain_grad`).
    /// A no-op on leaves.
    pub fn retain_grad(&self) -> Result<()> {
        if !self.requires_grad() {
            return Err(Error::autograd(
                "retain_grad",
                "can't retain_grad on Tensor that has requires_grad=False",
            ));
        }
        let Some(node) = self.grad_fn() else { return Ok(()) };
        if self.retains_grad() {
            return Ok(());
        }
        let nr = self.output_nr();
        node.hooks().retains_grad.push((nr, self.downgrade()));
        with_meta(self, |m| m.retains_grad = true);
        Ok(())
    }

    /// Registers a hook on this tensor's gradient (PyTorch's `register_hook`);
    /// returns an id for [`Tensor::remove_hook`]. The hook may return a
    /// replacement gradient.
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync + 'static,
    ) -> Result<u64> {
        if !self.requires_grad() {
            return Err(Error::autograd(
                "register_hook",
                "cannot register a hook on a tensor that doesn't require gradient",
            ));
        }
        let hook: TensorHook = Arc::new(hook);
        let id = next_hook_id();
        match self.grad_fn() {
            Some(node) => node.hooks().tensor_pre.push((id, self.output_nr(), hook)),
            None => with_meta(self, |m| m.hooks.push((id, hook))),
        }
        Ok(id)
    }

    /// Removes a hook registered with [`Tensor::register_hook`].
    pub fn remove_hook(&self, id: u64) -> bool {
        if let Some(node) = self.grad_fn() {
            if node.remove_hook(id) {
                return true;
            }
        }
        with_meta(self, |m| {
            let before = m.hooks.len() + m.post_accumulate_hooks.len();
            m.hooks.retain(|h| h.0 != id);
            m.post_accumulate_hooks.retain(|h| h.0 != id);
            before != m.hooks.len() + m.post_accumulate_hooks.len()
        })
    }

    /// Registers a hook run after this leaf's `.grad` is updated.
    pub fn register_post_accumulate_grad_hook(
        &self,
        hook: impl Fn(&Tensor) -> Result<()> + Send + Sync + 'static,
    ) -> Result<u64> {
        if !self.is_leaf() {
            return Err(Error::autograd(
                "register_post_accumulate_grad_hook",
                "post accumulate grad hooks cannot be registered on non-leaf tensors",
            ));
        }
        if !self.requires_grad() {
            return Err(Error::autograd(
                "register_post_accumulate_grad_hook",
                "cannot register a hook on a tensor that doesn't require gradient",
            ));
        }
        let id = next_hook_id();
        with_meta(self, |m| m.post_accumulate_hooks.push((id, Arc::new(hook))));
        Ok(id)
    }

    /// Leaf hooks, in registration order (used by AccumulateGrad).
    pub fn leaf_hooks(&self) -> Vec<TensorHook> {
        read_meta(self, |m| {
            m.map(|m| m.hooks.iter().map(|h| h.1.clone()).collect())
                .unwrap_or_default()
        })
    }
    /// Post-accumulate hooks, in registration order.
    pub fn post_accumulate_hooks(&self) -> Vec<PostAccumulateHook> {
        read_meta(self, |m| {
            m.map(|m| m.post_accumulate_hooks.iter().map(|h| h.1.clone()).collect())
                .unwrap_or_default()
        })
    }
}

/// True when grad mode is on and any of `tensors` requires grad: the op must
/// record a node.
pub fn compute_requires_grad(tensors: &[&Tensor]) -> bool {
    tls::is_grad_enabled() && tensors.iter().any(|t| t.requires_grad())
}

/// The edge a gradient for `t` should flow along: its grad_fn, or its leaf
/// AccumulateGrad (created on first use), or none.
pub fn gradient_edge(t: &Tensor) -> Edge {
    if !t.requires_grad() {
        return Edge::none();
    }
    let mut guard = t.meta_lock();
    let meta = guard.get_or_insert_with(Default::default);
    match &meta.grad_fn {
        Some(node) => Edge {
            node: Some(node.clone()),
            input_nr: meta.output_nr,
        },
        None => {
            let acc = meta
                .grad_accumulator
                .get_or_insert_with(|| super::accumulate::new_accumulate_grad_node(t));
            Edge {
                node: Some(acc.clone()),
                input_nr: 0,
            }
        }
    }
}

/// The AccumulateGrad node of a leaf that requires grad, created on first use
/// and kept by the leaf.
pub fn grad_accumulator(t: &Tensor) -> Arc<Node> {
    let mut guard = t.meta_lock();
    let meta = guard.get_or_insert_with(Default::default);
    meta.grad_accumulator
        .get_or_insert_with(|| super::accumulate::new_accumulate_grad_node(t))
        .clone()
}

/// Edges for each of `tensors`, in order.
pub fn collect_next_edges(tensors: &[&Tensor]) -> Vec<Edge> {
    tensors.iter().map(|t| gradient_edge(t)).collect()
}

/// Edges for optional tensor arguments (`Tensor?`) and lists (`Tensor[]`).
pub fn collect_next_edges_opt(tensors: &[Option<&Tensor>]) -> Vec<Edge> {
    tensors
        .iter()
        .map(|t| t.map_or_else(Edge::none, gradient_edge))
        .collect()
}

/// Makes `node` the grad_fn of the fresh output `t` and registers `t`'s
/// metadata as the node's next input. Outputs of a non-floating dtype keep
/// their slot but get no history: they are not differentiable.
pub fn set_history(t: &Tensor, node: &Arc<Node>) {
    let output_nr = node.add_input_meta(InputMeta::of(t));
    if !t.dtype().is_floating_point() {
        return;
    }
    with_meta(t, |m| {
        m.grad_fn = Some(node.clone());
        m.output_nr = output_nr;
    });
    t.set_requires_grad_cache(true);
}

/// After an in-place op, makes `node` the new grad_fn of `t` (whose previous
/// history is one of `node`'s next edges). When `t` is a view, the write
/// changed its base as well: the base's history goes through CopySlices (see
/// `copy_slices`).
pub fn rebase_history(t: &Tensor, node: &Arc<Node>) -> Result<()> {
    match t.base() {
        Some(base) => super::copy_slices::rebase_view_history(t, base, node),
        None => {
            set_history(t, node);
            Ok(())
        }
    }
}

/// Refuses an in-place op on `t` when autograd cannot record it: a leaf that
/// requires grad, or a view of one (PyTorch's messages).
pub fn check_inplace(op: &str, t: &Tensor, requires_grad: bool) -> Result<()> {
    if !requires_grad {
        return Ok(());
    }
    if t.requires_grad() && t.is_leaf() && !t.is_view() {
        return Err(Error::autograd(
            op,
            "a leaf Variable that requires grad is being used in an in-place operation.",
        ));
    }
    if let Some(base) = t.base() {
        if base.requires_grad() && base.is_leaf() {
            return Err(Error::autograd(
                op,
                "a view of a leaf Variable that requires grad is being used in an in-place operation.",
            ));
        }
    }
    Ok(())
}

/// Points `t` at output `output_nr` of an existing node without registering
/// new input metadata (used when unpacking a saved output).
pub(crate) fn attach_existing_history(t: &Tensor, node: &Arc<Node>, output_nr: usize) {
    with_meta(t, |m| {
        m.grad_fn = Some(node.clone());
        m.output_nr = output_nr;
    });
    t.set_requires_grad_cache(true);
}
