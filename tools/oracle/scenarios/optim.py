"""torch.optim optimizers trained on a fixed MLP, run in real PyTorch.

Writes tests/fixtures/scenarios/optim.toml; tests/optim.rs replays every run
under the same name through frankentorch::optim and compares. Recorded:
the MLP's initial weights and the 8 batches (see optim_common.py); per run
the optimizer, its keyword options (and per-group overrides when the
parameters are split into two groups: [w1, b1] and [w2, b2]), the loss at
each of the 50 steps (before the step), the final parameters, and
`optimizer.state_dict()` after step 25 (encoded as in optim_common.py).
Error cases record the constructor call and torch's exception message.

Usage: .venv-oracle/bin/python tools/oracle/scenarios/optim.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optim_common import PARAMS0, RESUME_AT, STEPS, X, Y, enc, f32_list, fresh_params, header, loss_at, toml_str, toml_value, torch, write  # noqa: E402

O = torch.optim
RUNS = []


def run(name, cls, opts, groups=None):
    """`groups`: per-group overrides for the split [w1, b1] / [w2, b2]."""
    RUNS.append((name, cls, opts, groups))


run("sgd_plain", "SGD", {"lr": 0.1})
run("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9})
run("sgd_dampening_wd", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.001})
run("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True})
run("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True})
run("adam_default", "Adam", {"lr": 0.01})
run("adam_amsgrad_wd", "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.01, "amsgrad": True})
run("adam_decoupled_maximize", "Adam", {"lr": 0.005, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True})
run("adamw_default", "AdamW", {"lr": 0.01})
run("adamw_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6})
run("rmsprop_default", "RMSprop", {"lr": 0.001})
run("rmsprop_centered_momentum", "RMSprop", {"lr": 0.001, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.01})
run("adagrad_default", "Adagrad", {"lr": 0.05})
run("adagrad_options", "Adagrad", {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.001, "eps": 1e-8})
run("adamax_default", "Adamax", {"lr": 0.01})
run("adamax_wd", "Adamax", {"lr": 0.01, "betas": (0.85, 0.99), "weight_decay": 0.01})
run("nadam_default", "NAdam", {"lr": 0.01})
run("nadam_decoupled", "NAdam", {"lr": 0.01, "weight_decay": 0.05, "momentum_decay": 0.01, "decoupled_weight_decay": True})
run("radam_default", "RAdam", {"lr": 0.01})
run("radam_decoupled", "RAdam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True})
run("sgd_two_groups", "SGD", {"lr": 0.05, "momentum": 0.9}, [{"lr": 0.2, "momentum": 0.5}, {"weight_decay": 0.01}])
run("adam_two_groups", "Adam", {"lr": 0.01}, [{"betas": (0.5, 0.9)}, {"lr": 0.002, "amsgrad": True}])

ERRORS = [
    ("err_sgd_lr", "SGD", {"lr": -1.0}),
    ("err_sgd_momentum", "SGD", {"momentum": -0.5}),
    ("err_sgd_weight_decay", "SGD", {"weight_decay": -0.1}),
    ("err_sgd_nesterov", "SGD", {"nesterov": True}),
    ("err_adam_beta0", "Adam", {"betas": (1.0, 0.999)}),
    ("err_adam_beta1", "Adam", {"betas": (0.9, -0.1)}),
    ("err_adam_eps", "Adam", {"eps": -1e-08}),
    ("err_adamw_lr", "AdamW", {"lr": -0.001}),
    ("err_rmsprop_alpha", "RMSprop", {"alpha": -0.9}),
    ("err_adagrad_lr_decay", "Adagrad", {"lr_decay": -0.5}),
    ("err_adagrad_initial_acc", "Adagrad", {"initial_accumulator_value": -1.0}),
    ("err_adamax_beta", "Adamax", {"betas": (0.9, 1.5)}),
    ("err_nadam_momentum_decay", "NAdam", {"momentum_decay": -0.004}),
    ("err_radam_weight_decay", "RAdam", {"weight_decay": -0.01}),
]


def base_errors():
    """Errors of the Optimizer base class (Rust spells each under its name)."""
    p = fresh_params()
    two = O.SGD([{"params": p[:2]}, {"params": p[2:]}], lr=0.1)
    one = O.SGD(p, lr=0.1)
    cases = {
        "empty_params": lambda: O.SGD([], lr=0.1),
        "non_leaf": lambda: O.SGD([p[0] * 2], lr=0.1),
        "param_in_two_groups": lambda: O.SGD([{"params": [p[0]]}, {"params": [p[0], p[1]]}], lr=0.1),
        "load_group_count": lambda: one.load_state_dict(two.state_dict()),
        "load_group_size": lambda: O.SGD([{"params": p[:1]}, {"params": p[1:]}], lr=0.1).load_state_dict(two.state_dict()),
    }
    lines = []
    for name, f in cases.items():
        try:
            f()
        except ValueError as e:
            lines += ["", "[[base_error]]", f"name = {toml_str(name)}", f"message = {toml_str(str(e))}"]
            continue
        raise SystemExit(f"{name}: torch accepted it")
    return lines


def build(cls, params, opts, groups):
    if groups is not None:
        # Overrides in sorted key order: the order the TOML table gives the Rust test.
        params = [dict(params=params[:2], **dict(sorted(groups[0].items()))), dict(params=params[2:], **dict(sorted(groups[1].items())))]
    return getattr(O, cls)(params, **opts)


def opts_lines(opts):
    return [f"opts = {toml_value({k: list(v) if isinstance(v, tuple) else v for k, v in opts.items()})}"]


def run_lines(name, cls, opts, groups):
    params = fresh_params()
    opt = build(cls, params, opts, groups)
    lines = ["", "[[run]]", f"name = {toml_str(name)}", f"optimizer = {toml_str(cls)}"] + opts_lines(opts)
    if groups is not None:
        lines.append(f"groups = {toml_value([{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in groups])}")
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_at(params, step)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step + 1 == RESUME_AT:
            lines.append(f"state_dict = {toml_value(enc(opt.state_dict()))}")
    lines.append(f"losses = {toml_value(losses)}")
    for n, p in zip(["w1", "b1", "w2", "b2"], params):
        lines.append(f"final_{n} = {f32_list(p)}")
    return lines


def error_lines(name, cls, opts):
    try:
        getattr(O, cls)(fresh_params(), **opts)
    except ValueError as e:
        return ["", "[[error]]", f"name = {toml_str(name)}", f"optimizer = {toml_str(cls)}"] + opts_lines(opts) + [f"message = {toml_str(str(e))}"]
    raise SystemExit(f"{name}: torch accepted {opts}")


def main():
    lines = header("optim.py")
    lines += ["", "[data]"]
    for n, p in zip(["w1", "b1", "w2", "b2"], PARAMS0):
        lines.append(f"{n} = {f32_list(p)}")
    lines.append(f"x = {f32_list(X)}")
    lines.append(f"y = {toml_value(Y.reshape(-1).tolist())}")
    names = [r[0] for r in RUNS] + [e[0] for e in ERRORS]
    assert len(names) == len(set(names))
    for r in RUNS:
        lines += run_lines(*r)
    for e in ERRORS:
        lines += error_lines(*e)
    lines += base_errors()
    write("optim", lines)


if __name__ == "__main__":
    main()
