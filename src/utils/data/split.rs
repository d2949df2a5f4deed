//! [`random_split`]: non-overlapping random subsets, as
//! `torch.utils.data.random_split`.

use super::dataset::{Dataset, Subset};
use crate::{ops, Error, Generator, Result};
use std::sync::Arc;

/// The lengths given to [`random_split`]: item counts or fractions of the
/// dataset (Python's list of ints or floats).
///
/// ```
/// use frankentorch::utils::data::SplitLengths;
/// let counts: SplitLengths = vec![3usize, 7].into();
/// let fractions: SplitLengths = [0.3, 0.7].into();
/// assert!(matches!(counts, SplitLengths::Counts(_)));
/// assert!(matches!(fractions, SplitLengths::Fractions(_)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum SplitLengths {
    /// Exact item counts.
    Counts(Vec<usize>),
    /// Fractions of the dataset's length.
    Fractions(Vec<f64>),
}

impl From<Vec<usize>> for SplitLengths {
    fn from(v: Vec<usize>) -> Self {
        SplitLengths::Counts(v)
    }
}
impl From<&[usize]> for SplitLengths {
    fn from(v: &[usize]) -> Self {
        SplitLengths::Counts(v.to_vec())
    }
}
impl<const N: usize> From<[usize; N]> for SplitLengths {
    fn from(v: [usize; N]) -> Self {
        SplitLengths::Counts(v.to_vec())
    }
}
impl From<Vec<f64>> for SplitLengths {
    fn from(v: Vec<f64>) -> Self {
        SplitLengths::Fractions(v)
    }
}
impl From<&[f64]> for SplitLengths {
    fn from(v: &[f64]) -> Self {
        SplitLengths::Fractions(v.to_vec())
    }
}
impl<const N: usize> From<[f64; N]> for SplitLengths {
    fn from(v: [f64; N]) -> Self {
        SplitLengths::Fractions(v.to_vec())
    }
}

/// Python's `math.isclose(a, b)` with its default tolerances.
fn isclose(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Resolves the lengths as PyTorch does: values summing to 1 (within
/// `math.isclose`, and at most 1) are fractions — each `floor(len * f)`,
/// the remainder given out one by one round-robin from the first split —
/// even when they were written as integers (`[1, 0]` means all and none).
fn resolve(lengths: &SplitLengths, len: usize) -> Result<Vec<usize>> {
    let values: Vec<f64> = match lengths {
        SplitLengths::Counts(c) => c.iter().map(|&v| v as f64).collect(),
        SplitLengths::Fractions(f) => f.clone(),
    };
    // Python sums left to right.
    let sum = values.iter().fold(0.0, |acc, v| acc + v);
    if isclose(sum, 1.0) && sum <= 1.0 {
        let mut out = Vec::with_capacity(values.len());
        for (i, &frac) in values.iter().enumerate() {
            if !(0.0..=1.0).contains(&frac) {
                return Err(Error::invalid(
                    "random_split",
                    format!("Fraction at index {i} is not between 0 and 1"),
                ));
            }
            out.push((len as f64 * frac).floor() as usize);
        }
        let remainder = len - out.iter().sum::<usize>();
        let parts = out.len();
        for i in 0..remainder {
            out[i % parts] += 1;
        }
        return Ok(out);
    }
    match lengths {
        SplitLengths::Counts(c) => Ok(c.clone()),
        SplitLengths::Fractions(f) => {
            if let Some(bad) = f.iter().find(|v| v.fract() != 0.0 || **v < 0.0) {
                return Err(Error::invalid(
                    "random_split",
                    format!("lengths that are not fractions summing to 1 must be whole counts, got {bad}"),
                ));
            }
            Ok(f.iter().map(|&v| v as usize).collect())
        }
    }
}

/// Splits `dataset` into non-overlapping random [`Subset`]s
/// (`torch.utils.data.random_split`): the lengths are resolved (see
/// [`SplitLengths`]), must sum to the dataset's length, and the indices are
/// consecutive slices of `randperm(len, generator)` (the default generator
/// when `None`), so splits equal PyTorch's for the same seed.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::utils::data::{random_split, Dataset, TensorDataset};
/// use std::sync::Arc;
/// # fn main() -> frankentorch::Result<()> {
/// let data = Arc::new(TensorDataset::new(vec![ops::arange(10)?])?);
/// let g = frankentorch::Generator::new(42);
/// let parts = random_split(data, [0.3, 0.7], Some(&g))?;
/// assert_eq!((parts[0].len(), parts[1].len()), (3, 7));
/// # Ok(()) }
/// ```
pub fn random_split<D: Dataset + ?Sized>(
    dataset: Arc<D>,
    lengths: impl Into<SplitLengths>,
    generator: Option<&Generator>,
) -> Result<Vec<Subset<D>>> {
    let len = dataset.len();
    let lengths = resolve(&lengths.into(), len)?;
    let total: usize = lengths.iter().sum();
    if total != len {
        return Err(Error::invalid(
            "random_split",
            "Sum of input lengths does not equal the length of the input dataset!",
        ));
    }
    let perm: Vec<usize> = ops::randperm_generator(total as i64, generator)?
        .to_vec::<i64>()?
        .into_iter()
        .map(|v| v as usize)
        .collect();
    let mut offset = 0;
    Ok(lengths
        .into_iter()
        .map(|n| {
            let part = Subset::new(Arc::clone(&dataset), perm[offset..offset + n].to_vec());
            offset += n;
            part
        })
        .collect())
}
