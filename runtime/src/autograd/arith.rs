//! The tensor arithmetic the engine needs (summing gradients, reducing a
//! broadcast gradient, casting, accumulating). The engine lives below the
//! generated operator API, so the `frankentorch` crate installs an
//! implementation built on that API before running any backward pass.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::sync::OnceLock;

/// Operations the autograd engine performs on gradients. Each must record a
/// graph when grad mode is on (for `create_graph`).
pub trait GradArith: Send + Sync {
    /// `a + b` (out of place).
    fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor>;
    /// `acc += g` in place (bumps `acc`'s version).
    fn add_(&self, acc: &Tensor, g: &Tensor) -> Result<()>;
    /// Sums a broadcast gradient down to `sizes` (PyTorch's `sum_to`).
    fn sum_to(&self, g: &Tensor, sizes: &[usize]) -> Result<Tensor>;
    /// Casts to `dtype`.
    fn to_dtype(&self, g: &Tensor, dtype: DType) -> Result<Tensor>;
    /// `ones_like(t)` (the implicit gradient of a scalar output).
    fn ones_like(&self, t: &Tensor) -> Result<Tensor>;
    /// A copy of `g` laid out like `like` when `like` is dense and
    /// non-overlapping, else contiguous (AccumulateGrad's layout contract).
    fn clone_like(&self, g: &Tensor, like: &Tensor) -> Result<Tensor>;
    /// `dst.copy_(src)`: writes `src` (broadcast, cast) into `dst`, which may be a view.
    fn copy_(&self, dst: &Tensor, src: &Tensor) -> Result<()>;
    /// `t.as_strided(sizes, strides, t.storage_offset() + offset)`, recorded
    /// (a differentiable view) when the implementation can; the default is an
    /// unrecorded view, which is enough when no graph is being built.
    fn as_strided(&self, t: &Tensor, sizes: &[usize], strides: &[usize], offset: usize) -> Result<Tensor> {
        t.as_view(sizes, strides, t.storage_offset() + offset)
    }
}

static ARITH: OnceLock<&'static dyn GradArith> = OnceLock::new();

/// Installs the engine's arithmetic (first call wins; later calls are ignored).
pub fn install_arith(arith: &'static dyn GradArith) {
    let _ = ARITH.set(arith);
}

/// The installed arithmetic, or an error explaining that the operator library
/// is not linked.
pub fn arith() -> Result<&'static dyn GradArith> {
    ARITH.get().copied().ok_or_else(|| {
        Error::autograd(
            "autograd",
            "no gradient arithmetic installed: run backward through the `frankentorch` crate, which installs it",
        )
    })
}
