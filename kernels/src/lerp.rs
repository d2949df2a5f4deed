//! Linear interpolation, `lerp(self, end, weight)`, with PyTorch's CPU
//! arithmetic: in the opmath type (float32 for float16/bfloat16/float32,
//! float64 for float64), `self + weight * (end - self)` as one fused
//! multiply-add when `|weight| < 0.5`, otherwise `end + (weight - 1) * (end -
//! self)` (the same value as PyTorch's `end - (end - self) * (1 - weight)`,
//! fused), rounded once to the tensor's dtype.

use crate::iter::{self, Elementwise, Spec};
use ft_runtime::half::{bf16, f16};
use ft_runtime::{DType, Element, Error, Result, Scalar, Tensor};

/// One interpolation in float32.
#[inline(always)]
fn lerp_f32(s: f32, e: f32, w: f32) -> f32 {
    let d = e - s;
    if w.abs() < 0.5 {
        w.mul_add(d, s)
    } else {
        (w - 1.0).mul_add(d, e)
    }
}

/// One interpolation in float64.
#[inline(always)]
fn lerp_f64(s: f64, e: f64, w: f64) -> f64 {
    let d = e - s;
    if w.abs() < 0.5 {
        w.mul_add(d, s)
    } else {
        (w - 1.0).mul_add(d, e)
    }
}

/// One interpolation of a type whose opmath is float32 (exact conversions through f64).
#[inline(always)]
fn lerp_via_f32<T: Element>(s: T, e: T, w: f32) -> T {
    T::from_f64(lerp_f32(s.to_f64() as f32, e.to_f64() as f32, w) as f64)
}

/// PyTorch's lerp dtype rules: `end` (and a weight tensor with dims) must
/// have `self`'s dtype, which must be floating.
fn check(op: &str, self_: &Tensor, end: &Tensor, weight: Option<&Tensor>) -> Result<()> {
    let d = self_.dtype();
    let expect = |what: &str, got: DType| -> Result<()> {
        if got == d {
            return Ok(());
        }
        Err(Error::dtype(
            op,
            format!("expected dtype {} for `{what}` but got dtype {}", d.name(), got.name()),
        ))
    };
    expect("end", end.dtype())?;
    if let Some(w) = weight.filter(|w| w.dim() > 0) {
        expect("weight", w.dtype())?;
    }
    if !d.is_floating_point() {
        let kernel = if weight.is_some() {
            "lerp_kernel_tensor"
        } else {
            "lerp_kernel_scalar"
        };
        return Err(Error::dtype(
            op,
            format!("\"{kernel}\" not implemented for '{}'", d.scalar_type_name()),
        ));
    }
    Ok(())
}

/// `aten::lerp.Scalar`: `self + weight * (end - self)`, broadcasting `self`
/// and `end`.
///
/// ```
/// use ft_kernels::lerp::lerp_scalar;
/// use ft_runtime::{Scalar, Tensor};
/// let a = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![3.0f64, 4.0], &[2]).unwrap();
/// let r = lerp_scalar(&a, &b, Scalar::Float(0.75)).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.5, 3.5]);
/// ```
pub fn lerp_scalar(self_: &Tensor, end: &Tensor, weight: Scalar) -> Result<Tensor> {
    const OP: &str = "aten::lerp.Scalar";
    check(OP, self_, end, None)?;
    let dtype = self_.dtype();
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_, end],
        dtype,
        out: None,
    })?;
    let (o, s, e) = (ew.output(), ew.input(0), ew.input(1));
    let w = weight.to_f64();
    let w32 = w as f32;
    match dtype {
        DType::F64 => iter::map2(o, s, e, |s: f64, e: f64| lerp_f64(s, e, w))?,
        DType::F32 => iter::map2(o, s, e, |s: f32, e: f32| lerp_f32(s, e, w32))?,
        DType::F16 => iter::map2(o, s, e, |s: f16, e: f16| lerp_via_f32(s, e, w32))?,
        DType::BF16 => iter::map2(o, s, e, |s: bf16, e: bf16| lerp_via_f32(s, e, w32))?,
        other => return Err(Error::dtype(OP, format!("unsupported dtype {}", other.name()))),
    }
    ew.finish()
}

/// `aten::lerp.Tensor`: elementwise `self + weight * (end - self)`,
/// broadcasting all three (a 0-dim weight may have another floating dtype).
///
/// ```
/// use ft_kernels::lerp::lerp_tensor;
/// use ft_runtime::Tensor;
/// let a = Tensor::from_vec(vec![0.0f32, 0.0], &[2]).unwrap();
/// let b = Tensor::from_vec(vec![4.0f32, 4.0], &[2]).unwrap();
/// let w = Tensor::from_vec(vec![0.25f32, 0.75], &[2]).unwrap();
/// assert_eq!(lerp_tensor(&a, &b, &w).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 3.0]);
/// ```
pub fn lerp_tensor(self_: &Tensor, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::lerp.Tensor";
    check(OP, self_, end, Some(weight))?;
    let dtype = self_.dtype();
    let ew = Elementwise::new(Spec {
        op: OP,
        inputs: &[self_, end, weight],
        dtype,
        out: None,
    })?;
    let (o, s, e, w) = (ew.output(), ew.input(0), ew.input(1), ew.input(2));
    match dtype {
        DType::F64 => iter::map3(o, s, e, w, lerp_f64)?,
        DType::F32 => iter::map3(o, s, e, w, lerp_f32)?,
        DType::F16 => iter::map3(o, s, e, w, |s: f16, e: f16, w: f16| lerp_via_f32(s, e, w.to_f32()))?,
        DType::BF16 => iter::map3(o, s, e, w, |s: bf16, e: bf16, w: bf16| lerp_via_f32(s, e, w.to_f32()))?,
        other => return Err(Error::dtype(OP, format!("unsupported dtype {}", other.name()))),
    }
    ew.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_exact_and_branches_switch_at_one_half() {
        assert_eq!(lerp_f32(0.1, 0.3, 1.0), 0.3);
        assert_eq!(lerp_f64(0.1, 0.3, 0.0), 0.1);
        let (s, e) = (0.1f32, 0.3f32);
        assert_eq!(lerp_f32(s, e, 0.5), (-0.5f32).mul_add(e - s, e));
        assert_eq!(lerp_f32(s, e, 0.25), 0.25f32.mul_add(e - s, s));
        assert_eq!(lerp_f32(s, e, -0.5), (-1.5f32).mul_add(e - s, e));
    }
}
