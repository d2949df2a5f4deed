//! Map-style datasets: the [`Dataset`] trait, [`TensorDataset`] and [`Subset`].

use crate::{ops, Error, ErrorKind, Result, Tensor};
use std::sync::Arc;

/// A map-style dataset (`torch.utils.data.Dataset`): a length and an item
/// for each index in `0..len()`.
///
/// Items are whatever the dataset yields (a tensor, a `Vec<Tensor>`, a
/// tuple); [`crate::utils::data::DataLoader`] batches them with a collate
/// function. Datasets are `Send + Sync` so a loader can read them on its
/// worker thread.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::Dataset;
///
/// struct Squares(usize);
/// impl Dataset for Squares {
///     type Item = i64;
///     fn len(&self) -> usize { self.0 }
///     fn get(&self, index: usize) -> Result<i64> {
///         if index >= self.0 {
///             return Err(Error::index("Squares", format!("index {index} out of range")));
///         }
///         Ok((index * index) as i64)
///     }
/// }
/// assert_eq!(Squares(4).get(3).unwrap(), 9);
/// assert!(Squares(4).get(4).is_err());
/// ```
pub trait Dataset: Send + Sync {
    /// What one index yields.
    type Item;

    /// The number of items (`len(dataset)`).
    fn len(&self) -> usize;

    /// The item at `index` (`dataset[index]`); an index `>= len()` is an
    /// [`crate::ErrorKind::IndexOutOfRange`] error.
    fn get(&self, index: usize) -> Result<Self::Item>;

    /// True when the dataset has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    type Item = D::Item;
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> Result<D::Item> {
        (**self).get(index)
    }
}

/// Tensors indexed along their first dimension
/// (`torch.utils.data.TensorDataset`): item `i` holds `tensor[i]` (a view)
/// of every tensor, in order.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::{Dataset, TensorDataset};
/// # fn main() -> frankentorch::Result<()> {
/// let x = ops::arange(6)?.view(&[3, 2])?;
/// let y = ops::arange(3)?;
/// let data = TensorDataset::new(vec![x, y])?;
/// assert_eq!(data.len(), 3);
/// let item = data.get(1)?;
/// assert_eq!(item[0].to_vec::<i64>()?, vec![2, 3]);
/// assert_eq!(item[1].item()?.to_i64(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset {
    tensors: Vec<Tensor>,
}

impl TensorDataset {
    /// A dataset over `tensors`, which must all have the same size in
    /// dimension 0 (PyTorch: `AssertionError: Size mismatch between tensors`).
    pub fn new(tensors: Vec<Tensor>) -> Result<TensorDataset> {
        const OP: &str = "TensorDataset";
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid(OP, "expected at least one tensor"))?;
        let rows = |t: &Tensor| -> Result<usize> {
            if t.dim() == 0 {
                return Err(Error::new(
                    ErrorKind::DimOutOfRange,
                    OP,
                    "dimension specified as 0 but tensor has no dimensions",
                ));
            }
            Ok(t.sizes()[0])
        };
        let n = rows(first)?;
        for t in &tensors {
            if rows(t)? != n {
                return Err(Error::shape(OP, "Size mismatch between tensors"));
            }
        }
        Ok(TensorDataset { tensors })
    }

    /// The tensors, as given.
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }
}

impl Dataset for TensorDataset {
    type Item = Vec<Tensor>;

    fn len(&self) -> usize {
        self.tensors[0].sizes()[0]
    }

    fn get(&self, index: usize) -> Result<Vec<Tensor>> {
        let n = self.len();
        if index >= n {
            return Err(Error::index(
                "TensorDataset",
                format!("index {index} is out of bounds for dimension 0 with size {n}"),
            ));
        }
        self.tensors.iter().map(|t| ops::select(t, 0, index as i64)).collect()
    }
}

/// The items of another dataset at given indices
/// (`torch.utils.data.Subset`): item `i` is `dataset[indices[i]]`.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::{Dataset, Subset, TensorDataset};
/// use std::sync::Arc;
/// # fn main() -> frankentorch::Result<()> {
/// let data = Arc::new(TensorDataset::new(vec![ops::arange(5)?])?);
/// let sub = Subset::new(data, vec![4, 0]);
/// assert_eq!(sub.len(), 2);
/// assert_eq!(sub.get(0)?[0].item()?.to_i64(), 4);
/// assert!(sub.get(2).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subset<D: ?Sized> {
    dataset: Arc<D>,
    indices: Vec<usize>,
}

impl<D: ?Sized> Clone for Subset<D> {
    fn clone(&self) -> Self {
        Subset {
            dataset: Arc::clone(&self.dataset),
            indices: self.indices.clone(),
        }
    }
}

impl<D: Dataset + ?Sized> Subset<D> {
    /// The items of `dataset` at `indices` (checked when read, as in PyTorch).
    pub fn new(dataset: Arc<D>, indices: Vec<usize>) -> Subset<D> {
        Subset { dataset, indices }
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The underlying dataset.
    pub fn dataset(&self) -> &Arc<D> {
        &self.dataset
    }
}

impl<D: Dataset + ?Sized> Dataset for Subset<D> {
    type Item = D::Item;

    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Result<D::Item> {
        let inner = *self
            .indices
            .get(index)
            .ok_or_else(|| Error::index("Subset", "list index out of range"))?;
        self.dataset.get(inner)
    }
}
