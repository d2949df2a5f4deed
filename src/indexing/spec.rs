//! The index items (`TensorIndex`) and the conversions that let a Rust
//! expression spell a Python subscript: integers, ranges, [`NewAxis`],
//! [`Ellipsis`], `bool`, tensors, and tuples or lists of them.

use crate::Tensor;
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

/// Python's `None` inside a subscript: inserts a dim of size 1 (`x[None]`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::zeros(&[2, 3]).unwrap();
/// assert_eq!(x.i((.., NewAxis)).unwrap().sizes(), &[2, 1, 3]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewAxis;

/// Python's `...` inside a subscript: stands for every dim the other items
/// leave unindexed (`x[..., 0]`).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::zeros(&[2, 3, 4]).unwrap();
/// assert_eq!(x.i((Ellipsis, 0)).unwrap().sizes(), &[2, 3]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ellipsis;

/// A Python slice `start:end:step`; `None` bounds are open. Built from Rust
/// ranges (`1..4`, `..`, `2..=5`), with [`s`], or with [`RangeStep::step`].
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::arange(10).unwrap();
/// let y = x.i((1..).step(3)).unwrap(); // x[1::3]
/// assert_eq!(y.to_vec::<i64>().unwrap(), vec![1, 4, 7]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// First index (negative counts from the end); `None` = from the start.
    pub start: Option<i64>,
    /// One past the last index (negative counts from the end); `None` = to the end.
    pub end: Option<i64>,
    /// Step; must be positive (PyTorch rejects zero and negative steps).
    pub step: i64,
}

/// One item of a subscript, the Rust twin of what Python accepts inside `x[...]`.
#[derive(Clone, Debug)]
pub enum TensorIndex {
    /// An integer: selects one position and removes the dim (`x[2]`, `x[-1]`).
    Int(i64),
    /// A slice (`x[1:4:2]`): keeps the dim.
    Slice(Slice),
    /// `None`: inserts a dim of size 1.
    NewAxis,
    /// `...`: skips the dims no other item covers.
    Ellipsis,
    /// A Python bool (`x[True]`): a new dim of size 1 (True) or 0 (False).
    Bool(bool),
    /// An int64/int32 index tensor or a bool/uint8 mask (advanced indexing);
    /// a 0-dim integer tensor acts as an integer.
    Tensor(Tensor),
}

/// The slice `start:end:step` as an index item (Python `x[start:end:step]`;
/// `None` or a bare integer for each bound).
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::arange(10).unwrap();
/// assert_eq!(x.i(s(None, -2, 4)).unwrap().to_vec::<i64>().unwrap(), vec![0, 4]); // x[:-2:4]
/// ```
pub fn s(start: impl Into<Option<i64>>, end: impl Into<Option<i64>>, step: i64) -> TensorIndex {
    TensorIndex::Slice(Slice {
        start: start.into(),
        end: end.into(),
        step,
    })
}

/// Adds a step to a Rust range: `(1..7).step(2)` is Python's `1:7:2`.
pub trait RangeStep {
    /// This range as a slice with `step`.
    fn step(self, step: i64) -> TensorIndex;
}

impl<T: Into<Slice>> RangeStep for T {
    fn step(self, step: i64) -> TensorIndex {
        TensorIndex::Slice(Slice { step, ..self.into() })
    }
}

/// Builds the open/closed slice conversions for one integer type.
macro_rules! range_conversions {
    ($($int:ty),*) => {$(
        impl From<Range<$int>> for Slice {
            fn from(r: Range<$int>) -> Slice {
                Slice { start: Some(r.start as i64), end: Some(r.end as i64), step: 1 }
            }
        }
        impl From<RangeFrom<$int>> for Slice {
            fn from(r: RangeFrom<$int>) -> Slice {
                Slice { start: Some(r.start as i64), end: None, step: 1 }
            }
        }
        impl From<RangeTo<$int>> for Slice {
            fn from(r: RangeTo<$int>) -> Slice {
                Slice { start: None, end: Some(r.end as i64), step: 1 }
            }
        }
        impl From<RangeInclusive<$int>> for Slice {
            fn from(r: RangeInclusive<$int>) -> Slice {
                Slice { start: Some(*r.start() as i64), end: inclusive_end(*r.end() as i64), step: 1 }
            }
        }
        impl From<RangeToInclusive<$int>> for Slice {
            fn from(r: RangeToInclusive<$int>) -> Slice {
                Slice { start: None, end: inclusive_end(r.end as i64), step: 1 }
            }
        }
        impl From<$int> for TensorIndex {
            fn from(i: $int) -> TensorIndex {
                TensorIndex::Int(i as i64)
            }
        }
        range_conversions!(@item Range<$int>, RangeFrom<$int>, RangeTo<$int>, RangeInclusive<$int>, RangeToInclusive<$int>);
    )*};
    (@item $($range:ty),*) => {$(
        impl From<$range> for TensorIndex {
            fn from(r: $range) -> TensorIndex {
                TensorIndex::Slice(r.into())
            }
        }
    )*};
}

/// The exclusive end of an inclusive range ending at `end`: `..=-1` reaches
/// the last element, so it has no end.
fn inclusive_end(end: i64) -> Option<i64> {
    if end == -1 {
        None
    } else {
        Some(end + 1)
    }
}

range_conversions!(i64, i32, usize);

impl From<RangeFull> for Slice {
    fn from(_: RangeFull) -> Slice {
        Slice {
            start: None,
            end: None,
            step: 1,
        }
    }
}

impl From<RangeFull> for TensorIndex {
    fn from(_: RangeFull) -> TensorIndex {
        TensorIndex::Slice(Slice::from(..))
    }
}

impl From<Slice> for TensorIndex {
    fn from(s: Slice) -> TensorIndex {
        TensorIndex::Slice(s)
    }
}

impl From<NewAxis> for TensorIndex {
    fn from(_: NewAxis) -> TensorIndex {
        TensorIndex::NewAxis
    }
}

impl From<Ellipsis> for TensorIndex {
    fn from(_: Ellipsis) -> TensorIndex {
        TensorIndex::Ellipsis
    }
}

impl From<bool> for TensorIndex {
    fn from(b: bool) -> TensorIndex {
        TensorIndex::Bool(b)
    }
}

impl From<Tensor> for TensorIndex {
    fn from(t: Tensor) -> TensorIndex {
        TensorIndex::Tensor(t)
    }
}

impl From<&Tensor> for TensorIndex {
    fn from(t: &Tensor) -> TensorIndex {
        TensorIndex::Tensor(t.clone())
    }
}

/// Python lists inside a subscript: `x[[0, 2]]` indexes with an int64
/// tensor, `x[[True, False]]` with a bool mask.
macro_rules! list_conversions {
    ($($elem:ty),*) => {$(
        impl From<Vec<$elem>> for TensorIndex {
            fn from(v: Vec<$elem>) -> TensorIndex {
                let n = v.len();
                TensorIndex::Tensor(Tensor::from_vec(v, &[n]).expect("n values fill a 1-D tensor of n"))
            }
        }
        impl From<&[$elem]> for TensorIndex {
            fn from(v: &[$elem]) -> TensorIndex {
                v.to_vec().into()
            }
        }
        impl<const N: usize> From<[$elem; N]> for TensorIndex {
            fn from(v: [$elem; N]) -> TensorIndex {
                v.to_vec().into()
            }
        }
        impl IntoIndexList for Vec<$elem> {
            fn into_index_list(self) -> Vec<TensorIndex> {
                vec![self.into()]
            }
        }
        impl IntoIndexList for &[$elem] {
            fn into_index_list(self) -> Vec<TensorIndex> {
                vec![self.into()]
            }
        }
        impl<const N: usize> IntoIndexList for [$elem; N] {
            fn into_index_list(self) -> Vec<TensorIndex> {
                vec![self.into()]
            }
        }
    )*};
}

list_conversions!(i64, bool);

impl From<&TensorIndex> for TensorIndex {
    fn from(t: &TensorIndex) -> TensorIndex {
        t.clone()
    }
}

/// Anything usable as a whole subscript: one item, a tuple of up to 8 items
/// (`(.., 1..3, NewAxis)`), or a list of items (`Vec<TensorIndex>`,
/// `&[TensorIndex]`). A `Vec`/array/slice of `i64` or `bool` is one item
/// (an index tensor or mask), like a Python list inside `x[...]`.
pub trait IntoIndexList {
    /// The items in order.
    fn into_index_list(self) -> Vec<TensorIndex>;
}

/// One-item subscripts for every single-item type.
macro_rules! single_item {
    ($($t:ty),*) => {$(
        impl IntoIndexList for $t {
            fn into_index_list(self) -> Vec<TensorIndex> {
                vec![self.into()]
            }
        }
    )*};
}

single_item!(
    i64,
    i32,
    usize,
    Range<i64>,
    Range<i32>,
    Range<usize>,
    RangeFrom<i64>,
    RangeFrom<i32>,
    RangeFrom<usize>,
    RangeTo<i64>,
    RangeTo<i32>,
    RangeTo<usize>,
    RangeInclusive<i64>,
    RangeInclusive<i32>,
    RangeInclusive<usize>,
    RangeToInclusive<i64>,
    RangeToInclusive<i32>,
    RangeToInclusive<usize>,
    RangeFull,
    Slice,
    NewAxis,
    Ellipsis,
    bool,
    Tensor,
    &Tensor,
    TensorIndex,
    &TensorIndex
);

/// Tuple subscripts `(a, b, ...)` of up to 8 items.
macro_rules! tuple_items {
    ($($name:ident),+) => {
        impl<$($name: Into<TensorIndex>),+> IntoIndexList for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_index_list(self) -> Vec<TensorIndex> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}

tuple_items!(A);
tuple_items!(A, B);
tuple_items!(A, B, C);
tuple_items!(A, B, C, D);
tuple_items!(A, B, C, D, E);
tuple_items!(A, B, C, D, E, F);
tuple_items!(A, B, C, D, E, F, G);
tuple_items!(A, B, C, D, E, F, G, H);

/// The empty subscript `x[()]`: a view of the whole tensor.
impl IntoIndexList for () {
    fn into_index_list(self) -> Vec<TensorIndex> {
        Vec::new()
    }
}

impl IntoIndexList for Vec<TensorIndex> {
    fn into_index_list(self) -> Vec<TensorIndex> {
        self
    }
}

impl IntoIndexList for &[TensorIndex] {
    fn into_index_list(self) -> Vec<TensorIndex> {
        self.to_vec()
    }
}

impl<const N: usize> IntoIndexList for [TensorIndex; N] {
    fn into_index_list(self) -> Vec<TensorIndex> {
        self.to_vec()
    }
}

impl IntoIndexList for &Vec<TensorIndex> {
    fn into_index_list(self) -> Vec<TensorIndex> {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice_of(i: impl IntoIndexList) -> Slice {
        match i.into_index_list().as_slice() {
            [TensorIndex::Slice(s)] => *s,
            other => panic!("not one slice: {other:?}"),
        }
    }

    #[test]
    fn ranges_become_python_slices() {
        assert_eq!(
            slice_of(1..4),
            Slice {
                start: Some(1),
                end: Some(4),
                step: 1
            }
        );
        assert_eq!(
            slice_of(..),
            Slice {
                start: None,
                end: None,
                step: 1
            }
        );
        assert_eq!(
            slice_of(2..=4),
            Slice {
                start: Some(2),
                end: Some(5),
                step: 1
            }
        );
        assert_eq!(
            slice_of(..=-1),
            Slice {
                start: None,
                end: None,
                step: 1
            }
        );
        assert_eq!(
            slice_of(-3..),
            Slice {
                start: Some(-3),
                end: None,
                step: 1
            }
        );
        assert_eq!(
            slice_of((..5usize).step(2)),
            Slice {
                start: None,
                end: Some(5),
                step: 2
            }
        );
        assert_eq!(
            slice_of(s(None, -1, 3)),
            Slice {
                start: None,
                end: Some(-1),
                step: 3
            }
        );
    }

    #[test]
    fn lists_become_index_tensors() {
        let items = ([0, 2], .., vec![true, false]).into_index_list();
        match items.as_slice() {
            [TensorIndex::Tensor(i), TensorIndex::Slice(_), TensorIndex::Tensor(m)] => {
                assert_eq!(i.to_vec::<i64>().unwrap(), vec![0, 2]);
                assert_eq!(m.to_vec::<bool>().unwrap(), vec![true, false]);
            }
            other => panic!("not two tensors around a slice: {other:?}"),
        }
    }

    #[test]
    fn tuples_keep_item_order() {
        let items = (0, .., NewAxis, Ellipsis, true).into_index_list();
        assert!(matches!(
            items.as_slice(),
            [
                TensorIndex::Int(0),
                TensorIndex::Slice(_),
                TensorIndex::NewAxis,
                TensorIndex::Ellipsis,
                TensorIndex::Bool(true)
            ]
        ));
    }
}
