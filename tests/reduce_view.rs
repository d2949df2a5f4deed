//! Behaviour of the reduce-view family that the sample language cannot
//! express: infinite norms, `argmax` with `keepdim` and no dim, and
//! gradients of `prod`/`cumprod` through zeros.

use frankentorch::prelude::*;
use frankentorch::testing::{gradcheck, gradgradcheck};
use frankentorch::ErrorKind;

fn f64s(v: &[f64], sizes: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), sizes).unwrap()
}

#[test]
fn infinite_norms_are_extreme_magnitudes() {
    let t = f64s(&[3.0, -4.0, 1.0, -0.5], &[2, 2]);
    let inf = ops::norm(&t, Some(Scalar::Float(f64::INFINITY)), &[1], false).unwrap();
    assert_eq!(inf.to_f64_vec(), vec![4.0, 1.0]);
    let ninf = ops::norm(&t, Some(Scalar::Float(f64::NEG_INFINITY)), &[], false).unwrap();
    assert_eq!(ninf.to_f64_vec(), vec![0.5]);
    let f = |x: &[Tensor]| Ok(vec![ops::norm(&x[0], Some(Scalar::Float(f64::INFINITY)), &[1], false)?]);
    gradcheck(f, &[t]).unwrap();
}

#[test]
fn argmax_keepdim_without_dim_keeps_every_dim() {
    let t = f64s(&[1.0, 5.0, 2.0, 0.0, 3.0, 4.0], &[2, 3]);
    let r = ops::argmax(&t, None, true).unwrap();
    assert_eq!((r.sizes(), r.to_vec::<i64>().unwrap()), (&[1usize, 1][..], vec![1]));
    let call = ops::call(
        "aten::argmin",
        vec![frankentorch::dispatch::Value::Tensor(t)],
        vec![("keepdim".to_string(), frankentorch::dispatch::Value::Bool(true))],
    );
    assert!(call.is_ok());
}

#[test]
fn prod_gradients_through_zeros() {
    for zeros in [&[1usize][..], &[0, 2]] {
        let mut v = vec![1.5, -2.0, 0.5, 3.0, -1.25, 0.75];
        for &z in zeros {
            v[z] = 0.0;
        }
        let t = f64s(&v, &[2, 3]);
        gradcheck(|x: &[Tensor]| Ok(vec![ops::prod(&x[0])?]), std::slice::from_ref(&t)).unwrap();
        for dim in [0, 1] {
            let f = move |x: &[Tensor]| Ok(vec![ops::prod_dim_int(&x[0], dim, false)?]);
            gradcheck(f, std::slice::from_ref(&t)).unwrap();
            gradgradcheck(f, std::slice::from_ref(&t)).unwrap();
            let c = move |x: &[Tensor]| Ok(vec![ops::cumprod(&x[0], dim)?]);
            gradcheck(c, std::slice::from_ref(&t)).unwrap();
            gradgradcheck(c, std::slice::from_ref(&t)).unwrap();
        }
    }
}

#[test]
fn prod_gradient_with_a_single_zero_is_the_product_of_the_others() {
    let t = f64s(&[2.0, 0.0, 3.0], &[3]);
    t.requires_grad_(true).unwrap();
    let p = ops::prod(&t).unwrap();
    let g = grad(&[p], &[t], &[None], None, false, false).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_f64_vec(), vec![0.0, 6.0, 0.0]);
}

#[test]
fn as_strided_backward_rejects_overlapping_geometry() {
    let e = f64s(&[2.0], &[1]);
    e.requires_grad_(true).unwrap();
    let y = ops::expand(&e, &[3]).unwrap();
    let s = ops::sum(&ops::as_strided(&y, &[1], &[1], None).unwrap()).unwrap();
    let err = grad(&[s], &[e], &[None], None, false, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported, "{err}");
    let w = f64s(&[0.0, 1.0, 2.0, 3.0, 4.0], &[5]);
    w.requires_grad_(true).unwrap();
    let windows = ops::sum(&ops::as_strided(&w, &[3, 3], &[1, 1], None).unwrap()).unwrap();
    let err = grad(&[windows], &[w], &[None], None, false, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported, "{err}");
}

#[test]
fn as_strided_backward_sums_expanded_output_dims() {
    let w = f64s(&[0.0, 1.0, 2.0, 3.0], &[4]);
    w.requires_grad_(true).unwrap();
    let r = ops::sum(&ops::as_strided(&w, &[3, 2], &[0, 2], Some(1)).unwrap()).unwrap();
    let g = grad(&[r], &[w], &[None], None, false, false).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_f64_vec(), vec![0.0, 3.0, 0.0, 3.0]);
}
