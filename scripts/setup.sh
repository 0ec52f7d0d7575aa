#!/usr/bin/env bash
# Installs codesign and the system tools its simulations need, on a fresh Debian
# machine (as root) or where they already exist. Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
need_apt=()
command -v iverilog >/dev/null 2>&1 || need_apt+=(iverilog)
command -v yosys >/dev/null 2>&1 || need_apt+=(yosys)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing ${need_apt[*]}; install with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi
stamp=.setup-stamp
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! $PYTHON -c "import codesign, cocotb, pytest" >/dev/null 2>&1; then
  echo "setup: installing codesign and its Python packages" >&2
  $PYTHON -m pip install -q --disable-pip-version-check -e ".[test]" >&2
  touch "$stamp"
fi
