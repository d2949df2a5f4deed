//! `nn.Flatten`, `nn.Unflatten`.

use crate::nn::{Forward, Module};
use crate::{ops, Result, Tensor};

/// `nn.Flatten(start_dim=1, end_dim=-1)`.
///
/// ```
/// use frankentorch::nn::{Flatten, Forward};
/// use frankentorch::prelude::*;
/// let y = Flatten::default().forward(&ops::ones(&[2, 3, 4]).unwrap()).unwrap();
/// assert_eq!(y.sizes(), &[2, 12]);
/// ```
#[derive(Module)]
pub struct Flatten {
    /// First dim flattened (default 1).
    pub start_dim: i64,
    /// Last dim flattened (default -1).
    pub end_dim: i64,
    #[training]
    training: bool,
}

impl Flatten {
    /// Flattens dims `start_dim..=end_dim`.
    pub fn new(start_dim: i64, end_dim: i64) -> Flatten {
        Flatten {
            start_dim,
            end_dim,
            training: true,
        }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new(1, -1)
    }
}

impl Forward for Flatten {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        ops::flatten(input, self.start_dim, self.end_dim)
    }
}

/// `nn.Unflatten(dim, unflattened_size)`.
///
/// ```
/// use frankentorch::nn::{Forward, Unflatten};
/// use frankentorch::prelude::*;
/// let y = Unflatten::new(1, &[3, 4]).forward(&ops::ones(&[2, 12]).unwrap()).unwrap();
/// assert_eq!(y.sizes(), &[2, 3, 4]);
/// ```
#[derive(Module)]
pub struct Unflatten {
    /// The dim split.
    pub dim: i64,
    /// Its new sizes (one may be -1).
    pub unflattened_size: Vec<i64>,
    #[training]
    training: bool,
}

impl Unflatten {
    /// Splits `dim` into `unflattened_size`.
    pub fn new(dim: i64, unflattened_size: &[i64]) -> Unflatten {
        Unflatten {
            dim,
            unflattened_size: unflattened_size.to_vec(),
            training: true,
        }
    }
}

impl Forward for Unflatten {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        ops::unflatten(input, self.dim, &self.unflattened_size)
    }
}
