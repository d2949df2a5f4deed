//! Indexing with Python's power: `t.i((.., 1..3, NewAxis, &mask))` is
//! `t[:, 1:3, None, mask]`.
//!
//! Basic items (integers, slices, [`NewAxis`], [`Ellipsis`]) give **views**
//! that share storage with the indexed tensor (built from `select`, `slice`,
//! `unsqueeze`, `alias`). Index tensors and masks make it **advanced**
//! indexing: the basic items are applied first as a view, then
//! `index.Tensor` gathers a copy, placing the broadcast shape of the index
//! tensors where they stand when they are adjacent, or first when a slice or
//! ellipsis separates them (PyTorch's and NumPy's rule). All of it is built on
//! recorded operators, so autograd works through every form.
//!
//! | Python | FrankenTorch |
//! |---|---|
//! | `x[2]`, `x[-1]` | `x.i(2)`, `x.i(-1)` |
//! | `x[1, 2]` | `x.i((1, 2))` |
//! | `x[1:4]`, `x[1:]`, `x[:3]`, `x[:]` | `x.i(1..4)`, `x.i(1..)`, `x.i(..3)`, `x.i(..)` |
//! | `x[1:5]` (inclusive end 4) | `x.i(1..=4)` |
//! | `x[1:7:2]`, `x[::3]` | `x.i((1..7).step(2))` or `x.i(s(1, 7, 2))`, `x.i((..).step(3))` or `x.i(s(None, None, 3))` |
//! | `x[()]` | `x.i(())` (a view of all of `x`) |
//! | `x[None]`, `x[:, None]` | `x.i(NewAxis)`, `x.i((.., NewAxis))` |
//! | `x[..., 0]`, `x[0, ..., 1]` | `x.i((Ellipsis, 0))`, `x.i((0, Ellipsis, 1))` |
//! | `x[True]`, `x[False]` | `x.i(true)`, `x.i(false)` |
//! | `x[idx]` (int64/int32 tensor) | `x.i(&idx)` |
//! | `x[[0, 2]]`, `x[[True, False, True]]` (lists) | `x.i([0, 2])`, `x.i([true, false, true])` (arrays, `Vec`s or slices of `i64`/`bool`) |
//! | `x[mask]` (bool tensor) | `x.i(&mask)` |
//! | `x[i, :, j]` | `x.i((&i, .., &j))` (the index shape goes first) |
//! | `x[:, i, j]` | `x.i((.., &i, &j))` (the index shape replaces dims 1-2) |
//! | `x[torch.tensor(1)]` (0-dim) | `x.i(&t)` (acts as the integer) |
//! | `x[idx] = v` | `x.i_set(&idx, &v)?` (`v` must have `x`'s dtype, as in PyTorch) |
//! | `x[1:3] = v` | `x.i_set(1..3, &v)?` (`v` is cast to `x`'s dtype, as `copy_` does) |
//! | `x[mask] = 0.0` | `x.i_fill(&mask, 0.0)?` |
//! | `x.index_put_((i,), v, accumulate=True)` | `x.i_add(&i, &v)?` |
//! | `x[1:3] += v` (basic view) | `x.i_add(1..3, &v)?` |
//! | a list of items built at run time | `x.i(vec![TensorIndex::Int(0), TensorIndex::Ellipsis])` |
//!
//! Integer literals in ranges default to `i32`; `i64` and `usize` ranges work
//! too. Steps must be positive (PyTorch rejects `x[::-1]`); out-of-range slice
//! bounds clamp as in Python; an out-of-range integer is an
//! [`ErrorKind::IndexOutOfRange`](crate::ErrorKind) error with Python's
//! message. As in PyTorch 2.15, several `...` are accepted, each standing for
//! the dims no other item consumes.
//!
//! ```
//! use frankentorch::prelude::*;
//! # fn main() -> frankentorch::Result<()> {
//! let x = ops::arange(24)?.view(&[2, 3, 4])?;
//! let v = x.i((1, 1..3, NewAxis, (..).step(2)))?;     // x[1, 1:3, None, ::2]
//! assert_eq!(v.sizes(), &[2, 1, 2]);
//! assert!(v.storage().is_same(x.storage()));           // a view
//! let idx = Tensor::from_vec(vec![2i64, 0], &[2])?;
//! let a = x.i((.., &idx, 0))?;                         // x[:, idx, 0]
//! assert_eq!(a.to_vec::<i64>()?, vec![8, 0, 20, 12]);
//! let mask = x.i((0, .., 0))?.ge_scalar(4)?;           // x[0, :, 0] >= 4
//! x.i_fill((0, &mask), -1)?;                           // x[0, mask] = -1
//! assert_eq!(x.i((0, .., 0))?.to_vec::<i64>()?, vec![0, -1, -1]);
//! # Ok(()) }
//! ```

mod apply;
mod assign;
mod spec;

pub use spec::{s, Ellipsis, IntoIndexList, NewAxis, RangeStep, Slice, TensorIndex};

use crate::{Result, Scalar, Tensor};

/// Python-style subscripts on tensors (see the [module docs](self) for every form).
pub trait IndexOp {
    /// `self[index]`: a view for basic subscripts, a copy with index tensors.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::arange(12).unwrap().view(&[3, 4]).unwrap();
    /// assert_eq!(x.i((-1, 1..)).unwrap().to_vec::<i64>().unwrap(), vec![9, 10, 11]); // x[-1, 1:]
    /// ```
    fn i<I: IntoIndexList>(&self, index: I) -> Result<Tensor>;

    /// `self[index] = values`: `values` is cast to `self`'s dtype and
    /// broadcast to the indexed shape. Returns `self`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::zeros(&[2, 3]).unwrap();
    /// x.i_set((.., 1), &ops::ones(&[2]).unwrap()).unwrap(); // x[:, 1] = torch.ones(2)
    /// assert_eq!(x.to_vec::<f32>().unwrap(), vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    /// ```
    fn i_set<I: IntoIndexList>(&self, index: I, values: &Tensor) -> Result<Tensor>;

    /// `self.index_put_(index, values, accumulate=True)`: adds `values` at the
    /// indexed positions; repeated indices add up. Returns `self`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::zeros(&[3]).unwrap();
    /// let i = Tensor::from_vec(vec![0i64, 2, 0], &[3]).unwrap();
    /// x.i_add(&i, &ops::ones(&[3]).unwrap()).unwrap();
    /// assert_eq!(x.to_vec::<f32>().unwrap(), vec![2.0, 0.0, 1.0]);
    /// ```
    fn i_add<I: IntoIndexList>(&self, index: I, values: &Tensor) -> Result<Tensor>;

    /// `self[index] = values` (`accumulate = false`) or the accumulating form.
    fn i_put<I: IntoIndexList>(&self, index: I, values: &Tensor, accumulate: bool) -> Result<Tensor>;

    /// `self[index] = number`: the number is converted to `self`'s dtype.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::arange(4).unwrap();
    /// x.i_fill((1..).step(2), 0).unwrap(); // x[1::2] = 0
    /// assert_eq!(x.to_vec::<i64>().unwrap(), vec![0, 0, 2, 0]);
    /// ```
    fn i_fill<I: IntoIndexList>(&self, index: I, value: impl Into<Scalar>) -> Result<Tensor>;
}

impl IndexOp for Tensor {
    fn i<I: IntoIndexList>(&self, index: I) -> Result<Tensor> {
        apply::get(self, &index.into_index_list())
    }

    fn i_set<I: IntoIndexList>(&self, index: I, values: &Tensor) -> Result<Tensor> {
        assign::put(self, &index.into_index_list(), values, false)
    }

    fn i_add<I: IntoIndexList>(&self, index: I, values: &Tensor) -> Result<Tensor> {
        assign::put(self, &index.into_index_list(), values, true)
    }

    fn i_put<I: IntoIndexList>(&self, index: I, values: &Tensor, accumulate: bool) -> Result<Tensor> {
        assign::put(self, &index.into_index_list(), values, accumulate)
    }

    fn i_fill<I: IntoIndexList>(&self, index: I, value: impl Into<Scalar>) -> Result<Tensor> {
        assign::fill(self, &index.into_index_list(), value.into())
    }
}
