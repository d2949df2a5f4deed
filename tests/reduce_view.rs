//! Behaviour of the reduce-view family that the sample language cannot
//! express: infinite norms, `argmax` with `keepdim` and no dim, and
//! gradients of `prod`/`cumprod` through zeros.

use frankentorch::prelude::*;
use frankentorch::testing::{gradcheck, gradgradcheck};

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
