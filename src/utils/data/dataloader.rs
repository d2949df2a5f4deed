//! [`DataLoader`]: batches of a dataset in sampler order, loaded on the
//! calling thread or prefetched on one worker thread.

use super::collate::Collate;
use super::dataset::Dataset;
use super::sampler::{draw_seed, BatchSampler, RandomSampler, Sampler, SequentialSampler};
use crate::{tls, Error, Generator, Result};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A collate function: a batch of items to one batched value.
pub type CollateFn<I, B> = Arc<dyn Fn(Vec<I>) -> Result<B> + Send + Sync>;

/// `DataLoader`'s keyword arguments with PyTorch's defaults
/// (`batch_size=1, shuffle=False, drop_last=False, generator=None,
/// num_workers=0, prefetch_factor=None, sampler=None`).
///
/// ```
/// use frankentorch::utils::data::DataLoaderOpts;
/// let o = DataLoaderOpts { batch_size: 32, shuffle: true, ..Default::default() };
/// assert!(!o.drop_last && o.num_workers == 0);
/// ```
#[derive(Clone)]
pub struct DataLoaderOpts {
    /// Items per batch (positive). PyTorch's `batch_size=None` (no
    /// batching) is not offered.
    pub batch_size: usize,
    /// Reshuffle at every pass (a [`RandomSampler`] over the dataset).
    pub shuffle: bool,
    /// Drop the last batch when it is shorter than `batch_size`.
    pub drop_last: bool,
    /// The generator for the shuffle and for each pass's base seed; `None`
    /// draws from the default generator, as PyTorch does.
    pub generator: Option<Generator>,
    /// 0: load on the calling thread. 1: fetch and collate on one worker
    /// thread, `prefetch_factor` batches ahead. More workers are not
    /// supported.
    pub num_workers: usize,
    /// Batches loaded ahead by the worker (PyTorch's default 2 when
    /// `num_workers > 0`); must be `None` when `num_workers == 0`.
    pub prefetch_factor: Option<usize>,
    /// A custom index order (exclusive with `shuffle`).
    pub sampler: Option<Arc<dyn Sampler>>,
}

impl Default for DataLoaderOpts {
    fn default() -> Self {
        DataLoaderOpts {
            batch_size: 1,
            shuffle: false,
            drop_last: false,
            generator: None,
            num_workers: 0,
            prefetch_factor: None,
            sampler: None,
        }
    }
}

/// Adapts a shared sampler to the boxed one a [`BatchSampler`] holds.
struct SharedSampler(Arc<dyn Sampler>);

impl Sampler for SharedSampler {
    fn indices(&self) -> Result<Vec<usize>> {
        self.0.indices()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Batches of a [`Dataset`] (`torch.utils.data.DataLoader` over a
/// map-style dataset).
///
/// Each pass ([`DataLoader::iter`], or `for batch in &loader`) draws as
/// PyTorch's single-process iterator, in the same order: when the pass
/// starts, a base seed `random_()` from `generator` (or the default
/// generator); at the first batch, the sampler's draws (for `shuffle`
/// without a generator: a seed from the default generator, then
/// `randperm(n)` from a fresh generator seeded with it; with a generator:
/// `randperm(n, generator)`). So shuffled orders equal PyTorch's for the
/// same `manual_seed` or generator seed. The whole pass's index order is
/// drawn at the first batch, on the calling thread; with `num_workers = 1`
/// the worker only fetches and collates, in that order, so batches and
/// their order are identical to loading on the calling thread.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::{DataLoader, DataLoaderOpts, TensorDataset};
/// # fn main() -> frankentorch::Result<()> {
/// let data = TensorDataset::new(vec![ops::arange(10)?])?;
/// let g = frankentorch::Generator::new(0);
/// let opts = DataLoaderOpts { batch_size: 4, shuffle: true, generator: Some(g), ..Default::default() };
/// let loader = DataLoader::new(data, opts)?;
/// assert_eq!(loader.len(), 3);
/// let mut seen = vec![];
/// for batch in &loader {
///     seen.extend(batch?[0].to_vec::<i64>()?);
/// }
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<i64>>());
/// # Ok(()) }
/// ```
pub struct DataLoader<D: Dataset, B> {
    dataset: Arc<D>,
    batch_sampler: Arc<BatchSampler>,
    collate: CollateFn<D::Item, B>,
    generator: Option<Generator>,
    num_workers: usize,
    prefetch_factor: usize,
}

impl<D: Dataset + 'static> DataLoader<D, <D::Item as Collate>::Batch>
where
    D::Item: Collate,
{
    /// A loader batching with [`super::default_collate`].
    pub fn new(dataset: impl Into<Arc<D>>, opts: DataLoaderOpts) -> Result<Self> {
        DataLoader::with_collate(dataset, opts, |batch: Vec<D::Item>| D::Item::collate(batch))
    }
}

impl<D: Dataset + 'static, B> DataLoader<D, B> {
    /// A loader batching with `collate` (PyTorch's `collate_fn`). The
    /// options are checked as PyTorch checks them.
    pub fn with_collate(
        dataset: impl Into<Arc<D>>,
        opts: DataLoaderOpts,
        collate: impl Fn(Vec<D::Item>) -> Result<B> + Send + Sync + 'static,
    ) -> Result<Self> {
        const OP: &str = "DataLoader";
        let dataset = dataset.into();
        if opts.num_workers == 0 && opts.prefetch_factor.is_some() {
            return Err(Error::invalid(
                OP,
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.",
            ));
        }
        if opts.num_workers > 1 {
            return Err(Error::not_supported(
                OP,
                format!("num_workers={} (only 0 or 1 worker thread)", opts.num_workers),
            ));
        }
        if opts.prefetch_factor == Some(0) {
            return Err(Error::invalid(OP, "prefetch_factor should be a positive integer"));
        }
        let sampler: Box<dyn Sampler> = match (opts.sampler, opts.shuffle) {
            (Some(_), true) => {
                return Err(Error::invalid(OP, "sampler option is mutually exclusive with shuffle"));
            }
            (Some(s), false) => Box::new(SharedSampler(s)),
            (None, true) => Box::new(RandomSampler::new(dataset.len(), false, None, opts.generator.clone())?),
            (None, false) => Box::new(SequentialSampler::new(dataset.len())),
        };
        let batch_sampler = BatchSampler::new(sampler, opts.batch_size, opts.drop_last)?;
        Ok(DataLoader {
            dataset,
            batch_sampler: Arc::new(batch_sampler),
            collate: Arc::new(collate),
            generator: opts.generator,
            num_workers: opts.num_workers,
            prefetch_factor: opts.prefetch_factor.unwrap_or(2),
        })
    }

    /// The number of batches in a pass (`len(loader)`).
    pub fn len(&self) -> usize {
        self.batch_sampler.len()
    }

    /// True when a pass yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dataset.
    pub fn dataset(&self) -> &Arc<D> {
        &self.dataset
    }

    /// Starts a pass (`iter(loader)`): draws the pass's base seed now; the
    /// sampler draws at the first batch.
    pub fn iter(&self) -> DataLoaderIter<D, B> {
        let (base_seed, pending_error) = match draw_seed(self.generator.as_ref()) {
            Ok(seed) => (seed, None),
            Err(e) => (0, Some(e)),
        };
        DataLoaderIter {
            dataset: Arc::clone(&self.dataset),
            batch_sampler: Arc::clone(&self.batch_sampler),
            collate: Arc::clone(&self.collate),
            num_workers: self.num_workers,
            prefetch_factor: self.prefetch_factor,
            base_seed,
            pending_error,
            state: State::NotStarted,
        }
    }
}

impl<D: Dataset + 'static, B: Send + 'static> IntoIterator for &DataLoader<D, B> {
    type Item = Result<B>;
    type IntoIter = DataLoaderIter<D, B>;
    fn into_iter(self) -> DataLoaderIter<D, B> {
        self.iter()
    }
}

enum State<B> {
    NotStarted,
    /// Loading on the calling thread: the remaining batches' indices.
    Local(std::vec::IntoIter<Vec<usize>>),
    /// A worker thread sends the batches in order.
    Worker {
        receiver: Option<Receiver<Result<B>>>,
        handle: Option<JoinHandle<()>>,
    },
    Done,
}

/// One pass over a [`DataLoader`]: yields each batch (or the error that
/// loading it raised) in sampler order.
pub struct DataLoaderIter<D: Dataset, B> {
    dataset: Arc<D>,
    batch_sampler: Arc<BatchSampler>,
    collate: CollateFn<D::Item, B>,
    num_workers: usize,
    prefetch_factor: usize,
    base_seed: u64,
    pending_error: Option<Error>,
    state: State<B>,
}

/// Fetches the items of one batch and collates them (PyTorch's
/// `_MapDatasetFetcher.fetch`).
fn fetch<D: Dataset, B>(dataset: &D, collate: &CollateFn<D::Item, B>, indices: &[usize]) -> Result<B> {
    let items = indices.iter().map(|&i| dataset.get(i)).collect::<Result<Vec<_>>>()?;
    collate(items)
}

impl<D: Dataset + 'static, B: Send + 'static> DataLoaderIter<D, B> {
    /// The seed this pass drew when it started (PyTorch's `_base_seed`).
    pub fn base_seed(&self) -> u64 {
        self.base_seed
    }

    /// Runs the sampler and starts loading.
    fn start(&mut self) -> Result<()> {
        let batches = self.batch_sampler.batches()?;
        if self.num_workers == 0 {
            self.state = State::Local(batches.into_iter());
            return Ok(());
        }
        let (sender, receiver) = sync_channel(self.prefetch_factor);
        let dataset = Arc::clone(&self.dataset);
        let collate = Arc::clone(&self.collate);
        let grad_enabled = tls::is_grad_enabled();
        let handle = std::thread::Builder::new()
            .name("DataLoader worker".into())
            .spawn(move || {
                let _mode = tls::GradModeGuard::new(grad_enabled);
                for indices in batches {
                    if sender.send(fetch(&*dataset, &collate, &indices)).is_err() {
                        return; // the iterator was dropped
                    }
                }
            })
            .map_err(|e| Error::invalid("DataLoader", format!("cannot start the worker thread: {e}")))?;
        self.state = State::Worker {
            receiver: Some(receiver),
            handle: Some(handle),
        };
        Ok(())
    }
}

impl<D: Dataset + 'static, B: Send + 'static> Iterator for DataLoaderIter<D, B> {
    type Item = Result<B>;

    fn next(&mut self) -> Option<Result<B>> {
        if let Some(e) = self.pending_error.take() {
            self.state = State::Done;
            return Some(Err(e));
        }
        if matches!(self.state, State::NotStarted) {
            if let Err(e) = self.start() {
                self.state = State::Done;
                return Some(Err(e));
            }
        }
        match &mut self.state {
            State::Local(batches) => {
                let indices = batches.next()?;
                Some(fetch(&*self.dataset, &self.collate, &indices))
            }
            State::Worker { receiver, .. } => match receiver.as_ref()?.recv() {
                Ok(batch) => Some(batch),
                Err(_) => {
                    self.state = State::Done;
                    None
                }
            },
            State::NotStarted | State::Done => None,
        }
    }
}

impl<D: Dataset, B> Drop for DataLoaderIter<D, B> {
    fn drop(&mut self) {
        if let State::Worker { receiver, handle } = &mut self.state {
            // Closing the channel first makes a blocked worker return.
            drop(receiver.take());
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
