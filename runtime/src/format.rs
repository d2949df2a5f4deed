//! `Display` for tensors, reproducing PyTorch's `repr(tensor)` under the
//! default print options.
//!
//! The rules follow `torch/_tensor_str.py`:
//!
//! * One formatter is chosen for the whole tensor (or, when the tensor has
//!   more than [`THRESHOLD`] elements, for the elements that will be shown).
//!   Floating tensors look only at their finite, nonzero values: if all are
//!   integral they print as `1.`; otherwise with [`PRECISION`] decimals; and
//!   in scientific notation (`1.0000e-05`) when the ratio of the largest to
//!   the smallest magnitude exceeds 1000, the largest exceeds 1e8, or (for
//!   non-integral values) the smallest is below 1e-4. Every element is
//!   right-aligned to the widest formatted value.
//! * Summarized tensors show the first and last [`EDGEITEMS`] entries of
//!   every dimension longer than `2 * EDGEITEMS`, with `...` between them.
//! * Rows are wrapped so that they fit [`LINEWIDTH`] columns, counting the
//!   indentation, with `(width + 2)` columns per element.
//! * After the data come the suffixes `size=` (empty tensors not of shape
//!   `(0,)`), `dtype=` (unless the dtype is implied by the data), and
//!   `grad_fn=<...>` or `requires_grad=True`; a suffix that would overflow
//!   the line goes on a new line.

use crate::device::Device;
use crate::dtype::{DType, DEFAULT_DTYPE};
use crate::tensor::Tensor;
use std::fmt;

/// Digits after the decimal point (`torch.set_printoptions(precision=4)`).
const PRECISION: usize = 4;
/// Element count above which a tensor is summarized.
const THRESHOLD: usize = 1000;
/// Entries kept at each end of a summarized dimension.
const EDGEITEMS: usize = 3;
/// Target line width.
const LINEWIDTH: usize = 80;
/// The text before the data; its length is the base indentation.
const PREFIX: &str = "tensor(";

/// The elements of a tensor in row-major order, exactly as Python's
/// `tolist()` would see them (int64 kept exact, bools as bools).
enum Values {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

impl Values {
    fn of(t: &Tensor) -> Values {
        match t.dtype() {
            DType::Bool => Values::Bool(t.to_vec::<bool>().expect("dtype is bool")),
            DType::I64 => Values::Int(t.to_vec::<i64>().expect("dtype is int64")),
            // float16 and bfloat16 are printed through float32 in PyTorch; both
            // widen exactly to f64, so formatting the f64 value is the same.
            d if d.is_floating_point() => Values::Float(t.to_f64_vec()),
            // Narrow integers are exact in f64.
            _ => Values::Int(t.to_f64_vec().into_iter().map(|v| v as i64).collect()),
        }
    }
}

/// Python's `'{:.Ne}'.format(v)` for a finite `v`: mantissa with `N`
/// decimals, and an exponent with a sign and at least two digits.
fn fmt_sci(v: f64) -> String {
    let s = format!("{:.*e}", PRECISION, v);
    let (mantissa, exp) = s.split_once('e').expect("exponent notation has an 'e'");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Python's spelling of a non-finite float (`nan`, `inf`, `-inf`), if `v` is one.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// The per-tensor element formatter (PyTorch's `_Formatter`).
struct Formatter {
    floating: bool,
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
}

impl Formatter {
    /// Builds the formatter from the values that will be displayed.
    fn new(values: &Values, shown: &[usize]) -> Formatter {
        let mut f = Formatter {
            floating: false,
            int_mode: true,
            sci_mode: false,
            max_width: 1,
        };
        match values {
            Values::Int(v) => {
                for &i in shown {
                    f.max_width = f.max_width.max(v[i].to_string().len());
                }
            }
            Values::Bool(v) => {
                for &i in shown {
                    f.max_width = f.max_width.max(if v[i] { 4 } else { 5 });
                }
            }
            Values::Float(v) => {
                f.floating = true;
                let vals: Vec<f64> = shown
                    .iter()
                    .map(|&i| v[i])
                    .filter(|x| x.is_finite() && *x != 0.0)
                    .collect();
                if vals.is_empty() {
                    return f;
                }
                let min = vals.iter().fold(f64::INFINITY, |m, x| m.min(x.abs()));
                let max = vals.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                f.int_mode = vals.iter().all(|x| x.ceil() == *x);
                let wide_range = max / min > 1000.0 || max > 1.0e8;
                f.sci_mode = if f.int_mode {
                    wide_range
                } else {
                    wide_range || min < 1.0e-4
                };
                for &x in &vals {
                    let width = if f.sci_mode {
                        fmt_sci(x).len()
                    } else if f.int_mode {
                        // room for the trailing '.'
                        format!("{x:.0}").len() + 1
                    } else {
                        format!("{:.*}", PRECISION, x).len()
                    };
                    f.max_width = f.max_width.max(width);
                }
            }
        }
        f
    }

    /// Column width of one formatted element.
    fn width(&self) -> usize {
        self.max_width
    }

    /// Formats element `i`, right-aligned to the common width.
    fn format(&self, values: &Values, i: usize) -> String {
        let s = match values {
            Values::Int(v) => v[i].to_string(),
            Values::Bool(v) => if v[i] { "True" } else { "False" }.to_string(),
            Values::Float(v) => {
                debug_assert!(self.floating);
                let x = v[i];
                match non_finite(x) {
                    Some(s) => s.to_string(),
                    None if self.sci_mode => fmt_sci(x),
                    None if self.int_mode => format!("{x:.0}."),
                    None => format!("{:.*}", PRECISION, x),
                }
            }
        };
        format!("{s:>width$}", width = self.max_width)
    }
}

/// The indices shown along a dimension of length `n`: all of them, or when
/// summarizing a long dimension the edges with `None` standing for `...`.
fn shown_indices(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGEITEMS {
        (0..EDGEITEMS)
            .map(Some)
            .chain([None])
            .chain((n - EDGEITEMS..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// Row-major strides of a contiguous tensor with `sizes`.
fn row_major_strides(sizes: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; sizes.len()];
    for d in (0..sizes.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * sizes[d + 1];
    }
    strides
}

/// Renders the (non-empty) data of a tensor, brackets included.
struct Printer<'a> {
    values: &'a Values,
    sizes: &'a [usize],
    strides: Vec<usize>,
    summarize: bool,
    formatter: Formatter,
}

impl Printer<'_> {
    /// Flat indices of every displayed element, in row-major order (the
    /// elements of PyTorch's `get_summarized_data`).
    fn collect_shown(sizes: &[usize], strides: &[usize], summarize: bool, base: usize, out: &mut Vec<usize>) {
        match sizes.split_first() {
            None => out.push(base),
            Some((&n, rest)) => {
                for i in shown_indices(n, summarize).into_iter().flatten() {
                    Printer::collect_shown(rest, &strides[1..], summarize, base + i * strides[0], out);
                }
            }
        }
    }

    /// PyTorch's `_tensor_str_with_formatter` for dimensions `dim..` starting at
    /// flat index `base`, with `indent` columns before the opening bracket.
    fn render(&self, dim: usize, base: usize, indent: usize) -> String {
        let ndim = self.sizes.len();
        if dim == ndim {
            return self.formatter.format(self.values, base);
        }
        let n = self.sizes[dim];
        let stride = self.strides[dim];
        let shown = shown_indices(n, self.summarize);
        if dim + 1 == ndim {
            let element_len = self.formatter.width() + 2;
            let per_line = (LINEWIDTH.saturating_sub(indent) / element_len).max(1);
            let items: Vec<String> = shown
                .iter()
                .map(|i| match i {
                    Some(i) => self.formatter.format(self.values, base + i * stride),
                    None => " ...".to_string(),
                })
                .collect();
            let lines: Vec<String> = items.chunks(per_line).map(|c| c.join(", ")).collect();
            let sep = format!(",\n{}", " ".repeat(indent + 1));
            return format!("[{}]", lines.join(&sep));
        }
        let slices: Vec<String> = shown
            .iter()
            .map(|i| match i {
                Some(i) => self.render(dim + 1, base + i * stride, indent + 1),
                None => "...".to_string(),
            })
            .collect();
        let sep = format!(",{}{}", "\n".repeat(ndim - dim - 1), " ".repeat(indent + 1));
        format!("[{}]", slices.join(&sep))
    }
}

/// PyTorch's `_tensor_str`: the data part of the repr.
fn tensor_str(t: &Tensor, indent: usize) -> String {
    if t.numel() == 0 {
        return "[]".to_string();
    }
    let values = Values::of(t);
    let sizes = t.sizes();
    let strides = row_major_strides(sizes);
    let summarize = t.numel() > THRESHOLD;
    let mut shown = Vec::new();
    Printer::collect_shown(sizes, &strides, summarize, 0, &mut shown);
    let formatter = Formatter::new(&values, &shown);
    let printer = Printer {
        values: &values,
        sizes,
        strides,
        summarize,
        formatter,
    };
    printer.render(0, 0, indent)
}

/// Python's `str(tuple(sizes))`: `(2, 0)`, `(0,)`, `()`.
fn python_tuple(sizes: &[usize]) -> String {
    match sizes {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// PyTorch's `_add_suffixes`: appends `, suffix` to the text, moving a suffix
/// to its own indented line when it would overflow the line width.
fn add_suffixes(text: &str, suffixes: &[String], indent: usize) -> String {
    let mut out = text.to_string();
    // PyTorch measures `len(s) - s.rfind("\n") + 1`, i.e. the last line plus two.
    let last_line_start = text.rfind('\n').map_or(0, |i| i + 1);
    let mut last_line_len = text.len() - last_line_start + 2;
    for suffix in suffixes {
        if last_line_len + suffix.len() + 2 > LINEWIDTH {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
            out.push_str(suffix);
            last_line_len = indent + suffix.len();
        } else {
            out.push_str(", ");
            out.push_str(suffix);
            last_line_len += suffix.len() + 2;
        }
    }
    out.push(')');
    out
}

/// PyTorch's `repr(tensor)` with the default print options (precision 4,
/// threshold 1000, edgeitems 3, linewidth 80, automatic scientific notation).
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1.0f32, 2.5, -3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(t.to_string(), "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])");
///
/// let i = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
/// assert_eq!(format!("{i}"), "tensor([1, 2, 3], dtype=torch.int32)");
///
/// let e = Tensor::zeros_contiguous(&[2, 0], DType::I64);
/// assert_eq!(e.to_string(), "tensor([], size=(2, 0), dtype=torch.int64)");
/// ```
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indent = PREFIX.len();
        let mut suffixes = Vec::new();
        if self.device() != Device::default() {
            suffixes.push(format!("device='{}'", self.device()));
        }
        let body = if self.numel() == 0 {
            if self.dim() != 1 {
                suffixes.push(format!("size={}", python_tuple(self.sizes())));
            }
            // An empty tensor has no elements to imply int64 or bool.
            if self.dtype() != DEFAULT_DTYPE {
                suffixes.push(format!("dtype={}", self.dtype()));
            }
            "[]".to_string()
        } else {
            if !matches!(self.dtype(), DEFAULT_DTYPE | DType::I64 | DType::Bool) {
                suffixes.push(format!("dtype={}", self.dtype()));
            }
            tensor_str(self, indent)
        };
        match self.grad_fn() {
            Some(node) => {
                let name = node.name();
                let short = name.rsplit("::").next().unwrap_or(&name);
                suffixes.push(format!("grad_fn=<{short}>"));
            }
            None if self.requires_grad() => suffixes.push("requires_grad=True".to_string()),
            None => {}
        }
        f.write_str(&add_suffixes(&format!("{PREFIX}{body}"), &suffixes, indent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::{set_history, BackwardCtx, BackwardFn, Grads, Node};
    use crate::Result;
    use half::{bf16, f16};

    fn t<T: crate::Element>(data: Vec<T>, sizes: &[usize]) -> Tensor {
        Tensor::from_vec(data, sizes).unwrap()
    }
    fn f32s(data: &[f32]) -> Tensor {
        t(data.to_vec(), &[data.len()])
    }

    #[test]
    fn format_integral_floats() {
        assert_eq!(f32s(&[1.0, 2.0, 3.0]).to_string(), "tensor([1., 2., 3.])");
        assert_eq!(f32s(&[-1.0, 2.0]).to_string(), "tensor([-1.,  2.])");
        assert_eq!(f32s(&[0.0, 0.0]).to_string(), "tensor([0., 0.])");
        assert_eq!(f32s(&[0.0, -1.0, 10.0]).to_string(), "tensor([ 0., -1., 10.])");
        assert_eq!(f32s(&[-0.0, 1.0]).to_string(), "tensor([-0., 1.])");
    }

    #[test]
    fn format_fixed_point() {
        assert_eq!(f32s(&[1.5, 2.25]).to_string(), "tensor([1.5000, 2.2500])");
        assert_eq!(
            f32s(&[-1.5, 12.25, 0.0]).to_string(),
            "tensor([-1.5000, 12.2500,  0.0000])"
        );
        // Ties round half to even on the exact binary value, as Python does.
        assert_eq!(f32s(&[1.03125, 1.09375]).to_string(), "tensor([1.0312, 1.0938])");
        // float32 values are printed through their exact f64 value.
        assert_eq!(f32s(&[0.1, 0.2]).to_string(), "tensor([0.1000, 0.2000])");
    }

    #[test]
    fn format_integers_and_bools() {
        assert_eq!(t(vec![1i64, 2, 3], &[3]).to_string(), "tensor([1, 2, 3])");
        assert_eq!(t(vec![-5i64, 10, 300], &[3]).to_string(), "tensor([ -5,  10, 300])");
        assert_eq!(t(vec![true, false], &[2]).to_string(), "tensor([ True, False])");
        assert_eq!(t(vec![true, true], &[2]).to_string(), "tensor([True, True])");
        assert_eq!(t(vec![1i32, 2], &[2]).to_string(), "tensor([1, 2], dtype=torch.int32)");
        assert_eq!(
            t(vec![255u8, 0], &[2]).to_string(),
            "tensor([255,   0], dtype=torch.uint8)"
        );
        assert_eq!(t(vec![-128i8], &[1]).to_string(), "tensor([-128], dtype=torch.int8)");
        // int64 values are exact even beyond 2^53.
        assert_eq!(t(vec![i64::MAX], &[1]).to_string(), "tensor([9223372036854775807])");
    }

    #[test]
    fn format_zero_dim() {
        assert_eq!(t(vec![1.0f32], &[]).to_string(), "tensor(1.)");
        assert_eq!(t(vec![3i64], &[]).to_string(), "tensor(3)");
        assert_eq!(t(vec![2.5f32], &[]).to_string(), "tensor(2.5000)");
        assert_eq!(t(vec![0.0f32], &[]).to_string(), "tensor(0.)");
        assert_eq!(t(vec![f32::NAN], &[]).to_string(), "tensor(nan)");
        assert_eq!(t(vec![true], &[]).to_string(), "tensor(True)");
        assert_eq!(t(vec![1.0f64], &[]).to_string(), "tensor(1., dtype=torch.float64)");
        assert_eq!(t(vec![1e-5f32], &[]).to_string(), "tensor(1.0000e-05)");
    }

    #[test]
    fn format_empty() {
        assert_eq!(Tensor::zeros_contiguous(&[0], DType::F32).to_string(), "tensor([])");
        assert_eq!(
            Tensor::zeros_contiguous(&[2, 0], DType::F32).to_string(),
            "tensor([], size=(2, 0))"
        );
        assert_eq!(
            Tensor::zeros_contiguous(&[0], DType::I32).to_string(),
            "tensor([], dtype=torch.int32)"
        );
        // Unlike non-empty tensors, empty int64 and bool tensors show their dtype.
        assert_eq!(
            Tensor::zeros_contiguous(&[0], DType::I64).to_string(),
            "tensor([], dtype=torch.int64)"
        );
        assert_eq!(
            Tensor::zeros_contiguous(&[0], DType::Bool).to_string(),
            "tensor([], dtype=torch.bool)"
        );
        assert_eq!(
            Tensor::zeros_contiguous(&[1, 0, 3], DType::F64).to_string(),
            "tensor([], size=(1, 0, 3), dtype=torch.float64)"
        );
    }

    #[test]
    fn format_dtype_suffix() {
        assert_eq!(
            t(vec![1.0f64, 2.0], &[2]).to_string(),
            "tensor([1., 2.], dtype=torch.float64)"
        );
        let h = t(vec![f16::from_f32(0.5), f16::from_f32(-2.0)], &[2]);
        assert_eq!(h.to_string(), "tensor([ 0.5000, -2.0000], dtype=torch.float16)");
        let b = t(vec![bf16::from_f32(3.0)], &[1]);
        assert_eq!(b.to_string(), "tensor([3.], dtype=torch.bfloat16)");
        assert_eq!(t(vec![7i16], &[1]).to_string(), "tensor([7], dtype=torch.int16)");
    }

    #[test]
    fn format_multi_dim() {
        let m = t(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(m.to_string(), "tensor([[1., 2.],\n        [3., 4.]])");
        let c = Tensor::zeros_contiguous(&[2, 2, 2], DType::F32);
        assert_eq!(
            c.to_string(),
            "tensor([[[0., 0.],\n         [0., 0.]],\n\n        [[0., 0.],\n         [0., 0.]]])"
        );
        let i = t((0i64..6).collect(), &[1, 2, 3]);
        assert_eq!(i.to_string(), "tensor([[[0, 1, 2],\n         [3, 4, 5]]])");
        let r = t(vec![0i64; 2], &[1, 1, 1, 2]);
        assert_eq!(r.to_string(), "tensor([[[[0, 0]]]])");
    }

    #[test]
    fn format_non_contiguous_view() {
        let base = t((1i64..=6).collect(), &[2, 3]);
        let tr = base.as_view(&[3, 2], &[1, 3], 0).unwrap();
        assert_eq!(tr.to_string(), "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])");
        let strided = base.as_view(&[3], &[2], 1).unwrap();
        assert_eq!(strided.to_string(), "tensor([2, 4, 6])");
    }

    #[test]
    fn format_scientific() {
        assert_eq!(f32s(&[1e-5, 1.0]).to_string(), "tensor([1.0000e-05, 1.0000e+00])");
        assert_eq!(f32s(&[1.0, 10000.0]).to_string(), "tensor([1.0000e+00, 1.0000e+04])");
        assert_eq!(f32s(&[1e9]).to_string(), "tensor([1.0000e+09])");
        assert_eq!(f32s(&[-1e-5, 1.0]).to_string(), "tensor([-1.0000e-05,  1.0000e+00])");
        assert_eq!(
            t(vec![1e-300f64, 1e300], &[2]).to_string(),
            "tensor([1.0000e-300, 1.0000e+300], dtype=torch.float64)"
        );
        // A ratio of exactly 1000 stays fixed.
        assert_eq!(f32s(&[1.0, 1000.0]).to_string(), "tensor([   1., 1000.])");
        assert_eq!(f32s(&[0.5, 500.0]).to_string(), "tensor([  0.5000, 500.0000])");
        // nan and inf never trigger or widen scientific notation.
        assert_eq!(f32s(&[f32::NAN, 1e-5]).to_string(), "tensor([       nan, 1.0000e-05])");
    }

    #[test]
    fn format_non_finite() {
        assert_eq!(
            f32s(&[1.0, f32::INFINITY, f32::NAN]).to_string(),
            "tensor([1., inf, nan])"
        );
        assert_eq!(f32s(&[f32::NAN, 1.5]).to_string(), "tensor([   nan, 1.5000])");
        assert_eq!(
            f32s(&[f32::NEG_INFINITY, 0.0, 1.0]).to_string(),
            "tensor([-inf, 0., 1.])"
        );
        assert_eq!(f32s(&[f32::NAN, f32::INFINITY]).to_string(), "tensor([nan, inf])");
        assert_eq!(f32s(&[-f32::NAN]).to_string(), "tensor([nan])");
    }

    #[test]
    fn format_line_wrapping() {
        let a = t((0i64..30).collect(), &[30]);
        assert_eq!(
            a.to_string(),
            "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])"
        );
        // torch.manual_seed(0); torch.rand(10)
        let r = f32s(&[
            0.4963, 0.7682, 0.0885, 0.1320, 0.3074, 0.6341, 0.4901, 0.8964, 0.4556, 0.6323,
        ]);
        assert_eq!(
            r.to_string(),
            "tensor([0.4963, 0.7682, 0.0885, 0.1320, 0.3074, 0.6341, 0.4901, 0.8964, 0.4556,\n        0.6323])"
        );
        // Nested rows have more indentation, so fewer elements may fit:
        // 24 one-digit elements per line at indent 8, 23 at indent 9.
        let zeros = |n: usize| vec!["0"; n].join(", ");
        let m = Tensor::zeros_contiguous(&[2, 30], DType::I64);
        let row = format!("[{},\n         {}]", zeros(24), zeros(6));
        assert_eq!(m.to_string(), format!("tensor([{row},\n        {row}])"));
        let c = Tensor::zeros_contiguous(&[1, 1, 30], DType::I64);
        assert_eq!(
            c.to_string(),
            format!("tensor([[[{},\n          {}]]])", zeros(23), zeros(7))
        );
    }

    #[test]
    fn format_summarized() {
        let a = t((0i64..2000).collect(), &[2000]);
        assert_eq!(a.to_string(), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
        let z = Tensor::zeros_contiguous(&[40, 40], DType::F32);
        let row = "[0., 0., 0.,  ..., 0., 0., 0.]";
        let expected = format!(
            "tensor([{row},\n        {row},\n        {row},\n        ...,\n        {row},\n        {row},\n        {row}])"
        );
        assert_eq!(z.to_string(), expected);
        let wide = t((0i64..2000).collect(), &[1, 2000]);
        assert_eq!(wide.to_string(), "tensor([[   0,    1,    2,  ..., 1997, 1998, 1999]])");
        // Exactly the threshold is not summarized.
        let full = t(vec![0i64; 1000], &[1000]);
        assert!(!full.to_string().contains("..."));
        // The formatter only looks at the displayed elements.
        let mut v = vec![0.5f32; 2000];
        for i in [0, 1, 2, 1997, 1998, 1999] {
            v[i] = 1.0;
        }
        assert_eq!(f32s(&v).to_string(), "tensor([1., 1., 1.,  ..., 1., 1., 1.])");
    }

    #[test]
    fn format_summarized_3d() {
        let c = t((0i64..8 * 2 * 100).collect(), &[8, 2, 100]);
        let s = c.to_string();
        let expected_start = "tensor([[[   0,    1,    2,  ...,   97,   98,   99],\n         [ 100,  101,  102,  ...,  197,  198,  199]],\n\n        [[ 200,";
        assert!(s.starts_with(expected_start), "{s}");
        assert!(s.contains("  599]],\n\n        ...,\n\n        [[1000, 1001,"), "{s}");
        assert!(s.ends_with("[1500, 1501, 1502,  ..., 1597, 1598, 1599]]])"), "{s}");
    }

    #[test]
    fn format_requires_grad_suffix() {
        let x = f32s(&[1.0, 2.0]);
        x.requires_grad_(true).unwrap();
        assert_eq!(x.to_string(), "tensor([1., 2.], requires_grad=True)");
        let y = t(vec![1.0f64, 2.0], &[2]);
        y.requires_grad_(true).unwrap();
        assert_eq!(
            y.to_string(),
            "tensor([1., 2.], dtype=torch.float64, requires_grad=True)"
        );
        let s = t(vec![0.5f32], &[]);
        s.requires_grad_(true).unwrap();
        assert_eq!(s.to_string(), "tensor(0.5000, requires_grad=True)");
    }

    struct Dummy(&'static str);
    impl BackwardFn for Dummy {
        fn name(&self) -> String {
            self.0.to_string()
        }
        fn apply(&self, _ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
            Ok(grads.to_vec())
        }
    }

    #[test]
    fn format_grad_fn_suffix() {
        let y = f32s(&[2.0, 4.0]);
        set_history(&y, &Node::new(Dummy("MulBackward0"), vec![]));
        assert_eq!(y.to_string(), "tensor([2., 4.], grad_fn=<MulBackward0>)");
        let z = t(vec![3.0f64], &[]);
        set_history(&z, &Node::new(Dummy("AddBackward0"), vec![]));
        assert_eq!(z.to_string(), "tensor(3., dtype=torch.float64, grad_fn=<AddBackward0>)");
        let e = Tensor::zeros_contiguous(&[0], DType::F32);
        set_history(&e, &Node::new(Dummy("torch::autograd::CopySlices"), vec![]));
        assert_eq!(e.to_string(), "tensor([], grad_fn=<CopySlices>)");
    }

    #[test]
    fn format_suffix_wrapping() {
        let vals: [f32; 9] = [0.4963, 0.7682, 0.0885, 0.1320, 0.3074, 0.6341, 0.4901, 0.8964, 0.4556];
        let data = "[0.4963, 0.7682, 0.0885, 0.1320, 0.3074, 0.6341, 0.4901, 0.8964, 0.4556]";
        let x = t(vals.iter().map(|&v| v as f64).collect(), &[9]);
        x.requires_grad_(true).unwrap();
        assert_eq!(
            x.to_string(),
            format!("tensor({data},\n       dtype=torch.float64, requires_grad=True)")
        );
        let y = t(vals.to_vec(), &[9]);
        y.requires_grad_(true).unwrap();
        assert_eq!(y.to_string(), format!("tensor({data},\n       requires_grad=True)"));
        // The last line of a multi-line tensor decides.
        let m = t(vec![1.5f32; 18], &[2, 9]);
        m.requires_grad_(true).unwrap();
        let row = "[1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000]";
        assert_eq!(
            m.to_string(),
            format!("tensor([{row},\n        {row}],\n       requires_grad=True)")
        );
        // Short enough: stays on the line.
        let s = t(vec![1.5f32; 6], &[6]);
        s.requires_grad_(true).unwrap();
        assert_eq!(
            s.to_string(),
            "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000], requires_grad=True)"
        );
    }

    #[test]
    fn format_debug_matches_display() {
        let x = f32s(&[1.0]);
        assert_eq!(format!("{x:?}"), "tensor([1.])");
    }
}
