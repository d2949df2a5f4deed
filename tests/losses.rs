//! The loss functions of `frankentorch::nn::functional` against PyTorch:
//! every case of `tests/fixtures/scenarios/losses.toml` (written by
//! `tools/oracle/scenarios/losses.py`) is run here through `F::` under the
//! same name as the Python call it mirrors, comparing the output, the error,
//! or the gradients of `(output * upstream).sum()`. A case missing on either
//! side fails the test.

use frankentorch::nn::functional as F;
use frankentorch::nn::functional::Reduction as R;
use frankentorch::prelude::*;
use std::collections::{BTreeSet, HashMap};

#[path = "support/scenario.rs"]
mod scenario;
use scenario::{build, check_error, fixture, run_all, str_of, tables};

/// The named input tensors of one case.
struct In(HashMap<String, Tensor>);

impl In {
    fn t(&self, name: &str) -> &Tensor {
        self.0.get(name).unwrap_or_else(|| panic!("no input named {name}"))
    }
}

type Case = Box<dyn Fn(&In) -> Result<Tensor>>;

fn ce(v: &In, o: F::CrossEntropyOpts) -> Result<Tensor> {
    F::cross_entropy(v.t("x"), v.t("t"), o)
}

fn ce_w(v: &In, o: F::CrossEntropyOpts) -> Result<Tensor> {
    F::cross_entropy(
        v.t("x"),
        v.t("t"),
        F::CrossEntropyOpts {
            weight: Some(v.t("w")),
            ..o
        },
    )
}

fn nll(v: &In, o: F::NllLossOpts) -> Result<Tensor> {
    F::nll_loss(v.t("x"), v.t("t"), o)
}

/// The reduction named in a case name's suffix.
fn red(name: &str) -> R {
    match name.rsplit('_').next() {
        Some("sum") => R::Sum,
        Some("none") => R::None,
        _ => R::Mean,
    }
}

/// Cross entropy and nll cases.
fn classification_cases() -> Vec<(String, Case)> {
    let mut v: Vec<(String, Case)> = vec![];
    let mut add = |n: &str, f: Case| v.push((n.to_string(), f));
    let d = F::CrossEntropyOpts::default;
    add("ce_default", Box::new(move |v| ce(v, d())));
    add(
        "ce_sum",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    reduction: R::Sum,
                    ..d()
                },
            )
        }),
    );
    add(
        "ce_none",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    reduction: R::None,
                    ..d()
                },
            )
        }),
    );
    add("ce_weight_mean", Box::new(move |v| ce_w(v, d())));
    add(
        "ce_ignore_index",
        Box::new(move |v| ce_w(v, F::CrossEntropyOpts { ignore_index: 3, ..d() })),
    );
    add(
        "ce_all_ignored",
        Box::new(move |v| ce(v, F::CrossEntropyOpts { ignore_index: 1, ..d() })),
    );
    add(
        "ce_label_smoothing",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    label_smoothing: 0.1,
                    ..d()
                },
            )
        }),
    );
    add(
        "ce_smoothing_weight_ignore",
        Box::new(move |v| {
            ce_w(
                v,
                F::CrossEntropyOpts {
                    ignore_index: 0,
                    label_smoothing: 0.3,
                    ..d()
                },
            )
        }),
    );
    add(
        "ce_smoothing_none",
        Box::new(move |v| {
            ce_w(
                v,
                F::CrossEntropyOpts {
                    reduction: R::None,
                    label_smoothing: 0.2,
                    ..d()
                },
            )
        }),
    );
    add("ce_4d", Box::new(move |v| ce(v, d())));
    add(
        "ce_3d_none",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    reduction: R::None,
                    ..d()
                },
            )
        }),
    );
    add(
        "ce_5d_smoothing",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    label_smoothing: 0.05,
                    ..d()
                },
            )
        }),
    );
    add("ce_unbatched", Box::new(move |v| ce(v, d())));
    add("ce_probs", Box::new(move |v| F::cross_entropy(v.t("x"), v.t("p"), d())));
    add(
        "ce_probs_weight_smoothing",
        Box::new(move |v| {
            let o = F::CrossEntropyOpts {
                weight: Some(v.t("w")),
                label_smoothing: 0.2,
                reduction: R::Sum,
                ..d()
            };
            F::cross_entropy(v.t("x"), v.t("p"), o)
        }),
    );
    add(
        "ce_probs_4d_none",
        Box::new(move |v| {
            F::cross_entropy(
                v.t("x"),
                v.t("p"),
                F::CrossEntropyOpts {
                    reduction: R::None,
                    ..d()
                },
            )
        }),
    );
    add("ce_f32", Box::new(move |v| ce(v, d())));
    for n in [
        "ce_err_target_oob",
        "ce_err_target_dtype",
        "ce_err_batch",
        "ce_err_spatial",
    ] {
        add(n, Box::new(move |v| ce(v, d())));
    }
    add("ce_err_weight_size", Box::new(move |v| ce_w(v, d())));
    add(
        "ce_err_smoothing",
        Box::new(move |v| {
            ce(
                v,
                F::CrossEntropyOpts {
                    label_smoothing: 1.5,
                    ..d()
                },
            )
        }),
    );
    let n = F::NllLossOpts::default;
    for name in [
        "nll_default",
        "nll_uint8_target",
        "nll_empty",
        "nll_err_oob",
        "nll_err_0d",
    ] {
        add(name, Box::new(move |v| nll(v, n())));
    }
    add(
        "nll_weight_ignore_sum",
        Box::new(move |v| {
            nll(
                v,
                F::NllLossOpts {
                    weight: Some(v.t("w")),
                    ignore_index: 2,
                    reduction: R::Sum,
                },
            )
        }),
    );
    add(
        "nll_weight_mean",
        Box::new(move |v| {
            nll(
                v,
                F::NllLossOpts {
                    weight: Some(v.t("w")),
                    ..n()
                },
            )
        }),
    );
    add(
        "nll_none",
        Box::new(move |v| {
            nll(
                v,
                F::NllLossOpts {
                    reduction: R::None,
                    ..n()
                },
            )
        }),
    );
    add(
        "nll_4d",
        Box::new(move |v| {
            nll(
                v,
                F::NllLossOpts {
                    weight: Some(v.t("w")),
                    reduction: R::None,
                    ..n()
                },
            )
        }),
    );
    add(
        "nll_3d_ignore",
        Box::new(move |v| nll(v, F::NllLossOpts { ignore_index: 0, ..n() })),
    );
    v
}

/// The pointwise regression losses (mse, l1, smooth l1, huber).
fn regression_cases() -> Vec<(String, Case)> {
    let mut v: Vec<(String, Case)> = vec![];
    for r in ["mean", "sum", "none"] {
        let n = format!("mse_{r}");
        let rd = red(&n);
        v.push((
            n,
            Box::new(move |v| {
                F::mse_loss(
                    v.t("a"),
                    v.t("b"),
                    F::MseLossOpts {
                        reduction: rd,
                        weight: None,
                    },
                )
            }),
        ));
        v.push((
            format!("l1_{r}"),
            Box::new(move |v| {
                F::l1_loss(
                    v.t("a"),
                    v.t("b"),
                    F::L1LossOpts {
                        reduction: rd,
                        weight: None,
                    },
                )
            }),
        ));
        v.push((
            format!("smooth_l1_{r}"),
            Box::new(move |v| {
                F::smooth_l1_loss(
                    v.t("a"),
                    v.t("b"),
                    F::SmoothL1LossOpts {
                        reduction: rd,
                        beta: 0.5,
                    },
                )
            }),
        ));
        v.push((
            format!("huber_{r}"),
            Box::new(move |v| {
                F::huber_loss(
                    v.t("a"),
                    v.t("b"),
                    F::HuberLossOpts {
                        reduction: rd,
                        delta: 0.7,
                        weight: None,
                    },
                )
            }),
        ));
        v.push((
            format!("mse_weight_{r}"),
            Box::new(move |v| {
                F::mse_loss(
                    v.t("a"),
                    v.t("b"),
                    F::MseLossOpts {
                        reduction: rd,
                        weight: Some(v.t("w")),
                    },
                )
            }),
        ));
        v.push((
            format!("l1_weight_{r}"),
            Box::new(move |v| {
                F::l1_loss(
                    v.t("a"),
                    v.t("b"),
                    F::L1LossOpts {
                        reduction: rd,
                        weight: Some(v.t("w")),
                    },
                )
            }),
        ));
        v.push((
            format!("huber_weight_{r}"),
            Box::new(move |v| {
                F::huber_loss(
                    v.t("a"),
                    v.t("b"),
                    F::HuberLossOpts {
                        reduction: rd,
                        weight: Some(v.t("w")),
                        ..Default::default()
                    },
                )
            }),
        ));
    }
    for s in ["broadcast", "f32", "err_shape"] {
        v.push((
            format!("mse_{s}"),
            Box::new(|v| F::mse_loss(v.t("a"), v.t("b"), Default::default())),
        ));
        v.push((
            format!("l1_{s}"),
            Box::new(|v| F::l1_loss(v.t("a"), v.t("b"), Default::default())),
        ));
        v.push((
            format!("smooth_l1_{s}"),
            Box::new(|v| F::smooth_l1_loss(v.t("a"), v.t("b"), Default::default())),
        ));
        v.push((
            format!("huber_{s}"),
            Box::new(|v| F::huber_loss(v.t("a"), v.t("b"), Default::default())),
        ));
    }
    v.push((
        "mse_err_weight".into(),
        Box::new(|v| {
            F::mse_loss(
                v.t("a"),
                v.t("b"),
                F::MseLossOpts {
                    weight: Some(v.t("w")),
                    ..Default::default()
                },
            )
        }),
    ));
    v.push((
        "l1_err_weight".into(),
        Box::new(|v| {
            F::l1_loss(
                v.t("a"),
                v.t("b"),
                F::L1LossOpts {
                    weight: Some(v.t("w")),
                    ..Default::default()
                },
            )
        }),
    ));
    v.push((
        "huber_err_weight".into(),
        Box::new(|v| {
            F::huber_loss(
                v.t("a"),
                v.t("b"),
                F::HuberLossOpts {
                    weight: Some(v.t("w")),
                    ..Default::default()
                },
            )
        }),
    ));
    v.push((
        "smooth_l1_beta0".into(),
        Box::new(|v| {
            F::smooth_l1_loss(
                v.t("a"),
                v.t("b"),
                F::SmoothL1LossOpts {
                    beta: 0.0,
                    ..Default::default()
                },
            )
        }),
    ));
    v.push((
        "smooth_l1_default_beta".into(),
        Box::new(|v| F::smooth_l1_loss(v.t("a"), v.t("b"), Default::default())),
    ));
    v.push((
        "smooth_l1_err_beta".into(),
        Box::new(|v| {
            F::smooth_l1_loss(
                v.t("a"),
                v.t("b"),
                F::SmoothL1LossOpts {
                    beta: -1.0,
                    ..Default::default()
                },
            )
        }),
    ));
    v.push((
        "huber_err_delta".into(),
        Box::new(|v| {
            F::huber_loss(
                v.t("a"),
                v.t("b"),
                F::HuberLossOpts {
                    delta: 0.0,
                    ..Default::default()
                },
            )
        }),
    ));
    v
}

/// Binary cross entropy (probabilities and logits) and KL divergence.
fn probability_cases() -> Vec<(String, Case)> {
    let mut v: Vec<(String, Case)> = vec![];
    for r in ["mean", "sum", "none"] {
        let rd = red(r);
        v.push((
            format!("bce_{r}"),
            Box::new(move |v| {
                F::binary_cross_entropy(
                    v.t("p"),
                    v.t("y"),
                    F::BinaryCrossEntropyOpts {
                        reduction: rd,
                        weight: None,
                    },
                )
            }),
        ));
        v.push((
            format!("bcel_{r}"),
            Box::new(move |v| {
                let o = F::BinaryCrossEntropyWithLogitsOpts {
                    reduction: rd,
                    ..Default::default()
                };
                F::binary_cross_entropy_with_logits(v.t("x"), v.t("y"), o)
            }),
        ));
    }
    v.push((
        "bce_weight_broadcast".into(),
        Box::new(|v| {
            F::binary_cross_entropy(
                v.t("p"),
                v.t("y"),
                F::BinaryCrossEntropyOpts {
                    weight: Some(v.t("w")),
                    ..Default::default()
                },
            )
        }),
    ));
    for n in ["bce_hard_targets", "bce_f32", "bce_err_range", "bce_err_size"] {
        v.push((
            n.into(),
            Box::new(|v| F::binary_cross_entropy(v.t("p"), v.t("y"), Default::default())),
        ));
    }
    v.push((
        "bce_log_clamp".into(),
        Box::new(|v| {
            F::binary_cross_entropy(
                v.t("p"),
                v.t("y"),
                F::BinaryCrossEntropyOpts {
                    reduction: R::None,
                    weight: None,
                },
            )
        }),
    ));
    v.push((
        "bcel_weight_pos_weight".into(),
        Box::new(|v| {
            let o = F::BinaryCrossEntropyWithLogitsOpts {
                weight: Some(v.t("w")),
                pos_weight: Some(v.t("pw")),
                ..Default::default()
            };
            F::binary_cross_entropy_with_logits(v.t("x"), v.t("y"), o)
        }),
    ));
    v.push((
        "bcel_pos_weight_sum".into(),
        Box::new(|v| {
            let o = F::BinaryCrossEntropyWithLogitsOpts {
                pos_weight: Some(v.t("pw")),
                reduction: R::Sum,
                weight: None,
            };
            F::binary_cross_entropy_with_logits(v.t("x"), v.t("y"), o)
        }),
    ));
    v.push((
        "bcel_large_logits".into(),
        Box::new(|v| {
            let o = F::BinaryCrossEntropyWithLogitsOpts {
                reduction: R::None,
                ..Default::default()
            };
            F::binary_cross_entropy_with_logits(v.t("x"), v.t("y"), o)
        }),
    ));
    v.push((
        "bcel_err_size".into(),
        Box::new(|v| F::binary_cross_entropy_with_logits(v.t("x"), v.t("y"), Default::default())),
    ));
    for (n, r) in [
        ("kl_mean", F::KlDivReduction::Mean),
        ("kl_sum", F::KlDivReduction::Sum),
        ("kl_none", F::KlDivReduction::None),
        ("kl_batchmean", F::KlDivReduction::BatchMean),
        ("kl_zero_target", F::KlDivReduction::Sum),
    ] {
        v.push((
            n.into(),
            Box::new(move |v| {
                F::kl_div(
                    v.t("q"),
                    v.t("p"),
                    F::KlDivOpts {
                        reduction: r,
                        log_target: false,
                    },
                )
            }),
        ));
    }
    v.push((
        "kl_log_target".into(),
        Box::new(|v| {
            F::kl_div(
                v.t("q"),
                v.t("lp"),
                F::KlDivOpts {
                    reduction: F::KlDivReduction::BatchMean,
                    log_target: true,
                },
            )
        }),
    ));
    v
}

/// Margin, embedding, Poisson and Gaussian losses.
fn embedding_cases() -> Vec<(String, Case)> {
    let mut v: Vec<(String, Case)> = vec![];
    for r in ["mean", "sum", "none"] {
        let rd = red(r);
        v.push((
            format!("margin_ranking_{r}"),
            Box::new(move |v| {
                F::margin_ranking_loss(
                    v.t("a"),
                    v.t("b"),
                    v.t("y"),
                    F::MarginRankingLossOpts {
                        margin: 0.3,
                        reduction: rd,
                    },
                )
            }),
        ));
        v.push((
            format!("hinge_{r}"),
            Box::new(move |v| {
                F::hinge_embedding_loss(
                    v.t("x"),
                    v.t("y"),
                    F::HingeEmbeddingLossOpts {
                        margin: 1.5,
                        reduction: rd,
                    },
                )
            }),
        ));
        v.push((
            format!("cosine_{r}"),
            Box::new(move |v| {
                F::cosine_embedding_loss(
                    v.t("a"),
                    v.t("b"),
                    v.t("y"),
                    F::CosineEmbeddingLossOpts {
                        margin: 0.2,
                        reduction: rd,
                    },
                )
            }),
        ));
        v.push((
            format!("triplet_{r}"),
            Box::new(move |v| {
                F::triplet_margin_loss(
                    v.t("a"),
                    v.t("p"),
                    v.t("n"),
                    F::TripletMarginLossOpts {
                        reduction: rd,
                        ..Default::default()
                    },
                )
            }),
        ));
        v.push((
            format!("poisson_{r}"),
            Box::new(move |v| {
                F::poisson_nll_loss(
                    v.t("x"),
                    v.t("y"),
                    F::PoissonNllLossOpts {
                        reduction: rd,
                        ..Default::default()
                    },
                )
            }),
        ));
        v.push((
            format!("gaussian_{r}"),
            Box::new(move |v| {
                let o = F::GaussianNllLossOpts {
                    reduction: rd,
                    ..Default::default()
                };
                F::gaussian_nll_loss(v.t("x"), v.t("y"), F::Var::Tensor(v.t("v")), o)
            }),
        ));
    }
    for n in ["margin_ranking_default", "margin_ranking_err_dims"] {
        v.push((
            n.into(),
            Box::new(|v| F::margin_ranking_loss(v.t("a"), v.t("b"), v.t("y"), Default::default())),
        ));
    }
    v.push((
        "hinge_default".into(),
        Box::new(|v| F::hinge_embedding_loss(v.t("x"), v.t("y"), Default::default())),
    ));
    for n in ["cosine_unbatched", "cosine_err_rank"] {
        v.push((
            n.into(),
            Box::new(|v| F::cosine_embedding_loss(v.t("a"), v.t("b"), v.t("y"), Default::default())),
        ));
    }
    let trip = |o: F::TripletMarginLossOpts| -> Case {
        Box::new(move |v| F::triplet_margin_loss(v.t("a"), v.t("p"), v.t("n"), o))
    };
    let td = F::TripletMarginLossOpts::default;
    v.push((
        "triplet_options".into(),
        trip(F::TripletMarginLossOpts {
            margin: 2.0,
            p: 1.0,
            eps: 0.01,
            swap: true,
            ..td()
        }),
    ));
    v.push((
        "triplet_p3_swap_sum".into(),
        trip(F::TripletMarginLossOpts {
            margin: 3.0,
            p: 3.0,
            swap: true,
            reduction: R::Sum,
            ..td()
        }),
    ));
    v.push((
        "triplet_err_margin".into(),
        trip(F::TripletMarginLossOpts { margin: 0.0, ..td() }),
    ));
    v.push(("triplet_err_dims".into(), trip(td())));
    v.push((
        "poisson_rate_full".into(),
        Box::new(|v| {
            let o = F::PoissonNllLossOpts {
                log_input: false,
                full: true,
                eps: 0.01,
                ..Default::default()
            };
            F::poisson_nll_loss(v.t("x"), v.t("y"), o)
        }),
    ));
    v.push((
        "poisson_full_log".into(),
        Box::new(|v| {
            F::poisson_nll_loss(
                v.t("x"),
                v.t("y"),
                F::PoissonNllLossOpts {
                    full: true,
                    reduction: R::Sum,
                    ..Default::default()
                },
            )
        }),
    ));
    let g = F::GaussianNllLossOpts::default;
    v.push((
        "gaussian_float_var_full".into(),
        Box::new(move |v| {
            F::gaussian_nll_loss(
                v.t("x"),
                v.t("y"),
                F::Var::Float(0.5),
                F::GaussianNllLossOpts { full: true, ..g() },
            )
        }),
    ));
    for n in ["gaussian_homoscedastic", "gaussian_err_size"] {
        v.push((
            n.into(),
            Box::new(move |v| F::gaussian_nll_loss(v.t("x"), v.t("y"), F::Var::Tensor(v.t("v")), g())),
        ));
    }
    v.push((
        "gaussian_broadcast_var_eps".into(),
        Box::new(move |v| {
            F::gaussian_nll_loss(
                v.t("x"),
                v.t("y"),
                F::Var::Tensor(v.t("v")),
                F::GaussianNllLossOpts { eps: 0.3, ..g() },
            )
        }),
    ));
    v.push((
        "gaussian_err_negative".into(),
        Box::new(move |v| F::gaussian_nll_loss(v.t("x"), v.t("y"), F::Var::Float(-1.0), g())),
    ));
    v
}

fn cases() -> Vec<(String, Case)> {
    let mut all = classification_cases();
    all.extend(regression_cases());
    all.extend(probability_cases());
    all.extend(embedding_cases());
    all.extend(ctc_cases());
    all
}

/// Values within `assert_close`'s default tolerance of the record.
fn compare(what: &str, ours: &Tensor, rec: &toml::Table) {
    scenario::compare(what, ours, rec, false)
}

fn check_case(case: &toml::Table, run: &Case) {
    let what = format!("case {} (Python: {})", str_of(case, "name"), str_of(case, "python"));
    let inputs = In(tables(case, "input")
        .into_iter()
        .map(|t| (str_of(t, "name").to_string(), build(t)))
        .collect());
    let grad_names: Vec<&str> = case
        .get("grad")
        .and_then(|g| g.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    for n in &grad_names {
        inputs.t(n).requires_grad_(true).unwrap();
    }
    let result = run(&inputs);
    if let Some(err) = case.get("error").and_then(|e| e.as_table()) {
        return check_error(&what, result, err);
    }
    let out = result.unwrap_or_else(|e| panic!("{what}: PyTorch succeeded but we fail: {e}"));
    compare(
        &what,
        &out,
        case.get("result").and_then(|r| r.as_table()).expect("result"),
    );
    if grad_names.is_empty() {
        return;
    }
    let up = build(case.get("upstream").and_then(|u| u.as_table()).expect("upstream"));
    let loss = ops::sum(&ops::mul(&out, &up).unwrap()).unwrap();
    let leaves: Vec<Tensor> = grad_names.iter().map(|n| inputs.t(n).clone()).collect();
    let grads =
        grad(&[loss], &leaves, &[None], None, false, true).unwrap_or_else(|e| panic!("{what}: backward failed: {e}"));
    for (rec, g) in tables(case, "grad").into_iter().zip(grads) {
        let n = str_of(rec, "name");
        let g = g.unwrap_or_else(|| panic!("{what}: no gradient for {n}"));
        compare(&format!("{what}: gradient of {n}"), &g, rec);
    }
}

#[test]
fn losses_match_pytorch() {
    let table = fixture("losses");
    let recorded = tables(&table, "case");
    let all = cases();
    let ours: HashMap<&str, &Case> = all.iter().map(|(n, c)| (n.as_str(), c)).collect();
    assert_eq!(ours.len(), all.len(), "duplicate case names in tests/losses.rs");
    let names: BTreeSet<&str> = recorded.iter().map(|c| str_of(c, "name")).collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !ours.contains_key(*n)).collect();
    assert!(missing.is_empty(), "fixture cases without a Rust spelling: {missing:?}");
    let extra: Vec<&&str> = ours.keys().filter(|n| !names.contains(*n)).collect();
    assert!(
        extra.is_empty(),
        "Rust cases not in the fixture (regenerate it): {extra:?}"
    );
    run_all("losses", &recorded, |case| check_case(case, ours[str_of(case, "name")]));
}

/// Gradients of the losses agree with finite differences, and so do the
/// second derivatives of those PyTorch differentiates twice.
#[test]
fn losses_pass_gradcheck_and_gradgradcheck() {
    use frankentorch::testing::{gradcheck, gradgradcheck};
    let x = Tensor::from_vec(vec![0.2f64, 0.7, 0.4, 0.9, 0.35, 0.6], &[2, 3]).unwrap();
    let y = Tensor::from_vec(vec![0.1f64, 0.8, 0.5, 0.3, 0.45, 0.65], &[2, 3]).unwrap();
    let t = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
    type Loss = fn(&[Tensor], &Tensor) -> Result<Vec<Tensor>>;
    let checks: Vec<(&str, Loss)> = vec![
        ("cross_entropy", |a, t| {
            Ok(vec![F::cross_entropy(
                &a[0],
                t,
                F::CrossEntropyOpts {
                    label_smoothing: 0.1,
                    ..Default::default()
                },
            )?])
        }),
        ("bce", |a, _| {
            Ok(vec![F::binary_cross_entropy(&a[0], &a[1], Default::default())?])
        }),
        ("bce_with_logits", |a, _| {
            Ok(vec![F::binary_cross_entropy_with_logits(
                &a[0],
                &a[1],
                Default::default(),
            )?])
        }),
        ("mse", |a, _| Ok(vec![F::mse_loss(&a[0], &a[1], Default::default())?])),
        ("smooth_l1", |a, _| {
            Ok(vec![F::smooth_l1_loss(
                &a[0],
                &a[1],
                F::SmoothL1LossOpts {
                    beta: 0.4,
                    ..Default::default()
                },
            )?])
        }),
        ("huber", |a, _| {
            Ok(vec![F::huber_loss(
                &a[0],
                &a[1],
                F::HuberLossOpts {
                    delta: 0.3,
                    ..Default::default()
                },
            )?])
        }),
        ("kl_div", |a, _| Ok(vec![F::kl_div(&a[0], &a[1], Default::default())?])),
        ("gaussian_nll", |a, _| {
            Ok(vec![F::gaussian_nll_loss(
                &a[0],
                &a[1],
                F::Var::Tensor(&a[1]),
                Default::default(),
            )?])
        }),
    ];
    let ctc: Loss = |a, _| {
        let lp = ops::log_softmax(&ops::reshape(&a[0], &[3, 1, 2])?, 2, None)?;
        let tg = Tensor::from_vec(vec![1i64], &[1, 1])?;
        let len = |v: i64| Tensor::from_vec(vec![v], &[1]);
        Ok(vec![F::ctc_loss(&lp, &tg, &len(3)?, &len(1)?, Default::default())?])
    };
    let mut checks = checks;
    checks.push(("ctc (through log_softmax)", ctc));
    for (name, f) in checks {
        let inputs = if name == "cross_entropy" {
            vec![x.clone()]
        } else {
            vec![x.clone(), y.clone()]
        };
        let call = |a: &[Tensor]| f(a, &t);
        gradcheck(call, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        // PyTorch does not differentiate `_ctc_loss_backward` either.
        if !name.starts_with("ctc") {
            gradgradcheck(call, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// CTC loss cases.
fn ctc_cases() -> Vec<(String, Case)> {
    let run =
        |o: F::CtcLossOpts| -> Case { Box::new(move |v| F::ctc_loss(v.t("lp"), v.t("t"), v.t("il"), v.t("tl"), o)) };
    let d = F::CtcLossOpts::default;
    vec![
        ("ctc_default".into(), run(d())),
        (
            "ctc_concat_sum".into(),
            run(F::CtcLossOpts {
                reduction: R::Sum,
                ..d()
            }),
        ),
        (
            "ctc_blank_none".into(),
            run(F::CtcLossOpts {
                blank: 4,
                reduction: R::None,
                ..d()
            }),
        ),
        (
            "ctc_zero_infinity".into(),
            run(F::CtcLossOpts {
                zero_infinity: true,
                ..d()
            }),
        ),
        (
            "ctc_infinite".into(),
            run(F::CtcLossOpts {
                reduction: R::None,
                ..d()
            }),
        ),
        (
            "ctc_unbatched".into(),
            run(F::CtcLossOpts {
                reduction: R::None,
                ..d()
            }),
        ),
        ("ctc_f32".into(), run(d())),
        ("ctc_err_blank".into(), run(F::CtcLossOpts { blank: 5, ..d() })),
        ("ctc_err_input_length".into(), run(d())),
    ]
}
