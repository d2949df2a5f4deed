//! `Display` for tensors in PyTorch's repr style (placeholder replaced by the full printer).
use crate::tensor::Tensor;
use std::fmt;

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor({:?})", self.to_f64_vec())
    }
}
