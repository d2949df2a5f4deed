//! `frankentorch::optim::lr_scheduler` against PyTorch: every run of
//! `tests/fixtures/scenarios/lr_scheduler.toml` (written by
//! `tools/oracle/scenarios/lr_scheduler.py`) builds the same scheduler on the
//! same optimizer and trains the fixture's MLP for 50 steps, comparing the
//! learning rates after construction and after every step, the momentum
//! (or beta1) OneCycleLR cycles, the losses and final parameters, and after
//! step 25 the scheduler's `state_dict()` and the optimizer's param groups;
//! a fresh optimizer and scheduler that load both state dicts must then
//! finish on torch's trajectory. Invalid arguments fail with torch's message.

#[path = "support/training.rs"]
mod training;

use frankentorch::optim::lr_scheduler::*;
use frankentorch::optim::*;
use frankentorch::prelude::*;
use frankentorch::state_value::StateValue;
use frankentorch::ErrorKind;
use training::*;

enum Sched {
    Epoch(Box<dyn LRScheduler>),
    Plateau(ReduceLROnPlateau),
}

impl Sched {
    fn step(&mut self, opt: &mut dyn Optimizer, metric: f64) -> Result<()> {
        match self {
            Sched::Epoch(s) => s.step(opt),
            Sched::Plateau(s) => s.step(opt, metric),
        }
    }
    fn last_lr(&self) -> Vec<f64> {
        match self {
            Sched::Epoch(s) => s.get_last_lr(),
            Sched::Plateau(s) => s.get_last_lr(),
        }
    }
    fn state_dict(&self) -> frankentorch::state_value::StateDict {
        match self {
            Sched::Epoch(s) => s.state_dict(),
            Sched::Plateau(s) => s.state_dict(),
        }
    }
    fn load_state_dict(&mut self, sd: &frankentorch::state_value::StateDict) -> Result<()> {
        match self {
            Sched::Epoch(s) => s.load_state_dict(sd),
            Sched::Plateau(s) => s.load_state_dict(sd),
        }
    }
}

fn sgd(p: &[Tensor]) -> Box<dyn Optimizer> {
    Box::new(
        SGD::new(
            p.to_vec(),
            SgdOpts {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap(),
    )
}

fn sgd_groups(p: &[Tensor]) -> Box<dyn Optimizer> {
    let groups = vec![
        ParamGroup::new(p[..2].to_vec()),
        ParamGroup::new(p[2..].to_vec()).set("lr", 0.05),
    ];
    Box::new(
        SGD::new(
            groups,
            SgdOpts {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap(),
    )
}

/// The optimizer each run uses (as in lr_scheduler.py).
fn make_opt(name: &str, p: &[Tensor]) -> Box<dyn Optimizer> {
    match name {
        "lambda_two_groups"
        | "exponential"
        | "warm_restarts_t1"
        | "onecycle_no_momentum_groups"
        | "plateau_min_lr_groups"
        | "chained_multistep_linear" => sgd_groups(p),
        "onecycle_adam" => Box::new(
            Adam::new(
                p.to_vec(),
                AdamOpts {
                    lr: 0.01,
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        _ => sgd(p),
    }
}

fn boxed<S: LRScheduler + 'static>(s: Result<S>) -> Result<Sched> {
    Ok(Sched::Epoch(Box::new(s?)))
}

/// Each run's scheduler, spelled as the Python call it mirrors.
fn make_sched(name: &str, o: &mut dyn Optimizer) -> Result<Sched> {
    match name {
        "lambda" => boxed(LambdaLR::new(o, vec![Box::new(|e| 0.95f64.powf(e as f64))], -1)),
        "lambda_two_groups" => boxed(LambdaLR::new(
            o,
            vec![Box::new(|e| 0.9f64.powf(e as f64)), Box::new(|e| 1.0 / (1 + e) as f64)],
            -1,
        )),
        "step" => boxed(StepLR::new(
            o,
            7,
            StepLROpts {
                gamma: 0.5,
                ..Default::default()
            },
        )),
        "multistep" => boxed(MultiStepLR::new(
            o,
            vec![10, 20, 20, 35],
            MultiStepLROpts {
                gamma: 0.5,
                ..Default::default()
            },
        )),
        "constant" => boxed(ConstantLR::new(
            o,
            ConstantLROpts {
                factor: 0.25,
                total_iters: 8,
                ..Default::default()
            },
        )),
        "linear" => boxed(LinearLR::new(
            o,
            LinearLROpts {
                start_factor: 0.2,
                end_factor: 0.9,
                total_iters: 20,
                ..Default::default()
            },
        )),
        "exponential" => boxed(ExponentialLR::new(o, 0.93, -1)),
        "cosine" => boxed(CosineAnnealingLR::new(
            o,
            20,
            CosineAnnealingLROpts {
                eta_min: 0.001,
                ..Default::default()
            },
        )),
        "warm_restarts" => boxed(CosineAnnealingWarmRestarts::new(
            o,
            5,
            CosineAnnealingWarmRestartsOpts {
                t_mult: 2,
                eta_min: 0.005,
                ..Default::default()
            },
        )),
        "warm_restarts_t1" => boxed(CosineAnnealingWarmRestarts::new(o, 7, Default::default())),
        "onecycle_cos" => boxed(OneCycleLR::new(
            o,
            0.5,
            OneCycleLROpts {
                total_steps: Some(50),
                ..Default::default()
            },
        )),
        "onecycle_linear_three_phase" => boxed(OneCycleLR::new(
            o,
            0.3,
            OneCycleLROpts {
                epochs: Some(5),
                steps_per_epoch: Some(12),
                pct_start: 0.25,
                anneal_strategy: AnnealStrategy::Linear,
                div_factor: 10.0,
                final_div_factor: 100.0,
                three_phase: true,
                ..Default::default()
            },
        )),
        "onecycle_adam" => boxed(OneCycleLR::new(
            o,
            0.02,
            OneCycleLROpts {
                total_steps: Some(55),
                base_momentum: 0.8.into(),
                max_momentum: 0.9.into(),
                ..Default::default()
            },
        )),
        "onecycle_no_momentum_groups" => boxed(OneCycleLR::new(
            o,
            vec![0.3, 0.1],
            OneCycleLROpts {
                total_steps: Some(50),
                cycle_momentum: false,
                ..Default::default()
            },
        )),
        "plateau_min_rel" => Ok(Sched::Plateau(ReduceLROnPlateau::new(
            o,
            ReduceLROnPlateauOpts {
                patience: 2,
                factor: 0.5,
                ..Default::default()
            },
        )?)),
        "plateau_max_abs_cooldown" => Ok(Sched::Plateau(ReduceLROnPlateau::new(
            o,
            ReduceLROnPlateauOpts {
                mode: PlateauMode::Max,
                threshold_mode: ThresholdMode::Abs,
                threshold: 0.01,
                cooldown: 2,
                patience: 1,
                factor: 0.7,
                min_lr: 0.01.into(),
                ..Default::default()
            },
        )?)),
        "plateau_min_lr_groups" => Ok(Sched::Plateau(ReduceLROnPlateau::new(
            o,
            ReduceLROnPlateauOpts {
                patience: 1,
                factor: 0.3,
                min_lr: vec![0.02, 0.001].into(),
                eps: 1e-3,
                ..Default::default()
            },
        )?)),
        "sequential" => {
            let a = LinearLR::new(
                o,
                LinearLROpts {
                    start_factor: 0.1,
                    total_iters: 5,
                    ..Default::default()
                },
            )?;
            let b = CosineAnnealingLR::new(o, 30, Default::default())?;
            boxed(SequentialLR::new(o, vec![Box::new(a), Box::new(b)], vec![5], -1))
        }
        "sequential_three" => {
            let a = ConstantLR::new(
                o,
                ConstantLROpts {
                    factor: 0.5,
                    total_iters: 3,
                    ..Default::default()
                },
            )?;
            let b = ExponentialLR::new(o, 0.9, -1)?;
            let c = StepLR::new(
                o,
                5,
                StepLROpts {
                    gamma: 0.5,
                    ..Default::default()
                },
            )?;
            boxed(SequentialLR::new(
                o,
                vec![Box::new(a), Box::new(b), Box::new(c)],
                vec![10, 25],
                -1,
            ))
        }
        "chained" => {
            let a = ConstantLR::new(
                o,
                ConstantLROpts {
                    factor: 0.5,
                    total_iters: 5,
                    ..Default::default()
                },
            )?;
            let b = ExponentialLR::new(o, 0.95, -1)?;
            boxed(ChainedScheduler::new(o, vec![Box::new(a), Box::new(b)]))
        }
        "chained_multistep_linear" => {
            let a = MultiStepLR::new(
                o,
                vec![5, 15],
                MultiStepLROpts {
                    gamma: 0.5,
                    ..Default::default()
                },
            )?;
            let b = LinearLR::new(
                o,
                LinearLROpts {
                    start_factor: 0.5,
                    total_iters: 10,
                    ..Default::default()
                },
            )?;
            boxed(ChainedScheduler::new(o, vec![Box::new(a), Box::new(b)]))
        }
        other => panic!("fixture run {other} has no Rust counterpart"),
    }
}

fn momentum_of(opt: &dyn Optimizer) -> f64 {
    let g = &opt.param_groups()[0];
    match g.get("betas") {
        Some(b) => b.as_pair().unwrap().0,
        None => g.get("momentum").unwrap().as_f64().unwrap(),
    }
}

fn check_lrs(what: &str, ours: &[f64], run: &toml::Table, index: usize) {
    let groups = run["lrs"].as_array().unwrap();
    assert_eq!(ours.len(), groups.len(), "{what}: group count");
    for (g, (o, rec)) in ours.iter().zip(groups).enumerate() {
        let want = floats(rec)[index];
        assert!(
            (o - want).abs() <= 1e-12 * want.abs().max(1e-300),
            "{what}: lr of group {g} is {o}, torch {want}"
        );
    }
}

#[test]
fn schedules_match_torch() {
    let fx = fixture("lr_scheduler");
    let data = Data::load();
    let runs = fx["run"].as_array().unwrap();
    assert!(runs.len() >= 21, "fixture has {} runs", runs.len());
    for run in runs {
        let run = run.as_table().unwrap();
        let name = run["name"].as_str().unwrap();
        let losses = floats(&run["losses"]);
        let momenta = floats(&run["momenta"]);
        let metrics = run.get("metrics").map(floats).unwrap_or_else(|| vec![0.0; STEPS]);
        let p = data.fresh(None);
        let mut opt = make_opt(name, &p);
        let mut sched = make_sched(name, opt.as_mut()).unwrap();
        check_lrs(&format!("{name} initial"), &sched.last_lr(), run, 0);
        assert_eq!(momentum_of(opt.as_ref()), momenta[0], "{name}: initial momentum");
        let mut saved = None;
        let train = |opt: &mut dyn Optimizer, sched: &mut Sched, p: &[Tensor], step: usize| {
            opt.zero_grad(true).unwrap();
            let loss = data.loss(p, step);
            backward(&loss).unwrap();
            opt.step().unwrap();
            sched.step(opt, metrics[step]).unwrap();
            loss.item().unwrap().to_f64()
        };
        for step in 0..STEPS {
            let loss = train(opt.as_mut(), &mut sched, &p, step);
            let what = format!("{name} step {step}");
            check_loss(&what, loss, losses[step]);
            check_lrs(&what, &sched.last_lr(), run, step + 1);
            let m = momentum_of(opt.as_ref());
            assert!(
                (m - momenta[step + 1]).abs() <= 1e-12,
                "{what}: momentum {m}, torch {}",
                momenta[step + 1]
            );
            if step + 1 == RESUME_AT {
                let sd = StateValue::Dict(sched.state_dict());
                check_state(&format!("{name} scheduler state_dict"), &sd, &run["state_dict"], 1e-12);
                let osd = opt.state_dict();
                let groups = osd.get("param_groups").unwrap();
                check_state(&format!("{name} param_groups"), groups, &run["param_groups"], 1e-12);
                saved = Some((
                    sd.deep_clone().unwrap(),
                    StateValue::Dict(osd).deep_clone().unwrap(),
                    snapshot(&p),
                ));
            }
        }
        check_params(name, &p, run);

        let (ssd, osd, values) = saved.unwrap();
        let q = data.fresh(Some(&values));
        let mut opt2 = make_opt(name, &q);
        let mut sched2 = make_sched(name, opt2.as_mut()).unwrap();
        opt2.load_state_dict(osd.as_dict().unwrap()).unwrap();
        sched2.load_state_dict(ssd.as_dict().unwrap()).unwrap();
        for (step, want) in losses.iter().enumerate().skip(RESUME_AT) {
            let loss = train(opt2.as_mut(), &mut sched2, &q, step);
            let what = format!("{name} resumed step {step}");
            check_loss(&what, loss, *want);
            check_lrs(&what, &sched2.last_lr(), run, step + 1);
        }
        check_params(&format!("{name} resumed"), &q, run);
    }
}

fn error_cases(data: &Data) -> Vec<(&'static str, Result<()>)> {
    let p = data.fresh(None);
    let mut o = sgd(&p);
    let o = o.as_mut();
    let ok = |r: Result<Sched>| r.map(|_| ());
    let too_many_steps = || -> Result<()> {
        let mut opt = sgd(&data.fresh(None));
        let mut s = OneCycleLR::new(
            opt.as_mut(),
            0.1,
            OneCycleLROpts {
                total_steps: Some(3),
                ..Default::default()
            },
        )?;
        for _ in 0..4 {
            s.step(opt.as_mut())?;
        }
        Ok(())
    };
    let mut adagrad = Adagrad::new(data.fresh(None), AdagradOpts::default()).unwrap();
    let mut fresh = sgd(&data.fresh(None));
    vec![
        (
            "constant_factor",
            ok(boxed(ConstantLR::new(
                o,
                ConstantLROpts {
                    factor: 1.5,
                    ..Default::default()
                },
            ))),
        ),
        (
            "linear_start_factor",
            ok(boxed(LinearLR::new(
                o,
                LinearLROpts {
                    start_factor: 0.0,
                    ..Default::default()
                },
            ))),
        ),
        (
            "linear_end_factor",
            ok(boxed(LinearLR::new(
                o,
                LinearLROpts {
                    end_factor: 2.0,
                    ..Default::default()
                },
            ))),
        ),
        (
            "warm_restarts_t0",
            ok(boxed(CosineAnnealingWarmRestarts::new(o, 0, Default::default()))),
        ),
        (
            "warm_restarts_t_mult",
            ok(boxed(CosineAnnealingWarmRestarts::new(
                o,
                3,
                CosineAnnealingWarmRestartsOpts {
                    t_mult: 0,
                    ..Default::default()
                },
            ))),
        ),
        (
            "onecycle_pct_start",
            ok(boxed(OneCycleLR::new(
                o,
                0.1,
                OneCycleLROpts {
                    total_steps: Some(10),
                    pct_start: 1.5,
                    ..Default::default()
                },
            ))),
        ),
        (
            "onecycle_no_steps",
            ok(boxed(OneCycleLR::new(o, 0.1, Default::default()))),
        ),
        (
            "onecycle_total_steps",
            ok(boxed(OneCycleLR::new(
                o,
                0.1,
                OneCycleLROpts {
                    total_steps: Some(-2),
                    ..Default::default()
                },
            ))),
        ),
        (
            "onecycle_no_momentum",
            ok(boxed(OneCycleLR::new(
                &mut adagrad,
                0.1,
                OneCycleLROpts {
                    total_steps: Some(10),
                    ..Default::default()
                },
            ))),
        ),
        (
            "onecycle_max_lr_count",
            ok(boxed(OneCycleLR::new(
                o,
                vec![0.1, 0.2],
                OneCycleLROpts {
                    total_steps: Some(10),
                    ..Default::default()
                },
            ))),
        ),
        ("onecycle_too_many_steps", too_many_steps()),
        (
            "plateau_factor",
            ReduceLROnPlateau::new(
                o,
                ReduceLROnPlateauOpts {
                    factor: 1.0,
                    ..Default::default()
                },
            )
            .map(|_| ()),
        ),
        (
            "plateau_min_lr_count",
            ReduceLROnPlateau::new(
                o,
                ReduceLROnPlateauOpts {
                    min_lr: vec![0.1, 0.2].into(),
                    ..Default::default()
                },
            )
            .map(|_| ()),
        ),
        ("sequential_milestones", {
            let a = ExponentialLR::new(o, 0.9, -1).unwrap();
            let b = ExponentialLR::new(o, 0.5, -1).unwrap();
            ok(boxed(SequentialLR::new(
                o,
                vec![Box::new(a), Box::new(b)],
                vec![3, 6],
                -1,
            )))
        }),
        (
            "resume_without_initial_lr",
            ok(boxed(StepLR::new(
                fresh.as_mut(),
                3,
                StepLROpts {
                    last_epoch: 4,
                    ..Default::default()
                },
            ))),
        ),
    ]
}

#[test]
fn invalid_arguments_fail_like_torch() {
    let fx = fixture("lr_scheduler");
    let data = Data::load();
    let ours = error_cases(&data);
    let recorded = fx["error"].as_array().unwrap();
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
            .unwrap_or_else(|| panic!("{name}: torch raised {message:?}, we did not"));
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
        assert!(e.to_string().contains(message), "{name}: {e} vs torch {message:?}");
        assert!(e.to_string().starts_with("lr_scheduler."), "{name}: {e}");
    }
}
