//! Tests pinning the pointwise family's deliberate deviations from PyTorch
//! (the `drift` entries of its ops in schema/ops.toml).

use frankentorch::prelude::*;

#[test]
fn empty_strided_is_zero_filled() {
    let t = ops::empty_strided(&[2, 3], &[1, 2]).unwrap();
    assert_eq!(t.strides(), &[1, 2]);
    assert_eq!(t.to_f64_vec(), vec![0.0; 6]);
}
