"""Scenario fixtures for the activation functions of `nn::functional` (F::).

Each case calls the real `torch.nn.functional.<fn>(*inputs, *args, **kwargs)`
and records what PyTorch did in tests/fixtures/scenarios/activations.toml;
tests/activations.rs replays every case by name through `F::`.

A case is a dict:
  name     unique name; tests/activations.rs must have a case of that name
  fn       the torch.nn.functional function
  inputs   tensor specs in the oracle's sample language (tools/oracle/FORMAT.md),
           built with seeds 0, 1, ...; a `*K` suffix multiplies the built tensor
           by the integer K (`*4` reaches the outer pieces of hardswish & co.,
           exactly in every dtype; `*0` puts every element on a kink)
  args     (optional) further positional arguments
  kwargs   (optional) keyword arguments
  inplace  (optional) call with inplace=True on a clone of the first input
           (which is a leaf when floating), so gradients flow through the write
  error    (optional) the FrankenTorch ErrorKind expected; torch must raise

Recorded per case: the result (dtype, shape, strides, values); when a floating
input exists, the gradients of the result with the oracle's upstream gradient
(output 0) for every floating input; when every tensor is float64, the
second-order gradients: d/d(inputs) of sum_i <grad_i, v_i> with v_i the
oracle's upstream gradient of index 1 + i, or the error torch raised
computing them.

Run: .venv-oracle/bin/python tools/oracle/scenarios/activations.py
"""

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from oracle import TORCH_VERSION, build_tensor, flat_values, toml_str, toml_value, upstream  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "activations.toml")
FLOATS = {torch.float16, torch.bfloat16, torch.float32, torch.float64}


def case(name, fn, inputs, *args, inplace=False, error=None, **kwargs):
    return dict(name=name, fn=fn, inputs=inputs, args=list(args), kwargs=kwargs, inplace=inplace, error=error)


CASES = [
    # ------------------------------------------------------------ rectifiers
    case("relu", "relu", ["f64[3,4]"]),
    case("relu_transposed_f32", "relu", ["f32[4,3]:t"]),
    case("relu_int", "relu", ["i64[5]"]),
    case("relu_empty", "relu", ["f64[0,2]"]),
    case("relu_inplace", "relu", ["f64[3,4]"], inplace=True),
    case("relu_bool", "relu", ["bool[3]"], error="DType"),
    case("relu6", "relu6", ["f64[3,4]*4"]),
    case("relu6_int", "relu6", ["i32[6]*4"]),
    case("relu6_inplace", "relu6", ["f64[2,3]*4"], inplace=True),
    case("relu6_bool", "relu6", ["bool[3]"], error="DType"),
    case("leaky_relu", "leaky_relu", ["f64[3,4]"]),
    case("leaky_relu_slope", "leaky_relu", ["f64[4,3]:t"], negative_slope=0.2),
    case("leaky_relu_f16", "leaky_relu", ["f16[2,3]"], 0.3),
    case("leaky_relu_inplace", "leaky_relu", ["f64[3,4]"], negative_slope=0.1, inplace=True),
    case("leaky_relu_int", "leaky_relu", ["u8[3]"], error="DType"),
    case("threshold", "threshold", ["f64[3,4]"], 0.5, -1.0),
    case("threshold_int", "threshold", ["i64[6]"], 1, 9),
    case("threshold_zero_dim", "threshold", ["f32[]"], 0.0, 2.0),
    case("threshold_inplace", "threshold", ["f64[2,3]:step"], 0.0, 0.5, inplace=True),
    case("threshold_bool", "threshold", ["bool[3]"], 0.0, 1.0, error="DType"),
    case("hardtanh", "hardtanh", ["f64[3,4]*4"]),
    case("hardtanh_bounds", "hardtanh", ["f64[4,3]:t"], min_val=-0.5, max_val=0.75),
    case("hardtanh_int", "hardtanh", ["i32[6]"], -1.0, 2.0),
    case("hardtanh_inplace", "hardtanh", ["f64[3,4]*4"], min_val=0.0, max_val=2.0, inplace=True),
    case("hardtanh_bad_bounds", "hardtanh", ["f64[3]"], min_val=1.0, max_val=0.0, error="InvalidArgument"),
    case("prelu_one_slope", "prelu", ["f64[2,3,4,5]", "f64[1]"]),
    case("prelu_per_channel", "prelu", ["f64[2,3,4,5]", "f64[3]"]),
    case("prelu_per_channel_transposed", "prelu", ["f32[4,3]:t", "f32[3]"]),
    case("prelu_1d_input", "prelu", ["f64[6]", "f64[1]"]),
    case("prelu_zero_dim_weight", "prelu", ["f64[2,3]", "f64[]"]),
    case("prelu_wrong_slope_count", "prelu", ["f64[2,3,4]", "f64[2]"], error="ShapeMismatch"),
    case("prelu_1d_input_many_slopes", "prelu", ["f64[6]", "f64[6]"], error="ShapeMismatch"),
    case("prelu_2d_weight", "prelu", ["f64[2,3]", "f64[1,3]"], error="InvalidArgument"),
    # ---------------------------------------------------------- exponential
    case("elu", "elu", ["f64[3,4]"]),
    case("elu_alpha", "elu", ["f32[4,3]:t"], alpha=0.5),
    case("elu_inplace", "elu", ["f64[3,4]"], alpha=2.0, inplace=True),
    case("elu_int", "elu", ["i64[3]"], error="DType"),
    case("selu", "selu", ["f64[3,4]"]),
    case("selu_bf16", "selu", ["bf16[2,3]:offset"]),
    case("selu_inplace", "selu", ["f64[3,4]"], inplace=True),
    case("celu", "celu", ["f64[3,4]"]),
    case("celu_alpha", "celu", ["f64[4,3]:t"], alpha=2.5),
    case("celu_inplace", "celu", ["f64[3,4]"], alpha=0.5, inplace=True),
    case("celu_zero_alpha", "celu", ["f64[3]"], alpha=0.0, error="InvalidArgument"),
    case("gelu", "gelu", ["f64[3,4]"]),
    case("gelu_none", "gelu", ["f32[4,3]:t"], approximate="none"),
    case("gelu_tanh", "gelu", ["f64[3,4]"], approximate="tanh"),
    case("gelu_tanh_f16", "gelu", ["f16[2,3]"], approximate="tanh"),
    # ------------------------------------------------------------- logistic
    case("sigmoid", "sigmoid", ["f64[3,4]"]),
    case("sigmoid_f32_step", "sigmoid", ["f32[2,3]:step"]),
    case("tanh", "tanh", ["f64[3,4]"]),
    case("tanh_zero_dim", "tanh", ["f32[]"]),
    case("silu", "silu", ["f64[3,4]*4"]),
    case("silu_f16", "silu", ["f16[2,3]"]),
    case("silu_inplace", "silu", ["f64[3,4]"], inplace=True),
    case("mish", "mish", ["f64[3,4]*4"]),
    case("mish_f32_step", "mish", ["f32[2,3]:step"]),
    case("mish_inplace", "mish", ["f64[3,4]"], inplace=True),
    case("softplus", "softplus", ["f64[3,4]*4"]),
    case("softplus_beta_threshold", "softplus", ["f64[4,3]:t"], beta=2, threshold=1),
    case("softplus_beta", "softplus", ["f32[6]"], beta=0.5),
    case("softplus_threshold", "softplus", ["f64[6]*4"], threshold=2.5),
    case("logsigmoid", "logsigmoid", ["f64[3,4]*4"]),
    case("logsigmoid_f32_offset", "logsigmoid", ["f32[2,3]:offset"]),
    case("logsigmoid_int", "logsigmoid", ["i64[3]"], error="DType"),
    case("hardsigmoid", "hardsigmoid", ["f64[3,4]*4"]),
    case("hardsigmoid_f32_t", "hardsigmoid", ["f32[4,3]:t"]),
    case("hardsigmoid_inplace", "hardsigmoid", ["f64[3,4]*4"], inplace=True),
    case("hardswish", "hardswish", ["f64[3,4]*4"]),
    case("hardswish_bf16", "hardswish", ["bf16[2,3]*4"]),
    case("hardswish_inplace", "hardswish", ["f64[3,4]*4"], inplace=True),
    case("glu", "glu", ["f64[3,4]"]),
    case("glu_dim0_transposed", "glu", ["f64[6,4]:t"], dim=0),
    case("glu_dim1_3d", "glu", ["f32[2,6,2]:step"], 1),
    case("glu_odd", "glu", ["f64[3,5]"], error="InvalidArgument"),
    case("glu_scalar", "glu", ["f64[]"], error="InvalidArgument"),
    case("glu_dim_out_of_range", "glu", ["f64[3,4]"], dim=2, error="DimOutOfRange"),
    # ------------------------------------------------------ Python-composed
    case("softsign", "softsign", ["f64[3,4]*4"]),
    case("softsign_f32_t", "softsign", ["f32[4,3]:t"]),
    case("softsign_int", "softsign", ["i64[5]"]),
    case("tanhshrink", "tanhshrink", ["f64[3,4]"]),
    case("tanhshrink_f32_step", "tanhshrink", ["f32[2,3]:step"]),
    case("softmax", "softmax", ["f64[3,4]"], dim=-1),
    case("softmax_implicit_dim_1d", "softmax", ["f64[5]"]),
    case("softmax_implicit_dim_2d", "softmax", ["f64[3,4]"]),
    case("softmax_dtype", "softmax", ["f16[2,3]"], dim=0, dtype=torch.float32),
    case("softmax_bad_dim", "softmax", ["f64[2,3]"], dim=2, error="DimOutOfRange"),
    case("log_softmax", "log_softmax", ["f64[3,4]:t"], dim=0),
    case("log_softmax_implicit_dim_4d", "log_softmax", ["f64[2,3,2,2]"]),
    case("log_softmax_dtype", "log_softmax", ["f32[2,3]"], dim=1, dtype=torch.float64),
    case("softmin", "softmin", ["f64[3,4]"], dim=1),
    case("softmin_implicit_dim_3d", "softmin", ["f64[2,3,2]"]),
    case("softmin_dtype", "softmin", ["f32[2,3]"], dim=0, dtype=torch.float64),
    case("softmin_int_needs_dtype", "softmin", ["i32[2,3]"], dim=1, error="DType"),
    # ------------------------- at the kinks: inputs of exactly (signed) zero
    case("relu_at_zero", "relu", ["f64[4]*0"]),
    case("relu6_at_zero", "relu6", ["f64[4]*0"]),
    case("leaky_relu_at_zero", "leaky_relu", ["f64[4]*0"], 0.2),
    case("threshold_at_zero", "threshold", ["f64[4]*0"], 0.0, 5.0),
    case("hardtanh_at_min", "hardtanh", ["f64[4]*0"], min_val=0.0, max_val=2.0),
    case("elu_at_zero", "elu", ["f64[4]*0"], alpha=1.5),
    case("celu_at_zero", "celu", ["f64[4]*0"], alpha=0.5),
    case("selu_at_zero", "selu", ["f64[4]*0"]),
    case("gelu_at_zero", "gelu", ["f64[4]*0"]),
    case("gelu_tanh_at_zero", "gelu", ["f64[4]*0"], approximate="tanh"),
    case("silu_at_zero", "silu", ["f64[4]*0"]),
    case("softplus_at_zero", "softplus", ["f64[4]*0"], beta=2, threshold=0),
    case("prelu_at_zero", "prelu", ["f64[2,2]*0", "f64[2]"]),
    case("hardswish_at_zero", "hardswish", ["f64[4]*0"]),
]


def build(spec, seed):
    """An input tensor: the oracle's spec, then the optional `*4` scale."""
    spec, _, scale = spec.partition("*")
    t = build_tensor(spec, seed)
    return t * int(scale) if scale else t


def tensor_lines(t, strides=False):
    lines = [f"dtype = {toml_str(str(t.dtype).removeprefix('torch.'))}", f"shape = {toml_value(list(t.shape))}"]
    if strides:
        lines.append(f"strides = {toml_value(list(t.stride()))}")
    return lines + [f"values = {toml_value(flat_values(t))}"]


def python_of(c):
    parts = [f"x{i}" for i in range(len(c["inputs"]))] + [repr(a) for a in c["args"]]
    parts += [f"{k}={v!r}" for k, v in c["kwargs"].items()]
    if c["inplace"]:
        parts.append("inplace=True")
    return f"F.{c['fn']}({', '.join(parts)})"


def call(c, inputs):
    fn = getattr(F, c["fn"])
    kwargs = dict(c["kwargs"])
    if c["inplace"]:
        kwargs["inplace"] = True
        first = inputs[0].clone()
        result = fn(first, *inputs[1:], *c["args"], **kwargs)
        assert result is first, f"{c['name']}: in-place call returned another tensor"
        return result
    return fn(*inputs, *c["args"], **kwargs)


def second_order(c, leaves, result):
    """Lines for d/d(leaves) sum_i <grad_i, v_i>, or torch's error."""
    try:
        up = upstream(list(result.shape), result.dtype, 0)
        firsts = torch.autograd.grad(result, leaves, up, create_graph=True)
        total = sum((g * upstream(list(g.shape), g.dtype, 1 + i)).sum() for i, g in enumerate(firsts))
        seconds = torch.autograd.grad(total, leaves, allow_unused=True)
    except RuntimeError as e:
        return ["", "[case.double_error]", f"message = {toml_str(str(e).splitlines()[0])}"]
    lines = []
    for i, g in enumerate(seconds):
        g = torch.zeros_like(leaves[i]) if g is None else g
        lines += ["", "[[case.grad2]]", f"input = {i}"] + tensor_lines(g)
    return lines


def case_lines(c):
    inputs = [build(s, i) for i, s in enumerate(c["inputs"])]
    lines = ["", "[[case]]", f"name = {toml_str(c['name'])}", f"python = {toml_str(python_of(c))}"]
    lines += [f"inputs = {toml_value(c['inputs'])}", f"inplace = {toml_value(c['inplace'])}"]
    leaves = [t for t in inputs if t.dtype in FLOATS]
    try:
        result = call(c, inputs)
    except Exception as e:  # noqa: BLE001 - errors are outcomes
        if c["error"] is None:
            raise SystemExit(f"{c['name']}: torch raised {type(e).__name__}: {e}")
        msg = str(e).splitlines()[0]
        return lines + ["", "[case.error]", f"kind = {toml_str(c['error'])}", f"torch = {toml_str(type(e).__name__)}", f"message = {toml_str(msg)}"]
    if c["error"] is not None:
        raise SystemExit(f"{c['name']}: declares error {c['error']} but torch did not raise")
    lines += ["", "[case.result]"] + tensor_lines(result, strides=True)
    if not leaves or result.dtype not in FLOATS:
        return lines
    for t in leaves:
        t.requires_grad_(True)
    result = call(c, inputs)
    grads = torch.autograd.grad(result, leaves, upstream(list(result.shape), result.dtype, 0), allow_unused=True)
    for t, g in zip(leaves, grads):
        g = torch.zeros_like(t) if g is None else g
        lines += ["", "[[case.grad]]", f"input = {next(i for i, x in enumerate(inputs) if x is t)}"] + tensor_lines(g)
    if all(t.dtype == torch.float64 for t in inputs):
        lines += second_order(c, leaves, call(c, inputs))
    return lines


def main():
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        raise SystemExit(f"need torch {TORCH_VERSION}, found {torch.__version__}")
    torch.set_num_threads(1)
    names = [c["name"] for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"duplicate case names: {sorted(dup)}")
    lines = [
        "# Generated by tools/oracle/scenarios/activations.py from real PyTorch; do not edit.",
        f"# torch {TORCH_VERSION}; {len(CASES)} cases.",
    ]
    for c in CASES:
        lines += case_lines(c)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    text = "\n".join(lines) + "\n"
    old = open(OUT).read() if os.path.exists(OUT) else None
    if old != text:
        with open(OUT, "w") as f:
            f.write(text)
    print(f"{len(CASES)} cases -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # the implicit softmax dim's deprecation warning
    main()
