#!/usr/bin/env python3
"""Runs PyTorch's baseline workloads (shared/bench/torch_bench.py) and ours
(frankentorch-bench) alternately per suite, A B A B, and prints a table of the
medians over rounds, the ratio ours/torch and the target of issue [8/8].

Run (from the repository root):
    python3 tools/bench/compare.py                       # all suites, 3 rounds
    python3 tools/bench/compare.py --only matmul,mlp --rounds 5
    python3 tools/bench/compare.py --ours-only           # no torch needed
    python3 tools/bench/compare.py --markdown > table.md # for BENCHMARKS.md

Ratios read directly against the targets: for GB/s and GFLOP/s rows it is
ours/torch of the throughput (higher is better), for ms and us rows ours/torch
of the time (lower is better).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITES = ["matmul", "elementwise", "layout", "reductions", "overhead", "mlp", "cnn"]
FMA_PEAK = 234.0  # GFLOP/s, 2 threads (BASELINES.md)

# name -> (kind, bound, label). kind: "ratio>=" / "ratio<=" compare ours/torch;
# "abs<=" / "abs>=" compare our value itself. A row may carry several targets.
TARGETS = {
    **{f"matmul_n{n}": [("ratio>=", 1.0, ">= 1.0x torch"), ("abs>=", 0.8 * FMA_PEAK, ">= 80% peak")]
       for n in (512, 1024, 2048)},
    **{f"{op}_16M": [("ratio>=", 2.0, ">= 2x torch")] for op in ("add", "mul", "exp", "relu")},
    "sum_16M": [("ratio<=", 1.0, "<= 1.0x torch")],
    "sum_dim1_4096": [("ratio<=", 1.0, "<= 1.0x torch")],
    "softmax_4096": [("ratio<=", 0.5, "<= 0.5x torch")],
    "op_overhead_us": [("abs<=", 0.2, "<= 0.2 us")],
    "op_overhead_grad_us": [("abs<=", 0.5, "<= 0.5 us")],
    "mlp_step_ms": [("ratio<=", 0.8, "<= 0.8x torch")],
    "cnn_step_ms": [("ratio<=", 0.9, "<= 0.9x torch")],
    "mlp_bwd_fwd_ratio": [("abs<=", 1.6, "<= 1.6")],
}


def higher_is_better(unit):
    return unit in ("GB/s", "GFLOP/s")


def run_json(cmd, env=None):
    """Runs cmd and returns its JSON lines (non-JSON lines are ignored)."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"compare.py: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    rows = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def uptime():
    try:
        with open("/proc/loadavg") as f:
            return "load average " + ", ".join(f.read().split()[:3])
    except OSError:
        return "load average unknown"


class Collector:
    """Values per workload name over rounds, in first-seen order."""

    def __init__(self):
        self.values = {}
        self.units = {}
        self.info = set()
        self.meta = None

    def add(self, rows):
        for r in rows:
            if r["name"] == "meta":
                self.meta = r
                continue
            self.values.setdefault(r["name"], []).append(float(r["value"]))
            self.units[r["name"]] = r["unit"]
            if r.get("info"):
                self.info.add(r["name"])

    def median(self, name):
        v = self.values.get(name)
        return statistics.median(v) if v else None

    def spread(self, name):
        v = self.values.get(name)
        if not v or len(v) < 2:
            return None
        return (max(v) - min(v)) / statistics.median(v)


def judge(name, ours, torch):
    """(ratio, target label, verdict) for one row."""
    ratio = ours / torch if (ours is not None and torch) else None
    targets = TARGETS.get(name, [])
    if not targets:
        return ratio, "—", ""
    labels, verdicts = [], []
    for kind, bound, label in targets:
        labels.append(label)
        value = ratio if kind.startswith("ratio") else ours
        if value is None:
            verdicts.append("n/a")
            continue
        if kind.endswith(">="):
            ok = value >= bound
            gap = bound / value if value > 0 else float("inf")
        else:
            ok = value <= bound
            gap = value / bound
        verdicts.append("met" if ok else f"missed ({gap:.2f}x off)")
    return ratio, "; ".join(labels), "; ".join(verdicts)


def fmt(v, digits=3):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{digits}g}"


def table(ours, torch, ours_only):
    names = list(ours.values) + [n for n in torch.values if n not in ours.values]
    rows = []
    for name in names:
        o, t = ours.median(name), (None if ours_only else torch.median(name))
        ratio, target, verdict = judge(name, o, t)
        unit = ours.units.get(name) or torch.units.get(name, "")
        arrow = "↑" if higher_is_better(unit) else ("↓" if unit in ("ms", "us") else "")
        sp = ours.spread(name)
        rows.append(
            {
                "name": name + (" (info)" if name in ours.info or name in torch.info else ""),
                "unit": f"{unit} {arrow}".strip(),
                "ours": fmt(o) + (f" ±{sp * 50:.0f}%" if sp is not None else ""),
                "torch": fmt(t),
                "ratio": "—" if ratio is None else f"{ratio:.2f}x",
                "target": target,
                "verdict": verdict,
            }
        )
    return rows


COLUMNS = [("name", "workload"), ("unit", "unit"), ("ours", "ours"), ("torch", "torch"),
           ("ratio", "ours/torch"), ("target", "target"), ("verdict", "met?")]


def print_text(rows):
    widths = {k: max(len(h), *(len(r[k]) for r in rows)) for k, h in COLUMNS}
    print("  ".join(h.ljust(widths[k]) for k, h in COLUMNS))
    for r in rows:
        print("  ".join(r[k].ljust(widths[k]) for k, _ in COLUMNS))


def print_markdown(rows):
    print("| " + " | ".join(h for _, h in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        print("| " + " | ".join(r[k] for k, _ in COLUMNS) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated suites: " + ",".join(SUITES))
    ap.add_argument("--rounds", type=int, default=3, help="A B rounds per suite (default 3)")
    ap.add_argument("--ours-only", action="store_true", help="skip torch")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-oracle", "bin", "python"))
    ap.add_argument("--torch-script", default="/work/shared/bench/torch_bench.py")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "frankentorch-bench"))
    ap.add_argument("--no-build", action="store_true", help="use --bin as it is")
    ap.add_argument("--raw", help="append every JSON line (tagged with side and round) to this file")
    args = ap.parse_args()
    suites = [s for s in args.only.split(",") if s] or SUITES
    for s in suites:
        if s not in SUITES:
            ap.error(f"unknown suite {s}")

    if not args.no_build:
        env = dict(os.environ, CARGO_INCREMENTAL="0")
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "frankentorch-bench"],
                       cwd=ROOT, check=True, env=env)
    if args.threads != 2 and not args.ours_only:
        print("note: torch_bench.py always uses 2 threads", file=sys.stderr)

    ours, torch = Collector(), Collector()
    raw = open(args.raw, "a") if args.raw else None
    load_before = uptime()
    started = time.time()
    for suite in suites:
        for rnd in range(args.rounds):
            sides = [("ours", ours, [args.bin, "--only", suite, "--threads", str(args.threads)])]
            if not args.ours_only:
                sides.insert(0, ("torch", torch, [args.torch_python, args.torch_script, "--only", suite]))
            for side, coll, cmd in sides:
                print(f"[{time.time() - started:6.0f}s] {suite} round {rnd + 1}/{args.rounds}: {side}",
                      file=sys.stderr)
                rows = run_json(cmd)
                coll.add(rows)
                if raw:
                    for r in rows:
                        raw.write(json.dumps({"side": side, "round": rnd, **r}) + "\n")
    load_after = uptime()

    rows = table(ours, torch, args.ours_only)
    header = [
        f"suites: {','.join(suites)}; rounds: {args.rounds} (A B alternating per suite); "
        f"threads: {args.threads}",
        f"machine: {load_before} before, {load_after} after",
    ]
    if ours.meta:
        m = ours.meta
        header.append(f"ours: commit {m.get('commit')}, cpu capability {m.get('cpu_capability')}")
    if torch.meta:
        m = torch.meta
        header.append(f"torch: {m.get('torch')}, cpu capability {m.get('cpu_capability')}")
    header.append("ours = median over rounds (± half the max-min spread between rounds); "
                  "ratio = ours/torch of the unit (GB/s, GFLOP/s: higher is better; ms, us: lower is better)")
    if args.markdown:
        for h in header:
            print(f"- {h}")
        print()
        print_markdown(rows)
    else:
        for h in header:
            print(h)
        print()
        print_text(rows)


if __name__ == "__main__":
    main()
