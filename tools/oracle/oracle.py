#!/usr/bin/env python3
"""PyTorch oracle: regenerates tests/fixtures/oracle/*.toml from schema/ops.toml.

Implements tools/oracle/FORMAT.md with real PyTorch. Never run in CI; run it
through tools/oracle/regen.sh. Usage:

    python tools/oracle/oracle.py [--only OP_QUALIFIED_NAME ...]

where OP_QUALIFIED_NAME is e.g. `add.Tensor`, `neg` or `aten::add.Tensor`.
"""

import argparse
import math
import os
import re
import sys
import tomllib

import torch

TORCH_VERSION = "2.15.0"  # keep in sync with regen.sh
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "schema", "ops.toml")
DERIVATIVES = os.path.join(ROOT, "schema", "derivatives.toml")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "oracle")

# The `out` value of an out= variant's samples (FORMAT.md §7).
OUT_LIKE_RESULT = "result"

# Whether a sample's `error = "KIND"` stays in the fixture's `spec` (FORMAT.md
# §4: "the expanded sample"). Flip here if the Rust side compares without it.
SPEC_INCLUDES_ERROR = True

SHORT_DTYPES = {
    "bool": torch.bool,
    "u8": torch.uint8,
    "i8": torch.int8,
    "i16": torch.int16,
    "i32": torch.int32,
    "i64": torch.int64,
    "f16": torch.float16,
    "bf16": torch.bfloat16,
    "f32": torch.float32,
    "f64": torch.float64,
}
LONG_DTYPES = {str(d).removeprefix("torch."): d for d in SHORT_DTYPES.values()}
FLOAT_DTYPES = {torch.float16, torch.bfloat16, torch.float32, torch.float64}
LAYOUT_FLAGS = ("t", "step", "offset", "expand")
RANGE_RE = re.compile(r"^range\((-?\d+),(-?\d+)\)$")


class SchemaError(Exception):
    """A problem in schema/ops.toml (or something this oracle cannot express)."""


# ---------------------------------------------------------------- signatures


def split_top(text, sep=","):
    """Splits on `sep` outside brackets, parentheses and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


class Arg:
    def __init__(self, text, kwarg_only):
        decl = text.split("=", 1)[0].strip()
        ty, name = decl.rsplit(None, 1)
        self.name = name
        self.kwarg_only = kwarg_only
        self.type = ty
        self.written = "!" in ty
        base = re.sub(r"\([^)]*\)", "", ty)  # drop alias annotations
        self.optional = base.endswith("?")
        base = base.rstrip("?")
        m = re.match(r"^(\w+)\??(\[\d*\])?(\?)?$", base)  # `Tensor?[]`: a list of optional tensors
        if not m:
            raise SchemaError(f"cannot parse argument type `{ty}`")
        self.base = m.group(1)
        self.is_list = m.group(2) is not None
        self.is_tensor = self.base == "Tensor"


class Signature:
    def __init__(self, text):
        m = re.match(r"^\s*([\w]+)(?:\.([\w]+))?\s*\((.*)\)\s*->\s*(.*)$", text, re.S)
        if not m:
            raise SchemaError(f"cannot parse signature `{text}`")
        self.name, self.overload = m.group(1), m.group(2) or ""
        self.qualified = f"{self.name}.{self.overload}" if self.overload else self.name
        self.args = []
        kwarg_only = False
        for part in split_top(m.group(3)):
            if part == "*":
                kwarg_only = True
                continue
            self.args.append(Arg(part, kwarg_only))

    def packet(self):
        try:
            return getattr(getattr(torch.ops.aten, self.name), self.overload or "default")
        except AttributeError as e:
            raise SchemaError(f"torch has no aten::{self.qualified}") from e


# ------------------------------------------------------------------ variants


def out_names(op):
    """The written arguments of an out= variant: `out_name` (one name or a list)."""
    names = op.get("out_name", "out")
    return [names] if isinstance(names, str) else list(names)


def derive_variants(op):
    """FORMAT.md §7: the in-place (`inplace = true`) and out= (`out = "NAME"`)
    ops generated from a functional op, with the functional op's samples."""
    text = op["signature"]
    head, rest = text.split("(", 1)
    args = rest.rsplit(") ->", 1)[0]
    name = head.split(".")[0]
    base = {k: v for k, v in op.items() if k not in ("inplace", "out", "out_name", "out_oracle", "drift")}
    base["functional"] = text
    variants = []
    inplace = op.get("inplace", False)
    if inplace:
        # `inplace = "Scalar"` names the in-place overload (pow_.Scalar of pow.Tensor_Scalar).
        overload = f".{inplace}" if isinstance(inplace, str) else head[len(name):]
        v = dict(base, derived="inplace")
        v["signature"] = f"{name}_{overload}({args.lstrip().replace('Tensor self', 'Tensor(a!) self', 1)}) -> Tensor(a!)"
        variants.append(v)
    if op.get("out"):
        names = out_names(op)
        returns = text.rsplit(") ->", 1)[1].strip()
        star = any(a.strip() == "*" for a in args.split(","))
        sep = "*, " if not args.strip() else (", " if star else ", *, ")
        # Alias sets the functional op does not use already (codegen/src/variants.rs).
        used = set(re.findall(r"Tensor\((\w)!?\)", args))
        sets = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in used][: len(names)]
        out_args = ", ".join(f"Tensor({a}!) {n}" for n, a in zip(names, sets))
        if returns == "Tensor":
            ret = f"Tensor({sets[0]}!)"
        else:
            decls = [r.strip() for r in returns.strip("()").split(",")]
            ret = "(" + ", ".join(f"Tensor({a}!)" + d[len("Tensor"):] for d, a in zip(decls, sets)) + ")"
        v = dict(base, derived="out", differentiable=False, out_name=names, out_oracle=op.get("out_oracle"))
        v["signature"] = f"{name}.{op['out']}({args}{sep}{out_args}) -> {ret}"
        v["samples"] = [dict(s, **{n: OUT_LIKE_RESULT for n in names}) for s in op.get("samples", [])]
        variants.append(v)
    return variants


# ------------------------------------------------------------------- samples


def expand_samples(op, sig):
    """FORMAT.md §1: one sample per claimed dtype for samples using `*`."""
    dtypes = op.get("dtypes", [])
    for d in dtypes:
        if d not in SHORT_DTYPES:
            raise SchemaError(f"{sig.qualified}: claimed dtype `{d}` is not one of {list(SHORT_DTYPES)}")
    tensor_args = {a.name for a in sig.args if a.is_tensor}

    def specs_of(sample):
        for k, v in sample.items():
            if k in tensor_args:
                yield from (v if isinstance(v, list) else [v])

    out = []
    for i, sample in enumerate(op.get("samples", [])):
        for k in sample:
            if k not in ("error", "seed") and k not in {a.name for a in sig.args}:
                raise SchemaError(f"{sig.qualified}: sample {i}: `{k}` is not an argument")
        if not any(isinstance(s, str) and s.startswith("*") for s in specs_of(sample)):
            out.append(sample)
            continue
        if not dtypes:
            raise SchemaError(f"{sig.qualified}: sample {i} uses `*` but the op claims no `dtypes`")
        for d in dtypes:

            def sub(k, v):
                if k not in tensor_args:
                    return v
                if isinstance(v, list):
                    return [d + s[1:] if isinstance(s, str) and s.startswith("*") else s for s in v]
                return d + v[1:] if isinstance(v, str) and v.startswith("*") else v

            out.append({k: sub(k, v) for k, v in sample.items()})
    return out


def parse_spec(spec):
    """`f64[3,4]:t:positive` -> (dtype, sizes, layout, domain)."""
    head, *flags = spec.split(":")
    m = re.match(r"^([\w*]+)\[([\d,\s]*)\]$", head)
    if not m:
        raise SchemaError(f"bad tensor spec `{spec}`")
    name = m.group(1)
    dtype = SHORT_DTYPES.get(name) or LONG_DTYPES.get(name)
    if dtype is None:
        raise SchemaError(f"tensor spec `{spec}`: unknown dtype `{name}`")
    sizes = [int(s) for s in m.group(2).split(",") if s.strip()]
    layout = domain = None
    for f in flags:
        if f in LAYOUT_FLAGS:
            if layout:
                raise SchemaError(f"tensor spec `{spec}`: at most one layout flag")
            layout = f
        elif f == "positive" or RANGE_RE.match(f):
            if domain:
                raise SchemaError(f"tensor spec `{spec}`: at most one domain flag")
            domain = f
        else:
            raise SchemaError(f"tensor spec `{spec}`: unknown flag `{f}`")
    need = {"t": 2, "step": 1, "expand": 1}.get(layout, 0)
    if len(sizes) < need:
        raise SchemaError(f"tensor spec `{spec}`: layout `{layout}` needs at least {need} dims")
    return dtype, sizes, layout, domain


def contiguous_strides(sizes):
    strides, acc = [], 1
    for s in reversed(sizes):
        strides.append(acc)
        acc *= max(s, 1)
    return list(reversed(strides))


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def storage_values(n, dtype, seed, domain):
    """FORMAT.md §3: the first `n` storage elements, converted with `.to(dtype)`."""
    js = range(n)
    rng = RANGE_RE.match(domain) if domain else None
    if rng:
        # Documented for integer dtypes; applied verbatim to every dtype.
        lo, hi = int(rng.group(1)), int(rng.group(2))
        if hi <= lo:
            raise SchemaError(f"empty range `{domain}`")
        vals, base = [lo + ((j * 3 + seed) % (hi - lo)) for j in js], torch.int64
    elif dtype in FLOAT_DTYPES:
        vals = []
        for j in js:
            frac = ((j * 7919 + seed * 104729 + 1) % 1000) / 1000 + 0.0005
            vals.append(0.5 + 2 * frac if domain == "positive" else -2 + 4 * frac)
        base = torch.float64
    elif dtype == torch.bool:
        vals, base = [(j + seed) % 2 == 1 for j in js], torch.bool
    elif dtype == torch.uint8:
        vals, base = [(j * 3 + seed) % 5 + (1 if domain == "positive" else 0) for j in js], torch.int64
    else:
        vals = [((j * 3 + seed) % 7) - 3 for j in js]
        if domain == "positive":
            vals = [abs(v) + 1 for v in vals]
        base = torch.int64
    return torch.tensor(vals, dtype=base).to(dtype)


def build_tensor(spec, seed):
    """FORMAT.md §2: the strided view of a freshly built storage."""
    dtype, sizes, layout, domain = parse_spec(spec)
    n, nd = prod(sizes), len(sizes)
    if layout == "t":
        stored = sizes[:-2] + [sizes[-1], sizes[-2]]
        st = contiguous_strides(stored)
        st[-1], st[-2] = st[-2], st[-1]
        alloc, offset = n, 0
    elif layout == "step":
        wide = sizes[:-1] + [sizes[-1] * 2]
        st = contiguous_strides(wide)
        st[-1] = 2
        alloc, offset = prod(wide), 0
    elif layout == "offset":
        st, alloc, offset = contiguous_strides(sizes), n + 3, 3
    elif layout == "expand":
        one = [1] + sizes[1:]
        st = contiguous_strides(one)
        st[0] = 0
        alloc, offset = prod(one), 0
    else:
        st, alloc, offset = contiguous_strides(sizes), n, 0
    assert nd == len(st)
    storage = storage_values(alloc, dtype, seed, domain)
    return torch.as_strided(storage, sizes, st, offset)


def to_dtype(name):
    d = LONG_DTYPES.get(name) or SHORT_DTYPES.get(name)
    if d is None:
        raise SchemaError(f"unknown dtype name `{name}`")
    return d


def build_args(sig, sample, leaves, frozen=frozenset()):
    """Returns (args, kwargs, tensors) where tensors is [(arg name, tensor)] in
    signature order (the seeds). With `leaves`, floating tensors require grad,
    except those of the arguments named in `frozen`."""
    tensors = []

    def make(spec, name=None):
        t = build_tensor(spec, len(tensors))
        if leaves and t.dtype in FLOAT_DTYPES and name not in frozen:
            t = t.detach().requires_grad_()
        return t

    values = {}
    for a in sig.args:
        if a.name not in sample:
            continue
        v = sample[a.name]
        if a.is_tensor:
            if a.is_list:
                if not isinstance(v, list):
                    raise SchemaError(f"`{a.name}` needs a list of tensor specs")
                ts = []
                for i, s in enumerate(v):
                    if s == "none":
                        ts.append(None)
                        continue
                    ts.append(make(s))
                    tensors.append((f"{a.name}[{i}]", ts[-1]))
                v = ts
            elif v == "none":
                v = None
            else:
                v = make(v, a.name)
                tensors.append((a.name, v))
        elif v == "none" and a.optional and a.base != "str":
            v = None  # an absent optional non-tensor argument (`int?`, `float[]?`)
        elif a.base == "ScalarType":
            v = to_dtype(v)
        elif a.base in ("Layout", "MemoryFormat"):
            v = getattr(torch, v)
        elif a.base == "Device":
            v = torch.device(v)
        elif a.base == "Generator":
            v = torch.Generator().manual_seed(v)  # a seed: a fresh generator (FORMAT.md §1)
        elif a.base == "float" and not a.is_list and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        elif a.base == "float" and a.is_list and isinstance(v, list):
            v = [float(x) for x in v]
        values[a.name] = v
    args, kwargs, positional = [], {}, True
    for a in sig.args:
        if a.name not in values:
            positional = False
            continue
        if positional and not a.kwarg_only:
            args.append(values[a.name])
        else:
            kwargs[a.name] = values[a.name]
    return args, kwargs, tensors


def outputs_of(sig, result):
    """The op's outputs: tensors, or Python bool/int/float (FORMAT.md §4)."""
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    for o in outs:
        if o is not None and not isinstance(o, (torch.Tensor, bool, int, float)):
            raise SchemaError(f"{sig.qualified}: returns a {type(o).__name__}; fixtures record tensors, bools, ints and floats")
    return outs


def plain_entry(v):
    """A non-tensor output: its Python type (`bool` before `int`: bool is an int) and value."""
    kind = "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float"
    return [("type", kind), ("value", v)]


def same_storage(a, b):
    sa, sb = a.untyped_storage(), b.untyped_storage()
    # Empty storages all have data_ptr 0; the StorageImpl identity tells them apart.
    return sa._cdata == sb._cdata or (sa.data_ptr() != 0 and sa.data_ptr() == sb.data_ptr())


def flat_values(t):
    t = t.detach()
    if t.dtype in FLOAT_DTYPES:
        t = t.double()
    return t.contiguous().reshape(-1).tolist()


def upstream(shape, dtype, k):
    n = prod(shape)
    return storage_values(n, torch.float64, 100 + k, None).to(dtype).reshape(shape)


# --------------------------------------------------------------- TOML writer


def toml_str(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_str(k)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return repr(v)  # shortest round-trip; inf/-inf are valid TOML
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v[k])}" for k in sorted(v)) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


# ----------------------------------------------------------------------- run


def tensor_entry(t, tensors, with_values):
    alias = next((i for i, (_, x) in enumerate(tensors) if same_storage(t, x)), -1)
    entry = [
        ("dtype", str(t.dtype).removeprefix("torch.")),
        ("shape", list(t.shape)),
        ("strides", list(t.stride())),
        ("storage_offset", t.storage_offset()),
        ("aliases", alias),
    ]
    if with_values:
        entry.append(("values", flat_values(t)))
    return entry


def reseed(sample):
    """FORMAT.md §1: `seed = N` seeds the default generator right before each call."""
    if "seed" in sample:
        torch.manual_seed(sample["seed"])


def written_inputs(sig):
    """Arguments the op writes besides an in-place `self` and `out=`: their
    values after the call are recorded as `[[sample.mutated]]`."""
    inplace = sig.name.endswith("_")
    return [a.name for k, a in enumerate(sig.args) if a.written and a.name != "out" and not (inplace and k == 0)]


def run_sample(op, sig, sample, index, notes, non_diff):
    """Returns the fixture lines of one expanded sample."""
    qn = sig.qualified
    fn = sig.packet()
    spec = dict(sample)
    if not SPEC_INCLUDES_ERROR:
        spec.pop("error", None)
    lines = ["", "[[sample]]", f"spec = {toml_value(spec)}"]
    names = out_names(op)
    call = {k: v for k, v in sample.items() if k not in ("error", "seed") and not (k in names and v == OUT_LIKE_RESULT)}
    args, kwargs, tensors = build_args(sig, call, leaves=False)
    reseed(sample)
    try:
        if sample.get(names[0]) == OUT_LIKE_RESULT:
            # FORMAT.md §7: each `out` is zeros shaped like its functional
            # result (an empty float32 tensor for an undefined one).
            like = Signature(op["functional"]).packet()(*args, **kwargs)
            likes = list(like) if isinstance(like, (tuple, list)) else [like]
            for n, r in zip(names, likes):
                kwargs[n] = torch.zeros(0) if r is None else torch.zeros(r.shape, dtype=r.dtype)
        result = fn(*args, **kwargs)
        if sample.get(names[0]) == OUT_LIKE_RESULT and op.get("out_oracle") == "functional":
            # A PyTorch out= kernel that disagrees with its own functional op
            # (a bug we do not reproduce, see the op's [[op.drift]]): the
            # fixture holds the functional result.
            got = list(result) if isinstance(result, (tuple, list)) else [result]
            if any(not torch.equal(g, w) for g, w in zip(got, likes) if w is not None):
                notes.append(f"{qn} sample {index}: torch's out= result differs from its functional op; recording the functional result (out_oracle)")
                # Replay on fresh inputs with the functional op standing in for
                # the out= call, so written inputs (running stats) match too.
                args, kwargs, tensors = build_args(sig, call, leaves=False)
                functional = Signature(op["functional"]).packet()
                functional(*args, **kwargs)
                result = functional(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - any torch error is a fixture
        if "error" not in sample and not op.get("errors_expected", False) and "derived" not in op:
            notes.append(f"{qn} sample {index}: torch raised {type(e).__name__} (no `error` declared): {str(e).splitlines()[0][:160]}")
        lines.append(f"error = {toml_str(type(e).__name__)}")
        return lines
    if "error" in sample:
        raise SchemaError(f"{qn} sample {index} {sample}: declares error = {sample['error']!r} but torch did not raise")
    outs = outputs_of(sig, result)
    with_values = "uninitialized_output" not in op.get("tags", [])
    for o in outs:
        lines.append("")
        lines.append("[[sample.output]]")
        if o is None:
            entry = [("undefined", True)]  # an undefined tensor (an `output_mask` entry was false)
        elif isinstance(o, torch.Tensor):
            entry = tensor_entry(o, tensors, with_values)
        else:
            entry = plain_entry(o)
        lines.extend(f"{k} = {toml_value(v)}" for k, v in entry)
    written = written_inputs(sig)
    for name, t in tensors:
        if name in written:
            lines += ["", "[[sample.mutated]]", f"input = {toml_str(name)}"]
            lines.extend(f"{k} = {toml_value(v)}" for k, v in tensor_entry(t, [], True) if k in ("dtype", "shape", "values"))

    differentiable = op.get("differentiable", True) and not sig.name.endswith("_")
    if not differentiable:
        return lines
    args, kwargs, tensors = build_args(sig, call, leaves=True, frozen=non_diff | set(written))
    leaves = [(n, t) for n, t in tensors if t.requires_grad]
    if not leaves:
        return lines
    try:
        reseed(sample)
        outs = outputs_of(sig, fn(*args, **kwargs))
        diff = [(k, o) for k, o in enumerate(outs) if o.dtype in FLOAT_DTYPES and o.requires_grad]
        if not diff:
            return lines
        grads = torch.autograd.grad(
            [o for _, o in diff],
            [t for _, t in leaves],
            [upstream(list(o.shape), o.dtype, k) for k, o in diff],
            allow_unused=True,
        )
    except SchemaError:
        raise
    except RuntimeError as e:
        if re.match(r"derivative for \S+ is not implemented", str(e)):
            # PyTorch's NotImplemented node (FORMAT.md §4): backward must fail.
            # A key of the [[sample]] table itself: before its sub-tables.
            lines.insert(3, f"backward_error = {toml_str(str(e).splitlines()[0])}")
            return lines
        raise SchemaError(f"{qn} sample {index}: gradient run failed ({type(e).__name__}: {e}); mark the op `differentiable = false`?") from e
    except Exception as e:
        raise SchemaError(f"{qn} sample {index}: gradient run failed ({type(e).__name__}: {e}); mark the op `differentiable = false`?") from e
    for (name, _), g in zip(leaves, grads):
        if g is None:
            continue
        lines += [
            "",
            "[[sample.grad]]",
            f"input = {toml_str(name)}",
            f"dtype = {toml_str(str(g.dtype).removeprefix('torch.'))}",
            f"shape = {toml_value(list(g.shape))}",
            f"values = {toml_value(flat_values(g))}",
        ]
    return lines


def fixture_name(sig):
    return f"{sig.qualified}.toml"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="OP_QUALIFIED_NAME", help="regenerate only these overloads")
    opts = parser.parse_args()

    version = torch.__version__.split("+")[0]
    if version != TORCH_VERSION:
        sys.exit(f"oracle.py: torch {torch.__version__} is installed, fixtures need {TORCH_VERSION} (use tools/oracle/regen.sh)")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    with open(SCHEMA, "rb") as f:
        schema = tomllib.load(f)
    with open(DERIVATIVES, "rb") as f:
        non_diff = {d["of"]: set(d.get("non_differentiable", [])) for d in tomllib.load(f).get("derivative", [])}
    entries = []
    for op in schema.get("op", []):
        entries.append(op)
        entries.extend(derive_variants(op))
    ops = [(op, Signature(op["signature"])) for op in entries]
    known = {sig.qualified for _, sig in ops}
    only = None
    if opts.only:
        only = {o.removeprefix("aten::") for o in opts.only}
        missing = sorted(only - known)
        if missing:
            sys.exit(f"oracle.py: not in schema/ops.toml: {', '.join(missing)}")

    os.makedirs(FIXTURES, exist_ok=True)
    wanted = {fixture_name(sig) for _, sig in ops}
    for f in sorted(os.listdir(FIXTURES)):
        if f.endswith(".toml") and f not in wanted:
            os.remove(os.path.join(FIXTURES, f))
            print(f"removed {f} (no such op)")

    notes, total = [], 0
    try:
        for op, sig in ops:
            if only is not None and sig.qualified not in only:
                continue
            samples = expand_samples(op, sig)
            lines = [f"op = {toml_str('aten::' + sig.qualified)}", f"torch = {toml_str(TORCH_VERSION)}"]
            errors = grads = 0
            for i, sample in enumerate(samples):
                sl = run_sample(op, sig, sample, i, notes, non_diff.get(sig.qualified, set()))
                errors += any(line.startswith("error = ") for line in sl)
                grads += sum(line == "[[sample.grad]]" for line in sl)
                lines += sl
            text = "\n".join(lines) + "\n"
            path = os.path.join(FIXTURES, fixture_name(sig))
            old = None
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    old = f.read()
            if old != text:
                with open(path, "w", encoding="utf-8", newline="\n") as f:
                    f.write(text)
            total += len(samples)
            state = "unchanged" if old == text else "written"
            print(f"{sig.qualified:24} {len(samples):3} samples  {errors:2} errors  {grads:3} grads  {state}")
    except SchemaError as e:
        sys.exit(f"oracle.py: schema problem: {e}")
    print(f"{total} samples")
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
