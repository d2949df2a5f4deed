//! Batching items: the [`Collate`] trait and [`default_collate`], as
//! `torch.utils.data.default_collate`.

use crate::{ops, Error, Result, Tensor};

/// How a batch of items becomes one batched value
/// (`torch.utils.data.default_collate`'s rules per element type):
/// tensors are stacked along a new dimension 0, `i64`/`bool` become an
/// int64/bool tensor, `f64` a float64 tensor, and vectors and tuples are
/// collated field by field.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::Collate;
/// # fn main() -> frankentorch::Result<()> {
/// let batch = vec![(Tensor::from_vec(vec![1.0f32, 2.0], &[2])?, 3i64), (Tensor::from_vec(vec![4.0f32, 5.0], &[2])?, 6)];
/// let (x, y) = <(Tensor, i64)>::collate(batch)?;
/// assert_eq!(x.sizes(), &[2, 2]);
/// assert_eq!(y.to_vec::<i64>()?, vec![3, 6]);
/// # Ok(()) }
/// ```
pub trait Collate: Sized {
    /// The batched value.
    type Batch;

    /// Batches `batch` (never empty when called by a `DataLoader`).
    fn collate(batch: Vec<Self>) -> Result<Self::Batch>;
}

impl Collate for Tensor {
    type Batch = Tensor;
    fn collate(batch: Vec<Tensor>) -> Result<Tensor> {
        ops::stack(&batch, 0)
    }
}

impl Collate for i64 {
    type Batch = Tensor;
    fn collate(batch: Vec<i64>) -> Result<Tensor> {
        let n = batch.len();
        Tensor::from_vec(batch, &[n])
    }
}

impl Collate for f64 {
    type Batch = Tensor;
    fn collate(batch: Vec<f64>) -> Result<Tensor> {
        let n = batch.len();
        Tensor::from_vec(batch, &[n])
    }
}

impl Collate for bool {
    type Batch = Tensor;
    fn collate(batch: Vec<bool>) -> Result<Tensor> {
        let n = batch.len();
        Tensor::from_vec(batch, &[n])
    }
}

impl<T: Collate> Collate for Vec<T> {
    type Batch = Vec<T::Batch>;
    fn collate(batch: Vec<Vec<T>>) -> Result<Vec<T::Batch>> {
        let width = batch.first().map_or(0, Vec::len);
        if batch.iter().any(|item| item.len() != width) {
            return Err(Error::invalid(
                "default_collate",
                "each element in list of batch should be of equal size",
            ));
        }
        let mut columns: Vec<Vec<T>> = (0..width).map(|_| Vec::with_capacity(batch.len())).collect();
        for item in batch {
            for (column, value) in columns.iter_mut().zip(item) {
                column.push(value);
            }
        }
        columns.into_iter().map(T::collate).collect()
    }
}

macro_rules! tuple_collate {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Collate),+> Collate for ($($name,)+) {
            type Batch = ($($name::Batch,)+);
            #[allow(non_snake_case)]
            fn collate(batch: Vec<Self>) -> Result<Self::Batch> {
                $(let mut $name = Vec::with_capacity(batch.len());)+
                for item in batch {
                    $($name.push(item.$idx);)+
                }
                Ok(($($name::collate($name)?,)+))
            }
        }
    };
}

tuple_collate!(A 0);
tuple_collate!(A 0, B 1);
tuple_collate!(A 0, B 1, C 2);
tuple_collate!(A 0, B 1, C 2, D 3);

/// `torch.utils.data.default_collate` for any [`Collate`] item type: the
/// collate function a `DataLoader` uses unless given another.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::default_collate;
/// # fn main() -> frankentorch::Result<()> {
/// let rows = vec![ops::arange(3)?, ops::arange(3)?];
/// assert_eq!(default_collate(rows)?.sizes(), &[2, 3]);
/// # Ok(()) }
/// ```
pub fn default_collate<T: Collate>(batch: Vec<T>) -> Result<T::Batch> {
    T::collate(batch)
}
