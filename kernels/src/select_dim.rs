//! Value-selecting reductions along one dim that also return where the value
//! was found: `max.dim` and `min.dim`.

use crate::copy::clone;
use crate::view::{permute, unsqueeze};
use ft_runtime::{dispatch_dtype, shape, Element, Error, MemoryFormat, Result, Tensor};

/// Which extreme a selecting reduction keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extreme {
    Max,
    Min,
}

/// `(values, indices)` of the largest element along `dim` (PyTorch's
/// `max.dim`): NaN wins over every number, and among equal values the first
/// one is reported.
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 5.0, 5.0, 2.0], &[2, 2]).unwrap();
/// let (v, i) = ft_kernels::select_dim::max_dim(&x, 1, false).unwrap();
/// assert_eq!(v.to_vec::<f32>().unwrap(), vec![5.0, 5.0]);
/// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 0]);
/// ```
pub fn max_dim(self_: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    select_along("aten::max.dim", self_, dim, keepdim, Extreme::Max)
}

/// `(values, indices)` of the smallest element along `dim` (PyTorch's
/// `min.dim`), with the NaN and tie rules of [`max_dim`].
///
/// ```
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![3i64, -1, -1], &[3]).unwrap();
/// let (v, i) = ft_kernels::select_dim::min_dim(&x, 0, true).unwrap();
/// assert_eq!((v.sizes(), v.to_vec::<i64>().unwrap()), (&[1usize][..], vec![-1]));
/// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1]);
/// ```
pub fn min_dim(self_: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    select_along("aten::min.dim", self_, dim, keepdim, Extreme::Min)
}

fn select_along(op: &str, x: &Tensor, dim: i64, keepdim: bool, which: Extreme) -> Result<(Tensor, Tensor)> {
    let nd = x.dim();
    let d = shape::wrap_dim(op, dim, nd)?;
    let n = if nd == 0 { 1 } else { x.sizes()[d] };
    if n == 0 {
        return Err(Error::index(
            op,
            format!("Expected reduction dim {d} to have non-zero size."),
        ));
    }
    // Move `dim` last and make the rows contiguous: each row is one reduction.
    let rows = if nd == 0 {
        x.clone()
    } else {
        let mut order: Vec<i64> = (0..nd as i64).filter(|&i| i != d as i64).collect();
        order.push(d as i64);
        permute(x, &order)?
    };
    let rows = clone(&rows, Some(MemoryFormat::Contiguous))?;
    let mut out_sizes: Vec<usize> = x.sizes().to_vec();
    if nd > 0 {
        out_sizes.remove(d);
    }
    let (values, indices) = dispatch_dtype!(x.dtype(), T => {
        let data = rows.to_vec::<T>()?;
        let (v, i) = select_rows::<T>(&data, n, which);
        (Tensor::from_vec(v, &out_sizes)?, Tensor::from_vec(i, &out_sizes)?)
    });
    if keepdim && nd > 0 {
        Ok((unsqueeze(&values, d as i64)?, unsqueeze(&indices, d as i64)?))
    } else {
        Ok((values, indices))
    }
}

/// Picks the extreme of each `n`-long row of `data`.
fn select_rows<T: Element>(data: &[T], n: usize, which: Extreme) -> (Vec<T>, Vec<i64>) {
    let rows = data.len() / n;
    let (mut values, mut indices) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for row in data.chunks_exact(n) {
        let mut best = 0usize;
        for (j, &v) in row.iter().enumerate().skip(1) {
            if is_nan(row[best]) {
                break;
            }
            let better = match which {
                Extreme::Max => v > row[best],
                Extreme::Min => v < row[best],
            };
            if better || is_nan(v) {
                best = j;
            }
        }
        values.push(row[best]);
        indices.push(best as i64);
    }
    (values, indices)
}

/// NaN is the only value not equal to itself.
#[allow(clippy::eq_op)]
fn is_nan<T: Element>(v: T) -> bool {
    v != v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::DType;

    #[test]
    fn nan_wins_and_first_nan_is_reported() {
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, f64::NAN], &[4]).unwrap();
        let (v, i) = max_dim(&x, 0, false).unwrap();
        assert!(v.to_vec::<f64>().unwrap()[0].is_nan());
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![1]);
        let (_, i) = min_dim(&x, -1, false).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![1]);
    }

    #[test]
    fn empty_reduction_dim_is_an_error() {
        let x = Tensor::zeros_contiguous(&[2, 0], DType::F32);
        let e = max_dim(&x, 1, false).unwrap_err();
        assert!(e.to_string().contains("non-zero size"), "{e}");
        assert_eq!(max_dim(&x, 0, false).unwrap().0.sizes(), &[0]);
    }
}
