"""Loss functions of torch.nn.functional, run in real PyTorch.

Writes tests/fixtures/scenarios/losses.toml; tests/losses.rs calls the same
functions through `F::` (frankentorch::nn::functional), case by case under
the same names, and compares. Every case records its inputs (dtype, shape,
values), then either the error (our expected ErrorKind, torch's exception
class and message, a substring our message must contain) or the output and
the gradients of `(output * upstream).sum()` with respect to the inputs
listed as requiring grad (the upstream tensor is recorded too).

Usage: .venv-oracle/bin/python tools/oracle/scenarios/losses.py
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from oracle import ROOT, TORCH_VERSION, toml_str, toml_value  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "losses.toml")
G = torch.Generator().manual_seed(1234)


def rnd(*shape, dtype=torch.float64):
    return (torch.rand(shape, generator=G, dtype=torch.float64) * 4 - 2).to(dtype)


def prob(*shape, dtype=torch.float64):
    return (torch.rand(shape, generator=G, dtype=torch.float64) * 0.9 + 0.05).to(dtype)


def pos(*shape, dtype=torch.float64):
    return (torch.rand(shape, generator=G, dtype=torch.float64) * 2 + 0.5).to(dtype)


def idx(hi, *shape):
    return torch.randint(0, hi, shape, generator=G)


def sign(*shape):
    return torch.randint(0, 2, shape, generator=G).to(torch.float64) * 2 - 1


def simplex(*shape):
    return torch.softmax(rnd(*shape), dim=1 if len(shape) > 1 else 0)


CASES = []


def case(name, python, inputs, call, grad=(), error=None):
    """`call(**inputs)` is the F call; `grad` names inputs requiring grad;
    `error` = (our ErrorKind, substring of our message)."""
    CASES.append((name, python, inputs, call, list(grad), error))


# ---- cross_entropy ----
x34, t3 = rnd(3, 4), torch.tensor([0, 3, 1])
case("ce_default", "F.cross_entropy(x, t)", {"x": x34, "t": t3}, lambda x, t: F.cross_entropy(x, t), ["x"])
case("ce_sum", "F.cross_entropy(x, t, reduction='sum')", {"x": x34, "t": t3}, lambda x, t: F.cross_entropy(x, t, reduction="sum"), ["x"])
case("ce_none", "F.cross_entropy(x, t, reduction='none')", {"x": x34, "t": t3}, lambda x, t: F.cross_entropy(x, t, reduction="none"), ["x"])
w4 = pos(4)
case("ce_weight_mean", "F.cross_entropy(x, t, weight=w)", {"x": x34, "t": t3, "w": w4}, lambda x, t, w: F.cross_entropy(x, t, weight=w), ["x"])
case("ce_ignore_index", "F.cross_entropy(x, t, weight=w, ignore_index=3)", {"x": x34, "t": t3, "w": w4}, lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=3), ["x"])
case("ce_all_ignored", "F.cross_entropy(x, t, ignore_index=1)", {"x": rnd(2, 3), "t": torch.tensor([1, 1])}, lambda x, t: F.cross_entropy(x, t, ignore_index=1))
case("ce_label_smoothing", "F.cross_entropy(x, t, label_smoothing=0.1)", {"x": x34, "t": t3}, lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), ["x"])
case("ce_smoothing_weight_ignore", "F.cross_entropy(x, t, weight=w, ignore_index=0, label_smoothing=0.3)", {"x": x34, "t": t3, "w": w4}, lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=0, label_smoothing=0.3), ["x"])
case("ce_smoothing_none", "F.cross_entropy(x, t, weight=w, reduction='none', label_smoothing=0.2)", {"x": x34, "t": t3, "w": w4}, lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="none", label_smoothing=0.2), ["x"])
x2342, t242 = rnd(2, 3, 4, 2), idx(3, 2, 4, 2)
case("ce_4d", "F.cross_entropy(x, t)", {"x": x2342, "t": t242}, lambda x, t: F.cross_entropy(x, t), ["x"])
case("ce_3d_none", "F.cross_entropy(x, t, reduction='none')", {"x": rnd(2, 3, 5), "t": idx(3, 2, 5)}, lambda x, t: F.cross_entropy(x, t, reduction="none"), ["x"])
case("ce_5d_smoothing", "F.cross_entropy(x, t, label_smoothing=0.05)", {"x": rnd(2, 3, 2, 1, 2), "t": idx(3, 2, 2, 1, 2)}, lambda x, t: F.cross_entropy(x, t, label_smoothing=0.05), ["x"])
case("ce_unbatched", "F.cross_entropy(x, t)", {"x": rnd(5), "t": torch.tensor(2)}, lambda x, t: F.cross_entropy(x, t), ["x"])
case("ce_probs", "F.cross_entropy(x, p)", {"x": x34, "p": simplex(3, 4)}, lambda x, p: F.cross_entropy(x, p), ["x", "p"])
case("ce_probs_weight_smoothing", "F.cross_entropy(x, p, weight=w, label_smoothing=0.2, reduction='sum')", {"x": x34, "p": simplex(3, 4), "w": w4}, lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.2, reduction="sum"), ["x", "p", "w"])
case("ce_probs_4d_none", "F.cross_entropy(x, p, reduction='none')", {"x": x2342, "p": simplex(2, 3, 4, 2)}, lambda x, p: F.cross_entropy(x, p, reduction="none"), ["x"])
case("ce_f32", "F.cross_entropy(x, t)", {"x": rnd(3, 4, dtype=torch.float32), "t": t3}, lambda x, t: F.cross_entropy(x, t), ["x"])
case("ce_err_target_oob", "F.cross_entropy(x, t)", {"x": x34, "t": torch.tensor([0, 5, 1])}, lambda x, t: F.cross_entropy(x, t), error=("IndexOutOfRange", "Target 5 is out of bounds."))
case("ce_err_target_dtype", "F.cross_entropy(x, t.int())", {"x": x34, "t": t3.int()}, lambda x, t: F.cross_entropy(x, t), error=("DType", "expected target dtype to be Long or Byte"))
case("ce_err_batch", "F.cross_entropy(x, t[:2])", {"x": x34, "t": t3[:2]}, lambda x, t: F.cross_entropy(x, t), error=("InvalidArgument", "Expected input batch_size (3) to match target batch_size (2)."))
case("ce_err_weight_size", "F.cross_entropy(x, t, weight=w[:3])", {"x": x34, "t": t3, "w": w4[:3]}, lambda x, t, w: F.cross_entropy(x, t, weight=w), error=("ShapeMismatch", "weight tensor should be defined either for all 4 classes"))
case("ce_err_smoothing", "F.cross_entropy(x, t, label_smoothing=1.5)", {"x": x34, "t": t3}, lambda x, t: F.cross_entropy(x, t, label_smoothing=1.5), error=("InvalidArgument", "label_smoothing must be between 0.0 and 1.0"))
case("ce_err_spatial", "F.cross_entropy(x, t)", {"x": rnd(2, 3, 4), "t": idx(3, 2, 5)}, lambda x, t: F.cross_entropy(x, t), error=("ShapeMismatch", "Expected target size [2, 4], got [2, 5]"))

# ---- nll_loss ----
lp = torch.log_softmax(rnd(4, 3), 1)
t4 = torch.tensor([2, 0, 1, 2])
case("nll_default", "F.nll_loss(x, t)", {"x": lp, "t": t4}, lambda x, t: F.nll_loss(x, t), ["x"])
case("nll_weight_ignore_sum", "F.nll_loss(x, t, weight=w, ignore_index=2, reduction='sum')", {"x": lp, "t": t4, "w": pos(3)}, lambda x, t, w: F.nll_loss(x, t, weight=w, ignore_index=2, reduction="sum"), ["x"])
case("nll_weight_mean", "F.nll_loss(x, t, weight=w)", {"x": lp, "t": t4, "w": pos(3)}, lambda x, t, w: F.nll_loss(x, t, weight=w), ["x"])
case("nll_none", "F.nll_loss(x, t, reduction='none')", {"x": lp, "t": t4}, lambda x, t: F.nll_loss(x, t, reduction="none"), ["x"])
case("nll_4d", "F.nll_loss(x, t, weight=w, reduction='none')", {"x": x2342, "t": t242, "w": pos(3)}, lambda x, t, w: F.nll_loss(x, t, weight=w, reduction="none"), ["x"])
case("nll_3d_ignore", "F.nll_loss(x, t, ignore_index=0)", {"x": rnd(2, 3, 5), "t": idx(3, 2, 5)}, lambda x, t: F.nll_loss(x, t, ignore_index=0), ["x"])
case("nll_uint8_target", "F.nll_loss(x, t.to(torch.uint8))", {"x": lp, "t": t4.to(torch.uint8)}, lambda x, t: F.nll_loss(x, t), ["x"])
case("nll_empty", "F.nll_loss(x, t)", {"x": rnd(0, 3), "t": idx(3, 0)}, lambda x, t: F.nll_loss(x, t))
case("nll_err_oob", "F.nll_loss(x, t)", {"x": lp, "t": torch.tensor([2, -1, 1, 2])}, lambda x, t: F.nll_loss(x, t), error=("IndexOutOfRange", "Target -1 is out of bounds."))
case("nll_err_0d", "F.nll_loss(x, t)", {"x": torch.tensor(1.0, dtype=torch.float64), "t": torch.tensor(0)}, lambda x, t: F.nll_loss(x, t), error=("InvalidArgument", "Expected 1 or more dimensions (got 0)"))

# ---- pointwise regression losses ----
a, b = rnd(3, 4), rnd(3, 4)
b4 = rnd(4)
for fn, extra in [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("huber_loss", {"delta": 0.7})]:
    f = getattr(F, fn)
    short = fn.replace("_loss", "")
    for red in ["mean", "sum", "none"]:
        case(f"{short}_{red}", f"F.{fn}(a, b, reduction='{red}', **{extra})", {"a": a, "b": b}, lambda a, b, f=f, red=red, extra=extra: f(a, b, reduction=red, **extra), ["a", "b"])
    case(f"{short}_broadcast", f"F.{fn}(a, b4)", {"a": a, "b": b4}, lambda a, b, f=f: f(a, b), ["a", "b"])
    case(f"{short}_f32", f"F.{fn}(a.float(), b.float())", {"a": a.float(), "b": b.float()}, lambda a, b, f=f: f(a, b), ["a", "b"])
    case(f"{short}_err_shape", f"F.{fn}(a, b[:2, :3])", {"a": a, "b": b[:2, :3]}, lambda a, b, f=f: f(a, b), error=("ShapeMismatch", "must match"))
for fn in ["mse_loss", "l1_loss", "huber_loss"]:
    f = getattr(F, fn)
    short = fn.replace("_loss", "")
    for red in ["mean", "sum", "none"]:
        case(f"{short}_weight_{red}", f"F.{fn}(a, b, weight=w, reduction='{red}')", {"a": a, "b": b, "w": pos(3, 4)}, lambda a, b, w, f=f, red=red: f(a, b, weight=w, reduction=red), ["a", "b", "w"])
    case(f"{short}_err_weight", f"F.{fn}(a, b, weight=w)", {"a": a, "b": b, "w": pos(4)}, lambda a, b, w, f=f: f(a, b, weight=w), error=("InvalidArgument", "Weights and input must have the same size."))
case("smooth_l1_beta0", "F.smooth_l1_loss(a, b, beta=0.0)", {"a": a, "b": b}, lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), ["a", "b"])
case("smooth_l1_default_beta", "F.smooth_l1_loss(a, b)", {"a": a, "b": b}, lambda a, b: F.smooth_l1_loss(a, b), ["a", "b"])
case("smooth_l1_err_beta", "F.smooth_l1_loss(a, b, beta=-1.0)", {"a": a, "b": b}, lambda a, b: F.smooth_l1_loss(a, b, beta=-1.0), error=("InvalidArgument", "smooth_l1_loss does not support negative values for beta."))
case("huber_err_delta", "F.huber_loss(a, b, delta=0.0)", {"a": a, "b": b}, lambda a, b: F.huber_loss(a, b, delta=0.0), error=("InvalidArgument", "huber_loss does not support non-positive values for delta."))

# ---- binary cross entropy ----
p34, y34 = prob(3, 4), prob(3, 4)
for red in ["mean", "sum", "none"]:
    case(f"bce_{red}", f"F.binary_cross_entropy(p, y, reduction='{red}')", {"p": p34, "y": y34}, lambda p, y, red=red: F.binary_cross_entropy(p, y, reduction=red), ["p", "y"])
    case(f"bcel_{red}", f"F.binary_cross_entropy_with_logits(x, y, reduction='{red}')", {"x": a, "y": y34}, lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red), ["x", "y"])
case("bce_weight_broadcast", "F.binary_cross_entropy(p, y, weight=w)", {"p": p34, "y": y34, "w": pos(4)}, lambda p, y, w: F.binary_cross_entropy(p, y, weight=w), ["p", "y"])
case("bce_hard_targets", "F.binary_cross_entropy(p, y)", {"p": torch.tensor([0.0, 1.0, 0.3], dtype=torch.float64), "y": torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)}, lambda p, y: F.binary_cross_entropy(p, y))
case("bce_log_clamp", "F.binary_cross_entropy(p, y, reduction='none')", {"p": torch.tensor([0.0, 1.0], dtype=torch.float64), "y": torch.tensor([1.0, 0.0], dtype=torch.float64)}, lambda p, y: F.binary_cross_entropy(p, y, reduction="none"))
case("bce_f32", "F.binary_cross_entropy(p.float(), y.float())", {"p": p34.float(), "y": y34.float()}, lambda p, y: F.binary_cross_entropy(p, y), ["p", "y"])
case("bce_err_range", "F.binary_cross_entropy(p * 2, y)", {"p": p34 * 2, "y": y34}, lambda p, y: F.binary_cross_entropy(p, y), error=("InvalidArgument", "all elements of input should be between 0 and 1"))
case("bce_err_size", "F.binary_cross_entropy(p, y[0])", {"p": p34, "y": y34[0]}, lambda p, y: F.binary_cross_entropy(p, y), error=("InvalidArgument", "is deprecated"))
case("bcel_weight_pos_weight", "F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw)", {"x": a, "y": y34, "w": pos(3, 4), "pw": pos(4)}, lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw), ["x", "y"])
case("bcel_pos_weight_sum", "F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction='sum')", {"x": a, "y": y34, "pw": pos(4)}, lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="sum"), ["x", "y"])
case("bcel_large_logits", "F.binary_cross_entropy_with_logits(x, y, reduction='none')", {"x": torch.tensor([-200.0, 200.0, 0.0], dtype=torch.float64), "y": torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64)}, lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"), ["x"])
case("bcel_err_size", "F.binary_cross_entropy_with_logits(x, y[0])", {"x": a, "y": y34[0]}, lambda x, y: F.binary_cross_entropy_with_logits(x, y), error=("InvalidArgument", "must be the same as input size"))

# ---- kl_div ----
lq = torch.log_softmax(rnd(3, 4), 1)
for red in ["mean", "sum", "none", "batchmean"]:
    case(f"kl_{red}", f"F.kl_div(q, p, reduction='{red}')", {"q": lq, "p": simplex(3, 4)}, lambda q, p, red=red: F.kl_div(q, p, reduction=red), ["q", "p"])
case("kl_log_target", "F.kl_div(q, lp, reduction='batchmean', log_target=True)", {"q": lq, "lp": torch.log_softmax(rnd(3, 4), 1)}, lambda q, lp: F.kl_div(q, lp, reduction="batchmean", log_target=True), ["q", "lp"])
case("kl_zero_target", "F.kl_div(q, p, reduction='sum')", {"q": lq, "p": torch.tensor([[0.5, 0.5, 0.0, 0.0]] * 3, dtype=torch.float64)}, lambda q, p: F.kl_div(q, p, reduction="sum"), ["q"])

# ---- margin / embedding losses ----
i1, i2 = rnd(5), rnd(5)
for red in ["mean", "sum", "none"]:
    case(f"margin_ranking_{red}", f"F.margin_ranking_loss(a, b, y, margin=0.3, reduction='{red}')", {"a": i1, "b": i2, "y": sign(5)}, lambda a, b, y, red=red: F.margin_ranking_loss(a, b, y, margin=0.3, reduction=red), ["a", "b"])
    case(f"hinge_{red}", f"F.hinge_embedding_loss(x, y, margin=1.5, reduction='{red}')", {"x": rnd(3, 4), "y": sign(3, 4)}, lambda x, y, red=red: F.hinge_embedding_loss(x, y, margin=1.5, reduction=red), ["x"])
    case(f"cosine_{red}", f"F.cosine_embedding_loss(a, b, y, margin=0.2, reduction='{red}')", {"a": rnd(4, 3), "b": rnd(4, 3), "y": sign(4)}, lambda a, b, y, red=red: F.cosine_embedding_loss(a, b, y, margin=0.2, reduction=red), ["a", "b"])
    case(f"triplet_{red}", f"F.triplet_margin_loss(a, p, n, reduction='{red}')", {"a": rnd(4, 3), "p": rnd(4, 3), "n": rnd(4, 3)}, lambda a, p, n, red=red: F.triplet_margin_loss(a, p, n, reduction=red), ["a", "p", "n"])
    case(f"poisson_{red}", f"F.poisson_nll_loss(x, y, reduction='{red}')", {"x": rnd(3, 4), "y": pos(3, 4)}, lambda x, y, red=red: F.poisson_nll_loss(x, y, reduction=red), ["x", "y"])
    case(f"gaussian_{red}", f"F.gaussian_nll_loss(x, y, v, reduction='{red}')", {"x": rnd(3, 4), "y": rnd(3, 4), "v": pos(3, 4)}, lambda x, y, v, red=red: F.gaussian_nll_loss(x, y, v, reduction=red), ["x", "y", "v"])
case("margin_ranking_default", "F.margin_ranking_loss(a, b, y)", {"a": i1, "b": i2, "y": sign(5)}, lambda a, b, y: F.margin_ranking_loss(a, b, y), ["a", "b"])
case("margin_ranking_err_dims", "F.margin_ranking_loss(a, b, y)", {"a": i1, "b": i2, "y": sign(1, 5)}, lambda a, b, y: F.margin_ranking_loss(a, b, y), error=("ShapeMismatch", "All input tensors should have same dimension"))
case("hinge_default", "F.hinge_embedding_loss(x, y)", {"x": rnd(6), "y": sign(6)}, lambda x, y: F.hinge_embedding_loss(x, y), ["x"])
case("cosine_unbatched", "F.cosine_embedding_loss(a, b, y)", {"a": rnd(3), "b": rnd(3), "y": torch.tensor(-1.0, dtype=torch.float64)}, lambda a, b, y: F.cosine_embedding_loss(a, b, y), ["a", "b"])
case("cosine_err_rank", "F.cosine_embedding_loss(a, b, y)", {"a": rnd(4, 3), "b": rnd(4, 3), "y": sign(4, 1)}, lambda a, b, y: F.cosine_embedding_loss(a, b, y), error=("ShapeMismatch", "0D or 1D target tensor expected"))
case("triplet_options", "F.triplet_margin_loss(a, p, n, margin=2.0, p=1.0, eps=0.01, swap=True)", {"a": rnd(4, 3), "p": rnd(4, 3), "n": rnd(4, 3)}, lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, p=1.0, eps=0.01, swap=True), ["a", "p", "n"])
case("triplet_p3_swap_sum", "F.triplet_margin_loss(a, p, n, margin=3.0, p=3.0, swap=True, reduction='sum')", {"a": rnd(5), "p": rnd(5), "n": rnd(5)}, lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, p=3.0, swap=True, reduction="sum"), ["a", "p", "n"])
case("triplet_err_margin", "F.triplet_margin_loss(a, p, n, margin=0.0)", {"a": rnd(4, 3), "p": rnd(4, 3), "n": rnd(4, 3)}, lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=0.0), error=("InvalidArgument", "margin must be greater than 0"))
case("triplet_err_dims", "F.triplet_margin_loss(a, p, n)", {"a": rnd(4, 3), "p": rnd(3), "n": rnd(4, 3)}, lambda a, p, n: F.triplet_margin_loss(a, p, n), error=("ShapeMismatch", "same number of dimensions"))
case("poisson_rate_full", "F.poisson_nll_loss(x, y, log_input=False, full=True, eps=0.01)", {"x": pos(3, 4), "y": torch.tensor([[0.0, 1.0, 2.0, 5.0]] * 3, dtype=torch.float64)}, lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True, eps=0.01), ["x"])
case("poisson_full_log", "F.poisson_nll_loss(x, y, full=True, reduction='sum')", {"x": rnd(3, 4), "y": pos(3, 4) * 2}, lambda x, y: F.poisson_nll_loss(x, y, full=True, reduction="sum"), ["x", "y"])
case("gaussian_float_var_full", "F.gaussian_nll_loss(x, y, 0.5, full=True)", {"x": rnd(3, 4), "y": rnd(3, 4)}, lambda x, y: F.gaussian_nll_loss(x, y, 0.5, full=True), ["x", "y"])
case("gaussian_homoscedastic", "F.gaussian_nll_loss(x, y, v)", {"x": rnd(3, 4), "y": rnd(3, 4), "v": pos(3)}, lambda x, y, v: F.gaussian_nll_loss(x, y, v), ["x", "y", "v"])
case("gaussian_broadcast_var_eps", "F.gaussian_nll_loss(x, y, v, eps=0.3)", {"x": rnd(3, 4), "y": rnd(3, 4), "v": pos(3, 1) * 0.2}, lambda x, y, v: F.gaussian_nll_loss(x, y, v, eps=0.3), ["x", "y", "v"])
case("gaussian_err_negative", "F.gaussian_nll_loss(x, y, -1.0)", {"x": rnd(3, 4), "y": rnd(3, 4)}, lambda x, y: F.gaussian_nll_loss(x, y, -1.0), error=("InvalidArgument", "var has negative entry/entries"))
case("gaussian_err_size", "F.gaussian_nll_loss(x, y, v)", {"x": rnd(3, 4), "y": rnd(3, 4), "v": pos(2, 2)}, lambda x, y, v: F.gaussian_nll_loss(x, y, v), error=("InvalidArgument", "var is of incorrect size"))


# ---- ctc_loss ----
ctc_lp = torch.log_softmax(rnd(6, 2, 5), 2)
ctc_t = torch.tensor([[1, 2, 2], [3, 1, 0]])
ctc_il, ctc_tl = torch.tensor([6, 5]), torch.tensor([3, 2])
case("ctc_default", "F.ctc_loss(lp, t, il, tl)", {"lp": ctc_lp, "t": ctc_t, "il": ctc_il, "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl), ["lp"])
case("ctc_concat_sum", "F.ctc_loss(lp, t, il, tl, reduction='sum')", {"lp": ctc_lp, "t": torch.tensor([1, 2, 2, 3, 1]), "il": ctc_il, "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, reduction="sum"), ["lp"])
case("ctc_blank_none", "F.ctc_loss(lp, t, il, tl, blank=4, reduction='none')", {"lp": ctc_lp, "t": torch.tensor([[0, 2, 2], [3, 1, 0]]), "il": torch.tensor([6, 4]), "tl": torch.tensor([3, 1])}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, blank=4, reduction="none"), ["lp"])
case("ctc_zero_infinity", "F.ctc_loss(lp, t, il, tl, zero_infinity=True)", {"lp": ctc_lp, "t": ctc_t, "il": torch.tensor([2, 5]), "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, zero_infinity=True), ["lp"])
case("ctc_infinite", "F.ctc_loss(lp, t, il, tl, reduction='none')", {"lp": ctc_lp, "t": ctc_t, "il": torch.tensor([2, 5]), "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, reduction="none"))
case("ctc_unbatched", "F.ctc_loss(lp[:, 0], t[0], il[0], tl[0], reduction='none')", {"lp": ctc_lp[:, 0], "t": ctc_t[0], "il": ctc_il[0], "tl": ctc_tl[0]}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, reduction="none"), ["lp"])
case("ctc_f32", "F.ctc_loss(lp.float(), t, il, tl)", {"lp": ctc_lp.float(), "t": ctc_t, "il": ctc_il, "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl), ["lp"])
case("ctc_err_blank", "F.ctc_loss(lp, t, il, tl, blank=5)", {"lp": ctc_lp, "t": ctc_t, "il": ctc_il, "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, blank=5), error=("InvalidArgument", "blank must be in label range"))
case("ctc_err_input_length", "F.ctc_loss(lp, t, il + 1, tl)", {"lp": ctc_lp, "t": ctc_t, "il": ctc_il + 1, "tl": ctc_tl}, lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl), error=("ShapeMismatch", "Expected input_lengths to have value at most 6"))


def flat(t):
    return [float(v) if t.dtype.is_floating_point else int(v) for v in t.detach().reshape(-1).tolist()]


def tensor_lines(header, name, t):
    lines = [header]
    if name is not None:
        lines.append(f"name = {toml_str(name)}")
    lines += [f"dtype = {toml_str(str(t.dtype).replace('torch.', ''))}", f"shape = {toml_value(list(t.shape))}", f"values = {toml_value(flat(t))}"]
    return lines


def run(name, python, inputs, call, grad, error):
    lines = ["", "[[case]]", f"name = {toml_str(name)}", f"python = {toml_str(python)}", f"requires_grad = {toml_value(grad)}"]
    for n, t in inputs.items():
        lines += tensor_lines("[[case.input]]", n, t)
    leaves = {n: (t.clone().requires_grad_(n in grad)) for n, t in inputs.items()}
    if error is not None:
        try:
            call(**leaves)
        except Exception as e:  # noqa: BLE001
            lines += ["[case.error]", f"kind = {toml_str(error[0])}", f"torch = {toml_str(type(e).__name__)}", f"message = {toml_str(str(e).splitlines()[0])}", f"expect = {toml_str(error[1])}"]
            assert error[1] in str(e) or error[0] != "IndexOutOfRange", (name, str(e))
            return lines
        raise SystemExit(f"case {name}: expected an error, torch succeeded")
    out = call(**leaves)
    lines += tensor_lines("[case.result]", None, out)
    if grad:
        up = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
        lines += tensor_lines("[case.upstream]", None, up)
        gs = torch.autograd.grad([(out * up).sum()], [leaves[n] for n in grad], allow_unused=True)
        for n, g in zip(grad, gs):
            if g is None:
                raise SystemExit(f"case {name}: no gradient for {n}")
            lines += tensor_lines("[[case.grad]]", n, g)
    return lines


def main():
    assert torch.__version__.split("+")[0] == TORCH_VERSION, torch.__version__
    torch.set_num_threads(1)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    lines = ["# Generated by tools/oracle/scenarios/losses.py; do not edit.", f"torch = {toml_str(TORCH_VERSION)}"]
    for c in CASES:
        lines += run(*c)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
