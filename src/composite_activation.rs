//! Activations PyTorch defines by calling other operators
//! (CompositeImplicitAutograd): `relu6`, `selu`, `log_sigmoid` and `prelu`.
//! Autograd flows through the operators they call.

use crate::ops;
use crate::{Error, Result, Tensor};

/// SELU's `alpha`.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `scale`.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// `aten::relu6`: `hardtanh(self, 0, 6)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f32, 3.0, 7.0], &[3]).unwrap();
/// assert_eq!(ops::relu6(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 3.0, 6.0]);
/// ```
pub fn relu6(self_: &Tensor) -> Result<Tensor> {
    ops::hardtanh(self_, 0, 6).map_err(|e| e.with_op("aten::relu6"))
}

/// `aten::selu`: `elu(self, alpha = 1.6732…, scale = 1.0507…)`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// assert_eq!(ops::selu(&x).unwrap().to_vec::<f64>().unwrap(), vec![frankentorch::composite_activation::SELU_SCALE]);
/// ```
pub fn selu(self_: &Tensor) -> Result<Tensor> {
    ops::elu(self_, SELU_ALPHA, SELU_SCALE, 1).map_err(|e| e.with_op("aten::selu"))
}

/// `aten::log_sigmoid`: the first output of `log_sigmoid_forward`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// assert_eq!(ops::log_sigmoid(&x).unwrap().to_vec::<f64>().unwrap(), vec![-std::f64::consts::LN_2]);
/// ```
pub fn log_sigmoid(self_: &Tensor) -> Result<Tensor> {
    ops::log_sigmoid_forward(self_)
        .map(|(output, _)| output)
        .map_err(|e| e.with_op("aten::log_sigmoid"))
}

/// `aten::prelu`: `_prelu_kernel(self, weight)` with `weight` (one slope, or
/// one per channel: `self.size(1)`, or 1 for a 1-D input) reshaped to
/// broadcast along dim 1.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![-1.0f64, -1.0, 2.0, -2.0], &[2, 2]).unwrap();
/// let w = Tensor::from_vec(vec![0.5f64, 0.25], &[2]).unwrap();
/// assert_eq!(ops::prelu(&x, &w).unwrap().to_vec::<f64>().unwrap(), vec![-0.5, -0.25, 2.0, -0.5]);
/// ```
pub fn prelu(self_: &Tensor, weight: &Tensor) -> Result<Tensor> {
    const OP: &str = "aten::prelu";
    let slopes = weight.numel();
    if slopes != 1 {
        if self_.dim() == 0 {
            return Err(Error::invalid(OP, "Not allow zero-dim input tensor."));
        }
        let channels = if self_.dim() > 1 { self_.sizes()[1] } else { 1 };
        if channels != slopes {
            return Err(Error::shape(
                OP,
                format!("Mismatch of parameter numbers and input channel size. Found parameter numbers = {slopes} and channel size = {channels}."),
            ));
        }
    }
    if weight.dim() > 1 {
        return Err(Error::invalid(
            OP,
            format!(
                "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {}",
                weight.dim()
            ),
        ));
    }
    let weight = if self_.dim() == weight.dim() {
        weight.clone()
    } else {
        let mut shape = vec![1i64; self_.dim()];
        if self_.dim() >= 2 {
            shape[1] = slopes as i64;
        }
        ops::reshape(weight, &shape)?
    };
    ops::_prelu_kernel(self_, &weight)
}
