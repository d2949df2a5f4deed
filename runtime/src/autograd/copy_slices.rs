//! In-place operations on views (PyTorch's `CopySlices`).
//!
//! Writing into a view `v` of `base` changes `base`, so `base`'s history must
//! change too. When an in-place op with backward node `fn` runs on a view,
//! [`rebase_view_history`] makes a `CopySlices` node the new grad_fn of the
//! base: its backward takes the gradient of the whole base, runs `fn` on the
//! part the view covers, writes `fn`'s input gradient back into that part, and
//! passes the other part through unchanged. The view itself gets an
//! `AsStridedBackward0` node reading its slice of the base's gradient.

use super::arith::arith;
use super::meta::{gradient_edge, set_history};
use super::node::{BackwardCtx, BackwardFn, Edge, Grads, InputMeta, Node};
use crate::error::{Error, Result};
use crate::shape::contiguous_strides;
use crate::tensor::Tensor;
use std::sync::Arc;

/// Sizes, strides and storage offset of a tensor, relative to its base.
#[derive(Clone, Debug)]
struct Geometry {
    sizes: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
}

impl Geometry {
    fn of(t: &Tensor) -> Geometry {
        Geometry {
            sizes: t.sizes().to_vec(),
            strides: t.strides().to_vec(),
            offset: t.storage_offset(),
        }
    }

    /// `view`'s geometry inside a copy of `base` whose storage starts at `base`'s first element.
    fn relative(view: &Tensor, base: &Tensor) -> Result<Geometry> {
        let offset = view
            .storage_offset()
            .checked_sub(base.storage_offset())
            .ok_or_else(|| {
                Error::not_supported(
                "autograd",
                "an in-place operation on a view that starts before its base's first element cannot be differentiated",
            )
            })?;
        Ok(Geometry {
            offset,
            ..Geometry::of(view)
        })
    }
}

/// A zero tensor laid out like `base` (own storage, offset 0) holding `grad`.
/// Built with recorded operations, so it is differentiable under `create_graph`.
fn copy_laid_out_like(grad: &Tensor, base: &Geometry) -> Result<Tensor> {
    let out = Tensor::zeros_strided(&base.sizes, &base.strides, grad.dtype());
    arith()?.copy_(&out, grad)?;
    Ok(out)
}

/// The part of `t` (laid out per [`copy_laid_out_like`]) that `view` covers.
fn part(t: &Tensor, view: &Geometry) -> Result<Tensor> {
    arith()?.as_strided(t, &view.sizes, &view.strides, view.offset)
}

/// The base's grad_fn after an in-place op on one of its views.
struct CopySlices {
    base: Geometry,
    view: Geometry,
    fn_: Arc<Node>,
}

impl BackwardFn for CopySlices {
    fn name(&self) -> String {
        // PyTorch reports the C++ class name for this node.
        "torch::autograd::CopySlices".to_string()
    }

    fn apply(&self, ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        let n = self.fn_.next_edges().len();
        let mut out: Grads = vec![None; n];
        let Some(grad) = grads.first().cloned().flatten() else {
            return Ok(out);
        };
        let result = copy_laid_out_like(&grad, &self.base)?;
        let slice = part(&result, &self.view)?;
        let slice_grad = copy_laid_out_like(
            &slice,
            &Geometry {
                strides: contiguous_strides(&self.view.sizes).to_vec(),
                ..self.view.clone()
            },
        )?;
        // `fn`'s first input is the view itself: its gradient is always needed.
        let needs: Vec<bool> = (0..n).map(|i| i == 0 || ctx.needs(i)).collect();
        let fn_ctx = BackwardCtx {
            node: &self.fn_,
            needs_input_grad: &needs,
            create_graph: ctx.create_graph,
        };
        let res = self.fn_.apply(&fn_ctx, &[Some(slice_grad)])?;
        match res.first().cloned().flatten() {
            Some(g) => arith()?.copy_(&slice, &g)?,
            None => arith()?.copy_(&slice, &Tensor::zeros_contiguous(&self.view.sizes, grad.dtype()))?,
        }
        out[0] = Some(result);
        for (i, g) in res.into_iter().enumerate().skip(1).take(n.saturating_sub(1)) {
            out[i] = g;
        }
        Ok(out)
    }

    fn release_variables(&self) {
        self.fn_.release_variables();
    }
}

/// The grad_fn of a view after an in-place op on it: its part of the base's gradient.
struct AsStridedBackward {
    base: Geometry,
    view: Geometry,
}

impl BackwardFn for AsStridedBackward {
    fn name(&self) -> String {
        "AsStridedBackward0".to_string()
    }

    fn apply(&self, _ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        let Some(grad) = grads.first().cloned().flatten() else {
            return Ok(vec![None]);
        };
        let base_grad = Tensor::zeros_strided(&self.base.sizes, &self.base.strides, grad.dtype());
        arith()?.copy_(&part(&base_grad, &self.view)?, &grad)?;
        Ok(vec![Some(base_grad)])
    }
}

/// After in-place op node `fn_` wrote into `view` (a view of `base`), records
/// the write in `base`'s history (CopySlices) and gives `view` the
/// AsStridedBackward0 node over it. `fn_`'s first next edge (the view's old
/// history) is replaced by the base's old history.
pub(crate) fn rebase_view_history(view: &Tensor, base: &Tensor, fn_: &Arc<Node>) -> Result<()> {
    fn_.add_input_meta(InputMeta::of(view));
    let base_geometry = Geometry {
        offset: 0,
        ..Geometry::of(base)
    };
    let view_geometry = Geometry::relative(view, base)?;
    let mut edges: Vec<Edge> = vec![gradient_edge(base)];
    edges.extend(fn_.next_edges().iter().skip(1).cloned());
    let copy_slices = Node::new(
        CopySlices {
            base: base_geometry.clone(),
            view: view_geometry.clone(),
            fn_: fn_.clone(),
        },
        edges,
    );
    set_history(base, &copy_slices);
    let view_node = Node::new(
        AsStridedBackward {
            base: base_geometry,
            view: view_geometry,
        },
        vec![Edge {
            node: Some(copy_slices),
            input_nr: 0,
        }],
    );
    set_history(view, &view_node);
    Ok(())
}
