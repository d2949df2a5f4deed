//! Index samplers: [`SequentialSampler`], [`RandomSampler`] and
//! [`BatchSampler`], drawing random numbers exactly as PyTorch's do.

use crate::{ops, DType, Error, Generator, Result, Scalar, Tensor};

/// An order of dataset indices for one pass (`torch.utils.data.Sampler`).
///
/// [`Sampler::indices`] runs one whole pass and returns its indices; a
/// random sampler makes a pass's random draws when it is called, so each
/// call is a new epoch.
///
/// ```
/// use frankentorch::utils::data::{Sampler, SequentialSampler};
/// let s = SequentialSampler::new(3);
/// assert_eq!(s.indices().unwrap(), vec![0, 1, 2]);
/// assert_eq!(s.len(), 3);
/// ```
pub trait Sampler: Send + Sync {
    /// The indices of one pass, in order.
    fn indices(&self) -> Result<Vec<usize>>;

    /// The number of indices a pass yields (`len(sampler)`).
    fn len(&self) -> usize;

    /// True when a pass yields no index.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `0, 1, …, n-1` (`torch.utils.data.SequentialSampler`).
///
/// ```
/// use frankentorch::utils::data::{Sampler, SequentialSampler};
/// assert_eq!(SequentialSampler::new(2).indices().unwrap(), vec![0, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct SequentialSampler {
    n: usize,
}

impl SequentialSampler {
    /// Indices of a dataset of `n` items, in order.
    pub fn new(n: usize) -> SequentialSampler {
        SequentialSampler { n }
    }
}

impl Sampler for SequentialSampler {
    fn indices(&self) -> Result<Vec<usize>> {
        Ok((0..self.n).collect())
    }
    fn len(&self) -> usize {
        self.n
    }
}

/// Random indices (`torch.utils.data.RandomSampler`): a permutation of
/// `0..n` (repeated and cut to `num_samples` if that is given), or with
/// `replacement` independent uniform draws.
///
/// Draws as PyTorch: without a generator each pass first draws a seed from
/// the default generator (`torch.empty((), dtype=torch.int64).random_()`)
/// and uses a fresh generator seeded with it; permutations are
/// `randperm(n, generator)`, draws with replacement `randint(high=n,
/// size=(32,))` chunks and a final `num_samples % 32` chunk.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::{RandomSampler, Sampler};
/// let g = frankentorch::Generator::new(0);
/// let s = RandomSampler::new(4, false, None, Some(g)).unwrap();
/// let mut order = s.indices().unwrap();
/// order.sort();
/// assert_eq!(order, vec![0, 1, 2, 3]);
/// ```
#[derive(Clone, Debug)]
pub struct RandomSampler {
    n: usize,
    replacement: bool,
    num_samples: Option<usize>,
    generator: Option<Generator>,
}

impl RandomSampler {
    /// A random sampler over a dataset of `n` items. `num_samples` defaults
    /// to `n` and must be positive (PyTorch's `ValueError`).
    pub fn new(
        n: usize,
        replacement: bool,
        num_samples: Option<usize>,
        generator: Option<Generator>,
    ) -> Result<RandomSampler> {
        let s = RandomSampler {
            n,
            replacement,
            num_samples,
            generator,
        };
        if s.len() == 0 {
            return Err(Error::invalid(
                "RandomSampler",
                format!(
                    "num_samples should be a positive integer value, but got num_samples={}",
                    s.len()
                ),
            ));
        }
        Ok(s)
    }

    /// The generator draws come from, made for one pass.
    fn pass_generator(&self) -> Result<Generator> {
        match &self.generator {
            Some(g) => Ok(g.clone()),
            None => Ok(Generator::new(draw_seed(None)?)),
        }
    }
}

/// `int(torch.empty((), dtype=torch.int64).random_(generator=g).item())`:
/// one seed drawn from `g` (the default generator when `None`).
pub(crate) fn draw_seed(generator: Option<&Generator>) -> Result<u64> {
    let t = Tensor::zeros_contiguous(&[], DType::I64);
    ops::random_full_(&t, generator)?;
    match t.item()? {
        Scalar::Int(v) => Ok(v as u64),
        other => Err(Error::invalid(
            "random_",
            format!("expected an int64 seed, got {other:?}"),
        )),
    }
}

fn as_indices(t: &Tensor) -> Result<Vec<usize>> {
    Ok(t.to_vec::<i64>()?.into_iter().map(|v| v as usize).collect())
}

impl Sampler for RandomSampler {
    fn indices(&self) -> Result<Vec<usize>> {
        let g = self.pass_generator()?;
        let total = self.len();
        let n = self.n as i64;
        let mut out = Vec::with_capacity(total);
        if self.replacement {
            let mut chunk = |size: usize| -> Result<()> {
                let t = ops::randint_generator(n, &[size as i64], Some(&g))?;
                out.extend(as_indices(&t)?);
                Ok(())
            };
            for _ in 0..total / 32 {
                chunk(32)?;
            }
            chunk(total % 32)?;
        } else {
            for _ in 0..total / self.n {
                out.extend(as_indices(&ops::randperm_generator(n, Some(&g))?)?);
            }
            let last = as_indices(&ops::randperm_generator(n, Some(&g))?)?;
            out.extend(last.into_iter().take(total % self.n));
        }
        Ok(out)
    }

    fn len(&self) -> usize {
        self.num_samples.unwrap_or(self.n)
    }
}

/// Groups another sampler's indices into batches
/// (`torch.utils.data.BatchSampler`); the last, shorter batch is dropped
/// when `drop_last`.
///
/// ```
/// use frankentorch::utils::data::{BatchSampler, SequentialSampler};
/// let b = BatchSampler::new(Box::new(SequentialSampler::new(5)), 2, false).unwrap();
/// assert_eq!(b.batches().unwrap(), vec![vec![0, 1], vec![2, 3], vec![4]]);
/// assert_eq!(b.len(), 3);
/// ```
pub struct BatchSampler {
    sampler: Box<dyn Sampler>,
    batch_size: usize,
    drop_last: bool,
}

impl std::fmt::Debug for BatchSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchSampler")
            .field("len", &self.sampler.len())
            .field("batch_size", &self.batch_size)
            .field("drop_last", &self.drop_last)
            .finish()
    }
}

impl BatchSampler {
    /// Batches of `batch_size` (positive, PyTorch's `ValueError`) indices.
    pub fn new(sampler: Box<dyn Sampler>, batch_size: usize, drop_last: bool) -> Result<BatchSampler> {
        if batch_size == 0 {
            return Err(Error::invalid(
                "BatchSampler",
                "batch_size should be a positive integer value, but got batch_size=0",
            ));
        }
        Ok(BatchSampler {
            sampler,
            batch_size,
            drop_last,
        })
    }

    /// The batches of one pass (one pass of the inner sampler).
    pub fn batches(&self) -> Result<Vec<Vec<usize>>> {
        let indices = self.sampler.indices()?;
        let mut out: Vec<Vec<usize>> = indices.chunks(self.batch_size).map(<[usize]>::to_vec).collect();
        if self.drop_last && out.last().is_some_and(|b| b.len() < self.batch_size) {
            out.pop();
        }
        Ok(out)
    }

    /// The number of batches of a pass (`len(batch_sampler)`).
    pub fn len(&self) -> usize {
        let n = self.sampler.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// True when a pass yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}
