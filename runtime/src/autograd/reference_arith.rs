//! A complete, graph-free [`GradArith`] computed element by element through
//! f64, for the runtime's own examples and tests (the `frankentorch` crate
//! installs the real one, built on recorded operators).

use super::arith::GradArith;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::storage::StorageAccess;
use crate::tensor::{for_each_offset, Tensor};

/// Gradient arithmetic on element values; it records no graph, so it does not
/// support `create_graph`.
///
/// ```
/// use ft_runtime::{autograd::{GradArith, ReferenceArith}, Tensor};
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let s = ReferenceArith.sum_to(&g, &[1, 2]).unwrap();
/// assert_eq!(s.to_vec::<f64>().unwrap(), vec![4.0, 6.0]);
/// ```
pub struct ReferenceArith;

fn from_f64s(values: Vec<f64>, sizes: &[usize], dtype: DType) -> Result<Tensor> {
    crate::dispatch_dtype!(dtype, T => Tensor::from_vec(values.into_iter().map(T::from_f64).collect::<Vec<T>>(), sizes))
}

fn same_shape(op: &str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.sizes() == b.sizes() {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("sizes {:?} and {:?} differ", a.sizes(), b.sizes()),
        ))
    }
}

impl GradArith for ReferenceArith {
    fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        same_shape("ReferenceArith::add", a, b)?;
        let sum = a.to_f64_vec().iter().zip(b.to_f64_vec()).map(|(x, y)| x + y).collect();
        from_f64s(sum, a.sizes(), a.dtype())
    }

    fn add_(&self, acc: &Tensor, g: &Tensor) -> Result<()> {
        same_shape("ReferenceArith::add_", acc, g)?;
        let sum: Vec<f64> = acc
            .to_f64_vec()
            .iter()
            .zip(g.to_f64_vec())
            .map(|(x, y)| x + y)
            .collect();
        write_values(acc, &sum);
        Ok(())
    }

    fn copy_(&self, dst: &Tensor, src: &Tensor) -> Result<()> {
        same_shape("ReferenceArith::copy_", dst, src)?;
        write_values(dst, &src.to_f64_vec());
        Ok(())
    }

    fn sum_to(&self, g: &Tensor, sizes: &[usize]) -> Result<Tensor> {
        let from = g.sizes();
        let lead = from
            .len()
            .checked_sub(sizes.len())
            .ok_or_else(|| Error::shape("ReferenceArith::sum_to", format!("cannot sum {from:?} to {sizes:?}")))?;
        let mut out = vec![0.0; sizes.iter().product()];
        for (i, v) in g.to_f64_vec().into_iter().enumerate() {
            // Row-major index in `from` -> index in `sizes` (size-1 dims collapse).
            let (mut rest, mut target, mut stride) = (i, 0, 1);
            for d in (0..from.len()).rev() {
                let coord = rest % from[d].max(1);
                rest /= from[d].max(1);
                if d >= lead {
                    let size = sizes[d - lead];
                    target += if size == 1 { 0 } else { coord * stride };
                    stride *= size;
                }
            }
            out[target] += v;
        }
        from_f64s(out, sizes, g.dtype())
    }

    fn to_dtype(&self, g: &Tensor, dtype: DType) -> Result<Tensor> {
        from_f64s(g.to_f64_vec(), g.sizes(), dtype)
    }

    fn ones_like(&self, t: &Tensor) -> Result<Tensor> {
        from_f64s(vec![1.0; t.numel()], t.sizes(), t.dtype())
    }

    fn clone_like(&self, g: &Tensor, _like: &Tensor) -> Result<Tensor> {
        from_f64s(g.to_f64_vec(), g.sizes(), g.dtype())
    }
}

/// Writes `values_f64` (row-major) into `dst` element by element and bumps its version.
fn write_values(dst: &Tensor, values_f64: &[f64]) {
    let access = StorageAccess::lock(&[], &[dst.storage()]);
    crate::dispatch_dtype!(dst.dtype(), T => {
        let base = access.base_ptr_mut(dst.storage()) as *mut T;
        let mut values = values_f64.iter();
        for_each_offset(dst.sizes(), dst.strides(), dst.storage_offset(), |off| {
            let v = values.next().copied().unwrap_or_default();
            // SAFETY: `off` is inside the storage (checked when `dst` was
            // created), which is locked for writing.
            unsafe { base.add(off).write(T::from_f64(v)) }
        });
    });
    drop(access);
    dst.version_counter().bump();
}
