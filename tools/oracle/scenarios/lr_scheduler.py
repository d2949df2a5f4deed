"""torch.optim.lr_scheduler schedulers driving SGD (or Adam) on the fixed
MLP of optim_common.py, run in real PyTorch.

Writes tests/fixtures/scenarios/lr_scheduler.toml; tests/lr_scheduler.rs
builds every run under the same name and compares. Recorded per run: the
learning rates of each group after construction and after each of the 50
steps (`get_last_lr()`), the momentum (or Adam's beta1) of group 0 for
OneCycleLR runs, the loss at each step, the final parameters, and after
step 25 the scheduler's `state_dict()` and the optimizer's param_groups
(encoded as in optim_common.py). The script also checks that resuming
(fresh optimizer and scheduler, then load_state_dict of both) reproduces
torch's own trajectory, which the Rust test requires of ours.
Error cases record torch's exception message.

Usage: .venv-oracle/bin/python tools/oracle/scenarios/lr_scheduler.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optim_common import RESUME_AT, STEPS, deepcopy_sd, enc, f32_list, fresh_params, header, loss_at, toml_str, toml_value, torch, write  # noqa: E402

O = torch.optim
S = torch.optim.lr_scheduler
METRICS = [round(1.0 / (1 + 0.3 * i), 6) if i < 12 else round(0.22 + 0.01 * ((i * 7) % 5), 6) for i in range(STEPS)]
RUNS = []


def sgd(p):
    return O.SGD(p, lr=0.1, momentum=0.9)


def sgd_groups(p):
    return O.SGD([{"params": p[:2]}, {"params": p[2:], "lr": 0.05}], lr=0.1, momentum=0.9)


def run(name, make_opt, make_sched, plateau=False):
    RUNS.append((name, make_opt, make_sched, plateau))


run("lambda", sgd, lambda o: S.LambdaLR(o, lambda e: 0.95**e))
run("lambda_two_groups", sgd_groups, lambda o: S.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1.0 / (1 + e)]))
run("step", sgd, lambda o: S.StepLR(o, 7, gamma=0.5))
run("multistep", sgd, lambda o: S.MultiStepLR(o, [10, 20, 20, 35], gamma=0.5))
run("constant", sgd, lambda o: S.ConstantLR(o, factor=0.25, total_iters=8))
run("linear", sgd, lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=20))
run("exponential", sgd_groups, lambda o: S.ExponentialLR(o, 0.93))
run("cosine", sgd, lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.001))
run("warm_restarts", sgd, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.005))
run("warm_restarts_t1", sgd_groups, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7))
run("onecycle_cos", sgd, lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=50))
run("onecycle_linear_three_phase", sgd, lambda o: S.OneCycleLR(o, max_lr=0.3, epochs=5, steps_per_epoch=12, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True))
run("onecycle_adam", lambda p: O.Adam(p, lr=0.01), lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=55, base_momentum=0.8, max_momentum=0.9))
run("onecycle_no_momentum_groups", sgd_groups, lambda o: S.OneCycleLR(o, max_lr=[0.3, 0.1], total_steps=50, cycle_momentum=False))
run("plateau_min_rel", sgd, lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5), plateau=True)
run("plateau_max_abs_cooldown", sgd, lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.01, cooldown=2, patience=1, factor=0.7, min_lr=0.01), plateau=True)
run("plateau_min_lr_groups", sgd_groups, lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.3, min_lr=[0.02, 0.001], eps=1e-3), plateau=True)
run("sequential", sgd, lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=30)], milestones=[5]))
run("sequential_three", sgd, lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3), S.ExponentialLR(o, 0.9), S.StepLR(o, 5, gamma=0.5)], milestones=[10, 25]))
run("chained", sgd, lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=5), S.ExponentialLR(o, gamma=0.95)]))
run("chained_multistep_linear", sgd_groups, lambda o: S.ChainedScheduler([S.MultiStepLR(o, [5, 15], gamma=0.5), S.LinearLR(o, start_factor=0.5, total_iters=10)]))


def momentum_of(opt):
    g = opt.param_groups[0]
    return g["betas"][0] if "betas" in g else g["momentum"]


def train(make_opt, make_sched, plateau, params, opt, sched, start, stop, record):
    for step in range(start, stop):
        opt.zero_grad()
        loss = loss_at(params, step)
        loss.backward()
        opt.step()
        if plateau:
            sched.step(METRICS[step])
        else:
            sched.step()
        record(step, loss.item(), opt, sched)


def run_lines(name, make_opt, make_sched, plateau):
    params = fresh_params()
    opt = make_opt(params)
    sched = make_sched(opt)
    lrs = [list(sched.get_last_lr())]
    momenta = [momentum_of(opt)]
    losses = []
    saved = {}

    def record(step, loss, opt, sched):
        losses.append(loss)
        lrs.append(list(sched.get_last_lr()))
        momenta.append(momentum_of(opt))
        if step + 1 == RESUME_AT:
            saved["sched"] = deepcopy_sd(sched.state_dict())
            saved["opt"] = deepcopy_sd(opt.state_dict())
            saved["params"] = [p.detach().clone() for p in params]

    train(make_opt, make_sched, plateau, params, opt, sched, 0, STEPS, record)
    # torch's own resume must reproduce the trajectory (the Rust test checks ours does).
    q = fresh_params(saved["params"])
    opt2 = make_opt(q)
    sched2 = make_sched(opt2)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    lrs2 = []
    train(make_opt, make_sched, plateau, q, opt2, sched2, RESUME_AT, STEPS, lambda s, l, o, sc: lrs2.append(list(sc.get_last_lr())))
    assert lrs2 == lrs[RESUME_AT + 1:], (name, lrs2[:3], lrs[RESUME_AT + 1:RESUME_AT + 4])
    for a, b in zip(q, params):
        assert torch.equal(a, b), name
    by_group = [[step[g] for step in lrs] for g in range(len(lrs[0]))]
    lines = ["", "[[run]]", f"name = {toml_str(name)}", f"lrs = {toml_value(by_group)}", f"momenta = {toml_value(momenta)}", f"losses = {toml_value(losses)}"]
    if plateau:
        lines.append(f"metrics = {toml_value(METRICS)}")
    lines.append(f"state_dict = {toml_value(enc(saved['sched']))}")
    lines.append(f"param_groups = {toml_value(enc(saved['opt']['param_groups']))}")
    for n, p in zip(["w1", "b1", "w2", "b2"], params):
        lines.append(f"final_{n} = {f32_list(p)}")
    return lines


def error_cases():
    p = fresh_params()
    o = sgd(p)

    def too_many_steps():
        s = S.OneCycleLR(sgd(fresh_params()), max_lr=0.1, total_steps=3)
        for _ in range(4):
            s.step()

    return {
        "constant_factor": lambda: S.ConstantLR(o, factor=1.5),
        "linear_start_factor": lambda: S.LinearLR(o, start_factor=0.0),
        "linear_end_factor": lambda: S.LinearLR(o, end_factor=2.0),
        "warm_restarts_t0": lambda: S.CosineAnnealingWarmRestarts(o, T_0=0),
        "warm_restarts_t_mult": lambda: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=0),
        "onecycle_pct_start": lambda: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
        "onecycle_no_steps": lambda: S.OneCycleLR(o, max_lr=0.1),
        "onecycle_total_steps": lambda: S.OneCycleLR(o, max_lr=0.1, total_steps=-2),
        "onecycle_no_momentum": lambda: S.OneCycleLR(O.Adagrad(fresh_params()), max_lr=0.1, total_steps=10),
        "onecycle_max_lr_count": lambda: S.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=10),
        "onecycle_too_many_steps": too_many_steps,
        "plateau_factor": lambda: S.ReduceLROnPlateau(o, factor=1.0),
        "plateau_min_lr_count": lambda: S.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
        "sequential_milestones": lambda: S.SequentialLR(o, [S.ExponentialLR(o, 0.9), S.ExponentialLR(o, 0.5)], milestones=[3, 6]),
        "resume_without_initial_lr": lambda: S.StepLR(sgd(fresh_params()), 3, last_epoch=4),
    }


def error_lines():
    lines = []
    for name, f in error_cases().items():
        try:
            f()
        except (ValueError, KeyError) as e:
            msg = e.args[0] if isinstance(e, KeyError) else str(e)
            lines += ["", "[[error]]", f"name = {toml_str(name)}", f"torch = {toml_str(type(e).__name__)}", f"message = {toml_str(msg.splitlines()[0])}"]
            continue
        raise SystemExit(f"{name}: torch accepted it")
    return lines


def main():
    lines = header("lr_scheduler.py")
    names = [r[0] for r in RUNS]
    assert len(names) == len(set(names))
    for r in RUNS:
        lines += run_lines(*r)
    lines += error_lines()
    write("lr_scheduler", lines)


if __name__ == "__main__":
    main()
