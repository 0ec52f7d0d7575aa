"""Per-block cocotb benches (codesign/sims/blocks/<block>/test_<block>.py), one per RTL block, each
with randomized stimulus and a scoreboard against the Python model, so that a bug shows
in its block and not only at the top (tests/test_rtl_blocks.py runs them)::

    report = run_block_bench("tile_sar", with_size("ambrogio2018", 4, 4, 4), seed=3)
    assert report["mismatches"] == 0 and report["bench_passed"]

Every parameter set derives from a spec, as the top levels instantiate the block: the
tile blocks take the tile_ctrl parameters they declare (codesign.hdl.tile.tile_parameters)
plus the widths tile_ctrl.v derives for them; the NoC blocks take noc.flit_bits and
noc.buffer_depth, and a router its place in a grid. The bench receives the spec (JSON)
and the parameters through the environment and writes block_report.json.

`codesign sim block NAME --spec ...` runs one bench from the command line.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..spec import Spec, load_spec
from .runner import RTL_DIR, BenchResult, run_bench
from .tile import tile_parameters, verilog_value

REPORT = "block_report.json"


@dataclass(frozen=True)
class Block:
    top: str
    files: tuple[str, ...]         # stems of the codesign/rtl/ files it needs, the block's own first
    what: str                      # what one bench item is (for reports)
    adc_kind: str | None = None    # a converter block: the ADC kind it implements

    @property
    def bench(self) -> str:
        return f"codesign.sims.blocks.{self.top}.test_{self.top}"


BLOCKS = {
    "tile_sar": Block("tile_sar", ("tile_sar",), "conversions", adc_kind="sar"),
    "tile_flash": Block("tile_flash", ("tile_flash",), "conversions", adc_kind="flash"),
    "tile_ramp": Block("tile_ramp", ("tile_ramp",), "conversions", adc_kind="ramp"),
    "tile_cco": Block("tile_cco", ("tile_cco",), "conversions", adc_kind="cco"),
    "tile_linecmp": Block("tile_linecmp", ("tile_linecmp",), "vector pairs"),
    "tile_update": Block("tile_update", ("tile_update", "tile_lfsr", "tile_popcount"),
                         "updates"),
    "tile_xfer": Block("tile_xfer", ("tile_xfer", "tile_popcount"), "transfers"),
    "noc_router": Block("noc_router", ("noc_router", "noc_fifo"), "flits"),
    "noc_fifo": Block("noc_fifo", ("noc_fifo",), "flits"),
}

#: Items (conversions, updates, transfers, flits) a bench runs unless told otherwise.
DEFAULT_ITEMS = {"tile_linecmp": 200, "tile_sar": 60, "tile_flash": 60, "tile_ramp": 20, "tile_cco": 40, "tile_update": 12, "tile_xfer": 4, "noc_router": 400,
                 "noc_fifo": 400}

_PARAM = re.compile(r"^\s*parameter\s+(?:integer\s+|\[[^\]]*\]\s*)?(\w+)\s*=", re.M)


def block(name: str) -> Block:
    if name not in BLOCKS:
        raise UserError(f"block: value {name!r} is unknown; allowed: " + ", ".join(BLOCKS))
    return BLOCKS[name]


def block_sources(name: str, rtl_dir: Path | str = RTL_DIR) -> list[Path]:
    """The Verilog files the block needs, from rtl_dir (codesign/rtl/ or a perturbed copy)."""
    files = [Path(rtl_dir) / f"{stem}.v" for stem in block(name).files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UserError(f"block {name}: sources not found: {', '.join(missing)}")
    return files


def declared_parameters(path: Path) -> list[str]:
    """Overridable parameters of the (first) module in a Verilog file, in order."""
    text = re.sub(r"//[^\n]*", "", Path(path).read_text())
    start = text.find("#(")
    ports = re.search(r"\b(input|output|inout)\b", text)
    if start < 0 or ports is None:
        return []
    return _PARAM.findall(text[start:ports.start()])


def _clog2(n: int) -> int:
    """Verilog's $clog2: bits to count n distinct values (0 for n <= 1)."""
    return max(0, math.ceil(math.log2(n))) if n > 1 else 0


def block_spec(name: str, spec: Spec | str) -> Spec:
    """The spec a block's bench runs: a converter block implements one ADC kind
    (codesign.adckinds), so the spec's adc.kind becomes that kind (its cycles per
    conversion and comparators follow from it); other blocks take the spec as it is."""
    spec, kind = load_spec(spec), block(name).adc_kind
    if kind is not None and spec.adc.kind != kind:
        spec = spec.with_overrides({"adc.kind": kind}, source=f"block {name}")
    return spec


def block_parameters(name: str, spec: Spec | str, grid: tuple[int, int] = (3, 3),
                     at: tuple[int, int] = (1, 1), rtl_dir: Path | str = RTL_DIR) -> dict:
    """Verilog parameters of a block for a spec, as its top level instantiates it.
    grid (rows, cols) and at (row, col) place a router in a mesh (noc_router only)."""
    spec = block_spec(name, spec)
    if name.startswith("noc_"):
        width, depth = spec.noc.flit_bits, spec.noc.buffer_depth
        if name == "noc_fifo":
            return {"W": width, "DEPTH": depth}
        from ..mapping.noc import coord_bits
        (rows, cols), (y, x) = grid, at
        if not (0 <= y < rows and 0 <= x < cols):
            raise UserError(f"router position: value {at} is outside the {rows}x{cols} grid; "
                            f"allowed: row 0..{rows - 1}, column 0..{cols - 1}")
        return {"FLIT_W": width, "DEPTH": depth, "X_BITS": coord_bits(cols),
                "Y_BITS": coord_bits(rows), "X": x, "Y": y}
    own = declared_parameters(block_sources(name, rtl_dir)[0])
    tile = tile_parameters(spec)
    rows, cols = spec.array.rows, spec.array.cols
    # names that differ from tile_ctrl's, and the widths tile_ctrl.v derives (localparams
    # RW, CCW, PULSE_W there)
    # (a per-line block, tile_linecmp, is benched as the rows' instance: LINES = ROWS)
    derived = {"BITS": tile["ADC_BITS"], "MAX_ITER": tile["XFER_MAX_ITER"], "LINES": rows,
               **ctrl_widths(rows, cols)}
    params = {}
    for p in own:
        if p in tile:
            params[p] = tile[p]
        elif p in derived:
            params[p] = derived[p]
        else:
            raise UserError(f"block {name}: parameter {p} maps to no spec field; add it to "
                            "codesign.hdl.blocks.block_parameters")
    return params


def ctrl_widths(rows: int, cols: int) -> dict[str, int]:
    """The widths tile_ctrl.v derives for its blocks (its localparams RW, CCW, PULSE_W);
    tests/test_rtl_blocks.py elaborates tile_ctrl.v with Icarus and compares."""
    return {"RW": max(_clog2(rows), 1), "CCW": _clog2(cols + 1),
            "PULSE_W": _clog2(rows + 1) + _clog2(cols + 1)}


def run_block_bench(name: str, spec: Spec | str, seed: int = 0, items: int | None = None,
                    grid: tuple[int, int] = (3, 3), at: tuple[int, int] = (1, 1),
                    rtl_dir: Path | str = RTL_DIR, waves: bool = False) -> dict:
    """Build the block for the spec (one build directory per parameter set and source
    contents) and run its bench. Returns the bench's report (items, mismatches by kind,
    first messages, cycles) with bench_passed, the parameters, log and wall time."""
    b, spec = block(name), block_spec(name, spec)
    items = DEFAULT_ITEMS[name] if items is None else items
    if items < 1:
        raise UserError(f"items: value {items} is too small; allowed: >= 1")
    if seed < 0:
        raise UserError(f"seed: value {seed} is negative; allowed: >= 0")
    params = block_parameters(name, spec, grid, at, rtl_dir)
    env = {"BLOCK_SPEC": json.dumps(spec.to_dict()), "BLOCK_PARAMS": json.dumps(params),
           "BLOCK_SEED": str(seed), "BLOCK_ITEMS": str(items)}
    start = time.perf_counter()
    result = run_bench(b.top, block_sources(name, rtl_dir), b.bench,
                       {k: verilog_value(k, v) for k, v in params.items()},
                       extra_env=env, waves=waves, seed=seed)
    report = read_report(result)
    report.update(bench_passed=result.ok, parameters=params, item=b.what,
                  log=str(result.log_file),
                  wall_s=time.perf_counter() - start,
                  waves=str(result.waves) if result.waves else None)
    return report


def read_report(result: BenchResult) -> dict:
    path = Path(result.run_dir) / REPORT
    if not path.is_file():
        raise UserError(f"block bench wrote no report ({result.summary()}):\n"
                        + result.log_tail())
    return json.loads(path.read_text())
