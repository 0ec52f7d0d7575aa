"""cocotb parity bench of the tile controller (rtl/tile_ctrl.v).

Run it with codesign.hdl.tile.run_tile_bench (pytest, `codesign sim tile`). Settings
arrive as environment variables: TILE_SPEC (the resolved spec as JSON), TILE_OPS,
TILE_SEED, optional TILE_MIX (comma-separated op names) and TILE_PERTURB ("cycles" or
"code": expect a wrong value on purpose; the bench must then fail). The report goes to
tile_report.json in the run directory.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.utils import get_sim_time

from codesign.spec import spec_from_dict

from .tile_driver import CLOCK_NS
from .tile_ops import OPS, TileOps

REPORT = "tile_report.json"


@cocotb.test()
async def tile_parity(dut):
    spec = spec_from_dict(json.loads(os.environ["TILE_SPEC"]), "TILE_SPEC")
    n_ops = int(os.environ.get("TILE_OPS", "20"))
    seed = int(os.environ.get("TILE_SEED", "0"))
    perturb = os.environ.get("TILE_PERTURB") or None
    mix = tuple(m for m in os.environ.get("TILE_MIX", "").split(",") if m) or OPS
    unknown = set(mix) - set(OPS)
    assert not unknown, f"TILE_MIX: unknown ops {sorted(unknown)}; known: {OPS}"

    start = time.perf_counter()
    ops, schedule, error = None, [], None
    try:
        ops = TileOps(dut, spec, seed, perturb)
        await ops.start()
        schedule = ops.schedule(n_ops, mix)
        for op in schedule:
            await ops.run(op)
    except Exception as exc:  # noqa: BLE001 - reported, then re-raised
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        check = ops.check if ops else None
        report = {
            "ops": check.op_index if check else 0,
            "mismatches": check.total if check else 0,
            "cycles": int(get_sim_time(unit="ns") // CLOCK_NS),
            "busy_cycles": ops.busy_cycles if ops else 0,
            "by_kind": check.counts if check else {},
            "op_counts": ops.op_counts if ops else {},
            "details": check.details if check else [],
            "error": error,
            "spec": spec.name, "rows": spec.array.rows, "cols": spec.array.cols,
            "adcs": spec.adc.count, "seed": seed, "perturb": perturb,
            "bench_s": time.perf_counter() - start,
        }
        Path(REPORT).write_text(json.dumps(report, indent=2))
    assert ops.check.total == 0, f"{ops.check.total} mismatches: " + \
        "; ".join(ops.check.details[:5])
