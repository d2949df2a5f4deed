//! Tests pinning each deliberate deviation from PyTorch listed as a `drift`
//! entry in schema/ops.toml (codegen refuses a drift whose test is missing).

use frankentorch::dispatch::Value;
use frankentorch::prelude::*;

fn leaf(sizes: &[usize]) -> Tensor {
    let n = sizes.iter().product();
    let t = Tensor::from_vec((0..n).map(|i| i as f64 + 1.0).collect::<Vec<_>>(), sizes).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

#[test]
fn matmul_of_two_vectors_is_sum_of_mul() {
    let (a, b) = (leaf(&[3]), leaf(&[3]));
    let r = a.matmul(&b).unwrap();
    assert_eq!(r.grad_fn().unwrap().name(), "SumBackward0"); // PyTorch: DotBackward0
    assert_eq!(r.item().unwrap(), Scalar::Float(14.0));
}

#[test]
fn matmul_of_matrix_and_vector_is_mm_and_squeeze() {
    let (a, b) = (leaf(&[2, 3]), leaf(&[3]));
    let r = a.matmul(&b).unwrap();
    assert_eq!(r.grad_fn().unwrap().name(), "SqueezeBackward1"); // PyTorch: MvBackward0
    assert_eq!(r.to_f64_vec(), vec![14.0, 32.0]);
}

#[test]
fn reshape_copy_records_view_of_clone() {
    let a = leaf(&[2, 3]);
    let t = a.t().unwrap();
    let r = t.reshape(&[6]).unwrap();
    assert_eq!(r.grad_fn().unwrap().name(), "ViewBackward0"); // PyTorch: UnsafeViewBackward0
    assert!(!r.storage().is_same(a.storage()));
}

#[test]
fn contiguous_takes_optional_memory_format() {
    let t = ops::zeros(&[2, 3]).unwrap().t().unwrap();
    let out = ops::call(
        "aten::contiguous",
        vec![Value::from(&t)],
        vec![("memory_format".into(), Value::None)],
    )
    .unwrap();
    assert!(out[0].as_tensor().unwrap().is_contiguous());
}

#[test]
fn clone_method_is_deep_clone() {
    let t = ops::ones(&[2]).unwrap();
    assert!(
        t.clone().storage().is_same(t.storage()),
        "Clone::clone copies the handle"
    );
    assert!(
        !t.deep_clone().unwrap().storage().is_same(t.storage()),
        "deep_clone copies the data"
    );
}

#[test]
fn empty_is_zero_filled() {
    assert_eq!(ops::empty(&[4]).unwrap().to_f64_vec(), vec![0.0; 4]);
    let like = ops::empty_like(&ops::ones(&[3]).unwrap()).unwrap();
    assert_eq!(like.to_f64_vec(), vec![0.0; 3]);
}

#[test]
fn out_of_wrong_shape_is_refused() {
    let a = Tensor::from_vec(vec![1.0f32, -2.0, 3.0], &[3]).unwrap();
    let empty = Tensor::zeros_contiguous(&[0], DType::F32);
    let e = ops::neg_out(&a, &empty).unwrap_err(); // PyTorch resizes `empty` to [3]
    assert_eq!(e.kind(), frankentorch::ErrorKind::ShapeMismatch);
    assert!(e.to_string().contains("does not resize out= tensors"), "{e}");
    let out = Tensor::zeros_contiguous(&[3], DType::F64);
    assert!(ops::neg_out(&a, &out).unwrap().is_same(&out));
    assert_eq!(out.to_f64_vec(), vec![-1.0, 2.0, -3.0]);
}

#[test]
fn as_strided_scatter_self_gradient_is_zero_inside_the_view() {
    let base = leaf(&[4]);
    let src = leaf(&[2]);
    let out = ops::as_strided_scatter(&base, &src, &[2], &[1], Some(1)).unwrap();
    let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]).unwrap();
    let gs = frankentorch::grad(&[out], &[base.clone(), src.clone()], &[Some(g)], None, false, false).unwrap();
    // PyTorch 2.15 gives [0, 2, 3, 0] for `self`: the elements it overwrote.
    assert_eq!(gs[0].as_ref().unwrap().to_f64_vec(), vec![1.0, 0.0, 0.0, 4.0]);
    assert_eq!(gs[1].as_ref().unwrap().to_f64_vec(), vec![2.0, 3.0]);
    let check = |t: &[Tensor]| Ok(vec![ops::as_strided_scatter(&t[0], &t[1], &[2], &[1], Some(1))?]);
    frankentorch::testing::gradcheck(check, &[base.detach(), src.detach()]).unwrap();
    frankentorch::testing::gradgradcheck(check, &[base.detach(), src.detach()]).unwrap();
}

#[test]
fn logsumexp_is_composite() {
    let a = leaf(&[2, 3]);
    let r = ops::logsumexp(&a, &[1], false).unwrap();
    assert_eq!(r.grad_fn().unwrap().name(), "AddBackward0"); // PyTorch: LogsumexpBackward0
    let expected = (1.0f64.exp() + 2.0f64.exp() + 3.0f64.exp()).ln();
    assert!((r.to_f64_vec()[0] - expected).abs() < 1e-12);
}

#[test]
fn roll_is_composite() {
    let a = leaf(&[3]);
    let r = ops::roll(&a, &[1], &[0]).unwrap();
    assert_eq!(r.grad_fn().unwrap().name(), "SliceScatterBackward0"); // PyTorch: RollBackward0
    assert_eq!(r.to_f64_vec(), vec![3.0, 1.0, 2.0]);
}

#[test]
fn var_with_empty_dim_list_has_the_true_gradient() {
    let a = leaf(&[4]);
    let v = ops::var_full(&a, Some(&[]), Some(Scalar::Int(0)), false).unwrap();
    assert_eq!(v.to_f64_vec(), vec![1.25]);
    let g = frankentorch::grad(&[v], &[a], &[None], None, false, false).unwrap();
    // PyTorch 2.15: [-3, -1, 1, 3].
    assert_eq!(g[0].as_ref().unwrap().to_f64_vec(), vec![-0.75, -0.25, 0.25, 0.75]);
}

/// `grid_sampler_2d` refuses float16/bfloat16 (PyTorch computes them in
/// reduced precision step by step, which FrankenTorch does not reproduce).
#[test]
fn grid_sampler_2d_refuses_reduced_precision() {
    for dtype in [DType::F16, DType::BF16] {
        let x = Tensor::zeros_contiguous(&[1, 1, 3, 4], dtype);
        let g = Tensor::zeros_contiguous(&[1, 2, 2, 2], dtype);
        let e = ops::grid_sampler_2d(&x, &g, 0, 0, false).unwrap_err();
        assert_eq!(e.kind(), frankentorch::ErrorKind::NotSupported);
    }
}

/// Differentiating one output of an `output_mask` backward op fails with an
/// error instead of silently giving no gradient.
fn assert_no_double_backward(out: &Tensor, inputs: &[Tensor]) {
    assert!(!out.requires_grad());
    let ones = ops::ones_like(out).unwrap();
    assert!(grad(std::slice::from_ref(out), inputs, &[Some(ones)], None, false, false).is_err());
}

#[test]
fn convolution_backward_is_not_twice_differentiable() {
    let (go, x, w) = (leaf(&[1, 2, 2, 2]), leaf(&[1, 2, 4, 4]), leaf(&[2, 2, 3, 3]));
    let (gi, gw, gb) = ops::convolution_backward(
        &go,
        &x,
        &w,
        Some(&[2][..]),
        &[1],
        &[0],
        &[1],
        false,
        &[0],
        1,
        &[true, true, false],
    )
    .unwrap();
    assert!(gb.is_none());
    assert_eq!(gw.unwrap().sizes(), &[2, 2, 3, 3]);
    assert_no_double_backward(&gi.unwrap(), &[go, x, w]);
}

#[test]
fn native_layer_norm_backward_is_not_twice_differentiable() {
    let (go, x, w) = (leaf(&[2, 3]), leaf(&[2, 3]), leaf(&[3]));
    let (_, mean, rstd) = ops::native_layer_norm(&x, &[3], Some(&w), None, 1e-5).unwrap();
    let (gi, gw, gb) =
        ops::native_layer_norm_backward(&go, &x, &[3], &mean, &rstd, Some(&w), None, &[true, true, false]).unwrap();
    assert!(gb.is_none() && gw.is_some());
    assert_no_double_backward(&gi.unwrap(), &[go, x, w]);
}

#[test]
fn native_group_norm_backward_is_not_twice_differentiable() {
    let (go, x, w) = (leaf(&[2, 4, 3]), leaf(&[2, 4, 3]), leaf(&[4]));
    let (_, mean, rstd) = ops::native_group_norm(&x, Some(&w), None, 2, 4, 3, 2, 1e-5).unwrap();
    let (gi, gw, gb) =
        ops::native_group_norm_backward(&go, &x, &mean, &rstd, Some(&w), 2, 4, 3, 2, &[true, false, true]).unwrap();
    assert!(gw.is_none() && gb.is_some());
    assert_no_double_backward(&gi.unwrap(), &[go, x, w]);
}

#[test]
fn batch_norm_out_of_non_contiguous_input_matches_functional() {
    // A transposed input: PyTorch 2.15's out kernel would read it as contiguous.
    let base = Tensor::from_vec((0..12).map(|i| ((i * 7) % 5) as f64 - 1.5).collect(), &[3, 4]).unwrap();
    let input = base.t().unwrap();
    let (want, want_mean, want_invstd) =
        ops::_native_batch_norm_legit_no_stats(&input, None, None, true, 0.1, 1e-5).unwrap();
    let outs = [
        Tensor::zeros_contiguous(&[4, 3], DType::F64),
        Tensor::zeros_contiguous(&[3], DType::F64),
        Tensor::zeros_contiguous(&[3], DType::F64),
    ];
    ops::_native_batch_norm_legit_no_stats_out(&input, None, None, true, 0.1, 1e-5, &outs[0], &outs[1], &outs[2])
        .unwrap();
    assert_eq!(
        outs[0].to_vec::<f64>().unwrap(),
        want.contiguous().unwrap().to_vec::<f64>().unwrap()
    );
    assert_eq!(outs[1].to_vec::<f64>().unwrap(), want_mean.to_vec::<f64>().unwrap());
    assert_eq!(outs[2].to_vec::<f64>().unwrap(), want_invstd.to_vec::<f64>().unwrap());
}
