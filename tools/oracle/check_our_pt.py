"""Loads the .pt files FrankenTorch wrote with real torch (weights_only=True)
and checks they hold what torch's own fixtures hold. Run by hand (not in CI),
after `cargo test -p frankentorch --test checkpoints` has written them into
target/tmp/checkpoints-out/:

    .venv-oracle/bin/python tools/oracle/check_our_pt.py

Checked per file: the object tree (types, dict order for OrderedDicts,
Parameters), every tensor's dtype, shape, stride, storage offset,
requires_grad and values (bit-exact), and that tensors sharing a storage in
torch's file share one in ours (and only those).
"""

import collections
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "tests", "fixtures", "checkpoints")
OUT = os.path.join(HERE, "..", "..", "target", "tmp", "checkpoints-out")


class Mismatch(Exception):
    pass


def same(a, b, where, groups, ordered=True):
    if type(a) is not type(b):
        raise Mismatch(f"{where}: type {type(a).__name__} vs {type(b).__name__}")
    if isinstance(a, torch.Tensor):
        for attr in ("dtype", "shape", "requires_grad"):
            if getattr(a, attr) != getattr(b, attr):
                raise Mismatch(f"{where}: {attr} {getattr(a, attr)} vs {getattr(b, attr)}")
        if a.stride() != b.stride() or a.storage_offset() != b.storage_offset():
            raise Mismatch(f"{where}: stride/offset {a.stride()}+{a.storage_offset()} vs {b.stride()}+{b.storage_offset()}")
        if a.untyped_storage().nbytes() != b.untyped_storage().nbytes():
            raise Mismatch(f"{where}: storage size")
        ka, kb = a.untyped_storage().data_ptr(), b.untyped_storage().data_ptr()
        if groups.setdefault(("a", ka), kb) != kb or groups.setdefault(("b", kb), ka) != ka:
            raise Mismatch(f"{where}: storage sharing differs")
        bits = lambda t: t.detach().contiguous().reshape(-1).view(torch.uint8)  # noqa: E731 - bit-exact, NaN-safe
        if not torch.equal(bits(a), bits(b)):
            raise Mismatch(f"{where}: values differ")
        return
    if isinstance(a, dict):
        ka, kb = list(a), list(b)
        if (ka != kb) if (ordered or isinstance(a, collections.OrderedDict)) else (sorted(map(repr, ka)) != sorted(map(repr, kb))):
            raise Mismatch(f"{where}: keys {ka} vs {kb}")
        for k in ka:
            same(a[k], b[k], f"{where}[{k!r}]", groups, ordered)
        return
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            raise Mismatch(f"{where}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]", groups, ordered)
        return
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return
    if a != b or (isinstance(a, float) and math.copysign(1, a) != math.copysign(1, b)):
        raise Mismatch(f"{where}: {a!r} vs {b!r}")


def load(path):
    return torch.load(path, weights_only=True)


def reference(path):
    """torch's own fixture (trusted; its weights-only unpickler refuses protocol 4/5 FRAMEs)."""
    return torch.load(path, weights_only=False)


def main():
    if not os.path.isdir(OUT):
        sys.exit(f"{OUT} missing: run `cargo test -p frankentorch --test checkpoints` first")
    failures = 0
    names = sorted(f for f in os.listdir(FIX) if f.endswith(".pt"))
    for name in names:
        ours = os.path.join(OUT, name)
        try:
            same(reference(os.path.join(FIX, name)), load(ours), name, {})
            meta = getattr(load(ours), "_metadata", None)
            note = " (with _metadata)" if meta is not None else ""
            print(f"ok   {name}: same contents as torch's file{note}")
        except Exception as e:  # noqa: BLE001 - report and continue
            failures += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    # Our optimizers' state dicts, after loading torch's, saved by us.
    for kind in ("adam", "sgd"):
        name = f"our_optim_{kind}.pt"
        try:
            theirs, ours = load(os.path.join(FIX, f"optim_{kind}.pt")), load(os.path.join(OUT, name))
            same(theirs["state"], ours["state"], f"{name}['state']", {}, ordered=False)
            g_t, g_o = theirs["param_groups"][0], ours["param_groups"][0]
            common = [k for k in g_t if k in g_o]
            for k in common:
                same(g_t[k], g_o[k], f"{name}['param_groups'][0][{k!r}]", {})
            only_t = sorted(set(g_t) - set(g_o))
            only_o = sorted(set(g_o) - set(g_t))
            print(f"ok   {name}: state equal, {len(common)} group options equal; only in torch's: {only_t}; only in ours: {only_o}")
        except Exception as e:  # noqa: BLE001
            failures += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    # Our module's state dict (no _metadata) loads strictly into torch's module.
    try:
        m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        sd = load(os.path.join(OUT, "our_model_state.pt"))
        m.load_state_dict(sd, strict=True)
        ref = load(os.path.join(FIX, "model_state.pt"))
        for k, v in m.state_dict().items():
            assert torch.equal(v, ref[k]), k
        print(f"ok   our_model_state.pt: load_state_dict(strict=True) into torch's model, {len(sd)} tensors equal")
    except Exception as e:  # noqa: BLE001
        failures += 1
        print(f"FAIL our_model_state.pt: {type(e).__name__}: {e}")
    try:
        import zipfile

        z = zipfile.ZipFile(os.path.join(OUT, "zip64.pt"))
        z.testzip()
        w = load(os.path.join(OUT, "zip64.pt"))["w"]
        assert torch.equal(w, torch.arange(40.0)), "values"
        print(f"ok   zip64.pt: zip64 fields read by Python's zipfile ({len(z.infolist())} records, CRCs ok) and torch.load")
    except Exception as e:  # noqa: BLE001
        failures += 1
        print(f"FAIL zip64.pt: {type(e).__name__}: {e}")
    print(f"{failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
