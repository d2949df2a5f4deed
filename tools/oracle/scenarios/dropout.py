"""Scenario fixtures for FrankenTorch's dropout functions (src/nn/functional/dropout.rs).

Each case calls the real `torch.nn.functional.<fn>(x, **kwargs)` right after
`torch.manual_seed(seed)` and records the output, and (for float64 inputs) the
gradient of `(out * w).sum()` with respect to `x`, where `w` is a fixed
weight tensor (`1 + k/10` for element k). In-place cases run on `x.clone()`
of a leaf `x`, so the gradient flows back through the in-place write.
tests/dropout.rs replays every case through `F::` by name.

Inputs: element k of a tensor of shape S and dtype D is `(k % 7) - 3 + 0.25`
(stored contiguously; `t = True` stores it transposed in its last two dims).

Run with the oracle venv from the repository root:
    .venv-oracle/bin/python tools/oracle/scenarios/dropout.py
"""

import os
import sys
import warnings

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from oracle import TORCH_VERSION, flat_values, toml_str, toml_value  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "dropout.toml")

DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def make_input(shape, dtype, t=False):
    n = 1
    for s in shape:
        n *= s
    vals = torch.tensor([(k % 7) - 3 + 0.25 for k in range(n)], dtype=torch.float64)
    if t:
        stored = list(shape[:-2]) + [shape[-1], shape[-2]]
        return vals.reshape(stored).transpose(-1, -2).to(DTYPES[dtype])
    return vals.reshape(shape).to(DTYPES[dtype])


def weights(shape):
    n = 1
    for s in shape:
        n *= s
    return torch.tensor([1 + k / 10 for k in range(n)], dtype=torch.float64).reshape(shape)


def case(name, fn, shape, dtype="float64", seed=0, t=False, error=None, **kwargs):
    return dict(name=name, fn=fn, shape=shape, dtype=dtype, seed=seed, t=t, error=error, kwargs=kwargs)


CASES = [
    # F.dropout: p, training, inplace, dtypes, layouts, sizes across the 16-element boundary
    case("dropout_default", "dropout", [3, 4]),
    case("dropout_p03", "dropout", [5, 6], seed=1, p=0.3),
    case("dropout_p09", "dropout", [100], seed=42, p=0.9),
    case("dropout_p0", "dropout", [3, 4], seed=2, p=0.0),
    case("dropout_p1", "dropout", [3, 4], seed=3, p=1.0),
    case("dropout_eval", "dropout", [3, 4], seed=4, training=False),
    case("dropout_transposed", "dropout", [4, 6], seed=2024, t=True, p=0.25),
    case("dropout_f32", "dropout", [17], dtype="float32", seed=5, p=0.4),
    case("dropout_f16", "dropout", [15], dtype="float16", seed=6, p=0.4),
    case("dropout_bf16", "dropout", [16], dtype="bfloat16", seed=7, p=0.4),
    case("dropout_scalar", "dropout", [], seed=8),
    case("dropout_empty", "dropout", [0, 3], seed=9),
    case("dropout_inplace", "dropout", [3, 5], seed=10, p=0.6, inplace=True),
    case("dropout_inplace_eval", "dropout", [3, 5], seed=10, inplace=True, training=False),
    case("dropout_bad_p", "dropout", [3], error="InvalidArgument", p=1.5),
    case("dropout_neg_p", "dropout", [3], error="InvalidArgument", p=-0.1, inplace=True),
    # channel-wise
    case("dropout1d_batched", "dropout1d", [2, 3, 4], seed=0, p=0.5),
    case("dropout1d_unbatched", "dropout1d", [3, 4], seed=1, p=0.3),
    case("dropout1d_unbatched_inplace", "dropout1d", [3, 4], seed=1, p=0.3, inplace=True),
    case("dropout1d_eval", "dropout1d", [2, 3, 4], seed=2, training=False),
    case("dropout1d_bad_dim", "dropout1d", [2, 3, 4, 5], error="InvalidArgument"),
    case("dropout2d_4d", "dropout2d", [2, 5, 3, 3], seed=0),
    case("dropout2d_3d", "dropout2d", [4, 5, 2], seed=1, p=0.25),
    case("dropout2d_f32_inplace", "dropout2d", [2, 4, 2, 2], dtype="float32", seed=2, p=0.5, inplace=True),
    case("dropout2d_transposed", "dropout2d", [2, 3, 4, 5], seed=42, t=True, p=0.5),
    case("dropout2d_eval", "dropout2d", [2, 3, 2, 2], seed=3, training=False),
    case("dropout2d_p1", "dropout2d", [2, 3, 2, 2], seed=3, p=1.0),
    case("dropout2d_bad_p", "dropout2d", [2, 3, 2, 2], error="InvalidArgument", p=2.0),
    case("dropout3d_5d", "dropout3d", [2, 3, 2, 2, 2], seed=0, p=0.5),
    case("dropout3d_4d", "dropout3d", [3, 2, 2, 2], seed=2024, p=0.5),
    case("dropout3d_4d_inplace", "dropout3d", [3, 2, 2, 2], seed=2024, p=0.5, inplace=True),
    # alpha
    case("alpha_dropout_default_eval", "alpha_dropout", [3, 4], seed=0),
    case("alpha_dropout_train", "alpha_dropout", [5, 6], seed=1, training=True),
    case("alpha_dropout_p02", "alpha_dropout", [40], seed=42, p=0.2, training=True),
    case("alpha_dropout_p1", "alpha_dropout", [3, 4], seed=2, p=1.0, training=True),
    case("alpha_dropout_f32_inplace", "alpha_dropout", [3, 4], dtype="float32", seed=3, p=0.3, training=True, inplace=True),
    case("alpha_dropout_bad_p", "alpha_dropout", [3], error="InvalidArgument", p=-1.0, training=True),
    case("feature_alpha_dropout_eval", "feature_alpha_dropout", [2, 3, 4], seed=0),
    case("feature_alpha_dropout_train", "feature_alpha_dropout", [2, 3, 4], seed=1, p=0.4, training=True),
    case("feature_alpha_dropout_inplace", "feature_alpha_dropout", [4, 3, 2], seed=2, p=0.5, training=True, inplace=True),
    case("feature_alpha_dropout_1d", "feature_alpha_dropout", [4], seed=3, p=0.5, training=True, error="InvalidArgument"),
    case("feature_alpha_dropout_bad_p", "feature_alpha_dropout", [2, 3], error="InvalidArgument", p=1.2),
]


def tensor_lines(t):
    return [f'dtype = "{str(t.dtype).removeprefix("torch.")}"', f"shape = {toml_value(list(t.shape))}", f"values = {toml_value(flat_values(t))}"]


def case_lines(c):
    lines = ["", "[[case]]", f"name = {toml_str(c['name'])}", f"fn = {toml_str(c['fn'])}", f'dtype = "{c["dtype"]}"', f"shape = {toml_value(c['shape'])}", f"t = {toml_value(c['t'])}", f"seed = {c['seed']}"]
    for k, v in c["kwargs"].items():
        lines.append(f"{k} = {toml_value(v)}")
    x = make_input(c["shape"], c["dtype"], c["t"])
    grad = x.dtype == torch.float64
    if grad:
        x = x.detach().requires_grad_(True)
    arg = x.clone() if c["kwargs"].get("inplace") and grad else x
    torch.manual_seed(c["seed"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(F, c["fn"])(arg, **c["kwargs"])
    except Exception as e:  # noqa: BLE001 - errors are outcomes
        if not c["error"]:
            raise SystemExit(f"{c['name']}: torch raised {type(e).__name__}: {e}")
        msg = str(e).splitlines()[0]
        return lines + ["", "[case.error]", f"kind = {toml_str(c['error'])}", f"torch = {toml_str(type(e).__name__)}", f"message = {toml_str(msg)}"]
    if c["error"]:
        raise SystemExit(f"{c['name']}: declares error {c['error']} but torch did not raise")
    lines += ["", "[case.result]"] + tensor_lines(out)
    lines.append(f"is_input = {toml_value(out is arg)}")
    if grad and out.requires_grad:
        (out * weights(c["shape"])).sum().backward()
        lines += ["", "[case.grad]"] + tensor_lines(x.grad)
    return lines


def main():
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        raise SystemExit(f"need torch {TORCH_VERSION}, found {torch.__version__}")
    torch.set_num_threads(1)
    names = [c["name"] for c in CASES]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate case names")
    lines = ["# Generated by tools/oracle/scenarios/dropout.py from real PyTorch; do not edit.", f"# torch {TORCH_VERSION}; {len(CASES)} cases."]
    for c in CASES:
        lines += case_lines(c)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(CASES)} cases -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
