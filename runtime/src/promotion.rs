//! PyTorch's `result_type`: the dtype of an op over tensors and scalars.
//!
//! Operands fall into three buckets: tensors with dims, 0-dim tensors, and
//! wrapped numbers (Scalars). A lower bucket changes the result only when it
//! is of a higher category, and then only by category (a float scalar with an
//! int tensor gives the default float dtype, never float64).

use crate::dtype::{promote_types, Category, DType, DEFAULT_DTYPE};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// One operand of a promotion.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// A tensor (bucket chosen by its dim).
    Tensor(&'a Tensor),
    /// A Python number.
    Scalar(Scalar),
}

fn combine(higher: Option<DType>, lower: Option<DType>) -> Option<DType> {
    match (higher, lower) {
        (None, l) => l,
        (h, None) => h,
        (Some(h), Some(l)) => {
            if Category::of(h) == Category::Floating {
                Some(h)
            } else if h == DType::Bool || Category::of(l) == Category::Floating {
                Some(promote_types(h, l))
            } else {
                Some(h)
            }
        }
    }
}

/// The dtype PyTorch computes for an op over `operands`.
///
/// ```
/// use ft_runtime::{Tensor, Scalar, DType, promotion::{result_type, Operand}};
/// let i32t = Tensor::from_vec(vec![1i32, 2], &[2]).unwrap();
/// assert_eq!(result_type(&[Operand::Tensor(&i32t), Operand::Scalar(Scalar::Int(5))]), DType::I32);
/// assert_eq!(result_type(&[Operand::Tensor(&i32t), Operand::Scalar(Scalar::Float(1.0))]), DType::F32);
/// let zero_dim_i64 = Tensor::from_vec(vec![1i64], &[]).unwrap();
/// assert_eq!(result_type(&[Operand::Tensor(&i32t), Operand::Tensor(&zero_dim_i64)]), DType::I32);
/// let zero_dim_f64 = Tensor::from_vec(vec![1.0f64], &[]).unwrap();
/// assert_eq!(result_type(&[Operand::Tensor(&i32t), Operand::Tensor(&zero_dim_f64)]), DType::F64);
/// ```
pub fn result_type(operands: &[Operand<'_>]) -> DType {
    let (mut dim, mut zero, mut wrapped): (Option<DType>, Option<DType>, Option<DType>) = (None, None, None);
    let merge = |slot: &mut Option<DType>, d: DType| *slot = Some(slot.map_or(d, |s| promote_types(s, d)));
    for op in operands {
        match op {
            Operand::Tensor(t) if t.dim() > 0 => merge(&mut dim, t.dtype()),
            Operand::Tensor(t) => merge(&mut zero, t.dtype()),
            Operand::Scalar(s) => {
                // A float number counts as the default dtype, an int as int64.
                let d = match s {
                    Scalar::Float(_) => DEFAULT_DTYPE,
                    other => other.dtype(),
                };
                merge(&mut wrapped, d)
            }
        }
    }
    combine(dim, combine(zero, wrapped)).unwrap_or(DEFAULT_DTYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(d: DType, dims: &[usize]) -> Tensor {
        Tensor::zeros_contiguous(dims, d)
    }

    #[test]
    fn documented_examples() {
        use DType::*;
        let r = |ops: &[Operand<'_>]| result_type(ops);
        assert_eq!(
            r(&[Operand::Tensor(&t(I64, &[2])), Operand::Tensor(&t(I32, &[2]))]),
            I64
        );
        assert_eq!(
            r(&[Operand::Tensor(&t(Bool, &[2])), Operand::Tensor(&t(I64, &[2]))]),
            I64
        );
        assert_eq!(r(&[Operand::Tensor(&t(Bool, &[2])), Operand::Tensor(&t(U8, &[2]))]), U8);
        assert_eq!(
            r(&[Operand::Tensor(&t(F32, &[2])), Operand::Tensor(&t(F64, &[2]))]),
            F64
        );
        assert_eq!(
            r(&[Operand::Tensor(&t(I64, &[2])), Operand::Tensor(&t(F32, &[2]))]),
            F32
        );
        assert_eq!(
            r(&[Operand::Scalar(Scalar::Int(5)), Operand::Scalar(Scalar::Int(5))]),
            I64
        );
        assert_eq!(r(&[Operand::Tensor(&t(U8, &[2])), Operand::Tensor(&t(I64, &[]))]), U8);
        assert_eq!(
            r(&[Operand::Tensor(&t(Bool, &[2])), Operand::Scalar(Scalar::Int(1))]),
            I64
        );
        assert_eq!(
            r(&[Operand::Tensor(&t(Bool, &[2])), Operand::Scalar(Scalar::Float(1.0))]),
            F32
        );
        assert_eq!(
            r(&[Operand::Tensor(&t(F16, &[2])), Operand::Scalar(Scalar::Float(1.0))]),
            F16
        );
        assert_eq!(r(&[Operand::Tensor(&t(I32, &[])), Operand::Tensor(&t(F16, &[]))]), F16);
        assert_eq!(
            r(&[Operand::Tensor(&t(Bool, &[])), Operand::Scalar(Scalar::Float(2.0))]),
            F32
        );
    }
}
