//! `_embedding_bag`: per-bag sums, means or maxima of embedding rows, with
//! the auxiliary outputs PyTorch's CPU kernel returns, and its gradients.
//!
//! Bag `b` holds the indices `offsets[b] .. offsets[b + 1]` (the last bag
//! runs to the end of `indices`, also with `include_last_offset`, whose
//! final offset only counts the bags). Indices equal to `padding_idx` are
//! skipped. Values are accumulated in f64 and rounded once to the weight's
//! dtype.

use super::read_vec;
use crate::iter::to_dtype;
use ft_runtime::{DType, Error, Result, Tensor};

const OP: &str = "aten::_embedding_bag";

/// `mode` values.
const SUM: i64 = 0;
const MEAN: i64 = 1;
const MAX: i64 = 2;

/// An int32/int64 tensor read as i64; `what` names it in the dtype error.
fn int_values(op: &str, what: &str, t: &Tensor) -> Result<Vec<i64>> {
    match t.dtype() {
        DType::I64 => read_vec::<i64>(t),
        DType::I32 => Ok(read_vec::<i32>(t)?.into_iter().map(i64::from).collect()),
        d => Err(Error::dtype(
            op,
            format!(
                "Expected tensor for argument '{what}' to have one of the following scalar types: Long, Int; but got {} instead",
                d.tensor_type_name()
            ),
        )),
    }
}

/// The checked bag structure of one call.
struct Bags {
    /// Row of each index.
    idx: Vec<usize>,
    /// Bag of each index (the last bag starting at or before it).
    bag_of: Vec<usize>,
    /// `[start, end)` of each bag.
    ranges: Vec<(usize, usize)>,
    /// The index dtype of the auxiliary outputs.
    aux: DType,
}

impl Bags {
    /// Reads and checks `indices` (1-D, rows of a `rows`-row table) and
    /// `offsets` (1-D, starting at 0, non-decreasing, at most `indices.numel()`).
    fn new(op: &str, rows: usize, indices: &Tensor, offsets: &Tensor, include_last_offset: bool) -> Result<Bags> {
        let raw_idx = int_values(op, "indices", indices)?;
        let off = int_values(op, "offsets", offsets)?;
        if indices.dim() != 1 || offsets.dim() != 1 {
            return Err(Error::shape(
                op,
                format!(
                    "expected 1-D indices and offsets, got {}-D and {}-D",
                    indices.dim(),
                    offsets.dim()
                ),
            ));
        }
        let n = raw_idx.len();
        if off.is_empty() {
            return Err(Error::invalid(op, "offsets must hold at least one element"));
        }
        if off[0] != 0 {
            return Err(Error::invalid(
                op,
                format!("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got {}", off[0]),
            ));
        }
        let last = off[off.len() - 1];
        if last > n as i64 {
            return Err(Error::invalid(
                op,
                format!("offsets[-1] can not be greater than input's length {n} but got offsets[-1] of {last}"),
            ));
        }
        if off.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::invalid(op, "offsets must be non-decreasing"));
        }
        let idx = raw_idx
            .iter()
            .map(|&i| {
                if i < 0 || i as usize >= rows {
                    Err(Error::index(
                        op,
                        format!("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be {i}"),
                    ))
                } else {
                    Ok(i as usize)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let num_bags = off.len() - usize::from(include_last_offset);
        let starts: Vec<usize> = off[..num_bags].iter().map(|&o| o as usize).collect();
        let ranges: Vec<(usize, usize)> = (0..num_bags)
            .map(|b| (starts[b], starts.get(b + 1).copied().unwrap_or(n)))
            .collect();
        let bag_of = (0..n)
            .map(|i| starts.iter().filter(|&&s| s <= i).count().saturating_sub(1))
            .collect();
        let aux = if indices.dtype() == DType::I32 && offsets.dtype() == DType::I32 {
            DType::I32
        } else {
            DType::I64
        };
        Ok(Bags {
            idx,
            bag_of,
            ranges,
            aux,
        })
    }

    /// The positions of bag `b` whose index is not `padding_idx`.
    fn members(&self, b: usize, padding_idx: i64) -> impl Iterator<Item = usize> + '_ {
        let (s, e) = self.ranges[b];
        (s..e).filter(move |&i| self.idx[i] as i64 != padding_idx)
    }

    /// An auxiliary integer output of the index dtype.
    fn aux_tensor(&self, v: Vec<i64>, sizes: &[usize]) -> Result<Tensor> {
        to_dtype(&Tensor::from_vec(v, sizes)?, self.aux)
    }
}

/// Checks `weight` (2-D, floating) and returns (rows, width).
fn check_weight(op: &str, weight: &Tensor) -> Result<(usize, usize)> {
    if weight.dim() != 2 {
        return Err(Error::shape(
            op,
            format!(
                "weight has to be a 2D Tensor, but got Tensor of dimension {}",
                weight.dim()
            ),
        ));
    }
    if !weight.dtype().is_floating_point() {
        return Err(super::not_implemented(op, "embedding_bag", weight.dtype()));
    }
    Ok((weight.sizes()[0], weight.sizes()[1]))
}

/// Checks `per_sample_weights` (sum mode only, one per index, weight's dtype).
fn check_psw(op: &str, psw: Option<&Tensor>, mode: i64, n: usize, dtype: DType) -> Result<Option<Vec<f64>>> {
    let Some(p) = psw else { return Ok(None) };
    if mode != SUM {
        return Err(Error::invalid(
            op,
            "embedding_bag: per_sample_weights only supported with mode='sum'",
        ));
    }
    if p.dtype() != dtype {
        return Err(Error::dtype(
            op,
            format!(
                "expected per_sample_weights to have the weight's type {} but got {}",
                dtype.scalar_type_name(),
                p.dtype().scalar_type_name()
            ),
        ));
    }
    if p.dim() != 1 || p.numel() != n {
        return Err(Error::shape(
            op,
            format!("per_sample_weights must be 1-D with {n} elements (one per index)"),
        ));
    }
    Ok(Some(p.to_f64_vec()))
}

fn check_mode(op: &str, mode: i64) -> Result<()> {
    if (SUM..=MAX).contains(&mode) {
        Ok(())
    } else {
        Err(Error::invalid(op, "`mode` must be sum, mean, or max."))
    }
}

/// Whether PyTorch's CPU kernel takes its fast sum path, which leaves
/// `offset2bag` empty: sum mode, a float32/float16/bfloat16 weight with
/// unit row stride, and no padding index.
fn fast_sum_path(weight: &Tensor, mode: i64, padding_idx: i64) -> bool {
    mode == SUM
        && matches!(weight.dtype(), DType::F32 | DType::F16 | DType::BF16)
        && padding_idx < 0
        && (weight.sizes()[1] <= 1 || weight.strides()[1] == 1)
}

/// `aten::_embedding_bag`: for each bag of `indices` (delimited by
/// `offsets`), the sum (`mode` 0, each row scaled by its
/// `per_sample_weights` entry), mean (1) or elementwise maximum (2) of the
/// selected rows of `weight`, skipping `padding_idx`; empty bags give zeros.
/// Returns (output, offset2bag, bag_size, max_indices) as PyTorch's CPU
/// kernel does: `offset2bag` is the bag of each index (empty on the fast sum
/// path), `bag_size` the non-padding count per bag (zeros in sum mode), and
/// `max_indices` the arg-max rows `[bags, dim]` in max mode, `bag_size` in
/// mean mode and zeros in sum mode.
///
/// ```
/// use ft_runtime::Tensor;
/// let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
/// let i = Tensor::from_vec(vec![0i64, 2, 1], &[3]).unwrap();
/// let o = Tensor::from_vec(vec![0i64, 2], &[2]).unwrap();
/// let (out, o2b, size, _) = ft_kernels::nn::embedding_bag::_embedding_bag(&w, &i, &o, false, 1, false, None, false, -1).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![3.0, 4.0, 3.0, 4.0]);
/// assert_eq!(o2b.to_vec::<i64>().unwrap(), vec![0, 0, 1]);
/// assert_eq!(size.to_vec::<i64>().unwrap(), vec![2, 1]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn _embedding_bag(
    weight: &Tensor,
    indices: &Tensor,
    offsets: &Tensor,
    scale_grad_by_freq: bool,
    mode: i64,
    sparse: bool,
    per_sample_weights: Option<&Tensor>,
    include_last_offset: bool,
    padding_idx: i64,
) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
    let _ = (scale_grad_by_freq, sparse);
    let (rows, width) = check_weight(OP, weight)?;
    let bags = Bags::new(OP, rows, indices, offsets, include_last_offset)?;
    check_mode(OP, mode)?;
    let psw = check_psw(OP, per_sample_weights, mode, bags.idx.len(), weight.dtype())?;
    let w = weight.to_f64_vec();
    let nb = bags.ranges.len();
    let mut out = vec![0.0f64; nb * width];
    let mut sizes = vec![0i64; nb];
    let mut arg = vec![0i64; nb * width];
    for b in 0..nb {
        let dst = &mut out[b * width..(b + 1) * width];
        let mut count = 0usize;
        for i in bags.members(b, padding_idx) {
            let r = bags.idx[i];
            let src = &w[r * width..(r + 1) * width];
            let scale = psw.as_ref().map_or(1.0, |p| p[i]);
            for d in 0..width {
                if mode == MAX {
                    if count == 0 || src[d] > dst[d] {
                        dst[d] = src[d];
                        arg[b * width + d] = r as i64;
                    }
                } else {
                    dst[d] += scale * src[d];
                }
            }
            count += 1;
        }
        if mode == MEAN && count > 0 {
            dst.iter_mut().for_each(|v| *v /= count as f64);
        }
        sizes[b] = count as i64;
    }
    let output = to_dtype(&Tensor::from_vec(out, &[nb, width])?, weight.dtype())?;
    let offset2bag = if fast_sum_path(weight, mode, padding_idx) {
        bags.aux_tensor(Vec::new(), &[0])?
    } else {
        let o2b: Vec<i64> = bags.bag_of.iter().map(|&b| b as i64).collect();
        bags.aux_tensor(o2b, &[bags.idx.len()])?
    };
    let (bag_size, max_indices) = match mode {
        SUM => (
            bags.aux_tensor(vec![0; nb], &[nb])?,
            bags.aux_tensor(vec![0; nb], &[nb])?,
        ),
        MEAN => (bags.aux_tensor(sizes.clone(), &[nb])?, bags.aux_tensor(sizes, &[nb])?),
        _ => (bags.aux_tensor(sizes, &[nb])?, bags.aux_tensor(arg, &[nb, width])?),
    };
    Ok((output, offset2bag, bag_size, max_indices))
}

/// The gradient of `_embedding_bag` with respect to its `[num_weights, dim]`
/// weight, given the output gradient `grad` `[bags, dim]` and the forward's
/// `max_indices` (max mode): sum and mean modes add each bag's gradient
/// (scaled by the index's `per_sample_weights` entry, or by `1 / bag size`)
/// to the rows of its indices, divided by the index's frequency with
/// `scale_grad_by_freq`; max mode adds it to the arg-max rows. `padding_idx`
/// rows get nothing. Errors for `sparse` (FrankenTorch has no sparse tensors).
#[allow(clippy::too_many_arguments)]
pub fn embedding_bag_weight_backward(
    grad: &Tensor,
    indices: &Tensor,
    offsets: &Tensor,
    max_indices: &Tensor,
    num_weights: usize,
    scale_grad_by_freq: bool,
    mode: i64,
    sparse: bool,
    per_sample_weights: Option<&Tensor>,
    include_last_offset: bool,
    padding_idx: i64,
) -> Result<Tensor> {
    const BW: &str = "aten::_embedding_bag_backward";
    if sparse {
        return Err(Error::not_supported(
            BW,
            "sparse gradients (sparse=True) need sparse tensors, which FrankenTorch does not have",
        ));
    }
    check_mode(BW, mode)?;
    let bags = Bags::new(BW, num_weights, indices, offsets, include_last_offset)?;
    let nb = bags.ranges.len();
    if grad.dim() != 2 || grad.sizes()[0] != nb {
        return Err(Error::shape(
            BW,
            format!("expected a gradient of {nb} bags, got shape {:?}", grad.sizes()),
        ));
    }
    let width = grad.sizes()[1];
    let g = grad.to_f64_vec();
    let psw = per_sample_weights.map(|p| p.to_f64_vec());
    let mut counts = vec![0usize; num_weights];
    bags.idx.iter().for_each(|&r| counts[r] += 1);
    let mut out = vec![0.0f64; num_weights * width];
    if mode == MAX {
        let arg = int_values(BW, "max_indices", max_indices)?;
        for b in (0..nb).filter(|&b| bags.members(b, padding_idx).next().is_some()) {
            for d in 0..width {
                let r = arg[b * width + d] as usize;
                if r < num_weights {
                    out[r * width + d] += g[b * width + d];
                }
            }
        }
    } else {
        for b in 0..nb {
            let members: Vec<usize> = bags.members(b, padding_idx).collect();
            for &i in &members {
                let r = bags.idx[i];
                let mut scale = match (mode, &psw) {
                    (MEAN, _) => 1.0 / members.len() as f64,
                    (_, Some(p)) => p[i],
                    _ => 1.0,
                };
                if scale_grad_by_freq {
                    scale /= counts[r] as f64;
                }
                for d in 0..width {
                    out[r * width + d] += scale * g[b * width + d];
                }
            }
        }
    }
    to_dtype(&Tensor::from_vec(out, &[num_weights, width])?, grad.dtype())
}

/// The gradient of `_embedding_bag` (sum mode) with respect to
/// `per_sample_weights`: for each index, the dot product of its bag's output
/// gradient with its weight row (zero for `padding_idx`).
pub fn embedding_bag_per_sample_weights_backward(
    grad: &Tensor,
    weight: &Tensor,
    indices: &Tensor,
    offsets: &Tensor,
    mode: i64,
    include_last_offset: bool,
    padding_idx: i64,
) -> Result<Tensor> {
    const BW: &str = "aten::_embedding_bag_per_sample_weights_backward";
    if mode != SUM {
        return Err(Error::invalid(
            BW,
            "embedding_bag_backward: per_sample_weights only supported for mode='sum'",
        ));
    }
    let (rows, width) = check_weight(BW, weight)?;
    let bags = Bags::new(BW, rows, indices, offsets, include_last_offset)?;
    if grad.dim() != 2 || grad.sizes() != [bags.ranges.len(), width] {
        return Err(Error::shape(
            BW,
            format!("unexpected gradient shape {:?}", grad.sizes()),
        ));
    }
    let (g, w) = (grad.to_f64_vec(), weight.to_f64_vec());
    let mut out = vec![0.0f64; bags.idx.len()];
    for b in 0..bags.ranges.len() {
        for i in bags.members(b, padding_idx) {
            let r = bags.idx[i];
            out[i] = (0..width).map(|d| g[b * width + d] * w[r * width + d]).sum();
        }
    }
    to_dtype(&Tensor::from_vec(out, &[bags.idx.len()])?, grad.dtype())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(v: &[i64]) -> Tensor {
        Tensor::from_vec(v.to_vec(), &[v.len()]).unwrap()
    }

    #[test]
    fn modes_and_auxiliary_outputs() {
        let w = Tensor::from_vec((0..12).map(f64::from).collect::<Vec<_>>(), &[4, 3]).unwrap();
        let (i, o) = (long(&[0, 2, 1, 3, 3, 0]), long(&[0, 2, 2, 5]));
        let (out, o2b, size, maxi) = _embedding_bag(&w, &i, &o, false, 2, false, None, false, -1).unwrap();
        assert_eq!(out.to_vec::<f64>().unwrap()[..3], [6.0, 7.0, 8.0]);
        assert_eq!(o2b.to_vec::<i64>().unwrap(), vec![0, 0, 2, 2, 2, 3]);
        assert_eq!(size.to_vec::<i64>().unwrap(), vec![2, 0, 3, 1]);
        assert_eq!(maxi.sizes(), &[4, 3]);
        let (out, ..) = _embedding_bag(&w, &i, &o, false, 1, false, None, true, -1).unwrap();
        assert_eq!(out.to_vec::<f64>().unwrap()[6..], [5.25, 6.25, 7.25]);
        let wf = to_dtype(&w, DType::F32).unwrap();
        let (_, o2b, ..) = _embedding_bag(&wf, &i, &o, false, 0, false, None, false, -1).unwrap();
        assert_eq!(o2b.numel(), 0);
    }

    #[test]
    fn bad_offsets_and_indices() {
        let w = Tensor::zeros_contiguous(&[4, 2], DType::F64);
        let i = long(&[0, 1]);
        assert!(_embedding_bag(&w, &i, &long(&[1]), false, 0, false, None, false, -1).is_err());
        assert!(_embedding_bag(&w, &i, &long(&[0, 3]), false, 0, false, None, false, -1).is_err());
        assert!(_embedding_bag(&w, &i, &long(&[]), false, 0, false, None, false, -1).is_err());
        assert!(_embedding_bag(&w, &long(&[4]), &long(&[0]), false, 0, false, None, false, -1).is_err());
        assert!(_embedding_bag(&w, &i, &long(&[0]), false, 3, false, None, false, -1).is_err());
    }
}
