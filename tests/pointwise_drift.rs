//! Tests pinning the pointwise family's deliberate deviations from PyTorch
//! (the `drift` entries of its ops in schema/ops.toml).

use frankentorch::prelude::*;

#[test]
fn empty_strided_is_zero_filled() {
    let t = ops::empty_strided(&[2, 3], &[1, 2]).unwrap();
    assert_eq!(t.strides(), &[1, 2]);
    assert_eq!(t.to_f64_vec(), vec![0.0; 6]);
}

fn leaf(values: Vec<f64>) -> Tensor {
    let n = values.len();
    let t = Tensor::from_vec(values, &[n]).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

fn grad_fn_name(t: &Tensor) -> String {
    t.grad_fn().unwrap().name().to_string()
}

#[test]
fn pointwise_composites_record_the_ops_they_call() {
    let a = leaf(vec![1.0, -2.0, 3.0]);
    let b = leaf(vec![0.5, 2.0, -1.0]);
    let w = leaf(vec![0.25, 0.75, 0.5]);
    let mask = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
    let v = leaf(vec![9.0]).view(&[]).unwrap();
    assert_eq!(grad_fn_name(&a.clamp_min(0).unwrap()), "ClampBackward0"); // PyTorch: ClampMinBackward0
    assert_eq!(grad_fn_name(&a.clamp_max(0).unwrap()), "ClampBackward0"); // PyTorch: ClampMaxBackward0
    assert_eq!(grad_fn_name(&a.addcmul(&b, &w).unwrap()), "AddBackward0"); // PyTorch: AddcmulBackward0
    assert_eq!(grad_fn_name(&a.addcdiv(&b, &w).unwrap()), "AddBackward0"); // PyTorch: AddcdivBackward0
    assert_eq!(grad_fn_name(&a.masked_fill(&mask, 1.5).unwrap()), "WhereBackward0"); // PyTorch: MaskedFillBackward0
    let filled = a.masked_fill_tensor(&mask, &v).unwrap();
    assert_eq!(grad_fn_name(&filled), "WhereBackward0"); // PyTorch: MaskedFillBackward1
    assert_eq!(filled.to_f64_vec(), vec![9.0, -2.0, 9.0]);
    // the gradients are PyTorch's: value receives the sum over the mask
    backward(&filled.sum().unwrap()).unwrap();
    assert_eq!(a.grad().unwrap().to_f64_vec(), vec![0.0, 1.0, 0.0]);
}
