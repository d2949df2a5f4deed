"""torch.nn modules and torch.nn.init, run in real PyTorch.

Writes tests/fixtures/scenarios/modules.toml; tests/modules.rs builds the
same modules (case by case under the same names) and compares.

- [[init]]: after `torch.manual_seed(seed)`, an init function fills
  `torch.empty(shape)`; recorded: the values (or the error).
- [[layer]]: after `torch.manual_seed(seed)` a module is constructed;
  recorded: its state_dict (keys in order, dtype, shape, values), the names
  of named_parameters / named_buffers / named_modules (with class names).
  With inputs, the module is put in `mode` and called `steps` times
  (`torch.manual_seed(forward_seed)` before each call when given); recorded:
  the last output, the gradients of `(output * upstream).sum()` for the
  inputs listed in `grad_inputs` and every parameter, and the state_dict
  after the calls (running statistics).
- [[load]]: `load_state_dict(sd, strict)` on a freshly built module, where
  `sd` is recorded entry by entry; recorded: the error message, or the
  missing / unexpected keys and the state_dict afterwards.
- [[program]]: train/eval propagation, zero_grad, to(float64) on the
  nested model, each as a list of observations.

Usage: .venv-oracle/bin/python tools/oracle/scenarios/modules.py
"""

import os
import re
from collections import OrderedDict
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.init as init  # noqa: E402
from oracle import ROOT, TORCH_VERSION, toml_str, toml_value  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "modules.toml")
G = torch.Generator().manual_seed(4321)
SEEDS = [0, 42]


def rnd(*shape, dtype=torch.float32):
    return (torch.rand(shape, generator=G, dtype=torch.float64) * 4 - 2).to(dtype)


def flat(t):
    """Values as Python numbers; float32 ones as their shortest float32
    decimal (the reader rounds back to float32), which keeps the file small."""
    vals = t.detach().reshape(-1)
    if t.dtype == torch.float32:
        return [float(str(v)) for v in vals.numpy()]
    return [float(v) if t.dtype.is_floating_point else int(v) for v in vals.tolist()]


def tensor(t, name=None):
    d = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": flat(t)}
    if name is not None:
        d["name"] = name
    return d


def state(m):
    return [tensor(v, k) for k, v in m.state_dict().items()]


# ---------------------------------------------------------------- models


class Net(nn.Module):
    """The nesting model of tests/modules.rs (`Net`)."""

    def __init__(self):
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(1))
        self.register_buffer("scale", torch.full((1,), 2.0), persistent=False)
        self.register_buffer("offset", torch.zeros(2))
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten())
        self.heads = nn.ModuleList([nn.Linear(8, 3), nn.Linear(8, 2, bias=False)])
        self.extra = nn.ModuleDict({"proj": nn.Linear(3, 3), "act": nn.Tanh()})

    def forward(self, x):
        h = self.features(x)
        y = self.extra["act"](self.extra["proj"](self.heads[0](h)))
        return (y * self.temperature * self.scale).sum(1) + self.heads[1](h).sum(1) + self.offset.sum()


class Tied(nn.Module):
    """Two Linear layers sharing one weight (`Tied` in tests/modules.rs)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight


# ---------------------------------------------------------------- cases

INITS = []


def init_case(name, python, shape, fn, error=None):
    INITS.append((name, python, shape, fn, error))


init_case("uniform", "init.uniform_(t, -0.5, 2.0)", [3, 5], lambda t: init.uniform_(t, -0.5, 2.0))
init_case("normal", "init.normal_(t, 1.0, 0.3)", [4, 3], lambda t: init.normal_(t, 1.0, 0.3))
init_case("normal_odd", "init.normal_(t)", [7], lambda t: init.normal_(t))
init_case("normal_big", "init.normal_(t)", [5, 7], lambda t: init.normal_(t))
init_case("constant", "init.constant_(t, 0.25)", [2, 3], lambda t: init.constant_(t, 0.25))
init_case("ones", "init.ones_(t)", [3], lambda t: init.ones_(t))
init_case("zeros", "init.zeros_(t)", [3], lambda t: init.zeros_(t))
init_case("eye", "init.eye_(t)", [3, 4], lambda t: init.eye_(t))
init_case("eye_err", "init.eye_(t)", [3], lambda t: init.eye_(t), error="Only tensors with 2 dimensions are supported")
init_case("dirac", "init.dirac_(t)", [3, 2, 3], lambda t: init.dirac_(t))
init_case("dirac_groups", "init.dirac_(t, 2)", [4, 1, 3, 3], lambda t: init.dirac_(t, 2))
init_case("dirac_err", "init.dirac_(t)", [3, 2], lambda t: init.dirac_(t), error="Only tensors with 3, 4, or 5 dimensions are supported")
init_case("xavier_uniform", "init.xavier_uniform_(t)", [4, 6], lambda t: init.xavier_uniform_(t))
init_case("xavier_uniform_gain", "init.xavier_uniform_(t, gain=init.calculate_gain('relu'))", [3, 2, 3, 3], lambda t: init.xavier_uniform_(t, gain=init.calculate_gain("relu")))
init_case("xavier_normal", "init.xavier_normal_(t, gain=0.5)", [5, 4], lambda t: init.xavier_normal_(t, gain=0.5))
init_case("kaiming_uniform", "init.kaiming_uniform_(t)", [4, 6], lambda t: init.kaiming_uniform_(t))
init_case("kaiming_uniform_fan_out_relu", "init.kaiming_uniform_(t, mode='fan_out', nonlinearity='relu')", [4, 2, 3], lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"))
init_case("kaiming_uniform_a", "init.kaiming_uniform_(t, a=5 ** 0.5)", [3, 7], lambda t: init.kaiming_uniform_(t, a=5**0.5))
init_case("kaiming_normal", "init.kaiming_normal_(t)", [6, 3], lambda t: init.kaiming_normal_(t))
init_case("kaiming_normal_fan_out_tanh", "init.kaiming_normal_(t, mode='fan_out', nonlinearity='tanh')", [2, 3, 2, 2], lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"))
init_case("kaiming_normal_selu", "init.kaiming_normal_(t, nonlinearity='selu')", [3, 4], lambda t: init.kaiming_normal_(t, nonlinearity="selu"))
init_case("kaiming_err_1d", "init.kaiming_uniform_(t)", [5], lambda t: init.kaiming_uniform_(t), error="Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
init_case("kaiming_empty", "init.kaiming_uniform_(t)", [0, 3], lambda t: init.kaiming_uniform_(t))

GAINS = [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
]

LAYERS = []


def layer(name, python, inputs=None, grad_inputs=(0,), mode="train", steps=1, forward_seed=None, call=None):
    """`python` is the constructor expression (evaluated after manual_seed)."""
    LAYERS.append(dict(name=name, python=python, inputs=inputs, grad_inputs=list(grad_inputs), mode=mode, steps=steps, forward_seed=forward_seed, call=call))


x23 = rnd(2, 3)
layer("linear", "nn.Linear(3, 4)", [x23])
layer("linear_nobias", "nn.Linear(3, 2, bias=False)", [x23], mode="eval")
layer("linear_f64", "nn.Linear(3, 2, dtype=torch.float64)", [x23.double()])
layer("bilinear", "nn.Bilinear(2, 3, 4)", [rnd(5, 2), rnd(5, 3)], grad_inputs=(0, 1))
layer("identity", "nn.Identity()", [x23])
x1d = rnd(2, 4, 7)
layer("conv1d", "nn.Conv1d(4, 6, 3)", [x1d])
layer("conv1d_opts", "nn.Conv1d(4, 2, 2, stride=2, padding=1, dilation=2, groups=2, bias=False)", [x1d])
x2d = rnd(2, 4, 5, 4)
layer("conv2d", "nn.Conv2d(4, 3, 3)", [x2d])
layer("conv2d_groups", "nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), groups=2)", [x2d])
layer("conv2d_same", "nn.Conv2d(4, 2, 3, padding='same', dilation=2)", [x2d])
layer("conv2d_reflect", "nn.Conv2d(4, 2, 3, padding=1, padding_mode='reflect')", [x2d])
layer("conv2d_circular", "nn.Conv2d(4, 2, (3, 2), padding=(1, 2), padding_mode='circular')", [x2d])
layer("conv_transpose2d", "nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)", [x2d])
layer("conv_transpose2d_groups", "nn.ConvTranspose2d(4, 2, 2, groups=2, bias=False, dilation=2)", [x2d])
layer("batchnorm1d", "nn.BatchNorm1d(3)", [rnd(4, 3)], steps=2)
layer("batchnorm1d_3d_eval", "nn.BatchNorm1d(3)", [rnd(2, 3, 4)], mode="eval")
layer("batchnorm1d_cma", "nn.BatchNorm1d(3, momentum=None)", [rnd(4, 3)], steps=2)
layer("batchnorm2d", "nn.BatchNorm2d(4)", [x2d], steps=2)
layer("batchnorm2d_no_affine", "nn.BatchNorm2d(4, affine=False, momentum=0.3)", [x2d], steps=2)
layer("batchnorm2d_no_stats", "nn.BatchNorm2d(4, track_running_stats=False)", [x2d], mode="eval")
layer("layernorm", "nn.LayerNorm(3)", [x23])
layer("layernorm_2d_nobias", "nn.LayerNorm([5, 4], eps=1e-3, bias=False)", [x2d])
layer("layernorm_no_affine", "nn.LayerNorm(3, elementwise_affine=False)", [x23])
layer("groupnorm", "nn.GroupNorm(2, 4)", [x2d])
layer("rmsnorm", "nn.RMSNorm(3)", [x23])
layer("rmsnorm_eps", "nn.RMSNorm([5, 4], eps=1e-4)", [x2d])
layer("dropout_train", "nn.Dropout(0.3)", [rnd(4, 5)], forward_seed=7)
layer("dropout_eval", "nn.Dropout()", [rnd(4, 5)], mode="eval")
layer("dropout2d_train", "nn.Dropout2d(0.5)", [x2d], forward_seed=3)
layer("alpha_dropout_train", "nn.AlphaDropout(0.2)", [rnd(4, 5)], forward_seed=11)
idx = torch.tensor([[0, 2, 4], [4, 3, 0]])
layer("embedding", "nn.Embedding(5, 3)", [idx], grad_inputs=())
layer("embedding_padding", "nn.Embedding(5, 3, padding_idx=-2)", [idx], grad_inputs=())
layer("embedding_max_norm", "nn.Embedding(5, 3, max_norm=1.0)", [idx], grad_inputs=())
layer("flatten", "nn.Flatten()", [x2d])
layer("flatten_range", "nn.Flatten(0, 2)", [x2d])
layer("unflatten", "nn.Unflatten(1, (2, 2))", [rnd(3, 4)])
layer("maxpool2d", "nn.MaxPool2d(2)", [x2d])
layer("maxpool2d_opts", "nn.MaxPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True)", [x2d])
layer("avgpool2d", "nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)", [x2d])
layer("adaptive_avgpool2d", "nn.AdaptiveAvgPool2d((2, 3))", [x2d])
xa = rnd(3, 4)
for act in ["ReLU()", "ReLU6()", "LeakyReLU(0.2)", "ELU(alpha=0.5)", "SELU()", "CELU(alpha=2.0)", "GELU()", "GELU(approximate='tanh')", "SiLU()", "Mish()", "Softplus(beta=2.0, threshold=1.0)", "Softsign()", "Hardtanh(-0.5, 1.5)", "Hardsigmoid()", "Hardswish()", "LogSigmoid()", "Softmax(dim=1)", "LogSoftmax(dim=0)", "Softmin(dim=-1)", "GLU()", "Tanh()", "Sigmoid()", "Tanhshrink()", "Threshold(0.1, -3.0)", "PReLU()", "PReLU(4, init=0.1)"]:
    key = re.sub(r"[^a-z0-9]+", "_", act.lower()).strip("_")
    layer(f"act_{key}", f"nn.{act}", [xa])
lx, lt = rnd(3, 4), torch.tensor([0, 3, 1])
layer("loss_ce", "nn.CrossEntropyLoss()", [lx, lt])
layer("loss_ce_weight", "nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=1, label_smoothing=0.1)", [lx, lt])
layer("loss_nll", "nn.NLLLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5]), reduction='sum')", [torch.log_softmax(lx, 1), lt])
p34, y34 = torch.rand(3, 4, generator=G) * 0.9 + 0.05, torch.rand(3, 4, generator=G)
layer("loss_mse", "nn.MSELoss()", [lx, y34], grad_inputs=(0, 1))
layer("loss_l1", "nn.L1Loss(reduction='sum')", [lx, y34])
layer("loss_smooth_l1", "nn.SmoothL1Loss(beta=0.5)", [lx, y34])
layer("loss_huber", "nn.HuberLoss(reduction='none', delta=0.7)", [lx, y34])
layer("loss_bce", "nn.BCELoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5]))", [p34, y34])
layer("loss_bce_logits", "nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5, 1.5]))", [lx, y34])
layer("loss_kl", "nn.KLDivLoss(reduction='batchmean')", [torch.log_softmax(lx, 1), torch.softmax(rnd(3, 4), 1)])
s5 = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
layer("loss_margin_ranking", "nn.MarginRankingLoss(margin=0.2)", [rnd(5), rnd(5), s5], grad_inputs=(0, 1))
layer("loss_hinge", "nn.HingeEmbeddingLoss(margin=1.5)", [rnd(5), s5])
layer("loss_cosine", "nn.CosineEmbeddingLoss(margin=0.1)", [rnd(5, 3), rnd(5, 3), s5], grad_inputs=(0, 1))
layer("loss_triplet", "nn.TripletMarginLoss(margin=0.5, p=1.0)", [rnd(4, 3), rnd(4, 3), rnd(4, 3)], grad_inputs=(0, 1, 2))
layer("loss_poisson", "nn.PoissonNLLLoss()", [lx, y34 * 3])
layer("loss_gaussian", "nn.GaussianNLLLoss()", [lx, y34, p34], grad_inputs=(0, 2))
ctc_lp = torch.log_softmax(rnd(6, 2, 5), 2)
layer("loss_ctc", "nn.CTCLoss()", [ctc_lp, torch.tensor([[1, 2, 2], [3, 1, 0]]), torch.tensor([6, 5]), torch.tensor([3, 2])])
layer("sequential", "nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))", [x23])
layer("net", "Net()", [rnd(2, 1, 4, 4)], steps=2)
layer("net_eval", "Net().eval()", [rnd(2, 1, 4, 4)], mode="eval")
layer("tied", "Tied()", [x23], call=lambda m, x: m.b(m.a(x)))


def cat_rnn(result):
    """An RNN's `(output, h_n)` / `(output, (h_n, c_n))` flattened into one tensor."""
    out, hidden = result
    parts = [out] + (list(hidden) if isinstance(hidden, tuple) else [hidden])
    return torch.cat([p.reshape(-1) for p in parts])


layer("lstm", "nn.LSTM(3, 4)", [rnd(5, 2, 3)], call=lambda m, x: cat_rnn(m(x)))
layer("lstm_bidirectional_two_layers_hx", "nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)", [rnd(2, 5, 3), rnd(4, 2, 4), rnd(4, 2, 4)], grad_inputs=(0, 1, 2), call=lambda m, x, h, c: cat_rnn(m(x, (h, c))))
layer("lstm_proj_nobias_unbatched", "nn.LSTM(3, 4, proj_size=2, bias=False)", [rnd(5, 3)], call=lambda m, x: cat_rnn(m(x)))
layer("lstm_f64", "nn.LSTM(2, 3, dtype=torch.float64)", [rnd(3, 2, 2, dtype=torch.float64)], call=lambda m, x: cat_rnn(m(x)))
layer("gru_dropout_train", "nn.GRU(3, 4, num_layers=2, dropout=0.3)", [rnd(4, 2, 3)], forward_seed=5, call=lambda m, x: cat_rnn(m(x)))
layer("gru_bidirectional_eval_hx", "nn.GRU(3, 4, bidirectional=True)", [rnd(4, 2, 3), rnd(2, 2, 4)], grad_inputs=(0, 1), mode="eval", call=lambda m, x, h: cat_rnn(m(x, h)))
layer("rnn_relu_two_layers", "nn.RNN(3, 5, num_layers=2, nonlinearity='relu')", [rnd(4, 2, 3)], call=lambda m, x: cat_rnn(m(x)))
layer("rnn_unbatched_hx", "nn.RNN(3, 5)", [rnd(4, 3), rnd(1, 5)], grad_inputs=(0, 1), call=lambda m, x, h: cat_rnn(m(x, h)))
layer("mha", "nn.MultiheadAttention(4, 2)", [rnd(3, 2, 4)], call=lambda m, x: cat_rnn(m(x, x, x)))
layer("mha_kdim_vdim_bias_kv_zero_attn_batch_first", "nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True)", [rnd(2, 3, 4), rnd(2, 5, 3), rnd(2, 5, 5)], grad_inputs=(0, 1, 2), call=lambda m, q, k, v: cat_rnn(m(q, k, v)))
layer("mha_dropout_no_weights", "nn.MultiheadAttention(4, 2, dropout=0.2, bias=False)", [rnd(3, 2, 4)], forward_seed=3, call=lambda m, x: m(x, x, x, need_weights=False)[0])
layer("mha_eval_padding_mask_per_head", "nn.MultiheadAttention(4, 2, batch_first=True)", [rnd(2, 3, 4), torch.tensor([[False, False, True], [False, False, False]])], mode="eval", call=lambda m, x, kpm: cat_rnn(m(x, x, x, key_padding_mask=kpm, average_attn_weights=False)))

causal = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
layer("transformer_encoder_layer", "nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)", [rnd(3, 2, 4)], forward_seed=9)
layer("transformer_encoder_layer_gelu_norm_first_batch_first_eval", "nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation='gelu', norm_first=True, batch_first=True)", [rnd(2, 3, 4), torch.tensor([[False, True, False], [False, False, False]])], mode="eval", call=lambda m, x, kpm: m(x, src_key_padding_mask=kpm))
layer("transformer_encoder_layer_nobias_causal_f64", "nn.TransformerEncoderLayer(4, 1, dim_feedforward=5, dropout=0.0, bias=False, layer_norm_eps=1e-3, dtype=torch.float64)", [rnd(3, 2, 4, dtype=torch.float64), causal], call=lambda m, x, mask: m(x, src_mask=mask, is_causal=True))

LOADS = []


def load_case(name, python, build, edit, strict):
    """`build` names a constructor (evaluated after manual_seed(0));
    `edit(sd)` returns the state dict to load (built after manual_seed(1))."""
    LOADS.append((name, python, build, edit, strict))


def drop(*keys):
    return lambda sd: {k: v for k, v in sd.items() if k not in keys}


def plus(**extra):
    return lambda sd: {**sd, **{k.replace("__", "."): v for k, v in extra.items()}}


def both(f, g):
    return lambda sd: g(f(sd))


def reshape(key, shape):
    return lambda sd: {k: (torch.zeros(shape) if k == key else v) for k, v in sd.items()}


for strict in [True, False]:
    s = "strict" if strict else "lenient"
    load_case(f"load_values_{s}", f"m.load_state_dict(other.state_dict(), strict={strict})", "nn.Linear(3, 2)", lambda sd: sd, strict)
    load_case(f"load_missing_{s}", f"m.load_state_dict(sd without bias, strict={strict})", "nn.Linear(3, 2)", drop("bias"), strict)
    load_case(f"load_unexpected_{s}", f"m.load_state_dict(sd + extras, strict={strict})", "nn.Sequential(nn.Linear(3, 2), nn.ReLU())", plus(extra=torch.ones(1), **{"1__weight": torch.ones(2), "0__weight__x": torch.ones(1)}), strict)
    load_case(f"load_both_{s}", f"m.load_state_dict(net sd with missing and unexpected keys, strict={strict})", "Net()", both(drop("features.1.num_batches_tracked", "heads.0.bias", "offset"), plus(heads__1__bias=torch.ones(2), scale=torch.ones(1))), strict)
    load_case(f"load_size_mismatch_{s}", f"m.load_state_dict(sd with a [2, 4] weight, strict={strict})", "nn.Linear(3, 2)", reshape("weight", (2, 4)), strict)
    load_case(f"load_everything_{s}", f"m.load_state_dict(sd with every problem, strict={strict})", "nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))", both(both(drop("0.bias", "1.running_var"), plus(**{"2__weight": torch.ones(1)})), reshape("1.weight", (3,))), strict)
load_case("load_dtype_cast", "m.load_state_dict(float64 sd)", "nn.Linear(3, 2)", lambda sd: {k: v.double() for k, v in sd.items()}, True)
load_case("load_bn_buffers", "m.load_state_dict(trained bn sd)", "nn.BatchNorm1d(3)", lambda sd: {k: (v + 1 if v.is_floating_point() else v + 5) for k, v in sd.items()}, True)


def make(expr):
    return eval(expr, {"nn": nn, "torch": torch, "Net": Net, "Tied": Tied})


# ---------------------------------------------------------------- run


def run_init(name, python, shape, fn, error, seed):
    torch.manual_seed(seed)
    t = torch.empty(shape)
    rec = {"name": name, "python": python, "seed": seed, "shape": shape}
    try:
        fn(t)
    except Exception as e:  # noqa: BLE001
        assert error is not None and error in str(e), (name, e)
        rec["error"] = error
        return rec
    assert error is None, name
    rec["result"] = tensor(t)
    return rec


def structure(m):
    return {
        "params": [k for k, _ in m.named_parameters()],
        "buffers": [k for k, _ in m.named_buffers()],
        "modules": [k for k, _ in m.named_modules()],
        "types": [type(v).__name__ for _, v in m.named_modules()],
    }


def run_layer(case, seed):
    torch.manual_seed(seed)
    m = make(case["python"])
    rec = {"name": case["name"], "python": case["python"], "seed": seed, "state": state(m), **structure(m)}
    if case["inputs"] is None:
        return rec
    m.train(case["mode"] == "train")
    xs = [x.clone().requires_grad_(i in case["grad_inputs"]) for i, x in enumerate(case["inputs"])]
    call = case["call"] or (lambda m, *xs: m(*xs))
    for _ in range(case["steps"]):
        if case["forward_seed"] is not None:
            torch.manual_seed(case["forward_seed"])
        out = call(m, *xs)
    up = torch.rand(out.shape, generator=G, dtype=torch.float64).to(out.dtype) * 2 - 1
    leaves = [xs[i] for i in case["grad_inputs"]] + [p for _, p in m.named_parameters()]
    names = [f"input{i}" for i in case["grad_inputs"]] + [k for k, _ in m.named_parameters()]
    grads = torch.autograd.grad((out * up).sum(), leaves, allow_unused=True)
    rec.update(
        mode=case["mode"], steps=case["steps"],
        inputs=[tensor(x) for x in case["inputs"]], grad_inputs=case["grad_inputs"],
        output=tensor(out), upstream=tensor(up),
        grads=[tensor(g, n) for n, g in zip(names, grads) if g is not None],
        after=state(m),
    )
    if case["forward_seed"] is not None:
        rec["forward_seed"] = case["forward_seed"]
    return rec


def run_load(name, python, build, edit, strict):
    torch.manual_seed(1)
    original = make(build).state_dict()
    # Keep the per-module version metadata, as `del sd[k]` would: our state
    # dicts behave like ones from state_dict() (version 2), not legacy ones.
    sd = OrderedDict(edit(original))
    sd._metadata = original._metadata
    torch.manual_seed(0)
    m = make(build)
    rec = {"name": name, "python": python, "build": build, "strict": strict, "sd": [tensor(v, k) for k, v in sd.items()]}
    try:
        keys = m.load_state_dict(sd, strict=strict)
    except RuntimeError as e:
        rec["error"] = str(e)
        return rec
    rec.update(missing=list(keys.missing_keys), unexpected=list(keys.unexpected_keys), after=state(m))
    return rec


def programs():
    out = []
    torch.manual_seed(0)
    net = Net()
    net.eval()
    flags_eval = [mod.training for _, mod in net.named_modules()]
    net.features.train()
    flags_mixed = [mod.training for _, mod in net.named_modules()]
    out.append({"name": "train_eval", "flags_eval": flags_eval, "flags_features_train": flags_mixed})
    torch.manual_seed(0)
    net = Net()
    x = rnd(2, 1, 4, 4)
    net(x).sum().backward()
    had = [p.grad is not None for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    zeroed = [p.grad is not None and bool((p.grad == 0).all()) for p in net.parameters()]
    net.zero_grad()
    none = [p.grad is None for p in net.parameters()]
    out.append({"name": "zero_grad", "had_grad": had, "zeroed_in_place": zeroed, "set_to_none": none})
    torch.manual_seed(0)
    net = Net().to(torch.float64)
    y = net(x.double())
    out.append({"name": "to_float64", "state": state(net), "buffers": [tensor(b, k) for k, b in net.named_buffers()], "input": tensor(x), "output": tensor(y), "requires_grad": [p.requires_grad for p in net.parameters()]})
    torch.manual_seed(0)
    tied = Tied().to(torch.float64)
    out.append({"name": "to_float64_tied", "shared": tied.a.weight is tied.b.weight, "params": [k for k, _ in tied.named_parameters()]})
    return out


def emit(lines, header, rec):
    lines.append("")
    lines.append(header)
    for k, v in rec.items():
        lines.append(f"{k} = {toml_value(v)}")


def main():
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        sys.exit(f"modules.py: torch {torch.__version__} is installed, fixtures need {TORCH_VERSION}")
    lines = ["# Generated by tools/oracle/scenarios/modules.py; do not edit.", f"torch = {toml_str(TORCH_VERSION)}", f"gains = {toml_value([[n, -1.0 if p is None else p, init.calculate_gain(n, p)] for n, p in GAINS])}"]
    for seed in SEEDS:
        for c in INITS:
            emit(lines, "[[init]]", run_init(*c, seed))
    for seed in SEEDS:
        for c in LAYERS:
            emit(lines, "[[layer]]", run_layer(c, seed))
    for c in LOADS:
        emit(lines, "[[load]]", run_load(*c))
    for p in programs():
        emit(lines, "[[program]]", p)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
