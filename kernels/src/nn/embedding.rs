//! `embedding` (a row gather) and `embedding_dense_backward` (its
//! scatter-add, with `padding_idx` and `scale_grad_by_freq`).

use super::{fmt, read_vec, tensor_of};
use crate::iter::{Arith, OpMath};
use ft_runtime::{dispatch_dtype, DType, Error, Result, Tensor};

/// The indices as i64, after checking their dtype (int64 or int32).
fn index_values(op: &str, indices: &Tensor) -> Result<Vec<i64>> {
    match indices.dtype() {
        DType::I64 => read_vec::<i64>(indices),
        DType::I32 => Ok(read_vec::<i32>(indices)?.into_iter().map(i64::from).collect()),
        d => Err(Error::dtype(
            op,
            format!(
                "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got {} instead",
                d.tensor_type_name()
            ),
        )),
    }
}

/// Checks one index against the row count.
fn row(op: &str, index: i64, rows: usize) -> Result<usize> {
    if index < 0 || index as usize >= rows {
        return Err(Error::index(
            op,
            format!("index {index} is out of range for a table of {rows} rows (index out of range in self)"),
        ));
    }
    Ok(index as usize)
}

/// `aten::embedding`: the rows of the 2-D `weight` selected by `indices`
/// (int64 or int32, any shape); the result has shape `indices.shape + [dim]`.
/// `padding_idx`, `scale_grad_by_freq` and `sparse` only affect the gradient.
///
/// ```
/// use ft_runtime::Tensor;
/// let w = Tensor::from_vec(vec![0.0f32, 1.0, 10.0, 11.0, 20.0, 21.0], &[3, 2]).unwrap();
/// let i = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
/// let e = ft_kernels::nn::embedding::embedding(&w, &i, -1, false, false).unwrap();
/// assert_eq!(e.to_vec::<f32>().unwrap(), vec![20.0, 21.0, 0.0, 1.0]);
/// ```
pub fn embedding(
    weight: &Tensor,
    indices: &Tensor,
    padding_idx: i64,
    scale_grad_by_freq: bool,
    sparse: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::embedding";
    let _ = (padding_idx, scale_grad_by_freq, sparse);
    if weight.dim() != 2 {
        return Err(Error::shape(OP, "'weight' must be 2-D"));
    }
    let idx = index_values(OP, indices)?;
    let (rows, width) = (weight.sizes()[0], weight.sizes()[1]);
    let picked: Vec<usize> = idx.iter().map(|&i| row(OP, i, rows)).collect::<Result<_>>()?;
    let mut sizes = indices.sizes().to_vec();
    sizes.push(width);
    dispatch_dtype!(weight.dtype(), T => {
        let w = read_vec::<T>(weight)?;
        let mut out = Vec::with_capacity(picked.len() * width);
        for r in picked {
            out.extend_from_slice(&w[r * width..(r + 1) * width]);
        }
        tensor_of(out, &sizes)
    })
}

/// Adds `alpha * g` to `acc` in the element type (PyTorch's `add_(g, alpha)`).
fn add_scaled<T: OpMath>(acc: &mut [T], g: &[T], alpha: T::Acc) {
    for (a, &v) in acc.iter_mut().zip(g) {
        *a = T::narrow(a.widen().add(alpha.mul(v.widen())));
    }
}

/// The per-add scale `1 / count` (or 1) in the op-math type, converted as
/// PyTorch converts a double `alpha` (truncated for integers).
fn alpha_of<T: OpMath>(count: Option<usize>) -> T::Acc {
    let s = count.map_or(1.0, |c| 1.0 / c as f64);
    T::acc_from_scalar(ft_runtime::Scalar::Float(s))
}

/// `aten::embedding_dense_backward`: the gradient of `embedding` with respect
/// to its `num_weights`-row weight: row `indices[i]` accumulates
/// `grad_output[i]` (skipping `padding_idx`), divided by how often the index
/// occurs when `scale_grad_by_freq`.
///
/// ```
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3, 1]).unwrap();
/// let i = Tensor::from_vec(vec![1i64, 1, 0], &[3]).unwrap();
/// let w = ft_kernels::nn::embedding::embedding_dense_backward(&g, &i, 3, 0, true).unwrap();
/// assert_eq!(w.to_vec::<f64>().unwrap(), vec![0.0, 1.5, 0.0]);
/// ```
pub fn embedding_dense_backward(
    grad_output: &Tensor,
    indices: &Tensor,
    num_weights: i64,
    padding_idx: i64,
    scale_grad_by_freq: bool,
) -> Result<Tensor> {
    const OP: &str = "aten::embedding_dense_backward";
    let idx = index_values(OP, indices)?;
    if num_weights < 0 {
        return Err(Error::invalid(
            OP,
            format!("num_weights must be non-negative, got {num_weights}"),
        ));
    }
    let rows = num_weights as usize;
    let width = grad_output.sizes().last().copied().unwrap_or(1);
    if grad_output.dim() == 0 || grad_output.numel() != idx.len() * width {
        return Err(Error::shape(
            OP,
            format!(
                "grad_output of shape {} does not hold one row of the last dim per index ({} indices)",
                fmt(grad_output.sizes()),
                idx.len()
            ),
        ));
    }
    let mut counts = vec![0usize; rows];
    for &i in &idx {
        if i != padding_idx {
            counts[row(OP, i, rows)?] += 1;
        }
    }
    dispatch_dtype!(grad_output.dtype(), T => {
        let g = read_vec::<T>(grad_output)?;
        let mut out = vec![T::default(); rows * width];
        for (k, &i) in idx.iter().enumerate() {
            if i == padding_idx {
                continue;
            }
            let r = i as usize;
            let alpha = alpha_of::<T>(scale_grad_by_freq.then_some(counts[r]));
            add_scaled::<T>(&mut out[r * width..(r + 1) * width], &g[k * width..(k + 1) * width], alpha);
        }
        tensor_of(out, &[rows, width])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn embedding_gathers_rows_of_strided_weight() {
        let w = Tensor::from_vec((0..6).collect::<Vec<i32>>(), &[2, 3]).unwrap();
        let wt = w.as_view(&[3, 2], &[1, 3], 0).unwrap();
        let i = Tensor::from_vec(vec![2i32, 0, 1, 2], &[2, 2]).unwrap();
        let e = embedding(&wt, &i, -1, false, false).unwrap();
        assert_eq!(e.sizes(), &[2, 2, 2]);
        assert_eq!(e.to_vec::<i32>().unwrap(), vec![2, 5, 0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn dense_backward_integer_scale_truncates() {
        let g = Tensor::from_vec(vec![3i64, 5, 7], &[3, 1]).unwrap();
        let i = Tensor::from_vec(vec![1i64, 1, 0], &[3]).unwrap();
        let w = embedding_dense_backward(&g, &i, 2, -1, true).unwrap();
        assert_eq!(w.to_vec::<i64>().unwrap(), vec![7, 0]);
        let w = embedding_dense_backward(&g, &i, 2, -1, false).unwrap();
        assert_eq!(w.to_vec::<i64>().unwrap(), vec![7, 8]);
    }

    #[test]
    fn embedding_errors() {
        let w = Tensor::zeros_contiguous(&[5, 3], DType::F32);
        let kind = |r: Result<Tensor>| r.unwrap_err().kind();
        let bad = Tensor::from_vec(vec![5i64], &[1]).unwrap();
        assert_eq!(kind(embedding(&w, &bad, -1, false, false)), ErrorKind::IndexOutOfRange);
        let neg = Tensor::from_vec(vec![-1i64], &[1]).unwrap();
        assert_eq!(kind(embedding(&w, &neg, -1, false, false)), ErrorKind::IndexOutOfRange);
        let f = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
        assert_eq!(kind(embedding(&w, &f, -1, false, false)), ErrorKind::DType);
        let v = Tensor::zeros_contiguous(&[5], DType::F32);
        assert_eq!(kind(embedding(&v, &bad, -1, false, false)), ErrorKind::ShapeMismatch);
        let g = Tensor::zeros_contiguous(&[2, 3], DType::F32);
        assert_eq!(
            kind(embedding_dense_backward(&g, &bad, 5, -1, false)),
            ErrorKind::ShapeMismatch
        );
        let g1 = Tensor::zeros_contiguous(&[1, 3], DType::F32);
        assert_eq!(
            kind(embedding_dense_backward(&g1, &bad, 5, -1, false)),
            ErrorKind::IndexOutOfRange
        );
    }
}
