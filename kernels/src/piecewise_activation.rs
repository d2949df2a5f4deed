//! Piecewise activations and their backward kernels: `threshold` (every
//! dtype but bool), `hardsigmoid` and `hardswish` (floating dtypes).
//!
//! `threshold` compares in the compute type with the threshold converted as
//! PyTorch passes it (float32 for float16/bfloat16, truncated for integers).

use crate::activation::{float_map, float_map2};
use crate::copy::{check_scalar_fits, scalar_to_elem};
use crate::iter::{self, Elementwise, OpMath, Spec};
use crate::pointwise::not_implemented;
use ft_runtime::{dispatch_dtype, DType, Result, Scalar, Tensor};

/// `value` where `self <= threshold`, else `self` (same dtype as `self`).
///
/// ```
/// use ft_kernels::piecewise_activation::threshold;
/// use ft_runtime::{Scalar, Tensor};
/// let x = Tensor::from_vec(vec![-2i8, 0, 1, 3], &[4]).unwrap();
/// let r = threshold(&x, Scalar::Float(1.5), Scalar::Float(-1.5)).unwrap();
/// assert_eq!(r.to_vec::<i8>().unwrap(), vec![-1, -1, -1, 3]);
/// ```
pub fn threshold(self_: &Tensor, threshold: Scalar, value: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::threshold";
    let dtype = self_.dtype();
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "threshold_cpu", dtype));
    }
    check_scalar_fits(OP, threshold, dtype.opmath())?;
    check_scalar_fits(OP, value, dtype)?;
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_],
        dtype,
        out: None,
    })?;
    let (o, x) = (ew.output(), ew.input(0));
    dispatch_dtype!(dtype, T => threshold_typed::<T>(o, x, threshold, value))?;
    ew.finish()
}

fn threshold_typed<T: OpMath>(o: &Tensor, x: &Tensor, threshold: Scalar, value: Scalar) -> Result<()> {
    let t = T::acc_from_scalar(threshold);
    let v: T = scalar_to_elem(value);
    iter::map1(o, x, move |x: T| if x.widen() <= t { v } else { x })
}

/// Hardsigmoid: `min(max(x + 3, 0), 6) / 6`.
///
/// ```
/// use ft_kernels::piecewise_activation::hardsigmoid;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-4.0f32, 0.0, 1.5, 9.0], &[4]).unwrap();
/// assert_eq!(hardsigmoid(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 0.5, 0.75, 1.0]);
/// ```
pub fn hardsigmoid(self_: &Tensor) -> Result<Tensor> {
    float_map("aten::hardsigmoid", "hardsigmoid_cpu", self_, |x| {
        (x + 3.0).clamp(0.0, 6.0) / 6.0
    })
}

/// Hardsigmoid's gradient: `grad_output / 6` where `-3 < self < 3`, else 0.
///
/// ```
/// use ft_kernels::piecewise_activation::hardsigmoid_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![6.0f64, 6.0], &[2]).unwrap();
/// let x = Tensor::from_vec(vec![0.0f64, 3.0], &[2]).unwrap();
/// assert_eq!(hardsigmoid_backward(&g, &x).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 0.0]);
/// ```
pub fn hardsigmoid_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    float_map2(
        "aten::hardsigmoid_backward",
        "hardsigmoid_backward",
        grad_output,
        self_,
        |g, x| {
            if x > -3.0 && x < 3.0 {
                g / 6.0
            } else {
                0.0
            }
        },
    )
}

/// Hardswish: `x * min(max(x + 3, 0), 6) / 6`.
///
/// ```
/// use ft_kernels::piecewise_activation::hardswish;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![-4.0f64, 0.0, 1.5, 9.0], &[4]).unwrap();
/// assert_eq!(hardswish(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 0.0, 1.125, 9.0]);
/// ```
pub fn hardswish(self_: &Tensor) -> Result<Tensor> {
    float_map("aten::hardswish", "hardswish_cpu", self_, |x| {
        x * (x + 3.0).clamp(0.0, 6.0) / 6.0
    })
}

/// Hardswish's gradient: 0 below -3, `grad_output * (self / 3 + 0.5)` up
/// to 3 (inclusive), `grad_output` above.
///
/// ```
/// use ft_kernels::piecewise_activation::hardswish_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![2.0f64; 3], &[3]).unwrap();
/// let x = Tensor::from_vec(vec![-4.0f64, 0.0, 3.5], &[3]).unwrap();
/// assert_eq!(hardswish_backward(&g, &x).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 1.0, 2.0]);
/// ```
pub fn hardswish_backward(grad_output: &Tensor, self_: &Tensor) -> Result<Tensor> {
    float_map2(
        "aten::hardswish_backward",
        "hardswish_backward_cpu",
        grad_output,
        self_,
        |g, x| {
            if x < -3.0 {
                0.0
            } else if x <= 3.0 {
                g * (x / 3.0 + 0.5)
            } else {
                g
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ft_runtime::{Element, ErrorKind};

    fn t<T: Element>(v: Vec<T>, s: &[usize]) -> Tensor {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn threshold_checks_its_scalars_and_dtype() {
        let x = t(vec![-2i8, 0, 1], &[3]);
        assert!(threshold(&x, Scalar::Int(300), Scalar::Int(1)).is_err());
        assert!(threshold(&x, Scalar::Int(1), Scalar::Int(300)).is_err());
        let b = t(vec![true], &[1]);
        assert_eq!(
            threshold(&b, Scalar::Int(0), Scalar::Int(1)).unwrap_err().kind(),
            ErrorKind::DType
        );
    }

    #[test]
    fn threshold_compares_reduced_floats_in_float32() {
        // bf16(0.2) = 0.2002 is above float32(0.2), so it is kept.
        let x = Tensor::from_vec(vec![0.2f32], &[1]).unwrap();
        let x = crate::iter::to_dtype(&x, DType::BF16).unwrap();
        let r = threshold(&x, Scalar::Float(0.2), Scalar::Float(7.0)).unwrap();
        assert!((r.to_f64_vec()[0] - 0.2002).abs() < 1e-3);
    }

    #[test]
    fn integer_inputs_are_rejected_by_the_float_activations() {
        let i = t(vec![1i32], &[1]);
        assert!(hardsigmoid(&i).is_err());
        assert!(hardswish(&i).is_err());
        assert!(hardswish_backward(&i, &i).is_err());
        assert!(hardsigmoid_backward(&i, &i).is_err());
    }
}
