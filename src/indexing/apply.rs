//! Reading through a subscript: the basic items (integers, slices, new axes,
//! ellipses) become views in one left-to-right walk, exactly as PyTorch's
//! `applySlicing` does; the tensor items are collected per dim and handed to
//! `index.Tensor`, which places the broadcast index shape.

use super::spec::{Slice, TensorIndex};
use crate::ops;
use crate::{DType, Error, Result, Tensor};

/// The name errors carry: Python's `Tensor.__getitem__`/`__setitem__` path.
pub(crate) const OP: &str = "aten::index";

/// The subscript applied up to its advanced part: `view` is what the basic
/// items left, `indices[d]` the index tensor (if any) for dim `d` of `view`.
pub(crate) struct Sliced {
    /// The view after every integer, slice, new axis and ellipsis.
    pub view: Tensor,
    /// One entry per leading dim of `view`; `None` where no tensor indexes it.
    pub indices: Vec<Option<Tensor>>,
    /// True when no operator was applied (the subscript was all `..`/`...`).
    pub untouched: bool,
}

impl Sliced {
    /// True when some item was an index tensor or mask.
    pub fn has_advanced(&self) -> bool {
        self.indices.iter().any(Option::is_some)
    }
}

/// `x[items]`: a view when every item is basic, else `index.Tensor`'s copy.
pub(crate) fn get(x: &Tensor, items: &[TensorIndex]) -> Result<Tensor> {
    let sliced = slice_basic(x, items)?;
    if sliced.has_advanced() {
        ops::index(&sliced.view, &sliced.indices)
    } else if sliced.untouched {
        // Python returns a fresh view even for `x[...]` and `x[:]`.
        ops::alias(x)
    } else {
        Ok(sliced.view)
    }
}

/// True for the dtypes a mask may have (each consumes `mask.dim()` dims).
fn is_mask(t: &Tensor) -> bool {
    matches!(t.dtype(), DType::Bool | DType::U8)
}

/// How many dims of the indexed tensor the items consume (`None`, `...` and
/// Python bools consume none; a mask consumes one per mask dim).
fn consumed_dims(items: &[TensorIndex]) -> usize {
    items
        .iter()
        .map(|item| match item {
            TensorIndex::Int(_) | TensorIndex::Slice(_) => 1,
            TensorIndex::Tensor(t) if is_mask(t) => t.dim(),
            TensorIndex::Tensor(_) => 1,
            TensorIndex::NewAxis | TensorIndex::Ellipsis | TensorIndex::Bool(_) => 0,
        })
        .sum()
}

/// Checks an index tensor's dtype (Python: long, int, byte or bool).
fn check_index_dtype(t: &Tensor) -> Result<()> {
    match t.dtype() {
        DType::I64 | DType::I32 | DType::U8 | DType::Bool => Ok(()),
        other => Err(Error::dtype(
            OP,
            format!("tensors used as indices must be long, int, byte or bool tensors, got {other}"),
        )),
    }
}

/// The value of a 0-dim tensor as i64 (for integer, bool and uint8 indices).
fn scalar_value(t: &Tensor) -> Result<i64> {
    let v = match t.dtype() {
        DType::I64 => t.to_vec::<i64>()?[0],
        DType::I32 => t.to_vec::<i32>()?[0] as i64,
        DType::U8 => t.to_vec::<u8>()?[0] as i64,
        DType::Bool => t.to_vec::<bool>()?[0] as i64,
        other => {
            return Err(Error::dtype(
                OP,
                format!("cannot use a 0-dim {other} tensor as an index"),
            ))
        }
    };
    Ok(v)
}

/// `select` with Python's bounds message (`real_dim` counts the dims of the
/// indexed tensor, as PyTorch reports them).
fn select(t: &Tensor, dim: usize, index: i64, real_dim: usize) -> Result<Tensor> {
    if t.dim() == 0 {
        return Err(Error::index(
            OP,
            "invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a number",
        ));
    }
    let size = t.sizes()[dim] as i64;
    if index < -size || index >= size {
        return Err(Error::index(
            OP,
            format!("index {index} is out of bounds for dimension {real_dim} with size {size}"),
        ));
    }
    ops::select(t, dim as i64, index)
}

/// `slice` with Python's step checks; bounds clamp as in Python.
fn slice(t: &Tensor, dim: usize, s: &Slice) -> Result<Tensor> {
    match s.step {
        0 => Err(Error::invalid(OP, "slice step cannot be zero")),
        step if step < 0 => Err(Error::invalid(OP, "step must be greater than zero")),
        step => ops::slice(t, dim as i64, s.start, s.end, step),
    }
}

/// The index tensor a Python bool stands for on a new dim of size 1:
/// `[0]` for True, an empty int64 tensor for False.
fn bool_index(value: bool) -> Result<Tensor> {
    let positions: Vec<i64> = if value { vec![0] } else { Vec::new() };
    let n = positions.len();
    Tensor::from_vec(positions, &[n])
}

/// Walk state: the tensor so far, the current dim in it, the dim of the
/// original tensor (for messages), and the recorded index tensors.
struct Walk {
    view: Tensor,
    dim: usize,
    real_dim: usize,
    indices: Vec<Option<Tensor>>,
    untouched: bool,
}

impl Walk {
    /// Records `index` for the current dim, which it consumes `width` of.
    fn record(&mut self, index: Tensor, width: usize) {
        if self.indices.len() <= self.dim {
            self.indices.resize(self.dim + 1, None);
        }
        self.indices[self.dim] = Some(index);
        self.dim += width;
        self.real_dim += width;
    }

    /// Replaces the tensor so far (an operator was applied).
    fn set(&mut self, view: Tensor) {
        self.view = view;
        self.untouched = false;
    }

    /// A Python bool: a new dim of size 1 indexed by `[0]` or `[]`.
    fn bool_item(&mut self, value: bool) -> Result<()> {
        let v = ops::unsqueeze(&self.view, self.dim as i64)?;
        self.set(v);
        let index = bool_index(value)?;
        self.record(index, 1);
        self.real_dim -= 1;
        Ok(())
    }

    /// Applies one item.
    fn step(&mut self, item: &TensorIndex, ellipsis_width: usize) -> Result<()> {
        match item {
            TensorIndex::Int(i) => {
                let v = select(&self.view, self.dim, *i, self.real_dim)?;
                self.set(v);
                self.real_dim += 1;
            }
            TensorIndex::Slice(s) => {
                let v = slice(&self.view, self.dim, s)?;
                self.set(v);
                self.dim += 1;
                self.real_dim += 1;
            }
            TensorIndex::NewAxis => {
                let v = ops::unsqueeze(&self.view, self.dim as i64)?;
                self.set(v);
                self.dim += 1;
            }
            TensorIndex::Ellipsis => {
                self.dim += ellipsis_width;
                self.real_dim += ellipsis_width;
            }
            TensorIndex::Bool(b) => self.bool_item(*b)?,
            TensorIndex::Tensor(t) => self.tensor_item(t)?,
        }
        Ok(())
    }

    /// An index tensor: a 0-dim integer acts as an integer, a 0-dim mask as
    /// a Python bool; others are recorded for `index.Tensor`.
    fn tensor_item(&mut self, t: &Tensor) -> Result<()> {
        check_index_dtype(t)?;
        if t.dim() == 0 {
            let value = scalar_value(t)?;
            if is_mask(t) {
                return self.bool_item(value != 0);
            }
            return self.step(&TensorIndex::Int(value), 0);
        }
        let width = if is_mask(t) { t.dim() } else { 1 };
        self.record(t.clone(), width);
        Ok(())
    }
}

/// Applies the basic items of `items` to `x` and collects the tensor items.
pub(crate) fn slice_basic(x: &Tensor, items: &[TensorIndex]) -> Result<Sliced> {
    let specified = consumed_dims(items);
    if specified > x.dim() {
        let only_int = matches!(items, [TensorIndex::Int(_)]);
        if !(only_int && x.dim() == 0) {
            return Err(Error::index(
                OP,
                format!("too many indices for tensor of dimension {} (got {specified})", x.dim()),
            ));
        }
    }
    // Every `...` stands for the same number of dims (PyTorch accepts several).
    let ellipsis_width = x.dim().saturating_sub(specified);
    let mut walk = Walk {
        view: x.clone(),
        dim: 0,
        real_dim: 0,
        indices: Vec::new(),
        untouched: true,
    };
    for item in items {
        walk.step(item, ellipsis_width)?;
    }
    Ok(Sliced {
        view: walk.view,
        indices: walk.indices,
        untouched: walk.untouched,
    })
}
