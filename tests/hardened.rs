//! Strict vs hardened mode, and anomaly detection, on the programs of
//! `tests/fixtures/scenarios/hardened.toml` (written by
//! `tools/oracle/scenarios/hardened.py` from real PyTorch).
//!
//! Strict mode must do what torch did (the same values, or the same error).
//! One deliberate difference: where torch's CPU kernels fail on a bad index
//! after writing the elements before it, ours fail before writing anything
//! (drift ledger: "indexed writes with a bad index"), so after an error the
//! written tensor must be unchanged. Hardened mode must refuse each unsafe
//! program with its own error and leave the tensor untouched, and run the
//! safe ones exactly as strict mode does.

#[path = "support/scenario.rs"]
mod scenario;

use frankentorch::autograd::anomaly;
use frankentorch::mode;
use frankentorch::prelude::*;
use frankentorch::ErrorKind;
use scenario::{check_error, fixture, numbers, run_all, str_of, tables};

/// How a program is observed: the gradient of a leaf `x = [0, 1]` after
/// `f(x).sum().backward()`, or a tensor after an in-place write.
enum Program {
    Gradient {
        f: fn(&Tensor) -> Result<Tensor>,
        /// Anomaly mode with this `check_nan`, or none.
        anomaly: Option<bool>,
    },
    Write {
        start: &'static [f32],
        f: fn(&Tensor) -> Result<Tensor>,
    },
}

fn idx(v: &[i64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()]).unwrap()
}

fn vals(v: &[f32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()]).unwrap()
}

fn program(name: &str) -> Program {
    use Program::*;
    match name {
        "div_nan_gradient" => Gradient {
            f: |x| x.div(x),
            anomaly: None,
        },
        "log_inf_gradient" => Gradient {
            f: |x| x.log(),
            anomaly: None,
        },
        "anomaly_div_nan" => Gradient {
            f: |x| x.div(x),
            anomaly: Some(true),
        },
        "anomaly_sqrt_nan" => Gradient {
            f: |x| x.sub(&ops::ones(&[])?)?.sqrt()?.mul(&ops::zeros(&[])?),
            anomaly: Some(true),
        },
        "anomaly_no_check_nan" => Gradient {
            f: |x| x.div(x),
            anomaly: Some(false),
        },
        "add_self" => Write {
            start: &[0.0, 1.0, 2.0, 3.0],
            f: |x| x.add_(x),
        },
        "add_partial_overlap" => Write {
            start: &[0.0, 1.0, 2.0, 3.0],
            f: |x| ops::slice(x, 0, Some(1), None, 1)?.add_(&ops::slice(x, 0, None, Some(-1), 1)?),
        },
        "add_expanded" => Write {
            start: &[0.0, 1.0, 2.0, 3.0],
            f: |x| ops::slice(x, 0, None, Some(1), 1)?.expand(&[3])?.add_(&ops::ones(&[])?),
        },
        "masked_scatter_self_source" => Write {
            start: &[0.0, 1.0, 2.0, 3.0],
            f: |x| x.masked_scatter_(&x.gt(&ops::ones(&[])?)?, x),
        },
        "cumsum_out_self" => Write {
            start: &[0.0, 1.0, 2.0, 3.0],
            f: |x| ops::cumsum_out(x, 0, x),
        },
        "index_put_out_of_bounds" => Write {
            start: &[0.0; 6],
            f: |x| ops::index_put_(x, &[Some(idx(&[0, 9]))], &vals(&[1.0, 2.0]), false),
        },
        "scatter_out_of_bounds" => Write {
            start: &[0.0; 6],
            f: |x| x.scatter_(0, &idx(&[0, 9]), &vals(&[1.0, 2.0])),
        },
        "scatter_add_negative_index" => Write {
            start: &[0.0; 6],
            f: |x| x.scatter_add_(0, &idx(&[0, -1]), &vals(&[1.0, 2.0])),
        },
        "index_put_negative_index" => Write {
            start: &[0.0; 6],
            f: |x| ops::index_put_(x, &[Some(idx(&[0, -1]))], &vals(&[1.0, 2.0]), false),
        },
        other => panic!("no program named {other}"),
    }
}

/// Runs a program; returns the call's result and the observed values (the
/// gradient, or the written tensor whether or not the call failed).
fn run(p: &Program) -> (Result<()>, Vec<f64>) {
    match p {
        Program::Gradient { f, anomaly: a } => {
            let x = Tensor::from_vec(vec![0.0f32, 1.0], &[2]).unwrap();
            x.requires_grad_(true).unwrap();
            let _guard = a.map(anomaly::detect_anomaly);
            let r = f(&x).and_then(|y| backward(&y.sum()?));
            let g = x.grad().map(|g| g.to_f64_vec()).unwrap_or_default();
            (r, g)
        }
        Program::Write { start, f } => {
            let x = vals(start);
            let r = f(&x).map(|_| ());
            (r, x.to_f64_vec())
        }
    }
}

fn start_values(p: &Program) -> Vec<f64> {
    match p {
        Program::Gradient { .. } => Vec::new(),
        Program::Write { start, .. } => start.iter().map(|&v| v as f64).collect(),
    }
}

fn same_values(ours: &[f64], want: &[f64]) -> bool {
    ours.len() == want.len() && ours.iter().zip(want).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
}

#[test]
fn strict_mode_matches_torch() {
    let fx = fixture("hardened");
    let programs = tables(&fx, "program");
    assert!(programs.len() >= 14);
    run_all("strict", &programs, |rec| {
        let name = str_of(rec, "name");
        let p = program(name);
        let (result, values) = run(&p);
        if rec["ok"].as_bool().unwrap() {
            assert!(result.is_ok(), "{name}: torch succeeded, we failed: {:?}", result.err());
            let want = numbers(rec, "values");
            assert!(same_values(&values, &want), "{name}: {values:?}, torch {want:?}");
        } else {
            check_error(name, result, rec);
            if let Program::Write { .. } = p {
                // Ours fail before writing (torch may have written a prefix).
                assert_eq!(values, start_values(&p), "{name}: a failed call changed the tensor");
            }
        }
    });
}

/// What hardened mode says about each program: `None` = runs as in strict
/// mode, else a piece of the refusal.
fn hardened_refusal(name: &str) -> Option<&'static str> {
    match name {
        "div_nan_gradient" | "anomaly_div_nan" | "anomaly_no_check_nan" => {
            // Hardened mode also refuses the inf in the 0th output, which comes first.
            Some("Function 'DivBackward0' returned inf values in its 0th output. Forward op: aten::div.Tensor. Recorded at: ")
        }
        "log_inf_gradient" => {
            Some("Function 'LogBackward0' returned inf values in its 0th output. Forward op: aten::log.")
        }
        "anomaly_sqrt_nan" => Some("Function 'SqrtBackward0' returned nan values in its 0th output."),
        "add_partial_overlap" => {
            Some("hardened mode: the written-to tensor 'self' shares memory with the argument 'other'")
        }
        "add_expanded" => Some(
            "hardened mode: more than one element of the written-to tensor 'self' refers to a single memory location",
        ),
        "masked_scatter_self_source" => {
            Some("hardened mode: the written-to tensor 'self' shares memory with the argument 'source'")
        }
        "cumsum_out_self" => Some("hardened mode: the written-to tensor 'out' shares memory with the argument 'self'"),
        "index_put_out_of_bounds" | "scatter_out_of_bounds" => {
            Some("hardened mode: index 9 is out of bounds for dimension 0 with size 6 (checked before writing)")
        }
        "scatter_add_negative_index" => Some("hardened mode: index -1 is out of bounds for dimension 0 with size 6"),
        _ => None,
    }
}

#[test]
fn hardened_mode_refuses_unsafe_programs_and_corrupts_nothing() {
    let fx = fixture("hardened");
    let programs = tables(&fx, "program");
    run_all("hardened", &programs, |rec| {
        let name = str_of(rec, "name");
        let p = program(name);
        let (strict_result, strict_values) = run(&p);
        let (result, values) = {
            let _h = mode::hardened();
            run(&p)
        };
        match hardened_refusal(name) {
            None => {
                assert_eq!(
                    result.is_ok(),
                    strict_result.is_ok(),
                    "{name}: hardened and strict disagree"
                );
                assert!(
                    same_values(&values, &strict_values),
                    "{name}: {values:?} vs strict {strict_values:?}"
                );
            }
            Some(piece) => {
                let e = result.expect_err(name);
                assert!(e.message().contains(piece), "{name}: {:?} lacks {piece:?}", e.message());
                if let Program::Write { .. } = p {
                    assert_eq!(values, start_values(&p), "{name}: the refused call changed the tensor");
                }
            }
        }
    });
}

#[test]
fn hardened_non_finite_error_names_the_recording_site() {
    let x = Tensor::from_vec(vec![0.0f32, 1.0], &[2]).unwrap();
    x.requires_grad_(true).unwrap();
    let _h = mode::hardened();
    let y = x.log().unwrap().sum().unwrap(); // the line the error must point at
    let e = backward(&y).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Autograd);
    assert!(e.message().contains("tests/hardened.rs:"), "{}", e.message());
    assert!(
        e.message()
            .contains("hardened::hardened_non_finite_error_names_the_recording_site"),
        "{}",
        e.message()
    );
}

#[test]
fn anomaly_mode_records_sites_and_strict_mode_does_not_pay_for_them() {
    let x = Tensor::from_vec(vec![2.0f64], &[1]).unwrap();
    x.requires_grad_(true).unwrap();
    let plain = x.mul(&x).unwrap();
    assert!(plain.grad_fn().unwrap().site().is_none());
    let _a = anomaly::detect_anomaly(true);
    let watched = x.mul(&x).unwrap();
    let site = watched
        .grad_fn()
        .unwrap()
        .site()
        .unwrap()
        .location()
        .unwrap()
        .to_string();
    assert!(site.contains("tests/hardened.rs:"), "{site}");
}

#[test]
fn hardened_mode_refuses_an_out_argument_aliasing_a_matmul_input() {
    // torch computes garbage here (mm writes into its own input); strict
    // mode computes the product, hardened mode refuses.
    let m = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0], &[2, 2]).unwrap();
    let _h = mode::hardened();
    let e = ops::mm_out(&m, &m, &m).unwrap_err();
    assert!(e
        .message()
        .contains("the written-to tensor 'out' shares memory with the argument 'self'"));
    assert_eq!(m.to_vec::<f32>().unwrap(), vec![0.0, 1.0, 2.0, 3.0]);
    let _s = mode::strict();
    assert_eq!(
        ops::mm_out(&m, &m, &m).unwrap().to_vec::<f32>().unwrap(),
        vec![2.0, 3.0, 6.0, 11.0]
    );
}

#[test]
fn hardened_mode_loads_checkpoints_only_through_a_verified_sidecar() {
    use frankentorch::serialize::{pt, sidecar, Value};
    let path = std::env::temp_dir().join(format!("ft_hardened_ckpt_{}.pt", std::process::id()));
    let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
    pt::save(&Value::Tensor(t), &path).unwrap();
    // Strict mode reads the file as torch does.
    assert!(pt::load(&path).is_ok());
    {
        let _h = mode::hardened();
        let e = pt::load(&path).unwrap_err();
        assert!(
            e.message().contains("hardened mode requires a verified one"),
            "{}",
            e.message()
        );
    }
    sidecar::write(&path, &Default::default()).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 30;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    {
        let _h = mode::hardened();
        let v = pt::load(&path).unwrap();
        assert_eq!(v.as_tensor().unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0]);
    }
    std::fs::remove_file(&path).ok();
    std::fs::remove_file(sidecar::sidecar_path(&path)).ok();
}
