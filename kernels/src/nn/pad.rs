//! Reflection and replication padding (1-D, 2-D, 3-D) and their backward ops.
//!
//! Padding is a gather: each output position of a spatial dim reads one input
//! position, given by a per-dim index map (reflected or clamped). The maps of
//! the three widened dims are separable, so the gather is three nested loops
//! over precomputed maps. The backward op scatter-adds through the same maps.

use super::{fmt, not_implemented, read_vec, split_planes, tensor_of, widen3, Real};
use crate::iter::{dispatch_float, OpMath};
use ft_runtime::{dispatch_dtype, DType, Element, Error, Result, Tensor};

/// How out-of-range positions are mapped back into the input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Mirror around the edge element (the edge is not repeated).
    Reflect,
    /// Repeat the edge element.
    Replicate,
}

/// One padding op: its ATen name, mode and number of spatial dims.
struct PadOp {
    name: &'static str,
    kernel: &'static str,
    mode: Mode,
    k: usize,
}

/// The validated geometry of a padding call.
struct Geometry {
    planes: usize,
    in3: [usize; 3],
    out3: [usize; 3],
    /// Output sizes of the whole tensor.
    out_sizes: Vec<usize>,
    /// Per widened dim: output position -> input position.
    maps: [Vec<usize>; 3],
}

/// Input position read by output position `o` of a dim of size `n` padded by `before`.
fn source(mode: Mode, o: usize, n: usize, before: i64) -> usize {
    let i = o as i64 - before;
    let last = n as i64 - 1;
    let j = match mode {
        Mode::Reflect if i < 0 => -i,
        Mode::Reflect if i > last => 2 * last - i,
        Mode::Reflect => i,
        Mode::Replicate => i.clamp(0, last),
    };
    j as usize
}

/// Spatial names used in PyTorch's messages for the last `k` dims.
fn dim_names(k: usize) -> &'static [&'static str] {
    &["D", "H", "W"][3 - k..]
}

impl PadOp {
    /// Checks `self_` and `padding` like PyTorch and computes the geometry.
    fn geometry(&self, self_: &Tensor, padding: &[i64]) -> Result<Geometry> {
        let (op, k) = (self.name, self.k);
        if padding.len() != 2 * k {
            return Err(Error::invalid(
                op,
                format!("padding size is expected to be {}, but got: {}", 2 * k, padding.len()),
            ));
        }
        let sizes = self_.sizes();
        let dim = sizes.len();
        let first_nonzero = if dim == k + 2 { 1 } else { 0 };
        if (dim != k + 1 && dim != k + 2) || sizes[first_nonzero..].contains(&0) {
            return Err(Error::shape(
                op,
                format!(
                    "Expected {}D or {}D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {}",
                    k + 1,
                    k + 2,
                    fmt(sizes)
                ),
            ));
        }
        // padding is given last dim first: (w_before, w_after, h_before, ...).
        let spatial = &sizes[dim - k..];
        let pads: Vec<(i64, i64)> = (0..k)
            .map(|i| (padding[2 * (k - 1 - i)], padding[2 * (k - 1 - i) + 1]))
            .collect();
        if self.mode == Mode::Reflect {
            for (i, (&n, &(b, a))) in spatial.iter().zip(&pads).enumerate() {
                if b >= n as i64 || a >= n as i64 {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding ({b}, {a}) at dimension {} of input {}",
                            dim - k + i,
                            fmt(sizes)
                        ),
                    ));
                }
            }
        }
        let outs: Vec<i64> = spatial
            .iter()
            .zip(&pads)
            .map(|(&n, &(b, a))| n as i64 + b + a)
            .collect();
        if outs.iter().any(|&o| o < 1) {
            return Err(self.too_small(spatial, &outs));
        }
        let out_spatial: Vec<usize> = outs.iter().map(|&o| o as usize).collect();
        let (planes, _) = split_planes(sizes, k);
        let mut out_sizes = sizes[..dim - k].to_vec();
        out_sizes.extend_from_slice(&out_spatial);
        let (in3, out3) = (widen3(spatial), widen3(&out_spatial));
        let mut pads3 = [0i64; 3];
        for (i, &(b, _)) in pads.iter().enumerate() {
            pads3[3 - k + i] = b;
        }
        let maps = [0, 1, 2].map(|d| {
            (0..out3[d])
                .map(|o| source(self.mode, o, in3[d], pads3[d]))
                .collect::<Vec<_>>()
        });
        Ok(Geometry {
            planes,
            in3,
            out3,
            out_sizes,
            maps,
        })
    }

    /// PyTorch's "too small" message for a non-positive output size.
    fn too_small(&self, spatial: &[usize], outs: &[i64]) -> Error {
        let names = dim_names(self.k);
        let input: Vec<String> = names.iter().zip(spatial).map(|(n, s)| format!("{n}: {s}")).collect();
        let output: Vec<String> = names.iter().zip(outs).map(|(n, s)| format!("{n}: {s}")).collect();
        let msg = if self.mode == Mode::Reflect {
            format!(
                "input ({}) is too small. Calculated output {}",
                input.join(" "),
                output.join(" ")
            )
        } else {
            format!(
                "Calculated output {} must be >= 1 in every dimension (input {})",
                output.join(" "),
                input.join(", ")
            )
        };
        Error::invalid(self.name, msg)
    }

    /// The forward op: gathers every output element from the input.
    fn forward(&self, self_: &Tensor, padding: &[i64]) -> Result<Tensor> {
        let g = self.geometry(self_, padding)?;
        if self_.dtype() == DType::Bool {
            return Err(not_implemented(self.name, self.kernel, DType::Bool));
        }
        dispatch_dtype!(self_.dtype(), T => tensor_of(gather::<T>(&read_vec::<T>(self_)?, &g), &g.out_sizes))
    }

    /// The backward op: scatter-adds `grad_output` into a zero gradient of `self_`'s shape.
    fn backward(&self, grad_output: &Tensor, self_: &Tensor, padding: &[i64]) -> Result<Tensor> {
        let op = self.name;
        let g = self.geometry(self_, padding)?;
        if grad_output.sizes() != g.out_sizes.as_slice() {
            return Err(Error::shape(
                op,
                format!(
                    "grad_output has shape {} but the padded input has shape {}",
                    fmt(grad_output.sizes()),
                    fmt(&g.out_sizes)
                ),
            ));
        }
        if grad_output.dtype() != self_.dtype() {
            return Err(Error::dtype(
                op,
                format!(
                    "expected scalar type {} but found {}",
                    self_.dtype().scalar_type_name(),
                    grad_output.dtype().scalar_type_name()
                ),
            ));
        }
        dispatch_float!(self_.dtype(), T => {
            let go = read_vec::<T>(grad_output)?;
            tensor_of(scatter::<T>(&go, &g), self_.sizes())
        }, _ => Err(not_implemented(op, self.kernel, self_.dtype())))
    }
}

/// `out[p, d, h, w] = in[p, map_d[d], map_h[h], map_w[w]]`.
fn gather<T: Element>(x: &[T], g: &Geometry) -> Vec<T> {
    let [id, ih, iw] = g.in3;
    let plane_in = id * ih * iw;
    let mut out = Vec::with_capacity(g.planes * g.out3.iter().product::<usize>());
    for p in 0..g.planes {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        for &sd in &g.maps[0] {
            for &sh in &g.maps[1] {
                let row = &plane[(sd * ih + sh) * iw..(sd * ih + sh + 1) * iw];
                out.extend(g.maps[2].iter().map(|&sw| row[sw]));
            }
        }
    }
    out
}

/// The adjoint of [`gather`]: sums `go` into the input positions each output
/// read, in output order. Like PyTorch, the running sums are kept in the
/// element type (each add of a float16/bfloat16 is rounded).
fn scatter<T: OpMath>(go: &[T], g: &Geometry) -> Vec<T>
where
    T::Acc: Real,
{
    let [id, ih, iw] = g.in3;
    let plane_in = id * ih * iw;
    let mut acc = vec![T::narrow(<T::Acc as Real>::ZERO); g.planes * plane_in];
    let mut src = go.iter();
    for p in 0..g.planes {
        let plane = &mut acc[p * plane_in..(p + 1) * plane_in];
        for &sd in &g.maps[0] {
            for &sh in &g.maps[1] {
                let row = &mut plane[(sd * ih + sh) * iw..(sd * ih + sh + 1) * iw];
                for &sw in &g.maps[2] {
                    let v = src.next().expect("grad_output has the padded shape").widen();
                    row[sw] = T::narrow(row[sw].widen() + v);
                }
            }
        }
    }
    acc
}

macro_rules! pad_ops {
    ($($fwd:ident, $bwd:ident, $name:literal, $mode:ident, $k:literal);* $(;)?) => {$(
        #[doc = concat!("`aten::", $name, "`: pads the last ", $k, " dim(s) of `self_` (",
            stringify!($mode), " mode); `padding` lists (before, after) pairs, last dim first.")]
        ///
        /// ```
        /// use ft_runtime::Tensor;
        /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[1, 3]).unwrap();
        /// let y = ft_kernels::nn::pad::reflection_pad1d(&x, &[2, 1]).unwrap();
        /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
        /// let r = ft_kernels::nn::pad::replication_pad2d(&Tensor::from_vec(vec![5i64], &[1, 1, 1]).unwrap(), &[1, 0, 0, 1]).unwrap();
        /// assert_eq!(r.to_vec::<i64>().unwrap(), vec![5, 5, 5, 5]);
        /// ```
        pub fn $fwd(self_: &Tensor, padding: &[i64]) -> Result<Tensor> {
            PadOp { name: concat!("aten::", $name), kernel: $name, mode: Mode::$mode, k: $k }.forward(self_, padding)
        }

        #[doc = concat!("`aten::", $name, "_backward`: the gradient of `", $name,
            "` with respect to `self_`, summing `grad_output` over the positions each input element was copied to.")]
        pub fn $bwd(grad_output: &Tensor, self_: &Tensor, padding: &[i64]) -> Result<Tensor> {
            PadOp { name: concat!("aten::", $name, "_backward"), kernel: concat!($name, "_backward"), mode: Mode::$mode, k: $k }
                .backward(grad_output, self_, padding)
        }
    )*};
}

pad_ops! {
    reflection_pad1d, reflection_pad1d_backward, "reflection_pad1d", Reflect, 1;
    reflection_pad2d, reflection_pad2d_backward, "reflection_pad2d", Reflect, 2;
    reflection_pad3d, reflection_pad3d_backward, "reflection_pad3d", Reflect, 3;
    replication_pad1d, replication_pad1d_backward, "replication_pad1d", Replicate, 1;
    replication_pad2d, replication_pad2d_backward, "replication_pad2d", Replicate, 2;
    replication_pad3d, replication_pad3d_backward, "replication_pad3d", Replicate, 3;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::ErrorKind;

    #[test]
    fn reflect_and_replicate_maps() {
        let r: Vec<usize> = (0..8).map(|o| source(Mode::Reflect, o, 4, 2)).collect();
        assert_eq!(r, vec![2, 1, 0, 1, 2, 3, 2, 1]);
        let c: Vec<usize> = (0..7).map(|o| source(Mode::Replicate, o, 3, 2)).collect();
        assert_eq!(c, vec![0, 0, 0, 1, 2, 2, 2]);
        // negative padding crops
        assert_eq!(source(Mode::Reflect, 0, 5, -1), 1);
    }

    #[test]
    fn pad2d_values_and_backward_counts() {
        let x = Tensor::from_vec((0..6).map(|v| v as f64).collect::<Vec<_>>(), &[1, 2, 3]).unwrap();
        let y = reflection_pad2d(&x, &[1, 1, 1, 0]).unwrap();
        assert_eq!(y.sizes(), &[1, 3, 5]);
        assert_eq!(
            y.to_vec::<f64>().unwrap(),
            vec![4., 3., 4., 5., 4., 1., 0., 1., 2., 1., 4., 3., 4., 5., 4.]
        );
        let ones = Tensor::from_vec(vec![1.0f64; 15], &[1, 3, 5]).unwrap();
        let g = reflection_pad2d_backward(&ones, &x, &[1, 1, 1, 0]).unwrap();
        // how many output positions read each input element
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![1., 3., 1., 2., 6., 2.]);
        let z = replication_pad3d(
            &Tensor::from_vec(vec![7u8], &[1, 1, 1, 1]).unwrap(),
            &[1, 1, 0, 0, 1, 0],
        )
        .unwrap();
        assert_eq!(
            (z.sizes(), z.to_vec::<u8>().unwrap()),
            (&[1usize, 2, 1, 3][..], vec![7u8; 6])
        );
    }

    #[test]
    fn pad_errors() {
        let x = Tensor::zeros_contiguous(&[2, 5], DType::F32);
        assert_eq!(
            reflection_pad1d(&x, &[5, 0]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            reflection_pad1d(&x, &[1]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            reflection_pad1d(&x, &[-3, -3]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let e = reflection_pad1d(&Tensor::zeros_contiguous(&[3, 0], DType::F32), &[1, 1]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        let b = Tensor::zeros_contiguous(&[2, 3, 3], DType::Bool);
        assert_eq!(
            replication_pad2d(&b, &[1, 1, 1, 1]).unwrap_err().kind(),
            ErrorKind::DType
        );
        let i = Tensor::zeros_contiguous(&[2, 3], DType::I64);
        let gi = Tensor::zeros_contiguous(&[2, 5], DType::I64);
        assert_eq!(
            reflection_pad1d_backward(&gi, &i, &[1, 1]).unwrap_err().kind(),
            ErrorKind::DType
        );
        let g = Tensor::zeros_contiguous(&[2, 6], DType::F32);
        assert_eq!(
            reflection_pad1d_backward(&g, &x, &[1, 1]).unwrap_err().kind(),
            ErrorKind::ShapeMismatch
        );
    }
}
