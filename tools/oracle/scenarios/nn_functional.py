"""Scenario fixtures for the layer functions of `nn::functional` (conv,
pooling, normalization, linear, embedding, padding, vision, attention,
distance): each case calls the real `torch.nn.functional.<fn>(...)` with some
of its options; tests/nn_functional.rs calls the Rust `F::` spelling of the
same case (by name) and compares.

A case is a dict:
  name    unique name; tests/nn_functional.rs must have a case of that name
  inputs  {name: python expression}; `R(*shape)` (seeded normal values),
          `P(*shape)` (positive values), `I(lo, hi, *shape)` (int64 in
          [lo, hi)), `T` (torch.tensor) and `torch` in scope; default dtype
          float64
  call    the Python expression (F is torch.nn.functional)
  grad    names of inputs that require grad; the gradients of
          `sum(out0 * W)` (W = ((arange(numel) % 7) - 3) in out0's shape and
          dtype) are recorded; with `grad_outputs = "all"`, of the sum of
          that over every output
  after   names of inputs recorded after the call (running statistics,
          weights renormalised in place)
  error   (optional) the FrankenTorch ErrorKind expected; torch must raise
  msg     (optional, with error) a substring of torch's message that our
          message must contain too
  seed    (optional) `torch.manual_seed(seed)` right before the call (random
          functions: dropout inside attention)

Recorded per case: the inputs, every output (a tuple result gives several),
the inputs listed in `after`, the gradients, or the error.

Run: .venv-oracle/bin/python tools/oracle/scenarios/nn_functional.py
"""

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from oracle import TORCH_VERSION, flat_values, toml_str, toml_value  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "nn_functional.toml")

GEN = torch.Generator().manual_seed(0)


def R(*shape, dtype=torch.float64):
    """Normal values (seeded), rounded to 1/64 so every dtype holds them exactly."""
    return (torch.randn(shape, generator=GEN, dtype=torch.float64) * 64).round().div(64).to(dtype)


def P(*shape, dtype=torch.float64):
    """Positive values in [0.5, 2.5)."""
    return (0.5 + 2 * torch.rand(shape, generator=GEN, dtype=torch.float64)).to(dtype)


def I(lo, hi, *shape):
    """int64 values in [lo, hi)."""
    return torch.randint(lo, hi, shape, generator=GEN)


T = torch.tensor
X1 = {"x": "R(2, 3, 9)"}
X2 = {"x": "R(2, 3, 7, 6)"}


def w(x=None, **more):
    return {**(x or {}), **more}


LSTM1 = {"x": "R(5, 2, 3)", "h0": "R(1, 2, 4) / 2", "c0": "R(1, 2, 4) / 2", "wi": "R(16, 3) / 2", "wh": "R(16, 4) / 2", "bi": "R(16) / 2", "bh": "R(16) / 2"}
LSTM_BI = {"x": "R(2, 4, 3)", "h0": "R(4, 2, 3) / 2", "c0": "R(4, 2, 3) / 2", "a0": "R(12, 3) / 2", "b0": "R(12, 3) / 2", "a1": "R(12, 3) / 2", "b1": "R(12, 3) / 2", "a2": "R(12, 6) / 2", "b2": "R(12, 3) / 2", "a3": "R(12, 6) / 2", "b3": "R(12, 3) / 2"}
LSTM_PROJ = {"x": "R(4, 2, 3)", "h0": "R(1, 2, 2) / 2", "c0": "R(1, 2, 4) / 2", "wi": "R(16, 3) / 2", "wh": "R(16, 2) / 2", "bi": "R(16) / 2", "bh": "R(16) / 2", "wr": "R(2, 4) / 2"}
LSTM_2 = {"x": "R(4, 3, 3)", "h0": "R(2, 3, 4) / 2", "c0": "R(2, 3, 4) / 2", "a0": "R(16, 3) / 2", "b0": "R(16, 4) / 2", "c0_": "R(16) / 2", "d0": "R(16) / 2", "a1": "R(16, 4) / 2", "b1": "R(16, 4) / 2", "c1": "R(16) / 2", "d1": "R(16) / 2"}
GRU_2 = {"x": "R(4, 2, 3)", "h0": "R(2, 2, 4) / 2", "a0": "R(12, 3) / 2", "b0": "R(12, 4) / 2", "c0": "R(12) / 2", "d0": "R(12) / 2", "a1": "R(12, 4) / 2", "b1": "R(12, 4) / 2", "c1": "R(12) / 2", "d1": "R(12) / 2"}
GRU_BI = {"x": "R(2, 5, 3)", "h0": "R(2, 2, 4) / 2", "a0": "R(12, 3) / 2", "b0": "R(12, 4) / 2", "a1": "R(12, 3) / 2", "b1": "R(12, 4) / 2"}
RNN1 = {"x": "R(4, 2, 3)", "h0": "R(1, 2, 5) / 2", "wi": "R(5, 3) / 2", "wh": "R(5, 5) / 2", "bi": "R(5) / 2", "bh": "R(5) / 2"}
RNN_BI = {"x": "R(4, 2, 3)", "h0": "R(2, 2, 5) / 2", "a0": "R(5, 3) / 2", "b0": "R(5, 5) / 2", "a1": "R(5, 3) / 2", "b1": "R(5, 5) / 2"}
CELL4 = {"x": "R(3, 3)", "h": "R(3, 4) / 2", "c": "R(3, 4) / 2", "wi": "R(16, 3) / 2", "wh": "R(16, 4) / 2", "bi": "R(16) / 2", "bh": "R(16) / 2"}
CELL3 = {"x": "R(3, 3)", "h": "R(3, 4) / 2", "wi": "R(12, 3) / 2", "wh": "R(12, 4) / 2", "bi": "R(12) / 2", "bh": "R(12) / 2"}
MHA = {"q": "R(3, 2, 4)", "w": "R(12, 4) / 2", "b": "R(12) / 2", "wo": "R(4, 4) / 2", "bo": "R(4) / 2"}
CELL1 = {"x": "R(3, 3)", "h": "R(3, 4) / 2", "wi": "R(4, 3) / 2", "wh": "R(4, 4) / 2", "bi": "R(4) / 2", "bh": "R(4) / 2"}

CASES = [
    # ------------------------------------------------------------- linear
    dict(name="linear_bias", inputs={"x": "R(4, 3)", "w": "R(5, 3)", "b": "R(5)"}, call="F.linear(x, w, b)", grad=["x", "w", "b"]),
    dict(name="linear_no_bias_3d", inputs={"x": "R(2, 4, 3)", "w": "R(5, 3)"}, call="F.linear(x, w)", grad=["x", "w"]),
    dict(name="linear_f32", inputs={"x": "R(4, 3, dtype=torch.float32)", "w": "R(2, 3, dtype=torch.float32)"}, call="F.linear(x, w)"),
    dict(name="err_linear_shape", inputs={"x": "R(4, 3)", "w": "R(5, 4)"}, call="F.linear(x, w)", error="ShapeMismatch"),
    # --------------------------------------------------------------- conv
    dict(name="conv1d_default", inputs=w(X1, wt="R(4, 3, 3)"), call="F.conv1d(x, wt)", grad=["x", "wt"]),
    dict(name="conv1d_all_options", inputs=w(X1, wt="R(4, 1, 2)", b="R(4)"), call="F.conv1d(x[:, :2], wt, b, stride=2, padding=1, dilation=2, groups=2)", grad=["x", "wt", "b"]),
    dict(name="conv1d_same", inputs=w(X1, wt="R(2, 3, 4)"), call="F.conv1d(x, wt, padding='same', dilation=1)", grad=["x", "wt"]),
    dict(name="conv1d_valid", inputs=w(X1, wt="R(2, 3, 4)"), call="F.conv1d(x, wt, padding='valid', stride=3)"),
    dict(name="conv1d_unbatched", inputs={"x": "R(3, 9)", "wt": "R(2, 3, 2)"}, call="F.conv1d(x, wt)", grad=["x"]),
    dict(name="conv2d_default", inputs=w(X2, wt="R(4, 3, 3, 2)", b="R(4)"), call="F.conv2d(x, wt, b)", grad=["x", "wt", "b"]),
    dict(name="conv2d_stride_padding_dilation", inputs=w(X2, wt="R(2, 3, 2, 3)"), call="F.conv2d(x, wt, stride=(2, 1), padding=(1, 2), dilation=(2, 1))", grad=["x", "wt"]),
    dict(name="conv2d_groups", inputs={"x": "R(2, 4, 5, 5)", "wt": "R(6, 2, 3, 3)", "b": "R(6)"}, call="F.conv2d(x, wt, b, groups=2)", grad=["x", "wt", "b"]),
    dict(name="conv2d_same_even_kernel", inputs=w(X2, wt="R(2, 3, 4, 2)"), call="F.conv2d(x, wt, padding='same', dilation=(1, 3))", grad=["x", "wt"]),
    dict(name="conv2d_valid", inputs=w(X2, wt="R(2, 3, 3, 3)"), call="F.conv2d(x, wt, padding='valid')"),
    dict(name="conv2d_unbatched_f32", inputs={"x": "R(3, 5, 5, dtype=torch.float32)", "wt": "R(2, 3, 3, 3, dtype=torch.float32)"}, call="F.conv2d(x, wt, padding=1)"),
    dict(name="err_conv2d_kernel_too_large", inputs={"x": "R(1, 3, 2, 2)", "wt": "R(4, 3, 3, 3)"}, call="F.conv2d(x, wt)", error="InvalidArgument", msg="Kernel size can't be greater than actual input size"),
    dict(name="err_conv2d_groups", inputs={"x": "R(1, 4, 5, 5)", "wt": "R(6, 2, 3, 3)"}, call="F.conv2d(x, wt, groups=4)", error="InvalidArgument", msg="expected weight to be divisible by 4"),
    dict(name="err_conv2d_channels", inputs={"x": "R(1, 4, 5, 5)", "wt": "R(6, 3, 3, 3)"}, call="F.conv2d(x, wt)", error="ShapeMismatch", msg="to have 3 channels, but got 4 channels instead"),
    dict(name="err_conv2d_same_strided", inputs={"x": "R(1, 3, 5, 5)", "wt": "R(2, 3, 3, 3)"}, call="F.conv2d(x, wt, stride=2, padding='same')", error="InvalidArgument", msg="padding='same' is not supported for strided convolutions"),
    dict(name="err_conv2d_bad_dims", inputs={"x": "R(5, 5)", "wt": "R(2, 3, 3, 3)"}, call="F.conv2d(x, wt)", error="ShapeMismatch", msg="Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    dict(name="conv_transpose2d_default", inputs={"x": "R(2, 3, 4, 3)", "wt": "R(3, 2, 3, 3)", "b": "R(2)"}, call="F.conv_transpose2d(x, wt, b)", grad=["x", "wt", "b"]),
    dict(name="conv_transpose2d_all_options", inputs={"x": "R(2, 4, 3, 3)", "wt": "R(4, 1, 2, 3)"}, call="F.conv_transpose2d(x, wt, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(2, 1))", grad=["x", "wt"]),
    dict(name="conv_transpose2d_unbatched", inputs={"x": "R(3, 4, 3)", "wt": "R(3, 2, 2, 2)"}, call="F.conv_transpose2d(x, wt, stride=2)"),
    dict(name="conv_transpose1d_options", inputs={"x": "R(2, 2, 5)", "wt": "R(2, 3, 3)", "b": "R(3)"}, call="F.conv_transpose1d(x, wt, b, stride=2, padding=1, output_padding=1)", grad=["x", "wt", "b"]),
    dict(name="err_conv_transpose2d_output_padding", inputs={"x": "R(1, 3, 4, 3)", "wt": "R(3, 2, 3, 3)"}, call="F.conv_transpose2d(x, wt, output_padding=1)", error="InvalidArgument", msg="output padding must be smaller than either stride or dilation"),
    # ------------------------------------------------------------ pooling
    dict(name="max_pool2d_default", inputs=X2, call="F.max_pool2d(x, 2)", grad=["x"]),
    dict(name="max_pool2d_options", inputs=X2, call="F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True)", grad=["x"]),
    dict(name="max_pool2d_return_indices", inputs=X2, call="F.max_pool2d(x, 3, stride=2, return_indices=True)", grad=["x"]),
    dict(name="max_pool2d_with_indices_fn", inputs=X2, call="F.max_pool2d_with_indices(x, 2, ceil_mode=True)"),
    dict(name="max_pool2d_unbatched_f32", inputs={"x": "R(3, 5, 5, dtype=torch.float32)"}, call="F.max_pool2d(x, 2, 1)"),
    dict(name="err_max_pool2d_kernel_too_large", inputs={"x": "R(1, 2, 2, 2)"}, call="F.max_pool2d(x, 3)", error="InvalidArgument", msg="Output size is too small"),
    dict(name="err_max_pool2d_padding", inputs={"x": "R(1, 2, 4, 4)"}, call="F.max_pool2d(x, 2, padding=2)", error="InvalidArgument", msg="pad should be at most half of effective kernel size"),
    dict(name="max_pool1d_default", inputs=X1, call="F.max_pool1d(x, 3)", grad=["x"]),
    dict(name="max_pool1d_options", inputs=X1, call="F.max_pool1d(x, 3, stride=2, padding=1, dilation=2, ceil_mode=True)", grad=["x"]),
    dict(name="max_pool1d_return_indices", inputs=X1, call="F.max_pool1d(x, 2, return_indices=True)", grad=["x"]),
    dict(name="err_max_pool1d_kernel_too_large", inputs={"x": "R(2, 2)"}, call="F.max_pool1d(x, 3)", error="InvalidArgument"),
    dict(name="avg_pool2d_default", inputs=X2, call="F.avg_pool2d(x, 2)", grad=["x"]),
    dict(name="avg_pool2d_options", inputs=X2, call="F.avg_pool2d(x, (3, 2), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=False)", grad=["x"]),
    dict(name="avg_pool2d_divisor_override", inputs=X2, call="F.avg_pool2d(x, 3, stride=2, padding=1, divisor_override=2)", grad=["x"]),
    dict(name="avg_pool1d_default", inputs=X1, call="F.avg_pool1d(x, 3)", grad=["x"]),
    dict(name="avg_pool1d_options", inputs=X1, call="F.avg_pool1d(x, 4, stride=2, padding=2, ceil_mode=True, count_include_pad=False)", grad=["x"]),
    dict(name="err_avg_pool2d_kernel_too_large", inputs={"x": "R(1, 2, 2, 2)"}, call="F.avg_pool2d(x, 3)", error="InvalidArgument"),
    dict(name="adaptive_avg_pool2d_sizes", inputs=X2, call="F.adaptive_avg_pool2d(x, (3, 4))", grad=["x"]),
    dict(name="adaptive_avg_pool2d_one", inputs=X2, call="F.adaptive_avg_pool2d(x, 1)", grad=["x"]),
    dict(name="adaptive_avg_pool1d_sizes", inputs=X1, call="F.adaptive_avg_pool1d(x, 4)", grad=["x"]),
    dict(name="adaptive_max_pool2d_sizes", inputs=X2, call="F.adaptive_max_pool2d(x, (3, 4))", grad=["x"]),
    dict(name="adaptive_max_pool2d_return_indices", inputs=X2, call="F.adaptive_max_pool2d(x, 2, return_indices=True)", grad=["x"]),
    dict(name="err_adaptive_max_pool2d_empty", inputs={"x": "R(1, 0, 4)"}, call="F.adaptive_max_pool2d(x, 2)", error="ShapeMismatch", msg="non-zero size for non-batch dimensions"),
    # ------------------------------------------------------ normalization
    dict(name="batch_norm_train_running", inputs={"x": "R(4, 3, 5)", "rm": "R(3)", "rv": "P(3)", "g": "R(3)", "b": "R(3)"}, call="F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.3)", grad=["x", "g", "b"], after=["rm", "rv"]),
    dict(name="batch_norm_train_no_stats", inputs={"x": "R(4, 3, 2, 2)"}, call="F.batch_norm(x, None, None, training=True, eps=1e-3)", grad=["x"]),
    dict(name="batch_norm_eval", inputs={"x": "R(4, 3)", "rm": "R(3)", "rv": "P(3)", "g": "R(3)"}, call="F.batch_norm(x, rm, rv, g)", grad=["x", "g"], after=["rm", "rv"]),
    dict(name="batch_norm_train_f32", inputs={"x": "R(4, 3, 5, dtype=torch.float32)", "rm": "R(3, dtype=torch.float32)", "rv": "P(3, dtype=torch.float32)"}, call="F.batch_norm(x, rm, rv, training=True)", after=["rm", "rv"]),
    dict(name="err_batch_norm_one_value", inputs={"x": "R(1, 3)"}, call="F.batch_norm(x, None, None, training=True)", error="InvalidArgument", msg="Expected more than 1 value per channel when training"),
    dict(name="err_batch_norm_eval_no_stats", inputs={"x": "R(2, 3)"}, call="F.batch_norm(x, None, None)", error="InvalidArgument", msg="running_mean must be defined in evaluation mode"),
    dict(name="err_batch_norm_stat_size", inputs={"x": "R(2, 3)", "rm": "R(2)", "rv": "P(2)"}, call="F.batch_norm(x, rm, rv)", error="ShapeMismatch", msg="running_mean should contain 3 elements not 2"),
    dict(name="layer_norm_affine", inputs={"x": "R(2, 3, 4)", "g": "R(3, 4)", "b": "R(3, 4)"}, call="F.layer_norm(x, (3, 4), g, b, eps=1e-3)", grad=["x", "g", "b"]),
    dict(name="layer_norm_plain", inputs={"x": "R(2, 3, 4)"}, call="F.layer_norm(x, (4,))", grad=["x"]),
    dict(name="err_layer_norm_shape", inputs={"x": "R(2, 3, 4)"}, call="F.layer_norm(x, (3,))", error="ShapeMismatch", msg="Given normalized_shape=[3]"),
    dict(name="group_norm_affine", inputs={"x": "R(2, 6, 5)", "g": "R(6)", "b": "R(6)"}, call="F.group_norm(x, 3, g, b, eps=1e-3)", grad=["x", "g", "b"]),
    dict(name="group_norm_plain", inputs={"x": "R(2, 4, 2, 3)"}, call="F.group_norm(x, 2)", grad=["x"]),
    dict(name="err_group_norm_groups", inputs={"x": "R(2, 6, 5)"}, call="F.group_norm(x, 4)", error="InvalidArgument", msg="Expected number of channels in input to be divisible by num_groups"),
    dict(name="instance_norm_plain", inputs={"x": "R(2, 3, 5)"}, call="F.instance_norm(x)", grad=["x"]),
    dict(name="instance_norm_running_affine", inputs={"x": "R(2, 3, 5)", "rm": "R(3)", "rv": "P(3)", "g": "R(3)", "b": "R(3)"}, call="F.instance_norm(x, rm, rv, g, b, momentum=0.2, eps=1e-3)", grad=["x", "g", "b"], after=["rm", "rv"]),
    dict(name="instance_norm_running_stats_eval", inputs={"x": "R(2, 3, 2, 2)", "rm": "R(3)", "rv": "P(3)"}, call="F.instance_norm(x, rm, rv, use_input_stats=False)", grad=["x"], after=["rm", "rv"]),
    dict(name="err_instance_norm_one_spatial", inputs={"x": "R(2, 3, 1)"}, call="F.instance_norm(x)", error="InvalidArgument", msg="Expected more than 1 spatial element when training"),
    dict(name="rms_norm_weight", inputs={"x": "R(2, 3, 4)", "g": "R(4)"}, call="F.rms_norm(x, (4,), g)", grad=["x", "g"]),
    dict(name="rms_norm_eps", inputs={"x": "R(2, 3, 4)"}, call="F.rms_norm(x, (3, 4), eps=0.5)", grad=["x"]),
    dict(name="rms_norm_default_eps_f32", inputs={"x": "R(2, 3, dtype=torch.float32) * 1e-4"}, call="F.rms_norm(x, (3,))"),
    dict(name="rms_norm_bf16", inputs={"x": "R(2, 3, dtype=torch.bfloat16)", "g": "R(3, dtype=torch.bfloat16)"}, call="F.rms_norm(x, (3,), g)"),
    # ---------------------------------------------------------- embedding
    dict(name="embedding_plain", inputs={"i": "I(0, 6, 2, 3)", "w": "R(6, 4)"}, call="F.embedding(i, w)", grad=["w"]),
    dict(name="embedding_padding_idx", inputs={"i": "T([[0, 2, 5], [2, 2, 1]])", "w": "R(6, 4)"}, call="F.embedding(i, w, padding_idx=2)", grad=["w"]),
    dict(name="embedding_negative_padding_idx_scale_grad", inputs={"i": "T([0, 5, 5, 1])", "w": "R(6, 4)"}, call="F.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True)", grad=["w"]),
    dict(name="embedding_max_norm", inputs={"i": "T([0, 3, 3, 1])", "w": "R(6, 4)"}, call="F.embedding(i, w, max_norm=1.0)", after=["w"]),
    dict(name="embedding_max_norm_p1", inputs={"i": "T([[4, 2]])", "w": "R(6, 4)"}, call="F.embedding(i, w, max_norm=0.5, norm_type=1.0)", after=["w"]),
    dict(name="err_embedding_index", inputs={"i": "T([0, 6])", "w": "R(6, 4)"}, call="F.embedding(i, w)", error="IndexOutOfRange", msg="index out of range"),
    dict(name="err_embedding_padding_idx", inputs={"i": "T([0, 1])", "w": "R(6, 4)"}, call="F.embedding(i, w, padding_idx=6)", error="InvalidArgument", msg="Padding_idx must be within num_embeddings"),
    dict(name="one_hot_infer", inputs={"i": "T([[0, 3], [1, 1]])"}, call="F.one_hot(i)"),
    dict(name="one_hot_classes", inputs={"i": "T([2, 0, 1])"}, call="F.one_hot(i, num_classes=5)"),
    dict(name="err_one_hot_too_large", inputs={"i": "T([2, 5])"}, call="F.one_hot(i, 5)", error="IndexOutOfRange", msg="Class values must be smaller than num_classes."),
    # ------------------------------------------------------------ padding
    dict(name="pad_constant", inputs={"x": "R(2, 3, 4)"}, call="F.pad(x, (1, 2, 0, 1))", grad=["x"]),
    dict(name="pad_constant_value_crop", inputs={"x": "R(2, 3, 4)"}, call="F.pad(x, (-1, 2), value=1.5)", grad=["x"]),
    dict(name="pad_reflect_1d", inputs={"x": "R(2, 3, 5)"}, call="F.pad(x, (2, 3), mode='reflect')", grad=["x"]),
    dict(name="pad_reflect_2d", inputs={"x": "R(1, 2, 4, 5)"}, call="F.pad(x, (1, 2, 3, 0), mode='reflect')", grad=["x"]),
    dict(name="pad_replicate_1d", inputs={"x": "R(3, 4)"}, call="F.pad(x, (3, 1), mode='replicate')", grad=["x"]),
    dict(name="pad_replicate_2d", inputs={"x": "R(1, 2, 3, 3)"}, call="F.pad(x, (2, 1, 1, 2), mode='replicate')", grad=["x"]),
    dict(name="pad_circular_1d", inputs={"x": "R(2, 3, 4)"}, call="F.pad(x, (2, 3), mode='circular')", grad=["x"]),
    dict(name="pad_circular_2d", inputs={"x": "R(1, 2, 3, 4)"}, call="F.pad(x, (1, 2, 2, 1), mode='circular')", grad=["x"]),
    dict(name="err_pad_reflect_too_large", inputs={"x": "R(2, 3, 4)"}, call="F.pad(x, (4, 1), mode='reflect')", error="InvalidArgument", msg="Padding size should be less than the corresponding input dimension"),
    dict(name="err_pad_odd_length", inputs={"x": "R(2, 3, 4)"}, call="F.pad(x, (1, 2, 3))", error="InvalidArgument", msg="Padding length must be divisible by 2"),
    # ------------------------------------------------------------- vision
    dict(name="interpolate_nearest_size", inputs={"x": "R(1, 2, 3, 4)"}, call="F.interpolate(x, size=(5, 7))", grad=["x"]),
    dict(name="interpolate_nearest_scale", inputs={"x": "R(1, 2, 3, 4)"}, call="F.interpolate(x, scale_factor=(1.7, 2.5))", grad=["x"]),
    dict(name="interpolate_bilinear_size", inputs={"x": "R(2, 1, 3, 4)"}, call="F.interpolate(x, size=(5, 3), mode='bilinear')", grad=["x"]),
    dict(name="interpolate_bilinear_align_corners", inputs={"x": "R(2, 1, 3, 4)"}, call="F.interpolate(x, scale_factor=(2.0, 1.5), mode='bilinear', align_corners=True)", grad=["x"]),
    dict(name="interpolate_bilinear_recompute", inputs={"x": "R(1, 1, 3, 4)"}, call="F.interpolate(x, scale_factor=(1.7, 2.5), mode='bilinear', recompute_scale_factor=True)", grad=["x"]),
    dict(name="err_interpolate_both", inputs={"x": "R(1, 1, 3, 4)"}, call="F.interpolate(x, size=(2, 2), scale_factor=(2.0, 2.0))", error="InvalidArgument", msg="only one of size or scale_factor should be defined"),
    dict(name="err_interpolate_neither", inputs={"x": "R(1, 1, 3, 4)"}, call="F.interpolate(x)", error="InvalidArgument", msg="either size or scale_factor should be defined"),
    dict(name="err_interpolate_nearest_align_corners", inputs={"x": "R(1, 1, 3, 4)"}, call="F.interpolate(x, size=(2, 2), align_corners=True)", error="InvalidArgument", msg="align_corners option can only be set with the interpolating modes"),
    dict(name="pixel_shuffle_2", inputs={"x": "R(2, 8, 2, 3)"}, call="F.pixel_shuffle(x, 2)", grad=["x"]),
    dict(name="pixel_unshuffle_3", inputs={"x": "R(1, 2, 6, 3)"}, call="F.pixel_unshuffle(x, 3)", grad=["x"]),
    dict(name="err_pixel_shuffle_channels", inputs={"x": "R(1, 6, 2, 2)"}, call="F.pixel_shuffle(x, 2)", error="ShapeMismatch", msg="is not divisible by 4"),
    dict(name="unfold_default", inputs={"x": "R(2, 3, 4, 5)"}, call="F.unfold(x, (2, 3))", grad=["x"]),
    dict(name="unfold_options", inputs={"x": "R(1, 2, 5, 5)"}, call="F.unfold(x, 2, dilation=2, padding=1, stride=(2, 1))", grad=["x"]),
    dict(name="fold_default", inputs={"x": "R(2, 12, 6)"}, call="F.fold(x, (3, 4), 2)", grad=["x"]),
    dict(name="fold_options", inputs={"x": "R(1, 8, 9)"}, call="F.fold(x, (4, 5), 2, dilation=(1, 2), padding=(1, 0), stride=(2, 1))", grad=["x"]),
    # ---------------------------------------------------------- attention
    dict(name="sdpa_plain", inputs={"q": "R(2, 3, 4)", "k": "R(2, 5, 4)", "v": "R(2, 5, 3)"}, call="F.scaled_dot_product_attention(q, k, v)", grad=["q", "k", "v"]),
    dict(name="sdpa_bool_mask", inputs={"q": "R(2, 3, 4)", "k": "R(2, 5, 4)", "v": "R(2, 5, 3)", "m": "T([[True, False, True, True, False], [False, False, False, False, False], [True, True, True, True, True]])"}, call="F.scaled_dot_product_attention(q, k, v, attn_mask=m)", grad=["q", "k", "v"]),
    dict(name="sdpa_float_mask_scale", inputs={"q": "R(2, 2, 3, 4)", "k": "R(2, 2, 5, 4)", "v": "R(2, 2, 5, 3)", "m": "R(3, 5)"}, call="F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3)", grad=["q", "k", "v", "m"]),
    dict(name="sdpa_causal", inputs={"q": "R(1, 2, 4, 3)", "k": "R(1, 2, 4, 3)", "v": "R(1, 2, 4, 2)"}, call="F.scaled_dot_product_attention(q, k, v, is_causal=True)", grad=["q", "k", "v"]),
    dict(name="sdpa_gqa", inputs={"q": "R(1, 4, 3, 2)", "k": "R(1, 2, 5, 2)", "v": "R(1, 2, 5, 3)"}, call="F.scaled_dot_product_attention(q, k, v, enable_gqa=True)", grad=["q", "k", "v"]),
    dict(name="sdpa_dropout_zero_f32", inputs={"q": "R(2, 3, 4, dtype=torch.float32)", "k": "R(2, 5, 4, dtype=torch.float32)", "v": "R(2, 5, 3, dtype=torch.float32)"}, call="F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)"),
    dict(name="sdpa_dropout_seeded", inputs={"q": "R(2, 3, 4)", "k": "R(2, 5, 4)", "v": "R(2, 5, 3)"}, call="F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)", seed=7, grad=["q", "k", "v"]),
    dict(name="sdpa_dropout_causal_f32_seeded", inputs={"q": "R(1, 2, 4, 3, dtype=torch.float32)", "k": "R(1, 2, 4, 3, dtype=torch.float32)", "v": "R(1, 2, 4, 2, dtype=torch.float32)"}, call="F.scaled_dot_product_attention(q, k, v, dropout_p=0.25, is_causal=True)", seed=2024, grad=["q", "v"]),
    dict(name="err_sdpa_mask_and_causal", inputs={"q": "R(2, 3, 4)", "k": "R(2, 5, 4)", "v": "R(2, 5, 3)", "m": "R(3, 5)"}, call="F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=True)", error="InvalidArgument", msg="Explicit attn_mask should not be set when is_causal=True"),
    # ------------------------------------------------- linear and distance
    dict(name="bilinear_bias", inputs={"a": "R(3, 4)", "b": "R(3, 2)", "w": "R(5, 4, 2)", "c": "R(5)"}, call="F.bilinear(a, b, w, c)", grad=["a", "b", "w", "c"]),
    dict(name="bilinear_batched", inputs={"a": "R(2, 3, 4)", "b": "R(2, 3, 2)", "w": "R(5, 4, 2)"}, call="F.bilinear(a, b, w)", grad=["a", "b", "w"]),
    dict(name="err_bilinear_size", inputs={"a": "R(3, 4)", "b": "R(3, 3)", "w": "R(5, 4, 2)"}, call="F.bilinear(a, b, w)", error="ShapeMismatch", msg="input2 size does not match weight size"),
    dict(name="cosine_similarity_default", inputs={"a": "R(3, 4)", "b": "R(3, 4)"}, call="F.cosine_similarity(a, b)", grad=["a", "b"]),
    dict(name="cosine_similarity_dim_eps_broadcast", inputs={"a": "R(2, 3, 4)", "b": "R(3, 1) * 1e-9"}, call="F.cosine_similarity(a, b, dim=-2, eps=1e-3)", grad=["a", "b"]),
    dict(name="pairwise_distance_default", inputs={"a": "R(3, 4)", "b": "R(3, 4)"}, call="F.pairwise_distance(a, b)", grad=["a", "b"]),
    dict(name="pairwise_distance_options", inputs={"a": "R(2, 3, 4)", "b": "R(4)"}, call="F.pairwise_distance(a, b, p=1.5, eps=0.1, keepdim=True)", grad=["a", "b"]),
    dict(name="normalize_default", inputs={"x": "R(3, 4)"}, call="F.normalize(x)", grad=["x"]),
    dict(name="normalize_options", inputs={"x": "R(2, 3, 4)"}, call="F.normalize(x, p=1.0, dim=-1, eps=0.5)", grad=["x"]),
    dict(name="normalize_zero_row", inputs={"x": "torch.zeros(2, 3)"}, call="F.normalize(x, dim=0)", grad=["x"]),
    # ------------------------------------------------ F.multi_head_attention_forward
    dict(name="mha_self_attention_weights", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo)", grad=list(MHA), grad_outputs="all"),
    dict(name="mha_self_attention_sdpa", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, need_weights=False)", grad=list(MHA)),
    dict(name="mha_encoder_decoder_masks", inputs={**MHA, "kv": "R(5, 2, 4)", "kpm": "T([[False, False, False, True, True], [False, True, False, False, False]])", "am": "R(3, 5)"}, call="F.multi_head_attention_forward(q, kv, kv, 4, 2, w, b, None, None, False, 0.0, wo, bo, key_padding_mask=kpm, attn_mask=am)", grad=["q", "kv", "w", "am"], grad_outputs="all"),
    dict(name="mha_encoder_decoder_masks_sdpa", inputs={**MHA, "kv": "R(5, 2, 4)", "kpm": "T([[False, False, False, True, True], [False, True, False, False, False]])", "am": "R(3, 5)"}, call="F.multi_head_attention_forward(q, kv, kv, 4, 2, w, b, None, None, False, 0.0, wo, bo, key_padding_mask=kpm, attn_mask=am, need_weights=False)", grad=["q", "kv", "w", "am"]),
    dict(name="mha_separate_projections", inputs={"q": "R(3, 2, 4)", "k": "R(5, 2, 6)", "v": "R(5, 2, 3)", "wq": "R(4, 4) / 2", "wk": "R(4, 6) / 2", "wv": "R(4, 3) / 2", "b": "R(12) / 2", "wo": "R(4, 4) / 2"}, call="F.multi_head_attention_forward(q, k, v, 4, 2, None, b, None, None, False, 0.0, wo, None, use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk, v_proj_weight=wv)", grad=["q", "k", "v", "wq", "wk", "wv", "b"], grad_outputs="all"),
    dict(name="mha_bias_kv_zero_attn_per_head", inputs={**MHA, "bk": "R(1, 1, 4)", "bv": "R(1, 1, 4)", "am": "T([[False, True, True], [False, False, True], [False, False, False]])"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, bk, bv, True, 0.0, wo, bo, attn_mask=am, average_attn_weights=False)", grad=["q", "w", "bk", "bv"], grad_outputs="all"),
    dict(name="mha_unbatched_padding", inputs={**MHA, "q": "R(3, 4)", "kpm": "T([False, False, True])"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, key_padding_mask=kpm)", grad=["q", "w"], grad_outputs="all"),
    dict(name="mha_dropout_weights", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.3, wo, bo)", grad=["q", "w"], grad_outputs="all", seed=3),
    dict(name="mha_dropout_sdpa", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.3, wo, bo, need_weights=False)", grad=["q", "w"], seed=5),
    dict(name="mha_eval_ignores_dropout", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.5, wo, bo, training=False)"),
    dict(name="mha_is_causal_sdpa", inputs={**MHA, "am": "torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, attn_mask=am, is_causal=True, need_weights=False)", grad=["q", "w"]),
    dict(name="mha_is_causal_with_weights", inputs={**MHA, "am": "torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, attn_mask=am, is_causal=True)", grad=["q", "w"], grad_outputs="all"),
    dict(name="err_mha_embed_dim", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 5, 2, w, b, None, None, False, 0.0, wo, bo)", error="ShapeMismatch", msg="was expecting embedding dimension of 5, but got 4"),
    dict(name="err_mha_causal_without_mask", inputs=MHA, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, is_causal=True)", error="InvalidArgument", msg="Need attn_mask if specifying the is_causal hint"),
    dict(name="err_mha_attn_mask_shape", inputs={**MHA, "am": "R(3, 4)"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, attn_mask=am)", error="ShapeMismatch", msg="The shape of the 2D attn_mask is"),
    dict(name="err_mha_query_rank", inputs={**MHA, "q": "R(1, 3, 2, 4)"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo)", error="ShapeMismatch", msg="query should be unbatched 2D or batched 3D tensor but received 4-D query tensor"),
    dict(name="err_mha_int_mask", inputs={**MHA, "am": "T([[0, 1, 1], [0, 0, 1], [0, 0, 0]])"}, call="F.multi_head_attention_forward(q, q, q, 4, 2, w, b, None, None, False, 0.0, wo, bo, attn_mask=am)", error="DType", msg="only bool and floating types of attn_mask are supported"),
    # ------------------------------------------------ recurrent (torch.lstm, gru, rnn_*, cells)
    dict(name="lstm_one_layer", inputs=LSTM1, call="torch.lstm(x, [h0, c0], [wi, wh, bi, bh], True, 1, 0.0, False, False, False)", grad=list(LSTM1), grad_outputs="all"),
    dict(name="lstm_bidirectional_two_layers_batch_first", inputs=LSTM_BI, call="torch.lstm(x, [h0, c0], [a0, b0, a1, b1, a2, b2, a3, b3], False, 2, 0.0, False, True, True)", grad=list(LSTM_BI), grad_outputs="all"),
    dict(name="lstm_projection", inputs=LSTM_PROJ, call="torch.lstm(x, [h0, c0], [wi, wh, bi, bh, wr], True, 1, 0.0, False, False, False)", grad=list(LSTM_PROJ), grad_outputs="all"),
    dict(name="lstm_dropout_between_layers", inputs=LSTM_2, call="torch.lstm(x, [h0, c0], [a0, b0, c0_, d0, a1, b1, c1, d1], True, 2, 0.4, True, False, False)", grad=["x", "a0", "a1"], grad_outputs="all", seed=7),
    dict(name="lstm_dropout_eval", inputs=LSTM_2, call="torch.lstm(x, [h0, c0], [a0, b0, c0_, d0, a1, b1, c1, d1], True, 2, 0.4, False, False, False)"),
    dict(name="gru_two_layers", inputs=GRU_2, call="torch.gru(x, h0, [a0, b0, c0, d0, a1, b1, c1, d1], True, 2, 0.0, False, False, False)", grad=list(GRU_2), grad_outputs="all"),
    dict(name="gru_bidirectional_batch_first", inputs=GRU_BI, call="torch.gru(x, h0, [a0, b0, a1, b1], False, 1, 0.0, False, True, True)", grad=list(GRU_BI), grad_outputs="all"),
    dict(name="rnn_tanh_bias", inputs=RNN1, call="torch.rnn_tanh(x, h0, [wi, wh, bi, bh], True, 1, 0.0, False, False, False)", grad=list(RNN1), grad_outputs="all"),
    dict(name="rnn_relu_bidirectional", inputs=RNN_BI, call="torch.rnn_relu(x, h0, [a0, b0, a1, b1], False, 1, 0.0, False, True, False)", grad=list(RNN_BI), grad_outputs="all"),
    dict(name="lstm_f32", inputs=w({k: f"({v}).float()" for k, v in LSTM1.items()}), call="torch.lstm(x, [h0, c0], [wi, wh, bi, bh], True, 1, 0.0, False, False, False)", grad=["x", "wi"], grad_outputs="all"),
    dict(name="lstm_cell_bias", inputs=CELL4, call="torch.lstm_cell(x, [h, c], wi, wh, bi, bh)", grad=list(CELL4), grad_outputs="all"),
    dict(name="lstm_cell_no_bias", inputs=CELL4, call="torch.lstm_cell(x, [h, c], wi, wh)", grad=["x", "h", "c", "wi", "wh"], grad_outputs="all"),
    dict(name="gru_cell_bias", inputs=CELL3, call="torch.gru_cell(x, h, wi, wh, bi, bh)", grad=["x", "h", "wi", "wh", "bi", "bh"]),
    dict(name="rnn_tanh_cell_bias", inputs=CELL1, call="torch.rnn_tanh_cell(x, h, wi, wh, bi, bh)", grad=["x", "h", "wi", "wh", "bi", "bh"]),
    dict(name="rnn_relu_cell_no_bias", inputs=CELL1, call="torch.rnn_relu_cell(x, h, wi, wh)", grad=["x", "h", "wi", "wh"]),
    dict(name="err_lstm_cell_input_size", inputs={**CELL4, "x": "R(3, 5)"}, call="torch.lstm_cell(x, [h, c], wi, wh, bi, bh)", error="ShapeMismatch", msg="input has inconsistent input_size: got 5 expected 3"),
    dict(name="err_lstm_one_hidden_state", inputs=LSTM1, call="torch.lstm(x, [h0], [wi, wh, bi, bh], True, 1, 0.0, False, False, False)", error="InvalidArgument", msg="lstm expects two hidden states"),
    dict(name="err_lstm_param_count", inputs=LSTM1, call="torch.lstm(x, [h0, c0], [wi, wh, bi], True, 1, 0.0, False, False, False)", error="InvalidArgument", msg="got an incorrect number of RNN parameters"),
]


def build_inputs(case):
    scope = {"R": R, "P": P, "I": I, "T": T, "torch": torch}
    return {name: eval(src, scope).contiguous().clone() for name, src in case["inputs"].items()}


def tensor_lines(t):
    return [
        f"dtype = {toml_str(str(t.dtype).removeprefix('torch.'))}",
        f"shape = {toml_value(list(t.shape))}",
        f"values = {toml_value(flat_values(t))}",
    ]


def loss_weights(out):
    n = out.numel()
    return ((torch.arange(n) % 7) - 3).to(out.dtype).reshape(out.shape)


def case_lines(case):
    inputs = build_inputs(case)
    lines = ["", "[[case]]", f"name = {toml_str(case['name'])}", f"python = {toml_str(case['call'])}"]
    if "seed" in case:
        lines.append(f"seed = {case['seed']}")
    if "grad_outputs" in case:
        lines.append(f"grad_outputs = {toml_str(case['grad_outputs'])}")
    for name, t in inputs.items():
        lines += ["", "[[case.input]]", f"name = {toml_str(name)}"] + tensor_lines(t)
    for name in case.get("grad", []):
        inputs[name].requires_grad_(True)
    scope = {"F": F, "torch": torch, "T": T, **inputs}
    try:
        if "seed" in case:
            torch.manual_seed(case["seed"])
        result = eval(case["call"], scope)  # noqa: S307 - our own scenario strings
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
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    outs = [o for o in outs if o is not None]  # need_weights=False returns (out, None)
    for out in outs:
        lines += ["", "[[case.output]]"] + tensor_lines(out)
    for name in case.get("after", []):
        lines += ["", "[[case.after]]", f"name = {toml_str(name)}"] + tensor_lines(inputs[name])
    if case.get("grad"):
        graded = outs if case.get("grad_outputs") == "all" else outs[:1]
        sum((o * loss_weights(o)).sum() for o in graded).backward()
        for name in case["grad"]:
            g = inputs[name].grad
            if g is None:
                raise SystemExit(f"{case['name']}: no gradient for {name}")
            lines += ["", "[[case.grad]]", f"name = {toml_str(name)}"] + tensor_lines(g)
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
        "# Generated by tools/oracle/scenarios/nn_functional.py from real PyTorch; do not edit.",
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
