#!/usr/bin/env bash
# Regenerates tests/fixtures/oracle/*.toml with real PyTorch (never run in CI).
# Usage: tools/oracle/regen.sh [--only OP_QUALIFIED_NAME ...]
# Creates <repo>/.venv-oracle on first use (large: PyTorch from PyPI), then
# regenerates FEATURE_PARITY.md (it summarises the fixtures).
set -euo pipefail

TORCH_VERSION=2.15.0   # keep in sync with TORCH_VERSION in oracle.py
NUMPY_VERSION=2.4.6

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-oracle"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV (torch==$TORCH_VERSION, numpy==$NUMPY_VERSION)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --upgrade pip
    "$VENV/bin/python" -m pip install "torch==$TORCH_VERSION" "numpy==$NUMPY_VERSION"
fi

"$VENV/bin/python" "$ROOT/tools/oracle/oracle.py" "$@"
cd "$ROOT" && cargo run -q -p frankentorch-codegen
