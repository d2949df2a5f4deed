//! In-place writes through views (PyTorch's CopySlices) against the scenario
//! fixture `tests/fixtures/scenarios/copy_slices.toml`, written from real
//! PyTorch by `tools/oracle/scenarios/copy_slices.py`. Each case below runs
//! the program the fixture's `program` line spells in Python.

use frankentorch::prelude::*;
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("fixtures/scenarios/copy_slices.toml");

fn fixture() -> toml::Table {
    toml::from_str(FIXTURE).expect("the copy_slices fixture parses")
}

fn leaf(values: &[f64], sizes: &[usize]) -> Tensor {
    let t = Tensor::from_vec(values.to_vec(), sizes).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

fn scalar(v: f64) -> Tensor {
    Tensor::from_vec(vec![v], &[]).unwrap()
}

/// What a case did: the loss, its leaves, and the tensors whose grad_fn name
/// and version the fixture records (read before backward).
struct Run {
    loss: Tensor,
    leaves: Vec<Tensor>,
    watched: Vec<(&'static str, Tensor)>,
}

fn issue_example() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
    let base = leaf0.deep_clone().unwrap();
    ops::slice(&base, 0, Some(1), Some(3), 1)
        .unwrap()
        .mul_scalar_(2)
        .unwrap();
    Run {
        loss: base.sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base)],
    }
}

fn square_after_slice_write() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
    let base = leaf0.deep_clone().unwrap();
    ops::slice(&base, 0, Some(1), Some(3), 1)
        .unwrap()
        .mul_scalar_(2)
        .unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base)],
    }
}

fn strided_add_of_other_leaf() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[6]);
    let other = leaf(&[10.0, 20.0, 30.0], &[3]);
    let base = leaf0.mul_scalar(1.0).unwrap();
    let view = ops::slice(&base, 0, None, None, 2).unwrap();
    view.add_(&other.mul_scalar(3.0).unwrap()).unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0, other],
        watched: vec![("base", base), ("view", view)],
    }
}

fn view_of_view_mul_by_leaf() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[6]);
    let w = leaf(&[2.0, 3.0], &[2]);
    let base = leaf0.deep_clone().unwrap();
    let outer = ops::slice(&base, 0, Some(1), Some(5), 1).unwrap();
    let view = ops::slice(&outer, 0, Some(0), Some(2), 1).unwrap();
    view.mul_(&w).unwrap();
    let weights = ops::arange_full(6, Some(DType::F64), None, None, None).unwrap();
    Run {
        loss: base.mul(&weights).unwrap().sum().unwrap(),
        leaves: vec![leaf0, w],
        watched: vec![("base", base), ("view", view)],
    }
}

fn transposed_row_of_matrix() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let base = leaf0.deep_clone().unwrap();
    let view = base.t().unwrap().select(0, 1).unwrap();
    view.mul_(&view.detach().add(&scalar(1.0)).unwrap()).unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base), ("view", view)],
    }
}

fn double_backward_through_copyslices() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
    let base = leaf0.mul(&leaf0).unwrap();
    let view = ops::slice(&base, 0, Some(1), Some(4), 2).unwrap();
    view.mul_(&ops::slice(&leaf0, 0, Some(0), Some(2), 1).unwrap()).unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base), ("view", view)],
    }
}

fn double_backward_through_inplace_mul() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
    let base = leaf0.mul(&leaf0).unwrap();
    base.mul_(&leaf0).unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base)],
    }
}

fn loss_through_view_and_base() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let base = leaf0.mul_scalar(1.5).unwrap();
    let view = ops::slice(&base, 0, Some(2), None, 1).unwrap();
    view.exp_().unwrap();
    Run {
        loss: view.sum().unwrap().add(&base.sum().unwrap()).unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base), ("view", view)],
    }
}

fn saved_result_overwritten_through_view() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let base = leaf0.exp().unwrap();
    let view = ops::slice(&base, 0, Some(2), None, 1).unwrap();
    view.mul_scalar_(2).unwrap();
    Run {
        loss: base.sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base), ("view", view)],
    }
}

fn two_writes_into_one_base() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let base = leaf0.mul_scalar(2).unwrap();
    ops::slice(&base, 0, Some(0), Some(2), 1)
        .unwrap()
        .mul_scalar_(3)
        .unwrap();
    ops::slice(&base, 0, Some(1), Some(3), 1)
        .unwrap()
        .add_(&ops::slice(&leaf0, 0, Some(0), Some(2), 1).unwrap())
        .unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base)],
    }
}

fn fill_through_select() -> Run {
    let leaf0 = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let base = leaf0.deep_clone().unwrap();
    base.select(0, 0).unwrap().zero_().unwrap();
    Run {
        loss: base.mul(&base).unwrap().sum().unwrap(),
        leaves: vec![leaf0],
        watched: vec![("base", base)],
    }
}

/// A fixture case: its name and the program.
type Case = (&'static str, fn() -> Run);

fn cases() -> BTreeMap<&'static str, fn() -> Run> {
    let list: [Case; 11] = [
        ("issue_example", issue_example),
        ("square_after_slice_write", square_after_slice_write),
        ("strided_add_of_other_leaf", strided_add_of_other_leaf),
        ("view_of_view_mul_by_leaf", view_of_view_mul_by_leaf),
        ("transposed_row_of_matrix", transposed_row_of_matrix),
        ("double_backward_through_copyslices", double_backward_through_copyslices),
        (
            "double_backward_through_inplace_mul",
            double_backward_through_inplace_mul,
        ),
        ("loss_through_view_and_base", loss_through_view_and_base),
        (
            "saved_result_overwritten_through_view",
            saved_result_overwritten_through_view,
        ),
        ("two_writes_into_one_base", two_writes_into_one_base),
        ("fill_through_select", fill_through_select),
    ];
    list.into_iter().collect()
}

fn check_case(name: &str, expected: &toml::Table, run: Run) {
    for (label, t) in &run.watched {
        let grad_fn = expected["grad_fn"][*label].as_str().unwrap();
        assert_eq!(
            t.grad_fn().map(|f| f.name()).as_deref(),
            Some(grad_fn),
            "{name}: {label}.grad_fn"
        );
        let version = expected["version"][*label].as_integer().unwrap() as u64;
        assert_eq!(t.version(), version, "{name}: {label}._version");
    }
    let loss = run.loss.to_f64_vec()[0];
    let want_loss = expected["loss"].as_float().unwrap();
    assert!(
        (loss - want_loss).abs() <= 1e-12 * want_loss.abs().max(1.0),
        "{name}: loss {loss} vs {want_loss}"
    );
    if let Some(grads2) = expected.get("grads2") {
        let firsts = frankentorch::grad(std::slice::from_ref(&run.loss), &run.leaves, &[], None, true, false)
            .unwrap_or_else(|e| panic!("{name}: first grad failed: {e}"));
        let firsts: Vec<Tensor> = firsts.into_iter().map(|g| g.expect("every leaf is used")).collect();
        let mut total = firsts[0].mul(&firsts[0]).unwrap().sum().unwrap();
        for g in &firsts[1..] {
            total = total.add(&g.mul(g).unwrap().sum().unwrap()).unwrap();
        }
        backward(&total).unwrap_or_else(|e| panic!("{name}: second backward failed: {e}"));
        compare_grads(name, "first grad", &firsts, &expected["grads"]);
        let seconds: Vec<Tensor> = run.leaves.iter().map(|l| l.grad().expect("second grad")).collect();
        compare_grads(name, "second grad", &seconds, grads2);
        return;
    }
    let result = backward(&run.loss);
    if let Some(message) = expected.get("backward_error").and_then(|m| m.as_str()) {
        let err = result.expect_err(name);
        assert!(err.to_string().contains(message), "{name}: `{err}` lacks `{message}`");
        return;
    }
    result.unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));
    let grads: Vec<Tensor> = run
        .leaves
        .iter()
        .enumerate()
        .map(|(i, l)| l.grad().unwrap_or_else(|| panic!("{name}: leaf {i} has no grad")))
        .collect();
    compare_grads(name, "grad", &grads, &expected["grads"]);
}

fn compare_grads(name: &str, what: &str, got: &[Tensor], want: &toml::Value) {
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{name}: {what} count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let w: Vec<f64> = w.as_array().unwrap().iter().map(|v| v.as_float().unwrap()).collect();
        let g = g.to_f64_vec();
        assert_eq!(g.len(), w.len(), "{name}: leaf {i} {what} size");
        for (a, b) in g.iter().zip(&w) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{name}: leaf {i} {what} {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn every_fixture_case_matches_pytorch() {
    let fixture = fixture();
    let cases = cases();
    let in_fixture: Vec<&String> = fixture.iter().filter(|(_, v)| v.is_table()).map(|(k, _)| k).collect();
    assert_eq!(
        in_fixture.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        cases.keys().copied().collect::<Vec<_>>(),
        "cases here and in the fixture must be the same"
    );
    for (name, run) in cases {
        check_case(name, fixture[name].as_table().unwrap(), run());
    }
}

#[test]
fn in_place_on_a_view_of_a_leaf_fails_with_pytorchs_message() {
    let fixture = fixture();
    let message = fixture["leaf_view_error"].as_str().unwrap();
    let x = leaf(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let err = ops::slice(&x, 0, Some(1), Some(3), 1)
        .unwrap()
        .mul_scalar_(2)
        .unwrap_err();
    assert!(err.to_string().contains(message), "`{err}` lacks `{message}`");
    assert_eq!(x.version(), 0);
    assert_eq!(x.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0]);
}
