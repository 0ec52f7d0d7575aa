"""Yosys synthesis counts of the tile controller for a spec (for the area estimator).

``synth_counts(spec)`` runs Debian's yosys (`synth -flatten`, then `stat -json`) on
rtl/tile_*.v with the spec's parameters and returns the generic cell counts, the flip-flop
count and a NAND2-equivalent gate count. Results are cached under <build root>/synth/ (codesign.hdl.runner.build_root: the user cache) by a
hash of the sources, parameters and yosys version, because a 512 x 512 tile takes minutes.

NAND2 equivalents (assumed): cell area relative to NAND2_X1 in the NanGate 45 nm Open Cell
Library (NAND2_X1 0.798 um^2; INV_X1 0.532, AND2/OR2/AOI21/OAI21 1.064, AOI22/OAI22
1.330, XOR2/XNOR2 1.596, MUX2 1.862, DFF_X1 4.522, DFFR_X1 5.320 um^2). A synchronous
reset costs what an AND2 costs and an enable a MUX2 in front of the flop. They are ratios,
so the estimator scales them with its own per-node NAND2 area.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import UserError
from ..fileio import write_text
from ..spec import Spec, load_spec
from .runner import build_key, build_root, rtl_sources
from .tile import TOP, tile_parameters, verilog_value

_NAND2_UM2 = 0.798
NAND2_EQ = {  # generic yosys gate -> NAND2 equivalents (see module doc)
    "$_NOT_": 0.532 / _NAND2_UM2, "$_BUF_": 0.532 / _NAND2_UM2,
    "$_NAND_": 1.0, "$_NOR_": 1.0,
    "$_AND_": 1.064 / _NAND2_UM2, "$_OR_": 1.064 / _NAND2_UM2,
    "$_ANDNOT_": 1.064 / _NAND2_UM2, "$_ORNOT_": 1.064 / _NAND2_UM2,
    "$_AOI3_": 1.064 / _NAND2_UM2, "$_OAI3_": 1.064 / _NAND2_UM2,
    "$_AOI4_": 1.330 / _NAND2_UM2, "$_OAI4_": 1.330 / _NAND2_UM2,
    "$_XOR_": 1.596 / _NAND2_UM2, "$_XNOR_": 1.596 / _NAND2_UM2,
    "$_MUX_": 1.862 / _NAND2_UM2,
}
_DFF = 4.522 / _NAND2_UM2
_RESET = 1.064 / _NAND2_UM2
_ENABLE = 1.862 / _NAND2_UM2


def require_yosys() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        raise UserError("yosys: not found on PATH; synthesis needs it: "
                        "apt-get install -y yosys (or run `make setup`)")
    return exe


def cell_nand2(cell: str) -> float:
    """NAND2 equivalents of one generic yosys cell type."""
    if cell in NAND2_EQ:
        return NAND2_EQ[cell]
    if "DFF" in cell or "DLATCH" in cell:
        # $_<KIND>_<POLARITIES>_: KIND DFF, DFFE, SDFF, SDFFE, SDFFCE, DFFSR, ALDFF...;
        # a reset shows as S..., ...SR... or a third polarity letter (async reset value)
        kind, pol = cell.strip("$_").split("_")[:2]
        has_reset = kind.startswith("S") or "SR" in kind or len(pol) >= 3
        has_enable = kind.endswith("E")
        return _DFF + _RESET * has_reset + _ENABLE * has_enable
    if cell.startswith("$_MUX"):                       # wider muxes: n-1 MUX2
        return (int(cell[5:-1] or 2) - 1) * NAND2_EQ["$_MUX_"]
    raise UserError(f"synth: no NAND2 equivalent for yosys cell {cell}")


def nand2_of(by_type: Mapping[str, float]) -> float:
    """NAND2 equivalents of yosys cell counts {generic cell type: count}."""
    return round(sum(n * cell_nand2(t) for t, n in by_type.items()), 1)


def _count(value: Any, where: str, whole: bool) -> float:
    """A count read back from a synthesis result: finite, >= 0 (and whole for cells)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value) and value >= 0 and (not whole or float(value).is_integer())
    if not ok:
        allowed = "a whole number >= 0" if whole else "a finite number >= 0"
        raise UserError(f"{where}: value {value!r} is not a count; allowed: {allowed}")
    return float(value)


def gate_equivalents(result: Mapping, spec: Spec | None = None,
                     source: str = "synth counts") -> float:
    """NAND2 equivalents of a synth_counts() result read back (the dict, or the JSON of
    `codesign synth tile --json`): its ``nand2_eq``, or, without it, recomputed from
    ``by_type`` with cell_nand2. With ``spec``, the result's ``parameters`` (when given)
    must be the spec's. Anything else is a UserError of one line: field, value, allowed."""
    if not isinstance(result, Mapping):
        raise UserError(f"{source}: value {type(result).__name__}; allowed: an object "
                        "(the JSON of `codesign synth tile --json`)")
    by_type = result.get("by_type")
    if by_type is not None:
        if not isinstance(by_type, Mapping) or not by_type:
            raise UserError(f"{source}: by_type: value {by_type!r}; allowed: an object "
                            "{yosys cell type: count}")
        by_type = {t: _count(n, f"{source}: by_type.{t}", whole=True)
                   for t, n in by_type.items()}
        for t in by_type:
            try:
                cell_nand2(t)
            except UserError:
                raise UserError(f"{source}: by_type.{t}: no NAND2 equivalent for this yosys "
                                "cell; allowed: the generic gates and flip-flops of `synth "
                                "-flatten` ($_AND_, $_MUX_, $_SDFFE_PP0P_, ...)") from None
    if spec is not None and result.get("parameters") is not None:
        params, want = result["parameters"], tile_parameters(spec)
        if not isinstance(params, Mapping):
            raise UserError(f"{source}: parameters: value {params!r}; allowed: an object "
                            "{Verilog parameter: value}")
        for name, value in want.items():
            if params.get(name) != value:
                raise UserError(f"{source}: parameters.{name}: value {params.get(name)!r} "
                                f"is not the spec's; allowed: {value} (synthesize this spec: "
                                f"codesign synth tile --spec ... --json)")
    if "nand2_eq" in result:
        return _count(result["nand2_eq"], f"{source}: nand2_eq", whole=False)
    if by_type is not None:
        return nand2_of(by_type)
    raise UserError(f"{source}: nand2_eq: missing (keys: {', '.join(sorted(result)) or 'none'}"
                    "); allowed: the JSON of `codesign synth tile --json` (nand2_eq, or "
                    "by_type {yosys cell type: count})")


def _yosys_version(exe: str) -> str:
    return subprocess.run([exe, "-V"], capture_output=True, text=True).stdout.strip()


def synth_counts(spec: Spec | str, use_cache: bool = True, verbose: bool = False) -> dict:
    """Cell counts of the tile controller synthesized for `spec`.

    Returns {"top", "parameters", "cells" (total generic cells), "flops", "by_type"
    (cell type -> count), "nand2_eq" (NAND2 equivalents), "yosys" (version),
    "seconds" (synthesis time; 0 when cached), "cached"}."""
    spec = load_spec(spec)
    exe = require_yosys()
    params = tile_parameters(spec)
    sources = rtl_sources("tile_")
    version = _yosys_version(exe)
    key = hashlib.sha256((build_key(TOP, sources, params) + version).encode()).hexdigest()[:16]
    cache = build_root() / "synth" / f"{TOP}-{key}.json"
    if use_cache and cache.is_file():
        result = json.loads(cache.read_text())
        result.update(cached=True, seconds=0.0)
        return result
    chparam = " ".join(f"-set {k} {verilog_value(k, v)}" for k, v in params.items())
    with tempfile.TemporaryDirectory(prefix="codesign-yosys-") as tmp:
        stat_file = Path(tmp) / "stat.json"
        script = Path(tmp) / "synth.ys"
        script.write_text("\n".join([
            "read_verilog -defer " + " ".join(str(s) for s in sources),
            f"chparam {chparam} {TOP}",
            f"synth -top {TOP} -flatten",
            f"tee -q -o {stat_file} stat -json", ""]))
        start = time.perf_counter()
        if verbose:
            print(f"synth: yosys on {TOP} ({spec.array.rows}x{spec.array.cols}, "
                  f"{spec.adc.count} ADCs)...", file=sys.stderr)
        proc = subprocess.run([exe, "-q", "-l", str(Path(tmp) / "yosys.log"), str(script)],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not stat_file.is_file():
            tail = (proc.stderr or proc.stdout)[-2000:]
            raise UserError(f"synth: yosys failed on {TOP} (exit {proc.returncode}): {tail}")
        stat = json.loads(stat_file.read_text())["design"]
    by_type = {k: int(v) for k, v in sorted(stat["num_cells_by_type"].items())}
    result = {
        "top": TOP,
        "parameters": params,
        "cells": int(stat["num_cells"]),
        "flops": sum(n for t, n in by_type.items() if "DFF" in t),
        "by_type": by_type,
        "nand2_eq": nand2_of(by_type),
        "yosys": version,
        "seconds": round(seconds, 2),
        "cached": False,
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_text(cache, json.dumps(result, indent=1))      # atomic: a killed run leaves none
    return result
