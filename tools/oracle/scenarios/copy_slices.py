"""In-place writes through views (PyTorch's CopySlices), run in real PyTorch.

Writes tests/fixtures/scenarios/copy_slices.toml; tests/copy_slices.rs runs
the same programs in FrankenTorch, case by case, and compares. Every case
starts from float64 leaves built from the listed values, so the recorded
gradients are exact.

Usage: .venv-oracle/bin/python tools/oracle/scenarios/copy_slices.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
from oracle import ROOT, TORCH_VERSION, toml_str, toml_value  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "copy_slices.toml")


def leaf(values, shape):
    return torch.tensor(values, dtype=torch.float64).reshape(shape).requires_grad_()


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


# Each case returns (program text, leaves, the tensor backward() starts from,
# {label: tensor whose grad_fn name and version are recorded}).
def issue_example():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0], [5])
    base = leaf0.clone()
    base[1:3].mul_(2)
    return "base = leaf.clone(); base[1:3].mul_(2); base.sum().backward()", [leaf0], base.sum(), {"base": base}


def square_after_slice_write():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0], [5])
    base = leaf0.clone()
    base[1:3].mul_(2)
    return "base = leaf.clone(); base[1:3].mul_(2); (base*base).sum().backward()", [leaf0], (base * base).sum(), {"base": base}


def strided_add_of_other_leaf():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [6])
    other = leaf([10.0, 20.0, 30.0], [3])
    base = leaf0 * 1.0
    view = base[::2]
    view.add_(other * 3)
    loss = (base * base).sum()
    return "base = leaf*1; v = base[::2]; v.add_(other*3); (base*base).sum()", [leaf0, other], loss, {"base": base, "view": view}


def view_of_view_mul_by_leaf():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [6])
    w = leaf([2.0, 3.0], [2])
    base = leaf0.clone()
    view = base[1:5][0:2]
    view.mul_(w)
    loss = (base * torch.arange(6, dtype=torch.float64)).sum()
    return "base = leaf.clone(); v = base[1:5][0:2]; v.mul_(w); (base*arange(6)).sum()", [leaf0, w], loss, {"base": base, "view": view}


def transposed_row_of_matrix():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])
    base = leaf0.clone()
    view = base.t()[1]
    view.mul_(view.detach() + 1)
    loss = (base * base).sum()
    return "base = leaf.clone(); v = base.t()[1]; v.mul_(v.detach()+1); (base*base).sum()", [leaf0], loss, {"base": base, "view": view}


def loss_through_view_and_base():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0], [4])
    base = leaf0 * 1.5
    view = base[2:]
    view.exp_()
    loss = view.sum() + base.sum()
    return "base = leaf*1.5; v = base[2:]; v.exp_(); v.sum() + base.sum()", [leaf0], loss, {"base": base, "view": view}


def saved_result_overwritten_through_view():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0], [4])
    base = leaf0.exp()
    view = base[2:]
    view.mul_(2)
    loss = base.sum()
    return "base = leaf.exp(); base[2:].mul_(2); base.sum()  (exp saved its result)", [leaf0], loss, {"base": base, "view": view}


def two_writes_into_one_base():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0], [4])
    base = leaf0 * 2
    base[0:2].mul_(3)
    base[1:3].add_(leaf0[0:2])
    loss = (base * base).sum()
    return "base = leaf*2; base[0:2].mul_(3); base[1:3].add_(leaf[0:2]); (base*base).sum()", [leaf0], loss, {"base": base}


def fill_through_select():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])
    base = leaf0.clone()
    base[0].zero_()
    loss = (base * base).sum()
    return "base = leaf.clone(); base[0].zero_(); (base*base).sum()", [leaf0], loss, {"base": base}


def double_backward_through_copyslices():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0], [5])
    base = leaf0 * leaf0
    view = base[1:4:2]
    view.mul_(leaf0[0:2])
    loss = (base * base).sum()
    return "base = leaf*leaf; v = base[1:4:2]; v.mul_(leaf[0:2]); (base*base).sum(); g = grad(create_graph); (g*g).sum().backward()", [leaf0], loss, {"base": base, "view": view}


def double_backward_through_inplace_mul():
    leaf0 = leaf([1.0, 2.0, 3.0, 4.0, 5.0], [5])
    base = leaf0 * leaf0
    base.mul_(leaf0)
    loss = (base * base).sum()
    return "base = leaf*leaf; base.mul_(leaf) (no view: mul_ saves the original self); (base*base).sum(); double backward", [leaf0], loss, {"base": base}


# Cases whose first gradients are taken with create_graph=True and then
# differentiated again: `grads` holds the first gradients, `grads2` the
# leaves' gradients of sum(g * g) over every first gradient g.
DOUBLE_CASES = [double_backward_through_copyslices, double_backward_through_inplace_mul]

CASES = [
    issue_example,
    square_after_slice_write,
    strided_add_of_other_leaf,
    view_of_view_mul_by_leaf,
    transposed_row_of_matrix,
    double_backward_through_copyslices,
    double_backward_through_inplace_mul,
    loss_through_view_and_base,
    saved_result_overwritten_through_view,
    two_writes_into_one_base,
    fill_through_select,
]


def record(case):
    program, leaves, loss, watched = case()
    names = {k: (v.grad_fn.name() if v.grad_fn is not None else "none") for k, v in watched.items()}
    versions = {k: v._version for k, v in watched.items()}
    lines = [f"[{case.__name__}]", f"program = {toml_str(program)}"]
    lines.append(f"grad_fn = {toml_value(names)}")
    lines.append(f"version = {toml_value(versions)}")
    lines.append(f"loss = {toml_value(float(loss.detach()))}")
    if case in DOUBLE_CASES:
        firsts = torch.autograd.grad(loss, leaves, create_graph=True)
        sum(((g * g).sum() for g in firsts), torch.zeros((), dtype=torch.float64)).backward()
        lines.append(f"grads = {toml_value([flat(g) for g in firsts])}")
        lines.append(f"grads2 = {toml_value([flat(x.grad) for x in leaves])}")
        return "\n".join(lines)
    try:
        loss.backward()
    except RuntimeError as e:
        lines.append(f"backward_error = {toml_str(str(e).split(' Hint:')[0])}")
        return "\n".join(lines)
    lines.append(f"grads = {toml_value([flat(x.grad) for x in leaves])}")
    return "\n".join(lines)


def refused_on_leaf_view():
    x = leaf([1.0, 2.0, 3.0, 4.0], [4])
    try:
        x[1:3].mul_(2)
    except RuntimeError as e:
        return str(e).splitlines()[0]
    raise AssertionError("torch accepted an in-place op on a view of a leaf")


def main():
    assert torch.__version__.split("+")[0] == TORCH_VERSION, torch.__version__
    torch.set_num_threads(1)
    parts = [
        "# @generated by tools/oracle/scenarios/copy_slices.py from PyTorch " + TORCH_VERSION + "; do not edit.",
        "",
        f"leaf_view_error = {toml_str(refused_on_leaf_view())}",
        "",
    ]
    parts.extend(record(c) + "\n" for c in CASES)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(parts))
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
