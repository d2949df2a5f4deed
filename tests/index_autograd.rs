//! Autograd through the indexing operators in the ways the indexing API
//! uses them: reading with `index.Tensor`, writing with `index_put_` into a
//! tensor that has history (and into a view of one), and list-returning ops.

use frankentorch::prelude::*;

fn leaf(values: &[f64], sizes: &[usize]) -> Tensor {
    let t = Tensor::from_vec(values.to_vec(), sizes).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

fn long(values: &[i64]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[values.len()]).unwrap()
}

#[test]
fn index_read_accumulates_duplicate_rows() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    let rows = ops::index(&x, &[Some(long(&[2, 0, 2]))]).unwrap();
    backward(&rows.sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_f64_vec(), vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
}

#[test]
fn index_put_in_place_blocks_the_overwritten_gradient() {
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let v = leaf(&[10.0], &[1]);
    let y = x.mul_scalar(2.0).unwrap();
    ops::index_put_(&y, &[Some(long(&[1]))], &v, false).unwrap();
    backward(&y.mul(&y).unwrap().sum().unwrap()).unwrap();
    // y = [2, 10, 6]: d/dx = 2 * 2y where y came from x, 0 where v overwrote it
    assert_eq!(x.grad().unwrap().to_f64_vec(), vec![8.0, 0.0, 24.0]);
    assert_eq!(v.grad().unwrap().to_f64_vec(), vec![20.0]);
}

#[test]
fn index_put_in_place_on_a_view_reaches_the_base() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let y = x.mul_scalar(1.0).unwrap();
    let row = ops::unbind(&y, 0).unwrap().remove(1);
    let v = leaf(&[7.0], &[]);
    ops::index_put_(&row, &[Some(long(&[0]))], &v, true).unwrap();
    assert_eq!(y.to_f64_vec(), vec![1.0, 2.0, 10.0, 4.0]);
    backward(&y.mul(&y).unwrap().sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_f64_vec(), vec![2.0, 4.0, 20.0, 8.0]);
    assert_eq!(v.grad().unwrap().to_f64_vec(), vec![20.0]);
}

#[test]
fn split_and_cat_round_trip_gradients() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
    let parts = ops::split(&x, 2, 0).unwrap();
    let joined = ops::cat(&[parts[2].clone(), parts[0].clone()], 0).unwrap();
    assert_eq!(joined.to_f64_vec(), vec![5.0, 1.0, 2.0]);
    backward(&joined.mul(&joined).unwrap().sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_f64_vec(), vec![2.0, 4.0, 0.0, 0.0, 10.0]);
}

#[test]
fn sort_values_route_gradients_to_their_sources() {
    let x = leaf(&[3.0, 1.0, 2.0], &[3]);
    let (values, indices) = ops::sort(&x, -1, true).unwrap();
    assert_eq!(indices.to_vec::<i64>().unwrap(), vec![0, 2, 1]);
    let w = Tensor::from_vec(vec![1.0f64, 10.0, 100.0], &[3]).unwrap();
    backward(&values.mul(&w).unwrap().sum().unwrap()).unwrap();
    assert_eq!(x.grad().unwrap().to_f64_vec(), vec![1.0, 100.0, 10.0]);
}
