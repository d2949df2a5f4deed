//! Connects the runtime's autograd engine to the generated operators: the
//! engine sums, reduces and casts gradients through [`GradArith`], which this
//! module implements with ordinary (recorded) operator calls.

use crate::autograd::{self, GradArith};
use crate::ops;
use crate::{DType, MemoryFormat, Result, Tensor};

struct OpsArith;

impl GradArith for OpsArith {
    fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        ops::add(a, b)
    }
    fn add_(&self, acc: &Tensor, g: &Tensor) -> Result<()> {
        ops::add_(acc, g).map(|_| ())
    }
    fn sum_to(&self, g: &Tensor, sizes: &[usize]) -> Result<Tensor> {
        let sizes: Vec<i64> = sizes.iter().map(|&s| s as i64).collect();
        crate::autograd_helpers::sum_to(g, &sizes)
    }
    fn to_dtype(&self, g: &Tensor, dtype: DType) -> Result<Tensor> {
        crate::autograd_helpers::to_dtype(g, dtype)
    }
    fn ones_like(&self, t: &Tensor) -> Result<Tensor> {
        ops::ones_like(t)
    }
    fn clone_like(&self, g: &Tensor, like: &Tensor) -> Result<Tensor> {
        if g.strides() == like.strides() || !autograd::accumulate::is_non_overlapping_and_dense(like) {
            return ops::clone_full(g, Some(MemoryFormat::Contiguous)).or_else(|_| ops::clone(g));
        }
        let out = ops::empty_like(like)?;
        ops::copy_(&out, g, false)
    }
    fn copy_(&self, dst: &Tensor, src: &Tensor) -> Result<()> {
        ops::copy_(dst, src, false).map(|_| ())
    }
    fn as_strided(&self, t: &Tensor, sizes: &[usize], strides: &[usize], offset: usize) -> Result<Tensor> {
        let to_i64 = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
        let offset = (t.storage_offset() + offset) as i64;
        ops::as_strided(t, &to_i64(sizes), &to_i64(strides), Some(offset))
    }
}

static ARITH: OpsArith = OpsArith;

fn install() {
    autograd::install_arith(&ARITH);
}

/// Computes gradients of the one-element tensor `output` into the `.grad` of
/// the leaves it depends on (`output.backward()`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![3.0f64], &[]).unwrap();
/// x.requires_grad_(true).unwrap();
/// backward(&x.mul(&x).unwrap()).unwrap();
/// assert_eq!(x.grad().unwrap().item().unwrap(), Scalar::Float(6.0));
/// ```
pub fn backward(output: &Tensor) -> Result<()> {
    backward_full(std::slice::from_ref(output), &[], None, false, None)
}

/// `torch.autograd.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)`.
/// An empty `grad_tensors` means "implicit ones" for every (one-element) output.
pub fn backward_full(
    tensors: &[Tensor],
    grad_tensors: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&[Tensor]>,
) -> Result<()> {
    install();
    let grads: Vec<Option<Tensor>> = if grad_tensors.is_empty() {
        vec![None; tensors.len()]
    } else {
        grad_tensors.to_vec()
    };
    autograd::backward(tensors, &grads, retain_graph, create_graph, inputs)
}

/// `torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)`.
/// An empty `grad_outputs` means "implicit ones".
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![2.0f64], &[]).unwrap();
/// x.requires_grad_(true).unwrap();
/// let y = x.mul(&x).unwrap().mul(&x).unwrap();
/// let g = grad(&[y], &[x.clone()], &[], None, true, false).unwrap();
/// let gg = grad(&[g[0].clone().unwrap()], &[x], &[], None, false, false).unwrap();
/// assert_eq!(gg[0].as_ref().unwrap().item().unwrap(), Scalar::Float(12.0)); // d²(x³)/dx² = 6x
/// ```
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    install();
    autograd::grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
}
