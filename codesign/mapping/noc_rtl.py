"""Run the mesh RTL (rtl/noc_*.v) against the cycle model (noc.py) with cocotb on Icarus.

    result = run_noc_bench(rows=3, cols=4, depth=4, flit_bits=32, packets=1000, seed=7)
    assert result.ok, result.summary()

The bench (sims/noc_bench.py) drives hot-spot traffic with back-pressure and a saturating
burst, and checks delivery (once, in order, no deadlock) and per-packet cycle parity.
``model_depth`` lets a test hand the model a different buffer depth than the RTL's, to
show that the comparison catches a model that is off.
"""
from __future__ import annotations

from ..hdl.runner import BenchResult, rtl_sources, run_bench
from ..spec import Spec
from .noc import coord_bits

#: Spec fields behind each noc_mesh parameter (the grid comes from the mapping).
MESH_PARAMETERS = {"ROWS": "noc.grid_rows (or the mapping's grid)",
                   "COLS": "noc.grid_cols (or the mapping's grid)",
                   "FLIT_W": "noc.flit_bits", "DEPTH": "noc.buffer_depth"}


def mesh_parameters(spec: Spec, grid: tuple[int, int]) -> dict[str, int]:
    """Verilog parameters of rtl/noc_mesh.v for a spec on a rows x cols grid."""
    return {"ROWS": int(grid[0]), "COLS": int(grid[1]), "FLIT_W": spec.noc.flit_bits,
            "DEPTH": spec.noc.buffer_depth}


def run_noc_bench(rows: int, cols: int, depth: int, flit_bits: int, packets: int,
                  seed: int = 0, model_depth: int | None = None) -> BenchResult:
    """Build noc_mesh with these parameters (own build directory) and run the bench."""
    if (packets - 1) >> max(flit_bits - coord_bits(rows) - coord_bits(cols), 0):
        raise ValueError(f"flit_bits={flit_bits} cannot number {packets} packets")
    params = {"ROWS": rows, "COLS": cols, "DEPTH": depth, "FLIT_W": flit_bits}
    env = {"NOC_ROWS": rows, "NOC_COLS": cols, "NOC_DEPTH": depth, "NOC_FLIT_W": flit_bits,
           "NOC_PACKETS": packets, "NOC_SEED": seed,
           "NOC_MODEL_DEPTH": depth if model_depth is None else model_depth}
    return run_bench("noc_mesh", rtl_sources("noc_"), "codesign.sims.noc_bench", params,
                     extra_env=env)
