#!/usr/bin/env bash
# Makes the executables of two hwcomponents plug-ins run on this machine:
#   hwcomponents-cacti     <pkg>/cacti/cacti      (CACTI 7)
#   hwcomponents-neurosim  <pkg>/NeuroSim/main    (NeuroSim V1.3, CiMLoop drop-in)
# Their wheels ship prebuilt x86-64 executables linked against GLIBC 2.38 /
# GLIBCXX 3.4.32; on older systems (Debian 12: GLIBC 2.36) the loader refuses
# them. Each package also ships the C++ sources, so when a shipped executable
# does not start we rebuild it from those sources in a temporary directory
# (NeuroSim: NeuroSIM sources with the package's drop_in/ files laid over them,
# as the plug-in's own Makefile does) and install the result into the package.
#
# Usage: scripts/hwc_binaries.sh [PYTHON]     (default: python3)
# Idempotent; silent when nothing needs doing or the rebuild works; one
# warning line on stderr per plug-in that still does not run; exits 0.
set -u
PY=${1:-python3}

warn() { echo "hwc_binaries: warning: $*" >&2; }

# Package directory of an installed module, without importing it.
pkg_dir() {
  "$PY" - "$1" 2>/dev/null <<'EOF'
import importlib.util, os, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec and spec.submodule_search_locations:
    print(os.path.realpath(list(spec.submodule_search_locations)[0]))
EOF
}

# True when the executable starts: run without arguments, it prints its usage
# text (a loader failure prints "version `GLIBC_x' not found" instead).
starts() {  # exe pattern
  [ -x "$1" ] || return 1
  (cd "$(dirname "$1")" && timeout 60 "./$(basename "$1")" </dev/null 2>&1) | grep -q "$2"
}

have_tools() {
  local t
  for t in make g++; do
    command -v "$t" >/dev/null 2>&1 || { echo "$t"; return 1; }
  done
}

# install SRC DEST: copy next to DEST, then rename over it (atomic).
install_exe() {
  cp -f "$1" "$2.new.$$" && chmod 755 "$2.new.$$" && mv -f "$2.new.$$" "$2"
}

ncpu() { nproc 2>/dev/null || echo 2; }

fix_cacti() {
  local pkg exe tmp log missing
  pkg=$(pkg_dir hwcomponents_cacti)
  [ -n "$pkg" ] || return 0                       # plug-in not installed
  exe="$pkg/cacti/cacti"
  starts "$exe" "how to use CACTI" && return 0
  [ -d "$pkg/cacti" ] && [ -f "$pkg/cacti/cacti.mk" ] || {
    warn "CACTI ($exe) does not run and its sources are not in $pkg/cacti"; return 0; }
  [ -w "$pkg/cacti" ] || { warn "CACTI ($exe) does not run and $pkg/cacti is not writable"; return 0; }
  missing=$(have_tools) || { warn "CACTI ($exe) does not run; rebuilding it needs $missing"; return 0; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/hwc-cacti.XXXXXX")
  log="$tmp/build.log"
  mkdir -p "$tmp/src"
  cp -r "$pkg/cacti/." "$tmp/src/"
  rm -rf "$tmp/src/obj_dbg" "$tmp/src/obj_opt" "$tmp/src/cacti"
  if { make -C "$tmp/src" opt -j"$(ncpu)" || make -C "$tmp/src" dbg -j"$(ncpu)"; } >"$log" 2>&1 \
      && [ -x "$tmp/src/cacti" ] && starts "$tmp/src/cacti" "how to use CACTI" \
      && install_exe "$tmp/src/cacti" "$exe" && starts "$exe" "how to use CACTI"; then
    rm -rf "$tmp"
  else
    warn "CACTI ($exe) does not run and rebuilding it from $pkg/cacti failed; log: $log"
  fi
}

fix_neurosim() {
  local pkg exe src tmp log missing
  pkg=$(pkg_dir hwcomponents_neurosim)
  [ -n "$pkg" ] || return 0                       # plug-in not installed
  exe="$pkg/NeuroSim/main"
  starts "$exe" "Usage: ./main" && return 0
  src="$pkg/DNN_NeuroSim_V1.3/Inference_pytorch/NeuroSIM"
  [ -f "$src/makefile" ] && [ -d "$pkg/drop_in" ] || {
    warn "NeuroSim ($exe) does not run and its sources are not in $pkg"; return 0; }
  [ -w "$pkg" ] || { warn "NeuroSim ($exe) does not run and $pkg is not writable"; return 0; }
  missing=$(have_tools) || { warn "NeuroSim ($exe) does not run; rebuilding it needs $missing"; return 0; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/hwc-neurosim.XXXXXX")
  log="$tmp/build.log"
  mkdir -p "$tmp/src"
  cp -r "$src/." "$tmp/src/"
  cp -rf "$pkg/drop_in/." "$tmp/src/"
  rm -f "$tmp/src/main" "$tmp/src"/*.o "$tmp/src/.depend"
  if [ "$(uname -s)" = Darwin ]; then sed -i '' 's/-fopenmp//g' "$tmp/src/makefile"; fi
  if make -C "$tmp/src" -j"$(ncpu)" >"$log" 2>&1 \
      && starts "$tmp/src/main" "Usage: ./main" \
      && mkdir -p "$pkg/NeuroSim" && install_exe "$tmp/src/main" "$exe" \
      && starts "$exe" "Usage: ./main"; then
    rm -rf "$tmp"
  else
    warn "NeuroSim ($exe) does not run and rebuilding it from $src + drop_in/ failed; log: $log"
  fi
}

if ! "$PY" -c "" >/dev/null 2>&1; then
  warn "cannot run Python '$PY'"
  exit 0
fi
fix_cacti
fix_neurosim
exit 0
