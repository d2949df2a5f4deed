"""torch.utils.data, torch.nn.utils and data-set facts, run in real PyTorch.

Writes tests/fixtures/scenarios/data.toml and the safetensors files under
tests/fixtures/safetensors/; tests/data.rs replays every case through
frankentorch under the same name and compares.

Recorded:
- [[loader]]: DataLoader over TensorDataset(arange(n)) with batch_size,
  shuffle, drop_last, seeded with torch.manual_seed(seed) and optionally a
  torch.Generator seeded with seed: the index batches of two passes, len(),
  and afterwards one int64 `random_()` draw from the default generator and
  (when given) from the loader's generator, proving the same numbers of
  draws were consumed.
- [[collate]]: one DataLoader pass over a (float32 features, int64 label)
  TensorDataset: every batch's values, shapes and dtypes.
- [[split]]: random_split lengths/fractions: each subset's indices, or the
  error.
- [[sampler]]: RandomSampler with replacement / num_samples and a generator.
- [[clip]]: clip_grad_norm_ / clip_grad_value_ / parameters_to_vector /
  vector_to_parameters: gradients before, returned total norm, gradients
  after, or the error.
- [[error]]: constructor errors (our ErrorKind, torch's class and message).
- [digits]: sklearn.datasets.load_digits statistics.
- [[safetensors]]: per file, each tensor's dtype, shape and values.

Usage: .venv-oracle/bin/python tools/oracle/scenarios/data.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
from torch.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters  # noqa: E402
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler, TensorDataset, random_split  # noqa: E402
from oracle import ROOT, TORCH_VERSION, toml_str, toml_value  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "scenarios", "data.toml")
ST_DIR = os.path.join(ROOT, "tests", "fixtures", "safetensors")
LINES = []


def emit(header, **fields):
    LINES.append("")
    LINES.append(header)
    for k, v in fields.items():
        LINES.append(f"{k} = {toml_value(v)}")


def draw(generator=None):
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())


def flat(t):
    return [float(v) if t.dtype.is_floating_point else int(v) for v in t.detach().reshape(-1).tolist()]


# ---- DataLoader orders ----
def loader_cases():
    for seed in [0, 1, 42, 2024]:
        for with_gen in [False, True]:
            for n, bs, shuffle, drop_last in [(10, 3, True, False), (10, 3, True, True), (7, 1, True, False), (12, 4, False, False), (9, 4, False, True), (20, 6, True, False)]:
                name = f"n{n}_bs{bs}_{'shuffle' if shuffle else 'seq'}{'_drop' if drop_last else ''}_{'gen' if with_gen else 'global'}_seed{seed}"
                torch.manual_seed(seed)
                g = torch.Generator().manual_seed(seed) if with_gen else None
                loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=bs, shuffle=shuffle, drop_last=drop_last, generator=g)
                passes = [[b[0].tolist() for b in loader] for _ in range(2)]
                emit("[[loader]]", name=name, seed=seed, generator=with_gen, n=n, batch_size=bs, shuffle=shuffle, drop_last=drop_last,
                     length=len(loader), pass0=passes[0], pass1=passes[1], next_default=draw(), next_generator=draw(g) if with_gen else -1)


def collate_case():
    torch.manual_seed(5)
    x = torch.randn(7, 3)
    y = torch.arange(7) * 10
    loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True)
    for i, (bx, by) in enumerate(loader):
        emit("[[collate]]", batch=i, x_dtype=str(bx.dtype)[6:], x_shape=list(bx.shape), x_values=flat(bx), y_dtype=str(by.dtype)[6:], y_shape=list(by.shape), y_values=flat(by))
    emit("[collate_inputs]", x_values=flat(x), y_values=flat(y))


# ---- random_split ----
def split_cases():
    cases = [
        ("counts_3_7_gen42", 10, [3, 7], 42),
        ("fractions_3_3_4_gen42", 30, [0.3, 0.3, 0.4], 42),
        ("fractions_remainder_gen0", 5, [0.5, 0.5], 0),
        ("fractions_three_remainder_gen1", 11, [0.25, 0.25, 0.5], 1),
        ("counts_one_zero_is_fractions_gen7", 5, [1, 0], 7),
        ("counts_global_seed3", 8, [2, 6], None),
        ("fractions_global_seed4", 9, [0.6, 0.4], None),
    ]
    for name, n, lengths, seed in cases:
        if seed is None:
            torch.manual_seed(int(name[-1]))
            parts = random_split(range(n), lengths)
            after = draw()
        else:
            g = torch.Generator().manual_seed(seed)
            parts = random_split(range(n), lengths, generator=g)
            after = draw(g)
        emit("[[split]]", name=name, n=n, fractions=any(isinstance(v, float) for v in lengths), lengths=[float(v) for v in lengths],
             seed=-1 if seed is None else seed, global_seed=int(name[-1]) if seed is None else -1, parts=[list(p.indices) for p in parts], next_draw=after)
    for name, n, lengths, kind in [("err_sum", 10, [3, 3], "InvalidArgument"), ("err_fraction_range", 10, [1.2, -0.2], "InvalidArgument")]:
        try:
            random_split(range(n), lengths)
        except ValueError as e:
            emit("[[split_error]]", name=name, n=n, lengths=[float(v) for v in lengths], fractions=any(isinstance(v, float) for v in lengths), kind=kind, torch=type(e).__name__, message=str(e))
        else:
            raise SystemExit(f"{name}: torch did not raise")


# ---- samplers ----
def sampler_cases():
    for name, n, replacement, num_samples, seed in [("replacement_40_of_5", 5, True, 40, 3), ("replacement_7_of_9", 9, True, 7, 4), ("num_samples_12_of_5", 5, False, 12, 5), ("num_samples_3_of_8", 8, False, 3, 6)]:
        g = torch.Generator().manual_seed(seed)
        s = RandomSampler(range(n), replacement=replacement, num_samples=num_samples, generator=g)
        emit("[[sampler]]", name=name, n=n, replacement=replacement, num_samples=num_samples, seed=seed, indices=list(iter(s)), next_draw=draw(g))
    torch.manual_seed(11)
    s = RandomSampler(range(6))
    emit("[[sampler]]", name="global_seed11", n=6, replacement=False, num_samples=6, seed=-1, indices=list(iter(s)) + list(iter(s)), next_draw=draw())


# ---- clip_grad and parameter vectors ----
def params(spec, seed):
    g = torch.Generator().manual_seed(seed)
    ps = []
    for shape, dtype, scale in spec:
        p = torch.zeros(shape, dtype=dtype, requires_grad=True)
        p.grad = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
        ps.append(p)
    return ps


def clip_cases():
    spec64 = [((3, 4), torch.float64, 1.0), ((5,), torch.float64, 2.0)]
    spec32 = [((2, 3), torch.float32, 1.5), ((4,), torch.float32, 0.5), ((1, 1), torch.float32, 3.0)]
    mixed = [((3,), torch.float32, 1.0), ((2, 2), torch.float64, 2.0), ((2,), torch.float32, 0.5)]
    cases = []
    for norm_type in [2.0, 1.0, float("inf"), 0.5, 3.0]:
        cases.append((f"norm_f64_p{norm_type}", spec64, 1, "norm", dict(max_norm=1.0, norm_type=norm_type)))
    cases.append(("norm_f32_clip", spec32, 2, "norm", dict(max_norm=0.7)))
    cases.append(("norm_f32_no_clip", spec32, 2, "norm", dict(max_norm=100.0)))
    cases.append(("norm_f32_inf", spec32, 3, "norm", dict(max_norm=0.25, norm_type=float("inf"))))
    cases.append(("norm_mixed_dtypes", mixed, 4, "norm", dict(max_norm=0.5)))
    cases.append(("norm_nonfinite_scaled", [((3,), torch.float64, 1.0)], 5, "norm_inf_grad", dict(max_norm=1.0)))
    cases.append(("norm_nonfinite_error", [((3,), torch.float64, 1.0)], 5, "norm_inf_grad", dict(max_norm=1.0, error_if_nonfinite=True)))
    cases.append(("norm_no_grads", [], 0, "norm", dict(max_norm=1.0)))
    cases.append(("value_f32", spec32, 6, "value", dict(clip_value=0.8)))
    cases.append(("value_f64", spec64, 7, "value", dict(clip_value=1.1)))
    for name, spec, seed, kind, kw in cases:
        ps = params(spec, seed)
        if kind == "norm_inf_grad":
            ps[0].grad[1] = float("inf")
        before = [p.grad.clone() for p in ps]
        fields = dict(name=name, kind=kind, seed=seed, shapes=[list(s) for s, _, _ in spec], dtypes=[str(d)[6:] for _, d, _ in spec],
                      grads_before=[flat(g) for g in before], max_norm=kw.get("max_norm", 0.0), norm_type=kw.get("norm_type", 2.0),
                      error_if_nonfinite=kw.get("error_if_nonfinite", False), clip_value=kw.get("clip_value", 0.0))
        try:
            if kind == "value":
                clip_grad_value_(ps, **kw)
                total = None
            else:
                total = clip_grad_norm_(ps, **kw)
        except RuntimeError as e:
            fields.update(error_kind="InvalidArgument", error_torch=type(e).__name__, error_message=str(e))
            emit("[[clip]]", **fields)
            continue
        if total is not None:
            fields.update(total_dtype=str(total.dtype)[6:], total=float(total))
        fields.update(grads_after=[flat(p.grad) for p in ps])
        emit("[[clip]]", **fields)

    ps = [torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.tensor([7.0, 8.0])]
    emit("[[vector]]", name="to_vector", values=flat(parameters_to_vector(ps)))
    targets = [torch.zeros(2, 2), torch.zeros(3, dtype=torch.float64)]
    vector_to_parameters(torch.arange(10, dtype=torch.float32) / 4, targets)
    emit("[[vector]]", name="from_vector_longer", values=flat(targets[0]) + flat(targets[1]))
    try:
        vector_to_parameters(torch.arange(5, dtype=torch.float32), [torch.zeros(2, 3)])
    except RuntimeError as e:
        emit("[[vector]]", name="from_vector_short", error_kind="ShapeMismatch", error_torch=type(e).__name__, error_message=str(e))
    try:
        parameters_to_vector([torch.zeros(3, 2).t()])
    except RuntimeError as e:
        emit("[[vector]]", name="to_vector_non_contiguous", error_kind="ShapeMismatch", error_torch=type(e).__name__, error_message=str(e).splitlines()[0])


# ---- constructor errors ----
def error_cases():
    def expect(name, kind, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            emit("[[error]]", name=name, kind=kind, torch=type(e).__name__, message=str(e))
            return
        raise SystemExit(f"{name}: torch did not raise")

    expect("tensor_dataset_size_mismatch", "ShapeMismatch", lambda: TensorDataset(torch.zeros(3), torch.zeros(4)))
    expect("loader_batch_size_zero", "InvalidArgument", lambda: DataLoader(TensorDataset(torch.zeros(3)), batch_size=0))
    expect("loader_sampler_and_shuffle", "InvalidArgument", lambda: DataLoader(TensorDataset(torch.zeros(3)), sampler=SequentialSampler(range(3)), shuffle=True))
    expect("loader_prefetch_without_workers", "InvalidArgument", lambda: DataLoader(TensorDataset(torch.zeros(3)), prefetch_factor=2))
    expect("loader_shuffle_empty", "InvalidArgument", lambda: DataLoader(TensorDataset(torch.zeros(0)), shuffle=True))
    expect("collate_unequal_shapes", "ShapeMismatch", lambda: next(iter(DataLoader([torch.zeros(2), torch.zeros(3)], batch_size=2))))


# ---- digits ----
def digits_stats():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.data, d.target
    emit("[digits]", rows=int(x.shape[0]), cols=int(x.shape[1]), class_counts=[int((y == c).sum()) for c in range(10)],
         pixel_column_sums=[int(v) for v in x.sum(axis=0)], total=int(x.sum()), first_row=[int(v) for v in x[0]],
         first_labels=[int(v) for v in y[:20]], label_sum=int(y.sum()), max_pixel=int(x.max()))


# ---- safetensors ----
def safetensors_files():
    from safetensors.torch import save_file

    os.makedirs(ST_DIR, exist_ok=True)
    g = torch.Generator().manual_seed(99)
    base = torch.randn(6, generator=g, dtype=torch.float64) * 100
    ints = torch.tensor([-3, 0, 1, 7, 100, -100])
    files = {
        "all_dtypes": ({
            "bool": torch.tensor([True, False, True, True, False, False]).reshape(2, 3),
            "u8": torch.tensor([0, 1, 127, 128, 200, 255], dtype=torch.uint8),
            "i8": ints.to(torch.int8),
            "i16": (ints * 300).to(torch.int16),
            "i32": (ints * 100000).to(torch.int32),
            "i64": ints * 10_000_000_000,
            "f16": base.to(torch.float16).reshape(3, 2),
            "bf16": base.to(torch.bfloat16),
            "f32": base.to(torch.float32).reshape(1, 2, 3),
            "f64": base,
        }, {"format": "pt"}),
        "scalars_empty": ({
            "scalar_f32": torch.tensor(1.5),
            "scalar_i64": torch.tensor(-7),
            "empty_f32": torch.zeros(0),
            "empty_2d_i32": torch.zeros(3, 0, dtype=torch.int32),
            "b": torch.tensor([2.5], dtype=torch.float64),
        }, None),
        # Our side saves the transposed view of [[0,1,2],[3,4,5]] (and a
        # strided slice); torch's writer needs contiguous copies.
        "non_contiguous": ({
            "transposed": torch.arange(6, dtype=torch.float32).reshape(2, 3).t().contiguous(),
            "strided": torch.arange(10, dtype=torch.int64)[1::3].contiguous(),
        }, {"source": "frankentorch test"}),
    }
    for fname, (tensors, meta) in files.items():
        path = os.path.join(ST_DIR, f"{fname}.safetensors")
        save_file(tensors, path, metadata=meta)
        os.chmod(path, 0o644)
        for name, t in tensors.items():
            emit("[[safetensors]]", file=fname, name=name, dtype=str(t.dtype)[6:], shape=list(t.shape), values=flat(t.float() if t.dtype == torch.bfloat16 else t))
        if meta:
            emit("[[safetensors_metadata]]", file=fname, keys=sorted(meta), values=[meta[k] for k in sorted(meta)])


def main():
    assert torch.__version__.split("+")[0] == TORCH_VERSION, torch.__version__
    torch.set_num_threads(1)
    LINES.extend(["# Generated by tools/oracle/scenarios/data.py; do not edit.", f"torch = {toml_str(TORCH_VERSION)}"])
    loader_cases()
    collate_case()
    split_cases()
    sampler_cases()
    clip_cases()
    error_cases()
    digits_stats()
    safetensors_files()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(LINES) + "\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} and {os.path.relpath(ST_DIR, ROOT)}/")


if __name__ == "__main__":
    main()
