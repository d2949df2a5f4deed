//! `frankentorch::optim` against PyTorch: every run of
//! `tests/fixtures/scenarios/optim.toml` (written by
//! `tools/oracle/scenarios/optim.py`) trains the fixture's MLP for 50 steps
//! with the same optimizer and options, comparing the loss at every step,
//! the final parameters and `state_dict()` after step 25; the state dict is
//! then loaded into a fresh optimizer over a fresh copy of the parameters,
//! which must finish the run on torch's trajectory. Invalid options and the
//! base class's errors must fail with torch's message.

#[path = "support/training.rs"]
mod training;

use frankentorch::optim::*;
use frankentorch::prelude::*;
use frankentorch::state_value::StateValue;
use frankentorch::ErrorKind;
use training::*;

fn f(o: &toml::Table, k: &str, d: f64) -> f64 {
    o.get(k).map_or(d, |v| {
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap()
    })
}
fn b(o: &toml::Table, k: &str, d: bool) -> bool {
    o.get(k).map_or(d, |v| v.as_bool().unwrap())
}
fn pair(o: &toml::Table, k: &str, d: (f64, f64)) -> (f64, f64) {
    o.get(k).map_or(d, |v| {
        let a = floats(v);
        (a[0], a[1])
    })
}

/// Builds the optimizer named `name` with the fixture's keyword options.
fn build(name: &str, o: &toml::Table, params: Params) -> Result<Box<dyn Optimizer>> {
    Ok(match name {
        "SGD" => {
            let d = SgdOpts::default();
            Box::new(SGD::new(
                params,
                SgdOpts {
                    lr: f(o, "lr", d.lr),
                    momentum: f(o, "momentum", d.momentum),
                    dampening: f(o, "dampening", d.dampening),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    nesterov: b(o, "nesterov", d.nesterov),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "Adam" => {
            let d = AdamOpts::default();
            Box::new(Adam::new(
                params,
                AdamOpts {
                    lr: f(o, "lr", d.lr),
                    betas: pair(o, "betas", d.betas),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    amsgrad: b(o, "amsgrad", d.amsgrad),
                    maximize: b(o, "maximize", d.maximize),
                    decoupled_weight_decay: b(o, "decoupled_weight_decay", d.decoupled_weight_decay),
                },
            )?)
        }
        "AdamW" => {
            let d = AdamWOpts::default();
            Box::new(AdamW::new(
                params,
                AdamWOpts {
                    lr: f(o, "lr", d.lr),
                    betas: pair(o, "betas", d.betas),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    amsgrad: b(o, "amsgrad", d.amsgrad),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "RMSprop" => {
            let d = RmspropOpts::default();
            Box::new(RMSprop::new(
                params,
                RmspropOpts {
                    lr: f(o, "lr", d.lr),
                    alpha: f(o, "alpha", d.alpha),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    momentum: f(o, "momentum", d.momentum),
                    centered: b(o, "centered", d.centered),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "Adagrad" => {
            let d = AdagradOpts::default();
            Box::new(Adagrad::new(
                params,
                AdagradOpts {
                    lr: f(o, "lr", d.lr),
                    lr_decay: f(o, "lr_decay", d.lr_decay),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    initial_accumulator_value: f(o, "initial_accumulator_value", d.initial_accumulator_value),
                    eps: f(o, "eps", d.eps),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "Adamax" => {
            let d = AdamaxOpts::default();
            Box::new(Adamax::new(
                params,
                AdamaxOpts {
                    lr: f(o, "lr", d.lr),
                    betas: pair(o, "betas", d.betas),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "NAdam" => {
            let d = NAdamOpts::default();
            Box::new(NAdam::new(
                params,
                NAdamOpts {
                    lr: f(o, "lr", d.lr),
                    betas: pair(o, "betas", d.betas),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    momentum_decay: f(o, "momentum_decay", d.momentum_decay),
                    decoupled_weight_decay: b(o, "decoupled_weight_decay", d.decoupled_weight_decay),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        "RAdam" => {
            let d = RAdamOpts::default();
            Box::new(RAdam::new(
                params,
                RAdamOpts {
                    lr: f(o, "lr", d.lr),
                    betas: pair(o, "betas", d.betas),
                    eps: f(o, "eps", d.eps),
                    weight_decay: f(o, "weight_decay", d.weight_decay),
                    decoupled_weight_decay: b(o, "decoupled_weight_decay", d.decoupled_weight_decay),
                    maximize: b(o, "maximize", d.maximize),
                },
            )?)
        }
        other => panic!("unknown optimizer {other}"),
    })
}

/// The run's parameters as the optimizer takes them: one list, or the
/// fixture's two groups ([w1, b1], [w2, b2]) with their overrides.
fn params_of(run: &toml::Table, p: &[Tensor]) -> Params {
    match run.get("groups").and_then(|g| g.as_array()) {
        None => p.to_vec().into(),
        Some(groups) => {
            let mut out = vec![];
            for (g, chunk) in groups.iter().zip(p.chunks(2)) {
                let mut pg = ParamGroup::new(chunk.to_vec());
                for (k, v) in g.as_table().unwrap() {
                    pg = pg.set(k, option_value(v));
                }
                out.push(pg);
            }
            out.into()
        }
    }
}

fn train_step(data: &Data, opt: &mut dyn Optimizer, p: &[Tensor], step: usize) -> f64 {
    opt.zero_grad(true).unwrap();
    let loss = data.loss(p, step);
    backward(&loss).unwrap();
    opt.step().unwrap();
    loss.item().unwrap().to_f64()
}

#[test]
fn training_runs_match_torch() {
    let fx = fixture("optim");
    let data = Data::load();
    let runs = fx["run"].as_array().unwrap();
    assert!(runs.len() >= 22, "fixture has {} runs", runs.len());
    for run in runs {
        let run = run.as_table().unwrap();
        let name = run["name"].as_str().unwrap();
        let kind = run["optimizer"].as_str().unwrap();
        let opts = run["opts"].as_table().unwrap();
        let losses = floats(&run["losses"]);
        let p = data.fresh(None);
        let mut opt = build(kind, opts, params_of(run, &p)).unwrap();
        let mut saved = None;
        for (step, want) in losses.iter().enumerate() {
            let loss = train_step(&data, opt.as_mut(), &p, step);
            check_loss(&format!("{name} step {step}"), loss, *want);
            if step + 1 == RESUME_AT {
                let sd = StateValue::Dict(opt.state_dict());
                check_state(&format!("{name} state_dict"), &sd, &run["state_dict"], 1e-4);
                saved = Some((sd.deep_clone().unwrap(), snapshot(&p)));
            }
        }
        check_params(name, &p, run);

        // Resume: fresh parameters holding the step-25 values, a fresh optimizer, the saved state.
        let (sd, values) = saved.unwrap();
        let q = data.fresh(Some(&values));
        let mut resumed = build(kind, opts, params_of(run, &q)).unwrap();
        resumed.load_state_dict(sd.as_dict().unwrap()).unwrap();
        for (step, want) in losses.iter().enumerate().skip(RESUME_AT) {
            let loss = train_step(&data, resumed.as_mut(), &q, step);
            check_loss(&format!("{name} resumed step {step}"), loss, *want);
        }
        check_params(&format!("{name} resumed"), &q, run);
    }
}

#[test]
fn invalid_options_fail_like_torch() {
    let fx = fixture("optim");
    let data = Data::load();
    for case in fx["error"].as_array().unwrap() {
        let case = case.as_table().unwrap();
        let name = case["name"].as_str().unwrap();
        let message = case["message"].as_str().unwrap();
        let r = build(
            case["optimizer"].as_str().unwrap(),
            case["opts"].as_table().unwrap(),
            data.fresh(None).into(),
        );
        let e = r
            .err()
            .unwrap_or_else(|| panic!("{name}: torch raised {message:?}, we accepted"));
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
        assert!(
            e.to_string().contains(message),
            "{name}: {e} does not contain torch's {message:?}"
        );
        assert!(
            e.to_string().starts_with("optim."),
            "{name}: {e} does not name the optimizer"
        );
    }
}

fn base_error_cases(data: &Data) -> Vec<(&'static str, Result<()>)> {
    let p = data.fresh(None);
    let sgd = |params: Params| {
        SGD::new(
            params,
            SgdOpts {
                lr: 0.1,
                ..Default::default()
            },
        )
    };
    let two = sgd(vec![ParamGroup::new(p[..2].to_vec()), ParamGroup::new(p[2..].to_vec())].into()).unwrap();
    let mut one = sgd(p.clone().into()).unwrap();
    let mut uneven = sgd(vec![ParamGroup::new(p[..1].to_vec()), ParamGroup::new(p[1..].to_vec())].into()).unwrap();
    vec![
        ("empty_params", sgd(Vec::<Tensor>::new().into()).map(|_| ())),
        ("non_leaf", sgd(vec![p[0].mul_scalar(2.0).unwrap()].into()).map(|_| ())),
        (
            "param_in_two_groups",
            sgd(vec![
                ParamGroup::new(vec![p[0].clone()]),
                ParamGroup::new(vec![p[0].clone(), p[1].clone()]),
            ]
            .into())
            .map(|_| ()),
        ),
        ("load_group_count", one.load_state_dict(&two.state_dict())),
        ("load_group_size", uneven.load_state_dict(&two.state_dict())),
    ]
}

#[test]
fn base_errors_match_torch() {
    let fx = fixture("optim");
    let data = Data::load();
    let ours = base_error_cases(&data);
    let recorded = fx["base_error"].as_array().unwrap();
    assert_eq!(ours.len(), recorded.len(), "case count differs from the fixture");
    for rec in recorded {
        let name = rec["name"].as_str().unwrap();
        let message = rec["message"].as_str().unwrap();
        let (_, r) = ours
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("fixture case {name} has no Rust counterpart"));
        let e = r
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{name}: torch raised, we did not"));
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
        assert!(e.to_string().contains(message), "{name}: {e} vs torch {message:?}");
    }
}

#[test]
fn zero_grad_keeps_or_clears_gradients() {
    let data = Data::load();
    let p = data.fresh(None);
    let mut opt = SGD::new(p.clone(), SgdOpts::default()).unwrap();
    backward(&data.loss(&p, 0)).unwrap();
    opt.zero_grad(false).unwrap();
    let g = p[0].grad().expect("set_to_none=false keeps the tensor");
    assert!(g.to_f64_vec().iter().all(|v| *v == 0.0));
    opt.zero_grad(true).unwrap();
    assert!(p.iter().all(|t| t.grad().is_none()));
    // No gradient: step leaves the parameter (and SGD's state) alone.
    let before = snapshot(&p);
    opt.step().unwrap();
    assert_eq!(snapshot(&p), before);
    assert!(opt.state_dict().get("state").unwrap().as_dict().unwrap().is_empty());
}

#[test]
fn parameters_without_gradient_are_skipped() {
    // As torch: only parameters whose .grad is set are updated and get state.
    let data = Data::load();
    let p = data.fresh(None);
    let mut opt = Adam::new(p.clone(), AdamOpts::default()).unwrap();
    let before = snapshot(&p);
    backward(&data.loss(&p, 0)).unwrap();
    p[0].set_grad(None).unwrap();
    opt.step().unwrap();
    let after = snapshot(&p);
    assert_eq!(after[0], before[0], "w1 had no gradient");
    assert_ne!(after[2], before[2], "w2 had a gradient");
    let sd = opt.state_dict();
    let state = sd.get("state").unwrap().as_dict().unwrap();
    let keys: Vec<String> = state.keys().map(|k| k.to_string()).collect();
    assert_eq!(keys, ["1", "2", "3"]);
}

#[test]
fn group_options_are_checked_and_unsupported_modes_refused() {
    let data = Data::load();
    let p = data.fresh(None);
    let bad = SGD::new(
        vec![ParamGroup::new(p.clone()).set("nesterov", 0.5)],
        SgdOpts::default(),
    );
    let e = bad.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("'nesterov'"), "{e}");

    // A state dict from a fused optimizer loads, but stepping with it is refused.
    let mut opt = Adam::new(p.clone(), AdamOpts::default()).unwrap();
    let mut sd = opt.state_dict();
    if let Some(StateValue::List(groups)) = sd.get_mut("param_groups") {
        if let StateValue::Dict(g) = &mut groups[0] {
            g.insert("fused", true);
        }
    }
    opt.load_state_dict(&sd).unwrap();
    backward(&data.loss(&p, 0)).unwrap();
    let e = opt.step().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
}

#[test]
fn state_dict_is_shared_until_deep_cloned() {
    // torch's state_dict() returns the live tensors; deep_clone is copy.deepcopy.
    let data = Data::load();
    let p = data.fresh(None);
    let mut opt = SGD::new(
        p.clone(),
        SgdOpts {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    backward(&data.loss(&p, 0)).unwrap();
    opt.step().unwrap();
    let live = StateValue::Dict(opt.state_dict());
    let copy = live.deep_clone().unwrap();
    let buf = |v: &StateValue| {
        v.as_dict()
            .unwrap()
            .get("state")
            .unwrap()
            .as_dict()
            .unwrap()
            .get(0i64)
            .unwrap()
            .as_dict()
            .unwrap()
            .get("momentum_buffer")
            .unwrap()
            .as_tensor()
            .unwrap()
            .to_f64_vec()
    };
    let first = buf(&live);
    opt.step().unwrap();
    assert_ne!(buf(&live), first, "the live state dict follows the optimizer");
    assert_eq!(buf(&copy), first, "the deep copy does not");
}
