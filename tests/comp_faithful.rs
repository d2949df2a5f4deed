//! Gradients PyTorch defines at points the fixtures cannot reach (a norm of
//! zeros, the infinity norms) and the node names of the comp family's
//! formulas.

use frankentorch::prelude::*;

fn leaf(values: Vec<f64>) -> Tensor {
    let n = values.len();
    let t = Tensor::from_vec(values, &[n]).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

fn grad_of(out: &Tensor, x: &Tensor) -> Vec<f64> {
    let g = frankentorch::grad(
        std::slice::from_ref(out),
        std::slice::from_ref(x),
        &[None],
        None,
        false,
        false,
    )
    .unwrap();
    g[0].as_ref().unwrap().to_f64_vec()
}

#[test]
fn norm_gradient_at_zero_is_zero_for_every_p() {
    for p in [0.5, 1.0, 1.5, 2.0, 3.0, f64::INFINITY, f64::NEG_INFINITY] {
        let z = leaf(vec![0.0; 3]);
        let n = ops::norm(&z, Some(Scalar::Float(p)), &[0], false).unwrap();
        assert_eq!(grad_of(&n, &z), vec![0.0; 3], "p = {p}");
        let n = ops::norm_scalar(&z, p).unwrap();
        assert_eq!(grad_of(&n, &z), vec![0.0; 3], "norm.Scalar p = {p}");
    }
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert!(
        got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{got:?} vs {want:?}"
    );
}

#[test]
fn norm_gradients_match_pytorch_with_zero_elements() {
    // Values from PyTorch 2.15 (`x.norm(p).backward()`).
    let x = leaf(vec![0.0, 1.0, 4.0]);
    assert_close(&grad_of(&ops::norm_scalar(&x, 0.5).unwrap(), &x), &[0.0, 3.0, 1.5]);
    let x = leaf(vec![0.0, -4.0, 4.0]);
    assert_eq!(
        grad_of(&ops::norm_scalar(&x, f64::INFINITY).unwrap(), &x),
        vec![0.0, -0.5, 0.5]
    );
    let x = leaf(vec![0.0, -1.0, 4.0]);
    let g = grad_of(&ops::norm_scalar(&x, 1.5).unwrap(), &x);
    assert_close(&g, &[0.0, -0.4807498567691361, 0.9614997135382722]);
}

#[test]
fn std_gradient_at_zero_is_zero() {
    let x = leaf(vec![2.0; 3]);
    let s = ops::std(&x, None).unwrap();
    assert_eq!(s.grad_fn().unwrap().name(), "StdBackward0");
    assert_eq!(grad_of(&s, &x), vec![0.0; 3]);
}

#[test]
fn formulas_have_pytorch_node_names() {
    let a = leaf(vec![1.0, -2.0, 3.0]);
    let b = leaf(vec![0.5, 2.0, -1.0]);
    let w = leaf(vec![0.25, 0.75, 0.5]);
    assert_eq!(a.lerp(&b, 0.75).unwrap().grad_fn().unwrap().name(), "LerpBackward0");
    assert_eq!(
        a.lerp_tensor(&b, &w).unwrap().grad_fn().unwrap().name(),
        "LerpBackward1"
    );
    assert_eq!(a.norm_scalar(2).unwrap().grad_fn().unwrap().name(), "NormBackward0");
    assert_eq!(
        ops::norm(&a, None, &[0], false).unwrap().grad_fn().unwrap().name(),
        "NormBackward1"
    );
    assert_eq!(ops::dot(&a, &b).unwrap().grad_fn().unwrap().name(), "DotBackward0");
}

#[test]
fn einsum_errors_name_the_op() {
    let a = ops::ones(&[2, 3]).unwrap();
    for eq in ["ij,jk", "i.j", "ij->k", "iij"] {
        let e = ops::einsum(eq, std::slice::from_ref(&a)).unwrap_err();
        assert_eq!(e.op(), "aten::einsum", "{eq}");
    }
}

#[test]
fn linspace_and_lerp_are_bit_exact() {
    // Values printed by PyTorch 2.15 (AVX512 CPU capability, fused multiply-adds).
    let want: [f64; 37] = [
        0.10000000149011612,
        0.14444445073604584,
        0.18888889253139496,
        0.23333333432674408,
        0.2777777910232544,
        0.3222222328186035,
        0.36666667461395264,
        0.41111111640930176,
        0.4555555582046509,
        0.5,
        0.5444444417953491,
        0.5888888835906982,
        0.6333333253860474,
        0.6777777671813965,
        0.7222222089767456,
        0.7666667103767395,
        0.8111111521720886,
        0.8555555939674377,
        0.9000000357627869,
        0.944444477558136,
        0.9888889193534851,
        1.033333420753479,
        1.0777778625488281,
        1.1222223043441772,
        1.1666667461395264,
        1.2111111879348755,
        1.2555556297302246,
        1.3000000715255737,
        1.3444445133209229,
        1.388888955116272,
        1.433333396911621,
        1.4777778387069702,
        1.5222222805023193,
        1.5666667222976685,
        1.6111111640930176,
        1.6555556058883667,
        1.7000000476837158,
    ];
    let got = ops::linspace(0.1, 1.7, 37).unwrap().to_f64_vec();
    assert_eq!(got, want.to_vec());
    let half = ops::linspace_full(0.1, 1.7, 37, Some(DType::F16), None, None, None)
        .unwrap()
        .to_f64_vec();
    assert_eq!(
        &half[..4],
        &[0.0999755859375, 0.1444091796875, 0.1888427734375, 0.2332763671875]
    );
    let s = Tensor::from_vec(vec![0.1f32, -2.3, 5.7], &[3]).unwrap();
    let e = Tensor::from_vec(vec![0.3f32, 1.9, 0.6], &[3]).unwrap();
    let l = ops::lerp(&s, &e, 0.7).unwrap().to_f64_vec();
    assert_eq!(l, vec![0.24000000953674316, 0.6399999856948853, 2.130000114440918]);
}
