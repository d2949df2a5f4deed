//! `torch.utils.data` for Rust: datasets, samplers, `random_split` and a
//! `DataLoader` that batches a dataset and can prefetch on a worker thread.
//!
//! Random orders equal PyTorch's for the same seeds: a shuffling
//! `DataLoader` makes the same draws from the same generators in the same
//! order as `torch.utils.data.DataLoader` (see [`DataLoader`]).
//!
//! ```
//! use frankentorch::prelude::*;
//! use frankentorch::utils::data::{DataLoader, DataLoaderOpts, TensorDataset};
//! # fn main() -> frankentorch::Result<()> {
//! let x = ops::arange(10)?.view(&[5, 2])?;
//! let y = ops::arange(5)?;
//! let data = TensorDataset::new(vec![x, y])?;
//! let loader = DataLoader::new(data, DataLoaderOpts { batch_size: 2, ..Default::default() })?;
//! let batches: Vec<Vec<Tensor>> = loader.iter().collect::<Result<_>>()?;
//! assert_eq!(batches.len(), 3);
//! assert_eq!(batches[2][0].sizes(), &[1, 2]);
//! # Ok(()) }
//! ```

mod collate;
mod dataloader;
mod dataset;
mod sampler;
mod split;

pub use collate::{default_collate, Collate};
pub use dataloader::{CollateFn, DataLoader, DataLoaderIter, DataLoaderOpts};
pub use dataset::{Dataset, Subset, TensorDataset};
pub use sampler::{BatchSampler, RandomSampler, Sampler, SequentialSampler};
pub use split::{random_split, SplitLengths};
