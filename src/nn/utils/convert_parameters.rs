//! [`parameters_to_vector`] and [`vector_to_parameters`]
//! (`torch.nn.utils.convert_parameters`).

use crate::{ops, tls, Result, Tensor};

/// All parameters flattened and concatenated into one vector
/// (`torch.nn.utils.parameters_to_vector`: `cat([p.view(-1) for p in
/// parameters])`, so the result is part of the graph and a parameter that
/// cannot be viewed flat fails as `view` does).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::utils::parameters_to_vector;
/// # fn main() -> frankentorch::Result<()> {
/// let a = ops::ones(&[2, 2])?;
/// let b = ops::zeros(&[3])?;
/// assert_eq!(parameters_to_vector(&[a, b])?.sizes(), &[7]);
/// # Ok(()) }
/// ```
pub fn parameters_to_vector(parameters: &[Tensor]) -> Result<Tensor> {
    const OP: &str = "parameters_to_vector";
    let flat = parameters
        .iter()
        .map(|p| ops::view(p, &[-1]).map_err(|e| e.with_op(OP)))
        .collect::<Result<Vec<_>>>()?;
    ops::cat(&flat, 0).map_err(|e| e.with_op(OP))
}

/// Writes consecutive slices of `vec` into the parameters
/// (`torch.nn.utils.vector_to_parameters`). A slice that does not fit its
/// parameter's shape fails as PyTorch's `view_as` does
/// (`shape '[2, 3]' is invalid for input of size 4`); elements past the
/// last parameter are ignored, as in PyTorch.
///
/// PyTorch rebinds each `param.data` to a view of `vec`; here the values
/// are copied into the parameters (cast to their dtype) without recording a
/// graph, so the parameters keep their own storage.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::utils::vector_to_parameters;
/// # fn main() -> frankentorch::Result<()> {
/// let p = ops::zeros(&[2])?;
/// let q = ops::zeros(&[1])?;
/// vector_to_parameters(&Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?, &[p.clone(), q.clone()])?;
/// assert_eq!(q.to_vec::<f32>()?, vec![3.0]);
/// # Ok(()) }
/// ```
pub fn vector_to_parameters(vec: &Tensor, parameters: &[Tensor]) -> Result<()> {
    const OP: &str = "vector_to_parameters";
    let _no_grad = tls::no_grad();
    let mut pointer = 0i64;
    for p in parameters {
        let n = p.numel() as i64;
        let piece = ops::slice(vec, 0, Some(pointer), Some(pointer + n), 1).map_err(|e| e.with_op(OP))?;
        let shape: Vec<i64> = p.sizes().iter().map(|&s| s as i64).collect();
        let piece = ops::view(&piece, &shape).map_err(|e| e.with_op(OP))?;
        ops::copy_(p, &piece, false).map_err(|e| e.with_op(OP))?;
        pointer += n;
    }
    Ok(())
}
