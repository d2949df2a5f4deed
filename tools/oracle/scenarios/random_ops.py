"""Scenario fixtures for FrankenTorch's sampling operators (tests/random_ops.rs).

Writes tests/fixtures/scenarios/random_ops.toml from real torch: for seeds
0, 1, 42, 2024, `manual_seed(seed)` and a second generator
`torch.Generator().manual_seed(seed + 1000)`, then one long sequence of calls
alternating between them (normal_, uniform_, exponential_, bernoulli_,
bernoulli with tensor probabilities, random_ with and without bounds,
randint on both sides of the 2^28 range switch, multinomial with and
without replacement, randn_like / rand_like of non-contiguous tensors,
normal with tensor means) over sizes 1 to 100000 and their dtypes, plus a
generator state saved and restored mid-stream.

Every call is described by (op, dtype, n, gen): the Rust test maps op to the
same call with the same fixed parameters (see CALLS below and tests/random_ops.rs).
Results are stored as in random_streams.py (whole up to 100 values,
otherwise an FNV-1a checksum plus 16 probes).

Run with the oracle venv from the repository root:
    .venv-oracle/bin/python tools/oracle/scenarios/random_ops.py
"""

import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from random_streams import entry  # noqa: E402

ROOT = HERE.parents[2]
OUT = ROOT / "tests" / "fixtures" / "scenarios" / "random_ops.toml"
SEEDS = [0, 1, 42, 2024]
SIZES = [1, 7, 15, 16, 17, 100, 1000, 100000]
FLOATS = ["float32", "float64", "float16", "bfloat16"]
INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]


def dt(name):
    return getattr(torch, name)


def probs(n, dtype):
    """Probabilities in (0, 1): (k * 37 % 101 + 0.5) / 102."""
    return torch.tensor([((k * 37) % 101 + 0.5) / 102 for k in range(n)], dtype=torch.float64).to(dt(dtype))


def weights(n, dtype):
    """Multinomial weights 1 + (k * 37 % 101), all positive."""
    return torch.tensor([1.0 + (k * 37) % 101 for k in range(n)], dtype=torch.float64).to(dt(dtype))


def transposed(n, dtype):
    """A non-contiguous (n, 2) tensor: the transpose of a contiguous (2, n)."""
    return torch.zeros(2, n, dtype=dt(dtype)).t()


def run(op, dtype, n, g):
    """The call `op` stands for (tests/random_ops.rs mirrors this table)."""
    d = dt(dtype)
    if op == "normal_":
        return torch.empty(n, dtype=d).normal_(0.5, 2.5, generator=g)
    if op == "uniform_":
        return torch.empty(n, dtype=d).uniform_(-2.0, 3.0, generator=g)
    if op == "exponential_":
        return torch.empty(n, dtype=d).exponential_(1.5, generator=g)
    if op == "bernoulli_":
        return torch.empty(n, dtype=d).bernoulli_(0.3, generator=g)
    if op == "bernoulli_tensor":
        return torch.bernoulli(probs(n, dtype), generator=g)
    if op == "random_":
        return torch.empty(n, dtype=d).random_(generator=g)
    if op == "random_to":
        return torch.empty(n, dtype=d).random_(2 if dtype == "bool" else 100, generator=g)
    if op == "random_from_none":
        return torch.empty(n, dtype=d).random_(-7 if dtype in ("int64", "int32", "float64") else 1, None, generator=g)
    if op == "randint_small":
        return torch.randint(-1000, 1000, (n,), dtype=d, generator=g)
    if op == "randint_wide":
        return torch.randint(-(1 << 40), 1 << 40, (n,), dtype=d, generator=g)
    if op == "multinomial":
        return torch.multinomial(weights(n, dtype), min(n, 5), generator=g)
    if op == "multinomial_one":
        return torch.multinomial(weights(n, dtype), 1, generator=g)
    if op == "multinomial_replacement":
        return torch.multinomial(weights(n, dtype), 2 * n, replacement=True, generator=g)
    if op == "randn_like_t":
        return torch.randn_like(transposed(n, dtype), generator=g) if g is not None else torch.randn_like(transposed(n, dtype))
    if op == "rand_like_t":
        return torch.rand_like(transposed(n, dtype), generator=g) if g is not None else torch.rand_like(transposed(n, dtype))
    if op == "normal_tensor_float":
        return torch.normal(weights(n, dtype), 0.5, generator=g)
    raise SystemExit(f"unknown op {op}")


def calls(n):
    """(op, dtype) pairs for size n, in stream order."""
    out = []
    for d in FLOATS:
        out += [("normal_", d), ("uniform_", d), ("exponential_", d), ("bernoulli_", d), ("random_", d)]
        out += [("randn_like_t", d), ("rand_like_t", d)]
    out += [("bernoulli_tensor", "float32"), ("bernoulli_tensor", "float64"), ("normal_tensor_float", "float32")]
    for d in INTS:
        out += [("random_", d), ("random_to", d), ("bernoulli_", d)]
    out += [("random_from_none", "int64"), ("random_from_none", "int8"), ("random_from_none", "float32")]
    out += [("randint_small", "int64"), ("randint_small", "int32"), ("randint_small", "float64"), ("randint_wide", "int64")]
    if n <= 1000:
        out += [("multinomial", "float32"), ("multinomial", "float64"), ("multinomial_one", "float16")]
        out += [("multinomial_replacement", "float32"), ("multinomial_replacement", "float64"), ("multinomial_replacement", "bfloat16")]
    return out


def sequence(seed):
    """One seeded stream; odd-numbered calls use the explicit generator."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1000)
    lines = ["", "[[stream]]", f"seed = {seed}"]
    k = 0
    for n in SIZES:
        for op, d in calls(n):
            use_gen = k % 2 == 1
            k += 1
            c = entry(op, d, n, run(op, d, n, g if use_gen else None))
            c.append(f"gen = {'true' if use_gen else 'false'}")
            lines += ["[[stream.call]]" if line == "[[call]]" else line for line in c]
    return lines


def states():
    """A generator state saved, used, restored and replayed; the default
    generator's state handed to a new generator."""
    lines = ["", "[state]"]
    g = torch.Generator().manual_seed(77)
    torch.empty(5, dtype=torch.float64).normal_(generator=g)  # leaves a cached normal
    saved = g.get_state()
    a = torch.empty(40).normal_(generator=g)
    b = torch.randint(0, 10, (20,), generator=g)
    g.set_state(saved)
    a2 = torch.empty(40).normal_(generator=g)
    b2 = torch.randint(0, 10, (20,), generator=g)
    assert torch.equal(a, a2) and torch.equal(b, b2)
    lines.append("replay_normal = [" + ", ".join(repr(float(v)) for v in a.tolist()) + "]")
    lines.append("replay_randint = [" + ", ".join(str(int(v)) for v in b.tolist()) + "]")
    torch.manual_seed(5)
    torch.rand(3)
    h = torch.Generator()
    h.set_state(torch.get_rng_state())
    c = torch.empty(7, dtype=torch.float64).exponential_(generator=h)
    lines.append("handed_exponential = [" + ", ".join(repr(float(v)) for v in c.tolist()) + "]")
    return lines


def main():
    assert torch.__version__.startswith("2.15."), torch.__version__
    torch.set_num_threads(1)
    lines = ["# Generated by tools/oracle/scenarios/random_ops.py; do not edit.", f'torch = "{torch.__version__.split("+")[0]}"']
    lines += states()
    for seed in SEEDS:
        lines += sequence(seed)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
