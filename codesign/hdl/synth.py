"""Yosys synthesis counts of the tile controller for a spec (for the area estimator).

``synth_counts(spec)`` runs Debian's yosys (`synth -flatten`, then `stat -json`) on
rtl/tile_*.v with the spec's parameters and returns the generic cell counts, the flip-flop
count and a NAND2-equivalent gate count. Memories stay memories: the script is yosys'
`synth` without its `memory_map` step, so an inferred memory (the output buffer,
rtl/tile_obuf.v) is one $mem_v2 cell, reported under "memories" (words, width, ports)
and left out of the gate count; the estimator prices it as a macro with CACTI
(codesign.estimate.components.buffer_figure, shaped by codesign.cycles.output_buffer_macro). Results are cached under <build root>/synth/ (codesign.hdl.runner.build_root: the user cache) by a
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
import re
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
#: yosys cells of an inferred memory: a macro, not gates (see the module doc)
MEMORY_CELLS = ("$mem_v2", "$mem")
#: yosys' `synth` script (yosys 0.23 `help synth`) with memory_map left out of "fine"
SYNTH_FINE = ("opt -fast -full", "opt -full", "techmap", "opt -fast", "abc -fast",
              "opt -fast", "hierarchy -check")
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
    """NAND2 equivalents of one generic yosys cell type (0 for a memory macro)."""
    if cell in MEMORY_CELLS:
        return 0.0
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


def _yosys_stat(spec: Spec, exe: str, flatten: bool, verbose: bool) -> tuple[dict, float]:
    """yosys' `stat -json` of the tile controller for `spec` (flattened, or one entry per
    module), and the seconds it took."""
    params = tile_parameters(spec)
    sources = rtl_sources("tile_")
    chparam = " ".join(f"-set {k} {verilog_value(k, v)}" for k, v in params.items())
    with tempfile.TemporaryDirectory(prefix="codesign-yosys-") as tmp:
        stat_file = Path(tmp) / "stat.json"
        mem_file = Path(tmp) / "memories.il"
        script = Path(tmp) / "synth.ys"
        script.write_text("\n".join([
            "read_verilog -defer " + " ".join(str(s) for s in sources),
            f"chparam {chparam} {TOP}",
            f"synth -top {TOP}" + (" -flatten" if flatten else "") + " -run begin:fine",
            *SYNTH_FINE,
            f"tee -q -o {stat_file} stat -json",
            f"tee -q -o {mem_file} dump t:$mem_v2", ""]))
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
        text = stat_file.read_text()
        memories = _memories(mem_file.read_text())
    # yosys 0.23 writes the hierarchy of a design that is not flat as plain text lines
    # ("  $paramod...\\tile_lfsr   4") inside the JSON of `stat -json`: drop them
    text = "\n".join(line for line in text.splitlines()
                     if not re.match(r"^\s+[$\\\w]+\s+\d+\s*$", line))
    stat = json.loads(text)
    stat["memories"] = memories
    return stat, seconds


def _memories(dump: str) -> list[dict]:
    """The $mem_v2 cells of a yosys `dump` (RTLIL): name, words, width, read and write
    ports, and whether the read ports are registered (a synchronous macro)."""
    out = []
    for cell in re.split(r"\n\s*cell ", dump)[1:]:
        name = cell.split()[1]
        p = dict(re.findall(r"parameter \\(\w+) (\S+)", cell))

        def num(key: str) -> int:
            v = p[key]
            return int(v.split("'")[1], 2) if "'" in v else int(v)
        out.append({"name": name.lstrip("\\"), "words": num("SIZE"), "width": num("WIDTH"),
                    "read_ports": num("RD_PORTS"), "write_ports": num("WR_PORTS"),
                    "sync_read": set(p.get("RD_CLK_ENABLE", "1'0").split("'")[1]) == {"1"}})
    return out


def _cache_file(spec: Spec, exe: str, what: str = "") -> Path:
    """Cache file of one synthesis of `spec` (`what`: "" flat counts, "blocks" the
    per-module counts), keyed by the sources, parameters and yosys version."""
    key = hashlib.sha256((build_key(TOP, rtl_sources("tile_"), tile_parameters(spec)) +
                          _yosys_version(exe) + what + ";".join(SYNTH_FINE)
                          ).encode()).hexdigest()[:16]
    return build_root() / "synth" / f"{TOP}{'-' + what if what else ''}-{key}.json"


def synth_counts(spec: Spec | str, use_cache: bool = True, verbose: bool = False) -> dict:
    """Cell counts of the tile controller synthesized for `spec`.

    Returns {"top", "parameters", "cells" (total generic cells), "flops", "by_type"
    (cell type -> count), "nand2_eq" (NAND2 equivalents, memories left out),
    "memories" (each inferred memory: name, words, width, read_ports, write_ports,
    sync_read), "memory_bits", "yosys" (version), "seconds" (synthesis time; 0 when
    cached), "cached"}."""
    spec = load_spec(spec)
    exe = require_yosys()
    cache = _cache_file(spec, exe)
    if use_cache and cache.is_file():
        result = json.loads(cache.read_text())
        result.update(cached=True, seconds=0.0)
        return result
    full, seconds = _yosys_stat(spec, exe, flatten=True, verbose=verbose)
    stat = {**full["design"], "memories": full["memories"]}
    by_type = {k: int(v) for k, v in sorted(stat["num_cells_by_type"].items())}
    result = {
        "top": TOP,
        "parameters": tile_parameters(spec),
        "cells": int(stat["num_cells"]),
        "flops": sum(n for t, n in by_type.items() if "DFF" in t),
        "by_type": by_type,
        "nand2_eq": nand2_of(by_type),
        "memories": stat["memories"],
        "memory_bits": sum(m["words"] * m["width"] for m in stat["memories"]),
        "yosys": _yosys_version(exe),
        "seconds": round(seconds, 2),
        "cached": False,
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_text(cache, json.dumps(result, indent=1))      # atomic: a killed run leaves none
    return result


def synth_blocks(spec: Spec | str, use_cache: bool = True, verbose: bool = False) -> dict:
    """Where the controller's gates are: yosys without flattening, NAND2 equivalents of
    each RTL module summed over all its instances in the tile (a module's own cells,
    not those of the modules it instantiates). Returns {"blocks": {module: {"nand2_eq",
    "flops", "instances"}}, "nand2_eq" (their sum; within a few per cent of the flat
    count, which optimizes across module boundaries), "parameters", "yosys"}."""
    spec = load_spec(spec)
    exe = require_yosys()
    cache = _cache_file(spec, exe, "blocks")
    if use_cache and cache.is_file():
        return json.loads(cache.read_text())
    stat, _ = _yosys_stat(spec, exe, flatten=False, verbose=verbose)
    modules = stat["modules"]

    def name(m: str) -> str:
        return m.split("\\")[-1]
    instances: dict[str, int] = {}

    def walk(m: str, times: int) -> None:      # the tree below the top, with multiplicity
        instances[m] = instances.get(m, 0) + times
        for sub, n in modules[m]["num_cells_by_type"].items():
            if sub in modules:
                walk(sub, times * int(n))
    walk(next(m for m in modules if name(m) == TOP), 1)
    blocks: dict[str, dict] = {}
    for m, times in instances.items():
        own = {t: int(n) for t, n in modules[m]["num_cells_by_type"].items()
               if t not in modules}
        b = blocks.setdefault(name(m), {"nand2_eq": 0.0, "flops": 0, "instances": 0})
        b["nand2_eq"] = round(b["nand2_eq"] + times * (nand2_of(own) if own else 0.0), 1)
        b["flops"] += times * sum(n for t, n in own.items() if "DFF" in t)
        b["instances"] += times
    result = {"top": TOP, "parameters": tile_parameters(spec), "blocks": blocks,
              "nand2_eq": round(sum(b["nand2_eq"] for b in blocks.values()), 1),
              "yosys": _yosys_version(exe)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_text(cache, json.dumps(result, indent=1))
    return result
