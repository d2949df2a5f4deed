//! Metadata queries returning plain values instead of tensors: the sizes,
//! strides, element count and storage offset of a tensor (`sym_size.int`,
//! `sym_stride.int`, `sym_numel`, `sym_storage_offset`), and the value of
//! its first element (`_local_scalar_dense`, what `Tensor.item()` calls).

use ft_runtime::{Error, Result, Scalar, Tensor};

/// Wraps `dim` for a metadata query the way PyTorch's `size(dim)` does: a
/// 0-dim tensor has no dimension to ask about (unlike reductions, which
/// accept dim 0 and -1 on scalars).
fn metadata_dim(op: &str, dim: i64, ndim: usize) -> Result<usize> {
    if ndim == 0 {
        return Err(Error::new(
            ft_runtime::ErrorKind::DimOutOfRange,
            op,
            format!("Dimension specified as {dim} but tensor has no dimensions"),
        ));
    }
    ft_runtime::shape::wrap_dim(op, dim, ndim)
}

/// `aten::sym_size.int`: the size of dim `dim` (negative counts from the end).
///
/// ```
/// let t = ft_runtime::Tensor::zeros_contiguous(&[2, 5], ft_runtime::DType::F32);
/// assert_eq!(ft_kernels::metadata::sym_size(&t, -1).unwrap(), 5);
/// ```
pub fn sym_size(self_: &Tensor, dim: i64) -> Result<i64> {
    let d = metadata_dim("aten::sym_size.int", dim, self_.dim())?;
    Ok(self_.sizes()[d] as i64)
}

/// `aten::sym_stride.int`: the stride (in elements) of dim `dim`.
pub fn sym_stride(self_: &Tensor, dim: i64) -> Result<i64> {
    let d = metadata_dim("aten::sym_stride.int", dim, self_.dim())?;
    Ok(self_.strides()[d] as i64)
}

/// `aten::sym_numel`: the number of elements.
pub fn sym_numel(self_: &Tensor) -> Result<i64> {
    Ok(self_.numel() as i64)
}

/// `aten::sym_storage_offset`: the offset of the first element in the storage.
pub fn sym_storage_offset(self_: &Tensor) -> Result<i64> {
    Ok(self_.storage_offset() as i64)
}

/// `aten::_local_scalar_dense`: the first element (in logical order) as a
/// Scalar of the tensor's kind: `Int` for integer dtypes, `Bool` for bool,
/// `Float` for floating dtypes. Like PyTorch, this op reads the first element
/// of a tensor of any size (only `Tensor.item()` insists on one element) and
/// refuses an empty tensor.
///
/// ```
/// use ft_runtime::{Scalar, Tensor};
/// let t = Tensor::from_vec(vec![2.5, 1.0], &[2]).unwrap();
/// assert_eq!(ft_kernels::metadata::local_scalar_dense(&t).unwrap(), Scalar::Float(2.5));
/// ```
pub fn local_scalar_dense(self_: &Tensor) -> Result<Scalar> {
    if self_.numel() == 0 {
        return Err(Error::invalid(
            "aten::_local_scalar_dense",
            "_local_scalar_dense: Empty tensor not supported",
        ));
    }
    self_.as_view(&[], &[], self_.storage_offset())?.item()
}
