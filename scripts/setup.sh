#!/usr/bin/env bash
# Installs codesign and the system tools its simulations need, on a fresh Debian
# machine (as root) or where they already exist. Idempotent and quiet when done.
#
# Python: codesign lives in the project virtual environment .venv (Python >= 3.12, which
# hwcomponents needs). The interpreter it is built from is CODESIGN_PYTHON if set, else the
# first of python3.13, python3.12, python3 on PATH that is >= 3.12, else the newest 3.12/3.13
# under pyenv (`pyenv root`, ~/.pyenv). After set-up: `. .venv/bin/activate`, or the make
# targets, or .venv/bin/codesign.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
VENV_PYTHON=$PWD/$VENV/bin/python    # absolute: scripts may change directory

# --- system tools -------------------------------------------------------------------------
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

# --- a Python >= 3.12 for the venv ----------------------------------------------------------
# Prints the real path of the interpreter if it runs, is >= 3.12 and can make a venv with pip.
# (pyenv shims of versions that are not selected fail to run and are skipped.)
usable_python() {
  "$1" -c 'import sys, venv, ensurepip
assert sys.version_info >= (3, 12)
print(sys.executable)' 2>/dev/null
}

venv_ok() {
  [ -x "$VENV_PYTHON" ] && usable_python "$VENV_PYTHON" >/dev/null
}

find_python() {
  local cand root dir
  if [ -n "${CODESIGN_PYTHON:-}" ]; then
    usable_python "$CODESIGN_PYTHON" && return 0
    echo "setup: CODESIGN_PYTHON=$CODESIGN_PYTHON is not a Python >= 3.12 with venv and ensurepip" >&2
    return 1
  fi
  for cand in python3.13 python3.12 python3; do
    command -v "$cand" >/dev/null 2>&1 && usable_python "$cand" && return 0
  done
  for root in "$(pyenv root 2>/dev/null || true)" "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
    [ -n "$root" ] && [ -d "$root/versions" ] || continue
    # newest patch release of 3.12, then of 3.13 (3.12 is the version the project tests on)
    for dir in $(ls -d "$root"/versions/3.12* 2>/dev/null | sort -rV) \
               $(ls -d "$root"/versions/3.13* 2>/dev/null | sort -rV); do
      for cand in "$dir/bin/python3" "$dir/bin/python"; do
        [ -x "$cand" ] && usable_python "$cand" && return 0
      done
    done
  done
  echo "setup: codesign needs Python >= 3.12 and none was found on PATH (python3.13, python3.12," \
       "python3) or under pyenv; install one (e.g. \`pyenv install 3.12\`, or" \
       "\`apt-get install python3.12-venv\` where Debian has it) or set CODESIGN_PYTHON=/path/to/python3.12" >&2
  return 1
}

if ! venv_ok; then
  base=$(find_python) || exit 1
  echo "setup: creating $VENV with $base ($("$base" -c 'import platform; print(platform.python_version())'))" >&2
  rm -rf "$VENV"
  "$base" -m venv "$VENV"
fi

# --- codesign and its Python packages ----------------------------------------------------------
# The stamp lives inside the venv (a new venv has none) and holds the hash of pyproject.toml
# and the venv's Python, so editing either reinstalls.
stamp=$VENV/.codesign-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $("$VENV_PYTHON" -c 'import platform; print(platform.python_version())')"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] ||
   ! "$VENV_PYTHON" -I -c "import codesign, cocotb, pytest, hwcomponents" >/dev/null 2>&1; then
  echo "setup: installing codesign and its Python packages into $VENV (a few minutes the first time)" >&2
  rm -f "$stamp"
  log=$VENV/pip-install.log
  if ! { "$VENV_PYTHON" -m pip install --disable-pip-version-check --upgrade pip &&
         "$VENV_PYTHON" -m pip install --disable-pip-version-check -e ".[test]"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "setup: pip install failed; the whole log is in $log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# --- native binaries of hwcomponents-cacti / -neurosim ------------------------------------------
# Their wheels ship executables built for a newer glibc; scripts/hwc_binaries.sh rebuilds them
# from the packages' own shipped sources when the shipped ones do not run. A failure is only a
# warning: the estimator falls back to sourced constants.
if [ -f scripts/hwc_binaries.sh ]; then
  hwc_stamp=$VENV/.codesign-hwc-binaries
  hwc_want="$(cat "$stamp") $(sha256sum scripts/hwc_binaries.sh | cut -d' ' -f1)"
  if [ "$(cat "$hwc_stamp" 2>/dev/null)" != "$hwc_want" ]; then
    # The stamp is written either way, so a failure warns once, not on every make.
    bash scripts/hwc_binaries.sh "$VENV_PYTHON" >&2 ||
      echo "setup: warning: scripts/hwc_binaries.sh failed; CACTI/NeuroSim estimates use the" \
           "sourced fallback constants (retry: bash scripts/hwc_binaries.sh $VENV_PYTHON)" >&2
    echo "$hwc_want" > "$hwc_stamp"
  fi
fi
