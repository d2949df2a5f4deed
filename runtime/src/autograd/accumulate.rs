//! AccumulateGrad: the node that adds an incoming gradient into a leaf's `.grad`,
//! following PyTorch's layout and accumulation rules.

use super::arith::arith;
use super::node::{BackwardCtx, BackwardFn, Edge, Grads, Node};
use crate::error::Result;
use crate::tensor::{Tensor, WeakTensor};
use crate::tls;
use std::sync::{Arc, Mutex};

/// The node accumulating gradients into one leaf. The leaf owns its node
/// (so it is built once, not once per recorded op) and the node refers back
/// weakly, so there is no reference cycle; a gradient arriving after the
/// leaf was dropped has nowhere visible to go and is discarded.
///
/// Backward passes on several threads may deliver into one leaf at once; as
/// in PyTorch, the node's mutex makes each delivery (hooks, then the
/// read-modify-write of `.grad`) one step, so no contribution is lost.
pub struct AccumulateGrad {
    variable: WeakTensor,
    delivery: Mutex<()>,
}

/// Creates the AccumulateGrad node of `leaf` (sequence number `u64::MAX`, so it
/// runs as soon as it is ready).
pub(crate) fn new_accumulate_grad_node(leaf: &Tensor) -> Arc<Node> {
    let node = Node::with_sequence_nr(
        Box::new(AccumulateGrad {
            variable: leaf.downgrade(),
            delivery: Mutex::new(()),
        }),
        Vec::<Edge>::new(),
        u64::MAX,
    );
    node.add_input_meta(super::node::InputMeta::of(leaf));
    node
}

/// True if `t`'s strides are dense and non-overlapping (some permutation of
/// contiguous strides), so a gradient may copy them.
pub fn is_non_overlapping_and_dense(t: &Tensor) -> bool {
    if t.is_contiguous() {
        return true;
    }
    let mut dims: Vec<usize> = (0..t.dim()).collect();
    dims.sort_by_key(|&d| (t.strides()[d], t.sizes()[d]));
    let mut expected = 1usize;
    for d in dims {
        let size = t.sizes()[d];
        if size == 1 {
            continue;
        }
        if t.strides()[d] != expected {
            return false;
        }
        expected *= size;
    }
    true
}

impl AccumulateGrad {
    fn accumulate(&self, var: &Tensor, new_grad: Tensor) -> Result<()> {
        let ops = arith()?;
        let grad_mode = tls::is_grad_enabled();
        match var.grad() {
            None => {
                // Steal the incoming gradient only when nothing else can see it
                // and it already meets the layout contract.
                let stealable = !grad_mode
                    && !new_grad.requires_grad()
                    && std::sync::Arc::strong_count(&new_grad.0) == 1
                    && new_grad.storage().use_count() == 1
                    && new_grad.strides() == var.strides();
                let g = if stealable {
                    new_grad
                } else {
                    ops.clone_like(&new_grad, var)?
                };
                var.set_grad(Some(g))?;
            }
            Some(old) if !grad_mode => ops.add_(&old, &new_grad)?,
            Some(old) => {
                let sum = ops.add(&old, &new_grad)?;
                var.set_grad(Some(sum))?;
            }
        }
        for hook in var.post_accumulate_hooks() {
            hook(var)?;
        }
        Ok(())
    }
}

impl BackwardFn for AccumulateGrad {
    fn name(&self) -> String {
        "AccumulateGrad".to_string()
    }
    fn apply(&self, _ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        let (Some(mut g), Some(var)) = (grads.first().cloned().flatten(), self.variable.upgrade()) else {
            return Ok(Vec::new());
        };
        let _one_delivery_at_a_time = self.delivery.lock().unwrap_or_else(|e| e.into_inner());
        for hook in var.leaf_hooks() {
            if let Some(new_g) = hook(&g)? {
                g = new_g;
            }
        }
        if g.requires_grad() && !tls::is_grad_enabled() {
            g = g.detach();
        }
        self.accumulate(&var, g)?;
        Ok(Vec::new())
    }
    fn is_accumulate_grad(&self) -> bool {
        true
    }
    fn accumulate_target(&self) -> Option<Tensor> {
        self.variable.upgrade()
    }
}
