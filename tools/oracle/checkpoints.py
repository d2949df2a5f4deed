"""Checkpoint interop fixtures, written by real torch.save.

Writes small .pt files into tests/fixtures/checkpoints/ and a manifest
(tests/fixtures/checkpoints/manifest.toml) describing what torch.load returns
for each: the object tree with, for every tensor, its dtype, shape, stride,
storage offset, storage group (equal groups share one storage), requires_grad,
whether it is a Parameter, and its values. tests/checkpoints.rs loads every file
and compares everything exactly; it also re-saves each and checks that the
bytes equal torch's (see `identical` below).

Then writes hostile files into tests/fixtures/checkpoints/hostile/ (hand-built
pickles and zips) with a manifest hostile.toml: per file the ErrorKind our
loader must return and a piece of its message. torch's own verdict on each
(`torch.load(weights_only=True)` refusing or not) is recorded for reference.

Usage: .venv-oracle/bin/python tools/oracle/checkpoints.py
"""

import collections
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import TORCH_VERSION, toml_str, toml_value  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "checkpoints")
HOSTILE = os.path.join(ROOT, "hostile")


# ------------------------------------------------------------------ encoding


def encode(obj, groups):
    """The object tree as nested inline TOML tables; `groups` numbers storages."""
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": obj}
    if isinstance(obj, float):
        return {"t": "float", "v": obj}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, bytes):
        return {"t": "bytes", "v": list(obj)}
    if isinstance(obj, torch.Tensor):
        return tensor(obj, groups)
    if isinstance(obj, (list, tuple)):
        return {"t": "list" if isinstance(obj, list) else "tuple", "items": [encode(x, groups) for x in obj]}
    if isinstance(obj, dict):
        out = {
            "t": "odict" if isinstance(obj, collections.OrderedDict) else "dict",
            "keys": [encode(k, groups) for k in obj],
            "values": [encode(v, groups) for v in obj.values()],
        }
        meta = getattr(obj, "_metadata", None)
        if meta is not None:
            out["attrs"] = ["_metadata"]
            out["attr_values"] = [encode(meta, groups)]
        return out
    raise TypeError(f"cannot encode {type(obj)}")


def tensor(t, groups):
    is_param = isinstance(t, torch.nn.Parameter)
    data = t.detach()
    ptr = data.untyped_storage().data_ptr(), data.untyped_storage().nbytes()
    if ptr not in groups:
        groups[ptr] = len(groups)
    flat = data.reshape(-1)
    if data.dtype == torch.bool:
        values = [bool(x) for x in flat.tolist()]
    elif data.dtype.is_floating_point:
        values = [float(x) for x in flat.double().tolist()]
    else:
        values = [int(x) for x in flat.tolist()]
    return {
        "t": "param" if is_param else "tensor",
        "dtype": str(data.dtype).removeprefix("torch."),
        "shape": list(data.shape),
        "stride": list(data.stride()),
        "offset": data.storage_offset(),
        "storage": groups[ptr],
        "storage_numel": data.untyped_storage().nbytes() // data.element_size(),
        "requires_grad": bool(t.requires_grad),
        "values": values,
    }


# ------------------------------------------------------------------ fixtures


def model_state():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    m.train()
    m(torch.randn(5, 3))
    m(torch.randn(5, 3))
    return m.state_dict()


def optimizer_state(kind):
    torch.manual_seed(1)
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    if kind == "adam":
        opt = torch.optim.Adam(m.parameters(), lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)
    else:
        opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    x = torch.randn(4, 3)
    for _ in range(3):
        opt.zero_grad()
        m(x).pow(2).mean().backward()
        opt.step()
    return opt.state_dict()


def nested():
    return {
        "list": [1, 2.5, True, False, None, "hi", (1, (2, 3)), {"k": -7}],
        "ints": [0, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, -(2**31), 2**31, 2**40, -(2**40), 2**63 - 1, -(2**63)],
        "floats": [0.0, -0.0, 1e-300, -2.5, float("inf"), float("-inf"), 3.141592653589793],
        "empty": ((), [], {}),
        "tuples": [(1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "int_keys": {0: "zero", 1: "one", -3: "minus three"},
        "unicode": "héllo ✓",
        "bytes": b"ab\x00\xff",
        "tensor_in_list": [torch.tensor([1.5, -2.0])],
    }


def big():
    return {"list": list(range(1001)), "dict": {f"k{i}": i for i in range(1001)}, "od": collections.OrderedDict((f"o{i}", i) for i in range(2001))}


def dtypes():
    base = [0, 1, -2, 3, 100, -100]
    out = {}
    for dt in [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]:
        vals = [abs(v) for v in base] if dt == torch.uint8 else base
        t = torch.tensor(vals).to(dt)
        if dt.is_floating_point:
            t = t * 0.5 + 0.25
        out[str(dt).removeprefix("torch.")] = t.reshape(2, 3)
    out["int64_extremes"] = torch.tensor([2**63 - 1, -(2**63), 0])
    out["f32_special"] = torch.tensor([float("inf"), float("-inf"), -0.0, 1e-45])
    return out


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    shared = torch.arange(10, dtype=torch.int64)
    p = torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    q = torch.nn.Parameter(torch.tensor([5.0, 6.0]), requires_grad=False)
    g = torch.tensor([0.5, 1.5], requires_grad=True)
    return collections.OrderedDict(
        [
            ("base", base),
            ("transposed", base.t()),
            ("sliced", base[1:3, 2:5]),
            ("stepped", base[:, ::2]),
            ("expanded", torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)),
            ("shared_a", shared[2:5]),
            ("shared_b", shared[6:]),
            ("zero_dim", torch.tensor(3.25, dtype=torch.float64)),
            ("empty", torch.empty(0, 3)),
            ("param", p),
            ("frozen_param", q),
            ("requires_grad", g),
            ("same_again", base),
        ]
    )


def plain():
    torch.manual_seed(2)
    return collections.OrderedDict([("weight", torch.randn(3, 2)), ("bias", torch.zeros(3)), ("count", torch.tensor(4))])


FIXTURES = [
    # name, builder, whether our re-save must be byte-identical to torch's
    ("model_state", model_state, True),
    ("optim_adam", lambda: optimizer_state("adam"), True),
    ("optim_sgd", lambda: optimizer_state("sgd"), True),
    ("nested", nested, True),
    ("big", big, True),
    ("dtypes", dtypes, True),
    ("views", views, True),
    ("plain", plain, True),
]

# The same objects pickled with the newer protocols torch.save accepts
# (STACK_GLOBAL, MEMOIZE, FRAME, SHORT_BINUNICODE, BINBYTES); loaded, not re-saved identically.
PROTOCOL_FIXTURES = [("nested_protocol4", nested, 4), ("views_protocol5", views, 5)]


def write_fixtures():
    lines = [f"torch = {toml_str(TORCH_VERSION)}", ""]
    for name, build, identical in FIXTURES:
        obj = build()
        path = os.path.join(ROOT, f"{name}.pt")
        torch.save(obj, path)
        loaded = torch.load(path, weights_only=True)
        lines += ["[[file]]", f"name = {toml_str(name + '.pt')}", f"identical = {toml_value(identical)}", f"root = {toml_value(encode(loaded, {}))}", ""]
    for name, build, protocol in PROTOCOL_FIXTURES:
        path = os.path.join(ROOT, f"{name}.pt")
        torch.save(build(), path, pickle_protocol=protocol)
        # torch's weights-only unpickler refuses FRAME (0x95, "Unsupported operand 149"), so
        # its own protocol-4/5 files only load with weights_only=False (safe: we wrote them).
        loaded = torch.load(path, weights_only=False)
        lines += ["[[file]]", f"name = {toml_str(name + '.pt')}", "identical = false", f"root = {toml_value(encode(loaded, {}))}", ""]
    # The legacy format: same views as above (storages shared, a Parameter).
    obj = collections.OrderedDict([("w", torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))), ("v", None)])
    base = torch.arange(8, dtype=torch.int32)
    obj["v"] = base[1:4]
    obj["v2"] = base[::2]
    obj["h"] = torch.tensor([1.5, -2.0], dtype=torch.float16)
    path = os.path.join(ROOT, "legacy.pt")
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    loaded = torch.load(path, weights_only=True)
    lines += ["[[file]]", 'name = "legacy.pt"', "identical = false", f"root = {toml_value(encode(loaded, {}))}", ""]
    with open(os.path.join(ROOT, "manifest.toml"), "w") as f:
        f.write("# Generated by tools/oracle/checkpoints.py; do not edit.\n" + "\n".join(lines))


# ------------------------------------------------------------------ hostile

HOSTILE_CASES = []


def hostile(name, kind, fragment):
    def register(fn):
        HOSTILE_CASES.append((name, kind, fragment, fn))
        return fn

    return register


def put(z, name, data):
    """writestr with a fixed timestamp, so regenerated fixtures are byte-identical."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = z.compression
    z.writestr(info, data)


def zip_with(pickle_bytes, extra=(), name="archive"):
    """A torch-layout zip (written by torch itself) whose data.pkl is replaced."""
    buf = io.BytesIO()
    torch.save({"x": torch.zeros(2)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            rec = info.filename.split("/", 1)[1]
            data = pickle_bytes if rec == "data.pkl" and pickle_bytes is not None else src.read(info.filename)
            put(z, f"{name}/{rec}", data)
        for rec, data in extra:
            put(z, f"{name}/{rec}", data)
    return out.getvalue()


P = b"\x80\x02"


def pid(cls=b"FloatStorage", key=b"0", numel=b"K\x02", loc=b"cpu"):
    return b"(X\x07\x00\x00\x00storagectorch\n" + cls + b"\nX" + struct.pack("<I", len(key)) + key + b"X" + struct.pack("<I", len(loc)) + loc + numel + b"tQ"


def rebuild(storage_pid, offset=b"K\x00", size=b"K\x02\x85", stride=b"K\x01\x85"):
    return b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage_pid + offset + size + stride + b"\x89ccollections\nOrderedDict\n)RtR"


@hostile("global_os_system.pt", "InvalidArgument", "global 'os.system' is not allowed")
def _():
    return zip_with(P + b"cos\nsystem\n(X\x02\x00\x00\x00idtR.")


@hostile("global_builtins_eval.pt", "InvalidArgument", "global 'builtins.eval' is not allowed")
def _():
    return zip_with(P + b"cbuiltins\neval\n(X\x01\x00\x00\x001tR.")


@hostile("stack_global_posix.pt", "InvalidArgument", "global 'posix.system' is not allowed")
def _():
    return zip_with(b"\x80\x04X\x05\x00\x00\x00posixX\x06\x00\x00\x00system\x93X\x02\x00\x00\x00id\x85R.")


@hostile("reduce_storage_class.pt", "InvalidArgument", "calling torch.FloatStorage is not allowed")
def _():
    return zip_with(P + b"ctorch\nFloatStorage\n)R.")


@hostile("reduce_of_non_global.pt", "InvalidArgument", "REDUCE of a list")
def _():
    return zip_with(P + b"])R.")


@hostile("newobj.pt", "InvalidArgument", "NEWOBJ of a global is not allowed")
def _():
    return zip_with(P + b"ccollections\nOrderedDict\n)\x81.")


@hostile("build_on_list.pt", "InvalidArgument", "BUILD of a list")
def _():
    return zip_with(P + b"]}b.")


@hostile("torch_global_unsupported.pt", "NotSupported", "global 'torch._utils._rebuild_sparse_tensor' is not supported")
def _():
    return zip_with(P + b"ctorch._utils\n_rebuild_sparse_tensor\n.")


@hostile("numel_2_62.pt", "InvalidArgument", "storage '0' of 4611686018427387904 elements overflows")
def _():
    return zip_with(P + rebuild(pid(numel=b"\x8a\x08" + (2**62).to_bytes(8, "little"))) + b".")


@hostile("numel_2_40.pt", "InvalidArgument", "storage '0' has 8 bytes but the pickle claims 1099511627776 elements")
def _():
    return zip_with(P + rebuild(pid(numel=b"\x8a\x06" + (2**40).to_bytes(6, "little"))) + b".")


@hostile("stride_out_of_bounds.pt", "InvalidArgument", "reaches element 5 of storage '0' which has only 2 elements")
def _():
    return zip_with(P + rebuild(pid(), stride=b"K\x05\x85") + b".")


@hostile("offset_out_of_bounds.pt", "InvalidArgument", "storage offset 7")
def _():
    return zip_with(P + rebuild(pid(), offset=b"K\x07") + b".")


@hostile("negative_stride.pt", "InvalidArgument", "stride must be non-negative")
def _():
    return zip_with(P + rebuild(pid(), stride=b"J\xff\xff\xff\xff\x85") + b".")


@hostile("size_overflow.pt", "InvalidArgument", "overflows")
def _():
    big = b"\x8a\x08" + (2**62).to_bytes(8, "little")
    return zip_with(P + rebuild(pid(), size=big + big + b"\x86", stride=b"K\x00K\x00\x86") + b".")


@hostile("two_dtypes_one_storage.pt", "InvalidArgument", "storage '0' is used as")
def _():
    a = rebuild(pid())
    b = rebuild(pid(cls=b"IntStorage"))
    return zip_with(P + a + b + b"\x86.")


@hostile("missing_storage_record.pt", "InvalidArgument", "storage record 'archive/data/7' is missing")
def _():
    return zip_with(P + rebuild(pid(key=b"7")) + b".")


@hostile("bad_persistent_id.pt", "InvalidArgument", "persistent id of type 'module' is not allowed")
def _():
    return zip_with(P + b"(X\x06\x00\x00\x00moduleX\x01\x00\x00\x00aX\x01\x00\x00\x00bX\x01\x00\x00\x00cK\x01tQ.")


@hostile("short_persistent_id.pt", "InvalidArgument", "persistent id must be ('storage'")
def _():
    return zip_with(P + b"X\x07\x00\x00\x00storage\x85Q.")


@hostile("memo_missing.pt", "InvalidArgument", "memo key 9 is missing")
def _():
    return zip_with(P + b"h\x09.")


@hostile("stack_underflow.pt", "InvalidArgument", "pickle stack underflow")
def _():
    return zip_with(P + b"K\x01s.")


@hostile("unknown_opcode.pt", "InvalidArgument", "unsupported pickle opcode 0xff")
def _():
    return zip_with(P + b"\xff.")


@hostile("truncated_pickle.pt", "InvalidArgument", "pickle data was truncated")
def _():
    return zip_with(P + b"X\xff\xff\xff\x7fab")


@hostile("recursive_list.pt", "InvalidArgument", "recursive structure")
def _():
    # l = []; l.append(l)
    return zip_with(P + b"]q\x00h\x00a.")


@hostile("billion_laughs.pt", "InvalidArgument", "too many objects")
def _():
    body = P + b"]q\x00"
    for i in range(1, 60):
        body += b"h" + bytes([i - 1]) + b"h" + bytes([i - 1]) + b"\x86q" + bytes([i])
    return zip_with(body + b".")


@hostile("deep_nesting.pt", "InvalidArgument", "nested deeper than 1000")
def _():
    return zip_with(P + b"]" * 5000 + b"a" * 4999 + b".")


@hostile("truncated_zip.pt", "InvalidArgument", "end of central directory")
def _():
    data = zip_with(None)
    return data[: len(data) // 2]


@hostile("zip_bomb.pt", "InvalidArgument", "is compressed (method 8)")
def _():
    # A deflated data.pkl whose header declares 4 GiB - 1 bytes of output.
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(b"\x00" * (1 << 20)) + comp.flush()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        put(z, "archive/data.pkl", b"\x00" * (1 << 20))
    raw = bytearray(out.getvalue())
    # Rewrite the declared uncompressed size in the local header and the central directory.
    lh = raw.index(b"PK\x03\x04")
    struct.pack_into("<I", raw, lh + 22, 0xFFFFFFFE)
    cd = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, cd + 24, 0xFFFFFFFE)
    assert len(body) < 4096
    return bytes(raw)


@hostile("duplicate_entries.pt", "InvalidArgument", "duplicate record 'archive/data.pkl'")
def _():
    data = zip_with(None)
    import warnings

    warnings.simplefilter("ignore")
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as z:
        put(z, "archive/data.pkl", P + b"N.")
    return out.getvalue()


@hostile("unknown_byteorder.pt", "InvalidArgument", "Unknown endianness type: middle")
def _():
    buf = io.BytesIO()
    torch.save({"x": torch.zeros(2)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = b"middle" if info.filename.endswith("/byteorder") else src.read(info.filename)
            put(z, info.filename, data)
    return out.getvalue()


@hostile("no_version_record.pt", "InvalidArgument", "archive has no 'archive/version' record")
def _():
    src = zipfile.ZipFile(io.BytesIO(zip_with(None)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            if not info.filename.endswith("/version"):
                put(z, info.filename, src.read(info.filename))
    return out.getvalue()


@hostile("bad_crc.pt", "InvalidArgument", "CRC-32 mismatch in record 'archive/data.pkl'")
def _():
    raw = bytearray(zip_with(None))
    i = raw.index(b"\x80\x02")
    raw[i + 3] ^= 0x01
    return bytes(raw)


@hostile("wrong_storage_size.pt", "InvalidArgument", "storage '0' has 8 bytes but the pickle claims 3 elements")
def _():
    return zip_with(P + rebuild(pid(numel=b"K\x03")) + b".")


@hostile("legacy_bad_magic.pt", "InvalidArgument", "Invalid magic number")
def _():
    return P + b"\x8a\x02\x01\x02."


@hostile("legacy_truncated_storage.pt", "InvalidArgument", "truncated inside storage")
def _():
    buf = io.BytesIO()
    torch.save({"w": torch.arange(4.0)}, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()[:-5]


def write_hostile():
    lines = ["# Generated by tools/oracle/checkpoints.py; do not edit.", f"torch = {toml_str(TORCH_VERSION)}", ""]
    for name, kind, fragment, fn in HOSTILE_CASES:
        data = fn()
        with open(os.path.join(HOSTILE, name), "wb") as f:
            f.write(data)
        try:
            torch.load(io.BytesIO(data), weights_only=True)
            verdict = "loaded"
        except Exception as e:  # noqa: BLE001 - torch's verdict, recorded for reference
            verdict = f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]}"
        lines += ["[[case]]", f"name = {toml_str(name)}", f"kind = {toml_str(kind)}", f"fragment = {toml_str(fragment)}", f"torch = {toml_str(verdict)}", ""]
    with open(os.path.join(HOSTILE, "hostile.toml"), "w") as f:
        f.write("\n".join(lines))


def main():
    version = torch.__version__.split("+")[0]
    if version != TORCH_VERSION:
        sys.exit(f"checkpoints.py: torch {torch.__version__} is installed, fixtures need {TORCH_VERSION}")
    os.makedirs(HOSTILE, exist_ok=True)
    write_fixtures()
    write_hostile()
    total = sum(os.path.getsize(os.path.join(d, f)) for d in (ROOT, HOSTILE) for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))
    print(f"wrote {len(FIXTURES) + len(PROTOCOL_FIXTURES) + 1} fixtures and {len(HOSTILE_CASES)} hostile files ({total} bytes)")


if __name__ == "__main__":
    main()
