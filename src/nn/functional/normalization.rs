//! Normalization: `F::batch_norm`, `F::instance_norm`, `F::layer_norm`,
//! `F::group_norm`, `F::rms_norm` (Python checks, then one aten op each).

use crate::ops;
use crate::{Error, Result, Tensor};

/// `torch.Size([a, b])`, as Python prints a size in messages.
fn torch_size(sizes: &[usize]) -> String {
    let parts: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    format!("torch.Size([{}])", parts.join(", "))
}

/// Python's `_verify_batch_size`: training statistics need more than one
/// value per channel (`size[0] * prod(size[2..])`).
fn verify_batch_size(op: &str, sizes: &[usize], shown: &[usize]) -> Result<()> {
    let per_channel: usize = sizes[0] * sizes[2..].iter().product::<usize>();
    if per_channel == 1 {
        return Err(Error::invalid(
            op,
            format!(
                "Expected more than 1 value per channel when training, got input size {}",
                torch_size(shown)
            ),
        ));
    }
    Ok(())
}

/// Options of [`batch_norm`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct BatchNormOpts<'a> {
    /// Per-channel scale (default none).
    pub weight: Option<&'a Tensor>,
    /// Per-channel shift (default none).
    pub bias: Option<&'a Tensor>,
    /// Default false: normalize with the running statistics.
    pub training: bool,
    /// Default 0.1: weight of the batch statistics in the running update.
    pub momentum: f64,
    /// Default 1e-5.
    pub eps: f64,
}

impl Default for BatchNormOpts<'_> {
    fn default() -> Self {
        BatchNormOpts {
            weight: None,
            bias: None,
            training: false,
            momentum: 0.1,
            eps: 1e-5,
        }
    }
}

/// `F.batch_norm`: normalizes each channel (dim 1) of `input`. In training
/// it uses the batch statistics and, when given, updates `running_mean` and
/// `running_var` in place (`(1 - momentum) * running + momentum * batch`,
/// unbiased variance); in evaluation it uses the running statistics.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 6.0], &[2, 2]).unwrap();
/// let m = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// let v = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap();
/// let y = F::batch_norm(&x, Some(&m), Some(&v), F::BatchNormOpts { training: true, eps: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, -1.0, 1.0, 1.0]);
/// assert_eq!(m.to_vec::<f64>().unwrap(), vec![0.2, 0.4]);
/// ```
pub fn batch_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    opts: BatchNormOpts,
) -> Result<Tensor> {
    let o = opts;
    if o.training && input.dim() >= 2 {
        verify_batch_size("F.batch_norm", input.sizes(), input.sizes())?;
    }
    ops::batch_norm(
        input,
        o.weight,
        o.bias,
        running_mean,
        running_var,
        o.training,
        o.momentum,
        o.eps,
        false,
    )
}

/// Options of [`instance_norm`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct InstanceNormOpts<'a> {
    /// Per-channel running mean (default none).
    pub running_mean: Option<&'a Tensor>,
    /// Per-channel running variance (default none).
    pub running_var: Option<&'a Tensor>,
    /// Per-channel scale (default none).
    pub weight: Option<&'a Tensor>,
    /// Per-channel shift (default none).
    pub bias: Option<&'a Tensor>,
    /// Default true: each instance's own statistics.
    pub use_input_stats: bool,
    /// Default 0.1.
    pub momentum: f64,
    /// Default 1e-5.
    pub eps: f64,
}

impl Default for InstanceNormOpts<'_> {
    fn default() -> Self {
        InstanceNormOpts {
            running_mean: None,
            running_var: None,
            weight: None,
            bias: None,
            use_input_stats: true,
            momentum: 0.1,
            eps: 1e-5,
        }
    }
}

/// `F.instance_norm`: each (sample, channel) plane normalized by its own
/// statistics (or the running ones when `use_input_stats` is false); the
/// running statistics, when given, are updated with the mean over samples.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 0.0, 4.0], &[2, 1, 2]).unwrap();
/// let y = F::instance_norm(&x, F::InstanceNormOpts { eps: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
pub fn instance_norm(input: &Tensor, opts: InstanceNormOpts) -> Result<Tensor> {
    let o = opts;
    if o.use_input_stats && input.dim() >= 2 && input.sizes()[2..].iter().product::<usize>() == 1 {
        return Err(Error::invalid(
            "F.instance_norm",
            format!(
                "Expected more than 1 spatial element when training, got input size {}",
                torch_size(input.sizes())
            ),
        ));
    }
    ops::instance_norm(
        input,
        o.weight,
        o.bias,
        o.running_mean,
        o.running_var,
        o.use_input_stats,
        o.momentum,
        o.eps,
        false,
    )
}

/// Options of [`layer_norm`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct LayerNormOpts<'a> {
    /// Elementwise scale of `normalized_shape` (default none).
    pub weight: Option<&'a Tensor>,
    /// Elementwise shift of `normalized_shape` (default none).
    pub bias: Option<&'a Tensor>,
    /// Default 1e-5.
    pub eps: f64,
}

impl Default for LayerNormOpts<'_> {
    fn default() -> Self {
        LayerNormOpts {
            weight: None,
            bias: None,
            eps: 1e-5,
        }
    }
}

/// `F.layer_norm`: normalizes over the trailing `normalized_shape` dims.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]).unwrap();
/// let y = F::layer_norm(&x, &[2], F::LayerNormOpts { eps: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0]);
/// ```
pub fn layer_norm(input: &Tensor, normalized_shape: &[i64], opts: LayerNormOpts) -> Result<Tensor> {
    ops::layer_norm(input, normalized_shape, opts.weight, opts.bias, opts.eps, false)
}

/// Options of [`group_norm`] (Python's defaults).
#[derive(Clone, Copy, Debug)]
pub struct GroupNormOpts<'a> {
    /// Per-channel scale (default none).
    pub weight: Option<&'a Tensor>,
    /// Per-channel shift (default none).
    pub bias: Option<&'a Tensor>,
    /// Default 1e-5.
    pub eps: f64,
}

impl Default for GroupNormOpts<'_> {
    fn default() -> Self {
        GroupNormOpts {
            weight: None,
            bias: None,
            eps: 1e-5,
        }
    }
}

/// `F.group_norm`: the channels split in `num_groups` groups, each
/// normalized per sample, then a per-channel affine.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 0.0, 4.0], &[1, 4]).unwrap();
/// let y = F::group_norm(&x, 2, F::GroupNormOpts { eps: 0.0, ..Default::default() }).unwrap();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
pub fn group_norm(input: &Tensor, num_groups: i64, opts: GroupNormOpts) -> Result<Tensor> {
    const OP: &str = "F.group_norm";
    if input.dim() < 2 {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected at least 2 dimensions for input tensor but received {}",
                input.dim()
            ),
        ));
    }
    if num_groups > 0 {
        let s = input.sizes();
        let mut sizes = vec![s[0] * s[1] / num_groups as usize, num_groups as usize];
        sizes.extend_from_slice(&s[2..]);
        verify_batch_size(OP, &sizes, &sizes)?;
    }
    ops::group_norm(input, num_groups, opts.weight, opts.bias, opts.eps, false)
}

/// Options of [`rms_norm`] (Python's defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct RmsNormOpts<'a> {
    /// Elementwise scale of `normalized_shape` (default none).
    pub weight: Option<&'a Tensor>,
    /// Default `None`: the machine epsilon of the compute dtype (f32 for
    /// f16/bf16/f32 input, f64 for f64).
    pub eps: Option<f64>,
}

/// `F.rms_norm`: `x / sqrt(mean(x^2) + eps) * weight` over the trailing
/// `normalized_shape` dims.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::functional as F;
/// let x = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]).unwrap();
/// let y = F::rms_norm(&x, &[2], F::RmsNormOpts { eps: Some(0.0), ..Default::default() }).unwrap();
/// let r = 12.5f64.sqrt();
/// assert_eq!(y.to_vec::<f64>().unwrap(), vec![3.0 / r, 4.0 / r]);
/// ```
pub fn rms_norm(input: &Tensor, normalized_shape: &[i64], opts: RmsNormOpts) -> Result<Tensor> {
    ops::rms_norm(input, normalized_shape, opts.weight, opts.eps)
}
