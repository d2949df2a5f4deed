//! `aten::einsum` (CompositeImplicitAutograd): Einstein summation built from
//! recorded operators (diagonal, permute, unsqueeze, sum, mul, bmm, view), so
//! autograd flows through them.
//!
//! The steps follow PyTorch's, so results have PyTorch's shapes, strides and
//! aliasing: parse the equation into labels; give every label a position in
//! one aligned layout (output labels first, then the contracted ones); take
//! diagonals for labels repeated in an operand, unsqueeze missing labels and
//! permute each operand into that layout; contract the operands pairwise
//! (left to right, or in the order of `path`) with `bmm`, summing a
//! contracted label as soon as no remaining operand needs it; finally drop
//! (or sum) the contracted dimensions.

use crate::ops;
use crate::{Error, Result, Tensor};

const OP: &str = "aten::einsum";
/// Labels are `A-Z` (0..26) then `a-z` (26..52).
const LETTERS: usize = 26;
const TOTAL_LABELS: usize = 2 * LETTERS;
/// The code of `...` in an operand's label list.
const ELLIPSIS: u8 = TOTAL_LABELS as u8;

fn err(msg: impl Into<String>) -> Error {
    Error::invalid(OP, format!("einsum(): {}", msg.into()))
}

fn shape_err(msg: impl Into<String>) -> Error {
    Error::shape(OP, format!("einsum(): {}", msg.into()))
}

/// The code of a label letter.
fn code(c: u8) -> u8 {
    if c.is_ascii_uppercase() {
        c - b'A'
    } else {
        c - b'a' + LETTERS as u8
    }
}

/// The letter of a label code.
fn letter(s: usize) -> char {
    if s < LETTERS {
        (b'A' + s as u8) as char
    } else {
        (b'a' + (s - LETTERS) as u8) as char
    }
}

/// Consumes the two dots after a first `.` at `bytes[*i]`; false when they are missing.
fn take_ellipsis(bytes: &[u8], i: &mut usize) -> bool {
    if *i + 2 < bytes.len() && bytes[*i + 1] == b'.' && bytes[*i + 2] == b'.' {
        *i += 2;
        true
    } else {
        false
    }
}

/// The label codes of each operand (with `ELLIPSIS` where `...` stands).
fn parse_inputs(lhs: &str, num_ops: usize) -> Result<Vec<Vec<u8>>> {
    let bytes = lhs.as_bytes();
    let mut labels: Vec<Vec<u8>> = vec![Vec::new(); num_ops];
    let (mut cur, mut has_ell) = (0usize, false);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => {}
            b'.' => {
                if has_ell {
                    return Err(err(format!(
                        "found '.' for operand {cur} for which an ellipsis was already found"
                    )));
                }
                if !take_ellipsis(bytes, &mut i) {
                    return Err(err(format!(
                        "found '.' for operand {cur} that is not part of any ellipsis"
                    )));
                }
                labels[cur].push(ELLIPSIS);
                has_ell = true;
            }
            b',' => {
                cur += 1;
                if cur >= num_ops {
                    return Err(err("fewer operands were provided than specified in the equation"));
                }
                has_ell = false;
            }
            c if c.is_ascii_alphabetic() => labels[cur].push(code(c)),
            _ => {
                return Err(err(format!(
                    "invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]"
                )))
            }
        }
        i += 1;
    }
    if cur + 1 != num_ops {
        return Err(err("more operands were provided than specified in the equation"));
    }
    Ok(labels)
}

/// Where each label and the ellipsis dims go in the aligned layout.
struct Layout {
    /// Position of each label code, `-1` when unused.
    perm_index: [i64; TOTAL_LABELS],
    /// First position of the ellipsis dims.
    ell_index: usize,
    /// Dims covered by the widest ellipsis.
    ell_num_dim: usize,
    /// Dims of the output.
    out_num_dim: usize,
    /// Dims of the aligned layout (output then contracted).
    total: usize,
}

/// Counts labels and checks each operand's rank; returns the label counts and
/// the widest ellipsis.
fn count_labels(labels: &[Vec<u8>], operands: &[Tensor]) -> Result<([usize; TOTAL_LABELS], usize)> {
    let mut count = [0usize; TOTAL_LABELS];
    let mut ell_num_dim = 0usize;
    for (i, (ls, t)) in labels.iter().zip(operands).enumerate() {
        let has_ell = ls.contains(&ELLIPSIS);
        let n = ls.len() - usize::from(has_ell);
        for &s in ls.iter().filter(|&&s| s != ELLIPSIS) {
            count[s as usize] += 1;
        }
        let ndims = t.dim();
        if has_ell && n > ndims {
            return Err(shape_err(format!(
                "the number of subscripts in the equation ({n}) is more than the number of dimensions ({ndims}) for operand {i}"
            )));
        }
        if !has_ell && n != ndims {
            return Err(shape_err(format!(
                "the number of subscripts in the equation ({n}) does not match the number of dimensions ({ndims}) for operand {i} and no ellipsis was given"
            )));
        }
        if has_ell {
            ell_num_dim = ell_num_dim.max(ndims - n);
        }
    }
    Ok((count, ell_num_dim))
}

/// Positions for the explicit output `rhs`; returns whether it has an ellipsis.
fn parse_output(rhs: &str, offset: usize, count: &[usize], layout: &mut Layout, next: &mut usize) -> Result<bool> {
    let bytes = rhs.as_bytes();
    let mut ell_in_output = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => {}
            b'.' => {
                if ell_in_output {
                    return Err(err("found '.' for output but an ellipsis (...) was already found"));
                }
                if !take_ellipsis(bytes, &mut i) {
                    return Err(err("found '.' for output that is not part of any ellipsis (...)"));
                }
                layout.ell_index = *next;
                *next += layout.ell_num_dim;
                ell_in_output = true;
            }
            c if c.is_ascii_alphabetic() => {
                let s = code(c) as usize;
                if count[s] == 0 || layout.perm_index[s] != -1 {
                    let why = if layout.perm_index[s] > -1 {
                        "appears more than once in the output"
                    } else {
                        "does not appear in the equation for any input operand"
                    };
                    return Err(err(format!("output subscript {} {why}", c as char)));
                }
                layout.perm_index[s] = *next as i64;
                *next += 1;
            }
            _ => {
                return Err(err(format!(
                    "invalid subscript given at index {} in the equation string, subscripts must be in [a-zA-Z]",
                    offset + i
                )))
            }
        }
        i += 1;
    }
    Ok(ell_in_output)
}

/// Computes the aligned layout: output dims (implicit: ellipsis then labels
/// seen once, in label order), then the ellipsis if it is summed, then the
/// other labels in label order.
fn plan_layout(equation: &str, labels: &[Vec<u8>], operands: &[Tensor]) -> Result<Layout> {
    let (count, ell_num_dim) = count_labels(labels, operands)?;
    let mut layout = Layout {
        perm_index: [-1; TOTAL_LABELS],
        ell_index: 0,
        ell_num_dim,
        out_num_dim: 0,
        total: 0,
    };
    let mut next = 0usize;
    let ell_in_output = match equation.find("->") {
        None => {
            next = ell_num_dim;
            for s in (0..TOTAL_LABELS).filter(|&s| count[s] == 1) {
                layout.perm_index[s] = next as i64;
                next += 1;
            }
            true
        }
        Some(pos) => parse_output(&equation[pos + 2..], pos + 2, &count, &mut layout, &mut next)?,
    };
    layout.out_num_dim = next;
    if !ell_in_output {
        layout.ell_index = next;
        next += ell_num_dim;
    }
    for (slot, &c) in layout.perm_index.iter_mut().zip(&count) {
        if c > 0 && *slot == -1 {
            *slot = next as i64;
            next += 1;
        }
    }
    layout.total = next;
    Ok(layout)
}

/// `t.movedim(-1, to)` as a permutation.
fn last_to(t: &Tensor, to: usize) -> Result<Tensor> {
    let n = t.dim();
    let mut order: Vec<i64> = (0..n as i64 - 1).collect();
    order.insert(to, n as i64 - 1);
    ops::permute(t, &order)
}

/// Sizes seen so far for each label and ellipsis dim, and how many operands
/// have a non-trivial (size != 1) dim at each aligned position.
struct Seen {
    label_size: [usize; TOTAL_LABELS],
    ell_sizes: Vec<usize>,
    dim_counts: Vec<usize>,
}

/// One operand permuted (after diagonals and unsqueezes) into the aligned layout.
fn align(i: usize, t: &Tensor, ls: &[u8], layout: &Layout, seen: &mut Seen) -> Result<Tensor> {
    let mut op = t.clone();
    let mut perm: Vec<i64> = vec![-1; layout.total];
    let mut dim = 0usize;
    for &s in ls {
        if s == ELLIPSIS {
            let ndim = t.dim() + 1 - ls.len();
            for j in layout.ell_num_dim - ndim..layout.ell_num_dim {
                let size = op.sizes()[dim];
                if size != 1 {
                    if seen.ell_sizes[j] != 1 && seen.ell_sizes[j] != size {
                        return Err(shape_err(format!(
                            "dimension {dim} covered by ellipsis in operand {i}has size {size} which does not broadcast with previously seen ellipsis with size {} for the respective dimension",
                            seen.ell_sizes[j]
                        )));
                    }
                    seen.ell_sizes[j] = size;
                    seen.dim_counts[layout.ell_index + j] += 1;
                }
                perm[layout.ell_index + j] = dim as i64;
                dim += 1;
            }
            continue;
        }
        let s = s as usize;
        let pos = layout.perm_index[s] as usize;
        if perm[pos] == -1 {
            let size = op.sizes()[dim];
            if size != 1 {
                if seen.label_size[s] != 1 && seen.label_size[s] != size {
                    return Err(shape_err(format!(
                        "subscript {} has size {size} for operand {i} which does not broadcast with previously seen size {}",
                        letter(s),
                        seen.label_size[s]
                    )));
                }
                seen.label_size[s] = size;
                seen.dim_counts[pos] += 1;
            }
            perm[pos] = dim as i64;
            dim += 1;
        } else {
            let prev = perm[pos] as usize;
            let (a, b) = (op.sizes()[dim], op.sizes()[prev]);
            if a != b {
                return Err(shape_err(format!(
                    "subscript {} is repeated for operand {i} but the sizes don't match, {a} != {b}",
                    letter(s)
                )));
            }
            op = last_to(&ops::diagonal(&op, 0, prev as i64, dim as i64)?, prev)?;
        }
    }
    for p in perm.iter_mut().filter(|p| **p == -1) {
        op = ops::unsqueeze(&op, dim as i64)?;
        *p = dim as i64;
        dim += 1;
    }
    ops::permute(&op, &perm)
}

fn product(sizes: &[usize], dims: &[usize]) -> i64 {
    dims.iter().map(|&d| sizes[d] as i64).product()
}

/// `(left * right).sum(sum_dims, keepdim=True)` for operands with the same
/// number of dims (broadcasting size-1 dims), computed with one `bmm`.
fn sumproduct_pair(left: &Tensor, right: &Tensor, sum_dims: &[usize]) -> Result<Tensor> {
    if sum_dims.is_empty() {
        return ops::mul(left, right);
    }
    let (mut left, mut right) = (left.clone(), right.clone());
    let (mut lro, mut lo, mut ro) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..left.dim() {
        let (ls, rs) = (left.sizes()[i], right.sizes()[i]);
        let (sl, sr) = (ls != 1, rs != 1);
        if sum_dims.contains(&i) {
            if sl && sr {
                if ls != rs {
                    return Err(shape_err("non-broadcast dimensions must match"));
                }
            } else if sl {
                left = ops::sum_dim(&left, Some(&[i as i64][..]), true)?;
            } else if sr {
                right = ops::sum_dim(&right, Some(&[i as i64][..]), true)?;
            }
        } else if sl && sr {
            if ls != rs {
                return Err(shape_err("non-broadcast dimensions must match"));
            }
            lro.push(i);
        } else if sl {
            lo.push(i);
        } else {
            ro.push(i);
        }
    }
    // When every right-only dim precedes every left-only one, swapping the
    // operands makes bmm produce the output's memory order directly.
    if !lo.is_empty() && !ro.is_empty() && ro[ro.len() - 1] < lo[0] {
        std::mem::swap(&mut left, &mut right);
        std::mem::swap(&mut lo, &mut ro);
    }
    let (ls, rs) = (left.sizes().to_vec(), right.sizes().to_vec());
    let (lro_size, lo_size, ro_size) = (product(&ls, &lro), product(&ls, &lo), product(&rs, &ro));
    let sum_size = product(&ls, sum_dims);
    let as_i64 = |v: &[&[usize]]| v.concat().iter().map(|&d| d as i64).collect::<Vec<i64>>();
    let lperm = as_i64(&[&lro, &lo, sum_dims, &ro]);
    let rperm = as_i64(&[&lro, sum_dims, &ro, &lo]);
    let mut out_size: Vec<i64> = lro.iter().chain(&lo).map(|&d| ls[d] as i64).collect();
    out_size.extend(sum_dims.iter().map(|_| 1));
    out_size.extend(ro.iter().map(|&d| rs[d] as i64));
    let mut operm = vec![0i64; lperm.len()];
    for (pos, &d) in lperm.iter().enumerate() {
        operm[d as usize] = pos as i64;
    }
    let l = ops::reshape(&ops::permute(&left, &lperm)?, &[lro_size, lo_size, sum_size])?;
    let r = ops::reshape(&ops::permute(&right, &rperm)?, &[lro_size, sum_size, ro_size])?;
    ops::permute(&ops::view(&ops::bmm(&l, &r)?, &out_size)?, &operm)
}

/// The pair of operands to contract next: `path`'s next two entries, or the first two.
fn next_pair(path: Option<&[i64]>, step: usize, remaining: usize) -> Result<(usize, usize)> {
    let Some(p) = path else { return Ok((0, 1)) };
    let (mut i, mut j) = (p[2 * step], p[2 * step + 1]);
    if j < i {
        std::mem::swap(&mut i, &mut j);
    }
    if i == j || i < 0 || j >= remaining as i64 {
        let why = if i == j {
            ") cannot contract an operand with itself"
        } else {
            ") operand index is out of bounds"
        };
        return Err(err(format!("invalid contraction ({i}, {j}{why}")));
    }
    Ok((i as usize, j as usize))
}

/// Contracts the aligned operands down to one tensor.
fn contract(mut ops_: Vec<Tensor>, layout: &Layout, seen: &mut Seen, path: Option<&[i64]>) -> Result<Tensor> {
    let mut step = 0;
    while ops_.len() > 1 {
        let (i, j) = next_pair(path, step, ops_.len())?;
        step += 1;
        let b = ops_.remove(j);
        let a = ops_.remove(i);
        let (mut sum_dims, mut a_sum, mut b_sum) = (Vec::new(), Vec::new(), Vec::new());
        for d in layout.out_num_dim..layout.total {
            let (sa, sb) = (a.sizes()[d] != 1, b.sizes()[d] != 1);
            if sa && sb {
                if a.sizes()[d] != b.sizes()[d] {
                    return Err(shape_err("non-broadcast dimensions must match"));
                }
                seen.dim_counts[d] -= 1;
                if seen.dim_counts[d] == 1 {
                    sum_dims.push(d);
                    seen.dim_counts[d] = 0;
                }
            } else if seen.dim_counts[d] == 1 && (sa || sb) {
                if sa {
                    a_sum.push(d as i64);
                } else {
                    b_sum.push(d as i64);
                }
                seen.dim_counts[d] = 0;
            }
        }
        let a = if a_sum.is_empty() {
            a
        } else {
            ops::sum_dim(&a, Some(&a_sum), true)?
        };
        let b = if b_sum.is_empty() {
            b
        } else {
            ops::sum_dim(&b, Some(&b_sum), true)?
        };
        let r = sumproduct_pair(&a, &b, &sum_dims)?;
        if path.is_some() {
            ops_.push(r);
        } else {
            ops_.insert(0, r);
        }
    }
    Ok(ops_.remove(0))
}

/// `aten::einsum`: sums the product of the operands' elements over the
/// indices the equation does not keep.
///
/// ```
/// use frankentorch::prelude::*;
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let b = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let r = ops::einsum("ij,j->i", &[a.clone(), b]).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![3.0, 7.0]);
/// assert_eq!(ops::einsum("ii", &[a]).unwrap().to_vec::<f64>().unwrap(), vec![5.0]);
/// ```
pub fn einsum(equation: &str, tensors: &[Tensor], path: Option<&[i64]>) -> Result<Tensor> {
    if tensors.is_empty() {
        return Err(err("must provide at least one operand"));
    }
    let n = tensors.len();
    if let Some(p) = path {
        let want = if n == 1 { 1 } else { (n - 1) * 2 };
        if p.len() != want {
            return Err(err(format!(
                "expected contraction path given in path parameter to have size {want} but got {}",
                p.len()
            )));
        }
    }
    let lhs = equation.find("->").map_or(equation, |p| &equation[..p]);
    let labels = parse_inputs(lhs, n)?;
    let layout = plan_layout(equation, &labels, tensors)?;
    let mut seen = Seen {
        label_size: [1; TOTAL_LABELS],
        ell_sizes: vec![1; layout.ell_num_dim],
        dim_counts: vec![0; layout.total],
    };
    let aligned = tensors
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (t, ls))| align(i, t, ls, &layout, &mut seen))
        .collect::<Result<Vec<_>>>()?;
    let result = contract(aligned, &layout, &mut seen, path)?;
    if layout.total == layout.out_num_dim {
        return Ok(result);
    }
    if n > 1 {
        let sizes: Vec<i64> = result.sizes()[..layout.out_num_dim].iter().map(|&s| s as i64).collect();
        return ops::view(&result, &sizes);
    }
    let dims: Vec<i64> = (layout.out_num_dim as i64..layout.total as i64).collect();
    ops::sum_dim(&result, Some(&dims), false)
}
