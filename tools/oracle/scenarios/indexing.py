"""Scenario fixtures for the Rust indexing API (src/indexing/).

Each case is a Python subscript expression (or an assignment statement) run
with real PyTorch; the outcome goes to tests/fixtures/scenarios/indexing.toml
and tests/indexing.rs checks the Rust spelling of the same case (by name).

A case is a dict:
  name    unique name; tests/indexing.rs must have a case of that name
  inputs  {name: python expression}; evaluated with `A` (arange reshaped),
          `T` (torch.tensor) and `torch` in scope (default dtype float64), made contiguous and fresh
  expr    the Python expression (kind "get"/"grad") or statements ("set")
  kind    "get" (default): record the result (dtype, shape, strides, offset,
          whether it shares storage with an input, values);
          "set": run the statements, record every input afterwards;
          "grad": inputs that are floating point require grad; record the
          result and the gradients of `result.sum()`;
          "set_grad": like "grad", but `expr` is statements that leave the
          result in `y` (assignment into a tensor computed from the inputs)
  error   (optional) the FrankenTorch ErrorKind expected; torch must raise
  msg     (optional, with error) a substring of torch's message that our
          message must contain too

Run: .venv-oracle/bin/python tools/oracle/scenarios/indexing.py
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from oracle import TORCH_VERSION, flat_values, same_storage, toml_str, toml_value  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "indexing.toml")


def A(*shape, dtype=torch.float64):
    """arange over the shape's element count, reshaped (values = flat positions)."""
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n, dtype=torch.float64).reshape(shape).to(dtype)


T = torch.tensor
X = {"x": "A(5, 6, 7)"}
X2 = {"x": "A(3, 4)"}


def with_x(x=X, **more):
    return {**x, **more}


CASES = [
    # ------------------------------------------------------------ integers
    dict(name="int_first", inputs=X, expr="x[2]"),
    dict(name="int_neg", inputs=X, expr="x[-1]"),
    dict(name="int_pair", inputs=X, expr="x[1, -2]"),
    dict(name="int_all_dims", inputs=X, expr="x[4, 5, 6]"),
    # -------------------------------------------------------------- slices
    dict(name="slice_range", inputs=X, expr="x[1:4]"),
    dict(name="slice_step", inputs=X, expr="x[1:5:2]"),
    dict(name="slice_open_start", inputs=X, expr="x[:3]"),
    dict(name="slice_open_end", inputs=X, expr="x[2:]"),
    dict(name="slice_full", inputs=X, expr="x[:]"),
    dict(name="slice_neg_bounds", inputs=X, expr="x[-3:-1]"),
    dict(name="slice_clamped", inputs=X, expr="x[1:100, -100:2]"),
    dict(name="slice_steps_only", inputs=X, expr="x[::3, :, ::2]"),
    dict(name="slice_inclusive", inputs=X, expr="x[:, 1:4]"),
    dict(name="slice_empty", inputs=X, expr="x[4:2]"),
    dict(name="slice_of_transpose", inputs={"y": "A(4, 6)"}, expr="y.t()[1:5, ::2]"),
    # -------------------------------------------------- new axes, ellipsis
    dict(name="newaxis_front", inputs=X, expr="x[None]"),
    dict(name="newaxis_middle", inputs=X, expr="x[:, None, 1]"),
    dict(name="newaxis_end_twice", inputs=X, expr="x[..., None, None]"),
    dict(name="ellipsis_only", inputs=X, expr="x[...]"),
    dict(name="ellipsis_start", inputs=X, expr="x[..., 2]"),
    dict(name="ellipsis_middle", inputs=X, expr="x[1, ..., 3]"),
    dict(name="ellipsis_end", inputs=X, expr="x[0, 1:3, ...]"),
    dict(name="ellipsis_twice", inputs=X, expr="x[..., 0, ...]"),
    dict(name="basic_mix", inputs=X, expr="x[1:4:2, None, ..., -1]"),
    dict(name="empty_subscript", inputs=X, expr="x[()]"),
    dict(name="slice_step_beyond_size", inputs=X, expr="x[::10, 5:, ::4]"),
    dict(name="i32_input", inputs={"x": "A(4, 5, dtype=torch.int32)"}, expr="x[1::2, ..., 1:4:2]"),
    dict(name="bf16_input_mask", inputs={"x": "A(3, 4, dtype=torch.bfloat16)", "m": "T([True, False, True])"}, expr="x[m, 1]"),
    dict(name="zero_dim_input_newaxis", inputs={"z": "T(5.0)"}, expr="z[None]"),
    dict(name="empty_input", inputs={"e": "A(0, 3)"}, expr="e[:, 1]"),
    dict(name="f16_input", inputs={"h": "A(2, 3, dtype=torch.float16)"}, expr="h[:, 1:]"),
    # ------------------------------------------------------ index tensors
    dict(name="tensor_1d", inputs=with_x(i="T([0, 4, 2])"), expr="x[i]"),
    dict(name="tensor_negative", inputs=with_x(i="T([-1, -5, 0])"), expr="x[i]"),
    dict(name="tensor_2d", inputs=with_x(i="T([[0, 1], [2, 3]])"), expr="x[i]"),
    dict(name="tensor_i32", inputs=with_x(i="T([3, 1], dtype=torch.int32)"), expr="x[i]"),
    dict(name="tensor_broadcast_pair", inputs=with_x(i="T([[0], [2]])", j="T([1, 3, 5])"), expr="x[i, j]"),
    dict(name="tensor_after_slice", inputs=with_x(i="T([0, 1])"), expr="x[:, i]"),
    dict(name="tensor_separated", inputs=with_x(i="T([0, 1])", j="T([2, 3])"), expr="x[i, :, j]"),
    dict(name="tensor_adjacent_pair", inputs=with_x(i="T([0, 1])", j="T([2, 3])"), expr="x[:, i, j]"),
    dict(name="tensor_with_int_and_slice", inputs=with_x(i="T([0, 3])"), expr="x[i, 2:4, -1]"),
    dict(name="tensor_after_newaxis", inputs=with_x(i="T([1, 0])"), expr="x[None, i]"),
    dict(name="list_pair_separated", inputs=X, expr="x[[0, 1], :, [2, 3]]"),
    dict(name="list_mask", inputs=X, expr="x[[True, False, True, False, True]]"),
    dict(name="tensor_on_bool_input", inputs={"b": "A(3, 4) % 3 == 0", "i": "T([3, 0])"}, expr="b[1:, i]"),
    dict(name="zero_dim_int_tensor", inputs=with_x(t="T(3)"), expr="x[t]"),
    # ------------------------------------------------------ masks, bools
    dict(name="mask_1d", inputs=with_x(m="T([True, False, True, True, False])"), expr="x[m]"),
    dict(name="mask_2d", inputs=with_x(m="A(5, 6) % 4 == 1"), expr="x[m]"),
    dict(name="mask_full", inputs=with_x(m="A(5, 6, 7) % 9 == 2"), expr="x[m]"),
    dict(name="mask_all_false", inputs=with_x(m="torch.zeros(5, dtype=torch.bool)"), expr="x[m]"),
    dict(name="mask_u8", inputs=with_x(m="T([1, 0, 0, 1, 1], dtype=torch.uint8)"), expr="x[m]"),
    dict(name="mask_then_slice", inputs=with_x(m="A(5, 6) % 7 == 0"), expr="x[m, 0:2]"),
    dict(name="mask_after_slice", inputs=with_x(m="T([False, True, True, False, False, True])"), expr="x[:, m]"),
    dict(name="mask_and_tensor", inputs=with_x(m="T([True, False, True, False, True])", j="T([0, 1, 2])"), expr="x[m, :, j]"),
    dict(name="bool_true", inputs=X, expr="x[True]"),
    dict(name="bool_false", inputs=X, expr="x[False]"),
    dict(name="bool_with_others", inputs=X, expr="x[0, True, 1:3]"),
    dict(name="zero_dim_bool_tensor", inputs=with_x(t="T(True)"), expr="x[t]"),
    # ---------------------------------------------------------- assignment
    dict(name="set_int_scalar", kind="set", inputs=X2, expr="x[1] = 7"),
    dict(name="set_slice_broadcast", kind="set", inputs=with_x(X2, v="T([10.0, 20.0])"), expr="x[:, 1:3] = v"),
    dict(name="set_mask_scalar", kind="set", inputs=with_x(X2, m="A(3, 4) > 5"), expr="x[m] = 0"),
    dict(name="set_tensor_rows", kind="set", inputs=with_x(X2, i="T([2, 0])", v="-A(2, 4)"), expr="x[i] = v"),
    dict(name="set_tensor_broadcast_row", kind="set", inputs=with_x(X2, i="T([2, 0])", v="T([1.0, 2.0, 3.0, 4.0])"), expr="x[i] = v"),
    dict(name="set_dtype_cast", kind="set", inputs=with_x(X2, v="T([5, 6, 7, 8])"), expr="x[1] = v"),
    dict(name="set_leading_ones", kind="set", inputs=with_x(X2, v="-A(1, 1, 4)"), expr="x[0] = v"),
    dict(name="set_tensor_after_slice", kind="set", inputs=with_x(X2, i="T([0, 3])"), expr="x[:, i] = 5"),
    dict(name="set_separated", kind="set", inputs=with_x(i="T([0, 4])", j="T([6, 0])", v="T([-1.0, -2.0])"), expr="x[i, :, j] = v[:, None]"),
    dict(name="set_bool_true", kind="set", inputs=X2, expr="x[True] = 3"),
    dict(name="set_int_input_float_value", kind="set", inputs={"x": "A(3, 4, dtype=torch.int64)", "m": "A(3, 4) % 2 == 0"}, expr="x[m] = 2.7"),
    dict(name="set_through_view", kind="set", inputs=X2, expr="w = x[1:, ::2]\nw[0] = -1"),
    dict(name="set_ellipsis_newaxis", kind="set", inputs=with_x(X2, v="T([[9.0], [8.0], [7.0]])"), expr="x[..., None, 2] = v"),
    dict(name="set_ellipsis_broadcast", kind="set", inputs=with_x(X2, v="T([[1.0], [2.0], [3.0]])"), expr="x[...] = v"),
    dict(name="set_bool_false", kind="set", inputs=X2, expr="x[False] = 3"),
    dict(name="set_zero_dim_input", kind="set", inputs={"z": "T(5.0)"}, expr="z[()] = -2"),
    dict(name="set_zero_dim_int_tensor", kind="set", inputs=with_x(X2, t="T(-1)", v="T([4.0, 3.0, 2.0, 1.0])"), expr="x[t] = v"),
    dict(name="set_bool_input_mask", kind="set", inputs={"b": "A(3, 4) % 2 == 0", "m": "A(3, 4) % 3 == 0"}, expr="b[m] = True"),
    dict(name="set_i32_mixed", kind="set", inputs={"x": "A(3, 4, dtype=torch.int32)", "i": "T([0, 2])", "v": "T([7, 8], dtype=torch.int32)"}, expr="x[1:, i] = v"),
    dict(name="accumulate_duplicates", kind="set", inputs=with_x(X2, i="T([0, 2, 0, 0])", v="T([1.0, 2.0, 3.0, 4.0])"), expr="x.index_put_((i,), v, accumulate=True)"),
    dict(name="accumulate_pairs", kind="set", inputs=with_x(X2, i="T([0, 0, 1])", j="T([1, 1, 1])", v="T([1.0, 2.0, 3.0])"), expr="x.index_put_((i, j), v, accumulate=True)"),
    dict(name="accumulate_mask", kind="set", inputs=with_x(X2, m="A(3, 4) % 5 == 0"), expr="x.index_put_((m,), T(0.5, dtype=torch.float64), accumulate=True)"),
    dict(name="iadd_basic_view", kind="set", inputs=with_x(X2, v="T([1.0, 2.0, 3.0, 4.0])"), expr="x[1:3] += v"),
    # ------------------------------------------------------------- errors
    dict(name="err_int_out_of_range", inputs=X, expr="x[5]", error="IndexOutOfRange", msg="index 5 is out of bounds for dimension 0 with size 5"),
    dict(name="err_int_out_of_range_last_dim", inputs=X, expr="x[:, :, -8]", error="IndexOutOfRange", msg="index -8 is out of bounds for dimension 2 with size 7"),
    dict(name="err_too_many_indices", inputs=X, expr="x[0, 0, 0, 0]", error="IndexOutOfRange", msg="too many indices for tensor of dimension 3"),
    dict(name="err_zero_dim_int", inputs={"z": "T(5.0)"}, expr="z[0]", error="IndexOutOfRange", msg="invalid index of a 0-dim tensor"),
    dict(name="err_step_zero", inputs=X, expr="x[::0]", error="InvalidArgument", msg="slice step cannot be zero"),
    dict(name="err_step_negative", inputs=X, expr="x[::-1]", error="InvalidArgument", msg="step must be greater than zero"),
    dict(name="err_mask_shape", inputs=with_x(m="torch.ones(4, dtype=torch.bool)"), expr="x[m]", error="IndexOutOfRange", msg="mask"),
    dict(name="err_tensor_out_of_range", inputs=with_x(i="T([0, 7])"), expr="x[i]", error="IndexOutOfRange", msg="out of bounds"),
    dict(name="err_tensor_dtype", inputs=with_x(f="T([0.0, 1.0])"), expr="x[f]", error="DType", msg="tensors used as indices must be long, int, byte or bool tensors"),
    dict(name="err_tensor_shapes", inputs=with_x(i="T([0, 1])", j="T([0, 1, 2])"), expr="x[i, j]", error="ShapeMismatch", msg="shape mismatch"),
    dict(name="err_set_value_shape", kind="set", inputs=with_x(X2, i="T([1])", v="A(2, 4)"), expr="x[i] = v", error="ShapeMismatch", msg="shape mismatch"),
    dict(name="err_set_dtype_mismatch", kind="set", inputs=with_x(X2, i="T([1])", v="T([5, 6, 7, 8])"), expr="x[i] = v", error="DType", msg="Index put requires the source and destination dtypes match"),
    dict(name="err_set_basic_value_shape", kind="set", inputs=with_x(X2, v="A(2, 4)"), expr="x[1] = v", error="ShapeMismatch"),
    # ------------------------------------------------------------- grads
    dict(name="grad_basic", kind="grad", inputs=X, expr="x[1:, None, -1]"),
    dict(name="grad_tensor_duplicates", kind="grad", inputs=with_x(i="T([0, 2, 0])"), expr="x[i]"),
    dict(name="grad_mask", kind="grad", inputs=with_x(m="A(5, 6) % 4 == 1"), expr="x[m]"),
    dict(name="grad_separated", kind="grad", inputs=with_x(i="T([0, 1, 1])", j="T([2, 3, 2])"), expr="x[i, ::2, j]"),
    dict(name="set_grad_index_put", kind="set_grad", inputs=with_x(X2, i="T([2, 0])", v="-A(2, 4)"), expr="y = x * 2\ny[i] = v"),
    dict(name="set_grad_accumulate", kind="set_grad", inputs=with_x(X2, i="T([1, 1, 0])", v="T([1.0, 2.0, 3.0, 4.0])"), expr="y = x * 2\ny.index_put_((i,), v, accumulate=True)"),
    dict(name="set_grad_basic_view", kind="set_grad", inputs=with_x(X2, v="T([5.0, 6.0])"), expr="y = x * 2\ny[1:, 0] = v"),
    dict(name="set_grad_mixed", kind="set_grad", inputs=with_x(X2, i="T([3, 1])", v="T([[1.0, 2.0], [3.0, 4.0]])"), expr="y = x * 2\ny[1:, i] = v"),
    dict(name="err_set_leaf_requiring_grad", kind="set_grad", inputs=X2, expr="x[0] = 1\ny = x", error="Autograd", msg="a leaf Variable that requires grad"),
    dict(name="set_grad_mask_fill", kind="set_grad", inputs=with_x(X2, m="A(3, 4) % 3 == 0"), expr="y = x * 2\ny[m] = 0"),
]


def build_inputs(case):
    scope = {"A": A, "T": T, "torch": torch}
    return {name: eval(src, scope).contiguous().clone() for name, src in case["inputs"].items()}


def tensor_lines(t):
    return [
        f"dtype = {toml_str(str(t.dtype).removeprefix('torch.'))}",
        f"shape = {toml_value(list(t.shape))}",
        f"values = {toml_value(flat_values(t))}",
    ]


def run(case, scope):
    """Runs the case's expression (or statements) with the inputs in scope."""
    kind = case.get("kind", "get")
    if kind in ("set", "set_grad"):
        exec(case["expr"], scope)  # noqa: S102 - our own scenario strings
        return scope["y"] if kind == "set_grad" else None
    return eval(case["expr"], scope)  # noqa: S307


def case_lines(case):
    kind = case.get("kind", "get")
    inputs = build_inputs(case)
    lines = ["", "[[case]]", f"name = {toml_str(case['name'])}", f"kind = {toml_str(kind)}", f"python = {toml_str(case['expr'])}"]
    for name, t in inputs.items():
        lines += ["", "[[case.input]]", f"name = {toml_str(name)}"] + tensor_lines(t)
    scope = {"A": A, "T": T, "torch": torch, **inputs}
    if kind in ("grad", "set_grad"):
        for t in inputs.values():
            if t.is_floating_point():
                t.requires_grad_(True)
    try:
        result = run(case, scope)
    except Exception as e:  # noqa: BLE001 - errors are outcomes
        if "error" not in case:
            raise SystemExit(f"{case['name']}: torch raised {type(e).__name__}: {e}")
        msg = str(e).splitlines()[0]
        if case.get("msg") and case["msg"] not in msg:
            raise SystemExit(f"{case['name']}: torch's message {msg!r} lacks {case['msg']!r}")
        lines += ["", "[case.error]", f"kind = {toml_str(case['error'])}", f"torch = {toml_str(type(e).__name__)}", f"message = {toml_str(msg)}", f"expect = {toml_str(case.get('msg', ''))}"]
        return lines
    if "error" in case:
        raise SystemExit(f"{case['name']}: declares error {case['error']} but torch did not raise")
    if result is not None:
        aliases = next((n for n, t in inputs.items() if same_storage(result, t)), "")
        lines += ["", "[case.result]"] + tensor_lines(result)
        lines += [f"strides = {toml_value(list(result.stride()))}", f"storage_offset = {result.storage_offset()}", f"aliases = {toml_str(aliases)}"]
    if kind == "set":
        for name, t in inputs.items():
            lines += ["", "[[case.after]]", f"name = {toml_str(name)}"] + tensor_lines(t)
    if kind in ("grad", "set_grad"):
        result.sum().backward()
        for name, t in inputs.items():
            if t.grad is not None:
                lines += ["", "[[case.grad]]", f"name = {toml_str(name)}"] + tensor_lines(t.grad)
    return lines


def main():
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        raise SystemExit(f"need torch {TORCH_VERSION}, found {torch.__version__}")
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    names = [c["name"] for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"duplicate case names: {sorted(dup)}")
    lines = [
        "# Generated by tools/oracle/scenarios/indexing.py from real PyTorch; do not edit.",
        f"# torch {TORCH_VERSION}; {len(CASES)} cases.",
    ]
    for case in CASES:
        lines += case_lines(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    text = "\n".join(lines) + "\n"
    old = open(OUT).read() if os.path.exists(OUT) else None
    if old != text:
        with open(OUT, "w") as f:
            f.write(text)
    print(f"{len(CASES)} cases -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
